//! Project tasks; run as `cargo xtask <task>`.

fn main() -> anyhow::Result<()> {
    Ok(())
}
