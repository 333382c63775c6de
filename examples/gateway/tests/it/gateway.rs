//! `GatewayService` over both protocols: the same answers, errors included, and the full
//! purchase flow.

use reqwest::Method;
use tacos_runtime::Code;
use traffic_tacos_contracts::common::v1::Money;
use traffic_tacos_contracts::gateway::v1::*;
use traffic_tacos_contracts::payment::v1 as pay;
use traffic_tacos_contracts::reservation::v1::ReservationStatus;

use crate::queue::{admit_both, join_both};
use crate::support::{json, same, Gateway};

const HEALTH: &str = "/gateway.v1.GatewayService/HealthCheck";
const VALIDATE: &str = "/gateway.v1.GatewayService/ValidateToken";
const AVAILABILITY: &str = "/gateway.v1.GatewayService/GetEventAvailability";
const CREATE: &str = "/gateway.v1.GatewayService/CreateReservation";
const GET: &str = "/gateway.v1.GatewayService/GetReservation";
const CONFIRM: &str = "/gateway.v1.GatewayService/ConfirmReservation";
const CANCEL: &str = "/gateway.v1.GatewayService/CancelReservation";
const INTENT: &str = "/gateway.v1.GatewayService/CreatePaymentIntent";
const PAYMENT: &str = "/gateway.v1.GatewayService/GetPaymentStatus";
const PROCESS: &str = "/gateway.v1.GatewayService/ProcessPayment";

/// Joins and gets admitted; returns the reservation token.
pub async fn admitted(gw: &Gateway, event: &str, user: &str) -> String {
    let joined = join_both(gw, event, user).await;
    let grant = admit_both(gw, &joined.waiting_token, event, user).await;
    assert_eq!(grant.admission, AdmissionStatus::Granted as i32);
    grant.reservation_token
}

fn reservation_request(
    event: &str,
    user: &str,
    token: &str,
    key: &str,
) -> CreateReservationRequest {
    CreateReservationRequest {
        event_id: event.into(),
        quantity: 2,
        user_id: user.into(),
        reservation_token: token.into(),
        idempotency_key: key.into(),
        ..Default::default()
    }
}

async fn reserve_both(
    gw: &Gateway,
    request: CreateReservationRequest,
) -> CreateReservationResponse {
    let grpc = gw.grpc(CREATE, request.clone()).await;
    let rest = gw
        .rest(Method::POST, "/api/v1/reservations", json(&request))
        .await;
    same(grpc, rest).expect("reservation succeeds")
}

async fn intent_both(
    gw: &Gateway,
    request: CreatePaymentIntentRequest,
) -> CreatePaymentIntentResponse {
    let grpc = gw.grpc(INTENT, request.clone()).await;
    let rest = gw
        .rest(Method::POST, "/api/v1/payment/intent", json(&request))
        .await;
    same(grpc, rest).expect("intent succeeds")
}

fn intent_request(
    reservation: &str,
    user: &str,
    scenario: pay::PaymentScenario,
    key: &str,
) -> CreatePaymentIntentRequest {
    CreatePaymentIntentRequest {
        reservation_id: reservation.into(),
        user_id: user.into(),
        amount: Some(Money {
            amount: 100_000,
            currency: "KRW".into(),
        }),
        method: pay::PaymentMethod::CreditCard as i32,
        scenario: scenario as i32,
        idempotency_key: key.into(),
        ..Default::default()
    }
}

#[tokio::test]
async fn health_validate_and_availability_agree() {
    let gw = Gateway::start().await;
    let strip = |mut r: HealthCheckResponse| {
        assert!(r.timestamp.take().is_some());
        for s in r.services.values_mut() {
            s.response_time_ms = 0;
            assert!(s.last_check.take().is_some());
        }
        r
    };
    let grpc: Result<HealthCheckResponse, _> = gw.grpc(HEALTH, HealthCheckRequest::default()).await;
    let rest = gw.rest(Method::GET, "/api/v1/health", None).await;
    let health = same(grpc.map(strip), rest.map(strip)).unwrap();
    assert_eq!(health.status, HealthStatus::Healthy as i32);
    assert!(health.services.contains_key("waiting-room"));
    assert!(health.services.contains_key("payment"));

    // One service, and an unknown one.
    let grpc: Result<HealthCheckResponse, _> = gw
        .grpc(
            HEALTH,
            HealthCheckRequest {
                service: "payment".into(),
            },
        )
        .await;
    let rest = gw
        .rest(Method::GET, "/api/v1/health?service=payment", None)
        .await;
    assert_eq!(
        same(grpc.map(strip), rest.map(strip))
            .unwrap()
            .services
            .len(),
        1
    );
    let grpc: Result<HealthCheckResponse, _> = gw
        .grpc(
            HEALTH,
            HealthCheckRequest {
                service: "nope".into(),
            },
        )
        .await;
    let rest = gw
        .rest(Method::GET, "/api/v1/health?service=nope", None)
        .await;
    assert_eq!(same(grpc, rest).unwrap_err().code, Code::NotFound);

    // ValidateToken answers from the server's own verifier, the same on both protocols.
    let request = ValidateTokenRequest {
        token: "eyJhbGciOi".into(),
        required_scope: String::new(),
    };
    let grpc: Result<ValidateTokenResponse, _> = gw.grpc(VALIDATE, request.clone()).await;
    let rest = gw
        .rest(Method::POST, "/api/v1/auth/validate", json(&request))
        .await;
    let invalid = same(grpc, rest).unwrap();
    assert!(!invalid.valid);
    assert!(invalid.user.is_none());
    let request = ValidateTokenRequest {
        token: crate::support::buyer_token("u7"),
        required_scope: String::new(),
    };
    let grpc: Result<ValidateTokenResponse, _> = gw.grpc(VALIDATE, request.clone()).await;
    let rest = gw
        .rest(Method::POST, "/api/v1/auth/validate", json(&request))
        .await;
    let valid = same(grpc, rest).unwrap();
    assert!(valid.valid);
    assert_eq!(valid.user.unwrap().user_id, "u7");
    assert!(valid.expires_at.is_some());
    let grpc: Result<ValidateTokenResponse, _> =
        gw.grpc(VALIDATE, ValidateTokenRequest::default()).await;
    let rest = gw
        .rest(Method::POST, "/api/v1/auth/validate", Some(b"{}".to_vec()))
        .await;
    assert_eq!(same(grpc, rest).unwrap_err().code, Code::InvalidArgument);

    let grpc: Result<GetEventAvailabilityResponse, _> = gw
        .grpc(
            AVAILABILITY,
            GetEventAvailabilityRequest {
                event_id: "concert-1".into(),
                quantity: 2,
                ..Default::default()
            },
        )
        .await;
    let rest = gw
        .rest(
            Method::GET,
            "/api/v1/events/concert-1/availability?quantity=2",
            None,
        )
        .await;
    let availability = same(grpc, rest).unwrap();
    assert_eq!(availability.total_available, 50);
    assert_eq!(availability.event.unwrap().id, "concert-1");
    let grpc: Result<GetEventAvailabilityResponse, _> = gw
        .grpc(
            AVAILABILITY,
            GetEventAvailabilityRequest {
                event_id: "concert-1".into(),
                section: "Z".into(),
                quantity: 0,
            },
        )
        .await;
    let rest = gw
        .rest(
            Method::GET,
            "/api/v1/events/concert-1/availability?section=Z",
            None,
        )
        .await;
    assert_eq!(same(grpc, rest).unwrap_err().code, Code::NotFound);
    gw.stop().await;
}

#[tokio::test]
async fn the_full_flow_agrees_on_both_protocols() {
    let gw = Gateway::start().await;
    let token = admitted(&gw, "concert-1", "alice").await;

    // Without a token, or with a forged one: refused, on both protocols alike.
    for bad in ["", "r1.AAAAAAAAAAAAAAAAAAAAAA"] {
        let request = reservation_request("concert-1", "alice", bad, "");
        let grpc: Result<CreateReservationResponse, _> = gw.grpc(CREATE, request.clone()).await;
        let rest = gw
            .rest(Method::POST, "/api/v1/reservations", json(&request))
            .await;
        assert_eq!(same(grpc, rest).unwrap_err().code, Code::PermissionDenied);
    }

    // The same idempotency key over both protocols: one reservation, one use of the token.
    let created = reserve_both(&gw, reservation_request("concert-1", "alice", &token, "k1")).await;
    assert_eq!(created.status, ReservationStatus::Hold as i32);
    assert_eq!(created.reserved_seats.len(), 2);
    assert_eq!(created.total_amount.as_ref().unwrap().amount, 100_000);

    // The token is single use: another key cannot spend it again.
    let again = reservation_request("concert-1", "alice", &token, "k2");
    let grpc: Result<CreateReservationResponse, _> = gw.grpc(CREATE, again.clone()).await;
    let rest = gw
        .rest(Method::POST, "/api/v1/reservations", json(&again))
        .await;
    let failure = same(grpc, rest).unwrap_err();
    assert_eq!(failure.code, Code::PermissionDenied);
    assert!(
        failure.message.contains("already used"),
        "{}",
        failure.message
    );

    let id = created.reservation_id.clone();
    let grpc: Result<GetReservationResponse, _> = gw
        .grpc(
            GET,
            GetReservationRequest {
                reservation_id: id.clone(),
                user_id: "alice".into(),
            },
        )
        .await;
    let rest = gw
        .rest(
            Method::GET,
            &format!("/api/v1/reservations/{id}?user_id=alice"),
            None,
        )
        .await;
    let fetched = same(grpc, rest).unwrap().reservation.unwrap();
    assert_eq!(fetched.status, ReservationStatus::Hold as i32);

    // Confirming before paying is refused.
    let confirm = ConfirmReservationRequest {
        reservation_id: id.clone(),
        payment_intent_id: "pi_missing".into(),
        user_id: "alice".into(),
        idempotency_key: "c1".into(),
    };
    let grpc: Result<ConfirmReservationResponse, _> = gw.grpc(CONFIRM, confirm.clone()).await;
    let rest = gw
        .rest(
            Method::POST,
            &format!("/api/v1/reservations/{id}/confirm"),
            json(&confirm),
        )
        .await;
    assert_eq!(same(grpc, rest).unwrap_err().code, Code::NotFound);

    // Pay: a failing scenario first, then an approving one.
    let failed = intent_both(
        &gw,
        intent_request(&id, "alice", pay::PaymentScenario::Fail, "p0"),
    )
    .await;
    assert_eq!(failed.status, pay::PaymentStatus::Failed as i32);
    let confirm_failed = ConfirmReservationRequest {
        payment_intent_id: failed.payment_intent_id.clone(),
        ..confirm.clone()
    };
    let grpc: Result<ConfirmReservationResponse, _> =
        gw.grpc(CONFIRM, confirm_failed.clone()).await;
    let rest = gw
        .rest(
            Method::POST,
            &format!("/api/v1/reservations/{id}/confirm"),
            json(&confirm_failed),
        )
        .await;
    let failure = same(grpc, rest).unwrap_err();
    assert_eq!(failure.code, Code::FailedPrecondition);
    assert!(
        failure.message.contains("is not completed"),
        "{}",
        failure.message
    );

    let intent = intent_both(
        &gw,
        intent_request(&id, "alice", pay::PaymentScenario::Approve, "p1"),
    )
    .await;
    assert_eq!(intent.status, pay::PaymentStatus::Completed as i32);
    let pid = intent.payment_intent_id.clone();
    let grpc: Result<GetPaymentStatusResponse, _> = gw
        .grpc(
            PAYMENT,
            GetPaymentStatusRequest {
                payment_intent_id: pid.clone(),
                user_id: "alice".into(),
            },
        )
        .await;
    let rest = gw
        .rest(
            Method::GET,
            &format!("/api/v1/payment/{pid}/status?user_id=alice"),
            None,
        )
        .await;
    let payment = same(grpc, rest).unwrap().payment.unwrap();
    assert_eq!(payment.status, pay::PaymentStatus::Completed as i32);
    assert!(payment.result.unwrap().success);

    let confirm = ConfirmReservationRequest {
        payment_intent_id: pid.clone(),
        ..confirm
    };
    let grpc: Result<ConfirmReservationResponse, _> = gw.grpc(CONFIRM, confirm.clone()).await;
    let rest = gw
        .rest(
            Method::POST,
            &format!("/api/v1/reservations/{id}/confirm"),
            json(&confirm),
        )
        .await;
    let confirmed = same(grpc, rest).unwrap();
    assert_eq!(confirmed.status, ReservationStatus::Confirmed as i32);
    assert!(confirmed.order_id.starts_with("ord_"));
    assert_eq!(confirmed.confirmed_seats.len(), 2);

    // A confirmed reservation cannot be cancelled.
    let cancel = CancelReservationRequest {
        reservation_id: id.clone(),
        user_id: "alice".into(),
        reason: "oops".into(),
        idempotency_key: "x1".into(),
    };
    let grpc: Result<CancelReservationResponse, _> = gw.grpc(CANCEL, cancel.clone()).await;
    let rest = gw
        .rest(
            Method::POST,
            &format!("/api/v1/reservations/{id}/cancel"),
            json(&cancel),
        )
        .await;
    assert_eq!(same(grpc, rest).unwrap_err().code, Code::FailedPrecondition);

    // Sold seats left the inventory.
    let grpc: Result<GetEventAvailabilityResponse, _> = gw
        .grpc(
            AVAILABILITY,
            GetEventAvailabilityRequest {
                event_id: "concert-1".into(),
                ..Default::default()
            },
        )
        .await;
    assert_eq!(grpc.unwrap().total_available, 48);
    gw.stop().await;
}

#[tokio::test]
async fn cancel_and_process_payment_agree() {
    let gw = Gateway::start().await;
    let token = admitted(&gw, "concert-2", "bob").await;
    let created = reserve_both(&gw, reservation_request("concert-2", "bob", &token, "k")).await;
    let id = created.reservation_id;

    // An intent without a scenario waits for ProcessPayment.
    let intent = intent_both(
        &gw,
        intent_request(&id, "bob", pay::PaymentScenario::Unspecified, "p"),
    )
    .await;
    assert_eq!(intent.status, pay::PaymentStatus::Pending as i32);
    // Cancelling before paying is idempotent: both protocols see the same cancelled
    // reservation. (A completed payment confirms the reservation through its webhook.)
    let cancel = CancelReservationRequest {
        reservation_id: id.clone(),
        user_id: "bob".into(),
        reason: "changed plans".into(),
        idempotency_key: "x".into(),
    };
    let grpc: Result<CancelReservationResponse, _> = gw.grpc(CANCEL, cancel.clone()).await;
    let rest = gw
        .rest(
            Method::POST,
            &format!("/api/v1/reservations/{id}/cancel"),
            json(&cancel),
        )
        .await;
    let cancelled = same(grpc, rest).unwrap();
    assert_eq!(cancelled.status, ReservationStatus::Cancelled as i32);
    assert_eq!(cancelled.released_seats.len(), 2);

    let process = pay::ProcessPaymentRequest {
        payment_intent_id: intent.payment_intent_id.clone(),
        payment_details: None,
        idempotency_key: "charge-1".into(),
    };
    let grpc: Result<pay::ProcessPaymentResponse, _> = gw.grpc(PROCESS, process.clone()).await;
    let rest = gw
        .rest(Method::POST, "/api/v1/payment/process", json(&process))
        .await;
    let processed = same(grpc, rest).unwrap();
    assert_eq!(processed.status, pay::PaymentStatus::Completed as i32);
    assert!(processed.transaction_id.starts_with("txn_"));

    let unknown = pay::ProcessPaymentRequest {
        payment_intent_id: "pi_nope".into(),
        ..process
    };
    let grpc: Result<pay::ProcessPaymentResponse, _> = gw.grpc(PROCESS, unknown.clone()).await;
    let rest = gw
        .rest(Method::POST, "/api/v1/payment/process", json(&unknown))
        .await;
    assert_eq!(same(grpc, rest).unwrap_err().code, Code::NotFound);

    // Someone else's reservation: the reservation service says it is not theirs.
    let grpc: Result<GetReservationResponse, _> = gw
        .grpc(
            GET,
            GetReservationRequest {
                reservation_id: id.clone(),
                user_id: "mallory".into(),
            },
        )
        .await;
    let rest = gw
        .rest(
            Method::GET,
            &format!("/api/v1/reservations/{id}?user_id=mallory"),
            None,
        )
        .await;
    assert_eq!(same(grpc, rest).unwrap_err().code, Code::PermissionDenied);
    gw.stop().await;
}

#[tokio::test]
async fn concurrent_reservations_never_oversell() {
    let gw = Gateway::start_with(crate::support::test_config(5)).await;
    let buyers = 12;
    let mut tokens = Vec::new();
    for i in 0..buyers {
        tokens.push(admitted(&gw, "tiny-venue", &format!("buyer-{i}")).await);
    }
    let gw = std::sync::Arc::new(gw);
    let mut tasks = Vec::new();
    for (i, token) in tokens.into_iter().enumerate() {
        let gw = std::sync::Arc::clone(&gw);
        tasks.push(tokio::spawn(async move {
            let mut request = reservation_request("tiny-venue", &format!("buyer-{i}"), &token, "k");
            request.quantity = 1;
            if i % 2 == 0 {
                gw.grpc::<_, CreateReservationResponse>(CREATE, request)
                    .await
            } else {
                gw.rest(Method::POST, "/api/v1/reservations", json(&request))
                    .await
            }
        }));
    }
    let mut held = Vec::new();
    let mut refused = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(r) => held.extend(r.reserved_seats.into_iter().map(|s| s.id)),
            Err(f) => {
                assert_eq!(f.code, Code::FailedPrecondition, "{}", f.message);
                refused += 1;
            }
        }
    }
    held.sort();
    let before = held.len();
    held.dedup();
    assert_eq!(before, held.len(), "no seat held twice");
    assert_eq!(held.len(), 5, "every seat sold once");
    assert_eq!(refused, buyers - 5);
}
