//! The access log: one `tracing` event per call, on target `tacos::access` at INFO.

use std::net::SocketAddr;
use std::time::Duration;

use crate::context::Protocol;
use crate::status::{code_name, Code};

use super::trace::TraceId;

/// The target of access-log events; filter on it (`LOG_LEVEL=info,tacos::access=off`).
pub const ACCESS_TARGET: &str = "tacos::access";

/// What the access log records about one call.
#[derive(Clone, Copy, Debug)]
pub struct AccessEntry<'a> {
    /// `grpc` or `rest`.
    pub protocol: Protocol,
    /// Fully qualified service name.
    pub service: &'a str,
    /// Method name.
    pub method: &'a str,
    /// The call's status code (logged by its canonical name, `NOT_FOUND`).
    pub code: Code,
    /// Time from the start of the call to its status.
    pub latency: Duration,
    /// The authenticated subject, if any.
    pub principal: Option<&'a str>,
    /// The call's request id.
    pub request_id: &'a str,
    /// The call's trace.
    pub trace_id: TraceId,
    /// The client's address, when known.
    pub peer: Option<SocketAddr>,
}

/// Emits one access-log event for `entry`. When the target is disabled this is one cached
/// check and nothing is formatted.
pub fn access_log(entry: &AccessEntry<'_>) {
    if !tracing::enabled!(target: ACCESS_TARGET, tracing::Level::INFO) {
        return;
    }
    tracing::info!(
        target: ACCESS_TARGET,
        protocol = entry.protocol.as_str(),
        service = entry.service,
        method = entry.method,
        code = code_name(entry.code),
        latency_ms = entry.latency.as_secs_f64() * 1e3,
        principal = entry.principal,
        request_id = entry.request_id,
        trace_id = %entry.trace_id,
        peer = entry.peer.map(tracing::field::display),
        "call"
    );
}
