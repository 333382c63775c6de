//! Shadow calls: a sampled share of calls is also sent over the other transport, in the
//! background, and the two decoded answers are compared field by field.
//!
//! The caller never sees the shadow call: it runs in its own task, bounded by a timeout and a
//! concurrency cap (when the cap is reached the shadow call is skipped and counted), and its
//! errors only feed the comparison and the logs. Both answers are serialized through their serde
//! impls (canonical proto3 JSON for generated messages) and compared with [`diff`]; outcomes that
//! failed with the same code are equal, a different code (or one side failing) is reported at
//! the path `<status>`. Differences are counted per (method, path) and logged at WARN.
//!
//! Only shadow methods without side effects: the shadow call really runs on the backend.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU16, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::Rng;
use serde::Serialize;
use tokio::sync::{oneshot, Semaphore};

use super::diff::{diff, Diff};
use crate::status::{code_name, Status};

/// The path under which differing outcomes (a failure against a success, or different codes)
/// are reported.
pub const STATUS_PATH: &str = "<status>";
/// The path counting differences beyond the per-comparison limit or the distinct-path limit.
pub const OTHER_PATH: &str = "<other>";

/// Paths kept per comparison; further ones are counted under [`OTHER_PATH`].
const MAX_PATHS_PER_COMPARISON: usize = 32;
/// Distinct (method, path) counters kept; map keys and indices in paths could otherwise grow the
/// table without bound.
const MAX_DISTINCT_PATHS: usize = 1024;

/// A per-mille share outside `0..=1000`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("a shadow share must be from 0 to 1000 per mille, not {0}")]
pub struct PerMilleOutOfRange(pub u32);

/// How much is shadowed and how shadow calls are bounded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShadowConfig {
    /// Calls shadowed per thousand (0 turns shadowing off, 1000 shadows every call).
    pub per_mille: u16,
    /// The longest a shadow call may take; slower ones are dropped and counted.
    pub timeout: Duration,
    /// Shadow calls running at once; more are skipped and counted.
    pub max_in_flight: usize,
}

impl Default for ShadowConfig {
    /// 10 per mille (1%), 2 s timeout, 16 at once.
    fn default() -> Self {
        Self {
            per_mille: 10,
            timeout: Duration::from_secs(2),
            max_in_flight: 16,
        }
    }
}

/// How many calls at one path of one method differed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldDifference {
    /// The method (its gRPC path or any name the caller used).
    pub method: &'static str,
    /// The differing field's path (`seats[2].price.amount`), or [`STATUS_PATH`] / [`OTHER_PATH`].
    pub path: String,
    /// Comparisons in which it differed.
    pub count: u64,
}

/// Counters of a [`Shadow`], for metrics and tests.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ShadowStats {
    /// Shadow calls started.
    pub started: u64,
    /// Sampled calls not shadowed because the concurrency cap was reached (or no runtime ran).
    pub skipped: u64,
    /// Shadow calls dropped at the timeout.
    pub timed_out: u64,
    /// Shadow calls whose primary outcome never came (the caller gave up).
    pub abandoned: u64,
    /// Comparisons made.
    pub compared: u64,
    /// Comparisons that found no difference.
    pub equal: u64,
    /// Comparisons that found at least one.
    pub differed: u64,
    /// Differences by method and path, sorted.
    pub differences: Vec<FieldDifference>,
}

/// Shadows a sample of calls and compares the answers. Share it among all calls of a client.
#[derive(Debug)]
pub struct Shadow {
    per_mille: AtomicU16,
    timeout: Duration,
    max_in_flight: usize,
    permits: Arc<Semaphore>,
    shared: Arc<Shared>,
}

/// Told of every difference counted: the method and the field path it was counted under.
type DifferenceListener = Box<dyn Fn(&'static str, &str) + Send + Sync>;

#[derive(Default)]
struct Listener(Option<DifferenceListener>);

impl std::fmt::Debug for Listener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() { "Some(..)" } else { "None" })
    }
}

#[derive(Debug, Default)]
struct Shared {
    listener: Listener,
    started: AtomicU64,
    skipped: AtomicU64,
    timed_out: AtomicU64,
    abandoned: AtomicU64,
    compared: AtomicU64,
    equal: AtomicU64,
    differed: AtomicU64,
    differences: Mutex<HashMap<(&'static str, String), u64>>,
}

impl Shadow {
    /// A shadow with `config`; a `per_mille` above 1000 is treated as 1000 and a zero
    /// `max_in_flight` as 1.
    pub fn new(config: ShadowConfig) -> Self {
        let max_in_flight = config.max_in_flight.clamp(1, Semaphore::MAX_PERMITS);
        Self {
            per_mille: AtomicU16::new(config.per_mille.min(1000)),
            timeout: config.timeout,
            max_in_flight,
            permits: Arc::new(Semaphore::new(max_in_flight)),
            shared: Arc::default(),
        }
    }

    /// Calls `listener` with the method and field path of every difference counted (the same
    /// bounded paths [`stats`](Self::stats) reports), e.g. to export them as metrics. Set it
    /// before the first call.
    pub fn on_difference(
        mut self,
        listener: impl Fn(&'static str, &str) + Send + Sync + 'static,
    ) -> Self {
        match Arc::get_mut(&mut self.shared) {
            Some(shared) => shared.listener = Listener(Some(Box::new(listener))),
            None => tracing::warn!("shadow difference listener set after calls started; ignored"),
        }
        self
    }

    /// Calls shadowed per thousand now.
    pub fn per_mille(&self) -> u16 {
        self.per_mille.load(Ordering::Relaxed)
    }

    /// Changes the share for calls from now on.
    pub fn set_per_mille(&self, per_mille: u32) -> Result<(), PerMilleOutOfRange> {
        let value = u16::try_from(per_mille)
            .ok()
            .filter(|p| *p <= 1000)
            .ok_or(PerMilleOutOfRange(per_mille))?;
        self.per_mille.store(value, Ordering::Relaxed);
        Ok(())
    }

    /// Whether this call is in the sample.
    pub fn sample(&self) -> bool {
        match self.per_mille() {
            0 => false,
            1000.. => true,
            p => rand::rng().random_range(0..1000u16) < p,
        }
    }

    /// Starts a shadow call for `method` if this call is sampled and the cap allows: `make` is
    /// called (only then) to build the call over the other transport, which is spawned at once,
    /// so both transports answer at about the same time. Hand the primary outcome to the returned
    /// [`ShadowCall`] when it arrives; dropping it unfinished abandons the comparison.
    ///
    /// The shadow call runs in its own task, outside the caller's
    /// [`CallScope`](crate::context::CallScope): wrap the future with `CallScope::enter` inside
    /// `make` if it should carry the request id.
    pub fn start<T, F, Fut>(&self, method: &'static str, make: F) -> Option<ShadowCall<T>>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, Status>> + Send + 'static,
        T: Serialize + Send + 'static,
    {
        if !self.sample() {
            return None;
        }
        let runtime = tokio::runtime::Handle::try_current().ok();
        let permit = runtime
            .as_ref()
            .and_then(|_| Arc::clone(&self.permits).try_acquire_owned().ok());
        let (Some(runtime), Some(permit)) = (runtime, permit) else {
            self.shared.skipped.fetch_add(1, Ordering::Relaxed);
            return None;
        };
        self.shared.started.fetch_add(1, Ordering::Relaxed);
        let (sender, receiver) = oneshot::channel();
        let shadow = make();
        let shared = Arc::clone(&self.shared);
        let timeout = self.timeout;
        runtime.spawn(async move {
            let _permit = permit;
            let (primary, shadow) = tokio::join!(receiver, tokio::time::timeout(timeout, shadow));
            let Ok(primary) = primary else {
                shared.abandoned.fetch_add(1, Ordering::Relaxed);
                return;
            };
            let Ok(shadow) = shadow else {
                shared.timed_out.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(
                    method,
                    timeout_ms = timeout.as_millis() as u64,
                    "shadow call timed out"
                );
                return;
            };
            shared.compare(method, &primary, &shadow);
        });
        Some(ShadowCall { sender })
    }

    /// Waits until no shadow call is running (tests, and draining at shutdown).
    pub async fn drained(&self) {
        let all = u32::try_from(self.max_in_flight).unwrap_or(u32::MAX);
        // The semaphore is never closed, so acquiring only waits.
        let _ = self.permits.acquire_many(all).await;
    }

    /// The counters and the differences found so far.
    pub fn stats(&self) -> ShadowStats {
        let s = &self.shared;
        let mut differences: Vec<FieldDifference> = s
            .lock_differences()
            .iter()
            .map(|((method, path), count)| FieldDifference {
                method,
                path: path.clone(),
                count: *count,
            })
            .collect();
        differences.sort_by(|a, b| (a.method, &a.path).cmp(&(b.method, &b.path)));
        ShadowStats {
            started: s.started.load(Ordering::Relaxed),
            skipped: s.skipped.load(Ordering::Relaxed),
            timed_out: s.timed_out.load(Ordering::Relaxed),
            abandoned: s.abandoned.load(Ordering::Relaxed),
            compared: s.compared.load(Ordering::Relaxed),
            equal: s.equal.load(Ordering::Relaxed),
            differed: s.differed.load(Ordering::Relaxed),
            differences,
        }
    }
}

/// A running shadow call, waiting for the primary outcome to compare with.
#[must_use = "hand the primary outcome to `finish`, or the comparison is abandoned"]
#[derive(Debug)]
pub struct ShadowCall<T> {
    sender: oneshot::Sender<Result<T, Status>>,
}

impl<T: Clone> ShadowCall<T> {
    /// Hands over the primary outcome (cloned; serializing and comparing happen in the shadow
    /// task, off the caller's path).
    pub fn finish(self, primary: &Result<T, Status>) {
        // The shadow task may have ended (it never does before receiving, barring a panic).
        let _ = self.sender.send(primary.clone());
    }
}

impl Shared {
    fn compare<T: Serialize>(
        &self,
        method: &'static str,
        primary: &Result<T, Status>,
        shadow: &Result<T, Status>,
    ) {
        let found = match (primary, shadow) {
            (Ok(a), Ok(b)) => match (serde_json::to_value(a), serde_json::to_value(b)) {
                (Ok(a), Ok(b)) => diff(&a, &b, MAX_PATHS_PER_COMPARISON),
                (Err(err), _) | (_, Err(err)) => {
                    tracing::warn!(method, error = %err, "shadow comparison: an answer did not serialize");
                    return;
                }
            },
            (Err(a), Err(b)) if a.code() == b.code() => Diff::default(),
            _ => Diff {
                paths: vec![STATUS_PATH.to_owned()],
                omitted: 0,
            },
        };
        self.compared.fetch_add(1, Ordering::Relaxed);
        if found.is_empty() {
            self.equal.fetch_add(1, Ordering::Relaxed);
            return;
        }
        self.differed.fetch_add(1, Ordering::Relaxed);
        let mut counted = Vec::with_capacity(found.paths.len() + 1);
        {
            let mut table = self.lock_differences();
            for path in &found.paths {
                counted.push(count(&mut table, method, path));
            }
            if found.omitted > 0 {
                counted.push(count(&mut table, method, OTHER_PATH));
            }
        }
        if let Some(listener) = &self.listener.0 {
            for path in &counted {
                listener(method, path);
            }
        }
        tracing::warn!(
            method,
            paths = %found.paths.join(", "),
            omitted = found.omitted,
            primary = %outcome_name(primary),
            shadow = %outcome_name(shadow),
            "shadow call answered differently"
        );
    }

    fn lock_differences(&self) -> std::sync::MutexGuard<'_, HashMap<(&'static str, String), u64>> {
        // Counters stay meaningful after a panic elsewhere; keep using them.
        self.differences
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Counts one difference at `path`, or at [`OTHER_PATH`] once the table is full; returns the
/// path counted.
fn count(
    table: &mut HashMap<(&'static str, String), u64>,
    method: &'static str,
    path: &str,
) -> String {
    let key = (method, path.to_owned());
    if let Some(n) = table.get_mut(&key) {
        *n += 1;
        key.1
    } else if table.len() < MAX_DISTINCT_PATHS {
        table.insert(key.clone(), 1);
        key.1
    } else {
        *table.entry((method, OTHER_PATH.to_owned())).or_default() += 1;
        OTHER_PATH.to_owned()
    }
}

fn outcome_name<T>(outcome: &Result<T, Status>) -> String {
    match outcome {
        Ok(_) => "OK".to_owned(),
        Err(status) => format!("{}: {}", code_name(status.code()), status.message()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distinct_paths_are_bounded() {
        let mut table = HashMap::new();
        for n in 0..MAX_DISTINCT_PATHS + 100 {
            count(&mut table, "m", &format!("labels.k{n}"));
        }
        count(&mut table, "m", "labels.k0");
        assert_eq!(table.len(), MAX_DISTINCT_PATHS + 1);
        assert_eq!(table[&("m", OTHER_PATH.to_owned())], 100);
        assert_eq!(table[&("m", "labels.k0".to_owned())], 2);
    }
}
