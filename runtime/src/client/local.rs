//! The in-process transport: the handler is called directly, with no encoding, under the same
//! metadata and deadline rules as a remote call and the handler's own method policy.

use std::future::Future;
use std::sync::Arc;

use super::timeout::encode_timeout;
use super::Client;
use crate::context::deadline::GRPC_TIMEOUT;
use crate::context::{CallScope, Protocol, Request, Response, ServerStream};
use crate::invoke::{self, Deadlined};
use crate::method::{MethodInfo, MethodPolicy};
use crate::status::Status;

/// Headers a handler hands on to the calls it makes itself.
const PROPAGATED: [&str; 3] = ["x-request-id", "traceparent", "tracestate"];

impl Client {
    /// Calls a local handler's unary method: `call` runs the handler with the prepared request.
    pub async fn local_unary<Req, Resp, F, Fut>(
        &self,
        method: &'static MethodInfo,
        policy: Option<&'static MethodPolicy>,
        request: Request<Req>,
        call: F,
    ) -> Result<Response<Resp>, Status>
    where
        F: FnOnce(Request<Req>) -> Fut,
        Fut: Future<Output = Result<Response<Resp>, Status>>,
    {
        let (message, context) = request.into_parts();
        let (headers, scope) = self.local_headers(method, context);
        let running = invoke::start(
            call,
            Protocol::Grpc,
            method,
            policy,
            headers,
            http::Extensions::new(),
            message,
        );
        scope.enter(running).await
    }

    /// Calls a local handler's server-streaming method.
    pub async fn local_server_streaming<Req, Resp, F, Fut>(
        &self,
        method: &'static MethodInfo,
        policy: Option<&'static MethodPolicy>,
        request: Request<Req>,
        call: F,
    ) -> Result<Response<ServerStream<Resp>>, Status>
    where
        Resp: Send + 'static,
        F: FnOnce(Request<Req>) -> Fut,
        Fut: Future<Output = Result<Response<ServerStream<Resp>>, Status>>,
    {
        let (message, context) = request.into_parts();
        let (headers, scope) = self.local_headers(method, context);
        let setup = invoke::call_context(
            Protocol::Grpc,
            method,
            policy,
            headers,
            http::Extensions::new(),
        )?;
        let deadline = setup.deadline;
        let token = setup.context.cancellation().clone();
        let running = invoke::Invoke::running(
            call(Request::from_parts(message, setup.context)),
            deadline,
            &token,
        );
        let response = scope.enter(running).await?;
        // The stream outlives the call that opened it; dropping it early cancels the handler.
        let guard = token.drop_guard();
        Ok(response.map(|stream| {
            Box::pin(Deadlined::new(stream, deadline, None, Some(guard))) as ServerStream<Resp>
        }))
    }

    /// The headers a local handler sees (the deadline as `grpc-timeout`, as a server would read
    /// it) and the call scope it runs in.
    fn local_headers(
        &self,
        method: &MethodInfo,
        context: crate::context::Context,
    ) -> (http::HeaderMap, Arc<CallScope>) {
        let outgoing = self.outgoing(method, context);
        let timeout = outgoing.timeout();
        let mut headers = outgoing.headers;
        let mut propagated = http::HeaderMap::new();
        for name in PROPAGATED {
            for value in headers.get_all(name) {
                propagated.append(name, value.clone());
            }
        }
        let scope = Arc::new(CallScope::new(outgoing.deadline, propagated));
        if let Some(timeout) = timeout {
            if let Ok(value) = encode_timeout(timeout).parse() {
                headers.insert(GRPC_TIMEOUT, value);
            }
        }
        (headers, scope)
    }
}
