//! Aggregations and binary operators: translate the AST into
//! `model::algebra` calls, the vector algebra shared with LogQL.

use model::algebra::{
    self, AggregateOp, AggregateParam, BinaryOp, Cardinality, Grouping, VectorMatching,
};
use promql_parser::parser::{
    AggregateExpr, BinaryExpr, Expr, LabelModifier, VectorMatchCardinality,
};

use super::{Evaluator, Val, check_unique, position};
use crate::QueryError;

pub(super) fn aggregate(
    ev: &mut Evaluator<'_>,
    a: &AggregateExpr,
    t: i64,
) -> Result<Val, QueryError> {
    let name = a.op.to_string();
    let op = AggregateOp::from_name(&name)
        .ok_or_else(|| QueryError::BadData(format!("aggregation {name} is not supported")))?;
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
    let input = ev.eval_vector(&a.expr, t)?;
    let grouping = a.modifier.as_ref().map(|m| match m {
        LabelModifier::Include(l) => Grouping::By(l.labels.clone()),
        LabelModifier::Exclude(l) => Grouping::Without(l.labels.clone()),
    });
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
    Ok(Val::Vector(out))
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
    let lhs = ev.eval(&b.lhs, t)?;
    // `and` with an empty left side is empty whatever the right side; still
    // evaluate the right side so errors surface as in Prometheus.
    let rhs = ev.eval(&b.rhs, t)?;
    match (lhs, rhs) {
        (Val::Scalar(l), Val::Scalar(r)) => Ok(Val::Scalar(algebra::scalar_binop(op, l, r))),
        (Val::Vector(v), Val::Scalar(s)) => {
            let out = algebra::vector_scalar_binop(op, v, s, false, return_bool);
            check_unique(&out)?;
            Ok(Val::Vector(out))
        }
        (Val::Scalar(s), Val::Vector(v)) => {
            let out = algebra::vector_scalar_binop(op, v, s, true, return_bool);
            check_unique(&out)?;
            Ok(Val::Vector(out))
        }
        (Val::Vector(l), Val::Vector(r)) => {
            let matching = matching(b, op);
            let out = algebra::vector_binop(op, l, r, &matching, return_bool)?;
            if !op.is_set() {
                check_unique(&out)?;
            }
            Ok(Val::Vector(out))
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

/// Whether an expression is (in parentheses) a plain selector.
pub(crate) fn unwrap_parens(expr: &Expr) -> &Expr {
    match expr {
        Expr::Paren(p) => unwrap_parens(&p.expr),
        e => e,
    }
}
