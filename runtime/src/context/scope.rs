//! The call a task is serving, so that outgoing client calls made while handling it carry its
//! deadline, request id and trace context without threading them through by hand.
//!
//! The runtime enters the scope around every handler it runs; a spawned task leaves it (wrap
//! the task's future with [`CallScope::enter`] to keep it).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context as TaskContext, Poll};
use std::time::Instant;

use futures::Stream;
use http::HeaderMap;
use pin_project_lite::pin_project;

tokio::task_local! {
    static CURRENT: Arc<CallScope>;
}

/// Makes the propagated headers when an outgoing call first asks for them.
type MakeHeaders = Arc<dyn Fn() -> HeaderMap + Send + Sync>;

/// What an incoming call hands on to the calls its handler makes.
#[derive(Clone, Default)]
pub struct CallScope {
    deadline: Option<Instant>,
    propagated: OnceLock<HeaderMap>,
    make: Option<MakeHeaders>,
}

impl fmt::Debug for CallScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallScope")
            .field("deadline", &self.deadline)
            .field("propagated", &self.propagated.get())
            .finish_non_exhaustive()
    }
}

impl CallScope {
    /// A scope with a deadline and headers to copy onto outgoing calls (`x-request-id`,
    /// `traceparent`, `tracestate`).
    pub fn new(deadline: Option<Instant>, propagated: HeaderMap) -> Self {
        Self {
            deadline,
            propagated: OnceLock::from(propagated),
            make: None,
        }
    }

    /// A scope whose headers are made only if an outgoing call asks for them: most handlers
    /// call nothing, and formatting `traceparent` costs on every call.
    pub fn lazy(
        deadline: Option<Instant>,
        make: impl Fn() -> HeaderMap + Send + Sync + 'static,
    ) -> Self {
        Self {
            deadline,
            propagated: OnceLock::new(),
            make: Some(Arc::new(make)),
        }
    }

    /// The incoming call's deadline, which outgoing calls must not outlive.
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// Headers every outgoing call copies from the incoming one.
    pub fn propagated(&self) -> &HeaderMap {
        self.propagated.get_or_init(|| {
            self.make
                .as_ref()
                .map_or_else(HeaderMap::new, |make| make())
        })
    }

    /// Runs `future` inside this scope.
    pub fn enter<F: Future>(
        self: Arc<Self>,
        future: F,
    ) -> tokio::task::futures::TaskLocalFuture<Arc<CallScope>, F> {
        CURRENT.scope(self, future)
    }

    /// Polls `stream` inside this scope, so a response stream's own calls inherit it too.
    pub fn enter_stream<S: Stream>(self: Arc<Self>, stream: S) -> Scoped<S> {
        Scoped {
            scope: self,
            inner: stream,
        }
    }
}

pin_project! {
    /// A stream polled inside a [`CallScope`].
    pub struct Scoped<S> {
        scope: Arc<CallScope>,
        #[pin]
        inner: S,
    }
}

impl<S: Stream> Stream for Scoped<S> {
    type Item = S::Item;

    fn poll_next(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Option<S::Item>> {
        let this = self.project();
        let inner = this.inner;
        CURRENT.sync_scope(Arc::clone(this.scope), || inner.poll_next(cx))
    }
}

/// The scope of the call the current task is serving, if any.
pub fn current_call() -> Option<Arc<CallScope>> {
    CURRENT.try_with(Arc::clone).ok()
}
