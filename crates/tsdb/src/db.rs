//! The durable database: blocks plus a head behind a write-ahead log, and its appender.

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use model::{Labels, Matcher};

use crate::TsdbError;
use crate::block::{Block, TMP_SUFFIX};
use crate::head::{Appended, Head, IdMap, MemSeries, Tally};
use crate::record::{self, Record};
use crate::storage::{Querier, Queryable, Series, SeriesRef};
use crate::wal::{self, SyncPolicy, Wal};

/// Most samples put in one log record; a bigger commit is written as several
/// records in one write, which keeps a record's length far from `u32::MAX`.
pub(crate) const SAMPLES_PER_RECORD: usize = 50_000;

/// Two hours, Prometheus' block range, in milliseconds.
pub const DEFAULT_BLOCK_DURATION: i64 = 2 * 3600 * 1000;

/// Fifteen days, Prometheus' default `--storage.tsdb.retention.time`.
pub const DEFAULT_RETENTION: i64 = 15 * 24 * 3600 * 1000;

/// How to open a [`Tsdb`].
#[derive(Debug, Clone)]
pub struct Options {
    /// When the write-ahead log fsyncs (default: at most every
    /// [`wal::DEFAULT_SYNC_INTERVAL`]).
    pub sync: SyncPolicy,
    /// Largest size of a log segment file, in bytes (default 128 MiB).
    pub segment_size: u64,
    /// Time range of a block cut from the head, in milliseconds (default
    /// two hours, Prometheus' `--storage.tsdb.min-block-duration`). The head
    /// is cut once it spans one and a half of these.
    pub block_duration: i64,
    /// Blocks entirely older than this (relative to the newest sample) are
    /// deleted, in milliseconds; `None` keeps them (default 15 days,
    /// Prometheus' `--storage.tsdb.retention.time`).
    pub retention_time: Option<i64>,
    /// The oldest blocks are deleted while blocks and log together take more
    /// bytes than this; `None` for no limit (the default, as Prometheus'
    /// `--storage.tsdb.retention.size`).
    pub retention_size: Option<u64>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            sync: SyncPolicy::default(),
            segment_size: wal::DEFAULT_SEGMENT_SIZE,
            block_duration: DEFAULT_BLOCK_DURATION,
            retention_time: Some(DEFAULT_RETENTION),
            retention_size: None,
        }
    }
}

/// What opening the database recovered from its log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplayStats {
    /// Log segments read.
    pub segments: u64,
    /// Log records recovered (checkpoint included).
    pub records: u64,
    /// Series records recovered.
    pub series: u64,
    /// Samples stored in the head.
    pub samples: u64,
    /// Logged samples already persisted in a block, skipped.
    pub samples_in_blocks: u64,
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
    /// Samples the head refused at commit time: a concurrent commit stored a
    /// newer sample of the same series first, or a block cut started.
    pub rejected: usize,
}

/// Blocks on disk plus a head whose appends go through a write-ahead log.
///
/// Layout of the directory: `wal/` (segments and checkpoint) and one
/// directory per block. Opening loads the blocks' indexes and replays the
/// log into a fresh head. Queries read blocks and head together through
/// [`Queryable`]; appends go through an [`Appender`]; [`Tsdb::compact`] cuts
/// the head into blocks, merges blocks and applies retention, and is meant
/// to be called periodically (Prometheus does it every minute).
#[derive(Debug)]
pub struct Tsdb {
    pub(crate) dir: PathBuf,
    pub(crate) head: Head,
    pub(crate) wal: Wal,
    pub(crate) options: Options,
    /// Sorted by time; blocks never overlap.
    pub(crate) blocks: RwLock<Vec<Arc<Block>>>,
    /// Held by `compact`, so that only one runs at a time.
    pub(crate) compacting: Mutex<()>,
    /// Source of appender tokens.
    next_token: AtomicU64,
    replay: ReplayStats,
}

/// Opens the blocks in `dir`: removes unfinished ones (`*.tmp`) and those
/// that a compacted block lists as its parents.
fn open_blocks(dir: &Path) -> Result<Vec<Arc<Block>>, TsdbError> {
    let mut blocks = Vec::new();
    let entries = fs::read_dir(dir).map_err(|e| TsdbError::io("read data directory", dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| TsdbError::io("read data directory", dir, e))?;
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if !path.is_dir() || name == "wal" {
            continue;
        }
        if name.ends_with(TMP_SUFFIX) {
            tracing::warn!(dir = %path.display(), "removing an unfinished block");
            fs::remove_dir_all(&path)
                .map_err(|e| TsdbError::io("remove unfinished block", &path, e))?;
            continue;
        }
        if !path.join("meta.json").exists() {
            tracing::warn!(dir = %path.display(), "ignoring a directory that is not a block");
            continue;
        }
        blocks.push(Block::open(&path)?);
    }
    let replaced: HashSet<String> = blocks
        .iter()
        .flat_map(|b| b.meta().parents.clone())
        .collect();
    let mut kept = Vec::new();
    for block in blocks {
        if replaced.contains(block.name()) {
            tracing::warn!(
                block = block.name(),
                "removing a block already compacted into another"
            );
            fs::remove_dir_all(block.dir())
                .map_err(|e| TsdbError::io("remove compacted block", block.dir(), e))?;
        } else {
            kept.push(Arc::new(block));
        }
    }
    kept.sort_by_key(|b| b.meta().min_time);
    Ok(kept)
}

impl Tsdb {
    /// Opens (or creates) the database in `dir`, loading its blocks and
    /// replaying its log.
    ///
    /// A torn or corrupt tail of the log is cut off with a warning (see
    /// [`wal`]); a damaged block index or log checkpoint is an error
    /// ([`TsdbError::Corrupt`]): those were complete and fsynced before they
    /// got their names, so damage there is a disk fault to look at, not a
    /// crash to recover from.
    pub fn open(dir: impl AsRef<Path>, options: Options) -> Result<Self, TsdbError> {
        let dir = dir.as_ref().to_owned();
        let wal_dir = dir.join("wal");
        fs::create_dir_all(&wal_dir)
            .map_err(|e| TsdbError::io("create wal directory", &wal_dir, e))?;
        let started = std::time::Instant::now();
        let blocks = open_blocks(&dir)?;
        let head = Head::new();
        if let Some(end) = blocks.last().map(|b| b.meta().max_time) {
            head.set_min_valid(end);
            head.set_query_min(end);
        }
        let mut stats = ReplayStats::default();
        let mut tally = Tally::default();
        // Log ids → head series; usually the same id, see `create_with_id`.
        let mut ids: IdMap<Arc<MemSeries>> = IdMap::default();
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
                    match ids.get(&id).map(|s| head.append_to(s, t, v)) {
                        Some(result @ Ok(_)) => {
                            tally.add(t, &result);
                            stats.samples += 1;
                        }
                        Some(Err(TsdbError::OutOfBounds { .. })) => stats.samples_in_blocks += 1,
                        Some(Err(_)) => stats.rejected_samples += 1,
                        None => stats.unknown_series_samples += 1,
                    }
                }
            }
        })?;
        head.record(&tally);
        if stats.unknown_series_samples > 0 {
            tracing::warn!(
                samples = stats.unknown_series_samples,
                "wal samples of unknown series dropped"
            );
        }
        if !blocks.is_empty() {
            // Series whose samples all went to blocks have nothing left here.
            head.truncate(head.min_valid());
        }
        stats.segments = outcome.segments;
        stats.records = outcome.records;
        stats.truncated_bytes = outcome.truncated_bytes;
        stats.removed_segments = outcome.removed_segments;
        tracing::info!(
            blocks = blocks.len(),
            series = head.stats().series,
            samples = stats.samples,
            truncated_bytes = stats.truncated_bytes,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "opened tsdb"
        );
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
            options,
            blocks: RwLock::new(blocks),
            compacting: Mutex::new(()),
            next_token: AtomicU64::new(1),
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

    /// The persisted blocks, oldest first.
    pub fn blocks(&self) -> Vec<Arc<Block>> {
        self.blocks
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
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
            token: self.next_token.fetch_add(1, Ordering::Relaxed),
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
        if mint > maxt {
            return Err(TsdbError::InvalidRange { mint, maxt });
        }
        // Take the head's querier under the blocks' lock: a block cut
        // publishes its block and hides those samples in the head under the
        // same lock, so a query sees each sample exactly once.
        let guard = self.blocks.read().unwrap_or_else(PoisonError::into_inner);
        let blocks: Vec<Arc<Block>> = guard
            .iter()
            .filter(|b| b.overlaps(mint, maxt))
            .cloned()
            .collect();
        let head = self.head.querier(mint, maxt)?;
        drop(guard);
        Ok(Box::new(DbQuerier {
            blocks,
            head,
            mint,
            maxt,
        }))
    }
}

/// Merges two lists of series sorted by labels into one, the chunks of a
/// series found in both (`earlier` first) concatenated.
fn merge_sorted(earlier: Vec<Series>, later: Vec<Series>) -> Vec<Series> {
    let mut out = Vec::with_capacity(earlier.len().max(later.len()));
    let mut later = later.into_iter().peekable();
    for mut series in earlier {
        while let Some(next) = later.next_if(|l| l.labels() < series.labels()) {
            out.push(next);
        }
        if let Some(same) = later.next_if(|l| l.labels() == series.labels()) {
            series.extend(same);
        }
        out.push(series);
    }
    out.extend(later);
    out
}

/// Reads blocks and head together.
struct DbQuerier<'a> {
    blocks: Vec<Arc<Block>>,
    head: Box<dyn Querier + 'a>,
    mint: i64,
    maxt: i64,
}

impl DbQuerier<'_> {
    /// Runs `f` on every part's querier, oldest first.
    fn each(
        &self,
        mut f: impl FnMut(&dyn Querier) -> Result<(), TsdbError>,
    ) -> Result<(), TsdbError> {
        for block in &self.blocks {
            f(&*block.querier(self.mint, self.maxt)?)?;
        }
        f(&*self.head)
    }

    fn merged_strings(
        &self,
        mut get: impl FnMut(&dyn Querier) -> Result<Vec<String>, TsdbError>,
    ) -> Result<Vec<String>, TsdbError> {
        let mut all = std::collections::BTreeSet::new();
        self.each(|q| {
            all.extend(get(q)?);
            Ok(())
        })?;
        Ok(all.into_iter().collect())
    }
}

impl Querier for DbQuerier<'_> {
    fn select(&self, matchers: &[Matcher]) -> Result<Vec<Series>, TsdbError> {
        // Parts come oldest first and never overlap in time, so a series'
        // chunks concatenate in order; each part's list is sorted, so they
        // merge in one pass.
        let mut merged: Vec<Series> = Vec::new();
        self.each(|q| {
            let part = q.select(matchers)?;
            merged = if merged.is_empty() {
                part
            } else {
                merge_sorted(std::mem::take(&mut merged), part)
            };
            Ok(())
        })?;
        Ok(merged)
    }

    fn label_names(&self, matchers: &[Matcher]) -> Result<Vec<String>, TsdbError> {
        self.merged_strings(|q| q.label_names(matchers))
    }

    fn label_values(&self, name: &str, matchers: &[Matcher]) -> Result<Vec<String>, TsdbError> {
        self.merged_strings(|q| q.label_values(name, matchers))
    }
}

/// A series of the head, held by a writer that appends to it again and
/// again (a scrape cache keeps one per series): [`Appender::append_to`]
/// goes straight to the series, where a [`SeriesRef`] is looked up in the
/// head's map on every append. It stays valid while the series is in the
/// head; holding it does not keep a dropped series in the head.
#[derive(Debug, Clone)]
pub struct SeriesHandle(Arc<MemSeries>);

impl SeriesHandle {
    /// The series' reference.
    pub fn series_ref(&self) -> SeriesRef {
        self.0.id
    }
}

/// A batch of samples committed to the log and the head together.
///
/// Samples are checked as they are added (out of order, duplicate, older
/// than the head accepts), against the head and against the batch itself,
/// so errors come back per sample; dropping an appender without committing
/// discards the batch.
///
/// A [`SeriesRef`] stays valid while its series has samples in the head;
/// after a block cut drops a series, [`Appender::append_ref`] answers
/// [`TsdbError::UnknownSeries`] and the caller appends by labels again.
#[derive(Debug)]
pub struct Appender<'a> {
    db: &'a Tsdb,
    pending: Vec<(Arc<MemSeries>, i64, f64)>,
    /// Identifies this batch to the series it adds to; see
    /// `MemSeries::check_pending`.
    token: u64,
}

impl Appender<'_> {
    /// Adds a sample of the series with these labels (created if new) and
    /// returns the series' reference, which [`Appender::append_ref`] accepts
    /// to skip the label lookup next time.
    pub fn append(&mut self, labels: &Labels, t: i64, v: f64) -> Result<SeriesRef, TsdbError> {
        let (series, _) = self.db.head.get_or_create(labels)?;
        self.add(series, t, v)
    }

    /// [`Appender::append`], returning a [`SeriesHandle`] for
    /// [`Appender::append_to`].
    pub fn append_series(
        &mut self,
        labels: &Labels,
        t: i64,
        v: f64,
    ) -> Result<SeriesHandle, TsdbError> {
        let (series, _) = self.db.head.get_or_create(labels)?;
        self.add(Arc::clone(&series), t, v)?;
        Ok(SeriesHandle(series))
    }

    /// Adds a sample of a series held by handle: no lookup at all. Answers
    /// [`TsdbError::UnknownSeries`] once the head has dropped the series.
    pub fn append_to(&mut self, series: &SeriesHandle, t: i64, v: f64) -> Result<(), TsdbError> {
        if series.0.deleted.load(Ordering::Relaxed) {
            return Err(TsdbError::UnknownSeries(series.0.id.0));
        }
        self.add(Arc::clone(&series.0), t, v).map(drop)
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
        let checked = self
            .db
            .head
            .check_bounds(t)
            .and_then(|()| series.check_pending(self.token, t, v));
        if checked.is_err() {
            // Rejections count now; stored samples count at commit.
            self.db.head.count(t, &checked);
        }
        if checked? == Appended::Stored {
            self.pending.push((series, t, v));
        }
        Ok(id)
    }

    /// The samples waiting to be committed, with their series' labels, in
    /// the order they were added: what a caller forwards elsewhere (remote
    /// write) once the batch is committed.
    pub fn pending(&self) -> impl ExactSizeIterator<Item = (&Labels, i64, f64)> {
        self.pending.iter().map(|(s, t, v)| (&s.labels, *t, *v))
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
    pub fn commit(mut self) -> Result<Commit, TsdbError> {
        if self.pending.is_empty() {
            return Ok(Commit {
                seq: 0,
                durable: true,
                rejected: 0,
            });
        }
        let head = &self.db.head;
        let mut wal = self.db.wal.lock()?;
        // A block cut may have dropped a series this batch holds (it had no
        // sample left); the log is locked, so looking it up again is safe.
        for entry in &mut self.pending {
            if entry.0.deleted.load(Ordering::Relaxed) {
                entry.0 = head.get_or_create(&entry.0.labels)?.0;
            }
        }
        let mut seen: IdMap<()> = IdMap::default();
        let unlogged: Vec<&Arc<MemSeries>> = self
            .pending
            .iter()
            .map(|(s, _, _)| s)
            .filter(|s| !s.logged.load(Ordering::Relaxed) && seen.insert(s.id, ()).is_none())
            .collect();
        let mut bytes = Vec::new();
        if !unlogged.is_empty() {
            record::encode_series(&mut bytes, unlogged.iter().map(|s| (s.id, &s.labels)));
        }
        for batch in self.pending.chunks(SAMPLES_PER_RECORD) {
            record::encode_samples(&mut bytes, batch.iter().map(|(s, t, v)| (s.id, *t, *v)));
        }
        let seq = wal.write(&bytes)?;
        for s in &unlogged {
            s.logged.store(true, Ordering::Relaxed);
        }
        // Lock every series of the batch before letting the next commit
        // log: a later commit touching one of them waits for this one, so
        // the head applies commits in log order (and replay makes the same
        // decisions), while commits on other series apply in parallel. Each
        // series is locked once, in id order; the sort is stable, so a
        // series' samples keep their batch order. The oldest accepted time is
        // read here too: a block cut raises it under the log's lock.
        let min_valid = head.min_valid();
        let mut order: Vec<usize> = (0..self.pending.len()).collect();
        order.sort_by_key(|&i| self.pending[i].0.id);
        let mut guards = Vec::new();
        for &i in &order {
            let series = &self.pending[i].0;
            if guards.last().is_none_or(|(id, _)| *id != series.id) {
                guards.push((series.id, series.lock_data()));
            }
        }
        drop(wal);
        let mut tally = Tally::default();
        let mut rejected = 0;
        let mut g = 0;
        for &i in &order {
            let (series, t, v) = &self.pending[i];
            if guards[g].0 != series.id {
                g += 1;
            }
            let result = if *t < min_valid {
                Err(TsdbError::OutOfBounds { min_valid })
            } else {
                guards[g].1.append(*t, *v)
            };
            rejected += usize::from(result.is_err());
            tally.add(*t, &result);
        }
        drop(guards);
        head.record(&tally);
        Ok(Commit {
            seq,
            durable: self.db.wal.synced() >= seq,
            rejected,
        })
    }
}
