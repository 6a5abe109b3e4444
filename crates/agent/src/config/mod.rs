//! promtail-config.yaml: the model, Promtail 2.8's defaults, and loading
//! with errors that name the file, the line and the problem.
//!
//! A file Promtail 2.8 reads loads unchanged; vigil refuses what Promtail
//! refuses when it reads the file (`yaml.UnmarshalStrict`): an unknown key,
//! a value of the wrong type, a bad duration, size or label name, an empty
//! `job_name`, conflicting credentials. [`Config::validate`] makes the
//! checks Promtail makes when it starts (a client with a URL, a target kind
//! per job). Keys vigil accepts without acting on them (gRPC, server
//! timeouts, tracing, Promtail's WAL, …) are listed by
//! [`Config::not_applicable`]; target kinds it does not run (`journal`,
//! `syslog`, `kubernetes_sd_configs`, …) by [`Config::not_supported`],
//! naming the job, so the agent can say at start what it ignores.
//!
//! Promtail's command-line overrides (`--client.url`,
//! `--client.external-labels`) are applied with [`Config::apply`]; see
//! [`Overrides`].
//!
//! ```
//! use agent::config::Config;
//!
//! let text = "
//! clients:
//!   - url: http://127.0.0.1:3100/loki/api/v1/push
//! scrape_configs:
//!   - job_name: app
//!     static_configs:
//!       - labels: {job: app, __path__: /var/log/app/*.log}
//! ";
//! let config = Config::parse(text, "promtail.yaml").unwrap();
//! assert_eq!(config.clients[0].batch_wait.as_secs(), 1);
//! assert_eq!(config.server.http_listen_port, 80);
//! assert_eq!(config.scrape_configs[0].static_configs[0].path(), Some("/var/log/app/*.log"));
//! ```

mod client;
mod file;
mod flags;
mod scrape;
mod values;

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

pub use client::{BackoffConfig, ClientAuth, ClientConfig, Secret, TlsConfig};
pub use flags::{Overrides, parse_external_labels};
pub use scrape::{
    FileSdConfig, NotSupported, PATH_EXCLUDE_LABEL, PATH_LABEL, ScrapeConfig, StaticConfig,
    TargetKind,
};

use file::FileConfig;
pub use gocompat::yaml::{FileError, Location};
use gocompat::yaml::{Messages, Ties};

/// How yaml_serde's messages are put to Promtail's users: Rust's type
/// names in the config's words; of equally near keys, the first in
/// alphabetical order is suggested.
const MESSAGES: Messages = Messages {
    words: &[
        ("expected u16", "expected a port number"),
        ("expected f64", "expected a number"),
        ("expected i128", "expected an integer"),
        ("invalid type: unit value", "invalid type: null"),
    ],
    ties: Ties::Alphabetical,
};

/// One item of a job's `pipeline_stages`, checked as Promtail checks a
/// stage's options (a bad regex or template names its line).
pub type PipelineStage = crate::pipeline::StageConfig;

/// One item of a job's `relabel_configs`: Prometheus' relabel step,
/// checked as Prometheus checks it.
pub type RelabelStep = model::relabel::RelabelConfig;

/// promtail-config.yaml with Promtail 2.8's defaults filled in.
#[derive(Debug, Clone)]
pub struct Config {
    /// `server`.
    pub server: ServerConfig,
    /// The clients to push to: `clients`, then the legacy `client` block
    /// when it has a URL, as Promtail merges them; after [`Config::apply`],
    /// with the command line's overrides.
    pub clients: Vec<ClientConfig>,
    /// `positions`.
    pub positions: PositionsConfig,
    /// `scrape_configs`.
    pub scrape_configs: Vec<ScrapeConfig>,
    /// `target_config`.
    pub target_config: TargetConfig,
    /// `limits_config`.
    pub limits: LimitsConfig,
    /// The file's name, for errors found after loading.
    file: String,
    /// `clients` as the file writes them, before the flags.
    file_clients: Vec<ClientConfig>,
    /// The legacy `client` block, when the file has one.
    legacy_client: Option<ClientConfig>,
    /// Dotted paths of the keys in the file vigil does not act on.
    not_applicable: Vec<String>,
}

/// `server`: the agent's own HTTP server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    /// `http_listen_address`: empty means every interface (the default).
    pub http_listen_address: String,
    /// `http_listen_port`: Promtail's default is 80 (weaveworks' server);
    /// its documented configs set 9080.
    pub http_listen_port: u16,
    /// `disable`: no HTTP server at all (false).
    pub disable: bool,
    /// `log_level` (info).
    pub log_level: LogLevel,
    /// `log_format` (logfmt).
    pub log_format: LogFormat,
    /// `health_check_target`: whether `/ready` needs a target being read
    /// (true).
    pub health_check_target: bool,
}

/// `server.log_level`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LogLevel {
    /// `debug`.
    Debug,
    /// `info`.
    #[default]
    Info,
    /// `warn`.
    Warn,
    /// `error`.
    Error,
}

/// `server.log_format`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LogFormat {
    /// `logfmt`.
    #[default]
    Logfmt,
    /// `json`.
    Json,
}

/// A TLS protocol version, as `tls_config.min_version` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
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

/// `positions`: where read offsets are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PositionsConfig {
    /// `filename` (`/var/log/positions.yaml`).
    pub filename: PathBuf,
    /// `sync_period`: how often the file is written (10s).
    pub sync_period: Duration,
    /// `ignore_invalid_yaml`: start afresh from a corrupt file instead of
    /// failing (false).
    pub ignore_invalid_yaml: bool,
}

/// `target_config`: the file targets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetConfig {
    /// `sync_period`: how often globs are re-evaluated (10s).
    pub sync_period: Duration,
    /// `stdin`: read standard input instead of the targets (false).
    pub stdin: bool,
}

/// `limits_config`.
#[derive(Debug, Clone, PartialEq)]
pub struct LimitsConfig {
    /// `readline_rate`: lines per second, when enabled (10000).
    pub readline_rate: f64,
    /// `readline_burst` (10000).
    pub readline_burst: usize,
    /// `readline_rate_enabled` (false).
    pub readline_rate_enabled: bool,
    /// `readline_rate_drop`: drop lines over the rate instead of waiting
    /// (true).
    pub readline_rate_drop: bool,
    /// `max_streams`: most streams per batch; 0 is no limit (0).
    pub max_streams: usize,
    /// `max_line_size` in bytes; 0 is no limit (0).
    pub max_line_size: u64,
    /// `max_line_size_truncate`: truncate longer lines instead of dropping
    /// them (false).
    pub max_line_size_truncate: bool,
}

/// Why a config could not be loaded or used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// The text is not a config Promtail would accept, or would start
    /// with. Displayed as `file:line:column: problem` (without the line
    /// when the problem is not at one place).
    #[error(transparent)]
    Invalid(#[from] FileError),
    /// A command-line override is malformed.
    #[error("invalid value for {flag}: {message}")]
    Flag {
        /// The flag, as Promtail spells it (`-client.external-labels`).
        flag: &'static str,
        /// What is wrong.
        message: String,
    },
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            http_listen_address: String::new(),
            http_listen_port: 80,
            disable: false,
            log_level: LogLevel::Info,
            log_format: LogFormat::Logfmt,
            health_check_target: true,
        }
    }
}

impl Default for PositionsConfig {
    fn default() -> Self {
        Self {
            filename: PathBuf::from("/var/log/positions.yaml"),
            sync_period: Duration::from_secs(10),
            ignore_invalid_yaml: false,
        }
    }
}

impl Default for TargetConfig {
    fn default() -> Self {
        Self {
            sync_period: Duration::from_secs(10),
            stdin: false,
        }
    }
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            readline_rate: 10_000.0,
            readline_burst: 10_000,
            readline_rate_enabled: false,
            readline_rate_drop: true,
            max_streams: 0,
            max_line_size: 0,
            max_line_size_truncate: false,
        }
    }
}

impl Default for Config {
    /// Promtail's defaults, as for an empty file (which has no client).
    fn default() -> Self {
        Config::from_file(FileConfig::default(), String::new(), Vec::new())
    }
}

impl Config {
    /// Reads a config file. With `expand_env` (Promtail's
    /// `-config.expand-env`), `${VAR}` and `${VAR:-default}` are replaced
    /// from the environment first.
    pub fn load(path: &Path, expand_env: bool) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let name = path.display().to_string();
        if expand_env {
            return Config::parse(&self::expand_env(&text, &name)?, &name);
        }
        Config::parse(&text, &name).map_err(|e| match e {
            // Promtail's hint, given only where it can help.
            ConfigError::Invalid(mut error) if text.contains("${") => {
                error.message.push_str(
                    " (use -config.expand-env=true to expand environment variables in the config file)",
                );
                ConfigError::Invalid(error)
            }
            e => e,
        })
    }

    /// Reads the config named by `-config.file` as Promtail does: the
    /// value may list several files separated by commas, and the first
    /// that exists is read.
    pub fn load_config_file_flag(value: &str, expand_env: bool) -> Result<Config, ConfigError> {
        let found = value
            .split(',')
            .map(str::trim)
            .find(|path| Path::new(path).exists());
        match found {
            Some(path) => Config::load(Path::new(path), expand_env),
            None => Err(ConfigError::Flag {
                flag: "-config.file",
                message: format!("{value} does not exist, set config.file for custom config path"),
            }),
        }
    }

    /// Parses config text; `file_name` names it in errors.
    pub fn parse(text: &str, file_name: &str) -> Result<Config, ConfigError> {
        let invalid = |e: yaml_serde::Error| ConfigError::from(MESSAGES.error(file_name, text, &e));
        // The document as plain YAML says which keys are present, for
        // `not_applicable`; the typed decoding below checks them.
        let document: yaml_serde::Value = yaml_serde::from_str(text).map_err(invalid)?;
        if document.is_null() {
            // An empty file, or one of comments only: all defaults.
            return Ok(Config::from_file(
                FileConfig::default(),
                file_name.to_owned(),
                Vec::new(),
            ));
        }
        if has_merge_key(&document) {
            // yaml.v2 honours YAML 1.1 merge keys (`<<: *defaults`), which
            // the typed decoding from text does not; the merged document
            // is decoded instead, at the price of errors without a line.
            let mut merged = document;
            merged.apply_merge().map_err(invalid)?;
            let not_applicable = collect_not_applicable(&merged);
            let file: FileConfig = yaml_serde::from_value(merged).map_err(invalid)?;
            return Ok(Config::from_file(
                file,
                file_name.to_owned(),
                not_applicable,
            ));
        }
        let file: FileConfig = yaml_serde::from_str(text).map_err(invalid)?;
        Ok(Config::from_file(
            file,
            file_name.to_owned(),
            collect_not_applicable(&document),
        ))
    }

    fn from_file(file: FileConfig, name: String, not_applicable: Vec<String>) -> Config {
        let server = file.server.unwrap_or_default();
        let positions = file.positions.unwrap_or_default();
        let target = file.target_config.unwrap_or_default();
        let limits = file.limits_config.unwrap_or_default();
        let d = LimitsConfig::default();
        let mut config = Config {
            server: ServerConfig {
                http_listen_address: server.http_listen_address.map(|a| a.0).unwrap_or_default(),
                http_listen_port: server.http_listen_port.unwrap_or(80),
                disable: server.disable.is_some_and(|v| v.0),
                log_level: server.log_level.unwrap_or_default(),
                log_format: server.log_format.unwrap_or_default(),
                health_check_target: server.health_check_target.is_none_or(|v| v.0),
            },
            clients: Vec::new(),
            positions: PositionsConfig {
                filename: positions
                    .filename
                    .map(|f| f.0)
                    .filter(|f| !f.is_empty())
                    .map_or_else(|| PositionsConfig::default().filename, PathBuf::from),
                sync_period: positions
                    .sync_period
                    .map_or(Duration::from_secs(10), |v| v.0),
                ignore_invalid_yaml: positions.ignore_invalid_yaml.is_some_and(|v| v.0),
            },
            scrape_configs: file
                .scrape_configs
                .unwrap_or_default()
                .into_iter()
                .map(|s| ScrapeConfig::from_file(s.0))
                .collect(),
            target_config: TargetConfig {
                sync_period: target.sync_period.map_or(Duration::from_secs(10), |v| v.0),
                stdin: target.stdin.is_some_and(|v| v.0),
            },
            limits: LimitsConfig {
                readline_rate: limits.readline_rate.unwrap_or(d.readline_rate),
                readline_burst: limits.readline_burst.map_or(d.readline_burst, |v| v.0),
                readline_rate_enabled: limits.readline_rate_enabled.is_some_and(|v| v.0),
                readline_rate_drop: limits.readline_rate_drop.is_none_or(|v| v.0),
                max_streams: limits.max_streams.map_or(0, |v| v.0),
                max_line_size: limits.max_line_size.map_or(0, |v| v.0),
                max_line_size_truncate: limits.max_line_size_truncate.is_some_and(|v| v.0),
            },
            file: name,
            file_clients: file
                .clients
                .unwrap_or_default()
                .into_iter()
                .map(|c| ClientConfig::from_file(c.0))
                .collect(),
            legacy_client: file.client.map(|c| ClientConfig::from_file(c.0)),
            not_applicable,
        };
        config.apply(&Overrides::default());
        config
    }

    /// The name of the file the config was read from, as errors give it.
    pub fn file_name(&self) -> &str {
        &self.file
    }

    /// The dotted paths of the keys present in the file that vigil accepts
    /// but does not act on (`server.grpc_listen_port`,
    /// `clients[0].follow_redirects`, `tracing.enabled`, …), in file
    /// order.
    pub fn not_applicable(&self) -> Vec<String> {
        self.not_applicable.clone()
    }

    /// What the file asks for that vigil does not do: each job's target
    /// kinds and discovery mechanisms other than files found by
    /// `static_configs` and `file_sd_configs`, and clients' OAuth2.
    pub fn not_supported(&self) -> Vec<NotSupported> {
        let mut out: Vec<NotSupported> = self
            .scrape_configs
            .iter()
            .flat_map(ScrapeConfig::not_supported)
            .collect();
        for (i, client) in self.clients.iter().enumerate() {
            if client.oauth2 {
                out.push(NotSupported {
                    job: None,
                    key: format!("clients[{i}].oauth2"),
                });
            }
        }
        out
    }

    /// The job that reads standard input (`--stdin`): the first of
    /// `scrape_configs` (Promtail warns that it skips the others), or
    /// [`ScrapeConfig::default_stdin`] when there is none. Its lines get
    /// [`ScrapeConfig::merged_static_labels`] and its pipeline.
    pub fn stdin_job(&self, hostname: &str) -> ScrapeConfig {
        self.scrape_configs
            .first()
            .cloned()
            .unwrap_or_else(|| ScrapeConfig::default_stdin(hostname))
    }

    /// The checks Promtail makes when it starts rather than when it reads
    /// the file: at least one client, each with an `http(s)://` URL and
    /// none twice, no client `stream_lag_labels` (removed in 2.8), and a
    /// target kind for every job, unless the agent reads standard input
    /// (`stdin`, which only needs the first job's labels and pipeline).
    pub fn validate(&self, stdin: bool) -> Result<(), ConfigError> {
        let invalid =
            |message: String| ConfigError::from(FileError::whole_file(&self.file, message));
        if self.clients.is_empty() {
            return Err(invalid(
                "at least one client config should be provided (clients[].url, or -client.url)"
                    .to_owned(),
            ));
        }
        for (i, client) in self.clients.iter().enumerate() {
            if client.url.is_empty() {
                return Err(invalid(format!("clients[{i}]: client needs target URL")));
            }
            // Go's HTTP client speaks only these; Promtail would fail at
            // every push instead.
            let scheme = client
                .url
                .split_once("://")
                .map(|(s, _)| s.to_ascii_lowercase());
            if !matches!(scheme.as_deref(), Some("http" | "https")) {
                return Err(invalid(format!(
                    "clients[{i}].url {:?}: unsupported protocol scheme, expected http:// or https://",
                    client.url
                )));
            }
            if !client.stream_lag_labels.is_empty() {
                return Err(invalid(format!(
                    "clients[{i}]: client config stream_lag_labels is deprecated and the associated metric has been removed, stream_lag_labels: {}",
                    client.stream_lag_labels
                )));
            }
            // Promtail tells clients apart by name, or by their whole
            // config when unnamed.
            let duplicate = self.clients[..i].iter().any(|other| {
                if client.name.is_empty() {
                    other.name.is_empty() && other == client
                } else {
                    other.name == client.name
                }
            });
            if duplicate {
                return Err(invalid(format!(
                    "duplicate client configs are not allowed, found duplicate for URL: {}",
                    client.url
                )));
            }
        }
        if !stdin && !self.target_config.stdin {
            if let Some(job) = self.scrape_configs.iter().find(|s| s.kind.is_none()) {
                return Err(invalid(format!(
                    "no valid target scrape config defined for {:?}",
                    job.job_name
                )));
            }
        }
        Ok(())
    }
}

/// Expands `${VAR}` and `${VAR:-default}` in config text from the
/// process environment, as Promtail's `-config.expand-env` does.
pub fn expand_env(text: &str, file_name: &str) -> Result<String, ConfigError> {
    expand_env_with(text, file_name, |name| std::env::var(name).ok())
}

/// Expands config text with variables from `lookup` (see
/// [`expand_env`]); a bad `${…}` is an error naming its line.
pub fn expand_env_with(
    text: &str,
    file_name: &str,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<String, ConfigError> {
    gocompat::env::expand(text, &lookup)
        .map_err(|e| FileError::at_offset(file_name, text, e.offset, e.to_string()).into())
}

impl<'de> Deserialize<'de> for LogLevel {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        gocompat::yaml::from_scalar(deserializer, "a log level", |text| match text {
            "debug" => Ok(LogLevel::Debug),
            "info" => Ok(LogLevel::Info),
            "warn" => Ok(LogLevel::Warn),
            "error" => Ok(LogLevel::Error),
            _ => Err(format!("unrecognized log level {text:?}")),
        })
    }
}

impl<'de> Deserialize<'de> for LogFormat {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        gocompat::yaml::from_scalar(deserializer, "a log format", |text| match text {
            "logfmt" => Ok(LogFormat::Logfmt),
            "json" => Ok(LogFormat::Json),
            _ => Err(format!("unrecognized log format {text:?}")),
        })
    }
}

impl<'de> Deserialize<'de> for TlsVersion {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        gocompat::yaml::from_scalar(deserializer, "a TLS version", |text| match text {
            "TLS10" => Ok(TlsVersion::Tls10),
            "TLS11" => Ok(TlsVersion::Tls11),
            "TLS12" => Ok(TlsVersion::Tls12),
            "TLS13" => Ok(TlsVersion::Tls13),
            _ => Err(format!("unknown TLS version: {text}")),
        })
    }
}

/// Whether a mapping anywhere in the document has a `<<` merge key.
fn has_merge_key(value: &yaml_serde::Value) -> bool {
    match value {
        yaml_serde::Value::Mapping(m) => m
            .iter()
            .any(|(k, v)| k.as_str() == Some("<<") || has_merge_key(v)),
        yaml_serde::Value::Sequence(s) => s.iter().any(has_merge_key),
        yaml_serde::Value::Tagged(t) => has_merge_key(&t.value),
        _ => false,
    }
}

/// Keys of `server` vigil acts on.
const SERVER_KEYS: [&str; 6] = [
    "http_listen_address",
    "http_listen_port",
    "disable",
    "log_level",
    "log_format",
    "health_check_target",
];

/// Keys of a client block vigil does not act on.
const CLIENT_NOT_APPLICABLE: [&str; 3] =
    ["proxy_connect_header", "follow_redirects", "enable_http2"];

/// Lists the keys of the document vigil accepts without acting on: the
/// weaveworks server settings besides the listen address and port, a
/// client's HTTP/2 and redirect settings, and the `options`, `tracing` and
/// `wal` blocks.
fn collect_not_applicable(document: &yaml_serde::Value) -> Vec<String> {
    let mut out = Vec::new();
    let Some(top) = document.as_mapping() else {
        return out;
    };
    let keys = |value: &yaml_serde::Value| -> Vec<String> {
        value
            .as_mapping()
            .map(|m| {
                m.keys()
                    .filter_map(|k| k.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    for (key, value) in top {
        let Some(key) = key.as_str() else { continue };
        match key {
            "server" => out.extend(
                keys(value)
                    .into_iter()
                    .filter(|k| !SERVER_KEYS.contains(&k.as_str()))
                    .map(|k| format!("server.{k}")),
            ),
            "client" => out.extend(
                keys(value)
                    .into_iter()
                    .filter(|k| CLIENT_NOT_APPLICABLE.contains(&k.as_str()))
                    .map(|k| format!("client.{k}")),
            ),
            "clients" => {
                for (i, client) in value.as_sequence().into_iter().flatten().enumerate() {
                    out.extend(
                        keys(client)
                            .into_iter()
                            .filter(|k| CLIENT_NOT_APPLICABLE.contains(&k.as_str()))
                            .map(|k| format!("clients[{i}].{k}")),
                    );
                }
            }
            "options" | "tracing" | "wal" => {
                let inner = keys(value);
                if inner.is_empty() {
                    out.push(key.to_owned());
                }
                out.extend(inner.into_iter().map(|k| format!("{key}.{k}")));
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_put_keys_first_and_suggest_near_names() {
        assert_eq!(
            MESSAGES.rewrite(
                "positions: unknown field `filenme`, expected one of `filename`, `sync_period` at line 3 column 3"
            ),
            "positions: unknown field \"filenme\", did you mean \"filename\"?"
        );
        assert_eq!(
            MESSAGES.rewrite("unknown field `zzz`, expected `a` or `b`"),
            "unknown field \"zzz\""
        );
        assert_eq!(
            MESSAGES.rewrite(
                "server: invalid type: string \"x\", expected struct ServerFile at line 1 column 9"
            ),
            "server: invalid type: string \"x\", expected a mapping"
        );
    }

    #[test]
    fn rust_type_names_are_put_in_the_config_s_words() {
        assert_eq!(
            MESSAGES.rewrite("a: invalid type: string \"x\", expected i128 at line 1 column 4"),
            "a: invalid type: string \"x\", expected an integer"
        );
        assert_eq!(
            MESSAGES.rewrite("a: invalid type: unit value, expected a duration"),
            "a: invalid type: null, expected a duration"
        );
    }
}
