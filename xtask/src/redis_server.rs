//! Finding or starting the Redis the tests talk to.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

/// A Redis for the test run: either the one `REDIS_URL` names, or a private `redis-server`
/// child process that is stopped when this value is dropped.
pub(crate) struct TestRedis {
    /// The URL tests receive as `REDIS_URL`.
    pub(crate) url: String,
    child: Option<Child>,
}

impl TestRedis {
    /// Uses `REDIS_URL` when it answers `PING`; otherwise starts a private server on a free port.
    pub(crate) fn obtain() -> anyhow::Result<Self> {
        if let Ok(url) = std::env::var("REDIS_URL") {
            match host_port(&url).and_then(|addr| ping(&addr)) {
                Ok(()) => {
                    eprintln!("xtask: using REDIS_URL={url}");
                    return Ok(Self { url, child: None });
                }
                Err(err) => eprintln!("xtask: REDIS_URL={url} does not answer ({err}); starting a private redis-server"),
            }
        }
        Self::private(None)
    }

    /// Starts a private `redis-server` on a free port, pinned to `core` when given (through
    /// `taskset`, which execs the server, so the child's pid is the server's).
    pub(crate) fn private(core: Option<usize>) -> anyhow::Result<Self> {
        ensure_installed()?;
        let port = free_port()?;
        let dir = std::env::temp_dir().join(format!("tacos-test-redis-{port}"));
        std::fs::create_dir_all(&dir)?;
        let mut command = match core {
            Some(core) => {
                let mut taskset = Command::new("taskset");
                taskset.args(["-c", &core.to_string(), "redis-server"]);
                taskset
            }
            None => Command::new("redis-server"),
        };
        let child = command
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .arg("--dir")
            .arg(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .context("starting redis-server")?;
        let redis = Self {
            url: format!("redis://127.0.0.1:{port}/"),
            child: Some(child),
        };
        let addr = format!("127.0.0.1:{port}");
        let started = Instant::now();
        while let Err(err) = ping(&addr) {
            if started.elapsed() > Duration::from_secs(10) {
                bail!("private redis-server on {addr} did not answer within 10 s: {err}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        eprintln!("xtask: started a private redis-server at {}", redis.url);
        Ok(redis)
    }
}

impl TestRedis {
    /// The server's process id, when it is a private one.
    pub(crate) fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Empties every database (between bench runs, so each starts from the same state).
    pub(crate) fn flush_all(&self) -> anyhow::Result<()> {
        let addr = host_port(&self.url)?;
        let mut stream = TcpStream::connect(&addr)?;
        stream.set_read_timeout(Some(Duration::from_secs(30)))?;
        stream.write_all(b"FLUSHALL\r\n")?;
        let mut reply = [0u8; 5];
        stream.read_exact(&mut reply)?;
        if &reply != b"+OK\r\n" {
            bail!("FLUSHALL answered {:?}", String::from_utf8_lossy(&reply));
        }
        Ok(())
    }
}

impl Drop for TestRedis {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Makes sure `redis-server` and `redis-cli` are on the PATH.
fn ensure_installed() -> anyhow::Result<()> {
    crate::apt::ensure(&["redis-server", "redis-cli"], &["redis-server"])
}

fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// `redis://host:port/db` → `host:port`.
fn host_port(url: &str) -> anyhow::Result<String> {
    let rest = url
        .strip_prefix("redis://")
        .context("REDIS_URL must start with redis://")?;
    let authority = rest.split('/').next().unwrap_or_default();
    let host_port = authority.rsplit('@').next().unwrap_or_default();
    Ok(if host_port.contains(':') {
        host_port.to_string()
    } else {
        format!("{host_port}:6379")
    })
}

fn ping(addr: &str) -> anyhow::Result<()> {
    let timeout = Duration::from_secs(1);
    let sock = addr
        .parse()
        .with_context(|| format!("bad address {addr}"))?;
    let mut stream = TcpStream::connect_timeout(&sock, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.write_all(b"PING\r\n")?;
    let mut reply = [0u8; 7];
    stream.read_exact(&mut reply)?;
    if &reply != b"+PONG\r\n" {
        bail!("unexpected reply {:?}", String::from_utf8_lossy(&reply));
    }
    Ok(())
}
