//! One conformance suite: every function runs unchanged against each store.

use std::collections::HashSet;
use std::time::Duration;

use futures::StreamExt as _;
use tacos_runtime::waiting_room::{
    AdmissionStatus, ConsumeOutcome, DenialReason, ErrorCode, EventConfig, QueueStatus,
    QueueUpdateKind, Visitor, WaitingRoom, WaitingRoomError,
};

use super::support::Harness;

fn user(id: impl std::fmt::Display) -> Visitor {
    Visitor::User(format!("user-{id}"))
}

/// Settings that never limit admission unless a test says so.
fn open_config() -> EventConfig {
    EventConfig {
        bucket_capacity: 1000,
        refill_per_second: 1000.0,
        admission_window: 1000,
        ..EventConfig::default()
    }
}

/// A bucket that holds `capacity` tokens and practically never refills.
fn strict_bucket(capacity: u32, window: u32) -> EventConfig {
    EventConfig {
        bucket_capacity: capacity,
        refill_per_second: 0.0001,
        admission_window: window,
        ..EventConfig::default()
    }
}

async fn within<T>(fut: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(10), fut)
        .await
        .expect("call did not finish in time")
}

async fn position(room: &WaitingRoom, token: &str) -> u64 {
    let view = room.status(token).await.expect("status");
    assert_eq!(view.status, QueueStatus::Waiting, "{view:?}");
    view.position
}

pub async fn joins_get_fifo_positions_and_are_idempotent(h: &Harness) {
    let room = h.room(open_config()).await;
    let event = h.event("fifo");
    let a = room.join(&event, &user("a")).await.unwrap();
    let b = room.join(&event, &user("b")).await.unwrap();
    let c = room.join(&event, &user("c")).await.unwrap();
    assert_eq!((a.position, b.position, c.position), (1, 2, 3));
    assert_eq!(a.status, QueueStatus::Waiting);
    assert!(a.expires_at > std::time::SystemTime::now());
    assert!(a.eta_seconds >= 1);

    // A retry (for example after a lost reply) returns the same token and place.
    let again = room.join(&event, &user("b")).await.unwrap();
    assert_eq!(again.waiting_token, b.waiting_token);
    assert_eq!(again.position, 2);

    // A session with the same id as a user is someone else.
    let session = room
        .join(&event, &Visitor::Session("user-b".into()))
        .await
        .unwrap();
    assert_ne!(session.waiting_token, b.waiting_token);
    assert_eq!(session.position, 4);

    // The same user in another event queues separately.
    let other = room.join(&h.event("fifo-other"), &user("b")).await.unwrap();
    assert_eq!(other.position, 1);
    assert_ne!(other.waiting_token, b.waiting_token);

    let tokens: HashSet<_> = [&a, &b, &c, &session, &other]
        .iter()
        .map(|t| t.waiting_token.clone())
        .collect();
    assert_eq!(tokens.len(), 5);
    for t in &tokens {
        assert!(
            t.len() >= 22
                && t.bytes()
                    .all(|c| c.is_ascii_alphanumeric() || b"-_.".contains(&c))
        );
    }
}

pub async fn concurrent_joins_get_distinct_gap_free_positions(h: &Harness) {
    let room = h.room(open_config()).await;
    let event = h.event("concurrent");
    let n = 300u64;
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let (room, event) = (room.clone(), event.clone());
            tokio::spawn(async move { room.join(&event, &user(i)).await })
        })
        .collect();
    let mut positions = Vec::new();
    let mut tokens = HashSet::new();
    for task in tasks {
        let ticket = within(task).await.unwrap().unwrap();
        positions.push(ticket.position);
        tokens.insert(ticket.waiting_token);
    }
    positions.sort_unstable();
    assert_eq!(positions, (1..=n).collect::<Vec<_>>());
    assert_eq!(tokens.len() as u64, n);
    assert_eq!(room.stats(&event).await.unwrap().total_waiting, n);
}

pub async fn concurrent_retries_of_one_join_get_one_place(h: &Harness) {
    let room = h.room(open_config()).await;
    let event = h.event("retries");
    room.join(&event, &user("first")).await.unwrap();
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let (room, event) = (room.clone(), event.clone());
            tokio::spawn(async move { room.join(&event, &user("same")).await })
        })
        .collect();
    let mut tokens = HashSet::new();
    for task in tasks {
        let ticket = within(task).await.unwrap().unwrap();
        assert_eq!(ticket.position, 2);
        tokens.insert(ticket.waiting_token);
    }
    assert_eq!(tokens.len(), 1);
    assert_eq!(room.stats(&event).await.unwrap().total_waiting, 2);
    let next = room.join(&event, &user("third")).await.unwrap();
    assert_eq!(next.position, 3, "retries must not use up places");
}

pub async fn status_reports_position_eta_and_renews_heartbeat(h: &Harness) {
    let config = EventConfig {
        heartbeat_ttl: Duration::from_millis(600),
        refill_per_second: 2.0,
        admission_window: 2,
        ..EventConfig::default()
    };
    let room = h.room(config).await;
    let event = h.event("status");
    let tickets: Vec<_> = futures::future::join_all((0..5).map(|i| {
        let room = room.clone();
        let event = event.clone();
        async move { room.join(&event, &user(i)).await.unwrap() }
    }))
    .await;
    let mut by_position = tickets.clone();
    by_position.sort_by_key(|t| t.position);
    let last = &by_position[4];
    let view = room.status(&last.waiting_token).await.unwrap();
    assert_eq!(view.position, 5);
    // No admission measured yet: the ETA uses the configured rate (5 / 2 per second).
    assert_eq!(view.eta_seconds, 3);
    assert!(!view.admission_ready);
    assert!(
        room.status(&by_position[1].waiting_token)
            .await
            .unwrap()
            .admission_ready
    );

    // Polling keeps the place alive across several heartbeat periods.
    for _ in 0..7 {
        tokio::time::sleep(Duration::from_millis(150)).await;
        let view = room.status(&last.waiting_token).await.unwrap();
        assert_eq!(view.status, QueueStatus::Waiting);
        assert!(view.expires_at.unwrap() > std::time::SystemTime::now());
    }
    // The others stopped polling long ago: they are gone and the poller moved up to the head.
    assert_eq!(position(&room, &last.waiting_token).await, 1);
    let gone = room.status(&by_position[0].waiting_token).await.unwrap();
    assert_eq!(gone.status, QueueStatus::Expired);
    assert_eq!(gone.position, 0);
}

pub async fn leave_moves_everyone_behind_up(h: &Harness) {
    let room = h.room(open_config()).await;
    let event = h.event("leave");
    let a = room.join(&event, &user("a")).await.unwrap();
    let b = room.join(&event, &user("b")).await.unwrap();
    let c = room.join(&event, &user("c")).await.unwrap();
    let left = room.leave(&b.waiting_token).await.unwrap();
    assert!(left.left);
    assert!(
        !room.leave(&b.waiting_token).await.unwrap().left,
        "leaving twice is a no-op"
    );
    assert_eq!(position(&room, &a.waiting_token).await, 1);
    assert_eq!(position(&room, &c.waiting_token).await, 2);
    assert_eq!(
        room.status(&b.waiting_token).await.unwrap().status,
        QueueStatus::Left
    );
    let admission = room
        .request_admission(&b.waiting_token, &event, "")
        .await
        .unwrap();
    assert_eq!(admission.status, AdmissionStatus::Denied);
    assert_eq!(admission.reason, Some(DenialReason::NoLongerQueued));

    // Rejoining after leaving takes a new place at the back.
    let back = room.join(&event, &user("b")).await.unwrap();
    assert_ne!(back.waiting_token, b.waiting_token);
    assert_eq!(back.position, 3);
}

pub async fn lapsed_heartbeats_never_block_the_head(h: &Harness) {
    let config = EventConfig {
        heartbeat_ttl: Duration::from_millis(400),
        admission_window: 1,
        ..open_config()
    };
    let room = h.room(config).await;
    let event = h.event("ghosts");
    // Ten ghosts join first and never come back.
    let mut ghosts = Vec::new();
    for i in 0..10 {
        ghosts.push(
            room.join(&event, &user(format!("ghost-{i}")))
                .await
                .unwrap(),
        );
    }
    let alive = room.join(&event, &user("alive")).await.unwrap();
    assert_eq!(alive.position, 11);
    let denied = room
        .request_admission(&alive.waiting_token, &event, "user-alive")
        .await
        .unwrap();
    assert_eq!(denied.reason, Some(DenialReason::NotYourTurn));
    for _ in 0..6 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        room.status(&alive.waiting_token).await.unwrap();
    }
    assert_eq!(position(&room, &alive.waiting_token).await, 1);
    let granted = room
        .request_admission(&alive.waiting_token, &event, "user-alive")
        .await
        .unwrap();
    assert_eq!(granted.status, AdmissionStatus::Granted, "{granted:?}");
    assert_eq!(room.stats(&event).await.unwrap().total_waiting, 0);
    // A ghost is gone for good: a late poll says so, and a new join queues at the back.
    let late = room.status(&ghosts[0].waiting_token).await.unwrap();
    assert_eq!(late.status, QueueStatus::Expired);
    let late = room
        .request_admission(&ghosts[1].waiting_token, &event, "")
        .await
        .unwrap();
    assert_eq!(late.status, AdmissionStatus::Expired);
    let ghost = room.join(&event, &user("ghost-0")).await.unwrap();
    assert_eq!(ghost.position, 1, "a lapsed user rejoins at the back");
}

pub async fn admission_respects_window_bucket_and_repeats_the_grant(h: &Harness) {
    let room = h.room(strict_bucket(2, 2)).await;
    let event = h.event("admission");
    let mut tickets = Vec::new();
    for i in 0..4 {
        tickets.push(room.join(&event, &user(i)).await.unwrap());
    }
    let third = room
        .request_admission(&tickets[2].waiting_token, &event, "user-2")
        .await
        .unwrap();
    assert_eq!(third.status, AdmissionStatus::Denied);
    assert_eq!(third.reason, Some(DenialReason::NotYourTurn));
    assert!(third.reservation_token.is_empty());

    let first = room
        .request_admission(&tickets[0].waiting_token, &event, "user-0")
        .await
        .unwrap();
    assert_eq!(first.status, AdmissionStatus::Granted);
    assert!(first.ttl_seconds > 0 && first.ttl_seconds <= 300);
    assert!(first.valid_until.unwrap() > std::time::SystemTime::now());
    let repeat = room
        .request_admission(&tickets[0].waiting_token, &event, "user-0")
        .await
        .unwrap();
    assert_eq!(
        repeat.reservation_token, first.reservation_token,
        "same grant while valid"
    );
    let status = room.status(&tickets[0].waiting_token).await.unwrap();
    assert_eq!(status.status, QueueStatus::Ready);
    assert!(status.admission_ready);
    // A retried join of an admitted user returns the admitted token.
    let rejoin = room.join(&event, &user(0)).await.unwrap();
    assert_eq!(rejoin.waiting_token, tickets[0].waiting_token);
    assert_eq!(rejoin.status, QueueStatus::Ready);

    // The admitted user left the queue: everyone moved up.
    assert_eq!(position(&room, &tickets[2].waiting_token).await, 2);
    let second = room
        .request_admission(&tickets[1].waiting_token, &event, "")
        .await
        .unwrap();
    assert_eq!(second.status, AdmissionStatus::Granted);
    assert_ne!(second.reservation_token, first.reservation_token);
    // Inside the window now, but the bucket is empty.
    let limited = room
        .request_admission(&tickets[2].waiting_token, &event, "user-2")
        .await
        .unwrap();
    assert_eq!(limited.status, AdmissionStatus::Denied);
    assert_eq!(limited.reason, Some(DenialReason::RateLimited));

    // Settings change per event at run time: a fresh bucket on another event is independent.
    let other = h.event("admission-other");
    room.set_event_config(&other, strict_bucket(1, 1)).unwrap();
    let x = room.join(&other, &user("x")).await.unwrap();
    let y = room.join(&other, &user("y")).await.unwrap();
    let granted = room
        .request_admission(&x.waiting_token, &other, "user-x")
        .await
        .unwrap();
    assert_eq!(granted.status, AdmissionStatus::Granted);
    let denied = room
        .request_admission(&y.waiting_token, &other, "user-y")
        .await
        .unwrap();
    assert_eq!(denied.reason, Some(DenialReason::RateLimited));
}

pub async fn bucket_refills_at_the_configured_rate(h: &Harness) {
    let config = EventConfig {
        bucket_capacity: 1,
        refill_per_second: 10.0,
        admission_window: 10,
        ..EventConfig::default()
    };
    let room = h.room(config).await;
    let event = h.event("refill");
    let a = room.join(&event, &user("a")).await.unwrap();
    let b = room.join(&event, &user("b")).await.unwrap();
    assert_eq!(
        room.request_admission(&a.waiting_token, &event, "")
            .await
            .unwrap()
            .status,
        AdmissionStatus::Granted
    );
    assert_eq!(
        room.request_admission(&b.waiting_token, &event, "")
            .await
            .unwrap()
            .reason,
        Some(DenialReason::RateLimited)
    );
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(
        room.request_admission(&b.waiting_token, &event, "")
            .await
            .unwrap()
            .status,
        AdmissionStatus::Granted
    );
}

pub async fn concurrent_admissions_never_exceed_the_bucket(h: &Harness) {
    let room = h.room(strict_bucket(10, 1000)).await;
    let event = h.event("bucket");
    let mut tokens = Vec::new();
    for i in 0..60 {
        tokens.push(room.join(&event, &user(i)).await.unwrap().waiting_token);
    }
    let tasks: Vec<_> = tokens
        .iter()
        .flat_map(|t| [t.clone(), t.clone()])
        .map(|token| {
            let (room, event) = (room.clone(), event.clone());
            tokio::spawn(async move { room.request_admission(&token, &event, "").await })
        })
        .collect();
    let mut granted = HashSet::new();
    let mut limited = 0;
    for task in tasks {
        let admission = within(task).await.unwrap().unwrap();
        match admission.status {
            AdmissionStatus::Granted => {
                granted.insert(admission.reservation_token);
            }
            AdmissionStatus::Denied => {
                assert_eq!(admission.reason, Some(DenialReason::RateLimited));
                limited += 1;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(
        granted.len(),
        10,
        "exactly the bucket's worth of distinct grants"
    );
    assert!(limited >= 100);
    let stats = room.stats(&event).await.unwrap();
    assert_eq!(stats.total_admitted, 10);
    assert_eq!(stats.total_waiting, 50);
    assert_eq!(stats.admission_rate_per_minute, 10);
}

pub async fn reservation_tokens_are_bound_and_single_use(h: &Harness) {
    let room = h.room(open_config()).await;
    let event = h.event("consume");
    let a = room.join(&event, &user("a")).await.unwrap();
    let grant = room
        .request_admission(&a.waiting_token, &event, "user-a")
        .await
        .unwrap();
    let rt = grant.reservation_token.clone();
    assert_eq!(
        room.consume(&rt, &event, "user-b").await.unwrap(),
        ConsumeOutcome::Invalid
    );
    assert_eq!(
        room.consume(&rt, &h.event("elsewhere"), "user-a")
            .await
            .unwrap(),
        ConsumeOutcome::Invalid
    );
    assert_eq!(
        room.consume("r1.garbage", &event, "user-a").await.unwrap(),
        ConsumeOutcome::Invalid
    );
    assert_eq!(
        room.consume(&rt, &event, "user-a").await.unwrap(),
        ConsumeOutcome::Consumed
    );
    assert_eq!(
        room.consume(&rt, &event, "user-a").await.unwrap(),
        ConsumeOutcome::AlreadyUsed
    );
    // Used: the waiting token is done and the grant is not handed out again.
    assert_eq!(
        room.status(&a.waiting_token).await.unwrap().status,
        QueueStatus::Left
    );
    let again = room
        .request_admission(&a.waiting_token, &event, "user-a")
        .await
        .unwrap();
    assert_eq!(again.status, AdmissionStatus::Denied);

    // Consumed concurrently, a token succeeds exactly once.
    let b = room.join(&event, &user("b")).await.unwrap();
    let rt = room
        .request_admission(&b.waiting_token, &event, "user-b")
        .await
        .unwrap()
        .reservation_token;
    let tasks: Vec<_> = (0..40)
        .map(|_| {
            let (room, event, rt) = (room.clone(), event.clone(), rt.clone());
            tokio::spawn(async move { room.consume(&rt, &event, "user-b").await })
        })
        .collect();
    let mut consumed = 0;
    for task in tasks {
        match within(task).await.unwrap().unwrap() {
            ConsumeOutcome::Consumed => consumed += 1,
            ConsumeOutcome::AlreadyUsed => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(consumed, 1);

    // A retry carrying the caller's idempotency key gets the same answer; anyone else does not.
    let k = room.join(&event, &user("k")).await.unwrap();
    let rt = room
        .request_admission(&k.waiting_token, &event, "")
        .await
        .unwrap()
        .reservation_token;
    let once = |key: &'static str| {
        let (room, event, rt) = (room.clone(), event.clone(), rt.clone());
        async move {
            room.consume_idempotent(&rt, &event, "user-k", key)
                .await
                .unwrap()
        }
    };
    assert_eq!(once("req-1").await, ConsumeOutcome::Consumed);
    assert_eq!(once("req-1").await, ConsumeOutcome::Consumed);
    assert_eq!(once("req-2").await, ConsumeOutcome::AlreadyUsed);
    assert_eq!(
        room.consume(&rt, &event, "user-k").await.unwrap(),
        ConsumeOutcome::AlreadyUsed
    );

    // A session-joined visitor's token is bound to the session id.
    let s = room
        .join(&event, &Visitor::Session("sess-1".into()))
        .await
        .unwrap();
    let rt = room
        .request_admission(&s.waiting_token, &event, "")
        .await
        .unwrap()
        .reservation_token;
    assert_eq!(
        room.consume(&rt, &event, "sess-1").await.unwrap(),
        ConsumeOutcome::Consumed
    );
}

pub async fn grants_and_reservations_expire(h: &Harness) {
    let config = EventConfig {
        reservation_ttl: Duration::from_millis(150),
        ..open_config()
    };
    let room = h.room(config).await;
    let event = h.event("grant-expiry");
    let a = room.join(&event, &user("a")).await.unwrap();
    let rt = room
        .request_admission(&a.waiting_token, &event, "")
        .await
        .unwrap()
        .reservation_token;
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert_eq!(
        room.consume(&rt, &event, "user-a").await.unwrap(),
        ConsumeOutcome::Expired
    );
    let late = room
        .request_admission(&a.waiting_token, &event, "")
        .await
        .unwrap();
    assert_eq!(late.status, AdmissionStatus::Expired);
    assert_eq!(
        room.status(&a.waiting_token).await.unwrap().status,
        QueueStatus::Expired
    );
    // The user may queue again.
    let again = room.join(&event, &user("a")).await.unwrap();
    assert_ne!(again.waiting_token, a.waiting_token);
    assert_eq!(again.status, QueueStatus::Waiting);
}

pub async fn bad_input_gets_matching_answers(h: &Harness) {
    let room = h.room(open_config()).await;
    let event = h.event("bad");
    let a = room.join(&event, &user("a")).await.unwrap();

    for bad in ["", "nonsense", "w1..", "w1.e30.AAAAAAAAAAAAAAAAAAAAAA"] {
        let err = room.status(bad).await.unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidArgument, "{bad}: {err}");
    }
    // Well formed but never issued (secret changed, or another event's name put in).
    let mut tampered = a.waiting_token.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    assert!(matches!(
        room.status(&tampered).await,
        Err(WaitingRoomError::NotFound)
    ));
    let other_event = room.join(&h.event("bad-other"), &user("z")).await.unwrap();
    let secret = a.waiting_token.rsplit('.').next().unwrap();
    let grafted = format!(
        "{}.{secret}",
        other_event.waiting_token.rsplit_once('.').unwrap().0
    );
    assert!(matches!(
        room.status(&grafted).await,
        Err(WaitingRoomError::NotFound)
    ));

    // Admission answers in band.
    let invalid = room.request_admission(&tampered, &event, "").await.unwrap();
    assert_eq!(invalid.status, AdmissionStatus::Invalid);
    assert_eq!(invalid.reason, Some(DenialReason::InvalidToken));
    let malformed = room.request_admission("%%%", &event, "").await.unwrap();
    assert_eq!(malformed.status, AdmissionStatus::Invalid);
    let cross_event = room
        .request_admission(&a.waiting_token, &h.event("bad-other"), "user-a")
        .await
        .unwrap();
    assert_eq!(cross_event.status, AdmissionStatus::Invalid);
    let wrong_user = room
        .request_admission(&a.waiting_token, &event, "user-b")
        .await
        .unwrap();
    assert_eq!(wrong_user.status, AdmissionStatus::Invalid);

    assert!(!room.leave(&tampered).await.unwrap().left);
    assert_eq!(
        room.leave("junk").await.unwrap_err().code(),
        ErrorCode::InvalidArgument
    );
    for (event, visitor) in [
        ("", user("a")),
        ("has{brace}", user("a")),
        (&"x".repeat(200)[..], user("a")),
        (event.as_str(), Visitor::User(String::new())),
        (event.as_str(), Visitor::Session("line\nbreak".into())),
    ] {
        let err = room.join(event, &visitor).await.unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidArgument);
        assert_eq!(err.code().http_status(), 400);
    }
    assert!(room.subscribe(&tampered).await.is_err());
    // Nothing of the above disturbed the real token.
    assert_eq!(position(&room, &a.waiting_token).await, 1);
}

pub async fn stats_per_event_and_system_wide(h: &Harness) {
    let room = h.room(open_config()).await;
    let event = h.event("stats");
    let other = h.event("stats-other");
    let a = room.join(&event, &user("a")).await.unwrap();
    room.join(&event, &user("b")).await.unwrap();
    room.join(&event, &user("c")).await.unwrap();
    room.join(&other, &user("a")).await.unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    room.request_admission(&a.waiting_token, &event, "")
        .await
        .unwrap();

    let stats = room.stats(&event).await.unwrap();
    assert_eq!(stats.event_id, event);
    assert_eq!(
        (
            stats.total_waiting,
            stats.total_admitted,
            stats.admission_rate_per_minute
        ),
        (2, 1, 1)
    );
    assert_eq!(stats.average_wait_seconds, 0);

    let system = room.system_stats().await.unwrap();
    let mine: Vec<_> = system
        .events
        .iter()
        .filter(|e| e.event_id == event || e.event_id == other)
        .collect();
    assert_eq!(mine.len(), 2, "both events are registered as active");
    assert!(system.total_active_queues >= 2);
    assert!(system.total_waiting_users >= 3);
    assert!(system.total_admitted_users >= 1);
    assert!(system.average_admission_rate > 0.0);
}

pub async fn live_updates_follow_position_and_readiness(h: &Harness) {
    let config = EventConfig {
        admission_window: 1,
        heartbeat_ttl: Duration::from_millis(600),
        ..open_config()
    };
    let room = h.room(config).await;
    let event = h.event("live");
    let a = room.join(&event, &user("a")).await.unwrap();
    let b = room.join(&event, &user("b")).await.unwrap();
    let c = room.join(&event, &user("c")).await.unwrap();
    let mut updates = room.subscribe(&c.waiting_token).await.unwrap();
    let first = within(updates.next()).await.unwrap();
    assert_eq!(
        (first.kind, first.position),
        (QueueUpdateKind::PositionChanged, 3)
    );
    assert_eq!(first.waiting_token, c.waiting_token);

    room.leave(&b.waiting_token).await.unwrap();
    let moved = within(updates.next()).await.unwrap();
    assert_eq!(
        (moved.kind, moved.position),
        (QueueUpdateKind::PositionChanged, 2)
    );

    // Watching keeps the watcher's heartbeat alive while the others poll.
    for _ in 0..4 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        room.status(&a.waiting_token).await.unwrap();
    }
    let granted = room
        .request_admission(&a.waiting_token, &event, "")
        .await
        .unwrap();
    assert_eq!(granted.status, AdmissionStatus::Granted);
    let ready = within(updates.next()).await.unwrap();
    assert_eq!(
        (ready.kind, ready.position, ready.admission_ready),
        (QueueUpdateKind::AdmissionReady, 1, true)
    );

    room.leave(&c.waiting_token).await.unwrap();
    let end = within(updates.next()).await.unwrap();
    assert_eq!(
        (end.kind, end.status),
        (QueueUpdateKind::TokenExpired, QueueStatus::Left)
    );
    assert!(
        within(updates.next()).await.is_none(),
        "the stream ends after the token is gone"
    );
}

pub async fn many_watchers_share_one_feed(h: &Harness) {
    let room = h.room(open_config()).await;
    let event = h.event("watchers");
    let head = room.join(&event, &user("head")).await.unwrap();
    let mut streams = Vec::new();
    for i in 0..100 {
        let t = room.join(&event, &user(i)).await.unwrap();
        let mut s = room.subscribe(&t.waiting_token).await.unwrap();
        let first = within(s.next()).await.unwrap();
        assert_eq!(first.position, t.position);
        streams.push((t.position, s));
    }
    room.leave(&head.waiting_token).await.unwrap();
    // Pushed by the change feed: far sooner than the 10 s refresh timer of these settings.
    let pushed = tokio::time::Instant::now();
    for (before, mut s) in streams {
        let update = tokio::time::timeout(Duration::from_secs(3), s.next())
            .await
            .expect("change notice arrived")
            .unwrap();
        assert_eq!(update.position, before - 1);
    }
    assert!(pushed.elapsed() < Duration::from_secs(3));
}
