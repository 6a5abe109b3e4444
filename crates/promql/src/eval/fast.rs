//! A fast path for the dashboards' commonest shape: `sum`, `avg` or `count`
//! (with or without `by`/`without`) straight over a selector, or over
//! `rate`/`irate`/`increase`/`delta`/`idelta` of a matrix selector.
//!
//! The general path clones every series' labels at every step only for the
//! aggregation to throw them away; here each series' group is found once
//! per query and steps only touch numbers. The numerics are the same calls
//! (`model::algebra`'s compensated sums and mean, `functions::range`'s
//! extrapolation) in the same order as the general path, so results are
//! identical, which the conformance suite checks through both paths.

use std::collections::HashMap;

use model::algebra::{AggregateOp, Grouping, KahanSum, Sample, prometheus_mean};
use model::{Labels, METRIC_NAME};
use promql_parser::parser::{AggregateExpr, Expr, LabelModifier, MatrixSelector, VectorSelector};

use super::operators::unwrap_parens;
use super::{Drops, Evaluator, Val, select};
use crate::QueryError;
use crate::functions::range;

/// Which series fall in which group, computed once per aggregation.
#[derive(Debug)]
pub(super) struct Plan {
    group_of: Vec<usize>,
    groups: Vec<Labels>,
}

enum Input<'e> {
    Selector(&'e VectorSelector),
    Range(&'static str, &'e MatrixSelector),
}

fn input(expr: &Expr) -> Option<Input<'_>> {
    match unwrap_parens(expr) {
        Expr::VectorSelector(vs) => Some(Input::Selector(vs)),
        Expr::Call(c) if c.args.args.len() == 1 => {
            let name = match c.func.name {
                "rate" => "rate",
                "increase" => "increase",
                "delta" => "delta",
                "irate" => "irate",
                "idelta" => "idelta",
                _ => return None,
            };
            match unwrap_parens(&c.args.args[0]) {
                Expr::MatrixSelector(ms) => Some(Input::Range(name, ms)),
                _ => None,
            }
        }
        _ => None,
    }
}

/// Evaluates `a` at `t` on the fast path, or `None` when it does not apply.
pub(super) fn aggregate(
    ev: &mut Evaluator<'_>,
    a: &AggregateExpr,
    op: AggregateOp,
    t: i64,
) -> Option<Result<Val, QueryError>> {
    if !matches!(op, AggregateOp::Sum | AggregateOp::Avg | AggregateOp::Count) || a.param.is_some()
    {
        return None;
    }
    let input = input(&a.expr)?;
    let grouping = match &a.modifier {
        None => Grouping::By(Vec::new()),
        Some(LabelModifier::Include(l)) => Grouping::By(l.labels.clone()),
        Some(LabelModifier::Exclude(l)) => Grouping::Without(l.labels.clone()),
    };
    let vs = match input {
        Input::Selector(vs) => vs,
        Input::Range(_, ms) => {
            // Functions only mark the name; grouping by it needs the marks.
            if matches!(&grouping, Grouping::By(names) if names.iter().any(|n| n == METRIC_NAME)) {
                return None;
            }
            &ms.vs
        }
    };
    let data_key = select::key(vs);
    let plan_key = std::ptr::from_ref(a) as usize;
    if !ev.plans.contains_key(&plan_key) {
        let data = ev.data.get(&data_key).map(Vec::as_slice).unwrap_or(&[]);
        let mut index: HashMap<Labels, usize> = HashMap::new();
        let mut groups = Vec::new();
        let group_of = data
            .iter()
            .map(|s| {
                let g = grouping.group_labels(&s.labels);
                *index.entry(g.clone()).or_insert_with(|| {
                    groups.push(g);
                    groups.len() - 1
                })
            })
            .collect();
        ev.plans.insert(plan_key, Plan { group_of, groups });
    }
    let plan = ev.plans.get(&plan_key)?;
    let data = ev.data.get(&data_key).map(Vec::as_slice).unwrap_or(&[]);
    let mut values: Vec<Vec<f64>> = vec![Vec::new(); plan.groups.len()];
    let mut order: Vec<usize> = Vec::new();
    let (at, offset) = (&vs.at, select::offset_ms(&vs.offset));
    let te = ev.pinned(at, t) - offset;
    for (i, s) in data.iter().enumerate() {
        let value = match input {
            Input::Selector(_) => select::instant_sample(s, te, ev.bounds.lookback).map(|(_, v)| v),
            Input::Range(f, ms) => {
                let r = select::duration_ms(ms.range);
                let w = select::window(s, te, r);
                match f {
                    "rate" => range::extrapolated_delta(&w, te - r, te, true, true),
                    "increase" => range::extrapolated_delta(&w, te - r, te, true, false),
                    "delta" => range::extrapolated_delta(&w, te - r, te, false, false),
                    "irate" => range::instant_delta(&w, true),
                    _ => range::instant_delta(&w, false),
                }
            }
        };
        let (Some(v), Some(&g)) = (value, plan.group_of.get(i)) else {
            continue;
        };
        let Some(bucket) = values.get_mut(g) else {
            continue;
        };
        if bucket.is_empty() {
            order.push(g);
        }
        bucket.push(v);
    }
    let mut out = Vec::with_capacity(order.len());
    for g in order {
        let (Some(vals), Some(labels)) = (values.get_mut(g), plan.groups.get(g)) else {
            continue;
        };
        let vals = std::mem::take(vals);
        let value = match op {
            AggregateOp::Sum => {
                let mut k = KahanSum::default();
                vals.iter().for_each(|&v| k.add(v));
                k.value()
            }
            AggregateOp::Avg => prometheus_mean(vals),
            _ => vals.len() as f64,
        };
        out.push(Sample::new(labels.clone(), value));
    }
    Some(Ok(Val::Vector(out, Drops::None)))
}
