//! The OpenAPI 3.1 document of the REST surface, generated from the contract model.
//!
//! One operation per HTTP binding (additional bindings included) of every method:
//! - `operationId` is `Service_Method`, with `_1`, `_2`, ... for additional bindings (and the
//!   full name, dots as `_`, when two packages share a service and method name); one tag per
//!   service; summary and description from the proto comments;
//! - parameters from the path template and, for fields neither the path nor the body binds, the
//!   query string ([`params`]);
//! - the request body per the body selector (`*`: the message minus the fields the path binds;
//!   a field: that field; none: no body); a streaming request as `application/x-ndjson`, one
//!   such message per line;
//! - `200` with the response message (or its `response_body` field); server streams as
//!   `text/event-stream` and `application/x-ndjson`; the error responses shared by every
//!   operation, all with the `google.rpc.Status` body the runtime renders ([`errors`]);
//! - for streaming methods, `x-tacos-websocket`: how the same path runs over WebSocket.
//!
//! Schemas are the proto3 JSON forms of the messages ([`schema`]). The output is pretty JSON
//! with a fixed key order, so it can be checked in and drift-checked.

mod comments;
mod errors;
mod json;
mod params;
mod schema;

use std::collections::BTreeMap;
use std::path::PathBuf;

use proc_macro2::TokenStream;
use prost_reflect::{DescriptorPool, MessageDescriptor};
use quote::quote;

use self::json::{Json, Object};
use self::params::{openapi_path, path_parameters, query_parameters, resolve};
use self::schema::Schemas;
use crate::generate::GeneratedFile;
use crate::model::{
    Binding, BodySelector, Comments, Contract, HttpVerb, Method, Service, Streaming,
};

/// The OpenAPI version the document declares.
pub const OPENAPI_VERSION: &str = "3.1.0";

/// The file name the pipeline writes the document to.
pub const OPENAPI_FILE: &str = "openapi.json";

/// The document's `info` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenApiInfo {
    /// The API's title.
    pub title: String,
    /// The API's version (of the contract, not of OpenAPI).
    pub version: String,
}

impl OpenApiInfo {
    /// A title naming the contract's packages that have services, and the version components
    /// of those package names (`gateway.v1` → `v1`).
    pub fn for_contract(contract: &Contract) -> Self {
        let packages: Vec<&str> = contract
            .packages
            .iter()
            .filter(|p| !p.services.is_empty())
            .map(|p| p.name.as_str())
            .collect();
        let mut versions: Vec<&str> = packages
            .iter()
            .filter_map(|p| p.rsplit('.').next())
            .filter(|last| is_version(last))
            .collect();
        versions.dedup();
        versions.sort_unstable();
        versions.dedup();
        Self {
            title: if packages.is_empty() {
                "API".to_owned()
            } else {
                format!("{} API", packages.join(", "))
            },
            version: if versions.is_empty() {
                "0".to_owned()
            } else {
                versions.join(", ")
            },
        }
    }
}

fn is_version(text: &str) -> bool {
    text.strip_prefix('v')
        .and_then(|rest| rest.chars().next())
        .is_some_and(|c| c.is_ascii_digit())
}

/// How the JSON of every schema in the document works, said once.
const JSON_MAPPING: &str = "Generated from the protobuf contracts; do not edit.\n\n\
Bodies are canonical proto3 JSON:\n\
- properties are the fields' lowerCamel JSON names; the proto field names (`snake_case`) are \
accepted on input too, and unknown fields are ignored;\n\
- 64-bit integers are decimal strings (a JSON number is accepted on input);\n\
- enums are their value names (the value number is accepted on input);\n\
- `float` and `double` are numbers or `\"NaN\"`, `\"Infinity\"`, `\"-Infinity\"`;\n\
- `bytes` are base64 (URL-safe accepted on input);\n\
- `google.protobuf.Timestamp` is an RFC 3339 string, `Duration` a string such as `1.5s`, \
wrappers are nullable scalars, `Struct` any object, `Value` any JSON value.\n\n\
Query parameters are named by proto field paths (`a.b.c`; lowerCamel accepted), a repeated field \
repeats its parameter, and an enum takes its name or number. A path value wins over a query \
value for the same field.\n\n\
Errors are `google.rpc.Status` in JSON with the HTTP status of the standard gRPC mapping.";

/// The generated `openapi.json` the pipeline writes next to the Rust files.
pub fn openapi_file(contract: &Contract, pool: &DescriptorPool) -> GeneratedFile {
    GeneratedFile {
        path: PathBuf::from(OPENAPI_FILE),
        contents: emit_openapi(contract, pool).into_bytes(),
    }
}

/// The item the module tree gets so the generated crate exposes the document as
/// `OPENAPI_JSON` (servers serve it at `/openapi.json`).
pub fn openapi_const() -> TokenStream {
    let doc = format!(
        " The OpenAPI {OPENAPI_VERSION} document of the REST bindings of every service in these \
         contracts (`{OPENAPI_FILE}`)."
    );
    quote! {
        #[doc = #doc]
        pub const OPENAPI_JSON: &str = include_str!(#OPENAPI_FILE);
    }
}

/// The OpenAPI 3.1 document for `contract`, with `info` derived from it.
pub fn emit_openapi(contract: &Contract, pool: &DescriptorPool) -> String {
    emit_openapi_with(contract, pool, &OpenApiInfo::for_contract(contract))
}

/// The OpenAPI 3.1 document for `contract` with the given `info`.
///
/// Messages are looked up in `pool` (the pool the contract was built from); a binding whose
/// request or response message is missing from it is left out.
pub fn emit_openapi_with(contract: &Contract, pool: &DescriptorPool, info: &OpenApiInfo) -> String {
    let mut schemas = Schemas::default();
    errors::add_error_schemas(&mut schemas);
    let ids = OperationIds::new(contract);

    let mut tags = Vec::new();
    let mut paths: Vec<(String, PathItem)> = Vec::new();
    for service in contract.packages.iter().flat_map(|p| &p.services) {
        tags.push(tag(service));
        for method in &service.methods {
            let (Some(input), Some(output)) = (
                pool.get_message_by_name(&method.input_type),
                pool.get_message_by_name(&method.output_type),
            ) else {
                continue;
            };
            for (index, binding) in method.bindings.iter().enumerate() {
                let cx = OperationContext {
                    service,
                    method,
                    binding,
                    input: &input,
                    output: &output,
                    operation_id: ids.id(method, index),
                };
                let operation = operation(&cx, &mut schemas);
                let path = openapi_path(&binding.template);
                let item = match paths.iter_mut().find(|(p, _)| *p == path) {
                    Some((_, item)) => item,
                    None => {
                        paths.push((path, PathItem::default()));
                        &mut paths.last_mut().expect("just pushed").1
                    }
                };
                item.insert(&binding.verb, operation);
            }
        }
    }

    let mut path_object = Object::new();
    for (path, item) in paths {
        path_object.insert(path, item.into_json());
    }
    let document = Object::new()
        .with("openapi", OPENAPI_VERSION)
        .with(
            "info",
            Object::new()
                .with("title", info.title.as_str())
                .with("version", info.version.as_str())
                .with("description", JSON_MAPPING),
        )
        .with("tags", Json::Array(tags))
        .with("paths", path_object)
        .with(
            "components",
            Object::new()
                .with("schemas", schemas.finish())
                .with("responses", errors::error_responses()),
        );
    Json::from(document).to_pretty()
}

/// The `operationId` of binding `index` of `method`, as the document names it.
pub fn operation_id(contract: &Contract, method: &Method, index: usize) -> String {
    OperationIds::new(contract).id(method, index)
}

/// Operation ids: `Service_Method`, or the full name when two packages share that pair.
struct OperationIds {
    counts: BTreeMap<String, usize>,
}

impl OperationIds {
    fn new(contract: &Contract) -> Self {
        let mut counts = BTreeMap::new();
        for service in contract.packages.iter().flat_map(|p| &p.services) {
            for method in &service.methods {
                *counts.entry(short_id(method)).or_insert(0) += 1;
            }
        }
        Self { counts }
    }

    fn id(&self, method: &Method, index: usize) -> String {
        let short = short_id(method);
        let base = if self.counts.get(&short).copied().unwrap_or(0) > 1 {
            method.full_name.replace('.', "_")
        } else {
            short
        };
        if index == 0 {
            base
        } else {
            format!("{base}_{index}")
        }
    }
}

/// `Service_Method` from `pkg.Service.Method`.
fn short_id(method: &Method) -> String {
    let mut parts = method.full_name.rsplit('.');
    let name = parts.next().unwrap_or_default();
    let service = parts.next().unwrap_or_default();
    format!("{service}_{name}")
}

fn tag(service: &Service) -> Json {
    let mut tag = Object::new().with("name", service.full_name.as_str());
    tag.insert_opt("description", comment_text(&service.comments));
    tag.into()
}

/// The operations of one path, by HTTP method.
#[derive(Default)]
struct PathItem {
    operations: Vec<(String, Json)>,
    custom: Vec<(String, Json)>,
}

/// The HTTP methods a path item can hold, in the order OpenAPI lists them.
const PATH_ITEM_METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

impl PathItem {
    fn insert(&mut self, verb: &HttpVerb, operation: Json) {
        let name = verb.as_str().to_ascii_lowercase();
        if PATH_ITEM_METHODS.contains(&name.as_str()) {
            self.operations.push((name, operation));
        } else {
            // OpenAPI 3.1 has no field for other methods; keep them visible in an extension.
            self.custom.push((verb.as_str().to_owned(), operation));
        }
    }

    fn into_json(mut self) -> Json {
        let rank = |name: &str| PATH_ITEM_METHODS.iter().position(|m| *m == name);
        self.operations.sort_by_key(|(name, _)| rank(name));
        self.custom.sort_by(|a, b| a.0.cmp(&b.0));
        let mut item = Object::new();
        for (name, operation) in self.operations {
            item.insert(name, operation);
        }
        if !self.custom.is_empty() {
            let mut custom = Object::new();
            for (name, operation) in self.custom {
                custom.insert(name, operation);
            }
            item.insert("x-custom-methods", custom);
        }
        item.into()
    }
}

struct OperationContext<'a> {
    service: &'a Service,
    method: &'a Method,
    binding: &'a Binding,
    input: &'a MessageDescriptor,
    output: &'a MessageDescriptor,
    operation_id: String,
}

fn operation(cx: &OperationContext<'_>, schemas: &mut Schemas) -> Json {
    let mut operation = Object::new()
        .with("operationId", cx.operation_id.as_str())
        .with("tags", Json::strings([cx.service.full_name.as_str()]));
    if let Some(text) = comment_text(&cx.method.comments) {
        let summary = summary_of(&text);
        if summary != text {
            operation.insert("description", text.as_str());
        }
        operation.insert("summary", summary);
    }
    let mut parameters = path_parameters(cx.binding, cx.input, schemas);
    parameters.extend(query_parameters(cx.binding, cx.input, schemas));
    if !parameters.is_empty() {
        operation.insert("parameters", parameters);
    }
    if let Some(body) = request_body(cx, schemas) {
        operation.insert("requestBody", body);
    }
    let mut responses = Object::new().with("200", success_response(cx, schemas));
    for (status, reference) in errors::error_response_refs() {
        responses.insert(status, reference);
    }
    operation.insert("responses", responses);
    operation.insert(
        "x-grpc-method",
        format!("/{}/{}", cx.service.full_name, cx.method.name),
    );
    if let Some(websocket) = websocket(cx) {
        operation.insert("x-tacos-websocket", websocket);
    }
    operation.into()
}

/// How a streaming method runs over WebSocket on the same path (`x-tacos-websocket`).
fn websocket(cx: &OperationContext<'_>) -> Option<Json> {
    let streaming = cx.method.streaming;
    if streaming == Streaming::Unary {
        return None;
    }
    let requests = if streaming.streams_requests() {
        format!(
            "one `{}` per text frame, as the request body describes; an empty text frame ends the requests",
            cx.input.full_name()
        )
    } else if cx.binding.body == BodySelector::None {
        "none: the request comes from the path and query".to_owned()
    } else {
        format!("one text frame holding the `{}` body", cx.input.full_name())
    };
    let responses = if streaming.streams_responses() {
        "one message per text frame, as the 200 response's NDJSON lines"
    } else {
        "one text frame holding the 200 response"
    };
    Some(
        Object::new()
            .with("handshake", "GET with `Upgrade: websocket` on this path")
            .with("requestFrames", requests)
            .with("responseFrames", responses)
            .with(
                "close",
                "1000 when the call succeeds; otherwise a last text frame \
                 `{\"error\": <google.rpc.Status>}` and close code 4000 + the gRPC code",
            )
            .into(),
    )
}

/// A raw body (`google.api.HttpBody`): any content type, any bytes.
fn raw_content(description: String) -> Json {
    let binary = Object::new()
        .with("type", "string")
        .with("format", "binary");
    Object::new()
        .with("description", description)
        .with(
            "content",
            Object::new().with("*/*", Object::new().with("schema", binary)),
        )
        .into()
}

fn request_body(cx: &OperationContext<'_>, schemas: &mut Schemas) -> Option<Json> {
    if super::raw_request(Some(cx.input), cx.method, cx.binding) {
        let what = match &cx.binding.body {
            BodySelector::Field(bound) => format!("the request's `{}` field", bound.path),
            _ => "the request".to_owned(),
        };
        return Some(raw_content(format!(
            "Any body, sent as is: {what}, a `google.api.HttpBody` of this data and \
             `Content-Type`."
        )));
    }
    let (schema, description) = match &cx.binding.body {
        BodySelector::None => return None,
        BodySelector::All => {
            // Top-level fields bound by the path are not read from the body.
            let bound: Vec<&str> = cx
                .binding
                .path_fields
                .iter()
                .filter(|f| f.path.parts().len() == 1)
                .map(|f| f.path.root())
                .collect();
            let schema = if bound.is_empty() {
                schemas.message_ref(cx.input)
            } else {
                let mut properties = Object::new();
                for field in cx.input.fields().filter(|f| !bound.contains(&f.name())) {
                    let property = schemas.field_schema(&field);
                    properties.insert(field.json_name(), property);
                }
                Object::new()
                    .with("type", "object")
                    .with("properties", properties)
                    .into()
            };
            (
                schema,
                format!(
                    "`{}` without the fields the path binds; an empty body is `{{}}`.",
                    cx.input.full_name()
                ),
            )
        }
        BodySelector::Field(bound) => {
            let field = resolve(cx.input, &bound.path)?;
            (
                schemas.field_schema(&field),
                format!("The request's `{}` field.", bound.path),
            )
        }
    };
    if cx.method.streaming.streams_requests() {
        return Some(
            Object::new()
                .with(
                    "description",
                    format!(
                        "A stream of requests as newline-delimited JSON, one per line, each \
                         {}{} A line that does not decode ends the call with `400` naming it.",
                        description[..1].to_lowercase(),
                        &description[1..],
                    ),
                )
                .with(
                    "content",
                    Object::new()
                        .with("application/x-ndjson", Object::new().with("schema", schema)),
                )
                .into(),
        );
    }
    Some(
        Object::new()
            .with("description", description)
            .with(
                "content",
                Object::new().with("application/json", Object::new().with("schema", schema)),
            )
            .into(),
    )
}

fn success_response(cx: &OperationContext<'_>, schemas: &mut Schemas) -> Json {
    if super::raw_response(Some(cx.output), cx.method, cx.binding) {
        let what = match &cx.binding.response_body {
            Some(bound) => format!("the `{}` field of `{}`", bound.path, cx.output.full_name()),
            None => "the response".to_owned(),
        };
        let shape = if cx.method.streaming.streams_responses() {
            "the data of each `google.api.HttpBody` in turn, as one body typed by the first; \
             an error after the first ends the body early (the connection is closed)"
        } else {
            "its data, with its content type"
        };
        return raw_content(format!(
            "OK: {what}, a `google.api.HttpBody`, sent raw: {shape}."
        ));
    }
    let (item, what) = match &cx.binding.response_body {
        Some(bound) => match resolve(cx.output, &bound.path) {
            Some(field) => (
                schemas.field_schema(&field),
                format!("the `{}` field of `{}`", bound.path, cx.output.full_name()),
            ),
            None => (
                schemas.message_ref(cx.output),
                format!("`{}`", cx.output.full_name()),
            ),
        },
        None => (
            schemas.message_ref(cx.output),
            format!("`{}`", cx.output.full_name()),
        ),
    };
    if !cx.method.streaming.streams_responses() {
        return Object::new()
            .with("description", format!("OK: {what}."))
            .with(
                "content",
                Object::new().with("application/json", Object::new().with("schema", item)),
            )
            .into();
    }
    let error_line = Object::new()
        .with("type", "object")
        .with(
            "properties",
            Object::new().with("error", schema::schema_ref(errors::STATUS_SCHEMA)),
        )
        .with("required", Json::strings(["error"]));
    let ndjson_line = Object::new().with("anyOf", vec![item, error_line.into()]);
    let sse = Object::new().with("type", "string").with(
        "description",
        "Server-Sent Events: each message is a `data:` event holding one JSON message; an error \
         is an `event: error` event whose data is a `google.rpc.Status`.",
    );
    Object::new()
        .with(
            "description",
            format!(
                "A stream of {what}: Server-Sent Events when the request accepts \
                 `text/event-stream`, otherwise newline-delimited JSON with one message per \
                 line. An error after the stream started ends it in-band: an `error` event, or \
                 a last line `{{\"error\": <google.rpc.Status>}}`."
            ),
        )
        .with(
            "content",
            Object::new()
                .with("text/event-stream", Object::new().with("schema", sse))
                .with(
                    "application/x-ndjson",
                    Object::new().with("schema", ndjson_line),
                ),
        )
        .into()
}

/// Leading and trailing comments joined by a blank line.
fn comment_text(comments: &Comments) -> Option<String> {
    let parts: Vec<&str> = [&comments.leading, &comments.trailing]
        .into_iter()
        .filter_map(|c| c.as_deref())
        .filter(|c| !c.trim().is_empty())
        .collect();
    (!parts.is_empty()).then(|| parts.join("\n\n"))
}

/// The first sentence (or line) of a comment.
fn summary_of(text: &str) -> String {
    let first_paragraph = text.split("\n\n").next().unwrap_or(text);
    let line = first_paragraph.replace('\n', " ");
    match line.find(". ") {
        Some(end) => line[..=end].trim().to_owned(),
        None => line.trim().to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_are_first_sentences() {
        assert_eq!(
            summary_of("Joins the line. Returns a token."),
            "Joins the line."
        );
        assert_eq!(summary_of("Joins\nthe line.\n\nMore."), "Joins the line.");
        assert_eq!(summary_of("One line"), "One line");
    }

    #[test]
    fn versions_are_recognised() {
        assert!(is_version("v1"));
        assert!(is_version("v2beta1"));
        assert!(!is_version("vendor"));
        assert!(!is_version("types"));
    }
}
