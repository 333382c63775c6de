//! Project tasks; run as `cargo xtask <task>`.
//!
//! Each task lives in its own module; this file only dispatches on the first argument.

mod generate;
mod redis_server;
mod test;

use std::path::{Path, PathBuf};

const USAGE: &str = "\
usage: cargo xtask <task> [args]

tasks:
  generate [--check] [--proto-root DIR]... [--rules FILE] [--out DIR] [FILE]...
      regenerate Rust code from .proto contracts; with no arguments, every target of this
      repository; --check writes nothing and fails when generated files are stale
  test
      fmt check, clippy -D warnings, generate --check, all tests with a real Redis";

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((task, rest)) = args.split_first() else {
        println!("{USAGE}");
        return Ok(());
    };
    match task.as_str() {
        "generate" => generate::run(rest),
        "test" => test::run(rest),
        "help" | "--help" | "-h" => {
            println!("{USAGE}");
            Ok(())
        }
        other => anyhow::bail!("unknown task `{other}`\n\n{USAGE}"),
    }
}

/// The workspace root (the folder holding the root `Cargo.toml`).
pub(crate) fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the workspace root")
        .to_path_buf()
}
