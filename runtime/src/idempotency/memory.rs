//! The in-memory store: sharded maps behind mutexes, expired entries swept as calls come.

use std::collections::hash_map::{Entry as MapEntry, HashMap};
use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::{Begin, Completion, Lease, StoreError, StoredOutcome};

/// Enough shards that threads rarely meet on one lock.
const SHARDS: usize = 16;
/// How often a shard drops its expired entries (also whenever it is full).
const SWEEP_EVERY: Duration = Duration::from_secs(1);

enum State {
    Running,
    Done(StoredOutcome),
}

struct Entry {
    fingerprint: [u8; 32],
    token: u64,
    state: State,
    /// End of the lease while running; end of the replay period once done.
    expires: Instant,
}

struct Shard {
    entries: HashMap<String, Entry>,
    next_sweep: Instant,
}

impl Shard {
    fn sweep(&mut self, now: Instant) {
        self.entries.retain(|_, e| e.expires > now);
        self.next_sweep = now + SWEEP_EVERY;
    }
}

pub(super) struct MemoryStore {
    shards: Vec<Mutex<Shard>>,
    hasher: RandomState,
    per_shard: usize,
    next_token: AtomicU64,
}

impl MemoryStore {
    pub(super) fn new(max_keys: usize) -> Self {
        let now = Instant::now();
        Self {
            shards: (0..SHARDS)
                .map(|_| {
                    Mutex::new(Shard {
                        entries: HashMap::new(),
                        next_sweep: now + SWEEP_EVERY,
                    })
                })
                .collect(),
            hasher: RandomState::new(),
            per_shard: max_keys.div_ceil(SHARDS).max(1),
            next_token: AtomicU64::new(1),
        }
    }

    fn shard(&self, scope: &str) -> std::sync::MutexGuard<'_, Shard> {
        let index = self.hasher.hash_one(scope) as usize % SHARDS;
        // A panic while holding the lock cannot leave an entry half-written: every update is
        // one assignment.
        self.shards[index]
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(super) fn begin(
        &self,
        scope: &str,
        fingerprint: [u8; 32],
        lock: Duration,
    ) -> Result<Begin, StoreError> {
        let now = Instant::now();
        let mut shard = self.shard(scope);
        if now >= shard.next_sweep {
            shard.sweep(now);
        }
        if let Some(entry) = shard.entries.get(scope).filter(|e| e.expires > now) {
            if entry.fingerprint != fingerprint {
                return Ok(Begin::Mismatch);
            }
            return Ok(match &entry.state {
                State::Done(outcome) => Begin::Replay(outcome.clone()),
                State::Running => Begin::InProgress,
            });
        }
        if shard.entries.len() >= self.per_shard && !shard.entries.contains_key(scope) {
            shard.sweep(now);
            if shard.entries.len() >= self.per_shard {
                return Err(StoreError::Full(format!(
                    "{} idempotency keys held",
                    self.per_shard * SHARDS
                )));
            }
        }
        let token = self.next_token.fetch_add(1, Ordering::Relaxed);
        shard.entries.insert(
            scope.to_owned(),
            Entry {
                fingerprint,
                token,
                state: State::Running,
                expires: now + lock,
            },
        );
        Ok(Begin::Run(Lease {
            scope: scope.to_owned(),
            token,
        }))
    }

    pub(super) fn complete(
        &self,
        lease: Lease,
        outcome: &StoredOutcome,
        ttl: Duration,
    ) -> Result<Completion, StoreError> {
        let now = Instant::now();
        let mut shard = self.shard(&lease.scope);
        match shard.entries.get_mut(&lease.scope) {
            Some(entry)
                if entry.token == lease.token
                    && entry.expires > now
                    && matches!(entry.state, State::Running) =>
            {
                entry.state = State::Done(outcome.clone());
                entry.expires = now + ttl;
                Ok(Completion::Stored)
            }
            _ => Ok(Completion::LeaseLost),
        }
    }

    pub(super) fn release(&self, lease: Lease) {
        let mut shard = self.shard(&lease.scope);
        if let MapEntry::Occupied(entry) = shard.entries.entry(lease.scope) {
            let e = entry.get();
            if e.token == lease.token && matches!(e.state, State::Running) {
                entry.remove();
            }
        }
    }
}
