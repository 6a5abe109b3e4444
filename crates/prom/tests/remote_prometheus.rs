//! Remote write against the real Prometheus (Debian's 2.42, with its receiver on): our
//! sender delivers to it, and our receiver answers the status codes it answers.
//!
//! Fails when no `prometheus` binary is on the PATH: `./test.sh` installs
//! Debian's package, and a skipped test would pass silently.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use instrument::Registry;
use model::Labels;
use prom::remote::{RemoteMetrics, RemoteWriter, proto, receive, status_and_message};
use tsdb::{Options, Tsdb};

/// The samples Prometheus holds for `selector` over the last `range`.
async fn query(addr: SocketAddr, selector: &str) -> Vec<(i64, f64)> {
    let text = reqwest::Client::new()
        .get(format!("http://{addr}/api/v1/query"))
        .query(&[("query", selector)])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let body: serde_json::Value = serde_json::from_str(&text).unwrap();
    let Some(result) = body["data"]["result"].as_array() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for series in result {
        for point in series["values"].as_array().into_iter().flatten() {
            let t = point[0].as_f64().unwrap();
            let v: f64 = point[1].as_str().unwrap().parse().unwrap();
            out.push(((t * 1000.0).round() as i64, v));
        }
    }
    out
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sender_delivers_to_prometheus() {
    let prometheus = testkit::RealPrometheus::start();
    let dir = tempfile::tempdir().unwrap();
    let config: prom::config::RemoteWriteConfig = yaml_serde::from_str(&format!(
        "url: http://{}/api/v1/write\nqueue_config:\n  max_samples_per_send: 25\n  batch_send_deadline: 20ms\n  min_shards: 2\n",
        prometheus.addr()
    ))
    .unwrap();
    let registry = Registry::new();
    let metrics = RemoteMetrics::register(&registry).unwrap();
    let external = BTreeMap::from([("origin".to_owned(), "vigil".to_owned())]);
    let writer = RemoteWriter::start(&config, &external, dir.path(), &metrics).unwrap();
    let base = now_ms() - 300_000;
    for i in 0..100 {
        let labels = Labels::from_pairs([
            ("__name__", "rw_test"),
            ("n", if i % 2 == 0 { "even" } else { "odd" }),
        ]);
        writer
            .enqueue(&[(labels, base + i * 1_000, i as f64)])
            .unwrap();
    }
    let start = Instant::now();
    let selector = r#"rw_test{origin="vigil"}[10m]"#;
    let mut got = query(prometheus.addr(), selector).await;
    while got.len() < 100 && start.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(50)).await;
        got = query(prometheus.addr(), selector).await;
    }
    got.sort_by_key(|p| p.0);
    let expected: Vec<(i64, f64)> = (0..100).map(|i| (base + i * 1_000, i as f64)).collect();
    assert_eq!(got, expected);

    // Prometheus answers 400 to an out-of-order sample: dropped, counted.
    let late = Labels::from_pairs([("__name__", "rw_test"), ("n", "even")]);
    writer.enqueue(&[(late, base - 1_000, -1.0)]).unwrap();
    let failed = || {
        registry
            .gather()
            .iter()
            .filter(|f| f.name == "prometheus_remote_storage_samples_failed_total")
            .flat_map(|f| f.metrics.iter())
            .map(|m| m.value.clone())
            .collect::<Vec<_>>()
    };
    let start = Instant::now();
    while failed() != [instrument::MetricValue::Single(1.0)] {
        assert!(start.elapsed() < Duration::from_secs(10), "{:?}", failed());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    writer.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receiver_answers_the_status_codes_of_prometheus() {
    let prometheus = testkit::RealPrometheus::start();
    let dir = tempfile::tempdir().unwrap();
    let db = Tsdb::open(dir.path(), Options::default()).unwrap();
    let t = now_ms() - 60_000;
    let request = |name: &str, samples: &[(i64, f64)]| {
        let mut series = proto::TimeSeries::new(&Labels::from_pairs([("__name__", name)]));
        series.samples = samples
            .iter()
            .map(|&(timestamp, value)| proto::Sample { value, timestamp })
            .collect();
        proto::encode(&proto::WriteRequest {
            timeseries: vec![series],
            metadata: vec![],
        })
    };
    let not_protobuf = snap::raw::Encoder::new()
        .compress_vec(&[0x0a, 100, 1])
        .unwrap();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("valid", request("a", &[(t, 1.0), (t + 1_000, 2.0)])),
        ("identical again", request("a", &[(t + 1_000, 2.0)])),
        ("out of order", request("a", &[(t - 5_000, 0.5)])),
        ("duplicate timestamp", request("a", &[(t + 1_000, 7.0)])),
        ("not snappy", b"\xff\xff\xff\xffgarbage".to_vec()),
        ("not a WriteRequest", not_protobuf),
        // Not compared: samples more than 10 minutes ahead, which 2.42
        // stores and Prometheus 3 (like us) refuses with 400; nor
        // Content-Type checks, which 2.42 does not make.
    ];
    let client = reqwest::Client::new();
    for (what, body) in cases {
        let theirs = client
            .post(format!("http://{}/api/v1/write", prometheus.addr()))
            .header("Content-Type", "application/x-protobuf")
            .header("Content-Encoding", "snappy")
            .body(body.clone())
            .send()
            .await
            .unwrap()
            .status()
            .as_u16();
        let ours = match receive(&db, Some("application/x-protobuf"), Some("snappy"), &body) {
            Ok(_) => 204,
            Err(e) => status_and_message(&e).0.as_u16(),
        };
        assert_eq!(ours, theirs, "{what}");
    }
}
