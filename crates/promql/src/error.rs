//! The one error type of the engine, [`QueryError`], and its API kind.

use std::fmt;

/// How the HTTP API reports an error (`errorType` in Prometheus' envelope);
/// the API maps each kind to one status code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The query or its parameters are invalid (400).
    BadData,
    /// The query is valid but could not be evaluated (422).
    Execution,
    /// The query ran out of time (503).
    Timeout,
    /// The query was canceled by its caller (499).
    Canceled,
    /// The storage failed (500).
    Internal,
}

impl ErrorKind {
    /// The `errorType` string of Prometheus' API.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::BadData => "bad_data",
            ErrorKind::Execution => "execution",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Canceled => "canceled",
            ErrorKind::Internal => "internal",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a query failed. Messages are Prometheus' own where it has one.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum QueryError {
    /// The query text does not parse (the parser's message).
    #[error("{0}")]
    Parse(String),
    /// The query parses but cannot be run as asked: wrong result type for a
    /// range query, bad step, too many points.
    #[error("{0}")]
    BadData(String),
    /// Evaluation failed: ambiguous vector matching, duplicate label sets,
    /// invalid function parameters.
    #[error("{0}")]
    Execution(String),
    /// The query would hold more samples than the engine's limit.
    #[error("query processing would load too many samples into memory in query execution")]
    TooManySamples,
    /// The query ran longer than the engine's timeout.
    #[error("query timed out in expression evaluation")]
    Timeout,
    /// The caller canceled the query.
    #[error("query was canceled in expression evaluation")]
    Canceled,
    /// The storage could not be read.
    #[error("{0}")]
    Storage(String),
}

impl QueryError {
    /// The API kind of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            QueryError::Parse(_) | QueryError::BadData(_) => ErrorKind::BadData,
            QueryError::Execution(_) | QueryError::TooManySamples => ErrorKind::Execution,
            QueryError::Timeout => ErrorKind::Timeout,
            QueryError::Canceled => ErrorKind::Canceled,
            QueryError::Storage(_) => ErrorKind::Internal,
        }
    }
}

impl From<model::algebra::AlgebraError> for QueryError {
    fn from(e: model::algebra::AlgebraError) -> Self {
        QueryError::Execution(e.to_string())
    }
}

impl From<tsdb::TsdbError> for QueryError {
    fn from(e: tsdb::TsdbError) -> Self {
        QueryError::Storage(e.to_string())
    }
}
