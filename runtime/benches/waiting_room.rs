//! Waiting-room engine benchmark against the Redis at `REDIS_URL`.
//!
//! Reports, for the Redis backend on one multiplexed connection:
//! * join and status throughput with many concurrent tasks (commands pipeline on the socket),
//!   several runs and their median;
//! * Redis round trips per join, from `INFO commandstats` deltas;
//! * status and join latency (p50/p99) with 1k, 100k and 1M users waiting.
//!
//! Everything is bounded in count and time. Knobs (env): `WR_BENCH_RUNS` (5),
//! `WR_BENCH_JOINS` per throughput run (100000), `WR_BENCH_CONCURRENCY` (256),
//! `WR_BENCH_MAX_WAITING` (1000000), `WR_BENCH_THREADS` (runtime worker threads, 1).
//! The benchmark deletes the keys it created when it ends.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use tacos_runtime::waiting_room::{EventConfig, RedisBackend, RedisOptions, Visitor, WaitingRoom};

/// No single phase may run longer than this.
const PHASE_LIMIT: Duration = Duration::from_secs(240);

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() -> anyhow::Result<()> {
    let url = std::env::var("REDIS_URL").context(
        "set REDIS_URL (for example redis://127.0.0.1:6379/) or run `cargo xtask bench`",
    )?;
    let threads = env_or("WR_BENCH_THREADS", 1) as usize;
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
    runtime.block_on(run(&url))
}

struct Bench {
    room: WaitingRoom,
    admin: redis::aio::MultiplexedConnection,
    prefix: String,
}

async fn run(url: &str) -> anyhow::Result<()> {
    let runs = env_or("WR_BENCH_RUNS", 5);
    let joins = env_or("WR_BENCH_JOINS", 100_000);
    let concurrency = env_or("WR_BENCH_CONCURRENCY", 256);
    let max_waiting = env_or("WR_BENCH_MAX_WAITING", 1_000_000);

    let config = EventConfig {
        // Nobody polls while the queues are filled: keep everyone's place for the whole run.
        heartbeat_ttl: Duration::from_secs(3600),
        ..EventConfig::default()
    };
    let options = RedisOptions {
        op_timeout: Duration::from_secs(5),
        ..RedisOptions::default()
    };
    let room = WaitingRoom::new(RedisBackend::standalone(url, options)?, config)?;
    let admin = redis::Client::open(url)?
        .get_multiplexed_async_connection()
        .await?;
    let bench = Bench {
        room,
        admin,
        prefix: format!("bench-{}", std::process::id()),
    };
    println!("waiting-room bench: redis {url}, {concurrency} concurrent tasks, {runs} runs");

    let result = phases(&bench, runs, joins, concurrency, max_waiting).await;
    let removed = cleanup(&bench).await;
    println!("cleanup: removed {removed} keys");
    result
}

async fn phases(
    bench: &Bench,
    runs: u64,
    joins: u64,
    concurrency: u64,
    max_waiting: u64,
) -> anyhow::Result<()> {
    // Warm up: loads the scripts and the registry entry.
    bench
        .room
        .join(
            &format!("{}-warmup", bench.prefix),
            &Visitor::User("w".into()),
        )
        .await?;

    println!("\n## round trips per join");
    let event = format!("{}-calls", bench.prefix);
    bench
        .room
        .join(&event, &Visitor::User("first".into()))
        .await?;
    let before = command_calls(&bench.admin).await?;
    let n = 10_000;
    load(bench, &event, "calls", n, concurrency).await?;
    let after = command_calls(&bench.admin).await?;
    let scripts = (after.scripts - before.scripts) as f64 / n as f64;
    // Two of the counted commands are the INFO calls of the first reading.
    let inner = (after.processed - before.processed - 2) as f64 / n as f64 - scripts;
    let usec = (after.script_usec - before.script_usec) as f64
        / (after.scripts - before.scripts).max(1) as f64;
    println!(
        "{n} joins: {scripts:.3} round trips (EVALSHA/EVAL calls) per join; \
         inside each: {inner:.1} Redis commands, {usec:.1} µs of Redis time"
    );

    println!("\n## throughput ({joins} operations per run)");
    let mut join_rates = Vec::new();
    let mut status_rates = Vec::new();
    let mut join_cpu = Vec::new();
    for run in 0..runs {
        let event = format!("{}-throughput-{run}", bench.prefix);
        let cpu = CpuMeter::start(&bench.admin).await?;
        let (rate, tokens) = load(bench, &event, "u", joins, concurrency).await?;
        let (client, redis) = cpu.per_op(&bench.admin, joins).await?;
        join_rates.push(rate);
        join_cpu.push((client, redis));
        let cpu = CpuMeter::start(&bench.admin).await?;
        let (status_rate, done) = load_status(bench, &tokens, concurrency).await?;
        let (s_client, s_redis) = cpu.per_op(&bench.admin, done).await?;
        status_rates.push(status_rate);
        println!(
            "run {}: join {rate:>7.0}/s (CPU per join: client {client:.1} µs, redis {redis:.1} µs)   \
             status {status_rate:>7.0}/s (client {s_client:.1} µs, redis {s_redis:.1} µs)",
            run + 1
        );
        delete_event(bench, &event).await?;
    }
    let mut client: Vec<f64> = join_cpu.iter().map(|c| c.0).collect();
    let mut redis: Vec<f64> = join_cpu.iter().map(|c| c.1).collect();
    let (client, redis) = (median(&mut client), median(&mut redis));
    println!(
        "median: join {:.0}/s, status {:.0}/s; CPU per join: client {client:.1} µs, redis {redis:.1} µs \
         (one Redis core alone could serve {:.0} joins/s)",
        median(&mut join_rates),
        median(&mut status_rates),
        1e6 / redis
    );

    println!("\n## latency by queue size (sequential calls: one round trip each)");
    let event = format!("{}-scale", bench.prefix);
    let mut filled = 0u64;
    let mut all_tokens = Vec::new();
    for size in [1_000u64, 100_000, 1_000_000] {
        if size > max_waiting {
            break;
        }
        let started = Instant::now();
        let (_, tokens) = load(
            bench,
            &event,
            &format!("s{size}"),
            size - filled,
            concurrency,
        )
        .await?;
        all_tokens.extend(tokens);
        filled = size;
        let fill = started.elapsed();
        let waiting = bench.room.stats(&event).await?.total_waiting;
        let status = latency(bench, &all_tokens, Op::Status, &event).await?;
        let join = latency(bench, &all_tokens, Op::Join, &event).await?;
        println!(
            "{waiting:>8} waiting (filled in {:.1}s): status p50 {:>6.0}µs p99 {:>6.0}µs | join p50 {:>6.0}µs p99 {:>6.0}µs",
            fill.as_secs_f64(),
            status.0,
            status.1,
            join.0,
            join.1
        );
        filled += 2_000;
    }
    Ok(())
}

#[derive(Clone, Copy)]
enum Op {
    Join,
    Status,
}

/// Runs `total` joins for fresh users over `concurrency` tasks; returns ops/s and the tokens.
async fn load(
    bench: &Bench,
    event: &str,
    tag: &str,
    total: u64,
    concurrency: u64,
) -> anyhow::Result<(f64, Vec<String>)> {
    let next = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + PHASE_LIMIT;
    let started = Instant::now();
    let tasks: Vec<_> = (0..concurrency)
        .map(|_| {
            let (room, next) = (bench.room.clone(), next.clone());
            let (event, tag) = (event.to_owned(), tag.to_owned());
            tokio::spawn(async move {
                let mut tokens = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= total || Instant::now() > deadline {
                        return Ok::<_, anyhow::Error>(tokens);
                    }
                    let ticket = room
                        .join(&event, &Visitor::User(format!("{tag}-{i}")))
                        .await?;
                    tokens.push(ticket.waiting_token);
                }
            })
        })
        .collect();
    let mut tokens = Vec::with_capacity(total as usize);
    for task in tasks {
        tokens.extend(task.await??);
    }
    let elapsed = started.elapsed();
    if (tokens.len() as u64) < total {
        bail!(
            "phase limit reached after {} of {total} joins",
            tokens.len()
        );
    }
    Ok((tokens.len() as f64 / elapsed.as_secs_f64(), tokens))
}

/// One status call per token over `concurrency` tasks; returns ops/s.
async fn load_status(
    bench: &Bench,
    tokens: &[String],
    concurrency: u64,
) -> anyhow::Result<(f64, u64)> {
    let tokens = Arc::new(tokens.to_vec());
    let next = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + PHASE_LIMIT;
    let started = Instant::now();
    let tasks: Vec<_> = (0..concurrency)
        .map(|_| {
            let (room, next, tokens) = (bench.room.clone(), next.clone(), tokens.clone());
            tokio::spawn(async move {
                let mut done = 0u64;
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed) as usize;
                    if i >= tokens.len() || Instant::now() > deadline {
                        return Ok::<_, anyhow::Error>(done);
                    }
                    room.status(&tokens[i]).await?;
                    done += 1;
                }
            })
        })
        .collect();
    let mut done = 0;
    for task in tasks {
        done += task.await??;
    }
    Ok((done as f64 / started.elapsed().as_secs_f64(), done))
}

/// p50 and p99 in microseconds of 2,000 sequential calls.
async fn latency(
    bench: &Bench,
    tokens: &[String],
    op: Op,
    event: &str,
) -> anyhow::Result<(f64, f64)> {
    let mut samples = Vec::with_capacity(2_000);
    let base = tokens.len();
    for i in 0..2_000usize {
        let started = Instant::now();
        match op {
            // Spread over the queue, so ranks from the head to the tail are looked up.
            Op::Status => {
                bench
                    .room
                    .status(&tokens[(i * 7919) % tokens.len()])
                    .await?;
            }
            Op::Join => {
                bench
                    .room
                    .join(event, &Visitor::User(format!("lat-{base}-{i}")))
                    .await?;
            }
        }
        samples.push(started.elapsed().as_secs_f64() * 1e6);
    }
    samples.sort_by(f64::total_cmp);
    Ok((
        samples[samples.len() / 2],
        samples[samples.len() * 99 / 100],
    ))
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

struct Calls {
    scripts: u64,
    script_usec: u64,
    processed: u64,
}

/// Command counts. Redis 7 counts the commands a script runs as well, so round trips are the
/// EVALSHA/EVAL calls (scripts cannot call those); the rest of `total_commands_processed` ran
/// inside the scripts (plus the two INFO calls).
async fn command_calls(admin: &redis::aio::MultiplexedConnection) -> anyhow::Result<Calls> {
    let mut admin = admin.clone();
    let commandstats: String = redis::cmd("INFO")
        .arg("commandstats")
        .query_async(&mut admin)
        .await?;
    let stats: String = redis::cmd("INFO")
        .arg("stats")
        .query_async(&mut admin)
        .await?;
    let field_of = |name: &str, field: &str| {
        commandstats
            .lines()
            .find_map(|l| l.strip_prefix(&format!("cmdstat_{name}:")))
            .and_then(|rest| {
                rest.split(',')
                    .find_map(|kv| kv.strip_prefix(&format!("{field}=")))
            })
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or(0)
    };
    let calls_of = |name: &str| field_of(name, "calls");
    let processed = stats
        .lines()
        .find_map(|l| l.strip_prefix("total_commands_processed:"))
        .and_then(|n| n.trim().parse::<u64>().ok())
        .unwrap_or(0);
    Ok(Calls {
        scripts: calls_of("evalsha") + calls_of("eval"),
        script_usec: field_of("evalsha", "usec") + field_of("eval", "usec"),
        processed,
    })
}

async fn delete_event(bench: &Bench, event: &str) -> anyhow::Result<()> {
    // An event owns a fixed set of keys, whatever its queue size.
    let mut admin = bench.admin.clone();
    let mut cmd = redis::cmd("UNLINK");
    for suffix in ["q", "d", "t", "v", "r", "m", "a"] {
        cmd.arg(format!("wr:{{{event}}}:{suffix}"));
    }
    let _: i64 = cmd.query_async(&mut admin).await?;
    Ok(())
}

/// Removes every key this run created (SCAN by our prefix; a maintenance step, not a request path).
async fn cleanup(bench: &Bench) -> u64 {
    let mut admin = bench.admin.clone();
    let pattern = format!("wr:{{{}-*", bench.prefix);
    let mut cursor: u64 = 0;
    let mut removed = 0;
    for _ in 0..1_000_000 {
        let Ok((next, keys)): Result<(u64, Vec<String>), _> = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(&pattern)
            .arg("COUNT")
            .arg(10_000)
            .query_async(&mut admin)
            .await
        else {
            break;
        };
        if !keys.is_empty() {
            let _: Result<i64, _> = redis::cmd("UNLINK")
                .arg(&keys)
                .query_async(&mut admin)
                .await;
            removed += keys.len() as u64;
        }
        cursor = next;
        if cursor == 0 {
            break;
        }
    }
    // Drop our events from the registry of active events.
    let mut zrem = redis::cmd("ZREM");
    zrem.arg("wr:events");
    for suffix in ["warmup", "calls", "scale"] {
        zrem.arg(format!("{}-{suffix}", bench.prefix));
    }
    for run in 0..100 {
        zrem.arg(format!("{}-throughput-{run}", bench.prefix));
    }
    let _: Result<i64, _> = zrem.query_async(&mut admin).await;
    removed
}

/// CPU time of this process (client) and of the Redis server over a phase.
struct CpuMeter {
    client: f64,
    redis: f64,
}

impl CpuMeter {
    async fn start(admin: &redis::aio::MultiplexedConnection) -> anyhow::Result<Self> {
        Ok(Self {
            client: process_cpu_seconds()?,
            redis: redis_cpu_seconds(admin).await?,
        })
    }

    /// Microseconds of client and Redis CPU per operation since `start`.
    async fn per_op(
        &self,
        admin: &redis::aio::MultiplexedConnection,
        ops: u64,
    ) -> anyhow::Result<(f64, f64)> {
        let client = process_cpu_seconds()? - self.client;
        let redis = redis_cpu_seconds(admin).await? - self.redis;
        let ops = ops.max(1) as f64;
        Ok((client * 1e6 / ops, redis * 1e6 / ops))
    }
}

/// User + system CPU of this process, from /proc (Linux), in seconds.
fn process_cpu_seconds() -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat")?;
    // The fields after the command name (which may contain spaces) follow the last ')'.
    let rest = stat
        .rsplit_once(')')
        .map(|(_, r)| r)
        .context("odd /proc/self/stat")?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = fields[11].parse::<f64>()? + fields[12].parse::<f64>()?;
    // Linux reports these in clock ticks of 1/100 s (USER_HZ).
    Ok(ticks / 100.0)
}

async fn redis_cpu_seconds(admin: &redis::aio::MultiplexedConnection) -> anyhow::Result<f64> {
    let mut admin = admin.clone();
    let info: String = redis::cmd("INFO")
        .arg("cpu")
        .query_async(&mut admin)
        .await?;
    let field = |name: &str| {
        info.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    Ok(field("used_cpu_user:") + field("used_cpu_sys:"))
}
