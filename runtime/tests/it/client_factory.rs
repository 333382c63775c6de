//! The client factory and the split transport against real servers on 127.0.0.1: a 50/50 split
//! sends both transports traffic with equal answers and follows a live change; a shadow reports
//! the method and field two backends differ in; client series appear in the metrics text;
//! configuration errors name every bad variable.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tacos_runtime::client::{BackendConfig, BackendProtocol, ClientOptions, Transport};
use tacos_runtime::metrics::Metrics;
use tacos_runtime::resilience::ResilienceStats;
use tacos_runtime::Request;

use crate::client_resilience::{Flaky, FlakyServer};
use crate::library::*;

fn lookup(vars: &[(&str, String)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect();
    move |name| map.get(name).cloned()
}

/// A split (or shadowing) transport to `grpc` and `http` from `BACKEND_LIBRARY_*` variables,
/// recording into `metrics`.
fn backend(grpc: &str, http: &str, extra: &[(&str, &str)], metrics: &Arc<Metrics>) -> Transport {
    let mut vars = vec![
        ("BACKEND_LIBRARY_GRPC_ADDRESS", grpc.to_owned()),
        ("BACKEND_LIBRARY_HTTP_ADDRESS", http.to_owned()),
    ];
    vars.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
    let mut config = BackendConfig::from_lookup("library", &lookup(&vars)).unwrap();
    config.metrics = Some(Arc::clone(metrics));
    config.transport().unwrap().expect("a remote transport")
}

fn calls(transport: &Transport) -> (u64, u64) {
    let Transport::Split(split) = transport else {
        panic!("a split transport, not {}", transport.name());
    };
    let count = |stats: ResilienceStats| stats.calls;
    (
        count(split.grpc().resilience().stats()),
        count(split.rest().resilience().stats()),
    )
}

fn get_book(name: &str) -> Request<GetBookRequest> {
    Request::new(GetBookRequest { name: name.into() })
}

#[tokio::test]
async fn a_split_sends_both_transports_traffic_and_follows_a_live_change() {
    let server = FlakyServer::start().await;
    let metrics = Arc::new(Metrics::new());
    let transport = backend(
        &server.address,
        &server.address,
        &[
            ("BACKEND_LIBRARY_PROTOCOL", "split"),
            ("BACKEND_LIBRARY_GRPC_PERCENT", "50"),
        ],
        &metrics,
    );
    assert_eq!(transport.grpc_percent(), 50);
    let client = LibraryClient::new(transport.clone());
    let expected = client
        .get_book(get_book("shelves/1/books/1"))
        .await
        .unwrap()
        .into_message();
    for _ in 0..99 {
        let book = client
            .get_book(get_book("shelves/1/books/1"))
            .await
            .unwrap()
            .into_message();
        assert_eq!(book, expected, "both transports answer the same");
    }
    let (grpc, rest) = calls(&transport);
    assert_eq!(grpc + rest, 100);
    // 100 fair coin flips: 20 or fewer heads has a probability below 1e-9.
    assert!(grpc > 20 && rest > 20, "grpc {grpc}, rest {rest}");

    // A change through any clone applies to every client at once.
    transport.clone().set_grpc_percent(0).unwrap();
    assert_eq!(transport.grpc_percent(), 0);
    for _ in 0..30 {
        client
            .get_book(get_book("shelves/1/books/1"))
            .await
            .unwrap();
    }
    assert_eq!(calls(&transport), (grpc, rest + 30));
    transport.set_grpc_percent(100).unwrap();
    for _ in 0..30 {
        client
            .get_book(get_book("shelves/1/books/1"))
            .await
            .unwrap();
    }
    assert_eq!(calls(&transport), (grpc + 30, rest + 30));
    assert!(transport.set_grpc_percent(101).is_err());

    // Both transports' calls are in the metrics text, per target, method, transport and code.
    let text = metrics.render();
    for protocol in ["grpc", "rest"] {
        let line = format!(
            "tacos_client_requests_total{{target=\"{}\",service=\"tacos.test.v1.Library\",method=\"GetBook\",transport=\"{protocol}\",code=\"OK\"}}",
            server.address
        );
        assert!(text.contains(&line), "{line} missing from\n{text}");
    }
    assert!(text.contains("tacos_client_breaker_state"), "{text}");
}

#[tokio::test]
async fn a_shadow_reports_the_method_and_field_the_transports_differ_in() {
    // gRPC answers from one backend, REST from another that titles books differently.
    let grpc = FlakyServer::start().await;
    let rest = FlakyServer::serve(Flaky {
        retitle: Some("A different title"),
        ..Flaky::default()
    })
    .await;
    let metrics = Arc::new(Metrics::new());
    let transport = backend(
        &grpc.address,
        &rest.address,
        &[("BACKEND_LIBRARY_SHADOW_PER_MILLE", "1000")],
        &metrics,
    );
    // A gRPC backend with a shadow share: every call over gRPC, shadowed over REST.
    assert_eq!(transport.grpc_percent(), 100);
    let client = LibraryClient::with_options(
        transport.clone(),
        ClientOptions::new()
            .shadow_method("GetBook")
            .shadow_method("GetFile"),
    );
    for _ in 0..3 {
        let book = client
            .get_book(get_book("shelves/1/books/1"))
            .await
            .unwrap()
            .into_message();
        assert_eq!(
            book.title, "Title of shelves/1/books/1",
            "the caller sees gRPC only"
        );
    }
    let file = client
        .get_file(Request::new(GetFileRequest { path: "a/b".into() }))
        .await
        .unwrap();
    assert_eq!(file.message().path, "a/b");
    // CreateBook is neither safe nor side-effect free: never shadowed.
    client
        .create_book(Request::new(CreateBookRequest {
            parent: "shelves/1".into(),
            book: Some(Book::default()),
            validate_only: true,
        }))
        .await
        .unwrap();
    let shadow = transport.shadow().expect("a shadow");
    tokio::time::timeout(Duration::from_secs(5), shadow.drained())
        .await
        .expect("shadow calls finish");
    let stats = shadow.stats();
    assert_eq!(stats.started, 4, "{stats:?}");
    assert_eq!((stats.compared, stats.differed, stats.equal), (4, 3, 1));
    assert_eq!(stats.differences.len(), 1, "{stats:?}");
    let difference = &stats.differences[0];
    assert_eq!(difference.method, "/tacos.test.v1.Library/GetBook");
    assert_eq!(difference.path, "title");
    assert_eq!(difference.count, 3);
    assert_eq!(rest.calls(), 4, "the REST backend saw only shadow calls");

    let text = metrics.render();
    let line = "tacos_client_shadow_differences_total{service=\"tacos.test.v1.Library\",method=\"GetBook\",field=\"title\"} 3";
    assert!(text.contains(line), "{line} missing from\n{text}");
}

#[test]
fn configuration_errors_name_every_bad_variable() {
    let read = |vars: &[(&str, &str)]| {
        let vars: Vec<(&str, String)> = vars.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
        BackendConfig::from_lookup("payment", &lookup(&vars))
    };
    let err = read(&[
        ("BACKEND_PAYMENT_PROTOCOL", "split"),
        ("BACKEND_PAYMENT_GRPC_PERCENT", "150"),
        ("CLIENT_RETRY_MAX_ATTEMPTS", "9"),
    ])
    .unwrap_err();
    let vars: Vec<&str> = err.problems.iter().map(|p| p.var).collect();
    assert_eq!(
        vars,
        [
            "BACKEND_PAYMENT_GRPC_PERCENT",
            "BACKEND_PAYMENT_GRPC_ADDRESS",
            "BACKEND_PAYMENT_HTTP_ADDRESS",
            "CLIENT_RETRY_MAX_ATTEMPTS",
        ]
    );
    let text = err.to_string();
    assert!(text.contains("BACKEND_PAYMENT_GRPC_ADDRESS"), "{text}");

    let err = read(&[
        ("BACKEND_PAYMENT_PROTOCOL", "carrier-pigeon"),
        ("BACKEND_PAYMENT_GRPC_ADDRESS", "http://"),
        ("BACKEND_PAYMENT_TIMEOUT_MS", "0"),
        ("GRPC_USE_TLS", "maybe"),
    ])
    .unwrap_err();
    let vars: Vec<&str> = err.problems.iter().map(|p| p.var).collect();
    assert_eq!(
        vars,
        [
            "BACKEND_PAYMENT_GRPC_ADDRESS",
            "BACKEND_PAYMENT_PROTOCOL",
            "BACKEND_PAYMENT_TIMEOUT_MS",
            "GRPC_USE_TLS",
        ]
    );

    // The protocol follows the addresses when not given; no address at all means in-process.
    let local = read(&[]).unwrap();
    assert_eq!(local.protocol, BackendProtocol::Local);
    assert!(local.transport().unwrap().is_none());
    let rest = read(&[("BACKEND_PAYMENT_HTTP_ADDRESS", "127.0.0.1:8000")]).unwrap();
    assert_eq!(rest.protocol, BackendProtocol::Rest);
    let err = rest.transport().unwrap_err();
    assert!(err.reason.contains("Tokio runtime"), "{err}");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let _entered = runtime.enter();
    assert_eq!(rest.transport().unwrap().unwrap().name(), "rest");
    let grpc = read(&[
        ("BACKEND_PAYMENT_GRPC_ADDRESS", "127.0.0.1:9090"),
        ("BACKEND_PAYMENT_HTTP_ADDRESS", "127.0.0.1:8000"),
        ("BACKEND_PAYMENT_TIMEOUT_MS", "1500"),
    ])
    .unwrap();
    assert_eq!(grpc.protocol, BackendProtocol::Grpc);
    assert_eq!(grpc.timeout, Some(Duration::from_millis(1500)));
    let transport = grpc.transport().unwrap().unwrap();
    assert_eq!(transport.name(), "grpc");
    assert!(
        transport.set_grpc_percent(50).is_err(),
        "only a split changes"
    );
}
