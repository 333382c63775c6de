//! One HTTP service for both protocols: gRPC by path to the registered service, REST through
//! the route table, health endpoints first.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::extract::ConnectInfo;
use http::header::CONTENT_TYPE;
use http::HeaderValue;
use tokio_util::sync::CancellationToken;
use tower::util::BoxCloneSyncService;
use tower::{Service, ServiceExt};

use super::health::Health;
use super::registration::GrpcHandler;
pub use crate::context::RemoteAddr;
use crate::grpc::{self, Body, GrpcFuture};
use crate::invoke::{CallEnv, Policies, ServerShutdown};
use crate::metrics::Metrics;
use crate::rest::service::RestRoutes;
use crate::telemetry::REQUEST_ID_HEADER;

/// Which protocols a listener serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ListenerRole {
    /// REST only (HTTP/1.1 and HTTP/2).
    Rest,
    /// gRPC only (HTTP/2).
    Grpc,
    /// Both on one port: HTTP/2 requests with `content-type: application/grpc*` are gRPC, the
    /// rest REST.
    Both,
}

/// The type-erased service middleware layers wrap.
pub type BoxHttpService =
    BoxCloneSyncService<http::Request<Body>, http::Response<Body>, tower::BoxError>;

/// What every listener dispatches into.
pub(crate) struct Shared {
    pub(crate) grpc: HashMap<&'static str, GrpcHandler>,
    pub(crate) grpc_enabled: bool,
    pub(crate) rest: Arc<RestRoutes>,
    /// The application's axum routes, with the generated routes as their fallback.
    pub(crate) user_routes: Option<axum::Router>,
    pub(crate) health: Health,
    pub(crate) policies: Arc<Policies>,
    pub(crate) metrics: Option<Arc<Metrics>>,
}

/// The innermost HTTP service of one listener role.
#[derive(Clone)]
pub struct HttpService {
    shared: Arc<Shared>,
    role: ListenerRole,
}

impl HttpService {
    pub(crate) fn new(shared: Arc<Shared>, role: ListenerRole) -> Self {
        Self { shared, role }
    }

    fn is_grpc(&self, request: &http::Request<Body>) -> bool {
        match self.role {
            ListenerRole::Grpc => true,
            ListenerRole::Rest => false,
            ListenerRole::Both => {
                request.version() == http::Version::HTTP_2
                    && request
                        .headers()
                        .get(CONTENT_TYPE)
                        .is_some_and(|v| v.as_bytes().starts_with(b"application/grpc"))
            }
        }
    }

    pub(crate) fn dispatch(&self, mut request: http::Request<Body>) -> GrpcFuture {
        if self.is_grpc(&request) {
            if !self.shared.grpc_enabled {
                return grpc::unimplemented(request.uri().path());
            }
            let path = request.uri().path();
            let service = path
                .get(1..)
                .and_then(|p| p.split('/').next())
                .unwrap_or("");
            let Some(handler) = self.shared.grpc.get(service) else {
                return grpc::unimplemented(path);
            };
            let request_id = self.attach_policies(&mut request);
            return with_request_id(handler(request), request_id);
        }
        let (method, path) = (request.method(), request.uri().path());
        if let Some(response) = self.shared.health.answer(method, path) {
            return Box::pin(std::future::ready(Ok(response)));
        }
        if path == METRICS_PATH && (method == http::Method::GET || method == http::Method::HEAD) {
            if let Some(metrics) = &self.shared.metrics {
                return Box::pin(std::future::ready(Ok(metrics_response(metrics))));
            }
        }
        let request_id = self.attach_policies(&mut request);
        if let Some(router) = &self.shared.user_routes {
            if let Some(RemoteAddr(peer)) = request.extensions().get::<RemoteAddr>() {
                let peer = *peer;
                request.extensions_mut().insert(ConnectInfo(peer));
            }
            let answer = router.clone().oneshot(request);
            return with_request_id(
                Box::pin(async move {
                    let response = answer.await.unwrap_or_else(|never| match never {});
                    Ok(response.map(Body::new))
                }),
                request_id,
            );
        }
        let shared = Arc::clone(&self.shared);
        with_request_id(
            Box::pin(async move { Ok(shared.rest.serve(request).await) }),
            request_id,
        )
    }

    /// Hands the call its policies and telemetry identity; returns the request id to send back.
    fn attach_policies(&self, request: &mut http::Request<Body>) -> HeaderValue {
        CallEnv::attach(request, &self.shared.policies)
    }
}

/// Where the Prometheus text is served (REST listeners).
const METRICS_PATH: &str = "/metrics";

fn metrics_response(metrics: &Metrics) -> http::Response<Body> {
    let mut response = http::Response::new(Body::new(http_body_util::Full::new(
        bytes::Bytes::from(metrics.render()),
    )));
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static(crate::metrics::CONTENT_TYPE),
    );
    response
}

/// Returns the request id on the response, on both protocols (for gRPC it is initial metadata).
fn with_request_id(call: GrpcFuture, request_id: HeaderValue) -> GrpcFuture {
    Box::pin(async move {
        let mut response = call.await?;
        response.headers_mut().insert(REQUEST_ID_HEADER, request_id);
        Ok(response)
    })
}

impl Service<http::Request<Body>> for HttpService {
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = GrpcFuture;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        self.dispatch(request)
    }
}

/// The service of one listener: the bare dispatcher, or the middleware stack around it.
#[derive(Clone)]
pub(crate) enum Stack {
    Bare(HttpService),
    Layered(BoxHttpService),
}

fn layer_error_response(err: tower::BoxError) -> http::Response<Body> {
    tracing::error!(error = %err, "middleware failed");
    let mut response = http::Response::new(Body::empty());
    *response.status_mut() = http::StatusCode::INTERNAL_SERVER_ERROR;
    response
}

/// The per-connection hyper service.
#[derive(Clone)]
pub(crate) struct ConnService {
    pub(crate) stack: Stack,
    pub(crate) remote: SocketAddr,
    pub(crate) shutdown: CancellationToken,
}

impl hyper::service::Service<http::Request<hyper::body::Incoming>> for ConnService {
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = GrpcFuture;

    fn call(&self, request: http::Request<hyper::body::Incoming>) -> Self::Future {
        let mut request = request.map(Body::new);
        let extensions = request.extensions_mut();
        extensions.insert(RemoteAddr(self.remote));
        extensions.insert(ServerShutdown(self.shutdown.clone()));
        match &self.stack {
            Stack::Bare(service) => service.dispatch(request),
            Stack::Layered(service) => {
                let service = service.clone();
                Box::pin(async move {
                    Ok(service
                        .oneshot(request)
                        .await
                        .unwrap_or_else(layer_error_response))
                })
            }
        }
    }
}
