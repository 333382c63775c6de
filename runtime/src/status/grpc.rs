//! [`Status`] ⇄ `tonic::Status`: code, message, `grpc-status-details-bin` and trailers.

use tonic::metadata::MetadataMap;
use tonic_types::{ErrorDetail, StatusExt};

use super::{Status, StatusDetails};

impl From<Status> for tonic::Status {
    fn from(status: Status) -> Self {
        let metadata = status
            .metadata
            .map(|headers| MetadataMap::from_headers(*headers))
            .unwrap_or_default();
        match status.details {
            None => tonic::Status::with_metadata(status.code, status.message, metadata),
            Some(details) => {
                let StatusDetails {
                    error_info,
                    bad_request,
                    retry_info,
                } = *details;
                let mut list = Vec::with_capacity(3);
                list.extend(error_info.map(ErrorDetail::ErrorInfo));
                list.extend(bad_request.map(ErrorDetail::BadRequest));
                list.extend(retry_info.map(ErrorDetail::RetryInfo));
                tonic::Status::with_error_details_vec_and_metadata(
                    status.code,
                    status.message,
                    list,
                    metadata,
                )
            }
        }
    }
}

impl From<tonic::Status> for Status {
    /// Keeps the code, message, the three modelled details and the custom trailers; other
    /// detail messages are dropped.
    fn from(status: tonic::Status) -> Self {
        let mut out = Status::new(status.code(), status.message());
        if !status.details().is_empty() {
            let parsed = status.get_error_details();
            out = out.with_details(StatusDetails {
                error_info: parsed.error_info().cloned(),
                bad_request: parsed.bad_request().cloned(),
                retry_info: parsed.retry_info().cloned(),
            });
        }
        // On a client, the metadata also holds the response's own headers; keep the custom ones.
        let mut metadata = status.metadata().clone().into_headers();
        let framing: Vec<_> = metadata
            .keys()
            .filter(|name| {
                let name = name.as_str();
                name.starts_with("grpc-")
                    || matches!(name, "content-type" | "date" | "content-length")
            })
            .cloned()
            .collect();
        for name in framing {
            metadata.remove(name);
        }
        out.with_metadata(metadata)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::status::Code;

    #[test]
    fn details_survive_a_round_trip() {
        let mut status = Status::invalid_field("book.title", "must not be empty")
            .with_error_info("EMPTY_TITLE", "library.example", [("k".into(), "v".into())])
            .with_retry_after(Duration::from_millis(1500));
        status
            .metadata_mut()
            .insert("x-trace", "abc".parse().unwrap());
        let wire: tonic::Status = status.clone().into();
        assert_eq!(wire.code(), Code::InvalidArgument);
        assert!(!wire.details().is_empty());
        let back = Status::from(wire);
        assert_eq!(back, status);
    }
}
