//! The in-memory buckets: one arrival time per (class, subject), in sharded maps.
//!
//! A check locks one shard for a hash lookup and an integer update; nothing is allocated unless
//! the subject is new. A bucket whose arrival time has passed is full, exactly as if it had never
//! been used, so sweeping it away changes no answer; each shard sweeps itself at most once a
//! second, on a check that comes anyway. Memory is thus bounded by the subjects seen within one
//! refill time, and hard-capped by `max_subjects`.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::limit::{gcra, Pace};
use super::{Decision, StoreError};

const SHARDS: usize = 64;
const SWEEP_EVERY_NANOS: u64 = 1_000_000_000;

/// Keeps each shard's lock on its own cache line, so threads on different shards do not contend.
#[repr(align(128))]
struct Padded(Mutex<Shard>);

struct Shard {
    /// Per class (by index), subject → arrival time in ns since `base`.
    classes: Vec<HashMap<Box<str>, u64>>,
    next_sweep: u64,
}

impl Shard {
    fn sweep(&mut self, now: u64) {
        for buckets in &mut self.classes {
            buckets.retain(|_, tat| *tat > now);
        }
        self.next_sweep = now + SWEEP_EVERY_NANOS;
    }

    fn len(&self) -> usize {
        self.classes.iter().map(HashMap::len).sum()
    }
}

pub(super) struct MemoryBuckets {
    shards: Box<[Padded]>,
    hasher: RandomState,
    base: Instant,
    per_shard: usize,
}

impl MemoryBuckets {
    pub(super) fn new(classes: usize, max_subjects: usize) -> Self {
        Self {
            shards: (0..SHARDS)
                .map(|_| {
                    Padded(Mutex::new(Shard {
                        classes: (0..classes).map(|_| HashMap::new()).collect(),
                        next_sweep: SWEEP_EVERY_NANOS,
                    }))
                })
                .collect(),
            hasher: RandomState::new(),
            base: Instant::now(),
            per_shard: max_subjects.div_ceil(SHARDS).max(1),
        }
    }

    pub(super) fn check(
        &self,
        class: usize,
        pace: Pace,
        subject: &str,
    ) -> Result<Decision, StoreError> {
        let shard = &self.shards[self.hasher.hash_one(subject) as usize % SHARDS];
        // Every update is one integer store, so a poisoned lock holds consistent data.
        let mut shard = shard.0.lock().unwrap_or_else(|e| e.into_inner());
        let now = self.base.elapsed().as_nanos() as u64;
        if now >= shard.next_sweep {
            shard.sweep(now);
        }
        if let Some(tat) = shard.classes[class].get_mut(subject) {
            return Ok(match gcra(*tat, now, pace) {
                Ok(next) => {
                    *tat = next;
                    Decision::Allowed
                }
                Err(wait) => Decision::Limited {
                    retry_after: Duration::from_nanos(wait),
                },
            });
        }
        if shard.len() >= self.per_shard {
            shard.sweep(now);
            if shard.len() >= self.per_shard {
                return Err(StoreError::Full(format!(
                    "{} rate-limit buckets held",
                    self.per_shard * SHARDS
                )));
            }
        }
        // A new subject's bucket is full: the call is allowed.
        let next = gcra(now, now, pace).unwrap_or(now);
        shard.classes[class].insert(subject.into(), next);
        Ok(Decision::Allowed)
    }

    /// Buckets held (for tests of the eviction).
    pub(super) fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.0.lock().unwrap_or_else(|e| e.into_inner()).len())
            .sum()
    }
}
