//! The response stream of a call that has started: the first item, already received, then the
//! rest, under the call's deadline.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use futures::Stream;
use tokio::time::{Instant, Sleep};

use crate::status::Status;

/// A response stream returned by [`Resilience::call_stream`](super::Resilience::call_stream).
///
/// Yields the first item, then the transport's items. When the call's deadline passes it yields
/// one `DEADLINE_EXCEEDED` error and ends (dropping, and so cancelling, the transport's stream).
/// It is `Unpin`, so `StreamExt::next` works on it directly.
pub struct Started<S: Stream> {
    first: Option<S::Item>,
    inner: Option<S>,
    // Boxed so the stream stays `Unpin`.
    deadline: Option<Pin<Box<Sleep>>>,
}

impl<S: Stream> Started<S> {
    pub(crate) fn new(first: Option<S::Item>, inner: S, deadline: Option<Instant>) -> Self {
        Self {
            first,
            inner: Some(inner),
            deadline: deadline.map(|d| Box::pin(tokio::time::sleep_until(d))),
        }
    }
}

// No field is ever pinned: the first item is only moved out, the transport's stream is `Unpin`
// and the sleep is boxed.
impl<S: Stream + Unpin> Unpin for Started<S> {}

impl<S, T> Stream for Started<S>
where
    S: Stream<Item = Result<T, Status>> + Unpin,
{
    type Item = Result<T, Status>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if let Some(first) = this.first.take() {
            return Poll::Ready(Some(first));
        }
        let Some(inner) = this.inner.as_mut() else {
            return Poll::Ready(None);
        };
        if let Poll::Ready(item) = Pin::new(inner).poll_next(cx) {
            if item.is_none() {
                this.inner = None;
            }
            return Poll::Ready(item);
        }
        if let Some(deadline) = this.deadline.as_mut() {
            if deadline.as_mut().poll(cx).is_ready() {
                this.inner = None;
                this.deadline = None;
                return Poll::Ready(Some(Err(Status::deadline_exceeded(
                    "deadline exceeded while reading the response stream",
                ))));
            }
        }
        Poll::Pending
    }
}

impl<S: Stream> std::fmt::Debug for Started<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Started")
            .field("first_pending", &self.first.is_some())
            .field("ended", &self.inner.is_none())
            .finish()
    }
}
