//! What browsers need from the server: gRPC-Web on the gRPC surface, and CORS on both.
//!
//! gRPC-Web requests (`content-type: application/grpc-web…`, HTTP/1.1 or HTTP/2) are translated
//! by tonic-web into gRPC and their answers back into gRPC-Web, so a page can call the gRPC
//! surface directly; every other request passes untouched (tonic-web alone would refuse plain
//! HTTP/1.1, which is the REST surface). CORS (tower-http) answers preflights and adds the
//! `Access-Control-*` headers for the origins configured; without origins it is off.

use std::task::{Context, Poll};

use http::header::{HeaderName, CONTENT_TYPE};
use http::Method;
use tower::Service;
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::config::{CorsConfig, CorsOrigins};
use crate::grpc::Body;

/// The request headers a browser may send cross-origin.
const ALLOWED_HEADERS: &[&str] = &[
    "authorization",
    "content-type",
    "idempotency-key",
    "traceparent",
    "tracestate",
    "x-request-id",
    "x-grpc-web",
    "x-user-agent",
    "grpc-timeout",
];

/// The response headers a cross-origin page may read.
const EXPOSED_HEADERS: &[&str] = &[
    "grpc-status",
    "grpc-message",
    "grpc-status-details-bin",
    "idempotent-replayed",
    "retry-after",
    "www-authenticate",
    "x-request-id",
];

/// The tower-http layer for `config`.
pub(crate) fn cors_layer(config: &CorsConfig) -> CorsLayer {
    {
        let origin = match &config.origins {
            CorsOrigins::Any => AllowOrigin::any(),
            CorsOrigins::List(list) => AllowOrigin::list(list.iter().cloned()),
        };
        let names = |list: &[&'static str]| -> Vec<HeaderName> {
            list.iter().map(|h| HeaderName::from_static(h)).collect()
        };
        CorsLayer::new()
            .allow_origin(origin)
            .allow_methods([
                Method::GET,
                Method::POST,
                Method::PUT,
                Method::PATCH,
                Method::DELETE,
            ])
            .allow_headers(names(ALLOWED_HEADERS))
            .expose_headers(names(EXPOSED_HEADERS))
            .max_age(config.max_age)
    }
}

/// gRPC-Web for the requests that ask for it, around `inner`.
#[derive(Clone, Debug)]
pub(crate) struct GrpcWeb<S> {
    inner: S,
}

impl<S> GrpcWeb<S> {
    pub(crate) fn new(inner: S) -> Self {
        Self { inner }
    }
}

fn is_grpc_web(request: &http::Request<Body>) -> bool {
    request
        .headers()
        .get(CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/grpc-web"))
}

impl<S> Service<http::Request<Body>> for GrpcWeb<S>
where
    S: Service<http::Request<Body>, Response = http::Response<Body>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = S::Error;
    type Future = futures::future::Either<tonic_web::ResponseFuture<S::Future>, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<Body>) -> Self::Future {
        if is_grpc_web(&request) {
            // Translated, it is a gRPC call whatever it came over; the dispatcher tells gRPC
            // from REST by HTTP/2 on a shared port.
            *request.version_mut() = http::Version::HTTP_2;
            // The polled-ready service answers; a fresh clone stays for the next call.
            let fresh = self.inner.clone();
            let ready = std::mem::replace(&mut self.inner, fresh);
            let mut web = tower::Layer::layer(&tonic_web::GrpcWebLayer::new(), ready);
            futures::future::Either::Left(web.call(request))
        } else {
            futures::future::Either::Right(self.inner.call(request))
        }
    }
}
