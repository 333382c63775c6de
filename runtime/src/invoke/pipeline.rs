//! The policy stack around one call, shared by both protocols: [`unary`], [`client_streaming`]
//! and [`server_streaming`] (which also runs bidirectional calls: its request is then a
//! stream) take the call's parts and the handler, and give back its outcome.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

use http::HeaderMap;

use tracing::Instrument;

use super::admission::admit;
use super::deadline::{deadline_status, effective_deadline, Deadlined, Invoke};
use super::idempotent;
use super::policies::{Policies, ServerShutdown};
use super::record::{CallRecord, Recorded};
use crate::context::{CallScope, Context, Protocol, Request, Response, ServerStream};
use crate::method::{MethodInfo, MethodPolicy};
use crate::status::Status;
use crate::telemetry::CallTelemetry;

/// The outcome of a unary call.
pub(crate) type CallFuture<T> =
    Pin<Box<dyn Future<Output = Result<Response<T>, Status>> + Send + 'static>>;

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
fn prepare(parts: CallParts, telemetry: &CallTelemetry) -> Result<Prepared, Status> {
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
    let outgoing = telemetry.clone();
    let scope = Arc::new(CallScope::lazy(deadline, move || {
        outgoing.outgoing_headers()
    }));
    let context = Context::for_call(protocol, method, metadata, extensions, deadline);
    Ok(Prepared {
        context,
        deadline,
        shutdown,
        scope,
    })
}

/// Runs `admission` under the call's deadline.
async fn within<T>(
    deadline: Option<Instant>,
    admission: impl Future<Output = Result<T, Status>>,
) -> Result<T, Status> {
    match deadline {
        None => admission.await,
        Some(deadline) => tokio::time::timeout_at(deadline.into(), admission)
            .await
            .unwrap_or_else(|_| Err(deadline_status())),
    }
}

/// Runs a unary call: policies, then `build` (the request message, decoded only once the call
/// is admitted), then the handler, all under the call's deadline.
pub(crate) fn unary<Req, Resp, B, F, Fut>(parts: CallParts, build: B, call: F) -> CallFuture<Resp>
where
    Req: prost::Message + Send + 'static,
    Resp: prost::Message + Default + Send + 'static,
    B: FnOnce() -> Result<Req, Status> + Send + 'static,
    F: FnOnce(Request<Req>) -> Fut + Send + 'static,
    Fut: Future<Output = Result<Response<Resp>, Status>> + Send + 'static,
{
    let policies = Policies::of(&parts.extensions);
    Box::pin(async move {
        let mut record = CallRecord::start(&policies, &parts);
        let span = record.span.clone();
        let outcome = run_unary(&policies, &mut record, parts, build, call)
            .instrument(span)
            .await;
        record.finish_with(&outcome);
        outcome
    })
}

async fn run_unary<Req, Resp, B, F, Fut>(
    policies: &Arc<Policies>,
    record: &mut CallRecord,
    parts: CallParts,
    build: B,
    call: F,
) -> Result<Response<Resp>, Status>
where
    Req: prost::Message + Send + 'static,
    Resp: prost::Message + Default + Send + 'static,
    B: FnOnce() -> Result<Req, Status> + Send + 'static,
    F: FnOnce(Request<Req>) -> Fut + Send + 'static,
    Fut: Future<Output = Result<Response<Resp>, Status>> + Send + 'static,
{
    let (method, policy) = (parts.method, parts.policy);
    let idempotency = policies
        .idempotency
        .as_ref()
        .filter(|_| policy.is_some_and(|p| p.idempotent))
        .map(Arc::clone);
    run_admitted(policies, record, parts, move |context, scope| async move {
        let message = build()?;
        let call = move |request| scope.enter(call(request));
        match idempotency {
            Some(store) => idempotent::run(&store, method, message, context, call).await,
            None => call(Request::from_parts(message, context)).await,
        }
    })
    .await
}

/// Admits a call answering once, then runs it (`run` gets the handler's context and the scope
/// its outgoing calls inherit), all under the call's deadline.
async fn run_admitted<T, R, RunFut>(
    policies: &Arc<Policies>,
    record: &mut CallRecord,
    parts: CallParts,
    run: R,
) -> Result<Response<T>, Status>
where
    R: FnOnce(Context, Arc<CallScope>) -> RunFut,
    RunFut: Future<Output = Result<Response<T>, Status>>,
{
    let (method, policy) = (parts.method, parts.policy);
    let Prepared {
        mut context,
        deadline,
        scope,
        ..
    } = prepare(parts, &record.telemetry)?;
    let token = context.cancellation().clone();
    record.principal = within(deadline, admit(policies, method, policy, &mut context)).await?;
    Invoke::running(run(context, scope), deadline, &token).await
}

/// Runs a client-streaming call like [`unary`], minus idempotency replay: a stream of requests
/// has no one message to key a stored outcome on. `build` hands over the request stream.
pub(crate) fn client_streaming<Req, Resp, B, F, Fut>(
    parts: CallParts,
    build: B,
    call: F,
) -> CallFuture<Resp>
where
    Req: Send + 'static,
    Resp: Send + 'static,
    B: FnOnce() -> Result<Req, Status> + Send + 'static,
    F: FnOnce(Request<Req>) -> Fut + Send + 'static,
    Fut: Future<Output = Result<Response<Resp>, Status>> + Send + 'static,
{
    let policies = Policies::of(&parts.extensions);
    Box::pin(async move {
        let mut record = CallRecord::start(&policies, &parts);
        let span = record.span.clone();
        let run = run_admitted(&policies, &mut record, parts, |context, scope| async move {
            let message = build()?;
            scope
                .enter(call(Request::from_parts(message, context)))
                .await
        });
        let outcome = run.instrument(span).await;
        record.finish_with(&outcome);
        outcome
    })
}

/// Runs a server-streaming call like [`unary`]; the returned stream stays under the deadline,
/// ends with `UNAVAILABLE` when the server shuts down, cancels the handler when dropped, and is
/// recorded when it ends.
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
    Box::pin(async move {
        let mut record = CallRecord::start(&policies, &parts);
        let span = record.span.clone();
        match start_stream(&policies, &mut record, parts, build, call)
            .instrument(span)
            .await
        {
            Ok(response) => Ok(response
                .map(|stream| -> ServerStream<Resp> { Box::pin(Recorded::new(stream, record)) })),
            Err(status) => {
                record.finish(status.code());
                Err(status)
            }
        }
    })
}

async fn start_stream<Req, Resp, B, F, Fut>(
    policies: &Arc<Policies>,
    record: &mut CallRecord,
    parts: CallParts,
    build: B,
    call: F,
) -> Result<Response<ServerStream<Resp>>, Status>
where
    Req: Send + 'static,
    Resp: Send + 'static,
    B: FnOnce() -> Result<Req, Status> + Send + 'static,
    F: FnOnce(Request<Req>) -> Fut + Send + 'static,
    Fut: Future<Output = Result<Response<ServerStream<Resp>>, Status>> + Send + 'static,
{
    let (method, policy) = (parts.method, parts.policy);
    let Prepared {
        mut context,
        deadline,
        shutdown,
        scope,
    } = prepare(parts, &record.telemetry)?;
    let token = context.cancellation().clone();
    record.principal = within(deadline, admit(policies, method, policy, &mut context)).await?;
    let stream_scope = Arc::clone(&scope);
    let run = async move {
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
}
