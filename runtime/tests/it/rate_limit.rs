//! The rate limiter on memory and on a real Redis (`REDIS_URL`): bucket behaviour, retry hints,
//! concurrency, limits shared by two limiters, eviction, and Redis outages.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tacos_runtime::rate_limit::{
    Decision, RateLimitConfig, RateLimiter, RedisSettings, StoreError,
};

use crate::waiting_room::support::{redis_url, RedisProcess};

static NEXT: AtomicU64 = AtomicU64::new(0);

fn unique_prefix() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!(
        "it-rl-{}-{nanos:x}-{}:",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

fn config(vars: &[(&str, &str)], classes: &[&str]) -> RateLimitConfig {
    let vars: Vec<(String, String)> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let get = move |k: &str| vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    RateLimitConfig::from_lookup(&get, classes).expect("valid config")
}

fn settings(url: String, prefix: &str, timeout: Duration) -> RedisSettings {
    RedisSettings {
        url,
        prefix: prefix.to_owned(),
        timeout,
    }
}

#[derive(Clone, Copy)]
enum Kind {
    Memory,
    Redis,
}

fn limiter(kind: Kind, config: &RateLimitConfig) -> RateLimiter {
    match kind {
        Kind::Memory => RateLimiter::memory(config),
        Kind::Redis => RateLimiter::redis(
            &settings(redis_url(), &unique_prefix(), Duration::from_secs(2)),
            config,
        )
        .expect("redis url"),
    }
}

fn retry_after(decision: Decision) -> Duration {
    match decision {
        Decision::Limited { retry_after } => retry_after,
        Decision::Allowed => panic!("expected Limited"),
    }
}

async fn burst_then_retry_after_is_accurate(kind: Kind) {
    let limiter = limiter(
        kind,
        &config(&[("RATE_LIMIT_JOIN", "1/s burst 2")], &["join"]),
    );
    let class = Some("join");
    for _ in 0..2 {
        assert_eq!(limiter.check(class, "alice").await, Ok(Decision::Allowed));
    }
    let started = Instant::now();
    let wait = retry_after(limiter.check(class, "alice").await.unwrap());
    assert!(
        wait <= Duration::from_secs(1) && wait > Duration::from_millis(700),
        "{wait:?}"
    );
    // Halfway there: still limited, and the hint shrank by the time that passed.
    tokio::time::sleep(wait / 2).await;
    let again = retry_after(limiter.check(class, "alice").await.unwrap());
    let expected = wait.saturating_sub(started.elapsed());
    let error = again.abs_diff(expected);
    assert!(
        error < Duration::from_millis(50),
        "hint {again:?}, expected about {expected:?}"
    );
    // Once the hint has passed, exactly one call is allowed.
    tokio::time::sleep(again + Duration::from_millis(5)).await;
    assert_eq!(limiter.check(class, "alice").await, Ok(Decision::Allowed));
    assert!(matches!(
        limiter.check(class, "alice").await,
        Ok(Decision::Limited { .. })
    ));
    // Nobody else was affected.
    assert_eq!(limiter.check(class, "bob").await, Ok(Decision::Allowed));
}

async fn concurrent_checks_never_exceed_the_bucket(kind: Kind) {
    let limiter = Arc::new(limiter(
        kind,
        &config(&[("RATE_LIMIT_DEFAULT", "50/h")], &[]),
    ));
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let limiter = limiter.clone();
            tokio::spawn(async move {
                let mut allowed = 0;
                for _ in 0..25 {
                    if limiter
                        .check(None, "10.0.0.1")
                        .await
                        .expect("store answers")
                        == Decision::Allowed
                    {
                        allowed += 1;
                    }
                }
                allowed
            })
        })
        .collect();
    let mut allowed = 0;
    for task in tasks {
        allowed += task.await.unwrap();
    }
    assert_eq!(allowed, 50);
}

async fn unlimited_classes_always_pass(kind: Kind) {
    let limiter = limiter(
        kind,
        &config(
            &[("RATE_LIMIT_DEFAULT", "1/h"), ("RATE_LIMIT_BROWSE", "off")],
            &["browse"],
        ),
    );
    for _ in 0..20 {
        assert_eq!(
            limiter.check(Some("browse"), "alice").await,
            Ok(Decision::Allowed)
        );
    }
    assert_eq!(limiter.check(None, "alice").await, Ok(Decision::Allowed));
    assert!(matches!(
        limiter.check(None, "alice").await,
        Ok(Decision::Limited { .. })
    ));
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
    burst_then_retry_after_is_accurate,
    concurrent_checks_never_exceed_the_bucket,
    unlimited_classes_always_pass,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_limiters_on_one_redis_share_the_limit() {
    let prefix = unique_prefix();
    let config = config(&[("RATE_LIMIT_QUEUE_JOIN", "5/m")], &["queue-join"]);
    let fleet: Vec<RateLimiter> = (0..2)
        .map(|_| {
            RateLimiter::redis(
                &settings(redis_url(), &prefix, Duration::from_secs(2)),
                &config,
            )
            .unwrap()
        })
        .collect();
    let mut allowed = [0; 2];
    for i in 0..20 {
        if fleet[i % 2]
            .check(Some("queue-join"), "carol")
            .await
            .unwrap()
            == Decision::Allowed
        {
            allowed[i % 2] += 1;
        }
    }
    assert_eq!(allowed[0] + allowed[1], 5, "{allowed:?}");
    assert_eq!(allowed, [3, 2]);
    // The key lives only until the bucket is full again.
    let client = ::redis::Client::open(redis_url()).unwrap();
    let mut connection = client.get_multiplexed_async_connection().await.unwrap();
    let pttl: i64 = ::redis::cmd("PTTL")
        .arg(format!("{prefix}queue-join:carol"))
        .query_async(&mut connection)
        .await
        .unwrap();
    assert!(pttl > 0 && pttl <= 60_001, "{pttl}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_memory_buckets_are_evicted() {
    let limiter = RateLimiter::memory(&config(&[("RATE_LIMIT_DEFAULT", "100/s burst 1")], &[]));
    for i in 0..5_000 {
        limiter.check(None, &format!("ip-{i}")).await.unwrap();
    }
    assert_eq!(limiter.buckets_held(), Some(5_000));
    // Every bucket is full again after 10 ms; each shard drops them on its first check a second
    // or more after its last sweep. 2,000 new subjects reach every one of the 64 shards (the
    // chance that one is missed is about 64 · (63/64)^2000, below 10^-12).
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    for i in 0..2_000 {
        limiter.check(None, &format!("new-{i}")).await.unwrap();
    }
    let held = limiter.buckets_held().unwrap();
    assert!(held <= 2_000, "{held} buckets still held");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_outage_is_a_quick_store_error() {
    let mut server = RedisProcess::start(&[]);
    let limiter = RateLimiter::redis(
        &settings(server.url(), &unique_prefix(), Duration::from_millis(300)),
        &config(&[("RATE_LIMIT_DEFAULT", "10/s")], &[]),
    )
    .unwrap();
    assert_eq!(limiter.check(None, "dave").await, Ok(Decision::Allowed));
    server = tokio::task::spawn_blocking(move || {
        server.kill();
        server
    })
    .await
    .unwrap();
    for _ in 0..3 {
        let started = Instant::now();
        let result = limiter.check(None, "dave").await;
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
    drop(server);
}

/// Prints the latency of a Redis check and the server time per script call, against a private
/// `redis-server`; run with `--ignored --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "timing, not a correctness test"]
async fn redis_check_cost() {
    let server = RedisProcess::start(&[]);
    let limiter = RateLimiter::redis(
        &settings(server.url(), &unique_prefix(), Duration::from_secs(2)),
        &config(&[("RATE_LIMIT_DEFAULT", "1000000/s")], &[]),
    )
    .unwrap();
    limiter.check(None, "warm-up").await.unwrap();
    server.cli(&["config", "resetstat"]);
    let calls = 2_000u32;
    let started = Instant::now();
    for i in 0..calls {
        limiter
            .check(None, &format!("user-{}", i % 100))
            .await
            .unwrap();
    }
    let per_call = started.elapsed() / calls;
    let stats = server.cli(&["info", "commandstats"]).unwrap_or_default();
    let evalsha = stats
        .lines()
        .find(|l| l.starts_with("cmdstat_evalsha:"))
        .unwrap_or("cmdstat_evalsha: none");
    println!("redis check: {per_call:?} per call, sequential; server: {evalsha}");
    drop(server);
}
