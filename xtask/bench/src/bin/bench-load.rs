//! Loads one bench server and prints one `result key=value ...` line.
//!
//! ```text
//! bench-load CLIENT ADDR [REST_ADDR] [--in-flight 64] [--connections 4] [--warmup 2]
//!            [--duration 5] [--server-pid PID] [--threads 1]
//! ```
//! `CLIENT` is a hand-written client, `grpc` (tonic) or `rest` (hyper, HTTP/1.1), or the
//! generated one over a runtime transport: `generated-grpc`, `generated-rest`, or
//! `generated-split` and `generated-shadow:<per mille>`, which take the server's gRPC address and
//! then its REST address. With `--server-pid`, the server's CPU over the measured window is read
//! from `/proc`; the load generator's own CPU per request is reported either way.
//!
//! What the hand-written clients send: `--call join` (`bench.v1.Gateway/Join`, the default) or
//! `--call queue-join` (the Traffic Tacos gateway's `JoinQueue`); `--auth` adds a bearer token
//! signed with the bench's HS256 secret; `--distinct-users` makes every request a new user.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{bail, Context};
use tacos_bench::cli::Args;
use tacos_bench::client::{bench_bearer, GeneratedPlan, GeneratedTransport};
use tacos_bench::cpu::{process_ticks, ticks_per_second, CpuSnapshot, CpuWindow};
use tacos_bench::load::{Call, Connections, LoadPlan, Window, Workload};
use tacos_bench::Protocol;

/// The longest run this binary agrees to, warm-up included.
const MAX_SECONDS: f64 = 600.0;

fn main() -> anyhow::Result<()> {
    let args = Args::parse(std::env::args().skip(1), &["auth", "distinct-users"]);
    args.check_known(&[
        "call",
        "auth",
        "distinct-users",
        "in-flight",
        "connections",
        "warmup",
        "duration",
        "server-pid",
        "redis-pid",
        "threads",
    ])?;
    let (client, addrs) = match args.positionals() {
        [client, addrs @ ..] if !addrs.is_empty() && addrs.len() <= 2 => (client.as_str(), addrs),
        _ => bail!("usage: bench-load CLIENT ADDR [REST_ADDR] [flags]"),
    };
    let addrs: Vec<SocketAddr> = addrs
        .iter()
        .map(|a| a.parse().with_context(|| format!("`{a}` is not ip:port")))
        .collect::<anyhow::Result<_>>()?;
    if let Some(addr) = addrs.iter().find(|a| !a.ip().is_loopback()) {
        bail!("the bench loads loopback addresses only, not {addr}");
    }
    let mode = Mode::parse(client, &addrs)?;
    let workload = Workload {
        call: match args.value("call", "join".to_owned())?.as_str() {
            "join" => Call::BenchJoin,
            "queue-join" => Call::QueueJoin,
            other => bail!("`--call` is `join` or `queue-join`, not `{other}`"),
        },
        bearer: args.switch("auth").then(|| bench_bearer("bench-user")),
        distinct_users: args.switch("distinct-users"),
    };
    if matches!(mode, Mode::Generated(_))
        && (workload.call != Call::BenchJoin || workload.bearer.is_some())
    {
        bail!("the generated client sends the plain join only");
    }
    let warmup: f64 = args.value("warmup", 2.0)?;
    let duration: f64 = args.value("duration", 5.0)?;
    if !(0.0..=MAX_SECONDS).contains(&warmup)
        || !(0.1..=MAX_SECONDS).contains(&duration)
        || warmup + duration > MAX_SECONDS
    {
        bail!("warm-up and duration must be between 0 and {MAX_SECONDS} seconds together");
    }
    let plan = LoadPlan {
        connections: args.value("connections", 4)?,
        in_flight: args.value("in-flight", 64)?,
        warmup: Duration::from_secs_f64(warmup),
        duration: Duration::from_secs_f64(duration),
    };
    if plan.in_flight == 0 || plan.connections == 0 {
        bail!("`--in-flight` and `--connections` must be at least 1");
    }
    let server_pid = Some(args.value("server-pid", 0u32)?).filter(|&pid| pid != 0);
    let threads: usize = args.value("threads", 1)?;
    let runtime = if threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .enable_all()
            .build()?
    };

    let connections = match mode {
        Mode::Hand(protocol, addr) => runtime
            .block_on(Connections::open(protocol, addr, &plan))
            .with_context(|| format!("connecting to {addr}"))?,
        Mode::Generated(generated) => {
            let _guard = runtime.enter();
            Connections::generated(&GeneratedPlan {
                rest_connections: plan.in_flight,
                grpc_connections: plan.connections,
                ..generated
            })?
        }
    };
    let window = Window::starting_now(&plan);
    // A plain thread takes the CPU snapshots on time even when the runtime is saturated.
    let redis_pid = Some(args.value("redis-pid", 0u32)?).filter(|&pid| pid != 0);
    // Without a server to watch, the sampler watches this process in its place.
    let watched = server_pid.unwrap_or_else(std::process::id);
    let redis_ticks = move || redis_pid.map(process_ticks).transpose();
    let sampler = std::thread::spawn(move || -> std::io::Result<_> {
        sleep_until(window.measure_from);
        let start = (CpuSnapshot::take(watched)?, redis_ticks()?);
        sleep_until(window.stop);
        Ok((start, (CpuSnapshot::take(watched)?, redis_ticks()?)))
    });
    let outcome = runtime.block_on(connections.drive(plan.in_flight, window, &workload));
    let ((start, redis_start), (end, redis_end)) = sampler
        .join()
        .map_err(|_| anyhow::anyhow!("the cpu sampler panicked"))?
        .context("reading cpu counters from /proc")?;
    let cpu = CpuWindow::between(&start, &end, ticks_per_second());

    let secs = plan.duration.as_secs_f64();
    let answered = outcome.ok + outcome.errors;
    let mut line = format!(
        "result client={client} in_flight={} ok={} errors={} stuck={} rps={:.0} p50_us={:.1} p99_us={:.1} lg_us_per_req={:.2}",
        plan.in_flight,
        outcome.ok,
        outcome.errors,
        outcome.stuck_tasks,
        outcome.ok as f64 / secs,
        outcome.latency_us(0.50),
        outcome.latency_us(0.99),
        cpu.load_generator_us_per_request(answered),
    );
    if server_pid.is_some() {
        line.push_str(&format!(
            " srv_us_per_req={:.2} srv_cores={:.2} lg_cores={:.2} other_cpu={:.2}",
            cpu.server_us_per_request(answered),
            cpu.server_cores(),
            cpu.load_generator_cores(),
            cpu.other_cores(),
        ));
    }
    if let (Some(a), Some(b)) = (redis_start, redis_end) {
        let redis_secs = b.saturating_sub(a) as f64 / ticks_per_second();
        line.push_str(&format!(
            " redis_us_per_req={:.2}",
            redis_secs * 1e6 / answered.max(1) as f64
        ));
    }
    println!("{line}");
    if let Some(error) = &outcome.first_error {
        eprintln!("first error: {error}");
    }
    Ok(())
}

/// The client that loads the server.
enum Mode {
    /// A hand-written client of one protocol.
    Hand(Protocol, SocketAddr),
    /// The generated client; pool sizes are filled in from the load plan.
    Generated(GeneratedPlan),
}

impl Mode {
    fn parse(client: &str, addrs: &[SocketAddr]) -> anyhow::Result<Self> {
        if let Some(protocol) = Protocol::parse(client) {
            let [addr] = addrs else {
                bail!("`{client}` takes one address");
            };
            return Ok(Mode::Hand(protocol, *addr));
        }
        let transport = client
            .strip_prefix("generated-")
            .and_then(GeneratedTransport::parse)
            .with_context(|| {
                format!(
                    "unknown client `{client}`: use grpc, rest, generated-grpc, generated-rest, \
                     generated-split or generated-shadow:<per mille>"
                )
            })?;
        let (grpc, rest) = match (transport, addrs) {
            (GeneratedTransport::Grpc | GeneratedTransport::Rest, [addr]) => (*addr, *addr),
            (_, [grpc, rest]) if transport.needs_rest() => (*grpc, *rest),
            _ if transport.needs_rest() => bail!("`{client}` takes a gRPC and a REST address"),
            _ => bail!("`{client}` takes one address"),
        };
        Ok(Mode::Generated(GeneratedPlan {
            transport,
            grpc,
            rest,
            grpc_connections: 1,
            rest_connections: 1,
        }))
    }
}

fn sleep_until(at: std::time::Instant) {
    std::thread::sleep(at.saturating_duration_since(std::time::Instant::now()));
}
