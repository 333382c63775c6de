//! `Idempotency-Key` replays around a unary handler.
//!
//! A method marked `idempotent` that receives the key runs once per (method, principal, key):
//! the first call's outcome is stored, a replay gets it back (over either protocol, since the
//! stored response is the protobuf message), a duplicate while the first still runs gets
//! `ABORTED` (409), and the same key with another request gets `ALREADY_EXISTS` (409). Outcomes
//! a client is expected to retry (`UNAVAILABLE`, `DEADLINE_EXCEEDED`, `ABORTED`,
//! `RESOURCE_EXHAUSTED`, `CANCELLED`) and abandoned calls are not stored: the key is released so
//! the retry runs. A store outage fails closed with `UNAVAILABLE`: nothing runs twice.

use std::future::Future;
use std::sync::Arc;

use http::{HeaderName, HeaderValue};
use sha2::{Digest, Sha256};

use crate::context::{Context, Request, Response};
use crate::idempotency::{Begin, Idempotency, Lease, StoredOutcome};
use crate::method::MethodInfo;
use crate::status::{Code, Status};

/// The request header (gRPC metadata key) carrying the key.
pub(crate) static IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
/// Set on a response that replays a stored outcome.
static REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

/// Runs `call` under the key's idempotency rules, or plainly when the request carries no key.
pub(crate) async fn run<Req, Resp, F, Fut>(
    store: &Arc<Idempotency>,
    method: &'static MethodInfo,
    message: Req,
    context: Context,
    call: F,
) -> Result<Response<Resp>, Status>
where
    Req: prost::Message,
    Resp: prost::Message + Default,
    F: FnOnce(Request<Req>) -> Fut,
    Fut: Future<Output = Result<Response<Resp>, Status>>,
{
    let Some(raw) = context.metadata().get(&IDEMPOTENCY_KEY) else {
        return call(Request::from_parts(message, context)).await;
    };
    let key = store
        .validate_key(raw.as_bytes())
        .map_err(|why| Status::invalid_field("Idempotency-Key", why.to_string()))?;
    let principal = context.principal().map_or("", |p| p.subject.as_str());
    let scope = Idempotency::scope(method.path, principal, key);
    let fingerprint: [u8; 32] = Sha256::digest(message.encode_to_vec()).into();
    let lease = match store.begin(&scope, fingerprint).await {
        Ok(Begin::Run(lease)) => lease,
        Ok(Begin::Replay(outcome)) => return replay(outcome),
        Ok(Begin::InProgress) => {
            return Err(Status::aborted(
                "a request with this Idempotency-Key is still in progress",
            ))
        }
        Ok(Begin::Mismatch) => {
            return Err(Status::already_exists(
                "this Idempotency-Key was used with a different request",
            ))
        }
        Err(err) => {
            tracing::warn!(target: "tacos::idempotency", method = method.path, error = %err, "idempotency store unavailable");
            return Err(Status::unavailable("idempotency store unavailable"));
        }
    };
    let mut held = HeldLease {
        store: Arc::clone(store),
        lease: Some(lease),
    };
    let outcome = call(Request::from_parts(message, context)).await;
    let lease = held
        .lease
        .take()
        .expect("the lease is held until the handler returns");
    match stored(&outcome) {
        Some(record) => {
            if let Err(err) = store.complete(lease, &record).await {
                // The handler ran; its answer still goes back. A retry may run it again only if
                // the key's lease lapses, which the log makes visible.
                tracing::warn!(target: "tacos::idempotency", method = method.path, error = %err, "outcome not stored");
            }
        }
        None => store.release(lease).await,
    }
    outcome
}

/// What to keep of an outcome; `None` for outcomes a client should be able to retry.
fn stored<Resp: prost::Message>(outcome: &Result<Response<Resp>, Status>) -> Option<StoredOutcome> {
    match outcome {
        Ok(response) => Some(StoredOutcome::Response {
            message: response.message().encode_to_vec().into(),
            headers: response.headers().clone(),
        }),
        Err(status) => match status.code() {
            Code::Unavailable
            | Code::DeadlineExceeded
            | Code::Aborted
            | Code::ResourceExhausted
            | Code::Cancelled => None,
            _ => Some(StoredOutcome::from_status(status)),
        },
    }
}

fn replay<Resp: prost::Message + Default>(
    outcome: StoredOutcome,
) -> Result<Response<Resp>, Status> {
    if let Some(status) = outcome.to_status() {
        return Err(status);
    }
    let StoredOutcome::Response { message, headers } = outcome else {
        return Err(Status::internal(
            "stored outcome is neither a response nor an error",
        ));
    };
    let message = Resp::decode(message)
        .map_err(|err| Status::internal(format!("stored response does not decode: {err}")))?;
    let mut response = Response::new(message);
    *response.headers_mut() = headers;
    response
        .headers_mut()
        .insert(REPLAYED.clone(), HeaderValue::from_static("true"));
    Ok(response)
}

/// Releases the key when the call is abandoned (deadline, client gone) before its outcome.
struct HeldLease {
    store: Arc<Idempotency>,
    lease: Option<Lease>,
}

impl Drop for HeldLease {
    fn drop(&mut self) {
        let Some(lease) = self.lease.take() else {
            return;
        };
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            let store = Arc::clone(&self.store);
            handle.spawn(async move { store.release(lease).await });
        }
    }
}
