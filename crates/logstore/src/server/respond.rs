//! Loki's answers: JSON bodies in the envelope shared with the Prometheus
//! API (`model::envelope`), and errors as Loki writes them, plain text with
//! their status. The one place where answers get their HTTP statuses
//! (pushes' refusals carry theirs in `push::PushError::status`).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// An error answered as Loki does: a status and a plain-text body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The HTTP status (4xx for anything the client caused).
    pub status: u16,
    /// The body.
    pub message: String,
}

impl ApiError {
    /// An error with `status` and `message`.
    pub fn plain(status: u16, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }

    /// A 400.
    pub fn bad(message: impl Into<String>) -> Self {
        Self::plain(400, message)
    }

    /// A 500: our failure, never the client's.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::plain(500, message)
    }

    /// A 401: a tenant is required and missing (Loki's `no org id`).
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::plain(401, message)
    }

    /// Loki's 404 for any path it does not serve.
    pub fn not_found() -> Self {
        Self::plain(404, "404 page not found")
    }

    /// A 503: not able to serve now.
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::plain(503, message)
    }
}

/// A successful push or flush: 204 without a body.
pub(crate) fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

/// `/ready`'s answer when ready.
pub(crate) fn ready() -> Response {
    (StatusCode::OK, "ready\n").into_response()
}

impl From<logql::api::ApiError> for ApiError {
    fn from(e: logql::api::ApiError) -> Self {
        Self::plain(e.status, e.message)
    }
}

impl From<&logql::Error> for ApiError {
    fn from(e: &logql::Error) -> Self {
        logql::api::ApiError::from(e).into()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut message = self.message;
        if !message.ends_with('\n') {
            message.push('\n');
        }
        let mut response = (status, message).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        response.headers_mut().insert(
            "X-Content-Type-Options",
            HeaderValue::from_static("nosniff"),
        );
        response
    }
}

/// A JSON body, ended by a newline as Loki's encoder ends it.
pub(crate) fn json_body(mut body: Vec<u8>) -> Response {
    body.push(b'\n');
    let mut response = (StatusCode::OK, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// `data` in the success envelope.
pub(crate) fn success<T: Serialize + ?Sized>(data: &T) -> Response {
    match model::envelope::success(data, &[], &[]) {
        Ok(body) => json_body(body),
        Err(e) => ApiError::internal(e.to_string()).into_response(),
    }
}

/// Plain text (`format_query`).
pub(crate) fn text(body: String) -> Response {
    let mut response = (StatusCode::OK, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// A bare JSON value (Loki's `index/stats`, `buildinfo`).
pub(crate) fn bare<T: Serialize + ?Sized>(data: &T) -> Response {
    match serde_json::to_vec(data) {
        Ok(body) => json_body(body),
        Err(e) => ApiError::internal(e.to_string()).into_response(),
    }
}
