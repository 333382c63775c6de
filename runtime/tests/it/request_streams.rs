//! Client-streaming and bidirectional methods: served over gRPC and REST (NDJSON request lines),
//! called through the generated client on every transport, with errors mid-stream, deadlines
//! and callers that go away.

use std::sync::atomic::Ordering;
use std::time::Duration;

use futures::StreamExt;
use serde_json::Value;
use tacos_runtime::client::ClientOptions;
use tacos_runtime::{request_stream, request_stream_of, Code, Request, RequestStream, Status};

use crate::client::{clients, same_everywhere};
use crate::library::*;
use crate::support::{eventually, http_client, violated_field, TestServer};

fn book(parent: &str, title: &str) -> ImportBookRequest {
    ImportBookRequest {
        parent: parent.to_owned(),
        book: Some(Book {
            title: title.to_owned(),
            pages: 10,
            ..Book::default()
        }),
    }
}

fn books(titles: &[&str]) -> RequestStream<ImportBookRequest> {
    let requests: Vec<_> = titles.iter().map(|t| book("shelves/s1", t)).collect();
    request_stream_of(requests)
}

/// A request stream that sends `titles`, then stays open until dropped.
fn open_books(titles: &[&str]) -> RequestStream<ImportBookRequest> {
    let sent = futures::stream::iter(
        titles
            .iter()
            .map(|t| Ok(book("shelves/s1", t)))
            .collect::<Vec<_>>(),
    );
    request_stream(sent.chain(futures::stream::pending()))
}

#[tokio::test]
async fn client_streams_arrive_whole_on_every_transport() {
    let server = TestServer::start().await;
    let clients = clients(&server, ClientOptions::new());
    let imported = same_everywhere(&clients, |client| async move {
        client
            .import_books(Request::new(books(&["a", "b", "c"])))
            .await
            .map(|r| r.into_message())
            .map_err(|s| (s.code(), s.message().to_owned()))
    })
    .await
    .expect("import succeeds");
    assert_eq!(imported.count, 3);
    assert_eq!(
        imported.names,
        [
            "shelves/s1/books/a",
            "shelves/s1/books/b",
            "shelves/s1/books/c"
        ]
    );
    // An empty stream is a stream too, except over REST when the path needs its fields.
    for (name, client) in &clients {
        let empty = client.import_books(Request::new(books(&[]))).await;
        match *name {
            "rest" => {
                let status = empty.unwrap_err();
                assert_eq!(status.code(), Code::InvalidArgument);
                assert!(
                    status.message().contains("empty request stream"),
                    "{status:?}"
                );
            }
            _ => assert_eq!(empty.unwrap().into_message().count, 0, "{name}"),
        }
    }
}

#[tokio::test]
async fn bidi_streams_answer_as_requests_arrive_on_every_transport() {
    let server = TestServer::start().await;
    for (name, client) in clients(&server, ClientOptions::new()) {
        // One request out, its answer back, before the next one is sent.
        let (tx, rx) = tokio::sync::mpsc::channel(1);
        let requests = request_stream(tokio_stream::wrappers::ReceiverStream::new(rx));
        let mut answers = client
            .echo_books(Request::new(requests))
            .await
            .unwrap_or_else(|s| panic!("{name}: {s:?}"))
            .into_message();
        for title in ["x", "y"] {
            tx.send(Ok(book("shelves/s2", title))).await.unwrap();
            let answer = tokio::time::timeout(Duration::from_secs(10), answers.next())
                .await
                .unwrap_or_else(|_| panic!("{name}: no answer to {title}"))
                .expect("an answer")
                .expect("a book");
            assert_eq!(answer.name, format!("shelves/s2/books/{title}"), "{name}");
        }
        drop(tx);
        assert!(
            answers.next().await.is_none(),
            "{name}: ends with the requests"
        );
    }
}

#[tokio::test]
async fn errors_mid_stream_keep_code_and_details_on_every_transport() {
    let server = TestServer::start().await;
    let clients = clients(&server, ClientOptions::new());
    let refused = same_everywhere(&clients, |client| async move {
        let status = client
            .import_books(Request::new(books(&["a", "fail", "c"])))
            .await
            .unwrap_err();
        (
            status.code(),
            status.message().to_owned(),
            format!("{:?}", status.details()),
        )
    })
    .await;
    assert_eq!(refused.0, Code::InvalidArgument);
    assert!(refused.2.contains("book.title"), "{refused:?}");

    let echoed = same_everywhere(&clients, |client| async move {
        let answers = client
            .echo_books(Request::new(books(&["a", "fail", "c"])))
            .await
            .expect("the stream opens")
            .into_message();
        answers
            .map(|item| item.map(|b| b.name).map_err(|s| s.code()))
            .collect::<Vec<_>>()
            .await
    })
    .await;
    assert_eq!(
        echoed,
        [Ok("shelves/s1/books/a".to_owned()), Err(Code::Aborted)]
    );
}

#[tokio::test]
async fn a_failing_request_stream_cancels_the_call_with_its_error() {
    let server = TestServer::start().await;
    for (name, client) in clients(&server, ClientOptions::new()) {
        let before = server.probe().imports_unfinished.load(Ordering::SeqCst);
        let (tx, rx) = tokio::sync::mpsc::channel(4);
        tx.send(Ok(book("shelves/s1", "a"))).await.unwrap();
        let requests = request_stream(tokio_stream::wrappers::ReceiverStream::new(rx));
        let call = tokio::spawn(async move { client.import_books(Request::new(requests)).await });
        // Let the first book reach the handler, then give up.
        tokio::time::sleep(Duration::from_millis(200)).await;
        tx.send(Err(Status::cancelled("the uploader gave up")))
            .await
            .unwrap();
        let status = tokio::time::timeout(Duration::from_secs(10), call)
            .await
            .expect("the call ends")
            .unwrap()
            .unwrap_err();
        assert_eq!(status.code(), Code::Cancelled, "{name}");
        assert_eq!(status.message(), "the uploader gave up", "{name}");
        assert!(
            eventually(Duration::from_secs(5), || {
                server.probe().imports_unfinished.load(Ordering::SeqCst) > before
            })
            .await,
            "{name}: the handler was not cancelled"
        );
    }
}

#[tokio::test]
async fn the_deadline_covers_a_request_stream_that_never_ends() {
    let server = TestServer::start().await;
    let options = ClientOptions::new().timeout(Duration::from_millis(300));
    for (name, client) in clients(&server, options) {
        let started = std::time::Instant::now();
        let status = client
            .import_books(Request::new(open_books(&["a"])))
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::DeadlineExceeded, "{name}: {status:?}");
        assert!(started.elapsed() < Duration::from_secs(5), "{name}");
    }
}

#[tokio::test]
async fn ndjson_request_lines_are_messages_with_the_paths_fields() {
    let server = TestServer::start().await;
    let body =
        "{\"book\":{\"title\":\"a\"}}\n\n{\"book\":{\"title\":\"b\"},\"parent\":\"ignored\"}\n";
    let response = http_client()
        .post(server.url("/v1/shelves/s9/books:import"))
        .header("content-type", "application/x-ndjson")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["count"], 2);
    // The path's value wins over the line's.
    assert_eq!(
        answer["names"],
        serde_json::json!(["shelves/s9/books/a", "shelves/s9/books/b"])
    );
}

#[tokio::test]
async fn a_bad_ndjson_line_is_a_400_naming_the_line() {
    let server = TestServer::start().await;
    let body = "{\"book\":{\"title\":\"a\"}}\n{\"book\":{\"pages\":\"many\"}}\n";
    let response = http_client()
        .post(server.url("/v1/shelves/s9/books:import"))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let answer: Value = response.json().await.unwrap();
    let message = answer["message"].as_str().unwrap();
    assert!(message.starts_with("request line 2: "), "{message}");
    assert!(message.contains("pages"), "{message}");

    let response = http_client()
        .post(server.url("/v1/shelves/s9/books:import"))
        .body("{\"book\":{\"title\":\"fail\"}}")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(
        violated_field(&response.bytes().await.unwrap()),
        "book.title"
    );
}

#[tokio::test]
async fn bidi_over_rest_streams_ndjson_both_ways() {
    let server = TestServer::start().await;
    let body = "{\"book\":{\"title\":\"a\"}}\n{\"book\":{\"title\":\"b\"}}\n{\"book\":{\"title\":\"fail\"}}\n";
    let response = http_client()
        .post(server.url("/v1/shelves/s3/books:echo"))
        .body(body)
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
    assert_eq!(lines[0]["name"], "shelves/s3/books/a");
    assert_eq!(lines[1]["name"], "shelves/s3/books/b");
    assert_eq!(lines[2]["error"]["code"], 10, "{text}");
}

#[tokio::test]
async fn a_rest_uploader_that_disconnects_cancels_the_handler() {
    let server = TestServer::start().await;
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<String, std::io::Error>>(4);
    tx.send(Ok("{\"book\":{\"title\":\"a\"}}\n".to_owned()))
        .await
        .unwrap();
    let body = reqwest::Body::wrap_stream(tokio_stream::wrappers::ReceiverStream::new(rx));
    let request = http_client()
        .post(server.url("/v1/shelves/s1/books:import"))
        .body(body)
        .send();
    let call = tokio::spawn(request);
    tokio::time::sleep(Duration::from_millis(200)).await;
    // The uploader goes away with the body half sent.
    call.abort();
    drop(tx);
    assert!(
        eventually(Duration::from_secs(5), || {
            server.probe().imports_unfinished.load(Ordering::SeqCst) == 1
        })
        .await,
        "the handler was not cancelled"
    );
}
