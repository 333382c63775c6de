//! Generated proto3 JSON impls against serde_derive on a JoinQueueRequest-shaped message.
//!
//! `cargo bench -p tacos-runtime --bench json`; prints nanoseconds per operation for each.

#[allow(dead_code, clippy::enum_variant_names)] // generated for the whole fixture, used in part
#[rustfmt::skip]
#[path = "../tests/it/json/generated.rs"]
mod generated;

use std::collections::HashMap;
use std::hint::black_box;
use std::time::{Duration, Instant};

use generated::tacos::fixture::v1::{JoinQueueRequest, QueueMetadata};

/// The hand-written equivalent a plain axum + serde service would use.
#[derive(serde::Serialize, serde::Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct PlainRequest {
    #[serde(skip_serializing_if = "String::is_empty")]
    event_id: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    user_id: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    session_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    metadata: Option<PlainMetadata>,
}

#[derive(serde::Serialize, serde::Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct PlainMetadata {
    #[serde(skip_serializing_if = "String::is_empty")]
    ip_address: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    user_agent: String,
    #[serde(skip_serializing_if = "HashMap::is_empty")]
    headers: HashMap<String, String>,
}

const INPUT: &[u8] = br#"{"eventId":"evt-2026-final","userId":"user-12345","sessionId":"sess-abcdef","metadata":{"ipAddress":"127.0.0.1","userAgent":"loadgen/1.0"}}"#;

/// Runs `f` for about `budget`, returning nanoseconds per call (bounded in count and time).
fn time_per_op(budget: Duration, mut f: impl FnMut()) -> f64 {
    for _ in 0..10_000 {
        f();
    }
    let start = Instant::now();
    let mut runs = 0u64;
    while start.elapsed() < budget && runs < 50_000_000 {
        for _ in 0..1_000 {
            f();
        }
        runs += 1_000;
    }
    start.elapsed().as_nanos() as f64 / runs as f64
}

fn main() {
    let budget = Duration::from_millis(300);
    let generated: JoinQueueRequest = tacos_runtime::json::from_slice(INPUT).unwrap();
    let plain: PlainRequest = serde_json::from_slice(INPUT).unwrap();
    assert_eq!(
        serde_json::to_vec(&plain).unwrap(),
        tacos_runtime::json::to_vec(&generated).unwrap(),
        "both print the same JSON"
    );
    let _: &QueueMetadata = generated.metadata.as_ref().unwrap();

    // Interleaved rounds, best of each: the machine may be shared, so single runs are noisy.
    let mut best = [f64::MAX; 4];
    for _ in 0..5 {
        let round = [
            time_per_op(budget, || {
                black_box(serde_json::from_slice::<JoinQueueRequest>(black_box(INPUT)).unwrap());
            }),
            time_per_op(budget, || {
                black_box(serde_json::from_slice::<PlainRequest>(black_box(INPUT)).unwrap());
            }),
            time_per_op(budget, || {
                black_box(serde_json::to_vec(black_box(&generated)).unwrap());
            }),
            time_per_op(budget, || {
                black_box(serde_json::to_vec(black_box(&plain)).unwrap());
            }),
        ];
        for (b, r) in best.iter_mut().zip(round) {
            *b = b.min(r);
        }
    }
    let [de_gen, de_plain, ser_gen, ser_plain] = best;
    println!(
        "deserialize  generated {de_gen:7.1} ns  serde_derive {de_plain:7.1} ns  ratio {:.2}",
        de_gen / de_plain
    );
    println!(
        "serialize    generated {ser_gen:7.1} ns  serde_derive {ser_plain:7.1} ns  ratio {:.2}",
        ser_gen / ser_plain
    );
}
