//! Parsing `bench-load` result lines and printing medians, spreads and ratios.

use std::collections::BTreeMap;

use anyhow::Context;

/// Whose CPU per request a comparison is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum CpuSide {
    /// The server's (the surfaces, the policy stack, the join).
    Server,
    /// The load generator's, that is the client's (the client bench).
    Client,
}

impl CpuSide {
    /// `server` or `client`.
    pub(super) fn name(self) -> &'static str {
        match self {
            CpuSide::Server => "server",
            CpuSide::Client => "client",
        }
    }

    fn result_key(self) -> &'static str {
        match self {
            CpuSide::Server => "srv_us_per_req",
            CpuSide::Client => "lg_us_per_req",
        }
    }
}

/// One measurement, parsed from a `result key=value ...` line.
#[derive(Debug, Clone, Copy)]
pub(super) struct Sample {
    pub(super) rps: f64,
    pub(super) p50_us: f64,
    pub(super) p99_us: f64,
    /// CPU per request of the side the comparison is about.
    pub(super) cpu_us_per_req: f64,
    /// Redis CPU per request, when the run had a Redis to watch.
    pub(super) redis_us_per_req: Option<f64>,
    pub(super) other_cpu: f64,
    pub(super) errors: u64,
    pub(super) stuck: u64,
}

impl Sample {
    /// Finds the `result` line in `bench-load`'s output and reads it, taking the CPU per request
    /// of `cpu`'s side.
    pub(super) fn parse(output: &str, cpu: CpuSide) -> anyhow::Result<Self> {
        let line = output
            .lines()
            .find_map(|l| l.strip_prefix("result "))
            .context("bench-load printed no result line")?;
        let fields: BTreeMap<&str, &str> = line
            .split_whitespace()
            .filter_map(|kv| kv.split_once('='))
            .collect();
        let get = |key: &str| -> anyhow::Result<f64> {
            fields
                .get(key)
                .with_context(|| format!("result line has no `{key}`: {line}"))?
                .parse()
                .with_context(|| format!("result line has a bad `{key}`: {line}"))
        };
        Ok(Sample {
            rps: get("rps")?,
            p50_us: get("p50_us")?,
            p99_us: get("p99_us")?,
            cpu_us_per_req: get(cpu.result_key())?,
            redis_us_per_req: get("redis_us_per_req").ok(),
            other_cpu: get("other_cpu")?,
            errors: get("errors")? as u64,
            stuck: get("stuck")? as u64,
        })
    }
}

/// Median with min and max.
#[derive(Debug, Clone, Copy)]
pub(super) struct Spread {
    pub(super) median: f64,
    min: f64,
    max: f64,
}

impl Spread {
    /// `None` for no values.
    pub(super) fn of(values: impl IntoIterator<Item = f64>) -> Option<Self> {
        let mut v: Vec<f64> = values.into_iter().filter(|x| x.is_finite()).collect();
        if v.is_empty() {
            return None;
        }
        v.sort_by(f64::total_cmp);
        let mid = v.len() / 2;
        let median = if v.len() % 2 == 1 {
            v[mid]
        } else {
            (v[mid - 1] + v[mid]) / 2.0
        };
        Some(Spread {
            median,
            min: v[0],
            max: v[v.len() - 1],
        })
    }

    /// `median (min..max)` with `decimals` digits after the point.
    pub(super) fn show(&self, decimals: usize) -> String {
        if self.min == self.max {
            format!("{:.*}", decimals, self.median)
        } else {
            format!(
                "{:.*} ({:.*}..{:.*})",
                decimals, self.median, decimals, self.min, decimals, self.max
            )
        }
    }
}

fn show(spread: Option<Spread>, decimals: usize) -> String {
    spread.map_or_else(|| "-".to_owned(), |s| s.show(decimals))
}

/// The measurements of one target in one scenario, by repetition.
#[derive(Debug, Clone)]
pub(super) struct Series {
    pub(super) target: String,
    pub(super) baseline: bool,
    pub(super) by_rep: BTreeMap<usize, Sample>,
    pub(super) failures: usize,
}

/// One scenario's table rows.
pub(super) struct ScenarioReport<'a> {
    pub(super) title: String,
    pub(super) series: &'a [Series],
}

/// Prints one group's table: one row per scenario and contestant; a Redis CPU column when the
/// runs had a Redis.
pub(super) fn print_table(heading: &str, scenarios: &[ScenarioReport<'_>], cpu: CpuSide) {
    let with_redis = scenarios
        .iter()
        .flat_map(|s| s.series)
        .flat_map(|series| series.by_rep.values())
        .any(|s| s.redis_us_per_req.is_some());
    println!("\n{heading}");
    println!(
        "  {:<30} {:<16} {:>26} {:>22} {:>22} {:>22} {:>9} {:>5}{}",
        "layout",
        "target",
        "req/s",
        "p50 µs",
        "p99 µs",
        format!("{} CPU µs/req", cpu.name()),
        "other_cpu",
        "errs",
        if with_redis {
            format!(" {:>22}", "Redis CPU µs/req")
        } else {
            String::new()
        }
    );
    for scenario in scenarios {
        for series in scenario.series {
            let samples: Vec<&Sample> = series.by_rep.values().collect();
            let pick = |f: fn(&Sample) -> f64| Spread::of(samples.iter().map(|s| f(s)));
            let errors: u64 = samples.iter().map(|s| s.errors + s.stuck).sum();
            let errors = if series.failures > 0 {
                format!("{errors}+{}F", series.failures)
            } else {
                errors.to_string()
            };
            let redis = Spread::of(samples.iter().filter_map(|s| s.redis_us_per_req));
            println!(
                "  {:<30} {:<16} {:>26} {:>22} {:>22} {:>22} {:>9} {:>5}{}",
                scenario.title,
                series.target,
                show(pick(|s| s.rps), 0),
                show(pick(|s| s.p50_us), 0),
                show(pick(|s| s.p99_us), 0),
                show(pick(|s| s.cpu_us_per_req), 1),
                show(pick(|s| s.other_cpu), 2),
                errors,
                if with_redis {
                    format!(" {:>22}", show(redis, 1))
                } else {
                    String::new()
                }
            );
        }
    }
}

/// Targets for generated / hand-written: minimum throughput ratio, maximum CPU ratio.
#[derive(Debug, Clone, Copy)]
pub(super) struct Goal {
    pub(super) min_throughput: f64,
    pub(super) max_cpu: f64,
}

/// Prints, per scenario, each contestant / the baseline as ratios paired within each repetition
/// (the two ran back to back, so the pair shares the machine's mood), as medians with min..max,
/// judged against `goal` when there is one.
pub(super) fn print_ratios(heading: &str, scenarios: &[ScenarioReport<'_>], goal: Option<Goal>) {
    let mut printed_heading = false;
    for scenario in scenarios {
        let Some(base) = scenario.series.iter().find(|s| s.baseline) else {
            continue;
        };
        for generated in scenario.series.iter().filter(|s| !s.baseline) {
            let pairs: Vec<(&Sample, &Sample)> = generated
                .by_rep
                .iter()
                .filter_map(|(rep, g)| base.by_rep.get(rep).map(|b| (g, b)))
                .collect();
            let throughput = Spread::of(pairs.iter().map(|(g, b)| g.rps / b.rps));
            let cpu = Spread::of(
                pairs
                    .iter()
                    .map(|(g, b)| g.cpu_us_per_req / b.cpu_us_per_req),
            );
            if !printed_heading {
                println!("\n{heading}");
                println!(
                    "  {:<30} {:<32} {:>24} {:>24}",
                    "layout", "pair", "req/s ratio", "CPU/req ratio"
                );
                printed_heading = true;
            }
            let verdict = |s: Option<Spread>, ok: fn(f64, &Goal) -> bool| match (s, &goal) {
                (Some(s), Some(goal)) if ok(s.median, goal) => format!("{} ok", s.show(3)),
                (Some(s), Some(_)) => format!("{} MISS", s.show(3)),
                (Some(s), None) => s.show(3),
                (None, _) => "-".to_owned(),
            };
            println!(
                "  {:<30} {:<32} {:>24} {:>24}",
                scenario.title,
                format!("{} / {}", generated.target, base.target),
                verdict(throughput, |v, g| v >= g.min_throughput),
                verdict(cpu, |v, g| v <= g.max_cpu),
            );
        }
    }
    if let (true, Some(goal)) = (printed_heading, goal) {
        println!(
            "  targets: req/s ratio >= {:.2}, CPU/req ratio <= {:.2} (medians)",
            goal.min_throughput, goal.max_cpu
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spreads_take_the_middle() {
        let s = Spread::of([3.0, 1.0, 2.0]).unwrap();
        assert_eq!((s.median, s.min, s.max), (2.0, 1.0, 3.0));
        assert_eq!(Spread::of([1.0, 4.0]).unwrap().median, 2.5);
        assert!(Spread::of([]).is_none());
        assert_eq!(Spread::of([2.0]).unwrap().show(1), "2.0");
        assert_eq!(s.show(0), "2 (1..3)");
    }

    #[test]
    fn result_lines_parse() {
        let out = "noise\nresult protocol=grpc in_flight=64 ok=10 errors=1 stuck=0 rps=2000 \
                   p50_us=500.0 p99_us=900.5 srv_us_per_req=17.25 srv_cores=0.97 lg_cores=0.9 other_cpu=0.05\n";
        let s = Sample::parse(out, CpuSide::Server).unwrap();
        assert_eq!((s.rps, s.cpu_us_per_req, s.errors), (2000.0, 17.25, 1));
        assert_eq!(s.redis_us_per_req, None);
        let out = out.replace(
            "other_cpu",
            "lg_us_per_req=16.5 redis_us_per_req=9.5 other_cpu",
        );
        let s = Sample::parse(&out, CpuSide::Client).unwrap();
        assert_eq!((s.cpu_us_per_req, s.redis_us_per_req), (16.5, Some(9.5)));
        assert!(Sample::parse("result rps=1", CpuSide::Server).is_err());
        assert!(Sample::parse("nothing", CpuSide::Server).is_err());
    }
}
