//! The simulated payment provider's state: intents, their scenarios and outcomes.
//!
//! Scenarios decide each intent's fate: `APPROVE` completes at once, `FAIL` is declined at once,
//! `DELAY` completes after the configured delay, `RANDOM` approves with the configured
//! probability, `TIMEOUT` stays processing until the intent expires, and an unspecified
//! scenario waits for `ProcessPayment`. Every outcome (completed, failed, cancelled, refunded,
//! expired) is reported by a signed webhook. One mutex guards the state and is never held
//! across an `.await`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use rand::Rng as _;
use tacos_runtime::Status;
use traffic_tacos_contracts::common::v1::{ErrorCode, Money};
use traffic_tacos_contracts::gateway::v1::{
    PaymentWebhookData, PaymentWebhookStatus, PaymentWebhookType, ReceivePaymentWebhookRequest,
};
use traffic_tacos_contracts::payment::v1::{
    Payment, PaymentResult, PaymentScenario, PaymentStatus,
};

use crate::delivery::WebhookSender;
use crate::errors;

/// How the simulator behaves.
#[derive(Clone, Debug, PartialEq)]
pub struct SimulatorConfig {
    /// How long the `DELAY` scenario takes to approve.
    pub delay: Duration,
    /// The chance, 0 to 1, that the `RANDOM` scenario approves.
    pub random_approval: f64,
    /// How long an intent stays open.
    pub intent_ttl: Duration,
}

impl Default for SimulatorConfig {
    fn default() -> Self {
        Self {
            delay: Duration::from_secs(2),
            random_approval: 0.5,
            intent_ttl: Duration::from_secs(15 * 60),
        }
    }
}

/// Payment intents in memory, and the webhooks their outcomes send. Clones share the state.
#[derive(Clone, Debug)]
pub struct Simulator {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    state: Mutex<State>,
    config: SimulatorConfig,
    webhooks: WebhookSender,
}

#[derive(Debug, Default)]
struct State {
    intents: HashMap<String, Intent>,
    /// (user, idempotency key) → intent id.
    keys: HashMap<(String, String), String>,
}

/// One intent as stored.
#[derive(Clone, Debug)]
pub struct Intent {
    /// The payment.
    pub payment: Payment,
    /// The scenario it follows.
    pub scenario: PaymentScenario,
    /// The secret the buyer's client completes payment with.
    pub client_secret: String,
    /// When it stops being payable.
    pub expires_at: SystemTime,
    /// What was refunded, once refunded.
    pub refunded: Option<Money>,
}

/// A new intent: the fields of the create request the simulator needs.
#[derive(Clone, Debug, Default)]
pub struct NewIntent {
    /// The reservation paid for.
    pub reservation_id: String,
    /// The amount to charge.
    pub amount: Option<Money>,
    /// The buyer.
    pub user_id: String,
    /// The method (`payment.v1.PaymentMethod`).
    pub method: i32,
    /// The scenario.
    pub scenario: PaymentScenario,
    /// Makes retries safe; empty means none.
    pub idempotency_key: String,
    /// Client facts.
    pub metadata: Option<traffic_tacos_contracts::payment::v1::PaymentMetadata>,
}

/// Generates an id with `prefix`.
pub fn new_id(prefix: &str) -> String {
    let mut bytes = [0u8; 12];
    rand::rng().fill(&mut bytes);
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("{prefix}_{hex}")
}

fn is_open(status: i32) -> bool {
    status == PaymentStatus::Pending as i32 || status == PaymentStatus::Processing as i32
}

impl Intent {
    fn status(&self) -> PaymentStatus {
        PaymentStatus::try_from(self.payment.status).unwrap_or(PaymentStatus::Unspecified)
    }

    fn set_status(&mut self, status: PaymentStatus) {
        self.payment.status = status as i32;
        self.payment.updated_at = Some(SystemTime::now().into());
    }

    /// Records the provider's answer.
    fn settle(&mut self, approve: bool) {
        let now = SystemTime::now();
        self.payment.processed_at = Some(now.into());
        self.payment.payment_id = new_id("pay");
        self.payment.transaction_id = new_id("txn");
        self.payment.result = Some(PaymentResult {
            success: approve,
            failure_reason: if approve { "" } else { "card declined" }.to_owned(),
            gateway_response: if approve { "approved" } else { "declined" }.to_owned(),
            response_code: if approve { 0 } else { 51 },
            processed_at: Some(now.into()),
        });
        self.set_status(if approve {
            PaymentStatus::Completed
        } else {
            PaymentStatus::Failed
        });
    }

    /// The webhook reporting this intent's current state as `status`.
    pub fn webhook(&self, status: PaymentStatus) -> ReceivePaymentWebhookRequest {
        let (event_type, webhook_status) = match status {
            PaymentStatus::Completed => {
                (PaymentWebhookType::Approved, PaymentWebhookStatus::Success)
            }
            PaymentStatus::Failed => (PaymentWebhookType::Failed, PaymentWebhookStatus::Failed),
            PaymentStatus::Cancelled => (
                PaymentWebhookType::Cancelled,
                PaymentWebhookStatus::Cancelled,
            ),
            PaymentStatus::Refunded => {
                (PaymentWebhookType::Refunded, PaymentWebhookStatus::Refunded)
            }
            PaymentStatus::Expired => (PaymentWebhookType::Failed, PaymentWebhookStatus::Timeout),
            _ => (
                PaymentWebhookType::Pending,
                PaymentWebhookStatus::Unspecified,
            ),
        };
        let payment = &self.payment;
        ReceivePaymentWebhookRequest {
            webhook_id: new_id("wh"),
            event_type: event_type as i32,
            data: Some(PaymentWebhookData {
                payment_intent_id: payment.payment_intent_id.clone(),
                reservation_id: payment.reservation_id.clone(),
                transaction_id: payment.transaction_id.clone(),
                status: webhook_status as i32,
                amount: payment.amount.clone(),
                failure_reason: payment
                    .result
                    .as_ref()
                    .map(|r| r.failure_reason.clone())
                    .unwrap_or_default(),
                metadata: HashMap::from([("user_id".to_owned(), payment.user_id.clone())]),
                processed_at: payment.processed_at,
            }),
            timestamp: None,
            signature: String::new(),
            source: "payment-simulator".to_owned(),
            attempt: 1,
        }
    }
}

impl Simulator {
    /// An empty simulator sending outcome webhooks through `webhooks`.
    pub fn new(config: SimulatorConfig, webhooks: WebhookSender) -> Self {
        Self {
            inner: Arc::new(Inner {
                state: Mutex::default(),
                config,
                webhooks,
            }),
        }
    }

    /// Locks the state.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.inner.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Marks `intent` expired if its time ran out; returns the webhook to send.
    fn lapse(intent: &mut Intent, now: SystemTime) -> Option<ReceivePaymentWebhookRequest> {
        if is_open(intent.payment.status) && intent.expires_at <= now {
            intent.set_status(PaymentStatus::Expired);
            return Some(intent.webhook(PaymentStatus::Expired));
        }
        None
    }

    /// Runs `f` on intent `id`, after lapsing it if due; sends the webhooks `f` and the lapse
    /// produce once the lock is released.
    fn with_intent<R>(
        &self,
        id: &str,
        f: impl FnOnce(&mut Intent) -> Result<(R, Option<PaymentStatus>), Status>,
    ) -> Result<R, Status> {
        if id.trim().is_empty() {
            return Err(errors::invalid(
                "payment_intent_id",
                "payment_intent_id is required",
            ));
        }
        let mut outgoing = Vec::new();
        let result = {
            let mut state = self.lock();
            let intent = state
                .intents
                .get_mut(id)
                .ok_or_else(|| errors::not_found(format!("payment intent {id} not found")))?;
            outgoing.extend(Self::lapse(intent, SystemTime::now()));
            let result = f(intent);
            if let Ok((_, Some(status))) = &result {
                outgoing.push(intent.webhook(*status));
            }
            result
        };
        for webhook in outgoing {
            self.inner.webhooks.send_later(webhook);
        }
        result.map(|(r, _)| r)
    }

    /// Opens an intent and starts its scenario; the same idempotency key returns the same one.
    pub fn create(&self, new: NewIntent) -> Result<Intent, Status> {
        errors::required("reservation_id", &new.reservation_id)?;
        errors::required("user_id", &new.user_id)?;
        let amount = new
            .amount
            .clone()
            .ok_or_else(|| errors::invalid("amount", "an amount is required"))?;
        if amount.amount <= 0 {
            return Err(errors::invalid("amount", "the amount must be above zero"));
        }
        if amount.currency.len() != 3 || !amount.currency.chars().all(|c| c.is_ascii_uppercase()) {
            return Err(errors::invalid(
                "amount.currency",
                "a three-letter upper-case ISO currency code is required",
            ));
        }
        let key = (new.user_id.clone(), new.idempotency_key.clone());
        let now = SystemTime::now();
        let mut state = self.lock();
        if !key.1.is_empty() {
            if let Some(existing) = state.keys.get(&key).and_then(|id| state.intents.get(id)) {
                if existing.payment.reservation_id != new.reservation_id {
                    return Err(errors::status(
                        tacos_runtime::Code::InvalidArgument,
                        ErrorCode::IdempotencyConflict,
                        "this idempotency key was used for another reservation",
                    ));
                }
                return Ok(existing.clone());
            }
        }
        let id = new_id("pi");
        let mut intent = Intent {
            payment: Payment {
                payment_intent_id: id.clone(),
                reservation_id: new.reservation_id,
                user_id: new.user_id,
                status: PaymentStatus::Pending as i32,
                amount: Some(amount),
                method: new.method,
                created_at: Some(now.into()),
                updated_at: Some(now.into()),
                metadata: new.metadata,
                ..Default::default()
            },
            scenario: new.scenario,
            client_secret: new_id("secret"),
            expires_at: now + self.inner.config.intent_ttl,
            refunded: None,
        };
        let mut outcome = None;
        match new.scenario {
            PaymentScenario::Approve => outcome = Some(true),
            PaymentScenario::Fail => outcome = Some(false),
            PaymentScenario::Random => {
                outcome = Some(rand::rng().random_bool(self.inner.config.random_approval))
            }
            PaymentScenario::Delay | PaymentScenario::Timeout => {
                intent.set_status(PaymentStatus::Processing)
            }
            PaymentScenario::Unspecified => {}
        }
        let mut webhook = None;
        if let Some(approve) = outcome {
            intent.settle(approve);
            webhook = Some(intent.webhook(intent.status()));
        }
        if !key.1.is_empty() {
            state.keys.insert(key, id.clone());
        }
        state.intents.insert(id.clone(), intent.clone());
        drop(state);
        if let Some(webhook) = webhook {
            self.inner.webhooks.send_later(webhook);
        }
        match new.scenario {
            PaymentScenario::Delay => self.settle_later(id, self.inner.config.delay, true),
            // The provider never answers: the intent lapses at its expiry, and says so.
            PaymentScenario::Timeout => self.expire_later(id, self.inner.config.intent_ttl),
            _ => {}
        }
        Ok(intent)
    }

    /// Lapses intent `id` once `after` has passed, if it is still open then.
    fn expire_later(&self, id: String, after: Duration) {
        let this = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep(after).await;
            // Touching the intent lapses it and sends the expiry webhook.
            let _ = this.with_intent(&id, |_| Ok(((), None)));
        });
    }

    /// Settles an open intent after `delay`, on the current Tokio runtime.
    fn settle_later(&self, id: String, delay: Duration, approve: bool) {
        let this = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            let settled = this.with_intent(&id, |intent| {
                if !is_open(intent.payment.status) {
                    return Ok(((), None));
                }
                intent.settle(approve);
                Ok(((), Some(intent.status())))
            });
            if let Err(err) = settled {
                tracing::warn!(intent = %id, %err, "delayed settlement failed");
            }
        });
    }

    /// One intent; `user_id`, when not empty, must be its payer.
    pub fn get(&self, id: &str, user_id: &str) -> Result<Intent, Status> {
        self.with_intent(id, |intent| {
            if !user_id.is_empty() && intent.payment.user_id != user_id {
                return Err(errors::forbidden(format!(
                    "payment intent {id} belongs to another user"
                )));
            }
            Ok((intent.clone(), None))
        })
    }

    /// Charges a pending intent (approved unless its scenario is `FAIL`); charging a settled
    /// intent again answers the same without charging twice.
    pub fn process(&self, id: &str) -> Result<Intent, Status> {
        self.with_intent(id, |intent| match intent.status() {
            PaymentStatus::Pending => {
                intent.settle(intent.scenario != PaymentScenario::Fail);
                Ok((intent.clone(), Some(intent.status())))
            }
            PaymentStatus::Completed | PaymentStatus::Failed => Ok((intent.clone(), None)),
            other => Err(errors::precondition(
                ErrorCode::FailedPrecondition,
                format!(
                    "payment intent {id} is not awaiting a charge (it is {})",
                    other.as_str_name()
                ),
            )),
        })
    }

    /// Cancels an open intent, or refunds a completed one (fully, or `refund` when given).
    pub fn cancel(&self, id: &str, refund: Option<Money>) -> Result<Intent, Status> {
        self.with_intent(id, |intent| match intent.status() {
            PaymentStatus::Pending | PaymentStatus::Processing => {
                intent.set_status(PaymentStatus::Cancelled);
                Ok((intent.clone(), Some(PaymentStatus::Cancelled)))
            }
            PaymentStatus::Completed => {
                let paid = intent.payment.amount.clone().unwrap_or_default();
                let refund = refund.unwrap_or_else(|| paid.clone());
                if refund.currency != paid.currency
                    || refund.amount <= 0
                    || refund.amount > paid.amount
                {
                    return Err(errors::invalid(
                        "refund_amount",
                        format!(
                            "a refund is 1 to {} {} in the payment's currency",
                            paid.amount, paid.currency
                        ),
                    ));
                }
                intent.refunded = Some(refund);
                intent.set_status(PaymentStatus::Refunded);
                Ok((intent.clone(), Some(PaymentStatus::Refunded)))
            }
            PaymentStatus::Cancelled | PaymentStatus::Refunded => Ok((intent.clone(), None)),
            other => Err(errors::precondition(
                ErrorCode::FailedPrecondition,
                format!(
                    "payment intent {id} cannot be cancelled (it is {})",
                    other.as_str_name()
                ),
            )),
        })
    }

    /// Payments of a user and/or a reservation, newest first.
    pub fn list(
        &self,
        user_id: &str,
        reservation_id: &str,
        status: PaymentStatus,
    ) -> Result<Vec<Payment>, Status> {
        if user_id.is_empty() && reservation_id.is_empty() {
            return Err(errors::invalid(
                "user_id",
                "a user_id or a reservation_id is required",
            ));
        }
        let state = self.lock();
        let mut found: Vec<Payment> = state
            .intents
            .values()
            .map(|i| &i.payment)
            .filter(|p| user_id.is_empty() || p.user_id == user_id)
            .filter(|p| reservation_id.is_empty() || p.reservation_id == reservation_id)
            .filter(|p| status == PaymentStatus::Unspecified || p.status == status as i32)
            .cloned()
            .collect();
        found.sort_by(|a, b| {
            let at = |p: &Payment| p.created_at.map_or((0, 0), |t| (t.seconds, t.nanos));
            at(b).cmp(&at(a))
        });
        Ok(found)
    }

    /// Sends a webhook reporting `target` for intent `id` after `delay`. An open intent is first
    /// settled to `target` when that is an outcome (completed or failed); a settled intent only
    /// gets a webhook when `force` is set.
    pub fn simulate_webhook(
        &self,
        id: &str,
        target: PaymentStatus,
        delay: Duration,
        force: bool,
    ) -> Result<String, Status> {
        let webhook = self.with_intent(id, |intent| {
            if is_open(intent.payment.status) {
                match target {
                    PaymentStatus::Completed => intent.settle(true),
                    PaymentStatus::Failed => intent.settle(false),
                    _ => {}
                }
            } else if !force {
                return Err(errors::precondition(
                    ErrorCode::FailedPrecondition,
                    format!(
                        "payment intent {id} is already settled; set force_trigger to send anyway"
                    ),
                ));
            }
            Ok((intent.webhook(target), None))
        })?;
        let webhook_id = webhook.webhook_id.clone();
        let sender = self.inner.webhooks.clone();
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            sender.send_later(webhook);
        });
        Ok(webhook_id)
    }
}
