//! The `vigil` binary as a user runs it: `up` with Ctrl-C, `--help`, and
//! flag errors.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal, kill_process};

const VIGIL: &str = env!("CARGO_BIN_EXE_vigil");

/// Sends SIGINT, as Ctrl-C does.
fn interrupt(child: &Child) {
    let pid = Pid::from_raw(child.id() as i32).unwrap();
    kill_process(pid, Signal::INT).unwrap();
}

/// Waits for the child to exit, failing after `limit`.
fn wait_at_most(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if started.elapsed() > limit {
            child.kill().unwrap();
            panic!("did not exit within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn file_len(path: &std::path::Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

#[test]
fn up_serves_traffic_grows_logs_and_exits_on_ctrl_c() {
    let data = tempfile::tempdir().unwrap();
    let mut child = Command::new(VIGIL)
        .args(["up", "--demo-listen", "127.0.0.1:0", "--max-delay", "50ms"])
        .args([
            "--prometheus-listen",
            "127.0.0.1:0",
            "--scrape-interval",
            "200ms",
            "--loki-listen",
            "127.0.0.1:0",
            "--grafana-listen",
            "127.0.0.1:0",
        ])
        .args([
            "--loadgen-clients",
            "5",
            "--loadgen-interval",
            "100ms",
            "--loggen-interval",
            "50ms",
        ])
        .arg("--data-dir")
        .arg(data.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();

    // The banner names the API's URL.
    let (lines_tx, lines_rx) = mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = lines_tx.send(line);
        }
    });
    let mut api_url = None;
    let mut metrics_url = None;
    let mut loki_url = None;
    let mut dashboards_url = None;
    while api_url.is_none()
        || metrics_url.is_none()
        || loki_url.is_none()
        || dashboards_url.is_none()
    {
        let line = lines_rx
            .recv_timeout(Duration::from_secs(30))
            .expect("no banner");
        let url = |rest: &str| rest.split_whitespace().next().unwrap().to_owned();
        if let Some(rest) = line.trim().strip_prefix("demo API") {
            api_url = Some(url(rest));
        }
        if let Some(rest) = line.trim().strip_prefix("metrics server") {
            metrics_url = Some(url(rest));
        }
        if let Some(rest) = line.trim().strip_prefix("log store") {
            loki_url = Some(url(rest));
        }
        if let Some(rest) = line.trim().strip_prefix("dashboards") {
            dashboards_url = Some(url(rest));
        }
    }
    let dashboards_url = dashboards_url.unwrap();
    let (api_url, metrics_url) = (api_url.unwrap(), metrics_url.unwrap());
    let loki_url = loki_url.unwrap();

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let api_log = data.path().join("logs/api/logs.log");
    let loggen_log = data.path().join("logs/loggen/logs.log");
    let requests_log = data.path().join("logs/loggen/requests.log");
    let traffic_seen = runtime.block_on(async {
        assert_eq!(
            reqwest::get(format!("{api_url}/health"))
                .await
                .unwrap()
                .status(),
            200
        );
        assert_eq!(
            reqwest::get(format!("{loki_url}/ready"))
                .await
                .unwrap()
                .status(),
            200
        );
        // The dashboards: vigil's own, with datasources at the stores' addresses.
        let client = reqwest::Client::new();
        let get = |path: &str| {
            client
                .get(format!("{dashboards_url}{path}"))
                .basic_auth("admin", Some("admin"))
                .send()
        };
        let prom = get("/api/datasources/uid/prometheus-datasource")
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            prom.contains(&format!("\"url\":\"{metrics_url}\"")),
            "{prom}"
        );
        assert!(prom.contains("\"timeInterval\":\"200ms\""), "{prom}");
        let loki = get("/api/datasources/uid/loki-datasource")
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(loki.contains(&format!("\"url\":\"{loki_url}\"")), "{loki}");
        let own = get("/api/dashboards/uid/fast-api-metrics")
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            own.contains("\"folderTitle\":\"Fast API Metrics\""),
            "{own}"
        );
        // Traffic flows: the loadgen's requests show up in the counters.
        for _ in 0..100 {
            let metrics = reqwest::get(format!("{api_url}/metrics"))
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            let test_requests = metrics
                .lines()
                .filter(|l| l.starts_with("http_requests_total{") && l.contains("_endpoint"))
                .count();
            if test_requests > 0 {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        false
    });
    assert!(traffic_seen, "no loadgen traffic reached the API");

    // The metrics server scrapes the demo API as job "fastapi".
    let scraped = runtime.block_on(async {
        for _ in 0..100 {
            let url = format!(
                "{metrics_url}/api/v1/series?match[]=http_requests_total{{job=\"fastapi\"}}"
            );
            let body = reqwest::get(url).await.unwrap().text().await.unwrap();
            if body.contains("/get_endpoint") || body.contains("_endpoint") {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        false
    });
    assert!(scraped, "the metrics server did not scrape the demo API");

    // Log files grow.
    let before = [file_len(&api_log), file_len(&loggen_log)];
    std::thread::sleep(Duration::from_millis(800));
    let after = [file_len(&api_log), file_len(&loggen_log)];
    assert!(
        after[0] > before[0],
        "API log did not grow: {before:?} -> {after:?}"
    );
    assert!(
        after[1] > before[1],
        "generated log did not grow: {before:?} -> {after:?}"
    );
    assert!(file_len(&requests_log) > 0);

    // Ctrl-C: out within 5 s, successfully.
    let started = Instant::now();
    interrupt(&child);
    let status = wait_at_most(&mut child, Duration::from_secs(5));
    assert!(status.success(), "exit status {status}");
    assert!(started.elapsed() < Duration::from_secs(5));
    let rest: Vec<String> = lines_rx.try_iter().collect();
    assert!(rest.iter().any(|l| l == "vigil stopped"), "{rest:?}");
    // The API's last line is its shutdown line: the log was flushed.
    let text = std::fs::read_to_string(&api_log).unwrap();
    assert!(
        text.lines().last().unwrap().contains("Demo API stopped"),
        "{text}"
    );
}

#[test]
fn help_lists_every_subcommand() {
    let output = Command::new(VIGIL).arg("--help").output().unwrap();
    assert!(output.status.success());
    let help = String::from_utf8(output.stdout).unwrap();
    for command in [
        "up",
        "demo",
        "loadgen",
        "loggen",
        "prometheus",
        "loki",
        "grafana",
    ] {
        let line = help
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{command} ")))
            .unwrap_or_else(|| panic!("{command} missing from:\n{help}"));
        assert!(
            line.split_whitespace().count() > 2,
            "{command} has no description"
        );
    }
}

#[test]
fn bad_flags_are_clear_errors() {
    for (args, expected) in [
        (
            vec!["demo", "--max-delay", "5x"],
            r#"not a valid duration string: "5x""#,
        ),
        (
            vec!["demo", "--status-weights", "1,2"],
            "expected three weights",
        ),
        (
            vec!["loadgen", "--target", "nope", "--rounds", "1"],
            "invalid target URL",
        ),
    ] {
        let output = Command::new(VIGIL).args(&args).output().unwrap();
        assert!(!output.status.success(), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
}

#[test]
fn loadgen_prints_rounds_and_a_json_summary() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let output = Command::new(VIGIL)
        .args([
            "loadgen",
            "--target",
            &format!("http://127.0.0.1:{port}"),
            "--rounds",
            "2",
        ])
        .args(["--clients", "3", "--interval", "0"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let stdout = String::from_utf8(output.stdout).unwrap();
    let (rounds, json) = stdout.split_once('{').unwrap();
    assert_eq!(rounds.lines().count(), 2, "{stdout}");
    let summary: serde_json::Value = serde_json::from_str(&format!("{{{json}")).unwrap();
    assert_eq!(summary["rounds"], 2);
    assert_eq!(summary["errors"], 6);
}

#[test]
fn demo_stops_cleanly_on_sigterm() {
    let logs = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(VIGIL)
        .args(["demo", "--listen", &format!("127.0.0.1:{port}")])
        .arg("--log-dir")
        .arg(logs.path())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let log = logs.path().join("logs.log");
    let started = Instant::now();
    while !std::fs::read_to_string(&log).is_ok_and(|t| t.contains("listening")) {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "demo did not start"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let pid = Pid::from_raw(child.id() as i32).unwrap();
    kill_process(pid, Signal::TERM).unwrap();
    let status = wait_at_most(&mut child, Duration::from_secs(5));
    assert!(status.success(), "exit status {status}");
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        text.lines().last().unwrap().contains("Demo API stopped"),
        "{text}"
    );
}

/// A free port on 127.0.0.1 (bound, then released).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn http_get(url: &str) -> Option<String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async { reqwest::get(url).await.ok()?.text().await.ok() })
}

#[test]
fn prometheus_takes_go_style_flags_reloads_on_sighup_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("prometheus.yml");
    std::fs::write(&config, "scrape_configs: []\n").unwrap();
    let port = free_port();
    let mut child = Command::new(VIGIL)
        .arg("prometheus")
        .arg(format!("-config.file={}", config.display()))
        .arg(format!(
            "-storage.tsdb.path={}",
            dir.path().join("data").display()
        ))
        .arg(format!("-web.listen-address=127.0.0.1:{port}"))
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    while http_get(&format!("{base}/-/ready")).is_none() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "server did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    std::fs::write(
        &config,
        "scrape_configs:\n  - job_name: added\n    static_configs:\n      - targets: ['127.0.0.1:1']\n",
    )
    .unwrap();
    let pid = Pid::from_raw(child.id() as i32).unwrap();
    kill_process(pid, Signal::HUP).unwrap();
    let started = Instant::now();
    while !http_get(&format!("{base}/api/v1/targets"))
        .is_some_and(|t| t.contains("\"scrapePool\":\"added\""))
    {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "SIGHUP did not reload"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    kill_process(pid, Signal::TERM).unwrap();
    let status = wait_at_most(&mut child, Duration::from_secs(5));
    assert!(status.success(), "exit status {status}");
}

#[test]
fn prometheus_refuses_an_invalid_config_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("prometheus.yml");
    std::fs::write(
        &config,
        "scrape_configs:\n  - job_name: a\n    scrape_intervall: 5s\n",
    )
    .unwrap();
    let output = Command::new(VIGIL)
        .args(["prometheus", "--config.file"])
        .arg(&config)
        .arg("--storage.tsdb.path")
        .arg(dir.path().join("data"))
        .arg("--web.listen-address=127.0.0.1:0")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("{}:2:", config.display()))
            && stderr.contains("unknown field `scrape_intervall`"),
        "{stderr}"
    );
}
