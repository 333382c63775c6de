//! The metadata rule: which headers cross between HTTP and handler metadata, in both directions.
//!
//! **Requests.** A handler sees the request's headers as its metadata, on both protocols, minus
//! the headers that describe the HTTP exchange rather than the call:
//! - hop-by-hop headers: `connection`, `keep-alive`, `proxy-connection`, `te`, `trailer`,
//!   `transfer-encoding`, `upgrade`;
//! - framing: `host`, `content-length`, `content-type`, `content-encoding`, `accept-encoding`,
//!   `grpc-encoding`, `grpc-accept-encoding`;
//! - deadlines (`grpc-timeout`, `x-request-timeout`), which become [`Context::deadline`]
//!   instead.
//!
//! Everything else passes unchanged, so `authorization`, `x-request-id`, `traceparent` or
//! `idempotency-key` read the same whichever protocol carried them. Header names are
//! lower-case on both (HTTP/2 requires it; HTTP/1.1 names are case-insensitive). Binary metadata
//! (keys ending in `-bin`) holds base64 text on the gRPC wire; REST clients send the same base64
//! text in a header of the same name, and handlers see that text on both protocols.
//!
//! **Responses.** [`Response::headers`] become gRPC initial metadata or REST response headers.
//! [`Response::trailers`] become gRPC trailers; HTTP/1.1 JSON clients cannot read trailers, so
//! over REST each trailer is sent as a header named `grpc-trailer-<name>`. Always, not only when
//! the request says `TE: trailers`: a unary REST answer is one buffered JSON body whose trailers
//! are known before it is sent, browsers' `fetch` exposes no HTTP trailers at all, and a header
//! is readable by every client, so a real trailer would only hide them. The metadata of an
//! error [`Status`] goes into the gRPC trailers and, over REST, into the response headers.
//! Handler-set headers never override framing headers (`content-type`, `content-length`, ...).
//!
//! [`Context::deadline`]: super::Context::deadline
//! [`Response::headers`]: super::Response::headers
//! [`Response::trailers`]: super::Response::trailers
//! [`Status`]: crate::Status

use http::header::{self, HeaderMap, HeaderName, HeaderValue};

use super::deadline::{GRPC_TIMEOUT, REQUEST_TIMEOUT};

/// The prefix REST puts before the name of a response trailer.
pub const TRAILER_PREFIX: &str = "grpc-trailer-";

// Pre-built names: looking up a `HeaderName` skips parsing and validating a string per
// header per request, which showed up in REST profiles.
const STRIPPED: [HeaderName; 16] = [
    header::CONNECTION,
    HeaderName::from_static("keep-alive"),
    HeaderName::from_static("proxy-connection"),
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
    header::UPGRADE,
    header::HOST,
    header::CONTENT_LENGTH,
    header::CONTENT_TYPE,
    header::CONTENT_ENCODING,
    header::ACCEPT_ENCODING,
    HeaderName::from_static("grpc-encoding"),
    HeaderName::from_static("grpc-accept-encoding"),
    HeaderName::from_static(GRPC_TIMEOUT),
    HeaderName::from_static(REQUEST_TIMEOUT),
];

/// Turns request headers into handler metadata (in place: only the stripped headers are removed).
pub fn request_metadata(mut headers: HeaderMap) -> HeaderMap {
    for name in &STRIPPED {
        headers.remove(name);
    }
    headers
}

/// Whether a handler-set response header may be sent (framing headers belong to the runtime).
pub fn is_settable_response_header(name: &HeaderName) -> bool {
    !matches!(
        *name,
        header::CONTENT_TYPE
            | header::CONTENT_LENGTH
            | header::TRANSFER_ENCODING
            | header::CONNECTION
            | header::TRAILER
            | header::UPGRADE
    ) && !name.as_str().starts_with("grpc-")
}

/// Appends handler response headers to an HTTP response's headers.
pub fn append_response_headers(target: &mut HeaderMap, headers: HeaderMap) {
    let mut last: Option<HeaderName> = None;
    for (name, value) in headers {
        // `HeaderMap`'s owning iterator yields the name only on the first value of each key.
        if let Some(name) = name {
            last = Some(name);
        }
        if let Some(name) = &last {
            if is_settable_response_header(name) {
                target.append(name.clone(), value);
            }
        }
    }
}

/// Appends trailers to a REST response as `grpc-trailer-<name>` headers.
pub fn append_trailers_as_headers(target: &mut HeaderMap, trailers: &HeaderMap) {
    for (name, value) in trailers {
        if let Ok(prefixed) = HeaderName::from_bytes(format!("{TRAILER_PREFIX}{name}").as_bytes()) {
            target.append(prefixed, HeaderValue::clone(value));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exchange_headers_are_stripped_and_the_rest_kept() {
        let mut headers = HeaderMap::new();
        for (k, v) in [
            ("content-type", "application/json"),
            ("te", "trailers"),
            ("grpc-timeout", "1S"),
            ("authorization", "Bearer x"),
            ("x-trace-bin", "AAEC"),
        ] {
            headers.insert(k, v.parse().unwrap());
        }
        let metadata = request_metadata(headers);
        let names: Vec<_> = metadata.keys().map(|k| k.as_str()).collect();
        assert_eq!(names, ["authorization", "x-trace-bin"]);
    }

    #[test]
    fn trailers_get_a_prefix_and_framing_is_protected() {
        let mut trailers = HeaderMap::new();
        trailers.insert("x-cost", "7".parse().unwrap());
        let mut target = HeaderMap::new();
        append_trailers_as_headers(&mut target, &trailers);
        assert_eq!(target["grpc-trailer-x-cost"], "7");

        let mut headers = HeaderMap::new();
        headers.insert("content-type", "text/plain".parse().unwrap());
        headers.append("x-a", "1".parse().unwrap());
        headers.append("x-a", "2".parse().unwrap());
        let mut target = HeaderMap::new();
        append_response_headers(&mut target, headers);
        assert!(target.get("content-type").is_none());
        assert_eq!(target.get_all("x-a").iter().count(), 2);
    }
}
