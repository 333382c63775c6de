//! The stored outcome of a call and its binary encoding.
//!
//! # Encoding, version 1
//!
//! Integers are protobuf varints; byte strings are a varint length and the bytes.
//!
//! ```text
//! response: 0x01 0x00 <header count> (<name> <value>)* <message>
//! error:    0x01 0x01 <code> <message text> <details>
//! ```
//!
//! The first byte is the version: a store written by a newer release reads as
//! [`DecodeError`] here instead of as a wrong answer. Decoding checks every length against what
//! is left and refuses trailing bytes.

use bytes::{Buf, BufMut, Bytes, BytesMut};
use http::{HeaderMap, HeaderName, HeaderValue};
use prost::encoding::{decode_varint, encode_varint, encoded_len_varint};

use crate::status::{Code, Status};

const VERSION: u8 = 1;
const KIND_RESPONSE: u8 = 0;
const KIND_ERROR: u8 = 1;

/// What the first call of a key produced; a replay over either protocol answers the same.
#[derive(Clone, Debug, PartialEq)]
pub enum StoredOutcome {
    /// The call succeeded.
    Response {
        /// The prost-encoded response message.
        message: Bytes,
        /// Response headers (gRPC metadata) worth replaying; transport headers do not belong here.
        headers: HeaderMap,
    },
    /// The call failed.
    Error {
        /// The gRPC code.
        code: Code,
        /// The status message.
        message: String,
        /// The encoded `google.rpc.Status` details (empty when there are none).
        details: Bytes,
    },
}

/// A stored outcome that this version cannot read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unreadable stored outcome: {0}")]
pub struct DecodeError(&'static str);

impl StoredOutcome {
    /// The versioned binary form stored by every backend.
    pub fn encode(&self) -> Bytes {
        let mut out = BytesMut::with_capacity(self.encoded_len());
        out.put_u8(VERSION);
        match self {
            StoredOutcome::Response { message, headers } => {
                out.put_u8(KIND_RESPONSE);
                encode_varint(headers.len() as u64, &mut out);
                for (name, value) in headers {
                    put_bytes(&mut out, name.as_str().as_bytes());
                    put_bytes(&mut out, value.as_bytes());
                }
                put_bytes(&mut out, message);
            }
            StoredOutcome::Error {
                code,
                message,
                details,
            } => {
                out.put_u8(KIND_ERROR);
                encode_varint(*code as i32 as u64, &mut out);
                put_bytes(&mut out, message.as_bytes());
                put_bytes(&mut out, details);
            }
        }
        out.freeze()
    }

    fn encoded_len(&self) -> usize {
        let field = |n: usize| encoded_len_varint(n as u64) + n;
        2 + match self {
            StoredOutcome::Response { message, headers } => {
                encoded_len_varint(headers.len() as u64)
                    + headers
                        .iter()
                        .map(|(n, v)| field(n.as_str().len()) + field(v.len()))
                        .sum::<usize>()
                    + field(message.len())
            }
            StoredOutcome::Error {
                message, details, ..
            } => 1 + field(message.len()) + field(details.len()),
        }
    }

    /// The error outcome of a failed call: code, message and the `google.rpc.Status` details
    /// exactly as gRPC sends them. The status's metadata is not kept.
    pub fn from_status(status: &Status) -> Self {
        let grpc = tonic::Status::from(status.clone());
        StoredOutcome::Error {
            code: grpc.code(),
            message: grpc.message().to_owned(),
            details: Bytes::copy_from_slice(grpc.details()),
        }
    }

    /// The [`Status`] an error outcome stands for (`None` for a response).
    pub fn to_status(&self) -> Option<Status> {
        match self {
            StoredOutcome::Response { .. } => None,
            StoredOutcome::Error {
                code,
                message,
                details,
            } => Some(Status::from(tonic::Status::with_details(
                *code,
                message.clone(),
                details.clone(),
            ))),
        }
    }

    /// Reads the form written by [`encode`](Self::encode).
    pub fn decode(mut buf: Bytes) -> Result<Self, DecodeError> {
        if buf.remaining() < 2 {
            return Err(DecodeError("too short"));
        }
        if buf.get_u8() != VERSION {
            return Err(DecodeError("unknown version"));
        }
        let outcome = match buf.get_u8() {
            KIND_RESPONSE => {
                let count = varint(&mut buf)?;
                // Each header takes at least two bytes, so a count past that is a lie.
                if count > buf.remaining() as u64 / 2 {
                    return Err(DecodeError("header count exceeds the data"));
                }
                let mut headers = HeaderMap::with_capacity(count as usize);
                for _ in 0..count {
                    let name = HeaderName::from_bytes(&take(&mut buf)?)
                        .map_err(|_| DecodeError("invalid header name"))?;
                    let value = HeaderValue::from_maybe_shared(take(&mut buf)?)
                        .map_err(|_| DecodeError("invalid header value"))?;
                    headers.append(name, value);
                }
                let message = take(&mut buf)?;
                StoredOutcome::Response { message, headers }
            }
            KIND_ERROR => {
                let code = i32::try_from(varint(&mut buf)?)
                    .map_err(|_| DecodeError("code out of range"))?;
                let code = Code::from_i32(code);
                let message = String::from_utf8(take(&mut buf)?.to_vec())
                    .map_err(|_| DecodeError("message is not UTF-8"))?;
                let details = take(&mut buf)?;
                StoredOutcome::Error {
                    code,
                    message,
                    details,
                }
            }
            _ => return Err(DecodeError("unknown kind")),
        };
        if buf.has_remaining() {
            return Err(DecodeError("trailing bytes"));
        }
        Ok(outcome)
    }
}

fn put_bytes(out: &mut BytesMut, bytes: &[u8]) {
    encode_varint(bytes.len() as u64, out);
    out.put_slice(bytes);
}

fn varint(buf: &mut Bytes) -> Result<u64, DecodeError> {
    decode_varint(buf).map_err(|_| DecodeError("bad varint"))
}

fn take(buf: &mut Bytes) -> Result<Bytes, DecodeError> {
    let len = varint(buf)?;
    if len > buf.remaining() as u64 {
        return Err(DecodeError("length exceeds the data"));
    }
    Ok(buf.split_to(len as usize))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response() -> StoredOutcome {
        let mut headers = HeaderMap::new();
        headers.insert("x-order", HeaderValue::from_static("42"));
        headers.append("x-order", HeaderValue::from_static("43"));
        headers.insert("trace-bin", HeaderValue::from_bytes(b"\x80\xff").unwrap());
        StoredOutcome::Response {
            message: Bytes::from_static(b"\x08\x96\x01"),
            headers,
        }
    }

    fn error() -> StoredOutcome {
        StoredOutcome::Error {
            code: Code::FailedPrecondition,
            message: "sold out — try later".into(),
            details: Bytes::from_static(b"\x0a\x03abc"),
        }
    }

    #[test]
    fn round_trips() {
        for outcome in [
            response(),
            error(),
            StoredOutcome::Response {
                message: Bytes::new(),
                headers: HeaderMap::new(),
            },
        ] {
            let encoded = outcome.encode();
            assert_eq!(encoded.len(), outcome.encoded_len());
            assert_eq!(StoredOutcome::decode(encoded).unwrap(), outcome);
        }
    }

    #[test]
    fn statuses_survive_storage() {
        let status = Status::resource_exhausted("slow down")
            .with_retry_after(std::time::Duration::from_secs(3))
            .with_error_info(
                "QUOTA",
                "tacos.test",
                [("limit".to_owned(), "5".to_owned())],
            );
        let stored = StoredOutcome::from_status(&status);
        let replayed = StoredOutcome::decode(stored.encode())
            .unwrap()
            .to_status()
            .expect("an error outcome");
        assert_eq!(replayed.code(), Code::ResourceExhausted);
        assert_eq!(replayed.message(), "slow down");
        assert_eq!(replayed.details(), status.details());
        assert!(response().to_status().is_none());
    }

    #[test]
    fn the_format_is_fixed() {
        let bytes = error().encode();
        assert_eq!(&bytes[..3], &[1, 1, 9]);
        let bytes = StoredOutcome::Response {
            message: Bytes::from_static(b"m"),
            headers: HeaderMap::new(),
        }
        .encode();
        assert_eq!(&bytes[..], &[1, 0, 0, 1, b'm']);
    }

    #[test]
    fn damaged_input_is_an_error_never_a_panic() {
        let good = response().encode();
        for cut in 0..good.len() {
            assert!(
                StoredOutcome::decode(good.slice(..cut)).is_err(),
                "cut {cut}"
            );
        }
        let mut trailing = good.to_vec();
        trailing.push(0);
        assert!(StoredOutcome::decode(trailing.into()).is_err());
        let mut version = good.to_vec();
        version[0] = 2;
        assert_eq!(
            StoredOutcome::decode(version.into()),
            Err(DecodeError("unknown version"))
        );
        let huge_count = Bytes::from_static(&[1, 0, 0xff, 0xff, 0xff, 0xff, 0x0f]);
        assert!(StoredOutcome::decode(huge_count).is_err());
        let bad_name = Bytes::from_static(&[1, 0, 1, 2, b' ', b'x', 0, 0]);
        assert!(StoredOutcome::decode(bad_name).is_err());
        let bad_utf8 = Bytes::from_static(&[1, 1, 2, 1, 0xff, 0]);
        assert!(StoredOutcome::decode(bad_utf8).is_err());
    }
}
