//! The Traffic Tacos gateway.

fn main() -> anyhow::Result<()> {
    Ok(())
}
