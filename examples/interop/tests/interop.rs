//! The gRPC interop cases, as the interop spec describes each, driven through Tacos' own
//! generated gRPC client against the interop server on a loopback port. (gRPC's and tonic's
//! interop clients run against the same server outside the test command; see the README.)

use std::time::{Duration, Instant};

use futures::StreamExt;
use tacos_interop::grpc::testing::{
    EchoStatus, Empty, Payload, ResponseParameters, SimpleRequest, StreamingInputCallRequest,
    StreamingOutputCallRequest, TestService, TestServiceClient, UnimplementedService,
    UnimplementedServiceClient,
};
use tacos_interop::{ECHO_INITIAL, ECHO_TRAILING};
use tacos_runtime::client::GrpcTransport;
use tacos_runtime::{request_stream, request_stream_of, Code, Request, Status};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

/// The interop server on a free loopback port; stopped when dropped.
struct Interop {
    transport: GrpcTransport,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl Interop {
    async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(tacos_interop::serve(listener, async {
            let _ = stopped.await;
        }));
        let transport = GrpcTransport::builder(address).build().unwrap();
        Self {
            transport,
            _stop: stop,
        }
    }

    fn client(&self) -> TestServiceClient {
        TestServiceClient::new(self.transport.clone())
    }
}

fn zeros(size: usize) -> Option<Payload> {
    Some(Payload {
        body: vec![0; size],
    })
}

fn duplex_request(response_size: i32, payload_size: usize) -> StreamingOutputCallRequest {
    StreamingOutputCallRequest {
        response_parameters: vec![ResponseParameters {
            size: response_size,
            ..ResponseParameters::default()
        }],
        payload: zeros(payload_size),
        ..StreamingOutputCallRequest::default()
    }
}

fn body_len(payload: Option<&Payload>) -> usize {
    payload.map_or(0, |p| p.body.len())
}

const SPECIAL_MESSAGE: &str =
    "\t\ntest with whitespace\r\nand Unicode BMP \u{263A} and non-BMP \u{1F608}\t\n";

#[tokio::test]
async fn empty_unary() {
    let server = Interop::start().await;
    let response = server
        .client()
        .empty_call(Request::new(Empty {}))
        .await
        .unwrap();
    assert_eq!(response.into_message(), Empty {});
}

#[tokio::test]
async fn large_unary() {
    let server = Interop::start().await;
    let response = server
        .client()
        .unary_call(Request::new(SimpleRequest {
            response_size: 314_159,
            payload: zeros(271_828),
            ..SimpleRequest::default()
        }))
        .await
        .unwrap()
        .into_message();
    assert_eq!(body_len(response.payload.as_ref()), 314_159);
}

#[tokio::test]
async fn client_streaming() {
    let server = Interop::start().await;
    let requests = [27_182, 8, 1_828, 45_904].map(|size| StreamingInputCallRequest {
        payload: zeros(size),
        ..StreamingInputCallRequest::default()
    });
    let response = server
        .client()
        .streaming_input_call(Request::new(request_stream_of(requests)))
        .await
        .unwrap()
        .into_message();
    assert_eq!(response.aggregated_payload_size, 74_922);
}

#[tokio::test]
async fn server_streaming() {
    let server = Interop::start().await;
    let sizes = [31_415, 9, 2_653, 58_979];
    let request = StreamingOutputCallRequest {
        response_parameters: sizes
            .iter()
            .map(|&size| ResponseParameters {
                size,
                ..ResponseParameters::default()
            })
            .collect(),
        ..StreamingOutputCallRequest::default()
    };
    let responses: Vec<usize> = server
        .client()
        .streaming_output_call(Request::new(request))
        .await
        .unwrap()
        .into_message()
        .map(|r| body_len(r.unwrap().payload.as_ref()))
        .collect()
        .await;
    assert_eq!(responses, [31_415, 9, 2_653, 58_979]);
}

#[tokio::test]
async fn ping_pong() {
    let server = Interop::start().await;
    let (tx, rx) = mpsc::channel(1);
    // The server answers once it has the first request (so that a status it asks for can be
    // a trailers-only answer): the first request goes out with the call.
    tx.send(Ok(duplex_request(31_415, 27_182))).await.unwrap();
    let mut responses = server
        .client()
        .full_duplex_call(Request::new(request_stream(ReceiverStream::new(rx))))
        .await
        .unwrap()
        .into_message();
    let exchanges = [(31_415, 27_182), (9, 8), (2_653, 1_828), (58_979, 45_904)];
    for (i, (response_size, payload_size)) in exchanges.into_iter().enumerate() {
        if i > 0 {
            tx.send(Ok(duplex_request(response_size, payload_size)))
                .await
                .unwrap();
        }
        let response = responses.next().await.unwrap().unwrap();
        assert_eq!(
            body_len(response.payload.as_ref()),
            usize::try_from(response_size).unwrap()
        );
    }
    drop(tx);
    assert!(responses.next().await.is_none());
}

#[tokio::test]
async fn empty_stream() {
    let server = Interop::start().await;
    let responses: Vec<_> = server
        .client()
        .full_duplex_call(Request::new(request_stream_of(Vec::new())))
        .await
        .unwrap()
        .into_message()
        .collect()
        .await;
    assert!(responses.is_empty());
}

async fn check_echoed_status(server: &Interop, message: &str) {
    let echo = Some(EchoStatus {
        code: 2,
        message: message.to_owned(),
    });
    let status = server
        .client()
        .unary_call(Request::new(SimpleRequest {
            response_status: echo.clone(),
            ..SimpleRequest::default()
        }))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unknown);
    assert_eq!(status.message(), message);

    let request = StreamingOutputCallRequest {
        response_status: echo,
        ..StreamingOutputCallRequest::default()
    };
    let outcome = server
        .client()
        .full_duplex_call(Request::new(request_stream_of([request])))
        .await;
    let status = match outcome {
        Err(status) => status,
        Ok(response) => {
            let mut responses = response.into_message();
            responses.next().await.unwrap().unwrap_err()
        }
    };
    assert_eq!(status.code(), Code::Unknown);
    assert_eq!(status.message(), message);
}

#[tokio::test]
async fn status_code_and_message() {
    let server = Interop::start().await;
    check_echoed_status(&server, "test status message").await;
}

#[tokio::test]
async fn special_status_message() {
    let server = Interop::start().await;
    check_echoed_status(&server, SPECIAL_MESSAGE).await;
}

#[tokio::test]
async fn unimplemented_method() {
    let server = Interop::start().await;
    let status = server
        .client()
        .unimplemented_call(Request::new(Empty {}))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unimplemented);
}

#[tokio::test]
async fn unimplemented_service() {
    let server = Interop::start().await;
    let status = UnimplementedServiceClient::new(server.transport.clone())
        .unimplemented_call(Request::new(Empty {}))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unimplemented);
}

/// A request carrying the metadata the server is asked to echo.
fn with_metadata<T>(message: T) -> Request<T> {
    let mut request = Request::new(message);
    let metadata = request.context_mut().metadata_mut();
    metadata.insert(ECHO_INITIAL, "test_initial_metadata_value".parse().unwrap());
    // 0xababab, base64 as binary metadata travels.
    metadata.insert(ECHO_TRAILING, "q6ur".parse().unwrap());
    request
}

#[tokio::test]
async fn custom_metadata() {
    let server = Interop::start().await;
    let response = server
        .client()
        .unary_call(with_metadata(SimpleRequest {
            response_size: 314_159,
            payload: zeros(271_828),
            ..SimpleRequest::default()
        }))
        .await
        .unwrap();
    assert_eq!(
        response.headers()[ECHO_INITIAL],
        "test_initial_metadata_value"
    );
    assert_eq!(response.trailers()[ECHO_TRAILING], "q6ur");
    assert_eq!(body_len(response.message().payload.as_ref()), 314_159);

    let response = server
        .client()
        .full_duplex_call(with_metadata(request_stream_of([duplex_request(
            314_159, 271_828,
        )])))
        .await
        .unwrap();
    assert_eq!(
        response.headers()[ECHO_INITIAL],
        "test_initial_metadata_value"
    );
    let sizes: Vec<usize> = response
        .into_message()
        .map(|r| body_len(r.unwrap().payload.as_ref()))
        .collect()
        .await;
    assert_eq!(sizes, [314_159]);
}

#[tokio::test]
async fn timeout_on_sleeping_server() {
    let server = Interop::start().await;
    let mut request = Request::new(request_stream(
        futures::stream::iter([Ok(StreamingOutputCallRequest {
            payload: zeros(27_182),
            ..StreamingOutputCallRequest::default()
        })])
        .chain(futures::stream::pending()),
    ));
    request
        .context_mut()
        .set_deadline(Some(Instant::now() + Duration::from_millis(1)));
    let outcome = server.client().full_duplex_call(request).await;
    let status = match outcome {
        Err(status) => status,
        Ok(response) => response
            .into_message()
            .next()
            .await
            .expect("the stream ends with an error")
            .unwrap_err(),
    };
    assert_eq!(status.code(), Code::DeadlineExceeded);
}

#[tokio::test]
async fn cancel_after_begin() {
    let server = Interop::start().await;
    let requests = futures::stream::iter([Err(Status::cancelled("cancelled by the client"))]);
    let status = server
        .client()
        .streaming_input_call(Request::new(request_stream(requests)))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Cancelled);
}

#[tokio::test]
async fn cancel_after_first_response() {
    let server = Interop::start().await;
    let (tx, rx) = mpsc::channel(1);
    tx.send(Ok(duplex_request(31_415, 27_182))).await.unwrap();
    let mut responses = server
        .client()
        .full_duplex_call(Request::new(request_stream(ReceiverStream::new(rx))))
        .await
        .unwrap()
        .into_message();
    let first = responses.next().await.unwrap().unwrap();
    assert_eq!(body_len(first.payload.as_ref()), 31_415);
    tx.send(Err(Status::cancelled("cancelled by the client")))
        .await
        .unwrap();
    let status = responses.next().await.unwrap().unwrap_err();
    assert_eq!(status.code(), Code::Cancelled);
    assert!(responses.next().await.is_none());
}
