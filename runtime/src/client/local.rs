//! The in-process transport: the handler is called directly, with no encoding, under the same
//! metadata and deadline rules as a remote call and the handler's own method policy.

use std::future::Future;

use super::timeout::encode_timeout;
use super::Client;
use crate::context::deadline::GRPC_TIMEOUT;
use crate::context::{Protocol, Request, RequestStream, Response, ServerStream};
use crate::invoke::{self, CallParts};
use crate::method::{MethodInfo, MethodPolicy};
use crate::status::Status;

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
        Req: prost::Message + Send + 'static,
        Resp: prost::Message + Default + Send + 'static,
        F: FnOnce(Request<Req>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<Response<Resp>, Status>> + Send + 'static,
    {
        let (message, context) = request.into_parts();
        let parts = self.local_parts(method, policy, context);
        invoke::unary(parts, move || Ok(message), call).await
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
        Req: Send + 'static,
        Resp: Send + 'static,
        F: FnOnce(Request<Req>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<Response<ServerStream<Resp>>, Status>> + Send + 'static,
    {
        let (message, context) = request.into_parts();
        let parts = self.local_parts(method, policy, context);
        invoke::server_streaming(parts, move || Ok(message), call).await
    }

    /// Calls a local handler's client-streaming method: it reads the caller's stream directly.
    pub async fn local_client_streaming<Req, Resp, F, Fut>(
        &self,
        method: &'static MethodInfo,
        policy: Option<&'static MethodPolicy>,
        request: Request<RequestStream<Req>>,
        call: F,
    ) -> Result<Response<Resp>, Status>
    where
        Req: Send + 'static,
        Resp: Send + 'static,
        F: FnOnce(Request<RequestStream<Req>>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<Response<Resp>, Status>> + Send + 'static,
    {
        let (messages, context) = request.into_parts();
        let parts = self.local_parts(method, policy, context);
        invoke::client_streaming(parts, move || Ok(messages), call).await
    }

    /// Calls a local handler's bidirectional method.
    pub async fn local_bidi_streaming<Req, Resp, F, Fut>(
        &self,
        method: &'static MethodInfo,
        policy: Option<&'static MethodPolicy>,
        request: Request<RequestStream<Req>>,
        call: F,
    ) -> Result<Response<ServerStream<Resp>>, Status>
    where
        Req: Send + 'static,
        Resp: Send + 'static,
        F: FnOnce(Request<RequestStream<Req>>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<Response<ServerStream<Resp>>, Status>> + Send + 'static,
    {
        self.local_server_streaming(method, policy, request, call)
            .await
    }

    /// The call as the handler's server would see it: the outgoing metadata (request id and
    /// trace context included) with the deadline as `grpc-timeout`. It runs through the same
    /// call pipeline as a remote call, minus the server's own policies (no auth or limits
    /// between parts of one process).
    fn local_parts(
        &self,
        method: &'static MethodInfo,
        policy: Option<&'static MethodPolicy>,
        context: crate::context::Context,
    ) -> CallParts {
        let outgoing = self.outgoing(method, context);
        let timeout = outgoing.timeout();
        let mut headers = outgoing.headers;
        if let Some(timeout) = timeout {
            if let Ok(value) = encode_timeout(timeout).parse() {
                headers.insert(GRPC_TIMEOUT, value);
            }
        }
        CallParts {
            protocol: Protocol::Grpc,
            method,
            policy,
            headers,
            extensions: http::Extensions::new(),
        }
    }
}
