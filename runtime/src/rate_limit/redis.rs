//! The Redis buckets: one string per (class, subject) holding its arrival time, one script call
//! per check, the server's clock for every replica.
//!
//! The key expires when the bucket is full again, so idle subjects cost nothing. A check that
//! is run twice (a lost reply resent) takes two tokens: the client never resends, and a second
//! token is the harmless side of the error.

use std::time::Duration;

use redis::Script;

use super::limit::Pace;
use super::{Decision, StoreError};
use crate::store::{RedisLink, RedisSettings};

/// `ARGV[1]` interval, `ARGV[2]` tolerance, both µs. Returns 0 when allowed, else the wait in µs.
const CHECK: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
local ahead = tat - now
local tolerance = tonumber(ARGV[2])
if ahead > tolerance then return ahead - tolerance end
tat = tat + tonumber(ARGV[1])
redis.call('SET', KEYS[1], string.format('%d', tat), 'PX', string.format('%d', math.floor((tat - now) / 1000) + 1))
return 0
"#;

pub(super) struct RedisBuckets {
    link: RedisLink,
    pub(super) prefix: String,
    check: Script,
}

impl RedisBuckets {
    pub(super) fn open(settings: &RedisSettings) -> Result<Self, StoreError> {
        Ok(Self {
            link: RedisLink::open(&settings.url, settings.timeout)?,
            prefix: settings.prefix.clone(),
            check: Script::new(CHECK),
        })
    }

    /// `key_prefix` is the store prefix plus the class segment.
    pub(super) async fn check(
        &self,
        key_prefix: &str,
        pace: Pace,
        subject: &str,
    ) -> Result<Decision, StoreError> {
        let mut key = String::with_capacity(key_prefix.len() + subject.len());
        key.push_str(key_prefix);
        key.push_str(subject);
        let mut inv = self.check.prepare_invoke();
        inv.key(key).arg(pace.interval).arg(pace.tolerance);
        let wait: i64 = self.link.invoke(&inv).await?;
        Ok(match u64::try_from(wait) {
            Ok(0) => Decision::Allowed,
            Ok(micros) => Decision::Limited {
                retry_after: Duration::from_micros(micros),
            },
            Err(_) => {
                return Err(StoreError::Internal(format!(
                    "negative rate-limit wait {wait}"
                )))
            }
        })
    }
}
