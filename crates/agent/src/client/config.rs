//! What one client is told: Promtail 2.8's `clients[]` entry as plain Rust,
//! with Promtail's defaults.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use crate::entry::LabelSet;

/// One `clients[]` entry of promtail-config.yaml (the config module maps
/// the YAML onto it), plus the `limits_config` values Promtail hands every
/// client.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientConfig {
    /// `url`: the push endpoint, e.g. `http://127.0.0.1:3100/loki/api/v1/push`.
    pub url: String,
    /// `tenant_id`: sent as `X-Scope-OrgID` unless an entry's
    /// `__tenant_id__` label says otherwise; empty sends no header.
    pub tenant_id: String,
    /// `batchwait`: the oldest a batch gets before it is sent (1s).
    pub batch_wait: Duration,
    /// `batchsize`: the bytes of lines at which a batch is sent (1 MiB).
    pub batch_size: usize,
    /// `timeout`: how long one request may take (10s).
    pub timeout: Duration,
    /// `backoff_config`: how failed pushes are retried.
    pub backoff: BackoffConfig,
    /// `external_labels`: added to every entry; an entry's own label of the
    /// same name wins.
    pub external_labels: LabelSet,
    /// `basic_auth`.
    pub basic_auth: Option<BasicAuth>,
    /// `bearer_token`.
    pub bearer_token: Option<String>,
    /// `bearer_token_file`: read at each request, surrounding whitespace
    /// trimmed.
    pub bearer_token_file: Option<PathBuf>,
    /// `headers`: added to each request unless the client sets the header
    /// itself (`Content-Type`, `User-Agent`, `X-Scope-OrgID`).
    pub headers: BTreeMap<String, String>,
    /// `tls_config`.
    pub tls: TlsConfig,
    /// `drop_rate_limited_batches`: a batch answered 429 is dropped at once
    /// instead of retried.
    pub drop_rate_limited_batches: bool,
    /// `limits_config.max_streams`: streams a batch may hold; an entry of a
    /// further stream is dropped (`stream_limited`). 0: no limit.
    pub max_streams: usize,
    /// `limits_config.max_line_size`: bytes a line may have; 0: no limit.
    pub max_line_size: usize,
    /// `limits_config.max_line_size_truncate`: a longer line is cut to
    /// `max_line_size` instead of dropped (`line_too_long`).
    pub max_line_size_truncate: bool,
}

impl Default for ClientConfig {
    /// Promtail 2.8's defaults, with no URL.
    fn default() -> Self {
        Self {
            url: String::new(),
            tenant_id: String::new(),
            batch_wait: Duration::from_secs(1),
            batch_size: 1 << 20,
            timeout: Duration::from_secs(10),
            backoff: BackoffConfig::default(),
            external_labels: LabelSet::new(),
            basic_auth: None,
            bearer_token: None,
            bearer_token_file: None,
            headers: BTreeMap::new(),
            tls: TlsConfig::default(),
            drop_rate_limited_batches: false,
            max_streams: 0,
            max_line_size: 0,
            max_line_size_truncate: false,
        }
    }
}

/// `backoff_config`: waits between attempts grow from `min_period`,
/// doubling, up to `max_period`, each drawn at random within its step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackoffConfig {
    /// `min_period` (500ms).
    pub min_period: Duration,
    /// `max_period` (5m).
    pub max_period: Duration,
    /// `max_retries` (10): attempts before the batch is dropped; 0 retries
    /// for ever, as in Promtail.
    pub max_retries: u32,
}

impl Default for BackoffConfig {
    fn default() -> Self {
        Self {
            min_period: Duration::from_millis(500),
            max_period: Duration::from_secs(300),
            max_retries: 10,
        }
    }
}

/// `basic_auth`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BasicAuth {
    /// `username`.
    pub username: String,
    /// `password`.
    pub password: Option<String>,
    /// `password_file`: read at each request, surrounding whitespace
    /// trimmed.
    pub password_file: Option<PathBuf>,
}

/// `tls_config`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsConfig {
    /// `ca_file`: PEM certificates trusted instead of the system's roots.
    pub ca_file: Option<PathBuf>,
    /// `cert_file`: the client certificate (PEM), with `key_file`.
    pub cert_file: Option<PathBuf>,
    /// `key_file`: the client certificate's private key (PEM).
    pub key_file: Option<PathBuf>,
    /// `server_name`: the name the server's certificate must carry, when it
    /// is not the URL's host.
    pub server_name: Option<String>,
    /// `insecure_skip_verify`: the server's certificate is not checked.
    pub insecure_skip_verify: bool,
}
