//! The gateway's start-up configuration, read from environment variables.
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `SERVER_PORT` | `8000` | REST port |
//! | `GRPC_PORT` | `9090` | gRPC port (equal to `SERVER_PORT` serves both on one port) |
//! | `GRPC_ENABLED` | `true` | serve gRPC at all |
//! | `SERVER_HOST`, `TACOS_RUNTIME`, `TACOS_THREADS`, `MAX_BODY_BYTES`, `SHUTDOWN_TIMEOUT_SECONDS` | see `tacos_runtime::config` | server settings |
//! | `JSON_FIELD_NAMES` | `proto` | REST output field names: `proto` (snake_case, what Traffic Tacos web clients read) or `json` (lowerCamel) |
//! | `JSON_EMIT_UNPOPULATED` | `false` | REST output prints every field without presence, even at its default |
//! | `REDIS_URL` | unset | the waiting room's Redis (`redis://host:port/db`); unset keeps the queues in this process |
//! | `QUEUE_BUCKET_CAPACITY` | `100` | admissions that may be granted at once per event |
//! | `QUEUE_REFILL_PER_SECOND` | `50` | sustained admissions per second per event |
//! | `QUEUE_ADMISSION_WINDOW` | `100` | users at the head of a queue who may ask for admission |
//! | `QUEUE_HEARTBEAT_SECONDS` | `60` | a waiting user who neither polls nor watches this long is dropped |
//! | `RESERVATION_TOKEN_TTL_SECONDS` | `300` | how long an admission's reservation token is valid |
//! | `QUEUE_EVENTS` | unset | per-event overrides: `evt1:capacity=10,refill=5,window=20,heartbeat=30,token_ttl=120;evt2:...` |
//! | `HOLD_SECONDS` | `300` | how long a reservation holds its seats unless confirmed |
//! | `SECTIONS` | `A,B,C` | the sections every event's in-memory inventory has |
//! | `SEATS_PER_SECTION` | `100` | seats per section |
//! | `SEAT_PRICE` | `50000` | price of one seat in minor units of `CURRENCY` |
//! | `CURRENCY` | `KRW` | currency of prices |
//! | `PAYMENT_DELAY_MS` | `2000` | how long the `delay` payment scenario takes to approve |
//! | `TACOS_ENV` | unset | `production` refuses development defaults (the token secret below, auth bypasses) |
//! | `JWT_SECRET`, `JWT_JWKS_URL`, `JWT_*`, `AUTH_*` | development secret | bearer-token verification (see `tacos_runtime::auth`); with neither key set outside production, tokens are checked against [`DEVELOPMENT_SECRET`](crate::token::DEVELOPMENT_SECRET) |
//! | `RATE_LIMIT_<CLASS>`, `RATE_LIMIT_DEFAULT`, `RATE_LIMIT_STORE` | unlimited, memory | rate limits per class: `queue-join`, `queue-poll`, `queue-admission`, `browse`, `reserve`, `pay` (see `tacos_runtime::rate_limit`) |
//! | `IDEMPOTENCY_STORE`, `IDEMPOTENCY_TTL_SECONDS`, `IDEMPOTENCY_*` | memory, 86400 | `Idempotency-Key` replays (see `tacos_runtime::idempotency`) |
//! | `LOG_FORMAT`, `LOG_LEVEL` | `text`, `info` | logs (`json` for one JSON object per line); see `tacos_runtime::telemetry` |
//! | `BACKEND_RESERVATION_*`, `BACKEND_PAYMENT_*`, `CLIENT_*`, `GRPC_USE_TLS`, `GRPC_CA_FILE` | in process | where the reservation and payment services run and how they are called; see `tacos_runtime::client::BackendConfig` |
//! | `PAYMENT_WEBHOOK_URL` | this gateway's REST address | where the in-process payment simulator sends its webhooks |
//! | `PAYMENT_WEBHOOK_SECRET` | development secret | shared HMAC secret of payment webhooks |
//! | `QUEUE_PAGE_NEXT_URL` | `/queue/{event_id}/admitted` | where the waiting-room page sends admitted buyers (`{event_id}` is replaced; `event_id` and `reservation_token` are added to the query) |
//!
//! Every variable is checked at start-up and all problems are reported together.

use std::time::Duration;

use tacos_runtime::client::BackendConfig;
use tacos_runtime::config::{ConfigError, ServerConfig};
use tacos_runtime::server::PolicyConfig;
use tacos_runtime::waiting_room::EventConfig;

/// Everything the gateway needs to start.
#[derive(Clone, Debug)]
pub struct GatewayConfig {
    /// Ports, protocols, runtime layout, JSON naming.
    pub server: ServerConfig,
    /// The waiting room's Redis; `None` keeps the queues in memory.
    pub redis_url: Option<String>,
    /// Admission settings of events without settings of their own.
    pub admission: EventConfig,
    /// Per-event admission settings.
    pub event_admission: Vec<(String, EventConfig)>,
    /// The in-memory inventory of every event and the reservation rules.
    pub inventory: InventoryConfig,
    /// Auth, rate limits and idempotency keys.
    pub policies: PolicyConfig,
    /// Whether tokens are checked against the public development secret.
    pub development_secret: bool,
    /// Where the reservation service runs; in this process unless configured.
    pub reservation_backend: BackendConfig,
    /// Where the payment service runs; in this process unless configured.
    pub payment_backend: BackendConfig,
    /// Where the in-process payment simulator sends webhooks; `None` means this gateway's own
    /// REST port on the loopback address.
    pub payment_webhook_url: Option<String>,
    /// Where the waiting-room page sends admitted buyers (see [`crate::page`]).
    pub queue_page_next_url: String,
}

/// The rate classes the gateway's methods name.
pub const RATE_CLASSES: &[&str] = &[
    "queue-join",
    "queue-poll",
    "queue-admission",
    "browse",
    "reserve",
    "pay",
];

/// The policy settings, with the development secret when no key is configured outside
/// production (so the system runs on a fresh machine), and an error naming the variables in
/// production.
fn policy_config(
    get: &dyn Fn(&str) -> Option<String>,
) -> Result<(PolicyConfig, bool), ConfigError> {
    let set = |name: &str| get(name).is_some_and(|v| !v.trim().is_empty());
    let production = get("TACOS_ENV").is_some_and(|v| v.trim().eq_ignore_ascii_case("production"));
    let development_secret = !set("JWT_SECRET") && !set("JWT_JWKS_URL") && !production;
    let lookup = |name: &str| {
        if development_secret && name == "JWT_SECRET" {
            return Some(crate::token::DEVELOPMENT_SECRET.to_owned());
        }
        get(name)
    };
    let policies = PolicyConfig::from_lookup(&lookup, RATE_CLASSES)?;
    if policies.auth.is_none() {
        return Err(ConfigError {
            problems: vec![tacos_runtime::config::ConfigProblem {
                var: "JWT_SECRET",
                value: String::new(),
                expected: "JWT_SECRET or JWT_JWKS_URL (required when TACOS_ENV=production)",
            }],
        });
    }
    Ok((policies, development_secret))
}

/// The shape of the in-memory inventory.
#[derive(Clone, Debug, PartialEq)]
pub struct InventoryConfig {
    /// Section names; every event gets all of them.
    pub sections: Vec<String>,
    /// Seats in each section.
    pub seats_per_section: u32,
    /// Price of one seat, in minor units.
    pub seat_price: i64,
    /// ISO currency code of prices.
    pub currency: String,
    /// How long a reservation holds its seats.
    pub hold: Duration,
    /// How long the `delay` payment scenario takes.
    pub payment_delay: Duration,
}

impl Default for InventoryConfig {
    fn default() -> Self {
        Self {
            sections: vec!["A".into(), "B".into(), "C".into()],
            seats_per_section: 100,
            seat_price: 50_000,
            currency: "KRW".into(),
            hold: Duration::from_secs(300),
            payment_delay: Duration::from_secs(2),
        }
    }
}

impl Default for GatewayConfig {
    fn default() -> Self {
        let (policies, development_secret) =
            policy_config(&|_| None).expect("the default policy settings are valid");
        Self {
            server: ServerConfig {
                json_proto_names: true,
                ..ServerConfig::default()
            },
            redis_url: None,
            admission: EventConfig::default(),
            event_admission: Vec::new(),
            inventory: InventoryConfig::default(),
            policies,
            development_secret,
            reservation_backend: BackendConfig::from_lookup("reservation", &|_| None)
                .expect("the default backend settings are valid"),
            payment_backend: BackendConfig::from_lookup("payment", &|_| None)
                .expect("the default backend settings are valid"),
            payment_webhook_url: None,
            queue_page_next_url: crate::page::DEFAULT_NEXT_URL.to_owned(),
        }
    }
}

impl GatewayConfig {
    /// Where the in-process payment simulator posts its webhooks.
    pub fn webhook_url(&self) -> String {
        self.payment_webhook_url.clone().unwrap_or_else(|| {
            format!(
                "http://127.0.0.1:{}/api/v1/webhooks/payment",
                self.server.server_port
            )
        })
    }
}

/// Why the configuration was refused; lists every bad variable.
#[derive(Debug, thiserror::Error)]
pub enum GatewayConfigError {
    /// A server variable is invalid.
    #[error(transparent)]
    Server(#[from] ConfigError),
    /// Gateway variables are invalid.
    #[error("invalid configuration: {}", .0.join("; "))]
    Gateway(Vec<String>),
}

impl GatewayConfig {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, GatewayConfigError> {
        Self::from_lookup(&|name| std::env::var(name).ok())
    }

    /// Reads variables through `get` (tests pass a map).
    pub fn from_lookup(get: &dyn Fn(&str) -> Option<String>) -> Result<Self, GatewayConfigError> {
        // Traffic Tacos web clients read snake_case, so proto names are this binary's default.
        let server = ServerConfig::from_lookup(&|name| {
            get(name).or_else(|| (name == "JSON_FIELD_NAMES").then(|| "proto".to_owned()))
        })?;
        let (policies, development_secret) = policy_config(get)?;
        let defaults = Self::default();
        let mut problems = Vec::new();
        let mut read = |name: &str, expected: &str, check: &dyn Fn(&str) -> bool| {
            let value = get(name).filter(|v| !v.trim().is_empty())?;
            let value = value.trim().to_owned();
            if check(&value) {
                Some(value)
            } else {
                problems.push(format!("{name}={value:?}: expected {expected}"));
                None
            }
        };
        let positive_int = |v: &str| v.parse::<u32>().is_ok_and(|n| n > 0);
        let positive_num = |v: &str| v.parse::<f64>().is_ok_and(|n| n.is_finite() && n > 0.0);
        let redis_url = read("REDIS_URL", "a redis:// url", &|v| {
            v.starts_with("redis://") || v.starts_with("rediss://")
        });
        let mut admission = defaults.admission.clone();
        if let Some(v) = read("QUEUE_BUCKET_CAPACITY", "a count above 0", &positive_int) {
            admission.bucket_capacity = v.parse().unwrap_or(admission.bucket_capacity);
        }
        if let Some(v) = read("QUEUE_REFILL_PER_SECOND", "a rate above 0", &positive_num) {
            admission.refill_per_second = v.parse().unwrap_or(admission.refill_per_second);
        }
        if let Some(v) = read("QUEUE_ADMISSION_WINDOW", "a count above 0", &positive_int) {
            admission.admission_window = v.parse().unwrap_or(admission.admission_window);
        }
        if let Some(v) = read("QUEUE_HEARTBEAT_SECONDS", "seconds above 0", &positive_num) {
            admission.heartbeat_ttl = seconds(&v).unwrap_or(admission.heartbeat_ttl);
        }
        if let Some(v) = read(
            "RESERVATION_TOKEN_TTL_SECONDS",
            "seconds above 0",
            &positive_num,
        ) {
            admission.reservation_ttl = seconds(&v).unwrap_or(admission.reservation_ttl);
        }
        let event_admission = read(
            "QUEUE_EVENTS",
            "event:key=value,...;event:... with keys capacity, refill, window, heartbeat, token_ttl",
            &|v| parse_event_overrides(v, &EventConfig::default()).is_ok(),
        )
        .map(|v| parse_event_overrides(&v, &admission).unwrap_or_default())
        .unwrap_or_default();
        let mut inventory = defaults.inventory.clone();
        if let Some(v) = read("SECTIONS", "comma-separated section names", &|v| {
            v.split(',').all(|s| !s.trim().is_empty())
        }) {
            inventory.sections = v.split(',').map(|s| s.trim().to_owned()).collect();
        }
        if let Some(v) = read("SEATS_PER_SECTION", "a count above 0", &positive_int) {
            inventory.seats_per_section = v.parse().unwrap_or(inventory.seats_per_section);
        }
        if let Some(v) = read("SEAT_PRICE", "a price in minor units", &|v| {
            v.parse::<i64>().is_ok_and(|n| n >= 0)
        }) {
            inventory.seat_price = v.parse().unwrap_or(inventory.seat_price);
        }
        if let Some(v) = read("CURRENCY", "a three-letter currency code", &|v| {
            v.len() == 3 && v.chars().all(|c| c.is_ascii_alphabetic())
        }) {
            inventory.currency = v.to_ascii_uppercase();
        }
        if let Some(v) = read("HOLD_SECONDS", "seconds above 0", &positive_num) {
            inventory.hold = seconds(&v).unwrap_or(inventory.hold);
        }
        if let Some(v) = read("PAYMENT_DELAY_MS", "milliseconds", &|v| {
            v.parse::<u64>().is_ok()
        }) {
            inventory.payment_delay = Duration::from_millis(v.parse().unwrap_or(2000));
        }
        let payment_webhook_url = read("PAYMENT_WEBHOOK_URL", "an http(s):// url", &|v| {
            v.starts_with("http://") || v.starts_with("https://")
        });
        let queue_page_next_url = read(
            "QUEUE_PAGE_NEXT_URL",
            "a path starting with / or an http(s):// url",
            &|v| {
                (v.starts_with('/') && !v.starts_with("//"))
                    || v.starts_with("http://")
                    || v.starts_with("https://")
            },
        )
        .unwrap_or(defaults.queue_page_next_url);
        if let Err(err) = admission.validate() {
            problems.push(err.to_string());
        }
        let mut backend = |name: &str| {
            BackendConfig::from_lookup(name, get)
                .map_err(|err| problems.push(err.to_string()))
                .ok()
        };
        let reservation_backend = backend("reservation");
        let payment_backend = backend("payment");
        if !problems.is_empty() {
            return Err(GatewayConfigError::Gateway(problems));
        }
        Ok(Self {
            server,
            redis_url,
            admission,
            event_admission,
            inventory,
            policies,
            development_secret,
            reservation_backend: reservation_backend.unwrap_or(defaults.reservation_backend),
            payment_backend: payment_backend.unwrap_or(defaults.payment_backend),
            payment_webhook_url,
            queue_page_next_url,
        })
    }
}

fn seconds(value: &str) -> Option<Duration> {
    value
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s > 0.0)
        .map(Duration::from_secs_f64)
}

/// Parses `evt1:capacity=10,refill=5;evt2:window=3`; unspecified keys come from `base`.
fn parse_event_overrides(
    value: &str,
    base: &EventConfig,
) -> Result<Vec<(String, EventConfig)>, String> {
    let mut out = Vec::new();
    for entry in value.split(';').filter(|e| !e.trim().is_empty()) {
        let (event, settings) = entry
            .split_once(':')
            .ok_or_else(|| format!("{entry:?} has no `event:` prefix"))?;
        let mut config = base.clone();
        for pair in settings.split(',').filter(|p| !p.trim().is_empty()) {
            let (key, v) = pair
                .split_once('=')
                .ok_or_else(|| format!("{pair:?} is not key=value"))?;
            let bad = || format!("{key}={v:?} is not a valid value");
            match key.trim() {
                "capacity" => config.bucket_capacity = v.trim().parse().map_err(|_| bad())?,
                "refill" => config.refill_per_second = v.trim().parse().map_err(|_| bad())?,
                "window" => config.admission_window = v.trim().parse().map_err(|_| bad())?,
                "heartbeat" => config.heartbeat_ttl = seconds(v.trim()).ok_or_else(bad)?,
                "token_ttl" => config.reservation_ttl = seconds(v.trim()).ok_or_else(bad)?,
                other => return Err(format!("unknown key {other:?}")),
            }
        }
        config.validate().map_err(|e| e.to_string())?;
        out.push((event.trim().to_owned(), config));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn from(pairs: &[(&str, &str)]) -> Result<GatewayConfig, GatewayConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        GatewayConfig::from_lookup(&|name| map.get(name).cloned())
    }

    #[test]
    fn defaults_are_the_embedded_setup() {
        let config = from(&[]).unwrap();
        assert_eq!(config.server.server_port, 8000);
        assert_eq!(config.server.grpc_port, 9090);
        assert!(config.server.json_proto_names);
        assert!(config.redis_url.is_none());
        assert_eq!(config.inventory, InventoryConfig::default());
        let local = tacos_runtime::client::BackendProtocol::Local;
        assert_eq!(config.reservation_backend.protocol, local);
        assert_eq!(config.payment_backend.protocol, local);
    }

    #[test]
    fn per_event_overrides_apply_on_top_of_the_defaults() {
        let config = from(&[
            ("QUEUE_REFILL_PER_SECOND", "7"),
            ("QUEUE_EVENTS", "e1:capacity=2,window=3;e2:heartbeat=5"),
        ])
        .unwrap();
        let (name, e1) = &config.event_admission[0];
        assert_eq!(name, "e1");
        assert_eq!((e1.bucket_capacity, e1.admission_window), (2, 3));
        assert_eq!(e1.refill_per_second, 7.0);
        assert_eq!(
            config.event_admission[1].1.heartbeat_ttl,
            Duration::from_secs(5)
        );
    }

    #[test]
    fn every_bad_variable_is_reported() {
        let err = from(&[
            ("QUEUE_BUCKET_CAPACITY", "zero"),
            ("REDIS_URL", "localhost"),
            ("QUEUE_EVENTS", "e1:speed=3"),
            ("BACKEND_PAYMENT_PROTOCOL", "carrier-pigeon"),
        ])
        .unwrap_err()
        .to_string();
        assert!(err.contains("BACKEND_PAYMENT_PROTOCOL"), "{err}");
        assert!(err.contains("QUEUE_BUCKET_CAPACITY"), "{err}");
        assert!(err.contains("REDIS_URL"), "{err}");
        assert!(err.contains("QUEUE_EVENTS"), "{err}");
    }
}
