//! The closed-loop load generator.
//!
//! `in_flight` tasks each send one request, wait for the answer and send the next, until the
//! window closes: a warm-up that is not counted, then a fixed measured duration. Every answer that
//! completes inside the measured window is counted; OK answers also go into an HdrHistogram of
//! latencies. A non-OK gRPC status or a non-2xx HTTP status is an error. Tasks stop sending when
//! the window closes and are given a few seconds to finish, so a run is bounded in time whatever
//! the server does.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use hdrhistogram::Histogram;
use hyper::Uri;
use tokio::task::JoinHandle;
use tonic::transport::Channel;

use hyper::header::HeaderValue;
use tonic::metadata::MetadataValue;

use crate::client::{
    connect_grpc, generated_client, generated_join, queue_join_body, ClientError, GeneratedPlan,
    GrpcJoinClient, GrpcQueueClient, QueueJoinRequest, RestClient, EVENT_ID, QUANTITY,
    QUEUE_JOIN_REST_PATH, USER_ID,
};
use crate::client::{REST_JOIN_BODY, REST_JOIN_PATH};
use crate::generated::bench::v1::GatewayClient;
use crate::pb::JoinRequest;
use crate::Protocol;

/// How long tasks get to finish their last request after the window closes.
const DRAIN_CAP: Duration = Duration::from_secs(5);

/// The shape of one load run.
#[derive(Debug, Clone, Copy)]
pub struct LoadPlan {
    /// gRPC: HTTP/2 connections the in-flight calls are spread over. REST ignores it: HTTP/1.1
    /// carries one request at a time, so it opens one connection per in-flight request.
    pub connections: usize,
    /// Requests in flight at any time.
    pub in_flight: usize,
    /// Load before the measured window, not counted.
    pub warmup: Duration,
    /// The measured window.
    pub duration: Duration,
}

/// The call every request of a run makes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Call {
    /// `bench.v1.Gateway/Join` (REST `POST /v1/events/{event_id}/join`).
    #[default]
    BenchJoin,
    /// The Traffic Tacos gateway's `gateway.v1.QueueService/JoinQueue`
    /// (REST `POST /api/v1/queue/join`).
    QueueJoin,
}

/// What each request of a run is, for the hand-written clients.
#[derive(Debug, Clone, Default)]
pub struct Workload {
    /// The call.
    pub call: Call,
    /// The `authorization` header sent with every request (`Bearer <token>`).
    pub bearer: Option<String>,
    /// Each request joins as a user of its own (`u<task>-<n>`), as a crowd does, instead of
    /// every request joining as [`USER_ID`].
    pub distinct_users: bool,
}

impl Workload {
    fn user(&self, task: usize, n: u64) -> String {
        if self.distinct_users {
            format!("u{task}-{n}")
        } else {
            USER_ID.to_owned()
        }
    }
}

/// When a run warms up, measures and stops.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    /// When the measured window opens (the warm-up ends).
    pub measure_from: Instant,
    /// When the measured window closes and tasks stop sending.
    pub stop: Instant,
}

impl Window {
    /// A window whose warm-up starts now.
    pub fn starting_now(plan: &LoadPlan) -> Self {
        let measure_from = Instant::now() + plan.warmup;
        Self {
            measure_from,
            stop: measure_from + plan.duration,
        }
    }

    fn counts(&self, done: Instant) -> bool {
        done >= self.measure_from && done < self.stop
    }
}

/// What a run measured.
#[derive(Debug)]
pub struct LoadOutcome {
    /// OK answers inside the window.
    pub ok: u64,
    /// Failed calls inside the window (error status, non-2xx, broken connection).
    pub errors: u64,
    /// Latencies of the OK answers, in nanoseconds.
    pub latencies: Histogram<u64>,
    /// The first error seen, for the operator.
    pub first_error: Option<String>,
    /// Tasks that did not finish within the drain cap (their counts are lost).
    pub stuck_tasks: usize,
}

impl LoadOutcome {
    /// A latency quantile in microseconds.
    pub fn latency_us(&self, quantile: f64) -> f64 {
        self.latencies.value_at_quantile(quantile) as f64 / 1e3
    }
}

fn new_histogram() -> Histogram<u64> {
    // 1 µs to 60 s in nanoseconds, 3 significant digits.
    Histogram::new_with_bounds(1_000, 60_000_000_000, 3).expect("static histogram bounds are valid")
}

/// One task's counts.
struct Tally {
    ok: u64,
    errors: u64,
    latencies: Histogram<u64>,
    first_error: Option<String>,
}

impl Tally {
    fn new() -> Self {
        Self {
            ok: 0,
            errors: 0,
            latencies: new_histogram(),
            first_error: None,
        }
    }

    fn record(&mut self, window: &Window, sent: Instant, result: Result<(), String>) {
        let done = Instant::now();
        if !window.counts(done) {
            return;
        }
        match result {
            Ok(()) => {
                self.ok += 1;
                let nanos = u64::try_from(done.duration_since(sent).as_nanos()).unwrap_or(u64::MAX);
                self.latencies.saturating_record(nanos);
            }
            Err(message) => {
                self.errors += 1;
                self.first_error.get_or_insert(message);
            }
        }
    }
}

/// Open connections, ready to be loaded.
#[derive(Debug)]
pub enum Connections {
    /// HTTP/2 channels.
    Grpc(Vec<Channel>),
    /// HTTP/1.1 connections, one per in-flight request.
    Rest(Vec<RestClient>),
    /// The generated client, shared by every in-flight task as an application shares it.
    Generated(GatewayClient),
}

impl Connections {
    /// Opens the connections `plan` asks for to the server at `addr`.
    pub async fn open(
        protocol: Protocol,
        addr: SocketAddr,
        plan: &LoadPlan,
    ) -> Result<Self, ClientError> {
        match protocol {
            Protocol::Grpc => {
                let url = format!("http://{addr}");
                let mut channels = Vec::new();
                for _ in 0..plan.connections.max(1) {
                    channels.push(connect_grpc(&url).await?);
                }
                Ok(Connections::Grpc(channels))
            }
            Protocol::Rest => {
                let mut clients = Vec::new();
                for _ in 0..plan.in_flight.max(1) {
                    clients.push(RestClient::connect(addr).await?);
                }
                Ok(Connections::Rest(clients))
            }
        }
    }

    /// The generated client over the transport `plan` names. Connections open on first use,
    /// during the warm-up.
    pub fn generated(plan: &GeneratedPlan) -> Result<Self, ClientError> {
        Ok(Connections::Generated(generated_client(plan)?))
    }

    /// Loads the server through `window` with `in_flight` requests of `workload` and collects
    /// the counts. The generated client sends the default workload only.
    pub async fn drive(self, in_flight: usize, window: Window, workload: &Workload) -> LoadOutcome {
        let tasks: Vec<JoinHandle<Tally>> = match self {
            Connections::Grpc(channels) => (0..in_flight.max(1))
                .map(|i| {
                    let channel = channels[i % channels.len()].clone();
                    tokio::spawn(grpc_loop(channel, i, workload.clone(), window))
                })
                .collect(),
            Connections::Rest(clients) => clients
                .into_iter()
                .enumerate()
                .map(|(i, client)| tokio::spawn(rest_loop(client, i, workload.clone(), window)))
                .collect(),
            Connections::Generated(client) => (0..in_flight.max(1))
                .map(|_| tokio::spawn(generated_loop(client.clone(), window)))
                .collect(),
        };
        collect(tasks, window).await
    }
}

async fn grpc_loop(channel: Channel, task: usize, workload: Workload, window: Window) -> Tally {
    let mut tally = Tally::new();
    let bearer: Option<MetadataValue<_>> = workload
        .bearer
        .as_deref()
        .map(|b| b.parse().expect("a bearer token is valid metadata"));
    let mut bench = GrpcJoinClient::new(channel.clone());
    let mut queue = GrpcQueueClient::new(channel);
    for n in 0.. {
        let sent = Instant::now();
        if sent >= window.stop {
            break;
        }
        let user_id = workload.user(task, n);
        let result = match workload.call {
            Call::BenchJoin => {
                let mut request = tonic::Request::new(JoinRequest {
                    event_id: EVENT_ID.to_owned(),
                    user_id,
                    quantity: QUANTITY,
                });
                if let Some(bearer) = &bearer {
                    request
                        .metadata_mut()
                        .insert("authorization", bearer.clone());
                }
                bench.join_request(request).await.map(drop)
            }
            Call::QueueJoin => {
                let mut request = tonic::Request::new(QueueJoinRequest {
                    event_id: EVENT_ID.to_owned(),
                    user_id,
                });
                if let Some(bearer) = &bearer {
                    request
                        .metadata_mut()
                        .insert("authorization", bearer.clone());
                }
                queue.join(request).await.map(drop)
            }
        };
        tally.record(
            &window,
            sent,
            result.map_err(|status| format!("grpc status {status}")),
        );
    }
    tally
}

async fn generated_loop(client: GatewayClient, window: Window) -> Tally {
    let mut tally = Tally::new();
    loop {
        let sent = Instant::now();
        if sent >= window.stop {
            return tally;
        }
        let result = generated_join(&client).await;
        tally.record(
            &window,
            sent,
            result
                .map(drop)
                .map_err(|status| format!("status {status}")),
        );
    }
}

async fn rest_loop(
    mut client: RestClient,
    task: usize,
    workload: Workload,
    window: Window,
) -> Tally {
    let mut tally = Tally::new();
    let path = Uri::from_static(match workload.call {
        Call::BenchJoin => REST_JOIN_PATH,
        Call::QueueJoin => QUEUE_JOIN_REST_PATH,
    });
    let bearer: Option<HeaderValue> = workload
        .bearer
        .as_deref()
        .map(|b| b.parse().expect("a bearer token is a valid header value"));
    for n in 0.. {
        let sent = Instant::now();
        if sent >= window.stop {
            break;
        }
        let user_id = workload.user(task, n);
        let body = match workload.call {
            Call::BenchJoin if !workload.distinct_users => {
                Bytes::from_static(REST_JOIN_BODY.as_bytes())
            }
            Call::BenchJoin => Bytes::from(
                serde_json::json!({ "userId": user_id, "quantity": QUANTITY }).to_string(),
            ),
            Call::QueueJoin => Bytes::from(queue_join_body(EVENT_ID, &user_id)),
        };
        let result = match client.post_json_as(&path, body, bearer.as_ref()).await {
            Ok(reply) if reply.status.is_success() => Ok(()),
            Ok(reply) => Err(format!(
                "http status {}: {}",
                reply.status,
                String::from_utf8_lossy(&reply.body)
            )),
            Err(error) => Err(error.to_string()),
        };
        let broken = result.is_err() && client.is_closed();
        tally.record(&window, sent, result);
        if broken {
            // A closed HTTP/1.1 connection cannot carry the next request; one error says so.
            break;
        }
    }
    tally
}

async fn collect(tasks: Vec<JoinHandle<Tally>>, window: Window) -> LoadOutcome {
    let mut outcome = LoadOutcome {
        ok: 0,
        errors: 0,
        latencies: new_histogram(),
        first_error: None,
        stuck_tasks: 0,
    };
    let give_up = tokio::time::Instant::from_std(window.stop + DRAIN_CAP);
    for task in tasks {
        let abort = task.abort_handle();
        match tokio::time::timeout_at(give_up, task).await {
            Ok(Ok(tally)) => {
                outcome.ok += tally.ok;
                outcome.errors += tally.errors;
                // Both histograms share the same bounds, so adding cannot fail.
                let _ = outcome.latencies.add(&tally.latencies);
                if outcome.first_error.is_none() {
                    outcome.first_error = tally.first_error;
                }
            }
            Ok(Err(join_error)) => {
                outcome.stuck_tasks += 1;
                outcome.first_error.get_or_insert(join_error.to_string());
            }
            Err(_) => {
                abort.abort();
                outcome.stuck_tasks += 1;
            }
        }
    }
    outcome
}
