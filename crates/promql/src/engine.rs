//! The entry point: [`Engine`] with its limits, running instant and range
//! queries over any [`Queryable`].

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use promql_parser::parser::value::ValueType;
use promql_parser::parser::{self, Expr};
use tsdb::Queryable;

use crate::QueryError;
use crate::eval::{Evaluator, Limits, Val, finalize, finalize_matrix};
use crate::value::{Matrix, Point, QueryResult, RangeSeries, Value};

/// Prometheus' cap on points per series in a range query.
pub const MAX_POINTS_PER_SERIES: i64 = 11_000;

/// Limits and defaults of an [`Engine`], with Prometheus' defaults.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// How far back an instant selector looks for a sample (5m).
    pub lookback_delta: Duration,
    /// Most samples a query may load (50,000,000).
    pub max_samples: usize,
    /// Longest a query may run (2m).
    pub timeout: Duration,
    /// Step of subqueries written without one (`x[5m:]`), Prometheus'
    /// global evaluation interval (1m).
    pub default_subquery_step: Duration,
    /// Prometheus 3's delayed `__name__` removal (off, as in Prometheus,
    /// where `--enable-feature=promql-delayed-name-removal` turns it on).
    /// Off, a function or operator that drops the metric name drops it at
    /// once: `label_replace` and `by (__name__)` above it no longer see it,
    /// and series that differ only by name collide right there. On, the
    /// name is only marked, and marked names go when the result is
    /// complete.
    pub delayed_name_removal: bool,
}

impl Default for EngineOptions {
    fn default() -> Self {
        Self {
            lookback_delta: Duration::from_secs(300),
            max_samples: 50_000_000,
            timeout: Duration::from_secs(120),
            default_subquery_step: Duration::from_secs(60),
            delayed_name_removal: false,
        }
    }
}

/// Lets the caller stop a running query: set it to `true` and the query
/// ends with [`QueryError::Canceled`] at its next step.
pub type CancelFlag = Arc<AtomicBool>;

/// Evaluates PromQL. Holds no data: every call reads the [`Queryable`] it
/// is given.
#[derive(Debug, Clone, Default)]
pub struct Engine {
    options: EngineOptions,
}

impl Engine {
    /// An engine with these options.
    pub fn new(options: EngineOptions) -> Self {
        Self { options }
    }

    /// The engine's options.
    pub fn options(&self) -> &EngineOptions {
        &self.options
    }

    /// Evaluates `query` at `t` (milliseconds).
    pub fn instant(
        &self,
        storage: &dyn Queryable,
        query: &str,
        t: i64,
    ) -> Result<QueryResult<Value>, QueryError> {
        self.instant_with_cancel(storage, query, t, None)
    }

    /// [`Engine::instant`] that stops when `cancel` is set.
    pub fn instant_with_cancel(
        &self,
        storage: &dyn Queryable,
        query: &str,
        t: i64,
        cancel: Option<&CancelFlag>,
    ) -> Result<QueryResult<Value>, QueryError> {
        let expr = parse(query)?;
        let t = clamp_time(t);
        let mut ev = Evaluator::new(query, t, t, 0, self.limits(cancel));
        ev.load(storage, &expr)?;
        let value = match ev.eval(&expr, t)? {
            Val::Scalar(v) => Value::Scalar(v),
            Val::Str(s) => Value::String(s),
            Val::Vector(v, drops) => Value::Vector(finalize(v, &drops)?),
            Val::Range { series, drops, .. } => {
                let mut series = finalize_matrix(series, &drops)?;
                series.sort_by(|a, b| a.labels.cmp(&b.labels));
                Value::Matrix(series)
            }
        };
        Ok(QueryResult {
            value,
            annotations: ev.into_annotations(),
        })
    }

    /// Evaluates `query` at every `step` from `start` to `end` inclusive
    /// (milliseconds); the result's series are sorted by labels.
    pub fn range(
        &self,
        storage: &dyn Queryable,
        query: &str,
        start: i64,
        end: i64,
        step: i64,
    ) -> Result<QueryResult<Matrix>, QueryError> {
        self.range_with_cancel(storage, query, start, end, step, None)
    }

    /// [`Engine::range`] that stops when `cancel` is set.
    pub fn range_with_cancel(
        &self,
        storage: &dyn Queryable,
        query: &str,
        start: i64,
        end: i64,
        step: i64,
        cancel: Option<&CancelFlag>,
    ) -> Result<QueryResult<Matrix>, QueryError> {
        if end < start {
            return Err(QueryError::BadData(
                "end timestamp must not be before start time".into(),
            ));
        }
        if step <= 0 {
            return Err(QueryError::BadData(
                "zero or negative query resolution step widths are not accepted. Try a positive integer".into(),
            ));
        }
        if end.saturating_sub(start) / step >= MAX_POINTS_PER_SERIES {
            return Err(QueryError::BadData(
                "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)".into(),
            ));
        }
        let expr = parse(query)?;
        match expr.value_type() {
            ValueType::Scalar | ValueType::Vector => {}
            other => {
                let name = match other {
                    ValueType::Matrix => "range vector",
                    ValueType::String => "string",
                    _ => "unknown",
                };
                return Err(QueryError::BadData(format!(
                    "invalid expression type \"{name}\" for range query, must be Scalar or instant Vector"
                )));
            }
        }
        let (start, end) = (clamp_time(start), clamp_time(end));
        let mut ev = Evaluator::new(query, start, end, step, self.limits(cancel));
        ev.load(storage, &expr)?;
        let mut index: std::collections::HashMap<model::Labels, usize> =
            std::collections::HashMap::new();
        let mut out: Matrix = Vec::new();
        let mut t = start;
        while t <= end {
            ev.check_deadline()?;
            let samples = match ev.eval(&expr, t)? {
                Val::Scalar(v) => vec![model::algebra::Sample::new(model::Labels::empty(), v)],
                Val::Vector(v, drops) => finalize(v, &drops)?,
                Val::Str(_) | Val::Range { .. } => {
                    return Err(QueryError::BadData(
                        "range queries must return a scalar or an instant vector".into(),
                    ));
                }
            };
            ev.count_samples(samples.len())?;
            for s in samples {
                let point = Point { t, v: s.value };
                // Look up before cloning: most steps find their series.
                match index.get(&s.labels).and_then(|&i| out.get_mut(i)) {
                    Some(series) => series.points.push(point),
                    None => {
                        index.insert(s.labels.clone(), out.len());
                        out.push(RangeSeries {
                            labels: s.labels,
                            points: vec![point],
                        });
                    }
                }
            }
            t += step;
        }
        out.sort_by(|a, b| a.labels.cmp(&b.labels));
        Ok(QueryResult {
            value: out,
            annotations: ev.into_annotations(),
        })
    }

    fn limits(&self, cancel: Option<&CancelFlag>) -> Limits {
        Limits {
            lookback: crate::eval::select::duration_ms(self.options.lookback_delta),
            default_step: crate::eval::select::duration_ms(self.options.default_subquery_step)
                .max(1),
            max_samples: self.options.max_samples,
            deadline: Instant::now() + self.options.timeout,
            cancel: cancel.cloned(),
            delayed_name_removal: self.options.delayed_name_removal,
        }
    }
}

/// Keeps query times where offsets and ranges can be added without
/// overflow (about ±142,000 years around 1970).
fn clamp_time(t: i64) -> i64 {
    t.clamp(-(1 << 52), 1 << 52)
}

/// Parses a query, mapping the parser's message to [`QueryError::Parse`].
pub fn parse(query: &str) -> Result<Expr, QueryError> {
    parser::parse(query).map_err(QueryError::Parse)
}
