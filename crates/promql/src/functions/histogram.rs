//! Classic histograms (`_bucket` series with an `le` label):
//! `histogram_quantile`, `histogram_quantiles` and `histogram_fraction`.

use std::collections::HashMap;

use model::algebra::{Sample, Vector, format_float};
use model::{Labels, METRIC_NAME};

use crate::QueryError;
use crate::eval::{Drops, Evaluator, Val, position};

#[derive(Debug, Clone, Copy)]
struct Bucket {
    upper: f64,
    count: f64,
}

/// One classic histogram: its labels without `le`, its buckets, its name.
struct Histogram {
    labels: Labels,
    buckets: Vec<Bucket>,
    name: String,
}

/// Parses an `le` value the way Go's `strconv.ParseFloat` accepts it.
fn parse_le(s: &str) -> Option<f64> {
    match s {
        "+Inf" | "Inf" | "+inf" | "inf" => Some(f64::INFINITY),
        "-Inf" | "-inf" => Some(f64::NEG_INFINITY),
        _ => s.parse().ok(),
    }
}

/// Groups bucket series into histograms, warning about series without a
/// usable `le`. `func`/`arg` locate the vector argument for the message.
fn group(ev: &mut Evaluator<'_>, v: Vector, func: &str, arg: usize) -> Vec<Histogram> {
    let mut index: HashMap<Labels, usize> = HashMap::new();
    let mut groups: Vec<Histogram> = Vec::new();
    for s in v {
        // Prometheus names the metric in these messages only when it
        // delays name removal; otherwise the name counts as dropped already.
        let name = match s.labels.get(METRIC_NAME) {
            Some(name) if ev.delays_name_removal() => name.to_owned(),
            _ => String::new(),
        };
        let Some(upper) = s.labels.get("le").and_then(parse_le) else {
            let le = s.labels.get("le").unwrap_or("");
            let at = position::describe(ev.query, func, Some(arg));
            ev.annotations.warn(format!(
                "PromQL warning: bucket label \"le\" is missing or has a malformed value of \"{le}\" for metric name \"{name}\" {at}"
            ));
            continue;
        };
        // The name stays in the group (two histograms never merge); it is
        // marked to be dropped from the result.
        let mut key = s.labels;
        key.remove("le");
        let i = *index.entry(key.clone()).or_insert_with(|| {
            groups.push(Histogram {
                labels: key,
                buckets: Vec::new(),
                name,
            });
            groups.len() - 1
        });
        if let Some(g) = groups.get_mut(i) {
            g.buckets.push(Bucket {
                upper,
                count: s.value,
            });
        }
    }
    groups
}

/// Sorts and merges buckets and forces their counts monotonic; `None` when
/// there is no `+Inf` bucket. The flag says whether counts really
/// decreased (not just by floating-point noise).
fn normalize(mut buckets: Vec<Bucket>) -> Option<(Vec<Bucket>, bool)> {
    buckets.sort_by(|a, b| a.upper.total_cmp(&b.upper));
    if buckets.last().is_none_or(|b| b.upper != f64::INFINITY) {
        return None;
    }
    let mut merged: Vec<Bucket> = Vec::with_capacity(buckets.len());
    for b in buckets {
        match merged.last_mut() {
            Some(last) if last.upper == b.upper => last.count += b.count,
            _ => merged.push(b),
        }
    }
    let mut fixed = false;
    let mut max = f64::NEG_INFINITY;
    for b in &mut merged {
        if b.count > max {
            max = b.count;
        } else if b.count < max {
            if (max - b.count).abs() > 1e-12 * max.abs() {
                fixed = true;
            }
            b.count = max;
        }
    }
    Some((merged, fixed))
}

fn warn_quantile(ev: &mut Evaluator<'_>, q: f64, func: &str) {
    if !(0.0..=1.0).contains(&q) {
        let at = position::describe(ev.query, func, None);
        ev.annotations.warn(format!(
            "PromQL warning: quantile value should be between 0 and 1, got {} {at}",
            format_float(q)
        ));
    }
}

fn info_monotonic(ev: &mut Evaluator<'_>, name: &str, func: &str, arg: usize) {
    let at = position::describe(ev.query, func, Some(arg));
    ev.annotations.info(format!(
        "PromQL info: input to histogram_quantile needed to be fixed for monotonicity (see https://prometheus.io/docs/prometheus/latest/querying/functions/#histogram_quantile) for metric name \"{name}\" {at}"
    ));
}

/// `histogram_quantile(q, buckets)`.
pub(super) fn histogram_quantile(
    ev: &mut Evaluator<'_>,
    q: f64,
    v: Vector,
) -> Result<Val, QueryError> {
    let func = "histogram_quantile";
    warn_quantile(ev, q, func);
    let mut out = Vec::new();
    for h in group(ev, v, func, 1) {
        let (value, fixed) = match normalize(h.buckets) {
            Some((b, fixed)) => (bucket_quantile(q, &b), fixed),
            None => (f64::NAN, false),
        };
        if fixed {
            info_monotonic(ev, &h.name, func, 1);
        }
        out.push(Sample::new(h.labels, value));
    }
    ev.drop_names(out, Drops::All)
}

/// `histogram_quantiles(buckets, "label", q…)`: one series per quantile,
/// told apart by `label`.
pub(super) fn histogram_quantiles(
    ev: &mut Evaluator<'_>,
    v: Vector,
    label: &str,
    qs: &[f64],
) -> Result<Val, QueryError> {
    let func = "histogram_quantiles";
    for &q in qs {
        warn_quantile(ev, q, func);
    }
    let mut out = Vec::new();
    for h in group(ev, v, func, 0) {
        let normalized = normalize(h.buckets);
        if normalized.as_ref().is_some_and(|(_, fixed)| *fixed) {
            info_monotonic(ev, &h.name, func, 0);
        }
        for &q in qs {
            let value = match &normalized {
                Some((b, _)) => bucket_quantile(q, b),
                None => f64::NAN,
            };
            let mut labels = h.labels.clone();
            labels.set(label, quantile_label(q));
            out.push(Sample::new(labels, value));
        }
    }
    let mut seen = std::collections::HashSet::new();
    if !out.iter().all(|s| seen.insert(s.labels.clone())) {
        return Err(QueryError::Execution(
            "vector cannot contain metrics with the same labelset".into(),
        ));
    }
    ev.drop_names(out, Drops::All)
}

/// A quantile as a label value: always with a decimal point (`0.0`, `1.0`).
fn quantile_label(q: f64) -> String {
    let s = format_float(q);
    if q.is_finite() && !s.contains('.') && !s.contains('e') {
        format!("{s}.0")
    } else {
        s
    }
}

/// `histogram_fraction(lower, upper, buckets)`.
pub(super) fn histogram_fraction(
    ev: &mut Evaluator<'_>,
    lower: f64,
    upper: f64,
    v: Vector,
) -> Result<Val, QueryError> {
    let func = "histogram_fraction";
    let mut out = Vec::new();
    for h in group(ev, v, func, 2) {
        let value = match normalize(h.buckets) {
            Some((b, _)) => bucket_fraction(lower, upper, &b),
            None => f64::NAN,
        };
        out.push(Sample::new(h.labels, value));
    }
    ev.drop_names(out, Drops::All)
}

/// The quantile of normalized buckets, interpolating linearly inside the
/// bucket the rank falls in.
fn bucket_quantile(q: f64, buckets: &[Bucket]) -> f64 {
    if q.is_nan() {
        return f64::NAN;
    }
    if q < 0.0 {
        return f64::NEG_INFINITY;
    }
    if q > 1.0 {
        return f64::INFINITY;
    }
    if buckets.len() < 2 {
        return f64::NAN;
    }
    let total = buckets[buckets.len() - 1].count;
    if total == 0.0 || total.is_nan() {
        return f64::NAN;
    }
    let mut rank = q * total;
    let b = buckets.partition_point(|x| x.count < rank);
    // `>=`: negative counts can put the rank past every bucket.
    if b >= buckets.len() - 1 {
        return buckets[buckets.len() - 2].upper;
    }
    if b == 0 && buckets[0].upper <= 0.0 {
        return buckets[0].upper;
    }
    let mut start = 0.0;
    let end = buckets[b].upper;
    let mut count = buckets[b].count;
    if b > 0 {
        start = buckets[b - 1].upper;
        count -= buckets[b - 1].count;
        rank -= buckets[b - 1].count;
    }
    start + (end - start) * (rank / count)
}

/// The share of observations in `[lower, upper]`: cumulative counts
/// interpolated linearly inside finite buckets; an infinitely wide bucket is
/// never split (it counts at its finite edge). The first bucket starts at 0
/// when its upper bound is positive.
fn bucket_fraction(lower: f64, upper: f64, buckets: &[Bucket]) -> f64 {
    let total = buckets.last().map_or(0.0, |b| b.count);
    if total == 0.0 || lower.is_nan() || upper.is_nan() || total.is_nan() {
        return f64::NAN;
    }
    if lower >= upper {
        return 0.0;
    }
    let cumulative = |x: f64| -> f64 {
        if x == f64::NEG_INFINITY {
            return 0.0;
        }
        if x == f64::INFINITY {
            return total;
        }
        let mut prev = 0.0;
        for (i, b) in buckets.iter().enumerate() {
            let lo = if i == 0 {
                if b.upper > 0.0 {
                    0.0
                } else {
                    f64::NEG_INFINITY
                }
            } else {
                buckets[i - 1].upper
            };
            if x <= lo {
                return prev;
            }
            if x <= b.upper {
                if x == b.upper {
                    return b.count;
                }
                if lo == f64::NEG_INFINITY {
                    return b.count;
                }
                if b.upper == f64::INFINITY {
                    return prev;
                }
                return prev + (b.count - prev) * (x - lo) / (b.upper - lo);
            }
            prev = b.count;
        }
        total
    };
    ((cumulative(upper) - cumulative(lower)) / total).max(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn buckets(pairs: &[(f64, f64)]) -> Vec<Bucket> {
        normalize(
            pairs
                .iter()
                .map(|&(upper, count)| Bucket { upper, count })
                .collect(),
        )
        .map(|(b, _)| b)
        .unwrap_or_default()
    }

    #[test]
    fn quantile_interpolates_inside_a_bucket() {
        let b = buckets(&[(0.1, 50.0), (0.5, 90.0), (f64::INFINITY, 100.0)]);
        assert!((bucket_quantile(0.5, &b) - 0.1).abs() < 1e-12);
        assert!((bucket_quantile(0.7, &b) - 0.3).abs() < 1e-12);
        assert_eq!(bucket_quantile(0.99, &b), 0.5);
    }

    #[test]
    fn fraction_never_splits_infinite_buckets() {
        let b = buckets(&[(1.0, 1.0), (2.0, 3.0), (3.0, 6.0), (f64::INFINITY, 100.0)]);
        assert!((bucket_fraction(0.0, 1.5, &b) - 0.02).abs() < 1e-12);
        assert!((bucket_fraction(400.0, f64::INFINITY, &b) - 0.94).abs() < 1e-12);
        assert_eq!(bucket_fraction(5.0, 10.0, &b), 0.0);
    }

    #[test]
    fn negative_counts_do_not_panic() {
        let b = buckets(&[(1.0, -3.0), (f64::INFINITY, -5.0)]);
        assert_eq!(bucket_quantile(0.5, &b), 1.0);
    }

    #[test]
    fn quantile_labels_keep_a_decimal_point() {
        assert_eq!(quantile_label(0.0), "0.0");
        assert_eq!(quantile_label(0.25), "0.25");
        assert_eq!(quantile_label(1.0), "1.0");
    }
}
