//! The metrics server's HTTP API, end to end: a real target scraped into a
//! real TSDB, answers compared in shape with a real Prometheus' recorded
//! ones.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

use axum::Router;
use axum::http::header;
use axum::routing::get;
use prom::server::{PrometheusServer, ServerOptions};
use serde_json::Value;

fn fixture(name: &str) -> Value {
    let text = std::fs::read_to_string(
        testkit::shared_dir()
            .join("fixtures/prometheus-api")
            .join(name),
    )
    .unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Object keys, recursively down the first element of arrays: the shape.
fn shape(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            Value::Object(map.iter().map(|(k, v)| (k.clone(), shape(v))).collect())
        }
        Value::Array(items) => Value::Array(items.first().map(shape).into_iter().collect()),
        Value::String(_) => Value::from("string"),
        Value::Number(_) => Value::from("number"),
        Value::Bool(_) => Value::from("bool"),
        Value::Null => Value::Null,
    }
}

async fn target() -> String {
    let body = "# HELP http_requests_total Total number of requests by method, status and handler.\n# TYPE http_requests_total counter\nhttp_requests_total{handler=\"/a\",method=\"GET\",status=\"2xx\"} 3\n";
    let app = Router::new().route(
        "/metrics",
        get(move || async move { ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body) }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr.to_string()
}

/// The server's options with `config_file`, data under `dir` and a free
/// port on 127.0.0.1.
fn local_options(config_file: PathBuf, dir: &std::path::Path) -> ServerOptions {
    ServerOptions::new(
        config_file,
        dir.join("data"),
        "127.0.0.1:0".parse().unwrap(),
    )
}

struct Fixture {
    server: PrometheusServer,
    base: String,
    config_file: PathBuf,
    target: String,
    _dir: tempfile::TempDir,
}

async fn start(lifecycle: bool) -> Fixture {
    start_with(lifecycle, false).await
}

/// [`start`], with PromQL's delayed name removal on or off.
async fn start_with(lifecycle: bool, delayed_name_removal: bool) -> Fixture {
    let target = target().await;
    let dir = tempfile::tempdir().unwrap();
    let config_file = dir.path().join("prometheus.yml");
    std::fs::write(
        &config_file,
        format!("scrape_configs:\n  - job_name: fastapi\n    scrape_interval: 100ms\n    scrape_timeout: 100ms\n    static_configs:\n      - targets: ['{target}']\n"),
    )
    .unwrap();
    let server = PrometheusServer::start(ServerOptions {
        enable_lifecycle: lifecycle,
        enable_remote_write_receiver: lifecycle,
        promql_delayed_name_removal: delayed_name_removal,
        ..local_options(config_file.clone(), dir.path())
    })
    .await
    .unwrap();
    let base = format!("http://{}", server.addr());
    // Wait for a few scrapes.
    for _ in 0..100 {
        let up: Value = reqwest::get(format!("{base}/api/v1/series?match[]=up"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if up["data"].as_array().is_some_and(|a| !a.is_empty()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    Fixture {
        server,
        base,
        config_file,
        target,
        _dir: dir,
    }
}

async fn get_json(url: &str) -> (u16, Value) {
    let response = reqwest::get(url).await.unwrap();
    let status = response.status().as_u16();
    assert_eq!(
        response.headers()[header::CONTENT_TYPE],
        "application/json",
        "{url}"
    );
    (status, response.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metadata_endpoints_answer_like_prometheus() {
    let f = start(false).await;
    let base = &f.base;

    let (status, series) = get_json(&format!("{base}/api/v1/series?match[]=up")).await;
    assert_eq!(status, 200);
    assert_eq!(shape(&series), shape(&fixture("series.json")));
    assert_eq!(series["data"][0]["instance"], f.target.as_str());
    assert_eq!(series["data"][0]["job"], "fastapi");

    // POST with a form body works like GET.
    let posted: Value = reqwest::Client::new()
        .post(format!("{base}/api/v1/series"))
        .form(&[("match[]", "http_requests_total")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(posted["data"][0]["handler"], "/a");

    let (_, labels) = get_json(&format!("{base}/api/v1/labels")).await;
    let names: BTreeSet<&str> = labels["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(
        names.is_superset(&BTreeSet::from([
            "__name__", "handler", "instance", "job", "method", "status"
        ])),
        "{names:?}"
    );
    let (_, matched) = get_json(&format!("{base}/api/v1/labels?match[]=up")).await;
    assert_eq!(matched, fixture("labels_match.json"));

    let (_, names) = get_json(&format!("{base}/api/v1/label/__name__/values")).await;
    let names: Vec<&str> = names["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    for expected in [
        "http_requests_total",
        "scrape_duration_seconds",
        "scrape_samples_post_metric_relabeling",
        "scrape_samples_scraped",
        "scrape_series_added",
        "up",
    ] {
        assert!(names.contains(&expected), "{expected} in {names:?}");
    }
    let (_, jobs) = get_json(&format!("{base}/api/v1/label/job/values")).await;
    assert_eq!(jobs["data"], serde_json::json!(["fastapi"]));

    let (_, targets) = get_json(&format!("{base}/api/v1/targets")).await;
    let active = &targets["data"]["activeTargets"][0];
    assert_eq!(
        shape(active),
        shape(&fixture("targets.json")["data"]["activeTargets"][0])
    );
    assert_eq!(active["health"], "up");
    assert_eq!(active["scrapeUrl"], format!("http://{}/metrics", f.target));
    assert_eq!(active["scrapeInterval"], "100ms");

    let (_, metadata) = get_json(&format!("{base}/api/v1/metadata")).await;
    assert_eq!(
        metadata["data"]["http_requests_total"],
        fixture("metadata.json")["data"]["http_requests_total"]
    );
    let (_, per_target) = get_json(&format!(
        "{base}/api/v1/targets/metadata?metric=http_requests_total"
    ))
    .await;
    assert_eq!(per_target["data"][0]["type"], "counter");
    assert_eq!(per_target["data"][0]["target"]["job"], "fastapi");

    f.server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_endpoints_and_errors() {
    let f = start(false).await;
    let base = &f.base;
    for (path, recorded) in [
        ("status/buildinfo", "buildinfo.json"),
        ("status/runtimeinfo", "runtimeinfo.json"),
        ("rules", "rules.json"),
        ("alerts", "alerts.json"),
    ] {
        let (status, body) = get_json(&format!("{base}/api/v1/{path}")).await;
        assert_eq!(status, 200, "{path}");
        let ours = shape(&body);
        let theirs = shape(&fixture(recorded));
        // Rules and alerts are empty lists until rules land: compare the
        // top of the shape.
        if path == "rules" || path == "alerts" {
            assert_eq!(
                ours["data"].as_object().unwrap().keys().collect::<Vec<_>>(),
                theirs["data"]
                    .as_object()
                    .unwrap()
                    .keys()
                    .collect::<Vec<_>>()
            );
        } else {
            assert_eq!(ours, theirs, "{path}");
        }
    }
    let (_, config) = get_json(&format!("{base}/api/v1/status/config")).await;
    assert!(
        config["data"]["yaml"]
            .as_str()
            .unwrap()
            .contains("job_name: fastapi")
    );
    let (_, flags) = get_json(&format!("{base}/api/v1/status/flags")).await;
    assert_eq!(
        flags["data"]["config.file"],
        f.config_file.display().to_string()
    );
    let (_, tsdb) = get_json(&format!("{base}/api/v1/status/tsdb")).await;
    let recorded = shape(&fixture("tsdb.json"));
    assert_eq!(
        shape(&tsdb)["data"]["headStats"],
        recorded["data"]["headStats"]
    );
    assert!(
        tsdb["data"]["seriesCountByMetricName"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["name"] == "up" && e["value"] == 1)
    );
    let (_, exemplars) = get_json(&format!("{base}/api/v1/query_exemplars?query=up")).await;
    assert_eq!(exemplars, fixture("exemplars.json"));
    let (_, formatted) = get_json(&format!(
        "{base}/api/v1/format_query?query=sum(rate(x[1m]))by(job)"
    ))
    .await;
    assert_eq!(formatted["status"], "success");

    for (url, expected) in [
        (
            format!("{base}/api/v1/series"),
            fixture("series_nomatch.json"),
        ),
        (
            format!("{base}/api/v1/series?match[]=up&start=2&end=1"),
            serde_json::json!({"status":"error","errorType":"bad_data","error":"invalid parameter \"end\": end timestamp must not be before start time"}),
        ),
        (
            format!("{base}/api/v1/labels?start=abc"),
            serde_json::json!({"status":"error","errorType":"bad_data","error":"invalid parameter \"start\": Invalid time value for 'start': cannot parse \"abc\" to a valid timestamp"}),
        ),
    ] {
        let (status, body) = get_json(&url).await;
        assert_eq!((status, body), (400, expected), "{url}");
    }

    let missing = reqwest::get(format!("{base}/api/v1/nope")).await.unwrap();
    assert_eq!(missing.status(), 404);
    assert_eq!(missing.text().await.unwrap(), "404 page not found\n");
    let healthy = reqwest::get(format!("{base}/-/healthy")).await.unwrap();
    assert_eq!(
        healthy.text().await.unwrap(),
        "Prometheus Server is Healthy.\n"
    );
    let ready = reqwest::get(format!("{base}/-/ready")).await.unwrap();
    assert_eq!(ready.status(), 200);
    let reload = reqwest::Client::new()
        .post(format!("{base}/-/reload"))
        .send()
        .await
        .unwrap();
    assert_eq!(reload.status(), 403, "lifecycle is off");
    let own = reqwest::get(format!("{base}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(own.contains("prometheus_tsdb_head_series "), "{own}");
    f.server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reload_applies_a_good_config_and_keeps_the_old_one_on_a_bad_one() {
    let f = start(true).await;
    let base = &f.base;
    let client = reqwest::Client::new();
    // A second job with the same target.
    std::fs::write(
        &f.config_file,
        format!("scrape_configs:\n  - job_name: fastapi\n    scrape_interval: 100ms\n    scrape_timeout: 100ms\n    static_configs:\n      - targets: ['{0}']\n  - job_name: second\n    scrape_interval: 100ms\n    scrape_timeout: 100ms\n    static_configs:\n      - targets: ['{0}']\n", f.target),
    )
    .unwrap();
    let response = client
        .post(format!("{base}/-/reload"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let (_, targets) = get_json(&format!("{base}/api/v1/targets")).await;
    assert_eq!(
        targets["data"]["activeTargets"].as_array().unwrap().len(),
        2
    );

    std::fs::write(
        &f.config_file,
        "scrape_configs:\n  - job_name: x\n    bogus: 1\n",
    )
    .unwrap();
    let response = client
        .post(format!("{base}/-/reload"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 500);
    let text = response.text().await.unwrap();
    assert!(
        text.contains("unknown field `bogus`") && text.contains("prometheus.yml:2:"),
        "{text}"
    );
    let (_, targets) = get_json(&format!("{base}/api/v1/targets")).await;
    assert_eq!(
        targets["data"]["activeTargets"].as_array().unwrap().len(),
        2,
        "old config still in force"
    );
    let (_, runtime) = get_json(&format!("{base}/api/v1/status/runtimeinfo")).await;
    assert_eq!(runtime["data"]["reloadConfigSuccess"], false);
    // The reload the binary does on SIGHUP goes the same way.
    assert!(f.server.reload().await.is_err());
    f.server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delayed_name_removal_reaches_the_engine_only_when_enabled() {
    let query = "label_replace(rate(up[1m]),%22name%22,%22$1%22,%22__name__%22,%22(.%2B)%22)";
    for delayed in [false, true] {
        let f = start_with(false, delayed).await;
        let (status, body) = get_json(&format!("{}/api/v1/query?query={query}", f.base)).await;
        assert_eq!(status, 200, "{body}");
        let metric = &body["data"]["result"][0]["metric"];
        assert_eq!(metric["job"], "fastapi", "{body}");
        let name = &metric["name"];
        if delayed {
            assert_eq!(name, "up", "{body}");
        } else {
            assert!(name.is_null(), "{body}");
        }
        let (_, flags) = get_json(&format!("{}/api/v1/status/flags", f.base)).await;
        let feature = if delayed {
            "promql-delayed-name-removal"
        } else {
            ""
        };
        assert_eq!(flags["data"]["enable-feature"], feature);
        f.server.shutdown().await.unwrap();
    }
}

#[tokio::test]
async fn an_invalid_config_stops_start_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let config_file = dir.path().join("prometheus.yml");
    std::fs::write(&config_file, "global:\n  scrape_interval: 15x\n").unwrap();
    let error = PrometheusServer::start(local_options(config_file.clone(), dir.path()))
        .await
        .err()
        .expect("start must fail");
    let text = error.to_string();
    assert!(
        text.starts_with(&format!("{}:2:", config_file.display())),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queries_answer_like_prometheus() {
    let f = start(false).await;
    let base = &f.base;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();

    let (status, vector) = get_json(&format!("{base}/api/v1/query?query=up&time={now}")).await;
    assert_eq!(status, 200);
    assert_eq!(shape(&vector), shape(&fixture("query_vector.json")));
    assert_eq!(vector["data"]["result"][0]["value"][1], "1");
    assert_eq!(vector["data"]["result"][0]["metric"]["job"], "fastapi");

    let (_, scalar) = get_json(&format!(
        "{base}/api/v1/query?query=1%2B1&time=1795533224.5"
    ))
    .await;
    assert_eq!(scalar["data"], fixture("query_scalar.json")["data"]);
    let (_, string) = get_json(&format!(
        "{base}/api/v1/query?query=%22hello%22&time=1795533224"
    ))
    .await;
    assert_eq!(string["data"], fixture("query_string.json")["data"]);

    let (start, end) = (now - 1.0, now);
    let (_, matrix) = get_json(&format!(
        "{base}/api/v1/query_range?query=up&start={start}&end={end}&step=0.2"
    ))
    .await;
    assert_eq!(shape(&matrix), shape(&fixture("query_range_post.json")));
    let values = matrix["data"]["result"][0]["values"].as_array().unwrap();
    assert!(values.len() >= 2, "{values:?}");
    assert!(values.iter().all(|v| v[1] == "1"), "{values:?}");
    let posted: Value = reqwest::Client::new()
        .post(format!("{base}/api/v1/query_range"))
        .form(&[
            ("query", "sum(http_requests_total)"),
            ("start", &start.to_string()),
            ("end", &end.to_string()),
            ("step", "1s"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(posted["data"]["result"][0]["values"][0][1], "3");
    let (_, empty) = get_json(&format!(
        "{base}/api/v1/query_range?query=nothing_here&start={start}&end={end}&step=1"
    ))
    .await;
    assert_eq!(empty, fixture("query_range_empty.json"));
    let (_, matrix_instant) = get_json(&format!("{base}/api/v1/query?query=up[1s]")).await;
    assert_eq!(matrix_instant["data"]["resultType"], "matrix");

    for (query, recorded) in [
        ("query?query=", "err_noquery.json"),
        ("query?query=up&timeout=1ns", "err_timeout.json"),
        (
            "query_range?query=up&start=10&end=5&step=1",
            "err_endbefore.json",
        ),
        (
            "query_range?query=up&start=0&end=5&step=0",
            "err_step0.json",
        ),
        (
            "query_range?query=up&start=0&end=100000&step=1",
            "err_points.json",
        ),
        ("query?query=up&time=abc", "err_badtime.json"),
    ] {
        let (status, body) = get_json(&format!("{base}/api/v1/{query}")).await;
        assert_eq!((status, &body), (400, &fixture(recorded)), "{query}");
    }
    // promql-parser reports no position: the message is Prometheus' but the
    // position is always 1:1 (recorded: 1:5).
    let (status, body) = get_json(&format!("{base}/api/v1/query?query=sum(up")).await;
    assert_eq!(status, 400);
    let recorded = fixture("err_parse.json");
    assert_eq!(
        body["error"].as_str().unwrap().replace("1:1:", "1:5:"),
        recorded["error"].as_str().unwrap()
    );
    // Two series that differ only by name collide once rate() drops it.
    let (status, body) = get_json(&format!(
        "{base}/api/v1/query?query=rate({{__name__=~%22up|scrape_samples_scraped%22}}[1m])"
    ))
    .await;
    assert_eq!((status, body), (422, fixture("err_exec.json")));
    f.server.shutdown().await.unwrap();
}

/// Runs promtool against the server; panics with its output on failure.
fn promtool(args: &[&str]) -> String {
    let output = std::process::Command::new("promtool")
        .args(args)
        .output()
        .expect("promtool not found: run ./test.sh, which installs Debian's prometheus package");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "promtool {args:?}: {stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn promtool_query_works_against_us() {
    let f = start(false).await;
    let base = f.base.clone();
    let target = f.target.clone();
    tokio::task::spawn_blocking(move || {
        let instant = promtool(&["query", "instant", &base, "up"]);
        assert_eq!(instant.lines().count(), 1, "{instant}");
        assert!(
            instant.starts_with(&format!(
                "up{{instance=\"{target}\", job=\"fastapi\"}} => 1 @["
            )),
            "{instant}"
        );
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let range = promtool(&[
            "query",
            "range",
            "--start",
            &(now - 60).to_string(),
            "--end",
            // Whole seconds: one more, so the first scrapes are inside.
            &(now + 1).to_string(),
            "--step",
            "1s",
            &base,
            "sum(up)",
        ]);
        assert!(range.starts_with("{} =>\n1 @["), "{range}");
        let series = promtool(&["query", "series", "--match", "up", &base]);
        assert_eq!(
            series.trim(),
            format!("{{__name__=\"up\", instance=\"{target}\", job=\"fastapi\"}}")
        );
        let labels = promtool(&["query", "labels", &base, "job"]);
        assert_eq!(labels.trim(), "fastapi");
    })
    .await
    .unwrap();
    f.server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scraped_samples_are_remote_written_to_another_server() {
    // B receives; A scrapes the target and forwards to B.
    let b = start(true).await;
    let target = target().await;
    let dir = tempfile::tempdir().unwrap();
    let config_file = dir.path().join("prometheus.yml");
    std::fs::write(
        &config_file,
        format!(
            "global:\n  external_labels:\n    replica: a\nscrape_configs:\n  - job_name: forwarded\n    scrape_interval: 100ms\n    scrape_timeout: 100ms\n    static_configs:\n      - targets: ['{target}']\nremote_write:\n  - url: {}/api/v1/write\n    queue_config:\n      batch_send_deadline: 100ms\n",
            b.base
        ),
    )
    .unwrap();
    let a = PrometheusServer::start(local_options(config_file, dir.path()))
        .await
        .unwrap();
    let url = format!("{}/api/v1/query?query=up{{job=%22forwarded%22}}", b.base);
    let mut found = Value::Null;
    for _ in 0..100 {
        let (_, body) = get_json(&url).await;
        if body["data"]["result"]
            .as_array()
            .is_some_and(|r| !r.is_empty())
        {
            found = body;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        found["data"]["result"][0]["metric"]["replica"], "a",
        "{found}"
    );
    assert_eq!(found["data"]["result"][0]["value"][1], "1");
    // A's receiver is off, as Prometheus' is by default.
    let refused = reqwest::Client::new()
        .post(format!("http://{}/api/v1/write", a.addr()))
        .body(Vec::new())
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 404);
    a.shutdown().await.unwrap();
    b.server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_query_past_its_timeout_answers_503_timeout() {
    let f = start(false).await;
    // 172,800 subquery steps: far more than a millisecond of work.
    let query = "max_over_time(vector(1)[2d:1s])";
    let (status, body) = get_json(&format!(
        "{}/api/v1/query?query={query}&timeout=1ms",
        f.base
    ))
    .await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["status"], "error");
    assert_eq!(body["errorType"], "timeout");
    assert_eq!(body["error"], "query timed out in expression evaluation");
    // Without the short timeout the same query succeeds.
    let (status, body) = get_json(&format!("{}/api/v1/query?query={query}", f.base)).await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = get_json(&format!("{}/api/v1/query?query=up&timeout=soon", f.base)).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn an_invalid_rule_file_stops_start_with_its_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let config_file = dir.path().join("prometheus.yml");
    std::fs::write(&config_file, "rule_files:\n  - rules.yml\n").unwrap();
    let rule_file = dir.path().join("rules.yml");
    std::fs::write(
        &rule_file,
        "groups:\n  - name: g\n    rules:\n      - record: a\n        expr: sum(\n",
    )
    .unwrap();
    let error = PrometheusServer::start(local_options(config_file.clone(), dir.path()))
        .await
        .err()
        .expect("start must fail");
    let text = error.to_string();
    assert!(
        text.starts_with(&format!("{}:5:15: ", rule_file.display()))
            && text.contains("could not parse expression"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_rule_file_fails_the_reload_and_keeps_the_old_config() {
    let f = start(true).await;
    let base = &f.base;
    let client = reqwest::Client::new();
    let rule_file = f.config_file.with_file_name("rules.yml");
    std::fs::write(
        &rule_file,
        "groups:\n  - name: g\n    rules:\n      - record: job:up:sum\n        expr: sum by (job) (up)\n",
    )
    .unwrap();
    let good = format!(
        "rule_files:\n  - rules.yml\nscrape_configs:\n  - job_name: fastapi\n    scrape_interval: 100ms\n    scrape_timeout: 100ms\n    static_configs:\n      - targets: ['{}']\n",
        f.target
    );
    std::fs::write(&f.config_file, &good).unwrap();
    let reload = || client.post(format!("{base}/-/reload")).send();
    assert_eq!(reload().await.unwrap().status(), 200);

    // A new job, and the rule file goes bad: the reload re-reads it and
    // refuses both.
    std::fs::write(
        &f.config_file,
        format!(
            "{good}  - job_name: second\n    static_configs:\n      - targets: ['{}']\n",
            f.target
        ),
    )
    .unwrap();
    std::fs::write(
        &rule_file,
        "groups:\n  - name: g\n    rules:\n      - record: job:up:sum\n        alert: Down\n        expr: up\n",
    )
    .unwrap();
    let response = reload().await.unwrap();
    assert_eq!(response.status(), 500);
    let text = response.text().await.unwrap();
    assert!(
        text.contains(&format!("{}:4:17: ", rule_file.display()))
            && text.contains("only one of 'record' and 'alert' must be set"),
        "{text}"
    );
    let (_, config) = get_json(&format!("{base}/api/v1/status/config")).await;
    assert_eq!(config["data"]["yaml"], good.as_str(), "old config in force");
    let (_, targets) = get_json(&format!("{base}/api/v1/targets")).await;
    assert_eq!(
        targets["data"]["activeTargets"].as_array().unwrap().len(),
        1
    );
    let (_, runtime) = get_json(&format!("{base}/api/v1/status/runtimeinfo")).await;
    assert_eq!(runtime["data"]["reloadConfigSuccess"], false);
    assert!(f.server.reload().await.is_err());
    f.server.shutdown().await.unwrap();
}

/// The instance labels of the active targets, sorted.
async fn active_instances(base: &str) -> Vec<String> {
    let (_, targets) = get_json(&format!("{base}/api/v1/targets")).await;
    let mut out: Vec<String> = targets["data"]["activeTargets"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t["labels"]["instance"].as_str().map(str::to_owned))
        .collect();
    out.sort();
    out
}

/// Polls the targets API until the active instances are `want` (or gives up
/// after 20 s, far past the 1 s the config asks for).
async fn wait_for_instances(base: &str, want: &[&str]) {
    let mut seen = Vec::new();
    for _ in 0..200 {
        seen = active_instances(base).await;
        if seen == want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("active targets {seen:?}, expected {want:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn target_files_are_followed_and_reread_every_refresh_interval() {
    let dir = tempfile::tempdir().unwrap();
    let config_file = dir.path().join("prometheus.yml");
    std::fs::write(
        &config_file,
        "scrape_configs:\n  - job_name: files\n    scrape_interval: 1h\n    file_sd_configs:\n      - files: ['targets.json']\n        refresh_interval: 1s\n",
    )
    .unwrap();
    let targets = dir.path().join("targets.json");
    let write = |address: &str| {
        std::fs::write(&targets, format!(r#"[{{"targets": ["{address}"]}}]"#)).unwrap();
    };
    write("127.0.0.1:1");
    let server = PrometheusServer::start(local_options(config_file, dir.path()))
        .await
        .unwrap();
    let base = format!("http://{}", server.addr());
    assert_eq!(active_instances(&base).await, ["127.0.0.1:1"]);
    // A change the file's stamps show is followed.
    write("127.0.0.1:22");
    wait_for_instances(&base, &["127.0.0.1:22"]).await;
    // A rewrite that keeps size and modification time is only seen by the
    // re-read every `refresh_interval` (1 s here; 5 m would time out).
    let mtime = std::fs::metadata(&targets).unwrap().modified().unwrap();
    write("127.0.0.1:33");
    std::fs::File::options()
        .write(true)
        .open(&targets)
        .unwrap()
        .set_modified(mtime)
        .unwrap();
    wait_for_instances(&base, &["127.0.0.1:33"]).await;
    server.shutdown().await.unwrap();
}
