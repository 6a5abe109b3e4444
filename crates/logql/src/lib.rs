//! LogQL for vigil: the language, the log pipeline, and evaluation.
//!
//! `logql` owns Loki's query language end to end:
//! - **the language**: a hand-written lexer and recursive-descent
//!   [`parser`] producing the [`ast`], Loki's validation rules and error
//!   messages ([`ParseError`] carries a byte span), a one-line [`printer`]
//!   and a multi-line [`pretty`] printer whose output parses back to the
//!   same tree;
//! - **the log pipeline** ([`pipeline`]): line filters on raw bytes, the
//!   json/logfmt/regexp/pattern/unpack parsers, label filters, formatters
//!   with Loki's template functions ([`template`]; the Go `text/template`
//!   engine itself is `gocompat::template`). The pipeline is a leaf
//!   that knows nothing of the grammar, so the agent reuses its stages;
//! - **evaluation** ([`eval`]): log queries and metric queries over the
//!   [`store::Store`] seam (fallible, lazy, bounded by the query's limits), with vector algebra from `model::algebra`
//!   (shared with PromQL).
//!
//! - **the query API without HTTP** ([`api`]): Loki's request parameters to
//!   [`eval::Query`], results to Loki's JSON bodies, errors to statuses, so
//!   the log store's handlers and the conformance runners share one copy.
//!
//! It must never do I/O, speak HTTP or store data: the log store implements
//! [`store::Store`] and serves the routes; this crate only computes. Main
//! types: [`ast::Expr`] (from [`parse`]), [`pipeline::Pipeline`] and its
//! [`pipeline::Stage`]s, [`eval::Engine`] over a [`store::Store`] returning
//! [`eval::QueryResult`], and [`Error`].
//!
//! ```
//! use logql::eval::{Engine, Query, QueryResult};
//! use logql::store::MemStore;
//! use model::Labels;
//!
//! let mut store = MemStore::default();
//! let stream = Labels::from_pairs([("app", "api")]);
//! for i in 0..6 {
//!     store.push(&stream, i * 10_000_000_000, &format!("level=info status={}", 200 + i), &Labels::empty());
//! }
//! let expr = logql::parse(r#"sum(count_over_time({app="api"} | logfmt | status >= 203 [1m]))"#).unwrap();
//! assert_eq!(expr.to_string(), r#"sum(count_over_time({app="api"} | logfmt | status >= 203 [1m]))"#);
//! let result = Engine::new(&store).eval(&expr, &Query::instant(60_000_000_000)).unwrap();
//! let QueryResult::Vector(v) = result else { panic!("a vector") };
//! assert_eq!(v[0].value, 3.0);
//! ```

pub mod api;
pub mod ast;
mod error;
pub mod eval;
mod lexer;
pub mod parser;
pub mod pipeline;
pub mod pretty;
pub mod printer;
pub mod store;
pub mod template;

pub use error::{Error, ParseError};
pub use parser::{parse, parse_log_expr, parse_selector};
