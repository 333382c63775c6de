//! Percent-decoding of path variables and query strings.

use std::borrow::Cow;

/// Which encoded characters stay encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Keep {
    /// Decode everything (query strings).
    Nothing,
    /// Keep `%2F` (single-segment path variables: a decoded `/` would read as a separator).
    Slash,
    /// Keep RFC 6570 reserved characters (multi-segment variables, `**`).
    Reserved,
}

const RESERVED: &[u8] = b":/?#[]@!$&'()*+,;=";

/// Decodes `%XX` escapes (and `+` as a space when `plus_as_space`), keeping what `keep` says.
pub(crate) fn decode(
    input: &str,
    keep: Keep,
    plus_as_space: bool,
) -> Result<Cow<'_, str>, &'static str> {
    let bytes = input.as_bytes();
    if !bytes
        .iter()
        .any(|&b| b == b'%' || (plus_as_space && b == b'+'))
    {
        return Ok(Cow::Borrowed(input));
    }
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .ok_or("truncated percent-encoding")?;
                let value = (hex_digit(hex[0]).ok_or("invalid percent-encoding")? << 4)
                    | hex_digit(hex[1]).ok_or("invalid percent-encoding")?;
                let kept = match keep {
                    Keep::Nothing => false,
                    Keep::Slash => value == b'/',
                    Keep::Reserved => RESERVED.contains(&value),
                };
                if kept {
                    out.extend_from_slice(&bytes[i..i + 3]);
                } else {
                    out.push(value);
                }
                i += 3;
            }
            b'+' if plus_as_space => {
                out.push(b' ');
                i += 1;
            }
            other => {
                out.push(other);
                i += 1;
            }
        }
    }
    String::from_utf8(out)
        .map(Cow::Owned)
        .map_err(|_| "percent-encoded bytes are not valid UTF-8")
}

fn hex_digit(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_segment_keeps_encoded_slash() {
        assert_eq!(decode("a%2Fb%20c", Keep::Slash, false).unwrap(), "a%2Fb c");
        assert_eq!(decode("a%2fb", Keep::Slash, false).unwrap(), "a%2fb");
    }

    #[test]
    fn multi_segment_keeps_reserved() {
        assert_eq!(
            decode("a/b%2Fc%3Fd%41%C3%A9", Keep::Reserved, false).unwrap(),
            "a/b%2Fc%3FdAé"
        );
    }

    #[test]
    fn query_decodes_everything() {
        assert_eq!(decode("a+b%2B%2F", Keep::Nothing, true).unwrap(), "a b+/");
    }

    #[test]
    fn bad_input_is_an_error() {
        assert!(decode("%zz", Keep::Nothing, false).is_err());
        assert!(decode("%4", Keep::Nothing, false).is_err());
        assert!(decode("%FF", Keep::Nothing, false).is_err());
    }
}
