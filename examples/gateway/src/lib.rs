//! The Traffic Tacos gateway: the waiting room, reservations, payments and live updates, served
//! over gRPC and REST from one set of handlers.
//!
//! * [`config`]: environment variables.
//! * [`queue`]: `gateway.v1.QueueService` over the runtime's waiting room.
//! * [`gateway_service`]: `gateway.v1.GatewayService` over a [`backend::Ticketing`] backend.
//! * [`ticketing`]: that backend over the reservation and payment services' generated clients.
//! * [`system`]: those services in this process, or remote ones from `BACKEND_*` settings.
//! * [`settle`]: payment webhooks confirming or cancelling reservations.
//! * [`identity`]: the authenticated user must be the user a request acts for.
//! * [`token`]: development access tokens.
//! * [`updates`]: `gateway.v1.WebSocketService`, the server-push streams.
//! * [`webhook`]: `gateway.v1.WebhookService`, signed payment callbacks.
//!
//! [`build_server`] assembles the server; [`run`] serves it until a shutdown signal.
#![deny(missing_docs)]

pub mod backend;
pub mod config;
pub mod errors;
pub mod gateway_service;
pub mod identity;
pub mod page;
pub mod queue;
pub mod settle;
pub mod system;
pub mod ticketing;
pub mod token;
pub mod updates;
pub mod webhook;

use std::future::Future;
use std::sync::Arc;

use tacos_runtime::auth::Authenticator;
use tacos_runtime::metrics::Metrics;
use tacos_runtime::openapi::{OpenApiDocument, OpenApiError};
use tacos_runtime::server::{PolicyError, Server, ServerError};
use tacos_runtime::waiting_room::{RedisBackend, RedisOptions, WaitingRoom, WaitingRoomError};
use traffic_tacos_contracts::gateway::v1::{
    gateway_service, queue_service, web_socket_service, webhook_service,
    GATEWAY_SERVICE_SERVICE_NAME, QUEUE_SERVICE_SERVICE_NAME, WEBHOOK_SERVICE_SERVICE_NAME,
    WEB_SOCKET_SERVICE_SERVICE_NAME,
};
use traffic_tacos_payment::signature::WebhookSecret;

use crate::config::GatewayConfig;
use crate::gateway_service::GatewayHandler;
use crate::page::QueuePages;
use crate::queue::QueueHandler;
use crate::settle::SettleReservations;
use crate::updates::{ChangeFeed, UpdatesHandler};
use crate::webhook::{OutcomeSink, WebhookHandler};

/// Why the gateway could not start.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    /// The waiting room could not be set up.
    #[error("waiting room: {0}")]
    WaitingRoom(#[from] WaitingRoomError),
    /// The server could not start or stopped abnormally.
    #[error(transparent)]
    Server(#[from] ServerError),
    /// The contract's OpenAPI document could not be narrowed to the served services.
    #[error("openapi document: {0}")]
    OpenApi(#[from] OpenApiError),
    /// Auth, rate limits or idempotency could not be set up.
    #[error(transparent)]
    Policies(#[from] PolicyError),
    /// The webhook secret is missing or unusable.
    #[error("webhooks: {0}")]
    Webhook(String),
    /// A backend client could not be set up.
    #[error("backend: {0}")]
    Backend(String),
}

/// The waiting room `config` asks for: Redis when `REDIS_URL` is set, else in memory.
pub fn build_waiting_room(config: &GatewayConfig) -> Result<WaitingRoom, GatewayError> {
    let room = match &config.redis_url {
        Some(url) => WaitingRoom::new(
            RedisBackend::standalone(url, RedisOptions::default())?,
            config.admission.clone(),
        )?,
        None => WaitingRoom::new(
            tacos_runtime::waiting_room::MemoryBackend::new(),
            config.admission.clone(),
        )?,
    };
    let room = room.with_metrics(Metrics::global());
    for (event, settings) in &config.event_admission {
        room.set_event_config(event, settings.clone())?;
    }
    Ok(room)
}

/// The server with the gateway services over `room`, calling the reservation and payment
/// services `config` names (in this process by default); payment webhooks, verified with
/// `PAYMENT_WEBHOOK_SECRET`, confirm or cancel reservations. Must run inside the Tokio runtime
/// that outlives the server.
pub fn build_server(config: &GatewayConfig, room: WaitingRoom) -> Result<Server, GatewayError> {
    let secret = WebhookSecret::from_lookup(&|name| std::env::var(name).ok())
        .map_err(GatewayError::Webhook)?;
    build_server_with(config, room, secret, None)
}

/// [`build_server`] with the given webhook secret and, when given, webhook sink in place of the
/// one that settles reservations.
pub fn build_server_with(
    config: &GatewayConfig,
    room: WaitingRoom,
    webhook_secret: WebhookSecret,
    sink: Option<Arc<dyn OutcomeSink>>,
) -> Result<Server, GatewayError> {
    let feed = ChangeFeed::default();
    let ticketing = system::connect(config, &room, &webhook_secret, feed.clone())?;
    let sink = sink.unwrap_or_else(|| Arc::new(SettleReservations::new(ticketing.clone())));
    let webhooks = WebhookHandler::new(webhook_secret, sink);
    // Document exactly the services this binary serves, at `/openapi.json`.
    let openapi = OpenApiDocument::for_services(
        &[traffic_tacos_contracts::OPENAPI_JSON],
        &[
            QUEUE_SERVICE_SERVICE_NAME,
            GATEWAY_SERVICE_SERVICE_NAME,
            WEB_SOCKET_SERVICE_SERVICE_NAME,
            WEBHOOK_SERVICE_SERVICE_NAME,
        ],
    )?;
    let auth = match &config.policies.auth {
        Some(auth) => Some(Authenticator::new(auth.clone()).map_err(PolicyError::from)?),
        None => None,
    };
    let mut gateway = GatewayHandler::new(room.clone(), Arc::new(ticketing));
    if let Some(auth) = &auth {
        gateway = gateway.with_authenticator(auth.clone());
    }
    let server = Server::builder()
        .config(&config.server)
        .policies(&config.policies)?
        .layer(openapi.layer())
        .router(QueuePages::new(&config.queue_page_next_url).router())
        .add(queue_service(Arc::new(QueueHandler::new(room.clone()))))
        .add(gateway_service(Arc::new(gateway)))
        .add(web_socket_service(Arc::new(UpdatesHandler::new(
            room, feed,
        ))))
        .add(webhook_service(Arc::new(webhooks)))
        .build()?;
    Ok(server)
}

/// Starts the gateway on `config`'s ports and runtime layout, serves until `shutdown`
/// completes, then drains in-flight calls and stops.
pub async fn run(
    config: GatewayConfig,
    shutdown: impl Future<Output = ()>,
) -> Result<(), GatewayError> {
    let room = build_waiting_room(&config)?;
    if config.development_secret {
        tracing::warn!(
            "no JWT_SECRET or JWT_JWKS_URL: bearer tokens are checked against the public development secret (mint one with `traffic-tacos-gateway token <user>`)"
        );
    }
    let server = build_server(&config, room)?;
    let running = server.start(config.server.bind())?;
    for (addr, role) in running.addrs() {
        tracing::info!(%addr, ?role, "listening");
    }
    tracing::info!(
        waiting_room = if config.redis_url.is_some() {
            "redis"
        } else {
            "memory"
        },
        "traffic tacos gateway started"
    );
    shutdown.await;
    tracing::info!("shutting down");
    // Joining the server threads blocks; keep it off the async thread.
    tokio::task::spawn_blocking(move || running.shutdown())
        .await
        .map_err(|_| GatewayError::Server(ServerError::ThreadPanicked))??;
    Ok(())
}
