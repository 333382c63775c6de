//! Redis keeps an event's state in a fixed set of keys; finished tokens are forgotten lazily
//! through the deadline set. These tests shorten the tombstone time to watch that happen.

use std::time::Duration;

use tacos_runtime::waiting_room::{
    AdmissionStatus, ErrorCode, EventConfig, QueueStatus, RedisBackend, RedisOptions, Visitor,
    WaitingRoom,
};

use super::support::redis_url;

const TOMBSTONE: Duration = Duration::from_millis(1500);

fn room(url: &str, config: EventConfig) -> WaitingRoom {
    let options = RedisOptions {
        tombstone: TOMBSTONE,
        ..RedisOptions::default()
    };
    WaitingRoom::new(
        RedisBackend::standalone(url, options).expect("redis url"),
        config,
    )
    .expect("valid config")
}

fn user(name: &str) -> Visitor {
    Visitor::User(name.to_owned())
}

/// Field counts of the event's token, visitor and reservation hashes and its deadline set.
async fn sizes(url: &str, event: &str) -> (u64, u64, u64, u64) {
    let mut conn = redis::Client::open(url)
        .expect("redis url")
        .get_multiplexed_async_connection()
        .await
        .expect("redis connection");
    let key = |suffix: &str| format!("wr:{{{event}}}:{suffix}");
    redis::pipe()
        .hlen(key("t"))
        .hlen(key("v"))
        .hlen(key("r"))
        .zcard(key("d"))
        .query_async(&mut conn)
        .await
        .expect("sizes")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finished_tokens_are_remembered_then_forgotten() {
    let url = redis_url();
    let config = EventConfig {
        heartbeat_ttl: Duration::from_millis(400),
        reservation_ttl: Duration::from_millis(300),
        bucket_capacity: 10,
        refill_per_second: 10.0,
        admission_window: 10,
    };
    let room = room(&url, config);
    let event = format!("cleanup-{}-{:x}", std::process::id(), rand_suffix());

    let ghost = room.join(&event, &user("ghost")).await.unwrap();
    let leaver = room.join(&event, &user("leaver")).await.unwrap();
    let admitted = room.join(&event, &user("admitted")).await.unwrap();
    let grant = room
        .request_admission(&admitted.waiting_token, &event, "admitted")
        .await
        .unwrap();
    assert_eq!(grant.status, AdmissionStatus::Granted, "{grant:?}");
    assert!(room.leave(&leaver.waiting_token).await.unwrap().left);
    assert_eq!(sizes(&url, &event).await, (3, 2, 1, 3));

    // The ghost lapses; a later call sweeps it. All three are remembered for now.
    let alive = room.join(&event, &user("alive")).await.unwrap();
    for _ in 0..5 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(
            room.status(&alive.waiting_token).await.unwrap().status,
            QueueStatus::Waiting
        );
    }
    assert_eq!(
        room.status(&ghost.waiting_token).await.unwrap().status,
        QueueStatus::Expired
    );
    assert_eq!(
        room.status(&leaver.waiting_token).await.unwrap().status,
        QueueStatus::Left
    );

    // Past every tombstone (the grant's counts from its end), while `alive` keeps polling.
    let polling = std::time::Instant::now();
    while polling.elapsed() < TOMBSTONE + Duration::from_millis(700) {
        tokio::time::sleep(Duration::from_millis(100)).await;
        room.status(&alive.waiting_token).await.unwrap();
    }
    for token in [
        &ghost.waiting_token,
        &leaver.waiting_token,
        &admitted.waiting_token,
    ] {
        let err = room.status(token).await.unwrap_err();
        assert_eq!(err.code(), ErrorCode::NotFound, "{token}: {err:?}");
    }
    let late = room
        .request_admission(&admitted.waiting_token, &event, "")
        .await
        .unwrap();
    assert_eq!(late.status, AdmissionStatus::Invalid);
    // Only `alive` is left: its token, its visitor entry and its heartbeat.
    assert_eq!(sizes(&url, &event).await, (1, 1, 0, 1));
    // A forgotten visitor joins again from scratch, behind `alive`.
    assert_eq!(room.join(&event, &user("ghost")).await.unwrap().position, 2);
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}
