//! When and how long to wait before another attempt, after gRPC's retry design (gRFC A6).
//!
//! The `n`-th retry waits a random duration in `[0, min(initial × multiplier^(n-1), max)]`
//! ("full jitter"), so clients that failed together do not come back together. A status carrying
//! `google.rpc.RetryInfo` is the server pushing back: its delay is used as given, not randomised;
//! a delay longer than the policy's `max_pushback` ends the call instead, handing the `RetryInfo`
//! to the caller rather than holding the call for that long.

use std::time::Duration;

use rand::Rng;

use crate::status::{Code, Status};

/// The most attempts a policy allows, whatever it is configured with (as in gRFC A6).
pub const MAX_ATTEMPTS_CAP: u32 = 5;

/// A set of status codes, as a bit per code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct CodeSet(u32);

impl CodeSet {
    /// The empty set.
    pub const EMPTY: CodeSet = CodeSet(0);

    /// The set holding `codes`.
    pub fn of(codes: impl IntoIterator<Item = Code>) -> Self {
        codes.into_iter().fold(Self::EMPTY, Self::with)
    }

    /// This set plus `code`.
    pub const fn with(self, code: Code) -> Self {
        CodeSet(self.0 | 1 << code as u32)
    }

    /// Whether `code` is in the set.
    pub const fn contains(&self, code: Code) -> bool {
        self.0 & (1 << code as u32) != 0
    }

    /// The codes in the set, in code order.
    pub fn iter(&self) -> impl Iterator<Item = Code> + '_ {
        (0..32i32)
            .filter(|bit| self.0 & (1 << bit) != 0)
            .map(Code::from)
    }
}

/// What a failed attempt means for the call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RetryDecision {
    /// The failure is final: retrying cannot help (a client mistake, or a code not retried).
    Fatal,
    /// Another attempt may succeed; wait the policy's backoff first.
    Backoff,
    /// The server said when to come back (`RetryInfo`); wait exactly this long.
    After(Duration),
    /// The server asked for a wait longer than the policy's `max_pushback`: no retry here, the
    /// caller gets the status and its `RetryInfo`.
    TooLong(Duration),
}

impl RetryDecision {
    /// Whether the failure is worth another attempt.
    pub fn is_retryable(&self) -> bool {
        matches!(self, RetryDecision::Backoff | RetryDecision::After(_))
    }

    /// Whether the failure is one of the retryable kind, retried or not: such failures take a
    /// token from the retry budget (gRFC A6 counts server pushback as a failure too).
    pub fn is_transient(&self) -> bool {
        !matches!(self, RetryDecision::Fatal)
    }
}

/// How many attempts a call gets, how long it waits between them and which failures it retries.
///
/// Setters clamp rather than fail, so a policy is always usable: attempts to
/// `1..=`[`MAX_ATTEMPTS_CAP`], a multiplier of at least 1, a maximum backoff of at least the
/// initial one. [`ResilienceConfig`](super::ResilienceConfig) reports out-of-range environment
/// values as errors instead.
#[derive(Clone, Debug, PartialEq)]
pub struct RetryPolicy {
    max_attempts: u32,
    initial_backoff: Duration,
    max_backoff: Duration,
    multiplier: f64,
    retryable: CodeSet,
    max_pushback: Duration,
}

impl Default for RetryPolicy {
    /// 3 attempts, 100 ms initial backoff doubling up to 1 s, retrying `UNAVAILABLE`, waiting
    /// at most 5 s for a server's `RetryInfo`.
    fn default() -> Self {
        Self {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(1),
            multiplier: 2.0,
            retryable: CodeSet::EMPTY.with(Code::Unavailable),
            max_pushback: Duration::from_secs(5),
        }
    }
}

impl RetryPolicy {
    /// A policy that never retries (one attempt).
    pub fn no_retries() -> Self {
        Self::default().with_max_attempts(1)
    }

    /// Sets the attempts per call, the first one included, clamped to `1..=5`.
    pub fn with_max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.clamp(1, MAX_ATTEMPTS_CAP);
        self
    }

    /// Sets the backoff: the first retry waits up to `initial`, each further one up to
    /// `multiplier` times longer, never more than `max`.
    ///
    /// A multiplier below 1 or not finite becomes 1; a `max` below `initial` becomes `initial`.
    pub fn with_backoff(mut self, initial: Duration, max: Duration, multiplier: f64) -> Self {
        self.initial_backoff = initial;
        self.max_backoff = max.max(initial);
        self.multiplier = if multiplier.is_finite() && multiplier >= 1.0 {
            multiplier
        } else {
            1.0
        };
        self
    }

    /// Sets the codes retried with backoff (default `UNAVAILABLE`).
    ///
    /// `RESOURCE_EXHAUSTED` is special whatever this set says: it is retried only when the status
    /// carries a `RetryInfo` delay, and then after exactly that delay. `OK` is ignored.
    pub fn with_retryable_codes(mut self, codes: impl IntoIterator<Item = Code>) -> Self {
        self.retryable = CodeSet::of(codes.into_iter().filter(|c| *c != Code::Ok));
        self
    }

    /// Sets the longest `RetryInfo` delay waited for; a server asking for more gets no retry.
    pub fn with_max_pushback(mut self, max: Duration) -> Self {
        self.max_pushback = max;
        self
    }

    /// Attempts per call, the first one included.
    pub fn max_attempts(&self) -> u32 {
        self.max_attempts
    }

    /// The first retry's backoff ceiling.
    pub fn initial_backoff(&self) -> Duration {
        self.initial_backoff
    }

    /// The largest backoff ceiling.
    pub fn max_backoff(&self) -> Duration {
        self.max_backoff
    }

    /// The factor between successive backoff ceilings.
    pub fn multiplier(&self) -> f64 {
        self.multiplier
    }

    /// The codes retried with backoff.
    pub fn retryable_codes(&self) -> CodeSet {
        self.retryable
    }

    /// The longest `RetryInfo` delay waited for.
    pub fn max_pushback(&self) -> Duration {
        self.max_pushback
    }

    /// What `status` means for the call: final, retry after backoff, or retry after the server's
    /// `RetryInfo` delay.
    pub fn decide(&self, status: &Status) -> RetryDecision {
        let pushback = status
            .details()
            .retry_info
            .as_ref()
            .and_then(|info| info.retry_delay);
        match (status.code(), pushback) {
            (code, Some(delay))
                if delay > self.max_pushback
                    && (code == Code::ResourceExhausted || self.retryable.contains(code)) =>
            {
                RetryDecision::TooLong(delay)
            }
            (Code::ResourceExhausted, Some(delay)) => RetryDecision::After(delay),
            (Code::ResourceExhausted, None) => RetryDecision::Fatal,
            (code, _) if !self.retryable.contains(code) => RetryDecision::Fatal,
            (_, Some(delay)) => RetryDecision::After(delay),
            (_, None) => RetryDecision::Backoff,
        }
    }

    /// The upper bound of the wait before retry number `retry` (1 for the first retry).
    pub fn backoff_ceiling(&self, retry: u32) -> Duration {
        let exponent = retry.saturating_sub(1).min(64) as i32;
        let factor = self.multiplier.powi(exponent);
        let ceiling = self.initial_backoff.as_secs_f64() * factor;
        if ceiling.is_finite() && ceiling < self.max_backoff.as_secs_f64() {
            Duration::from_secs_f64(ceiling)
        } else {
            self.max_backoff
        }
    }

    /// A random wait before retry number `retry`, uniform in `[0, backoff_ceiling(retry)]`.
    pub fn backoff(&self, retry: u32) -> Duration {
        self.backoff_with(retry, &mut rand::rng())
    }

    /// [`backoff`](Self::backoff) drawing from `rng`.
    pub fn backoff_with(&self, retry: u32, rng: &mut impl Rng) -> Duration {
        let ceiling = self.backoff_ceiling(retry);
        ceiling.mul_f64(rng.random_range(0.0..=1.0))
    }
}

/// Parses a code by its canonical name (`UNAVAILABLE`), case-insensitively.
pub(crate) fn code_from_name(name: &str) -> Option<Code> {
    (0..=16)
        .map(Code::from)
        .find(|code| crate::status::code_name(*code).eq_ignore_ascii_case(name))
}

#[cfg(test)]
mod tests {
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy::default().with_backoff(
            Duration::from_millis(100),
            Duration::from_millis(1000),
            2.0,
        )
    }

    #[test]
    fn ceilings_grow_by_the_multiplier_up_to_the_maximum() {
        let p = policy();
        let ceilings: Vec<u64> = (1..=6)
            .map(|n| p.backoff_ceiling(n).as_millis() as u64)
            .collect();
        assert_eq!(ceilings, [100, 200, 400, 800, 1000, 1000]);
        // Far beyond the cap, still the maximum (no overflow to infinity or zero).
        assert_eq!(p.backoff_ceiling(u32::MAX), Duration::from_millis(1000));
    }

    #[test]
    fn jitter_stays_within_bounds_and_spreads() {
        let p = policy();
        let mut rng = StdRng::seed_from_u64(7);
        for retry in 1..=5 {
            let ceiling = p.backoff_ceiling(retry);
            let draws: Vec<Duration> = (0..2000).map(|_| p.backoff_with(retry, &mut rng)).collect();
            assert!(draws.iter().all(|d| *d <= ceiling), "retry {retry}");
            // Full jitter: draws cover the whole range, not a band near the ceiling.
            let low = draws.iter().filter(|d| **d < ceiling / 4).count();
            let high = draws.iter().filter(|d| **d > ceiling * 3 / 4).count();
            assert!((350..650).contains(&low), "retry {retry}: {low} low draws");
            assert!(
                (350..650).contains(&high),
                "retry {retry}: {high} high draws"
            );
            let mean = draws.iter().sum::<Duration>() / draws.len() as u32;
            let half = ceiling / 2;
            assert!(
                mean > half.mul_f64(0.9) && mean < half.mul_f64(1.1),
                "retry {retry}: mean {mean:?} vs {half:?}"
            );
        }
    }

    #[test]
    fn setters_clamp_to_usable_values() {
        assert_eq!(RetryPolicy::default().max_attempts(), 3);
        assert_eq!(
            RetryPolicy::default().with_max_attempts(9).max_attempts(),
            5
        );
        assert_eq!(
            RetryPolicy::default().with_max_attempts(0).max_attempts(),
            1
        );
        let p = RetryPolicy::default().with_backoff(
            Duration::from_millis(500),
            Duration::from_millis(10),
            f64::NAN,
        );
        assert_eq!(p.max_backoff(), Duration::from_millis(500));
        assert_eq!(p.multiplier(), 1.0);
        assert_eq!(p.backoff_ceiling(4), Duration::from_millis(500));
    }

    #[test]
    fn only_configured_codes_are_retried() {
        let p = RetryPolicy::default();
        assert_eq!(
            p.decide(&Status::unavailable("down")),
            RetryDecision::Backoff
        );
        for status in [
            Status::invalid_argument("bad"),
            Status::not_found("gone"),
            Status::internal("bug"),
            Status::deadline_exceeded("slow"),
        ] {
            assert_eq!(p.decide(&status), RetryDecision::Fatal, "{status}");
        }
        let p = p.with_retryable_codes([Code::Aborted, Code::Ok]);
        assert_eq!(p.decide(&Status::aborted("race")), RetryDecision::Backoff);
        assert_eq!(p.decide(&Status::unavailable("down")), RetryDecision::Fatal);
        assert_eq!(
            p.retryable_codes().iter().collect::<Vec<_>>(),
            [Code::Aborted]
        );
    }

    #[test]
    fn retry_info_is_honoured() {
        let p = RetryPolicy::default();
        let delay = Duration::from_millis(750);
        assert_eq!(
            p.decide(&Status::resource_exhausted("slow down").with_retry_after(delay)),
            RetryDecision::After(delay)
        );
        // Without RetryInfo a quota error is final, even when listed as retryable.
        assert_eq!(
            p.decide(&Status::resource_exhausted("quota")),
            RetryDecision::Fatal
        );
        let listed = RetryPolicy::default().with_retryable_codes([Code::ResourceExhausted]);
        assert_eq!(
            listed.decide(&Status::resource_exhausted("quota")),
            RetryDecision::Fatal
        );
        assert_eq!(
            p.decide(&Status::unavailable("draining").with_retry_after(delay)),
            RetryDecision::After(delay)
        );
        // RetryInfo does not make a client mistake retryable.
        assert_eq!(
            p.decide(&Status::invalid_argument("bad").with_retry_after(delay)),
            RetryDecision::Fatal
        );
    }

    #[test]
    fn pushback_beyond_the_limit_is_not_waited_for() {
        let p = RetryPolicy::default().with_max_pushback(Duration::from_secs(2));
        let long = Duration::from_secs(30);
        let decision = p.decide(&Status::resource_exhausted("later").with_retry_after(long));
        assert_eq!(decision, RetryDecision::TooLong(long));
        assert!(!decision.is_retryable());
        // Still the retryable kind: it counts against the retry budget.
        assert!(decision.is_transient());
        assert_eq!(
            p.decide(&Status::unavailable("later").with_retry_after(long)),
            RetryDecision::TooLong(long)
        );
        // The limit itself is still waited for.
        let two = Duration::from_secs(2);
        assert_eq!(
            p.decide(&Status::resource_exhausted("soon").with_retry_after(two)),
            RetryDecision::After(two)
        );
        // Codes never retried stay fatal, whatever the delay.
        assert_eq!(
            p.decide(&Status::not_found("gone").with_retry_after(long)),
            RetryDecision::Fatal
        );
        assert!(!RetryDecision::Fatal.is_transient());
    }

    #[test]
    fn code_names_parse() {
        assert_eq!(code_from_name("unavailable"), Some(Code::Unavailable));
        assert_eq!(
            code_from_name("RESOURCE_EXHAUSTED"),
            Some(Code::ResourceExhausted)
        );
        assert_eq!(code_from_name("NOPE"), None);
    }
}
