//! The seam between the gateway and the services behind it.
//!
//! The gateway talks to reservations, inventory and payments through [`Ticketing`], whose
//! methods take and return the messages of the backend contracts (`reservation.v1`,
//! `payment.v1`). [`crate::ticketing::ServiceTicketing`] implements them over the services'
//! generated clients, in this process or remote.

use std::future::Future;

use tacos_runtime::Status;
use traffic_tacos_contracts::payment::v1 as pay;
use traffic_tacos_contracts::reservation::v1 as res;

/// Reservations, inventory and payments, as the backend services offer them.
pub trait Ticketing: Send + Sync + 'static {
    /// Seats left for an event, per section.
    fn inventory_status(
        &self,
        request: res::GetInventoryStatusRequest,
    ) -> impl Future<Output = Result<res::GetInventoryStatusResponse, Status>> + Send;

    /// Holds seats. The caller has already checked the buyer's admission.
    fn create_reservation(
        &self,
        request: res::CreateReservationRequest,
    ) -> impl Future<Output = Result<res::CreateReservationResponse, Status>> + Send;

    /// Reads a reservation.
    fn get_reservation(
        &self,
        request: res::GetReservationRequest,
    ) -> impl Future<Output = Result<res::GetReservationResponse, Status>> + Send;

    /// Confirms a held reservation whose payment completed.
    fn confirm_reservation(
        &self,
        request: res::ConfirmReservationRequest,
    ) -> impl Future<Output = Result<res::ConfirmReservationResponse, Status>> + Send;

    /// Cancels a held reservation and releases its seats.
    fn cancel_reservation(
        &self,
        request: res::CancelReservationRequest,
    ) -> impl Future<Output = Result<res::CancelReservationResponse, Status>> + Send;

    /// Starts a payment for a held reservation.
    fn create_payment_intent(
        &self,
        request: pay::CreatePaymentIntentRequest,
    ) -> impl Future<Output = Result<pay::CreatePaymentIntentResponse, Status>> + Send;

    /// Reads a payment.
    fn get_payment_status(
        &self,
        request: pay::GetPaymentStatusRequest,
    ) -> impl Future<Output = Result<pay::GetPaymentStatusResponse, Status>> + Send;

    /// Charges a pending payment intent.
    fn process_payment(
        &self,
        request: pay::ProcessPaymentRequest,
    ) -> impl Future<Output = Result<pay::ProcessPaymentResponse, Status>> + Send;

    /// Names of the backend services and whether each answers.
    fn health(&self) -> impl Future<Output = Vec<(String, bool)>> + Send;
}
