//! The error type of the storage engine.

use std::path::PathBuf;

use segments::{CorruptFile, IoError, SegmentsError};

/// Everything that can go wrong while storing or reading log entries.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StorageError {
    /// An I/O operation on the data directory failed: what, where, why.
    #[error(transparent)]
    Io(#[from] IoError),
    /// A chunk, index or log file failed its checksum or does not parse.
    #[error(transparent)]
    Corrupt(#[from] CorruptFile),
    /// A block held in memory does not decode: a bug, never bad input.
    #[error("corrupt in-memory block: {0}")]
    CorruptBlock(&'static str),
    /// The write-ahead log refuses writes after an earlier write or fsync
    /// failed: the kernel may have dropped the pages, so acknowledging more
    /// could lose data. Reopening the storage recovers what was durable.
    #[error("write-ahead log is broken by an earlier failure: {0}")]
    WalBroken(String),
    /// One record would be larger than the log accepts in one frame.
    #[error("batch too large for one log record: {0} bytes")]
    BatchTooLarge(usize),
    /// The options make no sense (a zero size or period, say).
    #[error("invalid storage option: {0}")]
    InvalidOption(String),
    /// The storage was closed; nothing more can be written.
    #[error("storage is closed")]
    Closed,
}

impl StorageError {
    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io(IoError::new(op, path, source))
    }

    pub(crate) fn corrupt(path: impl Into<PathBuf>, reason: impl Into<String>) -> Self {
        Self::Corrupt(CorruptFile::new(path, reason))
    }
}

impl From<SegmentsError> for StorageError {
    fn from(e: SegmentsError) -> Self {
        match e {
            SegmentsError::Io(e) => Self::Io(e),
            SegmentsError::Broken(why) => Self::WalBroken(why),
        }
    }
}

impl From<StorageError> for logql::store::StoreError {
    fn from(e: StorageError) -> Self {
        logql::store::StoreError::read(e)
    }
}
