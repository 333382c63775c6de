//! Health: `grpc.health.v1` per service, and REST `/healthz` (alive) and `/readyz` (ready).
//!
//! Every registered service starts `SERVING`. [`Health`] changes a service's status for both
//! surfaces at once. `/healthz` answers 200 while the process serves requests at all; `/readyz`
//! answers 200 only when every registered service is `SERVING` and the server is not shutting
//! down, else 503 with the services that are not ready. On shutdown every service turns
//! `NOT_SERVING` first, so load balancers stop sending traffic while in-flight calls drain.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::header::CONTENT_TYPE;
use http::StatusCode;
use http_body_util::Full;
use tonic_health::server::HealthReporter;
use tonic_health::ServingStatus;

use crate::grpc::Body;

/// REST liveness path.
pub const HEALTHZ: &str = "/healthz";
/// REST readiness path.
pub const READYZ: &str = "/readyz";

/// A handle on the server's health statuses.
#[derive(Clone, Debug)]
pub struct Health {
    inner: Arc<HealthInner>,
}

#[derive(Debug)]
struct HealthInner {
    reporter: HealthReporter,
    serving: Mutex<BTreeMap<String, bool>>,
    shutting_down: AtomicBool,
}

impl Health {
    pub(crate) fn new(reporter: HealthReporter) -> Self {
        Self {
            inner: Arc::new(HealthInner {
                reporter,
                serving: Mutex::new(BTreeMap::new()),
                shutting_down: AtomicBool::new(false),
            }),
        }
    }

    /// Sets whether `service` (fully qualified name) is serving, on gRPC health and `/readyz`.
    pub async fn set_serving(&self, service: &str, serving: bool) {
        self.inner
            .serving
            .lock()
            .expect("health lock poisoned")
            .insert(service.to_owned(), serving);
        let status = if serving {
            ServingStatus::Serving
        } else {
            ServingStatus::NotServing
        };
        self.inner
            .reporter
            .set_service_status(service, status)
            .await;
    }

    /// Whether every service is serving and the server is not shutting down.
    pub fn is_ready(&self) -> bool {
        !self.inner.shutting_down.load(Ordering::Acquire)
            && self
                .inner
                .serving
                .lock()
                .expect("health lock poisoned")
                .values()
                .all(|serving| *serving)
    }

    /// Marks the whole server as shutting down: every service `NOT_SERVING`, `/readyz` 503.
    pub(crate) async fn shutting_down(&self) {
        self.inner.shutting_down.store(true, Ordering::Release);
        let services: Vec<String> = self
            .inner
            .serving
            .lock()
            .expect("health lock poisoned")
            .keys()
            .cloned()
            .collect();
        for service in services {
            self.set_serving(&service, false).await;
        }
        self.inner
            .reporter
            .set_service_status("", ServingStatus::NotServing)
            .await;
    }

    /// Answers `/healthz` and `/readyz`; `None` for other paths.
    pub(crate) fn answer(&self, method: &http::Method, path: &str) -> Option<http::Response<Body>> {
        if method != http::Method::GET && method != http::Method::HEAD {
            return None;
        }
        let (status, body) = match path {
            HEALTHZ => (StatusCode::OK, serde_json::json!({"status": "ok"})),
            READYZ if self.is_ready() => (StatusCode::OK, serde_json::json!({"status": "ready"})),
            READYZ => {
                let not_ready: Vec<String> = self
                    .inner
                    .serving
                    .lock()
                    .expect("health lock poisoned")
                    .iter()
                    .filter(|(_, serving)| !**serving)
                    .map(|(name, _)| name.clone())
                    .collect();
                let shutting_down = self.inner.shutting_down.load(Ordering::Acquire);
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    serde_json::json!({
                        "status": "not ready",
                        "shutting_down": shutting_down,
                        "not_serving": not_ready,
                    }),
                )
            }
            _ => return None,
        };
        let bytes = serde_json::to_vec(&body).expect("a json value always serializes");
        let mut response = http::Response::new(Body::new(Full::new(Bytes::from(bytes))));
        *response.status_mut() = status;
        response.headers_mut().insert(
            CONTENT_TYPE,
            http::HeaderValue::from_static("application/json"),
        );
        Some(response)
    }
}
