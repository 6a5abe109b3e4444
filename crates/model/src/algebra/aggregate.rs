//! Aggregation operators (`sum`, `topk`, `quantile`, …) with `by`/`without`.

use std::collections::HashMap;

use super::{AlgebraError, Sample, Vector, is_valid_label_name};
use crate::{Labels, METRIC_NAME};

/// An aggregation operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AggregateOp {
    /// `sum`
    Sum,
    /// `avg`
    Avg,
    /// `min`
    Min,
    /// `max`
    Max,
    /// `count`
    Count,
    /// `group`: 1 per group.
    Group,
    /// `stddev`: population standard deviation.
    Stddev,
    /// `stdvar`: population variance.
    Stdvar,
    /// `topk(k, …)`: the k largest samples per group, labels kept.
    Topk,
    /// `bottomk(k, …)`: the k smallest samples per group, labels kept.
    Bottomk,
    /// `quantile(φ, …)`
    Quantile,
    /// `count_values("label", …)`
    CountValues,
    /// `sort`: ascending by value, labels kept (a LogQL aggregation).
    Sort,
    /// `sort_desc`: descending by value, labels kept.
    SortDesc,
}

impl AggregateOp {
    /// The operator's name as written in queries.
    pub fn as_str(self) -> &'static str {
        match self {
            AggregateOp::Sum => "sum",
            AggregateOp::Avg => "avg",
            AggregateOp::Min => "min",
            AggregateOp::Max => "max",
            AggregateOp::Count => "count",
            AggregateOp::Group => "group",
            AggregateOp::Stddev => "stddev",
            AggregateOp::Stdvar => "stdvar",
            AggregateOp::Topk => "topk",
            AggregateOp::Bottomk => "bottomk",
            AggregateOp::Quantile => "quantile",
            AggregateOp::CountValues => "count_values",
            AggregateOp::Sort => "sort",
            AggregateOp::SortDesc => "sort_desc",
        }
    }

    /// Parses an operator name.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "sum" => AggregateOp::Sum,
            "avg" => AggregateOp::Avg,
            "min" => AggregateOp::Min,
            "max" => AggregateOp::Max,
            "count" => AggregateOp::Count,
            "group" => AggregateOp::Group,
            "stddev" => AggregateOp::Stddev,
            "stdvar" => AggregateOp::Stdvar,
            "topk" => AggregateOp::Topk,
            "bottomk" => AggregateOp::Bottomk,
            "quantile" => AggregateOp::Quantile,
            "count_values" => AggregateOp::CountValues,
            "sort" => AggregateOp::Sort,
            "sort_desc" => AggregateOp::SortDesc,
            _ => return None,
        })
    }
}

/// The extra argument some aggregations take.
#[derive(Debug, Clone, PartialEq)]
pub enum AggregateParam {
    /// No parameter.
    None,
    /// `k` of topk/bottomk, `φ` of quantile.
    Number(f64),
    /// The output label of count_values.
    Label(String),
}

/// `by (…)` or `without (…)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Grouping {
    /// Keep only these labels.
    By(Vec<String>),
    /// Drop these labels (and the metric name).
    Without(Vec<String>),
}

impl Grouping {
    /// The group a series falls in: the labels the grouping keeps.
    pub fn group_labels(&self, labels: &Labels) -> Labels {
        match self {
            Grouping::By(names) => Labels::from_pairs(
                labels
                    .iter()
                    .filter(|l| names.iter().any(|n| n == l.name))
                    .map(|l| (l.name, l.value)),
            ),
            Grouping::Without(names) => Labels::from_pairs(
                labels
                    .iter()
                    .filter(|l| !names.iter().any(|n| n == l.name) && l.name != METRIC_NAME)
                    .map(|l| (l.name, l.value)),
            ),
        }
    }
}

/// Formats a float the way Go's `strconv.FormatFloat(f, 'f', -1, 64)` does,
/// which is how Prometheus prints values into labels (`count_values`).
pub fn format_float(value: f64) -> String {
    crate::envelope::SampleValue(value).to_string()
}

#[derive(Default)]
struct Group {
    labels: Labels,
    count: f64,
    value: f64,
    mean: f64,
    samples: Vec<Sample>,
}

/// Applies an aggregation to a vector, following Prometheus' engine: groups
/// appear in the order of their first series; `topk`/`bottomk` keep the
/// input's labels and list each group's samples best first.
pub fn aggregate(
    op: AggregateOp,
    param: &AggregateParam,
    grouping: Option<&Grouping>,
    input: Vector,
) -> Result<Vector, AlgebraError> {
    let everything = Grouping::By(Vec::new());
    let grouping = grouping.unwrap_or(&everything);
    match op {
        AggregateOp::Sort | AggregateOp::SortDesc => {
            let mut out = input;
            sort_by_value(&mut out, op == AggregateOp::SortDesc);
            return Ok(out);
        }
        AggregateOp::CountValues => return count_values(param, grouping, input),
        _ => {}
    }
    let number = match param {
        AggregateParam::Number(n) => *n,
        _ => 0.0,
    };
    let mut index: HashMap<Labels, usize> = HashMap::new();
    let mut groups: Vec<Group> = Vec::new();
    for sample in input {
        let key = grouping.group_labels(&sample.labels);
        let i = *index.entry(key.clone()).or_insert_with(|| {
            groups.push(Group {
                labels: key,
                ..Group::default()
            });
            groups.len() - 1
        });
        let Some(g) = groups.get_mut(i) else { continue };
        let v = sample.value;
        let first = g.count == 0.0;
        g.count += 1.0;
        match op {
            AggregateOp::Sum | AggregateOp::Avg => g.value += v,
            AggregateOp::Min => {
                if first || g.value > v || g.value.is_nan() {
                    g.value = v;
                }
            }
            AggregateOp::Max => {
                if first || g.value < v || g.value.is_nan() {
                    g.value = v;
                }
            }
            AggregateOp::Stddev | AggregateOp::Stdvar => {
                let delta = v - g.mean;
                g.mean += delta / g.count;
                g.value += delta * (v - g.mean);
            }
            AggregateOp::Topk | AggregateOp::Bottomk | AggregateOp::Quantile => {
                g.samples.push(sample);
            }
            AggregateOp::Count
            | AggregateOp::Group
            | AggregateOp::CountValues
            | AggregateOp::Sort
            | AggregateOp::SortDesc => {}
        }
    }
    let mut out = Vec::with_capacity(groups.len());
    for g in groups {
        let value = match op {
            AggregateOp::Sum | AggregateOp::Min | AggregateOp::Max => g.value,
            AggregateOp::Avg => g.value / g.count,
            AggregateOp::Count => g.count,
            AggregateOp::Group => 1.0,
            AggregateOp::Stdvar => g.value / g.count,
            AggregateOp::Stddev => (g.value / g.count).sqrt(),
            AggregateOp::Quantile => {
                let values: Vec<f64> = g.samples.iter().map(|s| s.value).collect();
                quantile(number, values)
            }
            AggregateOp::Topk | AggregateOp::Bottomk => {
                out.extend(top_k(number, op == AggregateOp::Topk, g.samples));
                continue;
            }
            AggregateOp::CountValues | AggregateOp::Sort | AggregateOp::SortDesc => continue,
        };
        out.push(Sample::new(g.labels, value));
    }
    Ok(out)
}

fn sort_by_value(samples: &mut [Sample], descending: bool) {
    // NaN sorts last in both directions, as in Prometheus' sort functions.
    samples.sort_by(|a, b| match (a.value.is_nan(), b.value.is_nan()) {
        (true, true) => std::cmp::Ordering::Equal,
        (true, false) => std::cmp::Ordering::Greater,
        (false, true) => std::cmp::Ordering::Less,
        (false, false) if descending => b.value.total_cmp(&a.value),
        (false, false) => a.value.total_cmp(&b.value),
    });
}

fn top_k(k: f64, largest: bool, mut samples: Vec<Sample>) -> Vec<Sample> {
    if k.is_nan() || k < 1.0 {
        return Vec::new();
    }
    // NaN counts as the worst value for both topk and bottomk.
    samples.sort_by(|a, b| match (a.value.is_nan(), b.value.is_nan()) {
        (true, true) => std::cmp::Ordering::Equal,
        (true, false) => std::cmp::Ordering::Greater,
        (false, true) => std::cmp::Ordering::Less,
        (false, false) if largest => b.value.total_cmp(&a.value),
        (false, false) => a.value.total_cmp(&b.value),
    });
    let k = if k >= samples.len() as f64 {
        samples.len()
    } else {
        k as usize
    };
    samples.truncate(k);
    samples
}

/// Prometheus' `quantile`: linear interpolation between the closest ranks,
/// values in `total_cmp` order (LogQL's).
fn quantile(q: f64, mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    quantile_of_sorted(q, &values)
}

/// The φ-quantile of values already sorted, by linear interpolation
/// between the closest ranks; the one place both dialects compute it.
pub(crate) fn quantile_of_sorted(q: f64, values: &[f64]) -> f64 {
    if values.is_empty() || q.is_nan() {
        return f64::NAN;
    }
    if q < 0.0 {
        return f64::NEG_INFINITY;
    }
    if q > 1.0 {
        return f64::INFINITY;
    }
    let n = values.len() as f64;
    let rank = q * (n - 1.0);
    let lower = rank.floor().max(0.0);
    let upper = (lower + 1.0).min(n - 1.0);
    let weight = rank - rank.floor();
    let at = |i: f64| values.get(i as usize).copied().unwrap_or(f64::NAN);
    at(lower) * (1.0 - weight) + at(upper) * weight
}

fn count_values(
    param: &AggregateParam,
    grouping: &Grouping,
    input: Vector,
) -> Result<Vector, AlgebraError> {
    let AggregateParam::Label(label) = param else {
        return Err(AlgebraError::InvalidParameter("count_values"));
    };
    if !is_valid_label_name(label) {
        return Err(AlgebraError::InvalidLabelName(label.clone()));
    }
    let mut index: HashMap<Labels, usize> = HashMap::new();
    let mut out: Vec<Sample> = Vec::new();
    for sample in input {
        let mut key = grouping.group_labels(&sample.labels);
        key.set(label.clone(), format_float(sample.value));
        match index.get(&key).and_then(|&i| out.get_mut(i)) {
            Some(existing) => existing.value += 1.0,
            None => {
                index.insert(key.clone(), out.len());
                out.push(Sample::new(key, 1.0));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(pairs: &[(&str, &str)], value: f64) -> Sample {
        Sample::new(Labels::from_pairs(pairs.iter().copied()), value)
    }

    fn input() -> Vector {
        vec![
            s(&[("app", "a"), ("pod", "1")], 1.0),
            s(&[("app", "a"), ("pod", "2")], 4.0),
            s(&[("app", "b"), ("pod", "1")], 10.0),
        ]
    }

    fn check(op: AggregateOp, param: AggregateParam, grouping: Option<Grouping>, want: &[Sample]) {
        let got = aggregate(op, &param, grouping.as_ref(), input()).unwrap();
        assert_eq!(got, want, "{op:?}");
    }

    fn by_app() -> Option<Grouping> {
        Some(Grouping::By(vec!["app".into()]))
    }

    #[test]
    fn sum_avg_count_by() {
        check(
            AggregateOp::Sum,
            AggregateParam::None,
            by_app(),
            &[s(&[("app", "a")], 5.0), s(&[("app", "b")], 10.0)],
        );
        check(
            AggregateOp::Avg,
            AggregateParam::None,
            by_app(),
            &[s(&[("app", "a")], 2.5), s(&[("app", "b")], 10.0)],
        );
        check(
            AggregateOp::Count,
            AggregateParam::None,
            None,
            &[s(&[], 3.0)],
        );
        check(
            AggregateOp::Group,
            AggregateParam::None,
            by_app(),
            &[s(&[("app", "a")], 1.0), s(&[("app", "b")], 1.0)],
        );
    }

    #[test]
    fn without_drops_the_listed_labels() {
        check(
            AggregateOp::Max,
            AggregateParam::None,
            Some(Grouping::Without(vec!["app".into()])),
            &[s(&[("pod", "1")], 10.0), s(&[("pod", "2")], 4.0)],
        );
    }

    #[test]
    fn min_max_skip_nan_like_prometheus() {
        let v = vec![s(&[], f64::NAN), s(&[], 3.0), s(&[], 1.0)];
        let max = aggregate(AggregateOp::Max, &AggregateParam::None, None, v.clone()).unwrap();
        assert_eq!(max[0].value, 3.0);
        let min = aggregate(AggregateOp::Min, &AggregateParam::None, None, v).unwrap();
        assert_eq!(min[0].value, 1.0);
    }

    #[test]
    fn stddev_and_stdvar_are_population_statistics() {
        let v = vec![
            s(&[("i", "1")], 2.0),
            s(&[("i", "2")], 4.0),
            s(&[("i", "3")], 4.0),
            s(&[("i", "4")], 6.0),
        ];
        let var = aggregate(AggregateOp::Stdvar, &AggregateParam::None, None, v.clone()).unwrap();
        assert!((var[0].value - 2.0).abs() < 1e-12);
        let dev = aggregate(AggregateOp::Stddev, &AggregateParam::None, None, v).unwrap();
        assert!((dev[0].value - 2.0_f64.sqrt()).abs() < 1e-12);
    }

    #[test]
    fn topk_and_bottomk_keep_labels() {
        check(
            AggregateOp::Topk,
            AggregateParam::Number(1.0),
            by_app(),
            &[
                s(&[("app", "a"), ("pod", "2")], 4.0),
                s(&[("app", "b"), ("pod", "1")], 10.0),
            ],
        );
        check(
            AggregateOp::Bottomk,
            AggregateParam::Number(2.0),
            None,
            &[
                s(&[("app", "a"), ("pod", "1")], 1.0),
                s(&[("app", "a"), ("pod", "2")], 4.0),
            ],
        );
        check(AggregateOp::Topk, AggregateParam::Number(0.0), None, &[]);
    }

    #[test]
    fn quantile_interpolates() {
        check(
            AggregateOp::Quantile,
            AggregateParam::Number(0.5),
            None,
            &[s(&[], 4.0)],
        );
        check(
            AggregateOp::Quantile,
            AggregateParam::Number(0.25),
            None,
            &[s(&[], 2.5)],
        );
        check(
            AggregateOp::Quantile,
            AggregateParam::Number(2.0),
            None,
            &[s(&[], f64::INFINITY)],
        );
    }

    #[test]
    fn count_values_counts_by_value() {
        let v = vec![
            s(&[("i", "1")], 2.0),
            s(&[("i", "2")], 2.0),
            s(&[("i", "3")], 0.5),
        ];
        let got = aggregate(
            AggregateOp::CountValues,
            &AggregateParam::Label("v".into()),
            None,
            v,
        )
        .unwrap();
        assert_eq!(got, vec![s(&[("v", "2")], 2.0), s(&[("v", "0.5")], 1.0)]);
        let bad = aggregate(
            AggregateOp::CountValues,
            &AggregateParam::Label("1x".into()),
            None,
            vec![],
        );
        assert!(bad.is_err());
    }

    #[test]
    fn sort_puts_nan_last() {
        let v = vec![
            s(&[("i", "1")], f64::NAN),
            s(&[("i", "2")], 2.0),
            s(&[("i", "3")], 1.0),
        ];
        let asc = aggregate(AggregateOp::Sort, &AggregateParam::None, None, v.clone()).unwrap();
        assert_eq!(
            asc.iter()
                .map(|s| s.labels.get("i").unwrap())
                .collect::<Vec<_>>(),
            ["3", "2", "1"]
        );
        let desc = aggregate(AggregateOp::SortDesc, &AggregateParam::None, None, v).unwrap();
        assert_eq!(
            desc.iter()
                .map(|s| s.labels.get("i").unwrap())
                .collect::<Vec<_>>(),
            ["2", "3", "1"]
        );
    }

    #[test]
    fn format_float_matches_go() {
        assert_eq!(format_float(0.1), "0.1");
        assert_eq!(format_float(3.0), "3");
        assert_eq!(format_float(f64::INFINITY), "+Inf");
        assert_eq!(format_float(f64::NAN), "NaN");
    }
}
