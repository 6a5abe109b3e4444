//! Binary operators between vectors and scalars, with Prometheus' vector
//! matching (`on`, `ignoring`, `group_left`, `group_right`).

use std::collections::{HashMap, HashSet};
use std::fmt;

use super::{AlgebraError, Sample, Vector};
use crate::{Labels, METRIC_NAME};

/// A binary operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%`
    Mod,
    /// `^`
    Pow,
    /// `atan2` (PromQL only)
    Atan2,
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `>`
    Gt,
    /// `<`
    Lt,
    /// `>=`
    Ge,
    /// `<=`
    Le,
    /// `and`
    And,
    /// `or`
    Or,
    /// `unless`
    Unless,
}

impl BinaryOp {
    /// The operator as written.
    pub fn as_str(self) -> &'static str {
        match self {
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Mod => "%",
            BinaryOp::Pow => "^",
            BinaryOp::Atan2 => "atan2",
            BinaryOp::Eq => "==",
            BinaryOp::Ne => "!=",
            BinaryOp::Gt => ">",
            BinaryOp::Lt => "<",
            BinaryOp::Ge => ">=",
            BinaryOp::Le => "<=",
            BinaryOp::And => "and",
            BinaryOp::Or => "or",
            BinaryOp::Unless => "unless",
        }
    }

    /// Whether this is a comparison (`==`, `!=`, `>`, `<`, `>=`, `<=`).
    pub fn is_comparison(self) -> bool {
        matches!(
            self,
            BinaryOp::Eq | BinaryOp::Ne | BinaryOp::Gt | BinaryOp::Lt | BinaryOp::Ge | BinaryOp::Le
        )
    }

    /// Whether this is a set operator (`and`, `or`, `unless`).
    pub fn is_set(self) -> bool {
        matches!(self, BinaryOp::And | BinaryOp::Or | BinaryOp::Unless)
    }

    /// Binding strength, higher binds tighter (`^` 6 … `or` 1), as in PromQL.
    pub fn precedence(self) -> u8 {
        match self {
            BinaryOp::Or => 1,
            BinaryOp::And | BinaryOp::Unless => 2,
            BinaryOp::Eq
            | BinaryOp::Ne
            | BinaryOp::Gt
            | BinaryOp::Lt
            | BinaryOp::Ge
            | BinaryOp::Le => 3,
            BinaryOp::Add | BinaryOp::Sub => 4,
            BinaryOp::Mul | BinaryOp::Div | BinaryOp::Mod | BinaryOp::Atan2 => 5,
            BinaryOp::Pow => 6,
        }
    }

    /// Whether `a op b op c` groups as `a op (b op c)` (only `^`).
    pub fn is_right_associative(self) -> bool {
        self == BinaryOp::Pow
    }
}

/// Which operand of a binary operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The left operand.
    Left,
    /// The right operand.
    Right,
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Side::Left => "left",
            Side::Right => "right",
        })
    }
}

/// Which side may have several series per match group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Cardinality {
    /// Both sides unique (the default for arithmetic and comparisons).
    #[default]
    OneToOne,
    /// `group_left`: many on the left.
    ManyToOne,
    /// `group_right`: many on the right.
    OneToMany,
    /// Set operators.
    ManyToMany,
}

/// How the series of two vectors are paired.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VectorMatching {
    /// The cardinality.
    pub card: Cardinality,
    /// `on (…)` when true, `ignoring (…)` when false.
    pub on: bool,
    /// The labels of `on`/`ignoring`.
    pub labels: Vec<String>,
    /// The labels listed in `group_left (…)`/`group_right (…)`, copied from
    /// the "one" side.
    pub include: Vec<String>,
}

impl VectorMatching {
    /// The labels two series must share to match: the `on` labels, or all
    /// but the `ignoring` ones and the metric name.
    pub fn match_signature(&self, labels: &Labels) -> Labels {
        self.signature(labels)
    }

    fn signature(&self, labels: &Labels) -> Labels {
        if self.on {
            labels.filtered(|l| self.labels.iter().any(|n| n == l.name))
        } else {
            labels.filtered(|l| !self.labels.iter().any(|n| n == l.name) && l.name != METRIC_NAME)
        }
    }
}

/// Whose arithmetic to follow. The engines differ in one place: Loki
/// answers NaN for `x / 0` and `x % 0`, Prometheus follows IEEE 754
/// (`1 / 0 = +Inf`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Dialect {
    /// PromQL.
    #[default]
    Prometheus,
    /// LogQL.
    Loki,
}

/// Applies `op` to two floats; returns the value and, for comparisons,
/// whether the comparison held (arithmetic always "holds").
fn elem(dialect: Dialect, op: BinaryOp, lhs: f64, rhs: f64) -> (f64, bool) {
    if dialect == Dialect::Loki && matches!(op, BinaryOp::Div | BinaryOp::Mod) && rhs == 0.0 {
        return (f64::NAN, true);
    }
    match op {
        BinaryOp::Add => (lhs + rhs, true),
        BinaryOp::Sub => (lhs - rhs, true),
        BinaryOp::Mul => (lhs * rhs, true),
        BinaryOp::Div => (lhs / rhs, true),
        BinaryOp::Mod => (lhs % rhs, true),
        BinaryOp::Pow => (lhs.powf(rhs), true),
        BinaryOp::Atan2 => (lhs.atan2(rhs), true),
        BinaryOp::Eq => (lhs, lhs == rhs),
        BinaryOp::Ne => (lhs, lhs != rhs),
        BinaryOp::Gt => (lhs, lhs > rhs),
        BinaryOp::Lt => (lhs, lhs < rhs),
        BinaryOp::Ge => (lhs, lhs >= rhs),
        BinaryOp::Le => (lhs, lhs <= rhs),
        // Set operators never reach element arithmetic.
        BinaryOp::And | BinaryOp::Or | BinaryOp::Unless => (lhs, true),
    }
}

/// Scalar `op` scalar. A comparison yields 1 or 0 (PromQL requires `bool`
/// there; LogQL does not); set operators are not defined on scalars and
/// yield the left value.
pub fn scalar_binop(op: BinaryOp, lhs: f64, rhs: f64) -> f64 {
    scalar_binop_in(Dialect::Prometheus, op, lhs, rhs)
}

/// [`scalar_binop`] in the given dialect.
pub fn scalar_binop_in(dialect: Dialect, op: BinaryOp, lhs: f64, rhs: f64) -> f64 {
    let (value, keep) = elem(dialect, op, lhs, rhs);
    if op.is_comparison() {
        if keep { 1.0 } else { 0.0 }
    } else {
        value
    }
}

/// Vector `op` scalar (or scalar `op` vector when `scalar_on_left`). A
/// comparison filters, keeping the vector's value; with `return_bool` it
/// yields 1/0 for every sample instead.
pub fn vector_scalar_binop(
    op: BinaryOp,
    vector: Vector,
    scalar: f64,
    scalar_on_left: bool,
    return_bool: bool,
) -> Vector {
    vector_scalar_binop_in(
        Dialect::Prometheus,
        op,
        vector,
        scalar,
        scalar_on_left,
        return_bool,
    )
}

/// [`vector_scalar_binop`] in the given dialect.
pub fn vector_scalar_binop_in(
    dialect: Dialect,
    op: BinaryOp,
    vector: Vector,
    scalar: f64,
    scalar_on_left: bool,
    return_bool: bool,
) -> Vector {
    let mut out = Vec::with_capacity(vector.len());
    for mut sample in vector {
        let (l, r) = if scalar_on_left {
            (scalar, sample.value)
        } else {
            (sample.value, scalar)
        };
        let (mut value, mut keep) = elem(dialect, op, l, r);
        if op.is_comparison() && scalar_on_left {
            value = sample.value;
        }
        if return_bool {
            value = if keep { 1.0 } else { 0.0 };
            keep = true;
        }
        if keep {
            sample.value = value;
            if !op.is_comparison() || return_bool {
                sample.labels.remove(METRIC_NAME);
            }
            out.push(sample);
        }
    }
    out
}

/// Vector `op` vector with matching, exactly as Prometheus' engine does it,
/// including its errors for ambiguous matches.
pub fn vector_binop(
    op: BinaryOp,
    lhs: Vector,
    rhs: Vector,
    matching: &VectorMatching,
    return_bool: bool,
) -> Result<Vector, AlgebraError> {
    vector_binop_in(Dialect::Prometheus, op, lhs, rhs, matching, return_bool)
}

/// [`vector_binop`] in the given dialect.
pub fn vector_binop_in(
    dialect: Dialect,
    op: BinaryOp,
    lhs: Vector,
    rhs: Vector,
    matching: &VectorMatching,
    return_bool: bool,
) -> Result<Vector, AlgebraError> {
    match op {
        BinaryOp::And => return Ok(set_and(lhs, rhs, matching)),
        BinaryOp::Or => return Ok(set_or(lhs, rhs, matching)),
        BinaryOp::Unless => return Ok(set_unless(lhs, rhs, matching)),
        _ => {}
    }
    if matching.card == Cardinality::ManyToMany {
        return Err(AlgebraError::ManyToManyNotAllowed);
    }
    if lhs.is_empty() || rhs.is_empty() {
        return Ok(Vec::new());
    }
    // One-to-many is many-to-one with the sides swapped.
    let swapped = matching.card == Cardinality::OneToMany;
    let (lhs, rhs) = if swapped { (rhs, lhs) } else { (lhs, rhs) };
    let mut right: HashMap<Labels, Sample> = HashMap::new();
    for sample in rhs {
        let sig = matching.signature(&sample.labels);
        if let Some(dup) = right.get(&sig) {
            return Err(AlgebraError::DuplicateSeries {
                side: if swapped { Side::Left } else { Side::Right },
                group: sig,
                first: sample.labels,
                second: dup.labels.clone(),
            });
        }
        right.insert(sig, sample);
    }
    let mut matched: HashMap<Labels, HashSet<Labels>> = HashMap::new();
    let mut out = Vec::new();
    for ls in lhs {
        let sig = matching.signature(&ls.labels);
        let Some(rs) = right.get(&sig) else { continue };
        let (fl, fr) = if swapped {
            (rs.value, ls.value)
        } else {
            (ls.value, rs.value)
        };
        let (mut value, keep) = elem(dialect, op, fl, fr);
        if return_bool {
            value = if keep { 1.0 } else { 0.0 };
        } else if !keep {
            continue;
        }
        let mut metric = result_metric(&ls.labels, &rs.labels, op, matching);
        if return_bool {
            metric.remove(METRIC_NAME);
        }
        if matching.card == Cardinality::OneToOne {
            if matched.contains_key(&sig) {
                return Err(AlgebraError::ManyToOneNotExplicit);
            }
            matched.insert(sig, HashSet::new());
        } else {
            let inserted = matched.entry(sig).or_default();
            if !inserted.insert(metric.clone()) {
                return Err(AlgebraError::GroupingNotUnique);
            }
        }
        out.push(Sample::new(metric, value));
    }
    Ok(out)
}

/// Prometheus 3's early check for one-to-one matching: two left series in
/// one match group that has a right series is an error even when a
/// filtering comparison would drop one of them. [`vector_binop`] itself
/// only sees the series that survive the comparison.
pub fn check_one_to_one(
    lhs: &[Sample],
    rhs: &[Sample],
    matching: &VectorMatching,
) -> Result<(), AlgebraError> {
    if matching.card != Cardinality::OneToOne || lhs.len() < 2 || rhs.is_empty() {
        return Ok(());
    }
    let right: HashSet<Labels> = rhs.iter().map(|s| matching.signature(&s.labels)).collect();
    let mut seen: HashSet<Labels> = HashSet::new();
    for s in lhs {
        let sig = matching.signature(&s.labels);
        if right.contains(&sig) && !seen.insert(sig) {
            return Err(AlgebraError::ManyToOneNotExplicit);
        }
    }
    Ok(())
}

/// Prometheus' `fill(v)`, `fill_left(v)` and `fill_right(v)` modifiers:
/// before matching, a match group present on one side only gets a stand-in
/// sample with value `v` on the other side, labelled with the group's
/// matching labels (`fill_left` stands in for the left side, `fill_right`
/// for the right). With `group_right` Prometheus swaps the sides first, and
/// so do the modifiers.
pub fn fill_unmatched(
    lhs: &mut Vector,
    rhs: &mut Vector,
    matching: &VectorMatching,
    fill_left: Option<f64>,
    fill_right: Option<f64>,
) {
    let (fill_left, fill_right) = if matching.card == Cardinality::OneToMany {
        (fill_right, fill_left)
    } else {
        (fill_left, fill_right)
    };
    let left: HashSet<Labels> = lhs.iter().map(|s| matching.signature(&s.labels)).collect();
    let right: HashSet<Labels> = rhs.iter().map(|s| matching.signature(&s.labels)).collect();
    let stand_ins = |from: &Vector, present: &HashSet<Labels>, v: f64| {
        let mut done = HashSet::new();
        from.iter()
            .map(|s| matching.signature(&s.labels))
            .filter(|sig| !present.contains(sig) && done.insert(sig.clone()))
            .map(|sig| Sample::new(sig, v))
            .collect::<Vec<_>>()
    };
    let new_left = fill_left.map(|v| stand_ins(rhs, &left, v));
    let new_right = fill_right.map(|v| stand_ins(lhs, &right, v));
    lhs.extend(new_left.unwrap_or_default());
    rhs.extend(new_right.unwrap_or_default());
}

fn result_metric(lhs: &Labels, rhs: &Labels, op: BinaryOp, matching: &VectorMatching) -> Labels {
    let mut out = lhs.clone();
    if !op.is_comparison() {
        out.remove(METRIC_NAME);
    }
    if matching.card == Cardinality::OneToOne {
        if matching.on {
            out = Labels::from_pairs(
                out.iter()
                    .filter(|l| matching.labels.iter().any(|n| n == l.name))
                    .map(|l| (l.name, l.value)),
            );
        } else {
            for name in &matching.labels {
                out.remove(name);
            }
        }
    }
    for name in &matching.include {
        match rhs.get(name) {
            Some(v) if !v.is_empty() => out.set(name.clone(), v),
            _ => {
                out.remove(name);
            }
        }
    }
    out
}

fn set_and(lhs: Vector, rhs: Vector, matching: &VectorMatching) -> Vector {
    if lhs.is_empty() || rhs.is_empty() {
        return Vec::new();
    }
    let right: HashSet<Labels> = rhs.iter().map(|s| matching.signature(&s.labels)).collect();
    lhs.into_iter()
        .filter(|s| right.contains(&matching.signature(&s.labels)))
        .collect()
}

fn set_or(lhs: Vector, rhs: Vector, matching: &VectorMatching) -> Vector {
    let left: HashSet<Labels> = lhs.iter().map(|s| matching.signature(&s.labels)).collect();
    let mut out = lhs;
    out.extend(
        rhs.into_iter()
            .filter(|s| !left.contains(&matching.signature(&s.labels))),
    );
    out
}

fn set_unless(lhs: Vector, rhs: Vector, matching: &VectorMatching) -> Vector {
    let right: HashSet<Labels> = rhs.iter().map(|s| matching.signature(&s.labels)).collect();
    lhs.into_iter()
        .filter(|s| !right.contains(&matching.signature(&s.labels)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(pairs: &[(&str, &str)], value: f64) -> Sample {
        Sample::new(Labels::from_pairs(pairs.iter().copied()), value)
    }

    fn on(labels: &[&str]) -> VectorMatching {
        VectorMatching {
            on: true,
            labels: labels.iter().map(|l| l.to_string()).collect(),
            ..VectorMatching::default()
        }
    }

    #[test]
    fn fill_adds_stand_ins_for_unmatched_groups() {
        let mut l = vec![s(&[("a", "1")], 10.0), s(&[("a", "2")], 20.0)];
        let mut r = vec![s(&[("a", "1")], 1.0), s(&[("a", "3")], 3.0)];
        let m = VectorMatching::default();
        fill_unmatched(&mut l, &mut r, &m, Some(0.0), Some(5.0));
        let got = vector_binop(BinaryOp::Add, l, r, &m, false).unwrap();
        assert_eq!(
            got,
            vec![
                s(&[("a", "1")], 11.0),
                s(&[("a", "2")], 25.0),
                s(&[("a", "3")], 3.0)
            ]
        );
    }

    #[test]
    fn arithmetic_matches_identical_label_sets() {
        let l = vec![s(&[("a", "1")], 6.0), s(&[("a", "2")], 1.0)];
        let r = vec![s(&[("a", "1")], 3.0)];
        let got = vector_binop(BinaryOp::Div, l, r, &VectorMatching::default(), false).unwrap();
        assert_eq!(got, vec![s(&[("a", "1")], 2.0)]);
    }

    #[test]
    fn comparison_filters_or_returns_bool() {
        let l = vec![s(&[("a", "1")], 6.0), s(&[("a", "2")], 1.0)];
        let r = vec![s(&[("a", "1")], 3.0), s(&[("a", "2")], 3.0)];
        let m = VectorMatching::default();
        let got = vector_binop(BinaryOp::Gt, l.clone(), r.clone(), &m, false).unwrap();
        assert_eq!(got, vec![s(&[("a", "1")], 6.0)]);
        let got = vector_binop(BinaryOp::Gt, l, r, &m, true).unwrap();
        assert_eq!(got, vec![s(&[("a", "1")], 1.0), s(&[("a", "2")], 0.0)]);
    }

    #[test]
    fn on_keeps_only_matching_labels_one_to_one() {
        let l = vec![s(&[("a", "1"), ("b", "x")], 1.0)];
        let r = vec![s(&[("a", "1"), ("c", "y")], 2.0)];
        let got = vector_binop(BinaryOp::Add, l, r, &on(&["a"]), false).unwrap();
        assert_eq!(got, vec![s(&[("a", "1")], 3.0)]);
    }

    #[test]
    fn group_left_keeps_many_side_labels_and_includes() {
        let l = vec![
            s(&[("a", "1"), ("b", "x")], 1.0),
            s(&[("a", "1"), ("b", "y")], 2.0),
        ];
        let r = vec![s(&[("a", "1"), ("c", "z")], 10.0)];
        let mut m = on(&["a"]);
        m.card = Cardinality::ManyToOne;
        m.include = vec!["c".into()];
        let got = vector_binop(BinaryOp::Mul, l, r, &m, false).unwrap();
        assert_eq!(
            got,
            vec![
                s(&[("a", "1"), ("b", "x"), ("c", "z")], 10.0),
                s(&[("a", "1"), ("b", "y"), ("c", "z")], 20.0)
            ]
        );
    }

    #[test]
    fn group_right_swaps_sides_but_not_operands() {
        let l = vec![s(&[("a", "1")], 10.0)];
        let r = vec![s(&[("a", "1"), ("b", "x")], 2.0)];
        let mut m = on(&["a"]);
        m.card = Cardinality::OneToMany;
        let got = vector_binop(BinaryOp::Sub, l, r, &m, false).unwrap();
        assert_eq!(got, vec![s(&[("a", "1"), ("b", "x")], 8.0)]);
    }

    #[test]
    fn ambiguous_matches_are_errors() {
        let many = vec![
            s(&[("a", "1"), ("b", "x")], 1.0),
            s(&[("a", "1"), ("b", "y")], 2.0),
        ];
        let one = vec![s(&[("a", "1")], 1.0)];
        let err =
            vector_binop(BinaryOp::Add, one.clone(), many.clone(), &on(&["a"]), false).unwrap_err();
        assert!(
            matches!(
                err,
                AlgebraError::DuplicateSeries {
                    side: Side::Right,
                    ..
                }
            ),
            "{err}"
        );
        let err = vector_binop(BinaryOp::Add, many, one, &on(&["a"]), false).unwrap_err();
        assert_eq!(err, AlgebraError::ManyToOneNotExplicit);
    }

    #[test]
    fn set_operators() {
        let l = vec![s(&[("a", "1")], 1.0), s(&[("a", "2")], 2.0)];
        let r = vec![s(&[("a", "2")], 20.0), s(&[("a", "3")], 30.0)];
        let mut m = VectorMatching {
            card: Cardinality::ManyToMany,
            ..VectorMatching::default()
        };
        assert_eq!(
            vector_binop(BinaryOp::And, l.clone(), r.clone(), &m, false).unwrap(),
            vec![s(&[("a", "2")], 2.0)]
        );
        assert_eq!(
            vector_binop(BinaryOp::Unless, l.clone(), r.clone(), &m, false).unwrap(),
            vec![s(&[("a", "1")], 1.0)]
        );
        assert_eq!(
            vector_binop(BinaryOp::Or, l.clone(), r.clone(), &m, false).unwrap(),
            vec![
                s(&[("a", "1")], 1.0),
                s(&[("a", "2")], 2.0),
                s(&[("a", "3")], 30.0)
            ]
        );
        m.on = true;
        assert_eq!(
            vector_binop(BinaryOp::And, l, r, &m, false).unwrap().len(),
            2
        );
    }

    #[test]
    fn vector_scalar_keeps_vector_value_for_comparisons() {
        let v = vec![s(&[("a", "1")], 12.0)];
        assert_eq!(
            vector_scalar_binop(BinaryOp::Lt, v.clone(), 1.0, true, false),
            v
        );
        assert_eq!(
            vector_scalar_binop(BinaryOp::Lt, v.clone(), 1.0, false, false),
            vec![]
        );
        assert_eq!(
            vector_scalar_binop(BinaryOp::Lt, v.clone(), 1.0, false, true),
            vec![s(&[("a", "1")], 0.0)]
        );
        assert_eq!(
            vector_scalar_binop(BinaryOp::Sub, v, 2.0, true, false),
            vec![s(&[("a", "1")], -10.0)]
        );
    }

    #[test]
    fn scalar_arithmetic_and_comparison() {
        assert_eq!(scalar_binop(BinaryOp::Pow, 2.0, 3.0), 8.0);
        assert_eq!(scalar_binop(BinaryOp::Mod, 10.0, 3.0), 1.0);
        assert_eq!(scalar_binop(BinaryOp::Gt, 2.0, 7.0), 0.0);
        assert!(scalar_binop(BinaryOp::Mod, 10.0, 0.0).is_nan());
        assert_eq!(scalar_binop(BinaryOp::Div, -1.0, 0.0), f64::NEG_INFINITY);
        assert!(scalar_binop_in(Dialect::Loki, BinaryOp::Div, -1.0, 0.0).is_nan());
    }
}
