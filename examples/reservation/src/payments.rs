//! How the reservation service learns whether a payment completed before it confirms.
//!
//! [`PaymentLookup`] is the seam. [`ViaPaymentService`] answers through anything that
//! implements the generated `payment.v1.PaymentService` trait: the payment handler itself in a
//! one-process system, or a generated `PaymentServiceClient` over gRPC or REST (the standalone
//! binary), with its retries, circuit breaker and propagated deadline.

use std::future::Future;
use std::sync::Arc;

use tacos_runtime::{Code, Request, Status};
use traffic_tacos_contracts::common::v1::ErrorCode;
use traffic_tacos_contracts::payment::v1::{
    GetPaymentStatusRequest, GetPaymentStatusResponse, PaymentService, PaymentStatus,
};

use crate::errors;
use crate::store::PaymentFacts;

/// Reads the facts of a payment intent.
pub trait PaymentLookup: Send + Sync + 'static {
    /// The payment behind `payment_intent_id`; `NOT_FOUND` when there is none.
    fn payment(
        &self,
        payment_intent_id: &str,
    ) -> impl Future<Output = Result<PaymentFacts, Status>> + Send;
}

/// A [`PaymentLookup`] over a `payment.v1.PaymentService` implementation.
#[derive(Debug)]
pub struct ViaPaymentService<P>(pub Arc<P>);

impl<P: PaymentService> PaymentLookup for ViaPaymentService<P> {
    async fn payment(&self, payment_intent_id: &str) -> Result<PaymentFacts, Status> {
        let found = self
            .0
            .get_payment_status(Request::new(GetPaymentStatusRequest {
                payment_intent_id: payment_intent_id.to_owned(),
                user_id: String::new(),
            }))
            .await
            .map_err(|s| upstream(payment_intent_id, s))?;
        facts(payment_intent_id, found.into_message())
    }
}

fn facts(id: &str, found: GetPaymentStatusResponse) -> Result<PaymentFacts, Status> {
    let payment = found
        .payment
        .ok_or_else(|| errors::not_found(format!("payment intent {id} not found")))?;
    Ok(PaymentFacts {
        status: PaymentStatus::try_from(payment.status).unwrap_or(PaymentStatus::Unspecified),
        reservation_id: payment.reservation_id,
        user_id: payment.user_id,
    })
}

/// A payment-service failure as this service reports it.
fn upstream(id: &str, status: Status) -> Status {
    match status.code() {
        Code::NotFound => errors::not_found(format!("payment intent {id} not found")),
        Code::Unavailable | Code::DeadlineExceeded => errors::status(
            Code::Unavailable,
            ErrorCode::UpstreamError,
            format!("the payment service did not answer: {}", status.message()),
        ),
        _ => errors::status(
            Code::Internal,
            ErrorCode::UpstreamError,
            format!("the payment service failed: {}", status.message()),
        ),
    }
}

impl<P> Clone for ViaPaymentService<P> {
    fn clone(&self) -> Self {
        Self(Arc::clone(&self.0))
    }
}

impl<L: PaymentLookup> PaymentLookup for Arc<L> {
    fn payment(
        &self,
        payment_intent_id: &str,
    ) -> impl Future<Output = Result<PaymentFacts, Status>> + Send {
        L::payment(self, payment_intent_id)
    }
}
