//! The error type of this crate.

use std::path::PathBuf;

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
    /// An I/O operation on the data directory failed.
    #[error("{op} {path}: {source}")]
    Io {
        /// What we were doing, e.g. "open wal segment".
        op: &'static str,
        /// The file or directory concerned.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The write-ahead log stopped accepting writes after an earlier write or
    /// fsync failed; reopening the database recovers what was durable.
    #[error("write-ahead log is broken by an earlier failure: {0}")]
    WalBroken(String),
}

impl TsdbError {
    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            op,
            path: path.into(),
            source,
        }
    }
}
