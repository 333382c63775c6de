//! Server streaming: gRPC streams, SSE and NDJSON over REST, errors in-band, disconnects cancel.

use std::sync::atomic::Ordering;
use std::time::Duration;

use serde_json::Value;
use tacos_runtime::Status;

use crate::library::*;
use crate::support::*;

fn watch(count: i32, fail_at: i32, interval_millis: i64) -> WatchBooksRequest {
    WatchBooksRequest {
        parent: "shelves/s1".into(),
        count,
        fail_at,
        interval_millis,
    }
}

#[tokio::test]
async fn grpc_streams_items_then_an_error() {
    let server = TestServer::start().await;
    let channel = channel(server.addr).await;
    let mut stream = grpc_stream::<_, Book>(
        &channel,
        "/tacos.test.v1.Library/WatchBooks",
        tonic::Request::new(watch(3, 0, 0)),
    )
    .await
    .unwrap()
    .into_inner();
    let mut names = Vec::new();
    while let Some(book) = stream.message().await.unwrap() {
        names.push(book.name);
    }
    assert_eq!(
        names,
        [
            "shelves/s1/books/1",
            "shelves/s1/books/2",
            "shelves/s1/books/3"
        ]
    );

    let mut stream = grpc_stream::<_, Book>(
        &channel,
        "/tacos.test.v1.Library/WatchBooks",
        tonic::Request::new(watch(3, 2, 0)),
    )
    .await
    .unwrap()
    .into_inner();
    assert!(stream.message().await.unwrap().is_some());
    let err = stream.message().await.unwrap_err();
    assert_eq!(err.code(), tonic::Code::Aborted);
}

#[tokio::test]
async fn ndjson_is_the_default_and_reports_errors_in_band() {
    let server = TestServer::start().await;
    let response = http_client()
        .get(server.url("/v1/shelves/s1/books:watch?count=3&failAt=3"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/x-ndjson");
    let text = response.text().await.unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert_eq!(lines[0]["name"], "shelves/s1/books/1");
    assert_eq!(lines[1]["name"], "shelves/s1/books/2");
    let status = Status::from_json(lines[2]["error"].to_string().as_bytes()).unwrap();
    assert_eq!(status.code(), tonic::Code::Aborted);
}

#[tokio::test]
async fn sse_when_asked_for() {
    let server = TestServer::start().await;
    let response = http_client()
        .get(server.url("/v1/shelves/s1/books:watch?count=2&fail_at=2"))
        .header("accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let text = response.text().await.unwrap();
    let events: Vec<&str> = text.split("\n\n").filter(|e| !e.is_empty()).collect();
    assert_eq!(events.len(), 2, "{text}");
    let first: Book = serde_json::from_str(events[0].strip_prefix("data: ").unwrap()).unwrap();
    assert_eq!(first.name, "shelves/s1/books/1");
    let error = events[1]
        .strip_prefix("event: error\ndata: ")
        .expect("an error event");
    assert_eq!(
        Status::from_json(error.as_bytes()).unwrap().code(),
        tonic::Code::Aborted
    );
}

#[tokio::test]
async fn a_failing_start_is_an_ordinary_error_response() {
    let server = TestServer::start().await;
    let response = http_client()
        .get(server.url("/v1/shelves/s1/books:watch?count=-1"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(violated_field(&response.bytes().await.unwrap()), "count");
}

#[tokio::test]
async fn rest_client_disconnect_cancels_the_stream() {
    let server = TestServer::start().await;
    let mut response = http_client()
        .get(server.url("/v1/shelves/s1/books:watch?count=10000&intervalMillis=20"))
        .send()
        .await
        .unwrap();
    let first = response.chunk().await.unwrap().expect("a first item");
    assert!(first.starts_with(b"{"));
    assert_eq!(server.probe().streams_dropped.load(Ordering::SeqCst), 0);
    drop(response);
    assert!(
        eventually(Duration::from_secs(5), || server
            .probe()
            .streams_dropped
            .load(Ordering::SeqCst)
            == 1)
        .await,
        "the handler's stream was not dropped"
    );
}

#[tokio::test]
async fn grpc_client_cancel_drops_the_stream() {
    let server = TestServer::start().await;
    let channel = channel(server.addr).await;
    let mut stream = grpc_stream::<_, Book>(
        &channel,
        "/tacos.test.v1.Library/WatchBooks",
        tonic::Request::new(watch(10_000, 0, 20)),
    )
    .await
    .unwrap()
    .into_inner();
    assert!(stream.message().await.unwrap().is_some());
    drop(stream);
    assert!(
        eventually(Duration::from_secs(5), || server
            .probe()
            .streams_dropped
            .load(Ordering::SeqCst)
            == 1)
        .await
    );
}

#[tokio::test]
async fn stream_deadline_ends_the_stream_in_band() {
    let server = TestServer::start().await;
    let response = http_client()
        .get(server.url("/v1/shelves/s1/books:watch?count=10000&intervalMillis=50"))
        .header("x-request-timeout", "300m")
        .send()
        .await
        .unwrap();
    let text = response.text().await.unwrap();
    let last: Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    let status = Status::from_json(last["error"].to_string().as_bytes()).unwrap();
    assert_eq!(status.code(), tonic::Code::DeadlineExceeded);
    assert!(
        eventually(Duration::from_secs(2), || server
            .probe()
            .streams_dropped
            .load(Ordering::SeqCst)
            == 1)
        .await
    );
}
