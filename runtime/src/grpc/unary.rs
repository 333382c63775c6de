//! Unary gRPC calls.

use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context as TaskContext, Poll};

use tonic::metadata::MetadataMap;
use tonic::server::UnaryService;

use super::trailers::{self, ExtraTrailers};
use super::{Body, GrpcFuture};
use crate::context::{Request, Response};
use crate::invoke::{self, CallFuture};
use crate::method::{MethodInfo, MethodPolicy};
use crate::status::Status;

/// Serves one unary call: decodes `Req`, runs `call` under the call's deadline, encodes `Resp`.
pub fn unary<Req, Resp, F, Fut>(
    request: http::Request<Body>,
    method: &'static MethodInfo,
    policy: Option<&'static MethodPolicy>,
    call: F,
) -> GrpcFuture
where
    Req: prost::Message + Default + Send + 'static,
    Resp: prost::Message + Default + Send + 'static,
    F: FnOnce(Request<Req>) -> Fut + Send + 'static,
    Fut: Future<Output = Result<Response<Resp>, Status>> + Send + 'static,
{
    Box::pin(async move {
        let mut grpc = super::framing::<Req, Resp>(&request);
        let service = UnaryCall {
            call: Some(call),
            method,
            policy,
        };
        Ok(trailers::attach(grpc.unary(service, request).await))
    })
}

struct UnaryCall<F> {
    // tonic calls a unary service exactly once; the closure is consumed then.
    call: Option<F>,
    method: &'static MethodInfo,
    policy: Option<&'static MethodPolicy>,
}

impl<Req, Resp, F, Fut> UnaryService<Req> for UnaryCall<F>
where
    Req: prost::Message + Send + 'static,
    Resp: prost::Message + Default + Send + 'static,
    F: FnOnce(Request<Req>) -> Fut + Send + 'static,
    Fut: Future<Output = Result<Response<Resp>, Status>> + Send + 'static,
{
    type Response = Resp;
    type Future = ToTonic<Resp>;

    fn call(&mut self, request: tonic::Request<Req>) -> Self::Future {
        let outcome = match self.call.take() {
            Some(call) => {
                let (parts, message) = super::call_parts(request, self.method, self.policy);
                invoke::unary(parts, move || Ok(message), call)
            }
            // tonic calls a service once per request; a second call is a bug, answered cleanly.
            None => Box::pin(std::future::ready(Err(Status::internal(
                "unary handler called twice",
            )))),
        };
        ToTonic::new(outcome)
    }
}

/// Maps the call's outcome to tonic's response types.
pub(crate) struct ToTonic<Resp> {
    outcome: CallFuture<Resp>,
}

impl<Resp> ToTonic<Resp> {
    pub(super) fn new(outcome: CallFuture<Resp>) -> Self {
        Self { outcome }
    }
}

impl<Resp> Future for ToTonic<Resp> {
    type Output = Result<tonic::Response<Resp>, tonic::Status>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let outcome = ready!(self.outcome.as_mut().poll(cx));
        Poll::Ready(match outcome {
            Ok(response) => Ok(to_tonic_response(response)),
            Err(status) => Err(status.into()),
        })
    }
}

pub(super) fn to_tonic_response<T>(response: Response<T>) -> tonic::Response<T> {
    let (message, headers, trailers) = response.into_parts();
    let mut extensions = http::Extensions::new();
    if !trailers.is_empty() {
        extensions.insert(ExtraTrailers(trailers));
    }
    tonic::Response::from_parts(MetadataMap::from_headers(headers), message, extensions)
}
