//! The gRPC surface: helpers the generated tonic services are built on.
//!
//! A generated service is a `tower::Service<http::Request<Body>>` that matches the request path
//! and hands the request to [`unary`], [`server_streaming`], [`client_streaming`] or
//! [`bidi_streaming`] with the handler call as a closure.
//! Those run tonic's own framing (`tonic::server::Grpc` with `tonic_prost::ProstCodec`), so the
//! wire behaviour is tonic's; what they add is the shared call model: the request becomes a
//! [`Request`](crate::Request) with its [`Context`](crate::Context) (metadata, deadline from
//! `grpc-timeout` capped by the method policy, cancellation), errors become `grpc-status`
//! with `grpc-status-details-bin`, and [`Response`](crate::Response) trailers are sent as
//! HTTP/2 trailers.

mod request_streams;
mod streaming;
mod trailers;
mod unary;

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;

pub use request_streams::{bidi_streaming, client_streaming};
pub use streaming::server_streaming;
pub use unary::unary;

/// The body type of every request and response the server handles.
pub type Body = tonic::body::Body;

/// The future a generated gRPC service returns.
pub type GrpcFuture =
    Pin<Box<dyn Future<Output = Result<http::Response<Body>, Infallible>> + Send + 'static>>;

/// A gRPC request split into what the call pipeline needs and its decoded message.
fn call_parts<Req>(
    request: tonic::Request<Req>,
    method: &'static crate::method::MethodInfo,
    policy: Option<&'static crate::method::MethodPolicy>,
) -> (crate::invoke::CallParts, Req) {
    let (metadata, extensions, message) = request.into_parts();
    let parts = crate::invoke::CallParts {
        protocol: crate::context::Protocol::Grpc,
        method,
        policy,
        headers: metadata.into_headers(),
        extensions,
    };
    (parts, message)
}

/// tonic's framing for one call, refusing request messages larger than the server accepts
/// before decoding them.
fn framing<Req, Resp>(
    request: &http::Request<Body>,
) -> tonic::server::Grpc<tonic_prost::ProstCodec<Resp, Req>>
where
    Req: prost::Message + Default + Send + 'static,
    Resp: prost::Message + Send + 'static,
{
    let max = crate::invoke::Policies::of(request.extensions()).max_message_bytes;
    tonic::server::Grpc::new(tonic_prost::ProstCodec::default()).max_decoding_message_size(max)
}

/// Answers `UNIMPLEMENTED` for a path the service does not have.
pub fn unimplemented(path: &str) -> GrpcFuture {
    let status = tonic::Status::unimplemented(format!("unknown method {path}"));
    Box::pin(std::future::ready(Ok(status.into_http())))
}
