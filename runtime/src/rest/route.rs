//! The static description of one REST binding, emitted per `google.api.http` rule.

use super::template::PathTemplate;
use crate::method::MethodInfo;

/// The HTTP method of a binding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HttpMethod {
    /// `GET`
    Get,
    /// `PUT`
    Put,
    /// `POST`
    Post,
    /// `DELETE`
    Delete,
    /// `PATCH`
    Patch,
    /// A `custom` rule's method (`HEAD`, `OPTIONS`, ...).
    Custom(&'static str),
}

impl HttpMethod {
    /// The method name as sent on the wire.
    pub fn as_str(&self) -> &'static str {
        match self {
            HttpMethod::Get => "GET",
            HttpMethod::Put => "PUT",
            HttpMethod::Post => "POST",
            HttpMethod::Delete => "DELETE",
            HttpMethod::Patch => "PATCH",
            HttpMethod::Custom(name) => name,
        }
    }
}

/// Where the request message comes from in the HTTP body.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BodySelector {
    /// No body: every field not in the path comes from the query string.
    None,
    /// `body: "*"`: the body is the whole message (an empty body is `{}`); no query parameters.
    Whole,
    /// `body: "field"`: the body is that top-level field; the rest from path and query.
    Field(&'static str),
}

/// One REST binding: method, template, body and response selectors, and the RPC it calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RouteSpec {
    /// HTTP method.
    pub method: HttpMethod,
    /// Path template.
    pub template: PathTemplate,
    /// Body selector.
    pub body: BodySelector,
    /// `response_body`: the top-level response field sent instead of the whole message.
    pub response_body: Option<&'static str>,
    /// The request body is a `google.api.HttpBody` taken raw (the whole request or the body
    /// field), not JSON.
    pub raw_request: bool,
    /// The response (or its `response_body`) is a `google.api.HttpBody` sent raw, not JSON.
    pub raw_response: bool,
    /// The RPC this binding calls.
    pub rpc: &'static MethodInfo,
}
