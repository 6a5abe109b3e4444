//! The Prometheus HTTP API over the TSDB and the scrape manager: the
//! endpoints Grafana and promtool call, with Prometheus' envelope, errors
//! and number formats.

mod meta;
pub mod params;
mod query;
pub mod respond;
mod status;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

use axum::Router;
use axum::http::{StatusCode, header};
use axum::routing::{get, post};
use tokio::sync::{mpsc, oneshot};
use tsdb::Tsdb;

use crate::scrape::ScrapeManager;
use respond::ApiError;

/// What the status endpoints report about the running server.
#[derive(Debug, Clone)]
pub struct RuntimeState {
    /// The config file's text, as loaded.
    pub config_yaml: String,
    /// Whether the last (re)load succeeded.
    pub last_reload_ok: bool,
    /// When the config in force was loaded.
    pub last_config_time: SystemTime,
}

/// A request to reload the config, answered when done.
pub type ReloadRequest = oneshot::Sender<Result<(), String>>;

/// Everything the handlers read.
pub struct ApiState {
    /// The storage.
    pub db: Arc<Tsdb>,
    /// The scrape loops.
    pub scrape: Arc<ScrapeManager>,
    /// Command-line flags as the status API shows them.
    pub flags: BTreeMap<String, String>,
    /// When the server started.
    pub start_time: SystemTime,
    /// Retention as the status API shows it (`15d`).
    pub retention: String,
    /// Config text and reload state.
    pub runtime: Arc<Mutex<RuntimeState>>,
    /// Where `/-/reload` sends its requests; `None` without
    /// `--web.enable-lifecycle`.
    pub reload: Option<mpsc::Sender<ReloadRequest>>,
    /// Whether `POST /api/v1/write` is on (`--web.enable-remote-write-receiver`).
    pub remote_write_receiver: bool,
    /// The server's own metrics.
    pub registry: Arc<instrument::Registry>,
    /// `host:port` of the server's external URL: the machine's name and
    /// the port it listens on.
    pub external_host: String,
    /// The query engine's settings; a request may only shorten the timeout.
    pub engine: promql::EngineOptions,
}

impl ApiState {
    fn runtime(&self) -> RuntimeState {
        self.runtime
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// The router of every endpoint.
pub fn router(state: Arc<ApiState>) -> Router {
    let registry = state.registry.clone();
    Router::new()
        .route("/api/v1/query", get(query::instant).post(query::instant))
        .route("/api/v1/query_range", get(query::range).post(query::range))
        .route("/api/v1/series", get(meta::series).post(meta::series))
        .route("/api/v1/labels", get(meta::labels).post(meta::labels))
        .route("/api/v1/label/{name}/values", get(meta::label_values))
        .route("/api/v1/metadata", get(meta::metadata))
        .route("/api/v1/targets", get(status::targets))
        .route("/api/v1/targets/metadata", get(meta::targets_metadata))
        .route("/api/v1/status/buildinfo", get(status::buildinfo))
        .route("/api/v1/status/config", get(status::config))
        .route("/api/v1/status/flags", get(status::flags))
        .route("/api/v1/status/runtimeinfo", get(status::runtimeinfo))
        .route("/api/v1/status/tsdb", get(status::tsdb))
        .route("/api/v1/rules", get(status::rules))
        .route("/api/v1/alerts", get(status::alerts))
        .route(
            "/api/v1/query_exemplars",
            get(status::exemplars).post(status::exemplars),
        )
        .route(
            "/api/v1/format_query",
            get(status::format_query).post(status::format_query),
        )
        .route("/api/v1/write", post(remote_write))
        .route(
            "/-/healthy",
            get(|| async { "Prometheus Server is Healthy.\n" }),
        )
        .route(
            "/-/ready",
            get(|| async { "Prometheus Server is Ready.\n" }),
        )
        .route("/-/reload", post(status::reload).put(status::reload))
        .route(
            "/metrics",
            instrument::metrics_route(registry, instrument::Flavour::Go),
        )
        .fallback(|| async {
            (
                StatusCode::NOT_FOUND,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                "404 page not found\n",
            )
        })
        .with_state(state)
}

/// `POST /api/v1/write`: remote write into the TSDB, when enabled.
async fn remote_write(
    axum::extract::State(state): axum::extract::State<Arc<ApiState>>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    if !state.remote_write_receiver {
        let message =
            "remote write receiver needs to be enabled with --web.enable-remote-write-receiver\n";
        return (StatusCode::NOT_FOUND, message).into_response();
    }
    tokio::task::spawn_blocking(move || crate::remote::respond(&state.db, &headers, &body))
        .await
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

/// Runs storage work off the async threads.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| ApiError::internal(format!("query task failed: {e}")))?
}

/// Labels as the JSON object Prometheus writes for a series.
fn labels_json(labels: &model::Labels) -> serde_json::Map<String, serde_json::Value> {
    labels
        .iter()
        .map(|l| {
            (
                l.name.to_owned(),
                serde_json::Value::from(l.value.to_owned()),
            )
        })
        .collect()
}

/// Go's RFC 3339 with nanoseconds, trailing zeros dropped, as its JSON has
/// times; the zero time for "never".
fn go_time(at: Option<SystemTime>) -> String {
    let Some(at) = at else {
        return "0001-01-01T00:00:00Z".to_owned();
    };
    let ns = match at.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_nanos()).unwrap_or(i64::MAX),
        Err(before) => i64::try_from(before.duration().as_nanos()).map_or(i64::MIN, |ns| -ns),
    };
    gocompat::time::format(ns, gocompat::time::RFC3339_NANO)
}

#[cfg(test)]
mod tests {
    use super::go_time;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn go_times() {
        assert_eq!(go_time(None), "0001-01-01T00:00:00Z");
        let t = UNIX_EPOCH + Duration::from_nanos(1_795_533_223_313_975_710);
        assert_eq!(go_time(Some(t)), "2026-11-24T15:13:43.31397571Z");
        assert_eq!(
            go_time(Some(UNIX_EPOCH + Duration::from_secs(1))),
            "1970-01-01T00:00:01Z"
        );
    }
}
