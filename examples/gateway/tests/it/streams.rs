//! `WebSocketService` over gRPC streaming, Server-Sent Events and WebSocket.

use std::time::Duration;

use futures::StreamExt as _;
use reqwest::Method;
use tacos_runtime::Code;
use traffic_tacos_contracts::gateway::v1::*;
use traffic_tacos_contracts::reservation::v1::ReservationStatus;

use crate::gateway::admitted;
use crate::queue::join_both;
use crate::support::{json, same, Gateway};

const QUEUE_UPDATES: &str = "/gateway.v1.WebSocketService/StreamQueueUpdates";
const RESERVATION_UPDATES: &str = "/gateway.v1.WebSocketService/StreamReservationUpdates";
const PAYMENT_UPDATES: &str = "/gateway.v1.WebSocketService/StreamPaymentUpdates";
const SEND: &str = "/gateway.v1.WebSocketService/SendMessage";
const LEAVE: &str = "/gateway.v1.QueueService/LeaveQueue";

async fn next<T>(stream: &mut tonic::codec::Streaming<T>) -> T {
    tokio::time::timeout(Duration::from_secs(5), stream.next())
        .await
        .expect("an update in time")
        .expect("the stream stays open")
        .expect("an update, not an error")
}

fn strip_queue(mut frame: StreamQueueUpdatesResponse) -> StreamQueueUpdatesResponse {
    assert!(frame.timestamp.take().is_some());
    if let Some(update) = &mut frame.queue_update {
        update.expires_at = None;
    }
    frame
}

#[tokio::test]
async fn queue_updates_stream_over_grpc_and_sse() {
    let gw = Gateway::start().await;
    let first = join_both(&gw, "concert-1", "alice").await;
    let second = join_both(&gw, "concert-1", "bob").await;
    let request = StreamQueueUpdatesRequest {
        waiting_token: second.waiting_token.clone(),
        session_id: String::new(),
        event_id: "concert-1".into(),
    };
    let mut grpc = gw
        .grpc_stream::<_, StreamQueueUpdatesResponse>(QUEUE_UPDATES, request)
        .await
        .expect("stream opens");
    let grpc_first = strip_queue(next(&mut grpc).await);
    let path = format!(
        "/api/v1/queue/updates?waiting_token={}&event_id=concert-1",
        second.waiting_token
    );
    let sse_first = gw
        .sse::<StreamQueueUpdatesResponse>(&path, 1)
        .await
        .expect("sse opens")
        .remove(0);
    assert_eq!(grpc_first, strip_queue(sse_first));
    let update = grpc_first.queue_update.unwrap();
    assert_eq!(grpc_first.r#type, EventType::QueueUpdate as i32);
    assert_eq!(update.position, 2);

    // Alice leaves: bob moves up to the head, live.
    let _: LeaveQueueResponse = gw
        .grpc(
            LEAVE,
            LeaveQueueRequest {
                waiting_token: first.waiting_token.clone(),
                reason: String::new(),
            },
        )
        .await
        .unwrap();
    let mut moved = None;
    for _ in 0..5 {
        let frame = next(&mut grpc).await;
        let update = frame.queue_update.unwrap();
        if update.position == 1 {
            moved = Some(update);
            break;
        }
    }
    let moved = moved.expect("bob reaches the head");
    assert!(moved.admission_ready);

    // Unknown tokens are refused before the stream starts, on both protocols alike.
    let bad = StreamQueueUpdatesRequest {
        waiting_token: "garbage".into(),
        ..Default::default()
    };
    let grpc_err = gw
        .grpc_stream::<_, StreamQueueUpdatesResponse>(QUEUE_UPDATES, bad)
        .await
        .map(|_| ());
    let sse_err = gw
        .sse::<StreamQueueUpdatesResponse>("/api/v1/queue/updates?waiting_token=garbage", 1)
        .await
        .map(|_| ());
    assert_eq!(
        same(grpc_err, sse_err).unwrap_err().code,
        Code::InvalidArgument
    );
    gw.stop().await;
}

/// The next text frame of a WebSocket, or its close code once it closes.
async fn next_frame(
    socket: &mut tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>,
) -> Result<String, u16> {
    use tokio_tungstenite::tungstenite::Message;
    loop {
        let message = tokio::time::timeout(Duration::from_secs(5), socket.next())
            .await
            .expect("a frame in time")
            .expect("the socket stays open")
            .expect("a frame");
        match message {
            Message::Text(text) => return Ok(text.to_string()),
            Message::Close(frame) => return Err(frame.map_or(0, |f| u16::from(f.code))),
            _ => {}
        }
    }
}

#[tokio::test]
async fn queue_updates_stream_over_websocket() {
    let gw = Gateway::start().await;
    let first = join_both(&gw, "concert-ws", "alice").await;
    let second = join_both(&gw, "concert-ws", "bob").await;
    let open = |path: String| {
        let rest = gw.rest;
        async move {
            let tcp = tokio::net::TcpStream::connect(rest).await.unwrap();
            let url = format!("ws://{rest}{path}");
            tokio_tungstenite::client_async(url, tcp)
                .await
                .expect("the handshake succeeds")
                .0
        }
    };
    let mut socket = open(format!(
        "/api/v1/queue/updates?waiting_token={}&event_id=concert-ws",
        second.waiting_token
    ))
    .await;
    let frame: StreamQueueUpdatesResponse =
        serde_json::from_str(&next_frame(&mut socket).await.unwrap()).unwrap();
    assert_eq!(frame.queue_update.unwrap().position, 2);

    // Alice leaves: bob's place changes live on the socket.
    let _: LeaveQueueResponse = gw
        .grpc(
            LEAVE,
            LeaveQueueRequest {
                waiting_token: first.waiting_token.clone(),
                reason: String::new(),
            },
        )
        .await
        .unwrap();
    let mut moved = false;
    for _ in 0..5 {
        let frame: StreamQueueUpdatesResponse =
            serde_json::from_str(&next_frame(&mut socket).await.unwrap()).unwrap();
        if frame.queue_update.is_some_and(|u| u.position == 1) {
            moved = true;
            break;
        }
    }
    assert!(moved, "bob reaches the head");

    // An unknown token: the error frame, then close code 4000 + INVALID_ARGUMENT.
    let mut socket = open("/api/v1/queue/updates?waiting_token=garbage".to_owned()).await;
    let error: serde_json::Value =
        serde_json::from_str(&next_frame(&mut socket).await.unwrap()).unwrap();
    assert_eq!(error["error"]["code"], 3);
    assert_eq!(next_frame(&mut socket).await, Err(4003));
    gw.stop().await;
}

#[tokio::test]
async fn reservation_payment_updates_and_messages_reach_both_protocols() {
    let gw = Gateway::start().await;
    let token = admitted(&gw, "concert-3", "carol").await;
    let mut grpc_reservations = gw
        .grpc_stream::<_, StreamReservationUpdatesResponse>(
            RESERVATION_UPDATES,
            StreamReservationUpdatesRequest {
                user_id: "carol".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let mut grpc_payments = gw
        .grpc_stream::<_, StreamPaymentUpdatesResponse>(
            PAYMENT_UPDATES,
            StreamPaymentUpdatesRequest {
                user_id: "carol".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    // The SSE readers run alongside; they collect what the actions below cause.
    let sse_reservations = {
        let gw_rest = gw.rest;
        tokio::spawn(async move {
            sse_at::<StreamReservationUpdatesResponse>(
                gw_rest,
                "/api/v1/reservations:stream?user_id=carol",
                3,
            )
            .await
        })
    };
    let sse_payments = {
        let gw_rest = gw.rest;
        tokio::spawn(async move {
            sse_at::<StreamPaymentUpdatesResponse>(
                gw_rest,
                "/api/v1/payment/updates?user_id=carol",
                2,
            )
            .await
        })
    };
    // Give the SSE subscriptions a moment to open before anything happens.
    wait_until_listening().await;

    let request = CreateReservationRequest {
        event_id: "concert-3".into(),
        quantity: 1,
        user_id: "carol".into(),
        reservation_token: token,
        idempotency_key: "k".into(),
        ..Default::default()
    };
    let created: CreateReservationResponse = gw
        .rest(Method::POST, "/api/v1/reservations", json(&request))
        .await
        .unwrap();
    let intent_request = CreatePaymentIntentRequest {
        reservation_id: created.reservation_id.clone(),
        user_id: "carol".into(),
        amount: created.total_amount.clone(),
        scenario: traffic_tacos_contracts::payment::v1::PaymentScenario::Delay as i32,
        idempotency_key: "p".into(),
        ..Default::default()
    };
    let intent: CreatePaymentIntentResponse = gw
        .rest(
            Method::POST,
            "/api/v1/payment/intent",
            json(&intent_request),
        )
        .await
        .unwrap();

    let grpc_created = next(&mut grpc_reservations).await;
    let update = grpc_created.reservation_update.clone().unwrap();
    assert_eq!(update.reservation_id, created.reservation_id);
    assert_eq!(update.new_status, ReservationStatus::Hold as i32);
    assert_eq!(update.event_type, ReservationEventType::Created as i32);

    // The delay scenario: created, processing, then completed by itself.
    let mut kinds = Vec::new();
    for _ in 0..3 {
        let frame = next(&mut grpc_payments).await;
        let update = frame.payment_update.unwrap();
        assert_eq!(update.payment_intent_id, intent.payment_intent_id);
        kinds.push(update.event_type);
    }
    assert_eq!(
        kinds,
        [
            PaymentEventType::Created as i32,
            PaymentEventType::Processing as i32,
            PaymentEventType::Completed as i32
        ]
    );
    // The approval's webhook confirmed the reservation.
    let confirmed = next(&mut grpc_reservations).await;
    let update = confirmed.reservation_update.clone().unwrap();
    assert_eq!(update.reservation_id, created.reservation_id);
    assert_eq!(update.event_type, ReservationEventType::Confirmed as i32);
    assert_eq!(update.new_status, ReservationStatus::Confirmed as i32);

    // A message reaches the open streams as a MESSAGE frame carrying its id.
    let message = SendMessageRequest {
        target_user_id: "carol".into(),
        title: "Hurry".into(),
        content: "Your hold expires soon".into(),
        ..Default::default()
    };
    let sent: SendMessageResponse = gw.grpc(SEND, message.clone()).await.unwrap();
    assert!(sent.delivered);
    let frame = next(&mut grpc_reservations).await;
    assert_eq!(frame.r#type, EventType::Message as i32);
    assert_eq!(frame.correlation_id, sent.message_id);

    let sse_reservations = sse_reservations.await.unwrap();
    let sse_payments = sse_payments.await.unwrap();
    let strip = |mut f: StreamReservationUpdatesResponse| {
        f.timestamp = None;
        if let Some(u) = &mut f.reservation_update {
            u.hold_expires_at = None;
        }
        f
    };
    assert_eq!(strip(sse_reservations[0].clone()), strip(grpc_created));
    assert_eq!(strip(sse_reservations[1].clone()), strip(confirmed));
    assert_eq!(sse_reservations[2].r#type, EventType::Message as i32);
    assert_eq!(sse_payments.len(), 2);
    assert_eq!(
        sse_payments[0].payment_update.as_ref().unwrap().event_type,
        PaymentEventType::Created as i32
    );

    // Over REST as well; nobody listens for dave, so nothing is delivered.
    let to_dave = SendMessageRequest {
        target_user_id: "dave".into(),
        ..message
    };
    let grpc: Result<SendMessageResponse, _> = gw.grpc(SEND, to_dave.clone()).await;
    let rest: Result<SendMessageResponse, _> = gw
        .rest(Method::POST, "/api/v1/messages", json(&to_dave))
        .await;
    let (grpc, rest) = (grpc.unwrap(), rest.unwrap());
    assert!(!grpc.delivered && !rest.delivered);
    assert_ne!(grpc.message_id, rest.message_id);
    let empty = SendMessageRequest::default();
    let grpc: Result<SendMessageResponse, _> = gw.grpc(SEND, empty.clone()).await;
    let rest = gw
        .rest(Method::POST, "/api/v1/messages", json(&empty))
        .await;
    assert_eq!(same(grpc, rest).unwrap_err().code, Code::InvalidArgument);
    gw.stop().await;
}

/// Reads `limit` SSE events from a fresh client (so the test can run it on a task).
async fn sse_at<T: serde::de::DeserializeOwned>(
    rest: std::net::SocketAddr,
    path: &str,
    limit: usize,
) -> Vec<T> {
    let client = reqwest::Client::new();
    let response = client
        .get(format!("http://{rest}{path}"))
        .header("accept", "text/event-stream")
        .bearer_auth(crate::support::operator_token())
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());
    let mut body = response.bytes_stream();
    let mut buffer = String::new();
    let mut out = Vec::new();
    while out.len() < limit {
        let chunk = tokio::time::timeout(Duration::from_secs(5), body.next())
            .await
            .expect("an SSE event in time")
            .expect("open")
            .unwrap();
        buffer.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buffer.find("\n\n") {
            let event: String = buffer.drain(..end + 2).collect();
            for line in event.lines() {
                if let Some(data) = line.strip_prefix("data:") {
                    out.push(tacos_runtime::json::from_slice(data.trim().as_bytes()).unwrap());
                }
            }
        }
    }
    out
}

/// Gives the SSE requests, sent from spawned tasks, time to be served and subscribed.
async fn wait_until_listening() {
    tokio::time::sleep(Duration::from_millis(300)).await;
}
