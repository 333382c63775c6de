//! The one error type of Tacos services: a gRPC code, a message and `google.rpc` details.
//!
//! A handler returns [`Status`] on both protocols. Over gRPC it travels as `grpc-status`,
//! `grpc-message` and `grpc-status-details-bin` (an encoded `google.rpc.Status`); over REST it
//! becomes a JSON body and an HTTP status code (see [`http`] for the mapping and the body shape).
//!
//! Three detail messages are modelled: `google.rpc.ErrorInfo` (a machine-readable reason),
//! `google.rpc.BadRequest` (field violations; every client mistake the runtime detects carries one
//! naming the field) and `google.rpc.RetryInfo` (when to retry; REST also sends `Retry-After`).

mod grpc;
pub mod http;

use std::fmt;
use std::time::Duration;

pub use tonic::Code;
pub use tonic_types::{BadRequest, ErrorInfo, FieldViolation, RetryInfo};

/// An RPC failure: code, human-readable message, structured details and optional metadata.
#[derive(Clone, PartialEq)]
pub struct Status {
    code: Code,
    message: String,
    // Boxed so `Result<Response<T>, Status>` stays small on the success path.
    details: Option<Box<StatusDetails>>,
    metadata: Option<Box<::http::HeaderMap>>,
}

/// The `google.rpc` detail messages a [`Status`] can carry.
#[derive(Clone, Debug, Default)]
pub struct StatusDetails {
    /// `google.rpc.ErrorInfo`: the reason, its domain and extra key/values.
    pub error_info: Option<ErrorInfo>,
    /// `google.rpc.BadRequest`: which request fields were wrong and why.
    pub bad_request: Option<BadRequest>,
    /// `google.rpc.RetryInfo`: how long the client should wait before retrying.
    pub retry_info: Option<RetryInfo>,
}

impl PartialEq for StatusDetails {
    fn eq(&self, other: &Self) -> bool {
        // The tonic-types messages have no `PartialEq`; compare the fields that travel.
        let info = |d: &Self| {
            d.error_info
                .as_ref()
                .map(|i| (i.reason.clone(), i.domain.clone(), i.metadata.clone()))
        };
        let bad = |d: &Self| {
            d.bad_request.as_ref().map(|b| {
                b.field_violations
                    .iter()
                    .map(|v| (v.field.clone(), v.description.clone()))
                    .collect::<Vec<_>>()
            })
        };
        let retry = |d: &Self| d.retry_info.as_ref().map(|r| r.retry_delay);
        info(self) == info(other) && bad(self) == bad(other) && retry(self) == retry(other)
    }
}

impl StatusDetails {
    /// Whether no detail message is set.
    pub fn is_empty(&self) -> bool {
        self.error_info.is_none() && self.bad_request.is_none() && self.retry_info.is_none()
    }
}

macro_rules! constructors {
    ($($(#[$doc:meta])* $name:ident => $code:ident;)*) => {
        $(
            $(#[$doc])*
            pub fn $name(message: impl Into<String>) -> Self {
                Self::new(Code::$code, message)
            }
        )*
    };
}

impl Status {
    /// A status with `code` and `message` and no details.
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            details: None,
            metadata: None,
        }
    }

    constructors! {
        /// `CANCELLED`: the caller gave up (REST 499).
        cancelled => Cancelled;
        /// `UNKNOWN` (REST 500).
        unknown => Unknown;
        /// `INVALID_ARGUMENT`: the request is wrong whatever the system state (REST 400).
        invalid_argument => InvalidArgument;
        /// `DEADLINE_EXCEEDED` (REST 504).
        deadline_exceeded => DeadlineExceeded;
        /// `NOT_FOUND` (REST 404).
        not_found => NotFound;
        /// `ALREADY_EXISTS` (REST 409).
        already_exists => AlreadyExists;
        /// `PERMISSION_DENIED` (REST 403).
        permission_denied => PermissionDenied;
        /// `RESOURCE_EXHAUSTED` (REST 429).
        resource_exhausted => ResourceExhausted;
        /// `FAILED_PRECONDITION` (REST 400).
        failed_precondition => FailedPrecondition;
        /// `ABORTED` (REST 409).
        aborted => Aborted;
        /// `OUT_OF_RANGE` (REST 400).
        out_of_range => OutOfRange;
        /// `UNIMPLEMENTED` (REST 501).
        unimplemented => Unimplemented;
        /// `INTERNAL` (REST 500).
        internal => Internal;
        /// `UNAVAILABLE` (REST 503).
        unavailable => Unavailable;
        /// `DATA_LOSS` (REST 500).
        data_loss => DataLoss;
        /// `UNAUTHENTICATED` (REST 401).
        unauthenticated => Unauthenticated;
    }

    /// `INVALID_ARGUMENT` with a `BadRequest` violation naming `field`.
    ///
    /// This is the shape of every client mistake the runtime itself detects (bad JSON, a path or
    /// query value that does not parse, an unknown enum name).
    pub fn invalid_field(field: impl Into<String>, description: impl Into<String>) -> Self {
        let field = field.into();
        let description = description.into();
        Self::invalid_argument(format!("invalid value for field `{field}`: {description}"))
            .with_bad_request(BadRequest::with_violation(field, description))
    }

    /// The gRPC code.
    pub fn code(&self) -> Code {
        self.code
    }

    /// The human-readable message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The detail messages (empty when none were attached).
    pub fn details(&self) -> &StatusDetails {
        static EMPTY: StatusDetails = StatusDetails {
            error_info: None,
            bad_request: None,
            retry_info: None,
        };
        self.details.as_deref().unwrap_or(&EMPTY)
    }

    /// Metadata sent with the error: gRPC trailers, REST response headers.
    pub fn metadata(&self) -> Option<&::http::HeaderMap> {
        self.metadata.as_deref()
    }

    /// Mutable access to the error metadata, created on first use.
    pub fn metadata_mut(&mut self) -> &mut ::http::HeaderMap {
        self.metadata.get_or_insert_with(Default::default)
    }

    fn details_mut(&mut self) -> &mut StatusDetails {
        self.details.get_or_insert_with(Default::default)
    }

    /// Attaches a `google.rpc.ErrorInfo`.
    pub fn with_error_info(
        mut self,
        reason: impl Into<String>,
        domain: impl Into<String>,
        metadata: impl IntoIterator<Item = (String, String)>,
    ) -> Self {
        self.details_mut().error_info = Some(ErrorInfo {
            reason: reason.into(),
            domain: domain.into(),
            metadata: metadata.into_iter().collect(),
        });
        self
    }

    /// Attaches a `google.rpc.BadRequest`, merging with violations already present.
    pub fn with_bad_request(mut self, bad_request: BadRequest) -> Self {
        let details = self.details_mut();
        match &mut details.bad_request {
            Some(existing) => existing
                .field_violations
                .extend(bad_request.field_violations),
            None => details.bad_request = Some(bad_request),
        }
        self
    }

    /// Attaches a `google.rpc.RetryInfo` asking the client to wait `delay`.
    pub fn with_retry_after(mut self, delay: Duration) -> Self {
        self.details_mut().retry_info = Some(RetryInfo::new(Some(delay)));
        self
    }

    /// Replaces all details at once.
    pub fn with_details(mut self, details: StatusDetails) -> Self {
        self.details = (!details.is_empty()).then(|| Box::new(details));
        self
    }

    /// Attaches metadata (gRPC trailers, REST headers).
    pub fn with_metadata(mut self, metadata: ::http::HeaderMap) -> Self {
        self.metadata = (!metadata.is_empty()).then(|| Box::new(metadata));
        self
    }
}

impl fmt::Debug for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("Status");
        s.field("code", &self.code).field("message", &self.message);
        if let Some(details) = &self.details {
            s.field("details", details);
        }
        if let Some(metadata) = &self.metadata {
            s.field("metadata", metadata);
        }
        s.finish()
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", code_name(self.code), self.message)
    }
}

impl std::error::Error for Status {}

/// The canonical upper-case name of a code (`NOT_FOUND`), as used in `google.rpc.Code`.
pub fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::Aborted => "ABORTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        Code::DataLoss => "DATA_LOSS",
        Code::Unauthenticated => "UNAUTHENTICATED",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_field_names_the_field() {
        let status = Status::invalid_field("shelf.name", "not a number");
        assert_eq!(status.code(), Code::InvalidArgument);
        let violations = &status
            .details()
            .bad_request
            .as_ref()
            .unwrap()
            .field_violations;
        assert_eq!(violations.len(), 1);
        assert_eq!(violations[0].field, "shelf.name");
    }

    #[test]
    fn bad_requests_merge() {
        let status =
            Status::invalid_field("a", "x").with_bad_request(BadRequest::with_violation("b", "y"));
        let violations = &status
            .details()
            .bad_request
            .as_ref()
            .unwrap()
            .field_violations;
        assert_eq!(
            violations
                .iter()
                .map(|v| v.field.as_str())
                .collect::<Vec<_>>(),
            ["a", "b"]
        );
    }
}
