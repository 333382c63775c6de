//! Starts every target on 127.0.0.1:0, checks its answers through the load generator's own
//! clients, then runs a short load through it. Bounded to a few seconds; no timing asserts.

use std::net::SocketAddr;
use std::sync::mpsc;
use std::time::Duration;

use bytes::Bytes;
use hyper::{StatusCode, Uri};
use tacos_bench::client::{
    bench_bearer, connect_grpc, generated_client, generated_join, sample_request, GeneratedPlan,
    GeneratedTransport, GrpcJoinClient, RestClient, EVENT_ID, REST_JOIN_BODY, REST_JOIN_PATH,
};
use tacos_bench::layout::Layout;
use tacos_bench::load::{Call, Connections, LoadOutcome, LoadPlan, Window, Workload};
use tacos_bench::targets::{Policies, RunOptions, Target};
use tacos_bench::Protocol;

/// Runs `target` on a thread of its own and returns its address once bound. The server lives as
/// long as the test process.
fn start(target: Target, layout: Layout) -> SocketAddr {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let options = RunOptions::default();
        let result = target.run(layout, "127.0.0.1:0".parse().unwrap(), &options, |addrs| {
            tx.send(addrs[0]).unwrap();
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
        .drive(
            plan.in_flight,
            Window::starting_now(&plan),
            &Workload::default(),
        )
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
    for &target in Target::ALL.iter().filter(|t| !t.is_full_join()) {
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

/// The Redis the full-join targets use (`cargo xtask test` provides one).
fn redis_url() -> String {
    std::env::var("REDIS_URL").expect("these tests need REDIS_URL (cargo xtask test sets it)")
}

/// Runs `target` with `options` and returns every address it reports.
fn start_with(target: Target, options: RunOptions) -> Vec<SocketAddr> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let result = target.run(
            Layout::CurrentThread,
            "127.0.0.1:0".parse().unwrap(),
            &options,
            |addrs| tx.send(addrs.to_vec()).unwrap(),
        );
        panic!("{} stopped serving: {result:?}", target.name());
    });
    rx.recv_timeout(Duration::from_secs(20))
        .unwrap_or_else(|_| panic!("{} did not bind in time", target.name()))
}

/// A short load of `workload` against `addr`: returns the outcome for the caller to judge.
async fn load(protocol: Protocol, addr: SocketAddr, workload: &Workload) -> LoadOutcome {
    let plan = LoadPlan {
        connections: 2,
        in_flight: 4,
        warmup: Duration::from_millis(100),
        duration: Duration::from_millis(400),
    };
    let connections = Connections::open(protocol, addr, &plan).await.unwrap();
    connections
        .drive(plan.in_flight, Window::starting_now(&plan), workload)
        .await
}

fn assert_all_ok(outcome: &LoadOutcome, what: &str) {
    assert_eq!(
        outcome.errors, 0,
        "{what}: first error {:?}",
        outcome.first_error
    );
    assert_eq!(outcome.stuck_tasks, 0, "{what}");
    assert!(outcome.ok > 0, "{what}: no request completed in the window");
}

#[test]
fn full_joins_need_a_token_and_succeed_with_one() {
    let redis = redis_url();
    for (target, call) in [
        (Target::TonicJoin, Call::BenchJoin),
        (Target::AxumJoin, Call::BenchJoin),
        (Target::GatewayGrpc, Call::QueueJoin),
        (Target::GatewayRest, Call::QueueJoin),
    ] {
        let options = RunOptions {
            redis: Some(redis.clone()),
            quiet: true,
            ..RunOptions::default()
        };
        let addr = start_with(target, options)[0];
        runtime().block_on(async {
            let with_token = Workload {
                call,
                bearer: Some(bench_bearer("bench-user")),
                distinct_users: true,
            };
            assert_all_ok(
                &load(target.protocol(), addr, &with_token).await,
                target.name(),
            );
            // The hand-written joins refuse a missing token; the gateway's JoinQueue is public
            // (the waiting room is open to anonymous buyers), so only a bad token is refused by
            // neither: it runs anonymously there, as the policy stack documents.
            if target.is_baseline() {
                let anonymous = Workload {
                    call,
                    ..Workload::default()
                };
                let outcome = load(target.protocol(), addr, &anonymous).await;
                assert_eq!(outcome.ok, 0, "{} answered without a token", target.name());
                assert!(outcome.errors > 0);
            }
        });
    }
}

#[test]
fn the_policy_layers_apply_when_asked_for() {
    let all = start_with(
        Target::GeneratedGrpc,
        RunOptions {
            policies: Policies::parse("metrics,auth,rate").unwrap(),
            ..RunOptions::default()
        },
    );
    runtime().block_on(async {
        for (protocol, addr) in [(Protocol::Grpc, all[0]), (Protocol::Rest, all[1])] {
            let anonymous = load(protocol, addr, &Workload::default()).await;
            assert_eq!(anonymous.ok, 0, "{protocol:?} answered without a token");
            let with_token = Workload {
                bearer: Some(bench_bearer("bench-user")),
                ..Workload::default()
            };
            assert_all_ok(&load(protocol, addr, &with_token).await, "with a token");
        }
    });
    assert!(Policies::parse("metrics,bogus").is_none());
    assert_eq!(Policies::parse("all"), Some(Policies::ALL));
}

#[test]
fn the_generated_client_calls_over_every_transport() {
    let addrs = start_with(Target::GeneratedGrpc, RunOptions::default());
    runtime().block_on(async {
        for transport in ["grpc", "rest", "split", "shadow:1000"] {
            let transport = GeneratedTransport::parse(transport).unwrap();
            let client = generated_client(&plan_for(&addrs, transport)).unwrap();
            let reply = generated_join(&client).await.unwrap();
            assert!(
                reply.ticket.starts_with(EVENT_ID),
                "{transport:?}: {reply:?}"
            );
            let plan = LoadPlan {
                connections: 2,
                in_flight: 4,
                warmup: Duration::from_millis(100),
                duration: Duration::from_millis(400),
            };
            let outcome = Connections::generated(&plan_for(&addrs, transport))
                .unwrap()
                .drive(
                    plan.in_flight,
                    Window::starting_now(&plan),
                    &Workload::default(),
                )
                .await;
            assert_all_ok(&outcome, &format!("{transport:?}"));
        }
    });
    assert!(GeneratedTransport::parse("shadow:1001").is_none());
}

fn plan_for(addrs: &[SocketAddr], transport: GeneratedTransport) -> GeneratedPlan {
    GeneratedPlan {
        transport,
        grpc: addrs[0],
        rest: addrs[1],
        grpc_connections: 2,
        rest_connections: 4,
    }
}
