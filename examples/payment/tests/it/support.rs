//! The payment service on free loopback ports, and a local webhook receiver.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tacos_runtime::server::{Listeners, Server};
use tacos_runtime::status::http::http_status;
use tacos_runtime::{Code, Status};
use tokio::sync::{mpsc, oneshot};
use traffic_tacos_payment::{DeliveryConfig, SimulatorConfig, WebhookSecret};

/// A failed call: code, message, `ErrorInfo` reason.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub code: Code,
    pub message: String,
    pub reason: String,
}

pub type Outcome<T> = Result<T, Failure>;

/// The test secret (32 bytes).
pub fn secret() -> WebhookSecret {
    WebhookSecret::new(b"0123456789abcdef0123456789abcdef".to_vec()).unwrap()
}

/// The payment service; stopped when dropped.
pub struct Payments {
    pub rest: SocketAddr,
    pub channel: tonic::transport::Channel,
    pub http: reqwest::Client,
    shutdown: Option<oneshot::Sender<()>>,
}

impl Payments {
    /// Delivering webhooks to `webhook_url`, if any.
    pub async fn start(webhook_url: Option<String>) -> Self {
        Self::start_with_ttl(webhook_url, SimulatorConfig::default().intent_ttl).await
    }

    /// Like [`Payments::start`], with intents open for `intent_ttl`.
    pub async fn start_with_ttl(webhook_url: Option<String>, intent_ttl: Duration) -> Self {
        let handler = traffic_tacos_payment::handler(
            SimulatorConfig {
                delay: Duration::from_millis(200),
                intent_ttl,
                ..SimulatorConfig::default()
            },
            DeliveryConfig {
                url: webhook_url,
                secret: secret(),
                max_attempts: 4,
                initial_backoff: Duration::from_millis(20),
                attempt_timeout: Duration::from_secs(2),
            },
        );
        let server = traffic_tacos_payment::register(Server::builder(), handler)
            .build()
            .expect("server builds");
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
        let channel = tonic::transport::Endpoint::from_shared(format!("http://{grpc}"))
            .unwrap()
            .connect()
            .await
            .expect("grpc connects");
        Self {
            rest,
            channel,
            http: reqwest::Client::new(),
            shutdown: Some(tx),
        }
    }

    pub async fn grpc<Req, Resp>(&self, method: &'static str, request: Req) -> Outcome<Resp>
    where
        Req: prost::Message + Send + Sync + 'static,
        Resp: prost::Message + Default + Send + Sync + 'static,
    {
        let mut client = tonic::client::Grpc::new(self.channel.clone());
        client.ready().await.expect("channel ready");
        client
            .unary(
                tonic::Request::new(request),
                http::uri::PathAndQuery::from_static(method),
                tonic_prost::ProstCodec::<Req, Resp>::default(),
            )
            .await
            .map(tonic::Response::into_inner)
            .map_err(|s| failure(&Status::from(s)))
    }

    pub async fn rest<Resp: serde::de::DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> Outcome<Resp> {
        let mut request = self
            .http
            .request(method, format!("http://{}{path}", self.rest));
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body);
        }
        let response = request.send().await.expect("rest call completes");
        let status = response.status();
        let bytes = response.bytes().await.expect("rest body");
        if status.is_success() {
            return Ok(tacos_runtime::json::from_slice(&bytes).expect("response decodes"));
        }
        let error = Status::from_json(&bytes).expect("error body is a status");
        assert_eq!(status.as_u16(), http_status(error.code()).as_u16());
        Err(failure(&error))
    }
}

impl Drop for Payments {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

fn failure(status: &Status) -> Failure {
    Failure {
        code: status.code(),
        message: status.message().to_owned(),
        reason: status
            .details()
            .error_info
            .as_ref()
            .map(|i| i.reason.clone())
            .unwrap_or_default(),
    }
}

/// JSON body of a message.
pub fn json<T: serde::Serialize>(message: &T) -> Option<Vec<u8>> {
    Some(tacos_runtime::json::to_vec(message).expect("message encodes"))
}

/// One POST the receiver got.
#[derive(Debug)]
pub struct Received {
    pub signature: String,
    pub body: bytes::Bytes,
}

/// A webhook receiver on a loopback port that answers 503 to the first `failures` posts.
pub struct Receiver {
    pub url: String,
    pub posts: mpsc::UnboundedReceiver<Received>,
}

pub async fn receiver(failures: u32) -> Receiver {
    let (tx, posts) = mpsc::unbounded_channel();
    let seen = Arc::new(AtomicU32::new(0));
    let app = axum::Router::new().route(
        "/api/v1/webhooks/payment",
        axum::routing::post(move |headers: http::HeaderMap, body: bytes::Bytes| {
            let tx = tx.clone();
            let seen = seen.clone();
            async move {
                let signature = headers
                    .get("x-tacos-signature")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                let _ = tx.send(Received { signature, body });
                if seen.fetch_add(1, Ordering::SeqCst) < failures {
                    http::StatusCode::SERVICE_UNAVAILABLE
                } else {
                    http::StatusCode::OK
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, app).await.expect("receiver runs");
    });
    Receiver {
        url: format!("http://{addr}/api/v1/webhooks/payment"),
        posts,
    }
}

impl Receiver {
    /// The next post, within 5 s.
    pub async fn next(&mut self) -> Received {
        tokio::time::timeout(Duration::from_secs(5), self.posts.recv())
            .await
            .expect("a webhook in time")
            .expect("receiver open")
    }
}
