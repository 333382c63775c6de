//! `cargo xtask test`: everything CI checks, in the order that fails fastest.

use std::process::Command;

use anyhow::{bail, Context};

use crate::redis_server::TestRedis;
use crate::{watchdog, workspace_root};

/// Runs fmt check, clippy with `-D warnings`, the generated-code drift check and all tests.
///
/// Arguments after `--` go to `cargo test` (for example a test name filter).
pub(crate) fn run(args: &[String]) -> anyhow::Result<()> {
    let test_args: Vec<&str> = match args.iter().position(|a| a == "--") {
        Some(i) => args[i + 1..].iter().map(String::as_str).collect(),
        None => args.iter().map(String::as_str).collect(),
    };
    cargo(&["fmt", "--all", "--check"]).context("formatting differs: run `cargo fmt --all`")?;
    cargo(&[
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ])?;
    crate::generate::run(&["--check".to_owned()])?;
    let redis = TestRedis::obtain()?;
    // The waiting-room page is tested in a real browser.
    crate::apt::ensure(
        &["chromium", "chromedriver"],
        &["chromium", "chromium-driver"],
    )?;
    // Every suite runs even when an earlier one fails, so one run reports every failure.
    let mut cmd = vec!["test", "--workspace", "--no-fail-fast"];
    if !test_args.is_empty() {
        cmd.push("--");
        cmd.extend(test_args);
    }
    let mut command = cargo_command(&cmd);
    command.env("REDIS_URL", redis.url.as_str());
    let watched = watchdog::run(command, watchdog::HANG_LIMIT, std::io::stdout())?;
    if !watched.hung.is_empty() {
        bail!("hung tests were killed: {}", watched.hung.join(", "));
    }
    if !watched.status.success() {
        bail!("`cargo {}` failed", cmd.join(" "));
    }
    Ok(())
}

fn cargo(args: &[&str]) -> anyhow::Result<()> {
    let status = cargo_command(args)
        .status()
        .with_context(|| format!("running cargo {}", args.join(" ")))?;
    if !status.success() {
        bail!("`cargo {}` failed", args.join(" "));
    }
    Ok(())
}

/// `cargo args…` in the workspace root, announced on standard error.
fn cargo_command(args: &[&str]) -> Command {
    eprintln!("xtask: cargo {}", args.join(" "));
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut command = Command::new(cargo);
    if std::env::var_os("CI").is_some() && std::env::var_os("CARGO_INCREMENTAL").is_none() {
        // A clean CI build never reuses incremental state; skipping it saves disk and time.
        command.env("CARGO_INCREMENTAL", "0");
    }
    command.args(args).current_dir(workspace_root());
    command
}
