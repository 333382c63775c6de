//! The Traffic Tacos payment simulator: `payment.v1.PaymentService` on the Tacos framework, and
//! the signed webhooks it sends to the gateway.
//!
//! * [`simulator`]: intents and their scenarios (approve, fail, delay, random, timeout).
//! * [`payment_service`]: the handler, served over gRPC and REST.
//! * [`delivery`]: webhook delivery with bounded, jittered retries.
//! * [`signature`]: HMAC-SHA256 signing and verification of webhooks, shared with the gateway,
//!   which depends on this crate's library for it (and, in a one-process system, for the
//!   simulator itself).
//! * [`config`]: environment variables of the standalone binary.
#![deny(missing_docs)]

pub mod config;
pub mod delivery;
pub mod errors;
pub mod payment_service;
pub mod signature;
pub mod simulator;

use std::future::Future;
use std::sync::Arc;

use tacos_runtime::openapi::{OpenApiDocument, OpenApiError};
use tacos_runtime::server::{Server, ServerBuilder, ServerError};
use traffic_tacos_contracts::payment::v1::{payment_service, PAYMENT_SERVICE_SERVICE_NAME};

pub use crate::config::PaymentConfig;
pub use crate::delivery::{DeliveryConfig, WebhookSender};
pub use crate::payment_service::PaymentHandler;
pub use crate::signature::WebhookSecret;
pub use crate::simulator::{Simulator, SimulatorConfig};

/// Why the payment service could not start.
#[derive(Debug, thiserror::Error)]
pub enum PaymentError {
    /// The server could not start or stopped abnormally.
    #[error(transparent)]
    Server(#[from] ServerError),
    /// The contract's OpenAPI document could not be narrowed to the served service.
    #[error("openapi document: {0}")]
    OpenApi(#[from] OpenApiError),
}

/// The payment handler: a simulator with `simulator` settings delivering webhooks per
/// `delivery`. Share the `Arc` with whatever calls it in process.
pub fn handler(simulator: SimulatorConfig, delivery: DeliveryConfig) -> Arc<PaymentHandler> {
    Arc::new(PaymentHandler::new(Simulator::new(
        simulator,
        WebhookSender::new(delivery),
    )))
}

/// Adds `payment.v1.PaymentService` served by `handler` to `builder`.
pub fn register(builder: ServerBuilder, handler: Arc<PaymentHandler>) -> ServerBuilder {
    builder.add(payment_service(handler))
}

/// The standalone server: the service and its OpenAPI document at `/openapi.json`.
pub fn build_server(
    config: &PaymentConfig,
    handler: Arc<PaymentHandler>,
) -> Result<Server, PaymentError> {
    let openapi = OpenApiDocument::for_services(
        &[traffic_tacos_contracts::OPENAPI_JSON],
        &[PAYMENT_SERVICE_SERVICE_NAME],
    )?;
    let builder = Server::builder()
        .config(&config.server)
        .layer(openapi.layer());
    Ok(register(builder, handler).build()?)
}

/// Starts the payment service on `config`'s ports, serves until `shutdown` completes, then
/// drains in-flight calls and stops.
pub async fn run(
    config: PaymentConfig,
    shutdown: impl Future<Output = ()>,
) -> Result<(), PaymentError> {
    if config.delivery.secret.is_development() {
        tracing::warn!("signing webhooks with the development secret: set PAYMENT_WEBHOOK_SECRET");
    }
    let server = build_server(
        &config,
        handler(config.simulator.clone(), config.delivery.clone()),
    )?;
    let running = server.start(config.server.bind())?;
    for (addr, role) in running.addrs() {
        tracing::info!(%addr, ?role, "listening");
    }
    tracing::info!(
        webhook_url = config.delivery.url.as_deref().unwrap_or("off"),
        "traffic tacos payment simulator started"
    );
    shutdown.await;
    tracing::info!("shutting down");
    // Joining the server threads blocks; keep it off the async thread.
    tokio::task::spawn_blocking(move || running.shutdown())
        .await
        .map_err(|_| PaymentError::Server(ServerError::ThreadPanicked))??;
    Ok(())
}
