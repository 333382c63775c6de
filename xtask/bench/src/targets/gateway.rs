//! The Traffic Tacos gateway, the framework's full join: its `QueueService/JoinQueue` served by
//! the same assembly the `traffic-tacos-gateway` binary runs (`build_waiting_room`,
//! `build_server_with`), configured as a deployment would configure it: HS256 bearer tokens,
//! metrics, JSON access logs on stdout, the `queue-join` rate limit and the Redis waiting room.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;

use tacos_runtime::server::Bind;
use tacos_runtime::telemetry::{init_logging, LogConfig};
use traffic_tacos_gateway::config::GatewayConfig;
use traffic_tacos_payment::signature::WebhookSecret;

use crate::client::BENCH_JWT_SECRET;
use crate::layout::Layout;
use crate::Protocol;

/// The gateway's settings for a bench run: everything on, the rate limit far above the load.
fn settings(layout: Layout, redis_url: &str) -> HashMap<&'static str, String> {
    let (runtime, threads) = match layout {
        Layout::CurrentThread => ("per-core", 1),
        Layout::PerCore { runtimes } => ("per-core", runtimes),
        Layout::MultiThread { workers } => ("multi-thread", workers),
    };
    HashMap::from([
        ("TACOS_RUNTIME", runtime.to_owned()),
        ("TACOS_THREADS", threads.to_string()),
        ("REDIS_URL", redis_url.to_owned()),
        ("JWT_SECRET", BENCH_JWT_SECRET.to_owned()),
        (
            "RATE_LIMIT_QUEUE_JOIN",
            "1000000/s burst 1000000".to_owned(),
        ),
        ("LOG_FORMAT", "json".to_owned()),
        (
            "PAYMENT_WEBHOOK_SECRET",
            "tacos-bench-webhook-secret-for-loopback-only".to_owned(),
        ),
    ])
}

/// Starts the gateway in `layout` against the Redis at `redis_url` (logging warnings only when
/// `quiet`), reports the address of `protocol` first, then serves until the process ends.
pub(super) fn run(
    protocol: Protocol,
    layout: Layout,
    redis_url: &str,
    quiet: bool,
    on_bound: impl FnOnce(&[SocketAddr]),
) -> io::Result<()> {
    let mut settings = settings(layout, redis_url);
    if quiet {
        settings.insert("LOG_LEVEL", "warn".to_owned());
    }
    let lookup = |name: &str| settings.get(name).cloned();
    init_logging(&LogConfig::from_lookup(&lookup).map_err(io::Error::other)?)
        .map_err(io::Error::other)?;
    let config = GatewayConfig::from_lookup(&lookup).map_err(io::Error::other)?;
    let secret = WebhookSecret::from_lookup(&lookup).map_err(io::Error::other)?;
    // As in the binary: the waiting room's connections and background tasks live on this
    // runtime; the server runs its own threads in `layout`.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let room = traffic_tacos_gateway::build_waiting_room(&config).map_err(io::Error::other)?;
        let server = traffic_tacos_gateway::build_server_with(&config, room, secret, None)
            .map_err(io::Error::other)?;
        // Ports the system picks, on loopback; the other server settings are the config's.
        let loopback = SocketAddr::from(([127, 0, 0, 1], 0));
        let bind = Bind {
            rest: loopback,
            grpc: Some(loopback),
        };
        let running = server.start(bind).map_err(io::Error::other)?;
        let (grpc, rest) = running
            .grpc_addr()
            .zip(running.rest_addr())
            .ok_or_else(|| io::Error::other("the gateway bound no gRPC or no REST listener"))?;
        on_bound(&match protocol {
            Protocol::Grpc => [grpc, rest],
            Protocol::Rest => [rest, grpc],
        });
        std::future::pending::<()>().await;
        drop(running);
        Ok(())
    })
}
