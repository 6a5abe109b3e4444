//! The error types of this crate: an I/O failure with its operation and path, a damaged file, and a log broken by a failure.

use std::path::PathBuf;

/// An I/O operation on a file or directory failed. The storage crates embed
/// it in their own error enums, so every I/O failure of the data directory
/// reads the same way: what was being done, where, and why it failed.
#[derive(Debug, thiserror::Error)]
#[error("{op} {path}: {source}")]
pub struct IoError {
    /// What we were doing, e.g. "write wal segment".
    pub op: &'static str,
    /// The file or directory concerned.
    pub path: PathBuf,
    /// The underlying error.
    pub source: std::io::Error,
}

impl IoError {
    /// An `op` on `path` failed with `source`.
    pub fn new(op: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self {
            op,
            path: path.into(),
            source,
        }
    }
}

/// A file was complete when written (fsynced before it got its name) but
/// now fails its checksum or does not parse: a disk fault to look at, not a
/// torn write to repair. The storage crates embed it like [`IoError`].
#[derive(Debug, thiserror::Error)]
#[error("corrupt {path}: {reason}")]
pub struct CorruptFile {
    /// The damaged file.
    pub path: PathBuf,
    /// What is wrong with it.
    pub reason: String,
}

impl CorruptFile {
    /// `path` is damaged, as `reason` says.
    pub fn new(path: impl Into<PathBuf>, reason: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            reason: reason.into(),
        }
    }
}

/// Everything that can go wrong with segment files.
#[derive(Debug, thiserror::Error)]
pub enum SegmentsError {
    /// An I/O operation on a segment file or its directory failed.
    #[error(transparent)]
    Io(#[from] IoError),
    /// The writer refuses writes after an earlier write or fsync failed:
    /// the kernel may have dropped the pages, so acknowledging more could
    /// lose data silently. Reopening recovers what was durable.
    #[error("write-ahead log is broken by an earlier failure: {0}")]
    Broken(String),
}

impl SegmentsError {
    /// An `op` on `path` failed with `source`.
    pub fn io(op: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io(IoError::new(op, path, source))
    }
}
