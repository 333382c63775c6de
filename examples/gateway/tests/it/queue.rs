//! `QueueService` over both protocols: the same answers, errors included.

use reqwest::Method;
use tacos_runtime::Code;
use traffic_tacos_contracts::gateway::v1::*;

use crate::support::{json, same, Gateway};

const JOIN: &str = "/gateway.v1.QueueService/JoinQueue";
const STATUS: &str = "/gateway.v1.QueueService/GetQueueStatus";
const ADMIT: &str = "/gateway.v1.QueueService/RequestAdmission";
const LEAVE: &str = "/gateway.v1.QueueService/LeaveQueue";
const STATS: &str = "/gateway.v1.QueueService/GetQueueStats";

pub fn join_request(event: &str, user: &str) -> JoinQueueRequest {
    JoinQueueRequest {
        event_id: event.into(),
        user_id: user.into(),
        ..Default::default()
    }
}

/// Joins over gRPC and over REST as the same user: a join is idempotent, so both answers match.
pub async fn join_both(gw: &Gateway, event: &str, user: &str) -> JoinQueueResponse {
    let request = join_request(event, user);
    let grpc = gw.grpc(JOIN, request.clone()).await;
    let rest = gw
        .rest(Method::POST, "/api/v1/queue/join", json(&request))
        .await;
    // A repeated join renews the place, so its expiry moves.
    let strip = |mut r: JoinQueueResponse| {
        assert!(r.expires_at.take().is_some());
        r
    };
    same(grpc.map(strip), rest.map(strip)).expect("join succeeds")
}

pub async fn admit_both(
    gw: &Gateway,
    token: &str,
    event: &str,
    user: &str,
) -> RequestAdmissionResponse {
    let request = RequestAdmissionRequest {
        waiting_token: token.into(),
        event_id: event.into(),
        user_id: user.into(),
    };
    let grpc: Result<RequestAdmissionResponse, _> = gw.grpc(ADMIT, request.clone()).await;
    let rest: Result<RequestAdmissionResponse, _> = gw
        .rest(Method::POST, "/api/v1/queue/enter", json(&request))
        .await;
    // A repeated request returns the same grant; only the remaining seconds may tick down.
    let mut grpc = grpc.expect("admission answers");
    let mut rest = rest.expect("admission answers");
    assert!((grpc.ttl_seconds - rest.ttl_seconds).abs() <= 1);
    grpc.ttl_seconds = 0;
    rest.ttl_seconds = 0;
    assert_eq!(grpc, rest);
    grpc
}

#[tokio::test]
async fn join_status_admission_leave_and_stats_agree() {
    let gw = Gateway::start().await;
    let joined = join_both(&gw, "concert-1", "alice").await;
    assert!(!joined.waiting_token.is_empty());
    assert_eq!(joined.position_hint, 1);
    assert_eq!(joined.status, QueueStatus::Waiting as i32);
    let second = join_both(&gw, "concert-1", "bob").await;
    assert_eq!(second.position_hint, 2);

    let status_request = GetQueueStatusRequest {
        waiting_token: second.waiting_token.clone(),
    };
    let grpc: Result<GetQueueStatusResponse, _> = gw.grpc(STATUS, status_request).await;
    let rest: Result<GetQueueStatusResponse, _> = gw
        .rest(
            Method::GET,
            &format!(
                "/api/v1/queue/status?waiting_token={}",
                second.waiting_token
            ),
            None,
        )
        .await;
    // Polling renews the heartbeat, so the expiry moves between the two calls.
    let strip = |mut r: GetQueueStatusResponse| {
        assert!(r.expires_at.take().is_some());
        r
    };
    let status = same(grpc.map(strip), rest.map(strip)).unwrap();
    assert_eq!(status.position, 2);
    assert!(status.admission_ready);

    let admitted = admit_both(&gw, &joined.waiting_token, "concert-1", "alice").await;
    assert_eq!(admitted.admission, AdmissionStatus::Granted as i32);
    assert!(!admitted.reservation_token.is_empty());
    assert!(admitted.error.is_none());

    // Leaving: the first leave releases the place, the second finds it gone; each protocol
    // leaves with its own user so both see a first leave.
    let carol = join_both(&gw, "concert-1", "carol").await;
    let dave = join_both(&gw, "concert-1", "dave").await;
    let strip = |mut r: LeaveQueueResponse| {
        assert!(r.left_at.take().is_some());
        r
    };
    let grpc: Result<LeaveQueueResponse, _> = gw
        .grpc(
            LEAVE,
            LeaveQueueRequest {
                waiting_token: carol.waiting_token.clone(),
                reason: "changed my mind".into(),
            },
        )
        .await;
    let rest: Result<LeaveQueueResponse, _> = gw
        .rest(
            Method::DELETE,
            &format!("/api/v1/queue/leave?waiting_token={}", dave.waiting_token),
            None,
        )
        .await;
    let left = same(grpc.map(strip), rest.map(strip)).unwrap();
    assert!(left.success);
    let grpc: Result<LeaveQueueResponse, _> = gw
        .grpc(
            LEAVE,
            LeaveQueueRequest {
                waiting_token: carol.waiting_token.clone(),
                reason: String::new(),
            },
        )
        .await;
    let rest: Result<LeaveQueueResponse, _> = gw
        .rest(
            Method::DELETE,
            &format!("/api/v1/queue/leave?waiting_token={}", dave.waiting_token),
            None,
        )
        .await;
    let again = same(grpc.map(strip), rest.map(strip)).unwrap();
    assert!(!again.success);
    assert_eq!(
        again.error.expect("in-band error").code,
        traffic_tacos_contracts::common::v1::ErrorCode::FailedPrecondition as i32
    );

    // Stats for one event, by query parameter and by the additional path binding.
    let strip = |mut r: GetQueueStatsResponse| {
        for e in &mut r.events {
            assert!(e.last_updated.take().is_some());
        }
        if let Some(s) = &mut r.system {
            s.last_updated = None;
        }
        r
    };
    let grpc: Result<GetQueueStatsResponse, _> = gw
        .grpc(
            STATS,
            GetQueueStatsRequest {
                event_id: "concert-1".into(),
            },
        )
        .await;
    let rest_query: Result<GetQueueStatsResponse, _> = gw
        .rest(Method::GET, "/api/v1/queue/stats?event_id=concert-1", None)
        .await;
    let rest_path: Result<GetQueueStatsResponse, _> = gw
        .rest(Method::GET, "/api/v1/events/concert-1/queue/stats", None)
        .await;
    let stats = same(grpc.map(strip), rest_query.map(strip)).unwrap();
    assert_eq!(Ok(stats.clone()), rest_path.map(strip));
    assert_eq!(stats.events[0].total_waiting, 1, "bob still waits");
    assert_eq!(stats.events[0].total_admitted, 1, "alice was admitted");

    // System-wide stats.
    let grpc: Result<GetQueueStatsResponse, _> =
        gw.grpc(STATS, GetQueueStatsRequest::default()).await;
    let rest: Result<GetQueueStatsResponse, _> =
        gw.rest(Method::GET, "/api/v1/queue/stats", None).await;
    let system = same(grpc.map(strip), rest.map(strip)).unwrap();
    assert_eq!(system.system.unwrap().total_active_queues, 1);
    gw.stop().await;
}

#[tokio::test]
async fn queue_errors_agree() {
    let gw = Gateway::start().await;
    // Missing event.
    let request = join_request("", "alice");
    let grpc: Result<JoinQueueResponse, _> = gw.grpc(JOIN, request.clone()).await;
    let rest = gw
        .rest(Method::POST, "/api/v1/queue/join", json(&request))
        .await;
    let failure = same(grpc, rest).unwrap_err();
    assert_eq!(failure.code, Code::InvalidArgument);
    assert!(failure.message.contains("event_id"), "{}", failure.message);

    // Neither user nor session.
    let request = join_request("concert-1", "");
    let grpc: Result<JoinQueueResponse, _> = gw.grpc(JOIN, request.clone()).await;
    let rest = gw
        .rest(Method::POST, "/api/v1/queue/join", json(&request))
        .await;
    assert_eq!(same(grpc, rest).unwrap_err().code, Code::InvalidArgument);

    // A malformed token, and a well-formed one no queue knows.
    for (token, code) in [
        ("garbage", Code::InvalidArgument),
        (&forged_token(&gw).await, Code::NotFound),
    ] {
        let grpc: Result<GetQueueStatusResponse, _> = gw
            .grpc(
                STATUS,
                GetQueueStatusRequest {
                    waiting_token: token.into(),
                },
            )
            .await;
        let rest = gw
            .rest(
                Method::GET,
                &format!("/api/v1/queue/status?waiting_token={token}"),
                None,
            )
            .await;
        assert_eq!(same(grpc, rest).unwrap_err().code, code, "token {token}");
    }

    // An admission with a token of another event is refused in-band as invalid.
    let joined = join_both(&gw, "concert-1", "alice").await;
    let refused = admit_both(&gw, &joined.waiting_token, "concert-2", "alice").await;
    assert_eq!(refused.admission, AdmissionStatus::Invalid as i32);
    assert!(refused.reservation_token.is_empty());
    assert!(refused.error.is_some());

    // Wrong JSON over REST is a 400 naming the field, never a 500.
    let bad: Result<JoinQueueResponse, _> = gw
        .rest(
            Method::POST,
            "/api/v1/queue/join",
            Some(br#"{"event_id": 7}"#.to_vec()),
        )
        .await;
    let failure = bad.unwrap_err();
    assert_eq!(failure.code, Code::InvalidArgument);
    assert!(failure.message.contains("event_id"), "{}", failure.message);
    gw.stop().await;
}

/// A token shaped like a real one (same event, same length) that no queue issued.
async fn forged_token(gw: &Gateway) -> String {
    let real = join_both(gw, "concert-9", "forger").await.waiting_token;
    // Change one character of the random part, keeping the alphabet.
    let mut chars: Vec<char> = real.chars().collect();
    let last = chars.len() - 1;
    chars[last] = if chars[last] == 'A' { 'B' } else { 'A' };
    chars.into_iter().collect()
}
