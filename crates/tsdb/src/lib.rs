//! Metrics storage of vigil: where scraped samples live and how queries read them.
//!
//! `tsdb` owns the head (every active series in memory, its samples in
//! Prometheus-style XOR chunks, an inverted index over labels), the
//! write-ahead log that makes appends survive `kill -9`, the immutable
//! on-disk blocks the head is cut into, their compaction and retention, and
//! the storage traits the PromQL engine reads through. It must never serve
//! HTTP, parse PromQL, or import a query crate: the engine depends on this
//! crate through [`Queryable`], never the other way round.
//!
//! Main types, and how they connect:
//! - [`Tsdb`]: one data directory: `wal/` plus one directory per [`Block`].
//!   Opening loads the blocks' indexes and replays the log into a fresh
//!   [`Head`]. Writes go through an [`Appender`] whose [`Commit`] says when
//!   the batch is durable (the fsync policy is documented in [`wal`]);
//!   [`Tsdb::compact`] cuts the head into blocks (every
//!   [`DEFAULT_BLOCK_DURATION`]), merges blocks and applies retention; the
//!   server runs it every minute with [`Tsdb::spawn_compactor`].
//! - [`Head`]: in-memory series, their chunks and the index. On its own, with
//!   no disk behind it, it is also the in-memory [`Queryable`] that other
//!   crates' tests use: the same code, not a test double.
//! - [`XorEncoder`] / [`XorIter`]: one compressed chunk (~120 samples).
//! - [`Queryable`] → [`Querier`] → [`Series`]: the read seam; a database's
//!   querier merges blocks and head so each sample is seen exactly once.
//!
//! Key decisions: memory holds each active series' recent samples
//! compressed, with only the newest chunk mutable; closed chunks are shared
//! read-only with queries, so a query never copies history nor blocks
//! appends for longer than one series' lock. Commits reach the head in the
//! order they reach the log, so replay rebuilds exactly the head that was
//! visible. Blocks keep only their index in memory; chunks are read from
//! disk, checksums verified, per query.
//!
//! Samples follow Prometheus' default rules: per series, a sample older than
//! the newest one is rejected as out of order (and counted), the same
//! timestamp with the same value is ignored, with another value it is a
//! duplicate-sample error, and a sample older than the head's range (already
//! cut into a block) is out of bounds. Values are kept as raw bits, so the
//! staleness marker (`model::staleness`, a NaN told apart by its bits) is stored
//! exactly.
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
//!
//! The durable database, as the scrape loop uses it:
//!
//! ```
//! use model::Labels;
//! use tsdb::{Options, Queryable, Tsdb};
//!
//! let dir = tempfile::tempdir().unwrap();
//! let up = Labels::from_pairs([("__name__", "up")]);
//! {
//!     let db = Tsdb::open(dir.path(), Options::default())?;
//!     let mut app = db.appender();
//!     let series = app.append(&up, 15_000, 1.0)?;
//!     app.append_ref(series, 30_000, 1.0)?;
//!     let commit = app.commit()?;
//!     db.wait_durable(&commit)?; // at most one fsync interval
//! }
//! let db = Tsdb::open(dir.path(), Options::default())?; // replays the log
//! let series = db.querier(0, 60_000)?.select(&[])?;
//! assert_eq!(series[0].samples().count(), 2);
//! # Ok::<(), tsdb::TsdbError>(())
//! ```

mod block;
mod chunk;
mod compact;
mod db;
mod error;
mod head;
mod index;
mod record;
mod storage;
pub mod wal;

pub use block::{Block, BlockMeta, BlockStats};
pub use chunk::{SAMPLES_PER_CHUNK, XorEncoder, XorIter};
pub use compact::{CompactionReport, Compactor};
pub use db::{
    Appender, Commit, DEFAULT_BLOCK_DURATION, DEFAULT_RETENTION, Options, ReplayStats,
    SeriesHandle, Tsdb,
};
pub use error::TsdbError;
pub use head::{Head, HeadStats};
pub use storage::{Querier, Queryable, Series, SeriesRef, SeriesSamples};
pub use wal::SyncPolicy;
