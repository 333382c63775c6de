//! A `redis-server` a test owns, to stop and start under the gateway (never the shared one).

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A private server on a free loopback port; killed when dropped.
pub struct RedisProcess {
    port: u16,
    dir: std::path::PathBuf,
    args: Vec<String>,
    child: Option<Child>,
}

impl RedisProcess {
    /// Starts a server with `args` beyond port, address and folder.
    pub fn start(args: &[&str]) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let dir =
            std::env::temp_dir().join(format!("tacos-gw-redis-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut process = Self {
            port,
            dir,
            args: args.iter().map(|a| (*a).to_owned()).collect(),
            child: None,
        };
        process.launch();
        process
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// Starts the server (again) on the same port and folder.
    pub fn launch(&mut self) {
        assert!(self.child.is_none(), "already running");
        let child = Command::new("redis-server")
            .args([
                "--port",
                &self.port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
            ])
            .arg("--dir")
            .arg(&self.dir)
            .args(&self.args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server must be installed: run `cargo xtask test`");
        self.child = Some(child);
        self.wait_for(true);
    }

    /// Kills the server outright (SIGKILL).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        self.wait_for(false);
    }

    fn wait_for(&self, up: bool) {
        let started = Instant::now();
        while self.answers() != up {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "redis-server on {} did not {}",
                self.port,
                if up { "start" } else { "stop" }
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn answers(&self) -> bool {
        Command::new("redis-cli")
            .args(["-p", &self.port.to_string(), "ping"])
            .stderr(Stdio::null())
            .output()
            .is_ok_and(|out| out.stdout.starts_with(b"PONG"))
    }
}

impl Drop for RedisProcess {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
