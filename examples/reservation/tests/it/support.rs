//! The reservation service (with a payment simulator beside it) on free loopback ports.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tacos_runtime::server::{Listeners, Server};
use tacos_runtime::status::http::http_status;
use tacos_runtime::waiting_room::{AdmissionStatus, EventConfig, Visitor, WaitingRoom};
use tacos_runtime::{Code, Status};
use tokio::sync::oneshot;
use traffic_tacos_payment::{DeliveryConfig, PaymentHandler, SimulatorConfig, WebhookSecret};
use traffic_tacos_reservation::{ReservationStore, StoreConfig, ViaPaymentService};

/// A failed call as either protocol reports it: code, message and `ErrorInfo` reason.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub code: Code,
    pub message: String,
    pub reason: String,
}

pub type Outcome<T> = Result<T, Failure>;

/// Admission settings that admit everyone at once.
pub fn generous() -> EventConfig {
    EventConfig {
        bucket_capacity: 1000,
        refill_per_second: 1000.0,
        admission_window: 1000,
        ..EventConfig::default()
    }
}

/// One section of `seats` seats, holds of `hold`.
pub fn store_config(seats: u32, hold: Duration) -> StoreConfig {
    StoreConfig {
        sections: vec!["A".into()],
        seats_per_section: seats,
        hold,
        max_hold: hold * 3,
        ..StoreConfig::default()
    }
}

/// The reservation and inventory services plus the payment service, on one test server.
pub struct Service {
    pub rest: SocketAddr,
    pub channel: tonic::transport::Channel,
    pub http: reqwest::Client,
    pub room: Arc<WaitingRoom>,
    pub store: ReservationStore,
    shutdown: Option<oneshot::Sender<()>>,
}

impl Service {
    pub async fn start(config: StoreConfig) -> Self {
        Self::start_with(
            config,
            Arc::new(
                WaitingRoom::new(
                    tacos_runtime::waiting_room::MemoryBackend::new(),
                    generous(),
                )
                .unwrap(),
            ),
        )
        .await
    }

    pub async fn start_with(config: StoreConfig, room: Arc<WaitingRoom>) -> Self {
        let payments: Arc<PaymentHandler> = traffic_tacos_payment::handler(
            SimulatorConfig {
                delay: Duration::from_millis(100),
                ..SimulatorConfig::default()
            },
            DeliveryConfig {
                url: None,
                secret: WebhookSecret::development(),
                max_attempts: 1,
                initial_backoff: Duration::from_millis(10),
                attempt_timeout: Duration::from_secs(1),
            },
        );
        let store = ReservationStore::new(config);
        let builder = traffic_tacos_reservation::register(
            Server::builder(),
            &store,
            room.clone(),
            ViaPaymentService(payments.clone()),
        );
        let server = traffic_tacos_payment::register(builder, payments)
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
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap();
        Self {
            rest,
            channel,
            http,
            room,
            store,
            shutdown: Some(tx),
        }
    }

    /// Joins `event`'s queue as `user`, gets admitted, returns the reservation token.
    pub async fn admitted(&self, event: &str, user: &str) -> String {
        let ticket = self
            .room
            .join(event, &Visitor::User(user.to_owned()))
            .await
            .expect("join");
        let admission = self
            .room
            .request_admission(&ticket.waiting_token, event, user)
            .await
            .expect("admission");
        assert_eq!(admission.status, AdmissionStatus::Granted, "{admission:?}");
        admission.reservation_token
    }

    /// A unary call over gRPC.
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

    /// A REST call with a JSON body; checks an error's HTTP status matches its code.
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
            return Ok(tacos_runtime::json::from_slice(&bytes).unwrap_or_else(|e| {
                panic!("response decodes: {e}: {}", String::from_utf8_lossy(&bytes))
            }));
        }
        let error = Status::from_json(&bytes).expect("error body is a status");
        assert_eq!(status.as_u16(), http_status(error.code()).as_u16());
        Err(failure(&error))
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

impl Drop for Service {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// JSON body of a message.
pub fn json<T: serde::Serialize>(message: &T) -> Option<Vec<u8>> {
    Some(tacos_runtime::json::to_vec(message).expect("message encodes"))
}
