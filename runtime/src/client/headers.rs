//! Response headers a client hands back: the server's own metadata, without HTTP framing.

use http::header::{self, HeaderMap, HeaderName};

use crate::context::metadata::TRAILER_PREFIX;

/// Whether a response header describes the exchange rather than the call.
fn is_framing(name: &HeaderName) -> bool {
    matches!(
        *name,
        header::CONTENT_TYPE
            | header::CONTENT_LENGTH
            | header::CONTENT_ENCODING
            | header::TRANSFER_ENCODING
            | header::CONNECTION
            | header::DATE
            | header::TRAILER
            | header::UPGRADE
            | header::VARY
    ) || name.as_str() == "keep-alive"
        || (name.as_str().starts_with("grpc-") && !name.as_str().starts_with(TRAILER_PREFIX))
}

/// Splits REST response headers into the handler's headers and its trailers (sent as
/// `grpc-trailer-<name>`).
pub(crate) fn split_rest(headers: HeaderMap) -> (HeaderMap, HeaderMap) {
    let mut out = HeaderMap::new();
    let mut trailers = HeaderMap::new();
    let mut last: Option<HeaderName> = None;
    for (name, value) in headers {
        if let Some(name) = name {
            last = Some(name);
        }
        let Some(name) = &last else { continue };
        if let Some(trailer) = name.as_str().strip_prefix(TRAILER_PREFIX) {
            if let Ok(trailer) = HeaderName::from_bytes(trailer.as_bytes()) {
                trailers.append(trailer, value);
            }
        } else if !is_framing(name) {
            out.append(name.clone(), value);
        }
    }
    (out, trailers)
}

/// gRPC response headers or trailers without the protocol's own entries.
pub(crate) fn grpc_metadata(headers: HeaderMap) -> HeaderMap {
    let mut out = HeaderMap::new();
    let mut last: Option<HeaderName> = None;
    for (name, value) in headers {
        if let Some(name) = name {
            last = Some(name);
        }
        if let Some(name) = &last {
            if !is_framing(name) {
                out.append(name.clone(), value);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rest_trailers_lose_their_prefix_and_framing_is_dropped() {
        let mut headers = HeaderMap::new();
        headers.insert("content-type", "application/json".parse().unwrap());
        headers.insert("date", "today".parse().unwrap());
        headers.insert("x-book-source", "memory".parse().unwrap());
        headers.insert("grpc-trailer-x-served-by", "lib".parse().unwrap());
        let (headers, trailers) = split_rest(headers);
        assert_eq!(headers.len(), 1);
        assert_eq!(headers["x-book-source"], "memory");
        assert_eq!(trailers["x-served-by"], "lib");
    }

    #[test]
    fn grpc_status_entries_are_dropped() {
        let mut headers = HeaderMap::new();
        headers.insert("grpc-status", "0".parse().unwrap());
        headers.insert("content-type", "application/grpc".parse().unwrap());
        headers.insert("x-served-by", "lib".parse().unwrap());
        let out = grpc_metadata(headers);
        assert_eq!(out.len(), 1);
    }
}
