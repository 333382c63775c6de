//! Start-up configuration of the payment binary, read from environment variables.
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `SERVER_PORT` | `8020` | REST port |
//! | `GRPC_PORT` | `9020` | gRPC port (equal to `SERVER_PORT` serves both on one port) |
//! | `SERVER_HOST`, `GRPC_ENABLED`, `TACOS_RUNTIME`, `TACOS_THREADS`, `MAX_BODY_BYTES`, `SHUTDOWN_TIMEOUT_SECONDS`, `JSON_FIELD_NAMES`, `JSON_EMIT_UNPOPULATED` | see `tacos_runtime::config` | server settings |
//! | `PAYMENT_WEBHOOK_URL` | `http://127.0.0.1:8000/api/v1/webhooks/payment` | where outcome webhooks go; `off` sends none |
//! | `PAYMENT_WEBHOOK_SECRET` | development secret unless `TACOS_ENV=production` | shared HMAC secret, at least 32 bytes |
//! | `TACOS_ENV` | unset | `production` makes `PAYMENT_WEBHOOK_SECRET` required |
//! | `WEBHOOK_MAX_ATTEMPTS` | `5` | delivery attempts per webhook, 1 to 20 |
//! | `WEBHOOK_INITIAL_BACKOFF_MS` | `200` | pause before the first retry; doubles each retry, at most 30 s |
//! | `WEBHOOK_TIMEOUT_MS` | `3000` | timeout of one delivery attempt |
//! | `PAYMENT_DELAY_MS` | `2000` | how long the `DELAY` scenario takes to approve |
//! | `PAYMENT_RANDOM_APPROVAL` | `0.5` | the chance that the `RANDOM` scenario approves |
//! | `PAYMENT_INTENT_TTL_SECONDS` | `900` | how long an intent stays payable |
//!
//! Every variable is checked at start-up and every problem is reported in one message.

use std::time::Duration;

use tacos_runtime::config::ServerConfig;

use crate::delivery::DeliveryConfig;
use crate::signature::WebhookSecret;
use crate::simulator::SimulatorConfig;

/// The default receiver: the gateway on its default REST port.
pub const DEFAULT_WEBHOOK_URL: &str = "http://127.0.0.1:8000/api/v1/webhooks/payment";

/// Everything the payment binary needs to start.
#[derive(Clone, Debug)]
pub struct PaymentConfig {
    /// Ports, protocols, runtime layout.
    pub server: ServerConfig,
    /// Scenario behaviour.
    pub simulator: SimulatorConfig,
    /// Webhook delivery.
    pub delivery: DeliveryConfig,
}

/// Why the configuration was refused: every bad variable, in one message.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {}", .0.join("; "))]
pub struct ConfigError(pub Vec<String>);

impl PaymentConfig {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(&|name| std::env::var(name).ok())
    }

    /// Reads variables through `get` (tests pass a map).
    pub fn from_lookup(get: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let mut problems = Vec::new();
        // This service's ports differ from the gateway's so both run side by side.
        let server = ServerConfig::from_lookup(&|name| {
            get(name).or_else(|| match name {
                "SERVER_PORT" => Some("8020".to_owned()),
                "GRPC_PORT" => Some("9020".to_owned()),
                _ => None,
            })
        })
        .map_err(|err| {
            problems.extend(
                err.problems
                    .iter()
                    .map(|p| format!("{}={:?}: expected {}", p.var, p.value, p.expected)),
            )
        })
        .ok();
        let secret = WebhookSecret::from_lookup(get)
            .map_err(|e| problems.push(e))
            .ok();
        let mut read = |name: &str, expected: &str, ok: &dyn Fn(&str) -> bool| {
            let value = get(name).filter(|v| !v.trim().is_empty())?;
            let value = value.trim().to_owned();
            if ok(&value) {
                Some(value)
            } else {
                problems.push(format!("{name}={value:?}: expected {expected}"));
                None
            }
        };
        let url = match read("PAYMENT_WEBHOOK_URL", "an http(s):// url or `off`", &|v| {
            v == "off" || v.starts_with("http://") || v.starts_with("https://")
        }) {
            Some(v) if v == "off" => None,
            Some(v) => Some(v),
            None => Some(DEFAULT_WEBHOOK_URL.to_owned()),
        };
        let number = |lo: u64, hi: u64| {
            move |v: &str| v.parse::<u64>().is_ok_and(|n| (lo..=hi).contains(&n))
        };
        let max_attempts = read("WEBHOOK_MAX_ATTEMPTS", "1 to 20", &number(1, 20))
            .map_or(5, |v| v.parse().unwrap_or(5));
        let initial_backoff = read(
            "WEBHOOK_INITIAL_BACKOFF_MS",
            "milliseconds, 1 to 60000",
            &number(1, 60_000),
        )
        .map_or(200, |v| v.parse().unwrap_or(200));
        let attempt_timeout = read(
            "WEBHOOK_TIMEOUT_MS",
            "milliseconds, 1 to 60000",
            &number(1, 60_000),
        )
        .map_or(3000, |v| v.parse().unwrap_or(3000));
        let delay = read(
            "PAYMENT_DELAY_MS",
            "milliseconds, 0 to 600000",
            &number(0, 600_000),
        )
        .map_or(2000, |v| v.parse().unwrap_or(2000));
        let random_approval = read(
            "PAYMENT_RANDOM_APPROVAL",
            "a probability from 0 to 1",
            &|v| v.parse::<f64>().is_ok_and(|p| (0.0..=1.0).contains(&p)),
        )
        .map_or(0.5, |v| v.parse().unwrap_or(0.5));
        let intent_ttl = read(
            "PAYMENT_INTENT_TTL_SECONDS",
            "seconds, 1 to 86400",
            &number(1, 86_400),
        )
        .map_or(900, |v| v.parse().unwrap_or(900));
        match (server, secret) {
            (Some(server), Some(secret)) if problems.is_empty() => Ok(Self {
                server,
                simulator: SimulatorConfig {
                    delay: Duration::from_millis(delay),
                    random_approval,
                    intent_ttl: Duration::from_secs(intent_ttl),
                },
                delivery: DeliveryConfig {
                    url,
                    secret,
                    max_attempts,
                    initial_backoff: Duration::from_millis(initial_backoff),
                    attempt_timeout: Duration::from_millis(attempt_timeout),
                },
            }),
            _ => Err(ConfigError(problems)),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn from(pairs: &[(&str, &str)]) -> Result<PaymentConfig, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        PaymentConfig::from_lookup(&|name| map.get(name).cloned())
    }

    #[test]
    fn defaults_start_a_development_simulator() {
        let config = from(&[]).unwrap();
        assert_eq!(config.server.server_port, 8020);
        assert_eq!(config.server.grpc_port, 9020);
        assert_eq!(config.delivery.url.as_deref(), Some(DEFAULT_WEBHOOK_URL));
        assert_eq!(config.delivery.max_attempts, 5);
        assert_eq!(config.simulator, SimulatorConfig::default());
    }

    #[test]
    fn every_bad_variable_is_reported_at_once() {
        let err = from(&[
            ("TACOS_ENV", "production"),
            ("GRPC_PORT", "x"),
            ("WEBHOOK_MAX_ATTEMPTS", "0"),
            ("PAYMENT_RANDOM_APPROVAL", "2"),
            ("PAYMENT_WEBHOOK_URL", "gateway:8000"),
        ])
        .unwrap_err()
        .to_string();
        for name in [
            "PAYMENT_WEBHOOK_SECRET",
            "GRPC_PORT",
            "WEBHOOK_MAX_ATTEMPTS",
            "PAYMENT_RANDOM_APPROVAL",
            "PAYMENT_WEBHOOK_URL",
        ] {
            assert!(err.contains(name), "{name} missing from {err}");
        }
    }

    #[test]
    fn webhooks_can_be_switched_off() {
        let config = from(&[("PAYMENT_WEBHOOK_URL", "off")]).unwrap();
        assert!(config.delivery.url.is_none());
    }
}
