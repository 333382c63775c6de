//! Base64 for `bytes` fields: standard alphabet with padding out; standard or URL-safe, padded
//! or not, in.

use std::fmt;

const STANDARD: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Displays `data` in the standard alphabet with `=` padding, a group at a time, so serializers
/// write it without an intermediate string.
pub struct Encoded<'a>(pub &'a [u8]);

impl fmt::Display for Encoded<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let char_of = |n: u32, shift: u32| STANDARD[(n >> shift) as usize & 63];
        let mut chunks = self.0.chunks_exact(3);
        let mut buf = [0u8; 256];
        let mut len = 0;
        for c in &mut chunks {
            let n = (u32::from(c[0]) << 16) | (u32::from(c[1]) << 8) | u32::from(c[2]);
            buf[len..len + 4].copy_from_slice(&[
                char_of(n, 18),
                char_of(n, 12),
                char_of(n, 6),
                char_of(n, 0),
            ]);
            len += 4;
            if len == buf.len() {
                f.write_str(ascii(&buf[..len]))?;
                len = 0;
            }
        }
        let tail = match *chunks.remainder() {
            [a] => {
                let n = u32::from(a) << 16;
                [char_of(n, 18), char_of(n, 12), b'=', b'=']
            }
            [a, b] => {
                let n = (u32::from(a) << 16) | (u32::from(b) << 8);
                [char_of(n, 18), char_of(n, 12), char_of(n, 6), b'=']
            }
            _ => return f.write_str(ascii(&buf[..len])),
        };
        f.write_str(ascii(&buf[..len]))?;
        f.write_str(ascii(&tail))
    }
}

/// Every byte the encoder produces comes from the ASCII alphabet.
fn ascii(bytes: &[u8]) -> &str {
    std::str::from_utf8(bytes).unwrap_or_default()
}

#[cfg(test)]
fn encode(data: &[u8]) -> String {
    Encoded(data).to_string()
}

/// Why a base64 string was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeError;

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("invalid base64")
    }
}

fn sextet(c: u8) -> Option<u32> {
    Some(match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' | b'-' => 62,
        b'/' | b'_' => 63,
        _ => return None,
    } as u32)
}

/// Decodes standard or URL-safe base64, with or without padding.
pub fn decode(text: &str) -> Result<Vec<u8>, DecodeError> {
    let bytes = text.as_bytes();
    let unpadded = match bytes {
        [rest @ .., b'=', b'='] => rest,
        [rest @ .., b'='] => rest,
        _ => bytes,
    };
    // Padding, when present, must complete a group of four.
    if unpadded.len() != bytes.len() && !bytes.len().is_multiple_of(4) {
        return Err(DecodeError);
    }
    if unpadded.len() % 4 == 1 {
        return Err(DecodeError);
    }
    let mut out = Vec::with_capacity(unpadded.len() / 4 * 3 + 2);
    let mut chunks = unpadded.chunks_exact(4);
    for c in &mut chunks {
        let n = (sextet(c[0]).ok_or(DecodeError)? << 18)
            | (sextet(c[1]).ok_or(DecodeError)? << 12)
            | (sextet(c[2]).ok_or(DecodeError)? << 6)
            | sextet(c[3]).ok_or(DecodeError)?;
        out.extend_from_slice(&[(n >> 16) as u8, (n >> 8) as u8, n as u8]);
    }
    match *chunks.remainder() {
        [a, b] => {
            let n = (sextet(a).ok_or(DecodeError)? << 18) | (sextet(b).ok_or(DecodeError)? << 12);
            out.push((n >> 16) as u8);
        }
        [a, b, c] => {
            let n = (sextet(a).ok_or(DecodeError)? << 18)
                | (sextet(b).ok_or(DecodeError)? << 12)
                | (sextet(c).ok_or(DecodeError)? << 6);
            out.extend_from_slice(&[(n >> 16) as u8, (n >> 8) as u8]);
        }
        _ => {}
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_remainder() {
        for len in 0..10u8 {
            let data: Vec<u8> = (0..len)
                .map(|i| i.wrapping_mul(97).wrapping_add(250))
                .collect();
            assert_eq!(decode(&encode(&data)).unwrap(), data);
        }
        assert_eq!(encode(b"foob"), "Zm9vYg==");
        // Longer than the encoder's buffer, so it is flushed mid-way.
        let long: Vec<u8> = (0..1000u32).map(|i| (i * 7) as u8).collect();
        assert_eq!(decode(&encode(&long)).unwrap(), long);
    }

    #[test]
    fn accepts_url_safe_and_unpadded() {
        assert_eq!(decode("-_8").unwrap(), vec![0xfb, 0xff]);
        assert_eq!(decode("+/8=").unwrap(), vec![0xfb, 0xff]);
        assert_eq!(decode("Zm9vYg").unwrap(), b"foob");
    }

    #[test]
    fn rejects_garbage() {
        assert!(decode("Zm9v!").is_err());
        assert!(decode("Z").is_err());
        assert!(decode("Zg=").is_err());
    }
}
