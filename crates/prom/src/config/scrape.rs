//! `scrape_configs` and `remote_write` entries, and the HTTP client
//! settings they share.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use super::GlobalConfig;
use gocompat::yaml::ByteSize;
use model::duration::PromDuration;
use model::is_valid_label_name;
use model::relabel::RelabelConfig;

/// Credentials and transport settings of an HTTP client.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpClientConfig {
    /// HTTP basic authentication.
    pub basic_auth: Option<BasicAuth>,
    /// An `Authorization` header.
    pub authorization: Option<Authorization>,
    /// Deprecated form of `authorization.credentials`.
    pub bearer_token: Option<String>,
    /// Deprecated form of `authorization.credentials_file`.
    pub bearer_token_file: Option<String>,
    /// OAuth 2 client credentials (accepted, not supported yet).
    pub oauth2: Option<yaml_serde::Value>,
    /// TLS settings of `https` connections.
    pub tls_config: TlsConfig,
    /// Proxy URL.
    pub proxy_url: Option<String>,
    /// Hosts that bypass the proxy.
    pub no_proxy: Option<String>,
    /// Take the proxy from the environment.
    pub proxy_from_environment: Option<bool>,
    /// Headers sent to the proxy on CONNECT.
    pub proxy_connect_header: Option<yaml_serde::Value>,
    /// Follow redirects (default true).
    pub follow_redirects: Option<bool>,
    /// Allow HTTP/2 (default true).
    pub enable_http2: Option<bool>,
    /// Extra headers (Prometheus 3).
    pub http_headers: Option<yaml_serde::Value>,
}

impl HttpClientConfig {
    /// Adds basic auth or an `Authorization` header (bearer by default) to
    /// a request. Secret files are read at each request, so a rotated
    /// secret is picked up without a reload.
    pub(crate) fn authorize(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<reqwest::RequestBuilder, String> {
        let read = |path: &str| {
            std::fs::read_to_string(path)
                .map(|s| s.trim_end_matches(['\n', '\r']).to_owned())
                .map_err(|e| format!("unable to read {path}: {e}"))
        };
        if let Some(basic) = &self.basic_auth {
            let username = match &basic.username_file {
                Some(file) => read(file)?,
                None => basic.username.clone(),
            };
            let password = match (&basic.password, &basic.password_file) {
                (_, Some(file)) => Some(read(file)?),
                (password, None) => password.clone(),
            };
            return Ok(request.basic_auth(username, password));
        }
        let (kind, credentials) = match (
            &self.authorization,
            &self.bearer_token,
            &self.bearer_token_file,
        ) {
            (Some(auth), _, _) => {
                let credentials = match &auth.credentials_file {
                    Some(file) => read(file)?,
                    None => auth.credentials.clone().unwrap_or_default(),
                };
                (auth.kind.clone(), credentials)
            }
            (None, Some(token), _) => ("Bearer".to_owned(), token.clone()),
            (None, None, Some(file)) => ("Bearer".to_owned(), read(file)?),
            (None, None, None) => return Ok(request),
        };
        Ok(request.header("Authorization", format!("{kind} {credentials}")))
    }

    /// Joins relative file paths with `dir`, the config file's folder, as
    /// Prometheus does (`SetDirectory` in prometheus/common).
    pub(super) fn set_directory(&mut self, dir: &Path) {
        let join = |file: &mut Option<String>| {
            if let Some(file) = file {
                *file = join_dir(dir, file);
            }
        };
        if let Some(basic) = &mut self.basic_auth {
            join(&mut basic.password_file);
            join(&mut basic.username_file);
        }
        if let Some(auth) = &mut self.authorization {
            join(&mut auth.credentials_file);
        }
        join(&mut self.bearer_token_file);
        let tls = &mut self.tls_config;
        for file in [&mut tls.ca_file, &mut tls.cert_file, &mut tls.key_file] {
            *file = join_dir(dir, file);
        }
    }

    fn validate(&self) -> Result<(), String> {
        self.tls_config.validate()?;
        let schemes = [
            self.basic_auth.is_some(),
            self.authorization.is_some(),
            self.oauth2.is_some(),
            self.bearer_token.is_some() || self.bearer_token_file.is_some(),
        ];
        if schemes.iter().filter(|s| **s).count() > 1 {
            return Err(
                "at most one of basic_auth, oauth2 & authorization must be configured".into(),
            );
        }
        if self.bearer_token.is_some() && self.bearer_token_file.is_some() {
            return Err(
                "at most one of bearer_token & bearer_token_file must be configured".into(),
            );
        }
        if let Some(auth) = &self.basic_auth {
            if auth.password.is_some() && auth.password_file.is_some() {
                return Err(
                    "at most one of basic_auth password & password_file must be configured".into(),
                );
            }
        }
        if let Some(auth) = &self.authorization {
            if auth.credentials.is_some() && auth.credentials_file.is_some() {
                return Err("at most one of authorization credentials & credentials_file must be configured".into());
            }
            if auth.kind.eq_ignore_ascii_case("basic") {
                return Err(
                    r#"authorization type cannot be set to "basic", use "basic_auth" instead"#
                        .into(),
                );
            }
        }
        Ok(())
    }
}

/// `tls_config`: how `https` connections verify the server and present a
/// client certificate. Certificates and keys are PEM, inline or in files;
/// files are read when the client is built.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TlsConfig {
    /// CA certificates, inline, replacing the system's.
    pub ca: String,
    /// File of CA certificates, replacing the system's.
    pub ca_file: String,
    /// Secret-manager reference of the CA (accepted; vigil has no secret
    /// manager, so a client using it cannot be built, as in Prometheus).
    pub ca_ref: String,
    /// Client certificate, inline.
    pub cert: String,
    /// File of the client certificate.
    pub cert_file: String,
    /// Secret-manager reference of the client certificate.
    pub cert_ref: String,
    /// Client key, inline.
    pub key: String,
    /// File of the client key.
    pub key_file: String,
    /// Secret-manager reference of the client key.
    pub key_ref: String,
    /// The name the server certificate must be valid for, instead of the
    /// URL's host.
    pub server_name: String,
    /// Accept any server certificate.
    pub insecure_skip_verify: bool,
    /// Lowest TLS version offered.
    pub min_version: Option<TlsVersion>,
    /// Highest TLS version offered.
    pub max_version: Option<TlsVersion>,
}

impl TlsConfig {
    /// The checks prometheus/common's `TLSConfig.Validate` makes at load;
    /// unreadable files and bad PEM are found when the client is built.
    fn validate(&self) -> Result<(), String> {
        let count = |fields: [&String; 3]| fields.iter().filter(|f| !f.is_empty()).count();
        if count([&self.ca, &self.ca_file, &self.ca_ref]) > 1 {
            return Err("at most one of ca, ca_file & ca_ref must be configured".into());
        }
        if count([&self.cert, &self.cert_file, &self.cert_ref]) > 1 {
            return Err("at most one of cert, cert_file & cert_ref must be configured".into());
        }
        if count([&self.key, &self.key_file, &self.key_ref]) > 1 {
            return Err("at most one of key and key_file must be configured".into());
        }
        let using_cert = count([&self.cert, &self.cert_file, &self.cert_ref]) > 0;
        let using_key = count([&self.key, &self.key_file, &self.key_ref]) > 0;
        if using_cert && !using_key {
            return Err("exactly one of key or key_file must be configured when a client certificate is configured".into());
        }
        if using_key && !using_cert {
            return Err("exactly one of cert or cert_file must be configured when a client key is configured".into());
        }
        Ok(())
    }
}

/// A TLS protocol version, spelled as Prometheus spells it (`TLS12`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TlsVersion {
    /// `TLS10`.
    Tls10,
    /// `TLS11`.
    Tls11,
    /// `TLS12`.
    Tls12,
    /// `TLS13`.
    Tls13,
}

impl<'de> Deserialize<'de> for TlsVersion {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        match text.as_str() {
            "TLS10" => Ok(TlsVersion::Tls10),
            "TLS11" => Ok(TlsVersion::Tls11),
            "TLS12" => Ok(TlsVersion::Tls12),
            "TLS13" => Ok(TlsVersion::Tls13),
            _ => Err(serde::de::Error::custom(format!(
                "unknown TLS version: {text}"
            ))),
        }
    }
}

/// `path` relative to `dir` unless it is empty or absolute
/// (prometheus/common's `JoinDir`).
fn join_dir(dir: &Path, path: &str) -> String {
    if path.is_empty() || Path::new(path).is_absolute() {
        path.to_owned()
    } else {
        dir.join(path).to_string_lossy().into_owned()
    }
}

/// `basic_auth`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BasicAuth {
    /// User name.
    pub username: String,
    /// Password.
    pub password: Option<String>,
    /// File holding the password.
    pub password_file: Option<String>,
    /// File holding the user name.
    pub username_file: Option<String>,
}

/// `authorization`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Authorization {
    /// The scheme (default `Bearer`).
    #[serde(rename = "type")]
    pub kind: String,
    /// The credentials.
    pub credentials: Option<String>,
    /// File holding the credentials.
    pub credentials_file: Option<String>,
}

impl Default for Authorization {
    fn default() -> Self {
        Self {
            kind: "Bearer".into(),
            credentials: None,
            credentials_file: None,
        }
    }
}

/// A list of targets sharing labels.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TargetGroup {
    /// `host:port` of each target.
    pub targets: Vec<String>,
    /// Labels of every target in the group.
    pub labels: BTreeMap<String, String>,
}

/// `static_configs` entries are target groups.
pub type StaticConfig = TargetGroup;

/// `file_sd_configs`: target groups read from JSON or YAML files.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FileSdConfig {
    /// Globs of `.json`, `.yml` or `.yaml` files.
    pub files: Vec<String>,
    /// Re-read period besides change notifications (5m).
    pub refresh_interval: PromDuration,
}

impl Default for FileSdConfig {
    fn default() -> Self {
        Self {
            files: Vec::new(),
            refresh_interval: PromDuration(std::time::Duration::from_secs(300)),
        }
    }
}

/// Names of the service discoveries Prometheus has and vigil accepts
/// without acting on them yet.
const UNSUPPORTED_DISCOVERY: [&str; 27] = [
    "azure_sd_configs",
    "consul_sd_configs",
    "digitalocean_sd_configs",
    "docker_sd_configs",
    "dockerswarm_sd_configs",
    "dns_sd_configs",
    "ec2_sd_configs",
    "eureka_sd_configs",
    "gce_sd_configs",
    "hetzner_sd_configs",
    "http_sd_configs",
    "ionos_sd_configs",
    "kubernetes_sd_configs",
    "kuma_sd_configs",
    "lightsail_sd_configs",
    "linode_sd_configs",
    "marathon_sd_configs",
    "nerve_sd_configs",
    "nomad_sd_configs",
    "openstack_sd_configs",
    "ovhcloud_sd_configs",
    "puppetdb_sd_configs",
    "scaleway_sd_configs",
    "serverset_sd_configs",
    "triton_sd_configs",
    "uyuni_sd_configs",
    "vultr_sd_configs",
];

/// One `scrape_configs` entry.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScrapeConfig {
    /// The `job` label of its targets; unique in the file.
    pub job_name: String,
    /// Time between scrapes (global default).
    pub scrape_interval: Option<PromDuration>,
    /// Scrape time limit (global default, capped at the interval).
    pub scrape_timeout: Option<PromDuration>,
    /// Path of the metrics (default `/metrics`).
    pub metrics_path: Option<String>,
    /// `http` or `https` (default `http`).
    pub scheme: Option<String>,
    /// URL query parameters.
    pub params: BTreeMap<String, Vec<String>>,
    /// Keep the target's labels on conflicts instead of `exported_`.
    pub honor_labels: bool,
    /// Keep timestamps the target exposes (default true).
    pub honor_timestamps: Option<bool>,
    /// Mark series with explicit timestamps stale too.
    pub track_timestamps_staleness: Option<bool>,
    /// Exposition protocols, in preference order.
    pub scrape_protocols: Option<Vec<String>>,
    /// Protocol to assume when the Content-Type is missing or unknown.
    pub fallback_scrape_protocol: Option<String>,
    /// Ask for gzip (default true).
    pub enable_compression: Option<bool>,
    /// Also keep classic histogram series.
    pub always_scrape_classic_histograms: Option<bool>,
    /// Older name of the above.
    pub scrape_classic_histograms: Option<bool>,
    /// Convert classic histograms to native ones.
    pub convert_classic_histograms_to_nhcb: Option<bool>,
    /// Largest accepted body.
    pub body_size_limit: Option<ByteSize>,
    /// Most samples per scrape after relabeling (0: none).
    pub sample_limit: Option<u64>,
    /// Most targets after relabeling (0: none).
    pub target_limit: Option<u64>,
    /// Most labels per sample (0: none).
    pub label_limit: Option<u64>,
    /// Longest label name (0: none).
    pub label_name_length_limit: Option<u64>,
    /// Longest label value (0: none).
    pub label_value_length_limit: Option<u64>,
    /// Native histogram bucket limit.
    pub native_histogram_bucket_limit: Option<u64>,
    /// Native histogram resolution limit.
    pub native_histogram_min_bucket_factor: Option<f64>,
    /// Dropped targets kept for the API.
    pub keep_dropped_targets: Option<u64>,
    /// `utf8` or `legacy`.
    pub metric_name_validation_scheme: Option<String>,
    /// Escaping of UTF-8 names.
    pub metric_name_escaping_scheme: Option<String>,
    /// Relabeling of targets.
    pub relabel_configs: Vec<RelabelConfig>,
    /// Relabeling of scraped samples.
    pub metric_relabel_configs: Vec<RelabelConfig>,
    /// Fixed targets.
    pub static_configs: Vec<StaticConfig>,
    /// Targets from files.
    pub file_sd_configs: Vec<FileSdConfig>,
    /// HTTP client settings, inline as in Prometheus.
    #[serde(flatten)]
    pub http: HttpClientConfig,
    #[serde(flatten)]
    discovery: UnsupportedDiscovery,
}

/// Other service discoveries: accepted, reported, not acted on.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
struct UnsupportedDiscovery {
    azure_sd_configs: Option<yaml_serde::Value>,
    consul_sd_configs: Option<yaml_serde::Value>,
    digitalocean_sd_configs: Option<yaml_serde::Value>,
    docker_sd_configs: Option<yaml_serde::Value>,
    dockerswarm_sd_configs: Option<yaml_serde::Value>,
    dns_sd_configs: Option<yaml_serde::Value>,
    ec2_sd_configs: Option<yaml_serde::Value>,
    eureka_sd_configs: Option<yaml_serde::Value>,
    gce_sd_configs: Option<yaml_serde::Value>,
    hetzner_sd_configs: Option<yaml_serde::Value>,
    http_sd_configs: Option<yaml_serde::Value>,
    ionos_sd_configs: Option<yaml_serde::Value>,
    kubernetes_sd_configs: Option<yaml_serde::Value>,
    kuma_sd_configs: Option<yaml_serde::Value>,
    lightsail_sd_configs: Option<yaml_serde::Value>,
    linode_sd_configs: Option<yaml_serde::Value>,
    marathon_sd_configs: Option<yaml_serde::Value>,
    nerve_sd_configs: Option<yaml_serde::Value>,
    nomad_sd_configs: Option<yaml_serde::Value>,
    openstack_sd_configs: Option<yaml_serde::Value>,
    ovhcloud_sd_configs: Option<yaml_serde::Value>,
    puppetdb_sd_configs: Option<yaml_serde::Value>,
    scaleway_sd_configs: Option<yaml_serde::Value>,
    serverset_sd_configs: Option<yaml_serde::Value>,
    triton_sd_configs: Option<yaml_serde::Value>,
    uyuni_sd_configs: Option<yaml_serde::Value>,
    vultr_sd_configs: Option<yaml_serde::Value>,
}

impl UnsupportedDiscovery {
    fn present(&self) -> [bool; 27] {
        [
            self.azure_sd_configs.is_some(),
            self.consul_sd_configs.is_some(),
            self.digitalocean_sd_configs.is_some(),
            self.docker_sd_configs.is_some(),
            self.dockerswarm_sd_configs.is_some(),
            self.dns_sd_configs.is_some(),
            self.ec2_sd_configs.is_some(),
            self.eureka_sd_configs.is_some(),
            self.gce_sd_configs.is_some(),
            self.hetzner_sd_configs.is_some(),
            self.http_sd_configs.is_some(),
            self.ionos_sd_configs.is_some(),
            self.kubernetes_sd_configs.is_some(),
            self.kuma_sd_configs.is_some(),
            self.lightsail_sd_configs.is_some(),
            self.linode_sd_configs.is_some(),
            self.marathon_sd_configs.is_some(),
            self.nerve_sd_configs.is_some(),
            self.nomad_sd_configs.is_some(),
            self.openstack_sd_configs.is_some(),
            self.ovhcloud_sd_configs.is_some(),
            self.puppetdb_sd_configs.is_some(),
            self.scaleway_sd_configs.is_some(),
            self.serverset_sd_configs.is_some(),
            self.triton_sd_configs.is_some(),
            self.uyuni_sd_configs.is_some(),
            self.vultr_sd_configs.is_some(),
        ]
    }
}

impl ScrapeConfig {
    /// Fills the global defaults in and checks the job as Prometheus does.
    pub(super) fn apply_defaults(&mut self, global: &GlobalConfig) -> Result<(), String> {
        let interval = *self.scrape_interval.get_or_insert(global.scrape_interval);
        let global_timeout = global.scrape_timeout.unwrap_or_default();
        let timeout = *self
            .scrape_timeout
            .get_or_insert(global_timeout.min(interval));
        if timeout > interval {
            return Err(format!(
                "scrape timeout greater than scrape interval for scrape config with job name {:?}",
                self.job_name
            ));
        }
        // A job without its own scrape limits takes the global ones, as
        // Prometheus (2.45 and later) fills them in at load time.
        self.body_size_limit = self.body_size_limit.or(global.body_size_limit);
        self.sample_limit = self.sample_limit.or(global.sample_limit);
        self.target_limit = self.target_limit.or(global.target_limit);
        self.label_limit = self.label_limit.or(global.label_limit);
        self.label_name_length_limit = self
            .label_name_length_limit
            .or(global.label_name_length_limit);
        self.label_value_length_limit = self
            .label_value_length_limit
            .or(global.label_value_length_limit);
        self.metrics_path.get_or_insert_with(|| "/metrics".into());
        // Prometheus accepts any scheme here and fails the scrapes instead.
        self.scheme.get_or_insert_with(|| "http".into());
        self.honor_timestamps.get_or_insert(true);
        self.http.validate()?;
        for group in &self.static_configs {
            for target in &group.targets {
                // Prometheus rejects URLs where a host:port is expected.
                if target.contains('/') {
                    return Err(format!("{target:?} is not a valid hostname"));
                }
            }
            for name in group.labels.keys() {
                if !is_valid_label_name(name) {
                    return Err(format!("{name:?} is not a valid label name"));
                }
            }
        }
        for file_sd in &self.file_sd_configs {
            for pattern in &file_sd.files {
                let ext_ok = [".json", ".yml", ".yaml"]
                    .iter()
                    .any(|ext| pattern.ends_with(ext));
                if !ext_ok {
                    return Err(format!(
                        "path name {pattern:?} is not valid for file discovery"
                    ));
                }
            }
        }
        for step in self
            .relabel_configs
            .iter()
            .chain(&self.metric_relabel_configs)
        {
            step.validate().map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    /// The service discoveries of this job that vigil does not run.
    pub fn unsupported_discovery(&self) -> Vec<&'static str> {
        UNSUPPORTED_DISCOVERY
            .iter()
            .zip(self.discovery.present())
            .filter(|(_, present)| *present)
            .map(|(name, _)| *name)
            .collect()
    }

    /// The interval after defaults.
    pub fn interval(&self) -> std::time::Duration {
        self.scrape_interval.unwrap_or_default().0
    }

    /// The timeout after defaults.
    pub fn timeout(&self) -> std::time::Duration {
        self.scrape_timeout.unwrap_or_default().0
    }
}

/// One `remote_write` entry.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RemoteWriteConfig {
    /// The endpoint.
    pub url: String,
    /// Name in metrics and logs.
    pub name: Option<String>,
    /// Per-request time limit (30s).
    pub remote_timeout: Option<PromDuration>,
    /// Extra headers.
    pub headers: BTreeMap<String, String>,
    /// Relabeling before sending.
    pub write_relabel_configs: Vec<RelabelConfig>,
    /// Send exemplars.
    pub send_exemplars: Option<bool>,
    /// Send native histograms.
    pub send_native_histograms: Option<bool>,
    /// Remote-write protocol message.
    pub protobuf_message: Option<String>,
    /// Queue tuning.
    pub queue_config: Option<yaml_serde::Value>,
    /// Metadata sending.
    pub metadata_config: Option<yaml_serde::Value>,
    /// AWS SigV4 (accepted, not supported yet).
    pub sigv4: Option<yaml_serde::Value>,
    /// Azure AD (accepted, not supported yet).
    pub azuread: Option<yaml_serde::Value>,
    /// Google IAM (accepted, not supported yet).
    pub google_iam: Option<yaml_serde::Value>,
    /// Round-robin DNS.
    pub round_robin_dns: Option<bool>,
    /// HTTP client settings, inline.
    #[serde(flatten)]
    pub http: HttpClientConfig,
}

impl RemoteWriteConfig {
    pub(super) fn validate(&self) -> Result<(), String> {
        if self.url.is_empty() {
            return Err("url for remote_write is empty".into());
        }
        if !(self.url.starts_with("http://") || self.url.starts_with("https://")) {
            return Err(format!("invalid remote_write url {:?}", self.url));
        }
        for name in self.headers.keys() {
            let reserved = [
                "authorization",
                "host",
                "content-encoding",
                "content-length",
                "content-type",
                "user-agent",
                "connection",
                "keep-alive",
                "proxy-authenticate",
                "proxy-authorization",
                "www-authenticate",
                "accept-encoding",
                "x-prometheus-remote-write-version",
                "x-prometheus-remote-read-version",
            ];
            if reserved.contains(&name.to_ascii_lowercase().as_str()) {
                return Err(format!(
                    "{name} is a reserved header. It must not be changed"
                ));
            }
        }
        for step in &self.write_relabel_configs {
            step.validate().map_err(|e| e.to_string())?;
        }
        self.http.validate()
    }
}
