//! One REST call: the matched route's inputs ([`RestCall`]) and the handler constructors the
//! generated route table is built from ([`unary`], [`server_streaming`]).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use http::StatusCode;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::query::{apply_query, QueryFields};
use super::route::RouteSpec;
use super::stream::{self, StreamFormat};
use super::value::FromParam;
use super::{json, response};
use crate::context::{Protocol, Request, Response, ServerStream};
use crate::grpc::Body;
use crate::invoke::{self, Deadlined, Invoke};
use crate::json::generated::Codec;
use crate::json::JsonOptions;
use crate::method::MethodPolicy;
use crate::status::Status;

/// The future a REST handler returns.
pub type RestFuture = Pin<Box<dyn Future<Output = http::Response<Body>> + Send + 'static>>;

/// A REST handler: one per route, built by [`unary`] or [`server_streaming`].
pub type RestHandler = Arc<dyn Fn(RestCall) -> RestFuture + Send + Sync + 'static>;

/// The inputs of a matched REST request, from which generated code builds the request message.
#[derive(Debug)]
pub struct RestCall {
    pub(crate) parts: http::request::Parts,
    pub(crate) body: Bytes,
    pub(crate) vars: Vec<String>,
    pub(crate) route: &'static RouteSpec,
    pub(crate) json: JsonOptions,
}

impl RestCall {
    /// The route that matched.
    pub fn route(&self) -> &'static RouteSpec {
        self.route
    }

    /// Request headers.
    pub fn headers(&self) -> &http::HeaderMap {
        &self.parts.headers
    }

    fn body_is_empty(&self) -> bool {
        self.body.iter().all(u8::is_ascii_whitespace)
    }

    /// For `body: "*"`: the whole message from the body; an empty body means `{}`.
    pub fn body_message<T: DeserializeOwned>(&self) -> Result<T, Status> {
        if self.body_is_empty() {
            return json::decode(b"{}", None, self.json);
        }
        json::decode(&self.body, None, self.json)
    }

    /// For `body: "field"` with a message field: its value from the body; `None` for an empty
    /// body.
    pub fn body_field<T: DeserializeOwned>(&self, field: &str) -> Result<Option<T>, Status> {
        if self.body_is_empty() {
            return Ok(None);
        }
        json::decode(&self.body, Some(field), self.json).map(Some)
    }

    /// For `body: "field"` with any field: its value through the field's proto3 JSON codec
    /// (64-bit integers as strings, enums by name, ...); `None` for an empty body or `null`.
    pub fn body_field_as<C: Codec>(&self, field: &'static str) -> Result<Option<C::Value>, Status> {
        if self.body_is_empty() {
            return Ok(None);
        }
        json::decode_field::<C>(&self.body, field, self.json)
    }

    /// Sets fields from the query string, skipping `excluded` top-level names (the body field).
    pub fn apply_query<M: QueryFields>(
        &self,
        message: &mut M,
        excluded: &[&str],
    ) -> Result<(), Status> {
        match self.parts.uri.query() {
            Some(query) => apply_query(message, query, excluded),
            None => Ok(()),
        }
    }

    /// The `index`-th path variable, parsed as the bound field's type; `field` names it in errors.
    pub fn path_var<T: FromParam>(&self, index: usize, field: &str) -> Result<T, Status> {
        let raw = self
            .vars
            .get(index)
            .ok_or_else(|| Status::internal(format!("route has no path variable {index}")))?;
        T::from_param(raw).map_err(|why| Status::invalid_field(field, why))
    }

    /// The `index`-th path variable as an enum, by name or number.
    pub fn path_enum<E: Into<i32>>(
        &self,
        index: usize,
        field: &str,
        from_name: fn(&str) -> Option<E>,
    ) -> Result<i32, Status> {
        let raw = self
            .vars
            .get(index)
            .ok_or_else(|| Status::internal(format!("route has no path variable {index}")))?;
        super::value::parse_enum(raw, from_name).map_err(|why| Status::invalid_field(field, why))
    }
}

fn rejected(status: Status) -> RestFuture {
    Box::pin(std::future::ready(response::error(status)))
}

/// A unary route: `build` makes the request message, `call` runs the handler, `project` picks
/// what is sent (`response_body`, or the whole message).
pub fn unary<T, Req, Resp, Out, F, Fut>(
    handler: Arc<T>,
    policy: Option<&'static MethodPolicy>,
    build: fn(&RestCall) -> Result<Req, Status>,
    call: F,
    project: fn(Resp) -> Out,
) -> RestHandler
where
    T: Send + Sync + 'static,
    Req: Send + 'static,
    Resp: Send + 'static,
    Out: Serialize + 'static,
    F: Fn(Arc<T>, Request<Req>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Response<Resp>, Status>> + Send + 'static,
{
    Arc::new(move |rest: RestCall| -> RestFuture {
        let message = match build(&rest) {
            Ok(message) => message,
            Err(status) => return rejected(status),
        };
        let method = rest.route.rpc;
        let options = rest.json;
        let handler = Arc::clone(&handler);
        let invoke = invoke::start(
            |request| call(handler, request),
            Protocol::Rest,
            method,
            policy,
            rest.parts.headers,
            rest.parts.extensions,
            message,
        );
        Box::pin(async move {
            match invoke.await {
                Ok(response) => {
                    let (message, headers, trailers) = response.into_parts();
                    match json::encode(&project(message), options) {
                        Ok(body) => response::json(StatusCode::OK, body, headers, &trailers),
                        Err(status) => response::error(status),
                    }
                }
                Err(status) => response::error(status),
            }
        })
    })
}

/// A server-streaming route: SSE or NDJSON by `Accept` (see [`stream`](super::stream)).
pub fn server_streaming<T, Req, Resp, Out, F, Fut>(
    handler: Arc<T>,
    policy: Option<&'static MethodPolicy>,
    build: fn(&RestCall) -> Result<Req, Status>,
    call: F,
    project: fn(Resp) -> Out,
) -> RestHandler
where
    T: Send + Sync + 'static,
    Req: Send + 'static,
    Resp: Send + 'static,
    Out: Serialize + 'static,
    F: Fn(Arc<T>, Request<Req>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Response<ServerStream<Resp>>, Status>> + Send + 'static,
{
    Arc::new(move |rest: RestCall| -> RestFuture {
        let message = match build(&rest) {
            Ok(message) => message,
            Err(status) => return rejected(status),
        };
        let format = StreamFormat::from_accept(&rest.parts.headers);
        let options = rest.json;
        let setup = match invoke::call_context(
            Protocol::Rest,
            rest.route.rpc,
            policy,
            rest.parts.headers,
            rest.parts.extensions,
        ) {
            Ok(setup) => setup,
            Err(status) => return rejected(status),
        };
        let (deadline, shutdown) = (setup.deadline, setup.shutdown);
        let token = setup.context.cancellation().clone();
        let invoke: Invoke<Fut> = Invoke::running(
            call(
                Arc::clone(&handler),
                Request::from_parts(message, setup.context),
            ),
            deadline,
            &token,
        );
        Box::pin(async move {
            match invoke.await {
                Ok(response) => {
                    let (stream, headers, trailers) = response.into_parts();
                    let guarded =
                        Deadlined::new(stream, deadline, shutdown, Some(token.drop_guard()));
                    stream::response(format, options, guarded, project, headers, &trailers)
                }
                Err(status) => response::error(status),
            }
        })
    })
}
