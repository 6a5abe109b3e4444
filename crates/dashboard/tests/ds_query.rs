//! `/api/ds/query` against stub datasources answering recorded Prometheus
//! and Loki bodies, and against the real Prometheus.

mod common;

use common::{Server, Stub, datasource, loki_fixture, prometheus_fixture};
use dashboard::auth::SecurityOptions;
use serde_json::{Value, json};

/// 2026-11-24T15:13:44Z, 1 h range.
const TO: i64 = 1_795_533_224_500;
const FROM: i64 = TO - 3_600_000;

async fn server_with(list: Vec<dashboard::datasource::Datasource>) -> (Server, String) {
    let server = Server::start(SecurityOptions::default()).await;
    server.provision(list);
    let cookie = server.session("admin", "admin").await;
    (server, cookie)
}

fn request(queries: Value) -> Value {
    json!({"from": FROM.to_string(), "to": TO.to_string(), "queries": queries})
}

fn field_names(frame: &Value) -> Vec<String> {
    frame["schema"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_range_query_answers_one_frame_per_series_with_grafanas_step() {
    let prom = Stub::start(vec![(
        "/api/v1/query_range",
        200,
        prometheus_fixture("query_range.json"),
    )])
    .await;
    let (server, cookie) = server_with(vec![datasource("prom", "prometheus", &prom.url())]).await;
    let (status, body) = server
        .post_json(
            "/api/ds/query",
            &cookie,
            request(json!([{
                "refId": "A", "datasource": {"type": "prometheus", "uid": "prom"},
                "expr": "up", "range": true, "instant": false, "intervalMs": 15000,
                "maxDataPoints": 1200, "legendFormat": "{{job}}"
            }])),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let a = &body["results"]["A"];
    assert_eq!(a["status"], 200);
    let frames = a["frames"].as_array().unwrap();
    assert_eq!(frames.len(), 3);
    let f = &frames[2];
    assert_eq!(field_names(f), ["Time", "Value"]);
    assert_eq!(f["schema"]["refId"], "A");
    assert_eq!(f["schema"]["meta"]["type"], "timeseries-multi");
    assert_eq!(
        f["schema"]["meta"]["executedQueryString"],
        "Expr: up\nStep: 15s"
    );
    assert_eq!(
        f["schema"]["fields"][1]["labels"],
        json!({"job": "prometheus"})
    );
    assert_eq!(
        f["schema"]["fields"][1]["config"]["displayNameFromDS"],
        "prometheus"
    );
    assert_eq!(f["schema"]["fields"][0]["type"], "time");
    assert_eq!(
        f["data"]["values"][0],
        json!([
            1795533179000_i64,
            1795533194000_i64,
            1795533209000_i64,
            1795533224000_i64
        ])
    );
    assert_eq!(f["data"]["values"][1], json!([1.0, 1.0, 1.0, 1.0]));

    // Start and end floored to the 15 s step, sent as a POST form.
    let r = &prom.requests()[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.param("query").as_deref(), Some("up"));
    assert_eq!(r.param("start").as_deref(), Some("1795529610"));
    assert_eq!(r.param("end").as_deref(), Some("1795533210"));
    assert_eq!(r.param("step").as_deref(), Some("15"));
}

#[tokio::test]
async fn the_step_follows_the_datasource_and_the_safe_resolution() {
    let prom = Stub::start(vec![(
        "/api/v1/query_range",
        200,
        prometheus_fixture("query_range_empty.json"),
    )])
    .await;
    let mut ds = datasource("prom", "prometheus", &prom.url());
    ds.json_data.insert("timeInterval".into(), json!("1m"));
    ds.json_data.insert("httpMethod".into(), json!("GET"));
    let (server, cookie) = server_with(vec![ds]).await;
    // (from, intervalMs, step the datasource gets)
    let cases = [
        (FROM, 0, "60"),                          // the datasource's timeInterval
        (FROM, 20_000, "20"),                     // the UI's interval
        (TO - 30 * 24 * 3_600_000, 1_000, "300"), // 30 d / 11000 -> 5m
    ];
    for (i, (from, interval_ms, step)) in cases.into_iter().enumerate() {
        let (status, body) = server
            .post_json(
                "/api/ds/query",
                &cookie,
                json!({"from": from.to_string(), "to": TO.to_string(), "queries": [{
                    "refId": "A", "datasource": {"uid": "prom"}, "expr": "up",
                    "intervalMs": interval_ms, "maxDataPoints": 50000
                }]}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["results"]["A"]["frames"], json!([]));
        let r = &prom.requests()[i];
        assert_eq!(r.method, "GET");
        assert_eq!(r.param("step").as_deref(), Some(step), "case {i}");
    }
}

#[tokio::test]
async fn built_in_variables_left_in_an_expression_are_filled_with_the_step() {
    let prom = Stub::start(vec![(
        "/api/v1/query_range",
        200,
        prometheus_fixture("query_range_empty.json"),
    )])
    .await;
    let mut ds = datasource("prom", "prometheus", &prom.url());
    ds.json_data.insert("timeInterval".into(), json!("15s"));
    let (server, cookie) = server_with(vec![ds]).await;
    let expr = "sum(rate(x[$__rate_interval])) / ${__interval_ms} + increase(y[$__range]) + z[$__interval]";
    let (status, body) = server
        .post_json(
            "/api/ds/query",
            &cookie,
            request(json!([{
                "refId": "A", "datasource": {"uid": "prom"}, "expr": expr,
                "intervalMs": 30000, "maxDataPoints": 1200
            }])),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    // Step 30 s; rate interval max(30 s + 15 s, 4 x 15 s) = 1m0s (a Go
    // duration, as Grafana writes it); range 1 h.
    let want = "sum(rate(x[1m0s])) / 30000 + increase(y[3600s]) + z[30s]";
    assert_eq!(prom.requests()[0].param("query").as_deref(), Some(want));
}

#[tokio::test]
async fn an_instant_query_answers_one_row_frames() {
    let prom = Stub::start(vec![
        (
            "/api/v1/query",
            200,
            prometheus_fixture("query_vector.json"),
        ),
        (
            "/api/v1/query_range",
            200,
            prometheus_fixture("query_range.json"),
        ),
    ])
    .await;
    let (server, cookie) = server_with(vec![datasource("prom", "prometheus", &prom.url())]).await;
    let (status, body) = server
        .post_json(
            "/api/ds/query",
            &cookie,
            request(json!([
                {"refId": "I", "datasource": {"uid": "prom"}, "expr": "up", "instant": true, "range": false},
                {"refId": "B", "datasource": {"uid": "prom"}, "expr": "up", "instant": true, "range": true},
            ])),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let frames = body["results"]["I"]["frames"].as_array().unwrap();
    assert_eq!(frames.len(), 1);
    assert_eq!(frames[0]["schema"]["meta"]["type"], "numeric-multi");
    assert_eq!(
        frames[0]["data"]["values"],
        json!([[1795533224000_i64], [1.0]])
    );
    assert_eq!(
        frames[0]["schema"]["fields"][1]["labels"]["instance"],
        "127.0.0.1:19090"
    );
    // Both: the range frames then the instant ones.
    assert_eq!(body["results"]["B"]["frames"].as_array().unwrap().len(), 4);
    let instant = prom
        .requests()
        .into_iter()
        .find(|r| r.path == "/api/v1/query")
        .unwrap();
    assert_eq!(instant.param("time").as_deref(), Some("1795533224.5"));
}

#[tokio::test]
async fn a_loki_log_query_answers_one_log_lines_frame() {
    let (status, streams) = loki_fixture("query_range_streams.txt");
    let loki = Stub::start(vec![("/loki/api/v1/query_range", status, streams)]).await;
    let mut ds = datasource("loki", "loki", &loki.url());
    ds.json_data.insert("maxLines".into(), json!("500"));
    let (server, cookie) = server_with(vec![ds]).await;
    let (status, body) = server
        .post_json(
            "/api/ds/query",
            &cookie,
            request(json!([{
                "refId": "L", "datasource": {"type": "loki", "uid": "loki"},
                "expr": "{job=\"demo\"}", "queryType": "range", "intervalMs": 2000
            }])),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let frames = body["results"]["L"]["frames"].as_array().unwrap();
    assert_eq!(frames.len(), 1);
    let f = &frames[0];
    assert_eq!(field_names(f), ["labels", "Time", "Line", "tsNs", "id"]);
    assert_eq!(f["schema"]["meta"]["type"], "log-lines");
    assert_eq!(
        f["schema"]["meta"]["custom"]["frameType"],
        "LabeledTimeValues"
    );
    assert_eq!(
        f["schema"]["meta"]["executedQueryString"],
        "Expr: {job=\"demo\"}"
    );
    let values = &f["data"]["values"];
    assert_eq!(values[0][0]["job"], "demo");
    assert_eq!(values[1][0], json!(1795533333245_i64));
    assert_eq!(
        values[2][0],
        "level=info msg=\"hello two\" dur=150ms size=20KB"
    );
    assert_eq!(values[3][0], "1795533333245317669");
    assert!(
        values[4][0]
            .as_str()
            .unwrap()
            .starts_with("1795533333245317669_")
    );

    let r = &loki.requests()[0];
    assert_eq!(r.method, "GET");
    assert_eq!(r.param("limit").as_deref(), Some("500"));
    assert_eq!(r.param("direction").as_deref(), Some("backward"));
    assert_eq!(r.param("start").as_deref(), Some("1795529624500000000"));
    assert_eq!(r.param("end").as_deref(), Some("1795533224500000000"));
    assert_eq!(r.param("step").as_deref(), Some("2"));
}

#[tokio::test]
async fn a_loki_metric_query_answers_time_series() {
    let (status, matrix) = loki_fixture("query_range_matrix.txt");
    let loki = Stub::start(vec![("/loki/api/v1/query_range", status, matrix)]).await;
    let (server, cookie) = server_with(vec![datasource("loki", "loki", &loki.url())]).await;
    let (status, body) = server
        .post_json(
            "/api/ds/query",
            &cookie,
            request(json!([{
                "refId": "M", "datasource": {"uid": "loki"}, "maxLines": 20,
                "expr": "sum by (level) (count_over_time({job=\"demo\"}[1m]))",
                "legendFormat": "{{level}}", "direction": "forward"
            }])),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let frames = body["results"]["M"]["frames"].as_array().unwrap();
    assert_eq!(frames.len(), 3);
    assert_eq!(frames[0]["schema"]["meta"]["type"], "timeseries-multi");
    assert_eq!(
        frames[0]["schema"]["fields"][1]["config"]["displayNameFromDS"],
        "error"
    );
    let r = &loki.requests()[0];
    assert_eq!(r.param("limit").as_deref(), Some("20"));
    assert_eq!(r.param("direction").as_deref(), Some("forward"));
}

#[tokio::test]
async fn datasource_errors_become_per_query_errors() {
    let prom = Stub::start(vec![(
        "/api/v1/query_range",
        400,
        prometheus_fixture("err_parse.json"),
    )])
    .await;
    let (status, bad) = loki_fixture("bad_query.txt");
    let loki = Stub::start(vec![("/loki/api/v1/query_range", status, bad)]).await;
    let (server, cookie) = server_with(vec![
        datasource("prom", "prometheus", &prom.url()),
        datasource("loki", "loki", &loki.url()),
    ])
    .await;
    let (status, body) = server
        .post_json(
            "/api/ds/query",
            &cookie,
            request(json!([
                {"refId": "A", "datasource": {"uid": "prom"}, "expr": "sum(up"},
                {"refId": "B", "datasource": {"uid": "loki"}, "expr": "{job="},
                {"refId": "C", "datasource": {"uid": "gone"}, "expr": "up"},
            ])),
        )
        .await;
    assert_eq!(status, 207, "{body}");
    let results = &body["results"];
    assert_eq!(results["A"]["status"], 400);
    assert_eq!(
        results["A"]["error"],
        "invalid parameter \"query\": 1:5: parse error: unclosed left parenthesis"
    );
    assert_eq!(results["B"]["status"], 400);
    assert_eq!(
        results["B"]["error"],
        "parse error at line 1, col 12: syntax error: unexpected $end, expecting } or ,"
    );
    assert_eq!(results["C"]["status"], 404);
    assert!(results["C"]["error"].as_str().unwrap().contains("gone"));
}

#[tokio::test]
async fn mixed_datasources_run_in_one_request() {
    let prom = Stub::start(vec![(
        "/api/v1/query_range",
        200,
        prometheus_fixture("query_range.json"),
    )])
    .await;
    let (status, streams) = loki_fixture("query_range_streams.txt");
    let loki = Stub::start(vec![("/loki/api/v1/query_range", status, streams)]).await;
    let mut p = datasource("prom", "prometheus", &prom.url());
    p.is_default = true;
    let (server, cookie) = server_with(vec![p, datasource("loki", "loki", &loki.url())]).await;
    let (status, body) = server
        .post_json(
            "/api/ds/query",
            &cookie,
            request(json!([
                {"refId": "A", "expr": "up"},
                {"refId": "B", "datasource": "LOKI", "expr": "{job=\"demo\"}"},
                {"refId": "C", "datasource": {"type": "datasource", "uid": "-- Mixed --"}, "expr": "up"},
                {"refId": "D", "datasource": {"uid": "prom"}, "expr": "up", "hide": true},
            ])),
        )
        .await;
    assert_eq!(status, 207, "{body}");
    let results = body["results"].as_object().unwrap();
    assert_eq!(results.len(), 3, "{body}");
    assert_eq!(results["A"]["frames"].as_array().unwrap().len(), 3);
    assert_eq!(
        results["B"]["frames"][0]["schema"]["meta"]["type"],
        "log-lines"
    );
    assert_eq!(results["C"]["status"], 400);
    assert_eq!(prom.requests().len(), 1);
}

#[tokio::test]
async fn bad_requests_get_400() {
    let (server, cookie) =
        server_with(vec![datasource("prom", "prometheus", "http://127.0.0.1:9")]).await;
    for body in [
        json!({"from": "1", "to": "2", "queries": []}),
        json!({"from": "1", "to": "2"}),
        json!({"from": "yesterday", "to": "2", "queries": [{"refId": "A", "expr": "up"}]}),
        json!({"from": "5", "to": "2", "queries": [{"refId": "A", "expr": "up"}]}),
        json!({"from": "1", "to": "2", "queries": ["up"]}),
    ] {
        let (status, answer) = server
            .post_json("/api/ds/query", &cookie, body.clone())
            .await;
        assert_eq!(status, 400, "{body}");
        assert!(answer["message"].is_string(), "{answer}");
    }
    let response = server
        .client
        .post(server.url("/api/ds/query"))
        .header("cookie", &cookie)
        .body("not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
}

#[tokio::test]
async fn relative_times_are_accepted() {
    let prom = Stub::start(vec![(
        "/api/v1/query_range",
        200,
        prometheus_fixture("query_range_empty.json"),
    )])
    .await;
    let (server, cookie) = server_with(vec![datasource("prom", "prometheus", &prom.url())]).await;
    let (status, body) = server
        .post_json(
            "/api/ds/query",
            &cookie,
            json!({"from": "now-1h", "to": "now", "queries": [{"refId": "A", "expr": "up", "intervalMs": 15000}]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let r = &prom.requests()[0];
    let start: i64 = r.param("start").unwrap().parse().unwrap();
    let end: i64 = r.param("end").unwrap().parse().unwrap();
    assert!((3585..=3600).contains(&(end - start)), "{start} {end}");
}

#[tokio::test]
async fn the_real_prometheus_as_a_datasource() {
    let found = std::process::Command::new("prometheus")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        println!("skipped: no prometheus binary on the PATH (./test.sh installs Debian's package)");
        return;
    }
    let prometheus = tokio::task::spawn_blocking(testkit::RealPrometheus::start)
        .await
        .unwrap();
    let mut ds = datasource("real", "prometheus", &prometheus.base_url());
    ds.json_data.insert("timeInterval".into(), json!("15s"));
    let (server, cookie) = server_with(vec![ds]).await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let (status, body) = server
        .post_json(
            "/api/ds/query",
            &cookie,
            json!({"from": (now - 600_000).to_string(), "to": now.to_string(), "queries": [
                {"refId": "A", "datasource": {"uid": "real"}, "expr": "vector(1) * 2",
                 "range": true, "instant": true, "intervalMs": 30000, "maxDataPoints": 100,
                 "legendFormat": "two"},
                {"refId": "B", "datasource": {"uid": "real"}, "expr": "sum(rate(x[1m]"},
            ]}),
        )
        .await;
    assert_eq!(status, 207, "{body}");
    let frames = body["results"]["A"]["frames"].as_array().unwrap();
    assert_eq!(frames.len(), 2, "{body}");
    let range = &frames[0];
    assert_eq!(
        range["schema"]["meta"]["executedQueryString"],
        "Expr: vector(1) * 2\nStep: 30s"
    );
    let values = range["data"]["values"][1].as_array().unwrap();
    assert!((20..=21).contains(&values.len()), "{}", values.len());
    assert!(values.iter().all(|v| v == &json!(2.0)));
    let times = range["data"]["values"][0].as_array().unwrap();
    assert!(
        times.iter().all(|t| t.as_i64().unwrap() % 30_000 == 0),
        "aligned to the step"
    );
    assert_eq!(
        range["schema"]["fields"][1]["config"]["displayNameFromDS"],
        "two"
    );
    assert_eq!(frames[1]["schema"]["meta"]["type"], "numeric-multi");
    assert_eq!(body["results"]["B"]["status"], 400);
    assert!(
        body["results"]["B"]["error"]
            .as_str()
            .unwrap()
            .contains("parse error"),
        "{body}"
    );
    // The proxy reaches it too.
    let (status, answer) = server
        .get(
            "/api/datasources/proxy/uid/real/api/v1/status/buildinfo",
            Some(&cookie),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    assert!(answer.contains("\"version\""));
    drop(prometheus);
}

#[tokio::test]
async fn the_datasources_warnings_become_frame_notices() {
    let body = r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1795533224,"NaN"]}]},"warnings":["PromQL info: metric might not be a counter"]}"#;
    let prom = Stub::start(vec![("/api/v1/query", 200, body.to_owned())]).await;
    let (server, cookie) = server_with(vec![datasource("prom", "prometheus", &prom.url())]).await;
    let (status, body) = server
        .post_json(
            "/api/ds/query",
            &cookie,
            request(json!([{"refId": "A", "expr": "rate(x[1m])", "instant": true}])),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let frame = &body["results"]["A"]["frames"][0];
    assert_eq!(
        frame["schema"]["meta"]["notices"],
        json!([{"severity": "warning", "text": "PromQL info: metric might not be a counter"}])
    );
    assert_eq!(frame["data"]["values"][1], json!([null]));
    assert_eq!(frame["data"]["entities"], json!([null, {"NaN": [0]}]));
}
