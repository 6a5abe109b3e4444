//! The Grafana-style HTTP API for the UI and tools: `/api/health`,
//! `/api/search`, `/api/dashboards/...`, `/api/folders`,
//! `/api/datasources/...`, `/api/frontend/settings`. Answers use Grafana's
//! field names and shapes, so a tool written for Grafana's API works here.
//!
//! Errors go through [`ApiError`], the one place that maps them to HTTP
//! statuses and Grafana's `{"message"}` bodies.

mod content;
mod dashboards;
mod datasources;

use axum::Json;
use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use crate::server::AppState;
use crate::store::StoreError;

pub use content::slugify;

/// vigil's version, reported as Grafana's `buildInfo.version`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The commit vigil was built from (`VIGIL_COMMIT` at build time), or
/// "unknown".
pub const COMMIT: &str = match option_env!("VIGIL_COMMIT") {
    Some(commit) => commit,
    None => "unknown",
};

/// This module's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/health", get(datasources::health))
        .route(
            "/api/frontend/settings",
            get(datasources::frontend_settings),
        )
        .route("/api/datasources", get(datasources::list))
        .route("/api/datasources/uid/{uid}", get(datasources::by_uid))
        .route("/api/datasources/name/{name}", get(datasources::by_name))
        .route("/api/datasources/{id}", get(datasources::by_id))
        .route("/api/search", get(dashboards::search))
        .route(
            "/api/dashboards/uid/{uid}",
            get(dashboards::get_dashboard).delete(dashboards::delete_dashboard),
        )
        .route("/api/dashboards/db", post(dashboards::save_dashboard))
        .route("/api/dashboards/tags", get(dashboards::tags))
        .route(
            "/api/folders",
            get(dashboards::folders).post(dashboards::create_folder),
        )
        .route("/api/folders/{uid}", get(dashboards::folder))
}

/// Why an API call failed, as Grafana answers it.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 404 with Grafana's message for the kind of thing not found.
    #[error("{0}")]
    NotFound(&'static str),
    /// 400: the request cannot be done as asked.
    #[error("{0}")]
    BadRequest(String),
    /// 409: a folder with that uid or title exists.
    #[error("{0}")]
    Conflict(&'static str),
    /// 412 with a `status` Grafana's clients switch on
    /// (`version-mismatch`, `name-exists`).
    #[error("{message}")]
    PreconditionFailed {
        message: &'static str,
        status: &'static str,
    },
    /// 500: the state database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, body) = match &self {
            ApiError::NotFound(message) => (
                StatusCode::NOT_FOUND,
                serde_json::json!({ "message": message }),
            ),
            ApiError::BadRequest(message) => (
                StatusCode::BAD_REQUEST,
                serde_json::json!({ "message": message }),
            ),
            ApiError::Conflict(message) => (
                StatusCode::CONFLICT,
                serde_json::json!({ "message": message }),
            ),
            ApiError::PreconditionFailed { message, status } => (
                StatusCode::PRECONDITION_FAILED,
                serde_json::json!({ "message": message, "status": status }),
            ),
            ApiError::Store(e) => {
                tracing::error!("dashboards API: {e}");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    serde_json::json!({ "message": "Internal server error" }),
                )
            }
        };
        (status, Json(body)).into_response()
    }
}

/// Grafana's timestamps in API answers: RFC 3339 in UTC.
pub(crate) fn timestamp(ms: i64) -> String {
    gocompat::time::format(ms.saturating_mul(1_000_000), gocompat::time::RFC3339)
}
