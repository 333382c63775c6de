//! OTLP trace export (feature `otlp`): server spans sent as http/protobuf to
//! `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/traces` by a batch processor on its own thread.
//! `OTEL_SERVICE_NAME` and `OTEL_RESOURCE_ATTRIBUTES` name the service, as usual.

use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Mutex;
use std::time::Duration;

use opentelemetry::trace::{
    SpanContext, TraceContextExt as _, TraceFlags, TraceState, TracerProvider as _,
};
use opentelemetry::Context;
use opentelemetry_otlp::{Protocol, WithExportConfig as _};
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider};
use opentelemetry_sdk::Resource;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

use super::call::CallTelemetry;
use super::logging::LoggingError;
use super::trace::{SpanId, TraceId};

/// Set once an export pipeline is installed: until then, spans skip the OpenTelemetry work.
static ACTIVE: AtomicBool = AtomicBool::new(false);
/// The installed pipeline, kept to flush it at shutdown.
static PROVIDER: Mutex<Option<SdkTracerProvider>> = Mutex::new(None);

const EXPORT_TIMEOUT: Duration = Duration::from_secs(10);

/// A tracer provider exporting to `endpoint` (`http://host:port`, the OTLP/HTTP base URL).
pub(crate) fn provider(endpoint: &str) -> Result<SdkTracerProvider, LoggingError> {
    let url = format!("{}/v1/traces", endpoint.trim_end_matches('/'));
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(url)
        .with_timeout(EXPORT_TIMEOUT)
        .build()
        .map_err(|e| LoggingError::Otlp(e.to_string()))?;
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(Resource::builder().build())
        .build())
}

pub(crate) fn tracer(provider: &SdkTracerProvider) -> SdkTracer {
    provider.tracer("tacos")
}

/// Makes `provider` the process's pipeline (flushed by [`shutdown_tracing`]).
pub(crate) fn activate(provider: SdkTracerProvider) {
    *PROVIDER.lock().unwrap_or_else(|e| e.into_inner()) = Some(provider);
    ACTIVE.store(true, Relaxed);
}

/// Sends the spans still buffered and stops export, then writes the gathered log lines; call
/// it when the server has drained.
pub fn shutdown_tracing() {
    ACTIVE.store(false, Relaxed);
    let provider = PROVIDER.lock().unwrap_or_else(|e| e.into_inner()).take();
    if let Some(provider) = provider {
        if let Err(err) = provider.shutdown() {
            tracing::warn!(error = %err, "trace export did not shut down cleanly");
        }
    }
    super::flush_logs();
}

/// Parents `span` on the caller's span (when the call continued a trace) and gives `call` the
/// exported span's ids and sampling decision.
pub(crate) fn continue_trace(span: &tracing::Span, call: &mut CallTelemetry) {
    if !ACTIVE.load(Relaxed) {
        return;
    }
    let trace = call.trace();
    if let Some(parent) = trace.parent_id() {
        let state = trace
            .tracestate()
            .and_then(|v| v.to_str().ok())
            .and_then(|s| s.parse::<TraceState>().ok())
            .unwrap_or_default();
        let remote = SpanContext::new(
            opentelemetry::trace::TraceId::from_bytes(trace.trace_id().to_bytes()),
            opentelemetry::trace::SpanId::from_bytes(parent.to_bytes()),
            TraceFlags::new(trace.flags() & 0x01),
            true,
            state,
        );
        if span
            .set_parent(Context::new().with_remote_span_context(remote))
            .is_err()
        {
            // Not recorded by the OpenTelemetry layer (filtered out): nothing to adopt.
            return;
        }
    }
    let cx = span.context();
    let exported = cx.span().span_context().clone();
    if !exported.is_valid() {
        return;
    }
    if let (Some(trace_id), Some(span_id)) = (
        TraceId::from_bytes(exported.trace_id().to_bytes()),
        SpanId::from_bytes(exported.span_id().to_bytes()),
    ) {
        call.adopt(trace_id, span_id, exported.is_sampled());
    }
}

#[cfg(test)]
mod tests {
    //! Spans exported to a loopback HTTP receiver and decoded with the OTLP protobuf schema.

    use std::convert::Infallible;

    use bytes::Bytes;
    use http::{HeaderMap, HeaderValue};
    use http_body_util::{BodyExt as _, Full};
    use hyper::server::conn::http1;
    use hyper::service::service_fn;
    use hyper_util::rt::TokioIo;
    use tokio::sync::mpsc;

    use super::*;
    use crate::method::{Idempotency, MethodInfo, MethodKind};
    use crate::telemetry::tests::Capture;
    use crate::telemetry::{server_span, TRACEPARENT_HEADER};

    static GET_BOOK: MethodInfo = MethodInfo {
        service: "pkg.v1.Library",
        name: "GetBook",
        path: "/pkg.v1.Library/GetBook",
        kind: MethodKind::Unary,
        idempotency: Idempotency::Unknown,
    };

    // The parts of `ExportTraceServiceRequest` these tests read (field numbers from the
    // OTLP schema; everything else is skipped by the decoder).
    #[derive(Clone, PartialEq, prost::Message)]
    struct ExportRequest {
        #[prost(message, repeated, tag = "1")]
        resource_spans: Vec<ResourceSpans>,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    struct ResourceSpans {
        #[prost(message, repeated, tag = "2")]
        scope_spans: Vec<ScopeSpans>,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    struct ScopeSpans {
        #[prost(message, repeated, tag = "2")]
        spans: Vec<OtlpSpan>,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    struct OtlpSpan {
        #[prost(bytes = "vec", tag = "1")]
        trace_id: Vec<u8>,
        #[prost(bytes = "vec", tag = "2")]
        span_id: Vec<u8>,
        #[prost(bytes = "vec", tag = "4")]
        parent_span_id: Vec<u8>,
        #[prost(string, tag = "5")]
        name: String,
        #[prost(int32, tag = "6")]
        kind: i32,
    }
    const SPAN_KIND_SERVER: i32 = 2;

    /// A loopback OTLP/HTTP receiver: each request's path and body go to the channel.
    async fn receiver() -> (String, mpsc::UnboundedReceiver<(String, Bytes)>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let tx = tx.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req: http::Request<hyper::body::Incoming>| {
                        let tx = tx.clone();
                        async move {
                            let path = req.uri().path().to_owned();
                            let body = req.into_body().collect().await.map(|b| b.to_bytes());
                            let _ = tx.send((path, body.unwrap_or_default()));
                            Ok::<_, Infallible>(http::Response::new(Full::new(Bytes::new())))
                        }
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        (url, rx)
    }

    fn spans(body: &Bytes) -> Vec<OtlpSpan> {
        use prost::Message as _;
        let request = ExportRequest::decode(body.as_ref()).expect("an OTLP export request");
        request
            .resource_spans
            .into_iter()
            .flat_map(|r| r.scope_spans)
            .flat_map(|s| s.spans)
            .collect()
    }

    #[test]
    fn server_spans_continue_the_callers_trace_and_are_exported() {
        // Spans elsewhere in this process are unaffected: without the layer there is nothing
        // to parent or adopt.
        ACTIVE.store(true, Relaxed);
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let (url, mut bodies) = runtime.block_on(receiver());
        let provider = provider(&url).unwrap();
        let logs = Capture::default();
        let subscriber = super::super::logging::subscriber(
            &super::super::LogConfig {
                format: super::super::LogFormat::Json,
                filter: "info".to_owned(),
                otlp_endpoint: None,
            },
            logs.clone(),
            false,
            Some(tracer(&provider)),
        )
        .unwrap();

        let mut incoming = HeaderMap::new();
        incoming.insert(
            TRACEPARENT_HEADER,
            HeaderValue::from_static("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
        );
        let (continued, root) = tracing::subscriber::with_default(subscriber, || {
            let mut continued = CallTelemetry::from_headers(&incoming);
            let span = server_span(&mut continued, &GET_BOOK, crate::Protocol::Grpc);
            span.in_scope(|| tracing::info!("inside"));
            drop(span);
            let mut root = CallTelemetry::from_headers(&HeaderMap::new());
            let span = server_span(&mut root, &GET_BOOK, crate::Protocol::Rest);
            drop(span);
            (continued, root)
        });
        provider.force_flush().unwrap();

        let mut exported = Vec::new();
        while let Ok((path, body)) = bodies.try_recv() {
            assert_eq!(path, "/v1/traces");
            exported.extend(spans(&body));
        }
        assert_eq!(exported.len(), 2, "{exported:?}");
        let first = &exported[0];
        assert_eq!(first.name, "/pkg.v1.Library/GetBook");
        assert_eq!(first.kind, SPAN_KIND_SERVER);
        assert_eq!(first.trace_id, continued.trace().trace_id().to_bytes());
        assert_eq!(hex(&first.trace_id), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(hex(&first.parent_span_id), "00f067aa0ba902b7");
        // Outgoing calls name the exported span as their parent.
        assert_eq!(first.span_id, continued.trace().span_id().to_bytes());
        let second = &exported[1];
        assert!(second.parent_span_id.is_empty(), "a root span");
        assert_eq!(second.trace_id, root.trace().trace_id().to_bytes());
        assert_eq!(second.span_id, root.trace().span_id().to_bytes());
        assert!(root.trace().sampled(), "roots are recorded when exporting");
        // Log lines inside the span carry its ids.
        let line = logs.text();
        assert!(line.contains("4bf92f3577b34da6a3ce929d0e0e4736"), "{line}");
        provider.shutdown().unwrap();
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }
}
