//! `vigil up` as one lifecycle: SIGHUP reloads every component's config,
//! SIGTERM drains every component and exits, a taken port is a clear error
//! that leaves nothing running, and a restart resumes from the data left.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use rustix::process::Signal;

use common::Up;

/// How long `up` may take to exit after SIGTERM here: the promise is 5 s,
/// this bound is generous for a loaded CI machine. Exiting is the
/// assertion, not the time.
const EXIT_BOUND: Duration = Duration::from_secs(10);

/// How long something `up` does in the background may take to show.
const SHOW_BOUND: Duration = Duration::from_secs(30);

/// The flags of a quick `up` on free loopback ports, over `data`.
fn command(data: &Path) -> Command {
    command_with(data, &[])
}

/// [`command`] with some components' addresses given: `(flag, address)`.
fn command_with(data: &Path, listen: &[(&str, &str)]) -> Command {
    common::up_command(
        data,
        &[
            "--max-delay",
            "20ms",
            "--scrape-interval",
            "200ms",
            "--loadgen-clients",
            "2",
            "--loadgen-interval",
            "100ms",
            "--loggen-interval",
            "50ms",
        ],
        listen,
    )
}

/// Starts `up` over `data` and reads its banner.
fn start(data: &Path) -> Up {
    Up::start(command(data))
}

/// GETs `url` as admin; the body, or `None` on any failure.
fn get(url: &str) -> Option<String> {
    common::runtime().block_on(async {
        let response = reqwest::Client::new()
            .get(url)
            .basic_auth("admin", Some("admin"))
            .send()
            .await
            .ok()?;
        response.text().await.ok()
    })
}

/// Polls `url` until its body satisfies `check`; fails the test with the
/// last body after [`SHOW_BOUND`].
fn eventually(url: &str, what: &str, check: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + SHOW_BOUND;
    let mut last = None;
    while Instant::now() < deadline {
        last = get(url);
        if last.as_deref().is_some_and(&check) {
            return last.unwrap_or_default();
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("{what}; last answer from {url}: {last:?}");
}

/// A URL-encoded query parameter.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[test]
fn sighup_reloads_the_metrics_server_and_the_dashboards() {
    let data = tempfile::tempdir().unwrap();
    let up = start(data.path());
    let metrics = up.url("metrics server").to_owned();
    let dashboards = up.url("dashboards").to_owned();

    // The user edits the files `up` wrote.
    let prometheus_yml = data.path().join("config/prometheus.yml");
    let mut yml = std::fs::read_to_string(&prometheus_yml).unwrap();
    yml.push_str(
        "\n  - job_name: added-by-hand\n    static_configs:\n      - targets: [\"127.0.0.1:1\"]\n",
    );
    std::fs::write(&prometheus_yml, yml).unwrap();
    let datasources = data.path().join("config/grafana/datasources/vigil.yml");
    let text = std::fs::read_to_string(&datasources)
        .unwrap()
        .replace("name: Loki", "name: Loki edited by hand");
    std::fs::write(&datasources, text).unwrap();
    // Not before the reload.
    assert!(
        !get(&format!("{metrics}/api/v1/status/config"))
            .unwrap()
            .contains("added-by-hand")
    );

    up.signal(Signal::HUP);
    eventually(
        &format!("{metrics}/api/v1/status/config"),
        "the metrics server did not reload prometheus.yml",
        |body| body.contains("added-by-hand"),
    );
    eventually(
        &format!("{dashboards}/api/datasources/uid/loki-datasource"),
        "the dashboards did not reload their provisioning",
        |body| body.contains("Loki edited by hand"),
    );
}

#[test]
fn sigterm_drains_every_component_and_exits() {
    let data = tempfile::tempdir().unwrap();
    let mut up = start(data.path());
    let loki = up.url("log store").to_owned();
    // Lines reach the store: the agent is reading and pushing.
    let query = encode("{job=\"fast-api-logs\"}");
    eventually(
        &format!("{loki}/loki/api/v1/query_range?query={query}&limit=1"),
        "no log line reached the store",
        |body| body.contains("\"values\":[["),
    );

    up.signal(Signal::TERM);
    let status = up.wait(EXIT_BOUND);
    assert!(status.success(), "exit status {status}; log:\n{}", up.log());
    let out: Vec<String> = up.stdout.try_iter().collect();
    assert!(out.iter().any(|l| l == "vigil stopped"), "{out:?}");
    // The agent saved its positions on the way out.
    let positions =
        std::fs::read_to_string(data.path().join("promtail/positions.yaml")).unwrap_or_default();
    assert!(positions.contains("logs.log"), "positions: {positions:?}");
}

#[test]
fn a_taken_port_names_the_component_and_the_flag_and_stops_the_rest() {
    let data = tempfile::tempdir().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let addr = format!("127.0.0.1:{port}");
    let mut up = Up::spawn(command_with(data.path(), &[("--loki-listen", &addr)]));
    let status = up.wait(SHOW_BOUND);
    assert_eq!(status.code(), Some(1), "exit status {status}");
    let log = up.log();
    let expected = format!(
        "vigil up: the log store cannot listen on 127.0.0.1:{port} (address in use); pick another with --loki-listen"
    );
    assert!(log.contains(&expected), "{log}");
    // The metrics server started before the log store: it was drained
    // (its storage closed), not left behind.
    assert!(!log.contains("panicked"), "{log}");
    assert!(up.stdout.try_iter().all(|l| !l.contains("vigil is up")));
}

#[test]
fn a_restart_resumes_with_the_metrics_logs_and_positions_from_before() {
    let data = tempfile::tempdir().unwrap();
    let started_ns = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let mut first = start(data.path());
    let loki = first.url("log store").to_owned();
    let metrics = first.url("metrics server").to_owned();
    let query = encode("{job=\"fast-api-logs\"}");
    eventually(
        &format!("{loki}/loki/api/v1/query_range?query={query}&limit=1&start={started_ns}"),
        "no log line reached the store",
        |body| body.contains("\"values\":[["),
    );
    let up_query = encode("up{job=\"fastapi\"}");
    eventually(
        &format!("{metrics}/api/v1/query?query={up_query}"),
        "the demo API was not scraped",
        |body| body.contains("\"value\":["),
    );
    first.signal(Signal::TERM);
    assert!(first.wait(EXIT_BOUND).success(), "{}", first.log());
    let stopped_s = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let positions = std::fs::read_to_string(data.path().join("promtail/positions.yaml")).unwrap();
    drop(first);

    let second = start(data.path());
    let loki = second.url("log store");
    let metrics = second.url("metrics server");
    // The lines and samples of the first run are there.
    let end_ns = (stopped_s * 1e9) as u128;
    let before = get(&format!(
        "{loki}/loki/api/v1/query_range?query={query}&limit=5&start={started_ns}&end={end_ns}"
    ))
    .unwrap();
    assert!(before.contains("\"values\":[["), "{before}");
    let samples = get(&format!(
        "{metrics}/api/v1/query?query={up_query}&time={stopped_s}"
    ))
    .unwrap();
    assert!(samples.contains("\"value\":["), "{samples}");
    // The agent resumed from its positions, not from the start: the file
    // it left names every log file it had read.
    assert!(positions.contains("logs.log"), "{positions}");
}
