//! Serving the contract's OpenAPI document at `/openapi.json`.
//!
//! `cargo xtask generate` writes one OpenAPI 3.1 document per contract crate (its
//! `OPENAPI_JSON` constant) describing every REST binding of every service in it, one tag per
//! service (the service's full name). A server usually registers only some of those services, so
//! [`OpenApiDocument::for_services`] narrows the document to the operations tagged with the
//! registered services, drops the tags, paths and components nothing refers to any more, and
//! merges the documents of several contract crates into one. The result is rendered once, at
//! start-up; serving it is a clone of the bytes.
//!
//! Serve it with [`OpenApiDocument::layer`] as a server middleware layer, or call
//! [`OpenApiDocument::answer`] from a dispatcher: `GET`/`HEAD /openapi.json` answer the document,
//! any other method `405` with `Allow: GET, HEAD`.

use std::collections::{BTreeSet, HashSet};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::header::{HeaderValue, ALLOW, CACHE_CONTROL, CONTENT_TYPE};
use http::StatusCode;
use http_body_util::Full;
use serde_json::{Map, Value};

use crate::grpc::Body;
use crate::status::{Code, Status};

/// Where the document is served.
pub const OPENAPI_PATH: &str = "/openapi.json";

/// The HTTP methods a path item can hold (OpenAPI 3.1), plus our extension for other methods.
const OPERATION_KEYS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];
const CUSTOM_METHODS_KEY: &str = "x-custom-methods";

/// Why a document could not be prepared.
#[derive(Debug, thiserror::Error)]
pub enum OpenApiError {
    /// The text is not JSON.
    #[error("openapi document is not json: {0}")]
    Json(#[from] serde_json::Error),
    /// The JSON is not an OpenAPI document.
    #[error("openapi document has no `{0}` object")]
    Shape(&'static str),
}

/// An OpenAPI document ready to be served.
#[derive(Clone, Debug)]
pub struct OpenApiDocument {
    json: Bytes,
}

impl OpenApiDocument {
    /// Serves `document` as it is (after checking it is a JSON object with `paths`).
    pub fn new(document: &'static str) -> Result<Self, OpenApiError> {
        let value: Value = serde_json::from_str(document)?;
        value
            .get("paths")
            .and_then(Value::as_object)
            .ok_or(OpenApiError::Shape("paths"))?;
        Ok(Self {
            json: Bytes::from_static(document.as_bytes()),
        })
    }

    /// One document for the services a server registered: the operations of `documents` tagged
    /// with one of `services` (full names such as `gateway.v1.QueueService`), and only the tags
    /// and components those operations need. The first document gives `openapi` and `info`;
    /// later documents add their paths, tags and components (the first definition of a name
    /// wins: the same proto name is the same schema).
    ///
    /// When one document is given and every operation in it is kept, its text is served
    /// unchanged.
    pub fn for_services(
        documents: &[&'static str],
        services: &[&str],
    ) -> Result<Self, OpenApiError> {
        let wanted: HashSet<&str> = services.iter().copied().collect();
        let mut merged: Option<Value> = None;
        let mut dropped_any = false;
        for text in documents {
            let mut document: Value = serde_json::from_str(text)?;
            dropped_any |= retain_operations(&mut document, &wanted)?;
            match &mut merged {
                None => merged = Some(document),
                Some(into) => merge(into, document)?,
            }
        }
        let Some(mut document) = merged else {
            return Err(OpenApiError::Shape("paths"));
        };
        if let [only] = documents {
            if !dropped_any {
                return Ok(Self {
                    json: Bytes::from_static(only.as_bytes()),
                });
            }
        }
        retain_tags(&mut document, &wanted);
        prune_components(&mut document);
        let json = serde_json::to_vec_pretty(&document)?;
        Ok(Self {
            json: Bytes::from(json),
        })
    }

    /// The document's JSON text.
    pub fn json(&self) -> &Bytes {
        &self.json
    }

    /// The response for a request to [`OPENAPI_PATH`]; `None` for any other path.
    pub fn answer(&self, method: &http::Method, path: &str) -> Option<http::Response<Body>> {
        if path != OPENAPI_PATH {
            return None;
        }
        if method == http::Method::GET || method == http::Method::HEAD {
            let mut response = http::Response::new(Body::new(Full::new(self.json.clone())));
            let headers = response.headers_mut();
            headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            // The document only changes with a new build; let clients revalidate now and then.
            headers.insert(
                CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=300"),
            );
            return Some(response);
        }
        let status = Status::new(
            Code::Unimplemented,
            format!("{method} is not allowed on {OPENAPI_PATH}"),
        );
        let mut response =
            http::Response::new(Body::new(Full::new(Bytes::from(status.to_json_bytes()))));
        *response.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
        Some(response)
    }

    /// A middleware layer answering [`OPENAPI_PATH`] and passing every other request on.
    pub fn layer(&self) -> OpenApiLayer {
        OpenApiLayer {
            document: self.clone(),
        }
    }
}

/// The [`tower::Layer`] made by [`OpenApiDocument::layer`].
#[derive(Clone, Debug)]
pub struct OpenApiLayer {
    document: OpenApiDocument,
}

impl<S> tower::Layer<S> for OpenApiLayer {
    type Service = OpenApiService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        OpenApiService {
            document: self.document.clone(),
            inner,
        }
    }
}

/// The service made by [`OpenApiLayer`].
#[derive(Clone, Debug)]
pub struct OpenApiService<S> {
    document: OpenApiDocument,
    inner: S,
}

impl<S> tower::Service<http::Request<Body>> for OpenApiService<S>
where
    S: tower::Service<http::Request<Body>, Response = http::Response<Body>>,
    S::Error: Send + 'static,
    S::Future: Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        match self.document.answer(request.method(), request.uri().path()) {
            Some(response) => Box::pin(std::future::ready(Ok(response))),
            None => Box::pin(self.inner.call(request)),
        }
    }
}

/// Keeps the operations tagged with a wanted service and the path items left non-empty;
/// returns whether anything was dropped.
fn retain_operations(document: &mut Value, wanted: &HashSet<&str>) -> Result<bool, OpenApiError> {
    let paths = document
        .get_mut("paths")
        .and_then(Value::as_object_mut)
        .ok_or(OpenApiError::Shape("paths"))?;
    let keep = |operation: &Value| {
        operation
            .get("tags")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .any(|tag| wanted.contains(tag))
    };
    let mut dropped = false;
    for item in paths.values_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for key in OPERATION_KEYS {
            if item.get(*key).is_some_and(|op| !keep(op)) {
                item.remove(*key);
                dropped = true;
            }
        }
        if let Some(Value::Object(custom)) = item.get_mut(CUSTOM_METHODS_KEY) {
            let before = custom.len();
            custom.retain(|_, op| keep(op));
            dropped |= custom.len() != before;
            if custom.is_empty() {
                item.remove(CUSTOM_METHODS_KEY);
            }
        }
    }
    paths.retain(|_, item| {
        item.as_object().is_some_and(|item| {
            item.keys()
                .any(|k| OPERATION_KEYS.contains(&k.as_str()) || k == CUSTOM_METHODS_KEY)
        })
    });
    Ok(dropped)
}

/// Adds `other`'s paths, tags and components to `into` (first definition wins).
fn merge(into: &mut Value, other: Value) -> Result<(), OpenApiError> {
    let Value::Object(mut other) = other else {
        return Err(OpenApiError::Shape("paths"));
    };
    if let Some(Value::Object(paths)) = other.remove("paths") {
        let target = object_at(into, &["paths"]);
        for (path, item) in paths {
            match (target.get_mut(&path), item) {
                (Some(Value::Object(existing)), Value::Object(item)) => {
                    for (key, value) in item {
                        existing.entry(key).or_insert(value);
                    }
                }
                (None, item) => {
                    target.insert(path, item);
                }
                _ => {}
            }
        }
    }
    if let Some(Value::Array(tags)) = other.remove("tags") {
        let target = into
            .as_object_mut()
            .expect("documents are objects")
            .entry("tags")
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(existing) = target {
            for tag in tags {
                if !existing.iter().any(|t| t.get("name") == tag.get("name")) {
                    existing.push(tag);
                }
            }
        }
    }
    if let Some(Value::Object(components)) = other.remove("components") {
        for (kind, entries) in components {
            let Value::Object(entries) = entries else {
                continue;
            };
            let target = object_at(into, &["components", &kind]);
            for (name, value) in entries {
                target.entry(name).or_insert(value);
            }
        }
    }
    Ok(())
}

/// The object at `path` in `value`, created (as empty objects) where missing.
fn object_at<'a>(value: &'a mut Value, path: &[&str]) -> &'a mut Map<String, Value> {
    let mut current = value;
    for key in path {
        let object = match current {
            Value::Object(object) => object,
            other => {
                *other = Value::Object(Map::new());
                other.as_object_mut().expect("just made an object")
            }
        };
        current = object
            .entry(key.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
    }
    if !current.is_object() {
        *current = Value::Object(Map::new());
    }
    current.as_object_mut().expect("ensured above")
}

/// Keeps the tags of wanted services.
fn retain_tags(document: &mut Value, wanted: &HashSet<&str>) {
    if let Some(Value::Array(tags)) = document.get_mut("tags") {
        tags.retain(|tag| {
            tag.get("name")
                .and_then(Value::as_str)
                .is_some_and(|name| wanted.contains(name))
        });
    }
}

/// Removes the components that nothing reachable from the paths refers to.
fn prune_components(document: &mut Value) {
    let mut reached: BTreeSet<(String, String)> = BTreeSet::new();
    let mut pending: Vec<(String, String)> = Vec::new();
    if let Some(paths) = document.get("paths") {
        collect_refs(paths, &mut pending);
    }
    while let Some(target) = pending.pop() {
        if !reached.insert(target.clone()) {
            continue;
        }
        let (kind, name) = &target;
        if let Some(component) = document
            .get("components")
            .and_then(|c| c.get(kind))
            .and_then(|c| c.get(name))
        {
            collect_refs(component, &mut pending);
        }
    }
    if let Some(Value::Object(components)) = document.get_mut("components") {
        for (kind, entries) in components.iter_mut() {
            if let Value::Object(entries) = entries {
                entries.retain(|name, _| reached.contains(&(kind.clone(), name.clone())));
            }
        }
    }
}

/// Every `#/components/<kind>/<name>` reference under `value`.
fn collect_refs(value: &Value, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(object) => {
            for (key, child) in object {
                if key == "$ref" {
                    if let Some(target) = child.as_str().and_then(component_of) {
                        out.push(target);
                    }
                } else {
                    collect_refs(child, out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| collect_refs(item, out)),
        _ => {}
    }
}

/// `("schemas", "a.B")` from `#/components/schemas/a.B` (JSON pointer escapes decoded).
fn component_of(reference: &str) -> Option<(String, String)> {
    let rest = reference.strip_prefix("#/components/")?;
    let (kind, name) = rest.split_once('/')?;
    let unescape = |s: &str| s.replace("~1", "/").replace("~0", "~");
    Some((unescape(kind), unescape(name)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = r##"{
      "openapi": "3.1.0",
      "info": {"title": "t", "version": "v1"},
      "tags": [{"name": "a.v1.A"}, {"name": "a.v1.B"}],
      "paths": {
        "/a": {"get": {"operationId": "A_Get", "tags": ["a.v1.A"],
                 "responses": {"200": {"description": "ok", "content": {"application/json":
                   {"schema": {"$ref": "#/components/schemas/a.v1.Thing"}}}},
                   "default": {"$ref": "#/components/responses/Error"}}}},
        "/b": {"post": {"operationId": "B_Post", "tags": ["a.v1.B"],
                 "responses": {"200": {"description": "ok", "content": {"application/json":
                   {"schema": {"$ref": "#/components/schemas/a.v1.Other"}}}}}},
               "x-custom-methods": {"LIST": {"operationId": "B_List", "tags": ["a.v1.B"],
                 "responses": {"200": {"description": "ok"}}}}}
      },
      "components": {
        "schemas": {
          "a.v1.Thing": {"type": "object", "properties": {"part": {"$ref": "#/components/schemas/a.v1.Part"}}},
          "a.v1.Part": {"type": "string"},
          "a.v1.Other": {"type": "string"},
          "google.rpc.Status": {"type": "object"}
        },
        "responses": {
          "Error": {"description": "e", "content": {"application/json":
            {"schema": {"$ref": "#/components/schemas/google.rpc.Status"}}}}
        }
      }
    }"##;

    fn parsed(document: &OpenApiDocument) -> Value {
        serde_json::from_slice(document.json()).unwrap()
    }

    #[test]
    fn all_services_serve_the_text_unchanged() {
        let document = OpenApiDocument::for_services(&[DOC], &["a.v1.A", "a.v1.B"]).unwrap();
        assert_eq!(document.json().as_ref(), DOC.as_bytes());
    }

    #[test]
    fn narrowing_keeps_only_the_services_and_what_they_use() {
        let document = parsed(&OpenApiDocument::for_services(&[DOC], &["a.v1.A"]).unwrap());
        let paths: Vec<&String> = document["paths"].as_object().unwrap().keys().collect();
        assert_eq!(paths, ["/a"]);
        assert_eq!(document["tags"], serde_json::json!([{"name": "a.v1.A"}]));
        let schemas: BTreeSet<&str> = document["components"]["schemas"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            schemas,
            BTreeSet::from(["a.v1.Part", "a.v1.Thing", "google.rpc.Status"])
        );
        assert!(document["components"]["responses"]["Error"].is_object());
    }

    #[test]
    fn custom_methods_are_narrowed_too() {
        let document = parsed(&OpenApiDocument::for_services(&[DOC], &["a.v1.B"]).unwrap());
        assert!(document["paths"]["/b"]["x-custom-methods"]["LIST"].is_object());
        assert!(document["paths"].get("/a").is_none());
        assert!(document["components"]["responses"].get("Error").is_none());
    }

    #[test]
    fn documents_merge() {
        const SECOND: &str = r##"{
          "openapi": "3.1.0", "info": {"title": "u", "version": "v1"},
          "tags": [{"name": "c.v1.C"}],
          "paths": {"/a": {"put": {"operationId": "C_Put", "tags": ["c.v1.C"], "responses": {}}}},
          "components": {"schemas": {"google.rpc.Status": {"type": "string"}}}
        }"##;
        let document =
            parsed(&OpenApiDocument::for_services(&[DOC, SECOND], &["a.v1.A", "c.v1.C"]).unwrap());
        assert_eq!(document["info"]["title"], "t");
        assert!(document["paths"]["/a"]["get"].is_object());
        assert!(document["paths"]["/a"]["put"].is_object());
        // The first definition of a shared name wins.
        assert_eq!(
            document["components"]["schemas"]["google.rpc.Status"]["type"],
            "object"
        );
        let tags: Vec<&str> = document["tags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap())
            .collect();
        assert_eq!(tags, ["a.v1.A", "c.v1.C"]);
    }

    #[test]
    fn not_json_is_an_error() {
        assert!(matches!(
            OpenApiDocument::for_services(&["{"], &[]),
            Err(OpenApiError::Json(_))
        ));
        assert!(matches!(
            OpenApiDocument::new("{}"),
            Err(OpenApiError::Shape("paths"))
        ));
    }

    #[test]
    fn answers_only_its_path() {
        let document = OpenApiDocument::new(DOC).unwrap();
        assert!(document.answer(&http::Method::GET, "/other").is_none());
        let ok = document.answer(&http::Method::GET, OPENAPI_PATH).unwrap();
        assert_eq!(ok.status(), StatusCode::OK);
        assert_eq!(ok.headers()[CONTENT_TYPE], "application/json");
        let not_allowed = document.answer(&http::Method::POST, OPENAPI_PATH).unwrap();
        assert_eq!(not_allowed.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(not_allowed.headers()[ALLOW], "GET, HEAD");
    }
}
