//! The reservation life cycle over gRPC and REST: holds, expiry, confirm and cancel rules,
//! concurrency, reservation tokens, idempotency.

use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use tacos_runtime::Code;
use traffic_tacos_contracts::common::v1::Money;
use traffic_tacos_contracts::payment::v1 as pay;
use traffic_tacos_contracts::reservation::v1::*;

use crate::support::{json, store_config, Service};

const CREATE: &str = "/reservation.v1.ReservationService/CreateReservation";
const GET: &str = "/reservation.v1.ReservationService/GetReservation";
const CONFIRM: &str = "/reservation.v1.ReservationService/ConfirmReservation";
const CANCEL: &str = "/reservation.v1.ReservationService/CancelReservation";
const LIST: &str = "/reservation.v1.ReservationService/ListReservations";
const EXTEND: &str = "/reservation.v1.ReservationService/ExtendHold";
const INVENTORY: &str = "/reservation.v1.InventoryService/GetInventoryStatus";
const INTENT: &str = "/payment.v1.PaymentService/CreatePaymentIntent";

fn create(event: &str, user: &str, token: &str, quantity: i32) -> CreateReservationRequest {
    CreateReservationRequest {
        event_id: event.into(),
        quantity,
        user_id: user.into(),
        reservation_token: token.into(),
        ..Default::default()
    }
}

async fn available(svc: &Service, event: &str) -> i32 {
    let inventory: GetInventoryStatusResponse = svc
        .grpc(
            INVENTORY,
            GetInventoryStatusRequest {
                event_id: event.into(),
                section: String::new(),
            },
        )
        .await
        .expect("inventory");
    inventory.stats.unwrap().available_seats
}

async fn reserve(
    svc: &Service,
    event: &str,
    user: &str,
    quantity: i32,
) -> CreateReservationResponse {
    let token = svc.admitted(event, user).await;
    svc.grpc(CREATE, create(event, user, &token, quantity))
        .await
        .expect("reservation")
}

async fn approved_payment(svc: &Service, r: &CreateReservationResponse, user: &str) -> String {
    let intent: pay::CreatePaymentIntentResponse = svc
        .grpc(
            INTENT,
            pay::CreatePaymentIntentRequest {
                reservation_id: r.reservation_id.clone(),
                amount: r.total_amount.clone(),
                user_id: user.into(),
                scenario: pay::PaymentScenario::Approve as i32,
                ..Default::default()
            },
        )
        .await
        .expect("intent");
    assert_eq!(intent.status, pay::PaymentStatus::Completed as i32);
    intent.payment_intent_id
}

#[tokio::test]
async fn a_hold_takes_seats_and_lapses_back_into_sale() {
    let svc = Service::start(store_config(5, Duration::from_millis(300))).await;
    let _sweeper = svc.store.spawn_sweeper(Duration::from_millis(50));
    let held = reserve(&svc, "e1", "u1", 2).await;
    assert_eq!(held.status, ReservationStatus::Hold as i32);
    assert_eq!(held.reserved_seats.len(), 2);
    assert_eq!(
        held.total_amount,
        Some(Money {
            amount: 100_000,
            currency: "KRW".into()
        })
    );
    assert_eq!(svc.store.sweep(), 0);
    assert_eq!(available(&svc, "e1").await, 3);
    // The sweeper, not a call, releases it: wait without touching the store.
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(
        svc.store.sweep(),
        0,
        "the sweeper already released the hold"
    );
    assert_eq!(available(&svc, "e1").await, 5);
    let path = format!(
        "/reservation/v1/reservations/{}?user_id=u1",
        held.reservation_id
    );
    let got: GetReservationResponse = svc.rest(Method::GET, &path, None).await.unwrap();
    assert_eq!(
        got.reservation.unwrap().status,
        ReservationStatus::Expired as i32
    );
}

#[tokio::test]
async fn confirm_needs_a_completed_payment_of_the_same_user_and_reservation() {
    let svc = Service::start(store_config(10, Duration::from_secs(30))).await;
    let held = reserve(&svc, "e1", "u1", 2).await;
    let confirm = |user: &str, payment: &str| ConfirmReservationRequest {
        reservation_id: held.reservation_id.clone(),
        payment_intent_id: payment.into(),
        user_id: user.into(),
        idempotency_key: String::new(),
    };
    // Another user: told the reservation is someone else's, on both protocols.
    let path = format!(
        "/reservation/v1/reservations/{}:confirm",
        held.reservation_id
    );
    let grpc = svc
        .grpc::<_, ConfirmReservationResponse>(CONFIRM, confirm("u2", "pi_whatever"))
        .await
        .unwrap_err();
    let rest = svc
        .rest::<ConfirmReservationResponse>(
            Method::POST,
            &path,
            json(&confirm("u2", "pi_whatever")),
        )
        .await
        .unwrap_err();
    assert_eq!(grpc, rest);
    assert_eq!(grpc.code, Code::PermissionDenied);
    assert_eq!(grpc.reason, "ERROR_CODE_FORBIDDEN");
    assert!(grpc.message.contains("belongs to another user"), "{grpc:?}");
    // A payment that is not completed.
    let pending: pay::CreatePaymentIntentResponse = svc
        .grpc(
            INTENT,
            pay::CreatePaymentIntentRequest {
                reservation_id: held.reservation_id.clone(),
                amount: held.total_amount.clone(),
                user_id: "u1".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let err = svc
        .grpc::<_, ConfirmReservationResponse>(CONFIRM, confirm("u1", &pending.payment_intent_id))
        .await
        .unwrap_err();
    assert_eq!(
        (err.code, err.reason.as_str()),
        (Code::FailedPrecondition, "ERROR_CODE_PAYMENT_NOT_APPROVED")
    );
    // A payment for another reservation.
    let other = reserve(&svc, "e1", "u1", 1).await;
    let other_payment = approved_payment(&svc, &other, "u1").await;
    let err = svc
        .grpc::<_, ConfirmReservationResponse>(CONFIRM, confirm("u1", &other_payment))
        .await
        .unwrap_err();
    assert_eq!(err.code, Code::InvalidArgument, "{err:?}");
    // An unknown payment.
    let err = svc
        .grpc::<_, ConfirmReservationResponse>(CONFIRM, confirm("u1", "pi_missing"))
        .await
        .unwrap_err();
    assert_eq!(err.code, Code::NotFound);
    assert!(err.message.contains("payment intent pi_missing"), "{err:?}");
    // The right payment confirms, once; a retry answers the same order.
    let payment = approved_payment(&svc, &held, "u1").await;
    let done: ConfirmReservationResponse =
        svc.grpc(CONFIRM, confirm("u1", &payment)).await.unwrap();
    assert_eq!(done.status, ReservationStatus::Confirmed as i32);
    assert!(done.order_id.starts_with("ord_"));
    let again: ConfirmReservationResponse = svc
        .rest(Method::POST, &path, json(&confirm("u1", &payment)))
        .await
        .unwrap();
    assert_eq!(again.order_id, done.order_id);
    // Sold seats are not cancellable.
    let err = svc
        .grpc::<_, CancelReservationResponse>(
            CANCEL,
            CancelReservationRequest {
                reservation_id: held.reservation_id.clone(),
                user_id: "u1".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.code, Code::FailedPrecondition);
}

#[tokio::test]
async fn an_expired_hold_cannot_be_confirmed_and_cancel_releases_seats() {
    let svc = Service::start(store_config(4, Duration::from_millis(200))).await;
    let held = reserve(&svc, "e1", "u1", 2).await;
    let payment = approved_payment(&svc, &held, "u1").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let err = svc
        .grpc::<_, ConfirmReservationResponse>(
            CONFIRM,
            ConfirmReservationRequest {
                reservation_id: held.reservation_id.clone(),
                payment_intent_id: payment,
                user_id: "u1".into(),
                idempotency_key: String::new(),
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.reason, "ERROR_CODE_RESERVATION_EXPIRED", "{err:?}");

    let svc = Service::start(store_config(4, Duration::from_secs(30))).await;
    let held = reserve(&svc, "e1", "u1", 3).await;
    assert_eq!(available(&svc, "e1").await, 1);
    let cancel = CancelReservationRequest {
        reservation_id: held.reservation_id.clone(),
        user_id: "u1".into(),
        reason: "changed my mind".into(),
        idempotency_key: String::new(),
    };
    let err = svc
        .grpc::<_, CancelReservationResponse>(
            CANCEL,
            CancelReservationRequest {
                user_id: "u2".into(),
                ..cancel.clone()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.code, Code::PermissionDenied);
    let done: CancelReservationResponse = svc.grpc(CANCEL, cancel.clone()).await.unwrap();
    assert_eq!(done.status, ReservationStatus::Cancelled as i32);
    assert_eq!(done.released_seats.len(), 3);
    assert_eq!(available(&svc, "e1").await, 4);
    let path = format!(
        "/reservation/v1/reservations/{}:cancel",
        held.reservation_id
    );
    let again: CancelReservationResponse =
        svc.rest(Method::POST, &path, json(&cancel)).await.unwrap();
    assert_eq!(again.status, ReservationStatus::Cancelled as i32);
    assert_eq!(available(&svc, "e1").await, 4);
}

#[tokio::test]
async fn a_hundred_concurrent_buyers_get_exactly_ten_seats() {
    let svc = Arc::new(Service::start(store_config(10, Duration::from_secs(60))).await);
    let mut tokens = Vec::new();
    for i in 0..100 {
        let user = format!("u{i}");
        tokens.push((user.clone(), svc.admitted("e1", &user).await));
    }
    let calls = tokens.into_iter().enumerate().map(|(i, (user, token))| {
        let svc = svc.clone();
        tokio::spawn(async move {
            let request = create("e1", &user, &token, 1);
            if i % 2 == 0 {
                svc.grpc::<_, CreateReservationResponse>(CREATE, request)
                    .await
            } else {
                svc.rest(Method::POST, "/reservation/v1/reservations", json(&request))
                    .await
            }
        })
    });
    let results = futures::future::join_all(calls).await;
    let mut seats = std::collections::HashSet::new();
    let mut refused = 0;
    for result in results {
        match result.expect("task") {
            Ok(r) => {
                for seat in r.reserved_seats {
                    assert!(seats.insert(seat.id), "a seat was sold twice");
                }
            }
            Err(f) => {
                assert_eq!(f.reason, "ERROR_CODE_INSUFFICIENT_INVENTORY", "{f:?}");
                refused += 1;
            }
        }
    }
    assert_eq!(seats.len(), 10);
    assert_eq!(refused, 90);
    assert_eq!(available(&svc, "e1").await, 0);
}

#[tokio::test]
async fn client_mistakes_keep_the_token_and_a_used_token_is_refused() {
    let mut config = store_config(4, Duration::from_secs(60));
    config.events = vec!["e1".into()];
    let svc = Service::start(config).await;
    let token = svc.admitted("e1", "u1").await;
    let taken = reserve(&svc, "e1", "u2", 1).await.reserved_seats[0]
        .id
        .clone();
    let mistakes = [
        (
            CreateReservationRequest {
                quantity: 0,
                ..create("e1", "u1", &token, 0)
            },
            Code::InvalidArgument,
        ),
        (create("e1", "u1", &token, 11), Code::InvalidArgument),
        (create("e1", "u1", &token, 4), Code::FailedPrecondition),
        (
            CreateReservationRequest {
                seat_ids: vec!["Z-9".into()],
                ..create("e1", "u1", &token, 0)
            },
            Code::InvalidArgument,
        ),
        (
            CreateReservationRequest {
                seat_ids: vec![taken],
                ..create("e1", "u1", &token, 0)
            },
            Code::Aborted,
        ),
    ];
    for (request, code) in mistakes {
        let err = svc
            .grpc::<_, CreateReservationResponse>(CREATE, request.clone())
            .await
            .unwrap_err();
        assert_eq!(err.code, code, "{request:?}: {err:?}");
    }
    // An unknown event is a mistake too (the token is bound to e1, so it is checked first).
    let err = svc
        .grpc::<_, CreateReservationResponse>(CREATE, create("nope", "u1", &token, 1))
        .await
        .unwrap_err();
    assert_eq!(err.code, Code::NotFound, "{err:?}");
    // A token refused as invalid gives the seats it was about to take back.
    assert_eq!(available(&svc, "e1").await, 3);
    let forged = svc
        .grpc::<_, CreateReservationResponse>(CREATE, create("e1", "u3", "rt_forged", 1))
        .await
        .unwrap_err();
    assert_eq!(forged.code, Code::PermissionDenied);
    assert_eq!(available(&svc, "e1").await, 3);
    // After all of that the token still buys seats, exactly once.
    let held: CreateReservationResponse = svc
        .grpc(CREATE, create("e1", "u1", &token, 2))
        .await
        .expect("the token survived the mistakes");
    assert_eq!(held.reserved_seats.len(), 2);
    let reused = svc
        .grpc::<_, CreateReservationResponse>(CREATE, create("e1", "u1", &token, 1))
        .await
        .unwrap_err();
    assert_eq!(reused.code, Code::PermissionDenied);
    assert!(reused.message.contains("already used"), "{reused:?}");
    assert_eq!(available(&svc, "e1").await, 1);
}

#[tokio::test]
async fn the_same_idempotency_key_returns_the_same_reservation() {
    let svc = Service::start(store_config(10, Duration::from_secs(60))).await;
    let token = svc.admitted("e1", "u1").await;
    let request = CreateReservationRequest {
        idempotency_key: "k1".into(),
        ..create("e1", "u1", &token, 2)
    };
    let first: CreateReservationResponse = svc.grpc(CREATE, request.clone()).await.unwrap();
    let again: CreateReservationResponse = svc
        .rest(Method::POST, "/reservation/v1/reservations", json(&request))
        .await
        .unwrap();
    assert_eq!(first, again);
    assert_eq!(available(&svc, "e1").await, 8);
    // Another key with the spent token is refused.
    let other = CreateReservationRequest {
        idempotency_key: "k2".into(),
        ..request
    };
    let err = svc
        .grpc::<_, CreateReservationResponse>(CREATE, other)
        .await
        .unwrap_err();
    assert_eq!(err.code, Code::PermissionDenied);
}

#[tokio::test]
async fn holds_extend_within_the_maximum_and_list_per_user() {
    let svc = Service::start(store_config(10, Duration::from_secs(10))).await;
    let held = reserve(&svc, "e1", "u1", 1).await;
    reserve(&svc, "e1", "u1", 1).await;
    reserve(&svc, "e1", "u2", 1).await;
    let extended: ExtendHoldResponse = svc
        .grpc(
            EXTEND,
            ExtendHoldRequest {
                reservation_id: held.reservation_id.clone(),
                user_id: "u1".into(),
                extension_seconds: 100,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(extended.extension_allowed);
    assert!(extended.extended_seconds <= 20, "{extended:?}");
    let mine: ListReservationsResponse = svc
        .grpc(
            LIST,
            ListReservationsRequest {
                user_id: "u1".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(mine.reservations.len(), 2);
    assert!(mine.reservations.iter().all(|r| r.user_id == "u1"));
    let via_rest: ListReservationsResponse = svc
        .rest(Method::GET, "/reservation/v1/reservations?user_id=u2", None)
        .await
        .unwrap();
    assert_eq!(via_rest.reservations.len(), 1);
    let err = svc
        .grpc::<_, GetReservationResponse>(
            GET,
            GetReservationRequest {
                reservation_id: held.reservation_id,
                user_id: "u2".into(),
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.code, Code::PermissionDenied);
}

#[tokio::test]
async fn one_token_raced_by_many_requests_buys_once() {
    let svc = Arc::new(Service::start(store_config(50, Duration::from_secs(60))).await);
    let token = svc.admitted("e1", "u1").await;
    let calls = (0..10).map(|i| {
        let svc = svc.clone();
        let request = CreateReservationRequest {
            idempotency_key: format!("k{i}"),
            ..create("e1", "u1", &token, 2)
        };
        tokio::spawn(async move {
            svc.grpc::<_, CreateReservationResponse>(CREATE, request)
                .await
        })
    });
    let results = futures::future::join_all(calls).await;
    let (won, lost): (Vec<_>, Vec<_>) = results
        .into_iter()
        .map(|r| r.expect("task"))
        .partition(Result::is_ok);
    assert_eq!(won.len(), 1, "exactly one request spends the token");
    for failure in lost.into_iter().map(Result::unwrap_err) {
        assert_eq!(failure.code, Code::PermissionDenied, "{failure:?}");
    }
    // The losers' pending holds were given back.
    assert_eq!(available(&svc, "e1").await, 48);
}
