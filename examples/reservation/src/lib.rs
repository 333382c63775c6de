//! Traffic Tacos reservations: `reservation.v1.ReservationService` and
//! `reservation.v1.InventoryService` on the Tacos framework, served over gRPC and REST from one
//! set of handlers.
//!
//! * [`store`]: reservations and seats in memory, holds that lapse, no overselling.
//! * [`reservation_service`]: the buyer-facing life cycle; spends waiting-room tokens.
//! * [`inventory_service`]: seat-level reads and operations for internal callers.
//! * [`payments`]: how a confirmation learns that a payment completed.
//! * [`config`]: environment variables of the standalone binary.
//!
//! In a one-process system, build a [`ReservationStore`], share the gateway's
//! [`WaitingRoom`](tacos_runtime::waiting_room::WaitingRoom), and [`register`] the two services
//! on the same server builder; [`run`] is the standalone binary.
#![deny(missing_docs)]

pub mod config;
pub mod errors;
pub mod inventory_service;
pub mod payments;
pub mod reservation_service;
pub mod store;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tacos_runtime::client::{BackendConfig, ClientOptions};

use tacos_runtime::openapi::{OpenApiDocument, OpenApiError};
use tacos_runtime::server::{Server, ServerBuilder, ServerError};
use tacos_runtime::waiting_room::{
    EventConfig, RedisBackend, RedisOptions, WaitingRoom, WaitingRoomError,
};
use traffic_tacos_contracts::payment::v1::PaymentServiceClient;
use traffic_tacos_contracts::reservation::v1::{
    inventory_service, reservation_service, INVENTORY_SERVICE_SERVICE_NAME,
    RESERVATION_SERVICE_SERVICE_NAME,
};

pub use crate::config::{ReservationConfig, StoreConfig};
pub use crate::inventory_service::InventoryHandler;
pub use crate::payments::{PaymentLookup, ViaPaymentService};
pub use crate::reservation_service::ReservationHandler;
pub use crate::store::ReservationStore;

/// Why the reservation service could not start.
#[derive(Debug, thiserror::Error)]
pub enum ReservationError {
    /// The waiting room could not be set up.
    #[error("waiting room: {0}")]
    WaitingRoom(#[from] WaitingRoomError),
    /// The payment client could not be built from its settings.
    #[error("{0}")]
    Payment(String),
    /// The server could not start or stopped abnormally.
    #[error(transparent)]
    Server(#[from] ServerError),
    /// The contract's OpenAPI document could not be narrowed to the served services.
    #[error("openapi document: {0}")]
    OpenApi(#[from] OpenApiError),
}

/// Both reservation services' handlers over one store; `P` answers payment lookups.
pub fn handlers<P: PaymentLookup + Clone>(
    store: &ReservationStore,
    room: Arc<WaitingRoom>,
    payments: P,
) -> (Arc<ReservationHandler<P>>, Arc<InventoryHandler<P>>) {
    (
        Arc::new(ReservationHandler::new(
            store.clone(),
            room,
            payments.clone(),
        )),
        Arc::new(InventoryHandler::new(store.clone(), payments)),
    )
}

/// Adds `reservation.v1.ReservationService` and `reservation.v1.InventoryService` over `store`
/// to `builder`.
pub fn register<P: PaymentLookup + Clone>(
    builder: ServerBuilder,
    store: &ReservationStore,
    room: Arc<WaitingRoom>,
    payments: P,
) -> ServerBuilder {
    let (reservations, inventory) = handlers(store, room, payments);
    builder
        .add(reservation_service(reservations))
        .add(inventory_service(inventory))
}

/// The standalone server: both services, their OpenAPI document at `/openapi.json`.
pub fn build_server<P: PaymentLookup + Clone>(
    config: &ReservationConfig,
    store: &ReservationStore,
    room: Arc<WaitingRoom>,
    payments: P,
) -> Result<Server, ReservationError> {
    let openapi = OpenApiDocument::for_services(
        &[traffic_tacos_contracts::OPENAPI_JSON],
        &[
            RESERVATION_SERVICE_SERVICE_NAME,
            INVENTORY_SERVICE_SERVICE_NAME,
        ],
    )?;
    let builder = Server::builder()
        .config(&config.server)
        .layer(openapi.layer());
    Ok(register(builder, store, room, payments).build()?)
}

/// How long a payment lookup may take when the caller set no deadline and
/// `BACKEND_PAYMENT_TIMEOUT_MS` is unset.
const PAYMENT_TIMEOUT: Duration = Duration::from_secs(5);

/// The generated payment client `backend` describes (`GetPaymentStatus` is declared free of
/// side effects in the contract, so a failed attempt is retried).
fn payment_client(
    backend: &BackendConfig,
) -> Result<ViaPaymentService<PaymentServiceClient>, ReservationError> {
    let transport = backend
        .transport()
        .map_err(|e| ReservationError::Payment(e.to_string()))?
        .ok_or_else(|| ReservationError::Payment("the payment service has no address".into()))?;
    let options = match backend.timeout {
        Some(_) => backend.client_options(),
        None => ClientOptions::new().timeout(PAYMENT_TIMEOUT),
    };
    let client = PaymentServiceClient::with_options(transport, options);
    Ok(ViaPaymentService(Arc::new(client)))
}

/// Starts the reservation service on `config`'s ports with the waiting room in Redis and
/// payments checked through the generated payment client, serves until `shutdown` completes,
/// then drains and stops.
pub async fn run(
    config: ReservationConfig,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ReservationError> {
    let room = WaitingRoom::new(
        RedisBackend::standalone(&config.redis_url, RedisOptions::default())?,
        EventConfig::default(),
    )?;
    let payments = payment_client(&config.payment_backend)?;
    let store = ReservationStore::new(config.store.clone());
    let sweeper = store.spawn_sweeper(config.sweep_interval);
    let server = build_server(&config, &store, Arc::new(room), payments)?;
    let running = server.start(config.server.bind())?;
    for (addr, role) in running.addrs() {
        tracing::info!(%addr, ?role, "listening");
    }
    tracing::info!("traffic tacos reservation service started");
    shutdown.await;
    tracing::info!("shutting down");
    sweeper.abort();
    // Joining the server threads blocks; keep it off the async thread.
    tokio::task::spawn_blocking(move || running.shutdown())
        .await
        .map_err(|_| ReservationError::Server(ServerError::ThreadPanicked))??;
    Ok(())
}
