//! The Traffic Tacos payment simulator binary: configuration from the environment, logging, run.

use tracing_subscriber::EnvFilter;
use traffic_tacos_payment::PaymentConfig;

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    let config = PaymentConfig::from_env()?;
    // The server runs its own threads; this runtime only waits for the shutdown signal.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(traffic_tacos_payment::run(
        config,
        tacos_runtime::server::shutdown_signal(),
    ))?;
    Ok(())
}
