//! The server: one builder serving the registered services over gRPC and REST with one
//! middleware stack.
//!
//! ```no_run
//! # use tacos_runtime::server::{Server, ServiceRegistration};
//! # fn registration() -> ServiceRegistration { unimplemented!() }
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! let server = Server::builder().add(registration()).build()?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! server
//!     .serve(tacos_runtime::server::Listeners::both(listener), async { /* shutdown signal */ })
//!     .await?;
//! # Ok(()) }
//! ```
//!
//! Parts: [`registration`](ServiceRegistration) (what generated code hands over), `dispatch`
//! (protocol and service routing), [`health`] (gRPC health, `/healthz`, `/readyz`), `listen`
//! (sockets, connections, graceful shutdown). Method tables and policies live in
//! [`crate::method`], and what happens to each call in the crate's `invoke` module, both below
//! the server so the protocols and the policies need nothing from it.
//!
//! **Runtime layout.** [`RuntimeLayout::PerCore`] runs one current-thread tokio runtime per
//! thread, each with its own `SO_REUSEPORT` listeners; [`RuntimeLayout::MultiThread`] runs one
//! work-stealing runtime. Per-core avoids cross-core wake-ups between a connection task and its
//! HTTP/2 stream tasks, which roughly halves gRPC CPU per request on small machines; it is the
//! default. [`Server::serve`] uses whatever runtime it is awaited on.
//!
//! **Shutdown.** When the shutdown signal fires, every service turns `NOT_SERVING`, listeners
//! stop accepting, connections finish their in-flight requests and close, response streams end
//! with `UNAVAILABLE`, and whatever is still running after the drain timeout is dropped.

mod browser;
mod dispatch;
pub mod health;
mod listen;
mod policy_config;
mod registration;

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower::util::BoxCloneSyncService;
use tower::{Layer, Service, ServiceExt};

pub use crate::config::Bind;
pub use crate::method::{MethodInfo, MethodKind, MethodPolicy};
pub use dispatch::{BoxHttpService, HttpService, ListenerRole, RemoteAddr};
pub use health::Health;
pub use policy_config::{PolicyConfig, PolicyError};
pub use registration::ServiceRegistration;

use dispatch::{Shared, Stack};
use registration::{boxed_tonic_service, GrpcHandler};

use crate::auth::Authenticator;
use crate::config::{RuntimeLayout, ServerConfig};
use crate::grpc::Body;
use crate::idempotency::Idempotency;
use crate::invoke::Policies;
use crate::metrics::{Metrics, ServerMetrics};
use crate::rate_limit::RateLimiter;
use crate::rest::endpoint::RestEndpoint;
use crate::rest::service::RestRoutes;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// A socket could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
    /// A runtime or thread could not be created.
    #[error("cannot start the runtime: {0}")]
    Runtime(std::io::Error),
    /// Two registrations share a service name.
    #[error("service {0} is registered twice")]
    DuplicateService(String),
    /// Two routes have the same method and path template.
    #[error("route {method} {template} is bound by both {first} and {second}")]
    RouteConflict {
        /// HTTP method.
        method: &'static str,
        /// The template, debug-printed.
        template: String,
        /// The first RPC.
        first: &'static str,
        /// The second RPC.
        second: &'static str,
    },
    /// The reflection service rejected a descriptor set.
    #[error("reflection: {0}")]
    Reflection(String),
    /// A server thread panicked.
    #[error("a server thread panicked")]
    ThreadPanicked,
}

type LayerFn = Arc<dyn Fn(BoxHttpService) -> BoxHttpService + Send + Sync>;

/// Builds a [`Server`].
#[must_use]
pub struct ServerBuilder {
    registrations: Vec<ServiceRegistration>,
    tonic_services: Vec<(&'static str, GrpcHandler)>,
    layers: Vec<LayerFn>,
    max_body_bytes: usize,
    max_message_bytes: usize,
    max_header_bytes: usize,
    drain_timeout: Duration,
    grpc_enabled: bool,
    grpc_web: bool,
    cors: Option<crate::config::CorsConfig>,
    reflection: bool,
    layout: RuntimeLayout,
    json: crate::json::JsonOptions,
    metrics: Option<Arc<Metrics>>,
    auth: Option<Authenticator>,
    rate_limit: Option<Arc<RateLimiter>>,
    idempotency: Option<Arc<Idempotency>>,
    router: Option<axum::Router>,
}

impl std::fmt::Debug for ServerBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerBuilder")
            .field("registrations", &self.registrations)
            .field("layers", &self.layers.len())
            .field("layout", &self.layout)
            .finish_non_exhaustive()
    }
}

impl Default for ServerBuilder {
    fn default() -> Self {
        Self {
            registrations: Vec::new(),
            tonic_services: Vec::new(),
            layers: Vec::new(),
            max_body_bytes: 4 * 1024 * 1024,
            max_message_bytes: 4 * 1024 * 1024,
            max_header_bytes: 64 * 1024,
            drain_timeout: Duration::from_secs(30),
            grpc_enabled: true,
            grpc_web: false,
            cors: None,
            reflection: true,
            layout: RuntimeLayout::default(),
            json: crate::json::JsonOptions::new(),
            metrics: Some(Arc::clone(Metrics::global())),
            auth: None,
            rate_limit: None,
            idempotency: None,
            router: None,
        }
    }
}

impl ServerBuilder {
    /// Adds a service (from a generated `<service>_service(handler)` function).
    // Builder vocabulary ("add a service"), not arithmetic; the builder is no number.
    #[allow(clippy::should_implement_trait)]
    pub fn add(mut self, registration: ServiceRegistration) -> Self {
        self.registrations.push(registration);
        self
    }

    /// Adds a plain tonic service (gRPC only), such as a hand-written or third-party one.
    pub fn add_tonic_service<S>(mut self, service: S) -> Self
    where
        S: Service<http::Request<Body>, Response = http::Response<Body>, Error = Infallible>
            + tonic::server::NamedService
            + Clone
            + Send
            + Sync
            + 'static,
        S::Future: Send + 'static,
    {
        self.tonic_services
            .push((S::NAME, boxed_tonic_service(service)));
        self
    }

    /// Serves `router`'s axum routes on the REST listeners beside the generated ones: webhooks,
    /// static pages, anything written as axum handlers, with axum's extractors (the peer address
    /// as `ConnectInfo<SocketAddr>`) and its route layers. A request goes to these routes first;
    /// whatever path they do not match reaches the generated routes, whose 404 and 405 answer
    /// the rest, so a fallback set on `router` is never reached. Health, `/metrics` and the
    /// server's layers apply as to every request. Calling this again merges the routes.
    pub fn router(mut self, router: axum::Router) -> Self {
        self.router = Some(match self.router.take() {
            Some(routes) => routes.merge(router),
            None => router,
        });
        self
    }

    /// Adds a middleware layer around both protocols. The first layer added is the outermost.
    /// A layer's errors become a bare 500 response; layers should answer errors themselves.
    pub fn layer<L>(mut self, layer: L) -> Self
    where
        L: Layer<BoxHttpService> + Send + Sync + 'static,
        L::Service: Service<http::Request<Body>, Response = http::Response<Body>>
            + Clone
            + Send
            + Sync
            + 'static,
        <L::Service as Service<http::Request<Body>>>::Error: Into<tower::BoxError>,
        <L::Service as Service<http::Request<Body>>>::Future: Send + 'static,
    {
        self.layers.push(Arc::new(move |inner| {
            BoxCloneSyncService::new(layer.layer(inner).map_err(Into::into))
        }));
        self
    }

    /// Applies the start-up configuration (limits, gRPC switch, runtime layout).
    pub fn config(mut self, config: &ServerConfig) -> Self {
        self.max_body_bytes = config.max_body_bytes;
        self.max_message_bytes = config.max_message_bytes;
        self.max_header_bytes = config.max_header_bytes;
        self.drain_timeout = config.shutdown_timeout;
        self.grpc_enabled = config.grpc_enabled;
        self.grpc_web = config.grpc_web;
        self.cors = config.cors.clone();
        self.layout = config.runtime;
        self.json = self
            .json
            .with_proto_field_names(config.json_proto_names)
            .with_emit_unpopulated(config.json_emit_unpopulated);
        self
    }

    /// Answers gRPC-Web requests (`application/grpc-web…`, over HTTP/1.1 or HTTP/2) on the gRPC
    /// surface, so browsers can call it directly (default off; `GRPC_WEB`).
    pub fn grpc_web(mut self, yes: bool) -> Self {
        self.grpc_web = yes;
        self
    }

    /// Cross-origin calls on both surfaces: preflights answered and `Access-Control-*` headers
    /// added for `cors`'s origins (default off; `CORS_ALLOWED_ORIGINS`).
    pub fn cors(mut self, cors: Option<crate::config::CorsConfig>) -> Self {
        self.cors = cors;
        self
    }

    /// The largest REST request body accepted (default 4 MiB); larger ones get 413.
    pub fn max_body_bytes(mut self, bytes: usize) -> Self {
        self.max_body_bytes = bytes;
        self
    }

    /// The largest gRPC request message accepted (default 4 MiB); larger ones get
    /// `RESOURCE_EXHAUSTED` before decoding.
    pub fn max_message_bytes(mut self, bytes: usize) -> Self {
        self.max_message_bytes = bytes;
        self
    }

    /// The largest request header section accepted (default 64 KiB), on both protocols.
    pub fn max_header_bytes(mut self, bytes: usize) -> Self {
        self.max_header_bytes = bytes;
        self
    }

    /// How long shutdown waits for in-flight calls (default 30 s).
    pub fn drain_timeout(mut self, timeout: Duration) -> Self {
        self.drain_timeout = timeout;
        self
    }

    /// Whether gRPC is served at all (default true).
    pub fn grpc_enabled(mut self, enabled: bool) -> Self {
        self.grpc_enabled = enabled;
        self
    }

    /// JSON options for REST bodies, such as proto field names in output (default: lowerCamel).
    pub fn json_options(mut self, options: crate::json::JsonOptions) -> Self {
        self.json = options;
        self
    }

    /// The registry the server's series are kept in and `/metrics` serves (default: the
    /// process-wide [`Metrics::global`]).
    pub fn metrics(mut self, metrics: Arc<Metrics>) -> Self {
        self.metrics = Some(metrics);
        self
    }

    /// Serves no metrics at all: no series, no `/metrics`.
    pub fn without_metrics(mut self) -> Self {
        self.metrics = None;
        self
    }

    /// Verifies bearer tokens on every method that is not `public`. Without an authenticator,
    /// such methods are refused with `UNAUTHENTICATED`.
    pub fn authenticator(mut self, authenticator: Authenticator) -> Self {
        self.auth = Some(authenticator);
        self
    }

    /// Applies rate limits by each method's rate class, per principal (client IP when
    /// anonymous).
    pub fn rate_limiter(mut self, limiter: Arc<RateLimiter>) -> Self {
        self.rate_limit = Some(limiter);
        self
    }

    /// Replays `Idempotency-Key` outcomes on methods marked `idempotent`.
    pub fn idempotency(mut self, store: Arc<Idempotency>) -> Self {
        self.idempotency = Some(store);
        self
    }

    /// Whether gRPC server reflection is served (default true).
    pub fn reflection(mut self, enabled: bool) -> Self {
        self.reflection = enabled;
        self
    }

    /// The runtime layout used by [`Server::start`] and [`Server::run`].
    pub fn runtime(mut self, layout: RuntimeLayout) -> Self {
        self.layout = layout;
        self
    }

    /// Checks the registrations and builds the server.
    pub fn build(self) -> Result<Server, ServerError> {
        let (reporter, health_service) = tonic_health::server::health_reporter();
        let health = Health::new(reporter);

        let mut grpc: HashMap<&'static str, GrpcHandler> = HashMap::new();
        let mut routes = Vec::new();
        let mut seen_routes: HashMap<(&'static str, crate::rest::PathTemplate), &'static str> =
            HashMap::new();
        let mut names = Vec::new();
        let mut methods: Vec<&'static MethodInfo> = Vec::new();
        let mut descriptor_sets: Vec<&'static [u8]> = Vec::new();
        for registration in self.registrations {
            // Generated services of one crate share one descriptor set; register it once.
            let set = registration.descriptor_set;
            if !set.is_empty() && !descriptor_sets.iter().any(|s| std::ptr::eq(*s, set)) {
                descriptor_sets.push(set);
            }
            if grpc.contains_key(registration.name) || names.contains(&registration.name) {
                return Err(ServerError::DuplicateService(registration.name.to_owned()));
            }
            names.push(registration.name);
            methods.extend(registration.methods.iter());
            if let Some(handler) = registration.grpc {
                grpc.insert(registration.name, handler);
            }
            for (spec, handler) in registration.routes {
                let key = (spec.method.as_str(), spec.template);
                if let Some(first) = seen_routes.insert(key, spec.rpc.path) {
                    return Err(ServerError::RouteConflict {
                        method: spec.method.as_str(),
                        template: format!("{:?}", spec.template),
                        first,
                        second: spec.rpc.path,
                    });
                }
                routes.push((spec, handler));
            }
        }
        for (name, handler) in self.tonic_services {
            if grpc.insert(name, handler).is_some() {
                return Err(ServerError::DuplicateService(name.to_owned()));
            }
        }
        grpc.insert("grpc.health.v1.Health", boxed_tonic_service(health_service));
        if self.reflection {
            let advertised: Vec<&'static str> = names
                .iter()
                .copied()
                .chain(["grpc.health.v1.Health"])
                .collect();
            let builder = |alpha: bool| {
                let mut builder = tonic_reflection::server::Builder::configure()
                    .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET);
                for set in &descriptor_sets {
                    builder = builder.register_encoded_file_descriptor_set(set);
                }
                for name in &advertised {
                    builder = builder.with_service_name(*name);
                }
                builder.with_service_name(if alpha {
                    "grpc.reflection.v1alpha.ServerReflection"
                } else {
                    "grpc.reflection.v1.ServerReflection"
                })
            };
            let v1 = builder(false)
                .build_v1()
                .map_err(|e| ServerError::Reflection(e.to_string()))?;
            let v1alpha = builder(true)
                .build_v1alpha()
                .map_err(|e| ServerError::Reflection(e.to_string()))?;
            grpc.insert(
                "grpc.reflection.v1.ServerReflection",
                boxed_tonic_service(v1),
            );
            grpc.insert(
                "grpc.reflection.v1alpha.ServerReflection",
                boxed_tonic_service(v1alpha),
            );
        }
        let rest = Arc::new(RestRoutes::new(routes, self.max_body_bytes, self.json));
        let user_routes = self.router.map(|router| {
            router.fallback_service(RestEndpoint::behind_dispatch(Arc::clone(&rest)))
        });
        let shared = Arc::new(Shared {
            grpc,
            grpc_enabled: self.grpc_enabled,
            rest,
            user_routes,
            health: health.clone(),
            policies: Arc::new(Policies {
                max_message_bytes: self.max_message_bytes,
                metrics: self
                    .metrics
                    .as_ref()
                    .map(|metrics| ServerMetrics::new(metrics, methods.iter().copied())),
                auth: self.auth,
                rate_limit: self.rate_limit,
                idempotency: self.idempotency,
            }),
            metrics: self.metrics,
        });
        Ok(Server {
            shared,
            services: names,
            layers: self.layers,
            grpc_web: self.grpc_web,
            cors: self.cors,
            drain_timeout: self.drain_timeout,
            max_header_bytes: self.max_header_bytes,
            layout: self.layout,
            health,
        })
    }
}

/// The listeners [`Server::serve`] accepts on, each with its role.
#[derive(Debug, Default)]
pub struct Listeners {
    entries: Vec<(TcpListener, ListenerRole)>,
}

impl Listeners {
    /// One listener serving both protocols.
    pub fn both(listener: TcpListener) -> Self {
        Self::default().with(listener, ListenerRole::Both)
    }

    /// REST on one listener, gRPC on another.
    pub fn separate(rest: TcpListener, grpc: TcpListener) -> Self {
        Self::default()
            .with(rest, ListenerRole::Rest)
            .with(grpc, ListenerRole::Grpc)
    }

    /// Adds a listener with a role.
    pub fn with(mut self, listener: TcpListener, role: ListenerRole) -> Self {
        self.entries.push((listener, role));
        self
    }
}

/// The listeners a [`Bind`] asks for, each with its role.
fn roles(bind: &Bind) -> Vec<(SocketAddr, ListenerRole)> {
    match bind.grpc {
        // Port 0 asks for a fresh port each: two listeners even when the addresses match.
        Some(grpc) if grpc != bind.rest || grpc.port() == 0 => {
            vec![(bind.rest, ListenerRole::Rest), (grpc, ListenerRole::Grpc)]
        }
        _ => vec![(bind.rest, ListenerRole::Both)],
    }
}

/// A server with its services, ready to serve.
pub struct Server {
    shared: Arc<Shared>,
    services: Vec<&'static str>,
    layers: Vec<LayerFn>,
    grpc_web: bool,
    cors: Option<crate::config::CorsConfig>,
    drain_timeout: Duration,
    max_header_bytes: usize,
    layout: RuntimeLayout,
    health: Health,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("services", &self.services)
            .field("layout", &self.layout)
            .finish_non_exhaustive()
    }
}

impl Server {
    /// Starts building a server.
    pub fn builder() -> ServerBuilder {
        ServerBuilder::default()
    }

    /// The health handle (gRPC health and `/readyz`).
    pub fn health(&self) -> Health {
        self.health.clone()
    }

    /// The names of the registered services.
    pub fn services(&self) -> &[&'static str] {
        &self.services
    }

    /// Every REST route served.
    pub fn routes(&self) -> &[&'static crate::rest::RouteSpec] {
        self.shared.rest.specs()
    }

    /// The generated REST routes of every registered service as an [`axum::Router`], with the
    /// server's policies (auth, rate limits, idempotency, metrics, access logs and deadlines)
    /// and JSON options, to `merge` or `nest` into an axum application and serve with
    /// `axum::serve`. Routing is the project's own (custom verbs, multi-segment variables,
    /// literal before variable); see the REST module's `endpoint` for how it mounts in axum.
    /// Only the routes come along: gRPC, health, `/metrics` and the builder's layers are the
    /// application's to add. Serve with `into_make_service_with_connect_info::<SocketAddr>()`
    /// so rate limits and logs see client addresses.
    pub fn rest_router(&self) -> axum::Router {
        RestEndpoint::standalone(
            Arc::clone(&self.shared.rest),
            Arc::clone(&self.shared.policies),
        )
        .into_router()
    }

    fn stack(&self, role: ListenerRole) -> Stack {
        let bare = HttpService::new(Arc::clone(&self.shared), role);
        let grpc_web = self.grpc_web && role != ListenerRole::Rest;
        if self.layers.is_empty() && !grpc_web && self.cors.is_none() {
            return Stack::Bare(bare);
        }
        let mut service = BoxCloneSyncService::new(bare.map_err(tower::BoxError::from));
        // The first layer added ends up outermost.
        for layer in self.layers.iter().rev() {
            service = layer(service);
        }
        // Outside the user's layers: they see gRPC-Web calls as gRPC, and never preflights.
        if grpc_web {
            service = BoxCloneSyncService::new(browser::GrpcWeb::new(service));
        }
        if let Some(cors) = &self.cors {
            service = BoxCloneSyncService::new(Layer::layer(&browser::cors_layer(cors), service));
        }
        Stack::Layered(service)
    }

    fn conn_settings(&self) -> listen::ConnSettings {
        listen::ConnSettings {
            drain: self.drain_timeout,
            max_header_bytes: self.max_header_bytes,
        }
    }

    async fn mark_serving(&self) {
        for name in &self.services {
            self.health.set_serving(name, true).await;
        }
    }

    /// Serves on the given listeners on the current tokio runtime until `shutdown` completes,
    /// then drains. This ignores the runtime layout: the caller chose the runtime.
    pub async fn serve<F>(self, listeners: Listeners, shutdown: F) -> Result<(), ServerError>
    where
        F: Future<Output = ()>,
    {
        self.mark_serving().await;
        let token = CancellationToken::new();
        let entries = listeners
            .entries
            .into_iter()
            .map(|(listener, role)| (listener, role, self.stack(role)))
            .collect();
        let serving = tokio::spawn(listen::serve_listeners(
            entries,
            token.clone(),
            self.conn_settings(),
        ));
        shutdown.await;
        self.health.shutting_down().await;
        token.cancel();
        serving.await.map_err(|_| ServerError::ThreadPanicked)
    }

    /// Binds `bind` and serves on threads of the configured runtime layout; returns at once.
    pub fn start(self, bind: Bind) -> Result<RunningServer, ServerError> {
        let roles = roles(&bind);
        let threads = self.layout.threads();
        let per_core = matches!(self.layout, RuntimeLayout::PerCore { .. });
        let copies = if per_core { threads } else { 1 };
        let mut bound: Vec<(Vec<std::net::TcpListener>, ListenerRole)> = Vec::new();
        let mut addrs = Vec::new();
        for (addr, role) in roles {
            let listeners = listen::bind_shared(addr, copies)
                .map_err(|source| ServerError::Bind { addr, source })?;
            let local = listeners[0]
                .local_addr()
                .map_err(|source| ServerError::Bind { addr, source })?;
            addrs.push((local, role));
            bound.push((listeners, role));
        }
        futures::executor::block_on(self.mark_serving());
        let token = CancellationToken::new();
        let mut handles = Vec::new();
        for index in 0..copies {
            let mut mine = Vec::new();
            for (listeners, role) in &mut bound {
                mine.push((
                    listeners.pop().expect("one listener per copy"),
                    *role,
                    self.stack(*role),
                ));
            }
            let runtime = if per_core {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
            } else {
                tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(threads)
                    .enable_all()
                    .build()
            }
            .map_err(ServerError::Runtime)?;
            let token = token.clone();
            let settings = self.conn_settings();
            let handle = std::thread::Builder::new()
                .name(format!("tacos-server-{index}"))
                .spawn(move || {
                    runtime.block_on(async move {
                        let mut entries = Vec::with_capacity(mine.len());
                        for (listener, role, stack) in mine {
                            match TcpListener::from_std(listener) {
                                Ok(listener) => entries.push((listener, role, stack)),
                                Err(err) => tracing::error!(error = %err, "listener unusable"),
                            }
                        }
                        listen::serve_listeners(entries, token, settings).await;
                    });
                })
                .map_err(ServerError::Runtime)?;
            handles.push(handle);
        }
        Ok(RunningServer {
            addrs,
            token,
            handles,
            health: self.health,
        })
    }

    /// Starts on `config`'s addresses and layout, and blocks until SIGINT or SIGTERM, then shuts
    /// down gracefully. The thin `main` of a service binary.
    pub fn run(self, config: &ServerConfig) -> Result<(), ServerError> {
        let running = self.start(config.bind())?;
        for (addr, role) in running.addrs() {
            tracing::info!(%addr, ?role, "listening");
        }
        let signals = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(ServerError::Runtime)?;
        signals.block_on(shutdown_signal());
        tracing::info!("shutting down");
        running.shutdown()
    }
}

/// Resolves on SIGINT (Ctrl-C) or, on Unix, SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}

/// A server started by [`Server::start`].
#[derive(Debug)]
pub struct RunningServer {
    addrs: Vec<(SocketAddr, ListenerRole)>,
    token: CancellationToken,
    handles: Vec<JoinHandle<()>>,
    health: Health,
}

impl RunningServer {
    /// The bound addresses and their roles.
    pub fn addrs(&self) -> &[(SocketAddr, ListenerRole)] {
        &self.addrs
    }

    /// The address serving REST.
    pub fn rest_addr(&self) -> Option<SocketAddr> {
        self.addr_for(ListenerRole::Rest)
    }

    /// The address serving gRPC.
    pub fn grpc_addr(&self) -> Option<SocketAddr> {
        self.addr_for(ListenerRole::Grpc)
    }

    fn addr_for(&self, wanted: ListenerRole) -> Option<SocketAddr> {
        self.addrs
            .iter()
            .find(|(_, role)| *role == wanted || *role == ListenerRole::Both)
            .map(|(addr, _)| *addr)
    }

    /// The health handle.
    pub fn health(&self) -> &Health {
        &self.health
    }

    /// Shuts down gracefully and waits for the server threads (blocking).
    pub fn shutdown(self) -> Result<(), ServerError> {
        futures::executor::block_on(self.health.shutting_down());
        self.token.cancel();
        let mut result = Ok(());
        for handle in self.handles {
            if handle.join().is_err() {
                result = Err(ServerError::ThreadPanicked);
            }
        }
        crate::telemetry::flush_logs();
        result
    }
}
