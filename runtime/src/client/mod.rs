//! Clients: generated `<Service>Client` types implement the same trait as the handlers, over
//! gRPC, REST or an in-process handler.
//!
//! A generated client holds a [`Client`]: the [`Transport`] (a [`GrpcTransport`] or a
//! [`RestTransport`], both cheap to clone and shared by every client of a target) and its
//! [`ClientOptions`]. Every call is prepared the same way whatever carries it:
//!
//! - **metadata**: the request context's metadata, minus the headers the metadata rule strips
//!   ([`crate::context::metadata`]), plus the incoming call's propagated headers
//!   ([`crate::context::CallScope::propagated`]: request id, trace context) where the request
//!   does not set them itself;
//! - **deadline**: the earlier of the request context's deadline and the incoming call's
//!   ([`crate::context::current_call`]); without either, the method's default timeout from
//!   [`ClientOptions`]. It is sent as `grpc-timeout` (gRPC) or `X-Request-Timeout` (REST) and
//!   enforced locally: past it the call answers `DEADLINE_EXCEEDED`;
//! - **errors** keep code, message, details and metadata on every transport;
//! - **responses** carry the server's headers in [`Response::headers`] and its trailers in
//!   [`Response::trailers`] (gRPC trailers; REST `grpc-trailer-*` headers). A server stream's
//!   gRPC trailers arrive after its last message and are not reported.
//!
//! - **resilience** (remote transports): retries of methods marked safe, a retry budget and a
//!   circuit breaker per target; see [`RetryPolicy`], [`RetryBudget`] and [`BreakerConfig`].
//!
//! The in-process transport (`<Service>Client::local(handler)`) calls the handler directly, with
//! no encoding, but prepares metadata and deadlines by the same rules and caps the deadline by the
//! handler's method policy, as a server would.
//!
//! [`Response::headers`]: crate::Response::headers
//! [`Response::trailers`]: crate::Response::trailers

mod call;
mod grpc;
mod headers;
mod local;
mod resilience;
mod rest;
mod timeout;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

pub use grpc::{GrpcConfig, GrpcTransport, TlsConfig};
pub use resilience::{BreakerConfig, BreakerState, RetryBudget, RetryPolicy};
pub use rest::{RestConfig, RestTransport};
pub use timeout::encode_timeout;

pub use crate::rest::stream::StreamFormat;

/// How calls leave the process.
#[derive(Clone, Debug)]
pub enum Transport {
    /// gRPC over HTTP/2.
    Grpc(GrpcTransport),
    /// REST/JSON over HTTP/1.1 with the contract's `google.api.http` bindings.
    Rest(RestTransport),
}

impl Transport {
    /// `"grpc"` or `"rest"`, the label used in metrics and logs.
    pub fn name(&self) -> &'static str {
        match self {
            Transport::Grpc(_) => "grpc",
            Transport::Rest(_) => "rest",
        }
    }

    /// The target this transport calls, as configured.
    pub fn target(&self) -> &str {
        match self {
            Transport::Grpc(grpc) => grpc.target(),
            Transport::Rest(rest) => rest.target(),
        }
    }

    /// The state of the target's circuit breaker.
    pub fn breaker_state(&self) -> BreakerState {
        self.health().breaker_state()
    }

    pub(crate) fn health(&self) -> &resilience::TargetHealth {
        match self {
            Transport::Grpc(grpc) => grpc.health(),
            Transport::Rest(rest) => rest.health(),
        }
    }
}

impl From<GrpcTransport> for Transport {
    fn from(transport: GrpcTransport) -> Self {
        Transport::Grpc(transport)
    }
}

impl From<RestTransport> for Transport {
    fn from(transport: RestTransport) -> Self {
        Transport::Rest(transport)
    }
}

/// Per-client settings that apply whichever transport carries the call.
#[derive(Clone, Debug, Default)]
pub struct ClientOptions {
    default_timeout: Option<Duration>,
    method_timeouts: HashMap<String, Duration>,
    retry: Option<RetryPolicy>,
    safe_methods: HashSet<String>,
}

impl ClientOptions {
    /// No default timeouts: calls without a deadline of their own have none.
    pub fn new() -> Self {
        Self::default()
    }

    /// The timeout of calls that have no deadline of their own (neither on the request nor from
    /// the incoming call), for every method without its own.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.default_timeout = Some(timeout);
        self
    }

    /// The default timeout of one method, named as in the contract (`GetBook`).
    pub fn method_timeout(mut self, method: impl Into<String>, timeout: Duration) -> Self {
        self.method_timeouts.insert(method.into(), timeout);
        self
    }

    /// Retries methods marked safe with `policy` (no method is retried without it).
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = Some(policy);
        self
    }

    /// Marks a method (named as in the contract, `GetBook`) safe to repeat, so it is retried.
    pub fn safe_method(mut self, method: impl Into<String>) -> Self {
        self.safe_methods.insert(method.into());
        self
    }

    /// The retry policy of `method`: `None` unless retries are on and the method is safe.
    pub fn retry_for(&self, method: &str) -> Option<&RetryPolicy> {
        self.retry
            .as_ref()
            .filter(|_| self.safe_methods.contains(method))
    }

    /// The default timeout of `method`.
    pub fn timeout_for(&self, method: &str) -> Option<Duration> {
        self.method_timeouts
            .get(method)
            .copied()
            .or(self.default_timeout)
    }
}

/// What a generated client is built on: a transport (none for in-process clients) and options.
/// Cheap to clone.
#[derive(Clone, Debug)]
pub struct Client {
    inner: Arc<ClientInner>,
}

#[derive(Debug)]
struct ClientInner {
    transport: Option<Transport>,
    options: ClientOptions,
}

impl Client {
    /// A client calling over `transport`.
    pub fn new(transport: impl Into<Transport>, options: ClientOptions) -> Self {
        Self {
            inner: Arc::new(ClientInner {
                transport: Some(transport.into()),
                options,
            }),
        }
    }

    /// A client for an in-process handler, which the generated client holds itself.
    pub fn local(options: ClientOptions) -> Self {
        Self {
            inner: Arc::new(ClientInner {
                transport: None,
                options,
            }),
        }
    }

    /// The transport, `None` for an in-process client.
    pub fn transport(&self) -> Option<&Transport> {
        self.inner.transport.as_ref()
    }

    /// The options.
    pub fn options(&self) -> &ClientOptions {
        &self.inner.options
    }
}

/// A transport that cannot be built: bad address, bad TLS setting.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("client for {target}: {reason}")]
pub struct TransportError {
    /// The target as configured.
    pub target: String,
    /// What is wrong.
    pub reason: String,
}
