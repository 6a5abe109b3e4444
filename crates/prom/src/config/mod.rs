//! prometheus.yml: the model, its defaults, and loading with errors that
//! name the file, the line and the problem.
//!
//! Unknown fields are errors, as in Prometheus. The rule files that
//! `rule_files` names are read and checked with the config ([`rules`]), so
//! a bad one fails the start or the reload. Sections that vigil reads
//! but does not act on yet (`alerting`, `remote_read`, `storage`,
//! `tracing`, service discoveries other than static and file) are accepted
//! as they are and reported by [`Config::unsupported`], so that a working
//! Prometheus config never fails to load.

pub mod rules;
mod scrape;
mod template;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use gocompat::yaml::ByteSize;
use model::duration::PromDuration;
use model::is_valid_label_name;
pub use scrape::{
    Authorization, BasicAuth, FileSdConfig, HttpClientConfig, RemoteWriteConfig, ScrapeConfig,
    StaticConfig, TargetGroup, TlsConfig, TlsVersion,
};

/// The whole file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Defaults for every job.
    pub global: GlobalConfig,
    /// Rule file globs, relative to the config file.
    pub rule_files: Vec<String>,
    /// The files `rule_files` matched, read and checked when the config
    /// was loaded; evaluating them is later work.
    #[serde(skip)]
    pub rules: Vec<rules::RuleFile>,
    /// Scrape jobs.
    pub scrape_configs: Vec<ScrapeConfig>,
    /// Where appended samples are forwarded.
    pub remote_write: Vec<RemoteWriteConfig>,
    /// Accepted, not acted on yet.
    pub alerting: Option<yaml_serde::Value>,
    /// Accepted, not acted on yet.
    pub remote_read: Option<yaml_serde::Value>,
    /// Accepted, not acted on yet.
    pub storage: Option<yaml_serde::Value>,
    /// Accepted, not acted on yet.
    pub tracing: Option<yaml_serde::Value>,
    /// Globs of files holding more scrape configs (Prometheus 2.43+).
    pub scrape_config_files: Vec<String>,
}

/// The `global` section.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GlobalConfig {
    /// Default time between scrapes (1m).
    pub scrape_interval: PromDuration,
    /// Default scrape time limit: 10s, or the interval when that is
    /// shorter; filled in when the config is loaded.
    pub scrape_timeout: Option<PromDuration>,
    /// Time between rule evaluations (1m).
    pub evaluation_interval: PromDuration,
    /// Labels added to samples leaving this server (remote write, alerts).
    pub external_labels: BTreeMap<String, String>,
    /// Offset of rule evaluation.
    pub rule_query_offset: Option<PromDuration>,
    /// File of the query log.
    pub query_log_file: Option<String>,
    /// File of the scrape failure log.
    pub scrape_failure_log_file: Option<String>,
    /// Default per-scrape body limit.
    pub body_size_limit: Option<ByteSize>,
    /// Default per-scrape sample limit.
    pub sample_limit: Option<u64>,
    /// Default per-job target limit.
    pub target_limit: Option<u64>,
    /// Default per-sample label limit.
    pub label_limit: Option<u64>,
    /// Default label name length limit.
    pub label_name_length_limit: Option<u64>,
    /// Default label value length limit.
    pub label_value_length_limit: Option<u64>,
    /// Default of `keep_dropped_targets`.
    pub keep_dropped_targets: Option<u64>,
    /// Default scrape protocols, in preference order.
    pub scrape_protocols: Option<Vec<String>>,
    /// `utf8` or `legacy`.
    pub metric_name_validation_scheme: Option<String>,
}

impl Default for GlobalConfig {
    fn default() -> Self {
        let d = |s: u64| PromDuration(std::time::Duration::from_secs(s));
        Self {
            scrape_interval: d(60),
            scrape_timeout: None,
            evaluation_interval: d(60),
            external_labels: BTreeMap::new(),
            rule_query_offset: None,
            query_log_file: None,
            scrape_failure_log_file: None,
            body_size_limit: None,
            sample_limit: None,
            target_limit: None,
            label_limit: None,
            label_name_length_limit: None,
            label_value_length_limit: None,
            keep_dropped_targets: None,
            scrape_protocols: None,
            metric_name_validation_scheme: None,
        }
    }
}

/// Why a config could not be loaded; displayed as `file:line:column: problem`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{}: {message}", path.display(), location.map(|(l, c)| format!(":{l}:{c}")).unwrap_or_default())]
pub struct ConfigError {
    /// The file.
    pub path: PathBuf,
    /// Line and column, when known.
    pub location: Option<(usize, usize)>,
    /// What is wrong.
    pub message: String,
}

impl Config {
    /// Reads and validates a config file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            path: path.to_owned(),
            location: None,
            message: e.to_string(),
        })?;
        Self::parse(&text, path)
    }

    /// Parses and validates config text; `path` names it in errors and
    /// anchors relative file paths.
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        // An empty file is a valid config of defaults.
        let mut config: Config = if text.trim().is_empty() {
            Config::default()
        } else {
            yaml_serde::from_str(text).map_err(|e| ConfigError {
                path: path.to_owned(),
                location: e.location().map(|l| (l.line(), l.column())),
                message: strip_location(&e.to_string()),
            })?
        };
        config.validate().map_err(|(anchor, message)| ConfigError {
            path: path.to_owned(),
            location: anchor.and_then(|a| locate(text, &a)),
            message,
        })?;
        let dir = path.parent().unwrap_or(Path::new(""));
        for http in config
            .scrape_configs
            .iter_mut()
            .map(|job| &mut job.http)
            .chain(
                config
                    .remote_write
                    .iter_mut()
                    .map(|remote| &mut remote.http),
            )
        {
            http.set_directory(dir);
        }
        // Rule files are read with the config, so that a bad one fails the
        // start or the reload as it does in Prometheus.
        let files =
            rules::resolve(&config.rule_files, dir).map_err(|(pattern, message)| ConfigError {
                path: path.to_owned(),
                location: locate(text, &pattern),
                message,
            })?;
        config.rules = rules::load(files)?;
        Ok(config)
    }

    /// Applies defaults and checks what Prometheus checks at load time. An
    /// error carries a snippet to locate in the text, when there is one.
    fn validate(&mut self) -> Result<(), (Option<String>, String)> {
        let global = &mut self.global;
        match global.scrape_timeout {
            Some(timeout) if timeout > global.scrape_interval => {
                return Err((
                    Some("scrape_timeout".into()),
                    "global scrape timeout greater than scrape interval".into(),
                ));
            }
            Some(_) => {}
            None => {
                let default = PromDuration(std::time::Duration::from_secs(10));
                global.scrape_timeout = Some(default.min(global.scrape_interval));
            }
        }
        for name in global.external_labels.keys() {
            if !is_valid_label_name(name) {
                return Err((
                    Some(name.clone()),
                    format!("{name:?} is not a valid label name"),
                ));
            }
        }
        for pattern in &self.rule_files {
            if !rules::is_valid_pattern(pattern) {
                return Err((
                    Some(pattern.clone()),
                    format!("invalid rule file path {pattern:?}"),
                ));
            }
        }
        let mut seen = std::collections::HashSet::new();
        for job in &mut self.scrape_configs {
            let anchor = Some(format!("job_name: {}", job.job_name));
            if job.job_name.is_empty() {
                return Err((Some("job_name".into()), "job_name is empty".into()));
            }
            if !seen.insert(job.job_name.clone()) {
                return Err((
                    anchor,
                    format!(
                        "found multiple scrape configs with job name {:?}",
                        job.job_name
                    ),
                ));
            }
            job.apply_defaults(&self.global)
                .map_err(|m| (anchor.clone(), m))?;
        }
        for remote in &self.remote_write {
            remote
                .validate()
                .map_err(|m| (Some(remote.url.clone()), m))?;
        }
        Ok(())
    }

    /// The parts of this config that are accepted but not acted on, for
    /// the server to warn about at start.
    pub fn unsupported(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (present, name) in [
            (self.alerting.is_some(), "alerting"),
            (self.remote_read.is_some(), "remote_read"),
            (self.storage.is_some(), "storage"),
            (self.tracing.is_some(), "tracing"),
            (!self.scrape_config_files.is_empty(), "scrape_config_files"),
        ] {
            if present {
                out.push(name.to_owned());
            }
        }
        for job in &self.scrape_configs {
            for sd in job.unsupported_discovery() {
                out.push(format!("{sd} in job {:?}", job.job_name));
            }
        }
        out
    }
}

/// yaml_serde appends ` at line L column C`; we print the location first.
fn strip_location(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

/// The 1-based line and column of the first line that contains `snippet`.
fn locate(text: &str, snippet: &str) -> Option<(usize, usize)> {
    text.lines()
        .enumerate()
        .find_map(|(i, line)| line.find(snippet).map(|col| (i + 1, col + 1)))
}
