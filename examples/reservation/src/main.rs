//! The Traffic Tacos reservation binary: configuration from the environment, logging, run.

use tracing_subscriber::EnvFilter;
use traffic_tacos_reservation::ReservationConfig;

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    let config = ReservationConfig::from_env()?;
    // The server runs its own threads; this runtime runs the hold sweeper and waits for the
    // shutdown signal.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(traffic_tacos_reservation::run(
        config,
        tacos_runtime::server::shutdown_signal(),
    ))?;
    Ok(())
}
