//! Unguessable, URL-safe tokens.
//!
//! A waiting token reads `w1.<event>.<secret>`: the event id (base64url) tells a status call
//! which queue to look in, since the contract's status request carries the token alone; the
//! secret is 128 random bits from the thread-local CSPRNG. Changing either part yields a token
//! that no queue knows. A reservation token is `r1.<secret>`, looked up inside the event it was
//! granted for, so it cannot be used for another event.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rand::Rng as _;

/// Characters of a base64url-encoded 128-bit secret.
const SECRET_LEN: usize = 22;

/// The longest event id accepted; keeps keys and tokens short.
pub(crate) const MAX_EVENT_ID_LEN: usize = 128;

fn secret() -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

fn is_secret(s: &str) -> bool {
    s.len() == SECRET_LEN
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A fresh waiting token for `event_id`.
pub(crate) fn new_waiting_token(event_id: &str) -> String {
    format!("w1.{}.{}", URL_SAFE_NO_PAD.encode(event_id), secret())
}

/// A fresh reservation token.
pub(crate) fn new_reservation_token() -> String {
    format!("r1.{}", secret())
}

/// The event a well-formed waiting token names; `None` for anything malformed.
pub(crate) fn waiting_token_event(token: &str) -> Option<String> {
    let rest = token.strip_prefix("w1.")?;
    let (event, secret) = rest.split_once('.')?;
    if !is_secret(secret) {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD.decode(event).ok()?;
    let event = String::from_utf8(bytes).ok()?;
    valid_event_id(&event).then_some(event)
}

/// True when `token` has the shape of a reservation token.
pub(crate) fn is_reservation_token(token: &str) -> bool {
    token.strip_prefix("r1.").is_some_and(is_secret)
}

/// Event ids become part of Redis keys inside a `{...}` hash tag, so braces are refused.
pub(crate) fn valid_event_id(event_id: &str) -> bool {
    !event_id.is_empty()
        && event_id.len() <= MAX_EVENT_ID_LEN
        && !event_id.contains(['{', '}'])
        && !event_id.chars().any(char::is_control)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waiting_tokens_round_trip_their_event_and_differ() {
        let a = new_waiting_token("concert-42");
        let b = new_waiting_token("concert-42");
        assert_ne!(a, b);
        assert_eq!(waiting_token_event(&a).as_deref(), Some("concert-42"));
        assert!(a
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || b"-_.".contains(&c)));
    }

    #[test]
    fn malformed_tokens_are_refused() {
        let good = new_waiting_token("e");
        for bad in [
            "",
            "w1.",
            "w1..",
            "w2.ZQ.AAAAAAAAAAAAAAAAAAAAAA",
            &good[..good.len() - 1],
            &format!("{good}x"),
            "w1.%%%.AAAAAAAAAAAAAAAAAAAAAA",
            "w1.ew.AAAAAAAAAAAAAAAAAAAAAA", // "{" is not a valid event id
        ] {
            assert_eq!(waiting_token_event(bad), None, "{bad}");
        }
        assert!(is_reservation_token(&new_reservation_token()));
        assert!(!is_reservation_token(&good));
    }
}
