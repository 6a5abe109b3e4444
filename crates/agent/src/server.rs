//! The agent's own HTTP endpoints, as Promtail serves them: `/ready`,
//! `/metrics`, `/targets`, `/service-discovery`, `/config`, and `/` which
//! redirects to `/targets`.
//!
//! The pages are plain HTML tables of what is tailed (Promtail renders
//! its own templates; the facts shown are the same: per job, each target's
//! labels, whether it is ready, and its details — path, positions, size).
//! `/targets` also answers JSON when asked with `Accept: application/json`,
//! for tools and tests.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use instrument::Registry;
use serde::Serialize;

/// Promtail's answer to `/ready` when nothing is tailed.
const NOT_READY: &str = "Not ready: Unable to find any logs to tail. Please verify permissions, volumes, scrape_config, etc.";

/// One target as the pages show it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct TargetStatus {
    /// The target's kind (`file`, `stdin`).
    pub kind: String,
    /// Its labels as discovered (`__path__` included).
    pub discovered_labels: BTreeMap<String, String>,
    /// Its labels as sent (after relabelling, with `filename`).
    pub labels: BTreeMap<String, String>,
    /// Whether it is being read.
    pub ready: bool,
    /// Facts such as the path, the read and acknowledged offsets, the size
    /// or the last error.
    pub details: BTreeMap<String, String>,
}

/// What a job tails.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct JobStatus {
    /// `job_name`.
    pub job: String,
    /// Its targets, active and dropped.
    pub targets: Vec<TargetStatus>,
}

/// Where the pages get their facts from, read at each request.
pub trait StatusSource: Send + Sync {
    /// Every job with its targets.
    fn jobs(&self) -> Vec<JobStatus>;
}

/// What the routes need.
#[derive(Clone)]
pub struct ServerState {
    /// The registry `/metrics` prints.
    pub registry: Arc<Registry>,
    /// The targets.
    pub status: Arc<dyn StatusSource>,
    /// The config as loaded, for `/config`.
    pub config_text: Arc<str>,
    /// `server.health_check_target`: `/ready` fails while nothing is
    /// tailed (Promtail's default: on).
    pub health_check_target: bool,
}

/// The router of the agent's endpoints.
pub fn router(state: ServerState) -> Router {
    Router::new()
        .route("/", get(|| async { Redirect::to("/targets") }))
        .route("/ready", get(ready))
        .route(
            "/metrics",
            instrument::metrics_route(state.registry.clone(), instrument::Flavour::Go),
        )
        .route("/targets", get(targets))
        .route("/service-discovery", get(service_discovery))
        .route("/config", get(config))
        .with_state(state)
}

/// `addr`'s listener, bound now so that a taken port is an error at start.
pub async fn bind(addr: SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(addr).await
}

async fn ready(State(state): State<ServerState>) -> Response {
    let any_ready = state
        .status
        .jobs()
        .iter()
        .flat_map(|j| &j.targets)
        .any(|t| t.ready);
    if state.health_check_target && !any_ready {
        return (StatusCode::INTERNAL_SERVER_ERROR, format!("{NOT_READY}\n")).into_response();
    }
    "Ready".into_response()
}

async fn config(State(state): State<ServerState>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        state.config_text.to_string(),
    )
        .into_response()
}

async fn targets(State(state): State<ServerState>, headers: HeaderMap) -> Response {
    let jobs = state.status.jobs();
    let wants_json = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"));
    if wants_json {
        return axum::Json(jobs).into_response();
    }
    let mut page = page_start("Targets");
    for job in &jobs {
        let ready = job.targets.iter().filter(|t| t.ready).count();
        let _ = write!(
            page,
            "<h2>{} ({ready}/{} ready)</h2>\n<table>\n<tr><th>Type</th><th>Ready</th><th>Labels</th><th>Details</th></tr>\n",
            escape(&job.job),
            job.targets.len()
        );
        for t in &job.targets {
            let _ = writeln!(
                page,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&t.kind),
                if t.ready { "true" } else { "false" },
                labels_cell(&t.labels),
                labels_cell(&t.details),
            );
        }
        page.push_str("</table>\n");
    }
    page.push_str("</body></html>\n");
    Html(page).into_response()
}

async fn service_discovery(State(state): State<ServerState>) -> Response {
    let mut page = page_start("Service Discovery");
    for job in state.status.jobs() {
        let active = job.targets.iter().filter(|t| t.ready).count();
        let _ = write!(
            page,
            "<h2>{} ({active} / {} active targets)</h2>\n<table>\n<tr><th>Discovered Labels</th><th>Target Labels</th></tr>\n",
            escape(&job.job),
            job.targets.len()
        );
        for t in &job.targets {
            let target_labels = if t.ready {
                labels_cell(&t.labels)
            } else {
                "Dropped".to_owned()
            };
            let _ = writeln!(
                page,
                "<tr><td>{}</td><td>{target_labels}</td></tr>",
                labels_cell(&t.discovered_labels),
            );
        }
        page.push_str("</table>\n");
    }
    page.push_str("</body></html>\n");
    Html(page).into_response()
}

fn page_start(title: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>vigil agent — {title}</title></head><body>\n<h1>{title}</h1>\n"
    )
}

fn labels_cell(labels: &BTreeMap<String, String>) -> String {
    let mut cell = String::new();
    for (k, v) in labels {
        let _ = write!(cell, "<span>{}=\"{}\"</span> ", escape(k), escape(v));
    }
    cell
}

/// HTML escaping of text (labels and paths may hold anything).
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_markup() {
        assert_eq!(
            escape(r#"<a href="x">&'"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
