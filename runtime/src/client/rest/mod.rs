//! The REST transport: the contract's `google.api.http` bindings over pooled HTTP/1.1
//! keep-alive connections, proto3 JSON both ways.
//!
//! A call uses the method's first binding (the one the server lists first). Errors come back
//! from the `{"code","message","details"}` body the server renders, so code, message and details
//! equal the gRPC transport's; a body that is not a status (a proxy's error page) maps the HTTP
//! status to a code as gRPC does. Server streams are read as NDJSON or Server-Sent Events.

mod decode;
mod encode;

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use http::header::{HeaderValue, ACCEPT, CONTENT_TYPE};
use http::uri::{Authority, Scheme};
use http::Uri;
use http_body::Frame;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::call::Outgoing;
use super::headers::split_rest;
use super::outbound::{outbound, unless_aborted, until_aborted};
use super::target::Target;
use super::timeout::encode_timeout;
use super::TransportError;
use crate::context::deadline::REQUEST_TIMEOUT;
use crate::context::{Protocol, RequestStream, Response, ServerStream};
use crate::method::MethodInfo;
use crate::metrics::Metrics;
use crate::resilience::{Resilience, ResilienceConfig};
use crate::rest::stream::StreamFormat;
use crate::rest::{RouteSpec, Seg};
use crate::status::Status;

type HttpClient = hyper_util::client::legacy::Client<HttpConnector, Full<Bytes>>;

/// The body of a streamed request: NDJSON lines as they are encoded.
type StreamingBody = UnsyncBoxBody<Bytes, Status>;

/// Sends streamed requests; a pool of its own, since its body type differs.
type StreamClient = hyper_util::client::legacy::Client<HttpConnector, StreamingBody>;

/// Settings of a [`RestTransport`]; [`RestTransport::builder`] starts one.
#[derive(Clone, Debug)]
pub struct RestConfig {
    address: String,
    connect_timeout: Duration,
    idle_timeout: Duration,
    max_idle_per_host: usize,
    stream_format: StreamFormat,
    resilience: ResilienceConfig,
    metrics: Option<Arc<Metrics>>,
}

impl RestConfig {
    /// How long to wait for a connection to be established (default 5 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How long an idle pooled connection is kept (default 90 s).
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = timeout;
        self
    }

    /// The most idle connections kept to the target (default 64).
    pub fn max_idle_connections(mut self, connections: usize) -> Self {
        self.max_idle_per_host = connections;
        self
    }

    /// How server streams are asked for: NDJSON (default) or Server-Sent Events.
    pub fn stream_format(mut self, format: StreamFormat) -> Self {
        self.stream_format = format;
        self
    }

    /// Retry policy, retry budget and circuit breaker of the target (default:
    /// [`ResilienceConfig::default`]). Retries apply only to methods the client marks safe.
    pub fn resilience(mut self, resilience: ResilienceConfig) -> Self {
        self.resilience = resilience;
        self
    }

    /// The registry the target's client series are recorded in (default:
    /// [`Metrics::global`]).
    pub fn metrics(mut self, metrics: Arc<Metrics>) -> Self {
        self.metrics = Some(metrics);
        self
    }

    /// Builds the transport; connections are opened on first use and pooled.
    pub fn build(self) -> Result<RestTransport, TransportError> {
        let invalid = |reason: String| TransportError {
            target: self.address.clone(),
            reason,
        };
        let text = if self.address.contains("://") {
            self.address.clone()
        } else {
            format!("http://{}", self.address)
        };
        let uri: Uri = text
            .parse()
            .map_err(|err| invalid(format!("not a valid address: {err}")))?;
        if uri.scheme() != Some(&Scheme::HTTP) {
            return Err(invalid(
                "only http:// addresses are supported by the REST transport".into(),
            ));
        }
        let authority = uri
            .authority()
            .cloned()
            .ok_or_else(|| invalid("the address has no host".into()))?;
        // A base path (`http://host/api`) prefixes every binding's path.
        let prefix = uri.path().trim_end_matches('/').to_owned();
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(self.connect_timeout));
        connector.set_nodelay(true);
        connector.set_keepalive(Some(Duration::from_secs(60)));
        let mut builder = hyper_util::client::legacy::Client::builder(TokioExecutor::new());
        builder
            .pool_idle_timeout(self.idle_timeout)
            .pool_max_idle_per_host(self.max_idle_per_host);
        let client = builder.build(connector.clone());
        let streams = builder.build(connector);
        Ok(RestTransport {
            inner: Arc::new(Inner {
                state: Arc::new(Target::new(
                    &self.address,
                    Protocol::Rest,
                    &self.resilience,
                    self.metrics
                        .clone()
                        .unwrap_or_else(|| Metrics::global().clone()),
                )),
                target: self.address,
                authority,
                prefix,
                client,
                streams,
                stream_format: self.stream_format,
            }),
        })
    }
}

/// REST calls to one target over pooled HTTP/1.1 connections. Cheap to clone; clones share
/// the pool.
#[derive(Clone)]
pub struct RestTransport {
    inner: Arc<Inner>,
}

struct Inner {
    target: String,
    state: Arc<Target>,
    authority: Authority,
    prefix: String,
    client: HttpClient,
    streams: StreamClient,
    stream_format: StreamFormat,
}

impl fmt::Debug for RestTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RestTransport")
            .field("target", &self.inner.target)
            .field("stream_format", &self.inner.stream_format)
            .finish()
    }
}

impl RestTransport {
    /// Settings for a target such as `http://10.0.0.7:8000` or `reservation:8000`, with the
    /// defaults: 5 s connect timeout, idle connections kept 90 s (at most 64), NDJSON streams.
    pub fn builder(address: impl Into<String>) -> RestConfig {
        RestConfig {
            address: address.into(),
            connect_timeout: Duration::from_secs(5),
            idle_timeout: Duration::from_secs(90),
            max_idle_per_host: 64,
            stream_format: StreamFormat::Ndjson,
            resilience: ResilienceConfig::default(),
            metrics: None,
        }
    }

    /// The target as configured.
    pub fn target(&self) -> &str {
        &self.inner.target
    }

    /// Retries, retry budget and circuit breaker of this target, shared by every clone.
    pub fn resilience(&self) -> &Resilience {
        self.inner.state.resilience()
    }

    pub(crate) fn state(&self) -> &Target {
        &self.inner.state
    }

    /// Sends the request for `message` and returns the response with its body unread.
    async fn send<Req: Serialize>(
        &self,
        method: &'static MethodInfo,
        route: Option<&'static RouteSpec>,
        message: &Req,
        outgoing: Outgoing,
        accept: &'static str,
    ) -> Result<http::Response<hyper::body::Incoming>, Status> {
        let route = bound(method, route)?;
        let encoded = encode::encode(route, message)?;
        let content_type = match (&encoded.body, &encoded.raw_content_type) {
            (None, _) => None,
            (Some(_), None) => Some(HeaderValue::from_static("application/json")),
            (Some(_), Some(raw)) if raw.is_empty() => {
                Some(HeaderValue::from_static("application/octet-stream"))
            }
            (Some(_), Some(raw)) => Some(HeaderValue::from_str(raw).map_err(|_| {
                Status::invalid_argument(format!(
                    "the HttpBody's content type {raw:?} is not a valid header value"
                ))
            })?),
        };
        let head = self.head(
            route,
            &encoded.path_and_query,
            outgoing,
            accept,
            content_type,
        )?;
        let body = Full::new(Bytes::from(encoded.body.unwrap_or_default()));
        self.inner
            .client
            .request(http::Request::from_parts(head, body))
            .await
            .map_err(|err| self.unreachable(err))
    }

    /// Sends a streamed request: one JSON message per line (NDJSON), each sent as the stream
    /// yields it. The path's fields are taken from the first message.
    async fn send_stream<Req>(
        &self,
        method: &'static MethodInfo,
        route: Option<&'static RouteSpec>,
        messages: RequestStream<Req>,
        outgoing: Outgoing,
        accept: &'static str,
    ) -> Result<http::Response<hyper::body::Incoming>, Status>
    where
        Req: Serialize + Default + Send + 'static,
    {
        let route = bound(method, route)?;
        let mut messages = messages.peekable();
        let path_and_query = match Pin::new(&mut messages).peek().await {
            Some(Ok(first)) => encode::encode(route, first)?.path_and_query,
            Some(Err(status)) => return Err(status.clone()),
            None => {
                encode::encode(route, &Req::default())
                    .map_err(|status| empty_stream(route, status))?
                    .path_and_query
            }
        };
        let head = self.head(
            route,
            &path_and_query,
            outgoing,
            accept,
            Some(HeaderValue::from_static("application/x-ndjson")),
        )?;
        // An `Err` (the caller giving up) fails the body: the connection is dropped, so the
        // server sees a broken request rather than a complete one.
        let lines = messages.map(move |message| {
            let mut line = encode::encode(route, &message?)?.body.unwrap_or_default();
            line.push(b'\n');
            Ok::<_, Status>(Frame::data(Bytes::from(line)))
        });
        let body: StreamingBody = UnsyncBoxBody::new(StreamBody::new(lines));
        self.inner
            .streams
            .request(http::Request::from_parts(head, body))
            .await
            .map_err(|err| self.unreachable(err))
    }

    /// The request line and headers of a call.
    fn head(
        &self,
        route: &'static RouteSpec,
        path_and_query: &str,
        outgoing: Outgoing,
        accept: &'static str,
        content_type: Option<HeaderValue>,
    ) -> Result<http::request::Parts, Status> {
        let uri = Uri::builder()
            .scheme(Scheme::HTTP)
            .authority(self.inner.authority.clone())
            .path_and_query(format!("{}{}", self.inner.prefix, path_and_query))
            .build()
            .map_err(|err| Status::internal(format!("request URI could not be built: {err}")))?;
        let timeout = outgoing.timeout();
        let (mut head, ()) = http::Request::new(()).into_parts();
        head.method = http::Method::from_bytes(route.method.as_str().as_bytes())
            .map_err(|_| Status::internal("binding has an invalid HTTP method"))?;
        head.uri = uri;
        head.headers = outgoing.headers;
        head.headers
            .insert(ACCEPT, HeaderValue::from_static(accept));
        if let Some(content_type) = content_type {
            head.headers.insert(CONTENT_TYPE, content_type);
        }
        if let Some(timeout) = timeout {
            if let Ok(value) = encode_timeout(timeout).parse() {
                head.headers.insert(REQUEST_TIMEOUT, value);
            }
        }
        Ok(head)
    }

    fn unreachable(&self, err: impl fmt::Display) -> Status {
        Status::unavailable(format!("{} is not reachable: {err}", self.inner.target))
    }

    /// The `Accept` header asking for the configured stream format.
    fn stream_accept(&self) -> &'static str {
        match self.inner.stream_format {
            StreamFormat::Sse => "text/event-stream",
            StreamFormat::Ndjson => "application/x-ndjson",
        }
    }

    pub(crate) async fn unary<Req, Resp>(
        &self,
        method: &'static MethodInfo,
        route: Option<&'static RouteSpec>,
        message: Req,
        outgoing: Outgoing,
    ) -> Result<Response<Resp>, Status>
    where
        Req: Serialize,
        Resp: DeserializeOwned,
    {
        let accept = if route.is_some_and(|r| r.raw_response) {
            "*/*"
        } else {
            "application/json"
        };
        let response = self.send(method, route, &message, outgoing, accept).await?;
        Self::single(route, response).await
    }

    /// Reads the one response message of a unary or client-streaming call.
    async fn single<Resp: DeserializeOwned>(
        route: Option<&'static RouteSpec>,
        response: http::Response<hyper::body::Incoming>,
    ) -> Result<Response<Resp>, Status> {
        let (parts, body) = response.into_parts();
        let body = body
            .collect()
            .await
            .map_err(|err| Status::unavailable(format!("response body was cut short: {err}")))?
            .to_bytes();
        if !parts.status.is_success() {
            return Err(decode::error(parts.status, parts.headers, &body));
        }
        let response_body = route.and_then(|r| r.response_body);
        let message = if route.is_some_and(|r| r.raw_response) {
            decode::raw_message(content_type(&parts.headers), &body, response_body)?
        } else {
            decode::message(&body, response_body)?
        };
        let (headers, trailers) = split_rest(parts.headers);
        let mut response = Response::new(message);
        *response.headers_mut() = headers;
        *response.trailers_mut() = trailers;
        Ok(response)
    }

    pub(crate) async fn server_streaming<Req, Resp>(
        &self,
        method: &'static MethodInfo,
        route: Option<&'static RouteSpec>,
        message: Req,
        outgoing: Outgoing,
    ) -> Result<Response<ServerStream<Resp>>, Status>
    where
        Req: Serialize,
        Resp: DeserializeOwned + Send + 'static,
    {
        let accept = self.stream_accept();
        let response = self.send(method, route, &message, outgoing, accept).await?;
        self.streamed(route, response).await
    }

    /// Sends the request stream as NDJSON and reads the one response.
    pub(crate) async fn client_streaming<Req, Resp>(
        &self,
        method: &'static MethodInfo,
        route: Option<&'static RouteSpec>,
        messages: RequestStream<Req>,
        outgoing: Outgoing,
    ) -> Result<Response<Resp>, Status>
    where
        Req: Serialize + Default + Send + 'static,
        Resp: DeserializeOwned,
    {
        let (messages, mut aborted) = outbound(messages);
        unless_aborted(&mut aborted, async {
            let response = self
                .send_stream(method, route, messages, outgoing, "application/json")
                .await?;
            Self::single(route, response).await
        })
        .await
    }

    /// Sends the request stream as NDJSON while reading the response stream (HTTP/1.1 carries
    /// both at once).
    ///
    /// A binding with path variables takes them from the first request message, which a
    /// caller may send only after the call has opened; such a call opens when its responses
    /// are first read, and an error opening it is then the stream's first item.
    pub(crate) async fn bidi_streaming<Req, Resp>(
        &self,
        method: &'static MethodInfo,
        route: Option<&'static RouteSpec>,
        messages: RequestStream<Req>,
        outgoing: Outgoing,
    ) -> Result<Response<ServerStream<Resp>>, Status>
    where
        Req: Serialize + Default + Send + 'static,
        Resp: DeserializeOwned + Send + 'static,
    {
        let has_path_fields = bound(method, route)?
            .template
            .segments
            .iter()
            .any(|segment| matches!(segment, Seg::Var { .. }));
        let open = self.clone().open_bidi(method, route, messages, outgoing);
        if !has_path_fields {
            return open.await;
        }
        let opened = futures::stream::once(async move {
            match open.await {
                Ok(response) => response.into_message(),
                Err(status) => Box::pin(futures::stream::once(async move { Err(status) })),
            }
        });
        Ok(Response::new(Box::pin(opened.flatten())))
    }

    async fn open_bidi<Req, Resp>(
        self,
        method: &'static MethodInfo,
        route: Option<&'static RouteSpec>,
        messages: RequestStream<Req>,
        outgoing: Outgoing,
    ) -> Result<Response<ServerStream<Resp>>, Status>
    where
        Req: Serialize + Default + Send + 'static,
        Resp: DeserializeOwned + Send + 'static,
    {
        let (messages, mut aborted) = outbound(messages);
        let accept = self.stream_accept();
        let response = unless_aborted(&mut aborted, async {
            let response = self
                .send_stream(method, route, messages, outgoing, accept)
                .await?;
            self.streamed(route, response).await
        })
        .await?;
        Ok(response.map(|stream| until_aborted(stream, aborted)))
    }

    /// The messages of a streamed response, or the error it answered with.
    async fn streamed<Resp: DeserializeOwned + Send + 'static>(
        &self,
        route: Option<&'static RouteSpec>,
        response: http::Response<hyper::body::Incoming>,
    ) -> Result<Response<ServerStream<Resp>>, Status> {
        let (parts, body) = response.into_parts();
        if !parts.status.is_success() {
            let body = body
                .collect()
                .await
                .map(|b| b.to_bytes())
                .unwrap_or_default();
            return Err(decode::error(parts.status, parts.headers, &body));
        }
        let response_body = route.and_then(|r| r.response_body);
        let stream = if route.is_some_and(|r| r.raw_response) {
            let content_type = content_type(&parts.headers).to_owned();
            decode::raw_stream(body, content_type, response_body)
        } else {
            decode::stream(body, self.inner.stream_format, response_body)
        };
        let (headers, trailers) = split_rest(parts.headers);
        let mut response = Response::new(stream);
        *response.headers_mut() = headers;
        *response.trailers_mut() = trailers;
        Ok(response)
    }
}

/// A response's `Content-Type` (empty when absent or not text).
fn content_type(headers: &http::HeaderMap) -> &str {
    headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
}

/// An empty request stream has no message to fill the binding's path variables from.
fn empty_stream(route: &RouteSpec, status: Status) -> Status {
    Status::invalid_argument(format!(
        "an empty request stream has no message to fill the path of {} from: {}",
        route.rpc.path,
        status.message()
    ))
}

/// The binding a call uses, or `UNIMPLEMENTED` for a method without one.
fn bound(
    method: &'static MethodInfo,
    route: Option<&'static RouteSpec>,
) -> Result<&'static RouteSpec, Status> {
    route.ok_or_else(|| Status::unimplemented(format!("{} has no REST binding", method.path)))
}
