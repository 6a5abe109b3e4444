//! The Prometheus API envelope, and the one place where error kinds become
//! HTTP statuses.
//!
//! `{"status":"success","data":…,"warnings":[…]}` or
//! `{"status":"error","errorType":"bad_data","error":"…"}`, with the status
//! codes Prometheus uses: bad_data 400, execution 422, canceled 499,
//! timeout 503, unavailable 503, internal 500, not_found 404.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Value, json};

/// The kinds of API error Prometheus distinguishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The request is wrong (400).
    BadData,
    /// The query failed while running (422).
    Execution,
    /// The client went away (499).
    Canceled,
    /// The query ran out of time (503).
    Timeout,
    /// Not available now (503).
    Unavailable,
    /// A bug or an I/O failure on our side (500).
    Internal,
    /// No such thing (404).
    NotFound,
}

impl ErrorKind {
    fn type_name(self) -> &'static str {
        match self {
            ErrorKind::BadData => "bad_data",
            ErrorKind::Execution => "execution",
            ErrorKind::Canceled => "canceled",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Unavailable => "unavailable",
            ErrorKind::Internal => "internal",
            ErrorKind::NotFound => "not_found",
        }
    }

    fn status(self) -> StatusCode {
        match self {
            ErrorKind::BadData => StatusCode::BAD_REQUEST,
            ErrorKind::Execution => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorKind::Canceled => StatusCode::from_u16(499).unwrap_or(StatusCode::BAD_REQUEST),
            ErrorKind::Timeout | ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            ErrorKind::NotFound => StatusCode::NOT_FOUND,
        }
    }
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
        let body = json!({
            "status": "error",
            "errorType": self.kind.type_name(),
            "error": self.message,
        });
        json_response(self.kind.status(), &body)
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
        /// The envelope in Prometheus' member order, serialized straight
        /// from `data` (a query result can hold millions of points: no
        /// intermediate `Value` tree).
        #[derive(Serialize)]
        struct Envelope<'a, T: Serialize> {
            status: &'static str,
            data: &'a T,
            #[serde(skip_serializing_if = "<[String]>::is_empty")]
            warnings: &'a [String],
            #[serde(skip_serializing_if = "<[String]>::is_empty")]
            infos: &'a [String],
        }
        let envelope = Envelope {
            status: "success",
            data: &self.data,
            warnings: &self.warnings,
            infos: &self.infos,
        };
        match serde_json::to_vec(&envelope) {
            Ok(body) => {
                let mut response = (StatusCode::OK, body).into_response();
                response.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                );
                response
            }
            Err(e) => ApiError::internal(e.to_string()).into_response(),
        }
    }
}

fn json_response(status: StatusCode, body: &Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// A sample value as the API writes it: a string, `NaN`/`+Inf`/`-Inf` for
/// the specials, otherwise the shortest decimal without exponent
/// (Go's `FormatFloat(v, 'f', -1, 64)`).
pub fn format_sample_value(value: f64) -> String {
    SampleValue(value).to_string()
}

/// [`format_sample_value`] as a `Display`, to write without allocating.
#[derive(Debug, Clone, Copy)]
pub struct SampleValue(pub f64);

impl std::fmt::Display for SampleValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let value = self.0;
        if value.is_nan() {
            f.write_str("NaN")
        } else if value == f64::INFINITY {
            f.write_str("+Inf")
        } else if value == f64::NEG_INFINITY {
            f.write_str("-Inf")
        } else {
            // Rust's Display is the shortest round-trip digits without exponent.
            write!(f, "{value}")
        }
    }
}

impl Serialize for SampleValue {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// A sample timestamp as the API writes it: a JSON number of seconds, an
/// integer when whole (`1795533224`), else with the milliseconds
/// (`1795533211.715`).
#[derive(Debug, Clone, Copy)]
pub struct Timestamp(pub i64);

impl Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.0 % 1000 == 0 {
            serializer.serialize_i64(self.0 / 1000)
        } else {
            serializer.serialize_f64(self.0 as f64 / 1000.0)
        }
    }
}

/// [`Timestamp`] as a JSON value.
pub fn timestamp_json(ms: i64) -> Value {
    serde_json::to_value(Timestamp(ms)).unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_formatted_like_go() {
        for (value, text) in [
            (1.0, "1"),
            (0.1, "0.1"),
            (1e21, "1000000000000000000000"),
            (1e-7, "0.0000001"),
            (-2.5, "-2.5"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "+Inf"),
            (f64::NEG_INFINITY, "-Inf"),
        ] {
            assert_eq!(format_sample_value(value), text);
        }
    }

    #[test]
    fn timestamps_are_seconds() {
        assert_eq!(
            timestamp_json(1_700_000_000_123).to_string(),
            "1700000000.123"
        );
        assert_eq!(timestamp_json(1_795_533_224_000).to_string(), "1795533224");
        assert_eq!(
            timestamp_json(1_795_533_224_500).to_string(),
            "1795533224.5"
        );
        assert_eq!(timestamp_json(-1_500).to_string(), "-1.5");
    }
}
