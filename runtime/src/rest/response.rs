//! Building REST responses: JSON success bodies and `google.rpc.Status` error bodies.

use bytes::Bytes;
use http::header::{HeaderValue, ALLOW, CONTENT_TYPE, RETRY_AFTER};
use http::{HeaderMap, StatusCode};
use http_body_util::Full;

use crate::context::metadata::{append_response_headers, append_trailers_as_headers};
use crate::grpc::Body;
use crate::status::http::retry_after_seconds;
use crate::status::{Code, Status};

pub(crate) const JSON: HeaderValue = HeaderValue::from_static("application/json");

/// A JSON response with handler headers and trailers (as `grpc-trailer-*`).
pub(crate) fn json(
    status: StatusCode,
    body: Vec<u8>,
    headers: HeaderMap,
    trailers: &HeaderMap,
) -> http::Response<Body> {
    let mut response = http::Response::new(Body::new(Full::new(Bytes::from(body))));
    *response.status_mut() = status;
    let out = response.headers_mut();
    out.insert(CONTENT_TYPE, JSON);
    if !headers.is_empty() {
        append_response_headers(out, headers);
    }
    if !trailers.is_empty() {
        append_trailers_as_headers(out, trailers);
    }
    response
}

/// The REST form of an error: mapped HTTP status, JSON body, `Retry-After`, metadata headers.
pub fn error(status: Status) -> http::Response<Body> {
    let http_status = status.http_status();
    error_with_http_status(status, http_status)
}

/// An error answered with a specific HTTP status (405, 413, ...) rather than the mapped one.
pub(crate) fn error_with_http_status(
    status: Status,
    http_status: StatusCode,
) -> http::Response<Body> {
    let metadata = status.metadata().cloned().unwrap_or_default();
    let mut response = json(
        http_status,
        status.to_json_bytes(),
        metadata,
        &HeaderMap::new(),
    );
    if let Some(seconds) = retry_after_seconds(&status) {
        response
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

/// 404 for a path no route has.
pub(crate) fn not_found(method: &http::Method, path: &str) -> http::Response<Body> {
    error(Status::not_found(format!("no route for {method} {path}")))
}

/// 405 for a known path with another method, listing the allowed ones.
pub(crate) fn method_not_allowed(
    method: &http::Method,
    path: &str,
    allowed: &[&str],
) -> http::Response<Body> {
    let status = Status::new(
        Code::Unimplemented,
        format!("{method} is not allowed on {path}"),
    );
    let mut response = error_with_http_status(status, StatusCode::METHOD_NOT_ALLOWED);
    if let Ok(value) = HeaderValue::from_str(&allowed.join(", ")) {
        response.headers_mut().insert(ALLOW, value);
    }
    response
}
