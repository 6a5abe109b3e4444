//! Targets, status, rules/alerts placeholders, `format_query` and the
//! lifecycle endpoint.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use model::{MatchOp, Matcher};
use serde_json::{Value, json};
use tokio::sync::oneshot;
use tsdb::Queryable;

use super::params::Params;
use super::respond::{ApiError, Success};
use super::{ApiState, blocking, go_time, labels_json};

pub(super) async fn targets(
    State(state): State<Arc<ApiState>>,
    params: Params,
) -> Result<Success<Value>, ApiError> {
    let wanted_state = params.get("state").unwrap_or("any").to_ascii_lowercase();
    let pool = params.get("scrapePool").filter(|p| !p.is_empty());
    let show_active = matches!(wanted_state.as_str(), "any" | "active" | "");
    let show_dropped = matches!(wanted_state.as_str(), "any" | "dropped" | "");
    let mut active = Vec::new();
    if show_active {
        for t in state.scrape.active_targets() {
            if pool.is_some_and(|p| p != t.job) {
                continue;
            }
            active.push(json!({
                "discoveredLabels": labels_json(&t.target.discovered),
                "labels": labels_json(&t.target.labels),
                "scrapePool": t.job,
                "scrapeUrl": t.target.url,
                "globalUrl": global_url(&t.target.url, &state.external_host),
                "lastError": t.health.last_error,
                "lastScrape": go_time(t.health.last_scrape),
                "lastScrapeDuration": t.health.last_scrape_duration.as_secs_f64(),
                "health": t.health.state.as_str(),
                "scrapeInterval": model::duration::format_duration(t.target.interval),
                "scrapeTimeout": model::duration::format_duration(t.target.timeout),
            }));
        }
    }
    let mut dropped = Vec::new();
    let mut dropped_counts: BTreeMap<String, usize> = BTreeMap::new();
    for d in state.scrape.dropped_targets() {
        if pool.is_some_and(|p| p != d.job) {
            continue;
        }
        *dropped_counts.entry(d.job.clone()).or_default() += 1;
        if show_dropped {
            dropped.push(json!({ "discoveredLabels": labels_json(&d.discovered) }));
        }
    }
    Ok(Success::new(json!({
        "activeTargets": active,
        "droppedTargets": dropped,
        "droppedTargetCounts": dropped_counts,
    })))
}

/// The URL a target is reachable at from elsewhere, as Prometheus writes
/// `globalUrl`: a loopback host (`127.0.0.1`, `localhost`, `::1`) becomes
/// the external URL's host; the server scraping itself becomes the external
/// URL's host and port.
fn global_url(url: &str, external_host: &str) -> String {
    let Ok(mut parsed) = reqwest::Url::parse(url) else {
        return url.to_owned();
    };
    let loopback = matches!(
        parsed.host_str(),
        Some("127.0.0.1" | "localhost" | "[::1]" | "::1")
    );
    if !loopback {
        return url.to_owned();
    }
    let (host, own_port) = external_host
        .rsplit_once(':')
        .unwrap_or((external_host, ""));
    let port = parsed.port_or_known_default().map(|p| p.to_string());
    if port.as_deref() == Some(own_port) {
        let _ = parsed.set_scheme("http");
    }
    if parsed.set_host(Some(host)).is_err() {
        return url.to_owned();
    }
    parsed.to_string()
}

pub(super) async fn buildinfo() -> Success<Value> {
    // Grafana reads `version` to pick features; we implement Prometheus 3
    // semantics, and say what we are in the other fields.
    Success::new(json!({
        "version": "3.0.0",
        "revision": concat!("vigil-", env!("CARGO_PKG_VERSION")),
        "branch": "vigil",
        "buildUser": "vigil",
        "buildDate": "",
        "goVersion": "",
    }))
}

pub(super) async fn config(State(state): State<Arc<ApiState>>) -> Success<Value> {
    Success::new(json!({ "yaml": state.runtime().config_yaml }))
}

pub(super) async fn flags(State(state): State<Arc<ApiState>>) -> Success<Value> {
    Success::new(json!(state.flags))
}

pub(super) async fn runtimeinfo(State(state): State<Arc<ApiState>>) -> Success<Value> {
    let runtime = state.runtime();
    let cwd = std::env::current_dir()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    Success::new(json!({
        "startTime": go_time(Some(state.start_time)),
        "CWD": cwd,
        "reloadConfigSuccess": runtime.last_reload_ok,
        "lastConfigTime": go_time(Some(runtime.last_config_time)),
        "corruptionCount": 0,
        "goroutineCount": 0,
        "GOMAXPROCS": cpus,
        "GOGC": "",
        "GODEBUG": "",
        "storageRetention": state.retention,
    }))
}

/// `/api/v1/status/tsdb`: head statistics and the top-10 cardinality lists.
pub(super) async fn tsdb(
    State(state): State<Arc<ApiState>>,
    params: Params,
) -> Result<Success<Value>, ApiError> {
    let limit = params.limit()?.unwrap_or(10);
    blocking(move || {
        let head = state.db.head();
        let (min_time, max_time) = (head.min_time(), head.max_time());
        let querier = head.querier(i64::MIN, i64::MAX)?;
        let all = Matcher::new(MatchOp::Regex, model::METRIC_NAME, ".+")
            .map_err(|e| ApiError::internal(e.to_string()))?;
        let series = querier.select(&[all])?;
        let mut by_name: HashMap<String, u64> = HashMap::new();
        let mut by_pair: HashMap<String, u64> = HashMap::new();
        let mut values_by_label: HashMap<String, std::collections::HashSet<String>> =
            HashMap::new();
        let mut bytes_by_label: HashMap<String, u64> = HashMap::new();
        for s in &series {
            for label in s.labels().iter() {
                if label.name == model::METRIC_NAME {
                    *by_name.entry(label.value.to_owned()).or_default() += 1;
                }
                *by_pair
                    .entry(format!("{}={}", label.name, label.value))
                    .or_default() += 1;
                if values_by_label
                    .entry(label.name.to_owned())
                    .or_default()
                    .insert(label.value.to_owned())
                {
                    *bytes_by_label.entry(label.name.to_owned()).or_default() +=
                        label.value.len() as u64;
                }
            }
        }
        let top = |counts: HashMap<String, u64>| -> Vec<Value> {
            let mut list: Vec<(String, u64)> = counts.into_iter().collect();
            list.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            list.into_iter()
                .take(limit)
                .map(|(name, value)| json!({ "name": name, "value": value }))
                .collect()
        };
        let label_value_counts = values_by_label
            .iter()
            .map(|(k, v)| (k.clone(), v.len() as u64))
            .collect();
        Ok(Success::new(json!({
            "headStats": {
                "numSeries": series.len(),
                "numLabelPairs": by_pair.len(),
                "chunkCount": head.stats().series,
                "minTime": min_time.unwrap_or(i64::MAX),
                "maxTime": max_time.unwrap_or(i64::MIN),
            },
            "seriesCountByMetricName": top(by_name),
            "labelValueCountByLabelName": top(label_value_counts),
            "memoryInBytesByLabelName": top(bytes_by_label),
            "seriesCountByLabelValuePair": top(by_pair),
        })))
    })
    .await
}

/// No rules are evaluated yet: an empty, valid answer, which Grafana needs.
pub(super) async fn rules() -> Success<Value> {
    Success::new(json!({ "groups": [] }))
}

/// No alerts yet, as for rules.
pub(super) async fn alerts() -> Success<Value> {
    Success::new(json!({ "alerts": [] }))
}

/// Exemplars are not stored yet; Grafana asks anyway and needs a success.
pub(super) async fn exemplars(params: Params) -> Result<Success<Value>, ApiError> {
    if let Some(query) = params.get("query") {
        promql_parser::parser::parse(query).map_err(|e| ApiError::bad_param("query", e))?;
    }
    Ok(Success::new(json!([])))
}

pub(super) async fn format_query(params: Params) -> Result<Success<String>, ApiError> {
    let query = params.get("query").unwrap_or("");
    let expr = promql_parser::parser::parse(query).map_err(|e| ApiError::bad_param("query", e))?;
    Ok(Success::new(expr.prettify()))
}

/// `/-/reload`: asks the server to reload its config, as Prometheus does
/// with `--web.enable-lifecycle`.
pub(super) async fn reload(State(state): State<Arc<ApiState>>) -> Response {
    let Some(reload) = &state.reload else {
        return (StatusCode::FORBIDDEN, "Lifecycle API is not enabled.\n").into_response();
    };
    let (done, result) = oneshot::channel();
    if reload.send(done).await.is_err() {
        return (StatusCode::SERVICE_UNAVAILABLE, "server is shutting down\n").into_response();
    }
    match result.await {
        Ok(Ok(())) => StatusCode::OK.into_response(),
        Ok(Err(e)) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("failed to reload config: {e}\n"),
        )
            .into_response(),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "server is shutting down\n").into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::global_url;

    #[test]
    fn global_urls_name_the_machine_instead_of_loopback() {
        let external = "box:9090";
        assert_eq!(
            global_url("http://127.0.0.1:8000/metrics", external),
            "http://box:8000/metrics"
        );
        assert_eq!(
            global_url("http://localhost:9090/metrics?x=1", external),
            "http://box:9090/metrics?x=1"
        );
        assert_eq!(
            global_url("http://[::1]:8000/metrics", external),
            "http://box:8000/metrics"
        );
        assert_eq!(
            global_url("http://api.internal:8000/metrics", external),
            "http://api.internal:8000/metrics"
        );
    }
}
