//! The served OpenAPI document against the routes a live server actually serves.
//!
//! Two servers on 127.0.0.1:
//! - the generated test contract's own registration (`library_service`) with its generated
//!   `OPENAPI_JSON`;
//! - every REST binding of the Traffic Tacos contracts in `proto/` (loaded with the code
//!   generator) as a route answering `200 {}`, built from the model as the generated route
//!   tables are (verb, const path template, body selector), with one service left out to check
//!   that the document is narrowed to what is registered.
//!
//! For each: `GET /openapi.json` answers the document of the registered services; every
//! documented operation, requested with its path parameters filled in, reaches a handler (never
//! the router's 404, never 405); every served route is a documented operation.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use serde_json::Value;
use tacos_codegen::emit::openapi::emit_openapi;
use tacos_codegen::load::load_contracts;
use tacos_codegen::model::{self, Contract, Streaming};
use tacos_codegen::rules::HttpRules;
use tacos_codegen::template::Segment;
use tacos_runtime::grpc::Body;
use tacos_runtime::openapi::{OpenApiDocument, OPENAPI_PATH};
use tacos_runtime::rest::{
    BodySelector, HttpMethod, PathTemplate, RestCall, RestFuture, RestHandler, RouteSpec, Seg,
};
use tacos_runtime::server::{Listeners, MethodInfo, MethodKind, Server, ServiceRegistration};
use tacos_runtime::Idempotency;

/// Left out of the server, so the served document must not mention it.
const UNREGISTERED: &str = "common.v1.AdminService";

fn leak_str(text: &str) -> &'static str {
    Box::leak(text.to_owned().into_boxed_str())
}

fn leak_slice<T>(items: Vec<T>) -> &'static [T] {
    Box::leak(items.into_boxed_slice())
}

fn seg(segment: &Segment) -> Seg {
    match segment {
        Segment::Literal(text) => Seg::Lit(leak_str(text)),
        Segment::Wildcard => Seg::Star,
        Segment::DeepWildcard => Seg::DoubleStar,
        Segment::Variable(variable) => Seg::Var {
            field: leak_str(&variable.field_path.to_string()),
            segments: if variable.pattern == [Segment::Wildcard] {
                &[]
            } else {
                leak_slice(variable.pattern.iter().map(seg).collect())
            },
        },
    }
}

fn http_method(verb: &model::HttpVerb) -> HttpMethod {
    match verb {
        model::HttpVerb::Get => HttpMethod::Get,
        model::HttpVerb::Put => HttpMethod::Put,
        model::HttpVerb::Post => HttpMethod::Post,
        model::HttpVerb::Delete => HttpMethod::Delete,
        model::HttpVerb::Patch => HttpMethod::Patch,
        model::HttpVerb::Custom(name) => HttpMethod::Custom(leak_str(name)),
    }
}

/// A handler that answers `200 {}`: routing is what is under test.
fn ok_handler() -> RestHandler {
    Arc::new(|_call: RestCall| -> RestFuture {
        Box::pin(async {
            let mut response = http::Response::new(Body::new(http_body_util::Full::new(
                bytes::Bytes::from_static(b"{}"),
            )));
            response.headers_mut().insert(
                http::header::CONTENT_TYPE,
                http::HeaderValue::from_static("application/json"),
            );
            response
        })
    })
}

/// One registration per service of the model, with a route per REST binding.
fn registrations(contract: &Contract) -> Vec<ServiceRegistration> {
    let mut out = Vec::new();
    for service in contract.packages.iter().flat_map(|p| &p.services) {
        if service.full_name == UNREGISTERED {
            continue;
        }
        let name = leak_str(&service.full_name);
        let infos: Vec<MethodInfo> = service
            .methods
            .iter()
            .map(|method| MethodInfo {
                service: name,
                name: leak_str(&method.name),
                path: leak_str(&format!("/{}/{}", service.full_name, method.name)),
                kind: match method.streaming {
                    Streaming::Unary => MethodKind::Unary,
                    Streaming::Server => MethodKind::ServerStreaming,
                    Streaming::Client => MethodKind::ClientStreaming,
                    Streaming::Bidi => MethodKind::BidiStreaming,
                },
                idempotency: Idempotency::Unknown,
            })
            .collect();
        let infos = leak_slice(infos);
        let mut registration = ServiceRegistration::new(name, infos, &[]);
        for (method, info) in service.methods.iter().zip(infos) {
            for binding in &method.bindings {
                let spec: &'static RouteSpec = Box::leak(Box::new(RouteSpec {
                    method: http_method(&binding.verb),
                    template: PathTemplate {
                        segments: leak_slice(binding.template.segments.iter().map(seg).collect()),
                        verb: binding.template.verb.as_deref().map(leak_str),
                    },
                    body: match &binding.body {
                        model::BodySelector::None => BodySelector::None,
                        model::BodySelector::All => BodySelector::Whole,
                        model::BodySelector::Field(field) => {
                            BodySelector::Field(leak_str(&field.path.to_string()))
                        }
                    },
                    response_body: binding
                        .response_body
                        .as_ref()
                        .map(|field| leak_str(&field.path.to_string())),
                    // Routing and the document do not depend on them.
                    raw_request: false,
                    raw_response: false,
                    rpc: info,
                }));
                registration = registration.with_route(spec, ok_handler());
            }
        }
        out.push(registration);
    }
    out
}

/// The OpenAPI form of a runtime template (`{field}` per variable, `{segmentN}` per wildcard).
fn openapi_path_of(template: &PathTemplate) -> String {
    let mut out = String::new();
    let mut wildcards = 0;
    for segment in template.segments {
        out.push('/');
        match segment {
            Seg::Lit(text) => out.push_str(text),
            Seg::Star | Seg::DoubleStar => {
                wildcards += 1;
                out.push_str(&format!("{{segment{wildcards}}}"));
            }
            Seg::Var { field, .. } => out.push_str(&format!("{{{field}}}")),
        }
    }
    if let Some(verb) = template.verb {
        out.push(':');
        out.push_str(verb);
    }
    out
}

/// (METHOD, path) of every operation of a document.
fn documented(document: &Value) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for (key, value) in item.as_object().unwrap() {
            if key == "x-custom-methods" {
                for method in value.as_object().unwrap().keys() {
                    out.insert((method.clone(), path.clone()));
                }
            } else if value.get("operationId").is_some() {
                out.insert((key.to_ascii_uppercase(), path.clone()));
            }
        }
    }
    out
}

/// A value the parameter's schema accepts, to put in the path.
fn sample_value(parameter: &Value, document: &Value) -> String {
    let mut schema = &parameter["schema"];
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.trim_start_matches("#/components/schemas/");
        schema = &document["components"]["schemas"][name];
    }
    if let Some(pattern) = schema["pattern"].as_str() {
        return from_pattern(pattern);
    }
    if let Some(first) = schema["enum"].as_array().and_then(|values| values.first()) {
        return first.as_str().unwrap().to_owned();
    }
    match (schema["type"].as_str(), schema.get("anyOf")) {
        (Some("integer"), _) => "7".to_owned(),
        (Some("boolean"), _) => "true".to_owned(),
        (_, Some(_)) => "1.5".to_owned(),
        _ => "sample-1".to_owned(),
    }
}

/// A string matching one of the document's anchored patterns (literals, `[^/]+`, `(/.*)?`,
/// `.*`, and the integer patterns).
fn from_pattern(pattern: &str) -> String {
    match pattern {
        "^-?[0-9]+$" | "^[0-9]+$" => return "7".to_owned(),
        _ => {}
    }
    pattern
        .trim_start_matches('^')
        .trim_end_matches('$')
        .replace("[^/]+", "seg")
        .replace("(/.*)?", "/deep/er")
        .replace(".*", "deep/er")
        .replace('\\', "")
}

fn fill_path(path: &str, operation: &Value, document: &Value) -> String {
    let mut filled = path.to_owned();
    for parameter in operation["parameters"].as_array().into_iter().flatten() {
        if parameter["in"] == "path" {
            let name = parameter["name"].as_str().unwrap();
            filled = filled.replace(&format!("{{{name}}}"), &sample_value(parameter, document));
        }
    }
    assert!(!filled.contains('{'), "unfilled parameter in {filled}");
    filled
}

#[tokio::test]
async fn documented_operations_and_served_routes_agree() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .join("proto");
    let loaded = load_contracts(&[root], &[]).expect("contracts load");
    let contract = Contract::build(&loaded, &HttpRules::none());
    let full_document = leak_str(&emit_openapi(&contract, &loaded.pool));

    let registrations = registrations(&contract);
    let names: Vec<&str> = registrations.iter().map(|r| r.name()).collect();
    let document = OpenApiDocument::for_services(&[full_document], &names).unwrap();
    let mut builder = Server::builder().reflection(false).layer(document.layer());
    for registration in registrations {
        builder = builder.add(registration);
    }
    let server = builder.build().expect("the server builds");
    let served: BTreeSet<(String, String)> = server
        .routes()
        .iter()
        .map(|spec| {
            (
                spec.method.as_str().to_owned(),
                openapi_path_of(&spec.template),
            )
        })
        .collect();

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(server.serve(Listeners::both(listener), async {
        let _ = stopped.await;
    }));
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .unwrap();

    // The document served is the registered services' part of the whole.
    let response = client
        .get(format!("{base}{OPENAPI_PATH}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    let served_document: Value = response.json().await.unwrap();
    let tags: BTreeSet<&str> = served_document["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(tags, names.iter().copied().collect());
    let whole: Value = serde_json::from_str(full_document).unwrap();
    assert!(documented(&whole).len() > documented(&served_document).len());
    let posted = client
        .post(format!("{base}{OPENAPI_PATH}"))
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), 405);

    check_routes_against_document(&client, &base, &served_document, &served).await;

    stop.send(()).unwrap();
    serving.await.unwrap().unwrap();
}

/// Requests every documented operation (path parameters filled in) and expects it to reach a
/// handler: never 405, and never the router's 404 (`no route for ...`; a handler may answer
/// `NOT_FOUND` itself). Then every served route must be a documented operation and vice versa.
async fn check_routes_against_document(
    client: &reqwest::Client,
    base: &str,
    document: &Value,
    served: &BTreeSet<(String, String)>,
) {
    let operations = documented(document);
    assert!(!operations.is_empty() && !served.is_empty());
    let mut failures = Vec::new();
    for (method, path) in &operations {
        let item = &document["paths"][path];
        let operation = match item.get(method.to_ascii_lowercase()) {
            Some(operation) => operation,
            None => &item["x-custom-methods"][method],
        };
        let url = format!("{base}{}", fill_path(path, operation, document));
        let mut request = client.request(
            reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
            &url,
        );
        if operation.get("requestBody").is_some() {
            request = request
                .header("content-type", "application/json")
                .body("{}");
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let unrouted = status == 405
            || (status == 404 && {
                let body: Value = response.json().await.unwrap_or(Value::Null);
                body["message"]
                    .as_str()
                    .is_some_and(|m| m.starts_with("no route for"))
            });
        if unrouted {
            failures.push(format!("{method} {url} -> {status}"));
        }
    }
    assert!(
        failures.is_empty(),
        "documented but not served:\n{}",
        failures.join("\n")
    );
    let undocumented: Vec<_> = served.difference(&operations).collect();
    assert!(
        undocumented.is_empty(),
        "served but not documented: {undocumented:#?}"
    );
    assert_eq!(served, &operations);
}

/// The real thing: the generated test contract's `OPENAPI_JSON` against the server its
/// generated `library_service` registration makes.
#[tokio::test]
async fn the_generated_document_matches_the_generated_routes() {
    use crate::generated::OPENAPI_JSON;
    let names = ["tacos.test.v1.Library"];
    let document = OpenApiDocument::for_services(&[OPENAPI_JSON], &names).unwrap();
    let routes_of = Server::builder()
        .reflection(false)
        .add(crate::library::library_service(Arc::new(
            crate::support::TestLibrary::default(),
        )))
        .build()
        .unwrap();
    let served: BTreeSet<(String, String)> = routes_of
        .routes()
        .iter()
        .map(|spec| {
            (
                spec.method.as_str().to_owned(),
                openapi_path_of(&spec.template),
            )
        })
        .collect();
    drop(routes_of);

    let server =
        crate::support::TestServer::start_with(Server::builder().layer(document.layer())).await;
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .unwrap();
    let response = client.get(server.url(OPENAPI_PATH)).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let served_document: Value = response.json().await.unwrap();
    assert_eq!(
        served_document,
        serde_json::from_str::<Value>(OPENAPI_JSON).unwrap()
    );
    let base = server.url("");
    check_routes_against_document(&client, &base, &served_document, &served).await;
    server.stop().await;
}

/// The document's error schema is what the runtime renders: every key of a rendered status
/// (with all three detail kinds) is a documented property, required ones included, and each
/// detail matches the schema its `@type` names.
#[test]
fn the_error_schema_matches_rendered_statuses() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .join("proto");
    let loaded = load_contracts(&[root], &[]).expect("contracts load");
    let contract = Contract::build(&loaded, &HttpRules::none());
    let document: Value = serde_json::from_str(&emit_openapi(&contract, &loaded.pool)).unwrap();
    let schemas = &document["components"]["schemas"];

    let status = tacos_runtime::Status::invalid_field("seat.row", "must be positive")
        .with_error_info(
            "SEAT_TAKEN",
            "reservation.traffic-tacos",
            [("seat".into(), "A1".into())],
        )
        .with_retry_after(std::time::Duration::from_millis(1500));
    let rendered = status.to_json();
    let keys_of = |value: &Value| -> BTreeSet<String> {
        value.as_object().unwrap().keys().cloned().collect()
    };
    let properties_of = |schema: &Value| keys_of(&schema["properties"]);

    let status_schema = &schemas["google.rpc.Status"];
    assert_eq!(keys_of(&rendered), properties_of(status_schema));
    for required in status_schema["required"].as_array().unwrap() {
        assert!(
            rendered.get(required.as_str().unwrap()).is_some(),
            "{required} missing"
        );
    }
    assert!(rendered["code"].is_i64(), "code is the numeric gRPC code");

    let detail_schemas: Vec<&Value> = status_schema["properties"]["details"]["items"]["anyOf"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let name = r["$ref"]
                .as_str()
                .unwrap()
                .trim_start_matches("#/components/schemas/");
            &schemas[name]
        })
        .collect();
    let details = rendered["details"].as_array().unwrap();
    assert_eq!(details.len(), 3, "{rendered}");
    for detail in details {
        let type_url = detail["@type"].as_str().unwrap();
        let schema = detail_schemas
            .iter()
            .find(|s| s["properties"]["@type"]["const"] == type_url)
            .unwrap_or_else(|| panic!("no detail schema for {type_url}"));
        let extra: Vec<String> = keys_of(detail)
            .difference(&properties_of(schema))
            .cloned()
            .collect();
        assert!(extra.is_empty(), "{type_url}: undocumented keys {extra:?}");
    }
    let violation = &details
        .iter()
        .find(|d| d.get("fieldViolations").is_some())
        .unwrap()["fieldViolations"][0];
    assert_eq!(
        keys_of(violation),
        properties_of(&schemas["google.rpc.BadRequest.FieldViolation"])
    );
}
