//! The bench's child processes: a server that is always stopped, and a load run bounded in time.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

/// How long a server gets to bind its listeners.
const START_TIMEOUT: Duration = Duration::from_secs(15);

/// Prefixes `program` with `taskset -c <core>` when `core` is given.
pub(super) fn pinned(program: &Path, core: Option<usize>) -> Command {
    match core {
        Some(core) => {
            let mut cmd = Command::new("taskset");
            cmd.arg("-c").arg(core.to_string()).arg(program);
            cmd
        }
        None => Command::new(program),
    }
}

/// A running `bench-server`, killed when dropped.
pub(super) struct Server {
    child: Child,
    // Held open so the server's `--exit-on-stdin-eof` guard fires if this process dies.
    _stdin: Option<ChildStdin>,
    /// The addresses it listens on: its protocol's first, then (framework servers) the other.
    pub(super) addrs: Vec<String>,
}

impl Server {
    /// Starts `cmd` (a `bench-server` invocation) and waits for its `listening <addr>` line.
    pub(super) fn start(mut cmd: Command) -> anyhow::Result<Self> {
        let mut child = cmd
            .arg("--exit-on-stdin-eof")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .context("starting bench-server")?;
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().context("bench-server stdout")?;
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let first = lines.next();
            let _ = tx.send(first);
            // Keep draining so a chatty server never blocks on a full pipe.
            for _ in lines {}
        });
        let mut server = Server {
            child,
            _stdin: stdin,
            addrs: Vec::new(),
        };
        match rx.recv_timeout(START_TIMEOUT) {
            Ok(Some(Ok(line))) => match line.strip_prefix("listening ") {
                Some(addrs) if !addrs.trim().is_empty() => {
                    server.addrs = addrs.split_whitespace().map(str::to_owned).collect();
                }
                _ => bail!("bench-server said `{line}` instead of `listening <addr>...`"),
            },
            Ok(_) => bail!("bench-server exited before listening"),
            Err(_) => bail!("bench-server did not listen within {START_TIMEOUT:?}"),
        }
        Ok(server)
    }

    /// The server's process id (taskset execs the server, so it is the server's own).
    pub(super) fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `cmd` to completion within `limit` and returns its stdout; kills it past the limit.
pub(super) fn run_bounded(mut cmd: Command, limit: Duration) -> anyhow::Result<String> {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .context("starting bench-load")?;
    let stdout = child.stdout.take().context("bench-load stdout")?;
    let reader = std::thread::spawn(move || std::io::read_to_string(stdout));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            bail!("bench-load ran past {limit:?} and was stopped");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let out = reader
        .join()
        .map_err(|_| anyhow::anyhow!("reading bench-load output"))??;
    if !status.success() {
        bail!("bench-load failed ({status})");
    }
    Ok(out)
}
