//! The statuses the reservation services return.
//!
//! Every status carries a `google.rpc.ErrorInfo` whose reason is the name of a
//! `common.v1.ErrorCode` (for example `ERROR_CODE_INVENTORY_CONFLICT`) in the domain [`DOMAIN`],
//! so callers branch on the reason, never on message text.

use tacos_runtime::waiting_room::WaitingRoomError;
use tacos_runtime::{Code, Status};
use traffic_tacos_contracts::common::v1::ErrorCode;

/// The `ErrorInfo` domain of the reservation service's errors.
pub const DOMAIN: &str = "reservation.traffictacos";

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

/// `INVALID_ARGUMENT` when `value` is empty.
pub fn required(field: &str, value: &str) -> Result<(), Status> {
    if value.trim().is_empty() {
        Err(invalid(field, format!("{field} is required")))
    } else {
        Ok(())
    }
}

/// `NOT_FOUND` for `what`.
pub fn not_found(what: impl Into<String>) -> Status {
    status(Code::NotFound, ErrorCode::NotFound, what)
}

/// `FAILED_PRECONDITION` with a domain code.
pub fn precondition(domain_code: ErrorCode, message: impl Into<String>) -> Status {
    status(Code::FailedPrecondition, domain_code, message)
}

/// `PERMISSION_DENIED`, tagged `ERROR_CODE_FORBIDDEN`.
pub fn forbidden(message: impl Into<String>) -> Status {
    status(Code::PermissionDenied, ErrorCode::Forbidden, message)
}

/// The status of a waiting-room failure while checking a reservation token: store outages are
/// `UNAVAILABLE` with a retry hint.
pub fn waiting_room(err: WaitingRoomError) -> Status {
    match err {
        WaitingRoomError::InvalidArgument { field, reason } => invalid(field, reason),
        WaitingRoomError::NotFound => forbidden("the reservation token is not known"),
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
