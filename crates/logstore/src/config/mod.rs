//! loki-config.yaml: the model, its defaults, and loading with errors that name the file, the line and the problem.
//!
//! A file written for Loki 3 loads unchanged. vigil refuses only what Loki
//! itself refuses: an unknown key (at the top level or in a block vigil
//! reads), a value of the wrong type, a bad duration or size. Keys Loki
//! has but vigil does not act on (clustering, caches, object stores,
//! gRPC, schema periods, …) are accepted and listed by
//! [`Config::not_applicable`], so the server can say at start what it
//! ignores. The values of those keys are not checked.
//!
//! ```
//! use logstore::config::Config;
//!
//! let config = Config::parse("limits_config:\n  retention_period: 744h\n", "loki.yaml").unwrap();
//! assert_eq!(config.limits.retention_period.as_secs(), 744 * 3600);
//! assert_eq!(config.server.http_listen_port, 3100);
//! assert!(config.auth_enabled);
//! ```

mod file;
mod limits;
mod paths;

use std::path::{Path, PathBuf};

pub use limits::Limits;
pub use paths::Paths;

use file::FileConfig;
pub use gocompat::yaml::{FileError, Location};
use gocompat::yaml::{Messages, Ties};

/// How yaml_serde's messages are put to Loki's users: Rust's number types
/// in their words; of equally near keys, the one Loki lists first is
/// suggested.
const MESSAGES: Messages = Messages {
    words: &[
        ("expected u16", "expected a port number"),
        ("expected f64", "expected a number"),
    ],
    ties: Ties::FirstListed,
};

/// The parts of loki-config.yaml vigil acts on, with Loki 3's defaults
/// filled in.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Whether requests must carry a tenant in `X-Scope-OrgID`; when off,
    /// every request is tenant `fake`. Loki's default is on.
    pub auth_enabled: bool,
    /// `server`.
    pub server: ServerConfig,
    /// `common`.
    pub common: CommonConfig,
    /// `limits_config`.
    pub limits: Limits,
    /// `compactor`.
    pub compactor: CompactorConfig,
    /// `ingester.wal.dir`, when the file sets it.
    pub ingester_wal_dir: Option<PathBuf>,
    /// `storage_config.filesystem.directory`, when the file sets it: where
    /// configs that do not use `common` keep their chunks.
    pub storage_filesystem_directory: Option<PathBuf>,
    /// The `ruler` block as written, kept for the alerting work; vigil
    /// does not act on it yet.
    pub ruler: Option<yaml_serde::Value>,
    /// Dotted paths of the keys in the file vigil does not act on.
    not_applicable: Vec<String>,
}

/// `server`: where the HTTP API listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    /// Address to listen on; empty means every interface (the default).
    pub http_listen_address: String,
    /// Port to listen on (default 3100).
    pub http_listen_port: u16,
}

/// `common`: the data directories shared by Loki's components.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommonConfig {
    /// `path_prefix`: the directory the others default under.
    pub path_prefix: Option<PathBuf>,
    /// `storage.filesystem.chunks_directory`.
    pub chunks_directory: Option<PathBuf>,
    /// `storage.filesystem.rules_directory`.
    pub rules_directory: Option<PathBuf>,
}

/// `compactor`: retention.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CompactorConfig {
    /// Whether old data is deleted after `limits_config.retention_period`
    /// (default false: data is kept forever).
    pub retention_enabled: bool,
    /// `working_directory`, when the file sets it.
    pub working_directory: Option<PathBuf>,
}

/// Why a config could not be loaded or its directories used.
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
    /// The text is not a config Loki would accept: bad YAML, an unknown
    /// key, a wrong type, a bad duration or size, a bad `${…}`.
    /// Displayed as `file:line:column: problem`.
    #[error(transparent)]
    Invalid(#[from] FileError),
    /// The config names no directory to keep data in.
    #[error(
        "no data directory configured (common.path_prefix or common.storage.filesystem.chunks_directory): pass --storage.path DIR"
    )]
    NoDataDir,
    /// A data directory the config names cannot be created or written.
    #[error("cannot write to {} ({key}): {source}; pass --storage.path DIR to keep data elsewhere", dir.display())]
    DataDir {
        /// The directory.
        dir: PathBuf,
        /// The config key it comes from, or how it was derived.
        key: &'static str,
        /// What the system said.
        source: std::io::Error,
    },
    /// A directory under `--storage.path` cannot be created or written.
    #[error("cannot write to {} under --storage.path: {source}", dir.display())]
    StoragePath {
        /// The directory.
        dir: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
}

impl Default for Config {
    /// Loki's defaults, as for an empty file.
    fn default() -> Self {
        Config::from_file(FileConfig::default(), Vec::new())
    }
}

impl Config {
    /// Reads a config file. With `expand_env` (Loki's
    /// `-config.expand-env=true`), `${VAR}` and `${VAR:-default}` are
    /// replaced from the environment first.
    pub fn load(path: &Path, expand_env: bool) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let name = path.display().to_string();
        if expand_env {
            Config::parse(&self::expand_env(&text, &name)?, &name)
        } else {
            Config::parse(&text, &name)
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
            return Ok(Config::default());
        }
        let file: FileConfig = yaml_serde::from_str(text).map_err(invalid)?;
        let mut not_applicable = Vec::new();
        collect_not_applicable(&document, "", &mut not_applicable);
        Ok(Config::from_file(file, not_applicable))
    }

    /// The dotted paths of the keys present in the file that vigil accepts
    /// but does not act on (`schema_config`, `common.replication_factor`,
    /// `limits_config.max_cache_freshness_per_query`, …), in file order. A
    /// block vigil ignores whole is listed by its own keys
    /// (`frontend.max_outstanding_per_tenant`), or by its name when empty.
    pub fn not_applicable(&self) -> Vec<String> {
        self.not_applicable.clone()
    }

    fn from_file(file: FileConfig, not_applicable: Vec<String>) -> Config {
        let path = |s: Option<String>| s.filter(|s| !s.is_empty()).map(PathBuf::from);
        let server = file.server.unwrap_or_default();
        let common = file.common.unwrap_or_default();
        let filesystem = common
            .storage
            .and_then(|s| s.filesystem)
            .unwrap_or_default();
        let compactor = file.compactor.unwrap_or_default();
        Config {
            auth_enabled: file.auth_enabled.is_none_or(|b| b.0),
            server: ServerConfig {
                http_listen_address: server.http_listen_address.unwrap_or_default(),
                http_listen_port: server.http_listen_port.unwrap_or(3100),
            },
            common: CommonConfig {
                // Loki drops a trailing slash before joining.
                path_prefix: path(common.path_prefix.map(|p| {
                    let trimmed = p.trim_end_matches('/');
                    if trimmed.is_empty() {
                        p
                    } else {
                        trimmed.to_owned()
                    }
                })),
                chunks_directory: path(filesystem.chunks_directory),
                rules_directory: path(filesystem.rules_directory),
            },
            limits: Limits::from_file(file.limits_config.unwrap_or_default()),
            compactor: CompactorConfig {
                retention_enabled: compactor.retention_enabled.is_some_and(|b| b.0),
                working_directory: path(compactor.working_directory),
            },
            ingester_wal_dir: path(
                file.ingester
                    .and_then(|i| i.value)
                    .and_then(|wal| wal.value),
            ),
            storage_filesystem_directory: path(
                file.storage_config
                    .and_then(|s| s.value)
                    .and_then(|fs| fs.value),
            ),
            ruler: file.ruler,
            not_applicable,
        }
    }
}

/// Expands `${VAR}` and `${VAR:-default}` in config text from the
/// process environment, as Loki's `-config.expand-env=true` does; see
/// [`expand_env_with`].
pub fn expand_env(text: &str, file_name: &str) -> Result<String, ConfigError> {
    expand_env_with(text, file_name, |name| std::env::var(name).ok())
}

/// Expands config text with variables from `lookup`: `${VAR}` is the value
/// (empty when unset), `${VAR:-default}`, `${VAR:=default}` and
/// `${VAR=default}` give the default when it is unset or empty (defaults
/// may nest `${…}`), `$$` is a literal `$`, and a `$` before anything else
/// stays. Other `${…}` forms are an error naming the line.
pub fn expand_env_with(
    text: &str,
    file_name: &str,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<String, ConfigError> {
    gocompat::env::expand(text, &lookup).map_err(|error| {
        FileError::at_offset(file_name, text, error.offset, error.kind.to_string()).into()
    })
}

/// The keys of the blocks vigil types, by dotted path; everything else
/// present in a file is not applicable.
fn is_used(path: &str) -> bool {
    const USED: [&str; 10] = [
        "auth_enabled",
        "server.http_listen_address",
        "server.http_listen_port",
        "common.path_prefix",
        "common.storage.filesystem.chunks_directory",
        "common.storage.filesystem.rules_directory",
        "compactor.retention_enabled",
        "compactor.working_directory",
        "ingester.wal.dir",
        "storage_config.filesystem.directory",
    ];
    USED.contains(&path)
        || path
            .strip_prefix("limits_config.")
            .is_some_and(|key| Limits::KEYS.contains(&key))
}

/// Whether a key vigil acts on lies below `path`.
fn leads_to_used(path: &str) -> bool {
    matches!(
        path,
        "server"
            | "common"
            | "common.storage"
            | "common.storage.filesystem"
            | "limits_config"
            | "compactor"
            | "ingester"
            | "ingester.wal"
            | "storage_config"
            | "storage_config.filesystem"
    )
}

/// Walks the document and lists the keys vigil does not act on: the
/// first key on each path that is neither used nor leads to a used key.
fn collect_not_applicable(value: &yaml_serde::Value, prefix: &str, out: &mut Vec<String>) {
    let Some(mapping) = value.as_mapping() else {
        return;
    };
    for (key, child) in mapping {
        let key = match key.as_str() {
            Some(s) => s.to_owned(),
            None => yaml_serde::to_string(key)
                .map(|s| s.trim_end().to_owned())
                .unwrap_or_default(),
        };
        let path = if prefix.is_empty() {
            key
        } else {
            format!("{prefix}.{key}")
        };
        if is_used(&path) {
            continue;
        }
        // A block vigil skips whole is listed one level down, which says
        // more than its name alone; a typed block is walked to its leaves.
        let top_level_block =
            prefix.is_empty() && child.as_mapping().is_some_and(|m| !m.is_empty());
        if leads_to_used(&path) {
            collect_not_applicable(child, &path, out);
        } else if top_level_block {
            collect_not_applicable_keys(child, &path, out);
        } else {
            out.push(path);
        }
    }
}

/// Lists the keys of a mapping under `prefix`, without descending.
fn collect_not_applicable_keys(value: &yaml_serde::Value, prefix: &str, out: &mut Vec<String>) {
    if let Some(mapping) = value.as_mapping() {
        for key in mapping.keys() {
            let key = key.as_str().map_or_else(
                || {
                    yaml_serde::to_string(key)
                        .map(|s| s.trim_end().to_owned())
                        .unwrap_or_default()
                },
                str::to_owned,
            );
            out.push(format!("{prefix}.{key}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_key_messages_are_short_and_suggest() {
        assert_eq!(
            MESSAGES.rewrite(
                "limits_config: unknown field `max_qurey_series`, expected one of `max_query_series`, `retention_period` at line 3 column 3"
            ),
            "limits_config: unknown field \"max_qurey_series\", did you mean \"max_query_series\"?"
        );
        assert_eq!(
            MESSAGES.rewrite("unknown field `zzz`, expected `a` or `b`"),
            "unknown field \"zzz\""
        );
        assert_eq!(
            MESSAGES.rewrite(
                "invalid type: string \"x\", expected struct LimitsFile at line 1 column 16"
            ),
            "invalid type: string \"x\", expected a mapping"
        );
    }

    #[test]
    fn rust_number_types_are_named_in_loki_s_words() {
        assert_eq!(
            MESSAGES
                .rewrite("server.http_listen_port: invalid value: integer `99999`, expected u16"),
            "server.http_listen_port: invalid value: integer `99999`, expected a port number"
        );
        assert_eq!(
            MESSAGES.rewrite("invalid type: string \"x\", expected f64 at line 2 column 3"),
            "invalid type: string \"x\", expected a number"
        );
    }
}
