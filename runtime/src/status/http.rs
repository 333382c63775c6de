//! How a [`Status`] looks over REST.
//!
//! The HTTP status code follows the standard gRPC → HTTP mapping ([`http_status`]). The body is
//! the proto3 JSON form of `google.rpc.Status`, so any client that knows that message can read it:
//!
//! ```json
//! {"code": 3, "message": "invalid value for field `page_size`: not an integer",
//!  "details": [{"@type": "type.googleapis.com/google.rpc.BadRequest",
//!               "fieldViolations": [{"field": "page_size", "description": "not an integer"}]}]}
//! ```
//!
//! `code` is the numeric gRPC code (as in `google.rpc.Status` and grpc-gateway), not the HTTP
//! status, which is already on the response line. `details` is always present, possibly empty.
//! A `RetryInfo` detail is also sent as a `Retry-After` header (whole seconds, rounded up) and the
//! status metadata as response headers.

use std::time::Duration;

use ::http::StatusCode;
use serde_json::{json, Map, Value};

use super::{
    code_name, BadRequest, Code, ErrorInfo, FieldViolation, RetryInfo, Status, StatusDetails,
};

const TYPE_PREFIX: &str = "type.googleapis.com/google.rpc.";

/// The HTTP status for a gRPC code (the mapping of `google.rpc.Code`'s documentation).
pub fn http_status(code: Code) -> StatusCode {
    match code {
        Code::Ok => StatusCode::OK,
        Code::InvalidArgument | Code::FailedPrecondition | Code::OutOfRange => {
            StatusCode::BAD_REQUEST
        }
        Code::Unauthenticated => StatusCode::UNAUTHORIZED,
        Code::PermissionDenied => StatusCode::FORBIDDEN,
        Code::NotFound => StatusCode::NOT_FOUND,
        Code::AlreadyExists | Code::Aborted => StatusCode::CONFLICT,
        Code::ResourceExhausted => StatusCode::TOO_MANY_REQUESTS,
        // 499 is nginx's "client closed request"; it has no name in `http`.
        Code::Cancelled => StatusCode::from_u16(499).expect("499 is a valid status code"),
        Code::Unknown | Code::Internal | Code::DataLoss => StatusCode::INTERNAL_SERVER_ERROR,
        Code::Unimplemented => StatusCode::NOT_IMPLEMENTED,
        Code::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        Code::DeadlineExceeded => StatusCode::GATEWAY_TIMEOUT,
    }
}

impl Status {
    /// The HTTP status code this status is answered with over REST.
    pub fn http_status(&self) -> StatusCode {
        http_status(self.code)
    }

    /// The JSON body (`google.rpc.Status` in proto3 JSON) this status is answered with over REST.
    pub fn to_json(&self) -> Value {
        let mut details = Vec::new();
        if let Some(info) = &self.details().error_info {
            details.push(json!({
                "@type": format!("{TYPE_PREFIX}ErrorInfo"),
                "reason": info.reason,
                "domain": info.domain,
                "metadata": info.metadata,
            }));
        }
        if let Some(bad) = &self.details().bad_request {
            let violations: Vec<Value> = bad
                .field_violations
                .iter()
                .map(|v| json!({"field": v.field, "description": v.description}))
                .collect();
            details.push(json!({
                "@type": format!("{TYPE_PREFIX}BadRequest"),
                "fieldViolations": violations,
            }));
        }
        if let Some(retry) = &self.details().retry_info {
            let mut object = Map::new();
            object.insert("@type".into(), format!("{TYPE_PREFIX}RetryInfo").into());
            if let Some(delay) = retry.retry_delay {
                object.insert("retryDelay".into(), duration_json(delay).into());
            }
            details.push(Value::Object(object));
        }
        json!({
            "code": self.code as i32,
            "message": self.message,
            "details": details,
        })
    }

    /// The JSON body as bytes.
    pub fn to_json_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(&self.to_json()).expect("a json value always serializes")
    }

    /// Reads a status back from a REST error body; `None` when the body is not one.
    ///
    /// Accepts `code` as a number or as a name (`"NOT_FOUND"`).
    pub fn from_json(body: &[u8]) -> Option<Status> {
        let value: Value = serde_json::from_slice(body).ok()?;
        let code = match value.get("code")? {
            Value::Number(n) => Code::from(i32::try_from(n.as_i64()?).ok()?),
            Value::String(name) => code_from_name(name)?,
            _ => return None,
        };
        let message = value.get("message").and_then(Value::as_str).unwrap_or("");
        let mut details = StatusDetails::default();
        for detail in value
            .get("details")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let kind = detail.get("@type").and_then(Value::as_str).unwrap_or("");
            match kind.strip_prefix(TYPE_PREFIX) {
                Some("ErrorInfo") => details.error_info = Some(error_info_from_json(detail)),
                Some("BadRequest") => details.bad_request = Some(bad_request_from_json(detail)),
                Some("RetryInfo") => {
                    let delay = detail
                        .get("retryDelay")
                        .and_then(Value::as_str)
                        .and_then(parse_duration_json);
                    details.retry_info = Some(RetryInfo::new(delay));
                }
                _ => {}
            }
        }
        Some(Status::new(code, message).with_details(details))
    }
}

/// The `Retry-After` header value (whole seconds, rounded up) for a status, when it has one.
pub fn retry_after_seconds(status: &Status) -> Option<u64> {
    let delay = status.details().retry_info.as_ref()?.retry_delay?;
    Some(delay.as_secs() + u64::from(delay.subsec_nanos() > 0))
}

fn code_from_name(name: &str) -> Option<Code> {
    (0..=16)
        .map(Code::from)
        .find(|code| code_name(*code) == name)
}

fn error_info_from_json(detail: &Value) -> ErrorInfo {
    let text = |key: &str| {
        detail
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    let metadata = detail
        .get("metadata")
        .and_then(Value::as_object)
        .map(|map| {
            map.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                .collect()
        })
        .unwrap_or_default();
    ErrorInfo {
        reason: text("reason"),
        domain: text("domain"),
        metadata,
    }
}

fn bad_request_from_json(detail: &Value) -> BadRequest {
    let violations = detail
        .get("fieldViolations")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|v| {
            let text = |key: &str| v.get(key).and_then(Value::as_str).unwrap_or("").to_owned();
            FieldViolation::new(text("field"), text("description"))
        })
        .collect::<Vec<_>>();
    BadRequest::new(violations)
}

/// `google.protobuf.Duration` in JSON: seconds with 0, 3, 6 or 9 fractional digits and `s`.
fn duration_json(d: Duration) -> String {
    let nanos = d.subsec_nanos();
    let secs = d.as_secs();
    if nanos == 0 {
        format!("{secs}s")
    } else if nanos.is_multiple_of(1_000_000) {
        format!("{secs}.{:03}s", nanos / 1_000_000)
    } else if nanos.is_multiple_of(1_000) {
        format!("{secs}.{:06}s", nanos / 1_000)
    } else {
        format!("{secs}.{nanos:09}s")
    }
}

fn parse_duration_json(text: &str) -> Option<Duration> {
    let number = text.strip_suffix('s')?;
    let (secs, frac) = number.split_once('.').unwrap_or((number, ""));
    if frac.len() > 9 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let nanos = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<9}").parse().ok()?
    };
    Some(Duration::new(secs.parse().ok()?, nanos))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mapping_follows_the_standard_table() {
        let table = [
            (Code::InvalidArgument, 400),
            (Code::FailedPrecondition, 400),
            (Code::OutOfRange, 400),
            (Code::Unauthenticated, 401),
            (Code::PermissionDenied, 403),
            (Code::NotFound, 404),
            (Code::AlreadyExists, 409),
            (Code::Aborted, 409),
            (Code::ResourceExhausted, 429),
            (Code::Cancelled, 499),
            (Code::Unknown, 500),
            (Code::Internal, 500),
            (Code::DataLoss, 500),
            (Code::Unimplemented, 501),
            (Code::Unavailable, 503),
            (Code::DeadlineExceeded, 504),
        ];
        for (code, http) in table {
            assert_eq!(http_status(code).as_u16(), http, "{code:?}");
        }
    }

    #[test]
    fn json_round_trips() {
        let status = Status::invalid_field("shelf", "bad")
            .with_error_info("R", "d", [("a".into(), "b".into())])
            .with_retry_after(Duration::from_millis(2500));
        let body = status.to_json_bytes();
        let text = String::from_utf8(body.clone()).unwrap();
        assert!(text.contains("\"retryDelay\":\"2.500s\""), "{text}");
        assert!(text.contains("\"code\":3"), "{text}");
        assert_eq!(Status::from_json(&body).unwrap(), status);
        assert_eq!(retry_after_seconds(&status), Some(3));
    }

    #[test]
    fn code_names_are_accepted() {
        let status = Status::from_json(br#"{"code":"NOT_FOUND","message":"m"}"#).unwrap();
        assert_eq!(status.code(), Code::NotFound);
    }
}
