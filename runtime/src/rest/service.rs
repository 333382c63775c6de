//! The REST side of the server: route, read the body (bounded), call the route's handler.

use http::StatusCode;
use http_body_util::{BodyExt, Limited};

use super::call::{RestCall, RestHandler};
use super::response;
use super::route::{BodySelector, RouteSpec};
use super::router::{Routed, Router};
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
        let (parts, body) = request.into_parts();
        let (index, vars) = match self.router.route(&parts.method, parts.uri.path()) {
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
        let streams_requests = matches!(
            route.rpc.kind,
            MethodKind::ClientStreaming | MethodKind::BidiStreaming
        );
        let (body, incoming) = if streams_requests {
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
        };
        (self.handlers[index])(call).await
    }

    pub(crate) fn specs(&self) -> &[&'static RouteSpec] {
        &self.specs
    }
}
