//! Rate limits: a token bucket per subject (the principal, or the client IP when anonymous) for
//! each rate class the services name (`rate = "queue-join"`), plus a default for the rest. The
//! client IP is the peer's, or behind proxies named in `RATE_LIMIT_TRUSTED_PROXIES` the one
//! they forwarded for ([`TrustedProxies`]).
//!
//! One [`RateLimiter`] per process, shared by every runtime thread. The memory store limits each
//! process on its own and costs a hash lookup under one of many locks; the Redis store shares the
//! buckets across a fleet at one script call per check, timed by the Redis server's clock.
//!
//! The caller maps [`Decision::Limited`] to `RESOURCE_EXHAUSTED` with `RetryInfo` (REST: 429 and
//! `Retry-After`), and decides whether a [`StoreError`] fails open or closed.
//!
//! Settings and their grammar: [`config`](RateLimitConfig) and [`Limit`].
//!
//! # Cost
//!
//! A memory check measured 130–190 ns (this crate at opt-level 3, one thread, 10,000 subjects cycled,
//! on a busy two-core machine; 0.8 µs unoptimised): two hashes of the subject (shard, then map),
//! one uncontended lock, one clock read. Run the ignored test `memory_check_cost` to repeat it.
//! A Redis check costs the server about 8 µs per script call (`INFO commandstats`, Redis 7.0);
//! the integration test `redis_check_cost` prints it with the round trip.

mod client_ip;
mod config;
mod limit;
mod memory;
mod redis;

use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use http::HeaderMap;

pub use self::client_ip::TrustedProxies;
pub use self::config::{class_variable, RateLimitConfig, RateLimitStore};
pub use self::limit::Limit;
pub use crate::store::{RedisSettings, StoreError};
use limit::Pace;

/// The answer to [`RateLimiter::check`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// The call may proceed; it took a token.
    Allowed,
    /// The bucket is empty; a token is back after `retry_after`.
    Limited {
        /// When the next call by this subject in this class would be allowed.
        retry_after: Duration,
    },
}

/// One class's settings, resolved once.
struct Class {
    name: String,
    /// `None`: unlimited.
    limit: Option<Limit>,
    nanos: Pace,
    micros: Pace,
    /// Redis key prefix: store prefix, class name, `:`.
    key_prefix: String,
}

enum Buckets {
    Memory(memory::MemoryBuckets),
    Redis(redis::RedisBuckets),
}

/// The rate limiter; one per process (`Send + Sync`).
pub struct RateLimiter {
    /// Index 0 is the default (methods without a class, and classes not configured).
    classes: Vec<Class>,
    buckets: Buckets,
    trusted_proxies: TrustedProxies,
}

impl fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_map();
        for class in &self.classes {
            d.entry(&class.name, &class.limit);
        }
        d.finish()
    }
}

fn classes(config: &RateLimitConfig, prefix: &str) -> Vec<Class> {
    let class = |name: &str, limit: Option<Limit>| {
        let unlimited = Pace {
            interval: 0,
            tolerance: 0,
        };
        Class {
            name: name.to_owned(),
            limit,
            nanos: limit.map_or(unlimited, |l| Pace::new(&l, 1_000_000_000)),
            micros: limit.map_or(unlimited, |l| Pace::new(&l, 1_000_000)),
            key_prefix: format!("{prefix}{name}:"),
        }
    };
    std::iter::once(class("", config.default))
        .chain(
            config
                .classes
                .iter()
                .map(|(name, limit)| class(name, *limit)),
        )
        .collect()
}

impl RateLimiter {
    /// The limiter on the store `config.store` names. The Redis store connects lazily: call it
    /// inside a Tokio runtime.
    pub fn new(config: &RateLimitConfig) -> Result<Self, StoreError> {
        match &config.store {
            RateLimitStore::Memory => Ok(Self::memory(config)),
            RateLimitStore::Redis(settings) => Self::redis(settings, config),
        }
    }

    /// A limiter for this process alone, whatever `config.store` says.
    pub fn memory(config: &RateLimitConfig) -> Self {
        let classes = classes(config, "");
        Self {
            buckets: Buckets::Memory(memory::MemoryBuckets::new(
                classes.len(),
                config.max_subjects,
            )),
            classes,
            trusted_proxies: config.trusted_proxies.clone(),
        }
    }

    /// A limiter sharing its buckets through Redis, whatever `config.store` says.
    pub fn redis(settings: &RedisSettings, config: &RateLimitConfig) -> Result<Self, StoreError> {
        let buckets = redis::RedisBuckets::open(settings)?;
        Ok(Self {
            classes: classes(config, &buckets.prefix),
            buckets: Buckets::Redis(buckets),
            trusted_proxies: config.trusted_proxies.clone(),
        })
    }

    /// The index of `class`'s settings and buckets; the default's for `None` and unknown names.
    fn index(&self, class: Option<&str>) -> usize {
        class
            .and_then(|name| self.classes[1..].iter().position(|c| c.name == name))
            .map_or(0, |i| i + 1)
    }

    /// The limit in force for `class` (`None`: unlimited). A class the configuration was not
    /// built with is limited by the default, in the default's buckets.
    pub fn limit(&self, class: Option<&str>) -> Option<Limit> {
        self.classes[self.index(class)].limit
    }

    /// Takes a token from `subject`'s bucket in `class` (`None`: the default), or says when one
    /// is back.
    pub async fn check(
        &self,
        class: Option<&'static str>,
        subject: &str,
    ) -> Result<Decision, StoreError> {
        let index = self.index(class);
        let class = &self.classes[index];
        if class.limit.is_none() {
            return Ok(Decision::Allowed);
        }
        match &self.buckets {
            Buckets::Memory(m) => m.check(index, class.nanos, subject),
            Buckets::Redis(r) => r.check(&class.key_prefix, class.micros, subject).await,
        }
    }

    /// The address an anonymous call from `peer` is counted against: `peer`, or the client a
    /// trusted proxy forwarded for (see [`TrustedProxies`]).
    pub fn client_ip(&self, peer: Option<IpAddr>, headers: &HeaderMap) -> Option<IpAddr> {
        self.trusted_proxies.client_ip(peer, headers)
    }

    /// Memory store: buckets held now. Redis store: `None`.
    pub fn buckets_held(&self) -> Option<usize> {
        match &self.buckets {
            Buckets::Memory(m) => Some(m.len()),
            Buckets::Redis(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;

    fn limiter(vars: &[(&str, &str)], classes: &[&str]) -> RateLimiter {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let get = move |k: &str| vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        RateLimiter::memory(&RateLimitConfig::from_lookup(&get, classes).unwrap())
    }

    #[tokio::test]
    async fn buckets_are_per_subject_and_class() {
        let limiter = limiter(
            &[("RATE_LIMIT_JOIN", "2/m"), ("RATE_LIMIT_DEFAULT", "1/m")],
            &["join", "open"],
        );
        for _ in 0..2 {
            assert_eq!(
                limiter.check(Some("join"), "alice").await,
                Ok(Decision::Allowed)
            );
        }
        let Ok(Decision::Limited { retry_after }) = limiter.check(Some("join"), "alice").await
        else {
            panic!("third call within the minute must be limited");
        };
        assert!(retry_after > Duration::from_secs(29) && retry_after <= Duration::from_secs(30));
        // Other subjects, other classes, the default: separate buckets.
        assert_eq!(
            limiter.check(Some("join"), "bob").await,
            Ok(Decision::Allowed)
        );
        assert_eq!(
            limiter.check(Some("open"), "alice").await,
            Ok(Decision::Allowed)
        );
        assert_eq!(limiter.check(None, "alice").await, Ok(Decision::Allowed));
        assert!(matches!(
            limiter.check(None, "alice").await,
            Ok(Decision::Limited { .. })
        ));
        // A class the configuration does not know uses the default's buckets.
        assert!(matches!(
            limiter.check(Some("unknown"), "alice").await,
            Ok(Decision::Limited { .. })
        ));
    }

    #[tokio::test]
    async fn unlimited_classes_hold_no_buckets() {
        let limiter = limiter(&[("RATE_LIMIT_JOIN", "off")], &["join"]);
        for i in 0..100 {
            let subject = format!("s{i}");
            assert_eq!(
                limiter.check(Some("join"), &subject).await,
                Ok(Decision::Allowed)
            );
            assert_eq!(limiter.check(None, &subject).await, Ok(Decision::Allowed));
        }
        assert_eq!(limiter.buckets_held(), Some(0));
    }

    #[tokio::test]
    async fn the_subject_bound_is_enforced() {
        let limiter = limiter(
            &[
                ("RATE_LIMIT_DEFAULT", "1/h"),
                ("RATE_LIMIT_MAX_SUBJECTS", "64"),
            ],
            &[],
        );
        let mut full = 0;
        for i in 0..1_000 {
            match limiter.check(None, &format!("s{i}")).await {
                Ok(Decision::Allowed) => {}
                Err(StoreError::Full(_)) => full += 1,
                other => panic!("unexpected {other:?}"),
            }
        }
        assert!(full > 0);
        assert!(limiter.buckets_held().unwrap() <= 64);
    }

    #[test]
    fn the_limiter_is_shareable() {
        fn shareable<T: Send + Sync>() {}
        shareable::<RateLimiter>();
    }

    /// Prints the cost of a memory check; run with `--ignored --nocapture`.
    #[test]
    #[ignore = "timing, not a correctness test"]
    fn memory_check_cost() {
        let limiter = limiter(&[("RATE_LIMIT_JOIN", "1000000000/s")], &["join"]);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let subjects: Vec<String> = (0..10_000).map(|i| format!("user-{i}")).collect();
        runtime.block_on(async {
            for subject in &subjects {
                limiter.check(Some("join"), subject).await.unwrap();
            }
            let rounds = 200;
            let start = Instant::now();
            for _ in 0..rounds {
                for subject in &subjects {
                    std::hint::black_box(limiter.check(Some("join"), subject).await.unwrap());
                }
            }
            let per_check = start.elapsed() / (rounds * subjects.len() as u32);
            println!("memory check: {per_check:?} per call (10,000 subjects, one thread)");
        });
    }
}
