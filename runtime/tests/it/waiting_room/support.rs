//! Test harness: a backend factory per store, and Redis processes the tests control.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use tacos_runtime::waiting_room::{
    EventConfig, MemoryBackend, RedisBackend, RedisOptions, WaitingRoom,
};

/// Which store a conformance test runs against.
#[derive(Clone)]
pub enum Store {
    Memory,
    Redis(String),
    Cluster(Vec<String>),
}

/// Builds rooms on one store and hands out event ids no other test uses.
pub struct Harness {
    store: Store,
    prefix: String,
}

static NEXT: AtomicU64 = AtomicU64::new(0);

impl Harness {
    pub fn memory() -> Self {
        Self::on(Store::Memory)
    }

    pub fn redis() -> Self {
        Self::on(Store::Redis(redis_url()))
    }

    pub fn cluster() -> Self {
        Self::on(Store::Cluster(cluster().nodes.clone()))
    }

    fn on(store: Store) -> Self {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        Self {
            store,
            prefix: format!("t{}-{nanos:x}-{n}", std::process::id()),
        }
    }

    /// A fresh event id, unique across tests and runs sharing one Redis.
    pub fn event(&self, name: &str) -> String {
        format!("{}-{name}", self.prefix)
    }

    /// A room on this harness's store. Memory rooms do not share state with each other.
    pub async fn room(&self, config: EventConfig) -> WaitingRoom {
        match &self.store {
            Store::Memory => WaitingRoom::new(MemoryBackend::new(), config),
            Store::Redis(url) => WaitingRoom::new(
                RedisBackend::standalone(url, RedisOptions::default()).expect("redis url"),
                config,
            ),
            Store::Cluster(nodes) => WaitingRoom::new(
                RedisBackend::cluster(nodes, RedisOptions::default())
                    .await
                    .expect("cluster connection"),
                config,
            ),
        }
        .expect("valid config")
    }
}

/// The shared test Redis.
pub fn redis_url() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| {
        panic!(
            "this test needs Redis: run `cargo xtask test` (it starts one) \
             or set REDIS_URL (for example redis://127.0.0.1:6379/)"
        )
    })
}

/// A loopback port nobody listens on (and, for cluster nodes, whose bus port +10000 is free too).
pub fn free_port(with_bus: bool) -> u16 {
    for _ in 0..200 {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let port = listener.local_addr().expect("local addr").port();
        if !with_bus {
            return port;
        }
        if port < 55_000 && TcpListener::bind(("127.0.0.1", port + 10_000)).is_ok() {
            return port;
        }
    }
    panic!("no free loopback port found")
}

fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "tacos-wr-{}-{name}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

/// A `redis-server` this test owns. It is killed on drop (even when the test panics) and, as a
/// second line of defence, by a watchdog shell once the test process is gone.
pub struct RedisProcess {
    pub port: u16,
    pub dir: PathBuf,
    extra: Vec<String>,
    child: Option<Child>,
}

impl RedisProcess {
    /// Starts a server on a free port; `extra` are more `redis-server` arguments.
    pub fn start(extra: &[&str]) -> Self {
        let mut process = Self {
            port: free_port(extra.contains(&"--cluster-enabled")),
            dir: scratch_dir("redis"),
            extra: extra.iter().map(|s| s.to_string()).collect(),
            child: None,
        };
        process.launch();
        process
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// Starts (again) on the same port and directory.
    pub fn launch(&mut self) {
        assert!(self.child.is_none(), "already running");
        let mut args = vec![
            "--port".to_string(),
            self.port.to_string(),
            "--bind".into(),
            "127.0.0.1".into(),
            "--dir".into(),
            self.dir.display().to_string(),
            "--save".into(),
            String::new(),
            "--appendonly".into(),
            "no".into(),
        ];
        args.extend(self.extra.iter().cloned());
        // The watchdog ends the server if this test process dies without running Drop.
        let script = r#"redis-server "$@" & pid=$!
            trap 'kill -9 $pid 2>/dev/null; exit 0' TERM
            while kill -0 "$WATCH" 2>/dev/null && kill -0 $pid 2>/dev/null; do sleep 0.5; done
            kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
            kill -0 "$WATCH" 2>/dev/null || rm -rf "$SCRATCH""#;
        let child = Command::new("sh")
            .arg("-c")
            .arg(script)
            .arg("redis-watchdog")
            .args(&args)
            .env("WATCH", std::process::id().to_string())
            .env("SCRATCH", &self.dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server must be installed to run this test");
        self.child = Some(child);
        wait_until(Duration::from_secs(10), || self.ping()).expect("redis-server did not start");
    }

    /// Kills the server at once (SIGKILL: no chance to save or to answer anything in flight).
    pub fn kill(&mut self) {
        let pid = self.cli(&["info", "server"]).and_then(|info| {
            info.lines()
                .find_map(|l| l.strip_prefix("process_id:"))
                .map(|p| p.trim().to_owned())
        });
        if let Some(pid) = pid {
            let _ = Command::new("kill").args(["-9", &pid]).status();
        }
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        wait_until(Duration::from_secs(5), || !self.ping()).expect("redis-server did not stop");
    }

    pub fn ping(&self) -> bool {
        self.cli(&["ping"]).is_some_and(|out| out.trim() == "PONG")
    }

    pub fn cli(&self, args: &[&str]) -> Option<String> {
        let out = Command::new("redis-cli")
            .args(["-p", &self.port.to_string()])
            .args(args)
            .stderr(Stdio::null())
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }
}

impl Drop for RedisProcess {
    fn drop(&mut self) {
        if self.child.is_some() {
            self.kill();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub fn wait_until(limit: Duration, mut ready: impl FnMut() -> bool) -> Result<(), ()> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if ready() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Err(())
}

/// A local 3-master Redis Cluster shared by the cluster tests of this process.
pub struct Cluster {
    pub nodes: Vec<String>,
    _processes: Vec<RedisProcess>,
}

/// Brings the cluster up on first use. Statics are not dropped at exit, so the node processes
/// are ended by their watchdogs once the test process is gone.
pub fn cluster() -> &'static Cluster {
    static CLUSTER: OnceLock<Cluster> = OnceLock::new();
    CLUSTER.get_or_init(|| {
        let processes: Vec<RedisProcess> = (0..3)
            .map(|_| {
                let mut node = RedisProcess {
                    port: free_port(true),
                    dir: scratch_dir("cluster"),
                    extra: Vec::new(),
                    child: None,
                };
                let conf = node.dir.join(format!("nodes-{}.conf", node.port));
                node.extra = vec![
                    "--cluster-enabled".into(),
                    "yes".into(),
                    "--cluster-config-file".into(),
                    conf.display().to_string(),
                ];
                node.launch();
                node
            })
            .collect();
        let addresses: Vec<String> = processes
            .iter()
            .map(|p| format!("127.0.0.1:{}", p.port))
            .collect();
        let status = Command::new("redis-cli")
            .args(["--cluster", "create"])
            .args(&addresses)
            .args(["--cluster-replicas", "0", "--cluster-yes"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("redis-cli must be installed to run the cluster tests");
        assert!(status.success(), "redis-cli --cluster create failed");
        wait_until(Duration::from_secs(20), || {
            processes.iter().all(|p| {
                p.cli(&["cluster", "info"])
                    .is_some_and(|info| info.contains("cluster_state:ok"))
            })
        })
        .expect("cluster did not reach cluster_state:ok");
        Cluster {
            nodes: addresses.iter().map(|a| format!("redis://{a}/")).collect(),
            _processes: processes,
        }
    })
}
