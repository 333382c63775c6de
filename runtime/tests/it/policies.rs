//! The policy stack over both protocols against real sockets: auth (with the hostile-token
//! suite), rate limits, idempotency keys (memory and Redis), metrics read back with a
//! Prometheus parser, request ids and size limits.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use openmetrics_parser::prometheus::parse_prometheus;
use openmetrics_parser::PrometheusValue;
use tacos_runtime::auth::Authenticator;
use tacos_runtime::idempotency::{Idempotency, IdempotencyConfig, RedisSettings};
use tacos_runtime::metrics::Metrics;
use tacos_runtime::rate_limit::{RateLimitConfig, RateLimiter};
use tacos_runtime::server::Server;
use tacos_runtime::{Code, MethodPolicy, Status};

use crate::auth::toolkit::{claims, config, mint_hs256, JwksServer};
use crate::library::*;
use crate::support::*;

static AUTHENTICATED: MethodPolicy = MethodPolicy::DEFAULT;
static LIBRARIANS: MethodPolicy = MethodPolicy {
    roles: &["librarian"],
    ..MethodPolicy::DEFAULT
};
static SEARCH: MethodPolicy = MethodPolicy {
    public: true,
    rate_class: Some("search"),
    ..MethodPolicy::DEFAULT
};
static CREATE: MethodPolicy = MethodPolicy {
    idempotent: true,
    ..MethodPolicy::DEFAULT
};
static SLOW: MethodPolicy = MethodPolicy {
    public: true,
    idempotent: true,
    timeout: Some(Duration::from_secs(3)),
    ..MethodPolicy::DEFAULT
};

fn policies(method: &str) -> Option<&'static MethodPolicy> {
    match method {
        "GetBook" => Some(&AUTHENTICATED),
        "DeleteBook" => Some(&LIBRARIANS),
        "SearchBooks" => Some(&SEARCH),
        "CreateBook" => Some(&CREATE),
        "Slow" => Some(&SLOW),
        _ => None,
    }
}

async fn start(builder: tacos_runtime::server::ServerBuilder) -> TestServer {
    let handler = Arc::new(TestLibrary {
        policies: Some(policies),
        ..TestLibrary::default()
    });
    TestServer::start_handler(builder, handler).await
}

fn authenticator(jwks: &JwksServer) -> Authenticator {
    Authenticator::new(config(Some(&jwks.url()))).expect("authenticator")
}

fn bearer<T>(mut request: tonic::Request<T>, token: &str) -> tonic::Request<T> {
    request.metadata_mut().insert(
        "authorization",
        format!("Bearer {token}").parse().expect("ascii token"),
    );
    request
}

async fn grpc_get(server: &TestServer, token: Option<&str>) -> Result<Book, tonic::Status> {
    let channel = channel(server.addr).await;
    let mut request = tonic::Request::new(GetBookRequest {
        name: "shelves/s/books/b".into(),
    });
    if let Some(token) = token {
        request = bearer(request, token);
    }
    grpc_unary::<_, Book>(&channel, "/tacos.test.v1.Library/GetBook", request)
        .await
        .map(tonic::Response::into_inner)
}

async fn rest_get(server: &TestServer, token: Option<&str>) -> reqwest::Response {
    let mut request = http_client().get(server.url("/v1/shelves/s/books/b"));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn auth_is_the_same_on_both_protocols() {
    let jwks = JwksServer::start().await;
    let server = start(Server::builder().authenticator(authenticator(&jwks))).await;
    let token = mint_hs256(&claims("alice"));

    // No token: 401 with a bare Bearer challenge / UNAUTHENTICATED.
    let response = rest_get(&server, None).await;
    assert_eq!(response.status(), 401);
    assert_eq!(response.headers()["www-authenticate"], "Bearer");
    assert_eq!(
        grpc_get(&server, None).await.unwrap_err().code(),
        Code::Unauthenticated
    );

    // A valid token.
    assert_eq!(rest_get(&server, Some(&token)).await.status(), 200);
    assert_eq!(
        grpc_get(&server, Some(&token)).await.unwrap().title,
        "Title of shelves/s/books/b"
    );

    // A valid token without the role: 403 / PERMISSION_DENIED.
    let response = http_client()
        .delete(server.url("/v1/shelves/s/books/b"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    let channel = channel(server.addr).await;
    let denied = grpc_unary::<_, ()>(
        &channel,
        "/tacos.test.v1.Library/DeleteBook",
        bearer(
            tonic::Request::new(DeleteBookRequest {
                name: "shelves/s/books/b".into(),
            }),
            &token,
        ),
    )
    .await
    .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);

    // With the role.
    let mut librarian = claims("bob");
    librarian["roles"] = serde_json::json!(["librarian"]);
    let response = http_client()
        .delete(server.url("/v1/shelves/s/books/b"))
        .bearer_auth(mint_hs256(&librarian))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    // A public method ignores a bad token and runs anonymously.
    let response = http_client()
        .get(server.url("/v1/books:search?query=x"))
        .bearer_auth("not-a-token")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn hostile_tokens_are_refused_on_both_protocols() {
    let jwks = JwksServer::start().await;
    let server = start(Server::builder().authenticator(authenticator(&jwks))).await;
    let tokens = crate::auth::toolkit::hostile_tokens(&jwks.base());
    assert!(tokens.len() > 50, "the suite has {} tokens", tokens.len());
    for (name, token) in &tokens {
        // Tokens that are not valid header values cannot be sent at all; the rest must be 401.
        if http::HeaderValue::from_str(&format!("Bearer {token}")).is_err() {
            continue;
        }
        let response = rest_get(&server, Some(token)).await;
        assert_eq!(response.status(), 401, "REST accepted or crashed on {name}");
        assert_eq!(
            response.headers()["www-authenticate"],
            "Bearer error=\"invalid_token\"",
            "{name}"
        );
        let body = response.bytes().await.unwrap();
        let status = Status::from_json(&body).expect("a status body");
        assert_eq!(status.message(), "missing or invalid credentials", "{name}");
        let err = grpc_get(&server, Some(token)).await.unwrap_err();
        assert_eq!(err.code(), Code::Unauthenticated, "gRPC on {name}");
    }
    assert_eq!(
        jwks.hits_except("/jwks.json"),
        0,
        "a URL from a token header was fetched"
    );
}

#[tokio::test]
async fn without_an_authenticator_protected_methods_are_refused() {
    let server = start(Server::builder()).await;
    assert_eq!(rest_get(&server, None).await.status(), 401);
    let token = mint_hs256(&claims("alice"));
    assert_eq!(
        grpc_get(&server, Some(&token)).await.unwrap_err().code(),
        Code::Unauthenticated
    );
    // Public methods still run.
    let response = http_client()
        .get(server.url("/v1/books:search?query=x"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

fn limiter(redis: Option<&str>) -> Arc<RateLimiter> {
    let get = |name: &str| match name {
        "RATE_LIMIT_SEARCH" => Some("2/m burst 2".to_owned()),
        _ => None,
    };
    let config = RateLimitConfig::from_lookup(&get, &["search"]).expect("rate config");
    Arc::new(match redis {
        None => RateLimiter::memory(&config),
        Some(url) => {
            RateLimiter::redis(&redis_settings(url, "rl"), &config).expect("redis limiter")
        }
    })
}

fn redis_settings(url: &str, prefix: &str) -> RedisSettings {
    RedisSettings {
        url: url.to_owned(),
        prefix: format!("tacos-test:{prefix}:{}:", rand_suffix()),
        timeout: Duration::from_secs(1),
    }
}

fn rand_suffix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}

async fn rate_limits_apply_to(limiter: Arc<RateLimiter>) {
    let server = start(Server::builder().rate_limiter(limiter)).await;
    let channel = channel(server.addr).await;
    let grpc_search = || {
        grpc_unary::<_, SearchBooksResponse>(
            &channel,
            "/tacos.test.v1.Library/SearchBooks",
            tonic::Request::new(SearchBooksRequest::default()),
        )
    };
    // One client IP, two tokens in the bucket, shared by both protocols.
    assert_eq!(
        http_client()
            .get(server.url("/v1/books:search"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    grpc_search().await.expect("second call allowed");
    let response = http_client()
        .get(server.url("/v1/books:search"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429);
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=30).contains(&retry_after), "retry-after {retry_after}");
    let err = Status::from(grpc_search().await.unwrap_err());
    assert_eq!(err.code(), Code::ResourceExhausted);
    let delay = err.details().retry_info.as_ref().expect("RetryInfo");
    assert!(delay.retry_delay.is_some_and(|d| d > Duration::ZERO));
}

#[tokio::test]
async fn rate_limits_in_memory() {
    rate_limits_apply_to(limiter(None)).await;
}

#[tokio::test]
async fn rate_limits_in_redis() {
    let url = crate::waiting_room::support::redis_url();
    rate_limits_apply_to(limiter(Some(&url))).await;
}

/// Answers of three anonymous searches, the first two over REST and the third over gRPC, each
/// sent with `x-forwarded-for: forwarded_for`.
async fn searches_forwarded_for(
    server: &TestServer,
    channel: &tonic::transport::Channel,
    forwarded_for: &str,
) -> Vec<Code> {
    let mut codes = Vec::new();
    for _ in 0..2 {
        let response = http_client()
            .get(server.url("/v1/books:search"))
            .header("x-forwarded-for", forwarded_for)
            .send()
            .await
            .unwrap();
        codes.push(match response.status().as_u16() {
            200 => Code::Ok,
            429 => Code::ResourceExhausted,
            other => panic!("unexpected status {other}"),
        });
    }
    let mut request = tonic::Request::new(SearchBooksRequest::default());
    request
        .metadata_mut()
        .insert("x-forwarded-for", forwarded_for.parse().unwrap());
    let grpc = grpc_unary::<_, SearchBooksResponse>(
        channel,
        "/tacos.test.v1.Library/SearchBooks",
        request,
    )
    .await;
    codes.push(grpc.map_or_else(|err| Status::from(err).code(), |_| Code::Ok));
    codes
}

#[tokio::test]
async fn behind_a_trusted_proxy_anonymous_calls_count_against_the_forwarded_client() {
    let get = |name: &str| match name {
        "RATE_LIMIT_SEARCH" => Some("2/m burst 2".to_owned()),
        "RATE_LIMIT_TRUSTED_PROXIES" => Some("127.0.0.0/8, ::1".to_owned()),
        _ => None,
    };
    let config = RateLimitConfig::from_lookup(&get, &["search"]).expect("rate config");
    let server =
        start(Server::builder().rate_limiter(Arc::new(RateLimiter::memory(&config)))).await;
    let grpc = channel(server.addr).await;
    use Code::{Ok as Allowed, ResourceExhausted as Limited};
    // Each client its own bucket, shared by both protocols.
    assert_eq!(
        searches_forwarded_for(&server, &grpc, "198.51.100.1").await,
        [Allowed, Allowed, Limited]
    );
    assert_eq!(
        searches_forwarded_for(&server, &grpc, "198.51.100.2").await,
        [Allowed, Allowed, Limited]
    );
    // What the client wrote left of the address the proxy saw is not believed.
    assert_eq!(
        searches_forwarded_for(&server, &grpc, "203.0.113.50, 198.51.100.1").await,
        [Limited, Limited, Limited]
    );

    // Without trusted proxies the header is ignored: every call counts against the peer.
    let server = start(Server::builder().rate_limiter(limiter(None))).await;
    let grpc = channel(server.addr).await;
    assert_eq!(
        searches_forwarded_for(&server, &grpc, "198.51.100.1").await,
        [Allowed, Allowed, Limited]
    );
    assert_eq!(
        searches_forwarded_for(&server, &grpc, "198.51.100.2").await,
        [Limited, Limited, Limited]
    );
}

fn idempotency(redis: Option<&str>) -> Arc<Idempotency> {
    let config = IdempotencyConfig::from_lookup(&|_| None).expect("idempotency config");
    Arc::new(match redis {
        None => Idempotency::memory(config),
        Some(url) => {
            Idempotency::redis(&redis_settings(url, "idem"), config).expect("redis idempotency")
        }
    })
}

async fn idempotency_keys_replay(store: Arc<Idempotency>) {
    let jwks = JwksServer::start().await;
    let server = start(
        Server::builder()
            .authenticator(authenticator(&jwks))
            .idempotency(store),
    )
    .await;
    let token = mint_hs256(&claims("alice"));
    let key = format!("key-{}", rand_suffix());
    let create = |title: &'static str, key: String| {
        http_client()
            .post(server.url("/v1/shelves/s1/books"))
            .bearer_auth(&token)
            .header("idempotency-key", key)
            .json(&serde_json::json!({ "title": title, "pages": 10 }))
            .send()
    };
    let first = create("Dune", key.clone()).await.unwrap();
    assert_eq!(first.status(), 200);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first: serde_json::Value = first.json().await.unwrap();

    // The same key and request over gRPC: the stored outcome, marked as a replay.
    let channel = channel(server.addr).await;
    let mut request = bearer(
        tonic::Request::new(CreateBookRequest {
            parent: "shelves/s1".into(),
            book: Some(Book {
                title: "Dune".into(),
                pages: 10,
                ..Book::default()
            }),
            validate_only: false,
        }),
        &token,
    );
    request
        .metadata_mut()
        .insert("idempotency-key", key.parse().unwrap());
    let replay = grpc_unary::<_, Book>(&channel, "/tacos.test.v1.Library/CreateBook", request)
        .await
        .expect("replayed");
    assert_eq!(
        replay.metadata().get("idempotent-replayed").unwrap(),
        "true"
    );
    assert_eq!(replay.get_ref().name, first["name"].as_str().unwrap());

    // The same key with another request: 409 ALREADY_EXISTS.
    let other = create("Emma", key.clone()).await.unwrap();
    assert_eq!(other.status(), 409);
    let status = Status::from_json(&other.bytes().await.unwrap()).unwrap();
    assert_eq!(status.code(), Code::AlreadyExists);

    // Keys are scoped to the principal: bob's use of the same key runs.
    let bob = http_client()
        .post(server.url("/v1/shelves/s1/books"))
        .bearer_auth(mint_hs256(&claims("bob")))
        .header("idempotency-key", key.clone())
        .json(&serde_json::json!({ "title": "Emma" }))
        .send()
        .await
        .unwrap();
    assert_eq!(bob.status(), 200);

    // A bad key is a client error.
    let bad = create("Dune", "k\u{7f}".into()).await;
    assert!(bad.is_err() || bad.unwrap().status() == 400);

    // While the first call runs, a duplicate gets 409 ABORTED; afterwards it replays.
    let slow_key = format!("slow-{}", rand_suffix());
    let slow = |key: String| {
        http_client()
            .post(server.url("/v1/slow"))
            .header("idempotency-key", key)
            .json(&serde_json::json!({ "millis": 600 }))
            .send()
    };
    let running = tokio::spawn(slow(slow_key.clone()));
    tokio::time::sleep(Duration::from_millis(200)).await;
    let duplicate = slow(slow_key.clone()).await.unwrap();
    assert_eq!(duplicate.status(), 409);
    let status = Status::from_json(&duplicate.bytes().await.unwrap()).unwrap();
    assert_eq!(status.code(), Code::Aborted);
    assert_eq!(running.await.unwrap().unwrap().status(), 200);
    let after = slow(slow_key).await.unwrap();
    assert_eq!(after.status(), 200);
    assert_eq!(after.headers()["idempotent-replayed"], "true");
    assert_eq!(
        server
            .probe()
            .slow_finished
            .load(std::sync::atomic::Ordering::SeqCst),
        1
    );
}

#[tokio::test]
async fn idempotency_keys_in_memory() {
    idempotency_keys_replay(idempotency(None)).await;
}

#[tokio::test]
async fn idempotency_keys_in_redis() {
    let url = crate::waiting_room::support::redis_url();
    idempotency_keys_replay(idempotency(Some(&url))).await;
}

#[tokio::test]
async fn an_idempotency_store_outage_fails_closed() {
    let redis = crate::waiting_room::support::RedisProcess::start(&[]);
    let store = idempotency(Some(&redis.url()));
    let server = start(Server::builder().idempotency(store)).await;
    drop(redis);
    let response = http_client()
        .post(server.url("/v1/slow"))
        .header("idempotency-key", "k-outage")
        .json(&serde_json::json!({ "millis": 1 }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
    assert_eq!(
        server
            .probe()
            .slow_finished
            .load(std::sync::atomic::Ordering::SeqCst),
        0,
        "nothing ran"
    );
}

fn sample(text: &str, family: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let parsed = parse_prometheus(text).unwrap_or_else(|e| panic!("unparsable ({e:?}):\n{text}"));
    let want: BTreeMap<String, String> = labels
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let family = parsed.families.get(family)?;
    let value = family
        .iter_samples()
        .find(|s| {
            let got: BTreeMap<String, String> = s
                .get_labelset()
                .expect("labels")
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            got == want
        })
        .map(|s| match &s.value {
            PrometheusValue::Counter(c) => c.value.as_f64(),
            PrometheusValue::Gauge(g) | PrometheusValue::Unknown(g) => g.as_f64(),
            other => panic!("not a scalar: {other:?}"),
        });
    value
}

#[tokio::test]
async fn metrics_count_calls_by_protocol_and_code() {
    let metrics = Arc::new(Metrics::new());
    let server = TestServer::start_with(Server::builder().metrics(Arc::clone(&metrics))).await;
    let channel = channel(server.addr).await;
    for _ in 0..3 {
        grpc_unary::<_, Book>(
            &channel,
            "/tacos.test.v1.Library/GetBook",
            tonic::Request::new(GetBookRequest {
                name: "shelves/s/books/b".into(),
            }),
        )
        .await
        .unwrap();
    }
    for _ in 0..2 {
        let response = http_client()
            .get(server.url("/v1/shelves/s/books/missing"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 404);
    }
    let response = http_client()
        .get(server.url("/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    let text = response.text().await.unwrap();
    let labels = |protocol, code| {
        [
            ("service", "tacos.test.v1.Library"),
            ("method", "GetBook"),
            ("protocol", protocol),
            ("code", code),
        ]
    };
    assert_eq!(
        sample(&text, "tacos_server_requests_total", &labels("grpc", "OK")),
        Some(3.0),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            "tacos_server_requests_total",
            &labels("rest", "NOT_FOUND")
        ),
        Some(2.0),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            "tacos_server_in_flight",
            &[
                ("service", "tacos.test.v1.Library"),
                ("method", "GetBook"),
                ("protocol", "rest"),
            ]
        ),
        Some(0.0)
    );
}

#[tokio::test]
async fn request_ids_come_back_on_both_protocols() {
    let server = TestServer::start().await;
    let response = http_client()
        .get(server.url("/v1/shelves/s/books/b"))
        .header("x-request-id", "req-123")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "req-123");
    let made = http_client()
        .get(server.url("/v1/shelves/s/books/b"))
        .send()
        .await
        .unwrap();
    let id = made.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(id.len(), 32, "{id}");
    let channel = channel(server.addr).await;
    let mut request = tonic::Request::new(GetBookRequest {
        name: "shelves/s/books/b".into(),
    });
    request
        .metadata_mut()
        .insert("x-request-id", "grpc-456".parse().unwrap());
    let response = grpc_unary::<_, Book>(&channel, "/tacos.test.v1.Library/GetBook", request)
        .await
        .unwrap();
    assert_eq!(response.metadata().get("x-request-id").unwrap(), "grpc-456");
}

#[tokio::test]
async fn size_limits_apply_before_decoding() {
    let server = TestServer::start_with(
        Server::builder()
            .max_message_bytes(1024)
            .max_header_bytes(8 * 1024),
    )
    .await;
    let channel = channel(server.addr).await;
    let big = tonic::Request::new(CreateBookRequest {
        parent: "shelves/s".into(),
        book: Some(Book {
            title: "x".repeat(4096),
            ..Book::default()
        }),
        validate_only: false,
    });
    let err = grpc_unary::<_, Book>(&channel, "/tacos.test.v1.Library/CreateBook", big)
        .await
        .unwrap_err();
    // tonic's decoder answers OUT_OF_RANGE for a message over the limit, before decoding it.
    assert_eq!(err.code(), Code::OutOfRange);
    assert!(err.message().contains("1024"), "{}", err.message());
    let response = http_client()
        .get(server.url("/v1/shelves/s/books/b"))
        .header("x-big", "y".repeat(32 * 1024))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 431);
}
