//! `clients`: where the agent pushes, with Promtail 2.8's defaults.

use std::path::PathBuf;
use std::time::Duration;

use super::TlsVersion;
use super::file::{AuthorizationFile, BasicAuthFile, ClientFile, TlsFile};
use super::values::GoString;
use crate::entry::LabelSet;

/// One Loki endpoint to push to, as Promtail's `client.Config`.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientConfig {
    /// `name`: tells clients apart in logs; empty when not set.
    pub name: String,
    /// `url`: the push endpoint (`http://loki:3100/loki/api/v1/push`).
    /// Empty when neither the file nor `--client.url` gives one, which
    /// [`super::Config::validate`] refuses.
    pub url: String,
    /// `tenant_id`: sent as `X-Scope-OrgID`; empty for none (Loki's
    /// single-tenant mode). A `__tenant_id__` label on an entry wins.
    pub tenant_id: String,
    /// `batchwait`: the longest a batch waits before it is sent (1s).
    pub batch_wait: Duration,
    /// `batchsize`: the size in bytes of log lines at which a batch is sent
    /// without waiting (1 MiB).
    pub batch_size: usize,
    /// `timeout`: how long one push may take (10s).
    pub timeout: Duration,
    /// `backoff_config`: retries of 429, 5xx and failed connections.
    pub backoff: BackoffConfig,
    /// `external_labels`, after the labels of `--client.external-labels`
    /// (or of the legacy `client` block) were merged under them.
    pub external_labels: LabelSet,
    /// `headers`: sent with every push.
    pub headers: LabelSet,
    /// `basic_auth`, `authorization`, `bearer_token` or
    /// `bearer_token_file`, whichever the file sets (at most one).
    pub auth: Option<ClientAuth>,
    /// `tls_config`.
    pub tls: TlsConfig,
    /// `proxy_url`, when set.
    pub proxy_url: Option<String>,
    /// `drop_rate_limited_batches`: drop a batch answered 429 instead of
    /// retrying it (false).
    pub drop_rate_limited_batches: bool,
    /// `stream_lag_labels`, as written; Promtail 2.8 refuses to start when
    /// it is not empty (see [`super::Config::validate`]).
    pub stream_lag_labels: String,
    /// Whether the block asks for OAuth2, which vigil does not do.
    pub(crate) oauth2: bool,
}

/// `backoff_config`: dskit's exponential backoff.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackoffConfig {
    /// `min_period`: the first wait (500ms).
    pub min_period: Duration,
    /// `max_period`: the longest wait (5m).
    pub max_period: Duration,
    /// `max_retries`: tries before the batch is dropped (10); 0 retries
    /// forever, as in dskit.
    pub max_retries: usize,
}

/// How a client authenticates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientAuth {
    /// `basic_auth`.
    Basic {
        /// `username`.
        username: String,
        /// `password` or `password_file`.
        password: Secret,
    },
    /// `authorization` (`type` default `Bearer`), or `bearer_token` /
    /// `bearer_token_file`, which Prometheus turns into the same.
    Authorization {
        /// The scheme before the credentials (`Bearer`).
        scheme: String,
        /// `credentials` or `credentials_file`.
        credentials: Secret,
    },
}

/// A secret written in the file or read from a file at each request (so a
/// rotated token is picked up, as Prometheus' client does).
#[derive(Clone, PartialEq, Eq)]
pub enum Secret {
    /// Written in the config.
    Inline(String),
    /// The path of a file holding it; surrounding whitespace is trimmed
    /// when read.
    File(PathBuf),
}

impl std::fmt::Debug for Secret {
    /// Never shows an inline secret, as Prometheus' `<secret>`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Secret::Inline(_) => f.write_str("Inline(<secret>)"),
            Secret::File(path) => f.debug_tuple("File").field(path).finish(),
        }
    }
}

/// `tls_config`: how the client checks the server and presents itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsConfig {
    /// `ca_file`: CA certificates to trust instead of the system's.
    pub ca_file: Option<PathBuf>,
    /// `cert_file`: a client certificate.
    pub cert_file: Option<PathBuf>,
    /// `key_file`: its key.
    pub key_file: Option<PathBuf>,
    /// `server_name`: the name to verify the certificate against.
    pub server_name: Option<String>,
    /// `insecure_skip_verify` (false).
    pub insecure_skip_verify: bool,
    /// `min_version`.
    pub min_version: Option<TlsVersion>,
    /// `max_version`.
    pub max_version: Option<TlsVersion>,
}

impl Default for BackoffConfig {
    fn default() -> Self {
        Self {
            min_period: Duration::from_millis(500),
            max_period: Duration::from_secs(5 * 60),
            max_retries: 10,
        }
    }
}

impl Default for ClientConfig {
    /// Promtail's defaults for a client block that sets nothing.
    fn default() -> Self {
        Self {
            name: String::new(),
            url: String::new(),
            tenant_id: String::new(),
            batch_wait: Duration::from_secs(1),
            batch_size: 1 << 20,
            timeout: Duration::from_secs(10),
            backoff: BackoffConfig::default(),
            external_labels: LabelSet::new(),
            headers: LabelSet::new(),
            auth: None,
            tls: TlsConfig::default(),
            proxy_url: None,
            drop_rate_limited_batches: false,
            stream_lag_labels: String::new(),
            oauth2: false,
        }
    }
}

/// A string setting, `None` when absent or empty.
fn text(value: Option<GoString>) -> Option<String> {
    value.map(|v| v.0).filter(|v| !v.is_empty())
}

impl ClientConfig {
    /// The defaults, overridden by what the block sets. The block was
    /// checked for conflicting credentials while it was read.
    pub(crate) fn from_file(file: ClientFile) -> ClientConfig {
        let d = ClientConfig::default();
        let backoff = file.backoff_config.unwrap_or_default();
        ClientConfig {
            name: text(file.name).unwrap_or_default(),
            url: text(file.url).unwrap_or_default(),
            tenant_id: text(file.tenant_id).unwrap_or_default(),
            batch_wait: file.batchwait.map_or(d.batch_wait, |v| v.0),
            batch_size: file.batchsize.map_or(d.batch_size, |v| v.0),
            timeout: file.timeout.map_or(d.timeout, |v| v.0),
            backoff: BackoffConfig {
                min_period: backoff.min_period.map_or(d.backoff.min_period, |v| v.0),
                max_period: backoff.max_period.map_or(d.backoff.max_period, |v| v.0),
                max_retries: backoff.max_retries.map_or(d.backoff.max_retries, |v| v.0),
            },
            external_labels: file.external_labels.map(|l| l.0).unwrap_or_default(),
            headers: file
                .headers
                .unwrap_or_default()
                .into_iter()
                .map(|(k, v)| (k, v.0))
                .collect(),
            auth: auth(
                file.basic_auth,
                file.authorization,
                text(file.bearer_token),
                text(file.bearer_token_file),
            ),
            tls: file.tls_config.map(tls).unwrap_or_default(),
            proxy_url: text(file.proxy_url),
            drop_rate_limited_batches: file.drop_rate_limited_batches.is_some_and(|v| v.0),
            stream_lag_labels: text(file.stream_lag_labels).unwrap_or_default(),
            oauth2: file.oauth2.is_some(),
        }
    }
}

/// The one way of authenticating the block sets, as Prometheus' client
/// resolves it (a bearer token is an `authorization` of type `Bearer`).
fn auth(
    basic: Option<BasicAuthFile>,
    authorization: Option<AuthorizationFile>,
    bearer_token: Option<String>,
    bearer_token_file: Option<String>,
) -> Option<ClientAuth> {
    if let Some(basic) = basic {
        let password = match text(basic.password_file) {
            Some(path) => Secret::File(path.into()),
            None => Secret::Inline(text(basic.password).unwrap_or_default()),
        };
        return Some(ClientAuth::Basic {
            username: text(basic.username).unwrap_or_default(),
            password,
        });
    }
    if let Some(a) = authorization {
        let credentials = match text(a.credentials_file) {
            Some(path) => Secret::File(path.into()),
            None => Secret::Inline(text(a.credentials).unwrap_or_default()),
        };
        return Some(ClientAuth::Authorization {
            scheme: text(a.kind.map(|k| GoString(k.0.trim().to_owned())))
                .unwrap_or_else(|| "Bearer".to_owned()),
            credentials,
        });
    }
    let credentials = match (bearer_token, bearer_token_file) {
        (Some(token), _) => Secret::Inline(token),
        (None, Some(path)) => Secret::File(path.into()),
        (None, None) => return None,
    };
    Some(ClientAuth::Authorization {
        scheme: "Bearer".to_owned(),
        credentials,
    })
}

fn tls(file: TlsFile) -> TlsConfig {
    TlsConfig {
        ca_file: text(file.ca_file).map(PathBuf::from),
        cert_file: text(file.cert_file).map(PathBuf::from),
        key_file: text(file.key_file).map(PathBuf::from),
        server_name: text(file.server_name),
        insecure_skip_verify: file.insecure_skip_verify.is_some_and(|v| v.0),
        min_version: file.min_version,
        max_version: file.max_version,
    }
}
