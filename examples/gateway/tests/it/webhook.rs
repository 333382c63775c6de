//! `WebhookService`: signed payment webhooks are applied once; tampered, stale, unsigned and
//! wrongly signed ones are refused with nothing applied.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tacos_runtime::server::{Listeners, Server};
use tacos_runtime::Code;
use tokio::sync::{mpsc, oneshot};
use traffic_tacos_contracts::common::v1::Money;
use traffic_tacos_contracts::gateway::v1::{
    PaymentWebhookData, PaymentWebhookStatus, PaymentWebhookType, ReceivePaymentWebhookRequest,
    ReceivePaymentWebhookResponse,
};
use traffic_tacos_contracts::payment::v1 as pay;
use traffic_tacos_gateway::webhook::WebhookEvent;
use traffic_tacos_payment::delivery::Delivery;
use traffic_tacos_payment::signature::{canonical_body, unix_now, SIGNATURE_HEADER};
use traffic_tacos_payment::{DeliveryConfig, SimulatorConfig, WebhookSecret, WebhookSender};

use crate::support::test_config;

const RECEIVE: &str = "/gateway.v1.WebhookService/ReceivePaymentWebhook";

fn secret() -> WebhookSecret {
    WebhookSecret::new(b"webhook-test-secret-of-32-bytes!".to_vec()).unwrap()
}

/// The gateway with webhooks going to a channel.
struct Receiver {
    rest: SocketAddr,
    grpc: SocketAddr,
    events: mpsc::Receiver<WebhookEvent>,
    _stop: oneshot::Sender<()>,
}

async fn gateway() -> Receiver {
    let config = test_config(10);
    let room = traffic_tacos_gateway::build_waiting_room(&config).unwrap();
    let (tx, events) = mpsc::channel(16);
    let server =
        traffic_tacos_gateway::build_server_with(&config, room, secret(), Some(Arc::new(tx)))
            .unwrap();
    let (rest, grpc, stop) = serve(server).await;
    Receiver {
        rest,
        grpc,
        events,
        _stop: stop,
    }
}

async fn serve(server: Server) -> (SocketAddr, SocketAddr, oneshot::Sender<()>) {
    let rest_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let grpc_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let rest = rest_listener.local_addr().unwrap();
    let grpc = grpc_listener.local_addr().unwrap();
    let (tx, rx) = oneshot::channel();
    tokio::spawn(async move {
        server
            .serve(Listeners::separate(rest_listener, grpc_listener), async {
                let _ = rx.await;
            })
            .await
            .expect("server runs");
    });
    (rest, grpc, tx)
}

fn webhook(id: &str) -> ReceivePaymentWebhookRequest {
    ReceivePaymentWebhookRequest {
        webhook_id: id.into(),
        event_type: PaymentWebhookType::Approved as i32,
        data: Some(PaymentWebhookData {
            payment_intent_id: "pi_1".into(),
            reservation_id: "rsv_1".into(),
            status: PaymentWebhookStatus::Success as i32,
            amount: Some(Money {
                amount: 100,
                currency: "KRW".into(),
            }),
            metadata: [("user_id".to_owned(), "u1".to_owned())].into(),
            ..Default::default()
        }),
        timestamp: Some(prost_types::Timestamp {
            seconds: unix_now() as i64,
            nanos: 0,
        }),
        source: "test".into(),
        attempt: 1,
        ..Default::default()
    }
}

/// Posts `body` with `signature` over REST; returns the HTTP status and body.
async fn post(gw: &Receiver, body: Vec<u8>, signature: Option<String>) -> (u16, String) {
    let mut request = reqwest::Client::new()
        .post(format!("http://{}/api/v1/webhooks/payment", gw.rest))
        .header("content-type", "application/json")
        .body(body);
    if let Some(signature) = signature {
        request = request.header(SIGNATURE_HEADER, signature);
    }
    let response = request.send().await.expect("post completes");
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

fn sender(url: String, secret: WebhookSecret) -> WebhookSender {
    WebhookSender::new(DeliveryConfig {
        url: Some(url),
        secret,
        max_attempts: 2,
        initial_backoff: Duration::from_millis(10),
        attempt_timeout: Duration::from_secs(2),
    })
}

#[tokio::test]
async fn a_signed_webhook_is_applied_once() {
    let mut gw = gateway().await;
    let url = format!("http://{}/api/v1/webhooks/payment", gw.rest);
    let sent = sender(url, secret()).deliver(webhook("wh_1")).await;
    assert_eq!(sent, Delivery::Delivered { attempt: 1 });
    let Some(WebhookEvent::Payment(outcome)) = gw.events.try_recv().ok() else {
        panic!("the outcome reaches the sink")
    };
    assert_eq!(outcome.payment_intent_id, "pi_1");
    assert_eq!(outcome.reservation_id, "rsv_1");
    assert_eq!(outcome.user_id, "u1");
    assert_eq!(outcome.status, PaymentWebhookStatus::Success);
    // A replay of the same webhook within the window is acknowledged, not applied again.
    let body = canonical_body(&webhook("wh_2"));
    let signature = secret().sign(unix_now(), &body);
    let (first, _) = post(&gw, body.clone(), Some(signature.clone())).await;
    let (again, text) = post(&gw, body, Some(signature)).await;
    assert_eq!((first, again), (200, 200));
    assert!(text.contains("duplicate"), "{text}");
    assert!(gw.events.try_recv().is_ok());
    assert!(gw.events.try_recv().is_err(), "applied once");
}

#[tokio::test]
async fn forged_webhooks_are_refused_and_nothing_is_applied() {
    let mut gw = gateway().await;
    let body = canonical_body(&webhook("wh_3"));
    let signature = secret().sign(unix_now(), &body);
    let tampered = String::from_utf8(body.clone())
        .unwrap()
        .replace("rsv_1", "rsv_2")
        .into_bytes();
    let stale = secret().sign(unix_now() - 600, &body);
    let future = secret().sign(unix_now() + 600, &body);
    let other = WebhookSecret::new(vec![1u8; 32])
        .unwrap()
        .sign(unix_now(), &body);
    let cases = [
        (
            "tampered",
            tampered,
            Some(signature.clone()),
            "does not match",
        ),
        ("stale", body.clone(), Some(stale), "window"),
        ("from the future", body.clone(), Some(future), "window"),
        ("wrong secret", body.clone(), Some(other), "does not match"),
        ("unsigned", body.clone(), None, "no signature"),
        (
            "malformed",
            body.clone(),
            Some("v1=abc".to_owned()),
            "malformed",
        ),
    ];
    for (name, body, signature, says) in cases {
        let (status, text) = post(&gw, body, signature).await;
        assert_eq!(status, 401, "{name}: {text}");
        assert!(text.contains(says), "{name}: {text}");
    }
    assert!(gw.events.try_recv().is_err(), "nothing applied");
    // The payment service's sender does not retry a refusal.
    let url = format!("http://{}/api/v1/webhooks/payment", gw.rest);
    let refused = sender(url, WebhookSecret::new(vec![2u8; 32]).unwrap())
        .deliver(webhook("wh_4"))
        .await;
    assert_eq!(refused, Delivery::Refused { status: 401 });
}

async fn grpc_receive(
    grpc: SocketAddr,
    message: ReceivePaymentWebhookRequest,
    header: Option<String>,
) -> Result<ReceivePaymentWebhookResponse, tonic::Status> {
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{grpc}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut client = tonic::client::Grpc::new(channel);
    client.ready().await.unwrap();
    let mut request = tonic::Request::new(message);
    if let Some(header) = header {
        request
            .metadata_mut()
            .insert(SIGNATURE_HEADER, header.parse().unwrap());
    }
    client
        .unary(
            request,
            http::uri::PathAndQuery::from_static(RECEIVE),
            tonic_prost::ProstCodec::default(),
        )
        .await
        .map(tonic::Response::into_inner)
}

#[tokio::test]
async fn grpc_callers_sign_in_metadata_or_in_the_signature_field() {
    let mut gw = gateway().await;
    let message = webhook("wh_5");
    let signature = secret().sign(unix_now(), &canonical_body(&message));
    let accepted = grpc_receive(gw.grpc, message.clone(), Some(signature.clone()))
        .await
        .unwrap();
    assert!(accepted.accepted);
    let in_field = ReceivePaymentWebhookRequest {
        webhook_id: "wh_6".into(),
        ..message.clone()
    };
    let signed = ReceivePaymentWebhookRequest {
        signature: secret().sign(unix_now(), &canonical_body(&in_field)),
        ..in_field
    };
    assert!(grpc_receive(gw.grpc, signed, None).await.unwrap().accepted);
    // The field cannot be reused for another message.
    let forged = ReceivePaymentWebhookRequest {
        webhook_id: "wh_7".into(),
        signature,
        ..message
    };
    let err = grpc_receive(gw.grpc, forged, None).await.unwrap_err();
    assert_eq!(Code::from(err.code() as i32), Code::Unauthenticated);
    assert!(gw.events.try_recv().is_ok());
    assert!(gw.events.try_recv().is_ok());
    assert!(gw.events.try_recv().is_err());
}

#[tokio::test]
async fn the_payment_service_reports_an_approval_to_the_gateway() {
    let mut gw = gateway().await;
    let handler = traffic_tacos_payment::handler(
        SimulatorConfig::default(),
        DeliveryConfig {
            url: Some(format!("http://{}/api/v1/webhooks/payment", gw.rest)),
            secret: secret(),
            max_attempts: 3,
            initial_backoff: Duration::from_millis(20),
            attempt_timeout: Duration::from_secs(2),
        },
    );
    let server = traffic_tacos_payment::register(Server::builder(), handler)
        .build()
        .unwrap();
    let (_, payment_grpc, _stop) = serve(server).await;
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{payment_grpc}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut client = tonic::client::Grpc::new(channel);
    client.ready().await.unwrap();
    let created: pay::CreatePaymentIntentResponse = client
        .unary(
            tonic::Request::new(pay::CreatePaymentIntentRequest {
                reservation_id: "rsv_42".into(),
                amount: Some(Money {
                    amount: 5,
                    currency: "KRW".into(),
                }),
                user_id: "u42".into(),
                scenario: pay::PaymentScenario::Approve as i32,
                ..Default::default()
            }),
            http::uri::PathAndQuery::from_static("/payment.v1.PaymentService/CreatePaymentIntent"),
            tonic_prost::ProstCodec::default(),
        )
        .await
        .unwrap()
        .into_inner();
    let event = tokio::time::timeout(Duration::from_secs(5), gw.events.recv())
        .await
        .expect("the webhook arrives")
        .unwrap();
    let WebhookEvent::Payment(outcome) = event else {
        panic!("a payment outcome")
    };
    assert_eq!(outcome.payment_intent_id, created.payment_intent_id);
    assert_eq!(outcome.reservation_id, "rsv_42");
    assert_eq!(outcome.user_id, "u42");
    assert_eq!(outcome.event_type, PaymentWebhookType::Approved);
}
