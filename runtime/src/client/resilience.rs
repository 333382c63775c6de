//! Resilience shared by every remote transport: retries of methods safe to repeat (after gRFC
//! A6), a retry budget and a circuit breaker per target.
//!
//! - **Retries** apply only to methods the client's [`ClientOptions`](super::ClientOptions) mark
//!   safe, only for `UNAVAILABLE` and `RESOURCE_EXHAUSTED`, only before a response has started
//!   (a server stream that has opened is never retried), and all attempts share the call's one
//!   deadline. The wait before attempt *n* is random in `[0, backoff)`, the backoff growing by
//!   the multiplier up to its maximum; a `RetryInfo` delay from the server replaces it. No retry
//!   is made when it could not finish before the deadline.
//! - **Retry budget** (per target): a token bucket. Every retryable failure takes a token, every
//!   success gives back a fraction of one; retries are allowed only while more than half the
//!   tokens are left, so retries cannot multiply an outage.
//! - **Circuit breaker** (per target): closed until `consecutive_failures` failures in a row, or
//!   a failure rate of at least `failure_rate` over `min_calls` calls within `window`; then open
//!   for `open_for`, failing calls at once with `UNAVAILABLE`; then half-open, letting one probe
//!   through: its success closes the breaker, its failure opens it again. Failures are
//!   `UNAVAILABLE` and `DEADLINE_EXCEEDED` answers: the target's health, not the request's.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::status::{Code, Status};

/// Retries of safe methods, after gRFC A6.
#[derive(Clone, Debug, PartialEq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (at least 1; default 3).
    pub max_attempts: u32,
    /// The backoff before the first retry (default 100 ms).
    pub initial_backoff: Duration,
    /// The largest backoff (default 2 s).
    pub max_backoff: Duration,
    /// How the backoff grows after each retry (default 2).
    pub multiplier: f64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(2),
            multiplier: 2.0,
        }
    }
}

impl RetryPolicy {
    /// Whether `status` may be retried at all.
    pub fn is_retryable(status: &Status) -> bool {
        matches!(status.code(), Code::Unavailable | Code::ResourceExhausted)
    }
}

/// The retry budget of a target: a token bucket, as gRFC A6's retry throttling.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RetryBudget {
    /// Tokens in a full bucket (default 10).
    pub max_tokens: f64,
    /// Tokens a success gives back (default 0.1).
    pub token_ratio: f64,
}

impl Default for RetryBudget {
    fn default() -> Self {
        Self {
            max_tokens: 10.0,
            token_ratio: 0.1,
        }
    }
}

/// When a target's circuit breaker opens.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BreakerConfig {
    /// Failures in a row that open the breaker (default 5).
    pub consecutive_failures: u32,
    /// The failure rate that opens the breaker (default 0.5) ...
    pub failure_rate: f64,
    /// ... over at least this many calls (default 20) ...
    pub min_calls: u32,
    /// ... within this window (default 10 s).
    pub window: Duration,
    /// How long the breaker stays open before a probe (default 5 s).
    pub open_for: Duration,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        Self {
            consecutive_failures: 5,
            failure_rate: 0.5,
            min_calls: 20,
            window: Duration::from_secs(10),
            open_for: Duration::from_secs(5),
        }
    }
}

/// The state of a circuit breaker, for metrics and tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BreakerState {
    /// Calls go through.
    Closed,
    /// Calls fail at once.
    Open,
    /// One probe is allowed through.
    HalfOpen,
}

#[derive(Debug)]
enum State {
    Closed {
        consecutive: u32,
        window_start: Instant,
        calls: u32,
        failures: u32,
    },
    Open {
        until: Instant,
    },
    HalfOpen {
        probing: bool,
    },
}

fn closed(now: Instant) -> State {
    State::Closed {
        consecutive: 0,
        window_start: now,
        calls: 0,
        failures: 0,
    }
}

/// What a target shares across every client calling it: its breaker and its retry budget.
#[derive(Debug)]
pub(crate) struct TargetHealth {
    target: String,
    breaker: BreakerConfig,
    state: Mutex<State>,
    budget: RetryBudget,
    tokens: Mutex<f64>,
}

impl TargetHealth {
    pub(crate) fn new(target: String, breaker: BreakerConfig, budget: RetryBudget) -> Self {
        Self {
            target,
            breaker,
            state: Mutex::new(closed(Instant::now())),
            budget,
            tokens: Mutex::new(budget.max_tokens),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock leaves a valid state behind.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The breaker's state now.
    pub(crate) fn breaker_state(&self) -> BreakerState {
        match &*self.lock() {
            State::Closed { .. } => BreakerState::Closed,
            State::Open { until } if Instant::now() < *until => BreakerState::Open,
            State::Open { .. } | State::HalfOpen { .. } => BreakerState::HalfOpen,
        }
    }

    /// Lets a call through, or fails it at once while the breaker is open.
    pub(crate) fn admit(&self) -> Result<(), Status> {
        let mut state = self.lock();
        let now = Instant::now();
        match &mut *state {
            State::Closed { .. } => Ok(()),
            State::Open { until } if now < *until => Err(self.open_error()),
            State::Open { .. } => {
                *state = State::HalfOpen { probing: true };
                Ok(())
            }
            State::HalfOpen { probing: true } => Err(self.open_error()),
            State::HalfOpen { probing } => {
                *probing = true;
                Ok(())
            }
        }
    }

    fn open_error(&self) -> Status {
        Status::unavailable(format!(
            "circuit breaker for {} is open after repeated failures",
            self.target
        ))
    }

    /// Records the outcome of an admitted call.
    pub(crate) fn record(&self, outcome: &Result<(), &Status>) {
        let failed = matches!(outcome, Err(s) if matches!(s.code(), Code::Unavailable | Code::DeadlineExceeded));
        let retryable_failure = matches!(outcome, Err(s) if RetryPolicy::is_retryable(s));
        {
            let mut tokens = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
            *tokens = if retryable_failure {
                (*tokens - 1.0).max(0.0)
            } else if outcome.is_ok() {
                (*tokens + self.budget.token_ratio).min(self.budget.max_tokens)
            } else {
                *tokens
            };
        }
        let config = self.breaker;
        let mut state = self.lock();
        let now = Instant::now();
        let next = match &mut *state {
            State::Closed {
                consecutive,
                window_start,
                calls,
                failures,
            } => {
                if now.duration_since(*window_start) > config.window {
                    *window_start = now;
                    *calls = 0;
                    *failures = 0;
                }
                *calls += 1;
                if failed {
                    *failures += 1;
                    *consecutive += 1;
                } else {
                    *consecutive = 0;
                }
                let rate_tripped = *calls >= config.min_calls
                    && f64::from(*failures) >= config.failure_rate * f64::from(*calls);
                (*consecutive >= config.consecutive_failures || rate_tripped).then(|| State::Open {
                    until: now + config.open_for,
                })
            }
            State::HalfOpen { .. } if failed => Some(State::Open {
                until: now + config.open_for,
            }),
            State::HalfOpen { .. } => Some(closed(now)),
            // A call admitted before the breaker opened changes nothing.
            State::Open { .. } => None,
        };
        if let Some(next) = next {
            *state = next;
        }
    }

    /// Whether the budget allows another retry.
    pub(crate) fn retry_allowed(&self) -> bool {
        let tokens = *self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        tokens > self.budget.max_tokens / 2.0
    }
}

/// The wait before the next attempt: the server's `RetryInfo` delay, else random in
/// `[0, backoff)`.
pub(crate) fn retry_delay(status: &Status, backoff: Duration) -> Duration {
    match status
        .details()
        .retry_info
        .as_ref()
        .and_then(|r| r.retry_delay)
    {
        Some(delay) => delay,
        None => backoff.mul_f64(rand::random::<f64>()),
    }
}

/// The backoff after `backoff`.
pub(crate) fn next_backoff(policy: &RetryPolicy, backoff: Duration) -> Duration {
    let grown = backoff.as_secs_f64() * policy.multiplier.max(1.0);
    Duration::from_secs_f64(grown.min(policy.max_backoff.as_secs_f64()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn health(open_for: Duration) -> TargetHealth {
        let breaker = BreakerConfig {
            consecutive_failures: 3,
            open_for,
            ..BreakerConfig::default()
        };
        TargetHealth::new("t".into(), breaker, RetryBudget::default())
    }

    #[test]
    fn the_breaker_opens_half_opens_and_closes() {
        let health = health(Duration::from_millis(30));
        let failure = Status::unavailable("down");
        for _ in 0..3 {
            health.admit().unwrap();
            health.record(&Err(&failure));
        }
        assert_eq!(health.breaker_state(), BreakerState::Open);
        assert_eq!(health.admit().unwrap_err().code(), Code::Unavailable);
        std::thread::sleep(Duration::from_millis(40));
        // One probe at a time.
        health.admit().unwrap();
        assert!(health.admit().is_err());
        health.record(&Err(&failure));
        assert_eq!(health.breaker_state(), BreakerState::Open);
        std::thread::sleep(Duration::from_millis(40));
        health.admit().unwrap();
        health.record(&Ok(()));
        assert_eq!(health.breaker_state(), BreakerState::Closed);
    }

    #[test]
    fn client_mistakes_do_not_open_the_breaker_and_rate_trips_it() {
        let health = health(Duration::from_secs(60));
        for _ in 0..10 {
            health.record(&Err(&Status::invalid_argument("bad")));
        }
        assert_eq!(health.breaker_state(), BreakerState::Closed);
        let health = TargetHealth::new(
            "t".into(),
            BreakerConfig {
                consecutive_failures: 100,
                min_calls: 10,
                ..BreakerConfig::default()
            },
            RetryBudget::default(),
        );
        for i in 0..10 {
            let outcome = if i % 2 == 0 {
                Err(Status::unavailable("down"))
            } else {
                Ok(())
            };
            health.record(&outcome.as_ref().map(|_| ()));
        }
        assert_eq!(health.breaker_state(), BreakerState::Open);
    }

    #[test]
    fn the_budget_stops_retries_and_refills_slowly() {
        let health = health(Duration::from_secs(60));
        let failure = Status::resource_exhausted("slow down");
        assert!(health.retry_allowed());
        for _ in 0..5 {
            health.record(&Err(&failure));
        }
        assert!(!health.retry_allowed());
        for _ in 0..10 {
            health.record(&Ok(()));
        }
        assert!(health.retry_allowed());
    }

    #[test]
    fn backoff_grows_to_its_cap_and_retry_info_wins() {
        let policy = RetryPolicy::default();
        let mut backoff = policy.initial_backoff;
        for _ in 0..10 {
            backoff = next_backoff(&policy, backoff);
        }
        assert_eq!(backoff, policy.max_backoff);
        let delay = retry_delay(&Status::unavailable("x"), Duration::from_millis(100));
        assert!(delay < Duration::from_millis(100));
        let pushed = Status::unavailable("x").with_retry_after(Duration::from_millis(700));
        assert_eq!(
            retry_delay(&pushed, Duration::from_millis(100)),
            Duration::from_millis(700)
        );
    }
}
