//! What the binary-level tests share: running `vigil` subcommands as
//! children that die with the test, and finding the address they log.

// Each test binary uses its own part of this module.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The binary under test.
pub(crate) const VIGIL: &str = env!("CARGO_BIN_EXE_vigil");

/// How long a child may take to say where it listens: generous, for a
/// loaded CI machine.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// Kills the child when dropped, so that a failing test leaves nothing.
pub(crate) struct Running(Child);

impl Running {
    /// The child's process id.
    pub(crate) fn pid(&self) -> u32 {
        self.0.id()
    }

    /// The child's exit status, when it has exited.
    pub(crate) fn try_wait(&mut self) -> Option<std::process::ExitStatus> {
        self.0.try_wait().ok().flatten()
    }

    /// SIGKILLs the child and reaps it.
    pub(crate) fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Starts `vigil loki` on a free loopback port; returns it and its URL
/// once it says where it listens.
pub(crate) fn start(config: &Path, storage: &Path) -> (Running, String) {
    start_loki_on(config, storage, 0)
}

/// Starts `vigil loki` on loopback `port` (0: a free one); returns it and
/// its URL once it says where it listens.
pub(crate) fn start_loki_on(config: &Path, storage: &Path, port: u16) -> (Running, String) {
    let mut command = Command::new(VIGIL);
    command
        .arg("loki")
        .arg(format!("-config.file={}", config.display()))
        .arg("--storage.path")
        .arg(storage)
        .args(["--server.http-listen-address", "127.0.0.1"])
        .args(["--server.http-listen-port", &port.to_string()]);
    let addr = regex::Regex::new(r"addr\W*=\W*(127\.0\.0\.1:\d+)").expect("a regex");
    spawn_until(command, &addr, "the log store says where it listens")
}

/// Starts `vigil promtail -config.file=CONFIG` (its config's `server`
/// block on 127.0.0.1, port 0); returns it and its URL once it listens.
pub(crate) fn start_agent(config: &Path) -> (Running, String) {
    let mut command = Command::new(VIGIL);
    command
        .arg("promtail")
        .arg(format!("-config.file={}", config.display()));
    let addr = regex::Regex::new(r"agent listening on http://(127\.0\.0\.1:\d+)").expect("a regex");
    spawn_until(command, &addr, "the agent says where it listens")
}

/// Starts `vigil grafana` with `args` (give it `--http-addr 127.0.0.1:0`);
/// returns it and its URL once it says where it listens.
pub(crate) fn start_grafana(args: &[&std::ffi::OsStr]) -> (Running, String) {
    let mut command = Command::new(VIGIL);
    command.arg("grafana").args(args);
    let addr =
        regex::Regex::new(r"dashboards listening on http://(127\.0\.0\.1:\d+)").expect("a regex");
    spawn_until(
        command,
        &addr,
        "the dashboards server says where it listens",
    )
}

/// Spawns `command` with its log on a pipe and waits for a line that
/// `addr` matches; its first group is the address. The rest of the log is
/// drained so the child never blocks on it.
pub(crate) fn spawn_until(
    mut command: Command,
    addr: &regex::Regex,
    what: &str,
) -> (Running, String) {
    let mut child = command
        .env("NO_COLOR", "1")
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("vigil starts");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let running = Running(child);
    let deadline = Instant::now() + START_TIMEOUT;
    let mut seen = Vec::new();
    let url = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let Ok(line) = rx.recv_timeout(left) else {
            panic!("{what}; it logged:\n{}", seen.join("\n"));
        };
        let plain = strip_ansi(&line);
        if let Some(c) = addr.captures(&plain) {
            break format!("http://{}", &c[1]);
        }
        seen.push(plain);
    };
    (running, url)
}

/// The text without terminal colours.
pub(crate) fn strip_ansi(text: &str) -> String {
    regex::Regex::new(r"\x1b\[[0-9;]*m")
        .expect("a regex")
        .replace_all(text, "")
        .into_owned()
}

/// A runtime for the test's HTTP calls.
pub(crate) fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
}

/// The text of `server`'s `/metrics`; fails the test when it does not
/// answer.
pub(crate) fn metrics_text(server: &str) -> String {
    runtime().block_on(async {
        reqwest::get(format!("{server}/metrics"))
            .await
            .expect("answered")
            .text()
            .await
            .expect("a body")
    })
}

/// The body of a log query over `[start_ns, end_ns)`, oldest first, with a
/// limit no test reaches; fails the test on anything but success.
pub(crate) async fn query_range(
    client: &reqwest::Client,
    url: &str,
    query: &str,
    start_ns: i64,
    end_ns: i64,
) -> serde_json::Value {
    let (start, end) = (start_ns.to_string(), end_ns.to_string());
    let body = client
        .get(format!("{url}/loki/api/v1/query_range"))
        .query(&[
            ("query", query),
            ("start", start.as_str()),
            ("end", end.as_str()),
            ("limit", "1000000"),
            ("direction", "forward"),
        ])
        .send()
        .await
        .expect("answered")
        .text()
        .await
        .expect("a body");
    let v: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(v["status"], "success", "{body:.500}");
    v
}

/// A running `vigil up`, killed when dropped.
pub(crate) struct Up {
    child: Child,
    /// Component name in the banner → its URL.
    urls: std::collections::HashMap<String, String>,
    /// Its stdout and log lines, as they come.
    pub(crate) stdout: mpsc::Receiver<String>,
    pub(crate) stderr: mpsc::Receiver<String>,
}

impl Drop for Up {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `vigil up` over `data` with `args`, each component on a free loopback
/// port unless `listen` gives its address: `(flag, address)`.
pub(crate) fn up_command(data: &Path, args: &[&str], listen: &[(&str, &str)]) -> Command {
    let mut command = Command::new(VIGIL);
    command
        .arg("up")
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for flag in [
        "--demo-listen",
        "--prometheus-listen",
        "--loki-listen",
        "--agent-listen",
        "--grafana-listen",
    ] {
        let addr = listen
            .iter()
            .find(|(f, _)| *f == flag)
            .map_or("127.0.0.1:0", |(_, a)| a);
        command.args([flag, addr]);
    }
    command
}

fn lines_of(stream: impl std::io::Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    rx
}

impl Up {
    /// Spawns `command` (from [`up_command`]) without waiting for anything.
    pub(crate) fn spawn(mut command: Command) -> Up {
        let mut child = command.spawn().expect("vigil starts");
        let stdout = lines_of(child.stdout.take().expect("stdout"));
        let stderr = lines_of(child.stderr.take().expect("stderr"));
        Up {
            child,
            urls: std::collections::HashMap::new(),
            stdout,
            stderr,
        }
    }

    /// Spawns `command` and reads the banner's URLs.
    pub(crate) fn start(command: Command) -> Up {
        let mut up = Up::spawn(command);
        let names = ["dashboards", "demo API", "metrics server", "log store"];
        let deadline = Instant::now() + START_TIMEOUT;
        while names.iter().any(|n| !up.urls.contains_key(*n)) {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = up.stdout.recv_timeout(left).unwrap_or_else(|_| {
                let log: Vec<String> = up.stderr.try_iter().collect();
                panic!("no banner; log:\n{}", log.join("\n"))
            });
            for name in names {
                if let Some(rest) = line.trim().strip_prefix(name) {
                    let url = rest.split_whitespace().next().expect("a URL");
                    up.urls.insert(name.to_owned(), url.to_owned());
                }
            }
        }
        up
    }

    /// The URL of a component, as the banner names it.
    pub(crate) fn url(&self, name: &str) -> &str {
        &self.urls[name]
    }

    /// Sends `signal` to `up`.
    pub(crate) fn signal(&self, signal: rustix::process::Signal) {
        let pid = rustix::process::Pid::from_raw(self.child.id() as i32).expect("a pid");
        rustix::process::kill_process(pid, signal).expect("signalled");
    }

    /// Waits for the exit, failing the test past `limit`.
    pub(crate) fn wait(&mut self, limit: Duration) -> std::process::ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().expect("waitable") {
                return status;
            }
            assert!(Instant::now() < deadline, "did not exit within {limit:?}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Everything logged since the last call.
    pub(crate) fn log(&self) -> String {
        self.stderr.try_iter().collect::<Vec<_>>().join("\n")
    }
}
