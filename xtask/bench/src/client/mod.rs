//! The load generator's clients, also used by the smoke test to check answers.
//!
//! All send the same join: [`sample_request`] over gRPC, [`REST_JOIN_PATH`] with
//! [`REST_JOIN_BODY`] over REST. The hand-written clients (tonic's generated stubs, hyper's
//! connection-level HTTP/1.1 client) are the baselines of the client bench; [`generated_client`]
//! is the client Tacos generates, over any of the runtime's transports.

mod generated;
mod grpc;
mod queue;
mod rest;

pub use generated::{generated_client, generated_join, GeneratedPlan, GeneratedTransport};
pub use grpc::{connect_grpc, GrpcJoinClient};
pub use queue::{
    queue_join_body, GrpcQueueClient, QueueJoinReply, QueueJoinRequest, QUEUE_JOIN_PATH,
    QUEUE_JOIN_REST_PATH,
};
pub use rest::{RestClient, RestReply};

use crate::pb::JoinRequest;

/// The event every load request joins.
pub const EVENT_ID: &str = "evt-42";
/// The user every load request joins as.
pub const USER_ID: &str = "user-123456";
/// The seats every load request asks for.
pub const QUANTITY: u32 = 2;

/// The REST path of the join (`event_id` = [`EVENT_ID`]).
pub const REST_JOIN_PATH: &str = "/v1/events/evt-42/join";
/// The REST body of the join, in proto3 JSON.
pub const REST_JOIN_BODY: &str = r#"{"userId":"user-123456","quantity":2}"#;

/// The HS256 secret of the servers that require a bearer token (a bench value, not a secret).
pub const BENCH_JWT_SECRET: &str = "tacos-bench-hs256-secret-for-loopback-only";

/// A bearer token for `subject` signed with [`BENCH_JWT_SECRET`], valid for an hour: the value of
/// an `authorization` header.
pub fn bench_bearer(subject: &str) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    let claims = serde_json::json!({ "sub": subject, "iat": now, "exp": now + 3600 });
    let key = jsonwebtoken::EncodingKey::from_secret(BENCH_JWT_SECRET.as_bytes())
        .expect("a fixed secret is a valid HMAC key");
    let token = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &key,
    )
    .expect("HS256 signing with a fixed key cannot fail");
    format!("Bearer {token}")
}

/// The gRPC request of the join.
pub fn sample_request() -> JoinRequest {
    JoinRequest {
        event_id: EVENT_ID.to_owned(),
        user_id: USER_ID.to_owned(),
        quantity: QUANTITY,
    }
}

/// A client that could not reach or talk to a server.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The URL or address given is not usable.
    #[error("invalid server address `{0}`")]
    Address(String),
    /// The TCP connection failed.
    #[error("cannot connect: {0}")]
    Connect(#[from] std::io::Error),
    /// The gRPC channel failed to connect.
    #[error("cannot open the grpc channel: {0}")]
    Channel(#[from] tonic::transport::Error),
    /// The HTTP/1.1 exchange failed.
    #[error("http exchange failed: {0}")]
    Http(#[from] hyper::Error),
    /// A transport of the generated client could not be built.
    #[error("cannot build the client transport: {0}")]
    Transport(String),
}
