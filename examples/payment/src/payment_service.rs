//! `payment.v1.PaymentService`: the simulated provider over gRPC and REST.

use std::time::{Duration, SystemTime};

use tacos_runtime::{Request, Response, Status};
use traffic_tacos_contracts::common::v1::PageInfo;
use traffic_tacos_contracts::payment::v1::{
    CancelPaymentRequest, CancelPaymentResponse, CreatePaymentIntentRequest,
    CreatePaymentIntentResponse, GetPaymentStatusRequest, GetPaymentStatusResponse,
    ListPaymentsRequest, ListPaymentsResponse, PaymentScenario, PaymentService, PaymentStatus,
    ProcessPaymentRequest, ProcessPaymentResponse, SimulateWebhookRequest, SimulateWebhookResponse,
};

use crate::errors;
use crate::simulator::{NewIntent, Simulator};

/// The longest delay `SimulateWebhook` accepts.
const MAX_SIMULATED_DELAY_SECONDS: i32 = 300;

/// Serves `payment.v1.PaymentService` over a [`Simulator`].
#[derive(Clone, Debug)]
pub struct PaymentHandler {
    simulator: Simulator,
}

impl PaymentHandler {
    /// A handler over `simulator`.
    pub fn new(simulator: Simulator) -> Self {
        Self { simulator }
    }
}

// An internal service: buyers reach it only through the gateway, which authenticates them and
// checks that they act for themselves, so its methods are public on the service network.
#[tacos_runtime::service(contract = "payment.v1.PaymentService")]
impl PaymentService for PaymentHandler {
    #[tacos(public, timeout = "5s")]
    async fn create_payment_intent(
        &self,
        request: Request<CreatePaymentIntentRequest>,
    ) -> Result<Response<CreatePaymentIntentResponse>, Status> {
        let req = request.into_message();
        let scenario = PaymentScenario::try_from(req.scenario).map_err(|_| {
            errors::invalid("scenario", format!("unknown scenario {}", req.scenario))
        })?;
        let intent = self.simulator.create(NewIntent {
            reservation_id: req.reservation_id,
            amount: req.amount,
            user_id: req.user_id,
            method: req.method,
            scenario,
            idempotency_key: req.idempotency_key,
            metadata: req.metadata,
        })?;
        let id = intent.payment.payment_intent_id.clone();
        Ok(Response::new(CreatePaymentIntentResponse {
            payment_url: format!("/payment/v1/intents/{id}"),
            payment_intent_id: id,
            status: intent.payment.status,
            client_secret: intent.client_secret,
            expires_at: Some(intent.expires_at.into()),
            error: None,
        }))
    }

    #[tacos(public, timeout = "10s")]
    async fn process_payment(
        &self,
        request: Request<ProcessPaymentRequest>,
    ) -> Result<Response<ProcessPaymentResponse>, Status> {
        let req = request.into_message();
        let payment = self.simulator.process(&req.payment_intent_id)?.payment;
        Ok(Response::new(ProcessPaymentResponse {
            payment_id: payment.payment_id,
            status: payment.status,
            processed_at: payment.processed_at,
            transaction_id: payment.transaction_id,
            result: payment.result,
            error: None,
        }))
    }

    #[tacos(public, timeout = "2s", idempotent)]
    async fn get_payment_status(
        &self,
        request: Request<GetPaymentStatusRequest>,
    ) -> Result<Response<GetPaymentStatusResponse>, Status> {
        let req = request.into_message();
        let intent = self.simulator.get(&req.payment_intent_id, &req.user_id)?;
        Ok(Response::new(GetPaymentStatusResponse {
            payment: Some(intent.payment),
            error: None,
        }))
    }

    #[tacos(public, timeout = "5s", idempotent)]
    async fn cancel_payment(
        &self,
        request: Request<CancelPaymentRequest>,
    ) -> Result<Response<CancelPaymentResponse>, Status> {
        let req = request.into_message();
        let intent = self
            .simulator
            .cancel(&req.payment_intent_id, req.refund_amount)?;
        let refunded = intent.payment.status == PaymentStatus::Refunded as i32;
        Ok(Response::new(CancelPaymentResponse {
            status: intent.payment.status,
            cancelled_at: intent.payment.updated_at,
            refund_id: if refunded {
                format!("rf_{}", intent.payment.payment_intent_id)
            } else {
                String::new()
            },
            refunded_amount: intent.refunded,
            error: None,
        }))
    }

    #[tacos(public, timeout = "2s", idempotent)]
    async fn list_payments(
        &self,
        request: Request<ListPaymentsRequest>,
    ) -> Result<Response<ListPaymentsResponse>, Status> {
        let req = request.into_message();
        let status = PaymentStatus::try_from(req.status)
            .map_err(|_| errors::invalid("status", format!("unknown status {}", req.status)))?;
        let (page, size) = req.pagination.map_or((1, 20), |p| {
            (
                p.page.max(1),
                if p.page_size <= 0 { 20 } else { p.page_size },
            )
        });
        if size > 100 {
            return Err(errors::invalid("pagination.page_size", "at most 100"));
        }
        let all = self
            .simulator
            .list(&req.user_id, &req.reservation_id, status)?;
        let total = all.len();
        let start = ((page - 1) as usize)
            .saturating_mul(size as usize)
            .min(total);
        let end = start.saturating_add(size as usize).min(total);
        Ok(Response::new(ListPaymentsResponse {
            payments: all[start..end].to_vec(),
            page_info: Some(PageInfo {
                total_count: total as i32,
                has_next_page: end < total,
                has_previous_page: start > 0,
                ..Default::default()
            }),
            error: None,
        }))
    }

    #[tacos(public, timeout = "2s")]
    async fn simulate_webhook(
        &self,
        request: Request<SimulateWebhookRequest>,
    ) -> Result<Response<SimulateWebhookResponse>, Status> {
        let req = request.into_message();
        let target = PaymentStatus::try_from(req.target_status)
            .ok()
            .filter(|s| *s != PaymentStatus::Unspecified)
            .ok_or_else(|| errors::invalid("target_status", "a payment status is required"))?;
        if !(0..=MAX_SIMULATED_DELAY_SECONDS).contains(&req.delay_seconds) {
            return Err(errors::invalid(
                "delay_seconds",
                format!("0 to {MAX_SIMULATED_DELAY_SECONDS} seconds"),
            ));
        }
        let delay = Duration::from_secs(req.delay_seconds as u64);
        let webhook_id = self.simulator.simulate_webhook(
            &req.payment_intent_id,
            target,
            delay,
            req.force_trigger,
        )?;
        Ok(Response::new(SimulateWebhookResponse {
            webhook_sent: true,
            webhook_id,
            scheduled_at: Some((SystemTime::now() + delay).into()),
            error: None,
        }))
    }
}
