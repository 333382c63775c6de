//! One place that turns failures into `Status` values and in-band `common.v1.Error` fields, so
//! both always say the same thing.
//!
//! Every `Status` the gateway returns carries a `google.rpc.ErrorInfo` whose reason is the name of
//! the matching `common.v1.ErrorCode` (for example `ERROR_CODE_RATE_LIMITED`), in the domain
//! [`DOMAIN`]. Responses that report a refusal in-band (an admission that was denied, a token that
//! expired) fill their `error` field with the same code and message.

use tacos_runtime::waiting_room::WaitingRoomError;
use tacos_runtime::{Code, Status};
use traffic_tacos_contracts::common::v1::{Error as WireError, ErrorCode, ErrorDetail};

/// The `ErrorInfo` domain of the gateway's errors.
pub const DOMAIN: &str = "gateway.traffictacos";

/// A status with `code` and `message`, tagged with the domain error code.
pub fn status(code: Code, domain_code: ErrorCode, message: impl Into<String>) -> Status {
    Status::new(code, message).with_error_info(domain_code.as_str_name(), DOMAIN, [])
}

/// `INVALID_ARGUMENT` naming `field`, tagged `ERROR_CODE_INVALID_ARGUMENT`.
pub fn invalid(field: &str, reason: impl Into<String>) -> Status {
    Status::invalid_field(field, reason).with_error_info(
        ErrorCode::InvalidArgument.as_str_name(),
        DOMAIN,
        [],
    )
}

/// `NOT_FOUND` for `what`.
pub fn not_found(what: impl Into<String>) -> Status {
    status(Code::NotFound, ErrorCode::NotFound, what)
}

/// `FAILED_PRECONDITION` with a domain code.
pub fn precondition(domain_code: ErrorCode, message: impl Into<String>) -> Status {
    status(Code::FailedPrecondition, domain_code, message)
}

/// The status of a waiting-room failure: store outages are `UNAVAILABLE` with a retry hint
/// (`RetryInfo` over gRPC, `Retry-After` over REST).
pub fn waiting_room(err: WaitingRoomError) -> Status {
    match err {
        WaitingRoomError::InvalidArgument { field, reason } => invalid(field, reason),
        WaitingRoomError::NotFound => not_found("waiting token not found"),
        WaitingRoomError::Unavailable { retry_after, .. } => status(
            Code::Unavailable,
            ErrorCode::Unavailable,
            "the waiting room is temporarily unavailable: retry shortly",
        )
        .with_retry_after(retry_after),
        WaitingRoomError::Internal(detail) => {
            tracing::error!(%detail, "waiting room internal error");
            status(
                Code::Internal,
                ErrorCode::Internal,
                "waiting room internal error",
            )
        }
    }
}

/// The in-band error field for a refusal reported inside a successful response.
pub fn in_band(code: ErrorCode, message: impl Into<String>) -> WireError {
    WireError {
        code: code as i32,
        message: message.into(),
        trace_id: String::new(),
        details: Vec::new(),
    }
}

/// The in-band error field for a refusal about one request field.
pub fn in_band_field(code: ErrorCode, message: &str, field: &str, value: &str) -> WireError {
    WireError {
        details: vec![ErrorDetail {
            field: field.to_owned(),
            reason: message.to_owned(),
            value: value.to_owned(),
        }],
        ..in_band(code, message)
    }
}
