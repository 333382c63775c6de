//! Verified tokens, remembered until they expire, so a token seen again skips its signature
//! check (a buyer polling the waiting room sends the same token every few seconds).
//!
//! Only successful verifications are stored, keyed by the whole token: a hit means these exact
//! bytes were verified before. An entry lasts until the earlier of the token's `exp` (plus the
//! leeway, as verification allows) and a maximum age (the JWKS refresh age, so the key set is
//! still refreshed on time), and only while the key set it was verified against is current: a
//! new JWKS, which may have withdrawn the key, makes every entry verify again. The cache is
//! bounded: a full shard first drops its expired entries, then, if still full, everything.

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::context::Principal;

/// Shards, so threads verifying at once rarely wait for each other.
const SHARDS: usize = 16;

/// One shard: tokens by their exact text.
type Shard = Mutex<HashMap<Box<str>, Entry>>;

/// Verified tokens and the principals they carry.
pub(crate) struct TokenCache {
    shards: Box<[Shard]>,
    per_shard: usize,
    max_age: Duration,
    leeway: Duration,
    hasher: std::collections::hash_map::RandomState,
}

struct Entry {
    principal: Principal,
    /// Unix seconds after which the token has expired (its `exp` plus the leeway).
    expires: u64,
    /// When the entry reaches the maximum age.
    fresh_until: Instant,
    /// The key-set generation the token was verified against.
    generation: u64,
}

impl Entry {
    fn usable(&self, unix_now: u64, now: Instant, generation: u64) -> bool {
        unix_now <= self.expires && now < self.fresh_until && self.generation == generation
    }
}

impl TokenCache {
    /// A cache of about `capacity` tokens, each kept at most `max_age`; `None` when `capacity`
    /// is 0 (caching off).
    pub(crate) fn new(capacity: usize, max_age: Duration, leeway: Duration) -> Option<Self> {
        (capacity > 0).then(|| Self {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            per_shard: capacity.div_ceil(SHARDS),
            max_age,
            leeway,
            hasher: Default::default(),
        })
    }

    /// The principal of `token` if it was verified against key-set `generation` and is still
    /// usable.
    pub(crate) fn get(&self, token: &str, generation: u64) -> Option<Principal> {
        let (unix_now, now) = (unix_now(), Instant::now());
        let shard = self.shard(token).lock().unwrap_or_else(|e| e.into_inner());
        shard
            .get(token)
            .filter(|entry| entry.usable(unix_now, now, generation))
            .map(|entry| entry.principal.clone())
    }

    /// Remembers that `token` verified as `principal` against key-set `generation`. Tokens
    /// without a numeric `exp` are not stored (verification requires one).
    pub(crate) fn insert(&self, token: &str, principal: &Principal, generation: u64) {
        let Some(exp) = principal
            .claims
            .get("exp")
            .and_then(serde_json::Value::as_u64)
        else {
            return;
        };
        let (unix_now, now) = (unix_now(), Instant::now());
        let entry = Entry {
            principal: principal.clone(),
            expires: exp.saturating_add(self.leeway.as_secs()),
            fresh_until: now + self.max_age,
            generation,
        };
        let mut shard = self.shard(token).lock().unwrap_or_else(|e| e.into_inner());
        if shard.len() >= self.per_shard {
            shard.retain(|_, entry| entry.usable(unix_now, now, generation));
            if shard.len() >= self.per_shard {
                shard.clear();
            }
        }
        shard.insert(token.into(), entry);
    }

    fn shard(&self, token: &str) -> &Shard {
        let index = self.hasher.hash_one(token) as usize % self.shards.len();
        &self.shards[index]
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(|e| e.into_inner()).len())
            .sum()
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn principal(subject: &str, exp: u64) -> Principal {
        let mut claims = serde_json::Map::new();
        claims.insert("sub".into(), subject.into());
        claims.insert("exp".into(), exp.into());
        Principal {
            claims: Arc::new(claims),
            ..Principal::new(subject)
        }
    }

    fn cache(capacity: usize) -> TokenCache {
        TokenCache::new(capacity, Duration::from_secs(300), Duration::from_secs(30)).unwrap()
    }

    #[test]
    fn a_verified_token_is_found_again_and_others_are_not() {
        let cache = cache(100);
        cache.insert("a.b.c", &principal("alice", unix_now() + 60), 0);
        assert_eq!(cache.get("a.b.c", 0).unwrap().subject, "alice");
        assert!(cache.get("a.b.d", 0).is_none());
        assert!(cache.get("a.b.c ", 0).is_none());
    }

    #[test]
    fn a_new_key_set_makes_tokens_verify_again() {
        let cache = cache(100);
        cache.insert("a.b.c", &principal("alice", unix_now() + 60), 1);
        assert!(cache.get("a.b.c", 1).is_some());
        assert!(cache.get("a.b.c", 2).is_none());
    }

    #[test]
    fn entries_end_at_exp_plus_leeway_or_at_the_maximum_age() {
        let cache = cache(100);
        // Expired longer ago than the leeway: never served.
        cache.insert("old", &principal("old", unix_now() - 31), 0);
        assert!(cache.get("old", 0).is_none());
        // Expired, but within the leeway, as verification would still accept it.
        cache.insert("grace", &principal("grace", unix_now() - 5), 0);
        assert!(cache.get("grace", 0).is_some());
        // A token valid for a day is kept no longer than the maximum age.
        let short = TokenCache::new(10, Duration::from_millis(50), Duration::ZERO).unwrap();
        short.insert("day", &principal("day", unix_now() + 86_400), 0);
        assert!(short.get("day", 0).is_some());
        std::thread::sleep(Duration::from_millis(60));
        assert!(short.get("day", 0).is_none());
    }

    #[test]
    fn tokens_without_exp_are_not_stored() {
        let cache = cache(100);
        cache.insert("no-exp", &Principal::new("x"), 0);
        assert!(cache.get("no-exp", 0).is_none());
    }

    #[test]
    fn the_cache_stays_bounded() {
        let cache = cache(64);
        let exp = unix_now() + 60;
        for i in 0..10_000 {
            cache.insert(&format!("token-{i}"), &principal("u", exp), 0);
        }
        assert!(cache.len() <= 64, "{} entries", cache.len());
    }

    #[test]
    fn capacity_zero_turns_caching_off() {
        assert!(TokenCache::new(0, Duration::from_secs(1), Duration::ZERO).is_none());
    }
}
