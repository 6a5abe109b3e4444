//! The error type of this crate.

use std::net::SocketAddr;
use std::path::PathBuf;

/// What can stop the demo API or a generator.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// A log file could not be opened.
    #[error("cannot open log file {path}: {source}")]
    LogFile {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Status weights that are all zero.
    #[error("status weights must not all be zero")]
    StatusWeights,
    /// The metric families could not be registered.
    #[error(transparent)]
    Metrics(#[from] instrument::RegistryError),
    /// The server failed while serving.
    #[error("serving failed: {0}")]
    Serve(std::io::Error),
    /// Queued log lines could not be written at shutdown.
    #[error("flushing the log file failed: {0}")]
    Flush(std::io::Error),
    /// A task panicked or was cancelled.
    #[error(transparent)]
    Task(#[from] lifecycle::TaskError),
    /// The traffic generator's target is not an `http://host:port` URL.
    #[error("invalid target URL {0:?}")]
    Target(String),
}
