//! Server streaming over REST: Server-Sent Events or newline-delimited JSON.
//!
//! `Accept: text/event-stream` selects SSE: each message is `data: <json>\n\n`, and an error is
//! `event: error\ndata: <status json>\n\n`. Otherwise the response is `application/x-ndjson`: one
//! JSON message per line, and an error is a final line `{"error": <status json>}`. Either way the
//! stream ends after an error. If the handler fails before its stream starts, the response is an
//! ordinary error response with its HTTP status. When the client disconnects, the body is dropped,
//! which drops the handler's stream and cancels its context.

use std::pin::Pin;
use std::task::{ready, Context as TaskContext, Poll};

use bytes::Bytes;
use futures::Stream;
use http::header::{HeaderValue, CACHE_CONTROL, CONTENT_TYPE};
use http::HeaderMap;
use http_body::Frame;
use http_body_util::StreamBody;
use pin_project_lite::pin_project;
use serde::Serialize;

use crate::context::metadata::{append_response_headers, append_trailers_as_headers};
use crate::grpc::Body;
use crate::json::JsonOptions;
use crate::status::Status;

/// The wire format of a REST stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StreamFormat {
    /// `text/event-stream`.
    Sse,
    /// `application/x-ndjson`.
    Ndjson,
}

impl StreamFormat {
    /// Picks the format from the request's `Accept` header.
    pub fn from_accept(headers: &HeaderMap) -> Self {
        let wants_sse = headers
            .get_all(http::header::ACCEPT)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| v.contains("text/event-stream"));
        if wants_sse {
            StreamFormat::Sse
        } else {
            StreamFormat::Ndjson
        }
    }

    fn content_type(self) -> HeaderValue {
        match self {
            StreamFormat::Sse => HeaderValue::from_static("text/event-stream"),
            StreamFormat::Ndjson => HeaderValue::from_static("application/x-ndjson"),
        }
    }

    fn message(self, json: &[u8]) -> Bytes {
        let mut out = Vec::with_capacity(json.len() + 8);
        match self {
            StreamFormat::Sse => {
                out.extend_from_slice(b"data: ");
                out.extend_from_slice(json);
                out.extend_from_slice(b"\n\n");
            }
            StreamFormat::Ndjson => {
                out.extend_from_slice(json);
                out.push(b'\n');
            }
        }
        Bytes::from(out)
    }

    fn error(self, status: &Status) -> Bytes {
        let json = status.to_json_bytes();
        let mut out = Vec::with_capacity(json.len() + 24);
        match self {
            StreamFormat::Sse => {
                out.extend_from_slice(b"event: error\ndata: ");
                out.extend_from_slice(&json);
                out.extend_from_slice(b"\n\n");
            }
            StreamFormat::Ndjson => {
                out.extend_from_slice(b"{\"error\":");
                out.extend_from_slice(&json);
                out.extend_from_slice(b"}\n");
            }
        }
        Bytes::from(out)
    }
}

/// The streaming response: status 200, the format's content type, handler headers and trailers.
pub(crate) fn response<S, T, O>(
    format: StreamFormat,
    options: JsonOptions,
    stream: S,
    project: fn(T) -> O,
    headers: HeaderMap,
    trailers: &HeaderMap,
) -> http::Response<Body>
where
    S: Stream<Item = Result<T, Status>> + Send + 'static,
    T: Send + 'static,
    O: Serialize + 'static,
{
    let body = StreamBody::new(Framed {
        inner: stream,
        format,
        options,
        project,
        done: false,
    });
    let mut response = http::Response::new(Body::new(body));
    let out = response.headers_mut();
    out.insert(CONTENT_TYPE, format.content_type());
    out.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    append_response_headers(out, headers);
    append_trailers_as_headers(out, trailers);
    response
}

pin_project! {
    struct Framed<S, T, O> {
        #[pin]
        inner: S,
        format: StreamFormat,
        options: JsonOptions,
        project: fn(T) -> O,
        done: bool,
    }
}

impl<S, T, O> Stream for Framed<S, T, O>
where
    S: Stream<Item = Result<T, Status>>,
    O: Serialize,
{
    type Item = Result<Frame<Bytes>, std::convert::Infallible>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Option<Self::Item>> {
        let this = self.project();
        if *this.done {
            return Poll::Ready(None);
        }
        let bytes = match ready!(this.inner.poll_next(cx)) {
            None => {
                *this.done = true;
                return Poll::Ready(None);
            }
            Some(Ok(item)) => match super::json::encode(&(this.project)(item), *this.options) {
                Ok(json) => this.format.message(&json),
                Err(status) => {
                    *this.done = true;
                    this.format.error(&status)
                }
            },
            Some(Err(status)) => {
                *this.done = true;
                this.format.error(&status)
            }
        };
        Poll::Ready(Some(Ok(Frame::data(bytes))))
    }
}
