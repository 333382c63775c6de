//! Loads one bench server and prints one `result key=value ...` line.
//!
//! ```text
//! bench-load grpc|rest ADDR [--in-flight 64] [--connections 4] [--warmup 2] [--duration 5]
//!            [--server-pid PID] [--threads 1]
//! ```
//! With `--server-pid`, the server's CPU over the measured window is read from `/proc`.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{bail, Context};
use tacos_bench::cli::Args;
use tacos_bench::cpu::{ticks_per_second, CpuSnapshot, CpuWindow};
use tacos_bench::load::{Connections, LoadPlan, Window};
use tacos_bench::Protocol;

/// The longest run this binary agrees to, warm-up included.
const MAX_SECONDS: f64 = 600.0;

fn main() -> anyhow::Result<()> {
    let args = Args::parse(std::env::args().skip(1), &[]);
    args.check_known(&[
        "in-flight",
        "connections",
        "warmup",
        "duration",
        "server-pid",
        "threads",
    ])?;
    let [protocol, addr] = args.positionals() else {
        bail!("usage: bench-load grpc|rest ADDR [flags]");
    };
    let protocol = Protocol::parse(protocol).context("the protocol must be `grpc` or `rest`")?;
    let addr: SocketAddr = addr.parse().context("ADDR must be ip:port")?;
    if !addr.ip().is_loopback() {
        bail!("the bench loads loopback addresses only, not {addr}");
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

    let connections = runtime
        .block_on(Connections::open(protocol, addr, &plan))
        .with_context(|| format!("connecting to {addr}"))?;
    let window = Window::starting_now(&plan);
    // A plain thread takes the CPU snapshots on time even when the runtime is saturated.
    let sampler = server_pid.map(|pid| {
        std::thread::spawn(move || -> std::io::Result<(CpuSnapshot, CpuSnapshot)> {
            sleep_until(window.measure_from);
            let start = CpuSnapshot::take(pid)?;
            sleep_until(window.stop);
            Ok((start, CpuSnapshot::take(pid)?))
        })
    });
    let outcome = runtime.block_on(connections.drive(plan.in_flight, window));
    let cpu = match sampler {
        Some(handle) => {
            let (start, end) = handle
                .join()
                .map_err(|_| anyhow::anyhow!("the cpu sampler panicked"))?
                .context("reading cpu counters from /proc")?;
            Some(CpuWindow::between(&start, &end, ticks_per_second()))
        }
        None => None,
    };

    let secs = plan.duration.as_secs_f64();
    let mut line = format!(
        "result protocol={} in_flight={} ok={} errors={} stuck={} rps={:.0} p50_us={:.1} p99_us={:.1}",
        protocol.name(),
        plan.in_flight,
        outcome.ok,
        outcome.errors,
        outcome.stuck_tasks,
        outcome.ok as f64 / secs,
        outcome.latency_us(0.50),
        outcome.latency_us(0.99),
    );
    if let Some(cpu) = cpu {
        line.push_str(&format!(
            " srv_us_per_req={:.2} srv_cores={:.2} lg_cores={:.2} other_cpu={:.2}",
            cpu.server_us_per_request(outcome.ok + outcome.errors),
            cpu.server_cores(),
            cpu.load_generator_cores(),
            cpu.other_cores(),
        ));
    }
    println!("{line}");
    if let Some(error) = &outcome.first_error {
        eprintln!("first error: {error}");
    }
    Ok(())
}

fn sleep_until(at: std::time::Instant) {
    std::thread::sleep(at.saturating_duration_since(std::time::Instant::now()));
}
