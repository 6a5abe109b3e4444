//! Loading the data of every selector once per query: which time range each
//! selector needs, reading it from storage, and picking samples per step.

use std::collections::HashMap;
use std::time::UNIX_EPOCH;

use model::{Labels, METRIC_NAME, MatchOp, Matcher};
use promql_parser::label::MatchOp as PMatchOp;
use promql_parser::parser::{AtModifier, Expr, Offset, VectorSelector};
use tsdb::Queryable;

use crate::QueryError;
use crate::value::{Point, RangeSeries};

/// The staleness marker: a NaN with these exact bits ends a series.
pub(crate) const STALE_NAN: u64 = 0x7ff0_0000_0000_0002;

pub(crate) fn is_stale(v: f64) -> bool {
    v.to_bits() == STALE_NAN
}

/// One series of a selector, decoded: timestamps and values side by side.
#[derive(Debug)]
pub(crate) struct Loaded {
    pub(crate) labels: Labels,
    pub(crate) ts: Vec<i64>,
    pub(crate) vs: Vec<f64>,
}

/// Identifies a selector node of the query's AST for the query's lifetime.
pub(crate) fn key(vs: &VectorSelector) -> usize {
    std::ptr::from_ref(vs) as usize
}

/// Bound on every time and duration the engine computes with (about
/// 142,000 years in milliseconds), so that sums of a few never overflow.
const TIME_LIMIT: i64 = 1 << 52;

/// Milliseconds of a duration, clamped to [`TIME_LIMIT`].
pub(crate) fn duration_ms(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_millis())
        .unwrap_or(TIME_LIMIT)
        .min(TIME_LIMIT)
}

/// Milliseconds of an `offset` (negative for `offset -5m`).
pub(crate) fn offset_ms(offset: &Option<Offset>) -> i64 {
    match offset {
        None => 0,
        Some(Offset::Pos(d)) => duration_ms(*d),
        Some(Offset::Neg(d)) => -duration_ms(*d),
    }
}

/// The time an `@` modifier pins evaluation to.
pub(crate) fn at_ms(at: &AtModifier, start: i64, end: i64) -> i64 {
    match at {
        AtModifier::Start => start,
        AtModifier::End => end,
        AtModifier::At(time) => match time.duration_since(UNIX_EPOCH) {
            Ok(d) => duration_ms(d),
            Err(e) => -duration_ms(e.duration()),
        },
    }
}

/// The selector's matchers as storage matchers: one list per alternative
/// (`{a="1" or b="2"}` has two).
pub(crate) fn matchers(vs: &VectorSelector) -> Result<Vec<Vec<Matcher>>, QueryError> {
    let convert = |list: &[promql_parser::label::Matcher]| -> Result<Vec<Matcher>, QueryError> {
        let mut out = Vec::with_capacity(list.len() + 1);
        for m in list {
            let op = match m.op {
                PMatchOp::Equal => MatchOp::Equal,
                PMatchOp::NotEqual => MatchOp::NotEqual,
                PMatchOp::Re(_) => MatchOp::Regex,
                PMatchOp::NotRe(_) => MatchOp::NotRegex,
            };
            out.push(
                Matcher::new(op, m.name.clone(), m.value.clone())
                    .map_err(|e| QueryError::BadData(e.to_string()))?,
            );
        }
        if let Some(name) = &vs.name {
            if !out
                .iter()
                .any(|m| m.name == METRIC_NAME && m.op == MatchOp::Equal)
            {
                out.push(
                    Matcher::new(MatchOp::Equal, METRIC_NAME, name.clone())
                        .map_err(|e| QueryError::BadData(e.to_string()))?,
                );
            }
        }
        Ok(out)
    };
    let mut all = Vec::new();
    if !vs.matchers.matchers.is_empty() || vs.matchers.or_matchers.is_empty() {
        all.push(convert(&vs.matchers.matchers)?);
    }
    for alt in &vs.matchers.or_matchers {
        all.push(convert(alt)?);
    }
    Ok(all)
}

/// Time bounds of the query, for resolving `@ start()` / `@ end()`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Bounds {
    pub(crate) start: i64,
    pub(crate) end: i64,
    pub(crate) lookback: i64,
    pub(crate) default_step: i64,
}

/// Records, for each selector under `expr`, the widest `[mint, maxt]` it
/// reads when `expr` is evaluated at times in `[s, e]`.
pub(crate) fn plan<'a>(
    expr: &'a Expr,
    s: i64,
    e: i64,
    b: Bounds,
    out: &mut HashMap<usize, (i64, i64, &'a VectorSelector)>,
) {
    let mut note = |vs: &'a VectorSelector, lo: i64, hi: i64| {
        let entry = out.entry(key(vs)).or_insert((lo, hi, vs));
        entry.0 = entry.0.min(lo);
        entry.1 = entry.1.max(hi);
    };
    let pin = |at: &Option<AtModifier>, s: i64, e: i64| match at {
        Some(at) => {
            let t = at_ms(at, b.start, b.end);
            (t, t)
        }
        None => (s, e),
    };
    match expr {
        Expr::VectorSelector(vs) => {
            let (s, e) = pin(&vs.at, s, e);
            let off = offset_ms(&vs.offset);
            note(vs, s - off - b.lookback, e - off);
        }
        Expr::MatrixSelector(ms) => {
            let (s, e) = pin(&ms.vs.at, s, e);
            let off = offset_ms(&ms.vs.offset);
            note(&ms.vs, s - off - duration_ms(ms.range), e - off);
        }
        Expr::Subquery(sq) => {
            let (s, e) = pin(&sq.at, s, e);
            let off = offset_ms(&sq.offset);
            plan(&sq.expr, s - off - duration_ms(sq.range), e - off, b, out);
        }
        Expr::Aggregate(a) => {
            plan(&a.expr, s, e, b, out);
            if let Some(p) = &a.param {
                plan(p, s, e, b, out);
            }
        }
        Expr::Unary(u) => plan(&u.expr, s, e, b, out),
        Expr::Binary(bin) => {
            plan(&bin.lhs, s, e, b, out);
            plan(&bin.rhs, s, e, b, out);
        }
        Expr::Paren(p) => plan(&p.expr, s, e, b, out),
        Expr::Call(c) => {
            for arg in &c.args.args {
                plan(arg, s, e, b, out);
            }
        }
        Expr::NumberLiteral(_) | Expr::StringLiteral(_) | Expr::Extension(_) => {}
    }
}

/// Reads the series of one selector over `[mint, maxt]`, counting samples
/// against `budget`.
pub(crate) fn load(
    storage: &dyn Queryable,
    vs: &VectorSelector,
    mint: i64,
    maxt: i64,
    budget: &mut usize,
) -> Result<Vec<Loaded>, QueryError> {
    let querier = storage.querier(mint, maxt)?;
    let mut out: Vec<Loaded> = Vec::new();
    let mut seen: std::collections::HashSet<Labels> = std::collections::HashSet::new();
    for alt in matchers(vs)? {
        for series in querier.select(&alt)? {
            if !seen.insert(series.labels().clone()) {
                continue;
            }
            let mut ts = Vec::new();
            let mut vs = Vec::new();
            for (t, v) in series.samples() {
                if t < mint || t > maxt {
                    continue;
                }
                ts.push(t);
                vs.push(v);
            }
            if *budget < ts.len() {
                return Err(QueryError::TooManySamples);
            }
            *budget -= ts.len();
            out.push(Loaded {
                labels: series.labels().clone(),
                ts,
                vs,
            });
        }
    }
    Ok(out)
}

/// The sample an instant selector sees at `t`: the newest in
/// `(t - lookback, t]`, unless it is a staleness marker.
pub(crate) fn instant_sample(series: &Loaded, t: i64, lookback: i64) -> Option<(i64, f64)> {
    let i = series.ts.partition_point(|&x| x <= t);
    if i == 0 {
        return None;
    }
    let (st, sv) = (series.ts[i - 1], series.vs[i - 1]);
    if st <= t - lookback || is_stale(sv) {
        return None;
    }
    Some((st, sv))
}

/// The samples of `(t - range, t]`, without staleness markers.
pub(crate) fn window(series: &Loaded, t: i64, range: i64) -> Vec<Point> {
    let lo = series.ts.partition_point(|&x| x <= t - range);
    let hi = series.ts.partition_point(|&x| x <= t);
    let mut out = Vec::with_capacity(hi.saturating_sub(lo));
    for i in lo..hi {
        let v = series.vs[i];
        if !is_stale(v) {
            out.push(Point { t: series.ts[i], v });
        }
    }
    out
}

/// A range vector's series from loaded data.
pub(crate) fn range_vector(data: &[Loaded], t: i64, range: i64) -> Vec<RangeSeries> {
    data.iter()
        .filter_map(|s| {
            let points = window(s, t, range);
            (!points.is_empty()).then(|| RangeSeries {
                labels: s.labels.clone(),
                points,
            })
        })
        .collect()
}
