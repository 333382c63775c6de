//! `cargo xtask bench`: the framework against hand-written code, loaded the same way in the same
//! run, reported as medians and ratios. Four suites:
//!
//! - `surfaces`: hand-written tonic and axum servers against the generated gRPC and REST
//!   surfaces, in each runtime layout (server CPU per request);
//! - `clients`: the generated client against a hand-written tonic client and a hand-written
//!   hyper HTTP/1.1 client, same server; and what split and shadow modes cost (client CPU per
//!   call);
//! - `stack`: the generated surface with each policy layer on (metrics, access logs, HS256 auth,
//!   rate limit) and all of them, against the bare surface (server CPU per request);
//! - `join`: the Traffic Tacos gateway's JoinQueue (HS256 token, metrics, access logs, rate
//!   limit, the Redis waiting room) against a hand-written tonic / axum join doing the token check
//!   and a Redis script (server CPU per join, and Redis CPU per join).
//!
//! Each measurement starts a fresh `bench-server` and runs `bench-load` against it: a closed loop
//! with a warm-up and a fixed window, all on loopback. `bench-load` reads CPU time from `/proc` at
//! the window's edges, so per-request CPU, the figure that survives a busy machine, excludes
//! start-up and warm-up. Contestants are interleaved within each repetition so drifting
//! background load hits them alike.

mod process;
mod report;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{bail, Context};

use crate::redis_server::TestRedis;
use crate::workspace_root;
use process::{pinned, run_bounded, Server};
use report::{print_ratios, print_table, CpuSide, Goal, Sample, ScenarioReport, Series};

const USAGE: &str = "usage: cargo xtask bench [--suite surfaces,clients,stack,join] [--reps N]
                        [--duration SECS] [--warmup SECS] [--quick]
                        [--protocol grpc|rest] [--layouts current,per-core,multi]
                        [--grpc-in-flight N] [--grpc-connections N] [--rest-connections N]";

/// What the issue asks of generated gRPC code, relative to hand-written.
const GRPC_GOAL: Goal = Goal {
    min_throughput: 0.95,
    max_cpu: 1.05,
};
/// What the issue asks of generated REST code, relative to hand-written.
const REST_GOAL: Goal = Goal {
    min_throughput: 0.90,
    max_cpu: 1.10,
};
/// The policy stack without the waiting room: at most 15% more CPU than the bare surface.
const STACK_GOAL: Goal = Goal {
    min_throughput: 0.0,
    max_cpu: 1.15,
};
/// The full join through the framework: at least the hand-written join's joins/s, at most its
/// CPU per join.
const JOIN_GOAL: Goal = Goal {
    min_throughput: 1.0,
    max_cpu: 1.0,
};

/// Runs the bench; `args` are the flags after `bench`.
pub(crate) fn run(args: &[String]) -> anyhow::Result<()> {
    let options = Options::parse(args)?;
    build()?;
    let bins = Binaries::locate()?;
    let targets = list_targets(&bins.server)?;
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let pin = cores >= 2 && which("taskset");
    let groups = plan(&options, &targets, pin);
    if groups.iter().all(|g| g.scenarios.is_empty()) {
        bail!("nothing to measure with these filters");
    }
    // The join suite's Redis: private, so nothing else loads it, and next to the load generator.
    let redis = if options.suites.contains(&Suite::Join) {
        Some(TestRedis::private(pin.then_some(1))?)
    } else {
        None
    };
    let runs: usize = groups
        .iter()
        .flat_map(|g| &g.scenarios)
        .map(|s| s.contestants.len())
        .sum::<usize>()
        * options.reps;
    let per_run = options.warmup + options.duration + 1.0;
    println!(
        "bench: {runs} runs of {:.1}s warm-up + {:.1}s measured, about {:.0} s; {cores} cores, {}",
        options.warmup,
        options.duration,
        runs as f64 * per_run,
        if pin {
            "single-runtime rows pin the server to core 0 and the load generator (and Redis) to core 1"
        } else {
            "no pinning (needs 2 cores and taskset)"
        }
    );

    let mut results: Vec<Vec<Vec<Series>>> = groups
        .iter()
        .map(|g| {
            g.scenarios
                .iter()
                .map(|s| {
                    s.contestants
                        .iter()
                        .map(|c| Series {
                            target: c.name.clone(),
                            baseline: c.baseline,
                            by_rep: BTreeMap::new(),
                            failures: 0,
                        })
                        .collect()
                })
                .collect()
        })
        .collect();
    let mut failures = 0;
    for rep in 0..options.reps {
        for (group, group_results) in groups.iter().zip(results.iter_mut()) {
            for (scenario, series) in group.scenarios.iter().zip(group_results.iter_mut()) {
                // Alternate the order within a scenario so no contestant always runs first.
                let mut order: Vec<usize> = (0..series.len()).collect();
                if rep % 2 == 1 {
                    order.reverse();
                }
                for index in order {
                    let contestant = &scenario.contestants[index];
                    let label = format!(
                        "[{}/{}] {} {} {}",
                        rep + 1,
                        options.reps,
                        group.name,
                        scenario.title,
                        contestant.name
                    );
                    let redis = redis.as_ref().filter(|_| group.redis);
                    let measured = measure(&bins, &options, group, scenario, contestant, redis);
                    match measured {
                        Ok(sample) => {
                            println!(
                                "{label}: {:.0} req/s, p50 {:.0} µs, p99 {:.0} µs, {:.1} µs {} CPU/req{}, other_cpu {:.2}{}",
                                sample.rps,
                                sample.p50_us,
                                sample.p99_us,
                                sample.cpu_us_per_req,
                                group.cpu.name(),
                                sample
                                    .redis_us_per_req
                                    .map(|r| format!(" + {r:.1} µs Redis"))
                                    .unwrap_or_default(),
                                sample.other_cpu,
                                if sample.errors + sample.stuck > 0 {
                                    format!(", {} ERRORS", sample.errors + sample.stuck)
                                } else {
                                    String::new()
                                }
                            );
                            if sample.errors + sample.stuck > 0 {
                                failures += 1;
                            }
                            series[index].by_rep.insert(rep, sample);
                        }
                        Err(error) => {
                            println!("{label}: FAILED: {error:#}");
                            series[index].failures += 1;
                            failures += 1;
                        }
                    }
                }
            }
        }
    }

    for (group, group_results) in groups.iter().zip(&results) {
        let tables: Vec<ScenarioReport<'_>> = group
            .scenarios
            .iter()
            .zip(group_results)
            .map(|(s, series)| ScenarioReport {
                title: s.title.clone(),
                series,
            })
            .collect();
        if tables.is_empty() {
            continue;
        }
        print_table(
            &format!(
                "{}: {}; medians (min..max) of {} runs",
                group.name, group.load, options.reps
            ),
            &tables,
            group.cpu,
        );
        print_ratios(&group.ratio_heading, &tables, group.goal);
    }
    println!(
        "\nCPU µs/req is the figure to trust: busy machines move req/s by 40-60% but it by ~10%;\n\
         other_cpu is the cores used by processes that are not ours during the window."
    );
    if failures > 0 {
        bail!("{failures} runs failed or saw errors (see above)");
    }
    Ok(())
}

/// The flags.
struct Options {
    suites: Vec<Suite>,
    reps: usize,
    duration: f64,
    warmup: f64,
    protocol: Option<String>,
    layouts: Vec<String>,
    grpc_in_flight: usize,
    grpc_connections: usize,
    rest_connections: usize,
}

impl Options {
    fn parse(args: &[String]) -> anyhow::Result<Self> {
        let mut options = Options {
            suites: vec![Suite::Surfaces],
            reps: 3,
            duration: 5.0,
            warmup: 2.0,
            protocol: None,
            layouts: vec!["current".into(), "per-core".into(), "multi".into()],
            grpc_in_flight: 64,
            // With fewer connections the kernel's SO_REUSEPORT hash often puts most of them on
            // one runtime of a per-core server, and req/s then measures that luck.
            grpc_connections: 16,
            rest_connections: 32,
        };
        let mut quick = false;
        let mut args = args.iter();
        while let Some(flag) = args.next() {
            let mut value = || {
                args.next()
                    .with_context(|| format!("`{flag}` needs a value\n{USAGE}"))
            };
            match flag.as_str() {
                "--quick" => quick = true,
                "--suite" => {
                    options.suites = value()?
                        .split(',')
                        .map(|name| {
                            Suite::parse(name).with_context(|| {
                                format!(
                                    "unknown suite `{name}`: use surfaces, clients, stack or join"
                                )
                            })
                        })
                        .collect::<anyhow::Result<_>>()?;
                }
                "--reps" => options.reps = number(flag, value()?)?,
                "--duration" => options.duration = number(flag, value()?)?,
                "--warmup" => options.warmup = number(flag, value()?)?,
                "--protocol" => {
                    let v = value()?;
                    if v != "grpc" && v != "rest" {
                        bail!("`--protocol` is `grpc` or `rest`, not `{v}`");
                    }
                    options.protocol = Some(v.clone());
                }
                "--layouts" => {
                    options.layouts = value()?.split(',').map(str::to_owned).collect();
                    if let Some(bad) = options
                        .layouts
                        .iter()
                        .find(|l| !["current", "per-core", "multi"].contains(&l.as_str()))
                    {
                        bail!("unknown layout `{bad}`: use current, per-core or multi");
                    }
                }
                "--grpc-in-flight" => options.grpc_in_flight = number(flag, value()?)?,
                "--grpc-connections" => options.grpc_connections = number(flag, value()?)?,
                "--rest-connections" => options.rest_connections = number(flag, value()?)?,
                "--help" | "-h" => {
                    println!("{USAGE}");
                    std::process::exit(0);
                }
                other => bail!("unknown flag `{other}`\n{USAGE}"),
            }
        }
        if quick {
            options.reps = 1;
            options.duration = 1.0;
            options.warmup = 0.5;
        }
        if options.reps == 0
            || options.grpc_in_flight == 0
            || options.grpc_connections == 0
            || options.rest_connections == 0
        {
            bail!("counts must be at least 1");
        }
        if !(0.1..=120.0).contains(&options.duration) || !(0.0..=60.0).contains(&options.warmup) {
            bail!("`--duration` must be 0.1..120 s and `--warmup` 0..60 s");
        }
        Ok(options)
    }
}

fn number<T: std::str::FromStr>(flag: &str, value: &str) -> anyhow::Result<T> {
    value
        .parse()
        .map_err(|_| anyhow::anyhow!("`{flag}` takes a number, not `{value}`"))
}

/// The four comparisons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Suite {
    Surfaces,
    Clients,
    Stack,
    Join,
}

impl Suite {
    fn parse(name: &str) -> Option<Self> {
        match name {
            "surfaces" => Some(Suite::Surfaces),
            "clients" => Some(Suite::Clients),
            "stack" => Some(Suite::Stack),
            "join" => Some(Suite::Join),
            _ => None,
        }
    }
}

/// A target as `bench-server --list` describes it.
#[derive(Debug, Clone)]
struct TargetInfo {
    name: String,
    protocol: String,
    baseline: bool,
    layouts: Vec<String>,
    /// `surface` (the in-memory join) or `join` (token + Redis).
    suite: String,
}

/// One row of a scenario: a server, and a client to load it.
#[derive(Debug, Clone)]
struct Contestant {
    /// The row's name in the report.
    name: String,
    /// Whether the others are compared with this one.
    baseline: bool,
    /// `bench-server --target`.
    target: String,
    /// More `bench-server` flags.
    server_args: Vec<String>,
    /// `bench-load`'s client: `grpc`, `rest`, `generated-...`.
    client: String,
    /// More `bench-load` flags.
    load_args: Vec<String>,
    /// Whether the client takes the server's other address too (split and shadow).
    both_addrs: bool,
}

impl Contestant {
    /// A server target loaded by a client, with no extra flags.
    fn new(name: &str, baseline: bool, target: &str, client: &str) -> Self {
        Self {
            name: name.to_owned(),
            baseline,
            target: target.to_owned(),
            server_args: Vec::new(),
            client: client.to_owned(),
            load_args: Vec::new(),
            both_addrs: false,
        }
    }

    fn server_args(mut self, args: &[&str]) -> Self {
        self.server_args
            .extend(args.iter().map(|a| (*a).to_owned()));
        self
    }

    fn load_args(mut self, args: &[&str]) -> Self {
        self.load_args.extend(args.iter().map(|a| (*a).to_owned()));
        self
    }
}

/// One layout, with the contestants measured in it.
struct Scenario {
    /// `grpc` or `rest`: which in-flight and connection counts apply.
    protocol: &'static str,
    /// The `--layout` value.
    layout: String,
    title: String,
    pinned: bool,
    contestants: Vec<Contestant>,
}

/// Scenarios reported in one table, with one goal.
struct Group {
    name: String,
    /// How the load is shaped, for the table's heading.
    load: String,
    ratio_heading: String,
    goal: Option<Goal>,
    /// Whose CPU per request the table reports.
    cpu: CpuSide,
    /// Whether runs need the suite's Redis (passed to the server, emptied before each run).
    redis: bool,
    scenarios: Vec<Scenario>,
}

fn plan(options: &Options, targets: &[TargetInfo], pin: bool) -> Vec<Group> {
    let protocols: Vec<&'static str> = ["grpc", "rest"]
        .into_iter()
        .filter(|p| options.protocol.as_deref().is_none_or(|o| o == *p))
        .collect();
    let load = |protocol: &str| {
        if protocol == "grpc" {
            format!(
                "{} in flight over {} HTTP/2 connections",
                options.grpc_in_flight, options.grpc_connections
            )
        } else {
            format!(
                "{} HTTP/1.1 connections, one request in flight each",
                options.rest_connections
            )
        }
    };
    let display = |protocol: &str| if protocol == "grpc" { "gRPC" } else { "REST" };
    // Every suite but `surfaces` measures one pinned current-thread runtime.
    let pinned_scenario = |protocol: &'static str, contestants: Vec<Contestant>| Scenario {
        protocol,
        layout: "current".to_owned(),
        title: if pin {
            "1 runtime, pinned"
        } else {
            "1 runtime"
        }
        .to_owned(),
        pinned: pin,
        contestants,
    };
    let mut groups = Vec::new();
    for suite in &options.suites {
        match suite {
            Suite::Surfaces => {
                for &protocol in &protocols {
                    groups.push(Group {
                        name: format!("surfaces {}", display(protocol)),
                        load: load(protocol),
                        ratio_heading: format!(
                            "surfaces {}: generated / hand-written, paired per repetition",
                            display(protocol)
                        ),
                        goal: Some(if protocol == "grpc" {
                            GRPC_GOAL
                        } else {
                            REST_GOAL
                        }),
                        cpu: CpuSide::Server,
                        redis: false,
                        scenarios: surface_scenarios(options, targets, protocol, pin),
                    });
                }
            }
            Suite::Clients => {
                for &protocol in &protocols {
                    let (server, hand) = if protocol == "grpc" {
                        ("tonic", "tonic-client")
                    } else {
                        ("axum", "hyper-client")
                    };
                    groups.push(Group {
                        name: format!("clients {}", display(protocol)),
                        load: format!("{}; server: hand-written {server}", load(protocol)),
                        ratio_heading: format!(
                            "clients {}: generated client / hand-written client, paired per repetition",
                            display(protocol)
                        ),
                        goal: Some(if protocol == "grpc" { GRPC_GOAL } else { REST_GOAL }),
                        cpu: CpuSide::Client,
                        redis: false,
                        scenarios: vec![pinned_scenario(
                            protocol,
                            vec![
                                Contestant::new(hand, true, server, protocol),
                                Contestant::new(
                                    "generated-client",
                                    false,
                                    server,
                                    &format!("generated-{protocol}"),
                                ),
                            ],
                        )],
                    });
                }
                let both = |name: &str, client: &str| Contestant {
                    both_addrs: true,
                    ..Contestant::new(name, false, "generated-grpc", client)
                };
                groups.push(Group {
                    name: "client modes".to_owned(),
                    load: format!(
                        "{}; server: the generated surface on both protocols",
                        load("grpc")
                    ),
                    ratio_heading:
                        "client modes: split and shadow / the generated gRPC client, paired per repetition"
                            .to_owned(),
                    goal: None,
                    cpu: CpuSide::Client,
                    redis: false,
                    scenarios: vec![pinned_scenario(
                        "grpc",
                        vec![
                            Contestant::new("grpc", true, "generated-grpc", "generated-grpc"),
                            both("split-50", "generated-split"),
                            both("shadow-1%", "generated-shadow:10"),
                            both("shadow-100%", "generated-shadow:1000"),
                        ],
                    )],
                });
            }
            Suite::Stack => {
                for &protocol in &protocols {
                    let target = format!("generated-{protocol}");
                    let layer = |name: &str, policies: &str, auth: bool| {
                        let contestant = Contestant::new(name, name == "bare", &target, protocol)
                            .server_args(&["--policies", policies]);
                        if auth {
                            contestant.load_args(&["--auth"])
                        } else {
                            contestant
                        }
                    };
                    groups.push(Group {
                        name: format!("stack {}", display(protocol)),
                        load: load(protocol),
                        ratio_heading: format!(
                            "stack {}: with policy layers / bare generated surface, paired per repetition",
                            display(protocol)
                        ),
                        goal: Some(STACK_GOAL),
                        cpu: CpuSide::Server,
                        redis: false,
                        scenarios: vec![pinned_scenario(
                            protocol,
                            vec![
                                layer("bare", "none", false),
                                layer("+metrics", "metrics", false),
                                layer("+logs", "logs", false),
                                layer("+rate", "rate", false),
                                layer("+auth", "auth", true),
                                layer("all-but-auth", "metrics,logs,rate", false),
                                layer("all", "all", true),
                            ],
                        )],
                    });
                }
            }
            Suite::Join => {
                for &protocol in &protocols {
                    let named = |suite_role: bool| {
                        targets
                            .iter()
                            .find(|t| {
                                t.suite == "join"
                                    && t.protocol == protocol
                                    && t.baseline == suite_role
                            })
                            .map(|t| t.name.clone())
                    };
                    let (Some(hand), Some(framework)) = (named(true), named(false)) else {
                        continue;
                    };
                    groups.push(Group {
                        name: format!("join {}", display(protocol)),
                        load: format!("{}; every request a new user", load(protocol)),
                        ratio_heading: format!(
                            "join {}: the gateway's JoinQueue / the hand-written join, paired per repetition",
                            display(protocol)
                        ),
                        goal: Some(JOIN_GOAL),
                        cpu: CpuSide::Server,
                        redis: true,
                        scenarios: vec![pinned_scenario(
                            protocol,
                            vec![
                                Contestant::new(&hand, true, &hand, protocol)
                                    .load_args(&["--auth", "--distinct-users"]),
                                Contestant::new(&framework, false, &framework, protocol)
                                    .load_args(&["--auth", "--distinct-users", "--call", "queue-join"]),
                            ],
                        )],
                    });
                }
            }
        }
    }
    groups
}

/// The surfaces suite: every `surface` target of `protocol`, in each layout asked for.
fn surface_scenarios(
    options: &Options,
    targets: &[TargetInfo],
    protocol: &'static str,
    pin: bool,
) -> Vec<Scenario> {
    let mut scenarios = Vec::new();
    for (kind, layout, title, pinned) in [
        (
            "current",
            "current",
            if pin {
                "1 runtime, pinned"
            } else {
                "1 runtime"
            },
            pin,
        ),
        ("per-core", "per-core:2", "per-core x2, shared cores", false),
        ("multi", "multi:2", "multi-thread x2, shared cores", false),
    ] {
        if !options.layouts.iter().any(|l| l == kind) {
            continue;
        }
        let contestants: Vec<Contestant> = targets
            .iter()
            .filter(|t| {
                t.suite == "surface"
                    && t.protocol == protocol
                    && t.layouts.iter().any(|l| l == kind)
            })
            .map(|t| Contestant::new(&t.name, t.baseline, &t.name, protocol))
            .collect();
        if contestants.is_empty() {
            continue;
        }
        scenarios.push(Scenario {
            protocol,
            layout: layout.to_owned(),
            title: title.to_owned(),
            pinned,
            contestants,
        });
    }
    scenarios
}

fn measure(
    bins: &Binaries,
    options: &Options,
    group: &Group,
    scenario: &Scenario,
    contestant: &Contestant,
    redis: Option<&TestRedis>,
) -> anyhow::Result<Sample> {
    let (server_core, load_core) = if scenario.pinned {
        (Some(0), Some(1))
    } else {
        (None, None)
    };
    if group.redis {
        let redis = redis.context("the join suite needs its Redis")?;
        // Every run starts from an empty Redis, so queues do not grow from run to run.
        redis.flush_all()?;
    }
    let mut server = pinned(&bins.server, server_core);
    server
        .args(["--target", &contestant.target])
        .args(["--layout", &scenario.layout])
        .args(["--addr", "127.0.0.1:0"])
        .args(&contestant.server_args);
    if let Some(redis) = redis {
        server.args(["--redis", &redis.url]);
    }
    let server = Server::start(server)?;

    let (in_flight, connections) = match scenario.protocol {
        "grpc" => (options.grpc_in_flight, options.grpc_connections),
        _ => (options.rest_connections, options.rest_connections),
    };
    let mut load = pinned(&bins.load, load_core);
    load.arg(&contestant.client);
    if contestant.both_addrs {
        load.args(&server.addrs);
    } else {
        load.arg(&server.addrs[0]);
    }
    load.args(["--in-flight", &in_flight.to_string()])
        .args(["--connections", &connections.to_string()])
        .args(["--warmup", &options.warmup.to_string()])
        .args(["--duration", &options.duration.to_string()])
        .args(["--server-pid", &server.pid().to_string()])
        .args(&contestant.load_args);
    if let Some(pid) = redis.and_then(TestRedis::pid) {
        load.args(["--redis-pid", &pid.to_string()]);
    }
    // Warm-up + window + the load generator's drain cap + connection set-up.
    let limit = Duration::from_secs_f64(options.warmup + options.duration + 20.0);
    let output = run_bounded(load, limit)?;
    drop(server);
    Sample::parse(&output, group.cpu)
}

/// The release binaries of the bench crate.
struct Binaries {
    server: PathBuf,
    load: PathBuf,
}

impl Binaries {
    fn locate() -> anyhow::Result<Self> {
        let release = target_dir()?.join("release");
        let bins = Binaries {
            server: release.join("bench-server"),
            load: release.join("bench-load"),
        };
        for bin in [&bins.server, &bins.load] {
            if !bin.exists() {
                bail!("{} is missing after the build", bin.display());
            }
        }
        Ok(bins)
    }
}

fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(workspace_root());
    cmd
}

fn build() -> anyhow::Result<()> {
    eprintln!("xtask: cargo build --release -p tacos-bench");
    let status = cargo()
        .args(["build", "--release", "-p", "tacos-bench"])
        .status()
        .context("running cargo build")?;
    if !status.success() {
        bail!("`cargo build --release -p tacos-bench` failed");
    }
    Ok(())
}

/// Cargo's target directory, honouring `CARGO_TARGET_DIR` and cargo config.
fn target_dir() -> anyhow::Result<PathBuf> {
    let out = cargo()
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .output()
        .context("running cargo metadata")?;
    if !out.status.success() {
        bail!("`cargo metadata` failed");
    }
    let text = String::from_utf8(out.stdout).context("cargo metadata output")?;
    // A full JSON parser is not worth a dependency for one string field.
    let key = "\"target_directory\":\"";
    let start = text
        .find(key)
        .context("cargo metadata has no target_directory")?
        + key.len();
    let end = text[start..]
        .find('"')
        .context("cargo metadata target_directory is unterminated")?;
    Ok(PathBuf::from(
        text[start..start + end].replace("\\\\", "\\"),
    ))
}

fn list_targets(server: &Path) -> anyhow::Result<Vec<TargetInfo>> {
    let out = Command::new(server)
        .arg("--list")
        .output()
        .context("running bench-server --list")?;
    if !out.status.success() {
        bail!("`bench-server --list` failed");
    }
    let text = String::from_utf8(out.stdout).context("bench-server --list output")?;
    text.lines()
        .filter_map(|line| line.strip_prefix("target "))
        .map(|line| {
            let parts: Vec<&str> = line.split_whitespace().collect();
            let [name, protocol, role, layouts, suite] = parts[..] else {
                bail!("bad target line `{line}`");
            };
            Ok(TargetInfo {
                name: name.to_owned(),
                protocol: protocol.to_owned(),
                baseline: role == "hand-written",
                layouts: layouts.split(',').map(str::to_owned).collect(),
                suite: suite.to_owned(),
            })
        })
        .collect()
}

fn which(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}
