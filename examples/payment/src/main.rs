//! The Traffic Tacos payment simulator binary: configuration from the environment, logging, run.

use tacos_runtime::telemetry::{init_logging, shutdown_tracing, LogConfig};
use traffic_tacos_payment::PaymentConfig;

fn main() -> anyhow::Result<()> {
    init_logging(&LogConfig::from_env()?)?;
    let config = PaymentConfig::from_env()?;
    // The server runs its own threads; this runtime only waits for the shutdown signal.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(traffic_tacos_payment::run(
        config,
        tacos_runtime::server::shutdown_signal(),
    ))?;
    shutdown_tracing();
    Ok(())
}
