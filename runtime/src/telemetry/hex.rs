//! Lowercase hex, the only form W3C trace context allows.

const DIGITS: &[u8; 16] = b"0123456789abcdef";

/// Writes `bytes` as lowercase hex into `out`, which holds exactly twice as many bytes.
pub(crate) fn encode(bytes: &[u8], out: &mut [u8]) {
    debug_assert_eq!(out.len(), bytes.len() * 2);
    for (byte, pair) in bytes.iter().zip(out.chunks_exact_mut(2)) {
        pair[0] = DIGITS[usize::from(byte >> 4)];
        pair[1] = DIGITS[usize::from(byte & 0x0f)];
    }
}

/// Decodes lowercase hex of exactly `N * 2` digits; uppercase and anything else is refused.
pub(crate) fn decode<const N: usize>(text: &[u8]) -> Option<[u8; N]> {
    if text.len() != N * 2 {
        return None;
    }
    let mut out = [0u8; N];
    for (byte, pair) in out.iter_mut().zip(text.chunks_exact(2)) {
        *byte = (digit(pair[0])? << 4) | digit(pair[1])?;
    }
    Some(out)
}

fn digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_refusals() {
        let mut out = [0u8; 4];
        encode(&[0x0a, 0xf1], &mut out);
        assert_eq!(&out, b"0af1");
        assert_eq!(decode::<2>(b"0af1"), Some([0x0a, 0xf1]));
        assert_eq!(decode::<2>(b"0AF1"), None);
        assert_eq!(decode::<2>(b"0af"), None);
        assert_eq!(decode::<2>(b"0ag1"), None);
    }
}
