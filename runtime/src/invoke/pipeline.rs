//! The policy stack around one call, shared by both protocols: [`unary`] and
//! [`server_streaming`] take the call's parts and the handler, and give back its outcome.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

use http::{HeaderMap, HeaderName};

use super::deadline::{effective_deadline, Deadlined, Invoke};
use super::policies::{Policies, ServerShutdown};
use crate::context::{CallScope, Context, Protocol, Request, Response, ServerStream};
use crate::method::{MethodInfo, MethodPolicy};
use crate::status::Status;

/// The outcome of a unary call.
pub(crate) type CallFuture<T> =
    Pin<Box<dyn Future<Output = Result<Response<T>, Status>> + Send + 'static>>;

/// Headers an incoming call hands on to the calls its handler makes.
static PROPAGATED: [HeaderName; 3] = [
    HeaderName::from_static("x-request-id"),
    HeaderName::from_static("traceparent"),
    HeaderName::from_static("tracestate"),
];

/// Where a call came from: its headers (gRPC metadata or REST headers) and request extensions.
pub(crate) struct CallParts {
    pub(crate) protocol: Protocol,
    pub(crate) method: &'static MethodInfo,
    pub(crate) policy: Option<&'static MethodPolicy>,
    pub(crate) headers: HeaderMap,
    pub(crate) extensions: http::Extensions,
}

/// Everything a call needs before its handler runs.
struct Prepared {
    context: Context,
    deadline: Option<Instant>,
    shutdown: Option<tokio_util::sync::CancellationToken>,
    scope: Arc<CallScope>,
}

/// The handler context, deadline and outgoing-call scope of a call.
fn prepare(parts: CallParts) -> Result<Prepared, Status> {
    let CallParts {
        protocol,
        method,
        policy,
        headers,
        extensions,
    } = parts;
    let client_timeout = crate::context::deadline::timeout_from_headers(&headers)?;
    let has_timeout = client_timeout.is_some() || policy.is_some_and(|p| p.timeout.is_some());
    // Reading the clock costs; most calls have no deadline at all.
    let deadline = if has_timeout {
        effective_deadline(Instant::now(), client_timeout, policy)
    } else {
        None
    };
    let shutdown = extensions.get::<ServerShutdown>().map(|s| s.0.clone());
    let metadata = crate::context::metadata::request_metadata(headers);
    let mut propagated = HeaderMap::new();
    for name in &PROPAGATED {
        if let Some(value) = metadata.get(name) {
            propagated.insert(name.clone(), value.clone());
        }
    }
    let scope = Arc::new(CallScope::new(deadline, propagated));
    let context = Context::for_call(protocol, method, metadata, extensions, deadline);
    Ok(Prepared {
        context,
        deadline,
        shutdown,
        scope,
    })
}

/// Runs the policies that decide whether the handler may run at all.
async fn admit(
    _policies: &Policies,
    _policy: Option<&'static MethodPolicy>,
    _context: &mut Context,
) -> Result<(), Status> {
    Ok(())
}

/// Runs a unary call: policies, then `build` (the request message, decoded only once the call
/// is admitted), then the handler, all under the call's deadline.
pub(crate) fn unary<Req, Resp, B, F, Fut>(parts: CallParts, build: B, call: F) -> CallFuture<Resp>
where
    Req: Send + 'static,
    Resp: Send + 'static,
    B: FnOnce() -> Result<Req, Status> + Send + 'static,
    F: FnOnce(Request<Req>) -> Fut + Send + 'static,
    Fut: Future<Output = Result<Response<Resp>, Status>> + Send + 'static,
{
    let policies = Policies::of(&parts.extensions);
    let policy = parts.policy;
    Box::pin(async move {
        let prepared = prepare(parts)?;
        let token = prepared.context.cancellation().clone();
        let Prepared {
            mut context,
            deadline,
            scope,
            ..
        } = prepared;
        let run = async move {
            admit(&policies, policy, &mut context).await?;
            let message = build()?;
            scope
                .enter(call(Request::from_parts(message, context)))
                .await
        };
        Invoke::running(run, deadline, &token).await
    })
}

/// Runs a server-streaming call like [`unary`]; the returned stream stays under the deadline,
/// ends with `UNAVAILABLE` when the server shuts down, and cancels the handler when dropped.
pub(crate) fn server_streaming<Req, Resp, B, F, Fut>(
    parts: CallParts,
    build: B,
    call: F,
) -> CallFuture<ServerStream<Resp>>
where
    Req: Send + 'static,
    Resp: Send + 'static,
    B: FnOnce() -> Result<Req, Status> + Send + 'static,
    F: FnOnce(Request<Req>) -> Fut + Send + 'static,
    Fut: Future<Output = Result<Response<ServerStream<Resp>>, Status>> + Send + 'static,
{
    let policies = Policies::of(&parts.extensions);
    let policy = parts.policy;
    Box::pin(async move {
        let prepared = prepare(parts)?;
        let token = prepared.context.cancellation().clone();
        let Prepared {
            mut context,
            deadline,
            shutdown,
            scope,
        } = prepared;
        let stream_scope = Arc::clone(&scope);
        let run = async move {
            admit(&policies, policy, &mut context).await?;
            let message = build()?;
            scope
                .enter(call(Request::from_parts(message, context)))
                .await
        };
        let response = Invoke::running(run, deadline, &token).await?;
        Ok(response.map(|stream| -> ServerStream<Resp> {
            let guarded = Deadlined::new(stream, deadline, shutdown, Some(token.drop_guard()));
            Box::pin(stream_scope.enter_stream(guarded))
        }))
    })
}
