//! Metric queries: every node is evaluated for all steps at once, so range
//! aggregations read and run the pipeline over each entry only once.

use std::collections::{HashMap, VecDeque};

use model::algebra::{
    AggregateOp, AggregateParam, BinaryOp, Cardinality, Dialect, Sample, Vector, aggregate,
    label_replace, scalar_binop_in, vector_binop_in, vector_scalar_binop_in,
};
use model::{Labels, MatchOp};

use super::compile::compile_label_filter;
use super::merge::Merged;
use super::{Direction, Query, QueryResult, Series, Stats, compile_pipeline};
use crate::ast::{MetricExpr, RangeAggregation, RangeOp, UnwrapConv, VectorOp};
use crate::error::Error;
use crate::pipeline::label_filter::{Conversion, convert};
use crate::pipeline::{ERR_SAMPLE_EXTRACTION, ERROR_LABEL};
use crate::store::{Store, Stream};

/// The value of a node at one step.
#[derive(Debug, Clone)]
enum StepValue {
    Scalar(f64),
    Vector(Vector),
}

/// Most steps a range query may have (Loki's and Prometheus' limit).
const MAX_STEPS: i64 = 11_000;

pub(super) fn eval_metric<S: Store + ?Sized>(
    store: &S,
    expr: &MetricExpr,
    q: &Query,
    stats: &mut Stats,
) -> Result<QueryResult, Error> {
    let steps: Vec<i64> = if q.instant {
        vec![q.start_ns]
    } else {
        if q.step_ns <= 0 {
            return Err(Error::Invalid(
                "zero or negative query resolution step widths are not accepted. Try a positive integer".into(),
            ));
        }
        if q.end_ns < q.start_ns {
            return Err(Error::Invalid(
                "end timestamp must not be before start time".into(),
            ));
        }
        if (i128::from(q.end_ns) - i128::from(q.start_ns)) / i128::from(q.step_ns)
            >= i128::from(MAX_STEPS)
        {
            return Err(Error::Invalid(
                "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)".into(),
            ));
        }
        if uses_approx_topk(expr) {
            return Err(Error::Invalid(
                "approx_topk is only supported on instant queries".into(),
            ));
        }
        let mut steps = Vec::new();
        let mut t = q.start_ns;
        while t <= q.end_ns {
            steps.push(t);
            let Some(next) = t.checked_add(q.step_ns) else {
                break;
            };
            t = next;
        }
        steps
    };
    let values = eval_steps(store, expr, &steps, q, stats)?;
    // Loki limits the series of the result, not of the parts it is
    // computed from.
    let over_limit = |n: usize| q.max_series > 0 && n > q.max_series;
    if q.instant {
        return match values.into_iter().next() {
            Some(StepValue::Scalar(v)) => Ok(QueryResult::Scalar(v)),
            Some(StepValue::Vector(v)) if over_limit(v.len()) => {
                Err(Error::SeriesLimit(q.max_series))
            }
            Some(StepValue::Vector(v)) => Ok(QueryResult::Vector(v)),
            None => Ok(QueryResult::Vector(Vec::new())),
        };
    }
    let mut index: HashMap<Labels, usize> = HashMap::new();
    let mut series: Vec<Series> = Vec::new();
    for (t, value) in steps.iter().zip(values) {
        let samples = match value {
            StepValue::Scalar(v) => vec![Sample::new(Labels::empty(), v)],
            StepValue::Vector(v) => v,
        };
        for s in samples {
            let i = match index.get(&s.labels) {
                Some(&i) => i,
                None => {
                    if over_limit(series.len() + 1) {
                        return Err(Error::SeriesLimit(q.max_series));
                    }
                    index.insert(s.labels.clone(), series.len());
                    series.push(Series {
                        labels: s.labels.clone(),
                        points: Vec::new(),
                    });
                    series.len() - 1
                }
            };
            if let Some(x) = series.get_mut(i) {
                x.points.push((*t, s.value));
            }
        }
    }
    series.sort_by(|a, b| a.labels.cmp(&b.labels));
    Ok(QueryResult::Matrix(series))
}

fn uses_approx_topk(expr: &MetricExpr) -> bool {
    match expr {
        MetricExpr::Vector(v) => v.op == VectorOp::ApproxTopk || uses_approx_topk(&v.expr),
        MetricExpr::Binary(b) => uses_approx_topk(&b.lhs) || uses_approx_topk(&b.rhs),
        MetricExpr::LabelReplace(l) => uses_approx_topk(&l.expr),
        MetricExpr::Range(_) | MetricExpr::Literal(_) | MetricExpr::Vector1(_) => false,
    }
}

fn eval_steps<S: Store + ?Sized>(
    store: &S,
    expr: &MetricExpr,
    steps: &[i64],
    q: &Query,
    stats: &mut Stats,
) -> Result<Vec<StepValue>, Error> {
    Ok(match expr {
        MetricExpr::Literal(v) => vec![StepValue::Scalar(*v); steps.len()],
        MetricExpr::Vector1(v) => {
            vec![StepValue::Vector(vec![Sample::new(Labels::empty(), *v)]); steps.len()]
        }
        MetricExpr::Range(r) => range_aggregation(store, r, steps, q, stats)?
            .into_iter()
            .map(StepValue::Vector)
            .collect(),
        MetricExpr::Vector(v) => {
            let inner = eval_steps(store, &v.expr, steps, q, stats)?;
            let op = match v.op {
                VectorOp::Sum => AggregateOp::Sum,
                VectorOp::Avg => AggregateOp::Avg,
                VectorOp::Min => AggregateOp::Min,
                VectorOp::Max => AggregateOp::Max,
                VectorOp::Count => AggregateOp::Count,
                VectorOp::Stddev => AggregateOp::Stddev,
                VectorOp::Stdvar => AggregateOp::Stdvar,
                VectorOp::Topk | VectorOp::ApproxTopk => AggregateOp::Topk,
                VectorOp::Bottomk => AggregateOp::Bottomk,
                VectorOp::Sort => AggregateOp::Sort,
                VectorOp::SortDesc => AggregateOp::SortDesc,
            };
            let param = v.param.map_or(AggregateParam::None, AggregateParam::Number);
            inner
                .into_iter()
                .map(|value| {
                    let vector = into_vector(value);
                    Ok(StepValue::Vector(aggregate(
                        op,
                        &param,
                        v.grouping.as_ref(),
                        vector,
                    )?))
                })
                .collect::<Result<_, Error>>()?
        }
        MetricExpr::LabelReplace(l) => eval_steps(store, &l.expr, steps, q, stats)?
            .into_iter()
            .map(|value| {
                Ok(StepValue::Vector(label_replace(
                    into_vector(value),
                    &l.dst,
                    &l.replacement,
                    &l.src,
                    &l.regex,
                )?))
            })
            .collect::<Result<_, Error>>()?,
        MetricExpr::Binary(b) => {
            let lhs = eval_steps(store, &b.lhs, steps, q, stats)?;
            let rhs = eval_steps(store, &b.rhs, steps, q, stats)?;
            let mut matching = b.matching.clone().unwrap_or_default();
            if b.op.is_set() {
                matching.card = Cardinality::ManyToMany;
            }
            lhs.into_iter()
                .zip(rhs)
                .map(|(l, r)| binary(b.op, l, r, &matching, b.return_bool))
                .collect::<Result<_, Error>>()?
        }
    })
}

fn into_vector(value: StepValue) -> Vector {
    match value {
        StepValue::Vector(v) => v,
        StepValue::Scalar(s) => vec![Sample::new(Labels::empty(), s)],
    }
}

fn binary(
    op: BinaryOp,
    lhs: StepValue,
    rhs: StepValue,
    matching: &model::algebra::VectorMatching,
    return_bool: bool,
) -> Result<StepValue, Error> {
    Ok(match (lhs, rhs) {
        (StepValue::Scalar(a), StepValue::Scalar(b)) => {
            if op.is_set() {
                return Err(Error::Invalid(format!(
                    "unexpected literal for left leg of logical/set binary operation ({})",
                    op.as_str()
                )));
            }
            StepValue::Scalar(scalar_binop_in(Dialect::Loki, op, a, b))
        }
        (StepValue::Vector(v), StepValue::Scalar(s)) => StepValue::Vector(vector_scalar_binop_in(
            Dialect::Loki,
            op,
            v,
            s,
            false,
            return_bool,
        )),
        (StepValue::Scalar(s), StepValue::Vector(v)) => StepValue::Vector(vector_scalar_binop_in(
            Dialect::Loki,
            op,
            v,
            s,
            true,
            return_bool,
        )),
        (StepValue::Vector(l), StepValue::Vector(r)) => StepValue::Vector(vector_binop_in(
            Dialect::Loki,
            op,
            l,
            r,
            matching,
            return_bool,
        )?),
    })
}

/// The samples of one series inside the current window, in time order.
type Window = VecDeque<(i64, f64)>;

/// A range aggregation at every step. The selected streams are merged in
/// time order and pulled only up to each step's end; every series keeps
/// just the samples of its current window, so memory follows the window
/// and the number of series, never the size of the data.
///
/// When the operation's per-window values combine across streams (counts
/// and sums add, minima and maxima take the extreme), each stream is
/// scanned on its own, the streams shared by up to `q.parallelism`
/// threads, and their values are combined step by step.
fn range_aggregation<S: Store + ?Sized>(
    store: &S,
    r: &RangeAggregation,
    steps: &[i64],
    q: &Query,
    stats: &mut Stats,
) -> Result<Vec<Vector>, Error> {
    let (Some(&first), Some(&last)) = (steps.first(), steps.last()) else {
        return Ok(Vec::new());
    };
    // Compiled once up front, so that errors surface before any reading.
    compile_pipeline(&r.range.log.stages)?;
    let offset = r.range.offset_ns;
    // Entries in (first - offset - range, last - offset].
    let from = first
        .saturating_sub(offset)
        .saturating_sub(r.range.range_ns)
        .saturating_add(1);
    let to = last.saturating_sub(offset).saturating_add(1);
    let streams = store.select(&r.range.log.matchers, from, to)?;
    let Some(combine) = combiner(r.op) else {
        return scan(streams.iter(), r, steps, q, stats);
    };
    // Values combine: every stream is scanned on its own (no merge by
    // time), in up to `parallelism` threads, and the values are combined.
    let groups = q.parallelism.clamp(1, streams.len().max(1));
    let by_group = |g: usize, read: &mut Stats| -> Result<Combined, Error> {
        let mut acc = Combined::new(steps.len(), combine);
        for stream in streams.iter().skip(g).step_by(groups) {
            acc.add(scan(std::iter::once(stream), r, steps, q, read)?);
        }
        Ok(acc)
    };
    if groups == 1 {
        return Ok(by_group(0, stats)?.out);
    }
    let results: Vec<Result<(Combined, Stats), Error>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..groups)
            .map(|g| {
                scope.spawn(move || {
                    let mut read = Stats::default();
                    by_group(g, &mut read).map(|acc| (acc, read))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|panic| {
                    let why = panic
                        .downcast_ref::<&str>()
                        .map(|s| (*s).to_owned())
                        .or_else(|| panic.downcast_ref::<String>().cloned())
                        .unwrap_or_default();
                    Err(Error::Internal(format!("a query thread panicked: {why}")))
                })
            })
            .collect()
    });
    let mut total = Combined::new(steps.len(), combine);
    for result in results {
        let (acc, read) = result?;
        *stats += read;
        total.add(acc.out);
    }
    Ok(total.out)
}

/// Step vectors combined series by series.
struct Combined {
    out: Vec<Vector>,
    index: Vec<HashMap<Labels, usize>>,
    combine: fn(f64, f64) -> f64,
}

impl Combined {
    fn new(steps: usize, combine: fn(f64, f64) -> f64) -> Self {
        Self {
            out: vec![Vec::new(); steps],
            index: vec![HashMap::new(); steps],
            combine,
        }
    }

    fn add(&mut self, vectors: Vec<Vector>) {
        for ((vector, step), seen) in vectors.into_iter().zip(&mut self.out).zip(&mut self.index) {
            for sample in vector {
                match seen.get(&sample.labels) {
                    Some(&i) => {
                        if let Some(existing) = step.get_mut(i) {
                            existing.value = (self.combine)(existing.value, sample.value);
                        }
                    }
                    None => {
                        seen.insert(sample.labels.clone(), step.len());
                        step.push(sample);
                    }
                }
            }
        }
    }
}

/// How two streams' values of the same series and window combine, for the
/// operations where they do.
fn combiner(op: RangeOp) -> Option<fn(f64, f64) -> f64> {
    match op {
        RangeOp::CountOverTime
        | RangeOp::Rate
        | RangeOp::BytesOverTime
        | RangeOp::BytesRate
        | RangeOp::SumOverTime => Some(|a, b| a + b),
        RangeOp::MinOverTime => Some(f64::min),
        RangeOp::MaxOverTime => Some(f64::max),
        _ => None,
    }
}

/// The range aggregation over some of the selected streams.
fn scan<'s>(
    streams: impl Iterator<Item = &'s Stream>,
    r: &RangeAggregation,
    steps: &[i64],
    q: &Query,
    stats: &mut Stats,
) -> Result<Vec<Vector>, Error> {
    let range = r.range.range_ns;
    let offset = r.range.offset_ns;
    let pipeline = compile_pipeline(&r.range.log.stages)?;
    let unwrap = match &r.range.unwrap {
        Some(u) => {
            let filters = u
                .filters
                .iter()
                .map(compile_label_filter)
                .collect::<Result<Vec<_>, _>>()?;
            let conv = match u.conv {
                UnwrapConv::Float => Conversion::Number,
                UnwrapConv::Duration | UnwrapConv::DurationSeconds => Conversion::Duration,
                UnwrapConv::Bytes => Conversion::Bytes,
            };
            Some((u.label.as_str(), conv, filters))
        }
        None => None,
    };
    let bytes = matches!(r.op, RangeOp::BytesOverTime | RangeOp::BytesRate);
    // When the stages after the line filters read only labels and there
    // is no unwrap, an entry without structured metadata ends in the same
    // series as every other such entry of its stream (or is dropped like
    // them): the stages run once per stream, not per entry.
    let per_stream = pipeline.labels_only() && unwrap.is_none();
    let mut by_stream: HashMap<*const Labels, Option<usize>> = HashMap::new();
    // Entries without the query's leading `|= "text"` are passed over in
    // the store, which may search a whole block at once.
    let needle = pipeline.required_substring().cloned();
    let mut merged = Merged::new(streams, Direction::Forward, q.deadline, needle)?;
    let mut index: HashMap<Labels, usize> = HashMap::new();
    let mut series: Vec<(Labels, Window)> = Vec::new();
    let range_secs = range as f64 / 1e9;
    let mut out = Vec::with_capacity(steps.len());
    for &t in steps {
        let end = t.saturating_sub(offset);
        let start = end.saturating_sub(range);
        // Pull every entry up to this step's end into its series' window.
        while merged.peek_ts()?.is_some_and(|ts| ts <= end) {
            let Some((labels, e)) = merged.next()? else {
                break;
            };
            if per_stream && e.metadata.is_empty() {
                if !pipeline.prefilter(e.line.as_bytes()) {
                    continue;
                }
                let key: *const Labels = labels;
                let i = match by_stream.get(&key) {
                    Some(&i) => i,
                    None => {
                        let i = match pipeline.process_builder(e.ts_ns, e.line, labels, e.metadata)
                        {
                            None => None,
                            Some((_, lb)) => {
                                let final_labels = lb.finish();
                                if let Some(err) = final_labels.get(ERROR_LABEL) {
                                    return Err(Error::Pipeline {
                                        error: err.to_owned(),
                                        series: final_labels.clone(),
                                    });
                                }
                                Some(series_index(
                                    &mut index,
                                    &mut series,
                                    group(r, final_labels),
                                    q,
                                )?)
                            }
                        };
                        by_stream.insert(key, i);
                        i
                    }
                };
                let Some(i) = i else {
                    continue;
                };
                let value = if bytes { e.line.len() as f64 } else { 1.0 };
                if let Some((_, w)) = series.get_mut(i) {
                    w.push_back((e.ts_ns, value));
                }
                continue;
            }
            let Some((line, mut lb)) =
                pipeline.process_builder(e.ts_ns, e.line, labels, e.metadata)
            else {
                continue;
            };
            let value = match &unwrap {
                None if bytes => line.len() as f64,
                None => 1.0,
                Some((label, conv, filters)) => {
                    // An entry without the label has no sample.
                    let Some(raw) = lb.get(label).map(str::to_owned) else {
                        continue;
                    };
                    let v = match convert(*conv, &raw) {
                        Ok(v) => v,
                        Err(err) => {
                            lb.set_error(ERR_SAMPLE_EXTRACTION, err);
                            0.0
                        }
                    };
                    if !filters.iter().all(|f| f.keep(&mut lb)) {
                        continue;
                    }
                    lb.remove(label);
                    v
                }
            };
            let final_labels = lb.finish();
            if let Some(err) = final_labels.get(ERROR_LABEL) {
                return Err(Error::Pipeline {
                    error: err.to_owned(),
                    series: final_labels.clone(),
                });
            }
            let i = series_index(&mut index, &mut series, group(r, final_labels), q)?;
            if let Some((_, w)) = series.get_mut(i) {
                w.push_back((e.ts_ns, value));
            }
        }
        let mut vector = Vec::new();
        for (labels, window) in &mut series {
            while window.front().is_some_and(|p| p.0 <= start) {
                window.pop_front();
            }
            if window.is_empty() {
                continue;
            }
            let samples = window.make_contiguous();
            if let Some(v) = over_time(r.op, r.param, samples, start, end, range_secs) {
                vector.push(Sample::new(labels.clone(), v));
            }
        }
        if r.op == RangeOp::AbsentOverTime {
            vector = if vector.is_empty() {
                let labels = Labels::from_pairs(
                    r.range
                        .log
                        .matchers
                        .iter()
                        .filter(|m| m.op == MatchOp::Equal)
                        .map(|m| (m.name.clone(), m.value.clone())),
                );
                vec![Sample::new(labels, 1.0)]
            } else {
                Vec::new()
            };
        }
        out.push(vector);
    }
    *stats += merged.stats();
    Ok(out)
}

/// The series key of final labels: the range aggregation's grouping, if
/// any.
fn group(r: &RangeAggregation, labels: Labels) -> Labels {
    match &r.grouping {
        Some(g) => g.group_labels(&labels),
        None => labels,
    }
}

/// The position of `key`'s series, added when new.
fn series_index(
    index: &mut HashMap<Labels, usize>,
    series: &mut Vec<(Labels, Window)>,
    key: Labels,
    q: &Query,
) -> Result<usize, Error> {
    match index.get(&key) {
        Some(&i) => Ok(i),
        None => {
            let cap = inner_series_cap(q);
            if cap > 0 && series.len() >= cap {
                return Err(Error::InnerSeriesLimit(cap));
            }
            index.insert(key.clone(), series.len());
            series.push((key, Window::new()));
            Ok(series.len() - 1)
        }
    }
}

/// How many series a range aggregation may hold while it runs: Loki
/// limits only the result (`max_query_series`), so a query whose parts
/// have many more series than its answer still runs, up to this many
/// times the limit; past it, it stops rather than growing without bound.
const INNER_SERIES_FACTOR: usize = 100;

fn inner_series_cap(q: &Query) -> usize {
    q.max_series.saturating_mul(INNER_SERIES_FACTOR)
}

fn over_time(
    op: RangeOp,
    param: Option<f64>,
    window: &[(i64, f64)],
    start: i64,
    end: i64,
    range_secs: f64,
) -> Option<f64> {
    let values = window.iter().map(|p| p.1);
    let n = window.len() as f64;
    Some(match op {
        RangeOp::CountOverTime | RangeOp::AbsentOverTime => n,
        RangeOp::Rate | RangeOp::BytesRate => values.sum::<f64>() / range_secs,
        RangeOp::BytesOverTime | RangeOp::SumOverTime => values.sum(),
        // Loki's incremental mean, for the same rounding as Loki.
        RangeOp::AvgOverTime => {
            let (mut mean, mut count) = (0.0_f64, 0.0);
            for v in values {
                count += 1.0;
                if mean.is_infinite() {
                    if v.is_infinite() && (mean > 0.0) == (v > 0.0) {
                        continue;
                    }
                    if !v.is_infinite() && !v.is_nan() {
                        continue;
                    }
                }
                mean += v / count - mean / count;
            }
            mean
        }
        RangeOp::MinOverTime => {
            values.fold(f64::NAN, |m, v| if v < m || m.is_nan() { v } else { m })
        }
        RangeOp::MaxOverTime => {
            values.fold(f64::NAN, |m, v| if v > m || m.is_nan() { v } else { m })
        }
        RangeOp::StdvarOverTime | RangeOp::StddevOverTime => {
            let (mut count, mut mean, mut m2) = (0.0, 0.0, 0.0);
            for v in values {
                count += 1.0;
                let delta = v - mean;
                mean += delta / count;
                m2 += delta * (v - mean);
            }
            let var = m2 / count;
            if op == RangeOp::StdvarOverTime {
                var
            } else {
                var.sqrt()
            }
        }
        RangeOp::QuantileOverTime => {
            let samples: Vector = window
                .iter()
                .map(|p| Sample::new(Labels::empty(), p.1))
                .collect();
            let q = aggregate(
                AggregateOp::Quantile,
                &AggregateParam::Number(param.unwrap_or(f64::NAN)),
                None,
                samples,
            )
            .ok()?;
            q.first()?.value
        }
        RangeOp::FirstOverTime => window.first()?.1,
        RangeOp::LastOverTime => window.last()?.1,
        RangeOp::RateCounter => extrapolated_rate(window, start, end, range_secs)?,
    })
}

/// Prometheus' `rate()` over counter samples, with its extrapolation to the
/// window's edges.
fn extrapolated_rate(
    samples: &[(i64, f64)],
    range_start: i64,
    range_end: i64,
    range_secs: f64,
) -> Option<f64> {
    // One sample cannot make a rate: Loki answers 0.
    if samples.len() < 2 {
        return Some(0.0);
    }
    let (first, last) = (samples.first()?, samples.last()?);
    let mut result = last.1 - first.1;
    for pair in samples.windows(2) {
        if let [a, b] = pair {
            if b.1 < a.1 {
                result += a.1;
            }
        }
    }
    let secs = |ns: i64| ns as f64 / 1e9;
    let mut to_start = secs(first.0 - range_start);
    let to_end = secs(range_end - last.0);
    let sampled = secs(last.0 - first.0);
    let avg = sampled / (samples.len() as f64 - 1.0);
    // Prometheus 3 order: clamp a far edge to half an interval first, then
    // let the counter's zero point shorten it further.
    let threshold = avg * 1.1;
    if to_start >= threshold {
        to_start = avg / 2.0;
    }
    if result > 0.0 && first.1 >= 0.0 {
        let to_zero = sampled * (first.1 / result);
        if to_zero < to_start {
            to_start = to_zero;
        }
    }
    let mut interval = sampled + to_start;
    interval += if to_end < threshold {
        to_end
    } else {
        avg / 2.0
    };
    Some(result * (interval / sampled) / range_secs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::algebra::Grouping;

    #[test]
    fn extrapolated_rate_matches_prometheus_on_a_steady_counter() {
        // 0, 10, 20 at 0s, 10s, 20s in a 30s window (-5s, 25s]: +1/s.
        let s = [(0, 0.0), (10_000_000_000, 10.0), (20_000_000_000, 20.0)];
        let r = extrapolated_rate(&s, -5_000_000_000, 25_000_000_000, 30.0).unwrap();
        assert!((r - 25.0 / 30.0).abs() < 1e-9, "{r}");
        assert_eq!(extrapolated_rate(&s[..1], 0, 1, 1.0), Some(0.0));
    }

    /// Scanning each stream on its own, in one thread or several, gives
    /// what one merged scan gives, for every operation that combines, with
    /// series that several streams share (grouping, dropped labels) and
    /// structured metadata.
    #[test]
    fn stream_by_stream_scans_equal_one_merged_scan() {
        use crate::store::MemStore;
        let mut store = MemStore::default();
        for s in 0..7 {
            let labels = Labels::from_pairs([
                ("job", "p"),
                ("s", &s.to_string()),
                ("k", ["a", "b"][s % 2]),
            ]);
            for i in 0..300_i64 {
                let meta = if i % 50 == 0 {
                    Labels::from_pairs([("m", "x")])
                } else {
                    Labels::empty()
                };
                let level = if i % 3 == 0 { "ERROR" } else { "info" };
                let line = format!("n={i} v={} {level}", (i * 7 + s as i64) % 13);
                store.push(&labels, i * 1_000_000_000 + s as i64, &line, &meta);
            }
        }
        for query in [
            r#"count_over_time({job="p"} |= "ERROR" [1m])"#,
            r#"max_over_time({job="p"} | logfmt | unwrap v [30s]) by (k)"#,
            r#"count_over_time({job="p"} | drop s [1m])"#,
            r#"rate({job="p"}[1m])"#,
            r#"bytes_over_time({job="p"} != "info" [2m])"#,
            r#"bytes_rate({job="p"}[1m])"#,
            r#"sum_over_time({job="p"} | logfmt | unwrap v [1m])"#,
            r#"min_over_time({job="p"} | logfmt | unwrap v [1m]) by (k)"#,
            r#"max_over_time({job="p"} | logfmt | unwrap v [1m])"#,
        ] {
            let Ok(crate::ast::Expr::Metric(MetricExpr::Range(r))) = crate::parse(query) else {
                panic!("a range aggregation: {query}")
            };
            let steps: Vec<i64> = (0..=20).map(|i| i * 15_000_000_000).collect();
            let mut q = Query::range(0, 300_000_000_000, 15_000_000_000);
            let streams = store
                .select(&r.range.log.matchers, i64::MIN, i64::MAX)
                .unwrap();
            let merged = scan(streams.iter(), &r, &steps, &q, &mut Stats::default()).unwrap();
            let sorted = |v: Vec<Vector>| -> Vec<Vec<(String, f64)>> {
                v.into_iter()
                    .map(|step| {
                        let mut s: Vec<(String, f64)> = step
                            .into_iter()
                            .map(|x| (x.labels.to_string(), x.value))
                            .collect();
                        s.sort_by(|a, b| a.0.cmp(&b.0));
                        s
                    })
                    .collect()
            };
            for threads in [1, 3] {
                q.parallelism = threads;
                let mut read = Stats::default();
                let each = range_aggregation(&store, &r, &steps, &q, &mut read).unwrap();
                assert_eq!(
                    sorted(each),
                    sorted(merged.clone()),
                    "{query} in {threads} threads"
                );
                assert_eq!(read.lines_processed, 2100, "{query}");
            }
        }
    }

    /// Stages that read only labels run once per stream; the answers are
    /// those of running them on every entry (forced here by a template
    /// stage that leaves the line as it is).
    #[test]
    fn label_only_stages_run_once_per_stream_with_the_same_answers() {
        use crate::store::MemStore;
        let mut store = MemStore::default();
        for s in 0..4 {
            let labels = Labels::from_pairs([
                ("job", "p"),
                ("s", &s.to_string()),
                ("n", &(s * 10).to_string()),
            ]);
            for i in 0..100_i64 {
                let meta = if i % 10 == 0 {
                    Labels::from_pairs([("m", "x")])
                } else {
                    Labels::empty()
                };
                store.push(
                    &labels,
                    i * 1_000_000_000 + s as i64,
                    &format!("line {i}"),
                    &meta,
                );
            }
        }
        for stages in [
            r#"| drop __error__"#,
            r#"| drop s"#,
            r#"| keep n"#,
            r#"| n > 15"#,
            r#"| s="1" or m="x""#,
            r#"|= "line 1" | n < 25 | drop s"#,
        ] {
            let run = |text: &str| {
                let query =
                    format!(r#"sum by (s, n, m) (count_over_time({{job="p"}} {text} [30s]))"#);
                let crate::ast::Expr::Metric(expr) = crate::parse(&query).unwrap() else {
                    panic!("a metric query")
                };
                let q = Query::range(0, 100_000_000_000, 10_000_000_000);
                eval_metric(&store, &expr, &q, &mut Stats::default()).unwrap()
            };
            let cached = run(stages);
            let per_entry = run(&format!(r#"{stages} | line_format "{{{{__line__}}}}""#));
            assert_eq!(cached, per_entry, "{stages}");
        }
    }

    /// A range aggregation may hold a hundred times `max_query_series`
    /// while it runs, though only its result is limited by that.
    #[test]
    fn inner_series_are_capped_at_a_hundred_times_the_limit() {
        use crate::store::MemStore;
        let mut store = MemStore::default();
        let labels = Labels::from_pairs([("job", "p")]);
        for i in 0..300_i64 {
            store.push(&labels, i * 1_000_000, &format!("n={i}"), &Labels::empty());
        }
        let crate::ast::Expr::Metric(expr) =
            crate::parse(r#"sum(count_over_time({job="p"} | logfmt [1m]))"#).unwrap()
        else {
            panic!("a metric query")
        };
        let mut q = Query::instant(1_000_000_000);
        q.max_series = 2;
        let err = eval_metric(&store, &expr, &q, &mut Stats::default()).unwrap_err();
        assert_eq!(err, Error::InnerSeriesLimit(200));
        q.max_series = 5;
        let QueryResult::Vector(v) = eval_metric(&store, &expr, &q, &mut Stats::default()).unwrap()
        else {
            panic!("a vector")
        };
        assert_eq!(v[0].value, 300.0);
    }

    #[test]
    fn grouping_is_unused_for_scalars() {
        let g = Grouping::By(vec![]);
        assert_eq!(
            g.group_labels(&Labels::from_pairs([("a", "b")])),
            Labels::empty()
        );
    }
}
