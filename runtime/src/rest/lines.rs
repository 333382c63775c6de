//! Streamed REST requests: an NDJSON body read one line at a time, each line one request
//! message, handed to the handler as it arrives.

use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;

use crate::context::RequestStream;
use crate::grpc::Body;
use crate::status::Status;

/// The messages of an NDJSON request body. Blank lines are skipped; the last line needs no
/// newline. `parse` turns a line into a message; its error, a line longer than `max_line`
/// bytes or a body that breaks off end the stream with an error naming the line.
pub(crate) fn request_lines<Req, P>(body: Body, max_line: usize, parse: P) -> RequestStream<Req>
where
    Req: Send + 'static,
    P: FnMut(Bytes) -> Result<Req, Status> + Send + 'static,
{
    let state = Lines {
        body,
        buffer: BytesMut::new(),
        line: 0,
        max_line,
        parse,
        finished: false,
    };
    Box::pin(futures::stream::unfold(state, |mut state| async move {
        let item = state.next_message().await?;
        if item.is_err() {
            // Nothing after an error is read: the request is over.
            state.finished = true;
            state.buffer.clear();
        }
        Some((item, state))
    }))
}

struct Lines<P> {
    body: Body,
    buffer: BytesMut,
    /// The number of the last line taken from the buffer, from 1.
    line: usize,
    max_line: usize,
    parse: P,
    /// The body has ended (or failed): only the buffer is left.
    finished: bool,
}

impl<P> Lines<P> {
    async fn next_message<Req>(&mut self) -> Option<Result<Req, Status>>
    where
        P: FnMut(Bytes) -> Result<Req, Status>,
    {
        loop {
            let line = match self.buffer.iter().position(|&b| b == b'\n') {
                Some(end) => {
                    let line = self.buffer.split_to(end + 1).freeze();
                    Some(line.slice(..end))
                }
                None if self.finished => {
                    (!self.buffer.is_empty()).then(|| self.buffer.split().freeze())
                }
                None => None,
            };
            if let Some(line) = line {
                self.line += 1;
                if line.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                let number = self.line;
                if line.len() > self.max_line {
                    return Some(Err(too_long(number, self.max_line)));
                }
                return Some((self.parse)(line).map_err(|status| numbered("line", number, status)));
            }
            if self.finished {
                return None;
            }
            if self.buffer.len() > self.max_line {
                return Some(Err(too_long(self.line + 1, self.max_line)));
            }
            match self.body.frame().await {
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        self.buffer.extend_from_slice(&data);
                    }
                }
                Some(Err(err)) => {
                    self.finished = true;
                    return Some(Err(Status::cancelled(format!(
                        "request body broke off after line {}: {err}",
                        self.line
                    ))));
                }
                None => self.finished = true,
            }
        }
    }
}

fn too_long(line: usize, max_line: usize) -> Status {
    Status::resource_exhausted(format!(
        "request line {line} is longer than {max_line} bytes"
    ))
}

/// `status` with the line (or frame) it came from in front of its message.
pub(super) fn numbered(what: &str, number: usize, status: Status) -> Status {
    let message = format!("request {what} {number}: {}", status.message());
    Status::new(status.code(), message).with_details(status.details().clone())
}

#[cfg(test)]
mod tests {
    use futures::StreamExt;

    use super::*;

    fn parse(line: Bytes) -> Result<u32, Status> {
        std::str::from_utf8(&line)
            .ok()
            .and_then(|text| text.trim().parse().ok())
            .ok_or_else(|| Status::invalid_argument("not a number"))
    }

    async fn read(body: &'static str, max_line: usize) -> Vec<Result<u32, String>> {
        let stream = request_lines(Body::new(body.to_owned()), max_line, parse);
        stream
            .map(|item| item.map_err(|s| format!("{:?}: {}", s.code(), s.message())))
            .collect()
            .await
    }

    #[tokio::test]
    async fn lines_become_messages_and_blank_lines_are_skipped() {
        assert_eq!(read("1\n\n2\r\n3", 64).await, [Ok(1), Ok(2), Ok(3)]);
        assert_eq!(read("", 64).await, []);
    }

    #[tokio::test]
    async fn a_bad_line_is_named_and_ends_the_stream() {
        assert_eq!(
            read("1\nx\n3\n", 64).await,
            [
                Ok(1),
                Err("InvalidArgument: request line 2: not a number".to_owned())
            ]
        );
    }

    #[tokio::test]
    async fn an_overlong_line_is_refused() {
        let items = read("1\n123456789012\n", 8).await;
        assert_eq!(items[0], Ok(1));
        assert_eq!(
            items[1],
            Err("ResourceExhausted: request line 2 is longer than 8 bytes".to_owned())
        );
        assert_eq!(items.len(), 2);
    }
}
