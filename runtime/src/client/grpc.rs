//! The gRPC transport: tonic `Channel`s, several HTTP/2 connections per target, each calling
//! task keeping to one of them (one connection tops out at a few tens of thousands of calls a
//! second), keep-alive pings, a connect timeout and optional TLS (rustls).
//!
//! Calls are made on `tonic::client::Grpc` with prost encoding. Unary calls read the response as
//! a one-message stream so the server's headers and trailers stay apart, as they do on REST.

use std::collections::hash_map::DefaultHasher;
use std::fmt;
use std::hash::{BuildHasher, BuildHasherDefault};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use http::uri::PathAndQuery;
use tonic::metadata::MetadataMap;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint};
use tonic_prost::ProstCodec;

use super::abort_codec::AbortCodec;
use super::call::Outgoing;
use super::headers::grpc_metadata;
use super::outbound::{outbound, unless_aborted, until_aborted};
use super::target::Target;
use super::timeout::encode_timeout;
use crate::context::deadline::GRPC_TIMEOUT;
use crate::context::{Protocol, RequestStream, Response, ServerStream};
use crate::method::MethodInfo;
use crate::metrics::Metrics;
use crate::resilience::{Resilience, ResilienceConfig};
use crate::status::Status;

/// TLS for a gRPC target.
#[derive(Clone, Debug, Default)]
pub struct TlsConfig {
    ca_file: Option<PathBuf>,
    domain: Option<String>,
}

impl TlsConfig {
    /// TLS trusting the bundled web PKI roots.
    pub fn new() -> Self {
        Self::default()
    }

    /// Trusts the PEM certificates in `path` instead of the web PKI roots.
    pub fn ca_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.ca_file = Some(path.into());
        self
    }

    /// The name to verify the server's certificate against (default: the address's host).
    pub fn domain(mut self, domain: impl Into<String>) -> Self {
        self.domain = Some(domain.into());
        self
    }

    fn build(&self) -> Result<ClientTlsConfig, String> {
        let mut config = ClientTlsConfig::new();
        config = match &self.ca_file {
            Some(path) => {
                let pem = std::fs::read(path)
                    .map_err(|err| format!("cannot read CA file {}: {err}", path.display()))?;
                if !pem.windows(11).any(|w| w == b"-----BEGIN ") {
                    return Err(format!(
                        "CA file {} holds no PEM certificate",
                        path.display()
                    ));
                }
                config.ca_certificate(Certificate::from_pem(pem))
            }
            None => config.with_webpki_roots(),
        };
        if let Some(domain) = &self.domain {
            config = config.domain_name(domain.clone());
        }
        Ok(config)
    }
}

/// Settings of a [`GrpcTransport`]; [`GrpcTransport::builder`] starts one.
#[derive(Clone, Debug)]
pub struct GrpcConfig {
    address: String,
    connections: usize,
    connect_timeout: Duration,
    keep_alive_interval: Option<Duration>,
    keep_alive_timeout: Duration,
    tls: Option<TlsConfig>,
    resilience: ResilienceConfig,
    metrics: Option<Arc<Metrics>>,
}

impl GrpcConfig {
    /// HTTP/2 connections to open to the target (at least 1; default 4). Calling tasks are
    /// spread over them, each task keeping to one.
    pub fn connections(mut self, connections: usize) -> Self {
        self.connections = connections;
        self
    }

    /// How long to wait for a connection to be established (default 5 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// HTTP/2 keep-alive: a ping every `interval` (also while idle), the connection closed when a
    /// ping is not answered within `timeout` (default 30 s and 10 s).
    pub fn keep_alive(mut self, interval: Duration, timeout: Duration) -> Self {
        self.keep_alive_interval = Some(interval);
        self.keep_alive_timeout = timeout;
        self
    }

    /// No keep-alive pings.
    pub fn no_keep_alive(mut self) -> Self {
        self.keep_alive_interval = None;
        self
    }

    /// Connects with TLS. An `http://` address is switched to `https://`.
    pub fn tls(mut self, tls: TlsConfig) -> Self {
        self.tls = Some(tls);
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

    /// Builds the transport. Connections are opened on first use and re-opened when they fail;
    /// a bad address or TLS setting is reported here.
    pub fn build(self) -> Result<GrpcTransport, super::TransportError> {
        let invalid = |reason: String| super::TransportError {
            target: self.address.clone(),
            reason,
        };
        if self.connections == 0 {
            return Err(invalid("at least one connection is needed".into()));
        }
        let mut address = self.address.clone();
        if !address.contains("://") {
            address = format!("http://{address}");
        }
        if self.tls.is_some() {
            if let Some(rest) = address.strip_prefix("http://") {
                address = format!("https://{rest}");
            }
        }
        let mut endpoint = Endpoint::from_shared(address)
            .map_err(|err| invalid(format!("not a valid address: {err}")))?
            .connect_timeout(self.connect_timeout)
            .tcp_nodelay(true)
            .keep_alive_timeout(self.keep_alive_timeout);
        if let Some(interval) = self.keep_alive_interval {
            endpoint = endpoint
                .http2_keep_alive_interval(interval)
                .keep_alive_while_idle(true);
        }
        if let Some(tls) = &self.tls {
            let config = tls.build().map_err(&invalid)?;
            endpoint = endpoint
                .tls_config(config)
                .map_err(|err| invalid(format!("TLS setup failed: {err}")))?;
        }
        // Each lazily connected channel owns its own HTTP/2 connection.
        let channels = (0..self.connections)
            .map(|_| endpoint.connect_lazy())
            .collect();
        Ok(GrpcTransport {
            inner: Arc::new(Inner {
                state: Arc::new(Target::new(
                    &self.address,
                    Protocol::Grpc,
                    &self.resilience,
                    self.metrics
                        .clone()
                        .unwrap_or_else(|| Metrics::global().clone()),
                )),
                target: self.address,
                channels,
                next: AtomicUsize::new(0),
            }),
        })
    }
}

/// gRPC calls to one target over a small pool of HTTP/2 connections. Cheap to clone; clones
/// share the connections.
#[derive(Clone)]
pub struct GrpcTransport {
    inner: Arc<Inner>,
}

struct Inner {
    target: String,
    state: Arc<Target>,
    channels: Box<[Channel]>,
    next: AtomicUsize,
}

impl fmt::Debug for GrpcTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GrpcTransport")
            .field("target", &self.inner.target)
            .field("connections", &self.inner.channels.len())
            .finish()
    }
}

impl GrpcTransport {
    /// Settings for a target such as `http://10.0.0.7:9090` or `reservation:9090`, with the
    /// defaults: 4 connections, 5 s connect timeout, keep-alive every 30 s, no TLS.
    pub fn builder(address: impl Into<String>) -> GrpcConfig {
        GrpcConfig {
            address: address.into(),
            connections: 4,
            connect_timeout: Duration::from_secs(5),
            keep_alive_interval: Some(Duration::from_secs(30)),
            keep_alive_timeout: Duration::from_secs(10),
            tls: None,
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

    /// The connection for a call: the calling task's own, so that calls woken together (a
    /// task's next call follows its last answer) leave in one write per connection instead of
    /// one each; tasks spread over the connections by their ids. Outside a task, round-robin.
    fn channel(&self) -> Channel {
        let count = self.inner.channels.len();
        let index = match tokio::task::try_id() {
            Some(task) => {
                BuildHasherDefault::<DefaultHasher>::default().hash_one(task) as usize % count
            }
            None => self.inner.next.fetch_add(1, Ordering::Relaxed) % count,
        };
        self.inner.channels[index].clone()
    }

    /// The request with the outgoing metadata and the deadline as `grpc-timeout`.
    fn request<T>(outgoing: Outgoing, message: T) -> tonic::Request<T> {
        let timeout = outgoing.timeout();
        let mut metadata = MetadataMap::from_headers(outgoing.headers);
        if let Some(timeout) = timeout {
            if let Ok(value) = encode_timeout(timeout).parse() {
                metadata.insert(GRPC_TIMEOUT, value);
            }
        }
        tonic::Request::from_parts(metadata, tonic::Extensions::new(), message)
    }

    /// A tonic client on the next connection, once it is ready to send.
    async fn ready(&self) -> Result<tonic::client::Grpc<Channel>, Status> {
        let mut grpc = tonic::client::Grpc::new(self.channel());
        grpc.ready().await.map_err(|err| {
            Status::unavailable(format!("{} is not reachable: {err}", self.inner.target))
        })?;
        Ok(grpc)
    }

    /// Opens the call: sends the request and reads the response headers.
    async fn open<Req, Resp>(
        &self,
        method: &'static MethodInfo,
        message: Req,
        outgoing: Outgoing,
    ) -> Result<tonic::Response<tonic::codec::Streaming<Resp>>, Status>
    where
        Req: prost::Message + Send + 'static,
        Resp: prost::Message + Default + Send + 'static,
    {
        let request = Self::request(outgoing, message);
        let path = PathAndQuery::from_static(method.path);
        self.ready()
            .await?
            .server_streaming(request, path, ProstCodec::<Req, Resp>::default())
            .await
            .map_err(|status| self.lost(status))
    }

    /// Opens a call whose requests are a stream, sent as it yields them.
    async fn open_streaming<Req, Resp>(
        &self,
        method: &'static MethodInfo,
        messages: impl futures::Stream<Item = Result<Req, Status>> + Send + 'static,
        outgoing: Outgoing,
    ) -> Result<tonic::Response<tonic::codec::Streaming<Resp>>, Status>
    where
        Req: prost::Message + Send + 'static,
        Resp: prost::Message + Default + Send + 'static,
    {
        let request = Self::request(outgoing, messages);
        let path = PathAndQuery::from_static(method.path);
        self.ready()
            .await?
            .streaming(request, path, AbortCodec::<Req, Resp>::default())
            .await
            .map_err(|status| self.lost(status))
    }

    /// A status raised by the connection rather than sent by the server (it has a source
    /// error): a connection closed under the call reads as `CANCELLED` or `UNKNOWN` there, but
    /// for the caller the target was unavailable, which is also what makes it retryable.
    fn lost(&self, status: tonic::Status) -> Status {
        let transport_failure = std::error::Error::source(&status).is_some()
            && matches!(status.code(), tonic::Code::Cancelled | tonic::Code::Unknown);
        if transport_failure {
            Status::unavailable(format!(
                "connection to {} lost: {}",
                self.inner.target,
                status.message()
            ))
        } else {
            status.into()
        }
    }

    pub(crate) async fn unary<Req, Resp>(
        &self,
        method: &'static MethodInfo,
        message: Req,
        outgoing: Outgoing,
    ) -> Result<Response<Resp>, Status>
    where
        Req: prost::Message + Send + 'static,
        Resp: prost::Message + Default + Send + 'static,
    {
        let opened = self.open(method, message, outgoing).await?;
        self.single(opened).await
    }

    /// Reads the one response message of a unary or client-streaming call, and its trailers.
    async fn single<Resp>(
        &self,
        opened: tonic::Response<tonic::codec::Streaming<Resp>>,
    ) -> Result<Response<Resp>, Status>
    where
        Resp: prost::Message + Default + Send + 'static,
    {
        let (headers, mut stream, _) = opened.into_parts();
        let message = stream
            .message()
            .await
            .map_err(|status| self.lost(status))?
            .ok_or_else(|| Status::internal("the server sent no response message"))?;
        if stream
            .message()
            .await
            .map_err(|status| self.lost(status))?
            .is_some()
        {
            return Err(Status::internal(
                "the server sent more than one response message",
            ));
        }
        let trailers = stream
            .trailers()
            .await
            .map_err(|status| self.lost(status))?
            .unwrap_or_default();
        let mut response = Response::new(message);
        *response.headers_mut() = grpc_metadata(headers.into_headers());
        *response.trailers_mut() = grpc_metadata(trailers.into_headers());
        Ok(response)
    }

    pub(crate) async fn client_streaming<Req, Resp>(
        &self,
        method: &'static MethodInfo,
        messages: RequestStream<Req>,
        outgoing: Outgoing,
    ) -> Result<Response<Resp>, Status>
    where
        Req: prost::Message + Send + 'static,
        Resp: prost::Message + Default + Send + 'static,
    {
        let (messages, mut aborted) = outbound(messages);
        unless_aborted(&mut aborted, async {
            let opened = self.open_streaming(method, messages, outgoing).await?;
            self.single(opened).await
        })
        .await
    }

    pub(crate) async fn bidi_streaming<Req, Resp>(
        &self,
        method: &'static MethodInfo,
        messages: RequestStream<Req>,
        outgoing: Outgoing,
    ) -> Result<Response<ServerStream<Resp>>, Status>
    where
        Req: prost::Message + Send + 'static,
        Resp: prost::Message + Default + Send + 'static,
    {
        let (messages, mut aborted) = outbound(messages);
        let opened = unless_aborted(
            &mut aborted,
            self.open_streaming(method, messages, outgoing),
        )
        .await?;
        Ok(Self::stream_response(opened).map(|stream| until_aborted(stream, aborted)))
    }

    /// A response stream with the server's headers; its trailers arrive after the last message
    /// and are not reported.
    fn stream_response<Resp: Send + 'static>(
        opened: tonic::Response<tonic::codec::Streaming<Resp>>,
    ) -> Response<ServerStream<Resp>> {
        let (headers, stream, _) = opened.into_parts();
        let stream = stream.map(|item| item.map_err(Status::from));
        let mut response = Response::new(Box::pin(stream) as ServerStream<Resp>);
        *response.headers_mut() = grpc_metadata(headers.into_headers());
        response
    }

    pub(crate) async fn server_streaming<Req, Resp>(
        &self,
        method: &'static MethodInfo,
        message: Req,
        outgoing: Outgoing,
    ) -> Result<Response<ServerStream<Resp>>, Status>
    where
        Req: prost::Message + Send + 'static,
        Resp: prost::Message + Default + Send + 'static,
    {
        let opened = self.open(method, message, outgoing).await?;
        Ok(Self::stream_response(opened))
    }
}
