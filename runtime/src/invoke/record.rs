//! What is observed of every call: its metrics series, its span, and one access-log line when
//! it ends (for a stream: when the stream ends).

use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context as TaskContext, Poll};
use std::time::Instant;

use futures::Stream;
use tracing::Span;

use super::pipeline::CallParts;
use super::policies::{CallEnv, Policies};
use crate::context::{Principal, Protocol, RemoteAddr};
use crate::method::MethodInfo;
use crate::metrics::CallTimer;
use crate::status::{Code, Status};
use crate::telemetry::{access_log, server_span, AccessEntry, CallTelemetry};

/// One call being observed, from its start to its status.
pub(crate) struct CallRecord {
    method: &'static MethodInfo,
    protocol: Protocol,
    timer: Option<CallTimer>,
    started: Instant,
    pub(crate) telemetry: CallTelemetry,
    pub(crate) principal: Option<Arc<Principal>>,
    peer: Option<std::net::SocketAddr>,
    pub(crate) span: Span,
}

impl CallRecord {
    /// Starts observing the call: counts it in flight and opens its span.
    pub(crate) fn start(policies: &Policies, parts: &CallParts) -> Self {
        let timer = policies
            .metrics
            .as_ref()
            .and_then(|m| m.method(parts.method))
            .map(|series| series.start(parts.protocol));
        let started = timer.as_ref().map_or_else(Instant::now, CallTimer::started);
        // The dispatcher read the ids once per HTTP request; direct calls read them here.
        let mut telemetry = match parts.extensions.get::<CallEnv>() {
            Some(env) => env.telemetry.clone(),
            None => CallTelemetry::from_headers(&parts.headers),
        };
        let span = server_span(&mut telemetry, parts.method, parts.protocol);
        Self {
            method: parts.method,
            protocol: parts.protocol,
            timer,
            started,
            telemetry,
            principal: None,
            peer: parts.extensions.get::<RemoteAddr>().map(|a| a.0),
            span,
        }
    }

    /// Records the call's status: metrics, then the access-log line.
    pub(crate) fn finish(self, code: Code) {
        let latency = match self.timer {
            Some(timer) => timer.finish(code),
            None => self.started.elapsed(),
        };
        let _entered = self.span.enter();
        access_log(&AccessEntry {
            protocol: self.protocol,
            service: self.method.service,
            method: self.method.name,
            code,
            latency,
            principal: self.principal.as_deref().map(|p| p.subject.as_str()),
            request_id: self.telemetry.request_id().as_str(),
            trace_id: self.telemetry.trace().trace_id(),
            peer: self.peer,
        });
    }

    /// Records `outcome`'s status.
    pub(crate) fn finish_with<T>(self, outcome: &Result<T, Status>) {
        self.finish(outcome.as_ref().map_or_else(Status::code, |_| Code::Ok));
    }
}

/// A response stream whose call is recorded when the stream ends: `OK` at its end, the code of
/// its first error, `CANCELLED` when the client drops it first.
pub(crate) struct Recorded<S> {
    inner: S,
    record: Option<CallRecord>,
}

impl<S> Recorded<S> {
    pub(crate) fn new(inner: S, record: CallRecord) -> Self {
        Self {
            inner,
            record: Some(record),
        }
    }
}

impl<S, T> Stream for Recorded<S>
where
    S: Stream<Item = Result<T, Status>> + Unpin,
{
    type Item = Result<T, Status>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Option<Self::Item>> {
        let item = ready!(Pin::new(&mut self.inner).poll_next(cx));
        let code = match &item {
            None => Some(Code::Ok),
            Some(Err(status)) => Some(status.code()),
            Some(Ok(_)) => None,
        };
        if let Some(code) = code {
            if let Some(record) = self.record.take() {
                record.finish(code);
            }
        }
        Poll::Ready(item)
    }
}

impl<S> Drop for Recorded<S> {
    fn drop(&mut self) {
        if let Some(record) = self.record.take() {
            record.finish(Code::Cancelled);
        }
    }
}
