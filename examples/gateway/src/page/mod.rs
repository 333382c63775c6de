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

use axum::response::IntoResponse;
use axum::routing::get;
use bytes::Bytes;
use http::header::{HeaderValue, CACHE_CONTROL, CONTENT_TYPE};

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

    /// The pages as axum routes (`GET` and `HEAD`; other methods get 405 with `Allow`), for
    /// the server to serve beside the generated ones.
    pub fn router(&self) -> axum::Router {
        let route = |html: &Bytes| {
            let html = html.clone();
            get(move || std::future::ready(HtmlPage(html.clone())))
        };
        axum::Router::new()
            .route("/queue/{event_id}", route(&self.queue))
            .route("/queue/{event_id}/stats", route(&self.stats))
            .route("/queue/{event_id}/admitted", route(&self.admitted))
    }
}

/// One rendered page as an HTML response.
struct HtmlPage(Bytes);

impl IntoResponse for HtmlPage {
    fn into_response(self) -> axum::response::Response {
        let mut response = self.0.into_response();
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
        response
    }
}

/// Inlines the shared style sheet and `script` into `html`: one request per page.
fn page(html: &str, script: &str) -> String {
    html.replace("/*CSS*/", CSS).replace("/*JS*/", script)
}

#[cfg(test)]
mod tests {
    use super::*;

    use http::header::ALLOW;
    use http::{Method, StatusCode};
    use tower::ServiceExt;

    /// `method path` through the pages' router: status, headers and body.
    async fn call(pages: &QueuePages, method: Method, path: &str) -> http::Response<String> {
        let request = http::Request::builder()
            .method(method)
            .uri(path)
            .body(axum::body::Body::empty())
            .unwrap();
        let response = pages.router().oneshot(request).await.unwrap();
        let (parts, body) = response.into_parts();
        let bytes = http_body_util::BodyExt::collect(body)
            .await
            .unwrap()
            .to_bytes();
        http::Response::from_parts(parts, String::from_utf8(bytes.to_vec()).unwrap())
    }

    #[tokio::test]
    async fn pages_are_answered_by_path_and_method() {
        let pages = QueuePages::new("https://shop.example/buy?x=</script>");
        let queue = call(&pages, Method::GET, "/queue/concert-1").await;
        assert_eq!(queue.status(), StatusCode::OK);
        assert_eq!(queue.headers()[CONTENT_TYPE], "text/html; charset=utf-8");
        assert_eq!(queue.headers()["referrer-policy"], "no-referrer");
        let html = queue.body();
        assert!(html.contains("\"next_url\":\"https://shop.example/buy?x=\\u003c/script>\""));
        assert!(!html.contains("/*JS*/") && !html.contains("/*CSS*/"));
        assert!(html.contains("EventSource"));
        for path in ["/queue/concert-1/stats", "/queue/concert-1/admitted"] {
            assert_eq!(call(&pages, Method::HEAD, path).await.status(), 200);
        }
        let post = call(&pages, Method::POST, "/queue/concert-1").await;
        assert_eq!(post.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(post.headers()[ALLOW], "GET,HEAD");
        for other in ["/queue/", "/queue", "/queue/a/b", "/api/v1/queue/join", "/"] {
            let answer = call(&pages, Method::GET, other).await;
            assert_eq!(answer.status(), StatusCode::NOT_FOUND, "{other}");
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
