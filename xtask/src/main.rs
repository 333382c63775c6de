//! Project tasks; run as `cargo xtask <task>`.
//!
//! Each task lives in its own module; this file only dispatches on the first argument.

mod apt;
mod bench;
mod breaking;
mod conformance;
mod generate;
mod redis_server;
mod test;
mod watchdog;

use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "\
usage: cargo xtask <task> [args]

tasks:
  generate [--check] [--proto-root DIR]... [--rules FILE] [--out DIR] [FILE]...
      regenerate Rust code from .proto contracts; with no arguments, every target of this
      repository; --check writes nothing and fails when generated files are stale
  conformance [args]
      build protobuf's conformance runner (cached) and run its proto3 JSON tests against the
      generated serde impls; fails on any failure not in xtask/conformance/failure_list.txt
  test [-- TEST-ARGS]
      the one test command: fmt check, clippy -D warnings, generate --check, and every test
      against a real Redis (REDIS_URL when it answers, else a private redis-server) and
      headless Chromium (installed with apt-get when missing)
  breaking --against <git ref> [--allow FILE]
      wire and REST breaking changes of the contracts since a commit (removed or renumbered
      fields, changed types, removed routes, changed templates and bodies, newly required
      fields); intended ones are listed in breaking-allow.txt
  bench [--suite surfaces,clients,stack,join] [--quick] [--reps N] [--duration SECS] ...
      the framework against hand-written code: generated surfaces vs tonic/axum, generated
      clients vs tonic/hyper clients, the policy stack layer by layer, the gateway's full join
      vs a hand-written one; req/s, p50/p99, CPU per request";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // Errors are printed plainly: a task's error message is the whole story, and a backtrace
    // (shown by anyhow when RUST_BACKTRACE is set) would bury it in CI logs.
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &[String]) -> anyhow::Result<()> {
    let Some((task, rest)) = args.split_first() else {
        println!("{USAGE}");
        return Ok(());
    };
    // `--help` before any `--` (after it, arguments belong to cargo test).
    let own_args = rest.split(|a| a == "--").next().unwrap_or_default();
    if own_args.iter().any(|a| a == "--help" || a == "-h") {
        match task_usage(task) {
            Some(usage) => println!("usage: cargo xtask {usage}"),
            None => println!("{USAGE}"),
        }
        return Ok(());
    }
    match task.as_str() {
        "generate" => generate::run(rest),
        "conformance" => conformance::run(rest),
        "test" => test::run(rest),
        "bench" => bench::run(rest),
        "breaking" => breaking::run(rest),
        "help" | "--help" | "-h" => {
            println!("{USAGE}");
            Ok(())
        }
        other => anyhow::bail!("unknown task `{other}`\n\n{USAGE}"),
    }
}

/// The repository root (the xtask crate lives one level below it).
pub(crate) fn workspace_root() -> PathBuf {
    let manifest_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .parent()
        .map(PathBuf::from)
        .unwrap_or(manifest_dir)
}

/// The lines of [`USAGE`] about `task`: its synopsis and description.
fn task_usage(task: &str) -> Option<String> {
    let mut lines = USAGE.lines().skip_while(|line| {
        line.strip_prefix("  ")
            .and_then(|rest| rest.split_whitespace().next())
            != Some(task)
    });
    let synopsis = lines.next()?.trim().to_owned();
    let description: Vec<&str> = lines
        .take_while(|line| line.starts_with("      "))
        .collect();
    Some(format!("{synopsis}\n{}", description.join("\n")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_task_has_its_usage() {
        for task in ["generate", "conformance", "test", "bench", "breaking"] {
            let usage = task_usage(task).unwrap_or_else(|| panic!("{task}"));
            assert!(usage.starts_with(task), "{usage}");
            assert!(usage.lines().count() > 1, "{usage}");
        }
        assert!(task_usage("nope").is_none());
    }
}
