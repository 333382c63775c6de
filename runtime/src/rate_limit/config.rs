//! Rate-limit settings from environment variables; the table is on [`RateLimitConfig`].

use crate::config::{ConfigError, Reader};
use crate::store::{read_redis, RedisSettings};

use super::client_ip::TrustedProxies;
use super::limit::{parse_limit, Limit};

/// Which store holds the buckets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RateLimitStore {
    /// In this process: each replica limits on its own.
    Memory,
    /// In Redis: every replica using it shares the buckets.
    Redis(RedisSettings),
}

/// Rate-limit settings.
///
/// | variable | default | meaning |
/// |---|---|---|
/// | `RATE_LIMIT_<CLASS>` | `RATE_LIMIT_DEFAULT` | the limit of one rate class; see [`Limit`] for the grammar |
/// | `RATE_LIMIT_DEFAULT` | unlimited | methods without a class, and classes without their own variable |
/// | `RATE_LIMIT_STORE` | `memory` | `memory` (per process) or `redis` (across a fleet, uses `REDIS_URL`) |
/// | `RATE_LIMIT_MAX_SUBJECTS` | `1000000` | memory store: most buckets held at once |
/// | `RATE_LIMIT_REDIS_PREFIX` | `rl:` | redis store: prefix of every key |
/// | `RATE_LIMIT_TRUSTED_PROXIES` | none | addresses and CIDR ranges of proxies whose `X-Forwarded-For` names the client of anonymous calls (`10.0.0.0/8,fd00::/8`) |
/// | `REDIS_URL` | — | redis store: the server |
///
/// A class's variable is its name in upper case with `-` and `.` turned into `_`: the class
/// `queue-join` reads `RATE_LIMIT_QUEUE_JOIN`. Class names hold only ASCII letters, digits, `-`,
/// `_` and `.`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RateLimitConfig {
    /// `RATE_LIMIT_DEFAULT`: the limit of methods without a class (`None`: unlimited).
    pub default: Option<Limit>,
    /// Each class with the limit in force for it: its own variable, else the default
    /// (`None`: unlimited).
    pub classes: Vec<(String, Option<Limit>)>,
    /// `RATE_LIMIT_STORE`.
    pub store: RateLimitStore,
    /// `RATE_LIMIT_MAX_SUBJECTS`: the memory store's bound.
    pub max_subjects: usize,
    /// `RATE_LIMIT_TRUSTED_PROXIES`: whose `X-Forwarded-For` is believed.
    pub trusted_proxies: TrustedProxies,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        Self {
            default: None,
            classes: Vec::new(),
            store: RateLimitStore::Memory,
            max_subjects: 1_000_000,
            trusted_proxies: TrustedProxies::default(),
        }
    }
}

/// The variable naming `class`'s limit, or `None` for a class name outside the allowed set.
pub fn class_variable(class: &str) -> Option<String> {
    if class.is_empty()
        || !class
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        return None;
    }
    let suffix: String = class
        .chars()
        .map(|c| match c {
            '-' | '.' => '_',
            c => c.to_ascii_uppercase(),
        })
        .collect();
    Some(format!("RATE_LIMIT_{suffix}"))
}

/// Config problems must name their variable as a `&'static str`; class variables are only known
/// at run time. They are made once per class at start-up, so keeping them is bounded.
fn static_name(name: String) -> &'static str {
    Box::leak(name.into_boxed_str())
}

impl RateLimitConfig {
    /// Reads the process environment for `classes` (the rate classes the services name).
    pub fn from_env(classes: &[&str]) -> Result<Self, ConfigError> {
        Self::from_lookup(&|name| std::env::var(name).ok(), classes)
    }

    /// Reads variables through `get` (tests pass a map); every bad variable is reported.
    pub fn from_lookup(
        get: &dyn Fn(&str) -> Option<String>,
        classes: &[&str],
    ) -> Result<Self, ConfigError> {
        let defaults = Self::default();
        let mut r = Reader::new(get);
        let default = read_limit(&mut r, "RATE_LIMIT_DEFAULT", None);
        let mut read_classes: Vec<(String, Option<Limit>)> = Vec::with_capacity(classes.len());
        for class in classes {
            if read_classes.iter().any(|(name, _)| name == class) {
                continue;
            }
            let Some(var) = class_variable(class) else {
                r.problem(
                    "RATE_LIMIT_<CLASS>",
                    (*class).to_owned(),
                    "a rate class name of ASCII letters, digits, '-', '_' and '.'",
                );
                continue;
            };
            let limit = read_limit(&mut r, static_name(var), default);
            read_classes.push(((*class).to_owned(), limit));
        }
        let redis = r.parse("RATE_LIMIT_STORE", false, "memory or redis", |v| match v {
            "memory" => Some(false),
            "redis" => Some(true),
            _ => None,
        });
        let max_subjects = r.parse(
            "RATE_LIMIT_MAX_SUBJECTS",
            defaults.max_subjects,
            "a bucket count above 0",
            |v| v.parse().ok().filter(|n| *n > 0),
        );
        let trusted_proxies = r.parse(
            "RATE_LIMIT_TRUSTED_PROXIES",
            TrustedProxies::default(),
            "comma-separated IP addresses or CIDR ranges (10.0.0.0/8,fd00::/8)",
            TrustedProxies::parse,
        );
        let store = match read_redis(
            &mut r,
            redis,
            "RATE_LIMIT_REDIS_PREFIX",
            "rl:",
            "a redis:// URL (RATE_LIMIT_STORE=redis needs it)",
        ) {
            Some(settings) => RateLimitStore::Redis(settings),
            None => RateLimitStore::Memory,
        };
        r.finish(Self {
            default,
            classes: read_classes,
            store,
            max_subjects,
            trusted_proxies,
        })
    }
}

fn read_limit(r: &mut Reader<'_>, var: &'static str, unset: Option<Limit>) -> Option<Limit> {
    let Some(value) = r.get(var) else {
        return unset;
    };
    match parse_limit(&value) {
        Ok(limit) => limit,
        Err(expected) => {
            r.problem(var, value, expected);
            unset
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::time::Duration;

    use super::*;

    fn read(vars: &[(&str, &str)], classes: &[&str]) -> Result<RateLimitConfig, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        RateLimitConfig::from_lookup(&move |k| map.get(k).cloned(), classes)
    }

    fn per_second(count: u32, burst: u32) -> Option<Limit> {
        Some(Limit {
            count,
            period: Duration::from_secs(1),
            burst,
        })
    }

    #[test]
    fn class_names_become_variables() {
        assert_eq!(
            class_variable("queue-join").as_deref(),
            Some("RATE_LIMIT_QUEUE_JOIN")
        );
        assert_eq!(
            class_variable("v1.pay_x").as_deref(),
            Some("RATE_LIMIT_V1_PAY_X")
        );
        assert_eq!(class_variable(""), None);
        assert_eq!(class_variable("a:b"), None);
        assert_eq!(class_variable("é"), None);
    }

    #[test]
    fn classes_fall_back_to_the_default() {
        let config = read(
            &[
                ("RATE_LIMIT_DEFAULT", "100/s"),
                ("RATE_LIMIT_QUEUE_JOIN", "20/s burst 40"),
                ("RATE_LIMIT_PAY", "off"),
            ],
            &["queue-join", "pay", "browse", "queue-join"],
        )
        .unwrap();
        assert_eq!(config.default, per_second(100, 100));
        assert_eq!(
            config.classes,
            vec![
                ("queue-join".to_owned(), per_second(20, 40)),
                ("pay".to_owned(), None),
                ("browse".to_owned(), per_second(100, 100)),
            ]
        );
        assert_eq!(config.store, RateLimitStore::Memory);
    }

    #[test]
    fn unset_means_unlimited() {
        let config = read(&[], &["browse"]).unwrap();
        assert_eq!(config.default, None);
        assert_eq!(config.classes, vec![("browse".to_owned(), None)]);
    }

    #[test]
    fn every_problem_is_reported_with_its_variable() {
        let err = read(
            &[
                ("RATE_LIMIT_DEFAULT", "lots"),
                ("RATE_LIMIT_QUEUE_JOIN", "20/d"),
                ("RATE_LIMIT_STORE", "redis"),
            ],
            &["queue-join", "bad:class"],
        )
        .unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("RATE_LIMIT_DEFAULT=\"lots\": expected a rate"),
            "{text}"
        );
        assert!(
            text.contains("RATE_LIMIT_QUEUE_JOIN=\"20/d\": expected a unit of s, m or h"),
            "{text}"
        );
        assert!(text.contains("\"bad:class\""), "{text}");
        assert!(text.contains("REDIS_URL"), "{text}");
        assert_eq!(err.problems.len(), 4);
    }

    #[test]
    fn redis_store() {
        let config = read(
            &[
                ("RATE_LIMIT_STORE", "redis"),
                ("REDIS_URL", "redis://127.0.0.1:1/"),
            ],
            &[],
        )
        .unwrap();
        let RateLimitStore::Redis(settings) = config.store else {
            panic!("expected redis");
        };
        assert_eq!(settings.prefix, "rl:");
    }
}
