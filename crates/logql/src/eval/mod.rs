//! Evaluation of LogQL over a [`Store`]: log queries return streams, metric
//! queries return vectors or matrices computed at steps.

mod compile;
mod log;
mod merge;
mod metric;

pub use compile::compile_pipeline;
pub use log::INSTANT_LOG_QUERY;

use model::Labels;
use model::algebra::Vector;

use crate::ast::Expr;
use crate::error::Error;
use crate::store::Store;

/// Order of entries in a log query result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Direction {
    /// Oldest first.
    Forward,
    /// Newest first (Loki's default).
    #[default]
    Backward,
}

/// The parameters of a query.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    /// Range start (ns), inclusive for logs; the time of an instant query.
    pub start_ns: i64,
    /// Range end (ns), exclusive for logs, last step for metrics.
    pub end_ns: i64,
    /// Step between metric evaluations (ns); ignored for log queries.
    pub step_ns: i64,
    /// Whether this is an instant query (one evaluation at `start_ns`).
    pub instant: bool,
    /// Order of log entries.
    pub direction: Direction,
    /// Maximum number of log entries across all streams.
    pub limit: usize,
    /// Most series a metric query may hold at once (Loki's
    /// `max_query_series`); 0 for no limit.
    pub max_series: usize,
    /// When the query must give up (Loki's `query_timeout`).
    pub deadline: Option<std::time::Instant>,
    /// Threads a range aggregation may scan with (1: the caller's only).
    pub parallelism: usize,
    /// Loki's `interval` for log queries: in each result stream, only
    /// entries at least this far (ns) from the previous one kept; 0 keeps
    /// all.
    pub interval_ns: i64,
}

impl Query {
    /// An instant query at `time_ns`.
    pub fn instant(time_ns: i64) -> Self {
        Self {
            start_ns: time_ns,
            end_ns: time_ns,
            step_ns: 0,
            instant: true,
            direction: Direction::Backward,
            limit: 100,
            max_series: 0,
            deadline: None,
            parallelism: 1,
            interval_ns: 0,
        }
    }

    /// A range query.
    pub fn range(start_ns: i64, end_ns: i64, step_ns: i64) -> Self {
        Self {
            start_ns,
            end_ns,
            step_ns,
            instant: false,
            direction: Direction::Backward,
            limit: 100,
            max_series: 0,
            deadline: None,
            parallelism: 1,
            interval_ns: 0,
        }
    }
}

/// One stream of a log query result.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamResult {
    /// The stream's final labels (stream labels plus parsed ones).
    pub labels: Labels,
    /// `(ns, line)` in the query's direction.
    pub entries: Vec<(i64, String)>,
}

/// One series of a matrix.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// The labels.
    pub labels: Labels,
    /// `(ns, value)` in time order.
    pub points: Vec<(i64, f64)>,
}

/// What a query returns.
#[derive(Debug, Clone, PartialEq)]
pub enum QueryResult {
    /// Log streams.
    Streams(Vec<StreamResult>),
    /// An instant vector.
    Vector(Vector),
    /// A scalar (instant query of a literal expression).
    Scalar(f64),
    /// Series over the steps of a range query.
    Matrix(Vec<Series>),
}

/// What a query read, for the `stats` of Loki's answers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Entries read from the store (before the pipeline).
    pub lines_processed: u64,
    /// Bytes of those entries' lines.
    pub bytes_processed: u64,
}

impl std::ops::AddAssign for Stats {
    fn add_assign(&mut self, other: Stats) {
        self.lines_processed += other.lines_processed;
        self.bytes_processed += other.bytes_processed;
    }
}

/// Evaluates queries against a store.
#[derive(Debug, Clone, Copy)]
pub struct Engine<'s, S: Store + ?Sized> {
    store: &'s S,
}

impl<'s, S: Store + ?Sized> Engine<'s, S> {
    /// An engine over `store`.
    pub fn new(store: &'s S) -> Self {
        Self { store }
    }

    /// Runs a parsed query.
    pub fn eval(&self, expr: &Expr, query: &Query) -> Result<QueryResult, Error> {
        self.eval_with_stats(expr, query).map(|(r, _)| r)
    }

    /// Runs a parsed query and tells what it read.
    pub fn eval_with_stats(
        &self,
        expr: &Expr,
        query: &Query,
    ) -> Result<(QueryResult, Stats), Error> {
        let mut stats = Stats::default();
        let result = match expr {
            Expr::Log(l) => {
                log::eval_log(self.store, l, query, &mut stats).map(QueryResult::Streams)
            }
            Expr::Metric(m) => metric::eval_metric(self.store, m, query, &mut stats),
        }?;
        Ok((result, stats))
    }
}
