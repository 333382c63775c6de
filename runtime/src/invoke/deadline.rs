//! Deadlines and cancellation: a handler future or response stream run under the call's deadline.
//!
//! The handler future is polled inside [`Invoke`]; when the deadline passes, the future is dropped
//! (so the handler stops at its next `.await`) and the call answers `DEADLINE_EXCEEDED`. When the
//! whole call is dropped (the client went away), the context's cancellation token fires.

use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context as TaskContext, Poll};
use std::time::{Duration, Instant};

use futures::Stream;
use pin_project_lite::pin_project;
use tokio::time::Sleep;
use tokio_util::sync::{CancellationToken, DropGuard, WaitForCancellationFutureOwned};

use crate::method::MethodPolicy;
use crate::status::Status;

/// The handler's deadline: the client's timeout capped by the method's policy timeout.
pub(crate) fn effective_deadline(
    now: Instant,
    client_timeout: Option<Duration>,
    policy: Option<&MethodPolicy>,
) -> Option<Instant> {
    let policy_timeout = policy.and_then(|p| p.timeout);
    let timeout = match (client_timeout, policy_timeout) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }?;
    // A timeout too large to represent means no deadline at all.
    now.checked_add(timeout)
}

pub(crate) fn deadline_status() -> Status {
    Status::deadline_exceeded("deadline exceeded before the handler finished")
}

pin_project! {
    /// A call's future run under its deadline, cancelling the call's context when dropped early.
    pub(crate) struct Invoke<Fut> {
        #[pin]
        fut: Fut,
        sleep: Option<Pin<Box<Sleep>>>,
        guard: Option<DropGuard>,
    }
}

impl<Fut> Invoke<Fut> {
    pub(crate) fn running(fut: Fut, deadline: Option<Instant>, token: &CancellationToken) -> Self {
        Invoke {
            fut,
            sleep: deadline.map(|d| Box::pin(tokio::time::sleep_until(d.into()))),
            guard: Some(token.clone().drop_guard()),
        }
    }
}

impl<Fut, R> Future for Invoke<Fut>
where
    Fut: Future<Output = Result<R, Status>>,
{
    type Output = Result<R, Status>;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if let Poll::Ready(out) = this.fut.poll(cx) {
            // Finished in time: the call is over, not abandoned.
            if let Some(guard) = this.guard.take() {
                guard.disarm();
            }
            return Poll::Ready(out);
        }
        if let Some(sleep) = this.sleep {
            ready!(sleep.as_mut().poll(cx));
            // The guard cancels the token when `Invoke` is dropped, right after this.
            return Poll::Ready(Err(deadline_status()));
        }
        Poll::Pending
    }
}

pin_project! {
    /// A response stream under a deadline: past it, one `DEADLINE_EXCEEDED` item, then the end.
    /// Dropping it (the client went away) cancels the call's context.
    pub(crate) struct Deadlined<S> {
        #[pin]
        inner: S,
        sleep: Option<Pin<Box<Sleep>>>,
        shutdown: Option<Pin<Box<WaitForCancellationFutureOwned>>>,
        guard: Option<DropGuard>,
        done: bool,
    }
}

impl<S> Deadlined<S> {
    pub(crate) fn new(
        inner: S,
        deadline: Option<Instant>,
        shutdown: Option<CancellationToken>,
        guard: Option<DropGuard>,
    ) -> Self {
        Self {
            inner,
            sleep: deadline.map(|d| Box::pin(tokio::time::sleep_until(d.into()))),
            shutdown: shutdown.map(|token| Box::pin(token.cancelled_owned())),
            guard,
            done: false,
        }
    }
}

impl<S, T> Stream for Deadlined<S>
where
    S: Stream<Item = Result<T, Status>>,
{
    type Item = Result<T, Status>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Option<Self::Item>> {
        let this = self.project();
        if *this.done {
            return Poll::Ready(None);
        }
        if let Poll::Ready(item) = this.inner.poll_next(cx) {
            match &item {
                None => {
                    *this.done = true;
                    if let Some(guard) = this.guard.take() {
                        guard.disarm();
                    }
                }
                // The stream's contract ends at its first error.
                Some(Err(_)) => *this.done = true,
                Some(Ok(_)) => {}
            }
            return Poll::Ready(item);
        }
        if let Some(shutdown) = this.shutdown {
            if shutdown.as_mut().poll(cx).is_ready() {
                *this.done = true;
                this.guard.take();
                // Streams would hold a graceful shutdown open forever; end them clearly.
                return Poll::Ready(Some(Err(Status::unavailable("server is shutting down"))));
            }
        }
        if let Some(sleep) = this.sleep {
            ready!(sleep.as_mut().poll(cx));
            *this.done = true;
            // Drop the guard now: the handler's stream is abandoned.
            this.guard.take();
            return Poll::Ready(Some(Err(deadline_status())));
        }
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_earlier_deadline_wins() {
        let now = Instant::now();
        let policy = MethodPolicy {
            timeout: Some(Duration::from_secs(1)),
            ..MethodPolicy::DEFAULT
        };
        assert_eq!(
            effective_deadline(now, Some(Duration::from_secs(5)), Some(&policy)),
            Some(now + Duration::from_secs(1))
        );
        assert_eq!(
            effective_deadline(now, Some(Duration::from_millis(10)), Some(&policy)),
            Some(now + Duration::from_millis(10))
        );
        assert_eq!(effective_deadline(now, None, None), None);
    }

    #[tokio::test]
    async fn an_expired_deadline_drops_the_handler_and_cancels() {
        let token = CancellationToken::new();
        let deadline = Instant::now() + Duration::from_millis(20);
        let slow = async {
            tokio::time::sleep(Duration::from_secs(5)).await;
            Ok::<_, Status>(())
        };
        let err = Invoke::running(slow, Some(deadline), &token)
            .await
            .unwrap_err();
        assert_eq!(err.code(), crate::status::Code::DeadlineExceeded);
        assert!(token.is_cancelled());
    }

    #[tokio::test]
    async fn a_finished_call_is_not_cancelled() {
        let token = CancellationToken::new();
        Invoke::running(async { Ok::<_, Status>(()) }, None, &token)
            .await
            .unwrap();
        assert!(!token.is_cancelled());
    }
}
