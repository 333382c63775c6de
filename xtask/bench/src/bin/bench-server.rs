//! Runs one bench target until killed, or until its stdin closes with `--exit-on-stdin-eof`.
//!
//! ```text
//! bench-server --target NAME [--layout current|multi:N|per-core:N] [--addr 127.0.0.1:0]
//!              [--policies none|all|metrics,logs,auth,rate] [--redis redis://127.0.0.1:6379/]
//! ```
//! Prints `listening <addr> [<other addr>]` on stdout once every listener is bound: the target's
//! protocol first, then, for framework servers, their other protocol. `--policies` picks the
//! policy layers of the generated targets (default: metrics only, as an unconfigured server);
//! `--redis` is the Redis of the full-join targets. `bench-server --list` prints one
//! `target <name> <protocol> hand-written|generated <layout kinds> surface|join` line per target.

use std::io::{Read, Write};
use std::net::SocketAddr;

use anyhow::{bail, Context};
use tacos_bench::cli::Args;
use tacos_bench::layout::Layout;
use tacos_bench::targets::{Policies, RunOptions, Target};

fn main() -> anyhow::Result<()> {
    let args = Args::parse(std::env::args().skip(1), &["exit-on-stdin-eof", "list"]);
    args.check_known(&[
        "target",
        "layout",
        "addr",
        "policies",
        "redis",
        "exit-on-stdin-eof",
        "list",
    ])?;
    if args.switch("list") {
        for target in Target::ALL {
            println!(
                "target {} {} {} {} {}",
                target.name(),
                target.protocol().name(),
                if target.is_baseline() {
                    "hand-written"
                } else {
                    "generated"
                },
                target.layouts().join(","),
                if target.is_full_join() {
                    "join"
                } else {
                    "surface"
                },
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
    let policies = match args.value("policies", String::new())?.as_str() {
        "" => Policies::default(),
        list => Policies::parse(list).with_context(|| {
            format!("`--policies {list}`: use none, all, or a list of metrics,logs,auth,rate")
        })?,
    };
    let redis: String = args.value("redis", String::new())?;
    let options = RunOptions {
        policies,
        redis: Some(redis).filter(|r| !r.is_empty()),
        quiet: false,
    };
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
        .run(layout, addr, &options, |bound| {
            let addrs: Vec<String> = bound.iter().map(ToString::to_string).collect();
            println!("listening {}", addrs.join(" "));
            let _ = std::io::stdout().flush();
        })
        .with_context(|| format!("serving {} in layout {}", target.name(), layout.name()))
}
