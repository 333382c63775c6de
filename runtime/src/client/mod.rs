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
//! - **resilience** (remote transports): [`crate::resilience`] per target, set on the transport
//!   builders ([`GrpcConfig::resilience`], [`RestConfig::resilience`]): retries of the methods
//!   the contract declares safe to repeat (`idempotency_level`) or [`ClientOptions::safe_method`]
//!   marks (gRFC A6: backoff, retryable codes, `RetryInfo`, one
//!   deadline over all attempts, no retry once a stream has opened), a retry budget and a
//!   circuit breaker;
//! - **metrics**: every call to a remote target is counted per target, method, transport and
//!   code, with retries, the breaker's state and shadow differences, in the registry set on the
//!   builders (default [`Metrics::global`](crate::metrics::Metrics::global)).
//!
//! - **request streams** (client-streaming and bidirectional methods) are sent as the caller's
//!   [`RequestStream`](crate::RequestStream) yields them: over gRPC as gRPC does, over REST as
//!   NDJSON request lines (a binding's path variables come from the first message). An `Err`
//!   from the caller's stream cancels the call with that status. A bidirectional call returns
//!   once the server has answered with its headers (over REST with path variables, once the
//!   responses are first read): a server that waits for the first request before answering
//!   needs it already in the stream. These calls are never retried or shadowed.
//!
//! [`SplitTransport`] sends a live percentage of calls over gRPC and the rest over REST, and can
//! shadow side-effect-free methods over the other transport ([`crate::migration`]).
//! [`BackendConfig`] builds any of these from `BACKEND_<NAME>_*` variables.
//!
//! The in-process transport (`<Service>Client::local(handler)`) calls the handler directly, with
//! no encoding, but prepares metadata and deadlines by the same rules and caps the deadline by the
//! handler's method policy, as a server would.
//!
//! [`Response::headers`]: crate::Response::headers
//! [`Response::trailers`]: crate::Response::trailers

mod abort_codec;
mod backend;
mod call;
mod grpc;
mod headers;
mod local;
mod outbound;
mod rest;
mod split;
mod target;
mod timeout;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use crate::method::MethodInfo;
use crate::migration::Shadow;
use crate::resilience::BreakerState;

pub use backend::{BackendConfig, BackendProtocol};
pub use grpc::{GrpcConfig, GrpcTransport, TlsConfig};
pub use rest::{RestConfig, RestTransport};
pub use split::SplitTransport;
pub use timeout::encode_timeout;

pub use crate::rest::stream::StreamFormat;

/// How calls leave the process.
#[derive(Clone, Debug)]
pub enum Transport {
    /// gRPC over HTTP/2.
    Grpc(GrpcTransport),
    /// REST/JSON over HTTP/1.1 with the contract's `google.api.http` bindings.
    Rest(RestTransport),
    /// Both, a live percentage deciding per call; optionally shadowing.
    Split(SplitTransport),
}

impl Transport {
    /// `"grpc"`, `"rest"` or `"split"`, the label used in logs.
    pub fn name(&self) -> &'static str {
        match self {
            Transport::Grpc(_) => "grpc",
            Transport::Rest(_) => "rest",
            Transport::Split(_) => "split",
        }
    }

    /// The target this transport calls, as configured (the gRPC address of a split).
    pub fn target(&self) -> &str {
        match self {
            Transport::Grpc(grpc) => grpc.target(),
            Transport::Rest(rest) => rest.target(),
            Transport::Split(split) => split.grpc().target(),
        }
    }

    /// The state of the target's circuit breaker; of a split, the worse of its two.
    pub fn breaker_state(&self) -> BreakerState {
        match self {
            Transport::Grpc(grpc) => grpc.resilience().breaker().state(),
            Transport::Rest(rest) => rest.resilience().breaker().state(),
            Transport::Split(split) => {
                let states = [
                    split.grpc().resilience().breaker().state(),
                    split.rest().resilience().breaker().state(),
                ];
                [BreakerState::Open, BreakerState::HalfOpen]
                    .into_iter()
                    .find(|bad| states.contains(bad))
                    .unwrap_or(BreakerState::Closed)
            }
        }
    }

    /// The share of calls sent over gRPC: a split's live percentage, 100 for gRPC, 0 for REST.
    pub fn grpc_percent(&self) -> u8 {
        match self {
            Transport::Grpc(_) => 100,
            Transport::Rest(_) => 0,
            Transport::Split(split) => split.grpc_percent(),
        }
    }

    /// Changes a split's gRPC share for calls from now on; every clone of the transport (and
    /// every client built on it) sees the change. Only a split can change it.
    pub fn set_grpc_percent(&self, percent: u32) -> Result<(), TransportError> {
        match self {
            Transport::Split(split) => {
                split
                    .set_grpc_percent(percent)
                    .map_err(|err| TransportError {
                        target: self.target().to_owned(),
                        reason: err.to_string(),
                    })
            }
            _ => Err(TransportError {
                target: self.target().to_owned(),
                reason: format!(
                    "the {} transport has no gRPC percentage to change; configure a split",
                    self.name()
                ),
            }),
        }
    }

    /// A split's shadow, when it shadows calls.
    pub fn shadow(&self) -> Option<&Shadow> {
        match self {
            Transport::Split(split) => split.shadow(),
            _ => None,
        }
    }
}

/// One concrete transport carrying one call.
#[derive(Clone, Debug)]
pub(crate) enum Leg {
    Grpc(GrpcTransport),
    Rest(RestTransport),
}

impl Leg {
    pub(crate) fn state(&self) -> &target::Target {
        match self {
            Leg::Grpc(grpc) => grpc.state(),
            Leg::Rest(rest) => rest.state(),
        }
    }
}

impl From<GrpcTransport> for Transport {
    fn from(transport: GrpcTransport) -> Self {
        Transport::Grpc(transport)
    }
}

impl From<SplitTransport> for Transport {
    fn from(transport: SplitTransport) -> Self {
        Transport::Split(transport)
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
    safe_methods: HashSet<String>,
    shadow_methods: HashSet<String>,
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

    /// Marks a method (named as in the contract, `GetBook`) safe to repeat and free of side
    /// effects: it is retried by the transport's retry policy, and a split may shadow it.
    ///
    /// Methods the contract declares (`option idempotency_level = NO_SIDE_EFFECTS;` or
    /// `IDEMPOTENT`) need no marking; this is for contracts that do not say.
    pub fn safe_method(mut self, method: impl Into<String>) -> Self {
        self.safe_methods.insert(method.into());
        self
    }

    /// Marks a method free of side effects, so a split may shadow it, without making it
    /// retried (e.g. a read whose retries the caller handles itself).
    pub fn shadow_method(mut self, method: impl Into<String>) -> Self {
        self.shadow_methods.insert(method.into());
        self
    }

    /// Whether `method` may be retried: the contract declares it idempotent or free of side
    /// effects, or it was marked with [`safe_method`](Self::safe_method).
    pub fn is_safe(&self, method: &MethodInfo) -> bool {
        method.idempotency.safe_to_repeat() || self.safe_methods.contains(method.name)
    }

    /// Whether `method` may be shadowed: the contract declares it free of side effects, or it
    /// was marked with [`safe_method`](Self::safe_method) or
    /// [`shadow_method`](Self::shadow_method).
    pub fn may_shadow(&self, method: &MethodInfo) -> bool {
        method.idempotency.side_effect_free()
            || self.safe_methods.contains(method.name)
            || self.shadow_methods.contains(method.name)
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
