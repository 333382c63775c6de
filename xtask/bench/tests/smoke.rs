//! Starts every target on 127.0.0.1:0, checks its answers through the load generator's own
//! clients, then runs a short load through it. Bounded to a few seconds; no timing asserts.

use std::net::SocketAddr;
use std::sync::mpsc;
use std::time::Duration;

use bytes::Bytes;
use hyper::{StatusCode, Uri};
use tacos_bench::client::{
    connect_grpc, sample_request, GrpcJoinClient, RestClient, EVENT_ID, REST_JOIN_BODY,
    REST_JOIN_PATH,
};
use tacos_bench::layout::Layout;
use tacos_bench::load::{Connections, LoadPlan, Window};
use tacos_bench::targets::Target;
use tacos_bench::Protocol;

/// Runs `target` on a thread of its own and returns its address once bound. The server lives as
/// long as the test process.
fn start(target: Target, layout: Layout) -> SocketAddr {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let result = target.run(layout, "127.0.0.1:0".parse().unwrap(), |addr| {
            tx.send(addr).unwrap();
        });
        panic!("{} stopped serving: {result:?}", target.name());
    });
    rx.recv_timeout(Duration::from_secs(10))
        .unwrap_or_else(|_| panic!("{} did not bind in time", target.name()))
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// A short load through the same code path `bench-load` uses: every call must succeed.
async fn short_load(protocol: Protocol, addr: SocketAddr) {
    let plan = LoadPlan {
        connections: 2,
        in_flight: 4,
        warmup: Duration::from_millis(100),
        duration: Duration::from_millis(400),
    };
    let connections = Connections::open(protocol, addr, &plan).await.unwrap();
    let outcome = connections
        .drive(plan.in_flight, Window::starting_now(&plan))
        .await;
    assert_eq!(outcome.errors, 0, "first error: {:?}", outcome.first_error);
    assert_eq!(outcome.stuck_tasks, 0);
    assert!(outcome.ok > 0, "no request completed in the window");
    assert_eq!(outcome.latencies.len(), outcome.ok);
}

async fn check_grpc_answers(addr: SocketAddr) {
    let mut client = GrpcJoinClient::new(connect_grpc(&format!("http://{addr}")).await.unwrap());
    let first = client.join(sample_request()).await.unwrap();
    let second = client.join(sample_request()).await.unwrap();
    assert_eq!(second.position, first.position + 1);
    assert_eq!(second.ticket, format!("{EVENT_ID}-{}", second.position));

    let mut bad = sample_request();
    bad.quantity = 0;
    let status = client.join(bad).await.unwrap_err();
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
    assert!(
        status.message().contains("quantity"),
        "{}",
        status.message()
    );
}

async fn check_rest_answers(addr: SocketAddr) {
    let mut client = RestClient::connect(addr).await.unwrap();
    let path = Uri::from_static(REST_JOIN_PATH);
    let mut positions = Vec::new();
    for _ in 0..2 {
        let reply = client
            .post_json(&path, Bytes::from_static(REST_JOIN_BODY.as_bytes()))
            .await
            .unwrap();
        assert_eq!(reply.status, StatusCode::OK);
        let json: serde_json::Value = serde_json::from_slice(&reply.body).unwrap();
        // proto3 JSON: the uint64 position is a string.
        let position: u64 = json["position"].as_str().unwrap().parse().unwrap();
        assert_eq!(json["ticket"], format!("{EVENT_ID}-{position}"));
        positions.push(position);
    }
    assert_eq!(positions[1], positions[0] + 1);

    let reply = client
        .post_json(&path, Bytes::from_static(br#"{"userId":"u","quantity":9}"#))
        .await
        .unwrap();
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    let json: serde_json::Value = serde_json::from_slice(&reply.body).unwrap();
    assert!(
        json["message"].as_str().unwrap().contains("quantity"),
        "{json}"
    );
}

fn check_target(target: Target, layout: Layout) {
    let addr = start(target, layout);
    runtime().block_on(async {
        match target.protocol() {
            Protocol::Grpc => check_grpc_answers(addr).await,
            Protocol::Rest => check_rest_answers(addr).await,
        }
        short_load(target.protocol(), addr).await;
    });
}

#[test]
fn every_target_answers_correctly_in_every_layout() {
    for &target in Target::ALL {
        for layout in [
            Layout::CurrentThread,
            Layout::MultiThread { workers: 2 },
            Layout::PerCore { runtimes: 2 },
        ] {
            check_target(target, layout);
        }
    }
}

#[test]
fn targets_cover_both_protocols_with_a_baseline_each() {
    for protocol in [Protocol::Grpc, Protocol::Rest] {
        assert!(Target::ALL
            .iter()
            .any(|t| t.protocol() == protocol && t.is_baseline()));
    }
}
