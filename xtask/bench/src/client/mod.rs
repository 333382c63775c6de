//! The load generator's clients, also used by the smoke test to check answers.
//!
//! Both send the same join: [`sample_request`] over gRPC, [`REST_JOIN_PATH`] with
//! [`REST_JOIN_BODY`] over REST.

mod grpc;
mod rest;

pub use grpc::{connect_grpc, GrpcJoinClient};
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
}
