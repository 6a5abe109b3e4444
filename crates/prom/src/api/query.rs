//! `/api/v1/query` and `/api/v1/query_range`: the PromQL engine behind
//! Prometheus' parameters, limits and result encoding.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use axum::extract::State;
use promql::{
    CancelFlag, Engine, EngineOptions, MAX_POINTS_PER_SERIES, QueryError, RangeSeries, Value,
};
use serde_json::{Value as Json, json};

use super::params::Params;
use super::respond::{ApiError, ErrorKind, Success, format_sample_value, timestamp_json};
use super::{ApiState, blocking, labels_json};

/// Sets the engine's cancel flag when the request goes away (the client
/// disconnected and axum dropped the handler), so the query stops too.
struct CancelOnDrop(CancelFlag);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

fn query_text(params: &Params) -> Result<String, ApiError> {
    let query = params.get("query").unwrap_or("");
    if query.trim().is_empty() {
        return Err(ApiError::bad_param(
            "query",
            "1:1: parse error: no expression found in input",
        ));
    }
    Ok(query.to_owned())
}

/// The engine for this request: the server's settings, with a shorter
/// `timeout` when the request asks for one.
fn engine(server: &EngineOptions, params: &Params) -> Result<Engine, ApiError> {
    let mut options = server.clone();
    if let Some(text) = params.get("timeout").filter(|t| !t.is_empty()) {
        let ms = model::time::parse_duration_ms(text).map_err(|_| {
            ApiError::bad_param(
                "timeout",
                format!("cannot parse {text:?} to a valid duration"),
            )
        })?;
        if ms > 0 {
            options.timeout = options
                .timeout
                .min(std::time::Duration::from_millis(ms as u64));
        }
    }
    Ok(Engine::new(options))
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// The engine's errors in the API's kinds, parse errors worded as
/// Prometheus words them.
fn api_error(error: QueryError) -> ApiError {
    let message = error.to_string();
    match error {
        QueryError::Parse(_) => {
            let message = if message.contains("parse error") {
                message
            } else {
                format!("1:1: parse error: {message}")
            };
            ApiError::bad_param("query", message)
        }
        _ => ApiError {
            kind: match error.kind() {
                promql::ErrorKind::BadData => ErrorKind::BadData,
                promql::ErrorKind::Execution => ErrorKind::Execution,
                promql::ErrorKind::Timeout => ErrorKind::Timeout,
                promql::ErrorKind::Canceled => ErrorKind::Canceled,
                promql::ErrorKind::Internal => ErrorKind::Internal,
            },
            message,
        },
    }
}

fn sample_pair(t: i64, v: f64) -> Json {
    json!([timestamp_json(t), format_sample_value(v)])
}

fn matrix_json(series: &[RangeSeries]) -> Json {
    Json::from(
        series
            .iter()
            .map(|s| {
                json!({
                    "metric": labels_json(&s.labels),
                    "values": s.points.iter().map(|p| sample_pair(p.t, p.v)).collect::<Vec<_>>(),
                })
            })
            .collect::<Vec<_>>(),
    )
}

fn value_json(value: &Value, t: i64) -> Json {
    let result = match value {
        Value::Scalar(v) => sample_pair(t, *v),
        Value::String(s) => json!([timestamp_json(t), s]),
        Value::Vector(samples) => Json::from(
            samples
                .iter()
                .map(|s| json!({ "metric": labels_json(&s.labels), "value": sample_pair(t, s.value) }))
                .collect::<Vec<_>>(),
        ),
        Value::Matrix(series) => matrix_json(series),
    };
    json!({ "resultType": value.type_name(), "result": result })
}

/// `stats=all`: timings as Prometheus reports them (what we measure).
fn with_stats(mut data: Json, params: &Params, elapsed: f64) -> Json {
    if params.get("stats").is_some_and(|s| !s.is_empty()) {
        data["stats"] = json!({
            "timings": {
                "evalTotalTime": elapsed,
                "resultSortTime": 0,
                "queryPreparationTime": 0,
                "innerEvalTime": elapsed,
                "execQueueTime": 0,
                "execTotalTime": elapsed,
            },
            "samples": { "totalQueryableSamples": 0, "peakSamples": 0 },
        });
    }
    data
}

fn success(data: Json, annotations: promql::Annotations) -> Success<Json> {
    Success {
        data,
        warnings: annotations.warnings,
        infos: annotations.infos,
    }
}

pub(super) async fn instant(
    State(state): State<Arc<ApiState>>,
    params: Params,
) -> Result<Success<Json>, ApiError> {
    let query = query_text(&params)?;
    let t = params.time_or("time", now_ms())?;
    let engine = engine(&state.engine, &params)?;
    let cancel: CancelFlag = Arc::new(AtomicBool::new(false));
    let _guard = CancelOnDrop(cancel.clone());
    let started = Instant::now();
    let result = blocking(move || {
        engine
            .instant_with_cancel(state.db.as_ref(), &query, t, Some(&cancel))
            .map_err(api_error)
    })
    .await?;
    let data = with_stats(
        value_json(&result.value, t),
        &params,
        started.elapsed().as_secs_f64(),
    );
    Ok(success(data, result.annotations))
}

pub(super) async fn range(
    State(state): State<Arc<ApiState>>,
    params: Params,
) -> Result<Success<Json>, ApiError> {
    let query = query_text(&params)?;
    let required_time = |name: &str| -> Result<i64, ApiError> {
        let text = params.get(name).unwrap_or("");
        model::time::parse_time_ms(text)
            .map_err(|e| ApiError::bad_param(name, format!("Invalid time value for '{name}': {e}")))
    };
    let start = required_time("start")?;
    let end = required_time("end")?;
    if end < start {
        return Err(ApiError::bad_param(
            "end",
            "end timestamp must not be before start time",
        ));
    }
    let step_text = params.get("step").unwrap_or("");
    let step = model::time::parse_duration_ms(step_text).map_err(|_| {
        ApiError::bad_param(
            "step",
            format!("cannot parse {step_text:?} to a valid duration"),
        )
    })?;
    if step <= 0 {
        return Err(ApiError::bad_param(
            "step",
            "zero or negative query resolution step widths are not accepted. Try a positive integer",
        ));
    }
    if (end - start) / step >= MAX_POINTS_PER_SERIES {
        return Err(ApiError::bad_data(
            "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)",
        ));
    }
    let engine = engine(&state.engine, &params)?;
    let cancel: CancelFlag = Arc::new(AtomicBool::new(false));
    let _guard = CancelOnDrop(cancel.clone());
    let started = Instant::now();
    let result = blocking(move || {
        engine
            .range_with_cancel(state.db.as_ref(), &query, start, end, step, Some(&cancel))
            .map_err(api_error)
    })
    .await?;
    let data = json!({ "resultType": "matrix", "result": matrix_json(&result.value) });
    let data = with_stats(data, &params, started.elapsed().as_secs_f64());
    Ok(success(data, result.annotations))
}
