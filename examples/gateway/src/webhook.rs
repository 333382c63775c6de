//! `gateway.v1.WebhookService`: signed callbacks from the payment provider.
//!
//! A payment webhook is accepted only with a valid `X-Tacos-Signature` (or the same text in the
//! message's `signature` field, for callers that cannot set headers) whose timestamp is within
//! the replay window; see `traffic_tacos_payment::signature` for the scheme both ends share.
//! Anything else is `UNAUTHENTICATED` and nothing is applied. A webhook id already applied is
//! acknowledged again without being applied twice.
//!
//! Accepted outcomes go to an [`OutcomeSink`], the hook through which the gateway's reservation
//! flow confirms or releases the reservation. If the sink fails, the webhook is answered with
//! its error and not marked as applied, so the sender's retry can succeed later.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use futures::future::BoxFuture;
use tacos_runtime::{Code, Request, Response, Status};
use traffic_tacos_contracts::common::v1::ErrorCode;
use traffic_tacos_contracts::gateway::v1::{
    PaymentWebhookStatus, PaymentWebhookType, ReceiveExpiryWebhookRequest,
    ReceiveExpiryWebhookResponse, ReceivePaymentWebhookRequest, ReceivePaymentWebhookResponse,
    RegisterWebhookRequest, RegisterWebhookResponse, ValidateWebhookRequest,
    ValidateWebhookResponse, WebhookService,
};
use traffic_tacos_payment::signature::{
    canonical_body, canonical_json, WebhookSecret, REPLAY_WINDOW, SIGNATURE_HEADER,
};

use crate::errors;

/// A verified callback, handed to the reservation flow.
#[derive(Clone, Debug, PartialEq)]
pub enum WebhookEvent {
    /// A payment outcome.
    Payment(PaymentOutcome),
    /// A reservation's hold lapsed.
    Expiry {
        /// The reservation.
        reservation_id: String,
        /// When it lapsed.
        expired_at: Option<SystemTime>,
    },
}

/// The facts of a verified payment webhook.
#[derive(Clone, Debug, PartialEq)]
pub struct PaymentOutcome {
    /// The webhook's id.
    pub webhook_id: String,
    /// What kind of outcome.
    pub event_type: PaymentWebhookType,
    /// The payment's state.
    pub status: PaymentWebhookStatus,
    /// The payment intent.
    pub payment_intent_id: String,
    /// The reservation paid for.
    pub reservation_id: String,
    /// The payer, when the provider reports it.
    pub user_id: String,
    /// The provider's transaction id.
    pub transaction_id: String,
    /// Why it failed, if it did.
    pub failure_reason: String,
}

/// Where verified callbacks go: the gateway wires its reservation flow here. The answer is the
/// `next_action` told to the sender.
pub trait OutcomeSink: Send + Sync + 'static {
    /// Applies `event`.
    fn apply(&self, event: WebhookEvent) -> BoxFuture<'static, Result<String, Status>>;
}

/// Queues events on a channel for a task of the gateway to apply; a full or closed channel is
/// `UNAVAILABLE`, so the sender retries.
impl OutcomeSink for tokio::sync::mpsc::Sender<WebhookEvent> {
    fn apply(&self, event: WebhookEvent) -> BoxFuture<'static, Result<String, Status>> {
        let queued = self.try_send(event).map_err(|_| {
            errors::status(
                Code::Unavailable,
                ErrorCode::Unavailable,
                "the gateway cannot take webhooks right now: retry shortly",
            )
        });
        Box::pin(async move { queued.map(|()| "queued for the reservation flow".to_owned()) })
    }
}

/// Logs events and applies nothing: the sink while no reservation flow is connected.
#[derive(Clone, Copy, Debug, Default)]
pub struct LogOnly;

impl OutcomeSink for LogOnly {
    fn apply(&self, event: WebhookEvent) -> BoxFuture<'static, Result<String, Status>> {
        tracing::info!(?event, "webhook verified; no reservation flow is connected");
        Box::pin(async { Ok("logged: no reservation flow is connected".to_owned()) })
    }
}

/// Serves `gateway.v1.WebhookService`.
pub struct WebhookHandler {
    secret: WebhookSecret,
    sink: Arc<dyn OutcomeSink>,
    seen: Mutex<Seen>,
}

impl std::fmt::Debug for WebhookHandler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookHandler").finish_non_exhaustive()
    }
}

/// Webhook ids applied or being applied, remembered a little longer than a signature stays
/// valid: after that a replay fails the timestamp check anyway.
#[derive(Default)]
struct Seen {
    ids: HashMap<String, Mark>,
    last_prune: Option<Instant>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mark {
    InProgress(Instant),
    Applied(Instant),
}

const REMEMBER: Duration = Duration::from_secs(2 * REPLAY_WINDOW.as_secs() + 60);

impl Seen {
    fn prune(&mut self, now: Instant) {
        if self
            .last_prune
            .is_some_and(|t| now.duration_since(t) < Duration::from_secs(10))
        {
            return;
        }
        self.last_prune = Some(now);
        self.ids.retain(|_, s| {
            let (Mark::InProgress(at) | Mark::Applied(at)) = *s;
            now.duration_since(at) < REMEMBER
        });
    }
}

impl WebhookHandler {
    /// A handler verifying with `secret` and applying through `sink`.
    pub fn new(secret: WebhookSecret, sink: Arc<dyn OutcomeSink>) -> Self {
        Self {
            secret,
            sink,
            seen: Mutex::default(),
        }
    }

    /// Verifies the signature of a message whose canonical bytes are `body`.
    fn verify(&self, metadata: &http::HeaderMap, field: &str, body: &[u8]) -> Result<(), Status> {
        let header = metadata
            .get(SIGNATURE_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or(field);
        self.secret
            .verify(header, body, SystemTime::now())
            .map(|_| ())
            .map_err(|e| {
                errors::status(
                    Code::Unauthenticated,
                    ErrorCode::Unauthenticated,
                    e.to_string(),
                )
            })
    }

    /// Runs `apply` once per webhook id; a repeat gets `None`.
    async fn once(&self, webhook_id: &str, event: WebhookEvent) -> Result<Option<String>, Status> {
        let now = Instant::now();
        {
            let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
            seen.prune(now);
            match seen.ids.get(webhook_id) {
                Some(Mark::Applied(_)) => return Ok(None),
                Some(Mark::InProgress(_)) => {
                    return Err(errors::status(
                        Code::Aborted,
                        ErrorCode::ConcurrentModification,
                        "this webhook is being applied: retry shortly",
                    ))
                }
                None => {
                    seen.ids
                        .insert(webhook_id.to_owned(), Mark::InProgress(now));
                }
            }
        }
        let applied = self.sink.apply(event).await;
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        match applied {
            Ok(next) => {
                seen.ids
                    .insert(webhook_id.to_owned(), Mark::Applied(Instant::now()));
                Ok(Some(next))
            }
            Err(status) => {
                seen.ids.remove(webhook_id);
                Err(status)
            }
        }
    }
}

fn required(field: &str, value: &str) -> Result<(), Status> {
    if value.trim().is_empty() {
        Err(errors::invalid(field, format!("{field} is required")))
    } else {
        Ok(())
    }
}

#[tacos_runtime::service(contract = "gateway.v1.WebhookService")]
impl WebhookService for WebhookHandler {
    #[tacos(public, timeout = "5s", idempotent)]
    async fn receive_payment_webhook(
        &self,
        request: Request<ReceivePaymentWebhookRequest>,
    ) -> Result<Response<ReceivePaymentWebhookResponse>, Status> {
        let (message, context) = request.into_parts();
        // Authenticate before reading anything else, so a forged request learns nothing.
        self.verify(
            context.metadata(),
            &message.signature,
            &canonical_body(&message),
        )?;
        required("webhook_id", &message.webhook_id)?;
        let data = message
            .data
            .ok_or_else(|| errors::invalid("data", "the payment facts are required"))?;
        required("data.payment_intent_id", &data.payment_intent_id)?;
        let outcome = PaymentOutcome {
            webhook_id: message.webhook_id.clone(),
            event_type: PaymentWebhookType::try_from(message.event_type)
                .unwrap_or(PaymentWebhookType::Unspecified),
            status: PaymentWebhookStatus::try_from(data.status)
                .unwrap_or(PaymentWebhookStatus::Unspecified),
            payment_intent_id: data.payment_intent_id,
            reservation_id: data.reservation_id,
            user_id: data.metadata.get("user_id").cloned().unwrap_or_default(),
            transaction_id: data.transaction_id,
            failure_reason: data.failure_reason,
        };
        let next = self
            .once(&message.webhook_id, WebhookEvent::Payment(outcome))
            .await?;
        Ok(Response::new(ReceivePaymentWebhookResponse {
            accepted: true,
            correlation_id: message.webhook_id,
            processed_at: Some(SystemTime::now().into()),
            next_action: next.unwrap_or_else(|| "duplicate: already applied".to_owned()),
            error: None,
        }))
    }

    #[tacos(public, timeout = "5s", idempotent)]
    async fn receive_expiry_webhook(
        &self,
        request: Request<ReceiveExpiryWebhookRequest>,
    ) -> Result<Response<ReceiveExpiryWebhookResponse>, Status> {
        let (message, context) = request.into_parts();
        self.verify(context.metadata(), "", &canonical_json(&message))?;
        required("webhook_id", &message.webhook_id)?;
        required("reservation_id", &message.reservation_id)?;
        let event = WebhookEvent::Expiry {
            reservation_id: message.reservation_id.clone(),
            expired_at: message
                .expired_at
                .and_then(|t| SystemTime::try_from(t).ok()),
        };
        self.once(&message.webhook_id, event).await?;
        Ok(Response::new(ReceiveExpiryWebhookResponse {
            accepted: true,
            correlation_id: message.webhook_id,
            processed_at: Some(SystemTime::now().into()),
            error: None,
        }))
    }

    #[tacos(timeout = "2s")]
    async fn register_webhook(
        &self,
        request: Request<RegisterWebhookRequest>,
    ) -> Result<Response<RegisterWebhookResponse>, Status> {
        let _ = request;
        // Senders and their secret are configuration (`PAYMENT_WEBHOOK_SECRET`), not data a
        // caller can add: say so rather than pretend to store a registration.
        Err(errors::status(
            Code::Unimplemented,
            ErrorCode::FailedPrecondition,
            "webhook senders are configured, not registered: set PAYMENT_WEBHOOK_SECRET on both ends",
        ))
    }

    #[tacos(timeout = "2s", idempotent)]
    async fn validate_webhook(
        &self,
        request: Request<ValidateWebhookRequest>,
    ) -> Result<Response<ValidateWebhookResponse>, Status> {
        let req = request.into_message();
        required("signature", &req.signature)?;
        let verdict = self
            .secret
            .verify(&req.signature, req.payload.as_bytes(), SystemTime::now());
        Ok(Response::new(ValidateWebhookResponse {
            valid: verdict.is_ok(),
            reason: verdict.err().map(|e| e.to_string()).unwrap_or_default(),
            validated_at: Some(SystemTime::now().into()),
            error: None,
        }))
    }
}
