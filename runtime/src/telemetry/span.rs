//! The span a call runs in.

use tracing::Span;

use super::call::CallTelemetry;
use crate::context::Protocol;
use crate::method::MethodInfo;

/// The target of server spans; filter on it (`LOG_LEVEL=info,tacos::server=off`).
pub const SERVER_SPAN_TARGET: &str = "tacos::server";

/// Opens the span a call runs in (target [`SERVER_SPAN_TARGET`], INFO, named by the method's
/// gRPC path) with the call's request id and trace id, so every event logged inside it
/// carries them. Enter it (or `Instrument` the call's future with it) for the whole call.
///
/// With the `otlp` feature and export configured, the span is exported as an OTLP server span
/// continuing the caller's trace; `call` then takes the exported span's ids, so the
/// `traceparent` of outgoing calls names a span the collector knows. Call this before
/// [`CallTelemetry::outgoing_headers`] and before logging the trace id.
pub fn server_span(call: &mut CallTelemetry, method: &MethodInfo, protocol: Protocol) -> Span {
    // Every field is given when the span opens: recording one later makes the JSON log layer
    // parse and rewrite the span's formatted fields, which cost more than the rest of the span.
    let trace_id = call.trace().trace_id();
    let span = tracing::info_span!(
        target: SERVER_SPAN_TARGET,
        "call",
        otel.name = method.path,
        otel.kind = "server",
        protocol = protocol.as_str(),
        service = method.service,
        method = method.name,
        request_id = call.request_id().as_str(),
        trace_id = tracing::field::display(trace_id),
    );
    #[cfg(feature = "otlp")]
    if !span.is_disabled() {
        super::otlp::continue_trace(&span, call);
        // A new root trace is named by the exporter; the span then reports the exported id.
        if call.trace().trace_id() != trace_id {
            span.record("trace_id", tracing::field::display(call.trace().trace_id()));
        }
    }
    span
}
