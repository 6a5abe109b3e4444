//! [`Storage`]: tenants, appends through the log into the heads, flushes into chunk files and the index, maintenance, retention, and opening (index load and log replay).

use std::collections::{HashMap, VecDeque};
use std::fs;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use logql::store::{EntryRef, Store, StoreError, Stream};
use model::{Labels, Matcher};

use super::StorageError;
use super::chunk;
use super::codec::Compression;
use super::head::{Rejected, Scratch, SealedChunk, StreamEntry};
use super::index::{self, TenantIndex};
use super::query::{Run, StreamData};
use super::wal::{self, RecordBuilder, SyncPolicy, Wal, lock};

/// How the storage behaves; [`StorageOptions::new`] gives Loki's defaults.
#[derive(Debug, Clone)]
pub struct StorageOptions {
    /// The data directory (`tenants/` is made inside).
    pub dir: PathBuf,
    /// The write-ahead log's directory (`<dir>/wal` by default).
    pub wal_dir: PathBuf,
    /// When appends are made durable.
    pub sync: SyncPolicy,
    /// Largest size of a log segment file.
    pub wal_segment_size: u64,
    /// Line bytes after which the open block is compressed (Loki's
    /// `chunk_block_size`, 256 KiB).
    pub block_size: usize,
    /// Compressed bytes at which a chunk is flushed (Loki's
    /// `chunk_target_size`, 1.5 MB).
    pub chunk_target_size: usize,
    /// A chunk that received nothing for this long is flushed (30 min).
    pub chunk_idle_period: Duration,
    /// A chunk this old is flushed (2 h).
    pub max_chunk_age: Duration,
    /// How far behind a stream's newest entry an entry may be (1 h: Loki 3
    /// accepts out-of-order writes within half of `max_chunk_age`).
    pub out_of_order_window: Duration,
    /// The index period (24 h, Loki's schema period); a chunk file never
    /// spans two, and retention deletes whole periods.
    pub period: Duration,
    /// Block compression.
    pub compression: Compression,
}

impl StorageOptions {
    /// Loki's defaults, with data under `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        let dir = dir.into();
        Self {
            wal_dir: dir.join("wal"),
            dir,
            sync: SyncPolicy::EveryAppend,
            wal_segment_size: wal::DEFAULT_SEGMENT_SIZE,
            block_size: 256 << 10,
            chunk_target_size: 1_572_864,
            chunk_idle_period: Duration::from_secs(30 * 60),
            max_chunk_age: Duration::from_secs(2 * 3600),
            out_of_order_window: Duration::from_secs(3600),
            period: Duration::from_secs(24 * 3600),
            compression: Compression::DEFAULT,
        }
    }

    fn check(&self) -> Result<(), StorageError> {
        let bad = |what: &str| Err(StorageError::InvalidOption(what.to_owned()));
        if self.block_size == 0 {
            return bad("block size must be positive");
        }
        if self.chunk_target_size == 0 {
            return bad("chunk target size must be positive");
        }
        if self.wal_segment_size == 0 {
            return bad("wal segment size must be positive");
        }
        if nanos(self.period) <= 0 {
            return bad("index period must be positive");
        }
        Ok(())
    }
}

fn nanos(d: Duration) -> i64 {
    i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)
}

/// One stream of a batch to append: its labels (already validated by the
/// push layer) and its entries.
#[derive(Debug, Clone, Copy)]
pub struct AppendStream<'a> {
    /// The stream's labels.
    pub labels: &'a Labels,
    /// Its entries, in any order.
    pub entries: &'a [EntryRef<'a>],
}

/// What an append did, per stream of the batch (same order).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppendReport {
    /// One report per stream of the batch.
    pub streams: Vec<StreamReport>,
}

impl AppendReport {
    /// Whether some entry was refused (the push answers 400 then, after
    /// storing the others).
    pub fn has_rejections(&self) -> bool {
        self.streams.iter().any(|s| !s.rejected.is_empty())
    }
}

/// What an append did with one stream's entries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StreamReport {
    /// Entries stored.
    pub accepted: usize,
    /// Exact duplicates (same stream, time and line) dropped silently.
    pub duplicates: usize,
    /// Entries refused as `entry too far behind`.
    pub rejected: Vec<Rejected>,
}

/// Counters and gauges for `/metrics`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StorageMetrics {
    /// Entries stored by appends.
    pub lines_appended: u64,
    /// Line bytes stored by appends.
    pub bytes_appended: u64,
    /// Exact duplicates dropped.
    pub duplicates_dropped: u64,
    /// Entries refused as too far behind.
    pub entries_rejected: u64,
    /// Chunk files written.
    pub chunks_flushed: u64,
    /// Bytes of chunk files on disk.
    pub chunk_bytes_on_disk: u64,
    /// Bytes of write-ahead log on disk.
    pub wal_bytes: u64,
    /// Streams known, across tenants.
    pub streams: u64,
}

#[derive(Debug, Default)]
struct Counters {
    lines: AtomicU64,
    bytes: AtomicU64,
    duplicates: AtomicU64,
    rejected: AtomicU64,
    flushes: AtomicU64,
    chunk_bytes: AtomicU64,
}

/// One tenant: its index (which owns its streams).
#[derive(Debug)]
pub(crate) struct Tenant {
    pub(crate) name: String,
    pub(crate) index: RwLock<TenantIndex>,
    /// Streams with entries in memory (Loki's "active streams"): counted
    /// when a head gets its first entry and when its last chunk is flushed.
    active: AtomicUsize,
}

impl Tenant {
    pub(crate) fn read(&self) -> RwLockReadGuard<'_, TenantIndex> {
        self.index
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, TenantIndex> {
        self.index
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A sealed chunk waiting for its file.
#[derive(Debug)]
struct Job {
    tenant: Arc<Tenant>,
    stream: Arc<StreamEntry>,
    sealed: Arc<SealedChunk>,
}

#[derive(Debug)]
pub(crate) struct Inner {
    opts: StorageOptions,
    /// `dir/tenants`.
    root: PathBuf,
    wal: Wal,
    tenants: RwLock<HashMap<String, Arc<Tenant>>>,
    next_chunk_id: AtomicU64,
    /// Numbers blocks taken for compression (in memory only).
    next_block_id: AtomicU64,
    /// Sealed chunks in the order they were sealed. They are written in
    /// that order, one at a time (under `flush_lock`): a later chunk of a
    /// stream's period never reaches the index before an earlier one, so
    /// the sequence an index record carries is a true watermark.
    queue: Mutex<VecDeque<Job>>,
    queue_changed: Condvar,
    flush_lock: Mutex<()>,
    stop: AtomicBool,
    counters: Counters,
}

/// The log store's storage engine: many tenants, each with streams held in
/// a head (behind a write-ahead log) and in chunk files listed by a label
/// index per period. Share it (it is `Sync`); every method blocks, so call
/// it from blocking threads.
#[derive(Debug)]
pub struct Storage {
    inner: Arc<Inner>,
    flusher: Mutex<Option<JoinHandle<()>>>,
}

/// The file, in a tenant's directory, naming the first period retention
/// kept.
const FLOOR_FILE: &str = "retained_from";

/// How long the background flusher waits after a failed flush before
/// trying again.
const FLUSH_RETRY: Duration = Duration::from_secs(5);

impl Storage {
    /// Opens (or creates) the storage in `opts.dir`: loads the index of
    /// every tenant and period (no chunk is read), replays the log, and
    /// starts the background flusher of full chunks.
    pub fn open(opts: StorageOptions) -> Result<Storage, StorageError> {
        opts.check()?;
        let wal_dir = opts.wal_dir.clone();
        let root = opts.dir.join("tenants");
        for d in [&wal_dir, &root] {
            fs::create_dir_all(d).map_err(|e| StorageError::io("create directory", d, e))?;
        }
        let mut tenants: HashMap<String, Arc<Tenant>> = HashMap::new();
        // Per tenant, the first period retention kept: replay must not
        // bring back entries of deleted periods from the log.
        let mut floors: HashMap<String, i64> = HashMap::new();
        let mut max_id = 0u64;
        let mut max_mark = 0u64;
        let mut chunk_bytes = 0u64;
        let dirs = fs::read_dir(&root).map_err(|e| StorageError::io("read directory", &root, e))?;
        for dir in dirs {
            let dir = dir.map_err(|e| StorageError::io("read directory", &root, e))?;
            let Some(name) = dir.file_name().to_str().and_then(index::parse_tenant_dir) else {
                tracing::warn!(dir = %dir.path().display(), "ignoring a directory that is not a tenant's");
                continue;
            };
            let floor_path = dir.path().join(FLOOR_FILE);
            if let Ok(text) = fs::read_to_string(&floor_path) {
                match text.trim().parse::<i64>() {
                    Ok(f) => {
                        floors.insert(name.clone(), f);
                    }
                    Err(_) => {
                        tracing::warn!(file = %floor_path.display(), "ignoring an unreadable retention floor")
                    }
                }
            }
            let mut idx = TenantIndex::default();
            let periods = fs::read_dir(dir.path())
                .map_err(|e| StorageError::io("read directory", dir.path(), e))?;
            let mut periods: Vec<(i64, PathBuf)> = periods
                .filter_map(Result::ok)
                .filter_map(|p| Some((p.file_name().to_str()?.parse::<i64>().ok()?, p.path())))
                .collect();
            periods.sort();
            for (period, path) in periods {
                let mut records = index::load_period(&path, period)?;
                // Chunks of a period are listed in flush order; ids too.
                records.sort_by_key(|r| r.chunk.id);
                for r in records {
                    max_id = max_id.max(r.chunk.id);
                    max_mark = max_mark.max(r.flushed_through);
                    chunk_bytes += r.chunk.file_bytes;
                    idx.add_chunk(&r.labels, r.chunk, r.flushed_through);
                }
            }
            tenants.insert(
                name.clone(),
                Arc::new(Tenant {
                    name,
                    index: RwLock::new(idx),
                    active: AtomicUsize::new(0),
                }),
            );
        }

        let period_ns = nanos(opts.period);
        let (block_size, codec) = (opts.block_size, opts.compression);
        let replayed = wal::replay(&wal_dir, |rec| {
            let tenant = tenants.entry(rec.tenant.to_owned()).or_insert_with(|| {
                Arc::new(Tenant {
                    name: rec.tenant.to_owned(),
                    index: RwLock::new(TenantIndex::default()),
                    active: AtomicUsize::new(0),
                })
            });
            let floor = floors.get(rec.tenant).copied().unwrap_or(i64::MIN);
            let mut idx = tenant.write();
            for (labels, entries) in &rec.streams {
                let (stream, marks) = idx.for_replay(labels);
                let mut head = lock(&stream.head);
                let was_empty = head.is_empty();
                let full = head.apply(
                    rec.seq,
                    rec.now_ns,
                    entries.iter().map(|(t, l, m)| (*t, *l, m)),
                    period_ns,
                    block_size,
                    |p| p < floor || marks.get(&p).is_some_and(|&m| m >= rec.seq),
                );
                if full {
                    head.cut_full_blocks(block_size, codec);
                }
                if was_empty && !head.is_empty() {
                    tenant.active.fetch_add(1, Ordering::Relaxed);
                }
            }
        })?;
        if replayed.truncated_bytes > 0 {
            tracing::warn!(
                bytes = replayed.truncated_bytes,
                "the write-ahead log had a torn or corrupt tail"
            );
        }
        let last_seq = replayed.last_seq.max(max_mark);
        let wal = Wal::open(
            &wal_dir,
            &replayed,
            last_seq,
            opts.wal_segment_size,
            opts.sync,
        )?;
        let inner = Arc::new(Inner {
            opts,
            root,
            wal,
            tenants: RwLock::new(tenants),
            next_chunk_id: AtomicU64::new(max_id + 1),
            next_block_id: AtomicU64::new(0),
            queue: Mutex::new(VecDeque::new()),
            queue_changed: Condvar::new(),
            flush_lock: Mutex::new(()),
            stop: AtomicBool::new(false),
            counters: Counters::default(),
        });
        inner
            .counters
            .chunk_bytes
            .store(chunk_bytes, Ordering::Relaxed);
        let worker = Arc::clone(&inner);
        let flusher = std::thread::Builder::new()
            .name("logstore-flush".into())
            .spawn(move || flush_loop(&worker))
            .map_err(|e| StorageError::io("start flush thread", &inner.opts.dir, e))?;
        Ok(Storage {
            inner,
            flusher: Mutex::new(Some(flusher)),
        })
    }

    /// Appends a batch for `tenant` at wall-clock time `now_ns`. Returns
    /// once the accepted entries are in the log under the sync policy (with
    /// the default, fsynced). Entries too far behind their stream's newest
    /// are refused and exact duplicates dropped, per stream, in the report;
    /// the other entries of the batch are stored.
    pub fn append(
        &self,
        tenant: &str,
        batch: &[AppendStream<'_>],
        now_ns: i64,
    ) -> Result<AppendReport, StorageError> {
        let (report, durable) = self.append_unsynced(tenant, batch, now_ns)?;
        durable.wait()?;
        Ok(report)
    }

    /// [`Storage::append`] without waiting for the log's sync: the batch is
    /// written and visible, and must not be acknowledged before
    /// [`Durable::wait`] returns. The caller can free the batch meanwhile.
    pub fn append_unsynced(
        &self,
        tenant: &str,
        batch: &[AppendStream<'_>],
        now_ns: i64,
    ) -> Result<(AppendReport, Durable), StorageError> {
        if tenant.is_empty() {
            return Err(StorageError::InvalidOption("empty tenant id".to_owned()));
        }
        let inner = &*self.inner;
        let tenant = inner.tenant(tenant, true).ok_or(StorageError::Closed)?;
        let mut report = AppendReport {
            streams: vec![StreamReport::default(); batch.len()],
        };
        // Streams of the batch grouped by labels (a batch may name one
        // stream twice), each entry with where it came from.
        type Group<'b> = (Arc<StreamEntry>, Vec<(usize, usize, EntryRef<'b>)>);
        let mut groups: Vec<Group<'_>> = Vec::new();
        {
            let mut by_labels: HashMap<&Labels, usize> = HashMap::new();
            let known: Vec<Option<Arc<StreamEntry>>> = {
                let idx = tenant.read();
                batch.iter().map(|s| idx.get(s.labels).cloned()).collect()
            };
            for (si, (s, known)) in batch.iter().zip(known).enumerate() {
                if s.entries.is_empty() {
                    continue;
                }
                let g = *by_labels.entry(s.labels).or_insert_with(|| {
                    let entry = known.unwrap_or_else(|| tenant.write().get_or_insert(s.labels));
                    groups.push((entry, Vec::new()));
                    groups.len() - 1
                });
                groups[g]
                    .1
                    .extend(s.entries.iter().enumerate().map(|(ei, e)| (si, ei, *e)));
            }
        }
        if groups.is_empty() {
            return Ok((report, Durable::done()));
        }
        let window = nanos(inner.opts.out_of_order_window);
        let period_ns = nanos(inner.opts.period);
        let mut rec = RecordBuilder::default();
        let mut scratch = Scratch::default();
        let mut full = Vec::new();
        let (mut lines, mut bytes) = (0u64, 0u64);
        let seq = {
            let mut log = inner.wal.lock()?;
            // Retention (which holds the log's lock while it drops streams
            // with nothing in memory) may have removed a stream since it was
            // looked up: write into the one the index knows now.
            for (stream, _) in &mut groups {
                let current = tenant.read().get(&stream.labels).cloned();
                match current {
                    Some(c) if Arc::ptr_eq(&c, stream) => {}
                    Some(c) => *stream = c,
                    None => *stream = tenant.write().get_or_insert(&stream.labels),
                }
            }
            rec.begin(now_ns, &tenant.name);
            let mut accepted = Vec::with_capacity(groups.len());
            for (stream, entries) in &groups {
                let numbered: Vec<(usize, EntryRef<'_>)> =
                    entries.iter().enumerate().map(|(k, e)| (k, e.2)).collect();
                let v = lock(&stream.head).judge(&numbered, window, period_ns, &mut scratch);
                for r in &v.rejected {
                    let (si, ei, _) = entries[r.index];
                    report.streams[si]
                        .rejected
                        .push(Rejected { index: ei, ..*r });
                }
                for &k in &v.accepted {
                    report.streams[entries[k].0].accepted += 1;
                }
                // Duplicates are told per batch stream by where they came
                // from: recount them from the verdict's complement.
                let mut taken = vec![false; entries.len()];
                v.accepted.iter().for_each(|&k| taken[k] = true);
                v.rejected.iter().for_each(|r| taken[r.index] = true);
                for (k, t) in taken.iter().enumerate() {
                    if !t {
                        report.streams[entries[k].0].duplicates += 1;
                    }
                }
                if !v.accepted.is_empty() {
                    rec.stream(
                        &stream.labels,
                        v.accepted.iter().map(|&k| {
                            let e = entries[k].2;
                            (e.ts_ns, e.line, e.metadata)
                        }),
                    );
                }
                accepted.push(v.accepted);
            }
            if accepted.iter().all(Vec::is_empty) {
                // Nothing new, but the originals of these duplicates may
                // still be on their way to disk: acknowledge once what is
                // written so far is.
                let written = log.next_seq().saturating_sub(1);
                drop(log);
                inner.count_report(&report, 0, 0);
                return Ok((
                    report,
                    Durable {
                        inner: Some(Arc::clone(&self.inner)),
                        seq: written,
                    },
                ));
            }
            let seq = log.write(&mut rec)?;
            // Applied while the log is held: the head sees records in log
            // order, which is what replay and the flush watermarks rely on.
            for ((stream, entries), acc) in groups.iter().zip(&accepted) {
                if acc.is_empty() {
                    continue;
                }
                let mut head = lock(&stream.head);
                let was_empty = head.is_empty();
                let is_full = head.apply(
                    seq,
                    now_ns,
                    acc.iter().map(|&k| {
                        let e = entries[k].2;
                        (e.ts_ns, e.line, e.metadata)
                    }),
                    period_ns,
                    inner.opts.block_size,
                    |_| false,
                );
                if was_empty && !head.is_empty() {
                    tenant.active.fetch_add(1, Ordering::Relaxed);
                }
                lines += acc.len() as u64;
                bytes += acc
                    .iter()
                    .map(|&k| entries[k].2.line.len() as u64)
                    .sum::<u64>();
                drop(head);
                full.push((Arc::clone(stream), is_full));
            }
            seq
        };
        // Compression happens out of the log's lock and out of the
        // stream's: appends to the same stream (which judge under the log's
        // lock) go on meanwhile.
        let mut queued = false;
        for (stream, is_full) in full {
            if is_full {
                let taken = lock(&stream.head).take_full_blocks(inner.opts.block_size, &mut || {
                    inner.next_block_id.fetch_add(1, Ordering::Relaxed)
                });
                for t in taken {
                    let block = t.raw.seal(inner.opts.compression);
                    lock(&stream.head).finish_block(t.period, t.id, block);
                }
            }
            let mut head = lock(&stream.head);
            let big: Vec<i64> = head
                .chunks
                .iter()
                .filter(|(_, c)| c.compressed >= inner.opts.chunk_target_size)
                .map(|(&p, _)| p)
                .collect();
            for p in big {
                let id = inner.next_chunk_id.fetch_add(1, Ordering::Relaxed);
                if let Some(sealed) = head.seal(p, id, inner.opts.compression) {
                    // Queued under the stream's lock: its chunks are
                    // flushed in the order they were sealed, which the
                    // index's "flushed through" watermark relies on.
                    lock(&inner.queue).push_back(Job {
                        tenant: Arc::clone(&tenant),
                        stream: Arc::clone(&stream),
                        sealed,
                    });
                    queued = true;
                }
            }
        }
        if queued {
            inner.queue_changed.notify_all();
        }
        inner.count_report(&report, lines, bytes);
        Ok((
            report,
            Durable {
                inner: Some(Arc::clone(&self.inner)),
                seq,
            },
        ))
    }

    /// How many of `tenant`'s streams hold entries in memory (Loki's active
    /// streams, which `max_global_streams_per_user` limits).
    pub fn active_streams(&self, tenant: &str) -> usize {
        self.inner
            .tenant(tenant, false)
            .map_or(0, |t| t.active.load(Ordering::Relaxed))
    }

    /// Whether the stream `labels` of `tenant` holds entries in memory.
    pub fn is_active(&self, tenant: &str, labels: &Labels) -> bool {
        let Some(t) = self.inner.tenant(tenant, false) else {
            return false;
        };
        let stream = t.read().get(labels).cloned();
        stream.is_some_and(|s| !lock(&s.head).is_empty())
    }

    /// A reader of `tenant`'s streams for LogQL: it sees that tenant only.
    pub fn reader(&self, tenant: &str) -> TenantReader {
        TenantReader {
            inner: Arc::clone(&self.inner),
            tenant: tenant.to_owned(),
        }
    }

    /// Seals every chunk held in memory and writes them all to chunk files
    /// (`POST /flush`).
    pub fn flush_all(&self) -> Result<(), StorageError> {
        self.inner.seal_where(|_| true);
        self.inner.drain()
    }

    /// Periodic work, at wall-clock time `now_ns`: flushes chunks that are
    /// full, idle for `chunk_idle_period` or older than `max_chunk_age`,
    /// then deletes the log segments holding only flushed entries.
    pub fn maintain(&self, now_ns: i64) -> Result<(), StorageError> {
        let inner = &*self.inner;
        let idle = nanos(inner.opts.chunk_idle_period);
        let age = nanos(inner.opts.max_chunk_age);
        let target = inner.opts.chunk_target_size;
        inner.seal_where(|c| {
            c.compressed >= target
                || now_ns.saturating_sub(c.last_append_ns) >= idle
                || now_ns.saturating_sub(c.created_ns) >= age
        });
        inner.drain()?;
        inner.remove_flushed_log()
    }

    /// Deletes, for every tenant, the periods (index and chunk files) that
    /// end at or before `now_ns - retention`; returns how many chunk files
    /// went.
    pub fn apply_retention(&self, now_ns: i64, retention: Duration) -> Result<usize, StorageError> {
        let inner = &*self.inner;
        let period_ns = nanos(inner.opts.period);
        let cutoff = now_ns.saturating_sub(nanos(retention));
        let first_kept = cutoff.div_euclid(period_ns);
        let mut removed = 0;
        // No flush may register a chunk in a period being deleted.
        let _flushing = lock(&inner.flush_lock);
        for tenant in inner.all_tenants() {
            // Under the log's lock: an append re-checks its streams under
            // it, so none writes into a stream dropped here.
            let dropped = {
                let _log = inner.wal.lock()?;
                tenant.write().drop_periods_before(first_kept)
            };
            removed += dropped.len();
            let bytes: u64 = dropped.iter().map(|c| c.file_bytes).sum();
            inner.counters.chunk_bytes.fetch_sub(
                bytes.min(inner.counters.chunk_bytes.load(Ordering::Relaxed)),
                Ordering::Relaxed,
            );
            let dir = inner.root.join(index::tenant_dir_name(&tenant.name));
            if !dir.exists() {
                continue;
            }
            // The floor is durable before any period goes, so that replay
            // never resurrects a deleted period from the log.
            let tmp = dir.join(format!("{FLOOR_FILE}.tmp"));
            let floor = dir.join(FLOOR_FILE);
            fs::write(&tmp, first_kept.to_string())
                .and_then(|()| fs::File::open(&tmp)?.sync_all())
                .and_then(|()| fs::rename(&tmp, &floor))
                .map_err(|e| StorageError::io("write retention floor", &floor, e))?;
            segments::sync_dir(&dir)?;
            let Ok(periods) = fs::read_dir(&dir) else {
                continue;
            };
            for p in periods.filter_map(Result::ok) {
                let old = p
                    .file_name()
                    .to_str()
                    .and_then(|n| n.parse::<i64>().ok())
                    .is_some_and(|n| n < first_kept);
                if old {
                    fs::remove_dir_all(p.path())
                        .map_err(|e| StorageError::io("remove period directory", p.path(), e))?;
                }
            }
        }
        drop(_flushing);
        inner.remove_flushed_log()?;
        Ok(removed)
    }

    /// Counters and gauges for `/metrics`.
    pub fn metrics(&self) -> StorageMetrics {
        let c = &self.inner.counters;
        StorageMetrics {
            lines_appended: c.lines.load(Ordering::Relaxed),
            bytes_appended: c.bytes.load(Ordering::Relaxed),
            duplicates_dropped: c.duplicates.load(Ordering::Relaxed),
            entries_rejected: c.rejected.load(Ordering::Relaxed),
            chunks_flushed: c.flushes.load(Ordering::Relaxed),
            chunk_bytes_on_disk: c.chunk_bytes.load(Ordering::Relaxed),
            wal_bytes: self.inner.wal.bytes(),
            streams: self
                .inner
                .all_tenants()
                .iter()
                .map(|t| t.read().streams().len() as u64)
                .sum(),
        }
    }

    /// Stops the flusher and fsyncs the log; later appends fail. What is
    /// in memory is in the log and comes back on the next open.
    pub fn close(&self) -> Result<(), StorageError> {
        self.stop_flusher();
        self.inner.wal.close()
    }

    fn stop_flusher(&self) {
        self.inner.stop.store(true, Ordering::SeqCst);
        self.inner.queue_changed.notify_all();
        if let Some(handle) = lock(&self.flusher).take() {
            // The thread only flushes or waits; a panic in it leaves the
            // chunk it was writing in the log.
            let _ = handle.join();
        }
    }

    pub(crate) fn inner(&self) -> &Inner {
        &self.inner
    }
}

impl Drop for Storage {
    fn drop(&mut self) {
        self.stop_flusher();
    }
}

fn flush_loop(inner: &Inner) {
    loop {
        {
            let mut q = lock(&inner.queue);
            while q.is_empty() && !inner.stop.load(Ordering::SeqCst) {
                q = inner
                    .queue_changed
                    .wait(q)
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
            }
            if inner.stop.load(Ordering::SeqCst) {
                return;
            }
        }
        if let Err(e) = inner.flush_next() {
            tracing::error!(error = %e, "flushing a chunk failed; retrying later");
            let q = lock(&inner.queue);
            let _ = inner.queue_changed.wait_timeout(q, FLUSH_RETRY);
        }
    }
}

impl Inner {
    pub(crate) fn tenant(&self, name: &str, create: bool) -> Option<Arc<Tenant>> {
        if let Some(t) = self
            .tenants
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(name)
        {
            return Some(Arc::clone(t));
        }
        if !create {
            return None;
        }
        let mut all = self
            .tenants
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let t = all.entry(name.to_owned()).or_insert_with(|| {
            Arc::new(Tenant {
                name: name.to_owned(),
                index: RwLock::new(TenantIndex::default()),
                active: AtomicUsize::new(0),
            })
        });
        Some(Arc::clone(t))
    }

    fn all_tenants(&self) -> Vec<Arc<Tenant>> {
        self.tenants
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .values()
            .cloned()
            .collect()
    }

    fn count_report(&self, report: &AppendReport, lines: u64, bytes: u64) {
        let c = &self.counters;
        c.lines.fetch_add(lines, Ordering::Relaxed);
        c.bytes.fetch_add(bytes, Ordering::Relaxed);
        let dups: usize = report.streams.iter().map(|s| s.duplicates).sum();
        let rejected: usize = report.streams.iter().map(|s| s.rejected.len()).sum();
        c.duplicates.fetch_add(dups as u64, Ordering::Relaxed);
        c.rejected.fetch_add(rejected as u64, Ordering::Relaxed);
    }

    /// Seals the head chunks `due` picks and queues them.
    fn seal_where(&self, due: impl Fn(&super::head::HeadChunk) -> bool) {
        for tenant in self.all_tenants() {
            let streams: Vec<Arc<StreamEntry>> = tenant
                .read()
                .streams()
                .iter()
                .map(|s| Arc::clone(&s.entry))
                .collect();
            for stream in streams {
                let mut head = lock(&stream.head);
                let periods: Vec<i64> = head
                    .chunks
                    .iter()
                    .filter(|(_, c)| due(c))
                    .map(|(&p, _)| p)
                    .collect();
                for p in periods {
                    let id = self.next_chunk_id.fetch_add(1, Ordering::Relaxed);
                    if let Some(sealed) = head.seal(p, id, self.opts.compression) {
                        // Under the stream's lock, as in `append`.
                        lock(&self.queue).push_back(Job {
                            tenant: Arc::clone(&tenant),
                            stream: Arc::clone(&stream),
                            sealed,
                        });
                    }
                }
            }
        }
    }

    /// Flushes every queued chunk.
    fn drain(&self) -> Result<(), StorageError> {
        while self.flush_next()? {}
        Ok(())
    }

    /// Writes the oldest queued chunk: its file, then its index record, then
    /// it moves from the head to the index in memory. `false` when the
    /// queue is empty.
    fn flush_next(&self) -> Result<bool, StorageError> {
        let _one_at_a_time = lock(&self.flush_lock);
        let Some(job) = lock(&self.queue).pop_front() else {
            return Ok(false);
        };
        match self.write_chunk(&job) {
            Ok(()) => Ok(true),
            Err(e) => {
                lock(&self.queue).push_front(job);
                Err(e)
            }
        }
    }

    fn write_chunk(&self, job: &Job) -> Result<(), StorageError> {
        let sealed = &job.sealed;
        let dir = index::period_dir(&self.root, &job.tenant.name, sealed.period);
        let chunk = chunk::write(
            &dir.join("chunks"),
            sealed,
            self.opts.block_size,
            self.opts.compression,
        )?;
        index::append_record(&dir, &job.stream.labels, &chunk, sealed.last_seq)?;
        self.counters.flushes.fetch_add(1, Ordering::Relaxed);
        self.counters
            .chunk_bytes
            .fetch_add(chunk.file_bytes, Ordering::Relaxed);
        // Under the index's write lock, so that a query sees the entries
        // either in the head or in the chunk, never both nor neither.
        let mut idx = job.tenant.write();
        idx.add_chunk(&job.stream.labels, chunk, sealed.last_seq);
        let mut head = lock(&job.stream.head);
        head.unseal(sealed.id);
        if head.is_empty() {
            job.tenant.active.fetch_sub(1, Ordering::Relaxed);
        }
        Ok(())
    }

    /// Deletes the log segments whose entries are all in chunk files.
    fn remove_flushed_log(&self) -> Result<(), StorageError> {
        // Records written from here on are newer than this fence, so they
        // are kept whatever the scan below finds.
        let fence = self.wal.lock()?.next_seq();
        let mut oldest = fence;
        for tenant in self.all_tenants() {
            for s in tenant.read().streams() {
                if let Some(seq) = lock(&s.entry.head).oldest_seq() {
                    oldest = oldest.min(seq);
                }
            }
        }
        self.wal.remove_flushed(oldest)
    }

    /// The selected streams of `tenant` with their runs in `[start, end)`.
    pub(crate) fn select(
        &self,
        tenant: &str,
        matchers: &[Matcher],
        start: i64,
        end: i64,
    ) -> Vec<(Labels, Vec<Run>)> {
        let Some(tenant) = self.tenant(tenant, false) else {
            return Vec::new();
        };
        let idx = tenant.read();
        let mut out = Vec::new();
        for s in idx.select(matchers) {
            let mut runs: Vec<Run> = s
                .chunks
                .iter()
                .filter(|c| c.min_ts < end && c.max_ts >= start)
                .map(|c| Run::Chunk(Arc::clone(c)))
                .collect();
            lock(&s.entry.head).snapshot(start, end, &mut runs);
            if !runs.is_empty() {
                out.push((s.entry.labels.clone(), runs));
            }
        }
        out
    }
}

/// A batch written to the log but perhaps not yet synced: acknowledge it
/// only after [`Durable::wait`].
#[must_use = "an append is durable only once waited for"]
pub struct Durable {
    inner: Option<Arc<Inner>>,
    seq: u64,
}

impl Durable {
    fn done() -> Self {
        Self {
            inner: None,
            seq: 0,
        }
    }

    /// Waits until the batch is in the log under the sync policy (with the
    /// default, fsynced, one fsync shared by concurrent appends).
    pub fn wait(self) -> Result<(), StorageError> {
        match self.inner {
            Some(inner) => inner.wal.wait_durable(self.seq),
            None => Ok(()),
        }
    }
}

/// One tenant's view of the storage, for LogQL.
#[derive(Debug, Clone)]
pub struct TenantReader {
    inner: Arc<Inner>,
    tenant: String,
}

impl Store for TenantReader {
    fn select(
        &self,
        matchers: &[Matcher],
        start_ns: i64,
        end_ns: i64,
    ) -> Result<Vec<Stream>, StoreError> {
        if start_ns >= end_ns {
            return Ok(Vec::new());
        }
        Ok(self
            .inner
            .select(&self.tenant, matchers, start_ns, end_ns)
            .into_iter()
            .map(|(labels, runs)| {
                Stream::new(
                    labels,
                    StreamData {
                        runs,
                        start: start_ns,
                        end: end_ns,
                    },
                )
            })
            .collect())
    }
}
