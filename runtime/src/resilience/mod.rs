//! Client resilience, the same on every transport: retries after gRPC's retry design (gRFC A6),
//! a retry budget and a circuit breaker per target, one deadline over all attempts.
//!
//! The pieces know nothing of transports: [`Resilience::call`] wraps "one attempt of a call", an
//! async closure returning `Result<T, Status>`, which a gRPC, REST or in-process client supplies.
//!
//! - [`RetryPolicy`]: attempts (at most 5), full-jitter exponential backoff, retryable codes
//!   (`UNAVAILABLE` by default; `RESOURCE_EXHAUSTED` only with `RetryInfo`, whose delay is used).
//! - [`RetryBudget`]: gRFC A6 retry throttling, so retries cannot multiply an outage.
//! - [`CircuitBreaker`]: closed → open → half-open → closed, failing fast while open.
//! - [`Resilience`]: the three around one call; [`Resilience::call_stream`] for server streams,
//!   never retried once their first item has arrived.
//! - [`ResilienceConfig`]: the `CLIENT_RETRY_*` / `CLIENT_BREAKER_*` variables (table there).
//!
//! A client transport calls, per RPC:
//!
//! ```ignore
//! let deadline = resilience::outgoing_deadline(method_default_timeout);
//! target
//!     .call(method_is_idempotent, deadline, |_attempt| transport.unary(request.clone(), deadline))
//!     .await
//! ```

mod breaker;
mod budget;
mod call;
mod config;
mod retry;
mod stream;

pub use breaker::{
    is_failure, BreakerConfig, BreakerPermit, BreakerState, BreakerStats, BreakerTransition,
    CircuitBreaker,
};
pub use budget::RetryBudget;
pub use call::{outgoing_deadline, Resilience, ResilienceStats};
pub use config::ResilienceConfig;
pub use retry::{CodeSet, RetryDecision, RetryPolicy, MAX_ATTEMPTS_CAP};
pub use stream::Started;

#[cfg(test)]
mod tests;
