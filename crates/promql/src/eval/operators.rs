//! Aggregations and binary operators: translate the AST into
//! `model::algebra` calls, the vector algebra shared with LogQL.

use model::METRIC_NAME;
use model::algebra::{
    self, AggregateOp, AggregateParam, AlgebraError, BinaryOp, Cardinality, Grouping, Vector,
    VectorMatching,
};
use promql_parser::parser::{
    AggregateExpr, BinaryExpr, Expr, LabelModifier, VectorMatchCardinality,
};

use super::{Drops, Evaluator, Val, check_unique, position};
use crate::QueryError;

pub(super) fn aggregate(
    ev: &mut Evaluator<'_>,
    a: &AggregateExpr,
    t: i64,
) -> Result<Val, QueryError> {
    let name = a.op.to_string();
    if name == "limitk" || name == "limit_ratio" {
        return limit(ev, a, &name, t);
    }
    let op = AggregateOp::from_name(&name)
        .ok_or_else(|| QueryError::BadData(format!("aggregation {name} is not supported")))?;
    if let Some(result) = super::fast::aggregate(ev, a, op, t) {
        return result;
    }
    let param = match (&a.param, op) {
        (Some(p), AggregateOp::CountValues) => match ev.eval(p, t)? {
            Val::Str(s) => AggregateParam::Label(s),
            _ => return Err(QueryError::BadData("count_values needs a string".into())),
        },
        (Some(p), _) => {
            let v = ev.eval_scalar(p, t)?;
            match op {
                AggregateOp::Topk | AggregateOp::Bottomk if v.is_nan() => {
                    return Err(QueryError::Execution("Parameter value is NaN".into()));
                }
                AggregateOp::Quantile if !(0.0..=1.0).contains(&v) => {
                    let at = position::describe(ev.query, &name, None);
                    ev.annotations.warn(format!(
                        "PromQL warning: quantile value should be between 0 and 1, got {} {at}",
                        go_float(v)
                    ));
                }
                _ => {}
            }
            AggregateParam::Number(v)
        }
        (None, _) => AggregateParam::None,
    };
    let (input, drops) = ev.eval_vector_drops(&a.expr, t)?;
    let grouping = grouping(a);
    let out_drops = match op {
        // These keep the input's labels, so the marks carry over.
        AggregateOp::Topk | AggregateOp::Bottomk => drops,
        _ => group_drops(grouping.as_ref(), &input, &drops),
    };
    let out = algebra::aggregate_in(
        algebra::Dialect::Prometheus,
        op,
        &param,
        grouping.as_ref(),
        input,
    )?;
    if op == AggregateOp::CountValues {
        check_unique(&out)?;
    }
    Ok(Val::Vector(out, out_drops))
}

fn grouping(a: &AggregateExpr) -> Option<Grouping> {
    a.modifier.as_ref().map(|m| match m {
        LabelModifier::Include(l) => Grouping::By(l.labels.clone()),
        LabelModifier::Exclude(l) => Grouping::Without(l.labels.clone()),
    })
}

/// A group keeps a to-be-dropped name when it is grouped by the name and
/// any of its series had the name marked.
fn group_drops(grouping: Option<&Grouping>, input: &Vector, drops: &Drops) -> Drops {
    let by_name =
        matches!(grouping, Some(Grouping::By(names)) if names.iter().any(|n| n == METRIC_NAME));
    if !by_name || matches!(drops, Drops::None) {
        return Drops::None;
    }
    let Some(g) = grouping else {
        return Drops::None;
    };
    Drops::from_set(
        input
            .iter()
            .filter(|s| drops.contains(&s.labels))
            .map(|s| g.group_labels(&s.labels))
            .collect(),
    )
}

/// `limitk(k, v)`: at most k series per group, in input order;
/// `limit_ratio` is not supported beyond its parameter check.
fn limit(ev: &mut Evaluator<'_>, a: &AggregateExpr, name: &str, t: i64) -> Result<Val, QueryError> {
    let param = match &a.param {
        Some(p) => ev.eval_scalar(p, t)?,
        None => f64::NAN,
    };
    if param.is_nan() {
        return Err(QueryError::Execution(if name == "limitk" {
            "Parameter value is NaN".into()
        } else {
            "Ratio value is NaN".into()
        }));
    }
    if name != "limitk" {
        return Err(QueryError::BadData("limit_ratio is not supported".into()));
    }
    let (input, drops) = ev.eval_vector_drops(&a.expr, t)?;
    let grouping = grouping(a).unwrap_or(Grouping::By(Vec::new()));
    let mut counts: std::collections::HashMap<model::Labels, f64> =
        std::collections::HashMap::new();
    let out: Vector = input
        .into_iter()
        .filter(|s| {
            let n = counts
                .entry(grouping.group_labels(&s.labels))
                .or_insert(0.0);
            *n += 1.0;
            *n <= param
        })
        .collect();
    Ok(Val::Vector(out, drops))
}

/// Formats a float as Go's `%v` does for the values in messages.
pub(crate) fn go_float(v: f64) -> String {
    algebra::format_float(v)
}

fn binary_op(name: &str) -> Option<BinaryOp> {
    Some(match name {
        "+" => BinaryOp::Add,
        "-" => BinaryOp::Sub,
        "*" => BinaryOp::Mul,
        "/" => BinaryOp::Div,
        "%" => BinaryOp::Mod,
        "^" => BinaryOp::Pow,
        "atan2" => BinaryOp::Atan2,
        "==" => BinaryOp::Eq,
        "!=" => BinaryOp::Ne,
        ">" => BinaryOp::Gt,
        "<" => BinaryOp::Lt,
        ">=" => BinaryOp::Ge,
        "<=" => BinaryOp::Le,
        "and" => BinaryOp::And,
        "or" => BinaryOp::Or,
        "unless" => BinaryOp::Unless,
        _ => return None,
    })
}

pub(super) fn binary(ev: &mut Evaluator<'_>, b: &BinaryExpr, t: i64) -> Result<Val, QueryError> {
    let name = b.op.to_string();
    let op = binary_op(&name)
        .ok_or_else(|| QueryError::BadData(format!("operator {name} is not supported")))?;
    let return_bool = b.modifier.as_ref().is_some_and(|m| m.return_bool);
    // Filtering comparisons keep the left side's labels (and name marks);
    // arithmetic and `bool` drop the name at once in the shared algebra.
    let filters = op.is_comparison() && !return_bool;
    let fills = b
        .modifier
        .as_ref()
        .is_some_and(|m| m.fill_values.lhs.is_some() || m.fill_values.rhs.is_some());
    if !return_bool && !fills {
        let m = matching(b, op);
        if let Some(result) = super::fast::binary(ev, b, op, &m, t) {
            return result;
        }
    }
    let lhs = ev.eval(&b.lhs, t)?;
    let rhs = ev.eval(&b.rhs, t)?;
    match (lhs, rhs) {
        (Val::Scalar(l), Val::Scalar(r)) => Ok(Val::Scalar(algebra::scalar_binop(op, l, r))),
        (Val::Vector(v, d), Val::Scalar(s)) => {
            let out = algebra::vector_scalar_binop(op, v, s, false, return_bool);
            if !filters {
                super::check_unique(&out)?;
            }
            Ok(Val::Vector(out, if filters { d } else { Drops::None }))
        }
        (Val::Scalar(s), Val::Vector(v, d)) => {
            let out = algebra::vector_scalar_binop(op, v, s, true, return_bool);
            if !filters {
                super::check_unique(&out)?;
            }
            Ok(Val::Vector(out, if filters { d } else { Drops::None }))
        }
        (Val::Vector(mut l, ld), Val::Vector(mut r, rd)) => {
            let matching = matching(b, op);
            if let Some(m) = &b.modifier {
                let fill = &m.fill_values;
                if fill.lhs.is_some() || fill.rhs.is_some() {
                    algebra::fill_unmatched(&mut l, &mut r, &matching, fill.lhs, fill.rhs);
                }
            }
            let drops = match op {
                BinaryOp::Or => {
                    let mut set = ld.to_set(&l);
                    set.extend(rd.to_set(&r));
                    Drops::from_set(set)
                }
                BinaryOp::And | BinaryOp::Unless => ld,
                _ if filters => ld,
                _ => Drops::None,
            };
            // Arithmetic keeps every match, so the algebra sees every
            // duplicate itself; only filtering comparisons can hide one.
            if filters && matching.card == Cardinality::OneToOne {
                algebra::check_one_to_one(&l, &r, &matching)?;
            }
            let out =
                algebra::vector_binop(op, l, r, &matching, return_bool).map_err(|e| match e {
                    // Prometheus names the series in the order they were read.
                    AlgebraError::DuplicateSeries {
                        side,
                        group,
                        first,
                        second,
                    } => QueryError::from(AlgebraError::DuplicateSeries {
                        side,
                        group,
                        first: second,
                        second: first,
                    }),
                    e => QueryError::from(e),
                })?;
            Ok(Val::Vector(out, drops))
        }
        _ => Err(QueryError::BadData(format!(
            "binary operator {name} needs scalar or instant vector operands"
        ))),
    }
}

fn matching(b: &BinaryExpr, op: BinaryOp) -> VectorMatching {
    let mut m = VectorMatching::default();
    if let Some(modifier) = &b.modifier {
        m.card = match &modifier.card {
            VectorMatchCardinality::OneToOne => Cardinality::OneToOne,
            VectorMatchCardinality::ManyToOne(l) => {
                m.include = l.labels.clone();
                Cardinality::ManyToOne
            }
            VectorMatchCardinality::OneToMany(l) => {
                m.include = l.labels.clone();
                Cardinality::OneToMany
            }
            VectorMatchCardinality::ManyToMany => Cardinality::ManyToMany,
        };
        if let Some(lm) = &modifier.matching {
            match lm {
                LabelModifier::Include(l) => {
                    m.on = true;
                    m.labels = l.labels.clone();
                }
                LabelModifier::Exclude(l) => {
                    m.on = false;
                    m.labels = l.labels.clone();
                }
            }
        }
    }
    if op.is_set() {
        m.card = Cardinality::ManyToMany;
    }
    m
}

/// The expression inside any number of parentheses.
pub(crate) fn unwrap_parens(expr: &Expr) -> &Expr {
    match expr {
        Expr::Paren(p) => unwrap_parens(&p.expr),
        e => e,
    }
}
