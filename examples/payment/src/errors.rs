//! The statuses the payment service returns: each carries a `google.rpc.ErrorInfo` whose reason
//! is a `common.v1.ErrorCode` name, in the domain [`DOMAIN`].

use tacos_runtime::{Code, Status};
use traffic_tacos_contracts::common::v1::ErrorCode;

/// The `ErrorInfo` domain of the payment service's errors.
pub const DOMAIN: &str = "payment.traffictacos";

/// A status with `code` and `message`, tagged with the domain error code.
pub fn status(code: Code, domain_code: ErrorCode, message: impl Into<String>) -> Status {
    Status::new(code, message).with_error_info(domain_code.as_str_name(), DOMAIN, [])
}

/// `INVALID_ARGUMENT` naming `field`.
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
