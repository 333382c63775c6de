//! Deadlines: client timeouts and policy timeouts answer DEADLINE_EXCEEDED / 504 and cancel the
//! handler.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crate::library::*;
use crate::support::*;

#[tokio::test]
async fn rest_timeout_header_cancels_the_handler() {
    let server = TestServer::start().await;
    let started = Instant::now();
    let response = http_client()
        .post(server.url("/v1/slow"))
        .header("x-request-timeout", "0.1")
        .json(&serde_json::json!({"millis": 5000}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 504);
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(
        eventually(Duration::from_secs(2), || server
            .probe()
            .slow_cancelled
            .load(Ordering::SeqCst)
            == 1)
        .await,
        "the handler was not cancelled"
    );
    assert_eq!(server.probe().slow_finished.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn grpc_timeout_cancels_the_handler() {
    let server = TestServer::start().await;
    let mut request = tonic::Request::new(SlowRequest { millis: 5000 });
    request.set_timeout(Duration::from_millis(100));
    let started = Instant::now();
    let mut client = raw_grpc(server.addr);
    client.ready().await.unwrap();
    let err = client
        .unary(
            request,
            http::uri::PathAndQuery::from_static("/tacos.test.v1.Library/Slow"),
            tonic_prost::ProstCodec::<SlowRequest, SlowResponse>::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::DeadlineExceeded);
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(
        eventually(Duration::from_secs(2), || server
            .probe()
            .slow_cancelled
            .load(Ordering::SeqCst)
            == 1)
        .await
    );
}

#[tokio::test]
async fn policy_timeout_caps_a_longer_client_deadline() {
    // The handler declares 1.5 s for `Slow`; the client allows 30 s.
    let server = TestServer::start().await;
    let mut request = tonic::Request::new(SlowRequest { millis: 5000 });
    request.set_timeout(Duration::from_secs(30));
    let started = Instant::now();
    let err = grpc_unary::<_, SlowResponse>(
        &channel(server.addr).await,
        "/tacos.test.v1.Library/Slow",
        request,
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), tonic::Code::DeadlineExceeded);
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(1400) && elapsed < Duration::from_secs(4),
        "{elapsed:?}"
    );

    let response = http_client()
        .post(server.url("/v1/slow"))
        .json(&serde_json::json!({"millis": 5000}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 504);
    assert!(
        eventually(Duration::from_secs(2), || server
            .probe()
            .slow_cancelled
            .load(Ordering::SeqCst)
            == 2)
        .await
    );
}

#[tokio::test]
async fn calls_within_their_deadline_finish() {
    let server = TestServer::start().await;
    let response = http_client()
        .post(server.url("/v1/slow"))
        .header("grpc-timeout", "5S")
        .json(&serde_json::json!({"millis": 10}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(server.probe().slow_finished.load(Ordering::SeqCst), 1);
}
