//! The generated REST routes inside axum: mounted in an application's own router (merged or
//! nested, under tower-http layers, served by `axum::serve`), and the server serving an
//! application's axum routes beside the generated ones.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Path};
use axum::routing::{get, post};
use http::HeaderValue;
use serde_json::{json, Value};
use tacos_runtime::metrics::Metrics;
use tacos_runtime::server::Server;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::library::*;
use crate::support::*;

/// Serves `app` with `axum::serve` on a loopback port until the test ends.
async fn serve_axum(app: axum::Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    addr
}

/// `method url` with an optional JSON body: status, headers and the body as JSON (or a string).
async fn call(
    method: reqwest::Method,
    url: String,
    body: Option<Value>,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let mut request = http_client().request(method, url);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, headers, body)
}

fn library_server(metrics: &Arc<Metrics>) -> Server {
    Server::builder()
        .metrics(Arc::clone(metrics))
        .add(library_service(Arc::new(TestLibrary::default())))
        .build()
        .unwrap()
}

#[tokio::test]
async fn generated_routes_merge_into_an_axum_application_with_its_routes_and_layers() {
    let metrics = Arc::new(Metrics::new());
    let server = library_server(&metrics);
    let app = axum::Router::new()
        .route(
            "/hooks/paid",
            post(|body: String| async move { format!("paid {body}") }),
        )
        // A literal route of the application beside the generated `/v1/{name=shelves/*/books/*}`.
        .route(
            "/v1/shelves/{shelf}/export",
            get(|Path(shelf): Path<String>| async move { format!("export of {shelf}") }),
        )
        .merge(server.rest_router())
        .layer(SetResponseHeaderLayer::overriding(
            http::header::HeaderName::from_static("x-app"),
            HeaderValue::from_static("bookshop"),
        ));
    let addr = serve_axum(app).await;
    let url = |path: &str| format!("http://{addr}{path}");

    // The application's own routes.
    let (status, headers, body) = call(reqwest::Method::POST, url("/hooks/paid"), None).await;
    assert_eq!((status, body), (200, json!("paid ")));
    assert_eq!(headers["x-app"], "bookshop");
    let (status, _, body) = call(reqwest::Method::GET, url("/v1/shelves/s1/export"), None).await;
    assert_eq!((status, body), (200, json!("export of s1")));

    // Generated routes: a multi-segment variable, a literal beside a variable, a custom verb,
    // a body; the request id and the layer's header on each.
    let (status, headers, body) =
        call(reqwest::Method::GET, url("/v1/shelves/s1/books/b1"), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["title"], "Title of shelves/s1/books/b1");
    assert_eq!(headers["x-app"], "bookshop");
    assert!(headers.contains_key("x-request-id"));
    let (status, _, body) = call(reqwest::Method::GET, url("/v1/books/featured"), None).await;
    assert_eq!((status, &body["title"]), (200, &json!("Featured")));
    let (status, _, body) = call(
        reqwest::Method::GET,
        url("/v1/books:search?pageSize=3"),
        None,
    )
    .await;
    assert_eq!((status, &body["echo"]["pageSize"]), (200, &json!(3)));
    let (status, _, body) = call(
        reqwest::Method::POST,
        url("/v1/shelves/s1/books"),
        Some(json!({"title": "Dune"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["title"], "Dune");

    // The generated answers for what no binding matches: 404, and 405 with `Allow`.
    let (status, _, body) = call(reqwest::Method::GET, url("/v1/nothing/here"), None).await;
    assert_eq!(status, 404);
    assert_eq!(body["code"], 5, "a google.rpc.Status: {body}");
    let (status, headers, body) =
        call(reqwest::Method::PUT, url("/v1/shelves/s1/books/b1"), None).await;
    assert_eq!(status, 405, "{body}");
    let mut allowed: Vec<&str> = headers["allow"].to_str().unwrap().split(", ").collect();
    allowed.sort_unstable();
    assert_eq!(allowed, ["DELETE", "GET", "PATCH"]);
    // Errors of the handler keep their status and details.
    let (status, _, body) = call(
        reqwest::Method::GET,
        url("/v1/shelves/s1/books/missing"),
        None,
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(body["details"][0]["reason"], "BOOK_NOT_FOUND");

    // The server's policies ran: the calls are in its registry, labelled REST, with the peer
    // address from axum's connect info.
    let text = metrics.render();
    assert!(
        text.lines()
            .any(|line| line.starts_with("tacos_server_requests_total{")
                && line.contains("method=\"GetBook\"")
                && line.contains("protocol=\"rest\"")
                && line.contains("code=\"OK\"")),
        "{text}"
    );
}

#[tokio::test]
async fn generated_routes_nest_under_a_prefix() {
    let metrics = Arc::new(Metrics::new());
    let server = library_server(&metrics);
    let app = axum::Router::new()
        .nest("/api", server.rest_router())
        .fallback(|| async { (http::StatusCode::IM_A_TEAPOT, "the application's fallback") });
    let addr = serve_axum(app).await;
    let (status, _, body) = call(
        reqwest::Method::PUT,
        format!("http://{addr}/api/v1/shelves/s1/books/b1"),
        None,
    )
    .await;
    // The generated 405 under the prefix.
    assert_eq!(status, 405, "{body}");
    let (status, _, body) = call(
        reqwest::Method::POST,
        format!("http://{addr}/api/v1/shelves/s1/books/b1:archive"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, _, body) = call(
        reqwest::Method::GET,
        format!("http://{addr}/api/v1/files/a/b/c.txt"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    // Outside the generated prefixes, the application's own fallback still answers.
    let (status, _, body) = call(
        reqwest::Method::GET,
        format!("http://{addr}/elsewhere"),
        None,
    )
    .await;
    assert_eq!((status, body), (418, json!("the application's fallback")));
}

#[tokio::test]
async fn the_server_serves_axum_routes_beside_the_generated_ones() {
    let routes = axum::Router::new()
        .route(
            "/hooks/peer",
            get(|ConnectInfo(peer): ConnectInfo<SocketAddr>| async move { peer.ip().to_string() }),
        )
        .route(
            "/v1/books/bestseller",
            get(|| async { "the application's" }),
        )
        .fallback(|| async { "never reached" });
    let server = TestServer::start_with(Server::builder().router(routes)).await;

    let (status, headers, body) = call(reqwest::Method::GET, server.url("/hooks/peer"), None).await;
    assert_eq!((status, body), (200, json!("127.0.0.1")));
    assert!(headers.contains_key("x-request-id"));
    // The application's literal route wins over the generated `/v1/{name=shelves/*/books/*}`
    // family; the generated routes answer the rest.
    let (status, _, body) = call(
        reqwest::Method::GET,
        server.url("/v1/books/bestseller"),
        None,
    )
    .await;
    assert_eq!((status, body), (200, json!("the application's")));
    let (status, _, body) =
        call(reqwest::Method::GET, server.url("/v1/books/featured"), None).await;
    assert_eq!((status, &body["title"]), (200, &json!("Featured")));
    let (status, _, body) = call(
        reqwest::Method::GET,
        server.url("/v1/shelves/s1/books/b1"),
        None,
    )
    .await;
    assert_eq!(
        (status, &body["name"]),
        (200, &json!("shelves/s1/books/b1"))
    );
    // Health and the generated 404 are the server's, not the application's fallback.
    let (status, _, _) = call(reqwest::Method::GET, server.url("/healthz"), None).await;
    assert_eq!(status, 200);
    let (status, _, body) = call(reqwest::Method::GET, server.url("/nowhere"), None).await;
    assert_eq!(status, 404);
    assert_eq!(body["code"], 5, "{body}");
    // gRPC is untouched by the application's routes.
    let book = grpc_unary::<_, Book>(
        &channel(server.addr).await,
        "/tacos.test.v1.Library/GetBook",
        tonic::Request::new(GetBookRequest {
            name: "shelves/s1/books/b1".into(),
        }),
    )
    .await
    .unwrap()
    .into_inner();
    assert_eq!(book.title, "Title of shelves/s1/books/b1");
}
