//! Project tasks; run as `cargo xtask <task>`.

mod conformance;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("conformance") => conformance::run(&args[1..]),
        _ => anyhow::bail!("usage: cargo xtask <conformance>"),
    }
}
