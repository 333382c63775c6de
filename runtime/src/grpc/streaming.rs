//! Server-streaming gRPC calls.

use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context as TaskContext, Poll};

use futures::Stream;
use tonic::server::ServerStreamingService;

use super::trailers;
use super::unary::to_tonic_response;
use super::{Body, GrpcFuture};
use crate::context::{Request, Response, ServerStream};
use crate::invoke::{self, CallFuture};
use crate::method::{MethodInfo, MethodPolicy};
use crate::status::Status;

/// Serves one server-streaming call: the handler returns a [`ServerStream`] whose items are sent
/// as they come; the deadline covers the whole stream, and a client that resets the stream
/// cancels the handler (its stream is dropped and the context's token fires).
pub fn server_streaming<Req, Resp, F, Fut>(
    request: http::Request<Body>,
    method: &'static MethodInfo,
    policy: Option<&'static MethodPolicy>,
    call: F,
) -> GrpcFuture
where
    Req: prost::Message + Default + Send + 'static,
    Resp: prost::Message + Send + 'static,
    F: FnOnce(Request<Req>) -> Fut + Send + 'static,
    Fut: Future<Output = Result<Response<ServerStream<Resp>>, Status>> + Send + 'static,
{
    Box::pin(async move {
        let mut grpc = super::framing::<Req, Resp>(&request);
        let service = StreamingCall {
            call: Some(call),
            method,
            policy,
        };
        Ok(trailers::attach(
            grpc.server_streaming(service, request).await,
        ))
    })
}

struct StreamingCall<F> {
    call: Option<F>,
    method: &'static MethodInfo,
    policy: Option<&'static MethodPolicy>,
}

impl<Req, Resp, F, Fut> ServerStreamingService<Req> for StreamingCall<F>
where
    Req: Send + 'static,
    Resp: Send + 'static,
    F: FnOnce(Request<Req>) -> Fut + Send + 'static,
    Fut: Future<Output = Result<Response<ServerStream<Resp>>, Status>> + Send + 'static,
{
    type Response = Resp;
    type ResponseStream = TonicStream<Resp>;
    type Future = ToTonicStream<Resp>;

    fn call(&mut self, request: tonic::Request<Req>) -> Self::Future {
        let outcome = match self.call.take() {
            Some(call) => {
                let (parts, message) = super::call_parts(request, self.method, self.policy);
                invoke::server_streaming(parts, move || Ok(message), call)
            }
            // tonic calls a service once per request; a second call is a bug, answered cleanly.
            None => Box::pin(std::future::ready(Err(Status::internal(
                "streaming handler called twice",
            )))),
        };
        ToTonicStream::new(outcome)
    }
}

/// Waits for the handler's stream (already under the call's deadline) and hands it to tonic.
pub(crate) struct ToTonicStream<Resp> {
    outcome: CallFuture<ServerStream<Resp>>,
}

impl<Resp> ToTonicStream<Resp> {
    pub(super) fn new(outcome: CallFuture<ServerStream<Resp>>) -> Self {
        Self { outcome }
    }
}

impl<Resp> Future for ToTonicStream<Resp> {
    type Output = Result<tonic::Response<TonicStream<Resp>>, tonic::Status>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let outcome = ready!(self.outcome.as_mut().poll(cx));
        Poll::Ready(match outcome {
            Ok(response) => Ok(to_tonic_response(
                response.map(|inner| TonicStream { inner }),
            )),
            Err(status) => Err(status.into()),
        })
    }
}

/// The handler's stream with errors converted to `tonic::Status`.
pub struct TonicStream<T> {
    inner: ServerStream<T>,
}

impl<T> Stream for TonicStream<T> {
    type Item = Result<T, tonic::Status>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Option<Self::Item>> {
        let item = ready!(self.inner.as_mut().poll_next(cx));
        Poll::Ready(item.map(|r| r.map_err(tonic::Status::from)))
    }
}
