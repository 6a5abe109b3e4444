//! HTTP clients built from a `tls_config`, for scrapes and remote write.
//!
//! Every client carries a rustls configuration of our own rather than
//! reqwest's defaults, because Prometheus' `server_name` (verify the server
//! certificate for a name other than the URL's host) has no reqwest
//! setting. The rules follow prometheus/common's `NewTLSConfig`: a
//! configured CA replaces the system's roots instead of adding to them, a
//! client certificate is offered when both it and its key are set, and
//! `insecure_skip_verify` accepts any server certificate. Files are read
//! once, when the client is built.

use std::sync::{Arc, OnceLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{ClientConfig, WebPkiServerVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};

use crate::config::{TlsConfig, TlsVersion};

/// `builder` finished with the TLS settings of `tls`. The error reads as
/// prometheus/common's (`unable to use specified CA cert file ca.pem`).
pub(crate) fn build(
    tls: &TlsConfig,
    builder: reqwest::ClientBuilder,
) -> Result<reqwest::Client, String> {
    let config = rustls_config(tls)?;
    builder
        .use_preconfigured_tls(config)
        .build()
        .map_err(|e| e.to_string())
}

fn rustls_config(tls: &TlsConfig) -> Result<ClientConfig, String> {
    if let (Some(min), Some(max)) = (tls.min_version, tls.max_version) {
        if max < min {
            return Err("tls_config.max_version must be greater than or equal to tls_config.min_version if both are specified".into());
        }
    }
    // rustls speaks TLS 1.2 and 1.3 only; a lower min_version is met by
    // 1.2, as Go's client, which refuses 1.0 and 1.1 by default, meets it.
    let versions: Vec<&'static rustls::SupportedProtocolVersion> = [
        (TlsVersion::Tls12, &rustls::version::TLS12),
        (TlsVersion::Tls13, &rustls::version::TLS13),
    ]
    .into_iter()
    .filter(|(v, _)| tls.min_version.is_none_or(|min| *v >= min))
    .filter(|(v, _)| tls.max_version.is_none_or(|max| *v <= max))
    .map(|(_, version)| version)
    .collect();
    if versions.is_empty() {
        return Err("tls_config.max_version allows no supported TLS version (TLS12, TLS13)".into());
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());

    let verifier: Arc<dyn ServerCertVerifier> = if tls.insecure_skip_verify {
        Arc::new(AcceptAnyCertificate(provider.clone()))
    } else {
        let roots = match secret(&tls.ca, &tls.ca_file, &tls.ca_ref)
            .map_err(|e| format!("unable to use CA cert: {e}"))?
        {
            Some(ca) => {
                let pem = ca
                    .read()
                    .map_err(|e| format!("unable to read CA cert: {e}"))?;
                let mut roots = RootCertStore::empty();
                for cert in CertificateDer::pem_slice_iter(&pem).flatten() {
                    // A certificate rustls cannot use is skipped, as Go's
                    // AppendCertsFromPEM skips it.
                    let _ = roots.add(cert);
                }
                if roots.is_empty() {
                    return Err(format!(
                        "unable to use specified CA cert {}",
                        ca.description()
                    ));
                }
                Arc::new(roots)
            }
            None => system_roots(),
        };
        let webpki = WebPkiServerVerifier::builder_with_provider(roots, provider.clone())
            .build()
            .map_err(|e| format!("unable to use CA cert: {e}"))?;
        if tls.server_name.is_empty() {
            webpki as Arc<dyn ServerCertVerifier>
        } else {
            let name = ServerName::try_from(tls.server_name.clone())
                .map_err(|e| format!("invalid server_name {:?}: {e}", tls.server_name))?;
            Arc::new(VerifyAsName {
                inner: webpki,
                name,
            })
        }
    };

    let builder = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&versions)
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let cert = secret(&tls.cert, &tls.cert_file, &tls.cert_ref)
        .map_err(|e| format!("unable to use client cert: {e}"))?;
    let key = secret(&tls.key, &tls.key_file, &tls.key_ref)
        .map_err(|e| format!("unable to use client key: {e}"))?;
    match (cert, key) {
        (Some(cert), Some(key)) => {
            let cert_pem = cert
                .read()
                .map_err(|e| format!("unable to read specified client cert: {e}"))?;
            let key_pem = key
                .read()
                .map_err(|e| format!("unable to read specified client key: {e}"))?;
            let invalid = |e: String| {
                format!(
                    "unable to use specified client cert ({}) & key ({}): {e}",
                    cert.description(),
                    key.description()
                )
            };
            let chain = CertificateDer::pem_slice_iter(&cert_pem)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| invalid(e.to_string()))?;
            if chain.is_empty() {
                return Err(invalid("no certificate found".into()));
            }
            let key =
                PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| invalid(e.to_string()))?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| invalid(e.to_string()))
        }
        // Config loading refuses one without the other.
        _ => Ok(builder.with_no_client_auth()),
    }
}

/// A PEM value, inline or in a file (references fail before this).
enum Secret<'a> {
    Inline(&'a str),
    File(&'a str),
}

impl Secret<'_> {
    fn read(&self) -> Result<Vec<u8>, String> {
        match self {
            Secret::Inline(text) => Ok(text.as_bytes().to_vec()),
            Secret::File(path) => {
                std::fs::read(path).map_err(|e| format!("unable to read file {path}: {e}"))
            }
        }
    }

    /// As prometheus/common names it in errors.
    fn description(&self) -> String {
        match self {
            Secret::Inline(_) => "inline".to_owned(),
            Secret::File(path) => format!("file {path}"),
        }
    }
}

/// The form that is set; config loading made sure at most one is.
fn secret<'a>(
    inline: &'a str,
    file: &'a str,
    reference: &'a str,
) -> Result<Option<Secret<'a>>, String> {
    if !reference.is_empty() {
        // Prometheus configures no secret manager either.
        return Err("cannot use secret ref without manager".into());
    }
    Ok(if !inline.is_empty() {
        Some(Secret::Inline(inline))
    } else if !file.is_empty() {
        Some(Secret::File(file))
    } else {
        None
    })
}

/// The system's trust store, read once (it is hundreds of files). Go's
/// crypto/tls uses the same store, and honors `SSL_CERT_FILE` and
/// `SSL_CERT_DIR` as rustls-native-certs does.
fn system_roots() -> Arc<RootCertStore> {
    static ROOTS: OnceLock<Arc<RootCertStore>> = OnceLock::new();
    ROOTS
        .get_or_init(|| {
            let found = rustls_native_certs::load_native_certs();
            for error in &found.errors {
                tracing::warn!("reading the system's CA certificates: {error}");
            }
            let mut roots = RootCertStore::empty();
            roots.add_parsable_certificates(found.certs);
            Arc::new(roots)
        })
        .clone()
}

/// Checks the server certificate against `server_name` instead of the
/// URL's host.
#[derive(Debug)]
struct VerifyAsName {
    inner: Arc<WebPkiServerVerifier>,
    name: ServerName<'static>,
}

impl ServerCertVerifier for VerifyAsName {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.inner
            .verify_server_cert(end_entity, intermediates, &self.name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// `insecure_skip_verify`: any certificate for any name is accepted. The
/// handshake signatures are still checked, so the peer must hold the key
/// of the certificate it sent.
#[derive(Debug)]
struct AcceptAnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// A request error as text: reqwest's message and its causes, except that
/// a failed certificate check reads as Go's does (`tls: failed to verify
/// certificate: x509: certificate signed by unknown authority`), which is
/// what Prometheus users search for; timeouts read `context deadline
/// exceeded`.
pub(crate) fn describe(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        return "context deadline exceeded".to_owned();
    }
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(inner) = source {
        text.push_str(": ");
        if let Some(tls) = as_rustls(inner) {
            text.push_str(&describe_tls(tls));
            break;
        }
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    text
}

/// The rustls error inside `error`: itself, or the one `io::Error`s wrap
/// (hyper-util wraps tokio-rustls' `InvalidData` error in one of its own).
fn as_rustls<'a>(error: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    if let Some(tls) = error.downcast_ref::<rustls::Error>() {
        return Some(tls);
    }
    let inner = error.downcast_ref::<std::io::Error>()?.get_ref()?;
    as_rustls(inner)
}

fn describe_tls(error: &rustls::Error) -> String {
    use rustls::CertificateError;
    match error {
        rustls::Error::InvalidCertificate(cert) => {
            let x509 = match cert {
                CertificateError::UnknownIssuer => {
                    "certificate signed by unknown authority".to_owned()
                }
                CertificateError::Expired | CertificateError::NotValidYet => {
                    "certificate has expired or is not yet valid".to_owned()
                }
                other => other.to_string(),
            };
            format!("tls: failed to verify certificate: x509: {x509}")
        }
        other => format!("tls: {other}"),
    }
}
