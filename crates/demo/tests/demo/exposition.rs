//! `/metrics`: the same families as the real instrumentator, exact counts,
//! and output promtool accepts.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::process::{Command, Stdio};

use crate::support::{
    family_types, parse_samples, requests_by_label_set, scrape, start, url, value,
};

/// Families, label names and bucket bounds of an exposition, ignoring label
/// values other than `le` (the fixture app has other routes than ours).
fn shape(text: &str) -> BTreeMap<String, (String, BTreeSet<String>, BTreeSet<String>)> {
    let types = family_types(text);
    let mut shape: BTreeMap<String, (String, BTreeSet<String>, BTreeSet<String>)> = types
        .iter()
        .map(|(name, kind)| {
            (
                name.clone(),
                (kind.clone(), BTreeSet::new(), BTreeSet::new()),
            )
        })
        .collect();
    for sample in parse_samples(text) {
        let family = types
            .keys()
            .filter(|f| sample.name.starts_with(f.as_str()))
            .max_by_key(|f| f.len())
            .unwrap_or_else(|| panic!("sample {} has no family", sample.name))
            .clone();
        let entry = shape.get_mut(&family).unwrap();
        entry.1.extend(sample.labels.keys().cloned());
        entry.2.extend(sample.labels.get("le").cloned());
    }
    shape
}

#[tokio::test]
async fn families_match_the_recorded_instrumentator_output() {
    let recorded = std::fs::read_to_string(
        testkit::shared_dir().join("fixtures/instrumentator/metrics-text-1.0.0.txt"),
    )
    .expect("fixture missing: ../shared/fixtures/instrumentator");
    let (server, _dir) = start(|_| {}).await;
    let client = reqwest::Client::new();
    // Traffic that gives every family a child, like the recording's.
    client
        .get(url(&server, "/get_endpoint"))
        .send()
        .await
        .unwrap();
    client.get(url(&server, "/unknown")).send().await.unwrap();
    let ours = shape(&scrape(&server).await);
    let recorded = shape(&recorded);
    // The Python runtime's own families have no counterpart in a Rust app.
    let recorded: BTreeMap<_, _> = recorded
        .into_iter()
        .filter(|(name, _)| !name.starts_with("python_"))
        .collect();
    let ours: BTreeMap<_, _> = ours
        .into_iter()
        .filter(|(name, _)| !name.starts_with("demo_"))
        .collect();
    assert_eq!(ours, recorded);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn counters_equal_the_requests_made() {
    let (server, _dir) = start(|_| {}).await;
    let client = reqwest::Client::new();
    // A known mix: each test endpoint a different number of times, plus
    // unknown paths, wrong methods and health checks.
    let mut made: BTreeMap<(String, String, String), u64> = BTreeMap::new();
    let plan: [(&str, &str, usize); 7] = [
        ("GET", "/get_endpoint", 7),
        ("POST", "/post_endpoint", 5),
        ("PUT", "/put_endpoint", 3),
        ("DELETE", "/delete_endpoint", 2),
        ("GET", "/health", 4),
        ("GET", "/no/such/path", 3),
        ("POST", "/get_endpoint", 2),
    ];
    for (method, path, times) in plan {
        for _ in 0..times {
            let response = client
                .request(method.parse().unwrap(), url(&server, path))
                .send()
                .await
                .unwrap();
            let handler = if path.starts_with("/no/") {
                "none"
            } else {
                path
            };
            let status = format!("{}xx", response.status().as_u16() / 100);
            *made
                .entry((handler.to_owned(), method.to_owned(), status))
                .or_default() += 1;
        }
    }
    let samples = parse_samples(&scrape(&server).await);
    let counted = requests_by_label_set(&samples);
    assert_eq!(counted, made);
    let total: u64 = made.values().sum();
    assert_eq!(
        value(&samples, "http_request_duration_highr_seconds_count", &[]) as u64,
        total
    );
    assert_eq!(
        value(
            &samples,
            "http_request_duration_highr_seconds_bucket",
            &[("le", "+Inf")]
        ) as u64,
        total
    );
    for (handler, expected) in [
        ("/get_endpoint", 9),
        ("/post_endpoint", 5),
        ("none", 3),
        ("/health", 4),
    ] {
        assert_eq!(
            value(
                &samples,
                "http_request_size_bytes_count",
                &[("handler", handler)]
            ) as u64,
            expected
        );
        assert_eq!(
            value(
                &samples,
                "http_response_size_bytes_count",
                &[("handler", handler)]
            ) as u64,
            expected
        );
    }
    assert_eq!(
        value(
            &samples,
            "http_request_duration_seconds_count",
            &[("handler", "/get_endpoint"), ("method", "POST")]
        ) as u64,
        2
    );
    // The body `{"message":"GET endpoint test response"}` is 40 bytes.
    assert_eq!(
        value(
            &samples,
            "http_response_size_bytes_sum",
            &[("handler", "/get_endpoint")]
        ) as u64,
        7 * 40 + 2 * 31
    );
    // The scrape that produced these samples is counted from the next one on.
    let samples = parse_samples(&scrape(&server).await);
    assert_eq!(
        value(&samples, "http_requests_total", &[("handler", "/metrics")]),
        1.0
    );
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn request_size_comes_from_content_length() {
    let (server, _dir) = start(|_| {}).await;
    let client = reqwest::Client::new();
    client
        .post(url(&server, "/post_endpoint"))
        .body("0123456789")
        .send()
        .await
        .unwrap();
    client
        .post(url(&server, "/post_endpoint"))
        .body("abc")
        .send()
        .await
        .unwrap();
    let samples = parse_samples(&scrape(&server).await);
    assert_eq!(
        value(
            &samples,
            "http_request_size_bytes_sum",
            &[("handler", "/post_endpoint")]
        ),
        13.0
    );
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn promtool_check_metrics_finds_no_problem() {
    let (server, _dir) = start(|_| {}).await;
    for path in ["/get_endpoint", "/health", "/nope"] {
        reqwest::get(url(&server, path)).await.unwrap();
    }
    let text = scrape(&server).await;
    let mut promtool = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool not found: run ./test.sh, which installs Debian's prometheus package");
    promtool
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let output = promtool.wait_with_output().unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success() && said.trim().is_empty(),
        "promtool says:\n{said}\non:\n{text}"
    );
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn content_types_follow_the_accept_header() {
    let (server, _dir) = start(|_| {}).await;
    let client = reqwest::Client::new();
    let text = client.get(url(&server, "/metrics")).send().await.unwrap();
    assert_eq!(
        text.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let prometheus_accept = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
    let om = client
        .get(url(&server, "/metrics"))
        .header("accept", prometheus_accept)
        .send()
        .await
        .unwrap();
    assert_eq!(
        om.headers()["content-type"],
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    );
    let body = om.text().await.unwrap();
    assert!(body.ends_with("# EOF\n"));
    assert!(body.contains("# TYPE http_requests counter\n"));
    assert!(
        body.contains("http_requests_created{handler=\"/metrics\",method=\"GET\",status=\"2xx\"} ")
    );
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn without_the_layer_there_is_no_metrics_route() {
    let (server, _dir) = start(|c| c.metrics = false).await;
    assert_eq!(
        reqwest::get(url(&server, "/metrics"))
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(
        reqwest::get(url(&server, "/health"))
            .await
            .unwrap()
            .status(),
        200
    );
    server.shutdown().await.unwrap();
}
