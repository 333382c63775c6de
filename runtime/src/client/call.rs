//! One outgoing call: its metadata and deadline, the transport that carries it, and the deadline
//! enforced around it.

use std::time::Instant;

use http::HeaderMap;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::resilience::{self, RetryPolicy};
use super::{Client, Transport};
use crate::context::{current_call, metadata, Context, Request, Response, ServerStream};
use crate::invoke::Deadlined;
use crate::method::MethodInfo;
use crate::rest::RouteSpec;
use crate::status::{Code, Status};

/// What goes out with a call besides its message.
#[derive(Clone, Debug)]
pub(crate) struct Outgoing {
    /// Request metadata: the context's, plus the incoming call's propagated headers.
    pub(crate) headers: HeaderMap,
    /// When the call must be answered by.
    pub(crate) deadline: Option<Instant>,
}

impl Outgoing {
    /// Time left until the deadline, `None` without one.
    pub(crate) fn timeout(&self) -> Option<std::time::Duration> {
        self.deadline
            .map(|d| d.saturating_duration_since(Instant::now()))
    }
}

impl Client {
    /// Metadata and deadline of a call to `method` made with `context`.
    pub(crate) fn outgoing(&self, method: &MethodInfo, mut context: Context) -> Outgoing {
        let scope = current_call();
        let mut headers = metadata::request_metadata(std::mem::take(context.metadata_mut()));
        let mut deadline = context.deadline();
        if let Some(scope) = &scope {
            for (name, value) in scope.propagated() {
                if !headers.contains_key(name) {
                    headers.append(name.clone(), value.clone());
                }
            }
            deadline = match (deadline, scope.deadline()) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
        }
        if deadline.is_none() {
            deadline = self
                .options()
                .timeout_for(method.name)
                .and_then(|timeout| Instant::now().checked_add(timeout));
        }
        Outgoing { headers, deadline }
    }

    /// Calls a unary method over the client's transport; `route` is the REST binding to use.
    pub async fn unary<Req, Resp>(
        &self,
        method: &'static MethodInfo,
        route: Option<&'static RouteSpec>,
        request: Request<Req>,
    ) -> Result<Response<Resp>, Status>
    where
        Req: prost::Message + Clone + Serialize + Send + 'static,
        Resp: prost::Message + Default + DeserializeOwned + Send + 'static,
    {
        let (message, context) = request.into_parts();
        let outgoing = self.outgoing(method, context);
        let deadline = outgoing.deadline;
        let transport = self.transport().ok_or_else(|| no_transport(method))?;
        let call = self.attempts(
            method,
            transport,
            message,
            outgoing,
            |message, outgoing| async {
                match transport {
                    Transport::Grpc(grpc) => grpc.unary(method, message, outgoing).await,
                    Transport::Rest(rest) => rest.unary(method, route, message, outgoing).await,
                }
            },
        );
        within(deadline, call).await
    }

    /// Opens a server stream over the client's transport; the deadline bounds the whole stream.
    pub async fn server_streaming<Req, Resp>(
        &self,
        method: &'static MethodInfo,
        route: Option<&'static RouteSpec>,
        request: Request<Req>,
    ) -> Result<Response<ServerStream<Resp>>, Status>
    where
        Req: prost::Message + Clone + Serialize + Send + 'static,
        Resp: prost::Message + Default + DeserializeOwned + Send + 'static,
    {
        let (message, context) = request.into_parts();
        let outgoing = self.outgoing(method, context);
        let deadline = outgoing.deadline;
        let transport = self.transport().ok_or_else(|| no_transport(method))?;
        // Only opening the stream is retried: once it has started, its errors are final.
        let call = self.attempts(
            method,
            transport,
            message,
            outgoing,
            |message, outgoing| async {
                match transport {
                    Transport::Grpc(grpc) => grpc.server_streaming(method, message, outgoing).await,
                    Transport::Rest(rest) => {
                        rest.server_streaming(method, route, message, outgoing)
                            .await
                    }
                }
            },
        );
        let response = within(deadline, call).await?;
        Ok(response.map(|stream| bounded(stream, deadline)))
    }
}

impl Client {
    /// Runs `attempt` through the target's breaker, retrying by the method's retry policy and
    /// the target's budget. The caller bounds the whole loop by the call's deadline.
    async fn attempts<Req, T, F, Fut>(
        &self,
        method: &'static MethodInfo,
        transport: &Transport,
        message: Req,
        outgoing: Outgoing,
        attempt: F,
    ) -> Result<T, Status>
    where
        Req: Clone,
        F: Fn(Req, Outgoing) -> Fut,
        Fut: std::future::Future<Output = Result<T, Status>>,
    {
        let health = transport.health();
        let Some(policy) = self.options().retry_for(method.name) else {
            health.admit()?;
            let result = attempt(message, outgoing).await;
            health.record(&result.as_ref().map(|_| ()));
            return result;
        };
        let deadline = outgoing.deadline;
        let mut backoff = policy.initial_backoff;
        let mut attempts = 1;
        loop {
            health.admit()?;
            let result = attempt(message.clone(), outgoing.clone()).await;
            health.record(&result.as_ref().map(|_| ()));
            let status = match result {
                Ok(value) => return Ok(value),
                Err(status) => status,
            };
            if attempts >= policy.max_attempts
                || !RetryPolicy::is_retryable(&status)
                || !health.retry_allowed()
            {
                return Err(status);
            }
            let delay = resilience::retry_delay(&status, backoff);
            // A retry that cannot finish in time would only turn the answer into a timeout.
            if deadline.is_some_and(|d| Instant::now() + delay >= d) {
                return Err(status);
            }
            tokio::time::sleep(delay).await;
            backoff = resilience::next_backoff(policy, backoff);
            attempts += 1;
        }
    }
}

fn no_transport(method: &MethodInfo) -> Status {
    Status::internal(format!(
        "client of {} has neither a transport nor a local handler",
        method.service
    ))
}

fn deadline_exceeded() -> Status {
    Status::deadline_exceeded("deadline exceeded before the response arrived")
}

/// Runs `call` until `deadline`; an error that arrives after the deadline (a transport giving up
/// at the same moment) reads as the deadline too.
pub(crate) async fn within<T>(
    deadline: Option<Instant>,
    call: impl std::future::Future<Output = Result<T, Status>>,
) -> Result<T, Status> {
    let Some(deadline) = deadline else {
        return call.await;
    };
    match tokio::time::timeout_at(deadline.into(), call).await {
        Ok(Err(status))
            if Instant::now() >= deadline
                && matches!(status.code(), Code::Cancelled | Code::Unavailable) =>
        {
            Err(deadline_exceeded())
        }
        Ok(result) => result,
        Err(_) => Err(deadline_exceeded()),
    }
}

/// A response stream that ends with `DEADLINE_EXCEEDED` once the deadline passes.
pub(crate) fn bounded<T: Send + 'static>(
    stream: ServerStream<T>,
    deadline: Option<Instant>,
) -> ServerStream<T> {
    match deadline {
        None => stream,
        Some(_) => Box::pin(Deadlined::new(stream, deadline, None, None)),
    }
}
