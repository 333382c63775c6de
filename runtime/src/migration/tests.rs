//! [`Shadow`] end to end: sampling, background comparison, bounds.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use super::*;
use crate::status::Status;

const METHOD: &str = "/reservation.v1.ReservationService/GetReservation";

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Money {
    currency: String,
    amount: String,
}

#[derive(Clone, Debug, Serialize)]
struct Seat {
    id: String,
    price: Money,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Reservation {
    id: String,
    seats: Vec<Seat>,
    holds: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<String>,
}

fn reservation() -> Reservation {
    let seat = |id: &str| Seat {
        id: id.into(),
        price: Money {
            currency: "KRW".into(),
            amount: "1000".into(),
        },
    };
    Reservation {
        id: "r-1".into(),
        seats: vec![seat("A1"), seat("A2"), seat("A3")],
        holds: BTreeMap::from([("A-12".into(), "1".into()), ("B-1".into(), "1".into())]),
        note: Some("aisle".into()),
    }
}

fn always(config: ShadowConfig) -> Shadow {
    Shadow::new(ShadowConfig {
        per_mille: 1000,
        ..config
    })
}

/// Runs one shadowed call: `shadow` is what the other transport answers.
async fn shadowed<T>(shadow: &Shadow, primary: Result<T, Status>, other: Result<T, Status>)
where
    T: Serialize + Clone + Send + 'static,
{
    let call = shadow
        .start(METHOD, move || async move { other })
        .expect("sampled and admitted");
    call.finish(&primary);
    shadow.drained().await;
}

fn paths(stats: &ShadowStats) -> Vec<(&str, u64)> {
    stats
        .differences
        .iter()
        .map(|d| (d.path.as_str(), d.count))
        .collect()
}

#[tokio::test]
async fn differences_are_named_by_path() {
    let shadow = always(ShadowConfig::default());
    let mut other = reservation();
    other.seats[2].price.amount = "1200".into();
    other.holds.insert("A-12".into(), "2".into());
    other.note = None;
    shadowed(&shadow, Ok(reservation()), Ok(other.clone())).await;
    shadowed(&shadow, Ok(reservation()), Ok(other)).await;
    let stats = shadow.stats();
    assert_eq!((stats.compared, stats.differed, stats.equal), (2, 2, 0));
    assert_eq!(
        paths(&stats),
        [
            (r#"holds["A-12"]"#, 2),
            ("note", 2),
            ("seats[2].price.amount", 2)
        ]
    );
    assert!(stats.differences.iter().all(|d| d.method == METHOD));
}

#[tokio::test]
async fn missing_repeated_elements_are_reported() {
    let shadow = always(ShadowConfig::default());
    let mut other = reservation();
    other.seats.pop();
    other.holds.remove("B-1");
    shadowed(&shadow, Ok(reservation()), Ok(other)).await;
    assert_eq!(
        paths(&shadow.stats()),
        [(r#"holds["B-1"]"#, 1), ("seats[2]", 1)]
    );
}

#[tokio::test]
async fn equal_answers_count_as_equal() {
    let shadow = always(ShadowConfig::default());
    shadowed(&shadow, Ok(reservation()), Ok(reservation())).await;
    // Both failing with the same code is agreement, whatever the messages say.
    shadowed::<Reservation>(
        &shadow,
        Err(Status::not_found("no reservation r-1")),
        Err(Status::not_found("reservation r-1 not found")),
    )
    .await;
    let stats = shadow.stats();
    assert_eq!((stats.compared, stats.equal, stats.differed), (2, 2, 0));
    assert!(stats.differences.is_empty());
}

#[tokio::test]
async fn different_outcomes_are_reported_as_status() {
    let shadow = always(ShadowConfig::default());
    shadowed::<Reservation>(
        &shadow,
        Err(Status::not_found("gone")),
        Err(Status::permission_denied("not yours")),
    )
    .await;
    // The shadow failing while the primary answered: swallowed, compared, counted.
    shadowed(&shadow, Ok(reservation()), Err(Status::unavailable("down"))).await;
    shadowed(&shadow, Err(Status::internal("bug")), Ok(reservation())).await;
    let stats = shadow.stats();
    assert_eq!(stats.differed, 3);
    assert_eq!(paths(&stats), [(STATUS_PATH, 3)]);
}

#[tokio::test]
async fn long_differences_are_capped() {
    let shadow = always(ShadowConfig::default());
    let primary: Vec<u32> = (0..100).collect();
    let other: Vec<u32> = (0..100).map(|n| n + 1).collect();
    shadowed(&shadow, Ok(primary), Ok(other)).await;
    let stats = shadow.stats();
    // 32 paths kept, the rest counted once under `<other>`.
    assert_eq!(stats.differences.len(), 33);
    assert!(stats.differences.iter().any(|d| d.path == OTHER_PATH));
    assert!(stats.differences.iter().any(|d| d.path == "[31]"));
}

#[tokio::test(start_paused = true)]
async fn slow_shadow_calls_are_dropped_at_the_timeout() {
    let shadow = always(ShadowConfig {
        timeout: Duration::from_secs(1),
        ..ShadowConfig::default()
    });
    let begun = tokio::time::Instant::now();
    let call = shadow
        .start(METHOD, || async {
            tokio::time::sleep(Duration::from_secs(5)).await;
            Ok(reservation())
        })
        .unwrap();
    call.finish(&Ok(reservation()));
    shadow.drained().await;
    assert_eq!(begun.elapsed(), Duration::from_secs(1));
    let stats = shadow.stats();
    assert_eq!((stats.timed_out, stats.compared), (1, 0));
}

#[tokio::test(start_paused = true)]
async fn the_concurrency_cap_skips_and_counts() {
    let shadow = always(ShadowConfig {
        max_in_flight: 2,
        timeout: Duration::from_secs(1),
        ..ShadowConfig::default()
    });
    let hang = || std::future::pending::<Result<u32, Status>>();
    let first = shadow.start(METHOD, hang).unwrap();
    let second = shadow.start(METHOD, hang).unwrap();
    let built = AtomicUsize::new(0);
    let third = shadow.start(METHOD, || {
        built.fetch_add(1, Ordering::Relaxed);
        hang()
    });
    assert!(third.is_none());
    // A skipped shadow call is never even built.
    assert_eq!(built.load(Ordering::Relaxed), 0);
    first.finish(&Ok(1));
    second.finish(&Ok(1));
    shadow.drained().await;
    // Once the running ones are over, there is room again.
    assert!(shadow.start(METHOD, || async { Ok(1u32) }).is_some());
    shadow.drained().await;
    let stats = shadow.stats();
    assert_eq!((stats.started, stats.skipped, stats.timed_out), (3, 1, 2));
    // The last handle was dropped unfinished: abandoned.
    assert_eq!(stats.abandoned, 1);
}

#[tokio::test]
async fn sampling_follows_the_share() {
    let shadow = Shadow::new(ShadowConfig {
        per_mille: 0,
        ..ShadowConfig::default()
    });
    let built = Arc::new(AtomicUsize::new(0));
    for _ in 0..1000 {
        let built = Arc::clone(&built);
        let call = shadow.start(METHOD, move || {
            built.fetch_add(1, Ordering::Relaxed);
            async { Ok(1u32) }
        });
        assert!(call.is_none());
    }
    assert_eq!(built.load(Ordering::Relaxed), 0);
    assert_eq!(shadow.stats(), ShadowStats::default());

    shadow.set_per_mille(1000).unwrap();
    assert!((0..1000).all(|_| shadow.sample()));
    shadow.set_per_mille(100).unwrap();
    // 10k draws at 10%: a standard deviation of 30; allow 5.
    let hits = (0..10_000).filter(|_| shadow.sample()).count();
    assert!((850..=1150).contains(&hits), "{hits}");
    assert_eq!(shadow.set_per_mille(1001), Err(PerMilleOutOfRange(1001)));
    assert_eq!(shadow.per_mille(), 100);
}

#[test]
fn without_a_runtime_nothing_is_spawned() {
    let shadow = always(ShadowConfig::default());
    assert!(shadow.start(METHOD, || async { Ok(1u32) }).is_none());
    assert_eq!(shadow.stats().skipped, 1);
}

#[tokio::test]
async fn the_difference_listener_hears_every_counted_path() {
    let heard = Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = Arc::clone(&heard);
    let shadow = always(ShadowConfig::default()).on_difference(move |method, path| {
        sink.lock().unwrap().push((method, path.to_owned()));
    });
    let mut other = reservation();
    other.seats[1].price.amount = "2000".into();
    other.note = None;
    let call = shadow
        .start(METHOD, move || async move { Ok::<_, Status>(other) })
        .expect("sampled");
    call.finish(&Ok(reservation()));
    // An equal answer tells the listener nothing.
    let call = shadow
        .start(METHOD, || async { Ok::<_, Status>(reservation()) })
        .expect("sampled");
    call.finish(&Ok(reservation()));
    shadow.drained().await;
    let mut heard = heard.lock().unwrap().clone();
    heard.sort();
    assert_eq!(
        heard,
        [
            (METHOD, "note".to_owned()),
            (METHOD, "seats[1].price.amount".to_owned()),
        ]
    );
    assert_eq!(shadow.stats().differed, 1);
}
