//! Streaming methods over WebSocket: one JSON message per text frame each way, an empty text
//! frame to end the requests, and the call's status as the closing frame.

use std::sync::atomic::Ordering;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::Value;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use crate::support::{eventually, TestServer};

type Socket = WebSocketStream<tokio::net::TcpStream>;

async fn handshake(
    server: &TestServer,
    path: &str,
) -> Result<Socket, tokio_tungstenite::tungstenite::Error> {
    let url = format!("ws://{}{}", server.addr, path);
    let tcp = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let (socket, response) = tokio_tungstenite::client_async(url, tcp).await?;
    assert_eq!(response.status(), 101);
    Ok(socket)
}

async fn open(server: &TestServer, path: &str) -> Socket {
    handshake(server, path)
        .await
        .expect("the handshake succeeds")
}

/// Everything the server sends until it closes: the text frames and the close code and reason.
async fn read_all(socket: &mut Socket) -> (Vec<Value>, Option<(u16, String)>) {
    let mut frames = Vec::new();
    loop {
        let next = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .expect("the server answers in time");
        match next {
            Some(Ok(Message::Text(text))) => frames.push(serde_json::from_str(&text).unwrap()),
            Some(Ok(Message::Close(frame))) => {
                return (
                    frames,
                    frame.map(|f| (u16::from(f.code), f.reason.to_string())),
                )
            }
            Some(Ok(_)) => {}
            Some(Err(_)) | None => return (frames, None),
        }
    }
}

fn text(json: &str) -> Message {
    Message::Text(json.into())
}

#[tokio::test]
async fn server_streams_are_text_frames_then_a_normal_close() {
    let server = TestServer::start().await;
    let mut socket = open(&server, "/v1/shelves/s1/books:watch?count=3").await;
    let (frames, close) = read_all(&mut socket).await;
    let names: Vec<&str> = frames.iter().map(|f| f["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "shelves/s1/books/1",
            "shelves/s1/books/2",
            "shelves/s1/books/3"
        ]
    );
    assert_eq!(close, Some((u16::from(CloseCode::Normal), String::new())));
}

#[tokio::test]
async fn an_error_mid_stream_is_an_error_frame_and_the_close_code() {
    let server = TestServer::start().await;
    let mut socket = open(&server, "/v1/shelves/s1/books:watch?count=3&failAt=2").await;
    let (frames, close) = read_all(&mut socket).await;
    assert_eq!(frames.len(), 2, "{frames:?}");
    assert_eq!(frames[0]["name"], "shelves/s1/books/1");
    assert_eq!(frames[1]["error"]["code"], 10);
    let (code, reason) = close.expect("a close frame");
    // 4000 + ABORTED.
    assert_eq!(code, 4010);
    assert_eq!(reason, "shelf changed at 2");
}

#[tokio::test]
async fn bidi_over_websocket_answers_each_frame_as_it_arrives() {
    let server = TestServer::start().await;
    // The binding is a POST; WebSocket handshakes are GETs on the same path.
    let mut socket = open(&server, "/v1/shelves/s4/books:echo").await;
    for title in ["a", "b"] {
        socket
            .send(text(&format!("{{\"book\":{{\"title\":\"{title}\"}}}}")))
            .await
            .unwrap();
        let answer = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        let answer: Value = serde_json::from_str(answer.to_text().unwrap()).unwrap();
        assert_eq!(answer["name"], format!("shelves/s4/books/{title}"));
    }
    // An empty text frame ends the requests; the call then ends normally.
    socket.send(text("")).await.unwrap();
    let (frames, close) = read_all(&mut socket).await;
    assert!(frames.is_empty(), "{frames:?}");
    assert_eq!(close.map(|c| c.0), Some(u16::from(CloseCode::Normal)));
}

#[tokio::test]
async fn client_streams_over_websocket_answer_once() {
    let server = TestServer::start().await;
    let mut socket = open(&server, "/v1/shelves/s5/books:import").await;
    for title in ["a", "b", "c"] {
        socket
            .send(text(&format!("{{\"book\":{{\"title\":\"{title}\"}}}}")))
            .await
            .unwrap();
    }
    socket.send(text("")).await.unwrap();
    let (frames, close) = read_all(&mut socket).await;
    assert_eq!(frames.len(), 1, "{frames:?}");
    assert_eq!(frames[0]["count"], 3);
    assert_eq!(frames[0]["names"][2], "shelves/s5/books/c");
    assert_eq!(close.map(|c| c.0), Some(u16::from(CloseCode::Normal)));
}

#[tokio::test]
async fn a_bad_frame_ends_the_call_naming_the_frame() {
    let server = TestServer::start().await;
    let mut socket = open(&server, "/v1/shelves/s5/books:import").await;
    socket
        .send(text("{\"book\":{\"title\":\"a\"}}"))
        .await
        .unwrap();
    socket
        .send(text("{\"book\":{\"pages\":\"many\"}}"))
        .await
        .unwrap();
    let (frames, close) = read_all(&mut socket).await;
    let message = frames[0]["error"]["message"].as_str().unwrap();
    assert!(message.starts_with("request frame 2: "), "{message}");
    // 4000 + INVALID_ARGUMENT.
    assert_eq!(close.map(|c| c.0), Some(4003));

    let mut socket = open(&server, "/v1/shelves/s5/books:import").await;
    socket
        .send(Message::Binary(vec![1, 2, 3].into()))
        .await
        .unwrap();
    let (frames, close) = read_all(&mut socket).await;
    let message = frames[0]["error"]["message"].as_str().unwrap();
    assert!(message.contains("text frames"), "{message}");
    assert_eq!(close.map(|c| c.0), Some(4003));
}

#[tokio::test]
async fn a_client_that_goes_away_cancels_the_handler() {
    let server = TestServer::start().await;
    // A watch that would run for a minute.
    let mut socket = open(
        &server,
        "/v1/shelves/s1/books:watch?count=600&intervalMillis=100",
    )
    .await;
    let first = socket.next().await.unwrap().unwrap();
    assert!(first.is_text());
    drop(socket);
    assert!(
        eventually(Duration::from_secs(5), || {
            server.probe().streams_dropped.load(Ordering::SeqCst) == 1
        })
        .await,
        "the server stream was not dropped"
    );

    // An upload abandoned half way.
    let mut socket = open(&server, "/v1/shelves/s1/books:import").await;
    socket
        .send(text("{\"book\":{\"title\":\"a\"}}"))
        .await
        .unwrap();
    socket.close(None).await.unwrap();
    drop(socket);
    assert!(
        eventually(Duration::from_secs(5), || {
            server.probe().imports_unfinished.load(Ordering::SeqCst) == 1
        })
        .await,
        "the upload's handler was not cancelled"
    );
}

#[tokio::test]
async fn unary_routes_do_not_upgrade() {
    let server = TestServer::start().await;
    let refused = handshake(&server, "/v1/shelves/s1/books/b1").await;
    assert!(refused.is_err(), "a unary route answered the handshake");
}

#[tokio::test]
async fn frames_a_server_stream_does_not_read_do_not_stop_it_noticing_a_close() {
    let server = TestServer::start().await;
    // Twenty seconds between books: only the client's Close can end this one in time.
    let mut socket = open(
        &server,
        "/v1/shelves/s1/books:watch?count=3&intervalMillis=20000",
    )
    .await;
    // Requests the method has no use for.
    for _ in 0..4 {
        socket.send(text("{}")).await.unwrap();
    }
    let first = socket.next().await.unwrap().unwrap();
    assert!(first.is_text());
    socket.close(None).await.unwrap();
    drop(socket);
    assert!(
        eventually(Duration::from_secs(5), || {
            server.probe().streams_dropped.load(Ordering::SeqCst) == 1
        })
        .await,
        "the server stream was not dropped after the close"
    );
}
