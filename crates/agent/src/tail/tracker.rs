//! Which lines of a file are done, and the committed offset they allow.
//!
//! Every line read gets a sequence number and a [`LineToken`] in its
//! entry's receipt. Dropping the token's last clone sets the line's bit in
//! a ring of done flags; no lock is taken, so the clients release lines at
//! the cost of one atomic `or`. The tailer thread owns the rest: the end
//! offset of every line in flight, and the front of the ring, which it
//! moves over done lines to get the committed offset (the end of the
//! longest prefix of done lines). The ring's size bounds the lines in
//! flight per file: when it is full, the tailer waits, like a full sink.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// The done flags of one file, shared with the tokens.
pub(crate) struct DoneFlags {
    words: Box<[AtomicU64]>,
    /// `capacity - 1`, capacity being a power of two.
    mask: u64,
}

impl DoneFlags {
    fn new(capacity: u64) -> Arc<Self> {
        let words = (capacity / 64).max(1);
        Arc::new(Self {
            words: (0..words).map(|_| AtomicU64::new(0)).collect(),
            mask: words * 64 - 1,
        })
    }

    fn capacity(&self) -> u64 {
        self.mask + 1
    }

    fn set(&self, seq: u64) {
        let slot = seq & self.mask;
        self.words[(slot / 64) as usize].fetch_or(1 << (slot % 64), Ordering::Release);
    }

    /// Clears the bit of `seq` and says whether it was set.
    fn take(&self, seq: u64) -> bool {
        let slot = seq & self.mask;
        let bit = 1u64 << (slot % 64);
        let word = &self.words[(slot / 64) as usize];
        if word.load(Ordering::Acquire) & bit == 0 {
            return false;
        }
        word.fetch_and(!bit, Ordering::AcqRel);
        true
    }
}

/// The claim of one line on its file's commit; the line is done when the
/// last clone is dropped.
pub(crate) struct LineToken {
    flags: Arc<DoneFlags>,
    seq: u64,
}

impl LineToken {
    /// The line's sequence number in its file.
    pub(crate) fn seq(&self) -> u64 {
        self.seq
    }
}

impl Drop for LineToken {
    fn drop(&mut self) {
        self.flags.set(self.seq);
    }
}

/// The tailer's side: lines in flight and the committed offset.
pub(crate) struct Commits {
    flags: Arc<DoneFlags>,
    /// Sequence number of the oldest line in flight.
    front: u64,
    /// End offsets of the lines in flight, from `front` on.
    ends: VecDeque<u64>,
    /// End of the longest prefix of done lines.
    committed: u64,
    /// Set when the sink refused a line: the commit never passes it.
    barrier: Option<u64>,
}

impl Commits {
    /// Commits for a file whose first `start` bytes are already delivered;
    /// `capacity` (rounded up to a power of two) bounds lines in flight.
    pub(crate) fn new(start: u64, capacity: u64) -> Self {
        Self {
            flags: DoneFlags::new(capacity.max(64).next_power_of_two()),
            front: 0,
            ends: VecDeque::new(),
            committed: start,
            barrier: None,
        }
    }

    /// Whether another line can be put in flight.
    pub(crate) fn has_room(&self) -> bool {
        (self.ends.len() as u64) < self.flags.capacity()
    }

    /// Registers a line ending at `end` and returns its token.
    pub(crate) fn push(&mut self, end: u64) -> LineToken {
        let seq = self.front + self.ends.len() as u64;
        self.ends.push_back(end);
        LineToken {
            flags: self.flags.clone(),
            seq,
        }
    }

    /// Marks the line of `token` as never delivered: the committed offset
    /// stays before it for good.
    pub(crate) fn refuse(&mut self, seq: u64) {
        self.barrier = Some(self.barrier.map_or(seq, |b| b.min(seq)));
    }

    /// Moves over done lines; returns the committed offset.
    pub(crate) fn advance(&mut self) -> u64 {
        while let Some(&end) = self.ends.front() {
            if self.barrier.is_some_and(|b| self.front >= b) || !self.flags.take(self.front) {
                break;
            }
            self.ends.pop_front();
            self.front += 1;
            self.committed = end;
        }
        self.committed
    }

    /// Lines read but not yet done (or refused).
    pub(crate) fn in_flight(&self) -> usize {
        self.ends.len()
    }

    /// The committed offset as of the last [`Commits::advance`].
    pub(crate) fn committed(&self) -> u64 {
        self.committed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_commit_is_the_longest_done_prefix() {
        let mut c = Commits::new(10, 64);
        let a = c.push(20);
        let b = c.push(30);
        let d = c.push(40);
        drop(b);
        assert_eq!(c.advance(), 10);
        drop(a);
        assert_eq!(c.advance(), 30);
        drop(d);
        assert_eq!(c.advance(), 40);
        assert_eq!(c.in_flight(), 0);
    }

    #[test]
    fn the_ring_is_reused_and_bounds_lines_in_flight() {
        let mut c = Commits::new(0, 64);
        for round in 0..5u64 {
            let tokens: Vec<_> = (0..64).map(|i| c.push(round * 64 + i + 1)).collect();
            assert!(!c.has_room());
            drop(tokens);
            assert_eq!(c.advance(), round * 64 + 64);
            assert!(c.has_room());
        }
    }

    #[test]
    fn a_refused_line_holds_the_commit_back() {
        let mut c = Commits::new(0, 64);
        let a = c.push(5);
        let b = c.push(9);
        c.refuse(b.seq());
        drop(a);
        drop(b);
        assert_eq!(c.advance(), 5);
    }
}
