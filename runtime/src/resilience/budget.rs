//! Retry throttling per target (gRFC A6): a token bucket that failures drain and successes refill,
//! so a failing target stops receiving retries and an outage is not multiplied by them.
//!
//! The bucket starts full at `max_tokens`. Each attempt that fails with a retryable status takes
//! one token; each successful attempt gives back `token_ratio`. Retries are allowed only while the
//! bucket holds more than half of `max_tokens`. With the defaults (10 tokens, ratio 0.1) a target
//! must answer about ten calls for every failure before retries resume once throttled.
//!
//! Tokens are kept in thousandths in one atomic, so the bucket costs a compare-and-swap per
//! attempt and no lock.

use std::sync::atomic::{AtomicU32, Ordering};

const SCALE: u32 = 1000;

/// The token bucket deciding whether a target may be retried.
#[derive(Debug)]
pub struct RetryBudget {
    /// Current tokens, in thousandths.
    tokens: AtomicU32,
    max: u32,
    ratio: u32,
}

impl Default for RetryBudget {
    /// 10 tokens, 0.1 token back per success.
    fn default() -> Self {
        Self::new(10, 0.1)
    }
}

impl RetryBudget {
    /// The largest `max_tokens` accepted.
    pub const MAX_TOKENS: u32 = 1000;

    /// A full bucket of `max_tokens` (clamped to `1..=1000`) refilled by `token_ratio` per success
    /// (clamped to `0.001..=1`, kept to three decimals as gRFC A6 specifies).
    pub fn new(max_tokens: u32, token_ratio: f64) -> Self {
        let max = max_tokens.clamp(1, Self::MAX_TOKENS) * SCALE;
        let ratio = if token_ratio.is_finite() {
            (token_ratio * f64::from(SCALE))
                .round()
                .clamp(1.0, f64::from(SCALE)) as u32
        } else {
            SCALE
        };
        Self {
            tokens: AtomicU32::new(max),
            max,
            ratio,
        }
    }

    /// The bucket's capacity.
    pub fn max_tokens(&self) -> f64 {
        f64::from(self.max) / f64::from(SCALE)
    }

    /// Tokens given back per success.
    pub fn token_ratio(&self) -> f64 {
        f64::from(self.ratio) / f64::from(SCALE)
    }

    /// Tokens now in the bucket.
    pub fn tokens(&self) -> f64 {
        f64::from(self.tokens.load(Ordering::Relaxed)) / f64::from(SCALE)
    }

    /// Records an attempt that failed with a retryable status: takes one token.
    pub fn on_failure(&self) {
        self.update(|t| t.saturating_sub(SCALE));
    }

    /// Records a successful attempt: gives back `token_ratio` tokens, up to the capacity.
    pub fn on_success(&self) {
        let max = self.max;
        let ratio = self.ratio;
        self.update(|t| (t + ratio).min(max));
    }

    /// Whether a retry may be sent now: more than half the capacity is left.
    pub fn allows_retry(&self) -> bool {
        // tokens > max / 2, without losing the half token of an odd capacity.
        u64::from(self.tokens.load(Ordering::Relaxed)) * 2 > u64::from(self.max)
    }

    fn update(&self, f: impl Fn(u32) -> u32) {
        // `fetch_update` only fails when the closure returns `None`, which it never does.
        let _ = self
            .tokens
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |t| Some(f(t)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_full_and_allows_retries() {
        let budget = RetryBudget::default();
        assert_eq!(budget.tokens(), 10.0);
        assert_eq!(budget.max_tokens(), 10.0);
        assert_eq!(budget.token_ratio(), 0.1);
        assert!(budget.allows_retry());
    }

    #[test]
    fn failures_drain_to_the_threshold() {
        let budget = RetryBudget::default();
        for _ in 0..4 {
            budget.on_failure();
        }
        // 6 tokens left: still above 5.
        assert_eq!(budget.tokens(), 6.0);
        assert!(budget.allows_retry());
        budget.on_failure();
        // Exactly half: not more than half, so retries stop.
        assert_eq!(budget.tokens(), 5.0);
        assert!(!budget.allows_retry());
        for _ in 0..20 {
            budget.on_failure();
        }
        assert_eq!(budget.tokens(), 0.0);
    }

    #[test]
    fn successes_refill_by_the_ratio() {
        let budget = RetryBudget::default();
        for _ in 0..5 {
            budget.on_failure();
        }
        assert!(!budget.allows_retry());
        // One success: 5.1 tokens, above half again.
        budget.on_success();
        assert!((budget.tokens() - 5.1).abs() < 1e-9);
        assert!(budget.allows_retry());
        // Refilling stops at the capacity.
        for _ in 0..100 {
            budget.on_success();
        }
        assert_eq!(budget.tokens(), 10.0);
    }

    #[test]
    fn a_throttled_target_needs_ten_successes_per_failure() {
        let budget = RetryBudget::default();
        for _ in 0..10 {
            budget.on_failure();
        }
        // From empty, 51 successes bring the bucket above half (5.1 tokens).
        for i in 0..51 {
            assert!(!budget.allows_retry(), "allowed after {i} successes");
            budget.on_success();
        }
        assert!(budget.allows_retry());
    }

    #[test]
    fn odd_capacities_and_bad_ratios_are_handled() {
        let budget = RetryBudget::new(3, 0.5);
        budget.on_failure();
        // 2 tokens > 1.5.
        assert!(budget.allows_retry());
        budget.on_failure();
        assert!(!budget.allows_retry());
        assert_eq!(RetryBudget::new(0, f64::NAN).max_tokens(), 1.0);
        assert_eq!(RetryBudget::new(0, f64::NAN).token_ratio(), 1.0);
        assert_eq!(RetryBudget::new(5, 0.0).token_ratio(), 0.001);
        assert_eq!(RetryBudget::new(u32::MAX, 7.0).max_tokens(), 1000.0);
    }
}
