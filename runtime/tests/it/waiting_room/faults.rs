//! Fault injection against `redis-server` processes these tests start and kill.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt as _;
use tacos_runtime::waiting_room::{
    AdmissionStatus, ConsumeOutcome, DenialReason, ErrorCode, EventConfig, RedisBackend,
    RedisOptions, Visitor, WaitingRoom, WaitingRoomError,
};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

use super::support::RedisProcess;

fn fast_options() -> RedisOptions {
    RedisOptions {
        op_timeout: Duration::from_millis(300),
        connect_timeout: Duration::from_millis(200),
        ..RedisOptions::default()
    }
}

fn room_on(url: &str, config: EventConfig) -> WaitingRoom {
    WaitingRoom::new(
        RedisBackend::standalone(url, fast_options()).expect("redis url"),
        config,
    )
    .expect("valid config")
}

fn user(i: impl std::fmt::Display) -> Visitor {
    Visitor::User(format!("user-{i}"))
}

/// No call may take longer than the deadline plus scheduling slack.
const CALL_LIMIT: Duration = Duration::from_millis(1200);

#[derive(Debug)]
struct Outcome {
    finished: Instant,
    took: Duration,
    result: Result<u64, ErrorCode>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outage_fails_fast_and_service_resumes_on_its_own() {
    let mut server = RedisProcess::start(&[]);
    let room = room_on(&server.url(), EventConfig::default());
    let event = "outage";
    let early = room.join(event, &user("early")).await.unwrap();
    assert_eq!(early.position, 1);

    // Bounded load: 8 tasks, at most 3 s and 5,000 joins each.
    let stop = Arc::new(AtomicBool::new(false));
    let load_start = Instant::now();
    let tasks: Vec<_> = (0..8)
        .map(|t| {
            let (room, stop) = (room.clone(), stop.clone());
            tokio::spawn(async move {
                let mut outcomes = Vec::new();
                for i in 0..5_000 {
                    if stop.load(Ordering::Relaxed) || load_start.elapsed() > Duration::from_secs(3)
                    {
                        break;
                    }
                    let started = Instant::now();
                    let result = room
                        .join(event, &user(format!("{t}-{i}")))
                        .await
                        .map(|ticket| ticket.position)
                        .map_err(|e| e.code());
                    outcomes.push(Outcome {
                        finished: Instant::now(),
                        took: started.elapsed(),
                        result,
                    });
                    if outcomes.last().is_some_and(|o| o.result.is_err()) {
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                }
                outcomes
            })
        })
        .collect();

    tokio::time::sleep(Duration::from_millis(300)).await;
    server = tokio::task::spawn_blocking(move || {
        server.kill();
        server
    })
    .await
    .unwrap();
    let dead_at = Instant::now();

    // During the outage: a clean, fast Unavailable with a retry hint, never a position.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let started = Instant::now();
    let err = room.join(event, &user("during")).await.unwrap_err();
    assert!(started.elapsed() < CALL_LIMIT);
    assert_eq!(err.code(), ErrorCode::Unavailable);
    assert_eq!(err.code().http_status(), 503);
    assert!(err.retry_after().is_some());
    assert_eq!(
        room.status(&early.waiting_token).await.unwrap_err().code(),
        ErrorCode::Unavailable
    );

    // The same server comes back (empty: it persists nothing); the room reconnects by itself.
    let restarted_at = Instant::now();
    server = tokio::task::spawn_blocking(move || {
        server.launch();
        server
    })
    .await
    .unwrap();
    let mut resumed = None;
    for _ in 0..100 {
        if let Ok(ticket) = room.join(event, &user("after")).await {
            resumed = Some(ticket);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let after = resumed.expect("service resumed after redis came back");
    stop.store(true, Ordering::Relaxed);

    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.extend(task.await.unwrap());
    }
    assert!(outcomes.len() > 20, "the load ran");
    let mut before_kill = Vec::new();
    let mut after_restart = vec![after.position];
    for o in &outcomes {
        assert!(o.took < CALL_LIMIT, "a call hung for {:?}", o.took);
        match o.result {
            Ok(position) if o.finished < dead_at => {
                assert!(o.finished <= dead_at);
                before_kill.push(position);
            }
            Ok(position) => {
                assert!(
                    o.finished > restarted_at,
                    "no join succeeds while redis is down"
                );
                after_restart.push(position);
            }
            Err(code) => assert_eq!(code, ErrorCode::Unavailable),
        }
    }
    assert!(
        outcomes.iter().any(|o| o.result.is_err()),
        "the outage was seen"
    );
    // Positions before the kill continue the early join without gaps or duplicates.
    before_kill.sort_unstable();
    assert_eq!(
        before_kill,
        (2..2 + before_kill.len() as u64).collect::<Vec<_>>()
    );
    // The restarted server is empty: its positions start again at 1, gap-free and distinct.
    after_restart.sort_unstable();
    assert_eq!(
        after_restart,
        (1..=after_restart.len() as u64).collect::<Vec<_>>()
    );
    // The lost state is reported as unknown, never as a made-up position.
    assert!(matches!(
        room.status(&early.waiting_token).await,
        Err(WaitingRoomError::NotFound)
    ));
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_with_persistence_keeps_places_and_grants() {
    let mut server = RedisProcess::start(&["--appendonly", "yes", "--appendfsync", "always"]);
    let config = EventConfig {
        bucket_capacity: 5,
        refill_per_second: 0.0001,
        admission_window: 100,
        ..EventConfig::default()
    };
    let room = room_on(&server.url(), config);
    let event = "persisted";
    let mut tickets = Vec::new();
    for i in 0..20 {
        tickets.push(room.join(event, &user(i)).await.unwrap());
    }
    // A watcher from before the crash keeps getting pushed updates after it.
    let mut watcher = room.subscribe(&tickets[19].waiting_token).await.unwrap();
    assert_eq!(watcher.next().await.unwrap().position, 20);
    let mut grants = Vec::new();
    for t in &tickets[..5] {
        let a = room
            .request_admission(&t.waiting_token, event, "")
            .await
            .unwrap();
        assert_eq!(a.status, AdmissionStatus::Granted);
        grants.push(a.reservation_token);
    }

    server = tokio::task::spawn_blocking(move || {
        server.kill();
        server
    })
    .await
    .unwrap();
    assert_eq!(
        room.join(event, &user("during")).await.unwrap_err().code(),
        ErrorCode::Unavailable
    );
    server = tokio::task::spawn_blocking(move || {
        server.launch();
        server
    })
    .await
    .unwrap();

    let mut again = None;
    for _ in 0..100 {
        if let Ok(t) = room.join(event, &user(7)).await {
            again = Some(t);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Retried joins get the same token and place they had before the crash.
    assert_eq!(
        again.expect("service resumed").waiting_token,
        tickets[7].waiting_token
    );
    let mut positions = Vec::new();
    for (i, t) in tickets.iter().enumerate().skip(5) {
        let rejoined = room.join(event, &user(i)).await.unwrap();
        assert_eq!(rejoined.waiting_token, t.waiting_token);
        positions.push(rejoined.position);
    }
    assert_eq!(positions, (1..=15).collect::<Vec<_>>());
    // Drain what the watcher saw so far, then move it up once more.
    while let Ok(Some(_)) = tokio::time::timeout(Duration::from_millis(300), watcher.next()).await {
    }
    room.leave(&tickets[10].waiting_token).await.unwrap();
    let moved = tokio::time::timeout(Duration::from_secs(3), watcher.next())
        .await
        .expect("pub/sub resubscribed after the restart")
        .unwrap();
    assert_eq!(moved.position, 14);
    // Grants survive and are not handed out twice; the spent bucket stays spent.
    for (t, grant) in tickets.iter().zip(&grants) {
        let a = room
            .request_admission(&t.waiting_token, event, "")
            .await
            .unwrap();
        assert_eq!(&a.reservation_token, grant);
    }
    let denied = room
        .request_admission(&tickets[5].waiting_token, event, "")
        .await
        .unwrap();
    assert_eq!(denied.reason, Some(DenialReason::RateLimited));
    let distinct: HashSet<_> = grants.iter().collect();
    assert_eq!(distinct.len(), 5);
    for (i, grant) in grants.iter().enumerate() {
        let who = format!("user-{i}");
        assert_eq!(
            room.consume(grant, event, &who).await.unwrap(),
            ConsumeOutcome::Consumed
        );
        assert_eq!(
            room.consume(grant, event, &who).await.unwrap(),
            ConsumeOutcome::AlreadyUsed
        );
    }
    drop(server);
}

/// A loopback proxy to Redis that can swallow replies: the request reaches Redis and runs,
/// the client sees its connection drop, exactly like a reply lost in the network.
struct LossyProxy {
    port: u16,
    drop_replies: Arc<AtomicBool>,
}

impl LossyProxy {
    async fn start(upstream_port: u16) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let drop_replies = Arc::new(AtomicBool::new(false));
        let flag = drop_replies.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let flag = flag.clone();
                tokio::spawn(async move {
                    let Ok(upstream) = TcpStream::connect(("127.0.0.1", upstream_port)).await
                    else {
                        return;
                    };
                    let (mut client_read, mut client_write) = client.into_split();
                    let (mut up_read, mut up_write) = upstream.into_split();
                    let to_server = async {
                        let mut buf = vec![0u8; 16 * 1024];
                        while let Ok(n) = client_read.read(&mut buf).await {
                            if n == 0 || up_write.write_all(&buf[..n]).await.is_err() {
                                break;
                            }
                        }
                    };
                    let to_client = async {
                        let mut buf = vec![0u8; 16 * 1024];
                        while let Ok(n) = up_read.read(&mut buf).await {
                            if n == 0 || flag.load(Ordering::SeqCst) {
                                break; // the reply is lost; both sides get closed
                            }
                            if client_write.write_all(&buf[..n]).await.is_err() {
                                break;
                            }
                        }
                    };
                    tokio::select! { _ = to_server => {}, _ = to_client => {} }
                });
            }
        });
        Self { port, drop_replies }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_join_whose_reply_was_lost_keeps_one_place_when_retried() {
    let server = RedisProcess::start(&[]);
    let proxy = LossyProxy::start(server.port).await;
    let room = room_on(
        &format!("redis://127.0.0.1:{}/", proxy.port),
        EventConfig::default(),
    );
    let direct = room_on(&server.url(), EventConfig::default());
    let event = "lost-reply";
    assert_eq!(room.join(event, &user("first")).await.unwrap().position, 1);

    proxy.drop_replies.store(true, Ordering::SeqCst);
    let lost = room.join(event, &user("second")).await.unwrap_err();
    assert_eq!(lost.code(), ErrorCode::Unavailable);
    // The script ran although its reply never arrived.
    assert_eq!(direct.stats(event).await.unwrap().total_waiting, 2);

    proxy.drop_replies.store(false, Ordering::SeqCst);
    let mut retried = None;
    for _ in 0..100 {
        if let Ok(t) = room.join(event, &user("second")).await {
            retried = Some(t);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let retried = retried.expect("retry succeeded after reconnect");
    assert_eq!(
        retried.position, 2,
        "the retry finds the place the lost call took"
    );
    assert_eq!(direct.stats(event).await.unwrap().total_waiting, 2);
    assert_eq!(room.join(event, &user("third")).await.unwrap().position, 3);

    // The same holds for a consume whose reply is lost: the retry must not read "already used".
    let grant = room
        .request_admission(&retried.waiting_token, event, "user-second")
        .await
        .unwrap();
    assert_eq!(grant.status, AdmissionStatus::Granted);
    let rt = grant.reservation_token;
    proxy.drop_replies.store(true, Ordering::SeqCst);
    let lost = room
        .consume_idempotent(&rt, event, "user-second", "req-1")
        .await;
    assert_eq!(lost.unwrap_err().code(), ErrorCode::Unavailable);
    proxy.drop_replies.store(false, Ordering::SeqCst);
    let mut retried = None;
    for _ in 0..100 {
        if let Ok(outcome) = room
            .consume_idempotent(&rt, event, "user-second", "req-1")
            .await
        {
            retried = Some(outcome);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(retried, Some(ConsumeOutcome::Consumed));
    let other = room
        .consume_idempotent(&rt, event, "user-second", "req-2")
        .await
        .unwrap();
    assert_eq!(other, ConsumeOutcome::AlreadyUsed);
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_pubsub_subscription_per_event_per_process() {
    let server = RedisProcess::start(&[]);
    let room = room_on(&server.url(), EventConfig::default());
    let event = "fan-out";
    let mut streams = Vec::new();
    for i in 0..25 {
        let t = room.join(event, &user(i)).await.unwrap();
        let mut s = room.subscribe(&t.waiting_token).await.unwrap();
        s.next().await.unwrap();
        streams.push(s);
    }
    let channel = format!("wr:{{{event}}}:ch");
    let numsub = server.cli(&["pubsub", "numsub", &channel]).unwrap();
    assert_eq!(numsub.lines().nth(1).map(str::trim), Some("1"), "{numsub}");
    let clients = server.cli(&["info", "clients"]).unwrap();
    let pubsub_clients = clients
        .lines()
        .find_map(|l| l.strip_prefix("pubsub_clients:"))
        .map(str::trim)
        .map(str::to_owned);
    // Redis 7.2+ reports it; older servers do not have the field.
    if let Some(n) = pubsub_clients {
        assert_eq!(n, "1");
    }
    drop(streams);
    drop(server);
}
