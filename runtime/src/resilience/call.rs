//! [`Resilience`]: retry policy, retry budget and circuit breaker composed around the attempts of
//! one call, whatever transport makes them.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant as StdInstant};

use futures::{Stream, StreamExt};
use tokio::time::Instant;

use super::breaker::{BreakerConfig, CircuitBreaker};
use super::budget::RetryBudget;
use super::retry::{RetryDecision, RetryPolicy};
use super::stream::Started;
use crate::status::Status;

/// Counters of one target's calls, for metrics and tests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ResilienceStats {
    /// Calls started through [`Resilience::call`] or [`Resilience::call_stream`].
    pub calls: u64,
    /// Attempts sent after the first (retries).
    pub retries: u64,
    /// Retries not sent because the retry budget was spent.
    pub throttled: u64,
    /// Calls that ended with `DEADLINE_EXCEEDED` because their deadline passed here.
    pub deadline_exceeded: u64,
}

/// Retries, retry budget and circuit breaker of one target.
///
/// Build one per target (a backend over one transport) and share it (`Arc`) among all calls to
/// that target: the budget and the breaker are per target by design.
#[derive(Debug)]
pub struct Resilience {
    policy: RetryPolicy,
    budget: RetryBudget,
    breaker: CircuitBreaker,
    calls: AtomicU64,
    retries: AtomicU64,
    throttled: AtomicU64,
    deadline_exceeded: AtomicU64,
}

impl Resilience {
    /// The policies of `target` (a name used in logs, errors and breaker transitions).
    pub fn new(
        target: impl Into<Arc<str>>,
        policy: RetryPolicy,
        budget: RetryBudget,
        breaker: BreakerConfig,
    ) -> Self {
        Self::with_breaker(policy, budget, CircuitBreaker::new(target, breaker))
    }

    /// The policies around an already built breaker (to attach a transition listener first).
    pub fn with_breaker(policy: RetryPolicy, budget: RetryBudget, breaker: CircuitBreaker) -> Self {
        Self {
            policy,
            budget,
            breaker,
            calls: AtomicU64::new(0),
            retries: AtomicU64::new(0),
            throttled: AtomicU64::new(0),
            deadline_exceeded: AtomicU64::new(0),
        }
    }

    /// The target's name.
    pub fn target(&self) -> &str {
        self.breaker.target()
    }

    /// The retry policy.
    pub fn policy(&self) -> &RetryPolicy {
        &self.policy
    }

    /// The retry budget.
    pub fn budget(&self) -> &RetryBudget {
        &self.budget
    }

    /// The circuit breaker (its state and counters feed metrics).
    pub fn breaker(&self) -> &CircuitBreaker {
        &self.breaker
    }

    /// Call counters.
    pub fn stats(&self) -> ResilienceStats {
        ResilienceStats {
            calls: self.calls.load(Ordering::Relaxed),
            retries: self.retries.load(Ordering::Relaxed),
            throttled: self.throttled.load(Ordering::Relaxed),
            deadline_exceeded: self.deadline_exceeded.load(Ordering::Relaxed),
        }
    }

    /// Runs one call: `attempt(n)` makes attempt `n` (1, 2, …) over the transport.
    ///
    /// - Before each attempt the breaker is asked; while it is open the call ends at once with
    ///   its `UNAVAILABLE` (no retry: failing fast is the point).
    /// - A failed attempt is retried only when `safe_to_retry` (the method may run twice), the
    ///   policy finds the status retryable, attempts remain, the budget allows a retry, and the
    ///   wait (backoff, or the server's `RetryInfo`) ends before `deadline`. Otherwise the
    ///   attempt's status is the call's result.
    /// - `deadline` bounds all attempts and waits together: an attempt still running when it
    ///   passes is dropped (cancelling it) and the call ends with `DEADLINE_EXCEEDED`.
    ///
    /// Every attempt's outcome feeds the breaker and the budget, whether the method is safe to
    /// retry or not. Deadlines are measured on tokio's clock (the same as `std`'s outside tests
    /// with a paused clock).
    pub async fn call<T, F, Fut>(
        &self,
        safe_to_retry: bool,
        deadline: Option<StdInstant>,
        mut attempt: F,
    ) -> Result<T, Status>
    where
        F: FnMut(u32) -> Fut,
        Fut: Future<Output = Result<T, Status>>,
    {
        self.calls.fetch_add(1, Ordering::Relaxed);
        let deadline = deadline.map(Instant::from_std);
        let mut number = 1;
        loop {
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return Err(self.deadline_passed(number));
            }
            let permit = self.breaker.try_acquire()?;
            let result = match deadline {
                None => attempt(number).await,
                Some(d) => match tokio::time::timeout_at(d, attempt(number)).await {
                    Ok(result) => result,
                    Err(_) => Err(self.deadline_passed(number)),
                },
            };
            let status = match result {
                Ok(value) => {
                    permit.record(Ok(()));
                    self.budget.on_success();
                    return Ok(value);
                }
                Err(status) => status,
            };
            permit.record(Err(&status));
            let decision = self.policy.decide(&status);
            if decision.is_transient() {
                self.budget.on_failure();
            }
            let Some(wait) = self.retry_wait(safe_to_retry, number, decision, &status) else {
                return Err(status);
            };
            let resume = Instant::now().checked_add(wait);
            if deadline.is_some_and(|d| resume.is_none_or(|at| at >= d)) {
                tracing::debug!(
                    target_name = self.target(),
                    attempt = number,
                    wait_ms = wait.as_millis() as u64,
                    "not retrying: the wait would outlast the deadline"
                );
                return Err(status);
            }
            tokio::time::sleep(wait).await;
            self.retries.fetch_add(1, Ordering::Relaxed);
            number += 1;
        }
    }

    /// Runs a call whose response is a stream, retrying only failures before its first item: once
    /// a response has started, errors reach the caller as stream items and are never retried.
    ///
    /// `attempt(n)` opens the stream; the first item is awaited under the same rules as
    /// [`call`](Self::call) (breaker, budget, deadline). The first item arriving counts as the
    /// call's success for the breaker and the budget; a stream that ends without items does too.
    /// The returned stream yields every item and ends with `DEADLINE_EXCEEDED` if `deadline`
    /// passes while it is still being read.
    pub async fn call_stream<S, T, F, Fut>(
        &self,
        safe_to_retry: bool,
        deadline: Option<StdInstant>,
        mut attempt: F,
    ) -> Result<Started<S>, Status>
    where
        F: FnMut(u32) -> Fut,
        Fut: Future<Output = Result<S, Status>>,
        S: Stream<Item = Result<T, Status>> + Unpin,
    {
        let (first, rest) = self
            .call(safe_to_retry, deadline, |number| {
                let opened = attempt(number);
                async move {
                    let mut stream = opened.await?;
                    match stream.next().await {
                        Some(Ok(first)) => Ok((Some(first), stream)),
                        Some(Err(status)) => Err(status),
                        None => Ok((None, stream)),
                    }
                }
            })
            .await?;
        Ok(Started::new(
            first.map(Ok),
            rest,
            deadline.map(Instant::from_std),
        ))
    }

    /// The wait before the next attempt, or `None` when the failure is final.
    fn retry_wait(
        &self,
        safe_to_retry: bool,
        number: u32,
        decision: RetryDecision,
        status: &Status,
    ) -> Option<Duration> {
        if !safe_to_retry || number >= self.policy.max_attempts() {
            return None;
        }
        let wait = match decision {
            RetryDecision::Fatal => return None,
            RetryDecision::TooLong(delay) => {
                tracing::debug!(
                    target_name = self.target(),
                    pushback_ms = delay.as_millis() as u64,
                    "not retrying: the server asked for a longer wait than the policy allows"
                );
                return None;
            }
            RetryDecision::Backoff => self.policy.backoff(number),
            RetryDecision::After(delay) => delay,
        };
        if !self.budget.allows_retry() {
            self.throttled.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(
                target_name = self.target(),
                code = ?status.code(),
                "not retrying: the retry budget is spent"
            );
            return None;
        }
        Some(wait)
    }

    fn deadline_passed(&self, attempts: u32) -> Status {
        self.deadline_exceeded.fetch_add(1, Ordering::Relaxed);
        Status::deadline_exceeded(format!(
            "deadline exceeded calling {} (attempt {attempts})",
            self.target()
        ))
    }
}

/// The deadline of an outgoing call: `default` from now (the method's default timeout), capped
/// by the deadline of the incoming call the current task serves, if any.
pub fn outgoing_deadline(default: Option<Duration>) -> Option<StdInstant> {
    let own = default.and_then(|d| StdInstant::now().checked_add(d));
    let inherited = crate::context::current_call().and_then(|scope| scope.deadline());
    match (own, inherited) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}
