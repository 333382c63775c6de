//! The waiting room's error type.

use std::time::Duration;

/// Failure of a waiting-room call. Outcomes a client caused with a valid request (a denied
/// admission, an unknown token) are results, not errors.
#[derive(Debug, thiserror::Error)]
pub enum WaitingRoomError {
    /// A request argument is missing or malformed.
    #[error("invalid {field}: {reason}")]
    InvalidArgument {
        /// The offending argument.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The queue store cannot be reached; nothing was changed that the caller can observe
    /// wrongly, and the call may be retried after `retry_after`.
    #[error("waiting room unavailable: {detail}")]
    Unavailable {
        /// Suggested wait before retrying.
        retry_after: Duration,
        /// What failed.
        detail: String,
    },
    /// The waiting token is well formed but no queue knows it.
    #[error("waiting token not found")]
    NotFound,
    /// The store answered something this code does not understand.
    #[error("waiting room internal error: {0}")]
    Internal(String),
}

/// Coarse classification of a [`WaitingRoomError`], for mapping onto gRPC codes and HTTP statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// gRPC `INVALID_ARGUMENT`, HTTP 400.
    InvalidArgument,
    /// gRPC `NOT_FOUND`, HTTP 404.
    NotFound,
    /// gRPC `UNAVAILABLE`, HTTP 503 with `Retry-After`.
    Unavailable,
    /// gRPC `INTERNAL`, HTTP 500.
    Internal,
}

impl ErrorCode {
    /// The HTTP status of the standard gRPC to HTTP mapping.
    pub fn http_status(self) -> u16 {
        match self {
            Self::InvalidArgument => 400,
            Self::NotFound => 404,
            Self::Unavailable => 503,
            Self::Internal => 500,
        }
    }
}

impl WaitingRoomError {
    /// The classification of this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::InvalidArgument { .. } => ErrorCode::InvalidArgument,
            Self::NotFound => ErrorCode::NotFound,
            Self::Unavailable { .. } => ErrorCode::Unavailable,
            Self::Internal(_) => ErrorCode::Internal,
        }
    }

    /// How long to wait before retrying, for errors worth retrying.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Unavailable { retry_after, .. } => Some(*retry_after),
            _ => None,
        }
    }

    pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Self::InvalidArgument {
            field,
            reason: reason.into(),
        }
    }

    pub(crate) fn unavailable(detail: impl Into<String>) -> Self {
        Self::Unavailable {
            retry_after: Duration::from_secs(1),
            detail: detail.into(),
        }
    }
}
