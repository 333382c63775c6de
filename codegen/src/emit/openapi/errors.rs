//! The error shape every operation shares, as the runtime renders it over REST.
//!
//! A failed call answers with the HTTP status of the standard gRPC → HTTP mapping and a body that
//! is `google.rpc.Status` in proto3 JSON: `{"code": <numeric gRPC code>, "message": "...",
//! "details": [...]}`, `details` always present and each detail an `Any` (`@type` plus the
//! detail's fields) of `google.rpc.ErrorInfo`, `google.rpc.BadRequest` or `google.rpc.RetryInfo`.

use super::json::{Json, Object};
use super::schema::{schema_ref, Schemas};

/// The component name of the error body.
pub(crate) const STATUS_SCHEMA: &str = "google.rpc.Status";

/// Error responses: (HTTP status, component name, what it means). `default` covers any other.
const ERROR_RESPONSES: &[(&str, &str, &str)] = &[
    (
        "400",
        "InvalidArgument",
        "The request is wrong: `INVALID_ARGUMENT` (malformed JSON, a wrong type, an unknown enum \
         name, a path or query value that does not parse; a `google.rpc.BadRequest` detail names \
         the field), `FAILED_PRECONDITION` or `OUT_OF_RANGE`.",
    ),
    (
        "401",
        "Unauthenticated",
        "`UNAUTHENTICATED`: no valid credentials.",
    ),
    (
        "403",
        "PermissionDenied",
        "`PERMISSION_DENIED`: the caller may not do this.",
    ),
    (
        "404",
        "NotFound",
        "`NOT_FOUND`: the resource (or the route) does not exist.",
    ),
    (
        "409",
        "Conflict",
        "`ALREADY_EXISTS` or `ABORTED`: the request conflicts with the current state.",
    ),
    (
        "429",
        "ResourceExhausted",
        "`RESOURCE_EXHAUSTED`: a limit was reached; `Retry-After` says when to try again.",
    ),
    (
        "500",
        "Internal",
        "`INTERNAL`, `UNKNOWN` or `DATA_LOSS`: the server failed.",
    ),
    (
        "501",
        "Unimplemented",
        "`UNIMPLEMENTED`: the method is not implemented.",
    ),
    (
        "503",
        "Unavailable",
        "`UNAVAILABLE`: the service cannot answer now; `Retry-After` may say when to try again.",
    ),
    (
        "504",
        "DeadlineExceeded",
        "`DEADLINE_EXCEEDED`: the request's deadline passed.",
    ),
    (
        "default",
        "Error",
        "Any other failure, as a `google.rpc.Status`.",
    ),
];

/// The `responses` entries every operation lists, after its success response.
pub(crate) fn error_response_refs() -> Vec<(&'static str, Json)> {
    ERROR_RESPONSES
        .iter()
        .map(|(status, name, _)| {
            let reference = Object::new().with("$ref", format!("#/components/responses/{name}"));
            (*status, reference.into())
        })
        .collect()
}

/// `components/responses`: one shared response per error status.
pub(crate) fn error_responses() -> Object {
    let mut out = Object::new();
    for (status, name, description) in ERROR_RESPONSES {
        let content = Object::new().with(
            "application/json",
            Object::new().with("schema", schema_ref(STATUS_SCHEMA)),
        );
        let mut response = Object::new().with("description", *description);
        if matches!(*status, "429" | "503") {
            let retry_after = Object::new()
                .with(
                    "description",
                    "Whole seconds to wait before retrying (from the `google.rpc.RetryInfo` detail).",
                )
                .with("schema", Object::new().with("type", "integer").with("minimum", 0i64));
            response.insert("headers", Object::new().with("Retry-After", retry_after));
        }
        out.insert(*name, response.with("content", content));
    }
    out
}

/// Adds the error body and its detail messages to the components.
pub(crate) fn add_error_schemas(schemas: &mut Schemas) {
    let string = || Json::from(Object::new().with("type", "string"));
    let detail = |name: &str, description: &str, properties: Object| -> Json {
        let type_url = Object::new()
            .with("type", "string")
            .with("const", format!("type.googleapis.com/{name}"));
        let mut all = Object::new().with("@type", type_url);
        for (key, value) in properties.into_entries() {
            all.insert(key, value);
        }
        Object::new()
            .with("type", "object")
            .with("description", description)
            .with("properties", all)
            .with("required", Json::strings(["@type"]))
            .into()
    };

    schemas.insert_fixed(
        STATUS_SCHEMA,
        Object::new()
            .with("type", "object")
            .with(
                "description",
                "An error: the gRPC status code, a message for developers and structured details.",
            )
            .with(
                "properties",
                Object::new()
                    .with(
                        "code",
                        Object::new()
                            .with("type", "integer")
                            .with("format", "int32")
                            .with("minimum", 0i64)
                            .with("maximum", 16i64)
                            .with(
                                "description",
                                "The numeric gRPC status code (`google.rpc.Code`), such as 5 for \
                                 `NOT_FOUND`; the HTTP status is on the response line.",
                            ),
                    )
                    .with(
                        "message",
                        Object::new()
                            .with("type", "string")
                            .with("description", "What went wrong, for developers."),
                    )
                    .with(
                        "details",
                        Object::new()
                            .with("type", "array")
                            .with(
                                "items",
                                Object::new().with(
                                    "anyOf",
                                    vec![
                                        schema_ref("google.rpc.ErrorInfo"),
                                        schema_ref("google.rpc.BadRequest"),
                                        schema_ref("google.rpc.RetryInfo"),
                                    ],
                                ),
                            )
                            .with("description", "Structured details; possibly empty."),
                    ),
            )
            .with("required", Json::strings(["code", "message", "details"]))
            .into(),
    );
    schemas.insert_fixed(
        "google.rpc.ErrorInfo",
        detail(
            "google.rpc.ErrorInfo",
            "Why the call failed, in machine-readable form.",
            Object::new()
                .with("reason", string())
                .with("domain", string())
                .with(
                    "metadata",
                    Object::new()
                        .with("type", "object")
                        .with("additionalProperties", string()),
                ),
        ),
    );
    schemas.insert_fixed(
        "google.rpc.BadRequest",
        detail(
            "google.rpc.BadRequest",
            "Which request fields were wrong, and why.",
            Object::new().with(
                "fieldViolations",
                Object::new()
                    .with("type", "array")
                    .with("items", schema_ref("google.rpc.BadRequest.FieldViolation")),
            ),
        ),
    );
    schemas.insert_fixed(
        "google.rpc.BadRequest.FieldViolation",
        Object::new()
            .with("type", "object")
            .with("description", "One wrong field.")
            .with(
                "properties",
                Object::new()
                    .with(
                        "field",
                        Object::new()
                            .with("type", "string")
                            .with("description", "The field path, such as `seat.row`."),
                    )
                    .with("description", string()),
            )
            .into(),
    );
    schemas.insert_fixed(
        "google.rpc.RetryInfo",
        detail(
            "google.rpc.RetryInfo",
            "When to retry.",
            Object::new().with(
                "retryDelay",
                Object::new()
                    .with("type", "string")
                    .with("pattern", "^[0-9]+(\\.[0-9]{1,9})?s$")
                    .with("description", "How long to wait, such as `2.500s`."),
            ),
        ),
    );
}
