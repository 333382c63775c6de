//! Payment scenarios over gRPC and REST.

use std::time::Duration;

use reqwest::Method;
use tacos_runtime::Code;
use traffic_tacos_contracts::common::v1::Money;
use traffic_tacos_contracts::payment::v1::*;

use crate::support::{json, Payments};

const CREATE: &str = "/payment.v1.PaymentService/CreatePaymentIntent";
const STATUS: &str = "/payment.v1.PaymentService/GetPaymentStatus";
const PROCESS: &str = "/payment.v1.PaymentService/ProcessPayment";
const CANCEL: &str = "/payment.v1.PaymentService/CancelPayment";
const LIST: &str = "/payment.v1.PaymentService/ListPayments";

fn intent(scenario: PaymentScenario, key: &str) -> CreatePaymentIntentRequest {
    CreatePaymentIntentRequest {
        reservation_id: "rsv_1".into(),
        amount: Some(Money {
            amount: 100_000,
            currency: "KRW".into(),
        }),
        user_id: "u1".into(),
        scenario: scenario as i32,
        idempotency_key: key.into(),
        ..Default::default()
    }
}

async fn status_of(p: &Payments, id: &str) -> PaymentStatus {
    let found: GetPaymentStatusResponse = p
        .grpc(
            STATUS,
            GetPaymentStatusRequest {
                payment_intent_id: id.into(),
                user_id: "u1".into(),
            },
        )
        .await
        .unwrap();
    PaymentStatus::try_from(found.payment.unwrap().status).unwrap()
}

#[tokio::test]
async fn each_scenario_ends_as_it_says() {
    let p = Payments::start(None).await;
    let approved: CreatePaymentIntentResponse = p
        .grpc(CREATE, intent(PaymentScenario::Approve, ""))
        .await
        .unwrap();
    assert_eq!(approved.status, PaymentStatus::Completed as i32);
    let failed: CreatePaymentIntentResponse = p
        .rest(
            Method::POST,
            "/payment/v1/intents",
            json(&intent(PaymentScenario::Fail, "")),
        )
        .await
        .unwrap();
    assert_eq!(failed.status, PaymentStatus::Failed as i32);
    let random: CreatePaymentIntentResponse = p
        .grpc(CREATE, intent(PaymentScenario::Random, ""))
        .await
        .unwrap();
    assert!([
        PaymentStatus::Completed as i32,
        PaymentStatus::Failed as i32
    ]
    .contains(&random.status));
    let delayed: CreatePaymentIntentResponse = p
        .grpc(CREATE, intent(PaymentScenario::Delay, ""))
        .await
        .unwrap();
    assert_eq!(delayed.status, PaymentStatus::Processing as i32);
    let timeout: CreatePaymentIntentResponse = p
        .grpc(CREATE, intent(PaymentScenario::Timeout, ""))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        status_of(&p, &delayed.payment_intent_id).await,
        PaymentStatus::Completed
    );
    assert_eq!(
        status_of(&p, &timeout.payment_intent_id).await,
        PaymentStatus::Processing
    );
    let err = p
        .grpc::<_, ProcessPaymentResponse>(
            PROCESS,
            ProcessPaymentRequest {
                payment_intent_id: timeout.payment_intent_id,
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.code, Code::FailedPrecondition);
}

#[tokio::test]
async fn an_unspecified_scenario_waits_for_process_and_charges_once() {
    let p = Payments::start(None).await;
    let pending: CreatePaymentIntentResponse = p
        .grpc(CREATE, intent(PaymentScenario::Unspecified, "k1"))
        .await
        .unwrap();
    assert_eq!(pending.status, PaymentStatus::Pending as i32);
    let same: CreatePaymentIntentResponse = p
        .grpc(CREATE, intent(PaymentScenario::Unspecified, "k1"))
        .await
        .unwrap();
    assert_eq!(same.payment_intent_id, pending.payment_intent_id);
    let path = format!("/payment/v1/intents/{}:process", pending.payment_intent_id);
    let body = ProcessPaymentRequest {
        payment_intent_id: pending.payment_intent_id.clone(),
        ..Default::default()
    };
    let charged: ProcessPaymentResponse = p.rest(Method::POST, &path, json(&body)).await.unwrap();
    assert_eq!(charged.status, PaymentStatus::Completed as i32);
    let again: ProcessPaymentResponse = p.grpc(PROCESS, body).await.unwrap();
    assert_eq!(again.transaction_id, charged.transaction_id, "charged once");
    // Only the payer reads it.
    let err = p
        .grpc::<_, GetPaymentStatusResponse>(
            STATUS,
            GetPaymentStatusRequest {
                payment_intent_id: pending.payment_intent_id.clone(),
                user_id: "u2".into(),
            },
        )
        .await
        .unwrap_err();
    assert_eq!(
        (err.code, err.reason.as_str()),
        (Code::PermissionDenied, "ERROR_CODE_FORBIDDEN")
    );
    // A completed payment is refunded, in full by default.
    let refunded: CancelPaymentResponse = p
        .grpc(
            CANCEL,
            CancelPaymentRequest {
                payment_intent_id: pending.payment_intent_id.clone(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(refunded.status, PaymentStatus::Refunded as i32);
    assert_eq!(refunded.refunded_amount.unwrap().amount, 100_000);
    let listed: ListPaymentsResponse = p
        .grpc(
            LIST,
            ListPaymentsRequest {
                user_id: "u1".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(listed.payments.len(), 1);
}

#[tokio::test]
async fn bad_intents_are_refused_with_the_field_named() {
    let p = Payments::start(None).await;
    let mut no_amount = intent(PaymentScenario::Approve, "");
    no_amount.amount = None;
    let err = p
        .grpc::<_, CreatePaymentIntentResponse>(CREATE, no_amount)
        .await
        .unwrap_err();
    assert_eq!(err.code, Code::InvalidArgument);
    assert!(err.message.contains("amount"), "{err:?}");
    let mut unknown = intent(PaymentScenario::Approve, "");
    unknown.scenario = 42;
    let err = p
        .grpc::<_, CreatePaymentIntentResponse>(CREATE, unknown)
        .await
        .unwrap_err();
    assert!(err.message.contains("scenario"), "{err:?}");
    let err = p
        .grpc::<_, GetPaymentStatusResponse>(
            STATUS,
            GetPaymentStatusRequest {
                payment_intent_id: "pi_missing".into(),
                user_id: String::new(),
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.code, Code::NotFound);
}
