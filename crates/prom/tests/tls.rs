//! `tls_config` end to end: scrapes and remote write over https on
//! 127.0.0.1, against certificates made for each test by rcgen.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use instrument::Registry;
use model::{MatchOp, Matcher};
use prom::config::{Config, RemoteWriteConfig};
use prom::remote::{RemoteMetrics, RemoteWriter, respond};
use prom::scrape::{HealthState, ScrapeManager};
use testkit::tls::{Pki, serve_https};
use tsdb::{Options, Queryable, Tsdb};

/// Reads the config's target files, then syncs the loops with them.
fn sync(manager: &ScrapeManager, config: &Config, base_dir: &Path) {
    let discovery = prom::discovery::Discovery::new(config, base_dir, std::time::Instant::now());
    manager.sync(config, &discovery);
}

fn metrics_app() -> Router {
    Router::new().route(
        "/metrics",
        get(|| async {
            (
                [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
                "# TYPE secure_total counter\nsecure_total 7\n",
            )
        }),
    )
}

/// A config whose one job scrapes `target` over https with this
/// `tls_config` (YAML lines, indented), loaded from a file in `dir` so
/// relative paths are read from there.
fn https_job(dir: &Path, target: SocketAddr, tls: &str) -> Config {
    let yaml = format!(
        "scrape_configs:\n  - job_name: secure\n    scheme: https\n    scrape_interval: 500ms\n    scrape_timeout: 500ms\n    static_configs:\n      - targets: ['{target}']\n    tls_config:\n{tls}"
    );
    Config::parse(&yaml, &dir.join("prometheus.yml")).unwrap()
}

/// Waits for the one target's first verdict and returns its error ("" when up).
async fn first_scrape(manager: &ScrapeManager) -> (HealthState, String) {
    let start = Instant::now();
    loop {
        if let Some(target) = manager.active_targets().first() {
            if target.health.state != HealthState::Unknown {
                return (target.health.state, target.health.last_error.clone());
            }
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "timed out waiting for a scrape"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn scrape_once(pki: &Pki, target: SocketAddr, tls: &str) -> (HealthState, String, f64) {
    let db_dir = tempfile::tempdir().unwrap();
    let db = Arc::new(Tsdb::open(db_dir.path(), Options::default()).unwrap());
    let manager = ScrapeManager::new(db.clone());
    sync(&manager, &https_job(pki.dir(), target, tls), Path::new("."));
    let (state, error) = first_scrape(&manager).await;
    manager.shutdown().await;
    let querier = db.querier(0, i64::MAX).unwrap();
    let value = querier
        .select(&[Matcher::new(MatchOp::Equal, "__name__", "secure_total").unwrap()])
        .unwrap()
        .first()
        .and_then(|s| s.samples().last())
        .map_or(f64::NAN, |(_, v)| v);
    (state, error, value)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scrape_over_https_trusts_the_ca_file_relative_to_the_config() {
    let pki = Pki::new("vigil test CA", "scraper.test");
    let target = serve_https(metrics_app(), pki.server_config(false)).await;
    let (state, error, value) = scrape_once(&pki, target, "      ca_file: ca.pem\n").await;
    assert_eq!((state, error.as_str()), (HealthState::Up, ""));
    assert_eq!(value, 7.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scrape_over_https_trusts_an_inline_ca() {
    let pki = Pki::new("vigil test CA", "scraper.test");
    let target = serve_https(metrics_app(), pki.server_config(false)).await;
    let inline: String = pki
        .ca_pem
        .lines()
        .map(|line| format!("        {line}\n"))
        .collect();
    let (state, error, _) = scrape_once(&pki, target, &format!("      ca: |\n{inline}")).await;
    assert_eq!((state, error.as_str()), (HealthState::Up, ""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scrape_without_the_ca_fails_with_unknown_authority() {
    let pki = Pki::new("vigil test CA", "scraper.test");
    let target = serve_https(metrics_app(), pki.server_config(false)).await;
    // The system's roots do not know our CA.
    let (state, error, _) = scrape_once(&pki, target, "      server_name: localhost\n").await;
    assert_eq!(state, HealthState::Down);
    assert!(
        error.contains(
            "tls: failed to verify certificate: x509: certificate signed by unknown authority"
        ),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scrape_with_insecure_skip_verify_accepts_an_unknown_ca() {
    let pki = Pki::new("vigil test CA", "scraper.test");
    let target = serve_https(metrics_app(), pki.server_config(false)).await;
    let (state, error, value) =
        scrape_once(&pki, target, "      insecure_skip_verify: true\n").await;
    assert_eq!((state, error.as_str()), (HealthState::Up, ""));
    assert_eq!(value, 7.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_name_is_the_name_the_certificate_must_match() {
    let pki = Pki::new("vigil test CA", "scraper.test");
    let target = serve_https(metrics_app(), pki.server_config(false)).await;
    let (state, error, _) = scrape_once(
        &pki,
        target,
        "      ca_file: ca.pem\n      server_name: localhost\n",
    )
    .await;
    assert_eq!((state, error.as_str()), (HealthState::Up, ""));

    let (state, error, _) = scrape_once(
        &pki,
        target,
        "      ca_file: ca.pem\n      server_name: elsewhere.test\n",
    )
    .await;
    assert_eq!(state, HealthState::Down);
    assert!(
        error.contains("tls: failed to verify certificate: x509: certificate not valid for name \"elsewhere.test\""),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_certificate_required_by_the_target_is_sent() {
    let pki = Pki::new("vigil test CA", "scraper.test");
    let target = serve_https(metrics_app(), pki.server_config(true)).await;
    let (state, error, value) = scrape_once(
        &pki,
        target,
        "      ca_file: ca.pem\n      cert_file: client.pem\n      key_file: client-key.pem\n",
    )
    .await;
    assert_eq!((state, error.as_str()), (HealthState::Up, ""));
    assert_eq!(value, 7.0);

    // Without one, the server ends the handshake.
    let (state, error, _) = scrape_once(&pki, target, "      ca_file: ca.pem\n").await;
    assert_eq!(state, HealthState::Down);
    assert!(!error.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_ca_file_is_the_targets_error() {
    let pki = Pki::new("vigil test CA", "scraper.test");
    let target = serve_https(metrics_app(), pki.server_config(false)).await;
    let (state, error, _) = scrape_once(&pki, target, "      ca_file: missing.pem\n").await;
    assert_eq!(state, HealthState::Down);
    let missing = pki.path("missing.pem");
    assert!(
        error.starts_with(&format!(
            "error creating HTTP client: unable to read CA cert: unable to read file {}",
            missing.display()
        )),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_version_below_min_version_is_the_targets_error() {
    let pki = Pki::new("vigil test CA", "scraper.test");
    let target = serve_https(metrics_app(), pki.server_config(false)).await;
    let (state, error, _) = scrape_once(
        &pki,
        target,
        "      min_version: TLS13\n      max_version: TLS12\n",
    )
    .await;
    assert_eq!(state, HealthState::Down);
    assert!(
        error.contains(
            "tls_config.max_version must be greater than or equal to tls_config.min_version"
        ),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls13_only_client_reaches_the_target() {
    let pki = Pki::new("vigil test CA", "scraper.test");
    let target = serve_https(metrics_app(), pki.server_config(false)).await;
    let (state, error, _) = scrape_once(
        &pki,
        target,
        "      ca_file: ca.pem\n      min_version: TLS13\n",
    )
    .await;
    assert_eq!((state, error.as_str()), (HealthState::Up, ""));
}

async fn write(State(db): State<Arc<Tsdb>>, headers: HeaderMap, body: Bytes) -> Response {
    tokio::task::spawn_blocking(move || respond(&db, &headers, &body))
        .await
        .unwrap()
        .into_response()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remote_write_over_https_with_ca_file_and_client_certificate() {
    let pki = Pki::new("vigil test CA", "scraper.test");
    let rx_dir = tempfile::tempdir().unwrap();
    let rx = Arc::new(Tsdb::open(rx_dir.path(), Options::default()).unwrap());
    let app = Router::new()
        .route("/api/v1/write", post(write))
        .with_state(rx.clone());
    let addr = serve_https(app, pki.server_config(true)).await;

    let yaml = format!(
        "url: https://localhost:{}/api/v1/write\nname: secure\nqueue_config:\n  batch_send_deadline: 20ms\n  min_backoff: 10ms\n  max_backoff: 40ms\ntls_config:\n  ca_file: {}\n  cert_file: {}\n  key_file: {}\n",
        addr.port(),
        pki.path("ca.pem").display(),
        pki.path("client.pem").display(),
        pki.path("client-key.pem").display(),
    );
    let config: RemoteWriteConfig = yaml_serde::from_str(&yaml).unwrap();
    let queue_dir = tempfile::tempdir().unwrap();
    let metrics = RemoteMetrics::register(&Registry::new()).unwrap();
    let writer =
        RemoteWriter::start(&config, &Default::default(), queue_dir.path(), &metrics).unwrap();
    let now = chrono::Utc::now().timestamp_millis();
    let labels = model::Labels::from_pairs([("__name__", "sent_over_tls"), ("job", "w")]);
    writer.enqueue(&[(labels, now, 42.0)]).unwrap();

    let start = Instant::now();
    loop {
        let querier = rx.querier(0, i64::MAX / 2).unwrap();
        let got: Vec<(i64, f64)> = querier
            .select(&[Matcher::new(MatchOp::Equal, "__name__", "sent_over_tls").unwrap()])
            .unwrap()
            .iter()
            .flat_map(|s| s.samples().collect::<Vec<_>>())
            .collect();
        if !got.is_empty() {
            assert_eq!(got, [(now, 42.0)]);
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the sample never arrived"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    writer.shutdown().await;
}
