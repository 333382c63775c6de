//! Server-streaming gRPC calls.

use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context as TaskContext, Poll};
use std::time::Instant;

use futures::Stream;
use pin_project_lite::pin_project;
use tokio_util::sync::CancellationToken;
use tonic::server::{Grpc, ServerStreamingService};
use tonic_prost::ProstCodec;

use super::trailers;
use super::unary::to_tonic_response;
use super::{Body, GrpcFuture};
use crate::context::{Protocol, Request, Response, ServerStream};
use crate::invoke::{self, Deadlined, Invoke};
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
        let mut grpc = Grpc::new(ProstCodec::<Resp, Req>::default());
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
    F: FnOnce(Request<Req>) -> Fut,
    Fut: Future<Output = Result<Response<ServerStream<Resp>>, Status>>,
{
    type Response = Resp;
    type ResponseStream = TonicStream<Resp>;
    type Future = ToTonicStream<Fut>;

    fn call(&mut self, request: tonic::Request<Req>) -> Self::Future {
        let Some(call) = self.call.take() else {
            return ToTonicStream {
                invoke: Invoke::rejected(Status::internal("streaming handler called twice")),
                deadline: None,
                shutdown: None,
                token: None,
            };
        };
        let (metadata, extensions, message) = request.into_parts();
        match invoke::call_context(
            Protocol::Grpc,
            self.method,
            self.policy,
            metadata.into_headers(),
            extensions,
        ) {
            Ok(setup) => {
                let token = setup.context.cancellation().clone();
                ToTonicStream {
                    invoke: Invoke::running(
                        call(Request::from_parts(message, setup.context)),
                        setup.deadline,
                        &token,
                    ),
                    deadline: setup.deadline,
                    shutdown: setup.shutdown,
                    token: Some(token),
                }
            }
            Err(status) => ToTonicStream {
                invoke: Invoke::rejected(status),
                deadline: None,
                shutdown: None,
                token: None,
            },
        }
    }
}

pin_project! {
    /// Waits for the handler to return its stream, then puts the stream under the deadline.
    pub(crate) struct ToTonicStream<Fut> {
        #[pin]
        invoke: Invoke<Fut>,
        deadline: Option<Instant>,
        shutdown: Option<CancellationToken>,
        token: Option<CancellationToken>,
    }
}

impl<Fut, Resp> Future for ToTonicStream<Fut>
where
    Fut: Future<Output = Result<Response<ServerStream<Resp>>, Status>>,
{
    type Output = Result<tonic::Response<TonicStream<Resp>>, tonic::Status>;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let outcome = ready!(this.invoke.poll(cx));
        Poll::Ready(match outcome {
            Ok(response) => {
                let guard = this.token.take().map(CancellationToken::drop_guard);
                let deadline = *this.deadline;
                let shutdown = this.shutdown.take();
                Ok(to_tonic_response(response.map(|stream| TonicStream {
                    inner: Deadlined::new(stream, deadline, shutdown, guard),
                })))
            }
            Err(status) => Err(status.into()),
        })
    }
}

pin_project! {
    /// The handler's stream with errors converted to `tonic::Status`.
    pub struct TonicStream<T> {
        #[pin]
        inner: Deadlined<ServerStream<T>>,
    }
}

impl<T> Stream for TonicStream<T> {
    type Item = Result<T, tonic::Status>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Option<Self::Item>> {
        let item = ready!(self.project().inner.poll_next(cx));
        Poll::Ready(item.map(|r| r.map_err(tonic::Status::from)))
    }
}
