//! Metrics storage of vigil: where scraped samples live and how queries read them.
//!
//! `tsdb` owns the head (every active series in memory, its samples in
//! Prometheus-style XOR chunks, an inverted index over labels), the
//! write-ahead log that makes appends survive `kill -9`, and the storage
//! traits the PromQL engine reads through. It must never serve HTTP, parse
//! PromQL, or import a query crate: the engine depends on this crate through
//! [`Queryable`], never the other way round.
//!
//! Main types:
//! - [`Tsdb`]: a head behind a write-ahead log in a directory; opening it
//!   replays the log. Writes go through an [`Appender`], whose
//!   [`Commit`] says when the batch is durable (see [`wal`] for the fsync
//!   policy).
//! - [`Head`]: in-memory series and index. On its own, with no disk behind
//!   it, it is also the in-memory [`Queryable`] that other crates' tests use.
//! - [`XorEncoder`] / [`XorIter`]: one compressed chunk (~120 samples).
//! - [`Queryable`] → [`Querier`] → [`Series`]: the read seam.
//!
//! Key decision: memory holds every active series' samples compressed, and
//! only the newest chunk of each series is mutable; closed chunks are shared
//! read-only with queries, so a query never copies history nor blocks
//! appends for longer than one series' lock.
//!
//! Samples follow Prometheus' default rules: per series, a sample older than
//! the newest one is rejected as out of order (and counted), the same
//! timestamp with the same value is ignored, with another value it is a
//! duplicate-sample error. Values are kept as raw bits, so the staleness
//! marker (the NaN `0x7ff0000000000002`) is stored exactly.
//!
//! ```
//! use model::{Labels, MatchOp, Matcher};
//! use tsdb::{Head, Queryable};
//!
//! let head = Head::new();
//! let up = Labels::from_pairs([("__name__", "up"), ("job", "api")]);
//! head.append(&up, 1_000, 1.0)?;
//! head.append(&up, 16_000, 0.0)?;
//! assert!(head.append(&up, 2_000, 1.0).is_err()); // out of order
//!
//! let querier = head.querier(0, 20_000)?;
//! let job = Matcher::new(MatchOp::Regex, "job", "a.*").unwrap();
//! let series = querier.select(&[job])?;
//! assert_eq!(series[0].labels(), &up);
//! assert_eq!(series[0].samples().collect::<Vec<_>>(), [(1_000, 1.0), (16_000, 0.0)]);
//! # Ok::<(), tsdb::TsdbError>(())
//! ```

mod block;
mod chunk;
mod compact;
mod db;
mod encoding;
mod error;
mod head;
mod index;
mod record;
mod storage;
pub mod wal;

pub use block::{Block, BlockMeta, BlockStats};
pub use chunk::{SAMPLES_PER_CHUNK, XorEncoder, XorIter};
pub use compact::CompactionReport;
pub use db::{
    Appender, Commit, DEFAULT_BLOCK_DURATION, DEFAULT_RETENTION, Options, ReplayStats, Tsdb,
};
pub use error::TsdbError;
pub use head::{Head, HeadStats};
pub use storage::{Querier, Queryable, Series, SeriesRef, SeriesSamples};
pub use wal::SyncPolicy;
