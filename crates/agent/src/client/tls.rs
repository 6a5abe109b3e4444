//! The HTTP client of one Loki client: HTTP/1.1 over rustls, with
//! `tls_config` applied.

use std::path::Path;

use super::ClientError;
use super::config::ClientConfig;

/// Builds the HTTP client for `config`. Like Promtail: HTTP/2 off, no
/// proxy from the environment (Promtail uses only a configured
/// `proxy_url`), `timeout` for the whole request; with `ca_file`, its
/// certificates are the only roots trusted.
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
        builder = builder.tls_built_in_root_certs(false);
        for cert in certs {
            builder = builder.add_root_certificate(cert);
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

fn read(path: &Path) -> Result<Vec<u8>, ClientError> {
    std::fs::read(path).map_err(|source| ClientError::Read {
        file: path.to_owned(),
        source,
    })
}
