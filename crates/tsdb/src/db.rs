//! The durable database: a head behind a write-ahead log, and its appender.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use model::Labels;

use crate::TsdbError;
use crate::head::{Appended, Head, MemSeries};
use crate::record::{self, Record};
use crate::storage::{Querier, Queryable, SeriesRef};
use crate::wal::{self, SyncPolicy, Wal};

/// Most samples put in one log record; a bigger commit is written as several
/// records in one write, which keeps a record's length far from `u32::MAX`.
const SAMPLES_PER_RECORD: usize = 50_000;

/// How to open a [`Tsdb`].
#[derive(Debug, Clone)]
pub struct Options {
    /// When the write-ahead log fsyncs (default: at most every
    /// [`wal::DEFAULT_SYNC_INTERVAL`]).
    pub sync: SyncPolicy,
    /// Largest size of a log segment file, in bytes (default 128 MiB).
    pub segment_size: u64,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            sync: SyncPolicy::default(),
            segment_size: wal::DEFAULT_SEGMENT_SIZE,
        }
    }
}

/// What opening the database recovered from its log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplayStats {
    /// Log segments read.
    pub segments: u64,
    /// Log records recovered.
    pub records: u64,
    /// Series records recovered.
    pub series: u64,
    /// Samples stored in the head.
    pub samples: u64,
    /// Logged samples the head refused again (they were refused when first
    /// committed too, by a concurrent commit that won the race).
    pub rejected_samples: u64,
    /// Samples of series with no series record (lost to corruption).
    pub unknown_series_samples: u64,
    /// Bytes cut from a torn or corrupt tail of the log.
    pub truncated_bytes: u64,
    /// Segments removed because they followed a corrupt one.
    pub removed_segments: u64,
}

/// The outcome of [`Appender::commit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use = "a commit is only durable once the database says so"]
pub struct Commit {
    /// Sequence number in the log; 0 for an empty commit.
    pub seq: u64,
    /// Whether the commit was already fsynced when `commit` returned (always
    /// so with [`SyncPolicy::EveryCommit`]).
    pub durable: bool,
    /// Samples the head refused at commit time because a concurrent commit
    /// stored a newer sample of the same series first.
    pub rejected: usize,
}

/// A head whose appends go through a write-ahead log in `<dir>/wal`.
///
/// Opening replays the log into a fresh head. Queries read the head through
/// [`Queryable`]; appends go through an [`Appender`].
#[derive(Debug)]
pub struct Tsdb {
    dir: PathBuf,
    head: Head,
    wal: Wal,
    replay: ReplayStats,
}

impl Tsdb {
    /// Opens (or creates) the database in `dir`, replaying its log.
    pub fn open(dir: impl AsRef<Path>, options: Options) -> Result<Self, TsdbError> {
        let dir = dir.as_ref().to_owned();
        let wal_dir = dir.join("wal");
        fs::create_dir_all(&wal_dir)
            .map_err(|e| TsdbError::io("create wal directory", &wal_dir, e))?;
        let head = Head::new();
        let mut stats = ReplayStats::default();
        // Log ids → head series; usually the same id, see `create_with_id`.
        let mut ids: HashMap<SeriesRef, Arc<MemSeries>> = HashMap::new();
        let outcome = wal::replay(&wal_dir, |rec| match rec {
            Record::Series(list) => {
                for (id, labels) in list {
                    let Ok(series) = head.create_with_id(id, &labels) else {
                        continue;
                    };
                    if series.id == id {
                        series.logged.store(true, Ordering::Relaxed);
                    }
                    ids.insert(id, series);
                    stats.series += 1;
                }
            }
            Record::Samples(list) => {
                for (id, t, v) in list {
                    match ids.get(&id) {
                        Some(series) => match head.append_to(series, t, v) {
                            Ok(_) => stats.samples += 1,
                            Err(_) => stats.rejected_samples += 1,
                        },
                        None => stats.unknown_series_samples += 1,
                    }
                }
            }
        })?;
        if stats.unknown_series_samples > 0 {
            tracing::warn!(
                samples = stats.unknown_series_samples,
                "wal samples of unknown series dropped"
            );
        }
        stats.segments = outcome.segments;
        stats.records = outcome.records;
        stats.truncated_bytes = outcome.truncated_bytes;
        stats.removed_segments = outcome.removed_segments;
        let wal = Wal::open(
            &wal_dir,
            outcome.next_segment,
            options.segment_size,
            options.sync,
        )?;
        Ok(Self {
            dir,
            head,
            wal,
            replay: stats,
        })
    }

    /// The directory the database lives in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The in-memory head.
    pub fn head(&self) -> &Head {
        &self.head
    }

    /// What opening recovered from the log.
    pub fn replay_stats(&self) -> &ReplayStats {
        &self.replay
    }

    /// A new batch of appends; nothing is visible or logged until
    /// [`Appender::commit`].
    pub fn appender(&self) -> Appender<'_> {
        Appender {
            db: self,
            pending: Vec::new(),
            last: HashMap::new(),
        }
    }

    /// Whether `commit` is durable (fsynced).
    pub fn is_durable(&self, commit: &Commit) -> bool {
        commit.durable || self.wal.synced() >= commit.seq
    }

    /// Blocks until `commit` is durable (at most about one sync interval).
    pub fn wait_durable(&self, commit: &Commit) -> Result<(), TsdbError> {
        if commit.durable {
            return Ok(());
        }
        self.wal.wait_synced(commit.seq)
    }

    /// Fsyncs the log now, making every commit so far durable.
    pub fn sync(&self) -> Result<(), TsdbError> {
        self.wal.sync()
    }
}

impl Queryable for Tsdb {
    fn querier(&self, mint: i64, maxt: i64) -> Result<Box<dyn Querier + '_>, TsdbError> {
        self.head.querier(mint, maxt)
    }
}

/// A batch of samples committed to the log and the head together.
///
/// Samples are checked as they are added (out of order, duplicate), against
/// the head and against the batch itself, so errors come back per sample;
/// dropping an appender without committing discards the batch.
#[derive(Debug)]
pub struct Appender<'a> {
    db: &'a Tsdb,
    pending: Vec<(Arc<MemSeries>, i64, f64)>,
    /// Newest timestamp and value bits per series, including the batch.
    last: HashMap<SeriesRef, Option<(i64, u64)>>,
}

impl Appender<'_> {
    /// Adds a sample of the series with these labels (created if new) and
    /// returns the series' reference, which [`Appender::append_ref`] accepts
    /// to skip the label lookup next time.
    pub fn append(&mut self, labels: &Labels, t: i64, v: f64) -> Result<SeriesRef, TsdbError> {
        let (series, _) = self.db.head.get_or_create(labels)?;
        self.add(series, t, v)
    }

    /// Adds a sample of a series already known by reference.
    pub fn append_ref(&mut self, series: SeriesRef, t: i64, v: f64) -> Result<(), TsdbError> {
        let series = self
            .db
            .head
            .series(series)
            .ok_or(TsdbError::UnknownSeries(series.0))?;
        self.add(series, t, v).map(drop)
    }

    fn add(&mut self, series: Arc<MemSeries>, t: i64, v: f64) -> Result<SeriesRef, TsdbError> {
        let id = series.id;
        let last = *self.last.entry(id).or_insert_with(|| series.last());
        match MemSeries::check(last, t, v) {
            Ok(Appended::Stored) => {
                self.last.insert(id, Some((t, v.to_bits())));
                self.pending.push((series, t, v));
                Ok(id)
            }
            Ok(Appended::Ignored) => Ok(id),
            Err(e) => {
                let result = Err(e);
                self.db.head.count(&result);
                result.map(|_: Appended| id)
            }
        }
    }

    /// Number of samples waiting to be committed.
    pub fn len(&self) -> usize {
        self.pending.len()
    }

    /// Whether no sample waits to be committed.
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    /// Writes the batch to the log, then makes it visible in the head.
    ///
    /// On success every sample is in the log (it survives the death of the
    /// process); [`Commit::durable`], [`Tsdb::is_durable`] and
    /// [`Tsdb::wait_durable`] tell when it survives a power loss too. On
    /// error nothing was applied to the head.
    pub fn commit(self) -> Result<Commit, TsdbError> {
        if self.pending.is_empty() {
            return Ok(Commit {
                seq: 0,
                durable: true,
                rejected: 0,
            });
        }
        let mut seen = HashSet::new();
        let unlogged: Vec<&Arc<MemSeries>> = self
            .pending
            .iter()
            .map(|(s, _, _)| s)
            .filter(|s| !s.logged.load(Ordering::Relaxed) && seen.insert(s.id))
            .collect();
        let mut bytes = Vec::new();
        if !unlogged.is_empty() {
            record::encode_series(&mut bytes, unlogged.iter().map(|s| (s.id, &s.labels)));
        }
        for batch in self.pending.chunks(SAMPLES_PER_RECORD) {
            record::encode_samples(&mut bytes, batch.iter().map(|(s, t, v)| (s.id, *t, *v)));
        }
        let head = &self.db.head;
        let (seq, rejected) = self.db.wal.commit(&bytes, || {
            for s in &unlogged {
                s.logged.store(true, Ordering::Relaxed);
            }
            self.pending
                .iter()
                .filter(|(s, t, v)| head.append_to(s, *t, *v).is_err())
                .count()
        })?;
        Ok(Commit {
            seq,
            durable: self.db.wal.synced() >= seq,
            rejected,
        })
    }
}
