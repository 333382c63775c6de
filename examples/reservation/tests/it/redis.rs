//! Separate processes share the waiting room through Redis: a room the "gateway" admits through
//! and the reservation service's own room on the same Redis see the same tokens.

use std::sync::Arc;
use std::time::Duration;

use tacos_runtime::waiting_room::{RedisBackend, RedisOptions, WaitingRoom};
use tacos_runtime::Code;
use traffic_tacos_contracts::reservation::v1::*;

use crate::support::{generous, store_config, Service};

fn redis_room() -> Option<WaitingRoom> {
    let url = std::env::var("REDIS_URL").ok()?;
    let backend = RedisBackend::standalone(&url, RedisOptions::default()).expect("redis url");
    Some(WaitingRoom::new(backend, generous()).expect("room"))
}

#[tokio::test]
async fn a_token_admitted_elsewhere_is_consumed_once_through_redis() {
    let (Some(gateway_room), Some(service_room)) = (redis_room(), redis_room()) else {
        eprintln!("REDIS_URL is not set: skipping");
        return;
    };
    let svc = Service::start_with(
        store_config(5, Duration::from_secs(60)),
        Arc::new(service_room),
    )
    .await;
    let event = format!("rsv-{}-{}", std::process::id(), rand_suffix());
    let ticket = gateway_room
        .join(
            &event,
            &tacos_runtime::waiting_room::Visitor::User("u1".into()),
        )
        .await
        .expect("join");
    let admission = gateway_room
        .request_admission(&ticket.waiting_token, &event, "u1")
        .await
        .expect("admission");
    let create = |quantity| CreateReservationRequest {
        event_id: event.clone(),
        quantity,
        user_id: "u1".into(),
        reservation_token: admission.reservation_token.clone(),
        ..Default::default()
    };
    const CREATE: &str = "/reservation.v1.ReservationService/CreateReservation";
    let mistake = svc
        .grpc::<_, CreateReservationResponse>(CREATE, create(50))
        .await
        .unwrap_err();
    assert_eq!(mistake.code, Code::InvalidArgument);
    let held: CreateReservationResponse = svc
        .grpc(CREATE, create(2))
        .await
        .expect("token still valid");
    assert_eq!(held.reserved_seats.len(), 2);
    let again = svc
        .grpc::<_, CreateReservationResponse>(CREATE, create(1))
        .await
        .unwrap_err();
    assert_eq!(again.code, Code::PermissionDenied);
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
}
