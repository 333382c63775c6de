//! A watch over `cargo test` that turns a hung test into a failure with its stacks.
//!
//! libtest says when a test "has been running for over 60 seconds" and never gives up on it,
//! so one deadlock would hold the whole run until CI's own limit and report nothing useful.
//! The watchdog reads the test output as it passes through; a test still unfinished
//! [`HANG_LIMIT`] after that notice gets its process's thread stacks printed (with gdb, where
//! installed) and the test binary killed. The remaining suites still run (`--no-fail-fast`)
//! and the run fails naming the hung test.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;

/// How long a test may go on after libtest's 60-second notice. The trybuild UI test compiles
/// the runtime from cold in a clean clone (several minutes on two busy cores), so this is
/// generous: a real hang still ends the run well inside CI's limit.
pub(crate) const HANG_LIMIT: Duration = Duration::from_secs(20 * 60);

/// How a watched run ended.
pub(crate) struct Watched {
    /// The exit status of the command.
    pub(crate) status: ExitStatus,
    /// Tests that were killed as hung.
    pub(crate) hung: Vec<String>,
}

/// Runs `command` (a `cargo test`) with its standard output watched and copied to `out`.
pub(crate) fn run(
    mut command: Command,
    limit: Duration,
    out: impl Write + Send + 'static,
) -> anyhow::Result<Watched> {
    let mut child = command
        .stdout(Stdio::piped())
        .spawn()
        .context("starting cargo test")?;
    let slow: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let reader = {
        let stdout = child.stdout.take().context("cargo test's output")?;
        let slow = Arc::clone(&slow);
        std::thread::spawn(move || pass_through(BufReader::new(stdout), out, &slow))
    };
    let mut hung = Vec::new();
    let status = loop {
        if let Some(status) = child.try_wait().context("waiting for cargo test")? {
            break status;
        }
        let overdue: Vec<String> = {
            let mut slow = slow.lock().unwrap_or_else(|e| e.into_inner());
            let names: Vec<String> = slow
                .iter()
                .filter(|(_, noticed)| noticed.elapsed() >= limit)
                .map(|(name, _)| name.clone())
                .collect();
            for name in &names {
                slow.remove(name);
            }
            names
        };
        if !overdue.is_empty() {
            eprintln!(
                "xtask: {} still running {}s after the 60-second notice; stacks follow",
                overdue.join(", "),
                limit.as_secs()
            );
            kill_test_binaries(&child);
            hung.extend(overdue);
        }
        std::thread::sleep(Duration::from_secs(1));
    };
    let _ = reader.join();
    Ok(Watched { status, hung })
}

/// Copies each line to `out` and keeps the set of tests libtest called slow.
fn pass_through(stdout: impl BufRead, mut out: impl Write, slow: &Mutex<HashMap<String, Instant>>) {
    for line in stdout.lines().map_while(Result::ok) {
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
        let mut slow = slow.lock().unwrap_or_else(|e| e.into_inner());
        match parse(&line) {
            Some(Line::Slow(name)) => {
                slow.insert(name.to_owned(), Instant::now());
            }
            Some(Line::Finished(name)) => {
                slow.remove(name);
            }
            None => {}
        }
    }
}

#[derive(Debug, PartialEq)]
enum Line<'a> {
    Slow(&'a str),
    Finished(&'a str),
}

fn parse(line: &str) -> Option<Line<'_>> {
    let rest = line.strip_prefix("test ")?;
    if let Some((name, _)) = rest.split_once(" has been running for over ") {
        return Some(Line::Slow(name));
    }
    let (name, _) = rest.split_once(" ... ")?;
    Some(Line::Finished(name))
}

/// Prints the stacks of, then kills, the processes `cargo test` started (the test binary that
/// hangs; cargo itself goes on with the next one).
fn kill_test_binaries(cargo: &Child) {
    for pid in children(cargo.id()) {
        print_stacks(pid);
        let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
    }
}

fn print_stacks(pid: u32) {
    let gdb = Command::new("gdb")
        .args([
            "-p",
            &pid.to_string(),
            "-batch",
            "-ex",
            "thread apply all bt",
        ])
        .stdin(Stdio::null())
        .output();
    match gdb {
        Ok(output) => {
            let text = String::from_utf8_lossy(&output.stdout);
            // Only the frames: gdb's loading chatter would bury them.
            for line in text
                .lines()
                .filter(|l| l.starts_with('#') || l.starts_with("Thread"))
            {
                eprintln!("  {line}");
            }
        }
        Err(err) => eprintln!("xtask: no stacks of process {pid} (gdb: {err})"),
    }
}

/// The processes whose parent is `parent` (Linux `/proc`; elsewhere none are found).
fn children(parent: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| parent_of(*pid) == Some(parent))
        .collect()
}

fn parent_of(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // `pid (comm) state ppid …`; comm may hold spaces and parentheses, so read after the last ')'.
    let after = &stat[stat.rfind(')')? + 1..];
    after.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libtest_lines_are_recognised() {
        assert_eq!(
            parse("test a::b has been running for over 60 seconds"),
            Some(Line::Slow("a::b"))
        );
        assert_eq!(parse("test a::b ... ok"), Some(Line::Finished("a::b")));
        assert_eq!(
            parse("test src/lib.rs - f (line 3) ... FAILED"),
            Some(Line::Finished("src/lib.rs - f (line 3)"))
        );
        assert_eq!(parse("test result: ok. 3 passed"), None);
        assert_eq!(parse("running 3 tests"), None);
    }

    #[test]
    fn a_hung_child_is_killed_and_named() {
        // A stand-in for cargo: a shell that prints libtest's notice and starts a child that
        // never ends; the watchdog kills the child, and the shell then finishes.
        let script = "echo 'test slow::one has been running for over 60 seconds'; \
                      sleep 600; echo 'test never ... ok'";
        let mut command = Command::new("sh");
        command.args(["-c", script]);
        let started = Instant::now();
        let watched = run(command, Duration::from_millis(500), std::io::sink()).unwrap();
        assert_eq!(watched.hung, ["slow::one"]);
        assert!(started.elapsed() < Duration::from_secs(60));
    }

    #[test]
    fn children_are_found_by_their_parent() {
        if !std::path::Path::new("/proc/self/stat").exists() {
            return;
        }
        let mut child = Command::new("sleep").arg("30").spawn().unwrap();
        let found = children(std::process::id());
        let _ = child.kill();
        let _ = child.wait();
        assert!(found.contains(&child.id()), "{found:?}");
    }
}
