//! [`Ticketing`] over the generated clients of the reservation and payment services.
//!
//! The same code serves both deployments: the clients call handlers in this process
//! (`<Service>Client::local`) or remote services over gRPC or REST. Errors come back as the
//! services sent them (code, message, details). Every change a call makes is published to the
//! [`ChangeFeed`], so the buyer's reservation and payment streams follow it.

use std::time::Duration;

use tacos_runtime::{Code, Request, Status};
use traffic_tacos_contracts::gateway::v1::{
    PaymentEventType, PaymentUpdate, ReservationEventType, ReservationUpdate,
};
use traffic_tacos_contracts::payment::v1::{self as pay, PaymentService, PaymentServiceClient};
use traffic_tacos_contracts::reservation::v1::{
    self as res, InventoryService, InventoryServiceClient, ReservationService,
    ReservationServiceClient,
};

use crate::backend::Ticketing;
use crate::updates::{Change, ChangeFeed};

/// How long a health probe waits for a backend.
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);
/// The id health probes read.
const PROBE_ID: &str = "health-probe";

/// The three backend clients and the feed they report to.
#[derive(Clone, Debug)]
pub struct ServiceTicketing {
    reservations: ReservationServiceClient,
    inventory: InventoryServiceClient,
    payments: PaymentServiceClient,
    feed: ChangeFeed,
}

impl ServiceTicketing {
    /// Ticketing through these clients, publishing changes to `feed`.
    pub fn new(
        reservations: ReservationServiceClient,
        inventory: InventoryServiceClient,
        payments: PaymentServiceClient,
        feed: ChangeFeed,
    ) -> Self {
        Self {
            reservations,
            inventory,
            payments,
            feed,
        }
    }

    /// The reservation client, for callers that act on reservations outside a buyer's request
    /// (the payment webhook).
    pub fn reservations(&self) -> &ReservationServiceClient {
        &self.reservations
    }

    /// The feed changes are published to.
    pub fn feed(&self) -> &ChangeFeed {
        &self.feed
    }

    /// `message` as a backend request. The internal services are public: the gateway has
    /// already authenticated the buyer and checked that they act for themselves.
    pub fn request<T>(&self, message: T) -> Request<T> {
        Request::new(message)
    }

    /// A health-probe request: a short deadline.
    fn probe<T>(&self, message: T) -> Request<T> {
        let mut request = self.request(message);
        request
            .context_mut()
            .set_deadline(Some(std::time::Instant::now() + PROBE_TIMEOUT));
        request
    }

    fn publish_reservation(
        &self,
        user_id: &str,
        reservation_id: &str,
        new_status: i32,
        event: ReservationEventType,
        message: &str,
    ) {
        let old_status = match event {
            ReservationEventType::Created => res::ReservationStatus::Unspecified as i32,
            _ => res::ReservationStatus::Hold as i32,
        };
        self.feed.publish(Change::Reservation {
            user_id: user_id.to_owned(),
            update: ReservationUpdate {
                reservation_id: reservation_id.to_owned(),
                old_status,
                new_status,
                hold_expires_at: None,
                message: message.to_owned(),
                event_type: event as i32,
            },
        });
    }

    /// Publishes a payment's move from `old` to `new`.
    pub fn publish_payment(
        &self,
        user_id: &str,
        payment_intent_id: &str,
        old: pay::PaymentStatus,
        new: pay::PaymentStatus,
    ) {
        let (event, message) = match new {
            pay::PaymentStatus::Pending => (PaymentEventType::Created, "payment intent created"),
            pay::PaymentStatus::Processing => (PaymentEventType::Processing, "payment processing"),
            pay::PaymentStatus::Completed => (PaymentEventType::Completed, "payment approved"),
            pay::PaymentStatus::Failed => (PaymentEventType::Failed, "payment declined"),
            pay::PaymentStatus::Cancelled => (PaymentEventType::Failed, "payment cancelled"),
            pay::PaymentStatus::Refunded => (PaymentEventType::Refunded, "payment refunded"),
            _ => (PaymentEventType::Failed, "payment expired"),
        };
        self.feed.publish(Change::Payment {
            user_id: user_id.to_owned(),
            update: PaymentUpdate {
                payment_intent_id: payment_intent_id.to_owned(),
                old_status: old as i32,
                new_status: new as i32,
                message: message.to_owned(),
                event_type: event as i32,
            },
        });
    }

    /// Publishes a reservation the payment webhook confirmed or cancelled.
    pub fn publish_settled(&self, user_id: &str, reservation_id: &str, confirmed: bool) {
        if confirmed {
            self.publish_reservation(
                user_id,
                reservation_id,
                res::ReservationStatus::Confirmed as i32,
                ReservationEventType::Confirmed,
                "reservation confirmed",
            );
        } else {
            self.publish_reservation(
                user_id,
                reservation_id,
                res::ReservationStatus::Cancelled as i32,
                ReservationEventType::Cancelled,
                "reservation cancelled: the payment did not complete",
            );
        }
    }
}

/// Whether a probe's answer shows the backend serving: any answer but an outage counts.
fn answered<T>(result: Result<T, Status>) -> bool {
    match result {
        Ok(_) => true,
        Err(status) => !matches!(
            status.code(),
            Code::Unavailable | Code::DeadlineExceeded | Code::Unknown | Code::Internal
        ),
    }
}

impl Ticketing for ServiceTicketing {
    async fn inventory_status(
        &self,
        request: res::GetInventoryStatusRequest,
    ) -> Result<res::GetInventoryStatusResponse, Status> {
        let found = self
            .inventory
            .get_inventory_status(self.request(request))
            .await?;
        Ok(found.into_message())
    }

    async fn create_reservation(
        &self,
        request: res::CreateReservationRequest,
    ) -> Result<res::CreateReservationResponse, Status> {
        let user_id = request.user_id.clone();
        let created = self
            .reservations
            .create_reservation(self.request(request))
            .await?
            .into_message();
        self.publish_reservation(
            &user_id,
            &created.reservation_id,
            created.status,
            ReservationEventType::Created,
            "seats held",
        );
        Ok(created)
    }

    async fn get_reservation(
        &self,
        request: res::GetReservationRequest,
    ) -> Result<res::GetReservationResponse, Status> {
        let found = self
            .reservations
            .get_reservation(self.request(request))
            .await?;
        Ok(found.into_message())
    }

    async fn confirm_reservation(
        &self,
        request: res::ConfirmReservationRequest,
    ) -> Result<res::ConfirmReservationResponse, Status> {
        let (user_id, id) = (request.user_id.clone(), request.reservation_id.clone());
        let confirmed = self
            .reservations
            .confirm_reservation(self.request(request))
            .await?
            .into_message();
        self.publish_reservation(
            &user_id,
            &id,
            confirmed.status,
            ReservationEventType::Confirmed,
            "reservation confirmed",
        );
        Ok(confirmed)
    }

    async fn cancel_reservation(
        &self,
        request: res::CancelReservationRequest,
    ) -> Result<res::CancelReservationResponse, Status> {
        let (user_id, id) = (request.user_id.clone(), request.reservation_id.clone());
        let reason = if request.reason.is_empty() {
            "reservation cancelled".to_owned()
        } else {
            format!("reservation cancelled: {}", request.reason)
        };
        let cancelled = self
            .reservations
            .cancel_reservation(self.request(request))
            .await?
            .into_message();
        self.publish_reservation(
            &user_id,
            &id,
            cancelled.status,
            ReservationEventType::Cancelled,
            &reason,
        );
        Ok(cancelled)
    }

    async fn create_payment_intent(
        &self,
        request: pay::CreatePaymentIntentRequest,
    ) -> Result<pay::CreatePaymentIntentResponse, Status> {
        let user_id = request.user_id.clone();
        let intent = self
            .payments
            .create_payment_intent(self.request(request))
            .await?
            .into_message();
        let status =
            pay::PaymentStatus::try_from(intent.status).unwrap_or(pay::PaymentStatus::Unspecified);
        let id = &intent.payment_intent_id;
        self.publish_payment(
            &user_id,
            id,
            pay::PaymentStatus::Unspecified,
            pay::PaymentStatus::Pending,
        );
        if status == pay::PaymentStatus::Processing {
            self.publish_payment(&user_id, id, pay::PaymentStatus::Pending, status);
        }
        // Settled outcomes (approve, fail) are published when their webhook arrives.
        Ok(intent)
    }

    async fn get_payment_status(
        &self,
        request: pay::GetPaymentStatusRequest,
    ) -> Result<pay::GetPaymentStatusResponse, Status> {
        let found = self
            .payments
            .get_payment_status(self.request(request))
            .await?;
        Ok(found.into_message())
    }

    async fn process_payment(
        &self,
        request: pay::ProcessPaymentRequest,
    ) -> Result<pay::ProcessPaymentResponse, Status> {
        let processed = self.payments.process_payment(self.request(request)).await?;
        Ok(processed.into_message())
    }

    async fn health(&self) -> Vec<(String, bool)> {
        // Reads of an id that cannot exist: any answer but an outage shows the service
        // serving. Inventory is served by the reservation service and shares its answer.
        let (reservation, payment) = tokio::join!(
            self.reservations
                .get_reservation(self.probe(res::GetReservationRequest {
                    reservation_id: PROBE_ID.to_owned(),
                    user_id: String::new(),
                })),
            self.payments
                .get_payment_status(self.probe(pay::GetPaymentStatusRequest {
                    payment_intent_id: PROBE_ID.to_owned(),
                    user_id: String::new(),
                })),
        );
        let reservation = answered(reservation);
        vec![
            ("reservation".to_owned(), reservation),
            ("inventory".to_owned(), reservation),
            ("payment".to_owned(), answered(payment)),
        ]
    }
}
