//! The generated surfaces: the handler is written once against the trait Tacos generates from
//! `proto/bench.proto`, and the runtime's server builder serves it over gRPC and REST.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use tacos_runtime::config::RuntimeLayout;
use tacos_runtime::server::Bind;
use tacos_runtime::{Request, Response, Server, Status};

use crate::generated::bench::v1::{gateway_service, Gateway, JoinReply, JoinRequest};
use crate::layout::Layout;
use crate::work::Queue;
use crate::Protocol;

/// The one handler behind both generated surfaces.
#[derive(Debug, Clone)]
pub struct GeneratedGateway {
    queue: Arc<Queue>,
}

impl GeneratedGateway {
    /// A handler joining users to `queue`.
    pub fn new(queue: Arc<Queue>) -> Self {
        Self { queue }
    }
}

impl Gateway for GeneratedGateway {
    async fn join(&self, request: Request<JoinRequest>) -> Result<Response<JoinReply>, Status> {
        let message = request.message();
        match self
            .queue
            .join(&message.event_id, &message.user_id, message.quantity)
        {
            Ok(joined) => Ok(Response::new(JoinReply {
                ticket: joined.ticket,
                position: joined.position,
            })),
            Err(rejected) => Err(Status::invalid_field(
                rejected.field(),
                rejected.to_string(),
            )),
        }
    }
}

/// The runtime layout the server builder offers for a bench layout.
fn runtime_layout(layout: Layout) -> RuntimeLayout {
    match layout {
        // One current-thread runtime is the per-core layout with one core.
        Layout::CurrentThread => RuntimeLayout::PerCore { threads: 1 },
        Layout::PerCore { runtimes } => RuntimeLayout::PerCore { threads: runtimes },
        Layout::MultiThread { workers } => RuntimeLayout::MultiThread { workers },
    }
}

/// Serves the generated service the way a Tacos binary does: REST and gRPC on their own ports
/// (`SERVER_PORT`, `GRPC_PORT`), in `layout`; reports the address of `protocol`.
pub(super) fn run(
    protocol: Protocol,
    layout: Layout,
    addr: SocketAddr,
    queue: Arc<Queue>,
    on_bound: impl FnOnce(SocketAddr),
) -> io::Result<()> {
    let server = Server::builder()
        .add(gateway_service(Arc::new(GeneratedGateway::new(queue))))
        .runtime(runtime_layout(layout))
        .build()
        .map_err(io::Error::other)?;
    let running = server
        .start(Bind {
            rest: addr,
            grpc: Some(addr),
        })
        .map_err(io::Error::other)?;
    let bound = match protocol {
        Protocol::Grpc => running.grpc_addr(),
        Protocol::Rest => running.rest_addr(),
    }
    .ok_or_else(|| io::Error::other("the server bound no listener for the protocol"))?;
    on_bound(bound);
    // The server runs on its own threads until the process ends.
    loop {
        std::thread::park();
    }
}
