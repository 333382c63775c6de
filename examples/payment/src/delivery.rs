//! Delivers signed payment webhooks to the gateway, retrying with backoff.
//!
//! Each outcome becomes one webhook with a fixed `webhook_id`; every attempt is signed afresh
//! (its own timestamp and `attempt` number) and posted as the canonical JSON body. A 2xx answer
//! ends the delivery; a 4xx other than 408 and 429 means the receiver refused the content and a
//! retry cannot help; anything else (5xx, timeouts, refused connections) is retried after an
//! exponentially growing, jittered pause, up to a bounded number of attempts.

use std::time::Duration;

use rand::Rng as _;
use traffic_tacos_contracts::gateway::v1::ReceivePaymentWebhookRequest;

use crate::signature::{canonical_body, unix_now, WebhookSecret, SIGNATURE_HEADER};

/// Where and how webhooks are delivered.
#[derive(Clone, Debug)]
pub struct DeliveryConfig {
    /// The receiver, e.g. `http://127.0.0.1:8000/api/v1/webhooks/payment`; `None` sends nothing.
    pub url: Option<String>,
    /// The shared signing secret.
    pub secret: WebhookSecret,
    /// Attempts per webhook, the first included.
    pub max_attempts: u32,
    /// The pause before the second attempt; doubles each time, capped at [`MAX_BACKOFF`].
    pub initial_backoff: Duration,
    /// The timeout of one attempt.
    pub attempt_timeout: Duration,
}

/// The longest pause between two attempts.
pub const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// How one webhook's delivery ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Delivery {
    /// The receiver accepted it on this attempt.
    Delivered {
        /// The accepting attempt, from 1.
        attempt: u32,
    },
    /// The receiver refused it with this HTTP status; not retried.
    Refused {
        /// The HTTP status.
        status: u16,
    },
    /// Every attempt failed; the last failure is described.
    GaveUp {
        /// Attempts made.
        attempts: u32,
        /// The last failure.
        last_error: String,
    },
    /// No receiver is configured.
    Disabled,
}

/// Sends webhooks; clones share one connection pool.
#[derive(Clone, Debug)]
pub struct WebhookSender {
    config: DeliveryConfig,
    client: reqwest::Client,
}

impl WebhookSender {
    /// A sender with `config`.
    pub fn new(config: DeliveryConfig) -> Self {
        let client = reqwest::Client::builder()
            .timeout(config.attempt_timeout)
            .build()
            .unwrap_or_default();
        Self { config, client }
    }

    /// Delivers `webhook` in a background task on the current Tokio runtime.
    pub fn send_later(&self, webhook: ReceivePaymentWebhookRequest) {
        if self.config.url.is_none() {
            return;
        }
        let this = self.clone();
        tokio::spawn(async move {
            let id = webhook.webhook_id.clone();
            match this.deliver(webhook).await {
                Delivery::Delivered { attempt } => {
                    tracing::debug!(webhook = %id, attempt, "webhook delivered")
                }
                other => tracing::warn!(webhook = %id, outcome = ?other, "webhook not delivered"),
            }
        });
    }

    /// Delivers `webhook` now, retrying as configured, and reports how it ended.
    pub async fn deliver(&self, mut webhook: ReceivePaymentWebhookRequest) -> Delivery {
        let Some(url) = &self.config.url else {
            return Delivery::Disabled;
        };
        let attempts = self.config.max_attempts.max(1);
        let mut last_error = String::new();
        for attempt in 1..=attempts {
            if attempt > 1 {
                tokio::time::sleep(self.backoff(attempt - 1)).await;
            }
            webhook.attempt = attempt as i32;
            let timestamp = unix_now();
            webhook.timestamp = Some(prost_types::Timestamp {
                seconds: timestamp as i64,
                nanos: 0,
            });
            let body = canonical_body(&webhook);
            let signature = self.config.secret.sign(timestamp, &body);
            let sent = self
                .client
                .post(url)
                .header("content-type", "application/json")
                .header(SIGNATURE_HEADER, signature)
                .body(body)
                .send()
                .await;
            match sent {
                Ok(response) if response.status().is_success() => {
                    return Delivery::Delivered { attempt }
                }
                Ok(response) => {
                    let status = response.status().as_u16();
                    if is_permanent(status) {
                        return Delivery::Refused { status };
                    }
                    last_error = format!("HTTP {status}");
                }
                Err(err) => last_error = err.to_string(),
            }
        }
        Delivery::GaveUp {
            attempts,
            last_error,
        }
    }

    /// The pause after `failures` failed attempts: doubling, capped, with up to 50 % jitter so
    /// many senders do not retry in lockstep.
    fn backoff(&self, failures: u32) -> Duration {
        let base = self
            .config
            .initial_backoff
            .saturating_mul(1u32 << failures.saturating_sub(1).min(16))
            .min(MAX_BACKOFF);
        let jitter = rand::rng().random_range(0.5..=1.0);
        base.mul_f64(jitter)
    }
}

/// A 4xx the receiver will answer again: its content or credentials are wrong.
fn is_permanent(status: u16) -> bool {
    (400..500).contains(&status) && status != 408 && status != 429
}
