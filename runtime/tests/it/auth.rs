//! JWT authentication against real keys and a JWKS server on 127.0.0.1: valid tokens of each
//! algorithm, every hostile token of the toolkit, caching, rotation, and an endpoint that is down.

pub mod toolkit;

use std::time::{Duration, Instant};

use http::{HeaderMap, HeaderValue};
use serde_json::json;
use tacos_runtime::auth::{missing_credentials, AuthConfig, Authenticator};
use tacos_runtime::{Code, MethodPolicy, Principal};
use tokio::net::TcpListener;

use toolkit::*;

fn bearer(token: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(
        http::header::AUTHORIZATION,
        HeaderValue::from_str(&format!("Bearer {token}")).unwrap(),
    );
    headers
}

fn authenticator(config: AuthConfig) -> Authenticator {
    Authenticator::new(config).unwrap()
}

fn assert_principal(principal: &Principal, sub: &str) {
    assert_eq!(principal.subject, sub);
    assert_eq!(principal.roles, ["buyer"]);
    assert_eq!(principal.scopes, ["queue:join", "reservations:write"]);
    assert_eq!(principal.claim("tenant"), Some(&json!("traffic-tacos")));
    assert_eq!(principal.claim("iss"), Some(&json!(ISSUER)));
}

#[tokio::test]
async fn valid_tokens_of_each_algorithm_pass() {
    let jwks = JwksServer::start().await;
    let auth = authenticator(config(Some(&jwks.url())));
    for (alg, token) in [
        ("HS256", mint_hs256(&claims("alice"))),
        ("RS256", mint_rs256(&claims("alice"))),
        ("ES256", mint_es256(&claims("alice"))),
    ] {
        let principal = auth
            .authenticate(&bearer(&token))
            .await
            .unwrap_or_else(|f| panic!("{alg}: {f:?}"))
            .expect("a principal");
        assert_principal(&principal, "alice");
        assert_principal(&auth.verify_token(&token).await.unwrap(), "alice");
    }
    // `scp` as an array or as a space-separated string, `at+jwt`, an audience list.
    let mut c = claims("svc");
    c.as_object_mut().unwrap().remove("scope");
    c["scp"] = json!(["payments:read"]);
    c["aud"] = json!(["other", AUDIENCE]);
    let token = mint(
        &json!({"alg": "RS256", "kid": KID_RSA, "typ": "at+jwt"}),
        &c,
        &Key::RsaA.encoding_key(),
        jsonwebtoken::Algorithm::RS256,
    );
    let principal = auth.verify_token(&token).await.unwrap();
    assert_eq!(principal.scopes, ["payments:read"]);
    c["scp"] = json!("a b");
    assert_eq!(
        auth.verify_token(&mint_hs256(&c)).await.unwrap().scopes,
        ["a", "b"]
    );
    // Within the leeway.
    let mut c = claims("late");
    c["exp"] = json!(now() - 10);
    c["nbf"] = json!(now() + 10);
    assert!(auth.verify_token(&mint_hs256(&c)).await.is_ok());
}

#[tokio::test]
async fn every_hostile_token_is_rejected_and_no_header_url_is_fetched() {
    let jwks = JwksServer::start().await;
    let mut config = config(Some(&jwks.url()));
    // Every unknown kid may refetch: the count below then shows what was fetched.
    config.jwks_refetch_interval = Duration::ZERO;
    let auth = authenticator(config);
    let tokens = hostile_tokens(&jwks.base());
    assert!(tokens.len() > 90, "{}", tokens.len());
    for (name, token) in &tokens {
        let started = Instant::now();
        let failure = auth
            .verify_token(token)
            .await
            .expect_err(&format!("accepted hostile token: {name}"));
        let status = failure.status();
        assert_eq!(status.code(), Code::Unauthenticated, "{name}: {failure:?}");
        assert_eq!(status.message(), "missing or invalid credentials", "{name}");
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{name} was slow"
        );
        if let Ok(value) = HeaderValue::from_str(&format!("Bearer {token}")) {
            let mut headers = HeaderMap::new();
            headers.insert(http::header::AUTHORIZATION, value);
            assert!(auth.authenticate(&headers).await.is_err(), "{name}");
        }
    }
    assert_eq!(
        jwks.hits_except("/jwks.json"),
        0,
        "a header URL was fetched"
    );
    assert!(jwks.hits("/jwks.json") >= 1);
}

#[tokio::test]
async fn high_s_ecdsa_twins_follow_the_low_s_setting() {
    let jwks = JwksServer::start().await;
    let token = mint_es256(&claims("alice"));
    let twin = es256_twin(&token);
    assert_ne!(es256_is_high_s(&token), es256_is_high_s(&twin));
    let (low, high) = if es256_is_high_s(&token) {
        (twin, token)
    } else {
        (token, twin)
    };
    // ECDSA P-256 does not fix the sign of s (issuers emit both); by default both verify.
    let auth = authenticator(config(Some(&jwks.url())));
    assert!(auth.verify_token(&low).await.is_ok());
    assert!(auth.verify_token(&high).await.is_ok());
    let mut strict = config(Some(&jwks.url()));
    strict.es256_low_s_only = true;
    let auth = authenticator(strict);
    assert!(auth.verify_token(&low).await.is_ok());
    let failure = auth.verify_token(&high).await.unwrap_err();
    assert_eq!(failure.status().code(), Code::Unauthenticated);
}

#[tokio::test]
async fn keys_are_cached_and_rotation_refetches_at_a_limited_rate() {
    let jwks = JwksServer::start().await;
    let mut config = config(Some(&jwks.url()));
    config.jwks_refetch_interval = Duration::from_secs(1);
    let auth = authenticator(config);
    assert_eq!(auth.start_refresh().await.unwrap(), 2);
    for _ in 0..20 {
        auth.verify_token(&mint_rs256(&claims("a"))).await.unwrap();
        auth.verify_token(&mint_es256(&claims("a"))).await.unwrap();
    }
    assert_eq!(jwks.hits("/jwks.json"), 1, "keys were not cached");

    // The issuer rotates in a new key: its first token refetches once.
    jwks.set_document(json!({"keys": [
        Key::RsaA.jwk(KID_RSA), Key::EcA.jwk(KID_EC), Key::RsaB.jwk(KID_RSA_ROTATED)
    ]}));
    let rotated = mint_with(Key::RsaB, KID_RSA_ROTATED, &claims("b"));
    assert_eq!(auth.verify_token(&rotated).await.unwrap().subject, "b");
    assert_eq!(jwks.hits("/jwks.json"), 2);
    auth.verify_token(&rotated).await.unwrap();
    assert_eq!(jwks.hits("/jwks.json"), 2);

    // Unknown kids: one refetch, then rejected without fetching until the interval passes.
    let unknown = mint_with(Key::RsaB, "unknown", &claims("c"));
    tokio::time::sleep(Duration::from_millis(1050)).await;
    for _ in 0..10 {
        assert!(auth.verify_token(&unknown).await.is_err());
    }
    assert_eq!(jwks.hits("/jwks.json"), 3);
    tokio::time::sleep(Duration::from_millis(1050)).await;
    assert!(auth.verify_token(&unknown).await.is_err());
    assert_eq!(jwks.hits("/jwks.json"), 4);

    // A key the issuer withdrew stops verifying after the next refresh.
    jwks.set_document(json!({"keys": [Key::EcA.jwk(KID_EC)]}));
    auth.start_refresh().await.unwrap();
    assert!(auth.verify_token(&mint_rs256(&claims("a"))).await.is_err());
    assert!(auth.verify_token(&mint_es256(&claims("a"))).await.is_ok());
}

#[tokio::test]
async fn stale_keys_refresh_inline_and_survive_a_failing_endpoint() {
    let jwks = JwksServer::start().await;
    let mut config = config(Some(&jwks.url()));
    config.jwks_refresh = Duration::from_millis(200);
    config.jwks_refetch_interval = Duration::from_secs(5);
    let auth = authenticator(config);
    // Lazy: nothing is fetched until a token needs a key.
    assert_eq!(jwks.hits("/jwks.json"), 0);
    auth.verify_token(&mint_rs256(&claims("a"))).await.unwrap();
    assert_eq!(jwks.hits("/jwks.json"), 1);
    tokio::time::sleep(Duration::from_millis(250)).await;
    auth.verify_token(&mint_rs256(&claims("a"))).await.unwrap();
    assert_eq!(jwks.hits("/jwks.json"), 2, "stale keys were not refreshed");

    // The endpoint breaks: the old keys keep working, and failed fetches back off.
    jwks.set_status(500);
    tokio::time::sleep(Duration::from_millis(250)).await;
    for _ in 0..5 {
        auth.verify_token(&mint_rs256(&claims("a"))).await.unwrap();
    }
    assert_eq!(jwks.hits("/jwks.json"), 3);
    assert!(auth.start_refresh().await.is_err());
}

#[tokio::test]
async fn a_jwks_endpoint_that_is_down_fails_cleanly() {
    // Connection refused: a port that was just released.
    let closed = {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        listener.local_addr().unwrap()
    };
    let auth = authenticator(config(Some(&format!("http://{closed}/jwks.json"))));
    let started = Instant::now();
    let failure = auth
        .verify_token(&mint_rs256(&claims("a")))
        .await
        .unwrap_err();
    assert_eq!(failure.status().code(), Code::Unavailable, "{failure:?}");
    assert!(started.elapsed() < Duration::from_secs(2));
    // HS256 tokens do not depend on the JWKS.
    assert!(auth.verify_token(&mint_hs256(&claims("a"))).await.is_ok());

    // Accepts connections and never answers: bounded by the fetch timeout, then backs off.
    let silent = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = silent.local_addr().unwrap();
    let holder = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = silent.accept().await {
            held.push(stream);
        }
    });
    let mut config = config(Some(&format!("http://{addr}/jwks.json")));
    config.jwks_timeout = Duration::from_millis(300);
    let auth = authenticator(config);
    let started = Instant::now();
    let failure = auth
        .verify_token(&mint_es256(&claims("a")))
        .await
        .unwrap_err();
    assert_eq!(failure.status().code(), Code::Unavailable);
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(250) && elapsed < Duration::from_secs(2),
        "{elapsed:?}"
    );
    let token = mint_es256(&claims("a"));
    let started = Instant::now();
    assert!(auth.verify_token(&token).await.is_err());
    // Well under the 300 ms a new fetch attempt would take.
    assert!(
        started.elapsed() < Duration::from_millis(200),
        "no back-off after a failure"
    );
    holder.abort();
}

#[tokio::test]
async fn concurrent_first_requests_share_one_fetch() {
    let jwks = JwksServer::start().await;
    let auth = authenticator(config(Some(&jwks.url())));
    let token = mint_es256(&claims("a"));
    let results = futures::future::join_all((0..16).map(|_| auth.verify_token(&token))).await;
    assert!(results.iter().all(Result::is_ok));
    assert_eq!(jwks.hits("/jwks.json"), 1);
}

#[tokio::test]
async fn headers_bypass_and_size_limit() {
    let auth = authenticator(config(None));
    assert_eq!(auth.authenticate(&HeaderMap::new()).await.unwrap(), None);
    let token = mint_hs256(&claims("alice"));
    let mut headers = bearer(&token);
    assert!(auth.authenticate(&headers).await.unwrap().is_some());
    headers.append(
        http::header::AUTHORIZATION,
        HeaderValue::from_static("Bearer x.y.z"),
    );
    assert!(
        auth.authenticate(&headers).await.is_err(),
        "two authorization headers"
    );
    let mut basic = HeaderMap::new();
    basic.insert(
        http::header::AUTHORIZATION,
        HeaderValue::from_static("Basic YTpi"),
    );
    assert!(auth.authenticate(&basic).await.is_err());

    let mut c = claims("alice");
    c["blob"] = json!("x".repeat(10_000));
    let big = mint_hs256(&c);
    let mut config = config(None);
    assert!(authenticator(config.clone())
        .authenticate(&bearer(&big))
        .await
        .is_err());
    config.max_header_bytes = 64 * 1024;
    assert!(authenticator(config.clone())
        .authenticate(&bearer(&big))
        .await
        .is_ok());

    // The development bypass: only requests without a token; tokens are still checked.
    config.dev_bypass_subject = Some("dev".to_owned());
    let auth = authenticator(config);
    let principal = auth.authenticate(&HeaderMap::new()).await.unwrap().unwrap();
    assert_eq!(principal.subject, "dev");
    assert!(principal.roles.is_empty() && principal.scopes.is_empty());
    assert!(auth.authenticate(&bearer("a.b.c")).await.is_err());

    let status = missing_credentials();
    assert_eq!(status.code(), Code::Unauthenticated);
    assert_eq!(status.metadata().unwrap()["www-authenticate"], "Bearer");
}

#[test]
fn authorize_needs_one_role_and_every_scope() {
    let principal = Principal::new("u")
        .with_roles(["buyer"])
        .with_scopes(["queue:join", "reservations:write"]);
    let policy = |roles, scopes| MethodPolicy {
        roles,
        scopes,
        ..MethodPolicy::DEFAULT
    };
    assert!(Authenticator::authorize(&policy(&[], &[]), &principal).is_ok());
    assert!(Authenticator::authorize(&policy(&["admin", "buyer"], &[]), &principal).is_ok());
    assert!(Authenticator::authorize(
        &policy(&["buyer"], &["queue:join", "reservations:write"]),
        &principal
    )
    .is_ok());
    let denied = Authenticator::authorize(&policy(&["admin"], &[]), &principal).unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    assert!(!denied.message().contains("admin"), "{}", denied.message());
    let denied =
        Authenticator::authorize(&policy(&[], &["queue:join", "payments:write"]), &principal)
            .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    assert!(denied.message().contains("scope"));
    let public = MethodPolicy {
        public: true,
        ..policy(&["admin"], &[])
    };
    assert!(Authenticator::authorize(&public, &principal).is_ok());
}

#[tokio::test]
async fn one_authenticator_serves_several_current_thread_runtimes() {
    let jwks = JwksServer::start().await;
    let mut config = config(Some(&jwks.url()));
    config.jwks_refresh = Duration::from_secs(2);
    let auth = authenticator(config);
    let run = |auth: Authenticator, rounds: usize| {
        tokio::task::spawn_blocking(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                for _ in 0..rounds {
                    auth.verify_token(&mint_rs256(&claims("a"))).await.unwrap();
                    auth.verify_token(&mint_es256(&claims("a"))).await.unwrap();
                }
            });
            // The runtime, and any task it spawned, ends here.
        })
    };
    // Two runtimes start cold at once and share the first fetch.
    let (a, b) = tokio::join!(run(auth.clone(), 5), run(auth.clone(), 5));
    a.unwrap();
    b.unwrap();
    assert_eq!(jwks.hits("/jwks.json"), 1);
    // Those runtimes are gone; a third refreshes the stale keys on its own.
    tokio::time::sleep(Duration::from_millis(2050)).await;
    run(auth.clone(), 2).await.unwrap();
    assert_eq!(jwks.hits("/jwks.json"), 2);
}
