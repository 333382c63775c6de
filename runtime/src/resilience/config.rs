//! Client resilience settings from environment variables, validated at start-up.
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `CLIENT_RETRY_MAX_ATTEMPTS` | `3` | attempts per call, the first included (1–5; 1 turns retries off) |
//! | `CLIENT_RETRY_INITIAL_BACKOFF_MS` | `100` | the first retry waits a random time up to this |
//! | `CLIENT_RETRY_MAX_BACKOFF_MS` | `1000` | no retry waits longer (at least the initial backoff) |
//! | `CLIENT_RETRY_BACKOFF_MULTIPLIER` | `2` | growth of the backoff per retry (1–10) |
//! | `CLIENT_RETRY_MAX_PUSHBACK_MS` | `5000` | longest server `RetryInfo` delay waited for (0–300000); longer ones end the call with the server's answer |
//! | `CLIENT_RETRY_CODES` | `UNAVAILABLE` | codes retried, comma-separated names; `RESOURCE_EXHAUSTED` is retried only with `RetryInfo` |
//! | `CLIENT_RETRY_BUDGET_MAX_TOKENS` | `10` | retry budget per target (1–1000); retries stop at half |
//! | `CLIENT_RETRY_BUDGET_TOKEN_RATIO` | `0.1` | tokens a success gives back (0.001–1) |
//! | `CLIENT_BREAKER_ENABLED` | `true` | use a circuit breaker per target |
//! | `CLIENT_BREAKER_FAILURE_RATE` | `0.5` | open at this share of failed calls in the window (above 0, at most 1) |
//! | `CLIENT_BREAKER_MIN_REQUESTS` | `20` | calls in the window before the rate is judged |
//! | `CLIENT_BREAKER_WINDOW_SECONDS` | `10` | the sliding window of the failure rate |
//! | `CLIENT_BREAKER_CONSECUTIVE_FAILURES` | `5` | open after this many failures in a row; 0 = only the rate |
//! | `CLIENT_BREAKER_OPEN_SECONDS` | `5` | cool-down before probing |
//! | `CLIENT_BREAKER_HALF_OPEN_PROBES` | `1` | probe calls when half-open; all must succeed to close |
//!
//! Durations in seconds accept decimals (`0.5`). Every variable is checked and all problems are
//! reported together, each naming the variable, its value and what was expected.

use std::sync::Arc;
use std::time::Duration;

use super::breaker::BreakerConfig;
use super::budget::RetryBudget;
use super::call::Resilience;
use super::retry::{code_from_name, RetryPolicy, MAX_ATTEMPTS_CAP};
use crate::config::{parse_bool, ConfigError, Reader};
use crate::status::Code;

/// Client resilience settings: one set, applied to every target.
#[derive(Clone, Debug, PartialEq)]
pub struct ResilienceConfig {
    /// Retries (`CLIENT_RETRY_*`).
    pub retry: RetryPolicy,
    /// Retry budget capacity (`CLIENT_RETRY_BUDGET_MAX_TOKENS`).
    pub budget_max_tokens: u32,
    /// Retry budget refill per success (`CLIENT_RETRY_BUDGET_TOKEN_RATIO`).
    pub budget_token_ratio: f64,
    /// Circuit breaker (`CLIENT_BREAKER_*`).
    pub breaker: BreakerConfig,
}

impl Default for ResilienceConfig {
    fn default() -> Self {
        Self {
            retry: RetryPolicy::default(),
            budget_max_tokens: 10,
            budget_token_ratio: 0.1,
            breaker: BreakerConfig::default(),
        }
    }
}

impl ResilienceConfig {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(&|name| std::env::var(name).ok())
    }

    /// Reads variables through `get` (tests pass a map).
    pub fn from_lookup(get: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let defaults = Self::default();
        let mut r = Reader::new(get);
        let max_attempts = r.parse(
            "CLIENT_RETRY_MAX_ATTEMPTS",
            defaults.retry.max_attempts(),
            "a number of attempts from 1 to 5",
            |v| {
                v.parse()
                    .ok()
                    .filter(|n| (1..=MAX_ATTEMPTS_CAP).contains(n))
            },
        );
        let initial = r.parse(
            "CLIENT_RETRY_INITIAL_BACKOFF_MS",
            defaults.retry.initial_backoff(),
            "milliseconds from 1 to 60000",
            millis,
        );
        let max = r.parse(
            "CLIENT_RETRY_MAX_BACKOFF_MS",
            defaults.retry.max_backoff(),
            "milliseconds from 1 to 60000",
            millis,
        );
        if max < initial {
            let value = r.get("CLIENT_RETRY_MAX_BACKOFF_MS").unwrap_or_default();
            r.problem(
                "CLIENT_RETRY_MAX_BACKOFF_MS",
                value,
                "at least CLIENT_RETRY_INITIAL_BACKOFF_MS",
            );
        }
        let multiplier = r.parse(
            "CLIENT_RETRY_BACKOFF_MULTIPLIER",
            defaults.retry.multiplier(),
            "a number from 1 to 10",
            |v| v.parse().ok().filter(|m: &f64| (1.0..=10.0).contains(m)),
        );
        let max_pushback = r.parse(
            "CLIENT_RETRY_MAX_PUSHBACK_MS",
            defaults.retry.max_pushback(),
            "milliseconds from 0 to 300000",
            |v| {
                v.parse()
                    .ok()
                    .filter(|ms| *ms <= 300_000)
                    .map(Duration::from_millis)
            },
        );
        let codes = r.parse(
            "CLIENT_RETRY_CODES",
            defaults.retry.retryable_codes().iter().collect(),
            "comma-separated gRPC code names other than OK (UNAVAILABLE,ABORTED)",
            parse_codes,
        );
        let budget_max_tokens = r.parse(
            "CLIENT_RETRY_BUDGET_MAX_TOKENS",
            defaults.budget_max_tokens,
            "a number of tokens from 1 to 1000",
            |v| {
                v.parse()
                    .ok()
                    .filter(|n| (1..=RetryBudget::MAX_TOKENS).contains(n))
            },
        );
        let budget_token_ratio = r.parse(
            "CLIENT_RETRY_BUDGET_TOKEN_RATIO",
            defaults.budget_token_ratio,
            "a number from 0.001 to 1",
            |v| v.parse().ok().filter(|m: &f64| (0.001..=1.0).contains(m)),
        );
        let b = defaults.breaker;
        let breaker = BreakerConfig {
            enabled: r.parse(
                "CLIENT_BREAKER_ENABLED",
                b.enabled,
                "true or false",
                parse_bool,
            ),
            failure_rate: r.parse(
                "CLIENT_BREAKER_FAILURE_RATE",
                b.failure_rate,
                "a fraction above 0 and at most 1 (0.5 = half the calls)",
                |v| v.parse().ok().filter(|f: &f64| *f > 0.0 && *f <= 1.0),
            ),
            min_requests: r.parse(
                "CLIENT_BREAKER_MIN_REQUESTS",
                b.min_requests,
                "a number of calls from 1 to 1000000",
                |v| v.parse().ok().filter(|n| (1..=1_000_000).contains(n)),
            ),
            window: r.parse(
                "CLIENT_BREAKER_WINDOW_SECONDS",
                b.window,
                "seconds above 0, at most 3600",
                seconds,
            ),
            consecutive_failures: r.parse(
                "CLIENT_BREAKER_CONSECUTIVE_FAILURES",
                b.consecutive_failures,
                "a number of failures from 0 (off) to 1000000",
                |v| v.parse().ok().filter(|n| *n <= 1_000_000),
            ),
            open_duration: r.parse(
                "CLIENT_BREAKER_OPEN_SECONDS",
                b.open_duration,
                "seconds above 0, at most 3600",
                seconds,
            ),
            half_open_probes: r.parse(
                "CLIENT_BREAKER_HALF_OPEN_PROBES",
                b.half_open_probes,
                "a number of probes from 1 to 100",
                |v| v.parse().ok().filter(|n| (1..=100).contains(n)),
            ),
        };
        let retry = RetryPolicy::default()
            .with_max_attempts(max_attempts)
            .with_backoff(initial, max, multiplier)
            .with_retryable_codes(codes)
            .with_max_pushback(max_pushback);
        r.finish(Self {
            retry,
            budget_max_tokens,
            budget_token_ratio,
            breaker,
        })
    }

    /// The retry policy, a fresh budget and a fresh breaker for `target`.
    pub fn build(&self, target: impl Into<Arc<str>>) -> Resilience {
        Resilience::new(
            target,
            self.retry.clone(),
            RetryBudget::new(self.budget_max_tokens, self.budget_token_ratio),
            self.breaker.clone(),
        )
    }
}

fn millis(value: &str) -> Option<Duration> {
    value
        .parse()
        .ok()
        .filter(|ms| (1..=60_000).contains(ms))
        .map(Duration::from_millis)
}

fn seconds(value: &str) -> Option<Duration> {
    value
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s > 0.0 && *s <= 3600.0)
        .map(Duration::from_secs_f64)
}

fn parse_codes(value: &str) -> Option<Vec<Code>> {
    value
        .split(',')
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(|name| code_from_name(name).filter(|code| *code != Code::Ok))
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn read(vars: &[(&str, &str)]) -> Result<ResilienceConfig, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        ResilienceConfig::from_lookup(&move |k| map.get(k).cloned())
    }

    #[test]
    fn defaults() {
        let config = read(&[]).unwrap();
        assert_eq!(config, ResilienceConfig::default());
        assert_eq!(config.retry.max_attempts(), 3);
        assert_eq!(
            config.retry.retryable_codes().iter().collect::<Vec<_>>(),
            [Code::Unavailable]
        );
        assert_eq!(config.breaker.open_duration, Duration::from_secs(5));
    }

    #[test]
    fn overrides() {
        let config = read(&[
            ("CLIENT_RETRY_MAX_ATTEMPTS", "5"),
            ("CLIENT_RETRY_INITIAL_BACKOFF_MS", "20"),
            ("CLIENT_RETRY_MAX_BACKOFF_MS", "300"),
            ("CLIENT_RETRY_BACKOFF_MULTIPLIER", "1.5"),
            ("CLIENT_RETRY_CODES", "unavailable, ABORTED"),
            ("CLIENT_RETRY_MAX_PUSHBACK_MS", "0"),
            ("CLIENT_RETRY_BUDGET_MAX_TOKENS", "20"),
            ("CLIENT_RETRY_BUDGET_TOKEN_RATIO", "0.25"),
            ("CLIENT_BREAKER_ENABLED", "false"),
            ("CLIENT_BREAKER_FAILURE_RATE", "0.25"),
            ("CLIENT_BREAKER_MIN_REQUESTS", "50"),
            ("CLIENT_BREAKER_WINDOW_SECONDS", "30"),
            ("CLIENT_BREAKER_CONSECUTIVE_FAILURES", "0"),
            ("CLIENT_BREAKER_OPEN_SECONDS", "0.5"),
            ("CLIENT_BREAKER_HALF_OPEN_PROBES", "3"),
        ])
        .unwrap();
        assert_eq!(config.retry.max_attempts(), 5);
        assert_eq!(config.retry.initial_backoff(), Duration::from_millis(20));
        assert_eq!(config.retry.max_backoff(), Duration::from_millis(300));
        assert_eq!(config.retry.multiplier(), 1.5);
        assert_eq!(config.retry.max_pushback(), Duration::ZERO);
        assert_eq!(
            config.retry.retryable_codes().iter().collect::<Vec<_>>(),
            [Code::Aborted, Code::Unavailable]
        );
        assert_eq!(
            (config.budget_max_tokens, config.budget_token_ratio),
            (20, 0.25)
        );
        assert_eq!(
            config.breaker,
            BreakerConfig {
                enabled: false,
                failure_rate: 0.25,
                min_requests: 50,
                window: Duration::from_secs(30),
                consecutive_failures: 0,
                open_duration: Duration::from_millis(500),
                half_open_probes: 3,
            }
        );
        let built = config.build("payment");
        assert_eq!(built.target(), "payment");
        assert_eq!(built.budget().max_tokens(), 20.0);
    }

    #[test]
    fn every_problem_is_named() {
        let err = read(&[
            ("CLIENT_RETRY_MAX_ATTEMPTS", "6"),
            ("CLIENT_RETRY_INITIAL_BACKOFF_MS", "500"),
            ("CLIENT_RETRY_MAX_BACKOFF_MS", "200"),
            ("CLIENT_RETRY_CODES", "UNAVAILABLE,SOMETIMES"),
            ("CLIENT_BREAKER_FAILURE_RATE", "50"),
            ("CLIENT_BREAKER_OPEN_SECONDS", "-1"),
            ("CLIENT_BREAKER_HALF_OPEN_PROBES", "0"),
        ])
        .unwrap_err();
        let vars: Vec<&str> = err.problems.iter().map(|p| p.var).collect();
        assert_eq!(
            vars,
            [
                "CLIENT_RETRY_MAX_ATTEMPTS",
                "CLIENT_RETRY_MAX_BACKOFF_MS",
                "CLIENT_RETRY_CODES",
                "CLIENT_BREAKER_FAILURE_RATE",
                "CLIENT_BREAKER_OPEN_SECONDS",
                "CLIENT_BREAKER_HALF_OPEN_PROBES",
            ]
        );
        let text = err.to_string();
        assert!(
            text.contains("CLIENT_RETRY_MAX_BACKOFF_MS=\"200\": expected at least"),
            "{text}"
        );
        assert!(read(&[("CLIENT_RETRY_CODES", "OK")]).is_err());
    }
}
