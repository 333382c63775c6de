//! Outcome webhooks reach a local receiver signed, and are retried until accepted.

use std::time::SystemTime;

use traffic_tacos_contracts::common::v1::Money;
use traffic_tacos_contracts::gateway::v1::{
    PaymentWebhookStatus, PaymentWebhookType, ReceivePaymentWebhookRequest,
};
use traffic_tacos_contracts::payment::v1::*;
use traffic_tacos_payment::signature::{canonical_body, SignatureError};

use crate::support::{receiver, secret, Payments};

const CREATE: &str = "/payment.v1.PaymentService/CreatePaymentIntent";
const SIMULATE: &str = "/payment.v1.PaymentService/SimulateWebhook";

fn intent(scenario: PaymentScenario) -> CreatePaymentIntentRequest {
    CreatePaymentIntentRequest {
        reservation_id: "rsv_9".into(),
        amount: Some(Money {
            amount: 50_000,
            currency: "KRW".into(),
        }),
        user_id: "u9".into(),
        scenario: scenario as i32,
        ..Default::default()
    }
}

#[tokio::test]
async fn an_approval_is_delivered_signed() {
    let mut rx = receiver(0).await;
    let p = Payments::start(Some(rx.url.clone())).await;
    let created: CreatePaymentIntentResponse = p
        .grpc(CREATE, intent(PaymentScenario::Approve))
        .await
        .unwrap();
    let post = rx.next().await;
    let timestamp = secret()
        .verify(&post.signature, &post.body, SystemTime::now())
        .expect("the signature verifies");
    let webhook: ReceivePaymentWebhookRequest =
        tacos_runtime::json::from_slice(&post.body).expect("the body is the webhook");
    assert_eq!(webhook.timestamp.unwrap().seconds as u64, timestamp);
    assert_eq!(canonical_body(&webhook), post.body, "the body is canonical");
    assert_eq!(webhook.event_type, PaymentWebhookType::Approved as i32);
    let data = webhook.data.unwrap();
    assert_eq!(data.payment_intent_id, created.payment_intent_id);
    assert_eq!(data.reservation_id, "rsv_9");
    assert_eq!(data.status, PaymentWebhookStatus::Success as i32);
    assert_eq!(data.metadata.get("user_id").map(String::as_str), Some("u9"));
    // Any change to the body breaks the signature.
    let tampered = String::from_utf8(post.body.to_vec())
        .unwrap()
        .replace("rsv_9", "rsv_8");
    assert_eq!(
        secret().verify(&post.signature, tampered.as_bytes(), SystemTime::now()),
        Err(SignatureError::Mismatch)
    );
}

#[tokio::test]
async fn a_failing_receiver_gets_retries_of_the_same_webhook() {
    let mut rx = receiver(2).await;
    let p = Payments::start(Some(rx.url.clone())).await;
    let _: CreatePaymentIntentResponse =
        p.grpc(CREATE, intent(PaymentScenario::Fail)).await.unwrap();
    let mut ids = Vec::new();
    for attempt in 1..=3 {
        let post = rx.next().await;
        secret()
            .verify(&post.signature, &post.body, SystemTime::now())
            .expect("every attempt is signed");
        let webhook: ReceivePaymentWebhookRequest =
            tacos_runtime::json::from_slice(&post.body).unwrap();
        assert_eq!(webhook.attempt, attempt);
        assert_eq!(webhook.event_type, PaymentWebhookType::Failed as i32);
        ids.push(webhook.webhook_id);
    }
    assert!(
        ids.windows(2).all(|w| w[0] == w[1]),
        "one webhook id: {ids:?}"
    );
    // Accepted on the third attempt: nothing more comes.
    let more = tokio::time::timeout(std::time::Duration::from_millis(500), rx.posts.recv()).await;
    assert!(more.is_err(), "no delivery after acceptance");
}

#[tokio::test]
async fn a_delayed_approval_and_a_simulated_webhook_are_delivered() {
    let mut rx = receiver(0).await;
    let p = Payments::start(Some(rx.url.clone())).await;
    let created: CreatePaymentIntentResponse = p
        .grpc(CREATE, intent(PaymentScenario::Timeout))
        .await
        .unwrap();
    let simulated: SimulateWebhookResponse = p
        .grpc(
            SIMULATE,
            SimulateWebhookRequest {
                payment_intent_id: created.payment_intent_id.clone(),
                target_status: PaymentStatus::Failed as i32,
                delay_seconds: 0,
                force_trigger: false,
            },
        )
        .await
        .unwrap();
    let post = rx.next().await;
    let webhook: ReceivePaymentWebhookRequest =
        tacos_runtime::json::from_slice(&post.body).unwrap();
    assert_eq!(webhook.webhook_id, simulated.webhook_id);
    assert_eq!(
        webhook.data.unwrap().status,
        PaymentWebhookStatus::Failed as i32
    );
    let delayed: CreatePaymentIntentResponse = p
        .grpc(CREATE, intent(PaymentScenario::Delay))
        .await
        .unwrap();
    let post = rx.next().await;
    let webhook: ReceivePaymentWebhookRequest =
        tacos_runtime::json::from_slice(&post.body).unwrap();
    let data = webhook.data.unwrap();
    assert_eq!(data.payment_intent_id, delayed.payment_intent_id);
    assert_eq!(data.status, PaymentWebhookStatus::Success as i32);
}

#[tokio::test]
async fn a_timed_out_intent_expires_and_reports_it() {
    let mut rx = receiver(0).await;
    let p =
        Payments::start_with_ttl(Some(rx.url.clone()), std::time::Duration::from_millis(300)).await;
    let created: CreatePaymentIntentResponse = p
        .grpc(CREATE, intent(PaymentScenario::Timeout))
        .await
        .unwrap();
    assert_eq!(created.status, PaymentStatus::Processing as i32);
    let post = rx.next().await;
    let webhook: ReceivePaymentWebhookRequest =
        tacos_runtime::json::from_slice(&post.body).unwrap();
    let data = webhook.data.unwrap();
    assert_eq!(data.payment_intent_id, created.payment_intent_id);
    assert_eq!(data.status, PaymentWebhookStatus::Timeout as i32);
}
