//! `/api/v1/query` and `/api/v1/query_range`: the PromQL engine behind
//! Prometheus' parameters, limits and result encoding.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use axum::extract::State;
use promql::{CancelFlag, Engine, EngineOptions, MAX_POINTS_PER_SERIES, QueryError, Value};
use serde::{Serialize, Serializer};
use serde_json::{Value as Json, json};

use super::ApiState;
use super::blocking;
use super::params::Params;
use super::respond::{ApiError, ErrorKind, SampleValue, Success, Timestamp};

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

/// `[<seconds>, "<value>"]`.
struct SamplePair(i64, f64);

impl Serialize for SamplePair {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        (Timestamp(self.0), SampleValue(self.1)).serialize(serializer)
    }
}

/// `{"name": "value", ...}`, in label order.
struct Metric<'a>(&'a model::Labels);

impl Serialize for Metric<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.iter().map(|l| (l.name, l.value)))
    }
}

/// A value as the API writes it at time `t`, serialized straight from the
/// engine's values.
struct Written<'a>(&'a Value, i64);

impl Serialize for Written<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Series<'a> {
            metric: Metric<'a>,
            values: Points<'a>,
        }
        struct Points<'a>(&'a [promql::Point]);
        impl Serialize for Points<'_> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_seq(self.0.iter().map(|p| SamplePair(p.t, p.v)))
            }
        }
        #[derive(Serialize)]
        struct Sample<'a> {
            metric: Metric<'a>,
            value: SamplePair,
        }
        let Written(value, t) = *self;
        match value {
            Value::Scalar(v) => SamplePair(t, *v).serialize(serializer),
            Value::String(text) => (Timestamp(t), text).serialize(serializer),
            Value::Vector(samples) => serializer.collect_seq(samples.iter().map(|s| Sample {
                metric: Metric(&s.labels),
                value: SamplePair(t, s.value),
            })),
            Value::Matrix(series) => serializer.collect_seq(series.iter().map(|s| Series {
                metric: Metric(&s.labels),
                values: Points(&s.points),
            })),
        }
    }
}

/// `stats=all`: timings as Prometheus reports them (what we measure).
fn stats(params: &Params, elapsed: f64) -> Option<Json> {
    params.get("stats").filter(|s| !s.is_empty())?;
    Some(json!({
        "timings": {
            "evalTotalTime": elapsed,
            "resultSortTime": 0,
            "queryPreparationTime": 0,
            "innerEvalTime": elapsed,
            "execQueueTime": 0,
            "execTotalTime": elapsed,
        },
        "samples": { "totalQueryableSamples": 0, "peakSamples": 0 },
    }))
}

/// A query's answer (a range query's is a matrix), serialized when the
/// response is written.
pub(super) struct Answer {
    value: Value,
    at: i64,
    stats: Option<Json>,
}

impl Serialize for Answer {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Data<'a> {
            result_type: &'static str,
            result: Written<'a>,
            #[serde(skip_serializing_if = "Option::is_none")]
            stats: &'a Option<Json>,
        }
        Data {
            result_type: self.value.type_name(),
            result: Written(&self.value, self.at),
            stats: &self.stats,
        }
        .serialize(serializer)
    }
}

fn success<T: Serialize>(data: T, annotations: promql::Annotations) -> Success<T> {
    Success {
        data,
        warnings: annotations.warnings,
        infos: annotations.infos,
    }
}

pub(super) async fn instant(
    State(state): State<Arc<ApiState>>,
    params: Params,
) -> Result<Success<Answer>, ApiError> {
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
    let stats = stats(&params, started.elapsed().as_secs_f64());
    Ok(success(
        Answer {
            value: result.value,
            at: t,
            stats,
        },
        result.annotations,
    ))
}

pub(super) async fn range(
    State(state): State<Arc<ApiState>>,
    params: Params,
) -> Result<Success<Answer>, ApiError> {
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
    let stats = stats(&params, started.elapsed().as_secs_f64());
    Ok(success(
        Answer {
            value: Value::Matrix(result.value),
            at: end,
            stats,
        },
        result.annotations,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::Labels;
    use promql::Point;

    #[test]
    fn answers_are_written_in_prometheus_layout() {
        let range = Answer {
            value: Value::Matrix(vec![promql::RangeSeries {
                labels: Labels::from_pairs([("job", "a\"b"), ("__name__", "up")]),
                points: vec![
                    Point { t: 1_500, v: 1.0 },
                    Point {
                        t: 2_000,
                        v: f64::NAN,
                    },
                    Point { t: 2_125, v: -0.25 },
                ],
            }]),
            at: 2_125,
            stats: None,
        };
        assert_eq!(
            serde_json::to_string(&range).unwrap(),
            r#"{"resultType":"matrix","result":[{"metric":{"__name__":"up","job":"a\"b"},"values":[[1.5,"1"],[2,"NaN"],[2.125,"-0.25"]]}]}"#
        );
        let vector = Answer {
            value: Value::Vector(vec![model::algebra::Sample::new(
                Labels::from_pairs([("a", "1")]),
                f64::INFINITY,
            )]),
            at: 3_000,
            stats: None,
        };
        assert_eq!(
            serde_json::to_string(&vector).unwrap(),
            r#"{"resultType":"vector","result":[{"metric":{"a":"1"},"value":[3,"+Inf"]}]}"#
        );
        let scalar = Answer {
            value: Value::Scalar(2.0),
            at: 3_001,
            stats: None,
        };
        assert_eq!(
            serde_json::to_string(&scalar).unwrap(),
            r#"{"resultType":"scalar","result":[3.001,"2"]}"#
        );
    }
}
