//! Runs one bench target until killed, or until its stdin closes with `--exit-on-stdin-eof`.
//!
//! ```text
//! bench-server --target tonic|axum [--layout current|multi:N|per-core:N] [--addr 127.0.0.1:0]
//! ```
//! Prints `listening <addr>` on stdout once every listener is bound. `bench-server --list` prints
//! one `target <name> <protocol> hand-written|generated <layout kinds>` line per target.

use std::io::{Read, Write};
use std::net::SocketAddr;

use anyhow::{bail, Context};
use tacos_bench::cli::Args;
use tacos_bench::layout::Layout;
use tacos_bench::targets::Target;

fn main() -> anyhow::Result<()> {
    let args = Args::parse(std::env::args().skip(1), &["exit-on-stdin-eof", "list"]);
    args.check_known(&["target", "layout", "addr", "exit-on-stdin-eof", "list"])?;
    if args.switch("list") {
        for target in Target::ALL {
            println!(
                "target {} {} {} {}",
                target.name(),
                target.protocol().name(),
                if target.is_baseline() {
                    "hand-written"
                } else {
                    "generated"
                },
                target.layouts().join(",")
            );
        }
        return Ok(());
    }
    let target_name: String = args.value("target", String::new())?;
    let Some(target) = Target::parse(&target_name) else {
        let names: Vec<_> = Target::ALL.iter().map(|t| t.name()).collect();
        bail!("`--target` must be one of {}", names.join(", "));
    };
    let layout = Layout::parse(&args.value("layout", "current".to_owned())?)?;
    let addr: SocketAddr = args.value("addr", "127.0.0.1:0".parse()?)?;
    if !addr.ip().is_loopback() {
        bail!("the bench serves on loopback addresses only, not {addr}");
    }
    if args.switch("exit-on-stdin-eof") {
        // The orchestrator holds our stdin: when it exits, however it exits, so do we.
        std::thread::spawn(|| {
            let _ = std::io::stdin().read_to_end(&mut Vec::new());
            std::process::exit(0);
        });
    }
    target
        .run(layout, addr, |bound| {
            println!("listening {bound}");
            let _ = std::io::stdout().flush();
        })
        .with_context(|| format!("serving {} in layout {}", target.name(), layout.name()))
}
