//! The Prometheus API's responses: the envelope (`model::envelope`, shared
//! with the Loki API) as axum responses, and the one place where error kinds
//! become HTTP statuses.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
pub use model::envelope::{ErrorKind, SampleValue, Timestamp};
use serde::Serialize;

/// The HTTP status of an error kind.
fn status_of(kind: ErrorKind) -> StatusCode {
    StatusCode::from_u16(kind.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// An error answered in the envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// Its kind, which picks the status code.
    pub kind: ErrorKind,
    /// The message.
    pub message: String,
}

impl ApiError {
    /// A `bad_data` error.
    pub fn bad_data(message: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::BadData,
            message: message.into(),
        }
    }

    /// A `bad_data` error about one parameter, worded as Prometheus words it.
    pub fn bad_param(name: &str, message: impl std::fmt::Display) -> Self {
        Self::bad_data(format!("invalid parameter {name:?}: {message}"))
    }

    /// An `internal` error.
    pub fn internal(message: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::Internal,
            message: message.into(),
        }
    }

    /// An `execution` error.
    pub fn execution(message: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::Execution,
            message: message.into(),
        }
    }
}

impl From<tsdb::TsdbError> for ApiError {
    fn from(error: tsdb::TsdbError) -> Self {
        ApiError::internal(error.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        json_response(
            status_of(self.kind),
            model::envelope::error(self.kind, &self.message),
        )
    }
}

/// A successful answer, with optional annotations.
pub struct Success<T: Serialize> {
    /// The `data` member.
    pub data: T,
    /// Possible problems with the result.
    pub warnings: Vec<String>,
    /// Hints that do not question the result (Prometheus 3).
    pub infos: Vec<String>,
}

impl<T: Serialize> Success<T> {
    /// Success without warnings.
    pub fn new(data: T) -> Self {
        Self {
            data,
            warnings: Vec::new(),
            infos: Vec::new(),
        }
    }
}

impl<T: Serialize> IntoResponse for Success<T> {
    fn into_response(self) -> Response {
        match model::envelope::success(&self.data, &self.warnings, &self.infos) {
            Ok(body) => json_response(StatusCode::OK, body),
            Err(e) => ApiError::internal(e.to_string()).into_response(),
        }
    }
}

fn json_response(status: StatusCode, body: Vec<u8>) -> Response {
    let mut response = (status, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}
