//! `cargo xtask conformance`: protobuf's own conformance suite against our proto3 JSON.
//!
//! Steps: fetch protobuf's source through the `protobuf-src` crate (cargo's registry is the only
//! network we rely on), build its `conformance_test_runner` with cmake (cached under
//! `target/conformance/`), build the testee in `xtask/conformance/`, run the suite with the
//! accepted-failure list, and fail on anything unexpected.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

/// The protobuf-src release whose source tree carries the suite (protobuf 27.1).
const PROTOBUF_SRC_VERSION: &str = "=2.1.1";
const APT_HINT: &str = "apt-get install -y cmake libjsoncpp-dev";

/// Runs the task; `args` are the words after `conformance`.
pub fn run(args: &[String]) -> Result<()> {
    if let Some(arg) = args.first() {
        bail!("unexpected argument {arg:?}; usage: cargo xtask conformance");
    }
    let root = workspace_root();
    let target = target_dir(&root);
    let work = target.join("conformance");
    std::fs::create_dir_all(&work).with_context(|| format!("create {}", work.display()))?;

    let source = protobuf_source(&work)?;
    let runner = build_runner(&source, &work)?;
    let testee = build_testee(&root, &target, &source)?;

    let failure_list = root.join("xtask/conformance/failure_list.txt");
    println!("running the conformance suite (proto3 JSON tests)");
    let output = Command::new(&runner)
        .arg("--enforce_recommended")
        .arg("--failure_list")
        .arg(&failure_list)
        .arg("--output_dir")
        .arg(&work)
        .arg(&testee)
        .output()
        .with_context(|| format!("run {}", runner.display()))?;
    let log = String::from_utf8_lossy(&output.stderr).into_owned()
        + &String::from_utf8_lossy(&output.stdout);
    std::fs::write(work.join("last-run.log"), &log)?;
    for line in log.lines().filter(|l| is_interesting(l)) {
        println!("{line}");
    }
    if !output.status.success() {
        bail!(
            "conformance run failed ({}); full log in {}",
            output.status,
            work.join("last-run.log").display()
        );
    }
    Ok(())
}

/// Lines worth showing from the runner's chatty output: failures and the summary.
fn is_interesting(line: &str) -> bool {
    line.starts_with("ERROR")
        || line.contains("CONFORMANCE SUITE")
        || line.contains("These tests")
        || line.starts_with("  ")
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace root")
        .to_path_buf()
}

fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from)
}

fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// Finds (downloading through cargo if needed) protobuf's source tree inside `protobuf-src`.
fn protobuf_source(work: &Path) -> Result<PathBuf> {
    let fetch = work.join("fetch");
    std::fs::create_dir_all(fetch.join("src"))?;
    std::fs::write(
        fetch.join("Cargo.toml"),
        format!(
            "[package]\nname = \"fetch-protobuf-src\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\
             publish = false\n\n[dependencies]\nprotobuf-src = \"{PROTOBUF_SRC_VERSION}\"\n\n\
             [workspace]\n"
        ),
    )?;
    std::fs::write(fetch.join("src/lib.rs"), "")?;
    let output = cargo()
        .args(["metadata", "--format-version", "1", "--manifest-path"])
        .arg(fetch.join("Cargo.toml"))
        .output()
        .context("run cargo metadata")?;
    if !output.status.success() {
        bail!(
            "cargo metadata failed while fetching protobuf-src:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let metadata = String::from_utf8(output.stdout).context("cargo metadata output")?;
    // The metadata lists each package's manifest path; protobuf-src's sits beside `protobuf/`.
    let manifest = metadata
        .split("\"manifest_path\":\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .find(|path| path.contains("protobuf-src-"))
        .context("protobuf-src is missing from cargo metadata")?;
    let source = Path::new(manifest)
        .parent()
        .context("protobuf-src manifest path")?
        .join("protobuf");
    if !source.join("conformance/conformance.proto").is_file() {
        bail!(
            "{} does not hold protobuf's conformance sources",
            source.display()
        );
    }
    Ok(source)
}

/// Builds `conformance_test_runner` once; later runs reuse it.
fn build_runner(source: &Path, work: &Path) -> Result<PathBuf> {
    let build = work.join("build");
    let runner = build.join("conformance_test_runner");
    if runner.is_file() {
        return Ok(runner);
    }
    if Command::new("cmake").arg("--version").output().is_err()
        || !Path::new("/usr/include/jsoncpp/json/json.h").is_file()
    {
        bail!("building the conformance runner needs cmake and jsoncpp; install them with:\n  {APT_HINT}");
    }
    println!(
        "building protobuf's conformance runner in {} (about 20 minutes, once)",
        build.display()
    );
    let status = Command::new("nice")
        .args(["-n", "15", "cmake", "-S"])
        .arg(source)
        .arg("-B")
        .arg(&build)
        .args([
            "-DCMAKE_BUILD_TYPE=Release",
            "-Dprotobuf_BUILD_CONFORMANCE=ON",
            "-Dprotobuf_BUILD_TESTS=OFF",
            // Debian's jsoncpp; the bundled abseil and utf8_range need no download.
            "-Dprotobuf_JSONCPP_PROVIDER=package",
            "-DCMAKE_CXX_FLAGS=-I/usr/include/jsoncpp",
        ])
        .status()
        .context("run cmake")?;
    if !status.success() {
        bail!("cmake configure failed; is `{APT_HINT}` done?");
    }
    let status = Command::new("nice")
        .args(["-n", "15", "cmake", "--build"])
        .arg(&build)
        .args(["--target", "conformance_test_runner", "-j2"])
        .status()
        .context("run cmake --build")?;
    if !status.success() || !runner.is_file() {
        bail!("building conformance_test_runner failed");
    }
    Ok(runner)
}

/// Builds the testee against protobuf's source tree.
fn build_testee(root: &Path, target: &Path, source: &Path) -> Result<PathBuf> {
    let manifest = root.join("xtask/conformance/Cargo.toml");
    let status = cargo()
        .args(["build", "--quiet", "--manifest-path"])
        .arg(&manifest)
        .env("CARGO_TARGET_DIR", target)
        .env("PROTOBUF_SOURCE_DIR", source)
        .status()
        .context("run cargo build for the conformance testee")?;
    if !status.success() {
        bail!("building the conformance testee failed");
    }
    Ok(target.join("debug/tacos-conformance-testee"))
}
