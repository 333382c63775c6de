//! Project tasks, run as `cargo xtask <task>`.
//!
//! - `test`: the one test command: lints, generated-code drift check, every test with a real Redis.
//! - `bench`: the generated gRPC and REST surfaces against hand-written tonic and axum servers.

mod bench;
mod redis_server;
mod test;

use std::path::{Path, PathBuf};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (task, rest) = args
        .split_first()
        .map_or(("help", &[][..]), |(t, r)| (t.as_str(), r));
    match task {
        "test" => test::run(rest),
        "bench" => bench::run(rest),
        "help" | "--help" | "-h" => {
            print_help();
            Ok(())
        }
        other => {
            print_help();
            anyhow::bail!("unknown task `{other}`")
        }
    }
}

fn print_help() {
    eprintln!(
        "usage: cargo xtask <task>\n\n\
         tasks:\n  \
         test        fmt check, clippy -D warnings, generate --check, all tests with a real Redis\n  \
         bench       hand-written tonic/axum vs the generated surfaces: req/s, latency, CPU/request"
    );
}

/// The workspace root (the folder holding the root `Cargo.toml`).
pub(crate) fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the workspace root")
        .to_path_buf()
}
