//! Remote write, both ways: the `POST /api/v1/write` receiver and the
//! `remote_write` sender.
//!
//! This module owns the remote-write 1.0 wire format ([`proto`]: protobuf
//! messages declared by hand, snappy block compression), the receiver
//! ([`receive`], which appends a request to the TSDB and says why it refused
//! any of it) and the sender ([`RemoteWriter`], one per `remote_write` entry
//! of prometheus.yml, started together by [`RemoteWriters`], each with its
//! queue under `<data dir>/remote-write/<name>/`). It never serves HTTP
//! itself: the API router mounts [`respond`] (or [`receive`] and
//! [`status_and_message`]) and the scrape loop calls
//! [`RemoteWriters::enqueue`] after each commit.
//!
//! Key decision of the sender: the queue is a directory of CRC-framed
//! segment files, not memory. `enqueue` appends one record (a `write`
//! call, no fsync, no network) and returns; a background task reads the
//! records in order, relabels, shards by series, sends in batches with
//! retries, and only then moves a cursor file past them. So a sample that
//! was enqueued survives an unreachable endpoint and a restart of the
//! process, the scrape path never waits for the network, and delivery is
//! at least once (a batch interrupted by a restart is sent again; a
//! Prometheus-style receiver ignores the identical samples).
//!
//! Status codes of the receiver, as Prometheus 3 answers them: 204 on
//! success; 415 for a Content-Type or Content-Encoding it does not speak;
//! 400 for a body that is not snappy or not a `WriteRequest`, for invalid
//! labels and for samples the TSDB refuses (out of order, duplicate, out of
//! bounds); 500 when the TSDB itself fails. Unlike Prometheus' 1.0 handler,
//! which rolls the whole request back on the first refused sample, the
//! valid samples of a request are kept (as remote-write 2.0 receivers do):
//! the sender drops a request answered 400, so rolling back would lose them.
//!
//! ```
//! use model::Labels;
//! use prom::remote::{proto, receive};
//!
//! let dir = tempfile::tempdir().unwrap();
//! let db = tsdb::Tsdb::open(dir.path(), tsdb::Options::default()).unwrap();
//! let up = Labels::from_pairs([("__name__", "up"), ("job", "api")]);
//! let mut series = proto::TimeSeries::new(&up);
//! series.samples.push(proto::Sample { value: 1.0, timestamp: 1_000 });
//! let body = proto::encode(&proto::WriteRequest { timeseries: vec![series], metadata: vec![] });
//! let stats = receive(&db, Some("application/x-protobuf"), Some("snappy"), &body).unwrap();
//! assert_eq!(stats.samples, 1);
//! ```

pub mod proto;
mod queue;
mod receiver;
mod sender;

use axum::http::StatusCode;

pub use receiver::{ReceiveStats, receive, respond};
pub use sender::{
    MAX_QUEUE_BYTES, QueueConfig, RemoteMetrics, RemoteWriter, RemoteWriters, to_request,
};

/// Everything that can go wrong receiving or sending remote writes.
#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    /// The request's Content-Type is not `application/x-protobuf`, or asks
    /// for a protobuf message other than `prometheus.WriteRequest`.
    #[error("{0}")]
    UnsupportedContentType(String),
    /// The request's Content-Encoding is not snappy.
    #[error("{0} encoding (compression) is not accepted by this server; only snappy is acceptable")]
    UnsupportedEncoding(String),
    /// The body is not valid snappy block format.
    #[error("snappy: {0}")]
    Snappy(String),
    /// The decompressed body is not a `WriteRequest`.
    #[error("proto: {0}")]
    Protobuf(String),
    /// A series without a metric name, or with an empty label name; its
    /// samples are skipped.
    #[error("invalid metric name or labels, got {0}")]
    InvalidLabels(String),
    /// A series with two labels of the same name; its samples are skipped.
    #[error("invalid labels for series, labels {labels}, duplicated label {name}")]
    DuplicateLabel {
        /// The series as sent.
        labels: String,
        /// The repeated name.
        name: String,
    },
    /// The TSDB refused a sample (out of order, duplicate, out of bounds);
    /// the request's other samples were kept.
    #[error("{source} for series {series}")]
    Sample {
        /// The series of the refused sample.
        series: String,
        /// Why the TSDB refused it.
        source: tsdb::TsdbError,
    },
    /// A sample more than ten minutes ahead of this server's clock, which
    /// Prometheus refuses as out of bounds too.
    #[error("out of bounds: timestamp {timestamp} is too far in the future for series {series}")]
    TooFarInFuture {
        /// The series of the refused sample.
        series: String,
        /// The sample's timestamp in milliseconds.
        timestamp: i64,
    },
    /// The TSDB failed (its log is broken, the disk is full): nothing of the
    /// request was kept, and the sender should retry.
    #[error("{0}")]
    Storage(tsdb::TsdbError),
    /// A `remote_write` entry that the sender cannot run (a bad
    /// `queue_config`, no async runtime to run on).
    #[error("remote_write {name}: {reason}")]
    Config {
        /// The entry's name or URL.
        name: String,
        /// What is wrong.
        reason: String,
    },
    /// Reading or writing the sender's on-disk queue failed.
    #[error("{op} {path}: {source}")]
    Io {
        /// What we were doing, e.g. "append to queue segment".
        op: &'static str,
        /// The file or directory concerned.
        path: std::path::PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// Registering the sender's metrics failed (registered twice).
    #[error("registering remote write metrics: {0}")]
    Metrics(#[from] instrument::RegistryError),
}

impl RemoteError {
    pub(crate) fn io(op: &'static str, path: &std::path::Path, source: std::io::Error) -> Self {
        Self::Io {
            op,
            path: path.to_owned(),
            source,
        }
    }
}

/// The status and plain-text body the receiver answers for `error`: the one
/// place where remote-write errors become HTTP.
pub fn status_and_message(error: &RemoteError) -> (StatusCode, String) {
    let status = match error {
        RemoteError::UnsupportedContentType(_) | RemoteError::UnsupportedEncoding(_) => {
            StatusCode::UNSUPPORTED_MEDIA_TYPE
        }
        RemoteError::Snappy(_)
        | RemoteError::Protobuf(_)
        | RemoteError::InvalidLabels(_)
        | RemoteError::DuplicateLabel { .. }
        | RemoteError::Sample { .. }
        | RemoteError::TooFarInFuture { .. } => StatusCode::BAD_REQUEST,
        RemoteError::Storage(_)
        | RemoteError::Config { .. }
        | RemoteError::Io { .. }
        | RemoteError::Metrics(_) => StatusCode::INTERNAL_SERVER_ERROR,
    };
    (status, error.to_string())
}
