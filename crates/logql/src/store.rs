//! The seam LogQL reads logs through: [`Store`] finds streams, each
//! [`Stream`] opens a [`Cursor`] over its entries.
//!
//! The shape follows the metrics storage (`tsdb::storage`): selecting is
//! fallible and cheap (a stream holds shared references to its data, never a
//! copy of it), and entries are read lazily, one at a time, in the
//! direction the query wants. A log query therefore stops reading once it
//! has its `limit`, and a metric query keeps only the entries of the current
//! window, whatever the size of the data. The cursor lends each entry
//! ([`EntryRef`] borrows the cursor), so a store can hand out lines straight
//! from a decompressed block without allocating per entry.
//!
//! [`MemStore`] is the in-memory implementation, used by the conformance
//! runners and tests; the log store's head and chunks implement the same
//! trait.

use std::sync::Arc;
use std::time::Instant;

use model::{Labels, Matcher};

use memchr::memmem::Finder;

use crate::eval::{Direction, Stats};

/// Storage that LogQL queries read.
///
/// Matchers follow Loki: a label a stream lacks has the value `""`, and
/// regexes are fully anchored. Refusing selectors that match everything is
/// the parser's rule, not the store's.
pub trait Store: Send + Sync {
    /// The streams selected by `matchers` that may hold entries in
    /// `[start_ns, end_ns)`. A stream may turn out to have none (its cursor
    /// is then empty); every entry its cursor yields lies in the range.
    fn select(
        &self,
        matchers: &[Matcher],
        start_ns: i64,
        end_ns: i64,
    ) -> Result<Vec<Stream>, StoreError>;
}

/// One selected stream: its labels and a reader of its entries in range.
pub struct Stream {
    labels: Labels,
    entries: Box<dyn StreamEntries>,
}

impl std::fmt::Debug for Stream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stream")
            .field("labels", &self.labels)
            .finish_non_exhaustive()
    }
}

impl Stream {
    /// A stream with `labels` whose entries `entries` reads.
    pub fn new(labels: Labels, entries: impl StreamEntries + 'static) -> Self {
        Self {
            labels,
            entries: Box::new(entries),
        }
    }

    /// The stream's labels.
    pub fn labels(&self) -> &Labels {
        &self.labels
    }

    /// A cursor over the entries in range: oldest first for
    /// [`Direction::Forward`], newest first for [`Direction::Backward`].
    pub fn cursor(&self, direction: Direction) -> Result<Box<dyn Cursor + '_>, StoreError> {
        self.entries.cursor(direction)
    }
}

/// The entries of one stream within the range a [`Store::select`] asked
/// for.
pub trait StreamEntries: Send + Sync {
    /// A fresh cursor in `direction`; several may be open at once.
    fn cursor(&self, direction: Direction) -> Result<Box<dyn Cursor + '_>, StoreError>;
}

/// Walks the entries of one stream. It starts before the first entry:
/// call [`Cursor::advance`] first.
pub trait Cursor: Send {
    /// Moves to the next entry; `false` at the end.
    fn advance(&mut self) -> Result<bool, StoreError>;

    /// The entry the last [`Cursor::advance`] that returned `true` moved to.
    /// Calling it before that, or after the end, is a logic error and may
    /// return any entry.
    fn entry(&self) -> EntryRef<'_>;

    /// The time of [`Cursor::entry`]: what a merge orders by, so a store
    /// may answer it without finding the line.
    fn ts(&self) -> i64 {
        self.entry().ts_ns
    }

    /// Moves to the next entry whose line contains `needle`, passing over
    /// the others; every entry passed over or landed on is counted in
    /// `read`. `false` at the end. A store may search many lines at once
    /// (a whole decoded block) instead of one entry at a time. Past
    /// `deadline` it fails with [`StoreError::Timeout`], so that a needle
    /// that never comes does not hold a query beyond its time.
    fn advance_to_containing(
        &mut self,
        needle: &Finder<'_>,
        read: &mut Stats,
        deadline: Option<Instant>,
    ) -> Result<bool, StoreError> {
        advance_to_containing_each(self, needle, read, deadline)
    }
}

/// Lines read between two looks at the clock while searching.
const SEARCH_CHECK_EVERY: u64 = 4096;

/// [`Cursor::advance_to_containing`] one entry at a time: what a cursor
/// that cannot do better does.
pub fn advance_to_containing_each<C: Cursor + ?Sized>(
    cursor: &mut C,
    needle: &Finder<'_>,
    read: &mut Stats,
    deadline: Option<Instant>,
) -> Result<bool, StoreError> {
    let mut passed = 0u64;
    while cursor.advance()? {
        let line = cursor.entry().line.as_bytes();
        read.lines_processed += 1;
        read.bytes_processed += line.len() as u64;
        if needle.find(line).is_some() {
            return Ok(true);
        }
        passed += 1;
        if passed % SEARCH_CHECK_EVERY == 0 {
            check_deadline(deadline)?;
        }
    }
    Ok(false)
}

/// [`StoreError::Timeout`] once `deadline` has passed.
pub fn check_deadline(deadline: Option<Instant>) -> Result<(), StoreError> {
    match deadline {
        Some(d) if Instant::now() >= d => Err(StoreError::Timeout),
        _ => Ok(()),
    }
}

/// One entry, borrowed from the cursor that read it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EntryRef<'a> {
    /// Nanoseconds since the epoch.
    pub ts_ns: i64,
    /// The line.
    pub line: &'a str,
    /// Structured metadata.
    pub metadata: &'a Labels,
}

/// Why a store could not answer.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// Reading the data failed: I/O, or a chunk that does not decode.
    #[error("reading storage: {0}")]
    Read(Arc<dyn std::error::Error + Send + Sync>),
    /// The query would exceed one of the store's limits; the message says
    /// which, in Loki's words.
    #[error("{0}")]
    Limit(String),
    /// The query's deadline passed while the store was reading.
    #[error(
        "request timed out, decrease the duration of the request or add more label matchers (prefer exact match over regex match) to reduce the amount of data processed"
    )]
    Timeout,
}

impl StoreError {
    /// A read failure caused by `error`.
    pub fn read(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Read(Arc::new(error))
    }
}

impl PartialEq for StoreError {
    /// Errors compare by kind and message: the sources are not comparable.
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::Read(a), Self::Read(b)) => a.to_string() == b.to_string(),
            (Self::Limit(a), Self::Limit(b)) => a == b,
            (Self::Timeout, Self::Timeout) => true,
            _ => false,
        }
    }
}

/// One stored entry of a [`MemStore`].
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Nanoseconds since the epoch.
    pub ts_ns: i64,
    /// The line.
    pub line: String,
    /// Structured metadata.
    pub metadata: Labels,
}

/// An in-memory [`Store`] for tests, the conformance runners and small
/// deployments. Selecting shares the entries (a reference count); a push
/// while a query holds them copies the stream first.
#[derive(Debug, Clone, Default)]
pub struct MemStore {
    streams: Vec<(Labels, Arc<Vec<Entry>>)>,
}

impl MemStore {
    /// Appends an entry; entries are kept sorted by time, an exact duplicate
    /// (same time, line and metadata) is dropped and labels with empty
    /// values are dropped from the stream's labels, as Loki does on write.
    /// Returns whether the entry was stored (not a duplicate).
    pub fn push(&mut self, labels: &Labels, ts_ns: i64, line: &str, metadata: &Labels) -> bool {
        let labels = &Labels::from_pairs(
            labels
                .iter()
                .filter(|l| !l.value.is_empty())
                .map(|l| (l.name.to_owned(), l.value.to_owned())),
        );
        let idx = match self.streams.iter().position(|(l, _)| l == labels) {
            Some(i) => i,
            None => {
                self.streams.push((labels.clone(), Arc::default()));
                self.streams.len() - 1
            }
        };
        let Some((_, entries)) = self.streams.get_mut(idx) else {
            return false;
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
            Arc::make_mut(entries).insert(
                pos,
                Entry {
                    ts_ns,
                    line: line.to_owned(),
                    metadata: metadata.clone(),
                },
            );
        }
        !duplicate
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
    fn select(
        &self,
        matchers: &[Matcher],
        start_ns: i64,
        end_ns: i64,
    ) -> Result<Vec<Stream>, StoreError> {
        Ok(self
            .streams
            .iter()
            .filter(|(labels, _)| {
                matchers
                    .iter()
                    .all(|m| m.matches(labels.get(&m.name).unwrap_or("")))
            })
            .filter_map(|(labels, entries)| {
                let from = entries.partition_point(|e| e.ts_ns < start_ns);
                let to = entries.partition_point(|e| e.ts_ns < end_ns).max(from);
                (from < to).then(|| {
                    Stream::new(
                        labels.clone(),
                        SliceEntries {
                            entries: Arc::clone(entries),
                            from,
                            to,
                        },
                    )
                })
            })
            .collect())
    }
}

/// A range of a shared, sorted entry list: what [`MemStore`] selects.
#[derive(Debug)]
struct SliceEntries {
    entries: Arc<Vec<Entry>>,
    from: usize,
    to: usize,
}

impl StreamEntries for SliceEntries {
    fn cursor(&self, direction: Direction) -> Result<Box<dyn Cursor + '_>, StoreError> {
        let slice = self.entries.get(self.from..self.to).unwrap_or(&[]);
        Ok(Box::new(SliceCursor {
            slice,
            direction,
            next: 0,
            current: None,
        }))
    }
}

/// A cursor over a slice of entries, either way.
#[derive(Debug)]
struct SliceCursor<'a> {
    slice: &'a [Entry],
    direction: Direction,
    /// How many entries have been passed.
    next: usize,
    current: Option<&'a Entry>,
}

const NO_METADATA: &Labels = &Labels::EMPTY;

impl Cursor for SliceCursor<'_> {
    fn advance(&mut self) -> Result<bool, StoreError> {
        let len = self.slice.len();
        let index = match self.direction {
            Direction::Forward => self.next,
            Direction::Backward => len.wrapping_sub(self.next + 1),
        };
        self.current = self.slice.get(index);
        self.next = self.next.saturating_add(1).min(len.saturating_add(1));
        Ok(self.current.is_some())
    }

    fn entry(&self) -> EntryRef<'_> {
        match self.current {
            Some(e) => EntryRef {
                ts_ns: e.ts_ns,
                line: &e.line,
                metadata: &e.metadata,
            },
            None => EntryRef {
                ts_ns: 0,
                line: "",
                metadata: NO_METADATA,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(store: &MemStore, m: &Matcher, start: i64, end: i64, d: Direction) -> Vec<String> {
        let mut out = Vec::new();
        for s in store.select(std::slice::from_ref(m), start, end).unwrap() {
            let mut c = s.cursor(d).unwrap();
            while c.advance().unwrap() {
                out.push(c.entry().line.to_owned());
            }
        }
        out
    }

    #[test]
    fn mem_store_sorts_dedupes_and_selects_half_open_both_ways() {
        let mut s = MemStore::default();
        let l = Labels::from_pairs([("app", "a")]);
        s.push(&l, 20, "b", &Labels::empty());
        s.push(&l, 10, "a", &Labels::empty());
        s.push(&l, 20, "b", &Labels::empty());
        s.push(&l, 20, "c", &Labels::empty());
        let m = Matcher::new(model::MatchOp::Equal, "app", "a").unwrap();
        assert_eq!(lines(&s, &m, 10, 20, Direction::Forward), ["a"]);
        assert_eq!(lines(&s, &m, 0, 100, Direction::Forward), ["a", "b", "c"]);
        assert_eq!(lines(&s, &m, 0, 100, Direction::Backward), ["c", "b", "a"]);
        assert!(lines(&s, &m, 30, 100, Direction::Backward).is_empty());
    }

    #[test]
    fn a_cursor_past_its_end_stays_there() {
        let mut s = MemStore::default();
        let l = Labels::from_pairs([("app", "a")]);
        s.push(&l, 1, "x", &Labels::from_pairs([("trace", "t1")]));
        let m = Matcher::new(model::MatchOp::Equal, "app", "a").unwrap();
        let streams = s.select(&[m], 0, 2).unwrap();
        for d in [Direction::Forward, Direction::Backward] {
            let mut c = streams[0].cursor(d).unwrap();
            assert!(c.advance().unwrap());
            assert_eq!(c.entry().metadata, &Labels::from_pairs([("trace", "t1")]));
            assert!(!c.advance().unwrap());
            assert!(!c.advance().unwrap());
        }
    }

    #[test]
    fn a_query_holding_entries_does_not_see_later_pushes() {
        let mut s = MemStore::default();
        let l = Labels::from_pairs([("app", "a")]);
        s.push(&l, 1, "x", &Labels::empty());
        let m = Matcher::new(model::MatchOp::Equal, "app", "a").unwrap();
        let held = s.select(std::slice::from_ref(&m), 0, 10).unwrap();
        s.push(&l, 2, "y", &Labels::empty());
        let mut c = held[0].cursor(Direction::Forward).unwrap();
        assert!(c.advance().unwrap());
        assert!(!c.advance().unwrap());
        assert_eq!(lines(&s, &m, 0, 10, Direction::Forward), ["x", "y"]);
    }
}
