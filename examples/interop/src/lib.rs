//! The gRPC interop test service, `grpc.testing.TestService`, served by Tacos.
//!
//! gRPC's interop suite is how implementations prove they speak the same protocol: an interop
//! client from another implementation (tonic's, grpc-go's) calls this server and checks each
//! case. The contract in `proto/grpc/testing/` is expanded in place by
//! [`tacos_runtime::contract!`]; [`Interop`] implements it, and `interop-server` serves it on a
//! loopback port (10000 unless `--port` says otherwise), the address interop clients dial.
//!
//! `grpc.testing.UnimplementedService` is in the contract but deliberately not served, so a
//! call to it tests the server's answer to an unknown service.
#![deny(missing_docs)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures::{Stream, StreamExt};
use http::HeaderMap;
use tacos_runtime::server::{Listeners, Server};
use tacos_runtime::{Code, Request, RequestStream, Response, ServerStream, Status};

// Generated items carry docs only where the `.proto` has a comment.
#[allow(missing_docs)]
mod contract {
    tacos_runtime::contract!(root = "proto", files = ["grpc/testing/test.proto"]);
}

pub use contract::{grpc, FILE_DESCRIPTOR_SET};

use grpc::testing::{
    test_service, EchoStatus, Empty, Payload, ResponseParameters, SimpleRequest, SimpleResponse,
    StreamingInputCallRequest, StreamingInputCallResponse, StreamingOutputCallRequest,
    StreamingOutputCallResponse, TestService,
};

/// Request metadata the interop client asks to get back as a response header.
pub const ECHO_INITIAL: &str = "x-grpc-test-echo-initial";
/// Request metadata the interop client asks to get back as a trailer.
pub const ECHO_TRAILING: &str = "x-grpc-test-echo-trailing-bin";

/// The interop test handler.
#[derive(Debug, Clone, Copy, Default)]
pub struct Interop;

/// Serves [`Interop`] on `listener` until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let server = Server::builder()
        .add(test_service(Arc::new(Interop)))
        .build()?;
    server.serve(Listeners::both(listener), shutdown).await?;
    Ok(())
}

/// The loopback address `interop-server` listens on for `port`.
pub fn loopback(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

/// A payload of `size` zero bytes.
fn payload(size: i32) -> Result<Payload, Status> {
    let size = usize::try_from(size)
        .map_err(|_| Status::invalid_argument(format!("payload size {size} is negative")))?;
    Ok(Payload {
        body: vec![0; size],
    })
}

/// The status a request asks the call to end with, if any.
fn asked_status(status: Option<&EchoStatus>) -> Result<(), Status> {
    match status {
        Some(echo) if echo.code != 0 => {
            Err(Status::new(Code::from_i32(echo.code), echo.message.clone()))
        }
        _ => Ok(()),
    }
}

/// The response with the metadata the client asked to have echoed.
fn echoed<T>(metadata: &HeaderMap, mut response: Response<T>) -> Response<T> {
    if let Some(value) = metadata.get(ECHO_INITIAL) {
        response.headers_mut().insert(ECHO_INITIAL, value.clone());
    }
    if let Some(value) = metadata.get(ECHO_TRAILING) {
        response.trailers_mut().insert(ECHO_TRAILING, value.clone());
    }
    response
}

/// The responses `parameters` ask for, each after its interval.
fn responses(
    parameters: Vec<ResponseParameters>,
) -> impl Stream<Item = Result<StreamingOutputCallResponse, Status>> + Send {
    futures::stream::iter(parameters).then(|parameters| async move {
        let interval = u64::try_from(parameters.interval_us).unwrap_or(0);
        if interval > 0 {
            tokio::time::sleep(Duration::from_micros(interval)).await;
        }
        Ok(StreamingOutputCallResponse {
            payload: Some(payload(parameters.size)?),
        })
    })
}

/// The responses to one duplex request, or the status it asks for.
fn answer(
    request: Result<StreamingOutputCallRequest, Status>,
) -> ServerStream<StreamingOutputCallResponse> {
    let outcome = request.and_then(|request| {
        asked_status(request.response_status.as_ref())?;
        Ok(request.response_parameters)
    });
    match outcome {
        Ok(parameters) => Box::pin(responses(parameters)),
        Err(status) => Box::pin(futures::stream::once(async move { Err(status) })),
    }
}

/// Ends `stream` after its first error, as a gRPC response stream ends.
fn until_error<T: Send + 'static>(
    stream: impl Stream<Item = Result<T, Status>> + Send + 'static,
) -> ServerStream<T> {
    let mut failed = false;
    Box::pin(stream.take_while(move |item| {
        let go_on = !failed;
        failed |= item.is_err();
        futures::future::ready(go_on)
    }))
}

impl Interop {
    fn simple(request: &SimpleRequest) -> Result<SimpleResponse, Status> {
        asked_status(request.response_status.as_ref())?;
        Ok(SimpleResponse {
            payload: Some(payload(request.response_size)?),
            ..SimpleResponse::default()
        })
    }
}

#[tacos_runtime::service(root = "proto")]
impl TestService for Interop {
    #[tacos(public)]
    async fn empty_call(&self, request: Request<Empty>) -> Result<Response<Empty>, Status> {
        Ok(echoed(request.metadata(), Response::new(Empty {})))
    }

    #[tacos(public)]
    async fn unary_call(
        &self,
        request: Request<SimpleRequest>,
    ) -> Result<Response<SimpleResponse>, Status> {
        let response = Self::simple(request.message())?;
        Ok(echoed(request.metadata(), Response::new(response)))
    }

    #[tacos(public)]
    async fn cacheable_unary_call(
        &self,
        request: Request<SimpleRequest>,
    ) -> Result<Response<SimpleResponse>, Status> {
        let response = Self::simple(request.message())?;
        Ok(echoed(request.metadata(), Response::new(response))
            .with_header("cache-control", "max-age=60"))
    }

    #[tacos(public)]
    async fn streaming_output_call(
        &self,
        request: Request<StreamingOutputCallRequest>,
    ) -> Result<Response<ServerStream<StreamingOutputCallResponse>>, Status> {
        asked_status(request.message().response_status.as_ref())?;
        let parameters = request.message().response_parameters.clone();
        let stream = until_error(responses(parameters));
        Ok(echoed(request.metadata(), Response::new(stream)))
    }

    #[tacos(public)]
    async fn streaming_input_call(
        &self,
        request: Request<RequestStream<StreamingInputCallRequest>>,
    ) -> Result<Response<StreamingInputCallResponse>, Status> {
        let metadata = request.metadata().clone();
        let mut requests = request.into_message();
        let mut size = 0usize;
        while let Some(request) = requests.next().await {
            size += request?.payload.map_or(0, |p| p.body.len());
        }
        let response = StreamingInputCallResponse {
            aggregated_payload_size: i32::try_from(size).unwrap_or(i32::MAX),
        };
        Ok(echoed(&metadata, Response::new(response)))
    }

    #[tacos(public)]
    async fn full_duplex_call(
        &self,
        request: Request<RequestStream<StreamingOutputCallRequest>>,
    ) -> Result<Response<ServerStream<StreamingOutputCallResponse>>, Status> {
        let metadata = request.metadata().clone();
        let mut requests = request.into_message();
        // A first request asking for a status gets it before any response headers, as a
        // trailers-only answer, which is what interop clients check for.
        let Some(first) = requests.next().await else {
            let none: ServerStream<StreamingOutputCallResponse> =
                Box::pin(futures::stream::empty());
            return Ok(echoed(&metadata, Response::new(none)));
        };
        let first = first?;
        asked_status(first.response_status.as_ref())?;
        let requests = futures::stream::once(async move { Ok(first) }).chain(requests);
        let answers = until_error(requests.flat_map(answer));
        Ok(echoed(&metadata, Response::new(answers)))
    }

    #[tacos(public)]
    async fn half_duplex_call(
        &self,
        request: Request<RequestStream<StreamingOutputCallRequest>>,
    ) -> Result<Response<ServerStream<StreamingOutputCallResponse>>, Status> {
        let metadata = request.metadata().clone();
        let requests: Vec<_> = request.into_message().collect().await;
        let answers = until_error(futures::stream::iter(requests).flat_map(answer));
        Ok(echoed(&metadata, Response::new(answers)))
    }

    #[tacos(public)]
    async fn unimplemented_call(
        &self,
        _request: Request<Empty>,
    ) -> Result<Response<Empty>, Status> {
        Err(Status::unimplemented(
            "grpc.testing.TestService/UnimplementedCall is not implemented, on purpose",
        ))
    }
}
