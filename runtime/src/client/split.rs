//! The split transport: gRPC and REST to the same backend, a live percentage deciding per call
//! which carries it, and optional shadow calls over the other one.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use super::{GrpcTransport, RestTransport};
use crate::method::MethodInfo;
use crate::metrics::{ClientMetrics, Metrics};
use crate::migration::{PercentOutOfRange, Shadow, ShadowConfig, Split};

/// gRPC and REST to one backend: [`Split`] picks the transport of each call; with a shadow,
/// a sampled share of calls to side-effect-free methods also goes over the other transport and
/// the answers are compared (see [`crate::migration`]). Cheap to clone; clones share the
/// percentage, the shadow and both transports.
#[derive(Clone)]
pub struct SplitTransport {
    inner: Arc<Inner>,
}

struct Inner {
    grpc: GrpcTransport,
    rest: RestTransport,
    split: Split,
    shadow: Option<Shadow>,
    // Shadow differences are reported by method path; metrics want the method's names.
    methods: Arc<Mutex<HashMap<&'static str, &'static MethodInfo>>>,
}

impl fmt::Debug for SplitTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SplitTransport")
            .field("grpc", &self.inner.grpc)
            .field("rest", &self.inner.rest)
            .field("split", &self.inner.split.to_string())
            .field("shadow", &self.inner.shadow.as_ref().map(Shadow::per_mille))
            .finish()
    }
}

impl SplitTransport {
    /// Sends `grpc_percent` of calls over `grpc` and the rest over `rest`, without shadowing.
    pub fn new(
        grpc: GrpcTransport,
        rest: RestTransport,
        grpc_percent: u32,
    ) -> Result<Self, PercentOutOfRange> {
        Self::build(grpc, rest, grpc_percent, None, None)
    }

    /// As [`new`](Self::new), also shadowing calls to the client's side-effect-free methods by
    /// `shadow`; differences are counted as `tacos_client_shadow_differences_total` in
    /// `metrics` ([`Metrics::global`] when `None`).
    pub fn with_shadow(
        grpc: GrpcTransport,
        rest: RestTransport,
        grpc_percent: u32,
        shadow: ShadowConfig,
        metrics: Option<Arc<Metrics>>,
    ) -> Result<Self, PercentOutOfRange> {
        Self::build(grpc, rest, grpc_percent, Some(shadow), metrics)
    }

    fn build(
        grpc: GrpcTransport,
        rest: RestTransport,
        grpc_percent: u32,
        shadow: Option<ShadowConfig>,
        metrics: Option<Arc<Metrics>>,
    ) -> Result<Self, PercentOutOfRange> {
        let split = Split::new(grpc_percent)?;
        let methods: Arc<Mutex<HashMap<&'static str, &'static MethodInfo>>> = Arc::default();
        let shadow = shadow.map(|config| {
            let metrics = metrics.unwrap_or_else(|| Metrics::global().clone());
            let series = ClientMetrics::new(&metrics, grpc.target(), []);
            let known = Arc::clone(&methods);
            Shadow::new(config).on_difference(move |path, field| {
                let method = known
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .get(path)
                    .copied();
                if let Some(method) = method {
                    series.shadow_differences(method, field).inc();
                }
            })
        });
        Ok(Self {
            inner: Arc::new(Inner {
                grpc,
                rest,
                split,
                shadow,
                methods,
            }),
        })
    }

    /// The gRPC transport.
    pub fn grpc(&self) -> &GrpcTransport {
        &self.inner.grpc
    }

    /// The REST transport.
    pub fn rest(&self) -> &RestTransport {
        &self.inner.rest
    }

    /// The share of calls sent over gRPC now, in percent.
    pub fn grpc_percent(&self) -> u8 {
        self.inner.split.percent()
    }

    /// Changes the share of calls sent over gRPC, for calls from now on (every clone sees it).
    pub fn set_grpc_percent(&self, percent: u32) -> Result<(), PercentOutOfRange> {
        self.inner.split.set_percent(percent)
    }

    /// The shadow, when calls are shadowed: its share can be changed and its counters read.
    pub fn shadow(&self) -> Option<&Shadow> {
        self.inner.shadow.as_ref()
    }

    /// Whether this call goes over gRPC.
    pub(crate) fn pick_grpc(&self) -> bool {
        self.inner.split.grpc()
    }

    /// Remembers `method` so shadow differences of it can be labelled.
    pub(crate) fn note(&self, method: &'static MethodInfo) {
        let mut methods = self.inner.methods.lock().unwrap_or_else(|e| e.into_inner());
        methods.entry(method.path).or_insert(method);
    }
}
