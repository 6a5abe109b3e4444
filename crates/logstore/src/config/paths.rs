//! Where the log store keeps its data: from `--storage.path`, or from the
//! directories the config names.
//!
//! Loki's reference configs name absolute directories (`/loki/chunks`)
//! that exist in its container but rarely on a developer's machine, so
//! the directories are created and tried for writing at start: a config
//! that cannot be honoured fails with an error saying to pass
//! `--storage.path`, instead of failing at the first push.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::{Config, ConfigError};

/// The data directories of the log store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    /// The directory the others default under: `--storage.path`, else
    /// `common.path_prefix`, else the parent of the chunks directory.
    pub root: PathBuf,
    /// Chunk files.
    pub chunks_dir: PathBuf,
    /// The write-ahead log.
    pub wal_dir: PathBuf,
    /// Rule files, for the ruler.
    pub rules_dir: PathBuf,
    /// The compactor's working files.
    pub compactor_dir: PathBuf,
}

impl Config {
    /// Works out the data directories without touching the disk.
    ///
    /// With `storage_path`, everything goes under it (`chunks`, `wal`,
    /// `rules`, `compactor`) and the config's directories are ignored.
    /// Otherwise chunks go to `common.storage.filesystem.chunks_directory`,
    /// else `storage_config.filesystem.directory`, else
    /// `<path_prefix>/chunks`; the WAL to `ingester.wal.dir`, else
    /// `<root>/wal`; rules to `common.storage.filesystem.rules_directory`,
    /// else `<root>/rules`; the compactor to `compactor.working_directory`,
    /// else `<root>/compactor`. Relative directories are relative to the
    /// working directory, as in Loki.
    pub fn paths(&self, storage_path: Option<&Path>) -> Result<Paths, ConfigError> {
        if let Some(root) = storage_path {
            return Ok(Paths {
                root: root.to_owned(),
                chunks_dir: root.join("chunks"),
                wal_dir: root.join("wal"),
                rules_dir: root.join("rules"),
                compactor_dir: root.join("compactor"),
            });
        }
        let prefix = self.common.path_prefix.as_deref();
        let chunks_dir = self
            .common
            .chunks_directory
            .clone()
            .or_else(|| self.storage_filesystem_directory.clone())
            .or_else(|| prefix.map(|p| p.join("chunks")))
            .ok_or(ConfigError::NoDataDir)?;
        let root = match prefix {
            Some(prefix) => prefix.to_owned(),
            None => match chunks_dir.parent() {
                Some(parent) if !parent.as_os_str().is_empty() => parent.to_owned(),
                _ => PathBuf::from("."),
            },
        };
        Ok(Paths {
            wal_dir: self
                .ingester_wal_dir
                .clone()
                .unwrap_or_else(|| root.join("wal")),
            rules_dir: self
                .common
                .rules_directory
                .clone()
                .unwrap_or_else(|| root.join("rules")),
            compactor_dir: self
                .compactor
                .working_directory
                .clone()
                .unwrap_or_else(|| root.join("compactor")),
            chunks_dir,
            root,
        })
    }

    /// Works out the data directories ([`Config::paths`]), creates them,
    /// and checks that the store can write where it writes (chunks, WAL,
    /// compactor). A directory the config names that cannot be used is a
    /// [`ConfigError::DataDir`] saying to pass `--storage.path`.
    pub fn resolve_paths(&self, storage_path: Option<&Path>) -> Result<Paths, ConfigError> {
        let paths = self.paths(storage_path)?;
        let checks = [
            (&paths.chunks_dir, "chunks directory", true),
            (&paths.wal_dir, "wal directory", true),
            (&paths.compactor_dir, "compactor working directory", true),
            // Rules are read, never written: the directory only has to exist.
            (&paths.rules_dir, "rules directory", false),
        ];
        for (dir, key, written) in checks {
            prepare(dir, written).map_err(|source| match storage_path {
                Some(_) => ConfigError::StoragePath {
                    dir: dir.clone(),
                    source,
                },
                None => ConfigError::DataDir {
                    dir: dir.clone(),
                    key,
                    source,
                },
            })?;
        }
        Ok(paths)
    }
}

/// Creates `dir` and, when the store writes there, proves it can by
/// writing and removing a small file (an existing read-only directory
/// passes `create_dir_all`).
fn prepare(dir: &Path, written: bool) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    if written {
        let probe = dir.join(".vigil-write-check");
        std::fs::File::create(&probe)?.write_all(b"ok")?;
        std::fs::remove_file(&probe)?;
    }
    Ok(())
}
