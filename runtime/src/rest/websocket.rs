//! Streaming methods over WebSocket, beside SSE and NDJSON.
//!
//! A `GET` with `Upgrade: websocket` on the path of a streaming method's binding (whatever the
//! binding's verb) opens a WebSocket for one call:
//!
//! - **in**: each text frame is one request message, read as a `body: "*"` request and then
//!   given the path's fields (and, with no body in the binding, the query's). A server-streaming
//!   method whose binding has a body reads its one request from the first frame. An empty text
//!   frame ends the request stream (WebSocket has no half-close). A binary frame, or a frame that does not decode, ends the call with `INVALID_ARGUMENT`
//!   naming the frame;
//! - **out**: each response message is one text frame, in the REST response's JSON form;
//! - **end**: the call's status is the Close frame: `1000` when it succeeded; otherwise a last
//!   text frame `{"error": <google.rpc.Status>}` (as NDJSON's last line, details included) and
//!   close code `4000 + the gRPC code` (`4005` for `NOT_FOUND`) with the message, cut to what a
//!   Close frame holds, as its reason.
//!
//! The handshake is answered before the call runs, so a refusal by the policy stack (auth, rate
//! limit) arrives as that closing status too. A client that goes away (a Close frame before the
//! call ends, or a dropped connection) cancels the handler.

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use http::header::{HeaderValue, CONNECTION, SEC_WEBSOCKET_ACCEPT, SEC_WEBSOCKET_KEY, UPGRADE};
use http::StatusCode;
use hyper_util::rt::TokioIo;
use serde::Serialize;
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use super::json;
use crate::context::{RequestStream, ServerStream};
use crate::grpc::Body;
use crate::json::JsonOptions;
use crate::status::{Code, Status};

/// The request frames of a call, as the text they carry.
pub(crate) type Frames = RequestStream<Bytes>;

/// What a session runs: the call, given its request frames, answering a stream.
pub(crate) type Session<Resp> =
    Pin<Box<dyn Future<Output = Result<ServerStream<Resp>, Status>> + Send + 'static>>;

type Socket = WebSocketStream<TokioIo<hyper::upgrade::Upgraded>>;

/// A request's WebSocket opening handshake, not yet answered.
pub(crate) struct Upgrade {
    accept: String,
    on_upgrade: hyper::upgrade::OnUpgrade,
}

impl fmt::Debug for Upgrade {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Upgrade").finish_non_exhaustive()
    }
}

/// Whether the request asks to upgrade to a WebSocket at all.
pub(crate) fn is_requested(parts: &http::request::Parts) -> bool {
    parts.method == http::Method::GET
        && parts
            .headers
            .get(UPGRADE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
}

/// The handshake of a request that [`is_requested`], or why it cannot be accepted.
pub(crate) fn handshake(parts: &mut http::request::Parts) -> Result<Upgrade, Status> {
    let header = |name| parts.headers.get(name).and_then(|v| v.to_str().ok());
    let connection_upgrades = header(CONNECTION).is_some_and(|v| {
        v.split(',')
            .any(|token| token.trim().eq_ignore_ascii_case("upgrade"))
    });
    if !connection_upgrades {
        return Err(Status::invalid_argument(
            "a WebSocket handshake needs `Connection: Upgrade`",
        ));
    }
    if header(http::header::SEC_WEBSOCKET_VERSION) != Some("13") {
        return Err(Status::invalid_argument(
            "only WebSocket version 13 is supported (`Sec-WebSocket-Version: 13`)",
        ));
    }
    let key = parts.headers.get(SEC_WEBSOCKET_KEY).ok_or_else(|| {
        Status::invalid_argument("a WebSocket handshake needs `Sec-WebSocket-Key`")
    })?;
    let accept = tokio_tungstenite::tungstenite::handshake::derive_accept_key(key.as_bytes());
    let on_upgrade = parts
        .extensions
        .remove::<hyper::upgrade::OnUpgrade>()
        .ok_or_else(|| {
            Status::invalid_argument("WebSocket upgrades need an HTTP/1.1 connection")
        })?;
    Ok(Upgrade { accept, on_upgrade })
}

/// Answers the handshake and runs the call on the upgraded connection: `session` gets the
/// request frames and answers the response stream, each message sent as `project` picks it.
pub(crate) fn accept<Resp, Out>(
    upgrade: Upgrade,
    max_message: usize,
    json: JsonOptions,
    project: fn(Resp) -> Out,
    session: impl FnOnce(Frames) -> Session<Resp> + Send + 'static,
) -> http::Response<Body>
where
    Resp: Send + 'static,
    Out: Serialize + 'static,
{
    let Upgrade { accept, on_upgrade } = upgrade;
    tokio::spawn(async move {
        let upgraded = match on_upgrade.await {
            Ok(upgraded) => upgraded,
            Err(err) => {
                tracing::debug!(error = %err, "WebSocket upgrade failed");
                return;
            }
        };
        let config = WebSocketConfig::default()
            .max_message_size(Some(max_message))
            .max_frame_size(Some(max_message));
        let socket =
            WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, Some(config))
                .await;
        run(socket, json, project, session).await;
    });
    let mut response = http::Response::new(Body::empty());
    *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let headers = response.headers_mut();
    headers.insert(UPGRADE, HeaderValue::from_static("websocket"));
    headers.insert(CONNECTION, HeaderValue::from_static("Upgrade"));
    if let Ok(value) = HeaderValue::from_str(&accept) {
        headers.insert(SEC_WEBSOCKET_ACCEPT, value);
    }
    response
}

/// One call on an open socket.
async fn run<Resp, Out>(
    socket: Socket,
    json_options: JsonOptions,
    project: fn(Resp) -> Out,
    session: impl FnOnce(Frames) -> Session<Resp>,
) where
    Out: Serialize,
{
    let (mut sink, source) = socket.split();
    let (frames_tx, mut frames_rx) = mpsc::channel(1);
    let (gone_tx, mut gone) = oneshot::channel::<()>();
    let reader = tokio::spawn(read_frames(source, frames_tx, gone_tx));
    let frames: Frames = Box::pin(futures::stream::poll_fn(move |cx| frames_rx.poll_recv(cx)));
    let status = tokio::select! {
        biased;
        _ = &mut gone => None,
        status = send_responses(&mut sink, session(frames), json_options, project) => Some(status),
    };
    // `None`: the client went away; dropping the call cancels the handler.
    if let Some(status) = status {
        let _ = close(&mut sink, status).await;
    }
    reader.abort();
}

/// Runs the call and sends its responses; the call's final status.
async fn send_responses<S, Resp, Out>(
    sink: &mut S,
    call: Session<Resp>,
    json_options: JsonOptions,
    project: fn(Resp) -> Out,
) -> Result<(), Status>
where
    S: futures::Sink<Message> + Unpin,
    Out: Serialize,
{
    let mut responses = call.await?;
    while let Some(item) = responses.next().await {
        let body = json::encode(&project(item?), json_options)?;
        let text = String::from_utf8(body.to_vec())
            .map_err(|_| Status::internal("a response did not print as UTF-8 JSON"))?;
        if sink.send(Message::Text(text.into())).await.is_err() {
            return Err(Status::cancelled("the WebSocket closed while sending"));
        }
    }
    Ok(())
}

/// Sends the call's status: a Close frame, after an `{"error": ...}` frame for a failure.
async fn close<S: futures::Sink<Message> + Unpin>(
    sink: &mut S,
    status: Result<(), Status>,
) -> Result<(), S::Error> {
    let frame = match status {
        Ok(()) => CloseFrame {
            code: CloseCode::Normal,
            reason: "".into(),
        },
        Err(status) => {
            let mut error = b"{\"error\":".to_vec();
            error.extend_from_slice(&status.to_json_bytes());
            error.push(b'}');
            let text = String::from_utf8_lossy(&error).into_owned();
            sink.send(Message::Text(text.into())).await?;
            CloseFrame {
                code: close_code(status.code()),
                reason: close_reason(status.message()).into(),
            }
        }
    };
    sink.send(Message::Close(Some(frame))).await?;
    sink.close().await
}

/// `4000 + code`: the private-use close codes carry the gRPC code.
pub(crate) fn close_code(code: Code) -> CloseCode {
    let code = u16::try_from(i32::from(code)).unwrap_or(2);
    CloseCode::from(4000 + code)
}

/// The message cut to the 123 bytes a Close frame's reason holds, on a character boundary.
fn close_reason(message: &str) -> String {
    const MAX: usize = 123;
    if message.len() <= MAX {
        return message.to_owned();
    }
    let mut end = MAX;
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    message[..end].to_owned()
}

/// Forwards the request frames until the client ends its requests; keeps reading after that
/// (answering pings, noticing a Close) and fires `gone` when the client closes or drops.
async fn read_frames<S>(
    mut source: S,
    frames: mpsc::Sender<Result<Bytes, Status>>,
    gone: oneshot::Sender<()>,
) where
    S: futures::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    let mut frames = Some(frames);
    let mut number = 0usize;
    while let Some(message) = source.next().await {
        let item = match message {
            Ok(Message::Text(text)) if text.is_empty() => {
                // The end of the request stream.
                frames = None;
                continue;
            }
            Ok(Message::Text(text)) => {
                number += 1;
                Ok(Bytes::from(text))
            }
            Ok(Message::Binary(_)) => {
                number += 1;
                Err(Status::invalid_argument(format!(
                    "request frame {number}: send JSON messages as text frames"
                )))
            }
            Ok(Message::Close(_)) => break,
            Ok(_) => continue,
            Err(err) => Err(Status::cancelled(format!(
                "the WebSocket broke off after request frame {number}: {err}"
            ))),
        };
        let failed = item.is_err();
        if let Some(sender) = &frames {
            if sender.send(item).await.is_err() {
                // The call reads no more requests; keep watching for a Close.
                frames = None;
            }
        }
        if failed {
            frames = None;
        }
    }
    let _ = gone.send(());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_codes_carry_the_grpc_code() {
        assert_eq!(u16::from(close_code(Code::NotFound)), 4005);
        assert_eq!(u16::from(close_code(Code::Unauthenticated)), 4016);
    }

    #[test]
    fn close_reasons_fit_a_close_frame() {
        let long = "é".repeat(100);
        let reason = close_reason(&long);
        assert!(reason.len() <= 123);
        assert!(long.starts_with(&reason));
        assert_eq!(close_reason("short"), "short");
    }
}
