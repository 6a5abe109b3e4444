//! Certificates and an https server for tests of `tls_config`: a CA made
//! for each test by rcgen, a server certificate it signed for `localhost`
//! and 127.0.0.1, and a client certificate it signed.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// A CA and the certificates it signed. `ca.pem`, `client.pem` and
/// `client-key.pem` are written in [`Pki::path`]'s directory.
pub struct Pki {
    dir: tempfile::TempDir,
    /// The CA's certificate.
    pub ca_pem: String,
    /// The server's certificate, for `localhost` and 127.0.0.1.
    pub server_pem: String,
    /// The server's key.
    pub server_key: String,
}

impl Pki {
    /// A new CA named `ca_name`, and a client certificate for `client_name`.
    pub fn new(ca_name: &str, client_name: &str) -> Pki {
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, ca_name);
        ca_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().expect("a key"))
            .expect("a CA");
        let leaf = |names: Vec<String>| {
            let key = KeyPair::generate().expect("a key");
            let cert = CertificateParams::new(names)
                .expect("leaf params")
                .signed_by(&key, &ca)
                .expect("signed");
            (cert.pem(), key.serialize_pem())
        };
        let (server_pem, server_key) = leaf(vec!["localhost".into(), "127.0.0.1".into()]);
        let (client_pem, client_key) = leaf(vec![client_name.into()]);
        let dir = tempfile::tempdir().expect("a directory");
        for (name, text) in [
            ("ca.pem", ca.pem()),
            ("client.pem", client_pem),
            ("client-key.pem", client_key),
        ] {
            std::fs::write(dir.path().join(name), text).expect("written");
        }
        Pki {
            dir,
            ca_pem: ca.pem(),
            server_pem,
            server_key,
        }
    }

    /// The directory of the PEM files.
    pub fn dir(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// A file of the directory (`ca.pem`, `client.pem`, `client-key.pem`).
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The server's rustls config; with `require_client_cert`, only
    /// clients with a certificate from the CA get through the handshake.
    pub fn server_config(&self, require_client_cert: bool) -> Arc<rustls::ServerConfig> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .expect("protocol versions");
        let builder = if require_client_cert {
            let mut roots = rustls::RootCertStore::empty();
            for cert in CertificateDer::pem_slice_iter(self.ca_pem.as_bytes()) {
                roots.add(cert.expect("a certificate")).expect("added");
            }
            let verifier =
                rustls::server::WebPkiClientVerifier::builder_with_provider(roots.into(), provider)
                    .build()
                    .expect("a verifier");
            builder.with_client_cert_verifier(verifier)
        } else {
            builder.with_no_client_auth()
        };
        let chain = CertificateDer::pem_slice_iter(self.server_pem.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .expect("the chain");
        let key = PrivateKeyDer::from_pem_slice(self.server_key.as_bytes()).expect("the key");
        Arc::new(builder.with_single_cert(chain, key).expect("a config"))
    }
}

/// A TCP listener that hands axum only the connections whose TLS
/// handshake succeeded.
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
            let handshake = self.acceptor.accept(stream);
            // A client that refuses our certificate, or has none to give,
            // fails here; the next connection is served.
            if let Ok(Ok(tls)) = tokio::time::timeout(Duration::from_secs(5), handshake).await {
                return (tls, addr);
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}

/// Serves `app` over https on 127.0.0.1 until the test's runtime ends.
pub async fn serve_https(app: Router, config: Arc<rustls::ServerConfig>) -> SocketAddr {
    let tcp = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let addr = tcp.local_addr().expect("an address");
    let listener = TlsListener {
        tcp,
        acceptor: TlsAcceptor::from(config),
    };
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}
