//! JSON over HTTP/1.1 with hyper's connection-level client: one connection, one request at a
//! time, no pool in the way.

use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE, HOST};
use hyper::{Method, Request, StatusCode, Uri};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use super::ClientError;

/// One HTTP/1.1 connection.
#[derive(Debug)]
pub struct RestClient {
    sender: SendRequest<Full<Bytes>>,
    host: String,
}

/// A whole response.
#[derive(Debug, Clone)]
pub struct RestReply {
    /// The status code.
    pub status: StatusCode,
    /// The body, collected.
    pub body: Bytes,
}

impl RestClient {
    /// Connects to `addr`; the connection is driven by a task on the current runtime.
    pub async fn connect(addr: SocketAddr) -> Result<Self, ClientError> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let (sender, connection) = http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(async move {
            // An error here also fails the pending request, which is where it is counted.
            let _ = connection.await;
        });
        Ok(Self {
            sender,
            host: addr.to_string(),
        })
    }

    /// Whether the connection can still carry requests.
    pub fn is_closed(&self) -> bool {
        self.sender.is_closed()
    }

    /// POSTs `body` as JSON to `path` and reads the whole answer.
    pub async fn post_json(&mut self, path: &Uri, body: Bytes) -> Result<RestReply, ClientError> {
        self.post_json_as(path, body, None).await
    }

    /// [`post_json`](Self::post_json) with an `authorization` header when `bearer` is given.
    pub async fn post_json_as(
        &mut self,
        path: &Uri,
        body: Bytes,
        bearer: Option<&HeaderValue>,
    ) -> Result<RestReply, ClientError> {
        let mut request = Request::builder()
            .method(Method::POST)
            .uri(path.clone())
            .header(HOST, self.host.as_str())
            .header(CONTENT_TYPE, "application/json");
        if let Some(bearer) = bearer {
            request = request.header(AUTHORIZATION, bearer);
        }
        let request = request
            .body(Full::new(body))
            .map_err(|_| ClientError::Address(path.to_string()))?;
        self.sender.ready().await?;
        let response = self.sender.send_request(request).await?;
        let status = response.status();
        let body = response.into_body().collect().await?.to_bytes();
        Ok(RestReply { status, body })
    }
}
