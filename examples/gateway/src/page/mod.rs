//! The waiting-room pages a browser opens, shipped inside the binary (plain HTML, CSS and a
//! small script each; no build step):
//!
//! | path | page |
//! |---|---|
//! | `/queue/{event_id}` | the buyer's page: joins (or resumes with the token kept in the browser), shows place, people ahead, wait and progress live over `StreamQueueUpdates` (SSE, polling `GetQueueStatus` while the stream is down), asks for admission when the turn comes and goes on to [`QueuePages::new`]'s next URL with the reservation token |
//! | `/queue/{event_id}/stats` | the operator view: waiting, admitted, admission rate, average wait and the wait of the last in line, refreshed every two seconds through `GetQueueStats`, which needs an operator or admin token |
//! | `/queue/{event_id}/admitted` | the default next page: shows the reservation token |
//!
//! The pages call the gateway's public REST routes from the browser; nothing about a visitor
//! is rendered on the server, so the event id in the path never reaches the HTML unescaped.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::header::{HeaderValue, ALLOW, CACHE_CONTROL, CONTENT_TYPE};
use http::{Method, StatusCode};
use http_body_util::Full;
use tacos_runtime::grpc::Body;

/// The default next URL: the built-in page showing the reservation token.
pub const DEFAULT_NEXT_URL: &str = "/queue/{event_id}/admitted";

const CSS: &str = include_str!("page.css");

/// The rendered pages, built once at start-up.
#[derive(Clone, Debug)]
pub struct QueuePages {
    queue: Bytes,
    stats: Bytes,
    admitted: Bytes,
}

impl QueuePages {
    /// The pages, sending admitted buyers to `next_url` (`{event_id}` is replaced by the event;
    /// `event_id` and `reservation_token` are added as query parameters).
    pub fn new(next_url: &str) -> Self {
        let config = serde_json::json!({ "next_url": next_url }).to_string();
        Self {
            queue: page(include_str!("queue.html"), include_str!("queue.js"))
                // `<` escaped so that no value can close the script element.
                .replace("/*CONFIG*/", &config.replace('<', "\\u003c"))
                .into(),
            stats: page(include_str!("stats.html"), include_str!("stats.js")).into(),
            admitted: page(include_str!("admitted.html"), "").into(),
        }
    }

    /// A middleware layer answering the pages' paths and passing every other request on.
    pub fn layer(&self) -> QueuePagesLayer {
        QueuePagesLayer {
            pages: Arc::new(self.clone()),
        }
    }

    /// The answer to `method path` when `path` is one of the pages', else `None`.
    pub fn answer(&self, method: &Method, path: &str) -> Option<http::Response<Body>> {
        let rest = path.strip_prefix("/queue/")?;
        let (event, page) = rest.split_once('/').unwrap_or((rest, ""));
        if event.is_empty() {
            return None;
        }
        let html = match page {
            "" => &self.queue,
            "stats" => &self.stats,
            "admitted" => &self.admitted,
            _ => return None,
        };
        if method != Method::GET && method != Method::HEAD {
            let mut response = http::Response::new(Body::new(Full::new(Bytes::from_static(
                b"only GET and HEAD are allowed here\n",
            ))));
            *response.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
            let headers = response.headers_mut();
            headers.insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
            headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
            return Some(response);
        }
        let mut response = http::Response::new(Body::new(Full::new(html.clone())));
        let headers = response.headers_mut();
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        headers.insert(
            "x-content-type-options",
            HeaderValue::from_static("nosniff"),
        );
        // The next URL carries the reservation token: keep it out of Referer headers.
        headers.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
        Some(response)
    }
}

/// Inlines the shared style sheet and `script` into `html`: one request per page.
fn page(html: &str, script: &str) -> String {
    html.replace("/*CSS*/", CSS).replace("/*JS*/", script)
}

/// The [`tower::Layer`] made by [`QueuePages::layer`].
#[derive(Clone, Debug)]
pub struct QueuePagesLayer {
    pages: Arc<QueuePages>,
}

impl<S> tower::Layer<S> for QueuePagesLayer {
    type Service = QueuePagesService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        QueuePagesService {
            pages: Arc::clone(&self.pages),
            inner,
        }
    }
}

/// The service made by [`QueuePagesLayer`].
#[derive(Clone, Debug)]
pub struct QueuePagesService<S> {
    pages: Arc<QueuePages>,
    inner: S,
}

impl<S> tower::Service<http::Request<Body>> for QueuePagesService<S>
where
    S: tower::Service<http::Request<Body>, Response = http::Response<Body>>,
    S::Error: Send + 'static,
    S::Future: Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        match self.pages.answer(request.method(), request.uri().path()) {
            Some(response) => Box::pin(std::future::ready(Ok(response))),
            None => Box::pin(self.inner.call(request)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(response: http::Response<Body>) -> String {
        let bytes =
            futures::executor::block_on(http_body_util::BodyExt::collect(response.into_body()))
                .unwrap()
                .to_bytes();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    #[test]
    fn pages_are_answered_by_path_and_method() {
        let pages = QueuePages::new("https://shop.example/buy?x=</script>");
        let queue = pages.answer(&Method::GET, "/queue/concert-1").unwrap();
        assert_eq!(queue.status(), StatusCode::OK);
        assert_eq!(queue.headers()[CONTENT_TYPE], "text/html; charset=utf-8");
        let html = body(queue);
        assert!(html.contains("\"next_url\":\"https://shop.example/buy?x=\\u003c/script>\""));
        assert!(!html.contains("/*JS*/") && !html.contains("/*CSS*/"));
        assert!(html.contains("EventSource"));
        for path in ["/queue/concert-1/stats", "/queue/concert-1/admitted"] {
            assert_eq!(pages.answer(&Method::HEAD, path).unwrap().status(), 200);
        }
        let post = pages.answer(&Method::POST, "/queue/concert-1").unwrap();
        assert_eq!(post.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(post.headers()[ALLOW], "GET, HEAD");
        for other in ["/queue/", "/queue", "/queue/a/b", "/api/v1/queue/join", "/"] {
            assert!(pages.answer(&Method::GET, other).is_none(), "{other}");
        }
    }

    #[test]
    fn everything_a_page_loads_stays_small() {
        let pages = QueuePages::new(DEFAULT_NEXT_URL);
        for page in [&pages.queue, &pages.stats, &pages.admitted] {
            assert!(page.len() < 30 * 1024, "{} bytes", page.len());
        }
    }
}
