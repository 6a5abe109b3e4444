//! Fast paths for the dashboards' commonest shapes: `sum`, `avg` or `count`
//! (with or without `by`/`without`) straight over a selector, or over
//! `rate`/`irate`/`increase`/`delta`/`idelta` of a matrix selector; and
//! arithmetic between two selectors.
//!
//! The general path clones every series' labels at every step only for the
//! aggregation to throw them away; here each series' group is found once
//! per query and steps only touch numbers. The numerics are the same calls
//! (`model::algebra`'s compensated sums and mean, `functions::range`'s
//! extrapolation) in the same order as the general path, so results are
//! identical, which the conformance suite checks through both paths.
//!
//! Both name-removal modes give the general path's results: arithmetic
//! drops the name in the algebra either way; an aggregation over a
//! function leaves `by (__name__)` and inputs whose series differ by name
//! alone (which collide when the name goes at once) to the general path.

use std::collections::HashMap;

use model::algebra::{
    AggregateOp, BinaryOp, Cardinality, Grouping, KahanSum, Sample, VectorMatching,
    prometheus_mean, scalar_binop, vector_binop,
};
use model::{Labels, METRIC_NAME};
use promql_parser::parser::{
    AggregateExpr, BinaryExpr, Expr, LabelModifier, MatrixSelector, VectorSelector,
};

use super::operators::unwrap_parens;
use super::{Drops, Evaluator, Val, select};
use crate::QueryError;
use crate::functions::{counter_info, looks_like_counter, range};

/// Which series fall in which group, computed once per aggregation.
#[derive(Debug)]
pub(super) struct Plan {
    group_of: Vec<usize>,
    groups: Vec<Labels>,
    /// Whether two input series differ by their name alone. A function
    /// that drops names at once (no delayed removal) makes such series
    /// collide, an error only the general path reports, and only at the
    /// steps where both have a value.
    names_collide: bool,
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
            // After a function, `by (__name__)` reads the name marks
            // (delayed removal) or finds no name at all: the general path
            // knows both.
            if matches!(&grouping, Grouping::By(names) if names.iter().any(|n| n == METRIC_NAME)) {
                return None;
            }
            &ms.vs
        }
    };
    let drops_name_now = matches!(input, Input::Range(..)) && !ev.delays_name_removal();
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
        let names_collide = drops_name_now && {
            let mut seen = std::collections::HashSet::with_capacity(data.len());
            !data.iter().all(|s| {
                let mut unnamed = s.labels.clone();
                unnamed.remove(METRIC_NAME);
                seen.insert(unnamed)
            })
        };
        ev.plans.insert(
            plan_key,
            Plan {
                group_of,
                groups,
                names_collide,
            },
        );
    }
    let plan = ev.plans.get(&plan_key)?;
    if plan.names_collide {
        return None;
    }
    if let Input::Range(f, ms) = input {
        // A range query over many series: compute every step of the query
        // at the first one, series by series (see `by_series`).
        if op != AggregateOp::Avg
            && ev.step > 0
            && t == ev.bounds.start
            && !ev.by_series.contains_key(&plan_key)
        {
            let steps = match by_series(ev, plan_key, data_key, f, ms, op) {
                Ok(steps) => steps,
                Err(e) => return Some(Err(e)),
            };
            ev.by_series.insert(plan_key, steps);
        }
        if let Some(steps) = ev.by_series.get_mut(&plan_key) {
            let k = (t - ev.bounds.start) / ev.step.max(1);
            if (t - ev.bounds.start) % ev.step.max(1) == 0 {
                if let Some(out) = usize::try_from(k)
                    .ok()
                    .and_then(|k| steps.get_mut(k))
                    .and_then(Option::take)
                {
                    return Some(Ok(Val::Vector(out, Drops::None)));
                }
            }
        }
    }
    let plan = ev.plans.get(&plan_key)?;
    let data = ev.data.get(&data_key).map(Vec::as_slice).unwrap_or(&[]);
    let mut values: Vec<Vec<f64>> = vec![Vec::new(); plan.groups.len()];
    let mut order: Vec<usize> = Vec::new();
    let mut not_counters: Vec<usize> = Vec::new();
    let (at, offset) = (&vs.at, select::offset_ms(&vs.offset));
    let te = ev.pinned(at, t) - offset;
    for (i, s) in data.iter().enumerate() {
        let value = match input {
            Input::Selector(_) => select::instant_sample(s, te, ev.bounds.lookback).map(|(_, v)| v),
            Input::Range(f, ms) => {
                let r = select::duration_ms(ms.range);
                let w = select::window(s, te, r);
                if matches!(f, "rate" | "increase")
                    && !w.is_empty()
                    && !looks_like_counter(&s.labels)
                {
                    not_counters.push(i);
                }
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
    if let Input::Range(f, _) = input {
        let labels: Vec<Labels> = not_counters
            .iter()
            .filter_map(|&i| data.get(i).map(|s| s.labels.clone()))
            .collect();
        for l in &labels {
            counter_info(ev, f, l);
        }
    }
    let plan = ev.plans.get(&plan_key)?;
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

/// `sum`/`count` of a `rate`-like function at every step of the range
/// query, computed series by series: each series' points are read once,
/// while they are in the CPU's cache, instead of once per step across all
/// series (which, over tens of thousands of series, misses the cache at
/// every step). Each step's groups add their series' values in series
/// order, as the step-by-step path does, so the sums are the same to the
/// bit; the "not a counter" infos come in the same order too.
fn by_series(
    ev: &mut Evaluator<'_>,
    plan_key: usize,
    data_key: usize,
    f: &str,
    ms: &MatrixSelector,
    op: AggregateOp,
) -> Result<Vec<Option<model::algebra::Vector>>, QueryError> {
    let (start, end, step) = (ev.bounds.start, ev.bounds.end, ev.step.max(1));
    let n_steps = usize::try_from((end - start) / step + 1).unwrap_or(0);
    let Some(plan) = ev.plans.get(&plan_key) else {
        return Ok(Vec::new());
    };
    let data = ev.data.get(&data_key).map(Vec::as_slice).unwrap_or(&[]);
    let offset = select::offset_ms(&ms.vs.offset);
    let r = select::duration_ms(ms.range);
    let n_groups = plan.groups.len();
    // Per step and group: the compensated sum and the count; per step, the
    // groups in the order they first got a value.
    let mut sums = vec![KahanSum::default(); n_steps * n_groups];
    let mut counts = vec![0usize; n_steps * n_groups];
    let mut order: Vec<Vec<usize>> = vec![Vec::new(); n_steps];
    // (first step, series) of each series that does not look like a counter.
    let mut not_counters: Vec<(usize, usize)> = Vec::new();
    let counter_check = matches!(f, "rate" | "increase");
    for (i, s) in data.iter().enumerate() {
        if i % 1024 == 1023 {
            ev.check_deadline()?;
        }
        let Some(&g) = plan.group_of.get(i) else {
            continue;
        };
        let is_counter = !counter_check || looks_like_counter(&s.labels);
        let mut flagged = false;
        for (k, groups_seen) in order.iter_mut().enumerate() {
            let t = start + k as i64 * step;
            let te = ev.pinned(&ms.vs.at, t) - offset;
            let w = select::window(s, te, r);
            if !is_counter && !flagged && !w.is_empty() {
                not_counters.push((k, i));
                flagged = true;
            }
            let value = match f {
                "rate" => range::extrapolated_delta(&w, te - r, te, true, true),
                "increase" => range::extrapolated_delta(&w, te - r, te, true, false),
                "delta" => range::extrapolated_delta(&w, te - r, te, false, false),
                "irate" => range::instant_delta(&w, true),
                _ => range::instant_delta(&w, false),
            };
            let Some(v) = value else { continue };
            let cell = k * n_groups + g;
            if counts[cell] == 0 {
                groups_seen.push(g);
            }
            counts[cell] += 1;
            sums[cell].add(v);
        }
    }
    not_counters.sort_unstable();
    let labels: Vec<Labels> = not_counters
        .iter()
        .filter_map(|&(_, i)| data.get(i).map(|s| s.labels.clone()))
        .collect();
    let groups = plan.groups.clone();
    for l in &labels {
        counter_info(ev, f, l);
    }
    Ok(order
        .into_iter()
        .enumerate()
        .map(|(k, groups_in_order)| {
            Some(
                groups_in_order
                    .into_iter()
                    .map(|g| {
                        let cell = k * n_groups + g;
                        let value = match op {
                            AggregateOp::Sum => sums[cell].value(),
                            _ => counts[cell] as f64,
                        };
                        Sample::new(groups[g].clone(), value)
                    })
                    .collect(),
            )
        })
        .collect())
}

/// Which left series pairs with which right series, and the result's
/// labels, computed once per binary expression.
#[derive(Debug)]
pub(super) struct Pairs {
    pairs: Vec<(usize, usize, Labels)>,
}

/// Arithmetic between two plain selectors (`a_sum / a_count`), the other
/// shape dashboards repeat over many series. Applies only when every match
/// group holds one series per side over the whole query, so that no step
/// can hit a matching error; the result's labels come from the shared
/// algebra applied once per pair, and values from `scalar_binop`.
pub(super) fn binary(
    ev: &mut Evaluator<'_>,
    b: &BinaryExpr,
    op: BinaryOp,
    matching: &VectorMatching,
    t: i64,
) -> Option<Result<Val, QueryError>> {
    let arithmetic = !op.is_comparison() && !op.is_set();
    if !arithmetic || matching.card != Cardinality::OneToOne {
        return None;
    }
    let (Expr::VectorSelector(lvs), Expr::VectorSelector(rvs)) =
        (unwrap_parens(&b.lhs), unwrap_parens(&b.rhs))
    else {
        return None;
    };
    let key = std::ptr::from_ref(b) as usize;
    if !ev.pairs.contains_key(&key) {
        let plan = pair_up(
            ev.data
                .get(&select::key(lvs))
                .map(Vec::as_slice)
                .unwrap_or(&[]),
            ev.data
                .get(&select::key(rvs))
                .map(Vec::as_slice)
                .unwrap_or(&[]),
            op,
            matching,
        );
        ev.pairs.insert(key, plan);
    }
    let plan = ev.pairs.get(&key)?.as_ref()?;
    let lhs = ev
        .data
        .get(&select::key(lvs))
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    let rhs = ev
        .data
        .get(&select::key(rvs))
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    let lt = ev.pinned(&lvs.at, t) - select::offset_ms(&lvs.offset);
    let rt = ev.pinned(&rvs.at, t) - select::offset_ms(&rvs.offset);
    let lookback = ev.bounds.lookback;
    let mut out = Vec::new();
    for (li, ri, labels) in &plan.pairs {
        let (Some(l), Some(r)) = (lhs.get(*li), rhs.get(*ri)) else {
            continue;
        };
        let (Some((_, lv)), Some((_, rv))) = (
            select::instant_sample(l, lt, lookback),
            select::instant_sample(r, rt, lookback),
        ) else {
            continue;
        };
        out.push(Sample::new(labels.clone(), scalar_binop(op, lv, rv)));
    }
    Some(Ok(Val::Vector(out, Drops::None)))
}

fn pair_up(
    lhs: &[select::Loaded],
    rhs: &[select::Loaded],
    op: BinaryOp,
    matching: &VectorMatching,
) -> Option<Pairs> {
    let mut right: HashMap<Labels, usize> = HashMap::new();
    for (i, s) in rhs.iter().enumerate() {
        if right
            .insert(matching.match_signature(&s.labels), i)
            .is_some()
        {
            return None;
        }
    }
    let mut seen = std::collections::HashSet::new();
    let mut pairs = Vec::new();
    for (i, s) in lhs.iter().enumerate() {
        let sig = matching.match_signature(&s.labels);
        let Some(&j) = right.get(&sig) else {
            continue;
        };
        if !seen.insert(sig) {
            return None;
        }
        let r = rhs.get(j)?;
        let one = vector_binop(
            op,
            vec![Sample::new(s.labels.clone(), 1.0)],
            vec![Sample::new(r.labels.clone(), 1.0)],
            matching,
            false,
        )
        .ok()?;
        let [result] = one.as_slice() else {
            return None;
        };
        pairs.push((i, j, result.labels.clone()));
    }
    Some(Pairs { pairs })
}
