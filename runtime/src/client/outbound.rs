//! A caller's request stream on its way out, on any transport.
//!
//! The transport sends what the stream yields. An `Err` item is the caller giving up: the call
//! must end with that status, not look finished to the server. So the error is handed over
//! through [`Aborted`] and also sent on as the last item, which the transport turns into a
//! failed request body (a reset stream, a broken connection) rather than a clean end; the
//! server's handler then sees a broken request stream, and the caller gets its own error.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::{Stream, StreamExt};
use tokio::sync::oneshot;

use crate::context::{RequestStream, ServerStream};
use crate::status::Status;

/// Fires with the caller's error when its request stream fails.
pub(crate) struct Aborted(Option<oneshot::Receiver<Status>>);

impl Aborted {
    /// `Ready(Some)` once the request stream has failed, `Ready(None)` when it ended without
    /// an error (or the error was already taken), `Pending` while it is still being sent.
    fn poll_status(&mut self, cx: &mut Context<'_>) -> Poll<Option<Status>> {
        let Some(receiver) = self.0.as_mut() else {
            return Poll::Ready(None);
        };
        let outcome = futures::ready!(Pin::new(receiver).poll(cx));
        // A completed receiver must not be polled again.
        self.0 = None;
        Poll::Ready(outcome.ok())
    }

    async fn status(&mut self) -> Option<Status> {
        std::future::poll_fn(|cx| self.poll_status(cx)).await
    }
}

/// The messages to send, ending with the caller's error if it gives up, and the signal of a
/// failed request stream.
pub(crate) fn outbound<T: Send + 'static>(
    messages: RequestStream<T>,
) -> (RequestStream<T>, Aborted) {
    let (abort, aborted) = oneshot::channel();
    let sent = futures::stream::unfold(Some((messages, abort)), |state| async move {
        let (mut messages, abort) = state?;
        match messages.next().await {
            Some(Ok(message)) => Some((Ok(message), Some((messages, abort)))),
            Some(Err(status)) => {
                let _ = abort.send(status.clone());
                Some((Err(status), None))
            }
            None => None,
        }
    });
    (Box::pin(sent), Aborted(Some(aborted)))
}

/// Runs `call` unless the request stream fails first; then the call is dropped (reset on the
/// wire) and the caller's error is the outcome.
pub(crate) async fn unless_aborted<T>(
    aborted: &mut Aborted,
    call: impl Future<Output = Result<T, Status>>,
) -> Result<T, Status> {
    tokio::select! {
        biased;
        Some(status) = aborted.status() => Err(status),
        result = call => result,
    }
}

/// A response stream that ends with the caller's error once its request stream fails.
pub(crate) fn until_aborted<T: Send + 'static>(
    responses: ServerStream<T>,
    aborted: Aborted,
) -> ServerStream<T> {
    Box::pin(UntilAborted {
        responses: Some(responses),
        aborted,
    })
}

struct UntilAborted<T> {
    /// `None` once the stream has ended with the caller's error.
    responses: Option<ServerStream<T>>,
    aborted: Aborted,
}

impl<T> Stream for UntilAborted<T> {
    type Item = Result<T, Status>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if let Poll::Ready(Some(status)) = self.aborted.poll_status(cx) {
            // Dropping the responses resets the call.
            self.responses = None;
            return Poll::Ready(Some(Err(status)));
        }
        match self.responses.as_mut() {
            Some(responses) => responses.as_mut().poll_next(cx),
            None => Poll::Ready(None),
        }
    }
}
