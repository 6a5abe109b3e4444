//! The client's `tls_config` against an https stand-in on 127.0.0.1, with
//! certificates made for each test by rcgen.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use agent::client::{Client, ClientMetrics};
use agent::config::{BackoffConfig, ClientConfig, LimitsConfig, TlsConfig, TlsVersion};
use agent::entry::{Entry, Sink};
use axum::Router;
use axum::routing::post;
use instrument::{MetricValue, Registry};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// A CA, a server certificate for `localhost` and 127.0.0.1, and a client
/// certificate, all signed by it; the CA and the client's files in `dir`.
struct Pki {
    dir: tempfile::TempDir,
    ca_pem: String,
    server_pem: String,
    server_key: String,
}

impl Pki {
    fn new() -> Pki {
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "vigil agent test CA");
        ca_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
        let leaf = |names: Vec<String>| {
            let key = KeyPair::generate().unwrap();
            let cert = CertificateParams::new(names)
                .unwrap()
                .signed_by(&key, &ca)
                .unwrap();
            (cert.pem(), key.serialize_pem())
        };
        let (server_pem, server_key) = leaf(vec!["localhost".into(), "127.0.0.1".into()]);
        let (client_pem, client_key) = leaf(vec!["agent.test".into()]);
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in [
            ("ca.pem", ca.pem()),
            ("client.pem", client_pem),
            ("client-key.pem", client_key),
        ] {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        Pki {
            dir,
            ca_pem: ca.pem(),
            server_pem,
            server_key,
        }
    }

    fn path(&self, name: &str) -> Option<PathBuf> {
        Some(self.dir.path().join(name))
    }

    /// Serves pushes over https; with `client_certs`, only clients with a
    /// certificate from the CA get through the handshake. Returns the push
    /// URL and the number of pushes answered.
    async fn serve(&self, client_certs: bool) -> (String, Arc<AtomicUsize>) {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .unwrap();
        let builder = if client_certs {
            let mut roots = rustls::RootCertStore::empty();
            for cert in CertificateDer::pem_slice_iter(self.ca_pem.as_bytes()) {
                roots.add(cert.unwrap()).unwrap();
            }
            let verifier =
                rustls::server::WebPkiClientVerifier::builder_with_provider(roots.into(), provider)
                    .build()
                    .unwrap();
            builder.with_client_cert_verifier(verifier)
        } else {
            builder.with_no_client_auth()
        };
        let chain = CertificateDer::pem_slice_iter(self.server_pem.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        let key = PrivateKeyDer::from_pem_slice(self.server_key.as_bytes()).unwrap();
        let config = Arc::new(builder.with_single_cert(chain, key).unwrap());

        let pushes = Arc::new(AtomicUsize::new(0));
        let counter = pushes.clone();
        let app = Router::new().route(
            "/loki/api/v1/push",
            post(move || {
                counter.fetch_add(1, Ordering::SeqCst);
                async { axum::http::StatusCode::NO_CONTENT }
            }),
        );
        let tcp = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = tcp.local_addr().unwrap();
        let listener = TlsListener {
            tcp,
            acceptor: TlsAcceptor::from(config),
        };
        tokio::spawn(async move { axum::serve(listener, app).await });
        (format!("https://{addr}/loki/api/v1/push"), pushes)
    }
}

/// Hands axum only the connections whose handshake succeeded.
struct TlsListener {
    tcp: tokio::net::TcpListener,
    acceptor: TlsAcceptor,
}

impl axum::serve::Listener for TlsListener {
    type Io = tokio_rustls::server::TlsStream<tokio::net::TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Ok((stream, addr)) = self.tcp.accept().await else {
                continue;
            };
            if let Ok(Ok(tls)) =
                tokio::time::timeout(Duration::from_secs(5), self.acceptor.accept(stream)).await
            {
                return (tls, addr);
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
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
    let pki = Pki::new();
    let (url, pushes) = pki.serve(false).await;
    let tls = TlsConfig {
        ca_file: pki.path("ca.pem"),
        ..TlsConfig::default()
    };
    assert_eq!(push_once(&url, tls).await, (1.0, 0.0));
    assert_eq!(pushes.load(Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_authority_is_refused_unless_verification_is_skipped() {
    let pki = Pki::new();
    let (url, pushes) = pki.serve(false).await;
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
    let pki = Pki::new();
    let (url, pushes) = pki.serve(true).await;
    let without = TlsConfig {
        ca_file: pki.path("ca.pem"),
        ..TlsConfig::default()
    };
    assert_eq!(push_once(&url, without.clone()).await, (0.0, 1.0));
    let with = TlsConfig {
        cert_file: pki.path("client.pem"),
        key_file: pki.path("client-key.pem"),
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
