//! The remote-write sender end to end: writer → HTTP on loopback → our receiver → TSDB.

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use instrument::{MetricValue, Registry};
use model::Labels;
use prom::config::RemoteWriteConfig;
use prom::remote::{RemoteMetrics, RemoteWriter, proto, respond};
use tsdb::{Options, Queryable, Tsdb};

/// The receiving side: a TSDB behind our handler, with scripted answers
/// given before the real ones.
struct Receiver {
    db: Tsdb,
    /// Statuses to answer first; 1429 stands for 429 with `Retry-After: 1`.
    script: Mutex<VecDeque<u16>>,
    /// When each request came, and its headers.
    requests: Mutex<Vec<(Instant, HeaderMap)>>,
    /// Samples in the requests our receiver accepted: counts a sample sent
    /// twice twice, which the TSDB (ignoring identical samples) would not.
    accepted: AtomicUsize,
}

async fn write(State(receiver): State<Arc<Receiver>>, headers: HeaderMap, body: Bytes) -> Response {
    receiver
        .requests
        .lock()
        .unwrap()
        .push((Instant::now(), headers.clone()));
    let scripted = receiver.script.lock().unwrap().pop_front();
    match scripted {
        Some(1429) => {
            return (StatusCode::TOO_MANY_REQUESTS, [("Retry-After", "1")]).into_response();
        }
        Some(status) => return StatusCode::from_u16(status).unwrap().into_response(),
        None => {}
    }
    let receiver = receiver.clone();
    tokio::task::spawn_blocking(move || {
        let response = respond(&receiver.db, &headers, &body);
        if response.status() == StatusCode::NO_CONTENT {
            let request = proto::decode(&body).unwrap();
            let samples = request.timeseries.iter().map(|s| s.samples.len()).sum();
            receiver.accepted.fetch_add(samples, Ordering::SeqCst);
        }
        response
    })
    .await
    .unwrap()
}

/// Serves `receiver` on `addr` (port 0 for any) until the test ends.
async fn serve(receiver: Arc<Receiver>, addr: SocketAddr) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
    let bound = listener.local_addr().unwrap();
    let app = Router::new()
        .route("/api/v1/write", post(write))
        .with_state(receiver);
    tokio::spawn(async move { axum::serve(listener, app).await });
    bound
}

fn receiver(dir: &Path, script: &[u16]) -> Arc<Receiver> {
    Arc::new(Receiver {
        db: Tsdb::open(dir, Options::default()).unwrap(),
        script: Mutex::new(script.iter().copied().collect()),
        requests: Mutex::new(Vec::new()),
        accepted: AtomicUsize::new(0),
    })
}

fn config(addr: SocketAddr, extra: &str) -> RemoteWriteConfig {
    let yaml = format!(
        "url: http://{addr}/api/v1/write\nname: test\nremote_timeout: 2s\nqueue_config:\n  max_samples_per_send: 50\n  batch_send_deadline: 20ms\n  min_backoff: 10ms\n  max_backoff: 40ms\n{extra}"
    );
    yaml_serde::from_str(&yaml).unwrap()
}

fn stored(db: &Tsdb) -> BTreeMap<Labels, Vec<(i64, f64)>> {
    let querier = db.querier(0, i64::MAX / 2).unwrap();
    querier
        .select(&[])
        .unwrap()
        .iter()
        .map(|s| (s.labels().clone(), s.samples().collect()))
        .collect()
}

fn stored_count(db: &Tsdb) -> usize {
    stored(db).values().map(Vec::len).sum()
}

/// The value of the `test` queue's series of `family`.
fn metric(registry: &Registry, family: &str) -> f64 {
    for snapshot in registry.gather() {
        if snapshot.name == family {
            for m in &snapshot.metrics {
                if let MetricValue::Single(v) = m.value {
                    return v;
                }
            }
        }
    }
    0.0
}

/// Polls `done` every 20ms for at most ten seconds.
async fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_sample_arrives_once_and_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let rx = receiver(&dir.path().join("rx"), &[]);
    let addr = serve(rx.clone(), "127.0.0.1:0".parse().unwrap()).await;
    let registry = Registry::new();
    let metrics = RemoteMetrics::register(&registry).unwrap();
    let extra = "  min_shards: 3\nbasic_auth:\n  username: u\n  password: p\nheaders:\n  X-Scope-OrgID: tenant\nwrite_relabel_configs:\n  - source_labels: [__name__]\n    regex: dropped\n    action: drop\n";
    let external = BTreeMap::from([
        ("cluster".to_owned(), "eu".to_owned()),
        ("job".to_owned(), "overridden-not".to_owned()),
    ]);
    let writer =
        RemoteWriter::start(&config(addr, extra), &external, dir.path(), &metrics).unwrap();

    let base = now_ms() - 600_000;
    let names = ["a", "b", "c", "d", "dropped"];
    for step in 0..40 {
        // Each commit holds five samples of every series, as a scrape would.
        let mut batch = Vec::new();
        for i in 0..5 {
            let t = base + (step * 5 + i) * 1_000;
            for name in names {
                let labels = Labels::from_pairs([("__name__", name), ("job", "j")]);
                batch.push((labels, t, (step * 5 + i) as f64));
            }
        }
        writer.enqueue(&batch).unwrap();
    }
    eventually("800 samples", || stored_count(&rx.db) >= 800).await;
    eventually("the sent counter", || {
        metric(&registry, "prometheus_remote_storage_samples_total") == 800.0
    })
    .await;
    let all = stored(&rx.db);
    assert_eq!(all.len(), 4, "{:?}", all.keys().collect::<Vec<_>>());
    for (labels, samples) in &all {
        assert_eq!(labels.get("cluster"), Some("eu"));
        assert_eq!(
            labels.get("job"),
            Some("j"),
            "external labels never override"
        );
        let expected: Vec<(i64, f64)> = (0..200).map(|k| (base + k * 1_000, k as f64)).collect();
        assert_eq!(samples, &expected, "{labels}");
    }
    assert_eq!(
        metric(&registry, "prometheus_remote_storage_samples_dropped_total"),
        200.0
    );
    assert_eq!(
        metric(&registry, "prometheus_remote_storage_samples_failed_total"),
        0.0
    );
    assert_eq!(
        rx.accepted.load(Ordering::SeqCst),
        800,
        "each sample sent once"
    );
    let highest = metric(
        &registry,
        "prometheus_remote_storage_queue_highest_sent_timestamp_seconds",
    );
    assert_eq!(highest, (base + 199_000) as f64 / 1000.0);
    let requests = rx.requests.lock().unwrap().clone();
    assert!(requests.len() >= 16, "batches of at most 50 samples");
    for (_, headers) in requests.iter() {
        assert_eq!(headers["content-encoding"], "snappy");
        assert_eq!(headers["content-type"], "application/x-protobuf");
        assert_eq!(headers["x-prometheus-remote-write-version"], "0.1.0");
        assert_eq!(headers["x-scope-orgid"], "tenant");
        assert_eq!(headers["authorization"], "Basic dTpw");
    }
    writer.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_and_429_are_retried_then_delivered() {
    let dir = tempfile::tempdir().unwrap();
    let rx = receiver(&dir.path().join("rx"), &[500, 503, 429]);
    let addr = serve(rx.clone(), "127.0.0.1:0".parse().unwrap()).await;
    let registry = Registry::new();
    let metrics = RemoteMetrics::register(&registry).unwrap();
    let writer = RemoteWriter::start(
        &config(addr, "authorization:\n  credentials: secret\n"),
        &BTreeMap::new(),
        dir.path(),
        &metrics,
    )
    .unwrap();
    let t = now_ms();
    let up = Labels::from_pairs([("__name__", "up")]);
    writer
        .enqueue(&[(up.clone(), t, 1.0), (up.clone(), t + 1, 0.0)])
        .unwrap();
    eventually("delivery after retries", || stored_count(&rx.db) == 2).await;
    // The sender counts a batch once the receiver's answer is back, which
    // may be just after the receiver stored it.
    eventually("the sent counter", || {
        metric(&registry, "prometheus_remote_storage_samples_total") == 2.0
    })
    .await;
    assert_eq!(
        metric(&registry, "prometheus_remote_storage_samples_retried_total"),
        6.0
    );
    let requests = rx.requests.lock().unwrap().clone();
    assert_eq!(requests.len(), 4);
    assert_eq!(requests[0].1["authorization"], "Bearer secret");
    writer.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_request_is_dropped_and_counted_as_failed() {
    let dir = tempfile::tempdir().unwrap();
    let rx = receiver(&dir.path().join("rx"), &[400]);
    let addr = serve(rx.clone(), "127.0.0.1:0".parse().unwrap()).await;
    let registry = Registry::new();
    let metrics = RemoteMetrics::register(&registry).unwrap();
    let writer =
        RemoteWriter::start(&config(addr, ""), &BTreeMap::new(), dir.path(), &metrics).unwrap();
    let t = now_ms();
    let refused = Labels::from_pairs([("__name__", "refused")]);
    let kept = Labels::from_pairs([("__name__", "kept")]);
    writer
        .enqueue(&[(refused.clone(), t, 1.0), (refused, t + 1, 2.0)])
        .unwrap();
    eventually("the failed counter", || {
        metric(&registry, "prometheus_remote_storage_samples_failed_total") == 2.0
    })
    .await;
    writer.enqueue(&[(kept.clone(), t, 1.0)]).unwrap();
    eventually("the next batch", || stored_count(&rx.db) == 1).await;
    assert_eq!(stored(&rx.db).keys().collect::<Vec<_>>(), [&kept]);
    assert_eq!(
        metric(&registry, "prometheus_remote_storage_samples_retried_total"),
        0.0,
        "a 400 is never retried"
    );
    assert_eq!(rx.requests.lock().unwrap().len(), 2);
    writer.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn samples_enqueued_while_down_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    // A port that nothing listens on (yet).
    let addr = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap()
    };
    let config = config(addr, "");
    let t = now_ms() - 60_000;
    let series = Labels::from_pairs([("__name__", "queued"), ("instance", "x")]);
    {
        let registry = Registry::new();
        let metrics = RemoteMetrics::register(&registry).unwrap();
        let writer = RemoteWriter::start(&config, &BTreeMap::new(), dir.path(), &metrics).unwrap();
        for i in 0..30 {
            writer
                .enqueue(&[(series.clone(), t + i, i as f64)])
                .unwrap();
        }
        eventually("retries against the closed port", || {
            metric(&registry, "prometheus_remote_storage_samples_retried_total") > 0.0
        })
        .await;
        // The "process" goes away with everything still queued.
        drop(writer);
    }
    let rx = receiver(&dir.path().join("rx"), &[]);
    serve(rx.clone(), addr).await;
    let registry = Registry::new();
    let metrics = RemoteMetrics::register(&registry).unwrap();
    let writer = RemoteWriter::start(&config, &BTreeMap::new(), dir.path(), &metrics).unwrap();
    writer.enqueue(&[(series.clone(), t + 30, 30.0)]).unwrap();
    eventually("delivery after the restart", || stored_count(&rx.db) == 31).await;
    let expected: Vec<(i64, f64)> = (0..31).map(|i| (t + i, i as f64)).collect();
    assert_eq!(stored(&rx.db)[&series], expected);
    assert_eq!(rx.accepted.load(Ordering::SeqCst), 31);
    writer.shutdown().await;

    // Delivered means forgotten: a third start sends nothing again.
    let registry = Registry::new();
    let metrics = RemoteMetrics::register(&registry).unwrap();
    let before = rx.requests.lock().unwrap().len();
    let writer = RemoteWriter::start(&config, &BTreeMap::new(), dir.path(), &metrics).unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(rx.requests.lock().unwrap().len(), before);
    writer.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_retry_on_429_when_configured_off() {
    let dir = tempfile::tempdir().unwrap();
    let rx = receiver(&dir.path().join("rx"), &[429]);
    let addr = serve(rx.clone(), "127.0.0.1:0".parse().unwrap()).await;
    let registry = Registry::new();
    let metrics = RemoteMetrics::register(&registry).unwrap();
    let writer = RemoteWriter::start(
        &config(addr, "  retry_on_http_429: false\n"),
        &BTreeMap::new(),
        dir.path(),
        &metrics,
    )
    .unwrap();
    let up = Labels::from_pairs([("__name__", "up")]);
    writer.enqueue(&[(up, now_ms(), 1.0)]).unwrap();
    eventually("the failed counter", || {
        metric(&registry, "prometheus_remote_storage_samples_failed_total") == 1.0
    })
    .await;
    assert_eq!(stored_count(&rx.db), 0);
    writer.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writers_fan_out_with_external_labels_and_refuse_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let first = receiver(&dir.path().join("rx1"), &[]);
    let second = receiver(&dir.path().join("rx2"), &[]);
    let a = serve(first.clone(), "127.0.0.1:0".parse().unwrap()).await;
    let b = serve(second.clone(), "127.0.0.1:0".parse().unwrap()).await;
    let queue = "    queue_config:\n      batch_send_deadline: 20ms\n";
    let text = format!(
        "global:\n  external_labels:\n    replica: r1\nremote_write:\n  - url: http://{a}/api/v1/write\n{queue}  - url: http://{b}/api/v1/write\n{queue}"
    );
    let config = prom::config::Config::parse(&text, Path::new("prometheus.yml")).unwrap();
    let registry = Registry::new();
    let metrics = RemoteMetrics::register(&registry).unwrap();
    let writers = prom::remote::RemoteWriters::start(&config, dir.path(), &metrics).unwrap();
    let up = Labels::from_pairs([("__name__", "up")]);
    writers.enqueue(&[(up, now_ms(), 1.0)]);
    eventually("both endpoints", || {
        stored_count(&first.db) == 1 && stored_count(&second.db) == 1
    })
    .await;
    let expected = Labels::from_pairs([("__name__", "up"), ("replica", "r1")]);
    assert!(stored(&second.db).contains_key(&expected));
    writers.shutdown().await;

    let twice = format!(
        "remote_write:\n  - url: http://{a}/api/v1/write\n  - url: http://{a}/api/v1/write\n"
    );
    let config = prom::config::Config::parse(&twice, Path::new("prometheus.yml")).unwrap();
    let error = prom::remote::RemoteWriters::start(&config, dir.path(), &metrics).unwrap_err();
    assert!(
        error.to_string().contains("duplicate remote write configs"),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_after_is_honoured_and_staleness_markers_survive_the_queue() {
    let dir = tempfile::tempdir().unwrap();
    let rx = receiver(&dir.path().join("rx"), &[1429]);
    let addr = serve(rx.clone(), "127.0.0.1:0".parse().unwrap()).await;
    let registry = Registry::new();
    let metrics = RemoteMetrics::register(&registry).unwrap();
    let writer =
        RemoteWriter::start(&config(addr, ""), &BTreeMap::new(), dir.path(), &metrics).unwrap();
    let up = Labels::from_pairs([("__name__", "up")]);
    let t = now_ms();
    let stale = model::staleness::stale_nan();
    writer
        .enqueue(&[(up.clone(), t, 1.0), (up.clone(), t + 1, stale)])
        .unwrap();
    eventually("delivery after Retry-After", || stored_count(&rx.db) == 2).await;
    let requests = rx.requests.lock().unwrap().clone();
    assert_eq!(requests.len(), 2);
    let waited = requests[1].0 - requests[0].0;
    assert!(waited >= Duration::from_secs(1), "waited only {waited:?}");
    let samples = &stored(&rx.db)[&up];
    assert_eq!(samples[1].1.to_bits(), model::staleness::STALE_NAN_BITS);
    writer.shutdown().await;
}
