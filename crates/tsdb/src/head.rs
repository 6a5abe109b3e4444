//! The head: in-memory series, their compressed chunks and the inverted index.

use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};

use model::{Labels, Matcher};

use crate::TsdbError;
use crate::chunk::{SAMPLES_PER_CHUNK, XorEncoder};
use crate::index::Index;
use crate::storage::{ChunkSlice, Querier, Queryable, Series, SeriesRef};

/// Locks a mutex, carrying on after a panic elsewhere: every critical section
/// here leaves the data consistent before anything can panic.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A completed chunk, immutable and shared with queries.
#[derive(Debug)]
struct ClosedChunk {
    mint: i64,
    maxt: i64,
    data: Arc<[u8]>,
}

/// The samples of one series: closed chunks plus the one being filled.
#[derive(Debug, Default)]
pub(crate) struct SeriesData {
    closed: Vec<ClosedChunk>,
    open: XorEncoder,
    /// Timestamp and value bits of the newest sample.
    last: Option<(i64, u64)>,
    /// Newest sample an appender added but has not committed yet, with that
    /// appender's token, so a batch is checked against itself too.
    pending: Option<(u64, i64, u64)>,
}

/// What appending one sample did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Appended {
    /// The sample is new and was stored.
    Stored,
    /// Same timestamp and same value as the newest sample: ignored.
    Ignored,
}

impl SeriesData {
    /// Applies Prometheus' default ordering rules for a sample at `t`
    /// following `last`; `Ok(false)` for an exact repeat.
    fn check(last: Option<(i64, u64)>, t: i64, v: f64) -> Result<Appended, TsdbError> {
        match last {
            Some((lt, _)) if t < lt => Err(TsdbError::OutOfOrder),
            // Compared as bits, so a repeated NaN (a staleness marker
            // scraped twice) is a repeat, not a conflict.
            Some((lt, lv)) if t == lt && lv == v.to_bits() => Ok(Appended::Ignored),
            Some((lt, _)) if t == lt => Err(TsdbError::DuplicateSample),
            _ => Ok(Appended::Stored),
        }
    }

    pub(crate) fn append(&mut self, t: i64, v: f64) -> Result<Appended, TsdbError> {
        let outcome = Self::check(self.last, t, v)?;
        if outcome == Appended::Ignored {
            return Ok(outcome);
        }
        if self.open.len() >= usize::from(SAMPLES_PER_CHUNK) {
            // Closing copies the bytes into an exact-size shared slice, so a
            // closed chunk costs its compressed size and nothing more.
            let full = std::mem::take(&mut self.open);
            self.closed.push(ClosedChunk {
                mint: full.min_time(),
                maxt: full.max_time(),
                data: Arc::from(full.bytes()),
            });
        }
        self.open.append(t, v)?;
        self.last = Some((t, v.to_bits()));
        Ok(outcome)
    }

    /// Chunks with a sample in `[mint, maxt]`, oldest first.
    fn chunks_in(&self, mint: i64, maxt: i64) -> Vec<ChunkSlice> {
        let slice = |data| ChunkSlice { data, mint, maxt };
        let mut out: Vec<ChunkSlice> = self
            .closed
            .iter()
            .filter(|c| c.mint <= maxt && c.maxt >= mint)
            .map(|c| slice(Arc::clone(&c.data)))
            .collect();
        let open = &self.open;
        if !open.is_empty() && open.min_time() <= maxt && open.max_time() >= mint {
            out.push(slice(Arc::from(open.bytes())));
        }
        out
    }

    /// Timestamp of the oldest sample held.
    fn first_at_or_after(&self, t: i64) -> Option<i64> {
        let chunk = self.chunks_in(t, i64::MAX).into_iter().next()?;
        crate::chunk::XorIter::new(&chunk.data)
            .map(|(ts, _)| ts)
            .find(|&ts| ts >= t)
    }

    /// Forgets the chunks entirely before `boundary`; `true` when no sample
    /// at or after it remains.
    fn truncate(&mut self, boundary: i64) -> bool {
        self.closed.retain(|c| c.maxt >= boundary);
        if !self.open.is_empty() && self.open.max_time() < boundary {
            self.open = XorEncoder::new();
        }
        self.closed.is_empty() && self.open.is_empty()
    }
}

/// One series held by the head.
#[derive(Debug)]
pub(crate) struct MemSeries {
    pub(crate) id: SeriesRef,
    pub(crate) labels: Labels,
    data: Mutex<SeriesData>,
    /// Whether a series record for it is in the write-ahead log; samples may
    /// only be logged after it.
    pub(crate) logged: AtomicBool,
    /// Set when the head dropped the series (no sample left after a block
    /// cut); a commit still holding it must look its labels up again.
    pub(crate) deleted: AtomicBool,
}
impl MemSeries {
    /// Locks the series' samples.
    pub(crate) fn lock_data(&self) -> MutexGuard<'_, SeriesData> {
        lock(&self.data)
    }

    /// Checks a sample that appender `token` wants to add against the
    /// newest stored sample, or against that appender's own previous sample
    /// of this series. Another appender adding to the same series at the
    /// same time takes over the pending slot; then conflicts between the two
    /// are caught at commit instead, as Prometheus does.
    pub(crate) fn check_pending(&self, token: u64, t: i64, v: f64) -> Result<Appended, TsdbError> {
        let mut data = lock(&self.data);
        let last = match data.pending {
            Some((owner, pt, pv)) if owner == token => Some((pt, pv)),
            _ => data.last,
        };
        let outcome = SeriesData::check(last, t, v)?;
        if outcome == Appended::Stored {
            data.pending = Some((token, t, v.to_bits()));
        }
        Ok(outcome)
    }
}

/// Hashes series ids by one multiplication: they are small dense integers,
/// and SipHash's resistance to collisions costs a lot on the append path.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0 ^ n).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

/// A map keyed by series id, hashed with [`IdHasher`].
pub(crate) type IdMap<V> = HashMap<SeriesRef, V, BuildHasherDefault<IdHasher>>;

/// Number of independently locked parts of the id → series map, so that
/// appends by reference from many threads do not all hit one lock.
const STRIPES: usize = 64;

/// The id → series map, split in [`STRIPES`] parts.
#[derive(Debug)]
struct Stripes(Box<[RwLock<IdMap<Arc<MemSeries>>>]>);

impl Stripes {
    fn new() -> Self {
        Self((0..STRIPES).map(|_| RwLock::default()).collect())
    }

    fn stripe(&self, id: SeriesRef) -> &RwLock<IdMap<Arc<MemSeries>>> {
        &self.0[(id.0 % STRIPES as u64) as usize]
    }

    fn get(&self, id: SeriesRef) -> Option<Arc<MemSeries>> {
        let stripe = self
            .stripe(id)
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        stripe.get(&id).cloned()
    }

    fn insert(&self, series: Arc<MemSeries>) {
        let mut stripe = self
            .stripe(series.id)
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        stripe.insert(series.id, series);
    }

    fn remove(&self, id: SeriesRef) {
        let mut stripe = self
            .stripe(id)
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        stripe.remove(&id);
    }

    fn all(&self) -> Vec<Arc<MemSeries>> {
        let mut out = Vec::new();
        for stripe in &self.0 {
            let stripe = stripe.read().unwrap_or_else(PoisonError::into_inner);
            out.extend(stripe.values().cloned());
        }
        out
    }
}

/// Counters of what the head did with the samples it was given.
#[derive(Debug, Default)]
struct Counters {
    samples_appended: AtomicU64,
    out_of_order: AtomicU64,
    out_of_bounds: AtomicU64,
    duplicates: AtomicU64,
    series_created: AtomicU64,
}

/// Outcomes of a batch of appends, added to the head's shared counters in
/// one go: per-sample atomic updates of shared counters would have every
/// appending thread fight over the same cache lines.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    stored: u64,
    out_of_order: u64,
    duplicates: u64,
    out_of_bounds: u64,
    max_time: Option<i64>,
}

impl Tally {
    /// Notes the outcome of appending a sample at `t`.
    pub(crate) fn add(&mut self, t: i64, result: &Result<Appended, TsdbError>) {
        match result {
            Ok(Appended::Stored) => {
                self.stored += 1;
                self.max_time = self.max_time.max(Some(t));
            }
            Ok(Appended::Ignored) => {}
            Err(TsdbError::OutOfOrder) => self.out_of_order += 1,
            Err(TsdbError::DuplicateSample) => self.duplicates += 1,
            Err(TsdbError::OutOfBounds { .. }) => self.out_of_bounds += 1,
            Err(_) => {}
        }
    }
}

/// A snapshot of the head's counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HeadStats {
    /// Series currently held.
    pub series: u64,
    /// Series created since start (replay included).
    pub series_created: u64,
    /// Samples stored.
    pub samples_appended: u64,
    /// Samples rejected for being older than their series' newest sample.
    pub out_of_order: u64,
    /// Samples rejected for repeating a timestamp with another value.
    pub duplicates: u64,
    /// Samples rejected for falling in a range already written to a block.
    pub out_of_bounds: u64,
}

/// The in-memory part of the database: every active series, its samples in
/// XOR chunks (all but the newest one closed and immutable), and the inverted
/// index over labels.
///
/// A `Head` on its own has no disk behind it: it is the in-memory storage
/// tests of other crates use (through [`Queryable`]), and the same code the
/// server runs behind its write-ahead log ([`crate::Tsdb`]).
#[derive(Debug)]
pub struct Head {
    /// Labels → ids. Creating or removing a series holds it for writing
    /// while it updates `series` too, so the two always agree for a reader
    /// of the index.
    index: RwLock<Index>,
    series: Stripes,
    next_ref: AtomicU64,
    counters: Counters,
    /// Oldest timestamp accepted: raised before a block is cut, so no sample
    /// can slip into the block's range while it is being written.
    min_valid: AtomicI64,
    /// Oldest timestamp returned by queries: raised when the block holding
    /// everything before it is published.
    query_min: AtomicI64,
    /// Newest timestamp ever stored.
    max_time: AtomicI64,
}

impl Default for Head {
    fn default() -> Self {
        Self::new()
    }
}

/// Drops labels with an empty value: in PromQL an empty value is the same as
/// no label, so `{a="", b="1"}` and `{b="1"}` must be one series.
///
/// Borrowed when nothing changes: this runs on every append by labels.
fn canonical(labels: &Labels) -> Cow<'_, Labels> {
    if labels.iter().all(|l| !l.value.is_empty()) {
        return Cow::Borrowed(labels);
    }
    Cow::Owned(Labels::from_pairs(
        labels
            .iter()
            .filter(|l| !l.value.is_empty())
            .map(|l| (l.name.to_owned(), l.value.to_owned())),
    ))
}

impl Head {
    /// An empty head.
    pub fn new() -> Self {
        Self {
            index: RwLock::new(Index::default()),
            series: Stripes::new(),
            next_ref: AtomicU64::new(1),
            counters: Counters::default(),
            min_valid: AtomicI64::new(i64::MIN),
            query_min: AtomicI64::new(i64::MIN),
            max_time: AtomicI64::new(i64::MIN),
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Index> {
        self.index.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Index> {
        self.index.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// Stores one sample, creating its series if needed. This is the whole
    /// write path of a head without a log; [`crate::Tsdb`] has the durable
    /// one.
    pub fn append(&self, labels: &Labels, t: i64, v: f64) -> Result<SeriesRef, TsdbError> {
        let (series, _) = self.get_or_create(labels)?;
        let result = self.append_to(&series, t, v);
        self.count(t, &result);
        result.map(|_| series.id)
    }

    /// The series with these labels, created if new; `true` when created.
    pub(crate) fn get_or_create(
        &self,
        labels: &Labels,
    ) -> Result<(Arc<MemSeries>, bool), TsdbError> {
        let labels = canonical(labels);
        if labels.is_empty() {
            return Err(TsdbError::EmptyLabels);
        }
        {
            let index = self.read();
            if let Some(s) = index
                .lookup(&labels, |id| self.has_labels(id, &labels))
                .and_then(|id| self.series.get(id))
            {
                return Ok((s, false));
            }
        }
        let mut index = self.write();
        // Another writer may have created it between the two locks.
        if let Some(s) = index
            .lookup(&labels, |id| self.has_labels(id, &labels))
            .and_then(|id| self.series.get(id))
        {
            return Ok((s, false));
        }
        let id = SeriesRef(self.next_ref.fetch_add(1, Ordering::Relaxed));
        Ok((self.insert(&mut index, id, labels.into_owned()), true))
    }

    /// Recreates a series under the id the log gave it. If the labels are
    /// already known under another id, that series is returned instead.
    pub(crate) fn create_with_id(
        &self,
        id: SeriesRef,
        labels: &Labels,
    ) -> Result<Arc<MemSeries>, TsdbError> {
        let labels = canonical(labels).into_owned();
        if labels.is_empty() {
            return Err(TsdbError::EmptyLabels);
        }
        let mut index = self.write();
        if let Some(s) = index
            .lookup(&labels, |id| self.has_labels(id, &labels))
            .and_then(|id| self.series.get(id))
        {
            return Ok(s);
        }
        if self.series.get(id).is_some() {
            // The id is taken by other labels: a corrupt log. Give the
            // labels a fresh id rather than merge two series.
            let fresh = SeriesRef(self.next_ref.fetch_add(1, Ordering::Relaxed));
            return Ok(self.insert(&mut index, fresh, labels));
        }
        self.next_ref
            .fetch_max(id.0.saturating_add(1), Ordering::Relaxed);
        Ok(self.insert(&mut index, id, labels))
    }

    fn insert(&self, index: &mut Index, id: SeriesRef, labels: Labels) -> Arc<MemSeries> {
        index.add(id, &labels);
        let series = Arc::new(MemSeries {
            id,
            labels,
            data: Mutex::new(SeriesData::default()),
            logged: AtomicBool::new(false),
            deleted: AtomicBool::new(false),
        });
        self.series.insert(Arc::clone(&series));
        self.counters.series_created.fetch_add(1, Ordering::Relaxed);
        series
    }

    /// Whether series `id` has exactly `labels`.
    fn has_labels(&self, id: SeriesRef, labels: &Labels) -> bool {
        self.series.get(id).is_some_and(|s| s.labels == *labels)
    }

    /// The series with this id.
    pub(crate) fn series(&self, id: SeriesRef) -> Option<Arc<MemSeries>> {
        self.series.get(id)
    }

    /// Stores a sample in a series; the caller counts the outcome in a
    /// [`Tally`] and hands it to [`Head::record`].
    pub(crate) fn append_to(
        &self,
        series: &MemSeries,
        t: i64,
        v: f64,
    ) -> Result<Appended, TsdbError> {
        self.check_bounds(t)
            .and_then(|()| lock(&series.data).append(t, v))
    }

    /// Adds a batch's outcomes to the counters.
    pub(crate) fn record(&self, tally: &Tally) {
        let c = &self.counters;
        for (counter, n) in [
            (&c.samples_appended, tally.stored),
            (&c.out_of_order, tally.out_of_order),
            (&c.duplicates, tally.duplicates),
            (&c.out_of_bounds, tally.out_of_bounds),
        ] {
            if n > 0 {
                counter.fetch_add(n, Ordering::Relaxed);
            }
        }
        if let Some(t) = tally.max_time {
            self.max_time.fetch_max(t, Ordering::Relaxed);
        }
    }

    /// Refuses samples older than what the head still accepts.
    pub(crate) fn check_bounds(&self, t: i64) -> Result<(), TsdbError> {
        let min_valid = self.min_valid();
        if t < min_valid {
            return Err(TsdbError::OutOfBounds { min_valid });
        }
        Ok(())
    }

    /// Oldest timestamp the head accepts.
    pub fn min_valid(&self) -> i64 {
        self.min_valid.load(Ordering::Relaxed)
    }

    /// Newest timestamp stored, if any.
    pub fn max_time(&self) -> Option<i64> {
        let t = self.max_time.load(Ordering::Relaxed);
        (t != i64::MIN).then_some(t)
    }

    /// Timestamp of the oldest sample at or after [`Head::min_valid`], if
    /// any. It is an actual sample, so a gap in time (a series with a
    /// sample far in the past of the others) never makes a block cut walk
    /// through empty ranges.
    pub fn min_time(&self) -> Option<i64> {
        let min_valid = self.min_valid();
        self.series
            .all()
            .iter()
            .filter_map(|s| lock(&s.data).first_at_or_after(min_valid))
            .min()
    }

    /// Raises the oldest accepted timestamp (it never goes down).
    pub(crate) fn set_min_valid(&self, t: i64) {
        self.min_valid.fetch_max(t, Ordering::Relaxed);
    }

    /// Raises the oldest timestamp queries return (it never goes down).
    pub(crate) fn set_query_min(&self, t: i64) {
        self.query_min.fetch_max(t, Ordering::Relaxed);
    }

    /// Drops everything before `boundary` (now in a block) and the series
    /// left without samples. The caller holds the log's lock, so no commit
    /// can race with the removal of a series; see `MemSeries::deleted`.
    pub(crate) fn truncate(&self, boundary: i64) -> usize {
        self.set_min_valid(boundary);
        self.set_query_min(boundary);
        let mut index = self.write();
        let dead: Vec<Arc<MemSeries>> = self
            .series
            .all()
            .into_iter()
            .filter(|s| lock(&s.data).truncate(boundary))
            .collect();
        for s in &dead {
            s.deleted.store(true, Ordering::Relaxed);
            index.remove(s.id, &s.labels);
            self.series.remove(s.id);
        }
        dead.len()
    }

    /// Every series, sorted by labels (for block writing and checkpoints).
    pub(crate) fn all_series(&self) -> Vec<Arc<MemSeries>> {
        self.select_series(&[])
    }

    /// Counts the outcome of one append attempt.
    pub(crate) fn count(&self, t: i64, result: &Result<Appended, TsdbError>) {
        let mut tally = Tally::default();
        tally.add(t, result);
        self.record(&tally);
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> HeadStats {
        let c = &self.counters;
        HeadStats {
            series: self.read().len() as u64,
            series_created: c.series_created.load(Ordering::Relaxed),
            samples_appended: c.samples_appended.load(Ordering::Relaxed),
            out_of_order: c.out_of_order.load(Ordering::Relaxed),
            duplicates: c.duplicates.load(Ordering::Relaxed),
            out_of_bounds: c.out_of_bounds.load(Ordering::Relaxed),
        }
    }

    /// The selected series, sorted by labels.
    fn select_series(&self, matchers: &[Matcher]) -> Vec<Arc<MemSeries>> {
        let index = self.read();
        let mut out: Vec<_> = index
            .select(matchers)
            .into_iter()
            .filter_map(|id| self.series.get(id))
            .collect();
        drop(index);
        out.sort_unstable_by(|a, b| a.labels.cmp(&b.labels));
        out
    }
}

impl Queryable for Head {
    fn querier(&self, mint: i64, maxt: i64) -> Result<Box<dyn Querier + '_>, TsdbError> {
        if mint > maxt {
            return Err(TsdbError::InvalidRange { mint, maxt });
        }
        // Samples before `query_min` may linger in a chunk that straddles
        // it; they are the newest block's to return.
        let mint = mint.max(self.query_min.load(Ordering::Relaxed));
        Ok(Box::new(HeadQuerier {
            head: self,
            mint,
            maxt,
        }))
    }
}

impl MemSeries {
    /// The samples in `[mint, maxt]`, decoded.
    pub(crate) fn samples_in(&self, mint: i64, maxt: i64) -> Vec<(i64, f64)> {
        let chunks = lock(&self.data).chunks_in(mint, maxt);
        Series::new(self.labels.clone(), chunks).samples().collect()
    }
}

/// Reads the head over one time range.
struct HeadQuerier<'a> {
    head: &'a Head,
    mint: i64,
    maxt: i64,
}

impl Querier for HeadQuerier<'_> {
    fn select(&self, matchers: &[Matcher]) -> Result<Vec<Series>, TsdbError> {
        Ok(self
            .head
            .select_series(matchers)
            .into_iter()
            .filter_map(|s| {
                // A range emptied by raising mint past maxt selects nothing.
                let chunks = if self.mint > self.maxt {
                    Vec::new()
                } else {
                    lock(&s.data).chunks_in(self.mint, self.maxt)
                };
                (!chunks.is_empty()).then(|| Series::new(s.labels.clone(), chunks))
            })
            .collect())
    }

    fn label_names(&self, matchers: &[Matcher]) -> Result<Vec<String>, TsdbError> {
        if matchers.is_empty() {
            return Ok(self.head.read().label_names());
        }
        let series = self.select(matchers)?;
        Ok(crate::storage::distinct_label_names(
            series.iter().map(Series::labels),
        ))
    }

    fn label_values(&self, name: &str, matchers: &[Matcher]) -> Result<Vec<String>, TsdbError> {
        if matchers.is_empty() {
            return Ok(self.head.read().label_values(name));
        }
        let mut values: Vec<String> = self
            .select(matchers)?
            .iter()
            .filter_map(|s| s.labels().get(name).map(str::to_owned))
            .collect();
        values.sort();
        values.dedup();
        Ok(values)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::MatchOp;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        Labels::from_pairs(pairs.iter().copied())
    }

    fn samples(
        head: &Head,
        matchers: &[Matcher],
        mint: i64,
        maxt: i64,
    ) -> Vec<(String, Vec<(i64, f64)>)> {
        head.querier(mint, maxt)
            .unwrap()
            .select(matchers)
            .unwrap()
            .iter()
            .map(|s| (s.labels().to_string(), s.samples().collect()))
            .collect()
    }

    fn eq(name: &str, value: &str) -> Matcher {
        Matcher::new(MatchOp::Equal, name, value).unwrap()
    }

    #[test]
    fn out_of_order_and_duplicates_follow_prometheus_defaults() {
        let head = Head::new();
        let up = labels(&[("__name__", "up")]);
        head.append(&up, 10, 1.0).unwrap();
        assert!(matches!(
            head.append(&up, 9, 1.0),
            Err(TsdbError::OutOfOrder)
        ));
        // Same timestamp, same value: ignored without error.
        head.append(&up, 10, 1.0).unwrap();
        assert!(matches!(
            head.append(&up, 10, 2.0),
            Err(TsdbError::DuplicateSample)
        ));
        head.append(&up, 11, 2.0).unwrap();
        let stats = head.stats();
        assert_eq!(
            (stats.samples_appended, stats.out_of_order, stats.duplicates),
            (2, 1, 1)
        );
        assert_eq!(
            samples(&head, &[eq("__name__", "up")], 0, 100),
            [("{__name__=\"up\"}".into(), vec![(10, 1.0), (11, 2.0)])]
        );
    }

    #[test]
    fn repeated_staleness_marker_is_ignored_not_a_duplicate() {
        let head = Head::new();
        let stale = model::staleness::stale_nan();
        let up = labels(&[("__name__", "up")]);
        head.append(&up, 10, stale).unwrap();
        head.append(&up, 10, stale).unwrap();
        assert!(matches!(
            head.append(&up, 10, f64::NAN),
            Err(TsdbError::DuplicateSample)
        ));
        let got = samples(&head, &[], 0, 100);
        assert_eq!(got[0].1.len(), 1);
        assert_eq!(got[0].1[0].1.to_bits(), stale.to_bits());
    }

    #[test]
    fn range_spans_many_chunks_and_is_inclusive() {
        let head = Head::new();
        let s = labels(&[("__name__", "x")]);
        for t in 0..1000 {
            head.append(&s, t * 10, t as f64).unwrap();
        }
        let got = samples(&head, &[], 1500, 8000);
        let want: Vec<_> = (150..=800).map(|t| (t * 10, t as f64)).collect();
        assert_eq!(got[0].1, want);
        // Nothing in range: the series is not returned.
        assert!(samples(&head, &[], 20_000, 30_000).is_empty());
        assert!(head.querier(5, 4).is_err());
    }

    #[test]
    fn empty_label_values_are_dropped_from_identity() {
        let head = Head::new();
        let a = head
            .append(&labels(&[("__name__", "m"), ("job", "")]), 1, 1.0)
            .unwrap();
        let b = head.append(&labels(&[("__name__", "m")]), 2, 1.0).unwrap();
        assert_eq!(a, b);
        assert!(matches!(
            head.append(&labels(&[("job", "")]), 1, 1.0),
            Err(TsdbError::EmptyLabels)
        ));
    }

    #[test]
    fn select_sorts_by_labels_and_label_queries() {
        let head = Head::new();
        head.append(&labels(&[("__name__", "up"), ("job", "b")]), 1, 1.0)
            .unwrap();
        head.append(
            &labels(&[("__name__", "up"), ("job", "a"), ("zone", "z")]),
            1,
            1.0,
        )
        .unwrap();
        head.append(&labels(&[("__name__", "other")]), 1, 1.0)
            .unwrap();
        let q = head.querier(0, 10).unwrap();
        let got: Vec<_> = q
            .select(&[eq("__name__", "up")])
            .unwrap()
            .iter()
            .map(|s| s.labels().to_string())
            .collect();
        assert_eq!(
            got,
            [
                r#"{__name__="up", job="a", zone="z"}"#,
                r#"{__name__="up", job="b"}"#
            ]
        );
        assert_eq!(q.label_names(&[]).unwrap(), ["__name__", "job", "zone"]);
        assert_eq!(
            q.label_names(&[eq("job", "b")]).unwrap(),
            ["__name__", "job"]
        );
        assert_eq!(q.label_values("job", &[]).unwrap(), ["a", "b"]);
        assert_eq!(
            q.label_values("__name__", &[eq("job", "")]).unwrap(),
            ["other"]
        );
    }

    #[test]
    fn closed_chunks_stay_compressed() {
        let head = Head::new();
        let s = labels(&[("__name__", "c")]);
        let n = 120 * 50;
        for t in 0..n {
            head.append(&s, 1_700_000_000_000 + t * 15_000, (t / 4) as f64)
                .unwrap();
        }
        let series = head.series(SeriesRef(1)).unwrap();
        let data = lock(&series.data);
        assert_eq!(data.closed.len(), 49);
        let bytes: usize = data.closed.iter().map(|c| c.data.len()).sum();
        let per_sample = bytes as f64 / (49.0 * 120.0);
        assert!(per_sample < 2.0, "{per_sample} bytes per sample");
    }
}
