//! The hand-written gRPC baseline: what a tonic user writes for `bench.v1.Gateway/Join`.

use std::io;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;
use tokio_stream::StreamExt;
use tonic::{Request, Response, Status};

use crate::pb::gateway_server::{Gateway, GatewayServer};
use crate::pb::{JoinReply, JoinRequest};
use crate::work::Queue;

/// The tonic service: the shared queue behind tonic's generated `Gateway` trait.
#[derive(Debug, Clone)]
pub struct TonicGateway {
    queue: Arc<Queue>,
}

impl TonicGateway {
    /// A service joining users to `queue`.
    pub fn new(queue: Arc<Queue>) -> Self {
        Self { queue }
    }
}

#[tonic::async_trait]
impl Gateway for TonicGateway {
    async fn join(&self, request: Request<JoinRequest>) -> Result<Response<JoinReply>, Status> {
        let request = request.into_inner();
        match self
            .queue
            .join(&request.event_id, &request.user_id, request.quantity)
        {
            Ok(joined) => Ok(Response::new(JoinReply {
                ticket: joined.ticket,
                position: joined.position,
            })),
            Err(rejected) => Err(Status::invalid_argument(rejected.to_string())),
        }
    }
}

/// Serves the service on `listener` with tonic's own server, as tonic's examples do.
pub(super) async fn serve(listener: TcpListener, queue: Arc<Queue>) -> io::Result<()> {
    let incoming = TcpListenerStream::new(listener).map(|accepted| {
        // Small unary replies must not wait for Nagle.
        accepted.inspect(|stream| {
            let _ = stream.set_nodelay(true);
        })
    });
    tonic::transport::Server::builder()
        .add_service(GatewayServer::new(TonicGateway::new(queue)))
        .serve_with_incoming(incoming)
        .await
        .map_err(io::Error::other)
}
