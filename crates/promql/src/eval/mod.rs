//! Step-wise evaluation of a parsed query: [`Evaluator`] evaluates any
//! expression at one timestamp over data loaded once per query.

mod fast;
mod operators;
pub(crate) mod position;
pub(crate) mod select;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::Ordering;
use std::time::Instant;

use model::algebra::{Sample, Vector};
use model::{Labels, METRIC_NAME};
use promql_parser::parser::Expr;
use tsdb::Queryable;

use crate::QueryError;
use crate::engine::CancelFlag;
use crate::value::{Annotations, Matrix, Point, RangeSeries};
pub(crate) use operators::unwrap_parens;
use select::{Bounds, Loaded};

/// An intermediate value during evaluation.
#[derive(Debug, Clone)]
pub(crate) enum Val {
    /// A number.
    Scalar(f64),
    /// A string.
    Str(String),
    /// An instant vector, and which of its samples lose their metric name
    /// at the end.
    Vector(Vector, Drops),
    /// A range vector over the window `(start, end]`.
    Range {
        series: Matrix,
        start: i64,
        end: i64,
        drops: Drops,
    },
}

/// Which samples lose their metric name. With Prometheus 3's delayed name
/// removal, functions and operators that drop the name only mark it, so
/// that `label_replace` and `by (__name__)` can still read it; marked names
/// are removed when the result is complete ([`finalize`]). Without it,
/// [`Evaluator::drop_names`] finalizes at once, so no value ever carries a
/// mark.
#[derive(Debug, Clone, Default)]
pub(crate) enum Drops {
    /// No sample is marked.
    #[default]
    None,
    /// Every sample is marked.
    All,
    /// The samples with these labels are marked.
    Some(HashSet<Labels>),
}

impl Drops {
    pub(crate) fn contains(&self, labels: &Labels) -> bool {
        match self {
            Drops::None => false,
            Drops::All => true,
            Drops::Some(set) => set.contains(labels),
        }
    }

    /// The marked label sets among `v`.
    pub(crate) fn to_set(&self, v: &Vector) -> HashSet<Labels> {
        match self {
            Drops::None => HashSet::new(),
            Drops::All => v.iter().map(|s| s.labels.clone()).collect(),
            Drops::Some(set) => set.clone(),
        }
    }

    pub(crate) fn from_set(set: HashSet<Labels>) -> Self {
        if set.is_empty() {
            Drops::None
        } else {
            Drops::Some(set)
        }
    }
}

/// Removes the marked metric names and checks that no two series are left
/// with the same labels.
pub(crate) fn finalize(mut v: Vector, drops: &Drops) -> Result<Vector, QueryError> {
    if matches!(drops, Drops::None) {
        return Ok(v);
    }
    for s in &mut v {
        if drops.contains(&s.labels) {
            s.labels.remove(METRIC_NAME);
        }
    }
    check_unique(&v)?;
    Ok(v)
}

/// [`finalize`] for the series of a range vector.
pub(crate) fn finalize_matrix(mut m: Matrix, drops: &Drops) -> Result<Matrix, QueryError> {
    if matches!(drops, Drops::None) {
        return Ok(m);
    }
    for s in &mut m {
        if drops.contains(&s.labels) {
            s.labels.remove(METRIC_NAME);
        }
    }
    let mut seen = HashSet::with_capacity(m.len());
    if !m.iter().all(|s| seen.insert(&s.labels)) {
        return Err(QueryError::Execution(
            "vector cannot contain metrics with the same labelset".into(),
        ));
    }
    Ok(m)
}

/// Per-query limits and settings.
#[derive(Debug, Clone)]
pub(crate) struct Limits {
    pub(crate) lookback: i64,
    pub(crate) default_step: i64,
    pub(crate) max_samples: usize,
    pub(crate) deadline: Instant,
    pub(crate) cancel: Option<CancelFlag>,
    /// [`crate::EngineOptions::delayed_name_removal`].
    pub(crate) delayed_name_removal: bool,
}

/// Evaluates one query.
pub(crate) struct Evaluator<'q> {
    pub(crate) query: &'q str,
    pub(crate) bounds: Bounds,
    /// Step of the range query (0 for instant queries).
    pub(crate) step: i64,
    limits: Limits,
    budget: usize,
    data: HashMap<usize, Vec<Loaded>>,
    /// Group plans of fast-path aggregations, by AST node.
    plans: HashMap<usize, fast::Plan>,
    /// Results of fast-path aggregations computed for every step of the
    /// range query at once, by AST node; each step's is taken when asked.
    by_series: HashMap<usize, Vec<Option<Vector>>>,
    /// Pairings of fast-path binary operations, by AST node (`None`: the
    /// general path must run).
    pairs: HashMap<usize, Option<fast::Pairs>>,
    pub(crate) annotations: Annotations,
}

impl<'q> Evaluator<'q> {
    pub(crate) fn new(query: &'q str, start: i64, end: i64, step: i64, limits: Limits) -> Self {
        Self {
            query,
            bounds: Bounds {
                start,
                end,
                lookback: limits.lookback,
                default_step: limits.default_step,
            },
            step,
            budget: limits.max_samples,
            limits,
            data: HashMap::new(),
            plans: HashMap::new(),
            by_series: HashMap::new(),
            pairs: HashMap::new(),
            annotations: Annotations::default(),
        }
    }

    /// Reads every selector's data from storage.
    pub(crate) fn load(&mut self, storage: &dyn Queryable, expr: &Expr) -> Result<(), QueryError> {
        let mut plan = HashMap::new();
        select::plan(
            expr,
            self.bounds.start,
            self.bounds.end,
            self.bounds,
            &mut plan,
        );
        for (key, need) in plan {
            self.check_deadline()?;
            let loaded = select::load(storage, &need, &mut self.budget)?;
            self.data.insert(key, loaded);
        }
        Ok(())
    }

    pub(crate) fn into_annotations(self) -> Annotations {
        self.annotations
    }

    /// Fails once the query has run out of time or was canceled.
    pub(crate) fn check_deadline(&self) -> Result<(), QueryError> {
        if let Some(cancel) = &self.limits.cancel {
            if cancel.load(Ordering::Relaxed) {
                return Err(QueryError::Canceled);
            }
        }
        if Instant::now() > self.limits.deadline {
            return Err(QueryError::Timeout);
        }
        Ok(())
    }

    /// Whether dropped metric names are only marked until the end.
    pub(crate) fn delays_name_removal(&self) -> bool {
        self.limits.delayed_name_removal
    }

    /// The result of a function or operator that drops the metric name of
    /// the samples `drops` selects. The one place the two behaviours part:
    /// with delayed removal the names are marked for [`finalize`] at the
    /// end; without, they go now, and series left with the same labels fail
    /// here, at the node that made them collide, as in Prometheus.
    pub(crate) fn drop_names(&self, v: Vector, drops: Drops) -> Result<Val, QueryError> {
        if self.delays_name_removal() {
            Ok(Val::Vector(v, drops))
        } else {
            Ok(Val::Vector(finalize(v, &drops)?, Drops::None))
        }
    }

    /// Counts `n` more samples held against the query's limit.
    pub(crate) fn count_samples(&mut self, n: usize) -> Result<(), QueryError> {
        if self.budget < n {
            return Err(QueryError::TooManySamples);
        }
        self.budget -= n;
        Ok(())
    }

    /// Evaluates `expr` at `t` (milliseconds).
    pub(crate) fn eval(&mut self, expr: &Expr, t: i64) -> Result<Val, QueryError> {
        match expr {
            Expr::NumberLiteral(n) => Ok(Val::Scalar(n.val)),
            Expr::StringLiteral(s) => Ok(Val::Str(s.val.clone())),
            Expr::Paren(p) => self.eval(&p.expr, t),
            Expr::Unary(u) => match self.eval(&u.expr, t)? {
                Val::Scalar(v) => Ok(Val::Scalar(-v)),
                Val::Vector(v, _) => {
                    let out: Vector = v
                        .into_iter()
                        .map(|mut s| {
                            s.value = -s.value;
                            s
                        })
                        .collect();
                    self.drop_names(out, Drops::All)
                }
                _ => Err(QueryError::BadData(
                    "unary expression only allowed on expressions of type scalar or instant vector"
                        .into(),
                )),
            },
            Expr::VectorSelector(vs) => {
                let te = self.pinned(&vs.at, t) - select::offset_ms(&vs.offset);
                let lookback = self.bounds.lookback;
                let data = self
                    .data
                    .get(&select::key(vs))
                    .map(Vec::as_slice)
                    .unwrap_or(&[]);
                let out: Vector = data
                    .iter()
                    .filter_map(|s| {
                        select::instant_sample(s, te, lookback)
                            .map(|(_, v)| Sample::new(s.labels.clone(), v))
                    })
                    .collect();
                Ok(Val::Vector(out, Drops::None))
            }
            Expr::MatrixSelector(ms) => {
                let te = self.pinned(&ms.vs.at, t) - select::offset_ms(&ms.vs.offset);
                let range = select::duration_ms(ms.range);
                let data = self
                    .data
                    .get(&select::key(&ms.vs))
                    .map(Vec::as_slice)
                    .unwrap_or(&[]);
                let series = select::range_vector(data, te, range);
                Ok(Val::Range {
                    series,
                    start: te - range,
                    end: te,
                    drops: Drops::None,
                })
            }
            Expr::Subquery(sq) => {
                let te = self.pinned(&sq.at, t) - select::offset_ms(&sq.offset);
                let range = select::duration_ms(sq.range);
                let step = sq
                    .step
                    .map(select::duration_ms)
                    .filter(|&s| s > 0)
                    .unwrap_or(self.bounds.default_step);
                let mint = te - range;
                // Go's integer division truncates toward zero, and so does Rust's.
                let mut ts = step * (mint / step);
                if ts <= mint {
                    ts += step;
                }
                let mut index: HashMap<Labels, usize> = HashMap::new();
                let mut series: Matrix = Vec::new();
                let mut marked: HashSet<Labels> = HashSet::new();
                while ts <= te {
                    self.check_deadline()?;
                    let samples = match self.eval(&sq.expr, ts)? {
                        Val::Scalar(v) => vec![Sample::new(Labels::empty(), v)],
                        Val::Vector(v, drops) => {
                            for s in &v {
                                if drops.contains(&s.labels) && !marked.contains(&s.labels) {
                                    marked.insert(s.labels.clone());
                                }
                            }
                            v
                        }
                        _ => {
                            return Err(QueryError::BadData(
                                "subquery is only allowed on instant vector or scalar".into(),
                            ));
                        }
                    };
                    self.count_samples(samples.len())?;
                    for s in samples {
                        let point = Point { t: ts, v: s.value };
                        match index.get(&s.labels).and_then(|&i| series.get_mut(i)) {
                            Some(rs) => rs.points.push(point),
                            None => {
                                index.insert(s.labels.clone(), series.len());
                                series.push(RangeSeries {
                                    labels: s.labels,
                                    points: vec![point],
                                });
                            }
                        }
                    }
                    ts += step;
                }
                Ok(Val::Range {
                    series,
                    start: mint,
                    end: te,
                    drops: Drops::from_set(marked),
                })
            }
            Expr::Aggregate(a) => operators::aggregate(self, a, t),
            Expr::Binary(b) => operators::binary(self, b, t),
            Expr::Call(c) => crate::functions::call(self, c, t),
            Expr::Extension(_) => Err(QueryError::BadData(
                "extension expressions are not supported".into(),
            )),
        }
    }

    /// The evaluation time after an `@` modifier.
    pub(crate) fn pinned(&self, at: &Option<promql_parser::parser::AtModifier>, t: i64) -> i64 {
        match at {
            Some(at) => select::at_ms(at, self.bounds.start, self.bounds.end),
            None => t,
        }
    }

    /// Samples of an instant selector at `t` with their own timestamps
    /// (for `timestamp()`).
    pub(crate) fn select_with_time(
        &self,
        vs: &promql_parser::parser::VectorSelector,
        t: i64,
    ) -> Vec<(Labels, i64, f64)> {
        let te = self.pinned(&vs.at, t) - select::offset_ms(&vs.offset);
        let data = self
            .data
            .get(&select::key(vs))
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        data.iter()
            .filter_map(|s| {
                select::instant_sample(s, te, self.bounds.lookback)
                    .map(|(st, v)| (s.labels.clone(), st, v))
            })
            .collect()
    }

    /// Evaluates an expression that must be a scalar.
    pub(crate) fn eval_scalar(&mut self, expr: &Expr, t: i64) -> Result<f64, QueryError> {
        match self.eval(expr, t)? {
            Val::Scalar(v) => Ok(v),
            _ => Err(QueryError::BadData("expected a scalar".into())),
        }
    }

    /// Evaluates an expression that must be an instant vector.
    pub(crate) fn eval_vector(&mut self, expr: &Expr, t: i64) -> Result<Vector, QueryError> {
        Ok(self.eval_vector_drops(expr, t)?.0)
    }

    /// [`Evaluator::eval_vector`] with the vector's name marks.
    pub(crate) fn eval_vector_drops(
        &mut self,
        expr: &Expr,
        t: i64,
    ) -> Result<(Vector, Drops), QueryError> {
        match self.eval(expr, t)? {
            Val::Vector(v, d) => Ok((v, d)),
            _ => Err(QueryError::BadData("expected an instant vector".into())),
        }
    }
}

/// Prometheus' check that a computed vector has no two series with the same
/// labels (which happens when dropping the metric name merges series).
pub(crate) fn check_unique(v: &Vector) -> Result<(), QueryError> {
    if v.len() < 2 {
        return Ok(());
    }
    let mut seen = std::collections::HashSet::with_capacity(v.len());
    for s in v {
        if !seen.insert(&s.labels) {
            return Err(QueryError::Execution(
                "vector cannot contain metrics with the same labelset".into(),
            ));
        }
    }
    Ok(())
}
