//! Browsers on both surfaces: a gRPC-Web call over HTTP/1.1 (hand-built frames, as a web page's
//! client sends them) and CORS preflights and responses, with the settings from the environment.

use std::time::Duration;

use bytes::{Buf, BufMut, Bytes, BytesMut};
use prost::Message;
use tacos_runtime::config::{CorsOrigins, ServerConfig};
use tacos_runtime::server::Server;

use crate::library::*;
use crate::support::{http_client, TestServer};

const ORIGIN: &str = "https://tickets.example";

fn browser_config() -> ServerConfig {
    let vars = [
        ("GRPC_WEB", "true"),
        (
            "CORS_ALLOWED_ORIGINS",
            "https://tickets.example, http://localhost:5173",
        ),
        ("CORS_MAX_AGE_SECONDS", "120"),
    ];
    ServerConfig::from_lookup(&|name| {
        vars.iter()
            .find(|(var, _)| *var == name)
            .map(|(_, v)| (*v).to_owned())
    })
    .unwrap()
}

#[test]
fn browser_settings_are_read_and_checked() {
    let config = browser_config();
    assert!(config.grpc_web);
    let cors = config.cors.expect("CORS on");
    assert_eq!(cors.max_age, Duration::from_secs(120));
    assert_eq!(
        cors.origins,
        CorsOrigins::List(vec![
            "https://tickets.example".parse().unwrap(),
            "http://localhost:5173".parse().unwrap()
        ])
    );
    let star = ServerConfig::from_lookup(&|n| (n == "CORS_ALLOWED_ORIGINS").then(|| "*".into()));
    assert_eq!(star.unwrap().cors.unwrap().origins, CorsOrigins::Any);
    assert_eq!(ServerConfig::from_lookup(&|_| None).unwrap().cors, None);
    for bad in [
        "tickets.example",
        "https://",
        "https://a.example/path",
        "ftp://a.example",
    ] {
        let err = ServerConfig::from_lookup(&|n| (n == "CORS_ALLOWED_ORIGINS").then(|| bad.into()))
            .unwrap_err();
        assert!(
            err.to_string().contains("CORS_ALLOWED_ORIGINS"),
            "{bad}: {err}"
        );
    }
}

/// One gRPC-Web frame: flag, big-endian length, payload.
fn frame(flag: u8, payload: &[u8]) -> Bytes {
    let mut out = BytesMut::new();
    out.put_u8(flag);
    out.put_u32(payload.len() as u32);
    out.put_slice(payload);
    out.freeze()
}

#[tokio::test]
async fn a_grpc_web_call_over_http1_gets_its_message_and_trailers() {
    let server = TestServer::start_with(Server::builder().config(&browser_config())).await;
    let request = GetBookRequest {
        name: "shelves/1/books/1".into(),
    };
    let response = http_client()
        .post(server.url("/tacos.test.v1.Library/GetBook"))
        .header("content-type", "application/grpc-web+proto")
        .header("x-grpc-web", "1")
        .header("origin", ORIGIN)
        .body(frame(0, &request.encode_to_vec()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.version(), reqwest::Version::HTTP_11);
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "application/grpc-web+proto"
    );
    assert_eq!(response.headers()["access-control-allow-origin"], ORIGIN);
    let mut body = response.bytes().await.unwrap();
    let mut book = None;
    let mut trailers = String::new();
    while body.has_remaining() {
        let flag = body.get_u8();
        let len = body.get_u32() as usize;
        let payload = body.split_to(len);
        if flag & 0x80 == 0 {
            book = Some(Book::decode(payload).unwrap());
        } else {
            trailers = String::from_utf8(payload.to_vec()).unwrap();
        }
    }
    assert_eq!(book.expect("a message frame").name, "shelves/1/books/1");
    assert!(trailers.contains("grpc-status:0"), "{trailers}");

    // Errors arrive as trailers too, with their code.
    let missing = GetBookRequest {
        name: "shelves/1/books/missing".into(),
    };
    let response = http_client()
        .post(server.url("/tacos.test.v1.Library/GetBook"))
        .header("content-type", "application/grpc-web+proto")
        .body(frame(0, &missing.encode_to_vec()))
        .send()
        .await
        .unwrap();
    let status = response
        .headers()
        .get("grpc-status")
        .map(|v| v.to_str().unwrap().to_owned());
    let body = response.bytes().await.unwrap();
    let text = String::from_utf8_lossy(&body);
    assert!(
        status.as_deref() == Some("5") || text.contains("grpc-status:5"),
        "NOT_FOUND expected: {status:?} {text}"
    );
    server.stop().await;
}

#[tokio::test]
async fn cors_preflights_and_responses_follow_the_settings() {
    let server = TestServer::start_with(Server::builder().config(&browser_config())).await;
    let preflight = |origin: &'static str| {
        http_client()
            .request(
                reqwest::Method::OPTIONS,
                server.url("/v1/shelves/1/books/1"),
            )
            .header("origin", origin)
            .header("access-control-request-method", "GET")
            .header("access-control-request-headers", "authorization")
            .send()
    };
    let allowed = preflight(ORIGIN).await.unwrap();
    assert!(allowed.status().is_success(), "{}", allowed.status());
    let headers = allowed.headers();
    assert_eq!(headers["access-control-allow-origin"], ORIGIN);
    assert!(headers["access-control-allow-methods"]
        .to_str()
        .unwrap()
        .contains("GET"));
    assert!(headers["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .contains("authorization"));
    assert_eq!(headers["access-control-max-age"], "120");

    let other = preflight("https://elsewhere.example").await.unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());

    // A plain REST call from the page: answered, readable cross-origin.
    let response = http_client()
        .get(server.url("/v1/shelves/1/books/1"))
        .header("origin", ORIGIN)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["access-control-allow-origin"], ORIGIN);
    assert!(response.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .contains("x-request-id"));
    server.stop().await;
}

#[tokio::test]
async fn without_settings_there_is_no_cors_and_no_grpc_web() {
    let server = TestServer::start_with(Server::builder()).await;
    let response = http_client()
        .get(server.url("/v1/shelves/1/books/1"))
        .header("origin", ORIGIN)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response
        .headers()
        .get("access-control-allow-origin")
        .is_none());
    let web = http_client()
        .post(server.url("/tacos.test.v1.Library/GetBook"))
        .header("content-type", "application/grpc-web+proto")
        .body(frame(0, &[]))
        .send()
        .await
        .unwrap();
    assert_ne!(web.status(), 200, "gRPC-Web answered while off");
    server.stop().await;
}
