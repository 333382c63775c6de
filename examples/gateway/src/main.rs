//! The Traffic Tacos gateway binary: configuration from the environment, logging, run.
//!
//! `traffic-tacos-gateway` serves; `traffic-tacos-gateway token <user> [role ...]` prints a
//! one-hour access token signed with the configured `JWT_SECRET` (or the development secret),
//! for trying the protected calls.

use std::time::Duration;

use tacos_runtime::telemetry::{init_logging, LogConfig};
use traffic_tacos_gateway::config::GatewayConfig;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(("token", rest)) = args.split_first().map(|(a, r)| (a.as_str(), r)) {
        return print_token(rest);
    }
    init_logging(&LogConfig::from_env()?)?;
    let config = GatewayConfig::from_env()?;
    // The server runs its own threads; this runtime only waits for the shutdown signal.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(traffic_tacos_gateway::run(
        config,
        tacos_runtime::server::shutdown_signal(),
    ))?;
    tacos_runtime::telemetry::shutdown_tracing();
    Ok(())
}

fn print_token(args: &[String]) -> anyhow::Result<()> {
    let Some((subject, roles)) = args.split_first() else {
        anyhow::bail!("usage: traffic-tacos-gateway token <user> [role ...]");
    };
    let config = GatewayConfig::from_env()?;
    let secret = config
        .policies
        .auth
        .as_ref()
        .and_then(|auth| auth.secret.as_ref())
        .ok_or_else(|| anyhow::anyhow!("tokens can be minted only with an HS256 JWT_SECRET"))?;
    let token = traffic_tacos_gateway::token::mint(
        secret.expose(),
        subject,
        roles,
        Duration::from_secs(3600),
    )?;
    println!("{token}");
    Ok(())
}
