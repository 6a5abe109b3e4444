//! Entries of many streams as one sequence in time order, read lazily: a
//! heap holds one cursor per stream, keyed by the time of the entry it is
//! on. Log queries stop pulling at their limit; metric queries pull up to
//! each step's end.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Instant;

use model::Labels;

use super::{Direction, Stats};
use crate::error::Error;
use crate::store::{Cursor, EntryRef, StoreError, Stream};
use memchr::memmem::Finder;

/// The merged entries of some streams, in one direction. Ties between
/// streams go to the stream selected first, so results do not depend on the
/// heap's internals.
pub(super) struct Merged<'s> {
    cursors: Vec<(Box<dyn Cursor + 's>, &'s Labels)>,
    /// `(time key, stream)`: the greatest is next. The key is the time
    /// backward and its negation forward.
    heap: BinaryHeap<(i128, Reverse<usize>)>,
    direction: Direction,
    /// The stream whose entry was handed out last: it advances on the next
    /// pull, once the caller no longer borrows that entry.
    pending: Option<usize>,
    /// The next stream when it was known to come first without the heap.
    next_up: Option<(i128, Reverse<usize>)>,
    stats: Stats,
    deadline: Option<Instant>,
    /// Lines read at which the clock is looked at next.
    next_deadline_check: u64,
    /// When set, only entries whose line contains it are handed out (the
    /// others are passed over inside the cursors, and counted as read).
    needle: Option<Finder<'static>>,
}

/// Entries read between two looks at the clock.
const DEADLINE_CHECK_EVERY: u64 = 4096;

/// Moves a cursor to its next entry to hand out: the next one, or the next
/// whose line contains `needle`.
fn step(
    cursor: &mut dyn Cursor,
    needle: Option<&Finder<'static>>,
    read: &mut Stats,
    deadline: Option<Instant>,
) -> Result<bool, StoreError> {
    match needle {
        Some(needle) => cursor.advance_to_containing(needle, read, deadline),
        None => cursor.advance(),
    }
}

impl<'s> Merged<'s> {
    /// Opens a cursor on every stream and positions each on its first
    /// entry; with `needle` (the query's leading `|= "text"`), only entries
    /// whose line contains it are handed out, and the stores may search
    /// for it a block at a time.
    pub(super) fn new(
        streams: impl IntoIterator<Item = &'s Stream>,
        direction: Direction,
        deadline: Option<Instant>,
        needle: Option<Finder<'static>>,
    ) -> Result<Self, Error> {
        let mut merged = Self {
            cursors: Vec::new(),
            heap: BinaryHeap::new(),
            direction,
            pending: None,
            next_up: None,
            stats: Stats::default(),
            deadline,
            next_deadline_check: DEADLINE_CHECK_EVERY,
            needle,
        };
        for (i, stream) in streams.into_iter().enumerate() {
            let mut cursor = stream.cursor(direction)?;
            if step(
                cursor.as_mut(),
                merged.needle.as_ref(),
                &mut merged.stats,
                merged.deadline,
            )? {
                let ts = cursor.ts();
                merged.heap.push((merged.key(ts), Reverse(i)));
            }
            merged.cursors.push((cursor, stream.labels()));
        }
        Ok(merged)
    }

    fn key(&self, ts: i64) -> i128 {
        match self.direction {
            Direction::Forward => -i128::from(ts),
            Direction::Backward => i128::from(ts),
        }
    }

    /// Moves the stream handed out last to its next entry.
    fn settle(&mut self) -> Result<(), StoreError> {
        if let Some(i) = self.pending.take() {
            let Some((cursor, _)) = self.cursors.get_mut(i) else {
                return Ok(());
            };
            if step(
                cursor.as_mut(),
                self.needle.as_ref(),
                &mut self.stats,
                self.deadline,
            )? {
                if let Some((cursor, _)) = self.cursors.get(i) {
                    let ts = cursor.ts();
                    let key = (self.key(ts), Reverse(i));
                    // Still first (always so with one stream): no heap work.
                    if self.heap.peek().is_none_or(|top| key > *top) {
                        self.next_up = Some(key);
                    } else {
                        self.heap.push(key);
                    }
                }
            }
        }
        Ok(())
    }

    /// Takes the stream whose entry comes next.
    fn take_front(&mut self) -> Option<usize> {
        self.next_up
            .take()
            .or_else(|| self.heap.pop())
            .map(|(_, Reverse(i))| i)
    }

    /// The time of the entry [`Merged::next`] would return.
    pub(super) fn peek_ts(&mut self) -> Result<Option<i64>, StoreError> {
        self.settle()?;
        // The time is in the key: no need to ask the cursor again.
        let key = self.next_up.or_else(|| self.heap.peek().copied());
        Ok(key.map(|(k, _)| match self.direction {
            Direction::Forward => i64::try_from(-k).unwrap_or(i64::MAX),
            Direction::Backward => i64::try_from(k).unwrap_or(i64::MIN),
        }))
    }

    /// The next entry and its stream's labels; fails once the deadline
    /// has passed.
    pub(super) fn next(&mut self) -> Result<Option<(&'s Labels, EntryRef<'_>)>, Error> {
        self.settle()?;
        if self.stats.lines_processed >= self.next_deadline_check {
            self.next_deadline_check = self.stats.lines_processed + DEADLINE_CHECK_EVERY;
            if self.deadline.is_some_and(|d| Instant::now() >= d) {
                return Err(Error::Timeout);
            }
        }
        let Some(i) = self.take_front() else {
            return Ok(None);
        };
        self.pending = Some(i);
        let Some((cursor, labels)) = self.cursors.get(i) else {
            return Ok(None);
        };
        let entry = cursor.entry();
        // With a needle, the cursor counted what it read, this one too.
        if self.needle.is_none() {
            self.stats.lines_processed += 1;
            self.stats.bytes_processed += entry.line.len() as u64;
        }
        Ok(Some((*labels, entry)))
    }

    /// What has been read so far.
    pub(super) fn stats(&self) -> Stats {
        self.stats
    }
}
