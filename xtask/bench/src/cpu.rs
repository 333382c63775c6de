//! CPU accounting from `/proc`.
//!
//! Server CPU per request is the figure the bench trusts: other work on a shared machine moves
//! throughput by 40–60% but CPU per request by about 10%. It is the server process's
//! `utime + stime` over the measured window divided by the requests answered in it. The machine's
//! busy time from `/proc/stat`, less the server's and the load generator's own, is the CPU used by
//! processes that are not ours (`other_cpu`), so a noisy run shows up as one.

use std::io;
use std::process::Command;
use std::time::Instant;

/// Clock ticks per second of the `/proc` counters (`getconf CLK_TCK`; 100 on every common Linux).
pub fn ticks_per_second() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|&t| t > 0.0)
        .unwrap_or(100.0)
}

/// `utime + stime` of process `pid` (all its threads), in clock ticks.
pub fn process_ticks(pid: u32) -> io::Result<u64> {
    parse_process_ticks(&std::fs::read_to_string(format!("/proc/{pid}/stat"))?)
}

/// `utime + stime` of this process, in clock ticks.
pub fn own_ticks() -> io::Result<u64> {
    parse_process_ticks(&std::fs::read_to_string("/proc/self/stat")?)
}

/// Busy ticks of the whole machine, all cores: user, nice, system, irq and softirq (idle, iowait
/// and the hypervisor's steal are not work done here).
pub fn machine_busy_ticks() -> io::Result<u64> {
    parse_machine_busy(&std::fs::read_to_string("/proc/stat")?)
}

fn parse_process_ticks(stat: &str) -> io::Result<u64> {
    // The command name (field 2) may hold spaces and parentheses: count fields after the last `)`.
    let bad = || {
        io::Error::new(
            io::ErrorKind::InvalidData,
            "unexpected /proc/<pid>/stat format",
        )
    };
    let (_, after_name) = stat.rsplit_once(')').ok_or_else(bad)?;
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // Field 3 (state) is index 0 here, so utime (field 14) is 11 and stime (field 15) is 12.
    let field = |i: usize| -> io::Result<u64> {
        fields.get(i).and_then(|v| v.parse().ok()).ok_or_else(bad)
    };
    Ok(field(11)? + field(12)?)
}

fn parse_machine_busy(stat: &str) -> io::Result<u64> {
    let bad = || io::Error::new(io::ErrorKind::InvalidData, "unexpected /proc/stat format");
    let line = stat
        .lines()
        .find(|l| l.starts_with("cpu "))
        .ok_or_else(bad)?;
    let values: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .map(|v| v.parse().map_err(|_| bad()))
        .collect::<io::Result<_>>()?;
    // user nice system idle iowait irq softirq steal ...
    let at = |i: usize| values.get(i).copied().ok_or_else(bad);
    Ok(at(0)? + at(1)? + at(2)? + at(5)? + at(6)?)
}

/// The counters at one instant.
#[derive(Debug, Clone, Copy)]
pub struct CpuSnapshot {
    at: Instant,
    server: u64,
    own: u64,
    machine_busy: u64,
}

impl CpuSnapshot {
    /// Reads the counters of the server `server_pid`, this process and the machine.
    pub fn take(server_pid: u32) -> io::Result<Self> {
        Ok(Self {
            at: Instant::now(),
            server: process_ticks(server_pid)?,
            own: own_ticks()?,
            machine_busy: machine_busy_ticks()?,
        })
    }
}

/// CPU used between two snapshots, in seconds of CPU time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CpuWindow {
    /// Wall-clock seconds between the snapshots.
    pub secs: f64,
    /// CPU seconds of the server process.
    pub server: f64,
    /// CPU seconds of the load generator.
    pub load_generator: f64,
    /// CPU seconds of every other process on the machine.
    pub other: f64,
}

impl CpuWindow {
    /// The CPU used from `start` to `end`.
    pub fn between(start: &CpuSnapshot, end: &CpuSnapshot, ticks_per_second: f64) -> Self {
        let secs = |a: u64, b: u64| b.saturating_sub(a) as f64 / ticks_per_second;
        let server = secs(start.server, end.server);
        let load_generator = secs(start.own, end.own);
        let busy = secs(start.machine_busy, end.machine_busy);
        Self {
            secs: end.at.duration_since(start.at).as_secs_f64(),
            server,
            load_generator,
            // Ticks are sampled per process and per core, so the difference can dip below zero.
            other: (busy - server - load_generator).max(0.0),
        }
    }

    /// Server CPU microseconds per request.
    pub fn server_us_per_request(&self, requests: u64) -> f64 {
        self.server * 1e6 / requests.max(1) as f64
    }

    /// Load-generator (client) CPU microseconds per request.
    pub fn load_generator_us_per_request(&self, requests: u64) -> f64 {
        self.load_generator * 1e6 / requests.max(1) as f64
    }

    /// Cores the server kept busy on average.
    pub fn server_cores(&self) -> f64 {
        self.server / self.secs.max(1e-9)
    }

    /// Cores the load generator kept busy on average.
    pub fn load_generator_cores(&self) -> f64 {
        self.load_generator / self.secs.max(1e-9)
    }

    /// Cores used by processes that are not ours, on average.
    pub fn other_cores(&self) -> f64 {
        self.other / self.secs.max(1e-9)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn process_ticks_skip_names_with_spaces_and_parentheses() {
        let stat = "4242 (bench (x) y) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 37 0 0 20 0 3 0";
        assert_eq!(parse_process_ticks(stat).unwrap(), 287);
        assert!(parse_process_ticks("garbage").is_err());
    }

    #[test]
    fn machine_busy_counts_work_not_idle_or_steal() {
        let stat = "cpu  100 5 50 9000 7 3 2 40 0 0\ncpu0 50 2 25 4500 3 1 1 20 0 0\n";
        assert_eq!(parse_machine_busy(stat).unwrap(), 160);
    }

    #[test]
    fn own_counters_are_readable() {
        assert!(CpuSnapshot::take(std::process::id()).is_ok());
        assert!(ticks_per_second() > 0.0);
    }

    #[test]
    fn other_cpu_is_what_we_did_not_use() {
        let at = Instant::now();
        let start = CpuSnapshot {
            at,
            server: 0,
            own: 0,
            machine_busy: 0,
        };
        let end = CpuSnapshot {
            at: at + std::time::Duration::from_secs(2),
            server: 150,
            own: 30,
            machine_busy: 200,
        };
        let window = CpuWindow::between(&start, &end, 100.0);
        assert_eq!(window.server_us_per_request(1000), 1500.0);
        assert!((window.other_cores() - 0.1).abs() < 1e-9);
        assert!((window.server_cores() - 0.75).abs() < 1e-9);
    }
}
