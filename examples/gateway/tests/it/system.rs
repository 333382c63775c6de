//! Traffic Tacos as three processes: the reservation, payment and gateway binaries on free
//! loopback ports, sharing the waiting room through `REDIS_URL`, the gateway calling the other
//! two (and the reservation service calling payment) over gRPC, over REST, or half and half
//! (`BACKEND_*_PROTOCOL=split`). The full flow runs the same either way, and a backend's error
//! reaches the buyer with the same code, message and details whichever transport carried it.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use tacos_runtime::Code;
use traffic_tacos_contracts::gateway::v1::*;
use traffic_tacos_contracts::payment::v1 as pay;
use traffic_tacos_contracts::reservation::v1::ReservationStatus;

const JWT_SECRET: &str = "system-test-jwt-secret-of-at-least-32-bytes";
const WEBHOOK_SECRET: &str = "system-test-webhook-secret-of-32-bytes!!";

/// One child process, killed when dropped.
struct Process {
    name: &'static str,
    child: Child,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The three binaries: the gateway's from Cargo, the other two built once next to it.
fn binaries() -> &'static (PathBuf, PathBuf, PathBuf) {
    static BINARIES: OnceLock<(PathBuf, PathBuf, PathBuf)> = OnceLock::new();
    BINARIES.get_or_init(|| {
        let gateway = PathBuf::from(env!("CARGO_BIN_EXE_traffic-tacos-gateway"));
        let dir = gateway.parent().expect("the binary's directory").to_owned();
        let target = dir.parent().expect("the target directory");
        let mut cargo = Command::new(env!("CARGO"));
        // The test's own `CARGO_*` variables would make Cargo see a changed environment and
        // rebuild dependencies; the build should look like any other.
        for (name, _) in std::env::vars_os() {
            let name = name.to_string_lossy();
            if name.starts_with("CARGO_") && name != "CARGO_HOME" {
                cargo.env_remove(name.as_ref());
            }
        }
        let status = cargo
            .args([
                "build",
                "-p",
                "traffic-tacos-reservation",
                "-p",
                "traffic-tacos-payment",
                "--bins",
            ])
            .env("CARGO_TARGET_DIR", target)
            .status()
            .expect("cargo runs");
        assert!(status.success(), "the service binaries build");
        let exe = |name: &str| dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
        (
            gateway,
            exe("traffic-tacos-reservation"),
            exe("traffic-tacos-payment"),
        )
    })
}

fn redis_url() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| {
        panic!("this test needs Redis: set REDIS_URL (e.g. REDIS_URL=redis://127.0.0.1:6379/)")
    })
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// A signed HS256 token for `subject`.
fn token(subject: &str) -> String {
    traffic_tacos_gateway::token::mint(
        JWT_SECRET.as_bytes(),
        subject,
        &[],
        Duration::from_secs(600),
    )
    .expect("token")
}

fn spawn(name: &'static str, binary: &Path, env: &[(&str, String)]) -> Process {
    let mut command = Command::new(binary);
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("RUST_LOG", "warn")
        .env("SERVER_HOST", "127.0.0.1")
        .env("TACOS_RUNTIME", "multi")
        .env("TACOS_THREADS", "2")
        .env("JWT_SECRET", JWT_SECRET)
        .env("PAYMENT_WEBHOOK_SECRET", WEBHOOK_SECRET)
        .env("REDIS_URL", redis_url())
        .stdin(Stdio::null())
        .stdout(Stdio::null());
    for (key, value) in env {
        command.env(key, value);
    }
    let child = command
        .spawn()
        .unwrap_or_else(|e| panic!("{name} starts: {e}"));
    Process { name, child }
}

/// Waits until every port of `process` accepts connections.
async fn ready(process: &mut Process, ports: &[u16]) {
    let started = Instant::now();
    for port in ports {
        loop {
            if let Some(status) = process.child.try_wait().expect("process state") {
                panic!("{} exited early: {status}", process.name);
            }
            if tokio::net::TcpStream::connect(("127.0.0.1", *port))
                .await
                .is_ok()
            {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "{} listens on {port} in time",
                process.name
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// How the gateway reaches its backends.
#[derive(Clone, Copy, Debug)]
enum Backends {
    Grpc,
    Rest,
    /// Half the calls over each, decided per call.
    Split,
}

/// The three processes; killed when dropped.
struct System {
    channel: tonic::transport::Channel,
    _processes: Vec<Process>,
}

impl System {
    async fn start(backends: Backends) -> Self {
        let (gateway_bin, reservation_bin, payment_bin) = binaries();
        let [gw_rest, gw_grpc, res_rest, res_grpc, pay_rest, pay_grpc] =
            [(); 6].map(|()| free_port());
        let mut payment = spawn(
            "payment",
            payment_bin,
            &[
                ("SERVER_PORT", pay_rest.to_string()),
                ("GRPC_PORT", pay_grpc.to_string()),
                (
                    "PAYMENT_WEBHOOK_URL",
                    format!("http://127.0.0.1:{gw_rest}/api/v1/webhooks/payment"),
                ),
                ("WEBHOOK_INITIAL_BACKOFF_MS", "100".into()),
            ],
        );
        let protocol = match backends {
            Backends::Grpc => "grpc",
            Backends::Rest => "rest",
            Backends::Split => "split",
        };
        let mut reservation = spawn(
            "reservation",
            reservation_bin,
            &[
                ("SERVER_PORT", res_rest.to_string()),
                ("GRPC_PORT", res_grpc.to_string()),
                (
                    "BACKEND_PAYMENT_GRPC_ADDRESS",
                    format!("http://127.0.0.1:{pay_grpc}"),
                ),
                (
                    "BACKEND_PAYMENT_HTTP_ADDRESS",
                    format!("http://127.0.0.1:{pay_rest}"),
                ),
                ("BACKEND_PAYMENT_PROTOCOL", protocol.into()),
                ("BACKEND_PAYMENT_GRPC_PERCENT", "50".into()),
                ("SECTIONS", "A".into()),
                ("SEATS_PER_SECTION", "20".into()),
            ],
        );
        let mut gateway = spawn(
            "gateway",
            gateway_bin,
            &[
                ("SERVER_PORT", gw_rest.to_string()),
                ("GRPC_PORT", gw_grpc.to_string()),
                ("QUEUE_BUCKET_CAPACITY", "1000".into()),
                ("QUEUE_REFILL_PER_SECOND", "1000".into()),
                ("QUEUE_ADMISSION_WINDOW", "1000".into()),
                (
                    "BACKEND_RESERVATION_GRPC_ADDRESS",
                    format!("http://127.0.0.1:{res_grpc}"),
                ),
                (
                    "BACKEND_RESERVATION_HTTP_ADDRESS",
                    format!("http://127.0.0.1:{res_rest}"),
                ),
                ("BACKEND_RESERVATION_PROTOCOL", protocol.into()),
                ("BACKEND_RESERVATION_GRPC_PERCENT", "50".into()),
                (
                    "BACKEND_PAYMENT_GRPC_ADDRESS",
                    format!("http://127.0.0.1:{pay_grpc}"),
                ),
                (
                    "BACKEND_PAYMENT_HTTP_ADDRESS",
                    format!("http://127.0.0.1:{pay_rest}"),
                ),
                ("BACKEND_PAYMENT_PROTOCOL", protocol.into()),
                ("BACKEND_PAYMENT_GRPC_PERCENT", "50".into()),
            ],
        );
        ready(&mut payment, &[pay_rest, pay_grpc]).await;
        ready(&mut reservation, &[res_rest, res_grpc]).await;
        ready(&mut gateway, &[gw_rest, gw_grpc]).await;
        let channel =
            tonic::transport::Endpoint::from_shared(format!("http://127.0.0.1:{gw_grpc}"))
                .unwrap()
                .connect()
                .await
                .expect("the gateway answers");
        Self {
            channel,
            _processes: vec![gateway, reservation, payment],
        }
    }

    /// A unary gateway call over gRPC as `user` (no token when `None`).
    async fn call<Req, Resp>(
        &self,
        method: &'static str,
        user: Option<&str>,
        request: Req,
    ) -> Result<Resp, tacos_runtime::Status>
    where
        Req: prost::Message + Send + Sync + 'static,
        Resp: prost::Message + Default + Send + Sync + 'static,
    {
        let mut client = tonic::client::Grpc::new(self.channel.clone());
        client.ready().await.expect("channel ready");
        let mut request = tonic::Request::new(request);
        if let Some(user) = user {
            request.metadata_mut().insert(
                "authorization",
                format!("Bearer {}", token(user)).parse().unwrap(),
            );
        }
        client
            .unary(
                request,
                http::uri::PathAndQuery::from_static(method),
                tonic_prost::ProstCodec::<Req, Resp>::default(),
            )
            .await
            .map(tonic::Response::into_inner)
            .map_err(tacos_runtime::Status::from)
    }
}

/// What a flow observed, with run-specific ids and times left out, to compare across runs.
#[derive(Debug, PartialEq)]
struct Observed {
    reserved_seats: usize,
    total_amount: i64,
    intent_status: i32,
    settled_status: i32,
    confirmed_again: i32,
    confirmed_seats: usize,
    foreign_confirm: (Code, String, String),
    available_after: i32,
}

/// An error's code, message (with the run's reservation id replaced) and `ErrorInfo` reason
/// and domain.
fn failure(status: tacos_runtime::Status, id: &str) -> (Code, String, String) {
    let info = status
        .details()
        .error_info
        .as_ref()
        .map(|i| format!("{}@{}", i.reason, i.domain))
        .unwrap_or_default();
    (status.code(), status.message().replace(id, "<id>"), info)
}

/// join → admission → reserve → pay → webhook → confirm, as buyer `alice`.
async fn flow(system: &System, event: &str) -> Observed {
    let alice = Some("alice");
    let joined: JoinQueueResponse = system
        .call(
            "/gateway.v1.QueueService/JoinQueue",
            None,
            JoinQueueRequest {
                event_id: event.into(),
                user_id: "alice".into(),
                ..Default::default()
            },
        )
        .await
        .expect("joins");
    let admitted: RequestAdmissionResponse = system
        .call(
            "/gateway.v1.QueueService/RequestAdmission",
            None,
            RequestAdmissionRequest {
                waiting_token: joined.waiting_token,
                event_id: event.into(),
                user_id: "alice".into(),
            },
        )
        .await
        .expect("asks for admission");
    assert_eq!(admitted.admission, AdmissionStatus::Granted as i32);
    let created: CreateReservationResponse = system
        .call(
            "/gateway.v1.GatewayService/CreateReservation",
            alice,
            CreateReservationRequest {
                event_id: event.into(),
                quantity: 2,
                user_id: "alice".into(),
                reservation_token: admitted.reservation_token,
                idempotency_key: "k1".into(),
                ..Default::default()
            },
        )
        .await
        .expect("reserves");
    assert_eq!(created.status, ReservationStatus::Hold as i32);
    let id = created.reservation_id.clone();
    let intent: CreatePaymentIntentResponse = system
        .call(
            "/gateway.v1.GatewayService/CreatePaymentIntent",
            alice,
            CreatePaymentIntentRequest {
                reservation_id: id.clone(),
                user_id: "alice".into(),
                amount: created.total_amount.clone(),
                scenario: pay::PaymentScenario::Approve as i32,
                idempotency_key: "p1".into(),
                ..Default::default()
            },
        )
        .await
        .expect("pays");

    // The approval's webhook reaches the gateway, which confirms through the reservation client.
    let started = Instant::now();
    let settled = loop {
        let found: GetReservationResponse = system
            .call(
                "/gateway.v1.GatewayService/GetReservation",
                alice,
                GetReservationRequest {
                    reservation_id: id.clone(),
                    user_id: "alice".into(),
                },
            )
            .await
            .expect("reads the reservation");
        let reservation = found.reservation.expect("a reservation");
        if reservation.status != ReservationStatus::Hold as i32 {
            break reservation;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the webhook confirms in time"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(settled.payment_intent_id, intent.payment_intent_id);

    // The buyer's own confirmation of the same payment answers the same confirmation.
    let confirm = ConfirmReservationRequest {
        reservation_id: id.clone(),
        payment_intent_id: intent.payment_intent_id.clone(),
        user_id: "alice".into(),
        idempotency_key: "c1".into(),
    };
    let confirmed: ConfirmReservationResponse = system
        .call(
            "/gateway.v1.GatewayService/ConfirmReservation",
            alice,
            confirm.clone(),
        )
        .await
        .expect("confirms");
    assert_eq!(confirmed.order_id, settled.order_id);

    // Another buyer confirming alice's reservation hears whose it is, not "not found".
    let foreign = system
        .call::<_, ConfirmReservationResponse>(
            "/gateway.v1.GatewayService/ConfirmReservation",
            Some("mallory"),
            ConfirmReservationRequest {
                user_id: "mallory".into(),
                ..confirm
            },
        )
        .await
        .expect_err("another buyer is refused");

    let availability: GetEventAvailabilityResponse = system
        .call(
            "/gateway.v1.GatewayService/GetEventAvailability",
            None,
            GetEventAvailabilityRequest {
                event_id: event.into(),
                ..Default::default()
            },
        )
        .await
        .expect("availability");
    Observed {
        reserved_seats: created.reserved_seats.len(),
        total_amount: created.total_amount.map_or(0, |m| m.amount),
        intent_status: intent.status,
        settled_status: settled.status,
        confirmed_again: confirmed.status,
        confirmed_seats: confirmed.confirmed_seats.len(),
        foreign_confirm: failure(foreign, &id),
        available_after: availability.total_available,
    }
}

#[tokio::test]
async fn three_processes_run_the_flow_alike_over_grpc_rest_and_a_split() {
    let run = std::process::id();
    let mut observed = Vec::new();
    for backends in [Backends::Grpc, Backends::Rest, Backends::Split] {
        let system = System::start(backends).await;
        let event = format!("system-{run}-{backends:?}");
        let seen = flow(&system, &event).await;
        assert_eq!(seen.settled_status, ReservationStatus::Confirmed as i32);
        assert_eq!(seen.foreign_confirm.0, Code::PermissionDenied, "{seen:?}");
        assert_eq!(
            seen.foreign_confirm.2,
            "ERROR_CODE_FORBIDDEN@reservation.traffictacos"
        );
        observed.push(seen);
    }
    assert_eq!(observed[0], observed[1], "gRPC and REST backends agree");
    assert_eq!(observed[0], observed[2], "a 50/50 split agrees with both");
    assert_eq!(observed[0].reserved_seats, 2);
    assert_eq!(observed[0].available_after, 18);
}
