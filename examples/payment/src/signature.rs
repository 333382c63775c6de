//! Webhook signatures, shared by the sender (this payment service) and the receiver (the
//! gateway's `WebhookService`).
//!
//! The signed text is `"<unix seconds>.<body>"` and the signature is its HMAC-SHA256 under a
//! shared secret, sent as `X-Tacos-Signature: t=<unix seconds>,v1=<lower-case hex>`. The body
//! is the *canonical* JSON of the webhook message ([`canonical_body`]): proto3 JSON with object
//! keys sorted and the message's own `signature` field empty. The sender posts exactly those
//! bytes; the receiver decodes the message (over REST or gRPC alike), rebuilds the canonical
//! bytes and compares signatures in constant time. Any change to any field breaks the match.
//!
//! A signature older or newer than [`REPLAY_WINDOW`] is refused, so a captured webhook cannot be
//! replayed later; within the window the receiver deduplicates by `webhook_id`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use sha2::Sha256;
use traffic_tacos_contracts::gateway::v1::ReceivePaymentWebhookRequest;

/// The header carrying the signature (lower-case, as HTTP/2 and the runtime's metadata see it).
pub const SIGNATURE_HEADER: &str = "x-tacos-signature";

/// How far a signature's timestamp may be from the receiver's clock, either way.
pub const REPLAY_WINDOW: Duration = Duration::from_secs(5 * 60);

/// The shortest secret accepted.
pub const MIN_SECRET_BYTES: usize = 32;

/// The secret used when none is configured outside production. Never use it in production.
pub const DEVELOPMENT_SECRET: &str = "traffic-tacos-development-webhook-secret-not-for-production";

/// A shared webhook secret of at least [`MIN_SECRET_BYTES`] bytes.
#[derive(Clone)]
pub struct WebhookSecret(Vec<u8>);

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookSecret(..)")
    }
}

/// Why a secret or a signature was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The secret is too short to resist guessing.
    #[error("the webhook secret must be at least {MIN_SECRET_BYTES} bytes, got {0}")]
    SecretTooShort(usize),
    /// No signature came with the webhook.
    #[error("the webhook carries no signature")]
    Missing,
    /// The signature is not `t=<unix seconds>,v1=<hex>`.
    #[error("the webhook signature is malformed: expected t=<unix seconds>,v1=<hex>")]
    Malformed,
    /// The signature's timestamp is outside the replay window.
    #[error("the webhook timestamp is {skew_seconds} s away from now, outside the {window_seconds} s window")]
    Stale {
        /// Distance from the receiver's clock.
        skew_seconds: u64,
        /// The allowed distance.
        window_seconds: u64,
    },
    /// The signature does not match the body.
    #[error("the webhook signature does not match its content")]
    Mismatch,
}

impl WebhookSecret {
    /// A secret from raw bytes; refused when shorter than [`MIN_SECRET_BYTES`].
    pub fn new(bytes: impl Into<Vec<u8>>) -> Result<Self, SignatureError> {
        let bytes = bytes.into();
        if bytes.len() < MIN_SECRET_BYTES {
            return Err(SignatureError::SecretTooShort(bytes.len()));
        }
        Ok(Self(bytes))
    }

    /// The development secret, [`DEVELOPMENT_SECRET`].
    pub fn development() -> Self {
        Self(DEVELOPMENT_SECRET.as_bytes().to_vec())
    }

    /// The secret from the variable `PAYMENT_WEBHOOK_SECRET` read through `get`: required in
    /// production (`TACOS_ENV=production`), the development secret otherwise when unset.
    /// Errors name the variable.
    pub fn from_lookup(get: &dyn Fn(&str) -> Option<String>) -> Result<Self, String> {
        let production = get("TACOS_ENV").is_some_and(|v| v.trim() == "production");
        match get("PAYMENT_WEBHOOK_SECRET").filter(|v| !v.is_empty()) {
            Some(value) => {
                Self::new(value.into_bytes()).map_err(|e| format!("PAYMENT_WEBHOOK_SECRET: {e}"))
            }
            None if production => {
                Err("PAYMENT_WEBHOOK_SECRET is required when TACOS_ENV=production".to_owned())
            }
            None => Ok(Self::development()),
        }
    }

    /// Whether this is the well-known development secret.
    pub fn is_development(&self) -> bool {
        self.0 == DEVELOPMENT_SECRET.as_bytes()
    }

    fn mac(&self, timestamp: u64, body: &[u8]) -> Hmac<Sha256> {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC accepts keys of any length");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        mac
    }

    /// The header value signing `body` at `timestamp` (unix seconds).
    pub fn sign(&self, timestamp: u64, body: &[u8]) -> String {
        let tag = self.mac(timestamp, body).finalize().into_bytes();
        let hex: String = tag.iter().map(|b| format!("{b:02x}")).collect();
        format!("t={timestamp},v1={hex}")
    }

    /// Checks `header` against `body` at time `now`; returns the signed timestamp.
    pub fn verify(
        &self,
        header: &str,
        body: &[u8],
        now: SystemTime,
    ) -> Result<u64, SignatureError> {
        let (timestamp, tag) = parse(header)?;
        let now = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let skew = now.abs_diff(timestamp);
        if skew > REPLAY_WINDOW.as_secs() {
            return Err(SignatureError::Stale {
                skew_seconds: skew,
                window_seconds: REPLAY_WINDOW.as_secs(),
            });
        }
        // `verify_slice` compares in constant time.
        self.mac(timestamp, body)
            .verify_slice(&tag)
            .map_err(|_| SignatureError::Mismatch)?;
        Ok(timestamp)
    }
}

/// Splits `t=<unix>,v1=<hex>` (parts in any order, unknown parts ignored for future versions).
fn parse(header: &str) -> Result<(u64, Vec<u8>), SignatureError> {
    if header.trim().is_empty() {
        return Err(SignatureError::Missing);
    }
    let mut timestamp = None;
    let mut tag = None;
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => timestamp = v.parse::<u64>().ok(),
            Some(("v1", v)) => tag = decode_hex(v),
            _ => {}
        }
    }
    match (timestamp, tag) {
        (Some(t), Some(tag)) if tag.len() == 32 => Ok((t, tag)),
        _ => Err(SignatureError::Malformed),
    }
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// The canonical bytes of a payment webhook: its proto3 JSON with object keys sorted, and the
/// `signature` field empty.
pub fn canonical_body(webhook: &ReceivePaymentWebhookRequest) -> Vec<u8> {
    canonical_json(&ReceivePaymentWebhookRequest {
        signature: String::new(),
        ..webhook.clone()
    })
}

/// The canonical bytes of any message: its proto3 JSON with object keys sorted.
pub fn canonical_json<T: serde::Serialize>(message: &T) -> Vec<u8> {
    let json = tacos_runtime::json::to_vec(message).expect("a message always encodes");
    let value: serde_json::Value =
        serde_json::from_slice(&json).expect("the runtime writes valid JSON");
    serde_json::to_vec(&sorted(value)).expect("a JSON value always encodes")
}

/// `value` with every object's keys in order, whatever map type `serde_json` was built with.
fn sorted(value: serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Object(map) => {
            let mut entries: Vec<(String, serde_json::Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            serde_json::Value::Object(entries.into_iter().map(|(k, v)| (k, sorted(v))).collect())
        }
        serde_json::Value::Array(items) => {
            serde_json::Value::Array(items.into_iter().map(sorted).collect())
        }
        other => other,
    }
}

/// Seconds since the Unix epoch, now.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret() -> WebhookSecret {
        WebhookSecret::new(vec![7u8; 32]).unwrap()
    }

    #[test]
    fn a_signature_verifies_and_any_change_breaks_it() {
        let now = SystemTime::now();
        let t = unix_now();
        let header = secret().sign(t, b"{\"a\":1}");
        assert_eq!(secret().verify(&header, b"{\"a\":1}", now), Ok(t));
        assert_eq!(
            secret().verify(&header, b"{\"a\":2}", now),
            Err(SignatureError::Mismatch)
        );
        let other = WebhookSecret::new(vec![8u8; 32]).unwrap();
        assert_eq!(
            other.verify(&header, b"{\"a\":1}", now),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn old_and_future_timestamps_are_refused() {
        let now = SystemTime::now();
        for t in [unix_now() - 301, unix_now() + 301] {
            let header = secret().sign(t, b"x");
            assert!(matches!(
                secret().verify(&header, b"x", now),
                Err(SignatureError::Stale { .. })
            ));
        }
    }

    #[test]
    fn malformed_headers_and_short_secrets_are_refused() {
        let now = SystemTime::now();
        for header in ["t=1", "v1=00", "t=x,v1=zz", "t=1,v1=abc"] {
            assert_eq!(
                secret().verify(header, b"x", now),
                Err(SignatureError::Malformed),
                "{header}"
            );
        }
        assert_eq!(secret().verify("", b"x", now), Err(SignatureError::Missing));
        assert_eq!(
            WebhookSecret::new(b"short".to_vec()).unwrap_err(),
            SignatureError::SecretTooShort(5)
        );
    }

    #[test]
    fn the_canonical_body_ignores_map_order_and_the_signature_field() {
        use traffic_tacos_contracts::gateway::v1::PaymentWebhookData;
        let mut data = PaymentWebhookData::default();
        for i in 0..20 {
            data.metadata.insert(format!("k{i}"), format!("v{i}"));
        }
        let a = ReceivePaymentWebhookRequest {
            webhook_id: "wh_1".into(),
            data: Some(data.clone()),
            ..Default::default()
        };
        let mut rebuilt = PaymentWebhookData::default();
        for i in (0..20).rev() {
            rebuilt.metadata.insert(format!("k{i}"), format!("v{i}"));
        }
        let b = ReceivePaymentWebhookRequest {
            data: Some(rebuilt),
            signature: "t=1,v1=00".into(),
            ..a.clone()
        };
        assert_eq!(canonical_body(&a), canonical_body(&b));
    }

    #[test]
    fn production_requires_a_configured_secret() {
        let prod = |name: &str| (name == "TACOS_ENV").then(|| "production".to_owned());
        let err = WebhookSecret::from_lookup(&prod).unwrap_err();
        assert!(err.contains("PAYMENT_WEBHOOK_SECRET"), "{err}");
        assert!(WebhookSecret::from_lookup(&|_| None).is_ok());
        let short = |name: &str| (name == "PAYMENT_WEBHOOK_SECRET").then(|| "abc".to_owned());
        assert!(WebhookSecret::from_lookup(&short)
            .unwrap_err()
            .contains("PAYMENT_WEBHOOK_SECRET"));
    }
}
