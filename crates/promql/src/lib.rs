//! PromQL engine of vigil: evaluates instant and range queries over the
//! metrics storage, with Prometheus 3.x semantics.
//!
//! `promql` owns evaluation: selectors with the 5m lookback and staleness
//! markers, left-open range windows `(t - range, t]`, `offset` and `@`,
//! subqueries, aggregations, binary operators and every function that is
//! not about native histograms. Parsing is the `promql-parser` crate's; the
//! vector algebra (aggregations, binary operators with vector matching,
//! `label_replace`) is `model::algebra`, shared with LogQL. It must never
//! serve HTTP, own a storage engine or write data: it reads through
//! [`tsdb::Queryable`] only, so any storage (the head, blocks, a test
//! double) can be queried.
//!
//! Main types:
//! - [`Engine`] with [`EngineOptions`] (lookback, max samples, timeout):
//!   [`Engine::instant`] returns a [`Value`], [`Engine::range`] a
//!   [`Matrix`], each in a [`QueryResult`] with its [`Annotations`].
//! - [`QueryError`]: one enum whose [`ErrorKind`] tells the HTTP API which
//!   status to answer (bad_data, execution, timeout, canceled, internal).
//!
//! Key decision: each selector's samples are read from storage once per
//! query, over the whole time range the query needs (bounded by the sample
//! limit), then the expression is evaluated step by step, each step finding
//! its window from a per-series cursor. Aggregations straight over a
//! selector or a `rate`-like function skip per-step label sets (a fast path
//! checked against the general one). Functions and operators that drop
//! `__name__` drop it at once, as Prometheus does by default; with
//! [`EngineOptions::delayed_name_removal`] (Prometheus 3's
//! `promql-delayed-name-removal`) they only mark it, `label_replace` and
//! `by (__name__)` can still read it, and marked names go when the result
//! is complete. One code path serves both: the mode decides only whether a
//! node's marks are applied at the node or at the end.
//!
//! ```
//! use model::Labels;
//! use promql::{Engine, EngineOptions, Value};
//! use tsdb::Head;
//!
//! let head = Head::new();
//! let series = Labels::from_pairs([("__name__", "requests_total"), ("job", "api")]);
//! for i in 0..=20 {
//!     head.append(&series, i * 15_000, (i * 30) as f64)?; // 2 per second
//! }
//! let engine = Engine::new(EngineOptions::default());
//! let result = engine.instant(&head, "sum(rate(requests_total[1m]))", 300_000)?;
//! let Value::Vector(v) = result.value else { panic!("not a vector") };
//! assert!((v[0].value - 2.0).abs() < 1e-9);
//! let m = engine.range(&head, "requests_total * 2", 0, 60_000, 15_000)?.value;
//! assert_eq!(m[0].points.len(), 5);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod engine;
mod error;
mod eval;
mod functions;
mod value;

pub use engine::{CancelFlag, Engine, EngineOptions, MAX_POINTS_PER_SERIES, parse};
pub use error::{ErrorKind, QueryError};
pub use eval::select::selector_matchers;
pub use value::{Annotations, Matrix, Point, QueryResult, RangeSeries, Sample, Value, Vector};
