//! Client-streaming and bidirectional gRPC calls: the handler reads the request messages as a
//! [`RequestStream`] while they arrive.

use std::future::Future;

use futures::StreamExt;
use tonic::server::{ClientStreamingService, StreamingService};

use super::streaming::{ToTonicStream, TonicStream};
use super::trailers;
use super::unary::ToTonic;
use super::{Body, GrpcFuture};
use crate::context::{Request, RequestStream, Response, ServerStream};
use crate::invoke;
use crate::method::{MethodInfo, MethodPolicy};
use crate::status::Status;

/// Serves one client-streaming call: the handler gets the request messages as they arrive and
/// answers once. The deadline covers reading them; a client that resets the stream cancels the
/// handler.
pub fn client_streaming<Req, Resp, F, Fut>(
    request: http::Request<Body>,
    method: &'static MethodInfo,
    policy: Option<&'static MethodPolicy>,
    call: F,
) -> GrpcFuture
where
    Req: prost::Message + Default + Send + 'static,
    Resp: prost::Message + Default + Send + 'static,
    F: FnOnce(Request<RequestStream<Req>>) -> Fut + Send + 'static,
    Fut: Future<Output = Result<Response<Resp>, Status>> + Send + 'static,
{
    Box::pin(async move {
        let mut grpc = super::framing::<Req, Resp>(&request);
        let service = StreamCall {
            call: Some(call),
            method,
            policy,
        };
        Ok(trailers::attach(
            grpc.client_streaming(service, request).await,
        ))
    })
}

/// Serves one bidirectional call: request messages in as they arrive, response messages out as
/// the handler yields them, both under the call's deadline.
pub fn bidi_streaming<Req, Resp, F, Fut>(
    request: http::Request<Body>,
    method: &'static MethodInfo,
    policy: Option<&'static MethodPolicy>,
    call: F,
) -> GrpcFuture
where
    Req: prost::Message + Default + Send + 'static,
    Resp: prost::Message + Default + Send + 'static,
    F: FnOnce(Request<RequestStream<Req>>) -> Fut + Send + 'static,
    Fut: Future<Output = Result<Response<ServerStream<Resp>>, Status>> + Send + 'static,
{
    Box::pin(async move {
        let mut grpc = super::framing::<Req, Resp>(&request);
        let service = StreamCall {
            call: Some(call),
            method,
            policy,
        };
        Ok(trailers::attach(grpc.streaming(service, request).await))
    })
}

/// One call whose requests arrive as tonic's stream.
struct StreamCall<F> {
    // tonic calls the service once per request; the closure is consumed then.
    call: Option<F>,
    method: &'static MethodInfo,
    policy: Option<&'static MethodPolicy>,
}

impl<F> StreamCall<F> {
    /// The call's parts and its request messages as a [`RequestStream`].
    fn split<Req: Send + 'static>(
        &self,
        request: tonic::Request<tonic::Streaming<Req>>,
    ) -> (invoke::CallParts, RequestStream<Req>) {
        let (parts, messages) = super::call_parts(request, self.method, self.policy);
        let messages: RequestStream<Req> =
            Box::pin(messages.map(|item| item.map_err(Status::from)));
        (parts, messages)
    }
}

fn called_twice<T: Send + 'static>() -> invoke::CallFuture<T> {
    Box::pin(std::future::ready(Err(Status::internal(
        "streaming handler called twice",
    ))))
}

impl<Req, Resp, F, Fut> ClientStreamingService<Req> for StreamCall<F>
where
    Req: Send + 'static,
    Resp: Send + 'static,
    F: FnOnce(Request<RequestStream<Req>>) -> Fut + Send + 'static,
    Fut: Future<Output = Result<Response<Resp>, Status>> + Send + 'static,
{
    type Response = Resp;
    type Future = ToTonic<Resp>;

    fn call(&mut self, request: tonic::Request<tonic::Streaming<Req>>) -> Self::Future {
        let outcome = match self.call.take() {
            Some(call) => {
                let (parts, messages) = self.split(request);
                invoke::client_streaming(parts, move || Ok(messages), call)
            }
            None => called_twice(),
        };
        ToTonic::new(outcome)
    }
}

impl<Req, Resp, F, Fut> StreamingService<Req> for StreamCall<F>
where
    Req: Send + 'static,
    Resp: Send + 'static,
    F: FnOnce(Request<RequestStream<Req>>) -> Fut + Send + 'static,
    Fut: Future<Output = Result<Response<ServerStream<Resp>>, Status>> + Send + 'static,
{
    type Response = Resp;
    type ResponseStream = TonicStream<Resp>;
    type Future = ToTonicStream<Resp>;

    fn call(&mut self, request: tonic::Request<tonic::Streaming<Req>>) -> Self::Future {
        let outcome = match self.call.take() {
            Some(call) => {
                let (parts, messages) = self.split(request);
                invoke::server_streaming(parts, move || Ok(messages), call)
            }
            None => called_twice(),
        };
        ToTonicStream::new(outcome)
    }
}
