//! End to end: `vigil up` with short intervals, traffic sent to its demo
//! API, then every promise checked through the public HTTP APIs only — the
//! metrics count exactly what was sent, every query of vigil's dashboard
//! answers data, the log store holds exactly the lines of the log files
//! with the labels the pipeline extracts, and a restart on the same data
//! directory keeps all of it without pushing a line twice.
//!
//! The traffic comes from `vigil loadgen --rounds N` rather than from the
//! generator inside `up`: `up` has no flag to stop only its generator, and
//! stopping the whole of `up` loses the requests answered after the last
//! scrape, so the metrics could not be compared exactly. `up`'s own
//! generator runs with no clients, so every request is one the test sent.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rustix::process::Signal;
use serde_json::{Value, json};

use common::{Up, VIGIL};

/// How long something the stack does in the background may take to show:
/// generous for a loaded 2-core CI machine. Reaching the condition is the
/// assertion, not the time.
const SHOW_BOUND: Duration = Duration::from_secs(30);

/// Rounds of traffic, each `CLIENTS` requests, a second apart: ~20 s.
const ROUNDS: &str = "20";
const CLIENTS: &str = "5";

/// More lines than the test writes, under the store's per-query limit.
const LIMIT: usize = 5000;

/// Starts `vigil up` over `data` on free loopback ports with the short
/// intervals of this test, and reads its banner.
fn start_up(data: &Path) -> Up {
    let args = [
        "--max-delay",
        "200ms",
        "--scrape-interval",
        "1s",
        "--loadgen-interval",
        "1s",
        "--loadgen-clients",
        "0",
        "--loggen-interval",
        "1s",
    ];
    Up::start(common::up_command(data, &args, &[]))
}

/// SIGTERMs `up`, waits for a successful exit and returns its log.
fn stop(up: &mut Up) -> String {
    up.signal(Signal::TERM);
    let status = up.wait(SHOW_BOUND);
    let log = up.log();
    assert!(status.success(), "exit {status}; log:\n{log}");
    log
}

/// The agent's config as `up` writes it (vigil's config/promtail-config.yaml
/// with the data directory filled in), with the client's `batchwait` cut to
/// 100 ms so lines reach the store quickly. `up` keeps a file it finds.
fn write_agent_config(data: &Path) {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/promtail-config.yaml");
    let text = std::fs::read_to_string(source).unwrap();
    let dir = data.display().to_string();
    let text = agent::config::expand_env_with(&text, "promtail-config.yaml", |name| {
        (name == "VIGIL_DATA_DIR").then(|| dir.clone())
    })
    .unwrap();
    let client = "  - url: http://127.0.0.1:3100/loki/api/v1/push\n";
    assert!(text.contains(client), "the client block moved: {text}");
    let text = text.replace(client, &format!("{client}    batchwait: 100ms\n"));
    let path = data.join("config/promtail-config.yaml");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn now_ns() -> i64 {
    let since = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    i64::try_from(since.as_nanos()).unwrap()
}

/// GETs or POSTs (with a JSON body) as admin; the parsed answer, or `None`
/// on any failure.
fn call(url: &str, body: Option<&Value>) -> Option<Value> {
    common::runtime().block_on(async {
        let client = reqwest::Client::new();
        let request = match body {
            Some(body) => client
                .post(url)
                .header("content-type", "application/json")
                .body(body.to_string()),
            None => client.get(url),
        };
        let response = request
            .basic_auth("admin", Some("admin"))
            .send()
            .await
            .ok()?;
        serde_json::from_str(&response.text().await.ok()?).ok()
    })
}

/// Polls `probe` until it answers `Some`; fails the test with `what` and
/// the last answer seen after [`SHOW_BOUND`].
fn eventually<T>(what: &str, mut probe: impl FnMut(&mut String) -> Option<T>) -> T {
    let deadline = Instant::now() + SHOW_BOUND;
    let mut last = String::new();
    loop {
        if let Some(found) = probe(&mut last) {
            return found;
        }
        assert!(Instant::now() < deadline, "{what}; last: {last}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// A PromQL instant query at `time` (seconds; now when `None`); its result
/// vector.
fn promql(metrics: &str, query: &str, time: Option<f64>) -> Option<Vec<Value>> {
    let mut url = reqwest::Url::parse(&format!("{metrics}/api/v1/query")).unwrap();
    url.query_pairs_mut().append_pair("query", query);
    if let Some(time) = time {
        url.query_pairs_mut()
            .append_pair("time", &format!("{time:.3}"));
    }
    let v = call(url.as_str(), None)?;
    v["data"]["result"].as_array().cloned()
}

/// `sum by (method, status)` of the API's counted requests at `time`.
fn counted(metrics: &str, time: Option<f64>) -> Option<BTreeMap<(String, String), u64>> {
    let query =
        "sum by (method, status) (http_requests_total{job=\"fastapi\", handler!=\"/metrics\"})";
    let rows = promql(metrics, query, time)?;
    rows.iter()
        .map(|r| {
            let value: f64 = r["value"][1].as_str()?.parse().ok()?;
            let key = (
                r["metric"]["method"].as_str()?.to_owned(),
                r["metric"]["status"].as_str()?.to_owned(),
            );
            Some((key, value as u64))
        })
        .collect()
}

/// The store's streams for `query` over `[start_ns, end_ns)`, or `None`
/// when it did not answer.
fn logql(loki: &str, query: &str, start_ns: i64, end_ns: i64) -> Option<Vec<Value>> {
    let mut url = reqwest::Url::parse(&format!("{loki}/loki/api/v1/query_range")).unwrap();
    url.query_pairs_mut()
        .append_pair("query", query)
        .append_pair("start", &start_ns.to_string())
        .append_pair("end", &end_ns.to_string())
        .append_pair("limit", &LIMIT.to_string())
        .append_pair("direction", "forward");
    let v = call(url.as_str(), None)?;
    v["data"]["result"].as_array().cloned()
}

/// The log store's `loki_distributor_lines_received_total`, all tenants.
fn received_lines(loki: &str) -> u64 {
    let text = common::metrics_text(loki);
    text.lines()
        .filter(|l| l.starts_with("loki_distributor_lines_received_total"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum::<f64>() as u64
}

/// Every line of `streams`, sorted (a multiset).
fn lines_in(streams: &[Value]) -> Vec<String> {
    let mut lines: Vec<String> = streams
        .iter()
        .flat_map(|s| s["values"].as_array().cloned().unwrap_or_default())
        .filter_map(|v| v[1].as_str().map(str::to_owned))
        .collect();
    assert!(lines.len() < LIMIT, "the query hit its limit");
    lines.sort();
    lines
}

/// Every line of every file under `dir`, sorted (a multiset).
fn file_lines(dir: &Path) -> Vec<String> {
    let mut lines = Vec::new();
    let mut dirs = vec![PathBuf::from(dir)];
    while let Some(d) = dirs.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                let text = std::fs::read_to_string(&path).unwrap();
                lines.extend(text.lines().map(str::to_owned));
            }
        }
    }
    lines.sort();
    lines
}

/// Runs `vigil loadgen` against the demo API until its rounds are done;
/// its summary's answered requests by (method, path, status).
fn send_traffic(api: &str) -> BTreeMap<(String, String, u16), u64> {
    let out = Command::new(VIGIL)
        .args(["loadgen", "--target", api, "--clients", CLIENTS])
        .args(["--interval", "1s", "--rounds", ROUNDS, "--seed", "12"])
        .env("NO_COLOR", "1")
        .output()
        .expect("vigil loadgen runs");
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    // Round lines, then the summary as pretty JSON.
    let json = &stdout[stdout.find("\n{").expect("a summary")..];
    let summary: Value = serde_json::from_str(json).unwrap();
    assert_eq!(summary["errors"], 0, "{summary}");
    summary["by_endpoint"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let key = (
                e["method"].as_str().unwrap().to_owned(),
                e["path"].as_str().unwrap().to_owned(),
                u16::try_from(e["status"].as_u64().unwrap()).unwrap(),
            );
            (key, e["count"].as_u64().unwrap())
        })
        .collect()
}

/// The demo API's own request lines, by (method, path, status), without
/// its scrapes: `… | LEVEL | METHOD PATH | Requested by: … Status: N …`.
fn api_logged(data: &Path) -> BTreeMap<(String, String, u16), u64> {
    let line = regex::Regex::new(r"^\S+ \| \w+ \| (\w+) (\S+) \| Requested by: .* Status: (\d+) ")
        .unwrap();
    let text = std::fs::read_to_string(data.join("logs/api/logs.log")).unwrap();
    let mut by = BTreeMap::new();
    for c in text.lines().filter_map(|l| line.captures(l)) {
        if &c[2] != "/metrics" {
            let key = (c[1].to_owned(), c[2].to_owned(), c[3].parse().unwrap());
            *by.entry(key).or_default() += 1;
        }
    }
    by
}

/// (method, status class) → count, as the API's counters label them.
fn by_class(by: &BTreeMap<(String, String, u16), u64>) -> BTreeMap<(String, String), u64> {
    let mut classes = BTreeMap::new();
    for ((method, _, status), n) in by {
        *classes
            .entry((method.clone(), format!("{}xx", status / 100)))
            .or_default() += n;
    }
    classes
}

/// Every query of vigil's dashboard with its variables as the UI fills
/// them (`$job` = fastapi, `$handler` = All = `.*`); the step built-ins
/// are left for the server, as the UI does.
fn dashboard_queries() -> Vec<(String, Value, String)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../config/grafana/dashboards/fast-api-metrics.json");
    let dashboard: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut queries = Vec::new();
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().into_iter().flatten() {
            let expr = target["expr"]
                .as_str()
                .unwrap()
                .replace("$job", "fastapi")
                .replace("$handler", ".*");
            let title = format!("{} / {}", panel["title"], target["refId"]);
            let datasource = target["datasource"].clone();
            queries.push((title, datasource, expr));
        }
    }
    queries
}

/// Whether a `/api/ds/query` answer for `A` holds a frame with values.
fn has_data(answer: &Value) -> bool {
    answer["results"]["A"]["frames"]
        .as_array()
        .is_some_and(|frames| {
            frames.iter().any(|f| {
                f["data"]["values"].as_array().is_some_and(|v| {
                    v.iter()
                        .any(|col| col.as_array().is_some_and(|c| !c.is_empty()))
                })
            })
        })
}

#[test]
fn up_end_to_end_metrics_dashboards_logs_and_a_restart() {
    let data = tempfile::tempdir().unwrap();
    let data = data.path();
    write_agent_config(data);
    let started_ns = now_ns();
    let mut first = start_up(data);
    let (api, metrics, loki, dashboards) = (
        first.url("demo API").to_owned(),
        first.url("metrics server").to_owned(),
        first.url("log store").to_owned(),
        first.url("dashboards").to_owned(),
    );

    // Traffic, then the API's own log and its scraped counters agree with
    // what was sent, per method and status.
    let sent = send_traffic(&api);
    let total: u64 = sent.values().sum();
    eprintln!("sent {total} requests: {sent:?}");
    assert_eq!(api_logged(data), sent, "the API's log differs from loadgen");
    let expected = by_class(&sent);
    eventually("the scraped counters never matched the traffic", |last| {
        let now = counted(&metrics, None);
        *last = format!("{now:?}, expected {expected:?}");
        (now.as_ref() == Some(&expected)).then_some(())
    });
    let up = promql(&metrics, "up{job=\"fastapi\"}", None).unwrap();
    assert_eq!(up.len(), 1, "{up:?}");
    assert_eq!(up[0]["value"][1], "1", "{up:?}");

    // The dashboards list vigil's dashboard, and each of its queries,
    // run through the dashboards server, answers data.
    let search = call(&format!("{dashboards}/api/search"), None).unwrap();
    let listed = search.as_array().unwrap();
    assert!(
        listed.iter().any(|d| d["uid"] == "fast-api-metrics"),
        "{search}"
    );
    for (title, datasource, expr) in dashboard_queries() {
        let request = json!({
            "from": "now-5m", "to": "now",
            "queries": [{
                "refId": "A", "datasource": datasource, "expr": expr,
                "range": true, "instant": false, "queryType": "range",
                "intervalMs": 1000, "maxDataPoints": 300,
            }],
        });
        eventually(&format!("no data for {title}: {expr}"), |last| {
            let answer = call(&format!("{dashboards}/api/ds/query"), Some(&request));
            *last = format!("{answer:?}");
            answer.as_ref().is_some_and(has_data).then_some(())
        });
    }

    // Lines carry the labels the pipeline extracts.
    let streams = eventually("no labelled request or function lines", |last| {
        let streams = logql(&loki, "{job=\"fast-api-logs\"}", started_ns, now_ns())?;
        *last = format!("{} streams", streams.len());
        let has = |keys: &[&str]| {
            streams
                .iter()
                .any(|s| keys.iter().all(|k| s["stream"][*k].is_string()))
        };
        let request = ["log_level", "method", "uri", "status", "env", "source"];
        (has(&request) && has(&["log_level", "module", "function"])).then_some(streams)
    });
    eprintln!("{} streams before the restart", streams.len());

    // Stop everything; the files now hold every line of the first run.
    let log = stop(&mut first);
    // `up`'s own generator ran its rounds with no clients: every request
    // counted above was the test's.
    assert!(
        log.lines()
            .any(|l| l.contains("traffic generator stopped") && l.contains("requests=0 errors=0")),
        "{log}"
    );
    let stopped_s = now_ns() as f64 / 1e9;
    drop(first);
    let files = file_lines(&data.join("logs"));
    let errors_in_files = files.iter().filter(|l| l.contains(" | ERROR | ")).count();
    let restarted_ns = now_ns();

    // The same data directory, the same stack: what came before is there.
    let second = start_up(data);
    let (metrics, loki, dashboards) = (
        second.url("metrics server").to_owned(),
        second.url("log store").to_owned(),
        second.url("dashboards").to_owned(),
    );
    // Every line of the first run, exactly once: those still in the
    // agent's batch at the stop are pushed by the second run, none twice.
    let stored = eventually("the store never held the files' lines exactly", |last| {
        let lines = lines_in(&logql(
            &loki,
            "{job=\"fast-api-logs\"}",
            started_ns,
            restarted_ns,
        )?);
        *last = format!("{} stored, {} in files", lines.len(), files.len());
        (lines == files).then_some(lines)
    });
    // The store drops a pushed line identical to one it holds (as Loki
    // does), so the query above cannot show a re-push. Its counter of
    // received lines can: what the second run received beyond its own
    // stored lines are the first run's lines pushed late (written as the
    // agent stopped), never a re-read of the files.
    let received = received_lines(&loki);
    let own = lines_in(&logql(&loki, "{job=\"fast-api-logs\"}", restarted_ns, now_ns()).unwrap());
    let late = received.saturating_sub(own.len() as u64);
    eprintln!(
        "second run: {received} lines received, {} of its own, {late} late",
        own.len()
    );
    assert!(
        late < files.len() as u64 / 2,
        "the second run received {received} lines for {} of its own: the first run's {} lines were pushed again",
        own.len(),
        files.len()
    );
    let errors = lines_in(
        &logql(
            &loki,
            "{job=\"fast-api-logs\", log_level=\"ERROR\"}",
            started_ns,
            restarted_ns,
        )
        .unwrap(),
    );
    let file_errors: Vec<String> = files
        .iter()
        .filter(|l| l.contains(" | ERROR | "))
        .cloned()
        .collect();
    assert_eq!(errors, file_errors, "ERROR lines differ");
    eprintln!(
        "{} lines ({} ERROR) in files and store",
        stored.len(),
        errors_in_files
    );
    assert!(errors_in_files > 0, "no ERROR line was written");
    // The first run's samples, as of its stop.
    assert_eq!(
        counted(&metrics, Some(stopped_s)).as_ref(),
        Some(&expected),
        "the first run's counters"
    );
    let search = call(&format!("{dashboards}/api/search"), None).unwrap();
    assert!(
        search
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["uid"] == "fast-api-metrics"),
        "{search}"
    );
}
