//! The Traffic Tacos gateway's `gateway.v1.QueueService/JoinQueue`, called the way a tonic user
//! calls a service without stubs: `tonic::client::Grpc` over two prost messages declared here
//! with only the fields the bench sends and reads (unknown fields are skipped on decode).

use tonic::codegen::http::uri::PathAndQuery;
use tonic::transport::Channel;
use tonic::{Request, Status};

/// The gRPC path of the call.
pub const QUEUE_JOIN_PATH: &str = "/gateway.v1.QueueService/JoinQueue";
/// The REST path of the call (its `google.api.http` binding; the body is the whole request).
pub const QUEUE_JOIN_REST_PATH: &str = "/api/v1/queue/join";

/// `gateway.v1.JoinQueueRequest`, without the fields the bench leaves empty.
#[derive(Clone, PartialEq, prost::Message)]
pub struct QueueJoinRequest {
    /// The event on sale.
    #[prost(string, tag = "1")]
    pub event_id: String,
    /// The buyer.
    #[prost(string, tag = "2")]
    pub user_id: String,
}

/// `gateway.v1.JoinQueueResponse`, reduced to the waiting token.
#[derive(Clone, PartialEq, prost::Message)]
pub struct QueueJoinReply {
    /// The token naming the place in the waiting room.
    #[prost(string, tag = "1")]
    pub waiting_token: String,
}

/// Calls `JoinQueue` over a channel; clones share the channel's connection.
#[derive(Debug, Clone)]
pub struct GrpcQueueClient {
    grpc: tonic::client::Grpc<Channel>,
}

impl GrpcQueueClient {
    /// A client over `channel`.
    pub fn new(channel: Channel) -> Self {
        Self {
            grpc: tonic::client::Grpc::new(channel),
        }
    }

    /// One join; any status other than OK, or a reply without a token, is an error.
    pub async fn join(
        &mut self,
        request: Request<QueueJoinRequest>,
    ) -> Result<QueueJoinReply, Status> {
        self.grpc
            .ready()
            .await
            .map_err(|e| Status::unavailable(e.to_string()))?;
        let codec = tonic_prost::ProstCodec::<QueueJoinRequest, QueueJoinReply>::default();
        let reply = self
            .grpc
            .unary(request, PathAndQuery::from_static(QUEUE_JOIN_PATH), codec)
            .await?
            .into_inner();
        if reply.waiting_token.is_empty() {
            return Err(Status::internal("the reply carries no waiting token"));
        }
        Ok(reply)
    }
}

/// The REST body of a join of `event_id` by `user_id`, in proto3 JSON.
pub fn queue_join_body(event_id: &str, user_id: &str) -> String {
    serde_json::json!({ "eventId": event_id, "userId": user_id }).to_string()
}
