//! `POST /api/ds/query`: runs a panel's queries against their datasources
//! (Prometheus and Loki HTTP APIs, concurrently) and answers Grafana's
//! data frames, one result per `refId`:
//! `{"results":{"A":{"status":200,"frames":[...]},"B":{"status":400,"error":"..."}}}`,
//! HTTP 200 when every query ran, 207 when some failed, 400 when the
//! request itself is bad. The UI has already interpolated every variable;
//! the Prometheus step is computed here as Grafana's backend does
//! ([`step`]), each answer is decoded while it downloads (`fetch`, capped
//! at [`MAX_RESPONSE_BYTES`]) and becomes frames in [`frames`].

use std::collections::BTreeMap;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Map, Value, json};
use tokio::task::JoinSet;

use crate::auth::{CurrentUser, message};
use crate::datasource::{Datasource, Datasources};
use crate::proxy::UpstreamError;
use crate::server::AppState;

pub mod builtins;
mod fetch;
pub mod frames;
pub mod step;

use fetch::call;

use frames::{Decoded, Envelope, FrameContext};

/// The largest answer accepted from a datasource.
pub const MAX_RESPONSE_BYTES: usize = 64 * 1024 * 1024;

/// Loki's line limit when neither the query nor the datasource sets one.
pub const DEFAULT_MAX_LINES: i64 = 1000;

/// Why one query failed: its status and the message the panel shows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct QueryError {
    pub status: u16,
    pub message: String,
}

impl QueryError {
    fn new(status: u16, message: impl Into<String>) -> QueryError {
        QueryError {
            status,
            message: message.into(),
        }
    }
}

impl From<UpstreamError> for QueryError {
    fn from(e: UpstreamError) -> QueryError {
        QueryError::new(e.status().as_u16(), e.to_string())
    }
}

/// The request's time range in epoch ms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeRange {
    pub from_ms: i64,
    pub to_ms: i64,
}

/// `/api/ds/query`.
pub fn routes() -> Router<AppState> {
    Router::new().route("/api/ds/query", post(ds_query))
}

/// A time of the request: epoch ms (string or number), `now`, or
/// `now-<duration>`.
pub fn parse_time(value: &Value, now_ms: i64) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => {
            let s = s.trim();
            if let Ok(ms) = s.parse::<i64>() {
                return Some(ms);
            }
            let rest = s.strip_prefix("now")?;
            if rest.is_empty() {
                return Some(now_ms);
            }
            let (sign, duration) = match rest.split_at(1) {
                ("-", d) => (-1, d),
                ("+", d) => (1, d),
                _ => return None,
            };
            let ms = step::parse_interval(duration).ok()?;
            // A duration past the i64 range is not a time (no overflow).
            now_ms.checked_add(ms.checked_mul(sign)?)
        }
        _ => None,
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// The datasource a query names: `{uid}` (or `{type}` alone: the first of
/// that type), a string (a name, or a uid), or nothing (the default).
pub fn resolve<'a>(
    datasources: &'a Datasources,
    reference: Option<&Value>,
) -> Result<&'a Datasource, QueryError> {
    let default = || {
        datasources
            .default_source()
            .ok_or_else(|| QueryError::new(404, "no datasource is provisioned"))
    };
    let pseudo = |name: &str| {
        matches!(
            name,
            "-- Mixed --" | "-- Grafana --" | "-- Dashboard --" | "grafana" | "__expr__"
        )
    };
    let not_found = |what: &str| QueryError::new(404, format!("data source not found: {what}"));
    match reference {
        None | Some(Value::Null) => default(),
        Some(Value::String(s)) if s.is_empty() || s == "default" => default(),
        Some(Value::String(s)) if pseudo(s) => Err(QueryError::new(
            400,
            format!(
                "{s} is not a datasource a query can run on: give the query its own datasource"
            ),
        )),
        Some(Value::String(s)) => datasources
            .by_name(s)
            .or_else(|| datasources.by_uid(s))
            .ok_or_else(|| not_found(s)),
        Some(Value::Object(o)) => {
            let uid = o.get("uid").and_then(Value::as_str).unwrap_or("");
            let kind = o.get("type").and_then(Value::as_str).unwrap_or("");
            if pseudo(uid) || (uid.is_empty() && pseudo(kind)) {
                return Err(QueryError::new(
                    400,
                    format!(
                        "{} is not a datasource a query can run on: give the query its own datasource",
                        if uid.is_empty() { kind } else { uid }
                    ),
                ));
            }
            if uid.is_empty() {
                if kind.is_empty() {
                    return default();
                }
                return match default() {
                    Ok(d) if d.kind == kind => Ok(d),
                    _ => datasources
                        .all()
                        .iter()
                        .find(|d| d.kind == kind)
                        .ok_or_else(|| not_found(kind)),
                };
            }
            datasources
                .by_uid(uid)
                .or_else(|| datasources.by_name(uid))
                .ok_or_else(|| not_found(uid))
        }
        Some(other) => Err(QueryError::new(
            400,
            format!("invalid datasource reference {other}"),
        )),
    }
}

async fn ds_query(State(state): State<AppState>, _user: CurrentUser, body: Bytes) -> Response {
    let request: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return message(StatusCode::BAD_REQUEST, &format!("bad request data: {e}")),
    };
    let now = now_ms();
    let (Some(from_ms), Some(to_ms)) = (
        parse_time(&request["from"], now),
        parse_time(&request["to"], now),
    ) else {
        return message(
            StatusCode::BAD_REQUEST,
            "bad request data: from and to must be epoch milliseconds or now-<duration>",
        );
    };
    if to_ms < from_ms {
        return message(
            StatusCode::BAD_REQUEST,
            "bad request data: to is before from",
        );
    }
    // Every step computation takes `to - from`: it must be a number.
    if to_ms.checked_sub(from_ms).is_none() {
        return message(
            StatusCode::BAD_REQUEST,
            "bad request data: the time range is too long",
        );
    }
    let range = TimeRange { from_ms, to_ms };
    let Some(queries) = request["queries"].as_array().filter(|q| !q.is_empty()) else {
        return message(StatusCode::BAD_REQUEST, "No queries found");
    };
    let provisioned = state.provisioned();
    let mut results: BTreeMap<String, Result<Vec<Value>, QueryError>> = BTreeMap::new();
    let mut tasks = JoinSet::new();
    let mut running = Vec::new();
    for (i, query) in queries.iter().enumerate() {
        let Some(object) = query.as_object() else {
            return message(
                StatusCode::BAD_REQUEST,
                &format!("bad request data: query {i} is not an object"),
            );
        };
        if object.get("hide").and_then(Value::as_bool) == Some(true) {
            continue;
        }
        let ref_id = object
            .get("refId")
            .and_then(Value::as_str)
            .filter(|r| !r.is_empty())
            .unwrap_or("A")
            .to_owned();
        match resolve(&provisioned.datasources, object.get("datasource")) {
            Ok(ds) => {
                let ds = ds.clone();
                let query = object.clone();
                let id = ref_id.clone();
                let handle = tasks.spawn(async move { run(ds, query, range, id).await });
                running.push((handle.id(), ref_id));
            }
            Err(e) => {
                results.insert(ref_id, Err(e));
            }
        }
    }
    while let Some(joined) = tasks.join_next_with_id().await {
        match joined {
            Ok((id, result)) => {
                if let Some((_, ref_id)) = running.iter().find(|(t, _)| *t == id) {
                    results.insert(ref_id.clone(), result);
                }
            }
            Err(e) => {
                // A panicking query is reported as that query's failure.
                tracing::error!(error = %e, "dashboards: a query task failed");
                if let Some((_, ref_id)) = running.iter().find(|(t, _)| *t == e.id()) {
                    results.insert(
                        ref_id.clone(),
                        Err(QueryError::new(500, format!("query failed: {e}"))),
                    );
                }
            }
        }
    }
    let mut all_ok = true;
    let mut out = Map::new();
    for (ref_id, result) in results {
        let value = match result {
            Ok(frames) => json!({ "status": 200, "frames": frames }),
            Err(e) => {
                all_ok = false;
                json!({ "status": e.status, "error": e.message, "frames": [] })
            }
        };
        out.insert(ref_id, value);
    }
    let status = if all_ok {
        StatusCode::OK
    } else {
        StatusCode::MULTI_STATUS
    };
    (status, axum::Json(json!({ "results": out }))).into_response()
}

/// Runs one query on its datasource.
async fn run(
    ds: Datasource,
    query: Map<String, Value>,
    range: TimeRange,
    ref_id: String,
) -> Result<Vec<Value>, QueryError> {
    match ds.kind.as_str() {
        "prometheus" => prometheus(&ds, &query, range, ref_id).await,
        "loki" => loki(&ds, &query, range, ref_id).await,
        other => Err(QueryError::new(
            400,
            format!(
                "datasource {:?} has type {other:?}, which this server cannot query",
                ds.name
            ),
        )),
    }
}

fn str_of<'a>(query: &'a Map<String, Value>, key: &str) -> &'a str {
    query.get(key).and_then(Value::as_str).unwrap_or("")
}

fn int_of(value: Option<&Value>) -> Option<i64> {
    match value? {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn bool_of(query: &Map<String, Value>, key: &str) -> bool {
    query.get(key).and_then(Value::as_bool).unwrap_or(false)
}

/// Seconds as the APIs take them (`1795533210`, `1795533210.5`).
fn seconds(ms: i64) -> String {
    if ms % 1000 == 0 {
        (ms / 1000).to_string()
    } else {
        format!("{}", ms as f64 / 1000.0)
    }
}

fn go_duration(ms: i64) -> String {
    gocompat::duration::format(ms.saturating_mul(1_000_000))
}

async fn prometheus(
    ds: &Datasource,
    query: &Map<String, Value>,
    range: TimeRange,
    ref_id: String,
) -> Result<Vec<Value>, QueryError> {
    let expr = str_of(query, "expr").to_owned();
    if expr.trim().is_empty() {
        return Ok(Vec::new());
    }
    let instant = bool_of(query, "instant");
    // Old dashboards set neither: Grafana runs those as range queries.
    let ranged = bool_of(query, "range") || !instant;
    let input = step::StepInput {
        range_ms: range.to_ms - range.from_ms,
        query_interval: str_of(query, "interval").to_owned(),
        interval_ms: int_of(query.get("intervalMs")).unwrap_or(0),
        ds_time_interval: ds
            .json_data
            .get("timeInterval")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned(),
        max_data_points: int_of(query.get("maxDataPoints")).unwrap_or(0),
        interval_factor: int_of(query.get("intervalFactor")).unwrap_or(0),
    };
    let step_ms = step::prometheus_step(&input).map_err(|e| QueryError::new(400, e.to_string()))?;
    // The scrape interval `$__rate_interval` is built on: the query's own
    // min step when it is a plain interval, else the datasource's.
    let scrape = if input.query_interval.is_empty() || input.query_interval.starts_with('$') {
        input.ds_time_interval.as_str()
    } else {
        input.query_interval.as_str()
    };
    let rate_ms =
        step::rate_interval(step_ms, scrape).map_err(|e| QueryError::new(400, e.to_string()))?;
    let expr = builtins::interpolate(
        &expr,
        &builtins::Builtins {
            interval_ms: step_ms,
            rate_interval_ms: Some(rate_ms),
            range_ms: input.range_ms,
            auto_ms: None,
        },
    );
    let offset = int_of(query.get("utcOffsetSec")).unwrap_or(0);
    let post = !ds
        .json_data
        .get("httpMethod")
        .and_then(Value::as_str)
        .is_some_and(|m| m.eq_ignore_ascii_case("GET"));
    let ctx = FrameContext {
        ref_id,
        executed: format!("Expr: {expr}\nStep: {}", go_duration(step_ms)),
        expr: expr.clone(),
        legend_format: query
            .get("legendFormat")
            .and_then(Value::as_str)
            .map(str::to_owned),
        interval_ms: Some(step_ms),
    };
    let mut frames = Vec::new();
    if ranged {
        let start = step::align(range.from_ms, step_ms, offset);
        let end = step::align(range.to_ms, step_ms, offset);
        let params = vec![
            ("query", expr.clone()),
            ("start", seconds(start)),
            ("end", seconds(end)),
            ("step", seconds(step_ms)),
        ];
        let envelope = call(ds, "api/v1/query_range", params, post).await?;
        frames.extend(to_frames(envelope, ctx.clone(), false).await?);
    }
    if instant {
        let params = vec![("query", expr.clone()), ("time", seconds(range.to_ms))];
        let envelope = call(ds, "api/v1/query", params, post).await?;
        frames.extend(to_frames(envelope, ctx, false).await?);
    }
    Ok(frames)
}

async fn loki(
    ds: &Datasource,
    query: &Map<String, Value>,
    range: TimeRange,
    ref_id: String,
) -> Result<Vec<Value>, QueryError> {
    let expr = str_of(query, "expr").to_owned();
    if expr.trim().is_empty() {
        return Ok(Vec::new());
    }
    let instant = match str_of(query, "queryType") {
        "" | "range" => bool_of(query, "instant") && !bool_of(query, "range"),
        "instant" => true,
        other => {
            return Err(QueryError::new(
                400,
                format!("query type {other:?} is not supported: use range or instant"),
            ));
        }
    };
    let max_lines = int_of(query.get("maxLines"))
        .filter(|n| *n > 0)
        .or_else(|| int_of(ds.json_data.get("maxLines")).filter(|n| *n > 0))
        .unwrap_or(DEFAULT_MAX_LINES);
    let forward = str_of(query, "direction") == "forward";
    let direction = if forward { "forward" } else { "backward" };
    // Grafana's Loki step: the UI's interval (times `resolution`), never
    // finer than range / 11000 (Loki's own limit).
    let span = range.to_ms - range.from_ms;
    let base = int_of(query.get("intervalMs"))
        .filter(|i| *i > 0)
        .unwrap_or(1000);
    let resolution = int_of(query.get("resolution"))
        .filter(|r| *r > 0)
        .unwrap_or(1);
    // Rounded up without `span + 10999`, which can overflow.
    let safe = span / step::SAFE_RESOLUTION + i64::from(span % step::SAFE_RESOLUTION != 0);
    let step_ms = base.saturating_mul(resolution).max(safe).max(1);
    let expr = builtins::interpolate(
        &expr,
        &builtins::Builtins {
            interval_ms: base,
            rate_interval_ms: None,
            range_ms: span,
            auto_ms: Some(if instant { span } else { step_ms }),
        },
    );
    let ns = |ms: i64| (i128::from(ms) * 1_000_000).to_string();
    let (path, params) = if instant {
        (
            "loki/api/v1/query",
            vec![
                ("query", expr.clone()),
                ("time", ns(range.to_ms)),
                ("limit", max_lines.to_string()),
                ("direction", direction.to_owned()),
            ],
        )
    } else {
        (
            "loki/api/v1/query_range",
            vec![
                ("query", expr.clone()),
                ("start", ns(range.from_ms)),
                ("end", ns(range.to_ms)),
                ("limit", max_lines.to_string()),
                ("direction", direction.to_owned()),
                ("step", seconds(step_ms)),
            ],
        )
    };
    let envelope = call(ds, path, params, false).await?;
    let ctx = FrameContext {
        ref_id,
        executed: format!("Expr: {expr}\nStep: {}", go_duration(step_ms)),
        expr: expr.clone(),
        legend_format: query
            .get("legendFormat")
            .and_then(Value::as_str)
            .map(str::to_owned),
        interval_ms: Some(step_ms),
    };
    to_frames(envelope, ctx, forward).await
}

/// Decodes a result into frames on a blocking thread (an answer can be
/// tens of megabytes).
async fn to_frames(
    envelope: Envelope,
    mut ctx: FrameContext,
    forward: bool,
) -> Result<Vec<Value>, QueryError> {
    let Some(data) = envelope.data else {
        return Ok(Vec::new());
    };
    let warnings = envelope.warnings;
    tokio::task::spawn_blocking(move || {
        let mut frames = match data {
            Decoded::Matrix(series) => frames::matrix_frames(&series, &ctx),
            Decoded::Vector(samples) => frames::vector_frames(&samples, &ctx),
            Decoded::Scalar(point) => vec![frames::scalar_frame(&point, &ctx)],
            Decoded::String(point) => vec![frames::string_frame(&point, &ctx)],
            Decoded::Streams(streams) => {
                // A log query has no step.
                if let Some(at) = ctx.executed.find("\nStep: ") {
                    ctx.executed.truncate(at);
                }
                vec![frames::log_frame(&streams, &ctx, forward)]
            }
        };
        // The datasource's warnings show on the panel as Grafana's notices.
        if !warnings.is_empty() {
            let notices: Vec<Value> = warnings
                .iter()
                .map(|w| json!({"severity": "warning", "text": w}))
                .collect();
            for frame in &mut frames {
                frame["schema"]["meta"]["notices"] = Value::Array(notices.clone());
            }
        }
        Ok(frames)
    })
    .await
    .map_err(|e| QueryError::new(500, format!("decoding the answer failed: {e}")))?
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ds(uid: &str, name: &str, kind: &str, is_default: bool) -> Datasource {
        Datasource {
            id: 1,
            uid: uid.into(),
            name: name.into(),
            kind: kind.into(),
            access: "proxy".into(),
            url: "http://127.0.0.1:1".into(),
            is_default,
            basic_auth: false,
            basic_auth_user: String::new(),
            with_credentials: false,
            json_data: Map::new(),
            secure_json_data: Default::default(),
            read_only: true,
            version: 1,
        }
    }

    #[test]
    fn datasources_resolve() {
        let list = Datasources::new(vec![
            ds("prom", "Prometheus", "prometheus", false),
            ds("loki", "Loki", "loki", true),
        ]);
        let cases: Vec<(Option<Value>, Result<&str, u16>)> = vec![
            (None, Ok("loki")),
            (Some(Value::Null), Ok("loki")),
            (
                Some(json!({"type": "prometheus", "uid": "prom"})),
                Ok("prom"),
            ),
            (Some(json!({"uid": "Prometheus"})), Ok("prom")),
            (Some(json!({"type": "prometheus"})), Ok("prom")),
            (Some(json!("Prometheus")), Ok("prom")),
            (Some(json!("default")), Ok("loki")),
            (Some(json!({"type": "prometheus", "uid": "nope"})), Err(404)),
            (Some(json!("-- Mixed --")), Err(400)),
            (
                Some(json!({"type": "datasource", "uid": "-- Mixed --"})),
                Err(400),
            ),
            (
                Some(json!({"type": "__expr__", "uid": "__expr__"})),
                Err(400),
            ),
            (Some(json!(5)), Err(400)),
        ];
        for (reference, want) in cases {
            let got = resolve(&list, reference.as_ref())
                .map(|d| d.uid.as_str())
                .map_err(|e| e.status);
            assert_eq!(got, want, "{reference:?}");
        }
    }

    #[test]
    fn times_parse() {
        let now = 1_000_000_000;
        for (value, want) in [
            (json!("1795533209000"), Some(1_795_533_209_000)),
            (json!(1795533209000_i64), Some(1_795_533_209_000)),
            (json!("now"), Some(now)),
            (json!("now-1h"), Some(now - 3_600_000)),
            (json!("now-5m"), Some(now - 300_000)),
            (json!("yesterday"), None),
            (json!(null), None),
        ] {
            assert_eq!(parse_time(&value, now), want, "{value}");
        }
    }

    #[test]
    fn seconds_format() {
        assert_eq!(seconds(1_795_533_210_000), "1795533210");
        assert_eq!(seconds(1_795_533_210_500), "1795533210.5");
        assert_eq!(seconds(15_000), "15");
        assert_eq!(go_duration(15_000), "15s");
        assert_eq!(go_duration(60_000), "1m0s");
    }
}
