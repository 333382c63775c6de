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
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{HeaderValue, ACCEPT, CONTENT_TYPE};
use http::uri::{Authority, Scheme};
use http::Uri;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::call::Outgoing;
use super::headers::split_rest;
use super::target::Target;
use super::timeout::encode_timeout;
use super::TransportError;
use crate::context::deadline::REQUEST_TIMEOUT;
use crate::context::{Protocol, Response, ServerStream};
use crate::method::MethodInfo;
use crate::metrics::Metrics;
use crate::resilience::{Resilience, ResilienceConfig};
use crate::rest::stream::StreamFormat;
use crate::rest::RouteSpec;
use crate::status::Status;

type HttpClient = hyper_util::client::legacy::Client<HttpConnector, Full<Bytes>>;

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
        let client = hyper_util::client::legacy::Client::builder(TokioExecutor::new())
            .pool_idle_timeout(self.idle_timeout)
            .pool_max_idle_per_host(self.max_idle_per_host)
            .build(connector);
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
        let route = route
            .ok_or_else(|| Status::unimplemented(format!("{} has no REST binding", method.path)))?;
        let encoded = encode::encode(route, message)?;
        let uri = Uri::builder()
            .scheme(Scheme::HTTP)
            .authority(self.inner.authority.clone())
            .path_and_query(format!("{}{}", self.inner.prefix, encoded.path_and_query))
            .build()
            .map_err(|err| Status::internal(format!("request URI could not be built: {err}")))?;
        let timeout = outgoing.timeout();
        let mut request = http::Request::new(Full::new(Bytes::from(
            encoded.body.clone().unwrap_or_default(),
        )));
        *request.method_mut() = http::Method::from_bytes(route.method.as_str().as_bytes())
            .map_err(|_| Status::internal("binding has an invalid HTTP method"))?;
        *request.uri_mut() = uri;
        let headers = request.headers_mut();
        *headers = outgoing.headers;
        headers.insert(ACCEPT, HeaderValue::from_static(accept));
        if encoded.body.is_some() {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        }
        if let Some(timeout) = timeout {
            if let Ok(value) = encode_timeout(timeout).parse() {
                headers.insert(REQUEST_TIMEOUT, value);
            }
        }
        self.inner.client.request(request).await.map_err(|err| {
            Status::unavailable(format!("{} is not reachable: {err}", self.inner.target))
        })
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
        let response = self
            .send(method, route, &message, outgoing, "application/json")
            .await?;
        let (parts, body) = response.into_parts();
        let body = body
            .collect()
            .await
            .map_err(|err| Status::unavailable(format!("response body was cut short: {err}")))?
            .to_bytes();
        if !parts.status.is_success() {
            return Err(decode::error(parts.status, parts.headers, &body));
        }
        let message = decode::message(&body, route.and_then(|r| r.response_body))?;
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
        let format = self.inner.stream_format;
        let accept = match format {
            StreamFormat::Sse => "text/event-stream",
            StreamFormat::Ndjson => "application/x-ndjson",
        };
        let response = self.send(method, route, &message, outgoing, accept).await?;
        let (parts, body) = response.into_parts();
        if !parts.status.is_success() {
            let body = body
                .collect()
                .await
                .map(|b| b.to_bytes())
                .unwrap_or_default();
            return Err(decode::error(parts.status, parts.headers, &body));
        }
        let stream = decode::stream(body, format, route.and_then(|r| r.response_body));
        let (headers, trailers) = split_rest(parts.headers);
        let mut response = Response::new(stream);
        *response.headers_mut() = headers;
        *response.trailers_mut() = trailers;
        Ok(response)
    }
}
