//! `vigil up --no-demo`: the configs it generates for the user's own
//! service (`--print-config`) are ones the components' parsers read and
//! that scrape and tail what was asked, and a running `up` ends with the
//! service's metrics and log lines queryable through the public APIs.

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal, kill_process};

use common::VIGIL;

/// How long something `up` does in the background may take to show: a
/// bound for a loaded CI machine, not a measured time.
const SHOW_BOUND: Duration = Duration::from_secs(60);

/// `vigil up ARGS --print-config` over `data`: its files by path.
fn print_config(data: &Path, args: &[&str]) -> BTreeMap<String, String> {
    let out = Command::new(VIGIL)
        .arg("up")
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .arg("--print-config")
        .output()
        .expect("vigil runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("UTF-8");
    let mut files = BTreeMap::new();
    let mut current: Option<(String, String)> = None;
    for line in text.lines() {
        if let Some(path) = line
            .strip_prefix("# --- ")
            .and_then(|l| l.strip_suffix(" ---"))
        {
            files.extend(current.take());
            current = Some((path.to_owned(), String::new()));
        } else if let Some((_, body)) = current.as_mut() {
            body.push_str(line);
            body.push('\n');
        } else {
            panic!("output before the first header: {line:?}");
        }
    }
    files.extend(current);
    files
}

/// The config at `data/config/<name>` in the output.
fn file<'a>(files: &'a BTreeMap<String, String>, data: &Path, name: &str) -> &'a str {
    let path = data.join("config").join(name).display().to_string();
    files
        .get(&path)
        .unwrap_or_else(|| panic!("no {path}; got {:?}", files.keys()))
}

/// A flags case: what the metrics server scrapes (job → targets) and what
/// the agent tails (job → paths).
struct Case {
    args: &'static [&'static str],
    scrapes: &'static [(&'static str, &'static [&'static str])],
    tails: &'static [(&'static str, &'static str)],
}

const CASES: &[Case] = &[
    Case {
        args: &[],
        scrapes: &[
            ("fastapi", &["127.0.0.1:8000"]),
            ("vigil", &["127.0.0.1:9090"]),
        ],
        tails: &[
            ("fast-api-logs", "DATA/logs/api/*.log"),
            ("fast-api-logs", "DATA/logs/loggen/*.log"),
        ],
    },
    Case {
        args: &[
            "--no-demo",
            "--scrape",
            "127.0.0.1:3001",
            "--logs",
            "/var/log/app/*.log",
        ],
        scrapes: &[("app", &["127.0.0.1:3001"]), ("vigil", &["127.0.0.1:9090"])],
        tails: &[("app", "/var/log/app/*.log")],
    },
    Case {
        args: &[
            "--no-demo",
            "--job",
            "shop",
            "--scrape",
            "10.0.0.5:8080",
            "--scrape",
            "localhost:9100",
            "--logs",
            "/srv/a.log",
            "--logs",
            "/srv/b/*.log",
            "--prometheus-listen",
            "127.0.0.1:19090",
        ],
        scrapes: &[
            ("shop", &["10.0.0.5:8080", "localhost:9100"]),
            ("vigil", &["127.0.0.1:19090"]),
        ],
        tails: &[("shop", "/srv/a.log"), ("shop", "/srv/b/*.log")],
    },
    Case {
        args: &["--no-demo"],
        scrapes: &[("vigil", &["127.0.0.1:9090"])],
        tails: &[],
    },
];

#[test]
fn print_config_scrapes_and_tails_what_was_asked() {
    for case in CASES {
        let data = tempfile::tempdir().expect("a temp dir");
        let files = print_config(data.path(), case.args);
        assert_eq!(files.len(), 4, "{:?}: {:?}", case.args, files.keys());

        let prometheus = prom::config::Config::parse(
            file(&files, data.path(), "prometheus.yml"),
            Path::new("prometheus.yml"),
        )
        .unwrap_or_else(|e| panic!("{:?}: {e}", case.args));
        let scrapes: Vec<(String, Vec<String>)> = prometheus
            .scrape_configs
            .iter()
            .map(|s| {
                let targets = s.static_configs.iter().flat_map(|c| c.targets.clone());
                (s.job_name.clone(), targets.collect())
            })
            .collect();
        let want: Vec<(String, Vec<String>)> = case
            .scrapes
            .iter()
            .map(|(job, t)| {
                (
                    (*job).to_owned(),
                    t.iter().map(|t| (*t).to_owned()).collect(),
                )
            })
            .collect();
        assert_eq!(scrapes, want, "{:?}", case.args);

        let agent = agent::config::Config::parse(
            file(&files, data.path(), "promtail-config.yaml"),
            "promtail-config.yaml",
        )
        .unwrap_or_else(|e| panic!("{:?}: {e}", case.args));
        let tails: Vec<(String, String)> = agent
            .scrape_configs
            .iter()
            .flat_map(|s| &s.static_configs)
            .map(|c| (c.labels["job"].clone(), c.labels["__path__"].clone()))
            .collect();
        let data_dir = data.path().display().to_string();
        let want: Vec<(String, String)> = case
            .tails
            .iter()
            .map(|(job, path)| ((*job).to_owned(), path.replace("DATA", &data_dir)))
            .collect();
        assert_eq!(tails, want, "{:?}", case.args);

        logstore::config::Config::parse(
            file(&files, data.path(), "loki-config.yaml"),
            "loki-config.yaml",
        )
        .unwrap_or_else(|e| panic!("{:?}: {e}", case.args));

        let provisioning = tempfile::tempdir().expect("a temp dir");
        let datasources = provisioning.path().join("datasources");
        std::fs::create_dir_all(&datasources).expect("a folder");
        std::fs::write(
            datasources.join("vigil.yml"),
            file(&files, data.path(), "grafana/datasources/vigil.yml"),
        )
        .expect("written");
        let loaded = common::runtime()
            .block_on(dashboard::provisioning::Provisioned::load(Some(
                provisioning.path(),
            )))
            .expect("provisioned");
        assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
        let urls: Vec<&str> = loaded
            .datasources
            .all()
            .iter()
            .map(|d| d.url.as_str())
            .collect();
        let metrics = case
            .scrapes
            .iter()
            .find(|(job, _)| *job == "vigil")
            .map(|(_, t)| format!("http://{}", t[0]))
            .expect("the own job");
        assert_eq!(
            urls,
            [metrics.as_str(), "http://127.0.0.1:3100"],
            "{:?}",
            case.args
        );
    }
}

#[test]
fn bad_flags_are_refused_before_anything_starts() {
    for args in [
        &["--scrape", "127.0.0.1:3001"][..],
        &["--logs", "app.log"],
        &["--job", "shop"],
        &["--no-demo", "--scrape", "127.0.0.1"],
        &["--no-demo", "--scrape", "127.0.0.1:http"],
        &["--no-demo", "--job", "my job"],
    ] {
        let out = Command::new(VIGIL)
            .args(["up", "--print-config"])
            .args(args)
            .output()
            .expect("vigil runs");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}

/// A stand-in for the user's service: answers every request with `body`
/// in the Prometheus text format.
fn serve_metrics(body: &'static str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a port");
    let addr = listener.local_addr().expect("an address");
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut request = BufReader::new(stream.try_clone().expect("a clone"));
            // The request head ends at an empty line; a scrape has no body.
            let mut line = String::new();
            while request.read_line(&mut line).is_ok_and(|n| n > 0) && line != "\r\n" {
                line.clear();
            }
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    addr.to_string()
}

/// A running `vigil up`, killed when dropped.
struct Up(Child);

impl Drop for Up {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Reads `up`'s banner until the metrics server's and the log store's
/// URLs are in it.
fn banner_urls(stdout: impl Read + Send + 'static) -> (String, String) {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + SHOW_BOUND;
    let (mut metrics, mut logs) = (None, None);
    while metrics.is_none() || logs.is_none() {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = rx.recv_timeout(left).expect("the banner");
        assert!(!line.contains("demo API"), "a demo API started: {line}");
        let url = || {
            line.split_whitespace()
                .find(|w| w.starts_with("http://"))
                .map(str::to_owned)
        };
        if line.trim_start().starts_with("metrics server") {
            metrics = url();
        }
        if line.trim_start().starts_with("log store") {
            logs = url();
        }
    }
    (metrics.expect("a URL"), logs.expect("a URL"))
}

/// Polls `check` until it gives something, failing past [`SHOW_BOUND`].
async fn eventually<T, F: Future<Output = Option<T>>>(
    what: &str,
    mut check: impl FnMut() -> F,
) -> T {
    let deadline = Instant::now() + SHOW_BOUND;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(Instant::now() < deadline, "{what} did not show");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[test]
fn up_no_demo_makes_the_services_metrics_and_logs_queryable() {
    let target = serve_metrics(
        "# TYPE orders_total counter\norders_total{shop=\"north\"} 7\norders_total{shop=\"south\"} 3\n",
    );
    let dir = tempfile::tempdir().expect("a temp dir");
    let log = dir.path().join("app.log");
    let lines = [
        "level=info msg=\"started\"",
        "{\"level\":\"error\",\"msg\":\"payment failed\"}",
        "a line in no format at all",
    ];
    std::fs::write(&log, lines.join("\n") + "\n").expect("written");

    let mut command = Command::new(VIGIL);
    command
        .arg("up")
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .args(["--no-demo", "--scrape", &target, "--logs"])
        .arg(&log)
        .args(["--scrape-interval", "200ms"])
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    for flag in [
        "--prometheus-listen",
        "--loki-listen",
        "--agent-listen",
        "--grafana-listen",
    ] {
        command.args([flag, "127.0.0.1:0"]);
    }
    let mut up = Up(command.spawn().expect("vigil starts"));
    let (metrics, logs) = banner_urls(up.0.stdout.take().expect("stdout"));

    let runtime = common::runtime();
    runtime.block_on(async {
        let client = reqwest::Client::new();
        let series = eventually("the target's metrics", || async {
            let body: serde_json::Value = client
                .get(format!("{metrics}/api/v1/query"))
                .query(&[("query", "orders_total{job=\"app\"}")])
                .send()
                .await
                .ok()?
                .text()
                .await
                .ok()
                .and_then(|t| serde_json::from_str(&t).ok())?;
            let result = body["data"]["result"].as_array()?.clone();
            (result.len() == 2).then_some(result)
        })
        .await;
        let mut values: Vec<(String, String)> = series
            .iter()
            .map(|s| {
                (
                    s["metric"]["shop"].as_str().unwrap_or_default().to_owned(),
                    s["value"][1].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect();
        values.sort();
        assert_eq!(
            values,
            [
                ("north".to_owned(), "7".to_owned()),
                ("south".to_owned(), "3".to_owned())
            ]
        );

        let now = chrono::Utc::now().timestamp_nanos_opt().expect("a time");
        let hour = 3_600_000_000_000;
        // The lines of `{job="app"}` with their `log_level`, once every
        // line is in (the store answers before the agent has sent them).
        let got = eventually("the file's lines", || async {
            let (start, end) = ((now - hour).to_string(), (now + hour).to_string());
            let text = client
                .get(format!("{logs}/loki/api/v1/query_range"))
                .query(&[
                    ("query", "{job=\"app\"}"),
                    ("start", start.as_str()),
                    ("end", end.as_str()),
                    ("limit", "1000"),
                ])
                .send()
                .await
                .ok()?
                .text()
                .await
                .ok()?;
            let v: serde_json::Value = serde_json::from_str(&text).ok()?;
            let mut got: Vec<(String, String)> = Vec::new();
            for stream in v["data"]["result"].as_array().into_iter().flatten() {
                let level = stream["stream"]["log_level"]
                    .as_str()
                    .unwrap_or("")
                    .to_owned();
                for value in stream["values"].as_array().into_iter().flatten() {
                    got.push((level.clone(), value[1].as_str().unwrap_or("").to_owned()));
                }
            }
            got.sort();
            (got.len() == lines.len()).then_some(got)
        })
        .await;
        let mut want: Vec<(String, String)> = vec![
            (String::new(), lines[2].to_owned()),
            ("ERROR".to_owned(), lines[1].to_owned()),
            ("INFO".to_owned(), lines[0].to_owned()),
        ];
        want.sort();
        assert_eq!(got, want);
    });

    let pid = Pid::from_raw(up.0.id() as i32).expect("a pid");
    kill_process(pid, Signal::TERM).expect("signalled");
    let deadline = Instant::now() + SHOW_BOUND;
    let status = loop {
        if let Some(status) = up.0.try_wait().expect("waitable") {
            break status;
        }
        assert!(Instant::now() < deadline, "up did not exit after SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{status}");
}
