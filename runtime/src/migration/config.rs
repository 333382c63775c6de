//! Shadow settings from environment variables, validated at start-up.
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `CLIENT_SHADOW_PER_MILLE` | `10` | calls to side-effect-free methods shadowed per thousand (0–1000) |
//! | `CLIENT_SHADOW_TIMEOUT_MS` | `2000` | the longest a shadow call may take (1–60000) |
//! | `CLIENT_SHADOW_MAX_IN_FLIGHT` | `16` | shadow calls at once; more are skipped (1–10000) |
//!
//! Whether shadowing is on at all, and the gRPC share of a split, belong to the client factory's
//! protocol settings.

use std::time::Duration;

use super::shadow::ShadowConfig;
use crate::config::{ConfigError, Reader};

impl ShadowConfig {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(&|name| std::env::var(name).ok())
    }

    /// Reads variables through `get` (tests pass a map).
    pub fn from_lookup(get: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let defaults = Self::default();
        let mut r = Reader::new(get);
        let per_mille = r.parse(
            "CLIENT_SHADOW_PER_MILLE",
            defaults.per_mille,
            "calls per thousand from 0 to 1000",
            |v| v.parse().ok().filter(|n| *n <= 1000),
        );
        let timeout = r.parse(
            "CLIENT_SHADOW_TIMEOUT_MS",
            defaults.timeout,
            "milliseconds from 1 to 60000",
            |v| {
                v.parse()
                    .ok()
                    .filter(|ms| (1..=60_000).contains(ms))
                    .map(Duration::from_millis)
            },
        );
        let max_in_flight = r.parse(
            "CLIENT_SHADOW_MAX_IN_FLIGHT",
            defaults.max_in_flight,
            "a number of calls from 1 to 10000",
            |v| v.parse().ok().filter(|n| (1..=10_000).contains(n)),
        );
        r.finish(Self {
            per_mille,
            timeout,
            max_in_flight,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn read(vars: &[(&str, &str)]) -> Result<ShadowConfig, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        ShadowConfig::from_lookup(&move |k| map.get(k).cloned())
    }

    #[test]
    fn defaults_and_overrides() {
        assert_eq!(read(&[]).unwrap(), ShadowConfig::default());
        let config = read(&[
            ("CLIENT_SHADOW_PER_MILLE", "250"),
            ("CLIENT_SHADOW_TIMEOUT_MS", "500"),
            ("CLIENT_SHADOW_MAX_IN_FLIGHT", "4"),
        ])
        .unwrap();
        assert_eq!(
            config,
            ShadowConfig {
                per_mille: 250,
                timeout: Duration::from_millis(500),
                max_in_flight: 4,
            }
        );
    }

    #[test]
    fn every_problem_is_named() {
        let err = read(&[
            ("CLIENT_SHADOW_PER_MILLE", "1001"),
            ("CLIENT_SHADOW_TIMEOUT_MS", "0"),
            ("CLIENT_SHADOW_MAX_IN_FLIGHT", "many"),
        ])
        .unwrap_err();
        let vars: Vec<&str> = err.problems.iter().map(|p| p.var).collect();
        assert_eq!(
            vars,
            [
                "CLIENT_SHADOW_PER_MILLE",
                "CLIENT_SHADOW_TIMEOUT_MS",
                "CLIENT_SHADOW_MAX_IN_FLIGHT"
            ]
        );
    }
}
