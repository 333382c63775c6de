//! The client Tacos generates for `bench.v1.Gateway`, over each of the runtime's transports.

use std::net::SocketAddr;

use tacos_runtime::client::{GrpcTransport, RestTransport, SplitTransport, Transport};
use tacos_runtime::migration::ShadowConfig;
use tacos_runtime::{Request, Status};

use super::{ClientError, EVENT_ID, QUANTITY, USER_ID};
use crate::generated::bench::v1::{Gateway, GatewayClient, JoinReply, JoinRequest};

/// Which transport the generated client calls over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GeneratedTransport {
    /// gRPC over `connections` HTTP/2 connections.
    Grpc,
    /// REST over a keep-alive HTTP/1.1 pool.
    Rest,
    /// Half the calls over gRPC, half over REST, picked per call.
    Split,
    /// Every call over gRPC; `per_mille` of them also sent over REST and compared.
    Shadow {
        /// Calls shadowed per thousand.
        per_mille: u16,
    },
}

impl GeneratedTransport {
    /// Parses `grpc`, `rest`, `split` or `shadow:<per mille>`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "grpc" => Some(Self::Grpc),
            "rest" => Some(Self::Rest),
            "split" => Some(Self::Split),
            _ => {
                let per_mille = s.strip_prefix("shadow:")?.parse().ok()?;
                (per_mille <= 1000).then_some(Self::Shadow { per_mille })
            }
        }
    }

    /// Whether calls need the server's REST address as well as its gRPC one.
    pub fn needs_rest(self) -> bool {
        !matches!(self, Self::Grpc)
    }
}

/// Where the generated client connects and how wide its pools are.
#[derive(Debug, Clone, Copy)]
pub struct GeneratedPlan {
    /// The transport.
    pub transport: GeneratedTransport,
    /// The server's gRPC address (unused by [`GeneratedTransport::Rest`]).
    pub grpc: SocketAddr,
    /// The server's REST address (unused by [`GeneratedTransport::Grpc`]).
    pub rest: SocketAddr,
    /// HTTP/2 connections of the gRPC transport.
    pub grpc_connections: usize,
    /// Idle HTTP/1.1 connections the REST pool keeps (one per request in flight is enough).
    pub rest_connections: usize,
}

/// The generated client over the transport `plan` names, with the runtime's default resilience
/// and metrics, as an application would build it.
pub fn generated_client(plan: &GeneratedPlan) -> Result<GatewayClient, ClientError> {
    let grpc = || {
        GrpcTransport::builder(format!("http://{}", plan.grpc))
            .connections(plan.grpc_connections)
            .build()
            .map_err(|e| ClientError::Transport(e.to_string()))
    };
    let rest = || {
        RestTransport::builder(format!("http://{}", plan.rest))
            .max_idle_connections(plan.rest_connections)
            .build()
            .map_err(|e| ClientError::Transport(e.to_string()))
    };
    let transport: Transport = match plan.transport {
        GeneratedTransport::Grpc => grpc()?.into(),
        GeneratedTransport::Rest => rest()?.into(),
        GeneratedTransport::Split => SplitTransport::new(grpc()?, rest()?, 50)
            .map_err(|e| ClientError::Transport(e.to_string()))?
            .into(),
        GeneratedTransport::Shadow { per_mille } => {
            let shadow = ShadowConfig {
                per_mille,
                ..ShadowConfig::default()
            };
            SplitTransport::with_shadow(grpc()?, rest()?, 100, shadow, None)
                .map_err(|e| ClientError::Transport(e.to_string()))?
                .into()
        }
    };
    // Join changes the queue, so a real caller would not shadow it; the bench does, to price the
    // shadow path (every comparison finds the positions differ, so differences are counted too).
    let options = tacos_runtime::client::ClientOptions::new().shadow_method("Join");
    Ok(GatewayClient::with_options(transport, options))
}

/// One join through the generated client; any status other than OK is an error.
pub async fn generated_join(client: &GatewayClient) -> Result<JoinReply, Status> {
    let request = Request::new(JoinRequest {
        event_id: EVENT_ID.to_owned(),
        user_id: USER_ID.to_owned(),
        quantity: QUANTITY,
    });
    client
        .join(request)
        .await
        .map(tacos_runtime::Response::into_message)
}
