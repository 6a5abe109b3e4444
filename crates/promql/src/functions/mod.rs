//! PromQL's functions, dispatched by name: range-vector functions in
//! [`range`], classic-histogram quantiles in [`histogram`], the rest here
//! and in [`instant`].

mod histogram;
mod instant;
pub(crate) mod range;

use model::algebra::{Sample, Vector};
use model::{Labels, METRIC_NAME, MatchOp};
use promql_parser::parser::{Call, Expr};

use crate::QueryError;
use crate::eval::{Drops, Evaluator, Val, position, select};
use crate::value::RangeSeries;

/// Evaluates a function call at `t`.
pub(crate) fn call(ev: &mut Evaluator<'_>, c: &Call, t: i64) -> Result<Val, QueryError> {
    let name = c.func.name;
    let args: Vec<&Expr> = c.args.args.iter().map(|a| a.as_ref()).collect();
    let arg = |i: usize| -> Result<&Expr, QueryError> {
        args.get(i)
            .copied()
            .ok_or_else(|| QueryError::BadData(format!("missing argument {i} of {name}")))
    };
    match name {
        "time" => Ok(Val::Scalar(t as f64 / 1000.0)),
        "pi" => Ok(Val::Scalar(std::f64::consts::PI)),
        "start" => Ok(Val::Scalar(ev.bounds.start as f64 / 1000.0)),
        "end" => Ok(Val::Scalar(ev.bounds.end as f64 / 1000.0)),
        "step" => Ok(Val::Scalar(ev.step as f64 / 1000.0)),
        "range" => Ok(Val::Scalar(
            (ev.bounds.end - ev.bounds.start) as f64 / 1000.0,
        )),
        "min_of" | "max_of" => {
            let mut acc: Option<f64> = None;
            for a in &args {
                let v = ev.eval_scalar(a, t)?;
                acc = Some(match acc {
                    None => v,
                    Some(x) if name == "min_of" => range::go_min(x, v),
                    Some(x) => range::go_max(x, v),
                });
            }
            Ok(Val::Scalar(acc.unwrap_or(f64::NAN)))
        }
        "vector" => {
            let v = ev.eval_scalar(arg(0)?, t)?;
            Ok(Val::Vector(
                vec![Sample::new(Labels::empty(), v)],
                Drops::None,
            ))
        }
        "scalar" => {
            let v = ev.eval_vector(arg(0)?, t)?;
            Ok(Val::Scalar(match v.as_slice() {
                [one] => one.value,
                _ => f64::NAN,
            }))
        }
        "timestamp" => instant::timestamp(ev, arg(0)?, t),
        "absent" => {
            let v = ev.eval_vector(arg(0)?, t)?;
            if !v.is_empty() {
                return Ok(Val::Vector(Vec::new(), Drops::None));
            }
            Ok(Val::Vector(
                vec![Sample::new(absent_labels(arg(0)?), 1.0)],
                Drops::None,
            ))
        }
        "absent_over_time" => {
            let (series, _, _) = eval_range(ev, arg(0)?, t)?;
            if !series.is_empty() {
                return Ok(Val::Vector(Vec::new(), Drops::None));
            }
            Ok(Val::Vector(
                vec![Sample::new(absent_labels(arg(0)?), 1.0)],
                Drops::None,
            ))
        }
        "label_replace" => {
            let (v, drops) = ev.eval_vector_drops(arg(0)?, t)?;
            let dst = eval_string(ev, arg(1)?, t)?;
            let replacement = eval_string(ev, arg(2)?, t)?;
            let src = eval_string(ev, arg(3)?, t)?;
            let regex = eval_string(ev, arg(4)?, t)?;
            let marked: Vec<bool> = v.iter().map(|s| drops.contains(&s.labels)).collect();
            let out = instant::label_replace(v, &dst, &replacement, &src, &regex)?;
            let drops = keep_marks(&out, &marked, &dst);
            Ok(Val::Vector(out, drops))
        }
        "label_join" => {
            let (v, drops) = ev.eval_vector_drops(arg(0)?, t)?;
            let dst = eval_string(ev, arg(1)?, t)?;
            let sep = eval_string(ev, arg(2)?, t)?;
            let mut srcs = Vec::new();
            for a in args.iter().skip(3) {
                srcs.push(eval_string(ev, a, t)?);
            }
            let marked: Vec<bool> = v.iter().map(|s| drops.contains(&s.labels)).collect();
            let out = instant::label_join(v, &dst, &sep, &srcs)?;
            let drops = keep_marks(&out, &marked, &dst);
            Ok(Val::Vector(out, drops))
        }
        "sort" | "sort_desc" | "sort_by_label" | "sort_by_label_desc" => {
            if ev.step > 0 {
                let at = position::describe(ev.query, name, None);
                ev.annotations.warn(format!(
                    "PromQL warning: sort is ineffective for range queries since results are always ordered by labels {at}"
                ));
            }
            let (v, drops) = ev.eval_vector_drops(arg(0)?, t)?;
            let mut labels = Vec::new();
            for a in args.iter().skip(1) {
                labels.push(eval_string(ev, a, t)?);
            }
            Ok(Val::Vector(instant::sort(name, v, &labels), drops))
        }
        "histogram_quantile" => {
            let q = ev.eval_scalar(arg(0)?, t)?;
            let v = ev.eval_vector(arg(1)?, t)?;
            histogram::histogram_quantile(ev, q, v)
        }
        "histogram_quantiles" => {
            let v = ev.eval_vector(arg(0)?, t)?;
            let label = eval_string(ev, arg(1)?, t)?;
            let mut qs = Vec::new();
            for a in args.iter().skip(2) {
                qs.push(ev.eval_scalar(a, t)?);
            }
            histogram::histogram_quantiles(ev, v, &label, &qs)
        }
        "histogram_fraction" => {
            let lower = ev.eval_scalar(arg(0)?, t)?;
            let upper = ev.eval_scalar(arg(1)?, t)?;
            let v = ev.eval_vector(arg(2)?, t)?;
            histogram::histogram_fraction(ev, lower, upper, v)
        }
        "clamp" => {
            let v = ev.eval_vector(arg(0)?, t)?;
            let min = ev.eval_scalar(arg(1)?, t)?;
            let max = ev.eval_scalar(arg(2)?, t)?;
            if max < min {
                return Ok(Val::Vector(Vec::new(), Drops::None));
            }
            map_values(ev, v, |x| range::go_max(min, range::go_min(max, x)))
        }
        "clamp_min" => {
            let v = ev.eval_vector(arg(0)?, t)?;
            let min = ev.eval_scalar(arg(1)?, t)?;
            map_values(ev, v, |x| range::go_max(min, x))
        }
        "clamp_max" => {
            let v = ev.eval_vector(arg(0)?, t)?;
            let max = ev.eval_scalar(arg(1)?, t)?;
            map_values(ev, v, |x| range::go_min(max, x))
        }
        "round" => {
            let v = ev.eval_vector(arg(0)?, t)?;
            let to = match args.get(1) {
                Some(a) => ev.eval_scalar(a, t)?,
                None => 1.0,
            };
            let inverse = 1.0 / to;
            map_values(ev, v, |x| (x * inverse + 0.5).floor() / inverse)
        }
        "days_in_month" | "day_of_month" | "day_of_week" | "day_of_year" | "hour" | "minute"
        | "month" | "year" => {
            let v = match args.first() {
                Some(a) => ev.eval_vector(a, t)?,
                None => vec![Sample::new(Labels::empty(), t as f64 / 1000.0)],
            };
            map_values(ev, v, |x| instant::date_part(name, x))
        }
        _ => {
            if let Some(f) = instant::math(name) {
                let v = ev.eval_vector(arg(0)?, t)?;
                return map_values(ev, v, f);
            }
            if name.starts_with("histogram_") {
                // Native-histogram functions: float samples have no histogram.
                let _ = ev.eval(arg(args.len().saturating_sub(1))?, t)?;
                return Ok(Val::Vector(Vec::new(), Drops::None));
            }
            range_function(ev, name, &args, t)
        }
    }
}

/// Computes one output value from a series' window `(start, end]`.
type WindowFn = dyn Fn(&RangeSeries, i64, i64) -> Option<f64>;

fn range_function(
    ev: &mut Evaluator<'_>,
    name: &str,
    args: &[&Expr],
    t: i64,
) -> Result<Val, QueryError> {
    let missing = || QueryError::BadData(format!("unknown function or missing argument: {name}"));
    // The range argument's index and the scalar parameters.
    let (range_arg, params): (usize, Vec<f64>) = match name {
        "quantile_over_time" => {
            let q = ev.eval_scalar(args.first().ok_or_else(missing)?, t)?;
            if !(0.0..=1.0).contains(&q) {
                let at = position::describe(ev.query, name, None);
                ev.annotations.warn(format!(
                    "PromQL warning: quantile value should be between 0 and 1, got {} {at}",
                    model::algebra::format_float(q)
                ));
            }
            (1, vec![q])
        }
        "predict_linear" => (
            0,
            vec![ev.eval_scalar(args.get(1).ok_or_else(missing)?, t)?],
        ),
        "double_exponential_smoothing" | "holt_winters" => {
            let sf = ev.eval_scalar(args.get(1).ok_or_else(missing)?, t)?;
            let tf = ev.eval_scalar(args.get(2).ok_or_else(missing)?, t)?;
            if !(sf > 0.0 && sf < 1.0) {
                return Err(QueryError::Execution(format!(
                    "invalid smoothing factor. Expected: 0 < sf < 1, got: {sf:.6}"
                )));
            }
            if !(tf > 0.0 && tf < 1.0) {
                return Err(QueryError::Execution(format!(
                    "invalid trend factor. Expected: 0 < tf < 1, got: {tf:.6}"
                )));
            }
            (0, vec![sf, tf])
        }
        _ => (0, Vec::new()),
    };
    let keep_name = matches!(name, "last_over_time" | "first_over_time");
    let p = |i: usize| params.get(i).copied().unwrap_or(f64::NAN);
    let f: Box<WindowFn> = match name {
        "rate" => Box::new(|s, a, b| range::extrapolated_delta(&s.points, a, b, true, true)),
        "increase" => Box::new(|s, a, b| range::extrapolated_delta(&s.points, a, b, true, false)),
        "delta" => Box::new(|s, a, b| range::extrapolated_delta(&s.points, a, b, false, false)),
        "irate" => Box::new(|s, _, _| range::instant_delta(&s.points, true)),
        "idelta" => Box::new(|s, _, _| range::instant_delta(&s.points, false)),
        "deriv" => Box::new(|s, _, _| {
            (s.points.len() >= 2).then(|| range::linear_regression(&s.points, s.points[0].t).0)
        }),
        "predict_linear" => {
            let d = p(0);
            Box::new(move |s, _, _| {
                (s.points.len() >= 2).then(|| {
                    let (slope, intercept) = range::linear_regression(&s.points, t);
                    intercept + slope * d
                })
            })
        }
        "resets" => {
            Box::new(|s, _, _| Some(s.points.windows(2).filter(|w| w[1].v < w[0].v).count() as f64))
        }
        "changes" => Box::new(|s, _, _| {
            Some(
                s.points
                    .windows(2)
                    .filter(|w| !(w[1].v == w[0].v || (w[1].v.is_nan() && w[0].v.is_nan())))
                    .count() as f64,
            )
        }),
        "avg_over_time" => Box::new(|s, _, _| Some(range::avg(&s.points))),
        "sum_over_time" => Box::new(|s, _, _| Some(range::sum(&s.points))),
        "count_over_time" => Box::new(|s, _, _| Some(s.points.len() as f64)),
        "present_over_time" => Box::new(|_, _, _| Some(1.0)),
        "last_over_time" => Box::new(|s, _, _| s.points.last().map(|p| p.v)),
        "first_over_time" => Box::new(|s, _, _| s.points.first().map(|p| p.v)),
        "ts_of_last_over_time" => Box::new(|s, _, _| s.points.last().map(|p| p.t as f64 / 1000.0)),
        "ts_of_first_over_time" => {
            Box::new(|s, _, _| s.points.first().map(|p| p.t as f64 / 1000.0))
        }
        "max_over_time" | "ts_of_max_over_time" => {
            let ts = name.starts_with("ts_");
            Box::new(move |s, _, _| {
                let first = s.points.first()?;
                let mut best = *first;
                for q in &s.points[1..] {
                    let better = q.v > best.v || best.v.is_nan();
                    if better || (ts && q.v == best.v) {
                        best = *q;
                    }
                }
                Some(if ts { best.t as f64 / 1000.0 } else { best.v })
            })
        }
        "min_over_time" | "ts_of_min_over_time" => {
            let ts = name.starts_with("ts_");
            Box::new(move |s, _, _| {
                let first = s.points.first()?;
                let mut best = *first;
                for q in &s.points[1..] {
                    let better = q.v < best.v || best.v.is_nan();
                    if better || (ts && q.v == best.v) {
                        best = *q;
                    }
                }
                Some(if ts { best.t as f64 / 1000.0 } else { best.v })
            })
        }
        "stddev_over_time" => Box::new(|s, _, _| Some(range::variance(&s.points).sqrt())),
        "stdvar_over_time" => Box::new(|s, _, _| Some(range::variance(&s.points))),
        "quantile_over_time" => {
            let q = p(0);
            Box::new(move |s, _, _| {
                Some(range::quantile(q, s.points.iter().map(|p| p.v).collect()))
            })
        }
        "mad_over_time" => Box::new(|s, _, _| {
            let values: Vec<f64> = s.points.iter().map(|p| p.v).collect();
            if values.iter().any(|v| v.is_nan()) {
                return Some(f64::NAN);
            }
            let median = range::quantile(0.5, values.clone());
            Some(range::quantile(
                0.5,
                values.iter().map(|v| (v - median).abs()).collect(),
            ))
        }),
        "double_exponential_smoothing" | "holt_winters" => {
            let (sf, tf) = (p(0), p(1));
            Box::new(move |s, _, _| range::double_exponential_smoothing(&s.points, sf, tf))
        }
        _ => {
            return Err(QueryError::BadData(format!(
                "function {name} is not supported"
            )));
        }
    };
    let (series, start, end, drops) =
        eval_range_drops(ev, args.get(range_arg).ok_or_else(missing)?, t)?;
    if matches!(name, "rate" | "increase") {
        for s in &series {
            counter_info(ev, name, &s.labels);
        }
    }
    let mut out: Vector = Vec::with_capacity(series.len());
    for s in series {
        if let Some(v) = f(&s, start, end) {
            out.push(Sample::new(s.labels, v));
        }
    }
    ev.drop_names(out, if keep_name { drops } else { Drops::All })
}

/// Whether a series is unnamed or named like a counter (`_total`, `_sum`,
/// `_count`, `_bucket`).
pub(crate) fn looks_like_counter(labels: &Labels) -> bool {
    labels.get(METRIC_NAME).is_none_or(|name| {
        ["_total", "_sum", "_count", "_bucket"]
            .iter()
            .any(|suffix| name.ends_with(suffix))
    })
}

/// Prometheus' hint that `rate`/`increase` got a series whose name does not
/// look like a counter's.
pub(crate) fn counter_info(ev: &mut Evaluator<'_>, func: &str, labels: &Labels) {
    if looks_like_counter(labels) {
        return;
    }
    let Some(name) = labels.get(METRIC_NAME) else {
        return;
    };
    let at = position::describe(ev.query, func, Some(0));
    ev.annotations.info(format!(
        "PromQL info: metric might not be a counter, name does not end in _total/_sum/_count/_bucket: \"{name}\" {at}"
    ));
}

/// Evaluates a range-vector argument: its series and window.
fn eval_range(
    ev: &mut Evaluator<'_>,
    expr: &Expr,
    t: i64,
) -> Result<(Vec<RangeSeries>, i64, i64), QueryError> {
    let (series, start, end, _) = eval_range_drops(ev, expr, t)?;
    Ok((series, start, end))
}

/// [`eval_range`] with the series' name marks.
fn eval_range_drops(
    ev: &mut Evaluator<'_>,
    expr: &Expr,
    t: i64,
) -> Result<(Vec<RangeSeries>, i64, i64, Drops), QueryError> {
    match ev.eval(expr, t)? {
        Val::Range {
            series,
            start,
            end,
            drops,
        } => Ok((series, start, end, drops)),
        _ => Err(QueryError::BadData("expected a range vector".into())),
    }
}

/// Marks after a label function, which keeps order: a sample stays marked
/// unless the function wrote the name itself.
fn keep_marks(out: &Vector, marked: &[bool], dst: &str) -> Drops {
    if dst == METRIC_NAME {
        return Drops::None;
    }
    Drops::from_set(
        out.iter()
            .zip(marked)
            .filter(|(_, m)| **m)
            .map(|(s, _)| s.labels.clone())
            .collect(),
    )
}

fn eval_string(ev: &mut Evaluator<'_>, expr: &Expr, t: i64) -> Result<String, QueryError> {
    match ev.eval(expr, t)? {
        Val::Str(s) => Ok(s),
        _ => Err(QueryError::BadData("expected a string".into())),
    }
}

/// Applies `f` to every value, dropping the metric name.
fn map_values(ev: &Evaluator<'_>, v: Vector, f: impl Fn(f64) -> f64) -> Result<Val, QueryError> {
    let out: Vector = v
        .into_iter()
        .map(|mut s| {
            s.value = f(s.value);
            s
        })
        .collect();
    ev.drop_names(out, Drops::All)
}

/// The labels `absent()` reports: the selector's equality matchers, except
/// the metric name and names matched more than once.
fn absent_labels(expr: &Expr) -> Labels {
    let vs = match crate::eval::unwrap_parens(expr) {
        Expr::VectorSelector(vs) => vs,
        Expr::MatrixSelector(ms) => &ms.vs,
        _ => return Labels::empty(),
    };
    let Ok(alternatives) = select::matchers(vs) else {
        return Labels::empty();
    };
    let Some(matchers) = alternatives.first() else {
        return Labels::empty();
    };
    let mut out = Labels::empty();
    let mut has: Vec<&str> = Vec::new();
    for m in matchers {
        if m.name == METRIC_NAME {
            continue;
        }
        if m.op == MatchOp::Equal && !has.contains(&m.name.as_str()) {
            out.set(m.name.clone(), m.value.clone());
            has.push(&m.name);
        } else {
            out.remove(&m.name);
        }
    }
    out
}
