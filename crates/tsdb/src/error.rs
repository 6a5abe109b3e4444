//! The error type of this crate.

use std::path::PathBuf;

use segments::{CorruptFile, IoError, SegmentsError};

/// Everything that can go wrong while storing or reading samples.
#[derive(Debug, thiserror::Error)]
pub enum TsdbError {
    /// A sample is older than the newest sample of its series; Prometheus
    /// rejects these by default, and so do we.
    #[error("out of order sample")]
    OutOfOrder,
    /// A sample has the timestamp of the newest sample of its series but a
    /// different value (same timestamp and same value is silently ignored).
    #[error("duplicate sample for timestamp")]
    DuplicateSample,
    /// A sample older than the oldest time the head still accepts: that
    /// time range has already been written out to a block.
    #[error("out of bounds sample: older than {min_valid}")]
    OutOfBounds {
        /// The oldest timestamp the head accepts, in milliseconds.
        min_valid: i64,
    },
    /// A series reference that the head does not know, or no longer knows.
    #[error("unknown series reference {0}")]
    UnknownSeries(u64),
    /// A series with no labels cannot be stored: it has no identity.
    #[error("empty label set")]
    EmptyLabels,
    /// A chunk already holds the most samples its 16-bit header can count.
    #[error("chunk is full")]
    ChunkFull,
    /// The query's time range ends before it starts.
    #[error("invalid time range: mint {mint} is after maxt {maxt}")]
    InvalidRange {
        /// Start of the range, in milliseconds.
        mint: i64,
        /// End of the range, in milliseconds.
        maxt: i64,
    },
    /// An I/O operation on the data directory failed: what, where, why.
    #[error(transparent)]
    Io(#[from] IoError),
    /// A block file or log checkpoint failed its checksum or does not parse.
    #[error(transparent)]
    Corrupt(#[from] CorruptFile),
    /// The write-ahead log stopped accepting writes after an earlier write or
    /// fsync failed; reopening the database recovers what was durable.
    #[error("write-ahead log is broken by an earlier failure: {0}")]
    WalBroken(String),
}

impl TsdbError {
    pub(crate) fn corrupt(path: impl Into<PathBuf>, reason: impl Into<String>) -> Self {
        Self::Corrupt(CorruptFile::new(path, reason))
    }

    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io(IoError::new(op, path, source))
    }
}

impl From<SegmentsError> for TsdbError {
    fn from(e: SegmentsError) -> Self {
        match e {
            SegmentsError::Io(e) => Self::Io(e),
            SegmentsError::Broken(why) => Self::WalBroken(why),
        }
    }
}
