//! Idempotency keys: the first call with a key runs, later calls with it get its outcome.
//!
//! Protocol-neutral: the caller reads the `Idempotency-Key` header or metadata, checks it with
//! [`Idempotency::validate_key`], builds a scope (method path, principal or client id, key) and a
//! fingerprint (SHA-256 of the prost-encoded request), and asks [`Idempotency::begin`]:
//!
//! * [`Begin::Run`]: the key is new (or its last holder gave it up). Run the handler, then
//!   [`complete`](Idempotency::complete) with its outcome, or [`release`](Idempotency::release)
//!   when it was cancelled or hit its deadline so the key may be used again.
//! * [`Begin::Replay`]: answer the stored outcome; it is the same over REST and gRPC.
//! * [`Begin::InProgress`]: the first call still runs (suggested: `ABORTED`, HTTP 409).
//! * [`Begin::Mismatch`]: the key was used for a different request. Suggested: `ALREADY_EXISTS`,
//!   which maps to HTTP 409 in the runtime's table. 422 would say "your request is malformed",
//!   but the request is fine on its own; it conflicts with what the key already stands for, and
//!   409 keeps the gRPC and REST forms one mapping apart.
//!
//! A running call holds a lease of [`IdempotencyConfig::lock`]. Each lease carries a fencing
//! token unique to it: when a lease runs out and someone else takes the key, the old holder's
//! `complete` and `release` find a different token and change nothing
//! ([`Completion::LeaseLost`]). Outcomes expire [`IdempotencyConfig::ttl`] after completion.
//!
//! A store error means nothing is known about the key: the caller must fail closed (`UNAVAILABLE`)
//! and not run the handler.

mod config;
mod memory;
mod outcome;
mod redis;

use std::fmt;

pub use self::config::{IdempotencyConfig, IdempotencyStore};
pub use self::outcome::{DecodeError, StoredOutcome};
pub use crate::store::{RedisSettings, StoreError};

/// The answer to [`Idempotency::begin`].
#[derive(Debug)]
pub enum Begin {
    /// Run the call; finish with [`Idempotency::complete`] or [`Idempotency::release`].
    Run(Lease),
    /// The key's call already finished with this outcome.
    Replay(StoredOutcome),
    /// The key's first call still runs.
    InProgress,
    /// The key belongs to a different request (another fingerprint).
    Mismatch,
}

/// The right to run a key's call, until the lease runs out. Hand it back to
/// [`Idempotency::complete`] or [`Idempotency::release`]; a lease that is dropped instead keeps
/// the key busy until it runs out.
#[derive(Debug, PartialEq, Eq)]
pub struct Lease {
    scope: String,
    token: u64,
}

impl Lease {
    /// The fencing token of this lease (unique per lease, for logs).
    pub fn token(&self) -> u64 {
        self.token
    }
}

/// The answer to [`Idempotency::complete`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Completion {
    /// The outcome is stored; replays return it.
    Stored,
    /// The lease ran out (and the key may have a newer holder): nothing was stored.
    LeaseLost,
}

/// Why an `Idempotency-Key` value is refused (a client error: `INVALID_ARGUMENT`, HTTP 400).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum InvalidKey {
    /// The key is empty.
    #[error("the idempotency key is empty")]
    Empty,
    /// The key is longer than allowed.
    #[error("the idempotency key is longer than {max} bytes")]
    TooLong {
        /// The limit, `IDEMPOTENCY_KEY_MAX_BYTES`.
        max: usize,
    },
    /// The key holds a byte outside visible ASCII (`!` to `~`).
    #[error("the idempotency key may hold only visible ASCII characters")]
    NotVisibleAscii,
}

enum Backend {
    Memory(memory::MemoryStore),
    Redis(redis::RedisStore),
}

/// The idempotency store; one per process, shared by every thread (`Send + Sync`).
pub struct Idempotency {
    backend: Backend,
    config: IdempotencyConfig,
}

impl fmt::Debug for Idempotency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Idempotency")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Idempotency {
    /// The store `config.store` names. The Redis store connects lazily: call it inside a Tokio
    /// runtime; it starts while Redis is down and its calls fail until Redis is back.
    pub fn new(config: IdempotencyConfig) -> Result<Self, StoreError> {
        match config.store.clone() {
            IdempotencyStore::Memory => Ok(Self::memory(config)),
            IdempotencyStore::Redis(settings) => Self::redis(&settings, config),
        }
    }

    /// An in-memory store for this process, whatever `config.store` says.
    pub fn memory(config: IdempotencyConfig) -> Self {
        Self {
            backend: Backend::Memory(memory::MemoryStore::new(config.max_keys)),
            config,
        }
    }

    /// A Redis store on `settings`, whatever `config.store` says.
    pub fn redis(settings: &RedisSettings, config: IdempotencyConfig) -> Result<Self, StoreError> {
        Ok(Self {
            backend: Backend::Redis(redis::RedisStore::open(settings)?),
            config,
        })
    }

    /// The settings in force.
    pub fn config(&self) -> &IdempotencyConfig {
        &self.config
    }

    /// Checks a client's key: not empty, at most `IDEMPOTENCY_KEY_MAX_BYTES`, visible ASCII.
    pub fn validate_key<'k>(&self, key: &'k [u8]) -> Result<&'k str, InvalidKey> {
        if key.is_empty() {
            return Err(InvalidKey::Empty);
        }
        if key.len() > self.config.key_max_bytes {
            return Err(InvalidKey::TooLong {
                max: self.config.key_max_bytes,
            });
        }
        if !key.iter().all(|b| (0x21..=0x7e).contains(b)) {
            return Err(InvalidKey::NotVisibleAscii);
        }
        // Visible ASCII is UTF-8.
        std::str::from_utf8(key).map_err(|_| InvalidKey::NotVisibleAscii)
    }

    /// The scope of `key` for `method` (its path, the same over both protocols) called by
    /// `principal` (the subject, or a client id when anonymous). No two different triples give
    /// the same scope: the principal, which may hold any character, is length-prefixed, and the
    /// method path and a valid key hold no space.
    pub fn scope(method: &str, principal: &str, key: &str) -> String {
        format!("{method} {}:{principal} {key}", principal.len())
    }

    /// Claims `scope` (see [`scope`](Self::scope)) for a call whose request has `fingerprint`,
    /// or reports why not.
    pub async fn begin(&self, scope: &str, fingerprint: [u8; 32]) -> Result<Begin, StoreError> {
        match &self.backend {
            Backend::Memory(m) => m.begin(scope, fingerprint, self.config.lock),
            Backend::Redis(r) => r.begin(scope, fingerprint, self.config.lock).await,
        }
    }

    /// Stores the outcome of the call `lease` ran, for `ttl`, unless the lease ran out.
    pub async fn complete(
        &self,
        lease: Lease,
        outcome: &StoredOutcome,
    ) -> Result<Completion, StoreError> {
        match &self.backend {
            Backend::Memory(m) => m.complete(lease, outcome, self.config.ttl),
            Backend::Redis(r) => r.complete(lease, outcome, self.config.ttl).await,
        }
    }

    /// Gives the key up without an outcome (the call was cancelled or missed its deadline), so
    /// the next call with it runs. A failure is logged: the lease runs out on its own.
    pub async fn release(&self, lease: Lease) {
        match &self.backend {
            Backend::Memory(m) => m.release(lease),
            Backend::Redis(r) => {
                if let Err(err) = r.release(&lease).await {
                    tracing::warn!(
                        error = %err,
                        "could not release an idempotency key; it frees up when its lease runs out"
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_checked() {
        let store = Idempotency::memory(IdempotencyConfig {
            key_max_bytes: 8,
            ..IdempotencyConfig::default()
        });
        assert_eq!(store.validate_key(b"a-B_9~!"), Ok("a-B_9~!"));
        assert_eq!(store.validate_key(b"12345678"), Ok("12345678"));
        assert_eq!(store.validate_key(b""), Err(InvalidKey::Empty));
        assert_eq!(
            store.validate_key(b"123456789"),
            Err(InvalidKey::TooLong { max: 8 })
        );
        for bad in [&b"a b"[..], b"a\tb", b"caf\xc3\xa9", b"a\x7f", b"\0"] {
            assert_eq!(store.validate_key(bad), Err(InvalidKey::NotVisibleAscii));
        }
    }

    #[test]
    fn scopes_do_not_collide() {
        assert_eq!(
            Idempotency::scope("/shop.v1.Shop/Pay", "alice", "k-1"),
            "/shop.v1.Shop/Pay 5:alice k-1"
        );
        assert_ne!(
            Idempotency::scope("/m", "a 1:b", "k"),
            Idempotency::scope("/m", "a", "1:b k")
        );
        assert_ne!(
            Idempotency::scope("/m", "a b", "k"),
            Idempotency::scope("/m", "a", "b k")
        );
    }

    #[test]
    fn the_store_is_shareable() {
        fn shareable<T: Send + Sync>() {}
        shareable::<Idempotency>();
    }
}
