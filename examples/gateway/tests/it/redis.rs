//! The gateway with its waiting room in Redis (`REDIS_URL`).

use reqwest::Method;
use traffic_tacos_contracts::gateway::v1::*;

use crate::queue::{admit_both, join_both};
use crate::support::{json, test_config, Gateway};

fn redis_url() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| {
        panic!(
            "this test needs Redis: run `cargo xtask test`, or set REDIS_URL \
             (e.g. REDIS_URL=redis://127.0.0.1:6379/)"
        )
    })
}

#[tokio::test]
async fn the_queue_runs_on_redis() {
    let mut config = test_config(10);
    config.redis_url = Some(redis_url());
    let gw = Gateway::start_with(config).await;
    // A fresh event per run keeps runs against a shared Redis apart.
    let event = format!("redis-gw-{}", std::process::id());
    let joined = join_both(&gw, &event, "alice").await;
    assert_eq!(joined.position_hint, 1);
    let second = join_both(&gw, &event, "bob").await;
    assert_eq!(second.position_hint, 2);
    let grant = admit_both(&gw, &joined.waiting_token, &event, "alice").await;
    assert_eq!(grant.admission, AdmissionStatus::Granted as i32);

    let request = CreateReservationRequest {
        event_id: event.clone(),
        quantity: 1,
        user_id: "alice".into(),
        reservation_token: grant.reservation_token.clone(),
        idempotency_key: "k".into(),
        ..Default::default()
    };
    let created: CreateReservationResponse = gw
        .rest(Method::POST, "/api/v1/reservations", json(&request))
        .await
        .expect("the token from Redis is accepted");
    assert_eq!(created.reserved_seats.len(), 1);
    let reused = CreateReservationRequest {
        idempotency_key: "other".into(),
        ..request
    };
    let refused: Result<CreateReservationResponse, _> = gw
        .grpc("/gateway.v1.GatewayService/CreateReservation", reused)
        .await;
    assert_eq!(
        refused.unwrap_err().code,
        tacos_runtime::Code::PermissionDenied
    );

    let stats: GetQueueStatsResponse = gw
        .rest(
            Method::GET,
            &format!("/api/v1/events/{event}/queue/stats"),
            None,
        )
        .await
        .unwrap();
    assert_eq!(stats.events[0].total_waiting, 1);
    assert_eq!(stats.events[0].total_admitted, 1);
    gw.stop().await;
}
