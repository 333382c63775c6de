//! Buyers call the reservation and payment APIs with a bearer token whose subject is the user
//! acting; the waiting room stays public.

use reqwest::Method;
use tacos_runtime::Code;
use traffic_tacos_contracts::gateway::v1::*;

use crate::support::{buyer_token, json, same, Gateway};

const GET: &str = "/gateway.v1.GatewayService/GetReservation";
const JOIN: &str = "/gateway.v1.QueueService/JoinQueue";

fn get(user: &str) -> GetReservationRequest {
    GetReservationRequest {
        reservation_id: "r-unknown".into(),
        user_id: user.into(),
    }
}

#[tokio::test]
async fn reservations_need_the_acting_users_token_on_both_protocols() {
    let server = Gateway::start().await;
    let path = "/api/v1/reservations/r-unknown?user_id=u1";

    let anonymous = server.with_token(None);
    let grpc: Result<GetReservationResponse, _> = anonymous.grpc(GET, get("u1")).await;
    let rest = anonymous.rest(Method::GET, path, None).await;
    assert_eq!(same(grpc, rest).unwrap_err().code, Code::Unauthenticated);

    let forged = server.with_token(Some("not.a.token".into()));
    let grpc: Result<GetReservationResponse, _> = forged.grpc(GET, get("u1")).await;
    let rest = forged.rest(Method::GET, path, None).await;
    assert_eq!(same(grpc, rest).unwrap_err().code, Code::Unauthenticated);

    // Someone else's token: refused before the backend is asked.
    let other = server.with_token(Some(buyer_token("u2")));
    let grpc: Result<GetReservationResponse, _> = other.grpc(GET, get("u1")).await;
    let rest = other.rest(Method::GET, path, None).await;
    let failure = same(grpc, rest).unwrap_err();
    assert_eq!(failure.code, Code::PermissionDenied);
    assert!(
        failure.message.contains("authenticated user"),
        "{failure:?}"
    );

    // The buyer's own token reaches the backend (which does not know the reservation).
    let own = server.with_token(Some(buyer_token("u1")));
    let grpc: Result<GetReservationResponse, _> = own.grpc(GET, get("u1")).await;
    let rest = own.rest(Method::GET, path, None).await;
    assert_eq!(same(grpc, rest).unwrap_err().code, Code::NotFound);
}

#[tokio::test]
async fn the_waiting_room_stays_public() {
    let server = Gateway::start().await;
    let anonymous = server.with_token(None);
    let request = JoinQueueRequest {
        event_id: "e-auth".into(),
        user_id: "u-anon".into(),
        ..JoinQueueRequest::default()
    };
    let grpc: Result<JoinQueueResponse, _> = anonymous.grpc(JOIN, request.clone()).await;
    assert!(grpc.is_ok(), "{grpc:?}");
    let rest: Result<JoinQueueResponse, _> = anonymous
        .rest(Method::POST, "/api/v1/queue/join", json(&request))
        .await;
    assert!(rest.is_ok(), "{rest:?}");
}
