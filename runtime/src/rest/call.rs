//! One REST call: the matched route's inputs ([`RestCall`]) and the handler constructors the
//! generated route table is built from ([`unary`], [`server_streaming`], [`client_streaming`],
//! [`bidi_streaming`]).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use futures::StreamExt;
use http::StatusCode;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::query::{apply_query, QueryFields};
use super::route::{BodySelector, RouteSpec};
use super::stream::{self, StreamFormat};
use super::value::FromParam;
use super::websocket;
use super::{json, lines, mask, raw, response};
use crate::context::{Protocol, Request, RequestStream, Response, ServerStream};
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
    /// The unread body of a streamed request (NDJSON lines), taken by the request stream.
    pub(crate) incoming: Option<Body>,
    pub(crate) vars: Vec<String>,
    pub(crate) route: &'static RouteSpec,
    pub(crate) json: JsonOptions,
    /// The largest body (one line of a streamed body) the server reads.
    pub(crate) max_line: usize,
    /// A WebSocket handshake on a streaming route: the call runs on the socket.
    pub(crate) websocket: Option<websocket::Upgrade>,
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

    /// For a `google.api.HttpBody` request body: the body raw, with the request's
    /// `Content-Type` (empty when it sent none).
    pub fn http_body(&self) -> crate::HttpBody {
        let content_type = self
            .parts
            .headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default();
        crate::HttpBody::new(content_type, self.body.to_vec())
    }

    /// For a PATCH whose client sent no update mask: the leaf paths of the JSON keys in the body
    /// (a `message` per `descriptor_set`), relative to it; `None` for an empty body.
    pub fn implied_mask(
        &self,
        descriptor_set: &'static [u8],
        message: &str,
    ) -> Result<Option<prost_types::FieldMask>, Status> {
        if self.body_is_empty() {
            return Ok(None);
        }
        let body: serde_json::Value = serde_json::from_slice(&self.body).map_err(|err| {
            Status::invalid_argument(format!("request body is not valid JSON: {err}"))
        })?;
        let Some(object) = body.as_object() else {
            return Ok(None);
        };
        Ok(mask::implied_paths(object, descriptor_set, message)
            .map(|paths| prost_types::FieldMask { paths }))
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
    /// Splits the call into what the policy stack needs and what the message builders read.
    fn split(self, policy: Option<&'static MethodPolicy>) -> (CallParts, Inputs, Bytes) {
        let RestCall {
            parts,
            body,
            incoming,
            vars,
            route,
            json,
            max_line,
            websocket: _,
        } = self;
        let http::request::Parts {
            method,
            uri,
            version,
            headers,
            extensions,
            ..
        } = parts;
        // A raw (HttpBody) body is built with its content type; nothing else reads headers.
        let content_type = if route.raw_request {
            headers.get(http::header::CONTENT_TYPE).cloned()
        } else {
            None
        };
        let call_parts = CallParts {
            protocol: Protocol::Rest,
            method: route.rpc,
            policy,
            headers,
            extensions,
        };
        let inputs = Inputs {
            method,
            uri,
            version,
            content_type,
            vars,
            route,
            json,
            incoming,
            max_line,
        };
        (call_parts, inputs, body)
    }

    /// The call's parts and a builder of the request message, run only once the call is
    /// admitted.
    fn into_pipeline<Req: 'static>(
        self,
        policy: Option<&'static MethodPolicy>,
        build: fn(&RestCall) -> Result<Req, Status>,
    ) -> (
        CallParts,
        impl FnOnce() -> Result<Req, Status> + Send + 'static,
    ) {
        let (call_parts, inputs, body) = self.split(policy);
        (call_parts, move || build(&inputs.call(body)))
    }

    /// The call's parts and a builder of the request stream: each NDJSON line of the body is
    /// built into a message as a `body: "*"` request would be.
    fn into_stream_pipeline<Req: Send + 'static>(
        self,
        policy: Option<&'static MethodPolicy>,
        build: fn(&RestCall) -> Result<Req, Status>,
    ) -> (
        CallParts,
        impl FnOnce() -> Result<RequestStream<Req>, Status> + Send + 'static,
    ) {
        let (call_parts, mut inputs, _) = self.split(policy);
        let stream = move || {
            let body = inputs.incoming.take().unwrap_or_else(Body::empty);
            let max_line = inputs.max_line;
            Ok(lines::request_lines(body, max_line, move |line| {
                build(&inputs.call(line))
            }))
        };
        (call_parts, stream)
    }
}

/// What the generated message builders read of a call: the URI, path variables, options and
/// (per message) a body.
struct Inputs {
    method: http::Method,
    uri: http::Uri,
    version: http::Version,
    content_type: Option<http::HeaderValue>,
    vars: Vec<String>,
    route: &'static RouteSpec,
    json: JsonOptions,
    incoming: Option<Body>,
    max_line: usize,
}

impl Inputs {
    fn call(&self, body: Bytes) -> RestCall {
        let mut request = http::Request::new(());
        *request.method_mut() = self.method.clone();
        *request.uri_mut() = self.uri.clone();
        *request.version_mut() = self.version;
        if let Some(content_type) = &self.content_type {
            request
                .headers_mut()
                .insert(http::header::CONTENT_TYPE, content_type.clone());
        }
        let (parts, ()) = request.into_parts();
        RestCall {
            parts,
            body,
            incoming: None,
            vars: self.vars.clone(),
            route: self.route,
            json: self.json,
            max_line: self.max_line,
            websocket: None,
        }
    }
}

/// Runs a call with a request stream on a WebSocket: `start` gets the call's parts and its
/// request messages, each text frame built like a `body: "*"` request.
fn on_websocket<Req, Resp, Out>(
    rest: RestCall,
    upgrade: websocket::Upgrade,
    policy: Option<&'static MethodPolicy>,
    build: fn(&RestCall) -> Result<Req, Status>,
    project: fn(Resp) -> Out,
    start: impl FnOnce(CallParts, RequestStream<Req>) -> websocket::Session<Resp> + Send + 'static,
) -> RestFuture
where
    Req: Send + 'static,
    Resp: Send + 'static,
    Out: Serialize + 'static,
{
    let (options, max) = (rest.json, rest.max_line);
    let (parts, inputs, _) = rest.split(policy);
    upgraded(websocket::accept(
        upgrade,
        max,
        options,
        project,
        move |frames| {
            let messages = Box::pin(frames.enumerate().map(move |(index, frame)| {
                let body = frame?;
                build(&inputs.call(body))
                    .map_err(|status| lines::numbered("frame", index + 1, status))
            }));
            start(parts, messages)
        },
    ))
}

/// A WebSocket call's answer while its socket runs: the handshake's response.
fn upgraded(response: http::Response<Body>) -> RestFuture {
    Box::pin(std::future::ready(response))
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
        Box::pin(async move { reply(outcome.await, project, options) })
    })
}

/// A client-streaming route: the body is NDJSON, one request message per line, read while the
/// handler runs; a bad line ends the stream with an error naming it.
pub fn client_streaming<T, Req, Resp, Out, F, Fut>(
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
    F: Fn(Arc<T>, Request<RequestStream<Req>>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Response<Resp>, Status>> + Send + 'static,
{
    let call = Arc::new(call);
    Arc::new(move |mut rest: RestCall| -> RestFuture {
        if let Some(upgrade) = rest.websocket.take() {
            let (handler, call) = (Arc::clone(&handler), Arc::clone(&call));
            return on_websocket(
                rest,
                upgrade,
                policy,
                build,
                project,
                move |parts, messages| {
                    let outcome = invoke::client_streaming(
                        parts,
                        move || Ok(messages),
                        move |request| call(handler, request),
                    );
                    Box::pin(async move {
                        let message = outcome.await?.into_message();
                        let one: ServerStream<Resp> =
                            Box::pin(futures::stream::once(async move { Ok(message) }));
                        Ok(one)
                    })
                },
            );
        }
        let options = rest.json;
        let (parts, build) = rest.into_stream_pipeline(policy, build);
        let handler = Arc::clone(&handler);
        let call = Arc::clone(&call);
        let outcome = invoke::client_streaming(parts, build, move |request| call(handler, request));
        Box::pin(async move { reply(outcome.await, project, options) })
    })
}

/// A bidirectional route: NDJSON request lines in, the response stream out as SSE or NDJSON by
/// `Accept`, both at once.
pub fn bidi_streaming<T, Req, Resp, Out, F, Fut>(
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
    F: Fn(Arc<T>, Request<RequestStream<Req>>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Response<ServerStream<Resp>>, Status>> + Send + 'static,
{
    let call = Arc::new(call);
    Arc::new(move |mut rest: RestCall| -> RestFuture {
        if let Some(upgrade) = rest.websocket.take() {
            let (handler, call) = (Arc::clone(&handler), Arc::clone(&call));
            return on_websocket(
                rest,
                upgrade,
                policy,
                build,
                project,
                move |parts, messages| {
                    let outcome = invoke::server_streaming(
                        parts,
                        move || Ok(messages),
                        move |request| call(handler, request),
                    );
                    Box::pin(async move { outcome.await.map(Response::into_message) })
                },
            );
        }
        let format = StreamFormat::from_accept(&rest.parts.headers);
        let options = rest.json;
        let (parts, build) = rest.into_stream_pipeline(policy, build);
        let handler = Arc::clone(&handler);
        let call = Arc::clone(&call);
        let outcome = invoke::server_streaming(parts, build, move |request| call(handler, request));
        Box::pin(async move { reply_stream(outcome.await, format, project, options).await })
    })
}

/// The HTTP response of a call answering one message: JSON, or an `HttpBody` raw.
fn reply<Resp, Out: Serialize + 'static>(
    outcome: Result<Response<Resp>, Status>,
    project: fn(Resp) -> Out,
    options: JsonOptions,
) -> http::Response<Body> {
    match outcome {
        Ok(response) => {
            let (message, headers, trailers) = response.into_parts();
            let out = match raw::into_http_body(project(message)) {
                Ok(body) => return raw::answer(body, headers, &trailers),
                Err(out) => out,
            };
            match json::encode(&out, options) {
                Ok(body) => response::json(StatusCode::OK, body, headers, &trailers),
                Err(status) => response::error(status),
            }
        }
        Err(status) => response::error(status),
    }
}

/// The HTTP response of a call answering a stream: SSE or NDJSON, or `HttpBody` chunks raw.
async fn reply_stream<Resp: Send + 'static, Out: Serialize + 'static>(
    outcome: Result<Response<ServerStream<Resp>>, Status>,
    format: StreamFormat,
    project: fn(Resp) -> Out,
    options: JsonOptions,
) -> http::Response<Body> {
    match outcome {
        Ok(response) => {
            let (stream, headers, trailers) = response.into_parts();
            if raw::is_http_body::<Out>() {
                return raw::stream(stream, project, headers, &trailers).await;
            }
            stream::response(format, options, stream, project, headers, &trailers)
        }
        Err(status) => response::error(status),
    }
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
    Arc::new(move |mut rest: RestCall| -> RestFuture {
        if let Some(upgrade) = rest.websocket.take() {
            let (options, max) = (rest.json, rest.max_line);
            // A binding with a body reads the request from the first frame.
            let from_frame = rest.route.body != BodySelector::None;
            let (parts, inputs, _) = rest.split(policy);
            let (handler, call) = (Arc::clone(&handler), Arc::clone(&call));
            return upgraded(websocket::accept(
                upgrade,
                max,
                options,
                project,
                move |mut frames| {
                    Box::pin(async move {
                        let first = if from_frame {
                            frames.next().await
                        } else {
                            None
                        };
                        let body = match first {
                            Some(frame) => frame?,
                            None => Bytes::new(),
                        };
                        let build = move || {
                            build(&inputs.call(body))
                                .map_err(|status| lines::numbered("frame", 1, status))
                        };
                        let outcome = invoke::server_streaming(parts, build, move |request| {
                            call(handler, request)
                        });
                        outcome.await.map(Response::into_message)
                    })
                },
            ));
        }
        let format = StreamFormat::from_accept(&rest.parts.headers);
        let options = rest.json;
        let (parts, build) = rest.into_pipeline(policy, build);
        let handler = Arc::clone(&handler);
        let call = Arc::clone(&call);
        let outcome = invoke::server_streaming(parts, build, move |request| call(handler, request));
        Box::pin(async move { reply_stream(outcome.await, format, project, options).await })
    })
}
