//! The idempotency store, the same suite on memory and on a real Redis (`REDIS_URL`), plus
//! Redis outages on a private `redis-server`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderMap, HeaderValue};
use tacos_runtime::idempotency::{
    Begin, Completion, Idempotency, IdempotencyConfig, RedisSettings, StoreError, StoredOutcome,
};
use tacos_runtime::Code;

use crate::waiting_room::support::{redis_url, RedisProcess};

static NEXT: AtomicU64 = AtomicU64::new(0);

/// A key prefix no other test or run uses, so tests share one Redis safely.
fn unique_prefix() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!(
        "it-idem-{}-{nanos:x}-{}:",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

#[derive(Clone, Copy)]
enum Kind {
    Memory,
    Redis,
}

fn store(kind: Kind, config: IdempotencyConfig) -> Idempotency {
    match kind {
        Kind::Memory => Idempotency::memory(config),
        Kind::Redis => Idempotency::redis(
            &RedisSettings {
                url: redis_url(),
                prefix: unique_prefix(),
                timeout: Duration::from_secs(2),
            },
            config,
        )
        .expect("redis url"),
    }
}

fn short(ttl_ms: u64, lock_ms: u64) -> IdempotencyConfig {
    IdempotencyConfig {
        ttl: Duration::from_millis(ttl_ms),
        lock: Duration::from_millis(lock_ms),
        ..IdempotencyConfig::default()
    }
}

const FP_A: [u8; 32] = [0xa; 32];
const FP_B: [u8; 32] = [0xb; 32];

fn response(text: &'static str) -> StoredOutcome {
    let mut headers = HeaderMap::new();
    headers.insert("x-order-id", HeaderValue::from_static(text));
    StoredOutcome::Response {
        message: Bytes::from_static(text.as_bytes()),
        headers,
    }
}

async fn run(store: &Idempotency, scope: &str, fp: [u8; 32]) -> tacos_runtime::idempotency::Lease {
    match store.begin(scope, fp).await.expect("store answers") {
        Begin::Run(lease) => lease,
        other => panic!("expected Run for {scope}, got {other:?}"),
    }
}

async fn replays_the_stored_outcome(kind: Kind) {
    let store = store(kind, IdempotencyConfig::default());
    let lease = run(&store, "/pay/user-1/k1", FP_A).await;
    let outcome = response("order-1");
    assert_eq!(
        store.complete(lease, &outcome).await,
        Ok(Completion::Stored)
    );
    for _ in 0..3 {
        match store.begin("/pay/user-1/k1", FP_A).await.unwrap() {
            Begin::Replay(stored) => assert_eq!(stored, outcome),
            other => panic!("expected Replay, got {other:?}"),
        }
    }
    // Errors are outcomes too, and scopes are separate.
    let lease = run(&store, "/pay/user-2/k1", FP_A).await;
    let error = StoredOutcome::Error {
        code: Code::FailedPrecondition,
        message: "sold out".into(),
        details: Bytes::from_static(b"\x08\x09"),
    };
    store.complete(lease, &error).await.unwrap();
    match store.begin("/pay/user-2/k1", FP_A).await.unwrap() {
        Begin::Replay(stored) => assert_eq!(stored, error),
        other => panic!("expected Replay, got {other:?}"),
    }
}

async fn duplicates_while_running_are_in_progress(kind: Kind) {
    let store = store(kind, IdempotencyConfig::default());
    let lease = run(&store, "s", FP_A).await;
    assert!(matches!(
        store.begin("s", FP_A).await,
        Ok(Begin::InProgress)
    ));
    // A released key (cancelled call) runs again.
    store.release(lease).await;
    let lease = run(&store, "s", FP_A).await;
    store.complete(lease, &response("r")).await.unwrap();
    assert!(matches!(store.begin("s", FP_A).await, Ok(Begin::Replay(_))));
}

async fn another_request_with_the_key_is_a_mismatch(kind: Kind) {
    let store = store(kind, IdempotencyConfig::default());
    let lease = run(&store, "s", FP_A).await;
    assert!(matches!(store.begin("s", FP_B).await, Ok(Begin::Mismatch)));
    store.complete(lease, &response("r")).await.unwrap();
    assert!(matches!(store.begin("s", FP_B).await, Ok(Begin::Mismatch)));
    assert!(matches!(store.begin("s", FP_A).await, Ok(Begin::Replay(_))));
}

async fn outcomes_expire(kind: Kind) {
    let store = store(kind, short(300, 200));
    let lease = run(&store, "s", FP_A).await;
    store.complete(lease, &response("r")).await.unwrap();
    assert!(matches!(store.begin("s", FP_A).await, Ok(Begin::Replay(_))));
    tokio::time::sleep(Duration::from_millis(450)).await;
    // Expired: the key is free, even for another request.
    let lease = run(&store, "s", FP_B).await;
    store.release(lease).await;
}

async fn a_stale_lease_never_overwrites_a_newer_one(kind: Kind) {
    let store = store(kind, short(5_000, 200));
    let stale_complete = run(&store, "completes", FP_A).await;
    let stale_release = run(&store, "releases", FP_A).await;
    tokio::time::sleep(Duration::from_millis(350)).await;
    // The leases ran out: the keys run again, under new tokens.
    let fresh_complete = run(&store, "completes", FP_A).await;
    let fresh_release = run(&store, "releases", FP_A).await;
    assert_ne!(stale_complete.token(), fresh_complete.token());
    assert_ne!(stale_release.token(), fresh_release.token());

    assert_eq!(
        store.complete(stale_complete, &response("stale")).await,
        Ok(Completion::LeaseLost)
    );
    store.release(stale_release).await;
    for scope in ["completes", "releases"] {
        assert!(
            matches!(store.begin(scope, FP_A).await, Ok(Begin::InProgress)),
            "a stale holder must not touch the newer holder's key {scope}"
        );
    }
    assert_eq!(
        store.complete(fresh_complete, &response("fresh")).await,
        Ok(Completion::Stored)
    );
    match store.begin("completes", FP_A).await.unwrap() {
        Begin::Replay(outcome) => assert_eq!(outcome, response("fresh")),
        other => panic!("expected the fresh outcome, got {other:?}"),
    }
    store.release(fresh_release).await;
}

async fn concurrent_begins_run_exactly_once(kind: Kind) {
    let store = Arc::new(store(kind, IdempotencyConfig::default()));
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.begin("contested", FP_A).await })
        })
        .collect();
    let (mut runs, mut busy) = (0, 0);
    for task in tasks {
        match task.await.unwrap().expect("store answers") {
            Begin::Run(_) => runs += 1,
            Begin::InProgress => busy += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!((runs, busy), (1, 49));
}

macro_rules! suite {
    ($($name:ident),* $(,)?) => {
        mod memory {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::Kind::Memory).await;
                }
            )*
        }
        mod redis {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::Kind::Redis).await;
                }
            )*
        }
    };
}

suite!(
    replays_the_stored_outcome,
    duplicates_while_running_are_in_progress,
    another_request_with_the_key_is_a_mismatch,
    outcomes_expire,
    a_stale_lease_never_overwrites_a_newer_one,
    concurrent_begins_run_exactly_once,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_store_is_bounded() {
    let store = Idempotency::memory(IdempotencyConfig {
        max_keys: 32,
        lock: Duration::from_millis(100),
        ttl: Duration::from_millis(100),
        ..IdempotencyConfig::default()
    });
    let mut refused = Vec::new();
    for i in 0..200 {
        let scope = format!("k{i}");
        match store.begin(&scope, FP_A).await {
            Ok(Begin::Run(_)) => {}
            Err(StoreError::Full(_)) => refused.push(scope),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(
        refused.len() >= 200 - 32,
        "the bound must hold: {}",
        refused.len()
    );
    // Once the leases have run out, the sweep makes room again for a refused key.
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    assert!(matches!(
        store.begin(&refused[0], FP_A).await,
        Ok(Begin::Run(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_outage_is_a_quick_store_error_and_service_resumes() {
    let mut server = RedisProcess::start(&[]);
    let store = Idempotency::redis(
        &RedisSettings {
            url: server.url(),
            prefix: unique_prefix(),
            timeout: Duration::from_millis(300),
        },
        IdempotencyConfig::default(),
    )
    .unwrap();
    let lease = run(&store, "before", FP_A).await;
    server = tokio::task::spawn_blocking(move || {
        server.kill();
        server
    })
    .await
    .unwrap();

    for scope in ["during-1", "during-2"] {
        let started = Instant::now();
        let result = store.begin(scope, FP_A).await;
        assert!(
            matches!(result, Err(StoreError::Unavailable(_))),
            "{result:?}"
        );
        assert!(
            started.elapsed() < Duration::from_millis(1_200),
            "{:?}",
            started.elapsed()
        );
    }
    let started = Instant::now();
    assert!(matches!(
        store.complete(lease, &response("r")).await,
        Err(StoreError::Unavailable(_))
    ));
    assert!(started.elapsed() < Duration::from_millis(1_200));

    // Back (empty): the store reconnects on its own.
    server = tokio::task::spawn_blocking(move || {
        server.launch();
        server
    })
    .await
    .unwrap();
    let mut resumed = false;
    for _ in 0..50 {
        if matches!(store.begin("after", FP_A).await, Ok(Begin::Run(_))) {
            resumed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(resumed, "the store did not reconnect");
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_store_keeps_keys_under_its_prefix_with_expiry() {
    let prefix = unique_prefix();
    let store = Idempotency::redis(
        &RedisSettings {
            url: redis_url(),
            prefix: prefix.clone(),
            timeout: Duration::from_secs(2),
        },
        short(60_000, 10_000),
    )
    .unwrap();
    let lease = run(&store, "scope", FP_A).await;
    let client = ::redis::Client::open(redis_url()).unwrap();
    let mut connection = client.get_multiplexed_async_connection().await.unwrap();
    let key = format!("{prefix}scope");
    let pttl: i64 = ::redis::cmd("PTTL")
        .arg(&key)
        .query_async(&mut connection)
        .await
        .unwrap();
    assert!(pttl > 0 && pttl <= 10_000, "lease expiry {pttl}");
    store.complete(lease, &response("r")).await.unwrap();
    let pttl: i64 = ::redis::cmd("PTTL")
        .arg(&key)
        .query_async(&mut connection)
        .await
        .unwrap();
    assert!(pttl > 10_000 && pttl <= 60_000, "outcome expiry {pttl}");
}
