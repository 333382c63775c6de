//! The telemetry identity of one incoming call: its request id and trace context, read once
//! from the request's headers (HTTP headers or gRPC metadata) and handed on to outgoing calls.

use http::HeaderMap;

use super::request_id::{RequestId, REQUEST_ID_HEADER};
use super::trace::{SpanId, TraceContext, TraceId, TRACEPARENT_HEADER, TRACESTATE_HEADER};

/// Request id and trace context of one call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallTelemetry {
    request_id: RequestId,
    trace: TraceContext,
}

impl CallTelemetry {
    /// Reads `x-request-id`, `traceparent` and `tracestate` (making an id or a new trace where
    /// they are missing or invalid).
    pub fn from_headers(headers: &HeaderMap) -> Self {
        Self {
            request_id: RequestId::from_headers(headers),
            trace: TraceContext::from_headers(headers),
        }
    }

    /// From parts already at hand.
    pub fn new(request_id: RequestId, trace: TraceContext) -> Self {
        Self { request_id, trace }
    }

    /// The request id, to return on the response and log.
    pub fn request_id(&self) -> &RequestId {
        &self.request_id
    }

    /// The trace context.
    pub fn trace(&self) -> &TraceContext {
        &self.trace
    }

    /// Takes the ids of the span an exporter recorded for this call.
    #[cfg_attr(not(feature = "otlp"), allow(dead_code))]
    pub(crate) fn adopt(&mut self, trace_id: TraceId, span_id: SpanId, sampled: bool) {
        self.trace.adopt(trace_id, span_id, sampled);
    }

    /// Headers for calls made on behalf of this one: `traceparent` (this call's span as the
    /// parent), `tracestate` when the caller sent one, and `x-request-id`.
    pub fn outgoing_headers(&self) -> HeaderMap {
        let mut headers = HeaderMap::with_capacity(3);
        headers.insert(TRACEPARENT_HEADER, self.trace.traceparent());
        if let Some(state) = self.trace.tracestate() {
            headers.insert(TRACESTATE_HEADER, state.clone());
        }
        headers.insert(REQUEST_ID_HEADER, self.request_id.header_value().clone());
        headers
    }
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;
    use crate::telemetry::Traceparent;

    #[test]
    fn incoming_ids_flow_to_outgoing_headers() {
        let mut incoming = HeaderMap::new();
        incoming.insert(REQUEST_ID_HEADER, HeaderValue::from_static("req-7"));
        incoming.insert(
            TRACEPARENT_HEADER,
            HeaderValue::from_static("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
        );
        incoming.insert(TRACESTATE_HEADER, HeaderValue::from_static("rojo=1"));
        let call = CallTelemetry::from_headers(&incoming);
        let out = call.outgoing_headers();
        assert_eq!(out.len(), 3);
        assert_eq!(out[REQUEST_ID_HEADER], "req-7");
        assert_eq!(out[TRACESTATE_HEADER], "rojo=1");
        let sent = Traceparent::parse(out[TRACEPARENT_HEADER].as_bytes()).unwrap();
        assert_eq!(sent.trace_id, call.trace().trace_id());
        assert_eq!(sent.parent_id, call.trace().span_id());
        assert_eq!(sent.flags, 1);

        // A downstream service continues the same trace under this call's span.
        let next = CallTelemetry::from_headers(&out);
        assert_eq!(next.trace().trace_id(), call.trace().trace_id());
        assert_eq!(next.trace().parent_id(), Some(call.trace().span_id()));
        assert_eq!(next.request_id(), call.request_id());
    }

    #[test]
    fn a_bare_request_gets_fresh_ids() {
        let call = CallTelemetry::from_headers(&HeaderMap::new());
        let out = call.outgoing_headers();
        assert_eq!(out.len(), 2, "no tracestate to carry");
        assert_eq!(out[REQUEST_ID_HEADER], call.request_id().as_str());
        assert!(Traceparent::parse(out[TRACEPARENT_HEADER].as_bytes()).is_ok());
    }
}
