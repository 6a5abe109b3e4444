//! Loading the data of every selector once per query: which time range each
//! selector needs, reading it from storage, and picking samples per step.

use std::borrow::Cow;
use std::cell::Cell;
use std::collections::HashMap;
use std::time::UNIX_EPOCH;

use model::staleness::is_stale_nan;
use model::{Labels, METRIC_NAME, MatchOp, Matcher, ModelError};
use promql_parser::label::MatchOp as PMatchOp;
use promql_parser::parser::{AtModifier, Expr, Offset, VectorSelector};
use tsdb::Queryable;

use crate::QueryError;
use crate::value::{Point, RangeSeries};

/// One series of a selector, decoded.
#[derive(Debug)]
pub(crate) struct Loaded {
    pub(crate) labels: Labels,
    pub(crate) points: Vec<Point>,
    /// Whether any point is a staleness marker (windows must then be
    /// filtered rather than borrowed).
    pub(crate) has_stale: bool,
    /// Where the last lookup ended: steps move forward a point or two at a
    /// time, so searching from here beats a binary search that misses the
    /// cache on every probe.
    cursor: Cell<usize>,
}

/// How far a lookup walks from the cursor before it falls back to a
/// binary search.
const WALK: usize = 8;

impl Loaded {
    /// The number of points with `t <= at`.
    fn upto(&self, at: i64) -> usize {
        let points = &self.points;
        let c = self.cursor.get().min(points.len());
        let found = if c == 0 || points[c - 1].t <= at {
            let mut i = c;
            while i < points.len() && i - c < WALK && points[i].t <= at {
                i += 1;
            }
            if i < points.len() && points[i].t <= at {
                i + points[i..].partition_point(|p| p.t <= at)
            } else {
                i
            }
        } else {
            points[..c].partition_point(|p| p.t <= at)
        };
        self.cursor.set(found);
        found
    }

    /// The number of points with `t <= at`, knowing it is at most `hi`
    /// (walks back from `hi`, for the start of a short window).
    fn upto_before(&self, at: i64, hi: usize) -> usize {
        let points = &self.points[..hi];
        let mut i = hi;
        while i > 0 && hi - i < WALK && points[i - 1].t > at {
            i -= 1;
        }
        if i == 0 || points[i - 1].t <= at {
            return i;
        }
        // Longer windows: gallop back in doubling strides, then search the
        // bracket; `points[upper - 1]` is always past `at`.
        let (mut upper, mut stride) = (i, WALK);
        loop {
            let probe = upper.saturating_sub(stride);
            if probe == 0 || points[probe - 1].t <= at {
                return probe + points[probe..upper].partition_point(|p| p.t <= at);
            }
            upper = probe;
            stride *= 2;
        }
    }
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

/// The matchers of a parsed selector as storage matchers: one list per
/// alternative (`{a="1" or b="2"}` has two), the metric name written
/// before the braces last, as Prometheus' parser appends it. The one
/// conversion from `promql-parser`'s matchers: the engine selects with it
/// and the HTTP API reads `match[]` with it.
pub fn selector_matchers(vs: &VectorSelector) -> Result<Vec<Vec<Matcher>>, ModelError> {
    let convert = |list: &[promql_parser::label::Matcher]| -> Result<Vec<Matcher>, ModelError> {
        let mut out = Vec::with_capacity(list.len() + 1);
        for m in list {
            let op = match m.op {
                PMatchOp::Equal => MatchOp::Equal,
                PMatchOp::NotEqual => MatchOp::NotEqual,
                PMatchOp::Re(_) => MatchOp::Regex,
                PMatchOp::NotRe(_) => MatchOp::NotRegex,
            };
            out.push(Matcher::new(op, m.name.clone(), m.value.clone())?);
        }
        if let Some(name) = &vs.name {
            if !out
                .iter()
                .any(|m| m.name == METRIC_NAME && m.op == MatchOp::Equal)
            {
                out.push(Matcher::new(MatchOp::Equal, METRIC_NAME, name.clone())?);
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

/// [`selector_matchers`] with the error a query reports.
pub(crate) fn matchers(vs: &VectorSelector) -> Result<Vec<Vec<Matcher>>, QueryError> {
    selector_matchers(vs).map_err(|e| QueryError::BadData(e.to_string()))
}

/// Time bounds of the query, for resolving `@ start()` / `@ end()`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Bounds {
    pub(crate) start: i64,
    pub(crate) end: i64,
    pub(crate) lookback: i64,
    pub(crate) default_step: i64,
}

/// What a query reads of one selector: the widest `[mint, maxt]` over all
/// its evaluations, and whether it is read as a range (whose windows never
/// include staleness markers).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Need<'a> {
    pub(crate) mint: i64,
    pub(crate) maxt: i64,
    pub(crate) selector: &'a VectorSelector,
    pub(crate) as_range: bool,
}

/// Records, for each selector under `expr`, what it reads when `expr` is
/// evaluated at times in `[s, e]`.
pub(crate) fn plan<'a>(
    expr: &'a Expr,
    s: i64,
    e: i64,
    b: Bounds,
    out: &mut HashMap<usize, Need<'a>>,
) {
    let mut note = |vs: &'a VectorSelector, lo: i64, hi: i64, as_range: bool| {
        let entry = out.entry(key(vs)).or_insert(Need {
            mint: lo,
            maxt: hi,
            selector: vs,
            as_range,
        });
        entry.mint = entry.mint.min(lo);
        entry.maxt = entry.maxt.max(hi);
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
            note(vs, s - off - b.lookback, e - off, false);
        }
        Expr::MatrixSelector(ms) => {
            let (s, e) = pin(&ms.vs.at, s, e);
            let off = offset_ms(&ms.vs.offset);
            note(&ms.vs, s - off - duration_ms(ms.range), e - off, true);
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

/// Reads the series of one selector, counting samples against `budget`.
/// A selector read as a range loses its staleness markers here, once,
/// rather than in every window.
pub(crate) fn load(
    storage: &dyn Queryable,
    need: &Need<'_>,
    budget: &mut usize,
) -> Result<Vec<Loaded>, QueryError> {
    let (mint, maxt) = (need.mint, need.maxt);
    let querier = storage.querier(mint, maxt)?;
    let mut out: Vec<Loaded> = Vec::new();
    let alternatives = matchers(need.selector)?;
    // `{a="1" or b="2"}` may select a series twice.
    let mut seen: std::collections::HashSet<Labels> = std::collections::HashSet::new();
    for alt in &alternatives {
        for series in querier.select(alt)? {
            if alternatives.len() > 1 && !seen.insert(series.labels().clone()) {
                continue;
            }
            let mut points = Vec::with_capacity(series.samples_upper_bound());
            points.extend(
                series
                    .samples()
                    .filter(|&(t, v)| t >= mint && t <= maxt && !(need.as_range && is_stale_nan(v)))
                    .map(|(t, v)| Point { t, v }),
            );
            if *budget < points.len() {
                return Err(QueryError::TooManySamples);
            }
            *budget -= points.len();
            out.push(Loaded {
                labels: series.labels().clone(),
                has_stale: points.iter().any(|p| is_stale_nan(p.v)),
                points,
                cursor: Cell::new(0),
            });
        }
    }
    Ok(out)
}

/// The sample an instant selector sees at `t`: the newest in
/// `(t - lookback, t]`, unless it is a staleness marker.
pub(crate) fn instant_sample(series: &Loaded, t: i64, lookback: i64) -> Option<(i64, f64)> {
    let i = series.upto(t);
    let p = series.points.get(i.checked_sub(1)?)?;
    if p.t <= t - lookback || is_stale_nan(p.v) {
        return None;
    }
    Some((p.t, p.v))
}

/// The samples of `(t - range, t]`, without staleness markers; borrowed
/// when the series has none.
pub(crate) fn window(series: &Loaded, t: i64, range: i64) -> Cow<'_, [Point]> {
    let hi = series.upto(t);
    let lo = series.upto_before(t - range, hi);
    let slice = &series.points[lo..hi];
    if series.has_stale {
        Cow::Owned(
            slice
                .iter()
                .copied()
                .filter(|p| !is_stale_nan(p.v))
                .collect(),
        )
    } else {
        Cow::Borrowed(slice)
    }
}

/// A range vector's series from loaded data.
pub(crate) fn range_vector(data: &[Loaded], t: i64, range: i64) -> Vec<RangeSeries> {
    data.iter()
        .filter_map(|s| {
            let points = window(s, t, range);
            (!points.is_empty()).then(|| RangeSeries {
                labels: s.labels.clone(),
                points: points.into_owned(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loaded(ts: &[i64]) -> Loaded {
        Loaded {
            labels: Labels::empty(),
            points: ts.iter().map(|&t| Point { t, v: t as f64 }).collect(),
            has_stale: false,
            cursor: Cell::new(0),
        }
    }

    /// The cursor search must agree with a plain binary search whatever the
    /// order of lookups.
    #[test]
    fn cursor_search_matches_binary_search() {
        let ts: Vec<i64> = (0..200).map(|i| i * 15 + (i % 3)).collect();
        let s = loaded(&ts);
        let probes = (0..400).map(|k| (k * 7919) % 3100 - 50).chain(0..3100);
        for at in probes {
            let want = ts.partition_point(|&t| t <= at);
            assert_eq!(s.upto(at), want, "upto({at})");
            for range in [1, 15, 60, 1000, 5000] {
                let lo = ts.partition_point(|&t| t <= at - range);
                assert_eq!(
                    s.upto_before(at - range, want),
                    lo,
                    "upto_before({at}, {range})"
                );
            }
        }
    }

    /// The storage matchers of a selector, one string per alternative.
    fn converted(text: &str) -> Result<Vec<String>, String> {
        let Ok(Expr::VectorSelector(vs)) = promql_parser::parser::parse(text) else {
            return Err(format!("{text} is not a selector"));
        };
        let sets = selector_matchers(&vs).map_err(|e| e.to_string())?;
        Ok(sets
            .iter()
            .map(|set| {
                set.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .collect())
    }

    #[test]
    fn selectors_become_storage_matchers() {
        for (text, want) in [
            ("up", vec![r#"__name__="up""#]),
            (
                r#"up{job=~"a.*", instance!="x"}"#,
                vec![r#"job=~"a.*",instance!="x",__name__="up""#],
            ),
            (
                r#"{__name__="up", a!~"b"}"#,
                vec![r#"__name__="up",a!~"b""#],
            ),
            (
                r#"up{a="1" or b="2"}"#,
                vec![r#"a="1",__name__="up""#, r#"b="2",__name__="up""#],
            ),
        ] {
            assert_eq!(converted(text).unwrap(), want, "{text}");
        }
    }
}
