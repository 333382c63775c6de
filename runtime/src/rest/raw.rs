//! `google.api.HttpBody` answers: the data raw, with the message's content type.
//!
//! A unary answer is one body. A stream of them is one body too: its content type is the first
//! message's, and each message's data is a chunk. An error before the first message is an
//! ordinary error response; after it, the body can only be cut short (the connection is reset),
//! since a raw body has no room for a status.

use std::any::{Any, TypeId};

use bytes::Bytes;
use futures::{Stream, StreamExt};
use http::header::{HeaderValue, CACHE_CONTROL, CONTENT_TYPE};
use http::HeaderMap;
use http_body::Frame;
use http_body_util::{Full, StreamBody};

use super::response;
use crate::context::metadata::{append_response_headers, append_trailers_as_headers};
use crate::grpc::Body;
use crate::httpbody::HttpBody;
use crate::status::Status;

/// The content type of a body that names none.
const OCTET_STREAM: &str = "application/octet-stream";

/// Whether a binding's projected answer `O` is an `HttpBody` (a type check the compiler folds).
pub(crate) fn is_http_body<O: 'static>() -> bool {
    TypeId::of::<O>() == TypeId::of::<HttpBody>()
}

/// `value` as the `HttpBody` it is, or back unchanged.
pub(crate) fn into_http_body<O: 'static>(value: O) -> Result<HttpBody, O> {
    let mut slot = Some(value);
    match (&mut slot as &mut dyn Any).downcast_mut::<Option<HttpBody>>() {
        Some(body) => Ok(body.take().unwrap_or_default()),
        None => Err(slot.expect("the slot is only emptied for an HttpBody")),
    }
}

fn content_type(body: &HttpBody) -> Result<HeaderValue, Status> {
    if body.content_type.is_empty() {
        return Ok(HeaderValue::from_static(OCTET_STREAM));
    }
    HeaderValue::from_str(&body.content_type).map_err(|_| {
        Status::internal(format!(
            "the HttpBody's content type {:?} is not a valid header value",
            body.content_type
        ))
    })
}

/// The response of one `HttpBody`, with the handler's headers and trailers as headers.
pub(crate) fn answer(
    body: HttpBody,
    headers: HeaderMap,
    trailers: &HeaderMap,
) -> http::Response<Body> {
    let content_type = match content_type(&body) {
        Ok(value) => value,
        Err(status) => return response::error(status),
    };
    let mut response = http::Response::new(Body::new(Full::new(Bytes::from(body.data))));
    let out = response.headers_mut();
    out.insert(CONTENT_TYPE, content_type);
    append_response_headers(out, headers);
    append_trailers_as_headers(out, trailers);
    response
}

/// The response of a stream of `HttpBody`s (the first one awaited for its content type).
pub(crate) async fn stream<S, T, O>(
    mut stream: S,
    project: fn(T) -> O,
    headers: HeaderMap,
    trailers: &HeaderMap,
) -> http::Response<Body>
where
    S: Stream<Item = Result<T, Status>> + Send + Unpin + 'static,
    T: Send + 'static,
    O: 'static,
{
    let body_of = move |item: T| into_http_body(project(item)).unwrap_or_default();
    let first = match stream.next().await {
        None => HttpBody::default(),
        Some(Ok(item)) => body_of(item),
        Some(Err(status)) => return response::error(status),
    };
    let content_type = match content_type(&first) {
        Ok(value) => value,
        Err(status) => return response::error(status),
    };
    let rest = stream.map(move |item| match item {
        Ok(item) => Ok(Frame::data(Bytes::from(body_of(item).data))),
        Err(status) => {
            tracing::warn!(code = ?status.code(), message = status.message(), "raw response stream failed; cutting the body short");
            Err(std::io::Error::other(status.message().to_owned()))
        }
    });
    let first = futures::stream::once(std::future::ready(Ok::<_, std::io::Error>(Frame::data(
        Bytes::from(first.data),
    ))));
    let mut response = http::Response::new(Body::new(StreamBody::new(first.chain(rest))));
    let out = response.headers_mut();
    out.insert(CONTENT_TYPE, content_type);
    out.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    append_response_headers(out, headers);
    append_trailers_as_headers(out, trailers);
    response
}

#[cfg(test)]
mod tests {
    use http::StatusCode;

    use super::*;

    #[test]
    fn only_http_bodies_are_taken_as_one() {
        assert!(is_http_body::<HttpBody>());
        assert!(!is_http_body::<String>());
        let body = HttpBody::new("text/plain", b"x".to_vec());
        assert_eq!(into_http_body(body.clone()), Ok(body));
        assert_eq!(into_http_body(7_u32), Err(7));
    }

    #[tokio::test]
    async fn a_stream_is_one_body_typed_by_its_first_message() {
        use http_body_util::BodyExt;
        let messages = futures::stream::iter([
            Ok(HttpBody::new("text/csv", b"a,b\n".to_vec())),
            Ok(HttpBody::new("ignored/later", b"1,2\n".to_vec())),
        ]);
        let response = stream(
            messages,
            |m: HttpBody| m,
            HeaderMap::new(),
            &HeaderMap::new(),
        )
        .await;
        assert_eq!(response.headers()[CONTENT_TYPE], "text/csv");
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(&bytes[..], b"a,b\n1,2\n");
    }

    #[tokio::test]
    async fn an_error_before_the_first_message_is_an_error_response() {
        let messages = futures::stream::iter([Err::<HttpBody, _>(Status::not_found("no book"))]);
        let response = stream(
            messages,
            |m: HttpBody| m,
            HeaderMap::new(),
            &HeaderMap::new(),
        )
        .await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
    }

    #[test]
    fn a_body_without_a_type_is_octet_stream() {
        let response = answer(HttpBody::default(), HeaderMap::new(), &HeaderMap::new());
        assert_eq!(response.headers()[CONTENT_TYPE], OCTET_STREAM);
        let bad = answer(
            HttpBody::new("a\nb", vec![]),
            HeaderMap::new(),
            &HeaderMap::new(),
        );
        assert_eq!(bad.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }
}
