//! The gateway on free loopback ports, in process, and clients for both protocols.

use std::net::SocketAddr;
use std::time::Duration;

use futures::StreamExt as _;
use tacos_runtime::server::Listeners;
use tacos_runtime::status::http::http_status;
use tacos_runtime::{Code, Status};
use tokio::sync::oneshot;
use traffic_tacos_gateway::config::GatewayConfig;

/// A failed call as either protocol reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub code: Code,
    pub message: String,
}

pub type Outcome<T> = Result<T, Failure>;

/// An operator token (signed with the development secret the test configuration uses): it may
/// act for any user, so tests can call for many buyers.
pub fn operator_token() -> String {
    traffic_tacos_gateway::token::mint(
        traffic_tacos_gateway::token::DEVELOPMENT_SECRET.as_bytes(),
        "test-operator",
        &["admin".to_owned()],
        Duration::from_secs(600),
    )
    .expect("token")
}

/// A token for one buyer.
pub fn buyer_token(user: &str) -> String {
    traffic_tacos_gateway::token::mint(
        traffic_tacos_gateway::token::DEVELOPMENT_SECRET.as_bytes(),
        user,
        &[],
        Duration::from_secs(600),
    )
    .expect("token")
}

/// The gateway serving REST and gRPC on two loopback ports; stopped when dropped.
pub struct Gateway {
    /// The bearer token every call carries (`None`: anonymous).
    pub token: Option<String>,
    pub rest: SocketAddr,
    pub channel: tonic::transport::Channel,
    pub http: reqwest::Client,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

/// A small, fast configuration: one section of `seats` seats, generous admission.
pub fn test_config(seats: u32) -> GatewayConfig {
    let mut config = GatewayConfig::default();
    config.inventory.sections = vec!["A".into()];
    config.inventory.seats_per_section = seats;
    config.inventory.payment_delay = Duration::from_millis(200);
    config.admission.bucket_capacity = 1000;
    config.admission.admission_window = 1000;
    config.admission.refill_per_second = 1000.0;
    config.server.shutdown_timeout = Duration::from_secs(2);
    config
}

impl Gateway {
    pub async fn start() -> Self {
        Self::start_with(test_config(50)).await
    }

    pub async fn start_with(mut config: GatewayConfig) -> Self {
        let rest_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let grpc_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let rest = rest_listener.local_addr().unwrap();
        let grpc = grpc_listener.local_addr().unwrap();
        // The in-process payment simulator reports to this gateway's REST port.
        config.payment_webhook_url = Some(format!("http://{rest}/api/v1/webhooks/payment"));
        let room = traffic_tacos_gateway::build_waiting_room(&config).expect("waiting room");
        let server = traffic_tacos_gateway::build_server_with(
            &config,
            room,
            traffic_tacos_payment::WebhookSecret::development(),
            None,
        )
        .expect("server builds");
        let (tx, rx) = oneshot::channel();
        let task = tokio::spawn(async move {
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
            token: Some(operator_token()),
            rest,
            channel,
            http,
            shutdown: Some(tx),
            task: Some(task),
        }
    }

    /// Stops gracefully and waits for the drain.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            tokio::time::timeout(Duration::from_secs(10), task)
                .await
                .expect("gateway drains in time")
                .expect("gateway stops cleanly");
        }
    }

    /// The same gateway, calling with `token` (`None`: anonymous).
    pub fn with_token(&self, token: Option<String>) -> Gateway {
        Gateway {
            token,
            rest: self.rest,
            channel: self.channel.clone(),
            http: self.http.clone(),
            shutdown: None,
            task: None,
        }
    }

    fn authorized<T>(&self, mut request: tonic::Request<T>) -> tonic::Request<T> {
        if let Some(token) = &self.token {
            request.metadata_mut().insert(
                "authorization",
                format!("Bearer {token}").parse().expect("ascii token"),
            );
        }
        request
    }

    /// A unary call over gRPC.
    pub async fn grpc<Req, Resp>(&self, method: &'static str, request: Req) -> Outcome<Resp>
    where
        Req: prost::Message + Send + Sync + 'static,
        Resp: prost::Message + Default + Send + Sync + 'static,
    {
        let mut client = tonic::client::Grpc::new(self.channel.clone());
        client.ready().await.expect("channel ready");
        let path = http::uri::PathAndQuery::from_static(method);
        client
            .unary(
                self.authorized(tonic::Request::new(request)),
                path,
                tonic_prost::ProstCodec::<Req, Resp>::default(),
            )
            .await
            .map(tonic::Response::into_inner)
            .map_err(|s| Failure {
                code: Code::from(s.code() as i32),
                message: s.message().to_owned(),
            })
    }

    /// A server stream over gRPC.
    pub async fn grpc_stream<Req, Resp>(
        &self,
        method: &'static str,
        request: Req,
    ) -> Outcome<tonic::codec::Streaming<Resp>>
    where
        Req: prost::Message + Send + Sync + 'static,
        Resp: prost::Message + Default + Send + Sync + 'static,
    {
        let mut client = tonic::client::Grpc::new(self.channel.clone());
        client.ready().await.expect("channel ready");
        let path = http::uri::PathAndQuery::from_static(method);
        client
            .server_streaming(
                self.authorized(tonic::Request::new(request)),
                path,
                tonic_prost::ProstCodec::<Req, Resp>::default(),
            )
            .await
            .map(tonic::Response::into_inner)
            .map_err(|s| Failure {
                code: Code::from(s.code() as i32),
                message: s.message().to_owned(),
            })
    }

    /// A REST call; `body` is sent as JSON when given. Checks that an error's HTTP status is
    /// the one its gRPC code maps to.
    pub async fn rest<Resp>(
        &self,
        method: reqwest::Method,
        path_and_query: &str,
        body: Option<Vec<u8>>,
    ) -> Outcome<Resp>
    where
        Resp: serde::de::DeserializeOwned,
    {
        let url = format!("http://{}{}", self.rest, path_and_query);
        let mut request = self.http.request(method, url);
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
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
        let error = Status::from_json(&bytes).unwrap_or_else(|| {
            panic!(
                "error body is a status: {status} {}",
                String::from_utf8_lossy(&bytes)
            )
        });
        assert_eq!(
            status.as_u16(),
            http_status(error.code()).as_u16(),
            "HTTP status matches the code {:?}",
            error.code()
        );
        Err(Failure {
            code: error.code(),
            message: error.message().to_owned(),
        })
    }

    /// The first `limit` SSE `data:` payloads of a REST stream, decoded.
    pub async fn sse<Resp>(&self, path_and_query: &str, limit: usize) -> Outcome<Vec<Resp>>
    where
        Resp: serde::de::DeserializeOwned,
    {
        let url = format!("http://{}{}", self.rest, path_and_query);
        let mut request = self.http.get(url).header("accept", "text/event-stream");
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("sse call completes");
        if !response.status().is_success() {
            let status = response.status();
            let bytes = response.bytes().await.unwrap();
            let error = Status::from_json(&bytes).expect("error body");
            assert_eq!(status.as_u16(), http_status(error.code()).as_u16());
            return Err(Failure {
                code: error.code(),
                message: error.message().to_owned(),
            });
        }
        let mut body = response.bytes_stream();
        let mut buffer = String::new();
        let mut out = Vec::new();
        while out.len() < limit {
            let chunk = tokio::time::timeout(Duration::from_secs(5), body.next())
                .await
                .expect("an SSE event in time")
                .expect("the stream stays open")
                .expect("chunk");
            buffer.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = buffer.find("\n\n") {
                let event: String = buffer.drain(..end + 2).collect();
                for line in event.lines() {
                    if let Some(data) = line.strip_prefix("data:") {
                        out.push(
                            tacos_runtime::json::from_slice(data.trim().as_bytes())
                                .expect("SSE data decodes"),
                        );
                    }
                }
            }
        }
        out.truncate(limit);
        Ok(out)
    }
}

impl Drop for Gateway {
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

/// Asserts both protocols answered the same, and returns the answer.
pub fn same<T: std::fmt::Debug + PartialEq>(grpc: Outcome<T>, rest: Outcome<T>) -> Outcome<T> {
    assert_eq!(grpc, rest, "gRPC and REST answers differ");
    grpc
}
