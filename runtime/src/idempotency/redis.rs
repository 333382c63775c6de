//! The Redis store: one hash per key, one script call per operation.
//!
//! Layout of `<prefix><scope>` (a hash, with the key's expiry as the only clock):
//!
//! | field | contents |
//! |---|---|
//! | `f` | the request fingerprint (32 bytes) |
//! | `s` | `r` running, `d` done |
//! | `t` | the lease's fencing token |
//! | `o` | the encoded [`StoredOutcome`] once done |
//!
//! A running key expires when its lease does, so a crashed holder frees the key without a sweep;
//! a done key expires after the replay period. Every script is safe to run twice with the same
//! arguments (a begin finds its own token and answers `Run` again, a complete finds its own
//! outcome), so a lost reply never turns into a wrong answer.

use std::time::Duration;

use bytes::Bytes;
use redis::{Script, Value};

use super::{Begin, Completion, Lease, StoreError, StoredOutcome};
use crate::store::{random_token, RedisLink, RedisSettings};

const BEGIN: &str = r#"
local v = redis.call('HMGET', KEYS[1], 'f', 's', 't', 'o')
if not v[1] then
  redis.call('HSET', KEYS[1], 'f', ARGV[1], 's', 'r', 't', ARGV[2])
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return {'run'}
end
if v[1] ~= ARGV[1] then return {'mismatch'} end
if v[2] == 'd' then return {'replay', v[4]} end
if v[3] == ARGV[2] then return {'run'} end
return {'busy'}
"#;

const COMPLETE: &str = r#"
local v = redis.call('HMGET', KEYS[1], 's', 't')
if v[2] ~= ARGV[1] then return 0 end
if v[1] == 'r' then
  redis.call('HSET', KEYS[1], 's', 'd', 'o', ARGV[2])
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
end
return 1
"#;

const RELEASE: &str = r#"
local v = redis.call('HMGET', KEYS[1], 's', 't')
if v[1] == 'r' and v[2] == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 0
"#;

pub(super) struct RedisStore {
    link: RedisLink,
    prefix: String,
    begin: Script,
    complete: Script,
    release: Script,
}

fn millis(d: Duration) -> u64 {
    (d.as_millis() as u64).max(1)
}

impl RedisStore {
    pub(super) fn open(settings: &RedisSettings) -> Result<Self, StoreError> {
        Ok(Self {
            link: RedisLink::open(&settings.url, settings.timeout)?,
            prefix: settings.prefix.clone(),
            begin: Script::new(BEGIN),
            complete: Script::new(COMPLETE),
            release: Script::new(RELEASE),
        })
    }

    fn key(&self, scope: &str) -> String {
        let mut key = String::with_capacity(self.prefix.len() + scope.len());
        key.push_str(&self.prefix);
        key.push_str(scope);
        key
    }

    pub(super) async fn begin(
        &self,
        scope: &str,
        fingerprint: [u8; 32],
        lock: Duration,
    ) -> Result<Begin, StoreError> {
        let token = random_token();
        let mut inv = self.begin.prepare_invoke();
        inv.key(self.key(scope))
            .arg(&fingerprint[..])
            .arg(token)
            .arg(millis(lock));
        let reply: Vec<Value> = self.link.invoke(&inv).await?;
        match reply.as_slice() {
            [Value::BulkString(answer)] if answer == b"run" => Ok(Begin::Run(Lease {
                scope: scope.to_owned(),
                token,
            })),
            [Value::BulkString(answer)] if answer == b"mismatch" => Ok(Begin::Mismatch),
            [Value::BulkString(answer)] if answer == b"busy" => Ok(Begin::InProgress),
            [Value::BulkString(answer), Value::BulkString(stored)] if answer == b"replay" => {
                StoredOutcome::decode(Bytes::copy_from_slice(stored))
                    .map(Begin::Replay)
                    .map_err(|e| StoreError::Internal(e.to_string()))
            }
            other => Err(StoreError::Internal(format!(
                "unexpected idempotency begin reply {other:?}"
            ))),
        }
    }

    pub(super) async fn complete(
        &self,
        lease: Lease,
        outcome: &StoredOutcome,
        ttl: Duration,
    ) -> Result<Completion, StoreError> {
        let mut inv = self.complete.prepare_invoke();
        inv.key(self.key(&lease.scope))
            .arg(lease.token)
            .arg(&outcome.encode()[..])
            .arg(millis(ttl));
        let stored: i64 = self.link.invoke(&inv).await?;
        Ok(if stored == 1 {
            Completion::Stored
        } else {
            Completion::LeaseLost
        })
    }

    pub(super) async fn release(&self, lease: &Lease) -> Result<(), StoreError> {
        let mut inv = self.release.prepare_invoke();
        inv.key(self.key(&lease.scope)).arg(lease.token);
        self.link.invoke::<i64>(&inv).await.map(|_| ())
    }
}
