//! The hand-written full join, the yardstick of the framework's gateway: what a careful tonic or
//! axum user writes for a queue join that verifies an HS256 bearer token and records the join in
//! Redis (one `EVALSHA` of a script doing `INCR` + `ZADD`, over one multiplexed connection per
//! runtime). Same crates as the framework (jsonwebtoken with the same crypto backend, redis-rs),
//! so only the framework's layers differ.

use std::io;
use std::sync::{Arc, LazyLock};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::serve::ListenerExt;
use axum::{Json, Router};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use redis::aio::MultiplexedConnection;
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;
use tokio_stream::StreamExt;
use tonic::{Request, Response, Status};

use crate::client::BENCH_JWT_SECRET;
use crate::pb::gateway_server::{Gateway, GatewayServer};
use crate::pb::{JoinReply, JoinRequest};

/// Takes the next place in the event's queue and records the user at it.
const JOIN_SCRIPT: &str = r#"
local position = redis.call('INCR', KEYS[1])
redis.call('ZADD', KEYS[2], position, ARGV[1])
return position
"#;

static SCRIPT: LazyLock<redis::Script> = LazyLock::new(|| redis::Script::new(JOIN_SCRIPT));

#[derive(Deserialize)]
struct Claims {
    #[allow(dead_code)] // read by the validation, not by the handler
    sub: String,
}

/// Verifies bearer tokens and joins users in Redis; one per runtime.
#[derive(Clone)]
pub struct FullJoin {
    redis: MultiplexedConnection,
    key: Arc<DecodingKey>,
    validation: Arc<Validation>,
}

/// Why a join failed.
enum JoinError {
    Unauthenticated,
    Invalid(&'static str),
    Store(redis::RedisError),
}

impl FullJoin {
    /// Connects to Redis at `url`.
    pub async fn connect(url: &str) -> io::Result<Self> {
        let client = redis::Client::open(url).map_err(io::Error::other)?;
        let redis = client
            .get_multiplexed_async_connection()
            .await
            .map_err(io::Error::other)?;
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 30;
        Ok(Self {
            redis,
            key: Arc::new(
                DecodingKey::from_secret(BENCH_JWT_SECRET.as_bytes())
                    .expect("a fixed secret is a valid HMAC key"),
            ),
            validation: Arc::new(validation),
        })
    }

    async fn join(
        &self,
        authorization: Option<&[u8]>,
        event_id: &str,
        user_id: &str,
    ) -> Result<(String, u64), JoinError> {
        let token = authorization
            .and_then(|v| v.strip_prefix(b"Bearer "))
            .and_then(|t| std::str::from_utf8(t).ok())
            .ok_or(JoinError::Unauthenticated)?;
        jsonwebtoken::decode::<Claims>(token, &self.key, &self.validation)
            .map_err(|_| JoinError::Unauthenticated)?;
        if event_id.is_empty() {
            return Err(JoinError::Invalid("event_id must not be empty"));
        }
        if user_id.is_empty() {
            return Err(JoinError::Invalid("user_id must not be empty"));
        }
        let position: u64 = SCRIPT
            .key(format!("ctr:{event_id}"))
            .key(format!("q:{event_id}"))
            .arg(user_id)
            .invoke_async(&mut self.redis.clone())
            .await
            .map_err(JoinError::Store)?;
        Ok((format!("{event_id}-{position}"), position))
    }
}

impl JoinError {
    fn status(&self) -> Status {
        match self {
            JoinError::Unauthenticated => {
                Status::unauthenticated("a valid bearer token is required")
            }
            JoinError::Invalid(message) => Status::invalid_argument(*message),
            JoinError::Store(error) => Status::unavailable(error.to_string()),
        }
    }

    fn http(&self) -> StatusCode {
        match self {
            JoinError::Unauthenticated => StatusCode::UNAUTHORIZED,
            JoinError::Invalid(_) => StatusCode::BAD_REQUEST,
            JoinError::Store(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

#[tonic::async_trait]
impl Gateway for FullJoin {
    async fn join(&self, request: Request<JoinRequest>) -> Result<Response<JoinReply>, Status> {
        let authorization = request
            .metadata()
            .get("authorization")
            .map(|v| v.as_bytes().to_vec());
        let request = request.into_inner();
        let (ticket, position) = FullJoin::join(
            self,
            authorization.as_deref(),
            &request.event_id,
            &request.user_id,
        )
        .await
        .map_err(|e| e.status())?;
        Ok(Response::new(JoinReply { ticket, position }))
    }
}

/// Serves the tonic service on `listener`, connected to Redis at `redis_url`.
pub(super) async fn serve_tonic(listener: TcpListener, redis_url: String) -> io::Result<()> {
    let service = FullJoin::connect(&redis_url).await?;
    let incoming = TcpListenerStream::new(listener).map(|accepted| {
        accepted.inspect(|stream| {
            let _ = stream.set_nodelay(true);
        })
    });
    tonic::transport::Server::builder()
        .add_service(GatewayServer::new(service))
        .serve_with_incoming(incoming)
        .await
        .map_err(io::Error::other)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct JoinBody {
    #[serde(default)]
    user_id: String,
}

#[derive(Serialize)]
struct JoinOut {
    ticket: String,
    // proto3 JSON writes 64-bit integers as strings.
    position: String,
}

async fn join_rest(
    State(service): State<FullJoin>,
    Path(event_id): Path<String>,
    headers: HeaderMap,
    Json(body): Json<JoinBody>,
) -> Result<Json<JoinOut>, StatusCode> {
    let authorization = headers.get("authorization").map(|v| v.as_bytes());
    match service.join(authorization, &event_id, &body.user_id).await {
        Ok((ticket, position)) => Ok(Json(JoinOut {
            ticket,
            position: position.to_string(),
        })),
        Err(error) => Err(error.http()),
    }
}

/// Serves the axum router on `listener`, connected to Redis at `redis_url`.
pub(super) async fn serve_axum(listener: TcpListener, redis_url: String) -> io::Result<()> {
    let service = FullJoin::connect(&redis_url).await?;
    let router = Router::new()
        .route("/v1/events/{event_id}/join", post(join_rest))
        .with_state(service);
    let listener = listener.tap_io(|stream| {
        let _ = stream.set_nodelay(true);
    });
    axum::serve(listener, router).await
}
