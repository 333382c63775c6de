//! Unary gRPC calls.

use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context as TaskContext, Poll};

use pin_project_lite::pin_project;
use tonic::metadata::MetadataMap;
use tonic::server::{Grpc, UnaryService};
use tonic_prost::ProstCodec;

use super::trailers::{self, ExtraTrailers};
use super::{Body, GrpcFuture};
use crate::context::{Protocol, Request, Response};
use crate::invoke::{self, Invoke};
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
    Resp: prost::Message + Send + 'static,
    F: FnOnce(Request<Req>) -> Fut + Send + 'static,
    Fut: Future<Output = Result<Response<Resp>, Status>> + Send + 'static,
{
    Box::pin(async move {
        let mut grpc = Grpc::new(ProstCodec::<Resp, Req>::default());
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
    Req: Send + 'static,
    Resp: Send + 'static,
    F: FnOnce(Request<Req>) -> Fut,
    Fut: Future<Output = Result<Response<Resp>, Status>>,
{
    type Response = Resp;
    type Future = ToTonic<Fut>;

    fn call(&mut self, request: tonic::Request<Req>) -> Self::Future {
        let invoke = match self.call.take() {
            Some(call) => {
                let (metadata, extensions, message) = request.into_parts();
                invoke::start(
                    call,
                    Protocol::Grpc,
                    self.method,
                    self.policy,
                    metadata.into_headers(),
                    extensions,
                    message,
                )
            }
            None => Invoke::rejected(Status::internal("unary handler called twice")),
        };
        ToTonic { invoke }
    }
}

pin_project! {
    /// Maps the handler's outcome to tonic's response types.
    pub(crate) struct ToTonic<Fut> {
        #[pin]
        invoke: Invoke<Fut>,
    }
}

impl<Fut, Resp> Future for ToTonic<Fut>
where
    Fut: Future<Output = Result<Response<Resp>, Status>>,
{
    type Output = Result<tonic::Response<Resp>, tonic::Status>;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let outcome = ready!(self.project().invoke.poll(cx));
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
