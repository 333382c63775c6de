//! The JWKS key cache and its small HTTP client.
//!
//! There is no background task: the first request that finds the keys stale refreshes them inline
//! while concurrent requests keep using the old keys, so the cache works the same under one
//! multi-thread runtime or several current-thread runtimes. Only when no keys were ever fetched do
//! requests wait for the fetch in progress. Every fetch is bounded in time and size; a failed
//! fetch keeps the old keys and holds further attempts off for the refetch interval.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Request, StatusCode, Uri};
use http_body_util::{BodyExt, Empty, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use super::keys::{parse_jwks, KeyMap, VerifyKey};

/// Why a key could not be found.
pub(crate) enum Miss {
    /// The key set is known and has no such `kid`.
    UnknownKid,
    /// No key set could be fetched yet.
    Unavailable(String),
}

#[derive(Default)]
struct State {
    keys: Option<Arc<KeyMap>>,
    fetched_at: Option<Instant>,
    failed_at: Option<Instant>,
    kid_refetch_at: Option<Instant>,
}

pub(crate) struct JwksCache {
    url: Uri,
    client: Client<HttpsConnector<HttpConnector>, Empty<Bytes>>,
    state: Mutex<State>,
    /// Counts the key sets installed, so tokens remembered as verified can tell a new one.
    generation: AtomicU64,
    /// Held by the one request fetching; others either use old keys or wait (cold cache).
    fetching: tokio::sync::Mutex<()>,
    refresh: Duration,
    refetch_interval: Duration,
    timeout: Duration,
    max_bytes: usize,
}

impl JwksCache {
    pub(crate) fn new(
        url: Uri,
        refresh: Duration,
        refetch_interval: Duration,
        timeout: Duration,
        max_bytes: usize,
    ) -> Result<Self, String> {
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_connect_timeout(Some(timeout));
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_webpki_roots(rustls::crypto::ring::default_provider())
            .map_err(|e| format!("TLS setup failed: {e}"))?
            .https_or_http()
            .enable_http1()
            .enable_http2()
            .wrap_connector(http);
        // No idle pool: a pooled connection's driver task would belong to whichever runtime
        // opened it, and fetches are minutes apart anyway.
        let client = Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(0)
            .build(https);
        Ok(Self {
            url,
            client,
            state: Mutex::new(State::default()),
            generation: AtomicU64::new(0),
            fetching: tokio::sync::Mutex::new(()),
            refresh,
            refetch_interval,
            timeout,
            max_bytes,
        })
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // The state is plain data updated in single assignments; a panic elsewhere cannot
        // leave it half-written.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The number of key sets installed so far.
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    fn keys(&self) -> Option<Arc<KeyMap>> {
        self.state().keys.clone()
    }

    /// Whether a refresh is due: keys stale (or absent) and no failure within the interval.
    fn refresh_due(&self, now: Instant) -> bool {
        let state = self.state();
        let stale = state
            .fetched_at
            .is_none_or(|at| now.saturating_duration_since(at) >= self.refresh);
        let backing_off = state
            .failed_at
            .is_some_and(|at| now.saturating_duration_since(at) < self.refetch_interval);
        stale && !backing_off
    }

    /// The key for `kid`, refreshing the set when it is stale or does not know `kid` (the latter
    /// at most once per refetch interval).
    pub(crate) async fn key(&self, kid: &str) -> Result<Arc<VerifyKey>, Miss> {
        if self.refresh_due(Instant::now()) {
            if self.keys().is_some() {
                // Someone else is already refreshing: the old keys serve meanwhile.
                if let Ok(_guard) = self.fetching.try_lock() {
                    if self.refresh_due(Instant::now()) {
                        let _ = self.fetch().await;
                    }
                }
            } else {
                let _guard = self.fetching.lock().await;
                if self.refresh_due(Instant::now()) {
                    let _ = self.fetch().await;
                }
            }
        }
        let Some(keys) = self.keys() else {
            return Err(Miss::Unavailable("no JWKS has been fetched".to_owned()));
        };
        if let Some(key) = keys.get(kid) {
            return Ok(key.clone());
        }
        self.refetch_for(kid).await
    }

    async fn refetch_for(&self, kid: &str) -> Result<Arc<VerifyKey>, Miss> {
        let allowed = |cache: &Self| {
            let state = cache.state();
            let now = Instant::now();
            let after = |at: Option<Instant>| {
                at.is_none_or(|at| now.saturating_duration_since(at) >= cache.refetch_interval)
            };
            after(state.kid_refetch_at) && after(state.failed_at)
        };
        let in_progress = self.fetching.try_lock().is_err();
        if !allowed(self) && !in_progress {
            return Err(Miss::UnknownKid);
        }
        // Wait for any fetch in progress: it may bring the key.
        let _guard = self.fetching.lock().await;
        if let Some(key) = self.keys().and_then(|keys| keys.get(kid).cloned()) {
            return Ok(key);
        }
        if !allowed(self) {
            return Err(Miss::UnknownKid);
        }
        self.state().kid_refetch_at = Some(Instant::now());
        tracing::info!(%kid, "unknown kid: refetching the JWKS");
        let _ = self.fetch().await;
        self.keys()
            .and_then(|keys| keys.get(kid).cloned())
            .ok_or(Miss::UnknownKid)
    }

    /// Fetches now, whatever the cache state (the caller holds `fetching` or accepts a race).
    pub(crate) async fn refresh_now(&self) -> Result<usize, String> {
        let _guard = self.fetching.lock().await;
        self.fetch().await
    }

    async fn fetch(&self) -> Result<usize, String> {
        let result = match tokio::time::timeout(self.timeout, self.get()).await {
            Ok(result) => result.and_then(|body| parse_jwks(&body)),
            Err(_) => Err(format!("no answer within {:?}", self.timeout)),
        };
        let now = Instant::now();
        let mut state = self.state();
        match result {
            Ok(keys) => {
                let count = keys.len();
                if count == 0 {
                    tracing::warn!(url = %self.url, "JWKS holds no usable signature keys");
                }
                state.keys = Some(Arc::new(keys));
                self.generation.fetch_add(1, Ordering::AcqRel);
                state.fetched_at = Some(now);
                state.failed_at = None;
                Ok(count)
            }
            Err(reason) => {
                tracing::warn!(url = %self.url, %reason, "JWKS fetch failed; keeping the old keys");
                state.failed_at = Some(now);
                Err(reason)
            }
        }
    }

    async fn get(&self) -> Result<Bytes, String> {
        let request = Request::get(self.url.clone())
            .header(
                http::header::ACCEPT,
                "application/jwk-set+json, application/json",
            )
            .header(http::header::USER_AGENT, "tacos-runtime")
            .body(Empty::new())
            .map_err(|e| format!("bad request: {e}"))?;
        let response = self
            .client
            .request(request)
            .await
            .map_err(|e| format!("request failed: {e}"))?;
        if response.status() != StatusCode::OK {
            return Err(format!("answered {}", response.status()));
        }
        let body = Limited::new(response.into_body(), self.max_bytes)
            .collect()
            .await
            .map_err(|e| format!("body not read: {e}"))?;
        Ok(body.to_bytes())
    }
}
