//! Evaluation of LogQL over a [`Store`]: log queries return streams, metric
//! queries return vectors or matrices computed at steps.

mod compile;
mod log;

pub use log::INSTANT_LOG_QUERY;
mod metric;

pub use compile::compile_pipeline;

use model::algebra::Vector;
use model::{Labels, Matcher};

use crate::ast::Expr;
use crate::error::Error;

/// One log entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Nanoseconds since the epoch.
    pub ts_ns: i64,
    /// The line.
    pub line: String,
    /// Structured metadata.
    pub metadata: Labels,
}

/// The seam to storage: the engine asks for the entries of the streams that
/// match a selector within a time range, oldest first.
pub trait Store {
    /// Streams whose labels satisfy every matcher, each with its entries in
    /// `[start_ns, end_ns)` sorted by time (streams without any are left out).
    fn select(&self, matchers: &[Matcher], start_ns: i64, end_ns: i64) -> Vec<(&Labels, &[Entry])>;
}

/// An in-memory [`Store`] for tests, the conformance runners and small
/// deployments.
#[derive(Debug, Clone, Default)]
pub struct MemStore {
    streams: Vec<(Labels, Vec<Entry>)>,
}

impl MemStore {
    /// Appends an entry; entries are kept sorted by time, an exact duplicate
    /// (same time, line and metadata) is dropped and labels with empty
    /// values are dropped from the stream's labels, as Loki does on write.
    pub fn push(&mut self, labels: &Labels, ts_ns: i64, line: &str, metadata: &Labels) {
        let labels = &Labels::from_pairs(
            labels
                .iter()
                .filter(|l| !l.value.is_empty())
                .map(|l| (l.name.to_owned(), l.value.to_owned())),
        );
        let idx = match self.streams.iter().position(|(l, _)| l == labels) {
            Some(i) => i,
            None => {
                self.streams.push((labels.clone(), Vec::new()));
                self.streams.len() - 1
            }
        };
        let Some((_, entries)) = self.streams.get_mut(idx) else {
            return;
        };
        let pos = entries.partition_point(|e| e.ts_ns <= ts_ns);
        let duplicate = entries
            .get(..pos)
            .unwrap_or(&[])
            .iter()
            .rev()
            .take_while(|e| e.ts_ns == ts_ns)
            .any(|e| e.line == line && e.metadata == *metadata);
        if !duplicate {
            entries.insert(
                pos,
                Entry {
                    ts_ns,
                    line: line.to_owned(),
                    metadata: metadata.clone(),
                },
            );
        }
    }

    /// Removes every stream.
    pub fn clear(&mut self) {
        self.streams.clear();
    }

    /// Every stream's labels.
    pub fn streams(&self) -> impl Iterator<Item = &Labels> {
        self.streams.iter().map(|(l, _)| l)
    }
}

impl Store for MemStore {
    fn select(&self, matchers: &[Matcher], start_ns: i64, end_ns: i64) -> Vec<(&Labels, &[Entry])> {
        self.streams
            .iter()
            .filter(|(labels, _)| {
                matchers
                    .iter()
                    .all(|m| m.matches(labels.get(&m.name).unwrap_or("")))
            })
            .filter_map(|(labels, entries)| {
                let from = entries.partition_point(|e| e.ts_ns < start_ns);
                let to = entries.partition_point(|e| e.ts_ns < end_ns);
                let slice = entries.get(from..to.max(from)).unwrap_or(&[]);
                (!slice.is_empty()).then_some((labels, slice))
            })
            .collect()
    }
}

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

/// Evaluates queries against a store.
#[derive(Debug, Clone, Copy)]
pub struct Engine<'s, S: Store> {
    store: &'s S,
}

impl<'s, S: Store> Engine<'s, S> {
    /// An engine over `store`.
    pub fn new(store: &'s S) -> Self {
        Self { store }
    }

    /// Runs a parsed query.
    pub fn eval(&self, expr: &Expr, query: &Query) -> Result<QueryResult, Error> {
        match expr {
            Expr::Log(l) => log::eval_log(self.store, l, query).map(QueryResult::Streams),
            Expr::Metric(m) => metric::eval_metric(self.store, m, query),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mem_store_sorts_dedupes_and_selects_half_open() {
        let mut s = MemStore::default();
        let l = Labels::from_pairs([("app", "a")]);
        s.push(&l, 20, "b", &Labels::empty());
        s.push(&l, 10, "a", &Labels::empty());
        s.push(&l, 20, "b", &Labels::empty());
        s.push(&l, 20, "c", &Labels::empty());
        let m = Matcher::new(model::MatchOp::Equal, "app", "a").unwrap();
        let got = s.select(std::slice::from_ref(&m), 10, 20);
        assert_eq!(got.len(), 1);
        assert_eq!(
            got[0].1.iter().map(|e| e.line.as_str()).collect::<Vec<_>>(),
            ["a"]
        );
        let got = s.select(&[m], 0, 100);
        assert_eq!(got[0].1.len(), 3);
    }
}
