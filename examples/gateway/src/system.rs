//! The backends the gateway calls: each either inside this process (the one-process default)
//! or a remote service, reached through the same generated clients.
//!
//! In process, the reservation service shares the gateway's waiting room (it consumes the
//! reservation tokens the gateway's admissions issue) and the payment simulator posts its
//! webhooks to the gateway's REST port. Neither is served on the gateway's ports: buyers reach
//! them only through the gateway.

use std::sync::Arc;
use std::time::Duration;

use tacos_runtime::client::{BackendConfig, ClientOptions, Transport};
use tacos_runtime::waiting_room::WaitingRoom;
use traffic_tacos_contracts::payment::v1::PaymentServiceClient;
use traffic_tacos_contracts::reservation::v1::{InventoryServiceClient, ReservationServiceClient};
use traffic_tacos_payment::{DeliveryConfig, PaymentHandler, SimulatorConfig, WebhookSecret};
use traffic_tacos_reservation::{ReservationStore, StoreConfig, ViaPaymentService};

use crate::config::GatewayConfig;
use crate::ticketing::ServiceTicketing;
use crate::updates::ChangeFeed;
use crate::GatewayError;

/// Default timeout of a backend call made without a deadline of its own, unless
/// `BACKEND_<NAME>_TIMEOUT_MS` sets one.
const CALL_TIMEOUT: Duration = Duration::from_secs(5);
/// How often the in-process reservation service releases lapsed holds.
const SWEEP_INTERVAL: Duration = Duration::from_secs(1);
/// The client options of `backend`: its timeout (or [`CALL_TIMEOUT`]). Which methods are
/// retried (and shadowed) comes from the contracts' `idempotency_level` options.
fn options(backend: &BackendConfig) -> ClientOptions {
    match backend.timeout {
        Some(_) => backend.client_options(),
        None => ClientOptions::new().timeout(CALL_TIMEOUT),
    }
}

fn transport_error(err: impl std::fmt::Display) -> GatewayError {
    GatewayError::Backend(err.to_string())
}

/// Builds the backend clients `config` asks for, starting in-process services where no remote
/// one is configured. Must run inside the Tokio runtime that outlives the server.
pub fn connect(
    config: &GatewayConfig,
    room: &WaitingRoom,
    webhook_secret: &WebhookSecret,
    feed: ChangeFeed,
) -> Result<ServiceTicketing, GatewayError> {
    let payment_transport = config
        .payment_backend
        .transport()
        .map_err(transport_error)?;
    let reservation_transport = config
        .reservation_backend
        .transport()
        .map_err(transport_error)?;
    let (payments, local_payments) = match payment_transport {
        Some(transport) => (
            PaymentServiceClient::with_options(transport, options(&config.payment_backend)),
            None,
        ),
        None => {
            let handler = local_payment_handler(config, webhook_secret);
            (
                PaymentServiceClient::local_with_options(
                    Arc::clone(&handler),
                    options(&config.payment_backend),
                ),
                Some(handler),
            )
        }
    };
    let (reservations, inventory) = match reservation_transport {
        Some(transport) => remote_reservations(transport, options(&config.reservation_backend)),
        None => local_reservations(config, room, local_payments, &payments),
    };
    Ok(ServiceTicketing::new(
        reservations,
        inventory,
        payments,
        feed,
    ))
}

/// The payment simulator in this process, reporting outcomes to this gateway.
fn local_payment_handler(config: &GatewayConfig, secret: &WebhookSecret) -> Arc<PaymentHandler> {
    traffic_tacos_payment::handler(
        SimulatorConfig {
            delay: config.inventory.payment_delay,
            ..SimulatorConfig::default()
        },
        DeliveryConfig {
            url: Some(config.webhook_url()),
            secret: secret.clone(),
            max_attempts: 5,
            initial_backoff: Duration::from_millis(200),
            attempt_timeout: Duration::from_secs(3),
        },
    )
}

fn remote_reservations(
    transport: Transport,
    options: ClientOptions,
) -> (ReservationServiceClient, InventoryServiceClient) {
    (
        ReservationServiceClient::with_options(transport.clone(), options.clone()),
        InventoryServiceClient::with_options(transport, options),
    )
}

/// The reservation service in this process, sharing the gateway's waiting room; it asks the
/// payment service through `payments` (in process or remote) before confirming.
fn local_reservations(
    config: &GatewayConfig,
    room: &WaitingRoom,
    local_payments: Option<Arc<PaymentHandler>>,
    payments: &PaymentServiceClient,
) -> (ReservationServiceClient, InventoryServiceClient) {
    let options = || options(&config.reservation_backend);
    let inventory = &config.inventory;
    let store = ReservationStore::new(StoreConfig {
        events: Vec::new(),
        sections: inventory.sections.clone(),
        seats_per_section: inventory.seats_per_section,
        seat_price: inventory.seat_price,
        currency: inventory.currency.clone(),
        hold: inventory.hold,
        max_hold: inventory.hold.max(StoreConfig::default().max_hold),
    });
    // The sweeper holds the store weakly and ends with it.
    drop(store.spawn_sweeper(SWEEP_INTERVAL));
    let room = Arc::new(room.clone());
    match local_payments {
        Some(handler) => {
            let (reservations, inventory) =
                traffic_tacos_reservation::handlers(&store, room, ViaPaymentService(handler));
            (
                ReservationServiceClient::local_with_options(reservations, options()),
                InventoryServiceClient::local_with_options(inventory, options()),
            )
        }
        None => {
            let lookup = ViaPaymentService(Arc::new(payments.clone()));
            let (reservations, inventory) =
                traffic_tacos_reservation::handlers(&store, room, lookup);
            (
                ReservationServiceClient::local_with_options(reservations, options()),
                InventoryServiceClient::local_with_options(inventory, options()),
            )
        }
    }
}
