//! The client against real servers on 127.0.0.1: the log store itself, and
//! a small stand-in that answers as a test scripts it (errors, stalls).

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use agent::client::{Client, ClientMetrics, DrainTimedOut, Fanout, USER_AGENT_VALUE};
use agent::config::{BackoffConfig, ClientAuth, ClientConfig, LimitsConfig, Secret};
use agent::entry::{Entry, LabelSet, Receipt, Sink};
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use instrument::{MetricValue, Registry};
use support::Store;
use tokio::sync::watch;

mod support;

const SEC: i64 = 1_000_000_000;

/// `base` changed by `change` (the config's private fields rule out
/// struct update syntax outside the crate).
fn cfg_from(mut base: ClientConfig, change: impl FnOnce(&mut ClientConfig)) -> ClientConfig {
    change(&mut base);
    base
}

/// When the entries pushed to the store were logged.
const T0: i64 = 1_795_533_361 * SEC;

/// A token that counts its release.
struct Token(Arc<AtomicUsize>);
impl Drop for Token {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// Receipts that count how many of them were released.
#[derive(Clone, Default)]
struct Released(Arc<AtomicUsize>);
impl Released {
    fn receipt(&self) -> Receipt {
        Receipt::new(Arc::new(Token(self.0.clone())))
    }
    fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

fn labels(pairs: &[(&str, &str)]) -> LabelSet {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn entry(pairs: &[(&str, &str)], ts_ns: i64, line: &str, receipt: Receipt) -> Entry {
    Entry {
        labels: labels(pairs),
        ts_ns,
        line: line.to_owned(),
        receipt,
        ..Entry::default()
    }
}

/// Settings that keep a test short: retries after a millisecond or two,
/// batches that wait for a drain unless a test says otherwise.
fn config(url: &str) -> ClientConfig {
    cfg_from(ClientConfig::default(), |c| {
        c.url = url.to_owned();
        c.batch_wait = Duration::from_secs(3600);
        c.backoff = BackoffConfig {
            min_period: Duration::from_millis(1),
            max_period: Duration::from_millis(2),
            max_retries: 10,
        };
    })
}

fn start(config: ClientConfig) -> (Arc<Client>, Arc<Registry>) {
    start_limited(config, LimitsConfig::default())
}

/// A client with `limits_config`'s stream and line limits.
fn start_limited(config: ClientConfig, limits: LimitsConfig) -> (Arc<Client>, Arc<Registry>) {
    let registry = Arc::new(Registry::new());
    let metrics = ClientMetrics::new(&registry).expect("the families register");
    let client = Client::new(config, &limits, metrics, &tokio::runtime::Handle::current())
        .expect("the client starts");
    (Arc::new(client), registry)
}

/// Sends entries from a plain thread, as the tailers do; returns how many
/// were taken so far, and the thread.
fn send_all(
    sink: Arc<dyn Sink>,
    entries: Vec<Entry>,
) -> (Arc<AtomicUsize>, tokio::task::JoinHandle<()>) {
    let taken = Arc::new(AtomicUsize::new(0));
    let counter = taken.clone();
    let thread = tokio::task::spawn_blocking(move || {
        for e in entries {
            sink.send(e).expect("the client takes entries");
            counter.fetch_add(1, Ordering::SeqCst);
        }
    });
    (taken, thread)
}

/// Waits until `cond` holds; fails the test after a long while (a hang,
/// not a slow machine).
async fn until(what: &str, mut cond: impl FnMut() -> bool) {
    for _ in 0..2000 {
        if cond() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("never happened: {what}");
}

/// One sample's value in the registry.
fn metric(registry: &Registry, name: &str, want: &[(&str, &str)]) -> f64 {
    for family in registry.gather() {
        if family.name != name {
            continue;
        }
        for m in &family.metrics {
            let matches = want
                .iter()
                .all(|(k, v)| m.labels.iter().any(|(n, x)| n == k && x == v));
            if matches {
                return match &m.value {
                    MetricValue::Single(v) => *v,
                    MetricValue::Histogram { count, .. } => *count as f64,
                    MetricValue::Summary { count, .. } => *count as f64,
                };
            }
        }
    }
    panic!("no {name} with {want:?}");
}

// ---------------------------------------------------------------------
// The stand-in server.

/// A stream as received: its label text and `(ts_ns, line)` entries.
type Stream = (String, Vec<(i64, String)>);

/// What the stand-in received: each request's headers and push.
#[derive(Clone)]
struct Received {
    headers: HeaderMap,
    streams: Vec<Stream>,
}

#[derive(Default)]
struct Script {
    /// Statuses to answer, in order; 204 once they run out.
    answers: VecDeque<u16>,
    received: Vec<Received>,
    /// Requests from this one on (counting from 0) wait for the gate.
    hold_from: usize,
}

#[derive(Clone)]
struct Stand {
    script: Arc<Mutex<Script>>,
    /// Requests wait while it is false.
    open: watch::Receiver<bool>,
}

struct StandIn {
    url: String,
    script: Arc<Mutex<Script>>,
    gate: watch::Sender<bool>,
}

/// A test that fails lets the held requests go, so that the threads
/// blocked behind them end and the runtime can shut down.
impl Drop for StandIn {
    fn drop(&mut self) {
        self.gate.send_replace(true);
    }
}

impl StandIn {
    async fn start(answers: &[u16]) -> StandIn {
        let script = Arc::new(Mutex::new(Script {
            answers: answers.iter().copied().collect(),
            received: Vec::new(),
            hold_from: 0,
        }));
        let (gate, open) = watch::channel(true);
        let app = Router::new()
            .route("/loki/api/v1/push", post(push))
            .with_state(Stand {
                script: script.clone(),
                open,
            });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/loki/api/v1/push", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        StandIn { url, script, gate }
    }

    /// Holds every request until [`StandIn::resume`].
    fn stall(&self) {
        self.stall_from(0);
    }

    /// Holds request `n` (from 0) and the ones after it until
    /// [`StandIn::resume`].
    fn stall_from(&self, n: usize) {
        self.script.lock().unwrap().hold_from = n;
        self.gate.send_replace(false);
    }

    fn resume(&self) {
        self.gate.send_replace(true);
    }

    fn received(&self) -> Vec<Received> {
        self.script.lock().unwrap().received.clone()
    }

    fn requests(&self) -> usize {
        self.script.lock().unwrap().received.len()
    }

    /// Every line received, in order.
    fn lines(&self) -> Vec<String> {
        self.received()
            .iter()
            .flat_map(|r| {
                r.streams
                    .iter()
                    .flat_map(|s| s.1.iter().map(|e| e.1.clone()))
            })
            .collect()
    }
}

async fn push(State(stand): State<Stand>, headers: HeaderMap, body: Bytes) -> (StatusCode, String) {
    let request = lokipush::decode(&body, 1 << 30).expect("a push body");
    let streams = request
        .streams
        .into_iter()
        .map(|s| {
            let entries = s.entries.into_iter().map(|e| {
                let ts = e.timestamp.map_or(0, |t| t.to_nanos());
                (ts, String::from_utf8(e.line).unwrap())
            });
            (String::from_utf8(s.labels).unwrap(), entries.collect())
        })
        .collect();
    let (status, held) = {
        let mut script = stand.script.lock().unwrap();
        script.received.push(Received { headers, streams });
        let held = script.received.len() > script.hold_from;
        (script.answers.pop_front().unwrap_or(204), held)
    };
    if held {
        let mut open = stand.open.clone();
        let _ = open.wait_for(|open| *open).await;
    }
    let status = StatusCode::from_u16(status).unwrap();
    (status, format!("answer {}\nsecond line", status.as_u16()))
}

// ---------------------------------------------------------------------
// Against the log store.

/// A query of the store around the tests' time.
async fn query(store: &Store, tenant: &str, query: &str) -> Vec<support::Stream> {
    store
        .query(Some(tenant), query, T0 - 3600 * SEC, T0 + 3600 * SEC)
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entries_reach_the_store_with_labels_timestamps_and_tenant() {
    let store = Store::start(true).await;
    let (client, registry) = start(cfg_from(config(&store.push_url()), |c| {
        c.tenant_id = "team-a".into();
        c.external_labels = labels(&[("cluster", "c1")]);
    }));
    let released = Released::default();
    let t0 = T0;
    let entries = vec![
        entry(
            &[("job", "api"), ("__path__", "/x")],
            t0 + 1,
            "first",
            released.receipt(),
        ),
        entry(&[("job", "api")], t0 + 2, "second", released.receipt()),
        entry(
            &[("job", "api"), ("__tenant_id__", "team-b")],
            t0 + 3,
            "for b",
            released.receipt(),
        ),
    ];
    let (_, thread) = send_all(client.clone(), entries);
    thread.await.unwrap();
    client
        .drain(Duration::from_secs(10))
        .await
        .expect("drained");
    assert_eq!(released.count(), 3);

    let labels_a: BTreeMap<String, String> = labels(&[("cluster", "c1"), ("job", "api")]);
    assert_eq!(
        query(&store, "team-a", r#"{job="api"}"#).await,
        [(
            labels_a.clone(),
            vec![(t0 + 1, "first".to_owned()), (t0 + 2, "second".to_owned())]
        )]
    );
    assert_eq!(
        query(&store, "team-b", r#"{job="api"}"#).await,
        [(labels_a, vec![(t0 + 3, "for b".to_owned())])]
    );
    let host = client.host().to_owned();
    assert_eq!(
        metric(&registry, "promtail_sent_entries_total", &[("host", &host)]),
        3.0
    );
    let code = [("host", host.as_str()), ("status_code", "204")];
    assert_eq!(
        metric(&registry, "promtail_request_duration_seconds", &code),
        2.0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn structured_metadata_reaches_the_store() {
    let store = Store::start(true).await;
    let (client, _) = start(cfg_from(config(&store.push_url()), |c| {
        c.tenant_id = "t".into();
    }));
    let mut e = entry(&[("job", "meta")], T0, "line", Receipt::default());
    e.structured_metadata = labels(&[("trace_id", "abc")]);
    let (_, thread) = send_all(client.clone(), vec![e]);
    thread.await.unwrap();
    client.drain(Duration::from_secs(10)).await.unwrap();
    let found = query(&store, "t", r#"{job="meta"} | trace_id="abc""#).await;
    assert_eq!(found.len(), 1, "{found:?}");
}

// ---------------------------------------------------------------------
// Batching.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_goes_when_the_next_line_would_pass_batchsize() {
    let stand = StandIn::start(&[]).await;
    let (client, _) = start(cfg_from(config(&stand.url), |c| {
        c.batch_size = 10;
    }));
    let entries = ["line1", "line2", "line3"]
        .iter()
        .enumerate()
        .map(|(i, l)| entry(&[], i as i64 + 1, l, Receipt::default()))
        .collect();
    let (_, thread) = send_all(client.clone(), entries);
    thread.await.unwrap();
    until("the first batch", || stand.requests() == 1).await;
    assert_eq!(stand.lines(), ["line1", "line2"]);
    client.drain(Duration::from_secs(10)).await.unwrap();
    let received = stand.received();
    assert_eq!(received.len(), 2);
    assert_eq!(
        received[1].streams,
        [("{}".to_owned(), vec![(3, "line3".to_owned())])]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_goes_when_it_is_batchwait_old() {
    let stand = StandIn::start(&[]).await;
    let (client, _) = start(cfg_from(config(&stand.url), |c| {
        c.batch_wait = Duration::from_millis(20);
    }));
    let released = Released::default();
    let (_, thread) = send_all(
        client.clone(),
        vec![entry(&[("a", "b")], 5, "alone", released.receipt())],
    );
    thread.await.unwrap();
    // No drain: only its age sends it.
    until("the batch is sent", || released.count() == 1).await;
    assert_eq!(stand.lines(), ["alone"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_are_grouped_by_label_set_and_tenants_batched_apart() {
    let stand = StandIn::start(&[]).await;
    let (client, _) = start(cfg_from(config(&stand.url), |c| {
        c.tenant_id = "default".into();
    }));
    let entries = vec![
        entry(&[("s", "1")], 1, "a", Receipt::default()),
        entry(&[("s", "2")], 2, "b", Receipt::default()),
        entry(
            &[("s", "1"), ("__tenant_id__", "other")],
            3,
            "c",
            Receipt::default(),
        ),
        entry(&[("s", "1")], 4, "d", Receipt::default()),
        // An empty tenant label means no tenant at all.
        entry(
            &[("s", "1"), ("__tenant_id__", "")],
            5,
            "e",
            Receipt::default(),
        ),
    ];
    let (_, thread) = send_all(client.clone(), entries);
    thread.await.unwrap();
    client.drain(Duration::from_secs(10)).await.unwrap();
    let mut by_tenant: Vec<(Option<String>, Vec<Stream>)> = stand
        .received()
        .into_iter()
        .map(|r| {
            let tenant = r
                .headers
                .get("x-scope-orgid")
                .map(|v| v.to_str().unwrap().to_owned());
            (tenant, r.streams)
        })
        .collect();
    by_tenant.sort();
    let s1 = r#"{s="1"}"#.to_owned();
    assert_eq!(
        by_tenant,
        [
            (None, vec![(s1.clone(), vec![(5, "e".to_owned())])]),
            (
                Some("default".into()),
                vec![
                    (s1.clone(), vec![(1, "a".to_owned()), (4, "d".to_owned())]),
                    (r#"{s="2"}"#.to_owned(), vec![(2, "b".to_owned())]),
                ]
            ),
            (Some("other".into()), vec![(s1, vec![(3, "c".to_owned())])]),
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn external_labels_are_added_and_the_entrys_own_win() {
    let stand = StandIn::start(&[]).await;
    let (client, _) = start(cfg_from(config(&stand.url), |c| {
        c.external_labels = labels(&[("cluster", "c1"), ("job", "external")]);
    }));
    let (_, thread) = send_all(
        client.clone(),
        vec![entry(&[("job", "api")], 1, "x", Receipt::default())],
    );
    thread.await.unwrap();
    client.drain(Duration::from_secs(10)).await.unwrap();
    assert_eq!(
        stand.received()[0].streams[0].0,
        r#"{cluster="c1", job="api"}"#
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_carry_promtails_headers_and_the_configured_ones() {
    let stand = StandIn::start(&[]).await;
    let (client, _) = start(cfg_from(config(&stand.url), |c| {
        c.auth = Some(ClientAuth::Basic {
            username: "user".into(),
            password: Secret::Inline("pass".into()),
        });
        c.headers = [
            ("X-Custom".to_owned(), "yes".to_owned()),
            ("Content-Type".to_owned(), "text/plain".to_owned()),
        ]
        .into_iter()
        .collect();
    }));
    let (_, thread) = send_all(client.clone(), vec![entry(&[], 1, "x", Receipt::default())]);
    thread.await.unwrap();
    client.drain(Duration::from_secs(10)).await.unwrap();
    let headers = &stand.received()[0].headers;
    assert_eq!(headers["content-type"], "application/x-protobuf");
    assert_eq!(headers["user-agent"], USER_AGENT_VALUE);
    assert!(USER_AGENT_VALUE.starts_with("promtail/"));
    assert_eq!(headers["x-custom"], "yes");
    assert_eq!(headers["authorization"], "Basic dXNlcjpwYXNz");
    assert!(headers.get("x-scope-orgid").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bearer_token_file_is_read_and_trimmed() {
    let stand = StandIn::start(&[]).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("token");
    std::fs::write(&file, "s3cret\n").unwrap();
    let (client, _) = start(cfg_from(config(&stand.url), |c| {
        c.auth = Some(ClientAuth::Authorization {
            scheme: "Bearer".into(),
            credentials: Secret::File(file),
        });
    }));
    let (_, thread) = send_all(client.clone(), vec![entry(&[], 1, "x", Receipt::default())]);
    thread.await.unwrap();
    client.drain(Duration::from_secs(10)).await.unwrap();
    assert_eq!(
        stand.received()[0].headers["authorization"],
        "Bearer s3cret"
    );
}

// ---------------------------------------------------------------------
// Failures and retries.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_and_429_are_retried_and_receipts_wait_for_the_success() {
    let stand = StandIn::start(&[500, 429, 503]).await;
    let (client, registry) = start(config(&stand.url));
    let released = Released::default();
    let entries = vec![
        entry(&[], 1, "one", released.receipt()),
        entry(&[], 2, "two", released.receipt()),
    ];
    let (_, thread) = send_all(client.clone(), entries);
    thread.await.unwrap();
    // The fourth attempt is held until the test lets it be answered 204.
    stand.script.lock().unwrap().answers.push_back(204);
    let (gate_closed_at, drained) = {
        let client = client.clone();
        stand.stall_from(3);
        let drain = tokio::spawn(async move { client.drain(Duration::from_secs(30)).await });
        until("the fourth attempt", || stand.requests() == 4).await;
        (released.count(), drain)
    };
    assert_eq!(
        gate_closed_at, 0,
        "receipts released before the store answered"
    );
    stand.resume();
    drained.await.unwrap().expect("drained");
    assert_eq!(released.count(), 2);
    // Every attempt carried the same entries; none was lost or split.
    for r in stand.received() {
        assert_eq!(
            r.streams,
            [(
                "{}".to_owned(),
                vec![(1, "one".to_owned()), (2, "two".to_owned())]
            )]
        );
    }
    let host = client.host().to_owned();
    assert_eq!(
        metric(
            &registry,
            "promtail_batch_retries_total",
            &[("host", &host), ("tenant", "")]
        ),
        3.0
    );
    assert_eq!(
        metric(&registry, "promtail_sent_entries_total", &[("host", &host)]),
        2.0
    );
    for code in ["500", "429", "503", "204"] {
        let labels = [("host", host.as_str()), ("status_code", code)];
        assert_eq!(
            metric(&registry, "promtail_request_duration_seconds", &labels),
            1.0,
            "{code}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_error_drops_the_batch_at_once() {
    let stand = StandIn::start(&[400]).await;
    let (client, registry) = start(config(&stand.url));
    let released = Released::default();
    let entries = (0..3)
        .map(|i| entry(&[], i, "bad", released.receipt()))
        .collect();
    let (_, thread) = send_all(client.clone(), entries);
    thread.await.unwrap();
    client.drain(Duration::from_secs(10)).await.unwrap();
    assert_eq!(stand.requests(), 1);
    assert_eq!(released.count(), 3);
    let host = client.host().to_owned();
    let dropped = [
        ("host", host.as_str()),
        ("reason", "ingester_error"),
        ("tenant", ""),
    ];
    assert_eq!(
        metric(&registry, "promtail_dropped_entries_total", &dropped),
        3.0
    );
    assert!(metric(&registry, "promtail_dropped_bytes_total", &dropped) > 0.0);
    assert_eq!(
        metric(
            &registry,
            "promtail_batch_retries_total",
            &[("host", &host), ("tenant", "")]
        ),
        0.0
    );
    assert_eq!(
        metric(&registry, "promtail_sent_entries_total", &[("host", &host)]),
        0.0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_retries_exhausted_drops_and_releases() {
    let stand = StandIn::start(&[500, 500, 429]).await;
    let (client, registry) = start(cfg_from(config(&stand.url), |c| {
        c.backoff = BackoffConfig {
            max_retries: 3,
            ..config("http://x/").backoff
        };
    }));
    let released = Released::default();
    let (_, thread) = send_all(
        client.clone(),
        vec![entry(&[], 1, "lost", released.receipt())],
    );
    thread.await.unwrap();
    client.drain(Duration::from_secs(10)).await.unwrap();
    assert_eq!(stand.requests(), 3, "max_retries counts attempts");
    assert_eq!(released.count(), 1);
    let host = client.host().to_owned();
    // The last answer, a 429, names the reason.
    let rate = [
        ("host", host.as_str()),
        ("reason", "rate_limited"),
        ("tenant", ""),
    ];
    assert_eq!(
        metric(&registry, "promtail_dropped_entries_total", &rate),
        1.0
    );
    let generic = [
        ("host", host.as_str()),
        ("reason", "ingester_error"),
        ("tenant", ""),
    ];
    assert_eq!(
        metric(&registry, "promtail_dropped_entries_total", &generic),
        0.0
    );
    assert_eq!(
        metric(
            &registry,
            "promtail_batch_retries_total",
            &[("host", &host), ("tenant", "")]
        ),
        3.0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limited_batches_can_be_dropped_at_once() {
    let stand = StandIn::start(&[429]).await;
    let (client, registry) = start(cfg_from(config(&stand.url), |c| {
        c.drop_rate_limited_batches = true;
        c.tenant_id = "t".into();
    }));
    let released = Released::default();
    let (_, thread) = send_all(client.clone(), vec![entry(&[], 1, "x", released.receipt())]);
    thread.await.unwrap();
    client.drain(Duration::from_secs(10)).await.unwrap();
    assert_eq!(stand.requests(), 1);
    assert_eq!(released.count(), 1);
    let host = client.host().to_owned();
    let rate = [
        ("host", host.as_str()),
        ("reason", "rate_limited"),
        ("tenant", "t"),
    ];
    assert_eq!(
        metric(&registry, "promtail_dropped_entries_total", &rate),
        1.0
    );
    assert_eq!(
        metric(
            &registry,
            "promtail_batch_retries_total",
            &[("host", &host), ("tenant", "t")]
        ),
        0.0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_that_does_not_answer_is_retried() {
    // A port nothing listens on any more.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (client, registry) = start(cfg_from(
        config(&format!("http://127.0.0.1:{port}/loki/api/v1/push")),
        |c| {
            c.backoff = BackoffConfig {
                max_retries: 2,
                ..config("http://x/").backoff
            };
        },
    ));
    let released = Released::default();
    let (_, thread) = send_all(client.clone(), vec![entry(&[], 1, "x", released.receipt())]);
    thread.await.unwrap();
    client.drain(Duration::from_secs(10)).await.unwrap();
    assert_eq!(released.count(), 1);
    let host = client.host().to_owned();
    let no_answer = [("host", host.as_str()), ("status_code", "-1")];
    assert_eq!(
        metric(&registry, "promtail_request_duration_seconds", &no_answer),
        2.0
    );
    let generic = [
        ("host", host.as_str()),
        ("reason", "ingester_error"),
        ("tenant", ""),
    ];
    assert_eq!(
        metric(&registry, "promtail_dropped_entries_total", &generic),
        1.0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_time_past_year_9999_drops_the_whole_batch() {
    // Promtail fails to encode such a batch and drops all of it (golden
    // case17); the entries are counted as dropped.
    let stand = StandIn::start(&[]).await;
    let (client, registry) = start(config(&stand.url));
    let released = Released::default();
    let entries = vec![
        entry(&[], 1_690_899_095 * SEC, "fine", released.receipt()),
        entry(&[], i64::MAX, "year 55552", released.receipt()),
    ];
    let (_, thread) = send_all(client.clone(), entries);
    thread.await.unwrap();
    client.drain(Duration::from_secs(10)).await.unwrap();
    assert_eq!(stand.requests(), 0);
    assert_eq!(released.count(), 2);
    let host = client.host().to_owned();
    let generic = [
        ("host", host.as_str()),
        ("reason", "ingester_error"),
        ("tenant", ""),
    ];
    assert_eq!(
        metric(&registry, "promtail_dropped_entries_total", &generic),
        2.0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_lines_are_dropped_or_truncated_as_configured() {
    let stand = StandIn::start(&[]).await;
    let (dropping, registry) = start_limited(
        config(&stand.url),
        LimitsConfig {
            max_line_size: 4,
            ..LimitsConfig::default()
        },
    );
    let released = Released::default();
    let entries = vec![
        entry(&[], 1, "12345", released.receipt()),
        entry(&[], 2, "1234", released.receipt()),
    ];
    let (_, thread) = send_all(dropping.clone(), entries);
    thread.await.unwrap();
    dropping.drain(Duration::from_secs(10)).await.unwrap();
    assert_eq!(stand.lines(), ["1234"]);
    assert_eq!(released.count(), 2);
    let host = dropping.host().to_owned();
    let long = [
        ("host", host.as_str()),
        ("reason", "line_too_long"),
        ("tenant", ""),
    ];
    assert_eq!(
        metric(&registry, "promtail_dropped_entries_total", &long),
        1.0
    );
    assert_eq!(
        metric(&registry, "promtail_dropped_bytes_total", &long),
        5.0
    );

    let stand = StandIn::start(&[]).await;
    let (cutting, registry) = start_limited(
        config(&stand.url),
        LimitsConfig {
            max_line_size: 4,
            max_line_size_truncate: true,
            ..LimitsConfig::default()
        },
    );
    let (_, thread) = send_all(
        cutting.clone(),
        vec![entry(&[], 1, "1234567", Receipt::default())],
    );
    thread.await.unwrap();
    cutting.drain(Duration::from_secs(10)).await.unwrap();
    assert_eq!(stand.lines(), ["1234"]);
    let host = cutting.host().to_owned();
    let long = [
        ("host", host.as_str()),
        ("reason", "line_too_long"),
        ("tenant", ""),
    ];
    assert_eq!(
        metric(&registry, "promtail_mutated_entries_total", &long),
        1.0
    );
    assert_eq!(
        metric(&registry, "promtail_mutated_bytes_total", &long),
        3.0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_past_max_streams_is_dropped() {
    let stand = StandIn::start(&[]).await;
    let (client, registry) = start_limited(
        config(&stand.url),
        LimitsConfig {
            max_streams: 1,
            ..LimitsConfig::default()
        },
    );
    let entries = vec![
        entry(&[("s", "1")], 1, "kept", Receipt::default()),
        entry(&[("s", "2")], 2, "refused", Receipt::default()),
    ];
    let (_, thread) = send_all(client.clone(), entries);
    thread.await.unwrap();
    client.drain(Duration::from_secs(10)).await.unwrap();
    assert_eq!(stand.lines(), ["kept"]);
    let host = client.host().to_owned();
    let limited = [
        ("host", host.as_str()),
        ("reason", "stream_limited"),
        ("tenant", ""),
    ];
    assert_eq!(
        metric(&registry, "promtail_dropped_entries_total", &limited),
        1.0
    );
}

// ---------------------------------------------------------------------
// Back-pressure, fan-out, drain.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_store_blocks_the_senders_with_bounded_memory() {
    let stand = StandIn::start(&[]).await;
    stand.stall();
    let (client, _) = start(cfg_from(config(&stand.url), |c| {
        c.batch_size = 10;
        c.timeout = Duration::from_secs(60);
    }));
    let released = Released::default();
    // Ten-byte lines: each fills a batch.
    let entries = (0..50)
        .map(|i| entry(&[], i, &format!("line {i:05}"), released.receipt()))
        .collect();
    let (taken, thread) = send_all(client.clone(), entries);
    until("the sender blocks", || {
        client.pending().blocked_senders == 1
    })
    .await;
    // One batch in flight, one waiting, one filling.
    let pending = client.pending();
    assert_eq!(taken.load(Ordering::SeqCst), 3);
    assert_eq!(
        (pending.entries, pending.bytes, pending.batches),
        (3, 30, 2)
    );
    assert_eq!(stand.requests(), 1);
    assert_eq!(released.count(), 0);

    stand.resume();
    thread.await.unwrap();
    client.drain(Duration::from_secs(30)).await.unwrap();
    let want: Vec<String> = (0..50).map(|i| format!("line {i:05}")).collect();
    assert_eq!(stand.lines(), want, "every line once, in order");
    assert_eq!(released.count(), 50);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fanned_out_entry_is_released_once_every_client_acknowledged() {
    let fast = StandIn::start(&[]).await;
    let slow = StandIn::start(&[]).await;
    slow.stall();
    let (a, _) = start(cfg_from(config(&fast.url), |c| {
        c.batch_wait = Duration::from_millis(10);
    }));
    let (b, _) = start(cfg_from(config(&slow.url), |c| {
        c.batch_wait = Duration::from_millis(10);
    }));
    let fanout: Arc<dyn Sink> = Arc::new(Fanout::new(vec![a.clone(), b.clone()]));
    let released = Released::default();
    let (_, thread) = send_all(
        fanout,
        vec![entry(&[("j", "x")], 1, "both", released.receipt())],
    );
    thread.await.unwrap();
    until("the fast store has it", || fast.requests() == 1).await;
    until("the slow store is asked", || slow.requests() == 1).await;
    assert_eq!(released.count(), 0);
    slow.resume();
    until("both acknowledged", || released.count() == 1).await;
    assert_eq!(fast.lines(), ["both"]);
    assert_eq!(slow.lines(), ["both"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drain_sends_the_partial_batch() {
    let stand = StandIn::start(&[]).await;
    let (client, _) = start(config(&stand.url));
    let released = Released::default();
    let (_, thread) = send_all(
        client.clone(),
        vec![entry(&[], 1, "partial", released.receipt())],
    );
    thread.await.unwrap();
    assert_eq!(stand.requests(), 0);
    client
        .drain(Duration::from_secs(10))
        .await
        .expect("drained");
    assert_eq!(stand.lines(), ["partial"]);
    assert_eq!(released.count(), 1);
    // A closed client takes nothing more.
    assert!(
        client
            .send(entry(&[], 2, "late", Receipt::default()))
            .is_err()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_thread_can_drain() {
    let stand = StandIn::start(&[]).await;
    let (client, _) = start(config(&stand.url));
    let drained = tokio::task::spawn_blocking(move || {
        client.send(entry(&[], 1, "from a thread", Receipt::default()))?;
        client
            .drain_blocking(Duration::from_secs(10))
            .map_err(|_| agent::entry::SinkClosed)
    });
    drained.await.unwrap().expect("sent and drained");
    assert_eq!(stand.lines(), ["from a thread"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drain_that_times_out_keeps_the_receipts() {
    let stand = StandIn::start(&[]).await;
    stand.stall();
    let (client, _) = start(config(&stand.url));
    let released = Released::default();
    let entries = (0..2)
        .map(|i| entry(&[], i, "stuck", released.receipt()))
        .collect();
    let (_, thread) = send_all(client.clone(), entries);
    thread.await.unwrap();
    let result = client.drain(Duration::from_millis(50)).await;
    assert_eq!(result, Err(DrainTimedOut { entries: 2 }));
    // Not acknowledged, not given up on: the lines must be read again.
    assert_eq!(released.count(), 0);
}

#[test]
fn a_runtime_shut_down_mid_push_keeps_the_receipts() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let stand = runtime.block_on(StandIn::start(&[]));
    stand.stall();
    let client = {
        let _inside = runtime.enter();
        start(config(&stand.url)).0
    };
    let released = Released::default();
    client
        .send(entry(&[], 1, "in flight", released.receipt()))
        .unwrap();
    client.close();
    runtime.block_on(until("the push is under way", || stand.requests() == 1));
    runtime.shutdown_background();
    assert_eq!(released.count(), 0);
}

// ---------------------------------------------------------------------
// Metrics.

/// A sample line's name and sorted label pairs.
fn series(line: &str) -> (String, Vec<String>) {
    let name_and_labels = line.rsplit_once(' ').map_or(line, |(s, _)| s);
    let (name, labels) = name_and_labels
        .split_once('{')
        .unwrap_or((name_and_labels, "}"));
    let mut pairs: Vec<String> = labels
        .trim_end_matches('}')
        .split("\",")
        .filter(|p| !p.is_empty())
        .map(|p| {
            // `le="1"` (Go) and `le="1.0"` (Python) are the same bound.
            let (k, v) = p.split_once("=\"").unwrap_or((p, ""));
            let v = v.trim_end_matches('"');
            match v.parse::<f64>() {
                Ok(f) => format!("{k}={f}"),
                Err(_) => format!("{k}={v}"),
            }
        })
        .collect();
    pairs.sort();
    (name.to_owned(), pairs)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_named_described_and_labelled_as_promtails() {
    let stand = StandIn::start(&[]).await;
    let (client, registry) = start(config(&stand.url));
    let (_, thread) = send_all(client.clone(), vec![entry(&[], 1, "x", Receipt::default())]);
    thread.await.unwrap();
    client.drain(Duration::from_secs(10)).await.unwrap();
    let ours = instrument::exposition::encode_text(&registry.gather());
    let port = client.host().rsplit(':').next().unwrap().to_owned();
    let golden = std::fs::read_to_string(
        testkit::shared_dir().join("conformance/golden/promtail-files/metrics.txt"),
    )
    .unwrap()
    .replace("{sinkport}", &port);
    let families = [
        "promtail_batch_retries_total",
        "promtail_dropped_bytes_total",
        "promtail_dropped_entries_total",
        "promtail_encoded_bytes_total",
        "promtail_mutated_bytes_total",
        "promtail_mutated_entries_total",
        "promtail_request_duration_seconds",
        "promtail_sent_bytes_total",
        "promtail_sent_entries_total",
    ];
    for family in families {
        let lines: Vec<&str> = golden
            .lines()
            .filter(|l| {
                let name = l
                    .strip_prefix("# HELP ")
                    .or_else(|| l.strip_prefix("# TYPE "))
                    .unwrap_or(l);
                name.starts_with(family)
            })
            .collect();
        assert!(!lines.is_empty(), "{family} is in the golden file");
        for line in lines {
            if line.starts_with('#') {
                assert!(ours.contains(&format!("{line}\n")), "missing: {line}");
            } else {
                // The series, whatever its value (durations and sizes
                // differ) and the order of its labels.
                let series = series(line);
                assert!(
                    ours.lines()
                        .any(|l| !l.starts_with('#') && self::series(l) == series),
                    "missing: {line}\n{ours}"
                );
            }
        }
    }
}
