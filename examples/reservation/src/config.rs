//! Start-up configuration of the reservation binary, read from environment variables.
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `SERVER_PORT` | `8010` | REST port |
//! | `GRPC_PORT` | `9010` | gRPC port (equal to `SERVER_PORT` serves both on one port) |
//! | `SERVER_HOST`, `GRPC_ENABLED`, `TACOS_RUNTIME`, `TACOS_THREADS`, `MAX_BODY_BYTES`, `SHUTDOWN_TIMEOUT_SECONDS`, `JSON_FIELD_NAMES`, `JSON_EMIT_UNPOPULATED` | see `tacos_runtime::config` | server settings |
//! | `REDIS_URL` | **required** | the waiting room's Redis, shared with the gateways that admit buyers |
//! | `BACKEND_PAYMENT_GRPC_ADDRESS` | `http://127.0.0.1:9020` (unless an HTTP address is given) | the payment service, asked whether a payment completed before a confirmation |
//! | `BACKEND_PAYMENT_HTTP_ADDRESS`, `BACKEND_PAYMENT_PROTOCOL`, … | gRPC | how the payment service is called (`grpc`, `rest` or `split`); see `tacos_runtime::client::BackendConfig` |
//! | `EVENTS` | unset | comma-separated event ids on sale; unset puts any event id on sale on first use |
//! | `SECTIONS` | `A,B,C` | the sections of every event |
//! | `SEATS_PER_SECTION` | `100` | seats per section |
//! | `SEAT_PRICE` | `50000` | price of one seat in minor units of `CURRENCY` |
//! | `CURRENCY` | `KRW` | ISO currency code |
//! | `HOLD_SECONDS` | `300` | how long a new reservation holds its seats |
//! | `MAX_HOLD_SECONDS` | `900` | the longest a hold may last, extensions included |
//! | `SWEEP_INTERVAL_MS` | `1000` | how often lapsed holds are released in the background |
//!
//! Every variable is checked at start-up and every problem is reported in one message.

use std::time::Duration;

use tacos_runtime::client::{BackendConfig, BackendProtocol};
use tacos_runtime::config::{ConfigProblem, ServerConfig};

/// The seat inventory and the hold rules.
#[derive(Clone, Debug, PartialEq)]
pub struct StoreConfig {
    /// Events on sale; empty puts any event id on sale on first use (the embedded default).
    pub events: Vec<String>,
    /// Section names; every event has all of them.
    pub sections: Vec<String>,
    /// Seats in each section.
    pub seats_per_section: u32,
    /// Price of one seat, in minor units.
    pub seat_price: i64,
    /// ISO currency code of prices.
    pub currency: String,
    /// How long a new reservation holds its seats.
    pub hold: Duration,
    /// The longest a hold may last from its creation, extensions included.
    pub max_hold: Duration,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            events: Vec::new(),
            sections: vec!["A".into(), "B".into(), "C".into()],
            seats_per_section: 100,
            seat_price: 50_000,
            currency: "KRW".into(),
            hold: Duration::from_secs(300),
            max_hold: Duration::from_secs(900),
        }
    }
}

/// Everything the reservation binary needs to start.
#[derive(Clone, Debug)]
pub struct ReservationConfig {
    /// Ports, protocols, runtime layout.
    pub server: ServerConfig,
    /// The waiting room's Redis.
    pub redis_url: String,
    /// How the payment service is reached: over gRPC, REST or both, never in process.
    pub payment_backend: BackendConfig,
    /// Inventory and hold rules.
    pub store: StoreConfig,
    /// How often lapsed holds are released in the background.
    pub sweep_interval: Duration,
}

/// Why the configuration was refused: every bad variable, in one message.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {}", .0.join("; "))]
pub struct ConfigError(pub Vec<String>);

const DEFAULT_SERVER_PORT: &str = "8010";
const DEFAULT_GRPC_PORT: &str = "9010";
/// Where the payment service listens when no address is given (its own default gRPC port).
const DEFAULT_PAYMENT_GRPC_ADDRESS: &str = "http://127.0.0.1:9020";

impl ReservationConfig {
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
                "SERVER_PORT" => Some(DEFAULT_SERVER_PORT.to_owned()),
                "GRPC_PORT" => Some(DEFAULT_GRPC_PORT.to_owned()),
                _ => None,
            })
        });
        let server = match server {
            Ok(server) => Some(server),
            Err(err) => {
                problems.extend(err.problems.iter().map(problem));
                None
            }
        };
        let mut read = Reader {
            get,
            problems: &mut problems,
        };
        let redis_url = match get("REDIS_URL").filter(|v| !v.trim().is_empty()) {
            None => {
                read.problems.push(
                    "REDIS_URL is required: the waiting room's Redis, shared with the gateway"
                        .to_owned(),
                );
                None
            }
            Some(v) => read.check("REDIS_URL", v, "a redis:// or rediss:// url", |v| {
                v.starts_with("redis://") || v.starts_with("rediss://")
            }),
        };
        let payment_backend = read_payment_backend(get, read.problems);
        let store = read_store(&mut read);
        let sweep_interval = read
            .value("SWEEP_INTERVAL_MS", "milliseconds above 0", |v| {
                v.parse::<u64>().is_ok_and(|n| n > 0)
            })
            .and_then(|v| v.parse().ok())
            .map_or(Duration::from_secs(1), Duration::from_millis);
        match (server, redis_url, payment_backend) {
            (Some(server), Some(redis_url), Some(payment_backend)) if problems.is_empty() => {
                Ok(Self {
                    server,
                    redis_url,
                    payment_backend,
                    store,
                    sweep_interval,
                })
            }
            _ => Err(ConfigError(problems)),
        }
    }
}

/// Reads `BACKEND_PAYMENT_*`; with no address at all, the payment service's default gRPC
/// address. The standalone binary has no payment handler of its own, so `local` is refused.
fn read_payment_backend(
    get: &dyn Fn(&str) -> Option<String>,
    problems: &mut Vec<String>,
) -> Option<BackendConfig> {
    let with_default = |name: &str| {
        get(name).or_else(|| {
            let no_address = get("BACKEND_PAYMENT_HTTP_ADDRESS").is_none();
            (name == "BACKEND_PAYMENT_GRPC_ADDRESS" && no_address)
                .then(|| DEFAULT_PAYMENT_GRPC_ADDRESS.to_owned())
        })
    };
    match BackendConfig::from_lookup("payment", &with_default) {
        Ok(backend) if backend.protocol == BackendProtocol::Local => {
            problems.push(
                "BACKEND_PAYMENT_PROTOCOL=\"local\": expected grpc, rest or split (this binary \
                 reaches the payment service over the network)"
                    .to_owned(),
            );
            None
        }
        Ok(backend) => Some(backend),
        Err(err) => {
            problems.extend(err.problems.iter().map(problem));
            None
        }
    }
}

/// One variable's problem as the start-up message words it.
fn problem(p: &ConfigProblem) -> String {
    format!("{}={:?}: expected {}", p.var, p.value, p.expected)
}

/// Reads the inventory variables; problems go to `read`.
fn read_store(read: &mut Reader<'_>) -> StoreConfig {
    let mut store = StoreConfig::default();
    let names = |v: &str| v.split(',').all(|s| !s.trim().is_empty());
    let list = |v: String| v.split(',').map(|s| s.trim().to_owned()).collect();
    if let Some(v) = read.value("EVENTS", "comma-separated event ids", names) {
        store.events = list(v);
    }
    if let Some(v) = read.value("SECTIONS", "comma-separated section names", names) {
        store.sections = list(v);
    }
    let count = |v: &str| v.parse::<u32>().is_ok_and(|n| (1..=100_000).contains(&n));
    if let Some(v) = read.value("SEATS_PER_SECTION", "a count from 1 to 100000", count) {
        store.seats_per_section = v.parse().unwrap_or(store.seats_per_section);
    }
    if let Some(v) = read.value("SEAT_PRICE", "a price in minor units, 0 or more", |v| {
        v.parse::<i64>().is_ok_and(|n| n >= 0)
    }) {
        store.seat_price = v.parse().unwrap_or(store.seat_price);
    }
    if let Some(v) = read.value("CURRENCY", "a three-letter currency code", |v| {
        v.len() == 3 && v.chars().all(|c| c.is_ascii_alphabetic())
    }) {
        store.currency = v.to_ascii_uppercase();
    }
    let secs = |v: &str| v.parse::<u64>().is_ok_and(|n| n > 0);
    if let Some(v) = read.value("HOLD_SECONDS", "whole seconds above 0", secs) {
        store.hold = Duration::from_secs(v.parse().unwrap_or(300));
    }
    if let Some(v) = read.value("MAX_HOLD_SECONDS", "whole seconds above 0", secs) {
        store.max_hold = Duration::from_secs(v.parse().unwrap_or(900));
    }
    if store.max_hold < store.hold {
        read.problems.push(format!(
            "MAX_HOLD_SECONDS={}: expected at least HOLD_SECONDS ({})",
            store.max_hold.as_secs(),
            store.hold.as_secs()
        ));
    }
    store
}

struct Reader<'a> {
    get: &'a dyn Fn(&str) -> Option<String>,
    problems: &'a mut Vec<String>,
}

impl Reader<'_> {
    /// The trimmed value of `name` if set and valid; a problem if set and invalid.
    fn value(&mut self, name: &str, expected: &str, ok: impl Fn(&str) -> bool) -> Option<String> {
        let value = (self.get)(name).filter(|v| !v.trim().is_empty())?;
        self.check(name, value, expected, ok)
    }

    fn check(
        &mut self,
        name: &str,
        value: String,
        expected: &str,
        ok: impl Fn(&str) -> bool,
    ) -> Option<String> {
        let value = value.trim().to_owned();
        if ok(&value) {
            Some(value)
        } else {
            self.problems
                .push(format!("{name}={value:?}: expected {expected}"));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn from(pairs: &[(&str, &str)]) -> Result<ReservationConfig, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        ReservationConfig::from_lookup(&|name| map.get(name).cloned())
    }

    #[test]
    fn defaults_need_only_redis() {
        let config = from(&[("REDIS_URL", "redis://127.0.0.1:6379/")]).unwrap();
        assert_eq!(config.server.server_port, 8010);
        assert_eq!(config.server.grpc_port, 9010);
        assert_eq!(config.store, StoreConfig::default());
        assert_eq!(config.sweep_interval, Duration::from_secs(1));
        assert_eq!(config.payment_backend.protocol, BackendProtocol::Grpc);
        assert_eq!(
            config.payment_backend.grpc_address.as_deref(),
            Some(DEFAULT_PAYMENT_GRPC_ADDRESS)
        );
    }

    #[test]
    fn the_payment_service_can_be_reached_over_rest_but_not_in_process() {
        let config = from(&[
            ("REDIS_URL", "redis://r/"),
            ("BACKEND_PAYMENT_HTTP_ADDRESS", "http://payment:8020"),
        ])
        .unwrap();
        assert_eq!(config.payment_backend.protocol, BackendProtocol::Rest);
        assert_eq!(config.payment_backend.grpc_address, None);
        let err = from(&[
            ("REDIS_URL", "redis://r/"),
            ("BACKEND_PAYMENT_PROTOCOL", "local"),
        ])
        .unwrap_err()
        .to_string();
        assert!(err.contains("BACKEND_PAYMENT_PROTOCOL"), "{err}");
    }

    #[test]
    fn a_missing_redis_url_is_named() {
        let err = from(&[]).unwrap_err().to_string();
        assert!(err.contains("REDIS_URL is required"), "{err}");
    }

    #[test]
    fn every_bad_variable_is_reported_at_once() {
        let err = from(&[
            ("REDIS_URL", "localhost:6379"),
            ("SERVER_PORT", "http"),
            ("SEATS_PER_SECTION", "0"),
            ("HOLD_SECONDS", "soon"),
            ("BACKEND_PAYMENT_GRPC_PERCENT", "150"),
        ])
        .unwrap_err()
        .to_string();
        for name in [
            "REDIS_URL",
            "SERVER_PORT",
            "SEATS_PER_SECTION",
            "HOLD_SECONDS",
            "BACKEND_PAYMENT_GRPC_PERCENT",
        ] {
            assert!(err.contains(name), "{name} missing from {err}");
        }
    }

    #[test]
    fn a_hold_longer_than_the_maximum_is_refused() {
        let err = from(&[
            ("REDIS_URL", "redis://r/"),
            ("HOLD_SECONDS", "600"),
            ("MAX_HOLD_SECONDS", "60"),
        ])
        .unwrap_err()
        .to_string();
        assert!(err.contains("MAX_HOLD_SECONDS"), "{err}");
    }
}
