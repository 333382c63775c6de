//! The hand-written REST baseline: an axum handler with serde_derive types, speaking the same JSON
//! as the generated surface (lowerCamel names, the uint64 position as a string).

use std::io;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::post;
use axum::serve::ListenerExt;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;

use crate::work::Queue;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct JoinBody {
    #[serde(default, alias = "user_id")]
    user_id: String,
    #[serde(default)]
    quantity: u32,
}

#[derive(Serialize)]
struct JoinOut {
    ticket: String,
    // proto3 JSON writes 64-bit integers as strings.
    position: String,
}

#[derive(Serialize)]
struct ErrorOut {
    code: u16,
    message: String,
}

async fn join(
    State(queue): State<Arc<Queue>>,
    Path(event_id): Path<String>,
    Json(body): Json<JoinBody>,
) -> Result<Json<JoinOut>, (StatusCode, Json<ErrorOut>)> {
    match queue.join(&event_id, &body.user_id, body.quantity) {
        Ok(joined) => Ok(Json(JoinOut {
            ticket: joined.ticket,
            position: joined.position.to_string(),
        })),
        Err(rejected) => Err((
            StatusCode::BAD_REQUEST,
            // 3 is INVALID_ARGUMENT, as the generated surface reports it.
            Json(ErrorOut {
                code: 3,
                message: rejected.to_string(),
            }),
        )),
    }
}

/// The router: `POST /v1/events/{event_id}/join`.
pub fn router(queue: Arc<Queue>) -> Router {
    Router::new()
        .route("/v1/events/{event_id}/join", post(join))
        .with_state(queue)
}

/// Serves the router on `listener` with `axum::serve` (HTTP/1.1).
pub(super) async fn serve(listener: TcpListener, queue: Arc<Queue>) -> io::Result<()> {
    // Small replies must not wait for Nagle.
    let listener = listener.tap_io(|stream| {
        let _ = stream.set_nodelay(true);
    });
    axum::serve(listener, router(queue)).await
}
