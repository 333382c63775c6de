//! A circuit breaker per target: stop calling a target that is failing, and let a few probe calls
//! find out when it has recovered.
//!
//! ```text
//!            failure rate ≥ threshold over the window (with enough calls),
//!            or N consecutive failures
//!   Closed ───────────────────────────────────────────────▶ Open ◀──────┐
//!     ▲                                                       │         │ a probe fails
//!     │ every probe succeeded              cool-down is over  ▼         │
//!     └──────────────────────────────────────────────────── HalfOpen ───┘
//! ```
//!
//! While open, calls fail at once with `UNAVAILABLE`, a `RetryInfo` holding the rest of the
//! cool-down and `ErrorInfo` reason `CIRCUIT_OPEN`. Half-open admits up to `half_open_probes`
//! calls; the rest fail fast until the probes decide.
//!
//! Failures are outcomes that say the target is unwell: `UNAVAILABLE`, `DEADLINE_EXCEEDED`,
//! `INTERNAL`, `UNKNOWN`, `RESOURCE_EXHAUSTED`. Any other answer (including client mistakes such
//! as `INVALID_ARGUMENT` or `NOT_FOUND`) proves the target is serving and counts as a success.
//!
//! Results are tied to the state period their call was admitted in: a call admitted while closed
//! that finishes after the breaker opened does not count, and only probes can close it.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::time::Instant;

use crate::status::{Code, Status};

/// Buckets in the sliding window; the window slides by a tenth of its length.
const BUCKETS: usize = 10;
/// The longest window or cool-down accepted (one day).
const MAX_DURATION: Duration = Duration::from_secs(24 * 60 * 60);

/// Where a breaker is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BreakerState {
    /// Calls flow; outcomes are counted.
    Closed,
    /// The cool-down is over; a few probe calls decide between closed and open.
    HalfOpen,
    /// Calls fail fast until the cool-down ends.
    Open,
}

impl BreakerState {
    /// `closed`, `half_open` or `open` (a metrics label).
    pub fn as_str(&self) -> &'static str {
        match self {
            BreakerState::Closed => "closed",
            BreakerState::HalfOpen => "half_open",
            BreakerState::Open => "open",
        }
    }

    /// 0 closed, 1 half-open, 2 open (a metrics gauge).
    pub fn as_gauge(&self) -> u8 {
        *self as u8
    }

    fn from_bits(bits: u64) -> Self {
        match bits & 0b11 {
            0 => BreakerState::Closed,
            1 => BreakerState::HalfOpen,
            _ => BreakerState::Open,
        }
    }
}

impl fmt::Display for BreakerState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether an outcome with `code` counts against the target.
pub fn is_failure(code: Code) -> bool {
    matches!(
        code,
        Code::Unavailable
            | Code::DeadlineExceeded
            | Code::Internal
            | Code::Unknown
            | Code::ResourceExhausted
    )
}

/// When a breaker opens and how it recovers.
#[derive(Clone, Debug, PartialEq)]
pub struct BreakerConfig {
    /// `false` turns the breaker off: every call is admitted and nothing is counted.
    pub enabled: bool,
    /// Open when at least this share of the calls in the window failed (`0 < rate ≤ 1`).
    pub failure_rate: f64,
    /// The failure rate is judged only over at least this many calls in the window.
    pub min_requests: u32,
    /// The sliding window the failure rate is measured over.
    pub window: Duration,
    /// Open after this many failures in a row, whatever the window says; 0 turns this off.
    pub consecutive_failures: u32,
    /// How long the breaker stays open before probing.
    pub open_duration: Duration,
    /// Probe calls admitted while half-open; all of them must succeed to close.
    pub half_open_probes: u32,
}

impl Default for BreakerConfig {
    /// Open at 50% failures over 10 s (at least 20 calls) or 5 failures in a row; stay open 5 s;
    /// one probe.
    fn default() -> Self {
        Self {
            enabled: true,
            failure_rate: 0.5,
            min_requests: 20,
            window: Duration::from_secs(10),
            consecutive_failures: 5,
            open_duration: Duration::from_secs(5),
            half_open_probes: 1,
        }
    }
}

/// A change of state, as handed to a [`CircuitBreaker::on_transition`] listener.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BreakerTransition {
    /// The breaker's target.
    pub target: Arc<str>,
    /// The state left.
    pub from: BreakerState,
    /// The state entered.
    pub to: BreakerState,
}

/// Counters of a breaker, for metrics and tests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BreakerStats {
    /// Times the breaker opened.
    pub opened: u64,
    /// Times it went half-open.
    pub half_opened: u64,
    /// Times it closed again.
    pub closed: u64,
    /// Calls failed fast without reaching the target.
    pub rejected: u64,
}

type Listener = Box<dyn Fn(&BreakerTransition) + Send + Sync>;

/// The circuit breaker of one target. Cheap to share behind an `Arc`; all methods take `&self`.
pub struct CircuitBreaker {
    target: Arc<str>,
    config: BreakerConfig,
    /// `generation << 2 | state`, readable without the lock.
    current: AtomicU64,
    inner: Mutex<Inner>,
    listener: Option<Listener>,
    opened: AtomicU64,
    half_opened: AtomicU64,
    closed: AtomicU64,
    rejected: AtomicU64,
    epoch: Instant,
    bucket: Duration,
}

struct Inner {
    state: BreakerState,
    generation: u64,
    window: [Bucket; BUCKETS],
    consecutive: u32,
    open_until: Instant,
    probes_in_flight: u32,
    probes_succeeded: u32,
}

#[derive(Clone, Copy, Default)]
struct Bucket {
    slot: u64,
    succeeded: u32,
    failed: u32,
}

impl fmt::Debug for CircuitBreaker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CircuitBreaker")
            .field("target", &self.target)
            .field("state", &self.state())
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl CircuitBreaker {
    /// A closed breaker for `target` (a name used in logs, errors and transitions).
    ///
    /// Out-of-range settings are brought into range: a failure rate outside `(0, 1]` becomes 1,
    /// zero probes become one, a zero window becomes one second, windows and cool-downs longer
    /// than a day become a day.
    pub fn new(target: impl Into<Arc<str>>, mut config: BreakerConfig) -> Self {
        if !(config.failure_rate > 0.0 && config.failure_rate <= 1.0) {
            config.failure_rate = 1.0;
        }
        config.min_requests = config.min_requests.max(1);
        config.half_open_probes = config.half_open_probes.max(1);
        if config.window.is_zero() {
            config.window = Duration::from_secs(1);
        }
        // Bounded so that instants computed from them cannot overflow.
        config.window = config.window.min(MAX_DURATION);
        config.open_duration = config.open_duration.min(MAX_DURATION);
        let now = Instant::now();
        Self {
            target: target.into(),
            bucket: (config.window / BUCKETS as u32).max(Duration::from_millis(1)),
            config,
            current: AtomicU64::new(pack(0, BreakerState::Closed)),
            inner: Mutex::new(Inner {
                state: BreakerState::Closed,
                generation: 0,
                window: [Bucket::default(); BUCKETS],
                consecutive: 0,
                open_until: now,
                probes_in_flight: 0,
                probes_succeeded: 0,
            }),
            listener: None,
            opened: AtomicU64::new(0),
            half_opened: AtomicU64::new(0),
            closed: AtomicU64::new(0),
            rejected: AtomicU64::new(0),
            epoch: now,
        }
    }

    /// Calls `listener` after every change of state (outside the breaker's lock).
    pub fn on_transition(
        mut self,
        listener: impl Fn(&BreakerTransition) + Send + Sync + 'static,
    ) -> Self {
        self.listener = Some(Box::new(listener));
        self
    }

    /// The target's name.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// The settings in force.
    pub fn config(&self) -> &BreakerConfig {
        &self.config
    }

    /// The current state. An open breaker whose cool-down is over reports `Open` until the next
    /// call turns it half-open.
    pub fn state(&self) -> BreakerState {
        BreakerState::from_bits(self.current.load(Ordering::Acquire))
    }

    /// Transition and rejection counters.
    pub fn stats(&self) -> BreakerStats {
        BreakerStats {
            opened: self.opened.load(Ordering::Relaxed),
            half_opened: self.half_opened.load(Ordering::Relaxed),
            closed: self.closed.load(Ordering::Relaxed),
            rejected: self.rejected.load(Ordering::Relaxed),
        }
    }

    /// Asks to send one call. `Err` is the fail-fast `UNAVAILABLE` to return instead; `Ok` is a
    /// permit on which to record the call's outcome. A permit dropped unrecorded (the call was
    /// abandoned) counts as nothing and frees its probe slot.
    pub fn try_acquire(&self) -> Result<BreakerPermit<'_>, Status> {
        if !self.config.enabled {
            return Ok(BreakerPermit::new(self, Admission::Untracked));
        }
        let current = self.current.load(Ordering::Acquire);
        if BreakerState::from_bits(current) == BreakerState::Closed {
            return Ok(BreakerPermit::new(self, Admission::Normal(current >> 2)));
        }
        let now = Instant::now();
        let mut inner = self.lock();
        let mut transition = None;
        if inner.state == BreakerState::Open {
            if now < inner.open_until {
                let remaining = inner.open_until - now;
                drop(inner);
                return Err(self.reject(Some(remaining)));
            }
            transition = self.enter(&mut inner, BreakerState::HalfOpen, now);
        }
        let admission = match inner.state {
            BreakerState::Closed => Ok(Admission::Normal(inner.generation)),
            BreakerState::HalfOpen
                if inner.probes_in_flight + inner.probes_succeeded
                    < self.config.half_open_probes =>
            {
                inner.probes_in_flight += 1;
                Ok(Admission::Probe(inner.generation))
            }
            _ => Err(()),
        };
        drop(inner);
        self.announce(transition);
        match admission {
            Ok(admission) => Ok(BreakerPermit::new(self, admission)),
            Err(()) => Err(self.reject(None)),
        }
    }

    fn reject(&self, remaining: Option<Duration>) -> Status {
        self.rejected.fetch_add(1, Ordering::Relaxed);
        let status = match remaining {
            Some(remaining) => Status::unavailable(format!(
                "circuit breaker for {} is open; not calling it for another {} ms",
                self.target,
                remaining.as_millis()
            ))
            .with_retry_after(remaining),
            None => Status::unavailable(format!(
                "circuit breaker for {} is half-open and its probe calls are under way",
                self.target
            )),
        };
        status.with_error_info("CIRCUIT_OPEN", "tacos.runtime", [])
    }

    fn record(&self, admission: Admission, failed: bool) {
        let now = Instant::now();
        let mut inner = self.lock();
        let transition = match admission {
            Admission::Untracked => None,
            Admission::Normal(generation) => {
                if generation != inner.generation || inner.state != BreakerState::Closed {
                    return;
                }
                self.count(&mut inner, now, failed)
            }
            Admission::Probe(generation) => {
                if generation != inner.generation || inner.state != BreakerState::HalfOpen {
                    return;
                }
                inner.probes_in_flight -= 1;
                if failed {
                    self.enter(&mut inner, BreakerState::Open, now)
                } else {
                    inner.probes_succeeded += 1;
                    if inner.probes_succeeded >= self.config.half_open_probes {
                        self.enter(&mut inner, BreakerState::Closed, now)
                    } else {
                        None
                    }
                }
            }
        };
        drop(inner);
        self.announce(transition);
    }

    /// Counts a closed-state outcome; opens when a threshold is crossed.
    fn count(&self, inner: &mut Inner, now: Instant, failed: bool) -> Option<BreakerTransition> {
        let slot = ((now - self.epoch).as_nanos() / self.bucket.as_nanos()) as u64;
        let bucket = &mut inner.window[(slot % BUCKETS as u64) as usize];
        // A caller that read the clock just before another may find its bucket already moved
        // on; it counts there rather than wiping newer counts.
        if bucket.slot < slot {
            *bucket = Bucket {
                slot,
                ..Bucket::default()
            };
        }
        if !failed {
            bucket.succeeded += 1;
            inner.consecutive = 0;
            return None;
        }
        bucket.failed += 1;
        inner.consecutive += 1;
        let (mut total, mut failures) = (0u64, 0u64);
        for b in &inner.window {
            if slot.saturating_sub(b.slot) < BUCKETS as u64 && b.succeeded + b.failed > 0 {
                total += u64::from(b.succeeded + b.failed);
                failures += u64::from(b.failed);
            }
        }
        let by_streak = self.config.consecutive_failures > 0
            && inner.consecutive >= self.config.consecutive_failures;
        let by_rate = total >= u64::from(self.config.min_requests)
            && failures as f64 >= self.config.failure_rate * total as f64;
        if by_streak || by_rate {
            tracing::warn!(
                target_name = %self.target,
                consecutive = inner.consecutive,
                failures,
                calls = total,
                open_ms = self.config.open_duration.as_millis() as u64,
                "circuit breaker opened"
            );
            self.enter(inner, BreakerState::Open, now)
        } else {
            None
        }
    }

    fn enter(
        &self,
        inner: &mut Inner,
        to: BreakerState,
        now: Instant,
    ) -> Option<BreakerTransition> {
        let from = inner.state;
        if from == to {
            return None;
        }
        inner.state = to;
        inner.generation += 1;
        inner.probes_in_flight = 0;
        inner.probes_succeeded = 0;
        match to {
            BreakerState::Open => {
                inner.open_until = now + self.config.open_duration;
                self.opened.fetch_add(1, Ordering::Relaxed);
            }
            BreakerState::HalfOpen => {
                self.half_opened.fetch_add(1, Ordering::Relaxed);
            }
            BreakerState::Closed => {
                inner.window = [Bucket::default(); BUCKETS];
                inner.consecutive = 0;
                self.closed.fetch_add(1, Ordering::Relaxed);
                tracing::info!(target_name = %self.target, "circuit breaker closed");
            }
        }
        self.current
            .store(pack(inner.generation, to), Ordering::Release);
        Some(BreakerTransition {
            target: Arc::clone(&self.target),
            from,
            to,
        })
    }

    fn announce(&self, transition: Option<BreakerTransition>) {
        if let (Some(listener), Some(transition)) = (&self.listener, transition) {
            listener(&transition);
        }
    }

    fn release_probe(&self, generation: u64) {
        let mut inner = self.lock();
        if inner.generation == generation && inner.state == BreakerState::HalfOpen {
            inner.probes_in_flight -= 1;
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // The state is consistent after every statement, so a panic elsewhere leaves it usable.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn pack(generation: u64, state: BreakerState) -> u64 {
    generation << 2 | state as u64
}

#[derive(Clone, Copy, Debug)]
enum Admission {
    Untracked,
    Normal(u64),
    Probe(u64),
}

/// Leave to send one call through a [`CircuitBreaker`]; record its outcome on it.
#[must_use = "record the call's outcome on the permit"]
#[derive(Debug)]
pub struct BreakerPermit<'a> {
    breaker: &'a CircuitBreaker,
    admission: Option<Admission>,
}

impl<'a> BreakerPermit<'a> {
    fn new(breaker: &'a CircuitBreaker, admission: Admission) -> Self {
        Self {
            breaker,
            admission: Some(admission),
        }
    }

    /// Whether this call is a half-open probe.
    pub fn is_probe(&self) -> bool {
        matches!(self.admission, Some(Admission::Probe(_)))
    }

    /// Records the call's outcome: `Err` with a failure code counts against the target, anything
    /// else for it.
    pub fn record(mut self, outcome: Result<(), &Status>) {
        let failed = outcome.is_err_and(|status| is_failure(status.code()));
        if let Some(admission) = self.admission.take() {
            self.breaker.record(admission, failed);
        }
    }
}

impl Drop for BreakerPermit<'_> {
    fn drop(&mut self) {
        if let Some(Admission::Probe(generation)) = self.admission.take() {
            self.breaker.release_probe(generation);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex as StdMutex;

    use super::*;

    fn config() -> BreakerConfig {
        BreakerConfig {
            enabled: true,
            failure_rate: 0.5,
            min_requests: 10,
            window: Duration::from_secs(10),
            consecutive_failures: 3,
            open_duration: Duration::from_secs(5),
            half_open_probes: 2,
        }
    }

    fn outcome(breaker: &CircuitBreaker, status: Option<Status>) {
        let permit = breaker.try_acquire().expect("admitted");
        permit.record(status.as_ref().map_or(Ok(()), Err));
    }

    fn fail(breaker: &CircuitBreaker) {
        outcome(breaker, Some(Status::unavailable("down")));
    }

    fn succeed(breaker: &CircuitBreaker) {
        outcome(breaker, None);
    }

    fn recorder(breaker: CircuitBreaker) -> (CircuitBreaker, Arc<StdMutex<Vec<BreakerState>>>) {
        let seen = Arc::new(StdMutex::new(Vec::new()));
        let sink = Arc::clone(&seen);
        let breaker = breaker.on_transition(move |t| sink.lock().unwrap().push(t.to));
        (breaker, seen)
    }

    #[test]
    fn failure_codes() {
        for code in [
            Code::Unavailable,
            Code::DeadlineExceeded,
            Code::Internal,
            Code::Unknown,
            Code::ResourceExhausted,
        ] {
            assert!(is_failure(code), "{code:?}");
        }
        for code in [
            Code::Ok,
            Code::InvalidArgument,
            Code::NotFound,
            Code::AlreadyExists,
            Code::PermissionDenied,
            Code::Unauthenticated,
            Code::FailedPrecondition,
            Code::Cancelled,
        ] {
            assert!(!is_failure(code), "{code:?}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn consecutive_failures_open_and_fail_fast() {
        let (breaker, seen) = recorder(CircuitBreaker::new("reservation", config()));
        fail(&breaker);
        fail(&breaker);
        succeed(&breaker);
        // The streak was broken; two more are not enough.
        fail(&breaker);
        fail(&breaker);
        assert_eq!(breaker.state(), BreakerState::Closed);
        fail(&breaker);
        assert_eq!(breaker.state(), BreakerState::Open);
        assert_eq!(*seen.lock().unwrap(), [BreakerState::Open]);

        tokio::time::advance(Duration::from_secs(2)).await;
        let rejection = breaker.try_acquire().unwrap_err();
        assert_eq!(rejection.code(), Code::Unavailable);
        assert!(rejection.message().contains("reservation"), "{rejection}");
        let delay = rejection.details().retry_info.as_ref().unwrap().retry_delay;
        assert_eq!(delay, Some(Duration::from_secs(3)));
        assert_eq!(
            rejection.details().error_info.as_ref().unwrap().reason,
            "CIRCUIT_OPEN"
        );
        assert_eq!(breaker.stats().rejected, 1);
    }

    #[tokio::test(start_paused = true)]
    async fn client_mistakes_do_not_count() {
        let breaker = CircuitBreaker::new("t", config());
        for _ in 0..50 {
            outcome(&breaker, Some(Status::invalid_argument("bad seat")));
            outcome(&breaker, Some(Status::not_found("no such seat")));
        }
        assert_eq!(breaker.state(), BreakerState::Closed);
    }

    #[tokio::test(start_paused = true)]
    async fn failure_rate_over_the_window_opens() {
        let breaker = CircuitBreaker::new(
            "t",
            BreakerConfig {
                consecutive_failures: 0,
                ..config()
            },
        );
        // Alternating: 50% failures, never two in a row.
        for _ in 0..4 {
            fail(&breaker);
            succeed(&breaker);
        }
        fail(&breaker);
        // 5 of 9: below the minimum request count.
        assert_eq!(breaker.state(), BreakerState::Closed);
        succeed(&breaker);
        fail(&breaker);
        // 6 failures of 11 calls ≥ 50%.
        assert_eq!(breaker.state(), BreakerState::Open);
    }

    #[tokio::test(start_paused = true)]
    async fn old_outcomes_slide_out_of_the_window() {
        let breaker = CircuitBreaker::new(
            "t",
            BreakerConfig {
                consecutive_failures: 0,
                ..config()
            },
        );
        // Nine failures: below the minimum request count.
        for _ in 0..9 {
            fail(&breaker);
        }
        assert_eq!(breaker.state(), BreakerState::Closed);
        // Once the window has moved on they no longer count: 1 failure in 10 calls.
        tokio::time::advance(Duration::from_secs(11)).await;
        for _ in 0..9 {
            succeed(&breaker);
        }
        fail(&breaker);
        assert_eq!(breaker.state(), BreakerState::Closed);
        // A rate below the threshold keeps it closed however many calls.
        for _ in 0..40 {
            succeed(&breaker);
            succeed(&breaker);
            fail(&breaker);
        }
        assert_eq!(breaker.state(), BreakerState::Closed);
    }

    async fn open(breaker: &CircuitBreaker) {
        for _ in 0..3 {
            fail(breaker);
        }
        assert_eq!(breaker.state(), BreakerState::Open);
    }

    #[tokio::test(start_paused = true)]
    async fn half_open_probes_close_it() {
        let (breaker, seen) = recorder(CircuitBreaker::new("t", config()));
        open(&breaker).await;
        tokio::time::advance(Duration::from_secs(5)).await;
        let first = breaker.try_acquire().unwrap();
        assert!(first.is_probe());
        assert_eq!(breaker.state(), BreakerState::HalfOpen);
        let second = breaker.try_acquire().unwrap();
        // Both probe slots taken: others fail fast, without a RetryInfo.
        let rejection = breaker.try_acquire().unwrap_err();
        assert_eq!(rejection.code(), Code::Unavailable);
        assert!(rejection.details().retry_info.is_none());
        first.record(Ok(()));
        assert_eq!(breaker.state(), BreakerState::HalfOpen);
        // A client mistake still proves the target answers.
        second.record(Err(&Status::not_found("x")));
        assert_eq!(breaker.state(), BreakerState::Closed);
        assert_eq!(
            *seen.lock().unwrap(),
            [
                BreakerState::Open,
                BreakerState::HalfOpen,
                BreakerState::Closed
            ]
        );
        // Closed starts from a clean slate: two failures are not three in a row.
        fail(&breaker);
        fail(&breaker);
        assert_eq!(breaker.state(), BreakerState::Closed);
        let stats = breaker.stats();
        assert_eq!((stats.opened, stats.half_opened, stats.closed), (1, 1, 1));
    }

    #[tokio::test(start_paused = true)]
    async fn a_failed_probe_reopens_for_a_full_cool_down() {
        let breaker = CircuitBreaker::new("t", config());
        open(&breaker).await;
        tokio::time::advance(Duration::from_secs(6)).await;
        let probe = breaker.try_acquire().unwrap();
        let other = breaker.try_acquire().unwrap();
        probe.record(Err(&Status::deadline_exceeded("slow")));
        assert_eq!(breaker.state(), BreakerState::Open);
        // The other probe belonged to the previous period: its success does not close anything.
        other.record(Ok(()));
        assert_eq!(breaker.state(), BreakerState::Open);
        tokio::time::advance(Duration::from_millis(4999)).await;
        assert!(breaker.try_acquire().is_err());
        tokio::time::advance(Duration::from_millis(1)).await;
        assert!(breaker.try_acquire().unwrap().is_probe());
        assert_eq!(breaker.stats().opened, 2);
    }

    #[tokio::test(start_paused = true)]
    async fn an_abandoned_probe_frees_its_slot() {
        let breaker = CircuitBreaker::new(
            "t",
            BreakerConfig {
                half_open_probes: 1,
                ..config()
            },
        );
        open(&breaker).await;
        tokio::time::advance(Duration::from_secs(5)).await;
        let probe = breaker.try_acquire().unwrap();
        assert!(breaker.try_acquire().is_err());
        drop(probe);
        let probe = breaker.try_acquire().unwrap();
        probe.record(Ok(()));
        assert_eq!(breaker.state(), BreakerState::Closed);
    }

    #[tokio::test(start_paused = true)]
    async fn late_results_from_before_opening_are_ignored() {
        let breaker = CircuitBreaker::new("t", config());
        let slow = breaker.try_acquire().unwrap();
        open(&breaker).await;
        slow.record(Ok(()));
        assert_eq!(breaker.state(), BreakerState::Open);
    }

    #[tokio::test(start_paused = true)]
    async fn disabled_breaker_admits_everything() {
        let breaker = CircuitBreaker::new(
            "t",
            BreakerConfig {
                enabled: false,
                ..config()
            },
        );
        for _ in 0..100 {
            fail(&breaker);
        }
        assert_eq!(breaker.state(), BreakerState::Closed);
    }

    #[test]
    fn labels() {
        assert_eq!(BreakerState::HalfOpen.as_str(), "half_open");
        assert_eq!(BreakerState::Open.as_gauge(), 2);
        assert_eq!(BreakerState::Closed.to_string(), "closed");
    }
}
