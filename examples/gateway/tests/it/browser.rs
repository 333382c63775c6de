//! Headless Chromium driven over WebDriver (chromedriver), for the tests of the pages.
//!
//! `cargo xtask test` installs Debian's `chromium` and `chromium-driver` where missing;
//! `CHROMEDRIVER` and `CHROME_BIN` point elsewhere.

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{json, Value};

/// One browser session; the driver and the browser it started are killed when dropped.
pub struct Browser {
    http: reqwest::Client,
    session: String,
    driver: Child,
}

impl Browser {
    /// Starts chromedriver on a free loopback port and opens a headless phone-sized window.
    pub async fn start() -> Browser {
        let driver_bin = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into());
        let chrome_bin = std::env::var("CHROME_BIN").unwrap_or_else(|_| "/usr/bin/chromium".into());
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let driver = Command::new(&driver_bin)
            .args([format!("--port={port}"), "--allowed-ips=127.0.0.1".into()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // Its own process group, so that the browser it starts dies with it.
            .process_group(0)
            .spawn()
            .unwrap_or_else(|err| {
                panic!(
                    "this test needs chromedriver ({driver_bin}: {err}): run `cargo xtask test`, \
                     or install Debian's chromium and chromium-driver"
                )
            });
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap();
        let base = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        while http.get(format!("{base}/status")).send().await.is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "chromedriver did not start"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chrome_bin,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", "--window-size=430,900"],
            },
        }}});
        let mut browser = Browser {
            http,
            session: String::new(),
            driver,
        };
        let created = browser
            .command(
                reqwest::Method::POST,
                &format!("{base}/session"),
                capabilities,
            )
            .await;
        browser.session = format!(
            "{base}/session/{}",
            created["sessionId"].as_str().expect("a session id")
        );
        browser
    }

    async fn command(&self, method: reqwest::Method, url: &str, body: Value) -> Value {
        let mut request = self.http.request(method, url);
        if !body.is_null() {
            request = request.json(&body);
        }
        let response = request.send().await.expect("chromedriver answers");
        let status = response.status();
        let value: Value = response.json().await.expect("chromedriver's JSON");
        assert!(status.is_success(), "WebDriver {url}: {status} {value}");
        value["value"].clone()
    }

    /// Opens `url`.
    pub async fn goto(&self, url: &str) {
        self.command(
            reqwest::Method::POST,
            &format!("{}/url", self.session),
            json!({ "url": url }),
        )
        .await;
    }

    /// The page's current address.
    pub async fn url(&self) -> String {
        let url = format!("{}/url", self.session);
        let value = self.command(reqwest::Method::GET, &url, Value::Null).await;
        value.as_str().unwrap_or_default().to_owned()
    }

    /// Opens a new tab and switches to it; returns the tab it left.
    pub async fn new_tab(&self) -> String {
        let window = format!("{}/window", self.session);
        let current = self
            .command(reqwest::Method::GET, &window, Value::Null)
            .await;
        let opened = self
            .command(
                reqwest::Method::POST,
                &format!("{window}/new"),
                json!({"type": "tab"}),
            )
            .await;
        self.switch_to(opened["handle"].as_str().expect("a tab handle"))
            .await;
        current.as_str().expect("a tab handle").to_owned()
    }

    /// Switches to the tab `handle`.
    pub async fn switch_to(&self, handle: &str) {
        let window = format!("{}/window", self.session);
        self.command(reqwest::Method::POST, &window, json!({ "handle": handle }))
            .await;
    }

    /// Runs `script` (a function body; `return` gives its value) in the page.
    pub async fn eval(&self, script: &str) -> Value {
        self.command(
            reqwest::Method::POST,
            &format!("{}/execute/sync", self.session),
            json!({ "script": script, "args": [] }),
        )
        .await
    }

    /// The text of the element with `id`, or `""` when there is none.
    pub async fn text(&self, id: &str) -> String {
        let script =
            format!("const e = document.getElementById({id:?}); return e ? e.textContent : '';");
        self.eval(&script)
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// Waits until `check` holds, up to `limit`; false if it never did.
    pub async fn until<F, Fut>(&self, limit: Duration, mut check: F) -> bool
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let started = Instant::now();
        while started.elapsed() < limit {
            if check().await {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        false
    }

    /// Saves a PNG of the window to `path` (its folder is created).
    pub async fn screenshot(&self, path: &Path) {
        let url = format!("{}/screenshot", self.session);
        let value = self.command(reqwest::Method::GET, &url, Value::Null).await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(value.as_str().expect("base64 PNG"))
            .expect("a base64 PNG");
        std::fs::create_dir_all(path.parent().expect("a folder")).unwrap();
        std::fs::write(path, png).unwrap();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // The whole group: chromedriver and the browser it started.
        let group = format!("-{}", self.driver.id());
        let _ = Command::new("kill").args(["-9", "--", &group]).status();
        let _ = self.driver.wait();
    }
}

/// Where tests leave files for people to look at: `target/test-artifacts`.
pub fn artifacts() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/test-artifacts")
}
