//! Deadlines from request headers.
//!
//! - `grpc-timeout` (both protocols): the gRPC format, up to 8 digits and a unit: `H` hours,
//!   `M` minutes, `S` seconds, `m` milliseconds, `u` microseconds, `n` nanoseconds (`250m`).
//! - `X-Request-Timeout` (both protocols, meant for REST): the same gRPC format, or a plain
//!   decimal number of seconds (`1.5`).
//!
//! When both are present the shorter wins. The handler's deadline is then capped by the method's
//! policy timeout. An unparsable value is a client mistake: `INVALID_ARGUMENT` naming the header.
//! When the deadline passes the handler's future is dropped (cancelling it) and the call answers
//! `DEADLINE_EXCEEDED` (REST 504).

use std::time::Duration;

use http::HeaderMap;

use crate::status::Status;

/// The gRPC timeout header.
pub const GRPC_TIMEOUT: &str = "grpc-timeout";
/// The REST timeout header.
pub const REQUEST_TIMEOUT: &str = "x-request-timeout";

/// Parses a `grpc-timeout` value (`100m`, `2S`, `1H`).
pub fn parse_grpc_timeout(value: &str) -> Option<Duration> {
    let unit = value.chars().last()?;
    let digits = &value[..value.len() - unit.len_utf8()];
    if digits.is_empty() || digits.len() > 8 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let amount: u64 = digits.parse().ok()?;
    Some(match unit {
        'H' => Duration::from_secs(amount * 3600),
        'M' => Duration::from_secs(amount * 60),
        'S' => Duration::from_secs(amount),
        'm' => Duration::from_millis(amount),
        'u' => Duration::from_micros(amount),
        'n' => Duration::from_nanos(amount),
        _ => return None,
    })
}

/// Parses an `X-Request-Timeout` value: gRPC format or decimal seconds.
pub fn parse_request_timeout(value: &str) -> Option<Duration> {
    if let Some(d) = parse_grpc_timeout(value) {
        return Some(d);
    }
    let seconds: f64 = value.trim().parse().ok()?;
    (0.0..1e9)
        .contains(&seconds)
        .then(|| Duration::from_secs_f64(seconds))
}

/// The timeout requested by the client's headers, if any.
pub fn timeout_from_headers(headers: &HeaderMap) -> Result<Option<Duration>, Status> {
    let mut timeout: Option<Duration> = None;
    type Parser = fn(&str) -> Option<Duration>;
    let sources: [(&str, Parser); 2] = [
        (GRPC_TIMEOUT, parse_grpc_timeout),
        (REQUEST_TIMEOUT, parse_request_timeout),
    ];
    for (name, parse) in sources {
        if let Some(value) = headers.get(name) {
            let parsed = value
                .to_str()
                .ok()
                .and_then(parse)
                .ok_or_else(|| Status::invalid_field(name, "not a valid timeout"))?;
            timeout = Some(timeout.map_or(parsed, |t| t.min(parsed)));
        }
    }
    Ok(timeout)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_units() {
        assert_eq!(parse_grpc_timeout("2H"), Some(Duration::from_secs(7200)));
        assert_eq!(parse_grpc_timeout("3M"), Some(Duration::from_secs(180)));
        assert_eq!(parse_grpc_timeout("4S"), Some(Duration::from_secs(4)));
        assert_eq!(parse_grpc_timeout("250m"), Some(Duration::from_millis(250)));
        assert_eq!(parse_grpc_timeout("7u"), Some(Duration::from_micros(7)));
        assert_eq!(parse_grpc_timeout("9n"), Some(Duration::from_nanos(9)));
        assert_eq!(parse_grpc_timeout("123456789S"), None);
        assert_eq!(parse_grpc_timeout("S"), None);
        assert_eq!(parse_grpc_timeout("1x"), None);
        assert_eq!(parse_grpc_timeout("-1S"), None);
    }

    #[test]
    fn rest_accepts_seconds() {
        assert_eq!(
            parse_request_timeout("1.5"),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(
            parse_request_timeout("100m"),
            Some(Duration::from_millis(100))
        );
        assert_eq!(parse_request_timeout("soon"), None);
        assert_eq!(parse_request_timeout("-3"), None);
    }

    #[test]
    fn shorter_wins_and_garbage_is_rejected() {
        let mut headers = HeaderMap::new();
        headers.insert(GRPC_TIMEOUT, "5S".parse().unwrap());
        headers.insert(REQUEST_TIMEOUT, "2".parse().unwrap());
        assert_eq!(
            timeout_from_headers(&headers).unwrap(),
            Some(Duration::from_secs(2))
        );
        headers.insert(REQUEST_TIMEOUT, "later".parse().unwrap());
        let err = timeout_from_headers(&headers).unwrap_err();
        assert_eq!(err.code(), crate::status::Code::InvalidArgument);
    }
}
