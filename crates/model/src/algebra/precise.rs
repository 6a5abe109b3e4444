//! Aggregations with Prometheus 3's numerics: compensated (Kahan–Neumaier)
//! sums, an average that survives overflow, and `quantile` that orders NaN
//! first. LogQL keeps the plain arithmetic of [`aggregate`].

use std::collections::HashMap;

use super::aggregate::{AggregateOp, AggregateParam, Grouping, aggregate, quantile_of_sorted};
use super::{AlgebraError, Dialect, Sample, Vector};
use crate::Labels;

/// Compensated summation as Prometheus does it (`kahanSumInc`).
#[derive(Debug, Default, Clone, Copy)]
pub struct KahanSum {
    sum: f64,
    c: f64,
}

impl KahanSum {
    /// Adds `v`.
    pub fn add(&mut self, v: f64) {
        let t = self.sum + v;
        if t.is_infinite() {
            self.c = 0.0;
        } else if self.sum.abs() >= v.abs() {
            self.c += (self.sum - t) + v;
        } else {
            self.c += (v - t) + self.sum;
        }
        self.sum = t;
    }

    /// The compensated total.
    pub fn value(&self) -> f64 {
        self.sum + self.c
    }
}

/// The mean of `values` as Prometheus 3 computes `avg` and `avg_over_time`:
/// a compensated sum divided by the count, switching to an incremental
/// mean once the sum would overflow.
pub fn prometheus_mean(values: impl IntoIterator<Item = f64>) -> f64 {
    let mut sum = KahanSum::default();
    let mut mean = KahanSum::default();
    let mut incremental = false;
    let mut count = 0.0;
    for v in values {
        count += 1.0;
        if count == 1.0 {
            sum = KahanSum { sum: v, c: 0.0 };
            continue;
        }
        if !incremental {
            let mut next = sum;
            next.add(v);
            if !next.sum.is_infinite() || v.is_infinite() {
                sum = next;
                continue;
            }
            incremental = true;
            mean = KahanSum {
                sum: sum.sum / (count - 1.0),
                c: sum.c / (count - 1.0),
            };
        }
        if mean.sum.is_infinite() {
            if v.is_infinite() && (mean.sum > 0.0) == (v > 0.0) {
                continue;
            }
            if !v.is_nan() && !v.is_infinite() {
                continue;
            }
        }
        let current = mean.value();
        mean.add(v / count - current / count);
    }
    if count == 0.0 {
        f64::NAN
    } else if incremental {
        mean.value()
    } else if count == 1.0 {
        sum.sum
    } else {
        sum.value() / count
    }
}

/// Population variance with compensated sums (Welford's update).
pub fn prometheus_variance(values: impl IntoIterator<Item = f64>) -> f64 {
    let mut count = 0.0;
    let mut mean = KahanSum::default();
    let mut aux = KahanSum::default();
    for v in values {
        count += 1.0;
        let delta = v - mean.value();
        mean.add(delta / count);
        aux.add(delta * (v - mean.value()));
    }
    aux.value() / count
}

/// Prometheus' φ-quantile with NaN ordered before every number, so a
/// quantile interpolated next to a NaN is NaN.
pub fn prometheus_quantile(q: f64, mut values: Vec<f64>) -> f64 {
    values.sort_by(|a, b| match (a.is_nan(), b.is_nan()) {
        (true, true) => std::cmp::Ordering::Equal,
        (true, false) => std::cmp::Ordering::Less,
        (false, true) => std::cmp::Ordering::Greater,
        (false, false) => a.total_cmp(b),
    });
    quantile_of_sorted(q, &values)
}

/// [`aggregate`] in the given dialect: Prometheus' `sum`, `avg`, `stddev`,
/// `stdvar` and `quantile` use the numerics above; everything else, and
/// every LogQL aggregation, is [`aggregate`] itself.
pub fn aggregate_in(
    dialect: Dialect,
    op: AggregateOp,
    param: &AggregateParam,
    grouping: Option<&Grouping>,
    input: Vector,
) -> Result<Vector, AlgebraError> {
    let precise = matches!(
        op,
        AggregateOp::Sum
            | AggregateOp::Avg
            | AggregateOp::Stddev
            | AggregateOp::Stdvar
            | AggregateOp::Quantile
    );
    if dialect == Dialect::Loki || !precise {
        return aggregate(op, param, grouping, input);
    }
    let everything = Grouping::By(Vec::new());
    let grouping = grouping.unwrap_or(&everything);
    let mut index: HashMap<Labels, usize> = HashMap::new();
    let mut groups: Vec<(Labels, Vec<f64>)> = Vec::new();
    for sample in input {
        let key = grouping.group_labels(&sample.labels);
        let i = *index.entry(key.clone()).or_insert_with(|| {
            groups.push((key, Vec::new()));
            groups.len() - 1
        });
        if let Some(g) = groups.get_mut(i) {
            g.1.push(sample.value);
        }
    }
    let q = match param {
        AggregateParam::Number(n) => *n,
        _ => f64::NAN,
    };
    Ok(groups
        .into_iter()
        .map(|(labels, values)| {
            let value = match op {
                AggregateOp::Sum => {
                    let mut k = KahanSum::default();
                    values.iter().for_each(|&v| k.add(v));
                    k.value()
                }
                AggregateOp::Avg => prometheus_mean(values),
                AggregateOp::Stdvar => prometheus_variance(values),
                AggregateOp::Stddev => prometheus_variance(values).sqrt(),
                _ => prometheus_quantile(q, values),
            };
            Sample::new(labels, value)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kahan_sum_keeps_small_terms() {
        let mut k = KahanSum::default();
        for v in [2.0, 8.0, 1e100, -1e100] {
            k.add(v);
        }
        assert_eq!(k.value(), 10.0);
    }

    #[test]
    fn mean_survives_overflow() {
        let big = f64::MAX / 1.8;
        assert_eq!(prometheus_mean([big, big, big, big]), big);
        assert_eq!(prometheus_mean([-big, -big, big, big]), 0.0);
        assert!(prometheus_mean([f64::INFINITY, f64::NEG_INFINITY]).is_nan());
    }

    #[test]
    fn quantile_orders_nan_first() {
        assert!((prometheus_quantile(0.8, vec![0.0, 1.0, f64::NAN]) - 0.6).abs() < 1e-12);
        assert!(prometheus_quantile(0.2, vec![0.0, 1.0, f64::NAN]).is_nan());
    }

    #[test]
    fn loki_dialect_is_plain_aggregate() {
        let v = vec![
            Sample::new(Labels::from_pairs([("a", "1")]), 1e100),
            Sample::new(Labels::from_pairs([("a", "2")]), 1.0),
            Sample::new(Labels::from_pairs([("a", "3")]), -1e100),
        ];
        let loki = aggregate_in(
            Dialect::Loki,
            AggregateOp::Sum,
            &AggregateParam::None,
            None,
            v.clone(),
        )
        .unwrap();
        let prom = aggregate_in(
            Dialect::Prometheus,
            AggregateOp::Sum,
            &AggregateParam::None,
            None,
            v,
        )
        .unwrap();
        assert_eq!(loki[0].value, 0.0);
        assert_eq!(prom[0].value, 1.0);
    }
}
