//! The generated REST routes as a tower service, and as an [`axum::Router`] users compose.
//!
//! axum's router (matchit) cannot express every `google.api.http` template: it has no custom
//! verbs (`/v1/{name}:cancel`), no variables spanning segments (`{name=shelves/*/books/*}`) and
//! no specificity between a literal and a variable in one segment. So every binding is routed by
//! the project's own matcher, mounted in axum under the first literal segment of each template
//! (`/v1` and `/v1/{*path}`, or the root when a template starts with a variable). A user's routes
//! under the same prefix take precedence where axum ranks them higher (literal and variable
//! segments before a catch-all); the generated 404 and 405 (with `Allow`) answer the rest of
//! the prefix.

use std::collections::BTreeSet;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::extract::ConnectInfo;
use tower::Service;

use super::route::RouteSpec;
use super::service::RestRoutes;
use super::template::Seg;
use crate::context::RemoteAddr;
use crate::grpc::{Body, GrpcFuture};
use crate::invoke::{CallEnv, Policies};
use crate::telemetry::REQUEST_ID_HEADER;

/// Serves REST requests through the generated routes.
#[derive(Clone)]
pub(crate) struct RestEndpoint {
    routes: Arc<RestRoutes>,
    /// The policies the endpoint hands each call when it is the entry point (a router mounted in
    /// a user's axum application); `None` behind the server's dispatcher, which already did.
    policies: Option<Arc<Policies>>,
}

impl RestEndpoint {
    /// An endpoint behind the server's dispatcher.
    pub(crate) fn behind_dispatch(routes: Arc<RestRoutes>) -> Self {
        Self {
            routes,
            policies: None,
        }
    }

    /// An endpoint that is the entry point of its calls, applying `policies` itself.
    pub(crate) fn standalone(routes: Arc<RestRoutes>, policies: Arc<Policies>) -> Self {
        Self {
            routes,
            policies: Some(policies),
        }
    }

    /// The axum router mounting this endpoint at every prefix its templates need.
    pub(crate) fn into_router(self) -> axum::Router {
        mount_points(self.routes.specs())
            .into_iter()
            .fold(axum::Router::new(), |router, path| {
                router.route_service(&path, self.clone())
            })
    }
}

impl<B> Service<http::Request<B>> for RestEndpoint
where
    B: http_body::Body<Data = bytes::Bytes> + Send + 'static,
    B::Error: Into<tower::BoxError>,
{
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = GrpcFuture;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let mut request = request.map(Body::new);
        let routes = Arc::clone(&self.routes);
        let Some(policies) = &self.policies else {
            return Box::pin(async move { Ok(routes.serve(request).await) });
        };
        // axum's `into_make_service_with_connect_info` is how an axum application learns its
        // peers; rate limits by IP and access logs read them as the server's own would.
        if let Some(ConnectInfo(peer)) = request.extensions().get::<ConnectInfo<SocketAddr>>() {
            let peer = *peer;
            request.extensions_mut().insert(RemoteAddr(peer));
        }
        let request_id = CallEnv::attach(&mut request, policies);
        Box::pin(async move {
            let mut response = routes.serve(request).await;
            response.headers_mut().insert(REQUEST_ID_HEADER, request_id);
            Ok(response)
        })
    }
}

/// The axum paths that reach `specs`: the root when a template starts with a variable (or is
/// `/`), else each leading literal with and without a tail.
fn mount_points(specs: &[&'static RouteSpec]) -> BTreeSet<String> {
    let mut paths = BTreeSet::new();
    for spec in specs {
        let template = spec.template;
        match template.segments.first() {
            Some(Seg::Lit(literal)) => {
                paths.insert(format!("/{literal}"));
                paths.insert(format!("/{literal}/{{*path}}"));
                if let (1, Some(verb)) = (template.segments.len(), template.verb) {
                    paths.insert(format!("/{literal}:{verb}"));
                }
            }
            _ => {
                paths.insert("/".to_owned());
                paths.insert("/{*path}".to_owned());
            }
        }
    }
    if paths.contains("/{*path}") {
        // The root catch-all reaches every path; literal prefixes beside it add nothing.
        paths.retain(|path| path == "/" || path == "/{*path}");
    }
    paths
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::method::{Idempotency, MethodInfo, MethodKind};
    use crate::rest::{BodySelector, HttpMethod, PathTemplate};

    static RPC: MethodInfo = MethodInfo {
        service: "pkg.v1.Library",
        name: "GetBook",
        path: "/pkg.v1.Library/GetBook",
        kind: MethodKind::Unary,
        idempotency: Idempotency::Unknown,
    };

    fn spec(segments: &'static [Seg], verb: Option<&'static str>) -> &'static RouteSpec {
        Box::leak(Box::new(RouteSpec {
            method: HttpMethod::Get,
            template: PathTemplate { segments, verb },
            body: BodySelector::None,
            response_body: None,
            raw_request: false,
            raw_response: false,
            rpc: &RPC,
        }))
    }

    #[test]
    fn literal_prefixes_are_mounted_with_and_without_a_tail() {
        let specs = [
            spec(&[Seg::Lit("v1"), Seg::Lit("books")], None),
            spec(&[Seg::Lit("v1"), Seg::Star], Some("cancel")),
            spec(&[Seg::Lit("api")], Some("batch")),
        ];
        let paths: Vec<String> = mount_points(&specs).into_iter().collect();
        assert_eq!(
            paths,
            ["/api", "/api/{*path}", "/api:batch", "/v1", "/v1/{*path}"]
        );
    }

    #[test]
    fn a_leading_variable_mounts_the_root_only() {
        static VAR: [Seg; 1] = [Seg::Var {
            field: "name",
            segments: &[Seg::DoubleStar],
        }];
        let specs = [spec(&[Seg::Lit("v1")], None), spec(&VAR, None)];
        let paths: Vec<String> = mount_points(&specs).into_iter().collect();
        assert_eq!(paths, ["/", "/{*path}"]);
    }
}
