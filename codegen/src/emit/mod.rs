//! Emitters: each turns the contract model (or descriptors) into Rust tokens.

pub mod client;
pub mod json;
pub mod openapi;
pub mod service;

/// `google.api.HttpBody`: the runtime's own type (`<runtime>::HttpBody`), served as a raw body
/// on the REST surface; no message code is emitted for it.
pub const HTTP_BODY: &str = "google.api.HttpBody";

/// Whether `full_name` (with or without the leading dot) is `google.api.HttpBody`.
pub fn is_http_body(full_name: &str) -> bool {
    full_name.trim_start_matches('.') == HTTP_BODY
}

/// Whether a binding's request body is an `HttpBody` taken raw: the whole request (`body: "*"`)
/// or the body field is one. Streamed requests stay NDJSON lines of JSON messages.
pub fn raw_request(
    input: Option<&prost_reflect::MessageDescriptor>,
    method: &crate::model::Method,
    binding: &crate::model::Binding,
) -> bool {
    use crate::model::BodySelector;
    if method.streaming.streams_requests() {
        return false;
    }
    match &binding.body {
        BodySelector::None => false,
        BodySelector::All => is_http_body(&method.input_type),
        BodySelector::Field(bound) => input
            .and_then(|m| m.get_field_by_name(&bound.leaf().name))
            .is_some_and(|field| is_http_body_field(&field)),
    }
}

/// Whether a binding answers with an `HttpBody` sent raw: the whole response, or its
/// `response_body` field.
pub fn raw_response(
    output: Option<&prost_reflect::MessageDescriptor>,
    method: &crate::model::Method,
    binding: &crate::model::Binding,
) -> bool {
    match &binding.response_body {
        None => is_http_body(&method.output_type),
        Some(bound) => output
            .and_then(|m| m.get_field_by_name(&bound.leaf().name))
            .is_some_and(|field| is_http_body_field(&field)),
    }
}

/// A singular `google.api.HttpBody` field outside a oneof.
pub fn is_http_body_field(field: &prost_reflect::FieldDescriptor) -> bool {
    !field.is_list()
        && field
            .containing_oneof()
            .is_none_or(|oneof| oneof.is_synthetic())
        && matches!(field.kind(), prost_reflect::Kind::Message(m) if is_http_body(m.full_name()))
}
