//! Building a REST request from a message and its `google.api.http` binding, the reverse of the
//! server's transcoding.
//!
//! The message is printed as proto3 JSON with proto field names (so the binding's field paths
//! find their values, and 64-bit integers, enums and well-known types take their JSON forms).
//! Then:
//! - each path variable takes its field's value out of the message, percent-encoded by the
//!   HttpRule rules: a single-segment variable encodes everything but unreserved characters
//!   (`/` too); a multi-segment one keeps `/` and the other reserved characters that may stand in
//!   a path, and encodes `?`, `#`, `[`, `]` and everything else;
//! - `body: "*"` sends what remains as the body; `body: "field"` sends that field's value; a
//!   `google.api.HttpBody` body (the whole request or the field) is sent raw, with its content
//!   type;
//! - whatever remains outside the body goes to the query string: nested messages as dot paths
//!   (`filter.author=x`), repeated fields by repetition (`tags=a&tags=b`).

use serde::Serialize;
use serde_json::{Map, Value};

use crate::json::{with_options, JsonOptions};
use crate::rest::{BodySelector, RouteSpec, Seg};
use crate::status::Status;

/// The parts of an HTTP request a binding makes of a message.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Encoded {
    /// Path and query, starting with `/`.
    pub(crate) path_and_query: String,
    /// The body, `None` when the binding sends none (or the body field is unset).
    pub(crate) body: Option<Vec<u8>>,
    /// The body's content type when it is an `HttpBody`'s data; JSON otherwise.
    pub(crate) raw_content_type: Option<String>,
}

/// Encodes `message` for `route`.
pub(crate) fn encode<T: Serialize>(route: &RouteSpec, message: &T) -> Result<Encoded, Status> {
    let options = JsonOptions::new().with_proto_field_names(true);
    let value = with_options(options, || serde_json::to_value(message))
        .map_err(|err| Status::internal(format!("request could not be printed as JSON: {err}")))?;
    let mut fields = match value {
        Value::Object(map) => map,
        // `google.protobuf.Empty` (prost's `()`) prints as `null`.
        Value::Null => Map::new(),
        other => {
            return Err(Status::internal(format!(
                "request printed as {other} instead of a JSON object"
            )))
        }
    };
    let mut path = String::with_capacity(64);
    for segment in route.template.segments {
        path.push('/');
        match segment {
            Seg::Lit(literal) => path.push_str(literal),
            Seg::Star | Seg::DoubleStar => {
                return Err(Status::internal(
                    "a path template wildcard outside a variable cannot be filled from a message",
                ))
            }
            Seg::Var {
                field,
                segments: pattern,
            } => {
                let value = take(&mut fields, field)
                    .map(|v| scalar_text(field, &v))
                    .transpose()?
                    .unwrap_or_default();
                check_pattern(field, &value, pattern)?;
                let single = matches!(pattern, [] | [Seg::Star] | [Seg::Lit(_)]);
                push_encoded(&mut path, &value, single);
            }
        }
    }
    if route.template.segments.is_empty() {
        path.push('/');
    }
    if let Some(verb) = route.template.verb {
        path.push(':');
        path.push_str(verb);
    }
    let body_value = match route.body {
        BodySelector::None => None,
        BodySelector::Whole => Some(Value::Object(std::mem::take(&mut fields))),
        BodySelector::Field(name) => match fields.remove(name) {
            None | Some(Value::Null) => None,
            Some(value) => Some(value),
        },
    };
    let (body, raw_content_type) = match body_value {
        None => (None, None),
        Some(value) if route.raw_request => {
            let (content_type, data) = raw_body(value)?;
            (Some(data), Some(content_type))
        }
        Some(value) => (Some(serde_json::to_vec(&value).map_err(print_error)?), None),
    };
    if route.body != BodySelector::Whole {
        let mut query = String::new();
        for (name, value) in &fields {
            push_query(&mut query, name, value)?;
        }
        if !query.is_empty() {
            path.push('?');
            path.push_str(&query);
        }
    }
    Ok(Encoded {
        path_and_query: path,
        body,
        raw_content_type,
    })
}

/// An `HttpBody`'s content type and data from its JSON form (proto field names, data base64).
fn raw_body(value: Value) -> Result<(String, Vec<u8>), Status> {
    let text = |field: &str| value.get(field).and_then(Value::as_str).unwrap_or_default();
    let data = crate::json::base64::decode(text("data"))
        .map_err(|_| Status::internal("an HttpBody printed its data as invalid base64"))?;
    Ok((text("content_type").to_owned(), data))
}

fn print_error(err: serde_json::Error) -> Status {
    Status::internal(format!("request body could not be printed: {err}"))
}

/// Removes the value at a dot path; a parent message left empty is removed too.
fn take(fields: &mut Map<String, Value>, path: &str) -> Option<Value> {
    match path.split_once('.') {
        None => fields.remove(path),
        Some((head, rest)) => {
            let Value::Object(inner) = fields.get_mut(head)? else {
                return None;
            };
            let value = take(inner, rest);
            if inner.is_empty() {
                fields.remove(head);
            }
            value
        }
    }
}

/// A JSON scalar as path or query text: strings unquoted, numbers and booleans as printed.
fn scalar_text(field: &str, value: &Value) -> Result<String, Status> {
    match value {
        Value::String(text) => Ok(text.clone()),
        Value::Number(number) => Ok(number.to_string()),
        Value::Bool(flag) => Ok(flag.to_string()),
        Value::Null => Ok(String::new()),
        Value::Array(_) | Value::Object(_) => Err(Status::invalid_argument(format!(
            "field `{field}` is a message or list and cannot be sent in the URL"
        ))),
    }
}

/// Checks a path variable's value against its pattern, so a value the server could not route
/// fails here with a clear message instead of a 404.
fn check_pattern(field: &str, value: &str, pattern: &[Seg]) -> Result<(), Status> {
    // A single-segment value may hold `/`: it is sent encoded.
    if matches!(pattern, [] | [Seg::Star]) {
        if value.is_empty() {
            return Err(Status::invalid_field(
                field,
                "must not be empty: it fills a path segment",
            ));
        }
        return Ok(());
    }
    let mut parts = value.split('/');
    let mut fits = true;
    for seg in pattern {
        match seg {
            Seg::Lit(literal) => fits &= parts.next() == Some(*literal),
            Seg::Star => fits &= parts.next().is_some_and(|p| !p.is_empty()),
            Seg::DoubleStar => {
                parts.by_ref().for_each(drop);
            }
            Seg::Var { .. } => fits = false,
        }
    }
    if fits && parts.next().is_none() {
        return Ok(());
    }
    let shape: Vec<&str> = pattern
        .iter()
        .map(|seg| match seg {
            Seg::Lit(literal) => *literal,
            Seg::Star => "*",
            Seg::DoubleStar => "**",
            Seg::Var { .. } => "{}",
        })
        .collect();
    Err(Status::invalid_field(
        field,
        format!(
            "value {value:?} does not fit the path pattern `{}`",
            shape.join("/")
        ),
    ))
}

fn is_unreserved(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~')
}

/// Reserved characters a multi-segment variable keeps as they are (all legal in a path).
fn is_kept_in_path(byte: u8) -> bool {
    matches!(
        byte,
        b'/' | b':'
            | b'@'
            | b'!'
            | b'$'
            | b'&'
            | b'\''
            | b'('
            | b')'
            | b'*'
            | b'+'
            | b','
            | b';'
            | b'='
    )
}

fn push_encoded(out: &mut String, value: &str, single_segment: bool) {
    for &byte in value.as_bytes() {
        if is_unreserved(byte) || (!single_segment && is_kept_in_path(byte)) {
            out.push(char::from(byte));
        } else {
            push_escape(out, byte);
        }
    }
}

fn push_escape(out: &mut String, byte: u8) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    out.push('%');
    out.push(char::from(HEX[usize::from(byte >> 4)]));
    out.push(char::from(HEX[usize::from(byte & 15)]));
}

fn push_query_text(out: &mut String, text: &str) {
    for &byte in text.as_bytes() {
        if is_unreserved(byte) {
            out.push(char::from(byte));
        } else {
            push_escape(out, byte);
        }
    }
}

fn push_query(out: &mut String, name: &str, value: &Value) -> Result<(), Status> {
    match value {
        Value::Null => Ok(()),
        Value::Object(fields) => fields
            .iter()
            .try_for_each(|(key, value)| push_query(out, &format!("{name}.{key}"), value)),
        Value::Array(items) => items.iter().try_for_each(|item| match item {
            Value::Array(_) | Value::Object(_) => Err(Status::invalid_argument(format!(
                "field `{name}` is a list of messages and cannot be sent as query parameters"
            ))),
            scalar => push_query(out, name, scalar),
        }),
        scalar => {
            if !out.is_empty() {
                out.push('&');
            }
            push_query_text(out, name);
            out.push('=');
            push_query_text(out, &scalar_text(name, scalar)?);
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::method::{Idempotency, MethodInfo, MethodKind};
    use crate::rest::{HttpMethod, PathTemplate};

    static METHOD: MethodInfo = MethodInfo {
        service: "t.S",
        name: "M",
        path: "/t.S/M",
        kind: MethodKind::Unary,
        idempotency: Idempotency::Unknown,
    };

    fn route(segments: &'static [Seg], body: BodySelector) -> RouteSpec {
        RouteSpec {
            method: HttpMethod::Post,
            template: PathTemplate {
                segments,
                verb: None,
            },
            body,
            response_body: None,
            raw_request: false,
            raw_response: false,
            rpc: &METHOD,
        }
    }

    #[test]
    fn single_and_multi_segment_variables_encode_differently() {
        static SINGLE: &[Seg] = &[
            Seg::Lit("v1"),
            Seg::Var {
                field: "id",
                segments: &[],
            },
        ];
        let out = encode(
            &route(SINGLE, BodySelector::None),
            &json!({"id": "a/b c?é"}),
        )
        .unwrap();
        assert_eq!(out.path_and_query, "/v1/a%2Fb%20c%3F%C3%A9");

        static MULTI: &[Seg] = &[
            Seg::Lit("files"),
            Seg::Var {
                field: "path",
                segments: &[Seg::DoubleStar],
            },
        ];
        let out = encode(
            &route(MULTI, BodySelector::None),
            &json!({"path": "a/b:c?d#e%"}),
        )
        .unwrap();
        assert_eq!(out.path_and_query, "/files/a/b:c%3Fd%23e%25");
    }

    #[test]
    fn remaining_fields_become_query_or_body() {
        static PATH: &[Seg] = &[
            Seg::Lit("s"),
            Seg::Var {
                field: "shelf.id",
                segments: &[],
            },
        ];
        let message = json!({
            "shelf": {"id": "7", "name": "x y"},
            "tags": ["a", "b&c"],
            "book": {"title": "T"},
        });
        let out = encode(&route(PATH, BodySelector::None), &message).unwrap();
        assert_eq!(
            out.path_and_query,
            "/s/7?book.title=T&shelf.name=x%20y&tags=a&tags=b%26c"
        );
        assert_eq!(out.body, None);

        let out = encode(&route(PATH, BodySelector::Field("book")), &message).unwrap();
        assert_eq!(
            out.path_and_query,
            "/s/7?shelf.name=x%20y&tags=a&tags=b%26c"
        );
        assert_eq!(out.body.as_deref(), Some(&br#"{"title":"T"}"#[..]));

        let out = encode(&route(PATH, BodySelector::Whole), &message).unwrap();
        assert_eq!(out.path_and_query, "/s/7");
        let body: Value = serde_json::from_slice(&out.body.unwrap()).unwrap();
        assert_eq!(
            body,
            json!({"shelf": {"name": "x y"}, "tags": ["a", "b&c"], "book": {"title": "T"}})
        );
    }

    #[test]
    fn values_that_cannot_route_are_rejected_here() {
        static BOOK: &[Seg] = &[
            Seg::Lit("v1"),
            Seg::Var {
                field: "name",
                segments: &[Seg::Lit("shelves"), Seg::Star, Seg::Lit("books"), Seg::Star],
            },
        ];
        let err = encode(
            &route(BOOK, BodySelector::None),
            &json!({"name": "books/1"}),
        )
        .unwrap_err();
        assert_eq!(err.code(), crate::status::Code::InvalidArgument);
        assert!(err.message().contains("shelves/*/books/*"), "{err}");
        let err = encode(&route(BOOK, BodySelector::None), &json!({})).unwrap_err();
        assert_eq!(err.code(), crate::status::Code::InvalidArgument);
        let list = json!({"name": "shelves/1/books/2", "items": [{"a": 1}]});
        let err = encode(&route(BOOK, BodySelector::None), &list).unwrap_err();
        assert!(err.message().contains("items"), "{err}");
    }
}
