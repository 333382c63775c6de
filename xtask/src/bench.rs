//! `cargo xtask bench`: hand-written tonic and axum servers against the generated gRPC and REST
//! surfaces, loaded the same way in the same run, reported as medians and ratios.
//!
//! Each measurement starts a fresh `bench-server` (one target, one runtime layout) and runs
//! `bench-load` against it: a closed loop with a warm-up and a fixed window, all on loopback.
//! `bench-load` reads the server's CPU time from `/proc` at the window's edges, so server CPU per
//! request, the figure that survives a busy machine, excludes start-up and warm-up. Targets are
//! interleaved within each repetition so drifting background load hits them alike.

mod process;
mod report;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{bail, Context};

use crate::workspace_root;
use process::{pinned, run_bounded, Server};
use report::{print_ratios, print_table, Goal, Sample, ScenarioReport, Series};

const USAGE: &str =
    "usage: cargo xtask bench [--reps N] [--duration SECS] [--warmup SECS] [--quick]
                        [--protocol grpc|rest] [--layouts current,per-core,multi]
                        [--grpc-in-flight N] [--grpc-connections N] [--rest-connections N]";

/// What the issue asks of the generated surfaces, relative to the hand-written ones.
const GRPC_GOAL: Goal = Goal {
    min_throughput: 0.95,
    max_cpu: 1.05,
};
const REST_GOAL: Goal = Goal {
    min_throughput: 0.90,
    max_cpu: 1.10,
};

/// Runs the bench; `args` are the flags after `bench`.
pub(crate) fn run(args: &[String]) -> anyhow::Result<()> {
    let options = Options::parse(args)?;
    build()?;
    let bins = Binaries::locate()?;
    let targets = list_targets(&bins.server)?;
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let pin = cores >= 2 && which("taskset");
    let scenarios = plan(&options, &targets, pin);
    if scenarios.is_empty() {
        bail!("nothing to measure with these filters");
    }
    let runs: usize = scenarios.iter().map(|s| s.targets.len()).sum::<usize>() * options.reps;
    let per_run = options.warmup + options.duration + 1.0;
    println!(
        "bench: {runs} runs of {:.1}s warm-up + {:.1}s measured, about {:.0} s; {cores} cores, {}",
        options.warmup,
        options.duration,
        runs as f64 * per_run,
        if pin {
            "single-runtime rows pin the server to core 0 and the load generator to core 1"
        } else {
            "no pinning (needs 2 cores and taskset)"
        }
    );

    let mut results: Vec<Vec<Series>> = scenarios
        .iter()
        .map(|s| {
            s.targets
                .iter()
                .map(|t| Series {
                    target: t.name.clone(),
                    baseline: t.baseline,
                    by_rep: BTreeMap::new(),
                    failures: 0,
                })
                .collect()
        })
        .collect();
    let mut failures = 0;
    for rep in 0..options.reps {
        for (scenario, series) in scenarios.iter().zip(results.iter_mut()) {
            // Alternate the order within a pair so neither side always runs first.
            let mut order: Vec<usize> = (0..series.len()).collect();
            if rep % 2 == 1 {
                order.reverse();
            }
            for index in order {
                let target = &scenario.targets[index];
                let label = format!(
                    "[{}/{}] {} {} {}",
                    rep + 1,
                    options.reps,
                    scenario.protocol,
                    scenario.title,
                    target.name
                );
                match measure(&bins, &options, scenario, target) {
                    Ok(sample) => {
                        println!(
                            "{label}: {:.0} req/s, p50 {:.0} µs, p99 {:.0} µs, {:.1} µs CPU/req, other_cpu {:.2}{}",
                            sample.rps,
                            sample.p50_us,
                            sample.p99_us,
                            sample.cpu_us_per_req,
                            sample.other_cpu,
                            if sample.errors + sample.stuck > 0 {
                                format!(", {} ERRORS", sample.errors + sample.stuck)
                            } else {
                                String::new()
                            }
                        );
                        if sample.errors + sample.stuck > 0 {
                            failures += 1;
                        }
                        series[index].by_rep.insert(rep, sample);
                    }
                    Err(error) => {
                        println!("{label}: FAILED: {error:#}");
                        series[index].failures += 1;
                        failures += 1;
                    }
                }
            }
        }
    }

    for (protocol, goal, load) in [
        (
            "grpc",
            GRPC_GOAL,
            format!(
                "{} in flight over {} HTTP/2 connections",
                options.grpc_in_flight, options.grpc_connections
            ),
        ),
        (
            "rest",
            REST_GOAL,
            format!(
                "{} HTTP/1.1 connections, one request in flight each",
                options.rest_connections
            ),
        ),
    ] {
        let tables: Vec<ScenarioReport<'_>> = scenarios
            .iter()
            .zip(&results)
            .filter(|(s, _)| s.protocol == protocol)
            .map(|(s, series)| ScenarioReport {
                title: s.title.clone(),
                series,
            })
            .collect();
        if tables.is_empty() {
            continue;
        }
        let name = if protocol == "grpc" { "gRPC" } else { "REST" };
        print_table(
            &format!(
                "{name}: {load}; medians (min..max) of {} runs",
                options.reps
            ),
            &tables,
        );
        print_ratios(
            &format!("{name}: generated / hand-written, paired per repetition"),
            &tables,
            goal,
        );
    }
    println!(
        "\nserver CPU µs/req is the figure to trust: busy machines move req/s by 40-60% but it by ~10%;\n\
         other_cpu is the cores used by processes that are not ours during the window."
    );
    if failures > 0 {
        bail!("{failures} runs failed or saw errors (see above)");
    }
    Ok(())
}

/// The flags.
struct Options {
    reps: usize,
    duration: f64,
    warmup: f64,
    protocol: Option<String>,
    layouts: Vec<String>,
    grpc_in_flight: usize,
    grpc_connections: usize,
    rest_connections: usize,
}

impl Options {
    fn parse(args: &[String]) -> anyhow::Result<Self> {
        let mut options = Options {
            reps: 3,
            duration: 5.0,
            warmup: 2.0,
            protocol: None,
            layouts: vec!["current".into(), "per-core".into(), "multi".into()],
            grpc_in_flight: 64,
            // With fewer connections the kernel's SO_REUSEPORT hash often puts most of them on
            // one runtime of a per-core server, and req/s then measures that luck.
            grpc_connections: 16,
            rest_connections: 32,
        };
        let mut quick = false;
        let mut args = args.iter();
        while let Some(flag) = args.next() {
            let mut value = || {
                args.next()
                    .with_context(|| format!("`{flag}` needs a value\n{USAGE}"))
            };
            match flag.as_str() {
                "--quick" => quick = true,
                "--reps" => options.reps = number(flag, value()?)?,
                "--duration" => options.duration = number(flag, value()?)?,
                "--warmup" => options.warmup = number(flag, value()?)?,
                "--protocol" => {
                    let v = value()?;
                    if v != "grpc" && v != "rest" {
                        bail!("`--protocol` is `grpc` or `rest`, not `{v}`");
                    }
                    options.protocol = Some(v.clone());
                }
                "--layouts" => {
                    options.layouts = value()?.split(',').map(str::to_owned).collect();
                    if let Some(bad) = options
                        .layouts
                        .iter()
                        .find(|l| !["current", "per-core", "multi"].contains(&l.as_str()))
                    {
                        bail!("unknown layout `{bad}`: use current, per-core or multi");
                    }
                }
                "--grpc-in-flight" => options.grpc_in_flight = number(flag, value()?)?,
                "--grpc-connections" => options.grpc_connections = number(flag, value()?)?,
                "--rest-connections" => options.rest_connections = number(flag, value()?)?,
                "--help" | "-h" => {
                    println!("{USAGE}");
                    std::process::exit(0);
                }
                other => bail!("unknown flag `{other}`\n{USAGE}"),
            }
        }
        if quick {
            options.reps = 1;
            options.duration = 1.0;
            options.warmup = 0.5;
        }
        if options.reps == 0
            || options.grpc_in_flight == 0
            || options.grpc_connections == 0
            || options.rest_connections == 0
        {
            bail!("counts must be at least 1");
        }
        if !(0.1..=120.0).contains(&options.duration) || !(0.0..=60.0).contains(&options.warmup) {
            bail!("`--duration` must be 0.1..120 s and `--warmup` 0..60 s");
        }
        Ok(options)
    }
}

fn number<T: std::str::FromStr>(flag: &str, value: &str) -> anyhow::Result<T> {
    value
        .parse()
        .map_err(|_| anyhow::anyhow!("`{flag}` takes a number, not `{value}`"))
}

/// A target as `bench-server --list` describes it.
#[derive(Debug, Clone)]
struct TargetInfo {
    name: String,
    protocol: String,
    baseline: bool,
    layouts: Vec<String>,
}

/// One protocol in one layout, with the targets measured in it.
struct Scenario {
    protocol: &'static str,
    /// The `--layout` value.
    layout: String,
    title: String,
    pinned: bool,
    targets: Vec<TargetInfo>,
}

fn plan(options: &Options, targets: &[TargetInfo], pin: bool) -> Vec<Scenario> {
    let mut scenarios = Vec::new();
    for protocol in ["grpc", "rest"] {
        if options.protocol.as_deref().is_some_and(|p| p != protocol) {
            continue;
        }
        for (kind, layout, title, pinned) in [
            (
                "current",
                "current",
                if pin {
                    "1 runtime, pinned"
                } else {
                    "1 runtime"
                },
                pin,
            ),
            ("per-core", "per-core:2", "per-core x2, shared cores", false),
            ("multi", "multi:2", "multi-thread x2, shared cores", false),
        ] {
            if !options.layouts.iter().any(|l| l == kind) {
                continue;
            }
            let chosen: Vec<TargetInfo> = targets
                .iter()
                .filter(|t| t.protocol == protocol && t.layouts.iter().any(|l| l == kind))
                .cloned()
                .collect();
            if chosen.is_empty() {
                continue;
            }
            scenarios.push(Scenario {
                protocol,
                layout: layout.to_owned(),
                title: title.to_owned(),
                pinned,
                targets: chosen,
            });
        }
    }
    scenarios
}

fn measure(
    bins: &Binaries,
    options: &Options,
    scenario: &Scenario,
    target: &TargetInfo,
) -> anyhow::Result<Sample> {
    let (server_core, load_core) = if scenario.pinned {
        (Some(0), Some(1))
    } else {
        (None, None)
    };
    let mut server = pinned(&bins.server, server_core);
    server
        .args(["--target", &target.name])
        .args(["--layout", &scenario.layout])
        .args(["--addr", "127.0.0.1:0"]);
    let server = Server::start(server)?;

    let (in_flight, connections) = match scenario.protocol {
        "grpc" => (options.grpc_in_flight, options.grpc_connections),
        _ => (options.rest_connections, options.rest_connections),
    };
    let mut load = pinned(&bins.load, load_core);
    load.args([scenario.protocol, &server.addr])
        .args(["--in-flight", &in_flight.to_string()])
        .args(["--connections", &connections.to_string()])
        .args(["--warmup", &options.warmup.to_string()])
        .args(["--duration", &options.duration.to_string()])
        .args(["--server-pid", &server.pid().to_string()]);
    // Warm-up + window + the load generator's drain cap + connection set-up.
    let limit = Duration::from_secs_f64(options.warmup + options.duration + 20.0);
    let output = run_bounded(load, limit)?;
    drop(server);
    Sample::parse(&output)
}

/// The release binaries of the bench crate.
struct Binaries {
    server: PathBuf,
    load: PathBuf,
}

impl Binaries {
    fn locate() -> anyhow::Result<Self> {
        let release = target_dir()?.join("release");
        let bins = Binaries {
            server: release.join("bench-server"),
            load: release.join("bench-load"),
        };
        for bin in [&bins.server, &bins.load] {
            if !bin.exists() {
                bail!("{} is missing after the build", bin.display());
            }
        }
        Ok(bins)
    }
}

fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(workspace_root());
    cmd
}

fn build() -> anyhow::Result<()> {
    eprintln!("xtask: cargo build --release -p tacos-bench");
    let status = cargo()
        .args(["build", "--release", "-p", "tacos-bench"])
        .status()
        .context("running cargo build")?;
    if !status.success() {
        bail!("`cargo build --release -p tacos-bench` failed");
    }
    Ok(())
}

/// Cargo's target directory, honouring `CARGO_TARGET_DIR` and cargo config.
fn target_dir() -> anyhow::Result<PathBuf> {
    let out = cargo()
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .output()
        .context("running cargo metadata")?;
    if !out.status.success() {
        bail!("`cargo metadata` failed");
    }
    let text = String::from_utf8(out.stdout).context("cargo metadata output")?;
    // A full JSON parser is not worth a dependency for one string field.
    let key = "\"target_directory\":\"";
    let start = text
        .find(key)
        .context("cargo metadata has no target_directory")?
        + key.len();
    let end = text[start..]
        .find('"')
        .context("cargo metadata target_directory is unterminated")?;
    Ok(PathBuf::from(
        text[start..start + end].replace("\\\\", "\\"),
    ))
}

fn list_targets(server: &Path) -> anyhow::Result<Vec<TargetInfo>> {
    let out = Command::new(server)
        .arg("--list")
        .output()
        .context("running bench-server --list")?;
    if !out.status.success() {
        bail!("`bench-server --list` failed");
    }
    let text = String::from_utf8(out.stdout).context("bench-server --list output")?;
    text.lines()
        .filter_map(|line| line.strip_prefix("target "))
        .map(|line| {
            let parts: Vec<&str> = line.split_whitespace().collect();
            let [name, protocol, role, layouts] = parts[..] else {
                bail!("bad target line `{line}`");
            };
            Ok(TargetInfo {
                name: name.to_owned(),
                protocol: protocol.to_owned(),
                baseline: role == "hand-written",
                layouts: layouts.split(',').map(str::to_owned).collect(),
            })
        })
        .collect()
}

fn which(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}
