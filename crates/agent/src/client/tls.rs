//! The HTTP client of one Loki client: HTTP/1.1 over rustls, with
//! `tls_config` applied.

use std::path::Path;
use std::sync::OnceLock;

use super::ClientError;
use crate::config::{ClientConfig, TlsVersion};

/// Builds the HTTP client for `config`. Like Promtail: HTTP/2 off, no
/// proxy from the environment (Promtail uses only a configured
/// `proxy_url`), `timeout` for the whole request; the system's roots are
/// trusted, or with `ca_file` only its certificates.
pub(crate) fn http_client(config: &ClientConfig) -> Result<reqwest::Client, ClientError> {
    let tls = &config.tls;
    let mut builder = reqwest::Client::builder()
        .use_rustls_tls()
        .http1_only()
        .no_proxy()
        .timeout(config.timeout);
    if let Some(ca_file) = &tls.ca_file {
        let pem = read(ca_file)?;
        let certs =
            reqwest::Certificate::from_pem_bundle(&pem).map_err(|source| ClientError::Pem {
                file: ca_file.clone(),
                source,
            })?;
        for cert in certs {
            builder = builder.add_root_certificate(cert);
        }
    } else {
        for cert in system_roots() {
            builder = builder.add_root_certificate(cert.clone());
        }
    }
    match (&tls.cert_file, &tls.key_file) {
        (Some(cert_file), Some(key_file)) => {
            let mut pem = read(cert_file)?;
            pem.push(b'\n');
            pem.extend(read(key_file)?);
            let identity =
                reqwest::Identity::from_pem(&pem).map_err(|source| ClientError::Pem {
                    file: cert_file.clone(),
                    source,
                })?;
            builder = builder.identity(identity);
        }
        (None, None) => {}
        _ => return Err(ClientError::CertWithoutKey),
    }
    // rustls speaks TLS 1.2 and 1.3; an older minimum is met by 1.2, as
    // Go's client, which refuses 1.0 and 1.1 by default, meets it.
    builder = builder.min_tls_version(match tls.min_version {
        Some(TlsVersion::Tls13) => reqwest::tls::Version::TLS_1_3,
        _ => reqwest::tls::Version::TLS_1_2,
    });
    match tls.max_version {
        Some(TlsVersion::Tls10 | TlsVersion::Tls11) => return Err(ClientError::TlsVersion),
        Some(TlsVersion::Tls12) => {
            builder = builder.max_tls_version(reqwest::tls::Version::TLS_1_2)
        }
        Some(TlsVersion::Tls13) | None => {}
    }
    if let Some(url) = &config.proxy_url {
        let proxy =
            reqwest::Proxy::all(url).map_err(|_| ClientError::BadProxy { url: url.clone() })?;
        builder = builder.proxy(proxy);
    }
    if tls.insecure_skip_verify {
        builder = builder.danger_accept_invalid_certs(true);
    }
    if let Some(name) = &tls.server_name {
        // reqwest checks the certificate against the URL's host and has no
        // way to name another; said once, at start.
        tracing::warn!(server_name = %name, "tls_config.server_name is not supported; the certificate is checked against the URL's host");
    }
    builder.build().map_err(ClientError::Http)
}

/// The system's trust store (what Go's crypto/tls uses, `SSL_CERT_FILE`
/// and `SSL_CERT_DIR` honoured), read once: it is hundreds of files.
fn system_roots() -> &'static [reqwest::Certificate] {
    static ROOTS: OnceLock<Vec<reqwest::Certificate>> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let found = rustls_native_certs::load_native_certs();
        for error in &found.errors {
            tracing::warn!("reading the system's CA certificates: {error}");
        }
        found
            .certs
            .iter()
            .filter_map(|der| reqwest::Certificate::from_der(der).ok())
            .collect()
    })
}

fn read(path: &Path) -> Result<Vec<u8>, ClientError> {
    std::fs::read(path).map_err(|source| ClientError::Read {
        file: path.to_owned(),
        source,
    })
}
