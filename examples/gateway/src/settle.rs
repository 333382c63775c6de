//! Applies verified payment webhooks to reservations through the reservation client.
//!
//! * a completed payment confirms the reservation it paid for;
//! * a cancelled or expired payment cancels the reservation, releasing its seats;
//! * a declined payment leaves the hold in place, so the buyer can pay again until it lapses.
//!
//! A refusal that a retry cannot change (the hold lapsed, the reservation is already settled)
//! acknowledges the webhook and says why in `next_action`; an outage is returned as the error,
//! so the payment service delivers the webhook again.

use futures::future::BoxFuture;
use tacos_runtime::{Code, Status};
use traffic_tacos_contracts::gateway::v1::PaymentWebhookStatus;
use traffic_tacos_contracts::payment::v1::PaymentStatus;
use traffic_tacos_contracts::reservation::v1::{
    CancelReservationRequest, ConfirmReservationRequest, ReservationService,
};

use crate::ticketing::ServiceTicketing;
use crate::webhook::{OutcomeSink, PaymentOutcome, WebhookEvent};

/// The webhook sink that confirms or cancels reservations.
#[derive(Clone, Debug)]
pub struct SettleReservations {
    ticketing: ServiceTicketing,
}

impl SettleReservations {
    /// A sink acting through `ticketing`'s reservation client and feed.
    pub fn new(ticketing: ServiceTicketing) -> Self {
        Self { ticketing }
    }
}

/// Whether a failed call may succeed when the webhook is delivered again.
fn transient(status: &Status) -> bool {
    matches!(
        status.code(),
        Code::Unavailable | Code::DeadlineExceeded | Code::Aborted | Code::ResourceExhausted
    )
}

impl SettleReservations {
    async fn settle(self, outcome: PaymentOutcome) -> Result<String, Status> {
        let ticketing = &self.ticketing;
        let paid = match outcome.status {
            PaymentWebhookStatus::Success => true,
            PaymentWebhookStatus::Cancelled | PaymentWebhookStatus::Timeout => false,
            PaymentWebhookStatus::Failed => {
                ticketing.publish_payment(
                    &outcome.user_id,
                    &outcome.payment_intent_id,
                    PaymentStatus::Processing,
                    PaymentStatus::Failed,
                );
                return Ok("payment declined: the hold stays until it lapses".to_owned());
            }
            _ => return Ok("nothing to apply".to_owned()),
        };
        if outcome.reservation_id.is_empty() {
            return Ok("no reservation named: nothing to apply".to_owned());
        }
        let (old, new) = if paid {
            (PaymentStatus::Processing, PaymentStatus::Completed)
        } else if outcome.status == PaymentWebhookStatus::Cancelled {
            (PaymentStatus::Pending, PaymentStatus::Cancelled)
        } else {
            (PaymentStatus::Processing, PaymentStatus::Expired)
        };
        ticketing.publish_payment(&outcome.user_id, &outcome.payment_intent_id, old, new);
        let applied = if paid {
            ticketing
                .reservations()
                .confirm_reservation(ticketing.request(ConfirmReservationRequest {
                    reservation_id: outcome.reservation_id.clone(),
                    payment_intent_id: outcome.payment_intent_id.clone(),
                    user_id: outcome.user_id.clone(),
                    idempotency_key: format!("webhook:{}", outcome.payment_intent_id),
                }))
                .await
                .map(|_| ())
        } else {
            ticketing
                .reservations()
                .cancel_reservation(ticketing.request(CancelReservationRequest {
                    reservation_id: outcome.reservation_id.clone(),
                    user_id: outcome.user_id.clone(),
                    reason: "the payment did not complete".to_owned(),
                    idempotency_key: format!("webhook:{}", outcome.payment_intent_id),
                }))
                .await
                .map(|_| ())
        };
        match applied {
            Ok(()) => {
                ticketing.publish_settled(&outcome.user_id, &outcome.reservation_id, paid);
                Ok(if paid {
                    "reservation confirmed"
                } else {
                    "reservation cancelled"
                }
                .to_owned())
            }
            Err(status) if transient(&status) => Err(status),
            Err(status) => {
                tracing::warn!(
                    reservation = %outcome.reservation_id,
                    payment_intent = %outcome.payment_intent_id,
                    code = ?status.code(),
                    message = status.message(),
                    "payment webhook not applied"
                );
                Ok(format!("reservation unchanged: {}", status.message()))
            }
        }
    }
}

impl OutcomeSink for SettleReservations {
    fn apply(&self, event: WebhookEvent) -> BoxFuture<'static, Result<String, Status>> {
        match event {
            WebhookEvent::Payment(outcome) => Box::pin(self.clone().settle(outcome)),
            // The reservation service releases lapsed holds itself.
            WebhookEvent::Expiry { .. } => {
                Box::pin(async { Ok("holds lapse in the reservation service".to_owned()) })
            }
        }
    }
}
