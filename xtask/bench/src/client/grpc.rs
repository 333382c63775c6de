//! gRPC over h2c with tonic's own client and channel.

use tonic::transport::{Channel, Endpoint};
use tonic::Status;

use super::ClientError;
use crate::pb::gateway_client::GatewayClient;
use crate::pb::{JoinReply, JoinRequest};

/// Opens one HTTP/2 connection to `url` (`http://host:port`).
pub async fn connect_grpc(url: &str) -> Result<Channel, ClientError> {
    let endpoint =
        Endpoint::from_shared(url.to_owned()).map_err(|_| ClientError::Address(url.to_owned()))?;
    Ok(endpoint.tcp_nodelay(true).connect().await?)
}

/// Calls `bench.v1.Gateway/Join` over a channel; clones share the channel's connection.
#[derive(Debug, Clone)]
pub struct GrpcJoinClient {
    client: GatewayClient<Channel>,
}

impl GrpcJoinClient {
    /// A client over `channel`.
    pub fn new(channel: Channel) -> Self {
        Self {
            client: GatewayClient::new(channel),
        }
    }

    /// One join; any status other than OK is an error.
    pub async fn join(&mut self, request: JoinRequest) -> Result<JoinReply, Status> {
        self.join_request(tonic::Request::new(request)).await
    }

    /// One join with the request's metadata (an `authorization` header, say).
    pub async fn join_request(
        &mut self,
        request: tonic::Request<JoinRequest>,
    ) -> Result<JoinReply, Status> {
        self.client
            .join(request)
            .await
            .map(tonic::Response::into_inner)
    }
}
