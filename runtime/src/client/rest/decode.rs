//! Reading REST responses: messages (whole or `response_body`), errors, and NDJSON / SSE streams.

use bytes::{Buf, Bytes, BytesMut};
use futures::{Stream, StreamExt};
use http::{HeaderMap, StatusCode};
use http_body_util::BodyStream;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::super::headers::split_rest;
use crate::context::ServerStream;
use crate::rest::stream::StreamFormat;
use crate::status::{Code, Status};

/// Decodes a response message; with `response_body`, the JSON is that field's value.
pub(super) fn message<T: DeserializeOwned>(
    json: &[u8],
    response_body: Option<&str>,
) -> Result<T, Status> {
    let decoded = match response_body {
        None => serde_json::from_slice::<T>(json),
        Some(field) => {
            let value: Value = serde_json::from_slice(json).map_err(bad_response)?;
            let mut object = serde_json::Map::with_capacity(1);
            object.insert(field.to_owned(), value);
            T::deserialize(Value::Object(object))
        }
    };
    decoded.or_else(|err| {
        // `google.protobuf.Empty` is `{}` in JSON but prost's `()`, which serde reads from `null`.
        if json.iter().filter(|b| !b.is_ascii_whitespace()).eq(b"{}") {
            T::deserialize(Value::Null).map_err(|_| bad_response(err))
        } else {
            Err(bad_response(err))
        }
    })
}

/// Decodes a raw (`google.api.HttpBody`) response: the message is an `HttpBody` of `data` with
/// the response's content type, or has one in its `response_body` field.
pub(super) fn raw_message<T: DeserializeOwned>(
    content_type: &str,
    data: &[u8],
    response_body: Option<&str>,
) -> Result<T, Status> {
    let body = serde_json::json!({
        "contentType": content_type,
        "data": crate::json::base64::Encoded(data).to_string(),
    });
    let value = match response_body {
        None => body,
        Some(field) => Value::Object(serde_json::Map::from_iter([(field.to_owned(), body)])),
    };
    T::deserialize(value).map_err(bad_response)
}

/// The messages of a raw streamed response: one `HttpBody` per chunk of the body.
pub(super) fn raw_stream<T, B>(
    body: B,
    content_type: String,
    response_body: Option<&'static str>,
) -> ServerStream<T>
where
    T: DeserializeOwned + Send + 'static,
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: std::fmt::Display,
{
    Box::pin(chunks(body).filter_map(move |chunk| {
        futures::future::ready(match chunk {
            Ok(data) if data.is_empty() => None,
            Ok(data) => Some(raw_message(&content_type, &data, response_body)),
            Err(status) => Some(Err(status)),
        })
    }))
}

/// The data of a response body as it arrives; a failure reading it is `UNAVAILABLE`.
fn chunks<B>(body: B) -> impl Stream<Item = Result<Bytes, Status>> + Send + 'static
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: std::fmt::Display,
{
    BodyStream::new(body).filter_map(|frame| {
        futures::future::ready(match frame {
            Ok(frame) => frame.into_data().ok().map(Ok),
            Err(err) => Some(Err(Status::unavailable(format!(
                "response stream was cut short: {err}"
            )))),
        })
    })
}

fn bad_response(err: serde_json::Error) -> Status {
    Status::internal(format!("the server's response does not decode: {err}"))
}

/// The status of an error response: the JSON status the server rendered, or one mapped from the
/// HTTP status when the body is something else. The response headers become its metadata.
pub(super) fn error(status: StatusCode, headers: HeaderMap, body: &[u8]) -> Status {
    let decoded = Status::from_json(body).unwrap_or_else(|| {
        let text = String::from_utf8_lossy(&body[..body.len().min(256)]).into_owned();
        Status::new(
            code_of_http(status),
            format!("HTTP {status} without a status body: {text}"),
        )
    });
    let (mut metadata, trailers) = split_rest(headers);
    metadata.extend(trailers);
    decoded.with_metadata(metadata)
}

/// gRPC's mapping of HTTP statuses that carry no gRPC status.
fn code_of_http(status: StatusCode) -> Code {
    match status.as_u16() {
        400 => Code::Internal,
        401 => Code::Unauthenticated,
        403 => Code::PermissionDenied,
        404 => Code::Unimplemented,
        429 | 502 | 503 | 504 => Code::Unavailable,
        _ => Code::Unknown,
    }
}

/// The messages of a streamed response.
pub(super) fn stream<T, B>(
    body: B,
    format: StreamFormat,
    response_body: Option<&'static str>,
) -> ServerStream<T>
where
    T: DeserializeOwned + Send + 'static,
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: std::fmt::Display,
{
    let state = Lines {
        frames: Box::pin(chunks(body)),
        buffer: BytesMut::new(),
        event: Event::default(),
        done: false,
    };
    Box::pin(futures::stream::unfold(
        state,
        move |mut state| async move {
            let item = state.next_item::<T>(format, response_body).await?;
            Some((item, state))
        },
    ))
}

/// An SSE event being assembled.
#[derive(Default)]
struct Event {
    name: String,
    data: Vec<u8>,
}

struct Lines {
    frames: std::pin::Pin<Box<dyn Stream<Item = Result<Bytes, Status>> + Send>>,
    buffer: BytesMut,
    event: Event,
    done: bool,
}

impl Lines {
    /// The next complete line (without its `\n` or `\r\n`), `None` at the end of the body.
    async fn line(&mut self) -> Option<Result<Bytes, Status>> {
        loop {
            if let Some(end) = self.buffer.iter().position(|&b| b == b'\n') {
                let mut line = self.buffer.split_to(end + 1).freeze();
                line.truncate(end);
                if line.ends_with(b"\r") {
                    line.truncate(end - 1);
                }
                return Some(Ok(line));
            }
            match self.frames.next().await {
                Some(Ok(mut data)) => {
                    while data.has_remaining() {
                        let chunk = data.chunk();
                        self.buffer.extend_from_slice(chunk);
                        let n = chunk.len();
                        data.advance(n);
                    }
                }
                Some(Err(status)) => return Some(Err(status)),
                // A last line without a newline still counts.
                None if !self.buffer.is_empty() => {
                    return Some(Ok(self.buffer.split().freeze()));
                }
                None => return None,
            }
        }
    }

    async fn next_item<T: DeserializeOwned>(
        &mut self,
        format: StreamFormat,
        response_body: Option<&str>,
    ) -> Option<Result<T, Status>> {
        if self.done {
            return None;
        }
        let item = match format {
            StreamFormat::Ndjson => self.next_ndjson(response_body).await,
            StreamFormat::Sse => self.next_sse(response_body).await,
        };
        // The stream's contract ends at its first error.
        if matches!(item, Some(Err(_)) | None) {
            self.done = true;
        }
        item
    }

    async fn next_ndjson<T: DeserializeOwned>(
        &mut self,
        response_body: Option<&str>,
    ) -> Option<Result<T, Status>> {
        loop {
            let line = match self.line().await? {
                Ok(line) => line,
                Err(status) => return Some(Err(status)),
            };
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            if line.starts_with(b"{\"error\":") {
                if let Some(status) = ndjson_error(&line) {
                    return Some(Err(status));
                }
            }
            return Some(message(&line, response_body));
        }
    }

    async fn next_sse<T: DeserializeOwned>(
        &mut self,
        response_body: Option<&str>,
    ) -> Option<Result<T, Status>> {
        loop {
            let line = match self.line().await {
                Some(Ok(line)) => line,
                Some(Err(status)) => return Some(Err(status)),
                // An event not closed by a blank line is incomplete: dropped, as SSE says.
                None => return None,
            };
            if line.is_empty() {
                let event = std::mem::take(&mut self.event);
                if event.data.is_empty() && event.name.is_empty() {
                    continue;
                }
                if event.name == "error" {
                    return Some(Err(Status::from_json(&event.data).unwrap_or_else(|| {
                        Status::internal("the server's stream error does not decode")
                    })));
                }
                return Some(message(&event.data, response_body));
            }
            if line.starts_with(b":") {
                continue;
            }
            let (field, value) = match line.iter().position(|&b| b == b':') {
                Some(at) => {
                    let value = &line[at + 1..];
                    (&line[..at], value.strip_prefix(b" ").unwrap_or(value))
                }
                None => (&line[..], &b""[..]),
            };
            match field {
                b"data" => {
                    if !self.event.data.is_empty() {
                        self.event.data.push(b'\n');
                    }
                    self.event.data.extend_from_slice(value);
                }
                b"event" => self.event.name = String::from_utf8_lossy(value).into_owned(),
                _ => {}
            }
        }
    }
}

/// `{"error": <status>}`, the NDJSON form of a stream error.
fn ndjson_error(line: &[u8]) -> Option<Status> {
    let value: Value = serde_json::from_slice(line).ok()?;
    let object = value.as_object()?;
    if object.len() != 1 {
        return None;
    }
    let status = object.get("error")?;
    if !status.is_object() || status.get("code").is_none() {
        return None;
    }
    Status::from_json(&serde_json::to_vec(status).ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::StreamBody;

    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct Item {
        n: i32,
    }

    fn body(chunks: &[&'static str]) -> impl http_body::Body<Data = Bytes, Error = Status> + Send {
        let frames: Vec<Result<http_body::Frame<Bytes>, Status>> = chunks
            .iter()
            .map(|c| Ok(http_body::Frame::data(Bytes::from_static(c.as_bytes()))))
            .collect();
        StreamBody::new(futures::stream::iter(frames))
    }

    async fn collect(chunks: &[&'static str], format: StreamFormat) -> Vec<Result<Item, Status>> {
        stream::<Item, _>(body(chunks), format, None)
            .collect()
            .await
    }

    #[tokio::test]
    async fn ndjson_lines_split_across_chunks_and_end_at_an_error() {
        let items = collect(
            &[
                "{\"n\":1}\n{\"n\"",
                ":2}\n{\"error\":{\"code\":10,\"message\":\"changed\"}}\n",
                "{\"n\":3}\n",
            ],
            StreamFormat::Ndjson,
        )
        .await;
        assert_eq!(items.len(), 3);
        assert_eq!(items[1].as_ref().unwrap(), &Item { n: 2 });
        let err = items[2].as_ref().unwrap_err();
        assert_eq!(err.code(), Code::Aborted);
        assert_eq!(err.message(), "changed");
    }

    #[tokio::test]
    async fn sse_events_and_errors() {
        let items = collect(
            &[
                ": comment\ndata: {\"n\":1}\n\nda",
                "ta: {\"n\":2}\r\n\r\nevent: error\ndata: {\"code\":14,\"message\":\"x\"}\n\n",
            ],
            StreamFormat::Sse,
        )
        .await;
        assert_eq!(items.len(), 3);
        assert_eq!(items[1].as_ref().unwrap(), &Item { n: 2 });
        assert_eq!(items[2].as_ref().unwrap_err().code(), Code::Unavailable);
    }

    #[test]
    fn empty_objects_read_as_empty_and_errors_without_status_map_http() {
        let _: () = message(b" { } ", None).unwrap();
        let item: Item = message(b"5", Some("n")).unwrap();
        assert_eq!(item, Item { n: 5 });
        let status = error(StatusCode::BAD_GATEWAY, HeaderMap::new(), b"<html>");
        assert_eq!(status.code(), Code::Unavailable);
        assert!(status.message().contains("<html>"));
    }
}
