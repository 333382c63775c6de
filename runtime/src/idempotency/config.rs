//! Idempotency settings from environment variables; the table is on [`IdempotencyConfig`].

use std::time::Duration;

use crate::config::{ConfigError, Reader};
use crate::store::{read_redis, RedisSettings};

/// Which store holds idempotency keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IdempotencyStore {
    /// In this process: keys are not shared with other replicas.
    Memory,
    /// In Redis: keys are shared by every replica using it.
    Redis(RedisSettings),
}

/// Idempotency settings.
///
/// | variable | default | meaning |
/// |---|---|---|
/// | `IDEMPOTENCY_STORE` | `memory` | `memory` (this process only) or `redis` (shared, uses `REDIS_URL`) |
/// | `IDEMPOTENCY_TTL_SECONDS` | `86400` | how long a finished call's outcome is replayed |
/// | `IDEMPOTENCY_LOCK_SECONDS` | `60` | lease of a running call; past it the key may run again |
/// | `IDEMPOTENCY_KEY_MAX_BYTES` | `256` | longest accepted `Idempotency-Key` |
/// | `IDEMPOTENCY_MAX_KEYS` | `100000` | memory store: most keys held at once |
/// | `IDEMPOTENCY_REDIS_PREFIX` | `idem:` | redis store: prefix of every key |
/// | `REDIS_URL` | — | redis store: the server |
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdempotencyConfig {
    /// `IDEMPOTENCY_STORE` (with `REDIS_URL` and `IDEMPOTENCY_REDIS_PREFIX`).
    pub store: IdempotencyStore,
    /// `IDEMPOTENCY_TTL_SECONDS`: how long an outcome is kept after the call finished.
    pub ttl: Duration,
    /// `IDEMPOTENCY_LOCK_SECONDS`: how long a running call holds its key without finishing.
    pub lock: Duration,
    /// `IDEMPOTENCY_KEY_MAX_BYTES`.
    pub key_max_bytes: usize,
    /// `IDEMPOTENCY_MAX_KEYS`: the memory store's bound.
    pub max_keys: usize,
}

impl Default for IdempotencyConfig {
    fn default() -> Self {
        Self {
            store: IdempotencyStore::Memory,
            ttl: Duration::from_secs(86_400),
            lock: Duration::from_secs(60),
            key_max_bytes: 256,
            max_keys: 100_000,
        }
    }
}

pub(crate) fn parse_seconds(value: &str) -> Option<Duration> {
    value
        .parse::<f64>()
        .ok()
        // At least a millisecond (Redis expiries are in ms), at most ten years.
        .filter(|s| s.is_finite() && *s >= 0.001 && *s <= 315_360_000.0)
        .map(Duration::from_secs_f64)
}

impl IdempotencyConfig {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(&|name| std::env::var(name).ok())
    }

    /// Reads variables through `get` (tests pass a map); every bad variable is reported.
    pub fn from_lookup(get: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let defaults = Self::default();
        let mut r = Reader::new(get);
        let redis = r.parse("IDEMPOTENCY_STORE", false, "memory or redis", |v| match v {
            "memory" => Some(false),
            "redis" => Some(true),
            _ => None,
        });
        let ttl = r.parse(
            "IDEMPOTENCY_TTL_SECONDS",
            defaults.ttl,
            "a number of seconds (0.001 to 315360000)",
            parse_seconds,
        );
        let lock = r.parse(
            "IDEMPOTENCY_LOCK_SECONDS",
            defaults.lock,
            "a number of seconds (0.001 to 315360000)",
            parse_seconds,
        );
        if lock > ttl {
            r.problem(
                "IDEMPOTENCY_LOCK_SECONDS",
                format!("{}", lock.as_secs_f64()),
                "at most IDEMPOTENCY_TTL_SECONDS",
            );
        }
        let key_max_bytes = r.parse(
            "IDEMPOTENCY_KEY_MAX_BYTES",
            defaults.key_max_bytes,
            "a byte count (1 to 8192)",
            |v| v.parse().ok().filter(|n| (1..=8192).contains(n)),
        );
        let max_keys = r.parse(
            "IDEMPOTENCY_MAX_KEYS",
            defaults.max_keys,
            "a key count above 0",
            |v| v.parse().ok().filter(|n| *n > 0),
        );
        let store = match read_redis(
            &mut r,
            redis,
            "IDEMPOTENCY_REDIS_PREFIX",
            "idem:",
            "a redis:// URL (IDEMPOTENCY_STORE=redis needs it)",
        ) {
            Some(settings) => IdempotencyStore::Redis(settings),
            None => IdempotencyStore::Memory,
        };
        r.finish(Self {
            store,
            ttl,
            lock,
            key_max_bytes,
            max_keys,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn read(vars: &[(&str, &str)]) -> Result<IdempotencyConfig, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        IdempotencyConfig::from_lookup(&move |k| map.get(k).cloned())
    }

    #[test]
    fn defaults() {
        assert_eq!(read(&[]).unwrap(), IdempotencyConfig::default());
    }

    #[test]
    fn redis_store_takes_url_and_prefix() {
        let config = read(&[
            ("IDEMPOTENCY_STORE", "redis"),
            ("REDIS_URL", "redis://127.0.0.1:1/"),
            ("IDEMPOTENCY_REDIS_PREFIX", "svc:idem:"),
            ("IDEMPOTENCY_TTL_SECONDS", "3600"),
            ("IDEMPOTENCY_LOCK_SECONDS", "2.5"),
        ])
        .unwrap();
        let IdempotencyStore::Redis(settings) = &config.store else {
            panic!("expected redis, got {config:?}");
        };
        assert_eq!(settings.url, "redis://127.0.0.1:1/");
        assert_eq!(settings.prefix, "svc:idem:");
        assert_eq!(config.ttl, Duration::from_secs(3600));
        assert_eq!(config.lock, Duration::from_millis(2500));
    }

    #[test]
    fn every_problem_is_reported() {
        let err = read(&[
            ("IDEMPOTENCY_STORE", "disk"),
            ("IDEMPOTENCY_TTL_SECONDS", "-1"),
            ("IDEMPOTENCY_KEY_MAX_BYTES", "0"),
        ])
        .unwrap_err();
        let vars: Vec<_> = err.problems.iter().map(|p| p.var).collect();
        assert_eq!(
            vars,
            [
                "IDEMPOTENCY_STORE",
                "IDEMPOTENCY_TTL_SECONDS",
                "IDEMPOTENCY_KEY_MAX_BYTES"
            ]
        );
    }

    #[test]
    fn redis_needs_a_url_and_lock_fits_in_ttl() {
        let err = read(&[("IDEMPOTENCY_STORE", "redis")]).unwrap_err();
        assert_eq!(err.problems[0].var, "REDIS_URL");
        let err = read(&[
            ("IDEMPOTENCY_STORE", "redis"),
            ("REDIS_URL", "localhost:6379"),
        ])
        .unwrap_err();
        assert_eq!(err.problems[0].value, "localhost:6379");
        let err = read(&[
            ("IDEMPOTENCY_TTL_SECONDS", "10"),
            ("IDEMPOTENCY_LOCK_SECONDS", "20"),
        ])
        .unwrap_err();
        assert!(err.to_string().contains("at most IDEMPOTENCY_TTL_SECONDS"));
    }
}
