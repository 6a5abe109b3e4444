//! The Loki-compatible log store of vigil.
//!
//! `logstore` owns everything between a push and a query answer:
//! - [`config`]: loki-config.yaml, with Loki's defaults and validation;
//! - [`push`]: the push API's decoders (Loki protobuf + snappy, JSON with
//!   gzip/deflate, OTLP logs) and Loki's validation of what is pushed;
//! - [`storage`]: per tenant and stream, the in-memory head, the
//!   write-ahead log, compressed chunk files, the label index per period
//!   and retention. It implements LogQL's storage seam
//!   ([`logql::store::Store`]), so queries read the head and the chunks
//!   alike, lazily and within the query's limits;
//! - [`server`]: the Loki HTTP API over it, with the lifecycle every
//!   component has (start, ready, reload, drain).
//!
//! It must never evaluate LogQL itself (that is `logql`'s), parse a
//! Prometheus config, or reach another component except over HTTP.
//!
//! A push stored and queried back, without HTTP:
//!
//! ```
//! use logql::eval::{Engine, Query, QueryResult};
//! use logql::store::EntryRef;
//! use logstore::storage::{AppendStream, Storage, StorageOptions};
//! use model::Labels;
//!
//! let dir = std::env::temp_dir().join(format!("logstore-doc-{}", std::process::id()));
//! let storage = Storage::open(StorageOptions::new(&dir)).unwrap();
//! let stream = Labels::from_pairs([("job", "api")]);
//! let empty = Labels::empty();
//! let entries: Vec<EntryRef<'_>> = ["level=info", "level=error", "level=error"]
//!     .iter()
//!     .enumerate()
//!     .map(|(i, line)| EntryRef { ts_ns: (i as i64 + 1) * 1_000_000_000, line, metadata: &empty })
//!     .collect();
//! let report = storage
//!     .append("fake", &[AppendStream { labels: &stream, entries: &entries }], 0)
//!     .unwrap();
//! assert_eq!(report.streams[0].accepted, 3);
//!
//! let expr = logql::parse(r#"sum(count_over_time({job="api"} |= "error" [1m]))"#).unwrap();
//! let reader = storage.reader("fake");
//! let QueryResult::Vector(v) = Engine::new(&reader).eval(&expr, &Query::instant(10_000_000_000)).unwrap()
//! else { panic!("a vector") };
//! assert_eq!(v[0].value, 2.0);
//! storage.close().unwrap();
//! # std::fs::remove_dir_all(&dir).ok();
//! ```

pub mod config;
pub mod push;
pub mod server;
pub mod storage;
