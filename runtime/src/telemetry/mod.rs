//! Logs and traces: request ids, W3C trace context, logging set-up and the access log.
//!
//! Per call, the server reads [`CallTelemetry::from_headers`] once (HTTP headers and gRPC
//! metadata are the same map), returns [`CallTelemetry::request_id`] in the `x-request-id`
//! response header on both protocols, hands [`CallTelemetry::outgoing_headers`] to the calls
//! the handler makes, and ends with one [`access_log`] event.
//!
//! [`server_span`] opens the span the call runs in, so its log lines carry the request and
//! trace ids; with the `otlp` feature and `OTEL_EXPORTER_OTLP_ENDPOINT` set, that span is
//! exported over OTLP/HTTP and [`shutdown_tracing`] flushes the last spans at shutdown.
//!
//! [`init_logging`] installs text or JSON logging from `LOG_FORMAT` and `LOG_LEVEL`, and OTLP
//! export from `OTEL_EXPORTER_OTLP_ENDPOINT` ([`LogConfig::from_env`]). Lines bound for a pipe
//! or file are written in batches (at most 100 ms late); [`flush_logs`] writes the rest, and the
//! server calls it when it shuts down. JSON lines are rendered by the `json` layer, built for a
//! line per call.

mod access;
mod batch;
mod call;
mod hex;
mod json;
mod logging;
#[cfg(feature = "otlp")]
mod otlp;
mod request_id;
mod span;
mod trace;

#[cfg(test)]
pub(crate) mod tests;

pub use self::access::{access_log, AccessEntry, ACCESS_TARGET};
pub use self::batch::flush_logs;
pub use self::call::CallTelemetry;
pub use self::logging::{init_logging, LogConfig, LogFormat, LoggingError};
#[cfg(feature = "otlp")]
pub use self::otlp::shutdown_tracing;
pub use self::request_id::{RequestId, MAX_REQUEST_ID_LEN, REQUEST_ID_HEADER};
pub use self::span::{server_span, SERVER_SPAN_TARGET};
pub use self::trace::{
    SpanId, TraceContext, TraceId, Traceparent, TraceparentError, TRACEPARENT_HEADER,
    TRACESTATE_HEADER,
};

/// Writes the gathered log lines; without the `otlp` feature there is no export to flush.
#[cfg(not(feature = "otlp"))]
pub fn shutdown_tracing() {
    flush_logs();
}
