//! The REST side of the server: route, read the body (bounded), call the route's handler.

use http::StatusCode;
use http_body_util::{BodyExt, Limited};

use super::call::{RestCall, RestHandler};
use super::response;
use super::route::{BodySelector, RouteSpec};
use super::router::{Routed, Router};
use super::websocket;
use crate::grpc::Body;
use crate::json::JsonOptions;
use crate::method::MethodKind;
use crate::status::Status;

/// Every REST route of the registered services.
pub(crate) struct RestRoutes {
    router: Router,
    specs: Vec<&'static RouteSpec>,
    handlers: Vec<RestHandler>,
    max_body_bytes: usize,
    json: JsonOptions,
}

impl RestRoutes {
    pub(crate) fn new(
        routes: Vec<(&'static RouteSpec, RestHandler)>,
        max_body_bytes: usize,
        json: JsonOptions,
    ) -> Self {
        let (specs, handlers): (Vec<_>, Vec<_>) = routes.into_iter().unzip();
        Self {
            router: Router::new(specs.clone()),
            specs,
            handlers,
            max_body_bytes,
            json,
        }
    }

    pub(crate) async fn serve(&self, request: http::Request<Body>) -> http::Response<Body> {
        let (mut parts, body) = request.into_parts();
        let wants_websocket = websocket::is_requested(&parts);
        let routed = if wants_websocket {
            self.route_websocket(parts.uri.path())
        } else {
            None
        };
        let routed = match routed {
            Some(routed) => routed,
            None => self.router.route(&parts.method, parts.uri.path()),
        };
        let (index, vars) = match routed {
            Routed::Found(index, vars) => (index, vars),
            Routed::NotFound => return response::not_found(&parts.method, parts.uri.path()),
            Routed::MethodNotAllowed(allowed) => {
                return response::method_not_allowed(&parts.method, parts.uri.path(), &allowed)
            }
            Routed::BadPath(field, why) => {
                return response::error(Status::invalid_field(field, why))
            }
        };
        let route = self.specs[index];
        let upgrade = if wants_websocket && route.rpc.kind != MethodKind::Unary {
            match websocket::handshake(&mut parts) {
                Ok(upgrade) => Some(upgrade),
                Err(status) => return response::error(status),
            }
        } else {
            None
        };
        let streams_requests = matches!(
            route.rpc.kind,
            MethodKind::ClientStreaming | MethodKind::BidiStreaming
        );
        let (body, incoming) = if upgrade.is_some() {
            // The call's requests arrive as frames on the upgraded connection.
            (bytes::Bytes::new(), None)
        } else if streams_requests {
            // Read line by line while the handler runs.
            (bytes::Bytes::new(), Some(body))
        } else if route.body == BodySelector::None {
            // Unused bodies are not read; hyper discards them.
            (bytes::Bytes::new(), None)
        } else {
            match Limited::new(body, self.max_body_bytes).collect().await {
                Ok(collected) => (collected.to_bytes(), None),
                Err(err) if err.is::<http_body_util::LengthLimitError>() => {
                    let status = Status::resource_exhausted(format!(
                        "request body is larger than {} bytes",
                        self.max_body_bytes
                    ));
                    return response::error_with_http_status(status, StatusCode::PAYLOAD_TOO_LARGE);
                }
                Err(err) => {
                    return response::error(Status::invalid_argument(format!(
                        "request body could not be read: {err}"
                    )))
                }
            }
        };
        let call = RestCall {
            parts,
            body,
            incoming,
            vars,
            route,
            json: self.json,
            max_line: self.max_body_bytes,
            websocket: upgrade,
        };
        (self.handlers[index])(call).await
    }

    /// The streaming route a WebSocket handshake on `path` opens: WebSocket handshakes are
    /// `GET`s, so a streaming binding of any verb on the path answers them.
    fn route_websocket(&self, path: &str) -> Option<Routed<'_>> {
        let streaming = |index: usize| self.specs[index].rpc.kind != MethodKind::Unary;
        match self.router.route(&http::Method::GET, path) {
            Routed::Found(index, vars) if streaming(index) => Some(Routed::Found(index, vars)),
            Routed::MethodNotAllowed(allowed) => allowed.into_iter().find_map(|verb| {
                let method = http::Method::from_bytes(verb.as_bytes()).ok()?;
                match self.router.route(&method, path) {
                    Routed::Found(index, vars) if streaming(index) => {
                        Some(Routed::Found(index, vars))
                    }
                    _ => None,
                }
            }),
            _ => None,
        }
    }

    pub(crate) fn specs(&self) -> &[&'static RouteSpec] {
        &self.specs
    }
}
