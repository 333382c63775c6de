//! Request ids: the caller's `x-request-id` when it is sane, otherwise a fresh random one.

use std::fmt;

use http::{HeaderMap, HeaderName, HeaderValue};

/// The request id header, accepted on requests and returned on responses (both protocols).
pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// Longest accepted incoming request id, in bytes.
pub const MAX_REQUEST_ID_LEN: usize = 128;

/// A call's request id: visible ASCII, 1 to 128 bytes, so it is safe in headers and logs.
#[derive(Clone, PartialEq, Eq)]
pub struct RequestId(HeaderValue);

impl RequestId {
    /// The first `x-request-id` of `headers` if it is sane (see [`RequestId::accepts`]),
    /// otherwise a fresh one.
    pub fn from_headers(headers: &HeaderMap) -> Self {
        headers
            .get(REQUEST_ID_HEADER)
            .filter(|v| Self::accepts(v.as_bytes()))
            .map_or_else(Self::generate, |v| Self(v.clone()))
    }

    /// Whether `value` is acceptable as an incoming id: 1 to [`MAX_REQUEST_ID_LEN`] bytes of
    /// visible ASCII (`!` to `~`; no spaces, controls or non-ASCII bytes).
    pub fn accepts(value: &[u8]) -> bool {
        !value.is_empty()
            && value.len() <= MAX_REQUEST_ID_LEN
            && value.iter().all(|b| (0x21..=0x7e).contains(b))
    }

    /// A fresh id: 128 random bits as 32 lowercase hex digits.
    pub fn generate() -> Self {
        let mut hex = [0u8; 32];
        super::hex::encode(&rand::random::<u128>().to_be_bytes(), &mut hex);
        // Hex digits are always a valid header value.
        Self(HeaderValue::from_bytes(&hex).expect("hex digits are a valid header value"))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        // Only visible ASCII is ever stored.
        self.0.to_str().unwrap_or_default()
    }

    /// The id as a header value, for responses and outgoing calls.
    pub fn header_value(&self) -> &HeaderValue {
        &self.0
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RequestId({:?})", self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from(values: &[&[u8]]) -> RequestId {
        let mut headers = HeaderMap::new();
        for v in values {
            headers.append(REQUEST_ID_HEADER, HeaderValue::from_bytes(v).unwrap());
        }
        RequestId::from_headers(&headers)
    }

    fn generated(id: &RequestId) -> bool {
        id.as_str().len() == 32 && id.as_str().bytes().all(|b| b.is_ascii_hexdigit())
    }

    #[test]
    fn sane_incoming_ids_are_kept() {
        assert_eq!(from(&[b"abc-123"]).as_str(), "abc-123");
        assert_eq!(from(&[b"req:42/x~!"]).as_str(), "req:42/x~!");
        let longest = "x".repeat(MAX_REQUEST_ID_LEN);
        assert_eq!(from(&[longest.as_bytes()]).as_str(), longest);
        // The first of several wins.
        assert_eq!(from(&[b"first", b"second"]).as_str(), "first");
    }

    #[test]
    fn other_ids_are_replaced() {
        let too_long = "x".repeat(MAX_REQUEST_ID_LEN + 1);
        for bad in [
            &b""[..],
            b"has space",
            b"tab\there",
            b"caf\xc3\xa9",
            too_long.as_bytes(),
        ] {
            let id = from(&[bad]);
            assert!(generated(&id), "{bad:?} gave {id:?}");
        }
        assert!(generated(&RequestId::from_headers(&HeaderMap::new())));
    }

    #[test]
    fn generated_ids_differ() {
        let ids: std::collections::HashSet<String> = (0..1000)
            .map(|_| RequestId::generate().to_string())
            .collect();
        assert_eq!(ids.len(), 1000);
        assert!(ids.iter().all(|id| RequestId::accepts(id.as_bytes())));
    }
}
