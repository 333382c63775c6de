//! What a handler receives and returns: [`Request`], [`Response`], [`Context`], [`ServerStream`],
//! [`RequestStream`].
//!
//! The same types serve both protocols, so a handler cannot tell (unless it asks
//! [`Context::protocol`]) whether it was called over gRPC or REST. Metadata is one
//! `http::HeaderMap` model for both; [`metadata`] documents which headers cross and how, and
//! [`deadline`] how `grpc-timeout` and `X-Request-Timeout` become [`Context::deadline`].

pub mod deadline;
pub mod metadata;
mod scope;

pub use scope::{current_call, CallScope, Scoped};

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::Stream;
use http::HeaderMap;
use tokio_util::sync::CancellationToken;

use crate::method::MethodInfo;
use crate::status::Status;

/// The peer address of the connection a request came on, in the request extensions (and so in
/// [`Context::extensions`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RemoteAddr(pub std::net::SocketAddr);

/// The protocol a call arrived on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// gRPC over HTTP/2.
    Grpc,
    /// REST/JSON (HTTP/1.1 or HTTP/2).
    Rest,
}

impl Protocol {
    /// `"grpc"` or `"rest"`, the label used in metrics and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Grpc => "grpc",
            Protocol::Rest => "rest",
        }
    }
}

/// The authenticated caller, filled in by the auth layer.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Principal {
    /// The subject (user or service id).
    pub subject: String,
    /// Roles granted to the subject.
    pub roles: Vec<String>,
    /// OAuth-style scopes granted to the subject.
    pub scopes: Vec<String>,
    /// Every claim of the verified token (empty for principals not made from a token); shared,
    /// so cloning a principal stays cheap.
    pub claims: Arc<serde_json::Map<String, serde_json::Value>>,
}

impl Principal {
    /// A principal with `subject` and no roles or scopes.
    pub fn new(subject: impl Into<String>) -> Self {
        Self {
            subject: subject.into(),
            ..Self::default()
        }
    }

    /// Adds roles.
    pub fn with_roles(mut self, roles: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.roles.extend(roles.into_iter().map(Into::into));
        self
    }

    /// Adds scopes.
    pub fn with_scopes(mut self, scopes: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.scopes.extend(scopes.into_iter().map(Into::into));
        self
    }

    /// Sets the token's claims.
    pub fn with_claims(mut self, claims: Arc<serde_json::Map<String, serde_json::Value>>) -> Self {
        self.claims = claims;
        self
    }

    /// One claim of the verified token, such as `tenant` or `email`.
    pub fn claim(&self, name: &str) -> Option<&serde_json::Value> {
        self.claims.get(name)
    }
}

/// Everything about a call except its message.
pub struct Context {
    metadata: HeaderMap,
    deadline: Option<Instant>,
    protocol: Protocol,
    method: Option<&'static MethodInfo>,
    principal: Option<Arc<Principal>>,
    cancellation: CancellationToken,
    extensions: http::Extensions,
}

impl Context {
    /// A context for `protocol` with no metadata, deadline or principal.
    pub fn new(protocol: Protocol) -> Self {
        Self {
            metadata: HeaderMap::new(),
            deadline: None,
            protocol,
            method: None,
            principal: None,
            cancellation: CancellationToken::new(),
            extensions: http::Extensions::new(),
        }
    }

    pub(crate) fn for_call(
        protocol: Protocol,
        method: &'static MethodInfo,
        metadata: HeaderMap,
        extensions: http::Extensions,
        deadline: Option<Instant>,
    ) -> Self {
        Self {
            metadata,
            deadline,
            protocol,
            method: Some(method),
            principal: None,
            cancellation: CancellationToken::new(),
            extensions,
        }
    }

    /// Request metadata: gRPC metadata or REST headers, by the rule in [`metadata`].
    pub fn metadata(&self) -> &HeaderMap {
        &self.metadata
    }

    /// Mutable request metadata.
    pub fn metadata_mut(&mut self) -> &mut HeaderMap {
        &mut self.metadata
    }

    /// When the call must be answered by: the client's deadline, capped by the method's timeout.
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// Time left until the deadline (zero once it has passed); `None` without a deadline.
    pub fn remaining(&self) -> Option<Duration> {
        self.deadline
            .map(|d| d.saturating_duration_since(Instant::now()))
    }

    /// Sets the deadline (for clients and tests; the server sets it from the request).
    pub fn set_deadline(&mut self, deadline: Option<Instant>) {
        self.deadline = deadline;
    }

    /// The protocol the call arrived on.
    pub fn protocol(&self) -> Protocol {
        self.protocol
    }

    /// The method being called, when served by the runtime.
    pub fn method(&self) -> Option<&'static MethodInfo> {
        self.method
    }

    /// The authenticated caller, if the auth layer set one.
    pub fn principal(&self) -> Option<&Principal> {
        self.principal.as_deref()
    }

    /// Sets the authenticated caller.
    pub fn set_principal(&mut self, principal: Arc<Principal>) {
        self.principal = Some(principal);
    }

    /// A token cancelled when the call is abandoned: the client went away, the deadline passed,
    /// or the server is shutting down. Work spawned by a handler should watch it.
    pub fn cancellation(&self) -> &CancellationToken {
        &self.cancellation
    }

    /// Whether the call has been abandoned.
    pub fn is_cancelled(&self) -> bool {
        self.cancellation.is_cancelled()
    }

    /// Typed values attached by middleware (connection info, request ids, ...).
    pub fn extensions(&self) -> &http::Extensions {
        &self.extensions
    }

    /// Mutable typed values.
    pub fn extensions_mut(&mut self) -> &mut http::Extensions {
        &mut self.extensions
    }
}

impl fmt::Debug for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context")
            .field("protocol", &self.protocol)
            .field("method", &self.method.map(|m| m.path))
            .field("deadline", &self.deadline)
            .field("principal", &self.principal)
            .field("metadata", &self.metadata)
            .finish_non_exhaustive()
    }
}

/// A request message with its [`Context`].
#[derive(Debug)]
pub struct Request<T> {
    message: T,
    context: Context,
}

impl<T> Request<T> {
    /// A request with an empty gRPC context (useful in tests and clients).
    pub fn new(message: T) -> Self {
        Self::from_parts(message, Context::new(Protocol::Grpc))
    }

    /// A request from its parts.
    pub fn from_parts(message: T, context: Context) -> Self {
        Self { message, context }
    }

    /// The message.
    pub fn message(&self) -> &T {
        &self.message
    }

    /// The message, mutably.
    pub fn message_mut(&mut self) -> &mut T {
        &mut self.message
    }

    /// Takes the message, dropping the context.
    pub fn into_message(self) -> T {
        self.message
    }

    /// The call context.
    pub fn context(&self) -> &Context {
        &self.context
    }

    /// The call context, mutably.
    pub fn context_mut(&mut self) -> &mut Context {
        &mut self.context
    }

    /// Splits into message and context.
    pub fn into_parts(self) -> (T, Context) {
        (self.message, self.context)
    }

    /// Shorthand for `context().metadata()`.
    pub fn metadata(&self) -> &HeaderMap {
        self.context.metadata()
    }
}

/// A response message with the metadata sent around it.
#[derive(Debug)]
pub struct Response<T> {
    message: T,
    headers: HeaderMap,
    trailers: HeaderMap,
}

impl<T> Response<T> {
    /// A response with no metadata.
    pub fn new(message: T) -> Self {
        Self {
            message,
            headers: HeaderMap::new(),
            trailers: HeaderMap::new(),
        }
    }

    /// The message.
    pub fn message(&self) -> &T {
        &self.message
    }

    /// Takes the message.
    pub fn into_message(self) -> T {
        self.message
    }

    /// Splits into message, headers and trailers.
    pub fn into_parts(self) -> (T, HeaderMap, HeaderMap) {
        (self.message, self.headers, self.trailers)
    }

    /// Response headers (gRPC initial metadata, REST headers).
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// Response headers, mutably.
    pub fn headers_mut(&mut self) -> &mut HeaderMap {
        &mut self.headers
    }

    /// Response trailers (gRPC trailing metadata; REST headers prefixed `grpc-trailer-`).
    pub fn trailers(&self) -> &HeaderMap {
        &self.trailers
    }

    /// Response trailers, mutably.
    pub fn trailers_mut(&mut self) -> &mut HeaderMap {
        &mut self.trailers
    }

    /// Adds a response header; panics on an invalid name or value, like `http`'s builders.
    pub fn with_header(mut self, name: &'static str, value: &str) -> Self {
        self.headers.insert(
            http::HeaderName::from_static(name),
            http::HeaderValue::from_str(value).expect("valid header value"),
        );
        self
    }

    /// Maps the message, keeping the metadata.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Response<U> {
        Response {
            message: f(self.message),
            headers: self.headers,
            trailers: self.trailers,
        }
    }
}

/// The stream a server-streaming method answers with.
pub type ServerStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send + 'static>>;

/// Boxes a stream as a [`ServerStream`].
pub fn server_stream<T, S>(stream: S) -> ServerStream<T>
where
    S: Stream<Item = Result<T, Status>> + Send + 'static,
{
    Box::pin(stream)
}

/// The stream of request messages a client-streaming or bidirectional method receives.
///
/// It ends when the client half-closes; an `Err` item is the transport's (a message that does
/// not decode, a connection lost mid-stream) and ends it too. Outgoing, a client sends what
/// this stream yields and stops at its first `Err`, which becomes the call's outcome.
pub type RequestStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send + 'static>>;

/// Boxes a stream as a [`RequestStream`].
pub fn request_stream<T, S>(stream: S) -> RequestStream<T>
where
    S: Stream<Item = Result<T, Status>> + Send + 'static,
{
    Box::pin(stream)
}

/// A [`RequestStream`] of the given messages, for calling a client-streaming or bidirectional
/// method with messages known up front.
pub fn request_stream_of<T, I>(messages: I) -> RequestStream<T>
where
    T: Send + 'static,
    I: IntoIterator<Item = T>,
    I::IntoIter: Send + 'static,
{
    Box::pin(futures::stream::iter(messages.into_iter().map(Ok)))
}
