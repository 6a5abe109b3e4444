//! The client's `tls_config` against an https stand-in on 127.0.0.1, with
//! certificates made for each test by rcgen.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use agent::client::{Client, ClientMetrics};
use agent::config::{BackoffConfig, ClientConfig, LimitsConfig, TlsConfig, TlsVersion};
use agent::entry::{Entry, Sink};
use axum::Router;
use axum::routing::post;
use instrument::{MetricValue, Registry};
use testkit::tls::{Pki, serve_https};

/// Serves pushes over https with `pki`'s server certificate; with
/// `client_certs`, only clients with a certificate from its CA get through
/// the handshake. Returns the push URL and the number of pushes answered.
async fn serve_pushes(pki: &Pki, client_certs: bool) -> (String, Arc<AtomicUsize>) {
    let pushes = Arc::new(AtomicUsize::new(0));
    let counter = pushes.clone();
    let app = Router::new().route(
        "/loki/api/v1/push",
        post(move || {
            counter.fetch_add(1, Ordering::SeqCst);
            async { axum::http::StatusCode::NO_CONTENT }
        }),
    );
    let addr = serve_https(app, pki.server_config(client_certs)).await;
    (format!("https://{addr}/loki/api/v1/push"), pushes)
}

/// Pushes one entry with `tls` (one attempt only) and returns how many
/// entries were sent and dropped.
async fn push_once(url: &str, tls: TlsConfig) -> (f64, f64) {
    let registry = Registry::new();
    let metrics = ClientMetrics::new(&registry).unwrap();
    // Built by mutation: the config's private fields rule out struct
    // update syntax outside the crate.
    let mut config = ClientConfig::default();
    config.url = url.to_owned();
    config.tls = tls;
    config.backoff = BackoffConfig {
        min_period: Duration::from_millis(1),
        max_period: Duration::from_millis(1),
        max_retries: 1,
    };
    let runtime = tokio::runtime::Handle::current();
    let client =
        Arc::new(Client::new(config, &LimitsConfig::default(), metrics, &runtime).unwrap());
    let sender = client.clone();
    tokio::task::spawn_blocking(move || {
        sender
            .send(Entry {
                line: "secret".into(),
                ts_ns: 1,
                ..Entry::default()
            })
            .unwrap();
    })
    .await
    .unwrap();
    client.drain(Duration::from_secs(20)).await.unwrap();
    let total = |name: &str| -> f64 {
        registry
            .gather()
            .into_iter()
            .filter(|f| f.name == name)
            .flat_map(|f| f.metrics)
            .map(|m| match m.value {
                MetricValue::Single(v) => v,
                _ => 0.0,
            })
            .sum()
    };
    (
        total("promtail_sent_entries_total"),
        total("promtail_dropped_entries_total"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_signed_by_ca_file_is_trusted() {
    let pki = Pki::new("vigil agent test CA", "agent.test");
    let (url, pushes) = serve_pushes(&pki, false).await;
    let tls = TlsConfig {
        ca_file: Some(pki.path("ca.pem")),
        ..TlsConfig::default()
    };
    assert_eq!(push_once(&url, tls).await, (1.0, 0.0));
    assert_eq!(pushes.load(Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_authority_is_refused_unless_verification_is_skipped() {
    let pki = Pki::new("vigil agent test CA", "agent.test");
    let (url, pushes) = serve_pushes(&pki, false).await;
    assert_eq!(push_once(&url, TlsConfig::default()).await, (0.0, 1.0));
    assert_eq!(pushes.load(Ordering::SeqCst), 0);
    let insecure = TlsConfig {
        insecure_skip_verify: true,
        ..TlsConfig::default()
    };
    assert_eq!(push_once(&url, insecure).await, (1.0, 0.0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_certificate_is_presented() {
    let pki = Pki::new("vigil agent test CA", "agent.test");
    let (url, pushes) = serve_pushes(&pki, true).await;
    let without = TlsConfig {
        ca_file: Some(pki.path("ca.pem")),
        ..TlsConfig::default()
    };
    assert_eq!(push_once(&url, without.clone()).await, (0.0, 1.0));
    let with = TlsConfig {
        cert_file: Some(pki.path("client.pem")),
        key_file: Some(pki.path("client-key.pem")),
        ..without
    };
    assert_eq!(push_once(&url, with).await, (1.0, 0.0));
    assert_eq!(pushes.load(Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreadable_or_half_tls_settings_are_errors() {
    let registry = Registry::new();
    let metrics = ClientMetrics::new(&registry).unwrap();
    let runtime = tokio::runtime::Handle::current();
    let limits = LimitsConfig::default();
    let with_tls = |tls: TlsConfig| {
        let mut config = ClientConfig::default();
        config.url = "https://127.0.0.1:1/".into();
        config.tls = tls;
        Client::new(config, &limits, metrics.clone(), &runtime)
            .err()
            .expect("refused")
            .to_string()
    };
    let missing = with_tls(TlsConfig {
        ca_file: Some("/nonexistent/ca.pem".into()),
        ..TlsConfig::default()
    });
    assert!(
        missing.starts_with("unable to read /nonexistent/ca.pem"),
        "{missing}"
    );
    let half = with_tls(TlsConfig {
        cert_file: Some("c.pem".into()),
        ..TlsConfig::default()
    });
    assert_eq!(
        half,
        "tls_config needs both cert_file and key_file, or neither"
    );
    let old = with_tls(TlsConfig {
        max_version: Some(TlsVersion::Tls11),
        ..TlsConfig::default()
    });
    assert_eq!(
        old,
        "tls_config.max_version allows no supported TLS version (TLS12, TLS13)"
    );
}
