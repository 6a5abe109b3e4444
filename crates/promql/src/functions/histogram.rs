//! `histogram_quantile` over classic histograms (`_bucket` series with an
//! `le` label).

use std::collections::HashMap;

use model::algebra::{Sample, Vector, format_float};
use model::{Labels, METRIC_NAME};

use crate::QueryError;
use crate::eval::{Evaluator, Val, check_unique, position};

struct Bucket {
    upper: f64,
    count: f64,
}

/// Parses an `le` value the way Go's `strconv.ParseFloat` accepts it.
fn parse_le(s: &str) -> Option<f64> {
    match s {
        "+Inf" | "Inf" | "+inf" | "inf" => Some(f64::INFINITY),
        "-Inf" | "-inf" => Some(f64::NEG_INFINITY),
        _ => s.parse().ok(),
    }
}

pub(super) fn histogram_quantile(
    ev: &mut Evaluator<'_>,
    q: f64,
    v: Vector,
) -> Result<Val, QueryError> {
    if !(0.0..=1.0).contains(&q) {
        let at = position::describe(ev.query, "histogram_quantile", None);
        ev.annotations.warn(format!(
            "PromQL warning: quantile value should be between 0 and 1, got {} {at}",
            format_float(q)
        ));
    }
    let mut index: HashMap<Labels, usize> = HashMap::new();
    let mut groups: Vec<(Labels, Vec<Bucket>, String)> = Vec::new();
    for s in v {
        let name = s.labels.get(METRIC_NAME).unwrap_or("").to_owned();
        let Some(upper) = s.labels.get("le").and_then(parse_le) else {
            let le = s.labels.get("le").unwrap_or("");
            let at = position::describe(ev.query, "histogram_quantile", Some(1));
            ev.annotations.warn(format!(
                "PromQL warning: bucket label \"le\" is missing or has a malformed value of \"{le}\" for metric name \"{name}\" {at}"
            ));
            continue;
        };
        let mut key = s.labels.clone();
        key.remove("le");
        key.remove(METRIC_NAME);
        let i = *index.entry(key.clone()).or_insert_with(|| {
            groups.push((key, Vec::new(), name.clone()));
            groups.len() - 1
        });
        if let Some(g) = groups.get_mut(i) {
            g.1.push(Bucket {
                upper,
                count: s.value,
            });
        }
    }
    let mut out = Vec::with_capacity(groups.len());
    for (labels, buckets, name) in groups {
        let (value, fixed) = bucket_quantile(q, buckets);
        if fixed {
            let at = position::describe(ev.query, "histogram_quantile", Some(1));
            ev.annotations.info(format!(
                "PromQL info: input to histogram_quantile needed to be fixed for monotonicity (see https://prometheus.io/docs/prometheus/latest/querying/functions/#histogram_quantile) for metric name \"{name}\" {at}"
            ));
        }
        out.push(Sample::new(labels, value));
    }
    check_unique(&out)?;
    Ok(Val::Vector(out))
}

/// The quantile of classic buckets, and whether counts had to be forced
/// monotonic.
fn bucket_quantile(q: f64, mut buckets: Vec<Bucket>) -> (f64, bool) {
    if q.is_nan() {
        return (f64::NAN, false);
    }
    if q < 0.0 {
        return (f64::NEG_INFINITY, false);
    }
    if q > 1.0 {
        return (f64::INFINITY, false);
    }
    buckets.sort_by(|a, b| a.upper.total_cmp(&b.upper));
    match buckets.last() {
        Some(b) if b.upper == f64::INFINITY => {}
        _ => return (f64::NAN, false),
    }
    // Buckets with the same upper bound (from differently labelled series)
    // add up.
    let mut merged: Vec<Bucket> = Vec::with_capacity(buckets.len());
    for b in buckets {
        match merged.last_mut() {
            Some(last) if last.upper == b.upper => last.count += b.count,
            _ => merged.push(b),
        }
    }
    let mut buckets = merged;
    let mut fixed = false;
    let mut max = f64::NEG_INFINITY;
    for b in &mut buckets {
        if b.count > max {
            max = b.count;
        } else if b.count < max {
            // Tiny decreases are floating-point noise, not a broken histogram.
            if (max - b.count).abs() > 1e-12 * max.abs() {
                fixed = true;
            }
            b.count = max;
        }
    }
    if buckets.len() < 2 {
        return (f64::NAN, fixed);
    }
    let total = buckets[buckets.len() - 1].count;
    if total == 0.0 || total.is_nan() {
        return (f64::NAN, fixed);
    }
    let mut rank = q * total;
    let b = buckets.partition_point(|x| x.count < rank);
    if b == buckets.len() - 1 {
        return (buckets[buckets.len() - 2].upper, fixed);
    }
    if b == 0 && buckets[0].upper <= 0.0 {
        return (buckets[0].upper, fixed);
    }
    let mut start = 0.0;
    let end = buckets[b].upper;
    let mut count = buckets[b].count;
    if b > 0 {
        start = buckets[b - 1].upper;
        count -= buckets[b - 1].count;
        rank -= buckets[b - 1].count;
    }
    (start + (end - start) * (rank / count), fixed)
}
