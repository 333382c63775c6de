//! Logs and traces: request ids, W3C trace context, logging set-up and the access log.
//!
//! Per call, the server reads [`CallTelemetry::from_headers`] once (HTTP headers and gRPC
//! metadata are the same map), returns [`CallTelemetry::request_id`] in the `x-request-id`
//! response header on both protocols, hands [`CallTelemetry::outgoing_headers`] to the calls
//! the handler makes, and ends with one [`access_log`] event.
//!
//! [`init_logging`] installs text or JSON logging from `LOG_FORMAT` and `LOG_LEVEL`
//! ([`LogConfig::from_env`]).

mod access;
mod call;
mod hex;
mod logging;
mod request_id;
mod trace;

#[cfg(test)]
pub(crate) mod tests;

pub use self::access::{access_log, AccessEntry, ACCESS_TARGET};
pub use self::call::CallTelemetry;
pub use self::logging::{init_logging, LogConfig, LogFormat, LoggingError};
pub use self::request_id::{RequestId, MAX_REQUEST_ID_LEN, REQUEST_ID_HEADER};
pub use self::trace::{
    SpanId, TraceContext, TraceId, Traceparent, TraceparentError, TRACEPARENT_HEADER,
    TRACESTATE_HEADER,
};
