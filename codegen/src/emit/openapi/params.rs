//! Path templates as OpenAPI paths, and the parameters of an operation.
//!
//! `{field.path}` stays a parameter of that name; a variable with a pattern
//! (`{name=shelves/*/books/*}`) becomes one `{name}` parameter whose schema carries the pattern as
//! a regular expression; a custom verb stays a literal `:verb` suffix. Wildcards outside any
//! variable match a segment the server ignores; OpenAPI has no wildcards, so they become
//! parameters named `segment1`, `segment2`, ... that bind nothing.
//!
//! Every request field not bound by the path or the body is a query parameter, named by its
//! proto field path (`filter.min_price`; lowerCamel names are accepted too): scalars and enums,
//! repeated scalars as exploded arrays (`tag=a&tag=b`), nested messages by dot paths, and the
//! well-known types that have a string form (Timestamp, Duration, FieldMask, wrappers), maps of
//! scalars or enums as `deepObject` (`labels[key]=value`), and `Struct`, `Value` and `ListValue`
//! as JSON text (`content: application/json`). Maps of messages, repeated messages and `Any`
//! cannot be sent in a query.

use prost_reflect::{FieldDescriptor, Kind, MessageDescriptor};

use super::comments::{comments_of, Located};
use super::json::{Json, Object};
use super::schema::Schemas;
use crate::model::{Binding, BodySelector};
use crate::template::{FieldPath, PathTemplate, Segment};

/// Nested messages deeper than this are not expanded into query parameters (it also stops
/// recursive messages).
const MAX_QUERY_DEPTH: usize = 8;

/// The OpenAPI path of a template, such as `/v1/{name}:publish`.
pub(crate) fn openapi_path(template: &PathTemplate) -> String {
    let mut out = String::new();
    let mut wildcards = 0;
    for segment in &template.segments {
        out.push('/');
        match segment {
            Segment::Literal(text) => out.push_str(text),
            Segment::Wildcard | Segment::DeepWildcard => {
                wildcards += 1;
                out.push_str(&format!("{{segment{wildcards}}}"));
            }
            Segment::Variable(variable) => out.push_str(&format!("{{{}}}", variable.field_path)),
        }
    }
    if let Some(verb) = &template.verb {
        out.push(':');
        out.push_str(verb);
    }
    out
}

/// The path parameters of a binding, in template order.
pub(crate) fn path_parameters(
    binding: &Binding,
    input: &MessageDescriptor,
    schemas: &mut Schemas,
) -> Vec<Json> {
    let mut out = Vec::new();
    let mut wildcards = 0;
    for segment in &binding.template.segments {
        match segment {
            Segment::Literal(_) => {}
            Segment::Wildcard | Segment::DeepWildcard => {
                wildcards += 1;
                let what = if *segment == Segment::Wildcard {
                    "Any one path segment"
                } else {
                    "Any remaining path segments"
                };
                let schema = Object::new()
                    .with("type", "string")
                    .with("pattern", pattern_regex(std::slice::from_ref(segment)));
                out.push(parameter(
                    &format!("segment{wildcards}"),
                    "path",
                    true,
                    Some(format!(
                        "{what}; the value is not bound to a request field."
                    )),
                    schema.into(),
                ));
            }
            Segment::Variable(variable) => {
                let field = resolve(input, &variable.field_path);
                let mut description = field.as_ref().and_then(|f| comments_of(Located::Field(f)));
                let schema = if variable.pattern == [Segment::Wildcard] {
                    match &field {
                        Some(field) => schemas.value_schema(&field.kind()),
                        None => Object::new().with("type", "string").into(),
                    }
                } else {
                    let shape = variable
                        .pattern
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join("/");
                    let note = format!(
                        "Matches `{shape}`: the value spans path segments, so its `/` \
                         separators are sent as they are, not percent-encoded."
                    );
                    description = Some(match description {
                        Some(text) => format!("{text}\n\n{note}"),
                        None => note,
                    });
                    Object::new()
                        .with("type", "string")
                        .with("pattern", pattern_regex(&variable.pattern))
                        .into()
                };
                out.push(parameter(
                    &variable.field_path.to_string(),
                    "path",
                    true,
                    description,
                    schema,
                ));
            }
        }
    }
    out
}

/// The query parameters of a binding: every leaf field the path and the body leave unset.
pub(crate) fn query_parameters(
    binding: &Binding,
    input: &MessageDescriptor,
    schemas: &mut Schemas,
) -> Vec<Json> {
    let mut excluded: Vec<&FieldPath> = binding.path_fields.iter().map(|f| &f.path).collect();
    match &binding.body {
        BodySelector::All => return Vec::new(),
        BodySelector::Field(field) => excluded.push(&field.path),
        BodySelector::None => {}
    }
    let mut out = Vec::new();
    let mut stack = vec![input.full_name().to_owned()];
    collect_query(input, &[], &excluded, &mut stack, schemas, &mut out);
    out
}

fn collect_query(
    message: &MessageDescriptor,
    prefix: &[String],
    excluded: &[&FieldPath],
    stack: &mut Vec<String>,
    schemas: &mut Schemas,
    out: &mut Vec<Json>,
) {
    for field in message.fields() {
        let mut path = prefix.to_vec();
        path.push(field.name().to_owned());
        // A bound field, or a field inside a bound message, is not read from the query.
        let bound = excluded.iter().any(|e| path.starts_with(e.parts()));
        if bound {
            continue;
        }
        if field.is_map() {
            if let Kind::Message(entry) = field.kind() {
                if !matches!(entry.map_entry_value_field().kind(), Kind::Message(_)) {
                    out.push(map_parameter(&field, &path.join("."), schemas));
                }
            }
            continue;
        }
        match field.kind() {
            Kind::Message(nested) if !field.is_list() && is_json_text(nested.full_name()) => {
                out.push(json_parameter(&field, &path.join("."), schemas));
            }
            Kind::Message(nested) if !has_string_form(nested.full_name()) => {
                let expandable = !field.is_list()
                    && !is_free_form(nested.full_name())
                    && stack.len() < MAX_QUERY_DEPTH
                    && !stack.iter().any(|name| name == nested.full_name());
                if expandable {
                    stack.push(nested.full_name().to_owned());
                    collect_query(&nested, &path, excluded, stack, schemas, out);
                    stack.pop();
                }
            }
            _ => out.push(query_parameter(&field, &path.join("."), schemas)),
        }
    }
}

fn query_parameter(field: &FieldDescriptor, name: &str, schemas: &mut Schemas) -> Json {
    let schema = schemas.field_values_schema(field);
    let description = comments_of(Located::Field(field));
    let mut parameter = match parameter(name, "query", false, description, schema) {
        Json::Object(object) => object,
        _ => unreachable!("parameters are objects"),
    };
    if field.is_list() {
        parameter.insert("style", "form");
        parameter.insert("explode", true);
    }
    parameter.into()
}

/// A map of scalars or enums: `name[key]=value`, OpenAPI's `deepObject` style.
fn map_parameter(field: &FieldDescriptor, name: &str, schemas: &mut Schemas) -> Json {
    let schema = schemas.field_schema(field);
    let description = comments_of(Located::Field(field));
    match parameter(name, "query", false, description, schema) {
        Json::Object(object) => object
            .with("style", "deepObject")
            .with("explode", true)
            .into(),
        _ => unreachable!("parameters are objects"),
    }
}

/// `Struct`, `Value` or `ListValue`: the parameter's value is JSON text.
fn json_parameter(field: &FieldDescriptor, name: &str, schemas: &mut Schemas) -> Json {
    let schema = schemas.field_schema(field);
    let mut parameter = Object::new().with("name", name).with("in", "query");
    parameter.insert_opt("description", comments_of(Located::Field(field)));
    parameter
        .with(
            "content",
            Object::new().with("application/json", Object::new().with("schema", schema)),
        )
        .into()
}

fn parameter(
    name: &str,
    location: &str,
    required: bool,
    description: Option<String>,
    schema: Json,
) -> Json {
    let mut parameter = Object::new().with("name", name).with("in", location);
    parameter.insert_opt("description", description);
    if required {
        parameter.insert("required", true);
    }
    parameter.with("schema", schema).into()
}

/// The field at `path` in `message`, if every step resolves.
pub(crate) fn resolve(message: &MessageDescriptor, path: &FieldPath) -> Option<FieldDescriptor> {
    let mut current = message.clone();
    let mut found = None;
    for part in path.parts() {
        if let Some(Kind::Message(next)) = found.as_ref().map(FieldDescriptor::kind) {
            current = next;
        }
        found = Some(current.get_field_by_name(part)?);
    }
    found
}

/// Well-known messages sent as one string (or scalar) value: usable as query parameters.
fn has_string_form(full_name: &str) -> bool {
    matches!(
        full_name,
        "google.protobuf.Timestamp"
            | "google.protobuf.Duration"
            | "google.protobuf.FieldMask"
            | "google.protobuf.DoubleValue"
            | "google.protobuf.FloatValue"
            | "google.protobuf.Int64Value"
            | "google.protobuf.UInt64Value"
            | "google.protobuf.Int32Value"
            | "google.protobuf.UInt32Value"
            | "google.protobuf.BoolValue"
            | "google.protobuf.StringValue"
            | "google.protobuf.BytesValue"
    )
}

/// Well-known messages a query value holds as JSON text.
fn is_json_text(full_name: &str) -> bool {
    matches!(
        full_name,
        "google.protobuf.Struct" | "google.protobuf.Value" | "google.protobuf.ListValue"
    )
}

/// Well-known messages whose JSON is free-form: they have no query form of dot paths.
fn is_free_form(full_name: &str) -> bool {
    matches!(
        full_name,
        "google.protobuf.Struct"
            | "google.protobuf.Value"
            | "google.protobuf.ListValue"
            | "google.protobuf.Any"
            | "google.protobuf.Empty"
    )
}

/// An anchored regular expression for what a variable's segments match.
fn pattern_regex(segments: &[Segment]) -> String {
    let mut out = String::from("^");
    for (i, segment) in segments.iter().enumerate() {
        match segment {
            // `**` also matches zero segments, taking its separator with it.
            Segment::DeepWildcard if i > 0 => out.push_str("(/.*)?"),
            Segment::DeepWildcard => out.push_str(".*"),
            other => {
                if i > 0 {
                    out.push('/');
                }
                match other {
                    Segment::Literal(text) => out.push_str(&regex_escape(text)),
                    _ => out.push_str("[^/]+"),
                }
            }
        }
    }
    out.push('$');
    out
}

fn regex_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::parse_template;

    fn path(text: &str) -> String {
        openapi_path(&parse_template(text).unwrap())
    }

    #[test]
    fn templates_become_openapi_paths() {
        assert_eq!(path("/v1/{shelf.name}/books"), "/v1/{shelf.name}/books");
        assert_eq!(path("/v1/{name=shelves/*/books/*}"), "/v1/{name}");
        assert_eq!(path("/v1/{name=files/**}:download"), "/v1/{name}:download");
        assert_eq!(path("/v1/*/x/**"), "/v1/{segment1}/x/{segment2}");
    }

    #[test]
    fn patterns_become_anchored_regexes() {
        let regex = |text: &str| {
            let template = parse_template(text).unwrap();
            let variable = template.variables().next().unwrap().clone();
            pattern_regex(&variable.pattern)
        };
        assert_eq!(
            regex("/{name=shelves/*/books/*}"),
            "^shelves/[^/]+/books/[^/]+$"
        );
        assert_eq!(regex("/{name=files/**}"), "^files(/.*)?$");
        assert_eq!(regex("/{name=**}"), "^.*$");
        assert_eq!(regex("/{name=v1.2/*}"), "^v1\\.2/[^/]+$");
    }
}
