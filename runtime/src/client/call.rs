//! One outgoing call: its metadata and deadline, the transport that carries it, and the deadline
//! enforced around it.

use std::time::Instant;

use http::HeaderMap;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::{Client, Leg, Transport};
use crate::context::{
    current_call, metadata, Context, Request, RequestStream, Response, ServerStream,
};
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
        Resp: prost::Message + Clone + Default + Serialize + DeserializeOwned + Send + 'static,
    {
        let (message, context) = request.into_parts();
        let outgoing = self.outgoing(method, context);
        let safe = self.options().is_safe(method);
        let transport = self.transport().ok_or_else(|| no_transport(method))?;
        let split = match transport {
            Transport::Grpc(grpc) => {
                let leg = Leg::Grpc(grpc.clone());
                return unary_over(&leg, safe, method, route, message, outgoing).await;
            }
            Transport::Rest(rest) => {
                let leg = Leg::Rest(rest.clone());
                return unary_over(&leg, safe, method, route, message, outgoing).await;
            }
            Transport::Split(split) => split,
        };
        let grpc = Leg::Grpc(split.grpc().clone());
        let rest = Leg::Rest(split.rest().clone());
        let (primary, other) = if split.pick_grpc() {
            (grpc, rest)
        } else {
            (rest, grpc)
        };
        let shadow = match split.shadow() {
            Some(shadow) if self.options().may_shadow(method) => {
                split.note(method);
                let (message, outgoing) = (message.clone(), outgoing.clone());
                // The shadow is never retried: it must not add load the caller did not ask for.
                shadow.start(method.path, move || async move {
                    unary_over::<Req, Resp>(&other, false, method, route, message, outgoing)
                        .await
                        .map(Response::into_message)
                })
            }
            _ => None,
        };
        let result: Result<Response<Resp>, Status> =
            unary_over(&primary, safe, method, route, message, outgoing).await;
        if let Some(shadow) = shadow {
            shadow.finish(
                &result
                    .as_ref()
                    .map(|r| r.message().clone())
                    .map_err(Clone::clone),
            );
        }
        result
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
        let safe = self.options().is_safe(method);
        let leg = self.stream_leg(method)?;
        let target = leg.state();
        let series = target.series(method);
        let timer = series.start(target.protocol());
        // Only opening the stream is retried: once it has started, its errors are final.
        let call = target.resilience().call(safe, deadline, |attempt| {
            if attempt > 1 {
                series.retry();
            }
            let (leg, message, outgoing) = (leg.clone(), message.clone(), outgoing.clone());
            async move {
                match &leg {
                    Leg::Grpc(grpc) => grpc.server_streaming(method, message, outgoing).await,
                    Leg::Rest(rest) => {
                        rest.server_streaming(method, route, message, outgoing)
                            .await
                    }
                }
            }
        });
        let response = within(deadline, call).await;
        timer.finish(code_of(&response));
        Ok(response?.map(|stream| bounded(stream, deadline)))
    }
}

impl Client {
    /// The transport carrying a streaming call. Streams are not shadowed: comparing them would
    /// hold both in memory.
    fn stream_leg(&self, method: &MethodInfo) -> Result<Leg, Status> {
        Ok(
            match self.transport().ok_or_else(|| no_transport(method))? {
                Transport::Grpc(grpc) => Leg::Grpc(grpc.clone()),
                Transport::Rest(rest) => Leg::Rest(rest.clone()),
                Transport::Split(split) if split.pick_grpc() => Leg::Grpc(split.grpc().clone()),
                Transport::Split(split) => Leg::Rest(split.rest().clone()),
            },
        )
    }

    /// Calls a client-streaming method: the request messages are sent as the caller's stream
    /// yields them, and its first `Err` cancels the call with that status. Never retried (the
    /// messages are gone once sent), never shadowed.
    pub async fn client_streaming<Req, Resp>(
        &self,
        method: &'static MethodInfo,
        route: Option<&'static RouteSpec>,
        request: Request<RequestStream<Req>>,
    ) -> Result<Response<Resp>, Status>
    where
        Req: prost::Message + Default + Serialize + Send + 'static,
        Resp: prost::Message + Default + DeserializeOwned + Send + 'static,
    {
        let (result, _) = self
            .send_stream(method, request, |leg, messages, outgoing| async move {
                match leg {
                    Leg::Grpc(grpc) => grpc.client_streaming(method, messages, outgoing).await,
                    Leg::Rest(rest) => {
                        rest.client_streaming(method, route, messages, outgoing)
                            .await
                    }
                }
            })
            .await;
        result
    }

    /// Opens a bidirectional stream: requests go out as the caller's stream yields them (its
    /// first `Err` ends the responses with that status and cancels the call), responses come
    /// back as they arrive; the deadline bounds both. Never retried, never shadowed.
    pub async fn bidi_streaming<Req, Resp>(
        &self,
        method: &'static MethodInfo,
        route: Option<&'static RouteSpec>,
        request: Request<RequestStream<Req>>,
    ) -> Result<Response<ServerStream<Resp>>, Status>
    where
        Req: prost::Message + Default + Serialize + Send + 'static,
        Resp: prost::Message + Default + DeserializeOwned + Send + 'static,
    {
        let (response, deadline) = self
            .send_stream(method, request, |leg, messages, outgoing| async move {
                match leg {
                    Leg::Grpc(grpc) => grpc.bidi_streaming(method, messages, outgoing).await,
                    Leg::Rest(rest) => rest.bidi_streaming(method, route, messages, outgoing).await,
                }
            })
            .await;
        Ok(response?.map(|stream| bounded(stream, deadline)))
    }

    /// The one attempt of a call whose requests are a stream, through the target's breaker,
    /// recorded in its metrics, under the deadline (returned too).
    async fn send_stream<Req, T, F, Fut>(
        &self,
        method: &'static MethodInfo,
        request: Request<RequestStream<Req>>,
        send: F,
    ) -> (Result<T, Status>, Option<Instant>)
    where
        F: FnOnce(Leg, RequestStream<Req>, Outgoing) -> Fut,
        Fut: std::future::Future<Output = Result<T, Status>>,
    {
        let (messages, context) = request.into_parts();
        let outgoing = self.outgoing(method, context);
        let deadline = outgoing.deadline;
        let leg = match self.stream_leg(method) {
            Ok(leg) => leg,
            Err(status) => return (Err(status), deadline),
        };
        let target = leg.state();
        let timer = target.series(method).start(target.protocol());
        let mut once = Some((send, messages, outgoing));
        let call = target.resilience().call(false, deadline, |_| {
            let (leg, taken) = (leg.clone(), once.take());
            async move {
                let (send, messages, outgoing) = taken.ok_or_else(sent_once)?;
                send(leg, messages, outgoing).await
            }
        });
        let result = within(deadline, call).await;
        timer.finish(code_of(&result));
        (result, deadline)
    }
}

/// A request stream is consumed by its one attempt; a second attempt (never made: these calls
/// are not retried) has nothing to send.
fn sent_once() -> Status {
    Status::internal("a request stream can be sent only once")
}

/// One unary call over `leg`, through its target's resilience, recorded in its metrics.
async fn unary_over<Req, Resp>(
    leg: &Leg,
    safe: bool,
    method: &'static MethodInfo,
    route: Option<&'static RouteSpec>,
    message: Req,
    outgoing: Outgoing,
) -> Result<Response<Resp>, Status>
where
    Req: prost::Message + Clone + Serialize + Send + 'static,
    Resp: prost::Message + Default + DeserializeOwned + Send + 'static,
{
    let deadline = outgoing.deadline;
    let target = leg.state();
    let series = target.series(method);
    let timer = series.start(target.protocol());
    let call = target.resilience().call(safe, deadline, |attempt| {
        if attempt > 1 {
            series.retry();
        }
        let (message, outgoing) = (message.clone(), outgoing.clone());
        async move {
            match leg {
                Leg::Grpc(grpc) => grpc.unary(method, message, outgoing).await,
                Leg::Rest(rest) => rest.unary(method, route, message, outgoing).await,
            }
        }
    });
    let result = within(deadline, call).await;
    timer.finish(code_of(&result));
    result
}

fn code_of<T>(result: &Result<T, Status>) -> Code {
    match result {
        Ok(_) => Code::Ok,
        Err(status) => status.code(),
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
