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
use crate::invoke::{self, CallParts};
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

impl RestCall {
    /// Splits the call into what the policy stack needs and a builder of the request message,
    /// run only once the call is admitted.
    fn into_pipeline<Req: 'static>(
        self,
        policy: Option<&'static MethodPolicy>,
        build: fn(&RestCall) -> Result<Req, Status>,
    ) -> (
        CallParts,
        impl FnOnce() -> Result<Req, Status> + Send + 'static,
    ) {
        let RestCall {
            parts,
            body,
            vars,
            route,
            json,
        } = self;
        let http::request::Parts {
            method,
            uri,
            version,
            headers,
            extensions,
            ..
        } = parts;
        let call_parts = CallParts {
            protocol: Protocol::Rest,
            method: route.rpc,
            policy,
            headers,
            extensions,
        };
        let build = move || {
            // The message builders read only the URI, body, path variables and options.
            let mut request = http::Request::new(());
            *request.method_mut() = method;
            *request.uri_mut() = uri;
            *request.version_mut() = version;
            let (parts, ()) = request.into_parts();
            build(&RestCall {
                parts,
                body,
                vars,
                route,
                json,
            })
        };
        (call_parts, build)
    }
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
    Req: prost::Message + Send + 'static,
    Resp: prost::Message + Default + Send + 'static,
    Out: Serialize + 'static,
    F: Fn(Arc<T>, Request<Req>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Response<Resp>, Status>> + Send + 'static,
{
    let call = Arc::new(call);
    Arc::new(move |rest: RestCall| -> RestFuture {
        let options = rest.json;
        let (parts, build) = rest.into_pipeline(policy, build);
        let handler = Arc::clone(&handler);
        let call = Arc::clone(&call);
        let outcome = invoke::unary(parts, build, move |request| call(handler, request));
        Box::pin(async move {
            match outcome.await {
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
    let call = Arc::new(call);
    Arc::new(move |rest: RestCall| -> RestFuture {
        let format = StreamFormat::from_accept(&rest.parts.headers);
        let options = rest.json;
        let (parts, build) = rest.into_pipeline(policy, build);
        let handler = Arc::clone(&handler);
        let call = Arc::clone(&call);
        let outcome = invoke::server_streaming(parts, build, move |request| call(handler, request));
        Box::pin(async move {
            match outcome.await {
                Ok(response) => {
                    let (stream, headers, trailers) = response.into_parts();
                    stream::response(format, options, stream, project, headers, &trailers)
                }
                Err(status) => response::error(status),
            }
        })
    })
}
