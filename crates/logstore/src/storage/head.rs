//! The head: per stream and period, the entries not yet in chunk files (sealed blocks plus the open block), the rules an append must pass, and sealing for flush.
//!
//! A stream keeps one head chunk per period it receives entries for (two
//! around midnight, for as long as the out-of-order window lets entries of
//! the previous day in), so a chunk file never spans two periods and
//! retention can delete a period as a whole.
//!
//! Entries may arrive out of order within the window: the open block keeps
//! itself sorted, and sealed blocks may overlap one another. Readers merge
//! overlapping blocks; a flush rewrites them in order.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use logql::store::EntryRef;
use model::Labels;

use super::block::{Block, Decoded, OpenBlock};
use super::codec::Compression;

/// One stream of one tenant, shared by the index, appenders and flushes.
#[derive(Debug)]
pub(crate) struct StreamEntry {
    pub(crate) labels: Labels,
    pub(crate) head: Mutex<StreamHead>,
}

/// What a stream holds in memory.
#[derive(Debug, Default)]
pub(crate) struct StreamHead {
    /// Newest timestamp ever accepted: the out-of-order window is measured
    /// back from it.
    pub(crate) max_ts: Option<i64>,
    /// Chunks being filled, by period.
    pub(crate) chunks: BTreeMap<i64, HeadChunk>,
    /// Chunks sealed for flushing, oldest first; readable until their file
    /// is in the index.
    pub(crate) sealed: Vec<Arc<SealedChunk>>,
}

/// A chunk being filled.
#[derive(Debug, Clone)]
pub(crate) struct HeadChunk {
    pub(crate) blocks: Vec<Arc<Block>>,
    /// Full blocks being compressed out of the stream's lock, oldest
    /// first, each with its compressed form once done (moved to `blocks`
    /// in this order, so ties keep their arrival order).
    pub(crate) cutting: Vec<Cutting>,
    pub(crate) open: Arc<OpenBlock>,
    /// Sequences of the first and last log records applied to it.
    pub(crate) first_seq: u64,
    pub(crate) last_seq: u64,
    /// Wall clock of the first and last appends (for `max_chunk_age` and
    /// `chunk_idle_period`).
    pub(crate) created_ns: i64,
    pub(crate) last_append_ns: i64,
    /// Bytes of the sealed blocks.
    pub(crate) compressed: usize,
    /// The newest entry time, and how far behind it entries have arrived:
    /// a block cut for size keeps its newest entries within that distance
    /// open, so that late arrivals land in the open block rather than
    /// behind a sealed one (which would make the chunk be rewritten in
    /// order when flushed).
    newest_ts: i64,
    lateness_ns: i64,
}

/// A full block on its way to compression.
#[derive(Debug, Clone)]
pub(crate) struct Cutting {
    /// Identifies it to the compressor that took it.
    id: u64,
    /// Its entries, readable meanwhile.
    pub(crate) raw: Arc<OpenBlock>,
    done: Option<Arc<Block>>,
}

/// A block taken for compression out of the stream's lock
/// ([`StreamHead::take_full_blocks`]), given back compressed with
/// [`StreamHead::finish_block`].
#[derive(Debug)]
pub(crate) struct ToCompress {
    pub(crate) period: i64,
    pub(crate) id: u64,
    pub(crate) raw: Arc<OpenBlock>,
}

impl HeadChunk {
    fn new(seq: u64, now_ns: i64) -> Self {
        Self {
            blocks: Vec::new(),
            cutting: Vec::new(),
            open: Arc::default(),
            first_seq: seq,
            last_seq: seq,
            created_ns: now_ns,
            last_append_ns: now_ns,
            compressed: 0,
            newest_ts: i64::MIN,
            lateness_ns: 0,
        }
    }

    /// Seals the open block because it is full, keeping open the entries
    /// that late arrivals may still land among (unless they are most of
    /// it: then all is sealed, so that blocks keep their size).
    fn cut_full(&mut self, codec: Compression) {
        // Blocks cut earlier come first.
        self.cut_pending(codec);
        let full = self.take_full();
        self.push_block(full.seal(codec));
    }

    /// Compresses, in place, the blocks still being cut.
    fn cut_pending(&mut self, codec: Compression) {
        for c in std::mem::take(&mut self.cutting) {
            let block = match c.done {
                Some(done) => Arc::unwrap_or_clone(done),
                None => c.raw.seal(codec),
            };
            self.push_block(block);
        }
    }

    /// Takes the full open block out, leaving open the entries late
    /// arrivals may land among.
    fn take_full(&mut self) -> OpenBlock {
        if self.lateness_ns > 0 && self.newest_ts > i64::MIN {
            let from = self.newest_ts.saturating_sub(self.lateness_ns);
            let open = Arc::make_mut(&mut self.open);
            let tail = open.split_off(from);
            if tail.len() * 2 <= open.len() {
                let full = std::mem::replace(open, tail);
                return full;
            }
            // Most of the block is recent: put the tail back and seal all.
            for (ts, line, metadata) in tail.iter() {
                open.push(ts, line, metadata);
            }
        }
        Arc::unwrap_or_clone(std::mem::take(&mut self.open))
    }

    fn push_block(&mut self, block: Block) {
        self.compressed += block.data.len();
        self.blocks.push(Arc::new(block));
    }

    /// Compresses whatever is not yet: blocks being cut (their
    /// compressors' results will find them gone) and the open block.
    fn cut(&mut self, codec: Compression) {
        self.cut_pending(codec);
        if self.open.is_empty() {
            return;
        }
        let block = self.open.seal(codec);
        self.push_block(block);
        self.open = Arc::default();
    }

    /// Whether this entry is here already (an exact duplicate). Sealed
    /// blocks that may hold it are decoded into `scratch`.
    fn contains(&self, ts: i64, line: &str, scratch: &mut Scratch) -> bool {
        self.open.contains(ts, line)
            || self.cutting.iter().any(|c| c.raw.contains(ts, line))
            || self
                .blocks
                .iter()
                .any(|b| b.min_ts <= ts && ts <= b.max_ts && scratch.block_contains(b, ts, line))
    }
}

/// A chunk sealed for flushing: immutable, shared with queries.
#[derive(Debug)]
pub(crate) struct SealedChunk {
    /// Its id, given when sealed, so that ids follow arrival order.
    pub(crate) id: u64,
    pub(crate) period: i64,
    pub(crate) blocks: Vec<Arc<Block>>,
    pub(crate) first_seq: u64,
    pub(crate) last_seq: u64,
}

#[cfg(test)]
impl SealedChunk {
    pub(crate) fn bounds(&self) -> (i64, i64) {
        let min = self.blocks.iter().map(|b| b.min_ts).min().unwrap_or(0);
        let max = self.blocks.iter().map(|b| b.max_ts).max().unwrap_or(0);
        (min, max)
    }
}

/// A decoded block kept between duplicate checks of one append, so that a
/// retried batch decodes each sealed block it hits once.
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    block: Option<Arc<Block>>,
    decoded: Decoded,
}

impl Scratch {
    fn block_contains(&mut self, block: &Arc<Block>, ts: i64, line: &str) -> bool {
        if !self.block.as_ref().is_some_and(|b| Arc::ptr_eq(b, block)) {
            self.block = None;
            if self.decoded.load(&block.data).is_err() {
                // A block this process encoded always decodes; if it does
                // not, storing the entry again is the safe side.
                return false;
            }
            self.block = Some(Arc::clone(block));
        }
        let range = self.decoded.range(ts, ts.saturating_add(1));
        range.into_iter().any(|i| self.decoded.get(i).1 == line)
    }
}

/// An entry refused as too old.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rejected {
    /// Position of the entry in its stream of the batch.
    pub index: usize,
    /// Its timestamp.
    pub ts_ns: i64,
    /// The oldest timestamp the stream accepted at that point.
    pub oldest_acceptable_ns: i64,
}

/// The lines a batch holds at one time: nearly always one.
enum BatchLines<'a> {
    One(&'a str),
    Many(Vec<&'a str>),
}

impl<'a> BatchLines<'a> {
    fn contains(&self, line: &str) -> bool {
        match self {
            BatchLines::One(l) => *l == line,
            BatchLines::Many(ls) => ls.contains(&line),
        }
    }

    fn add(&mut self, line: &'a str) {
        match self {
            BatchLines::One(l) => *self = BatchLines::Many(vec![*l, line]),
            BatchLines::Many(ls) => ls.push(line),
        }
    }
}

/// What the rules decided for one stream of a batch.
#[derive(Debug, Default)]
pub(crate) struct Verdict {
    /// Positions of the entries to store, in batch order.
    pub(crate) accepted: Vec<usize>,
    pub(crate) rejected: Vec<Rejected>,
    pub(crate) duplicates: usize,
}

impl StreamHead {
    /// Applies Loki's rules to `entries` (positions in the batch and the
    /// entries): an entry older than the newest one minus `window_ns` is
    /// too far behind; an exact duplicate (same time and line) of one held
    /// in memory or earlier in the batch is dropped.
    pub(crate) fn judge(
        &self,
        entries: &[(usize, EntryRef<'_>)],
        window_ns: i64,
        period_ns: i64,
        scratch: &mut Scratch,
    ) -> Verdict {
        let mut v = Verdict::default();
        let mut newest = self.max_ts;
        // The batch's accepted entries by time: a duplicate has the same
        // time, so lines are compared only then (hashing every line would
        // cost more than the rest of the judging).
        let mut batch: HashMap<i64, BatchLines<'_>, foldhash::fast::RandomState> =
            HashMap::with_capacity_and_hasher(
                entries.len(),
                foldhash::fast::RandomState::default(),
            );
        for &(index, e) in entries {
            if let Some(m) = newest {
                let oldest = m.saturating_sub(window_ns);
                if e.ts_ns < oldest {
                    v.rejected.push(Rejected {
                        index,
                        ts_ns: e.ts_ns,
                        oldest_acceptable_ns: oldest,
                    });
                    continue;
                }
                // An entry newer than everything cannot be a duplicate.
                if e.ts_ns <= m
                    && (batch.get(&e.ts_ns).is_some_and(|b| b.contains(e.line))
                        || self.holds(e.ts_ns, e.line, period_ns, scratch))
                {
                    v.duplicates += 1;
                    continue;
                }
            }
            match batch.entry(e.ts_ns) {
                std::collections::hash_map::Entry::Occupied(mut o) => o.get_mut().add(e.line),
                std::collections::hash_map::Entry::Vacant(slot) => {
                    slot.insert(BatchLines::One(e.line));
                }
            }
            newest = Some(newest.map_or(e.ts_ns, |m| m.max(e.ts_ns)));
            v.accepted.push(index);
        }
        v
    }

    fn holds(&self, ts: i64, line: &str, period_ns: i64, scratch: &mut Scratch) -> bool {
        let period = ts.div_euclid(period_ns);
        self.chunks
            .get(&period)
            .is_some_and(|c| c.contains(ts, line, scratch))
            || self.sealed.iter().filter(|s| s.period == period).any(|s| {
                s.blocks.iter().any(|b| {
                    b.min_ts <= ts && ts <= b.max_ts && scratch.block_contains(b, ts, line)
                })
            })
    }

    /// Stores entries of log record `seq`, skipping those `skip` says are
    /// already in chunk files (replay). Returns whether an open block
    /// reached `block_size` and should be cut.
    pub(crate) fn apply<'a>(
        &mut self,
        seq: u64,
        now_ns: i64,
        entries: impl Iterator<Item = (i64, &'a str, &'a Labels)>,
        period_ns: i64,
        block_size: usize,
        skip: impl Fn(i64) -> bool,
    ) -> bool {
        let mut full = false;
        for (ts, line, metadata) in entries {
            let period = ts.div_euclid(period_ns);
            if skip(period) {
                continue;
            }
            let chunk = self
                .chunks
                .entry(period)
                .or_insert_with(|| HeadChunk::new(seq, now_ns));
            if ts < chunk.newest_ts {
                chunk.lateness_ns = chunk.lateness_ns.max(chunk.newest_ts - ts);
            } else {
                chunk.newest_ts = ts;
            }
            let open = Arc::make_mut(&mut chunk.open);
            open.reserve_for(block_size);
            open.push(ts, line, metadata);
            chunk.last_seq = seq;
            chunk.last_append_ns = chunk.last_append_ns.max(now_ns);
            full |= chunk.open.line_bytes() >= block_size;
            self.max_ts = Some(self.max_ts.map_or(ts, |m| m.max(ts)));
        }
        full
    }

    /// Seals every open block of at least `block_size` bytes.
    pub(crate) fn cut_full_blocks(&mut self, block_size: usize, codec: Compression) {
        for chunk in self.chunks.values_mut() {
            if chunk.open.line_bytes() >= block_size {
                chunk.cut_full(codec);
            }
        }
    }

    /// Takes every full open block out for compression out of the lock;
    /// meanwhile its entries stay readable and count for duplicates.
    /// `next_id` numbers them.
    pub(crate) fn take_full_blocks(
        &mut self,
        block_size: usize,
        next_id: &mut impl FnMut() -> u64,
    ) -> Vec<ToCompress> {
        let mut out = Vec::new();
        for (&period, chunk) in &mut self.chunks {
            if chunk.open.line_bytes() >= block_size {
                let raw = Arc::new(chunk.take_full());
                let id = next_id();
                chunk.cutting.push(Cutting {
                    id,
                    raw: Arc::clone(&raw),
                    done: None,
                });
                out.push(ToCompress { period, id, raw });
            }
        }
        out
    }

    /// Gives back a block taken by [`StreamHead::take_full_blocks`],
    /// compressed; blocks move to the chunk in the order they were taken.
    /// A block whose chunk was sealed meanwhile (which compressed it
    /// itself) is dropped.
    pub(crate) fn finish_block(&mut self, period: i64, id: u64, block: Block) {
        let Some(chunk) = self.chunks.get_mut(&period) else {
            return;
        };
        let Some(c) = chunk.cutting.iter_mut().find(|c| c.id == id) else {
            return;
        };
        c.done = Some(Arc::new(block));
        while chunk.cutting.first().is_some_and(|c| c.done.is_some()) {
            let c = chunk.cutting.remove(0);
            if let Some(done) = c.done {
                chunk.push_block(Arc::unwrap_or_clone(done));
            }
        }
    }

    /// Seals the chunk of `period` for flushing under id `id`.
    pub(crate) fn seal(
        &mut self,
        period: i64,
        id: u64,
        codec: Compression,
    ) -> Option<Arc<SealedChunk>> {
        let mut chunk = self.chunks.remove(&period)?;
        chunk.cut(codec);
        let sealed = Arc::new(SealedChunk {
            id,
            period,
            blocks: chunk.blocks,
            first_seq: chunk.first_seq,
            last_seq: chunk.last_seq,
        });
        self.sealed.push(Arc::clone(&sealed));
        Some(sealed)
    }

    /// Forgets a sealed chunk once its file is in the index.
    pub(crate) fn unseal(&mut self, id: u64) {
        self.sealed.retain(|s| s.id != id);
    }

    /// Sequence of the oldest log record with entries only held here.
    pub(crate) fn oldest_seq(&self) -> Option<u64> {
        let chunks = self.chunks.values().map(|c| c.first_seq);
        let sealed = self.sealed.iter().map(|s| s.first_seq);
        chunks.chain(sealed).min()
    }

    /// Whether nothing is held in memory.
    pub(crate) fn is_empty(&self) -> bool {
        self.chunks.is_empty() && self.sealed.is_empty()
    }

    /// Time bounds and sizes of what is held, for the index API:
    /// `(min, max, chunks, entries, line bytes)` over data overlapping
    /// `[start, end)`.
    pub(crate) fn stats(&self, start: i64, end: i64) -> HeadStats {
        let mut s = HeadStats::default();
        let mut add = |blocks: &mut dyn Iterator<Item = (i64, i64, u64, u64)>| {
            let mut any = false;
            for (min, max, entries, bytes) in blocks {
                if min < end && max >= start {
                    any = true;
                    s.entries += entries;
                    s.line_bytes += bytes;
                }
            }
            if any {
                s.chunks += 1;
            }
        };
        for c in self.chunks.values() {
            let open = c
                .open
                .bounds()
                .map(|(min, max)| (min, max, c.open.len() as u64, c.open.line_bytes() as u64));
            let cutting = c.cutting.iter().filter_map(|k| {
                k.raw
                    .bounds()
                    .map(|(min, max)| (min, max, k.raw.len() as u64, k.raw.line_bytes() as u64))
            });
            add(&mut c
                .blocks
                .iter()
                .map(|b| (b.min_ts, b.max_ts, b.entries, b.line_bytes))
                .chain(cutting)
                .chain(open));
        }
        for sc in &self.sealed {
            add(&mut sc
                .blocks
                .iter()
                .map(|b| (b.min_ts, b.max_ts, b.entries, b.line_bytes)));
        }
        s
    }
}

/// Sizes of what a stream holds in memory within a range.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct HeadStats {
    pub(crate) chunks: u64,
    pub(crate) entries: u64,
    pub(crate) line_bytes: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(ts: i64, line: &str) -> EntryRef<'_> {
        EntryRef {
            ts_ns: ts,
            line,
            metadata: &Labels::EMPTY,
        }
    }

    /// Applies `ts` (with lines named after them) in this order.
    fn apply_all(h: &mut StreamHead, ts: &[i64], block_size: usize) -> bool {
        let lines: Vec<String> = ts.iter().map(|t| format!("line {t}")).collect();
        h.apply(
            1,
            0,
            ts.iter()
                .zip(&lines)
                .map(|(&t, l)| (t, l.as_str(), &Labels::EMPTY)),
            1_000_000,
            block_size,
            |_| false,
        )
    }

    /// Entries that arrived late taught the stream how late they come: a
    /// block cut for size keeps its newest entries within that distance
    /// open, so the next late one lands there, not behind a sealed block.
    #[test]
    fn a_full_block_keeps_open_the_entries_late_arrivals_may_land_among() {
        let mut h = StreamHead::default();
        // 0..10 with 8 and 9 swapped: a lateness of 1.
        let full = apply_all(&mut h, &[0, 1, 2, 3, 4, 5, 6, 7, 9, 8], 60);
        assert!(full);
        h.cut_full_blocks(60, Compression::Zstd(1));
        let chunk = &h.chunks[&0];
        assert_eq!(chunk.blocks.len(), 1);
        assert_eq!((chunk.blocks[0].min_ts, chunk.blocks[0].max_ts), (0, 7));
        assert_eq!(chunk.open.bounds(), Some((8, 9)));
        // The late one lands in the open block: the sealed one stays
        // before it, so no chunk rewrite is needed.
        apply_all(&mut h, &[10, 12, 11], 1000);
        let chunk = &h.chunks[&0];
        assert!(chunk.blocks[0].max_ts < chunk.open.bounds().map_or(0, |b| b.0));

        // Without late arrivals, the whole block is sealed.
        let mut h = StreamHead::default();
        apply_all(&mut h, &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 60);
        h.cut_full_blocks(60, Compression::Zstd(1));
        assert!(h.chunks[&0].open.is_empty());
    }

    /// Blocks taken for compression out of the lock stay readable and
    /// count for duplicates; they join the chunk in the order taken.
    #[test]
    fn blocks_being_compressed_stay_visible_and_keep_their_order() {
        let mut h = StreamHead::default();
        apply_all(&mut h, &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 60);
        let mut id = 0;
        let mut next = || {
            id += 1;
            id
        };
        let first = h.take_full_blocks(60, &mut next);
        apply_all(&mut h, &[10, 11, 12, 13, 14, 15, 16, 17, 18, 19], 60);
        let second = h.take_full_blocks(60, &mut next);
        assert_eq!((first.len(), second.len()), (1, 1));
        let mut scratch = Scratch::default();
        let v = h.judge(&[(0, e(3, "line 3"))], 1_000_000, 1_000_000, &mut scratch);
        assert_eq!(v.duplicates, 1, "a block being compressed holds line 3");
        let mut runs = Vec::new();
        h.snapshot(0, 100, &mut runs);
        assert_eq!(runs.len(), 2, "both taken blocks are read");
        // The second finishes first; it waits for the first.
        h.finish_block(
            second[0].period,
            second[0].id,
            second[0].raw.seal(Compression::Zstd(1)),
        );
        assert!(h.chunks[&0].blocks.is_empty());
        h.finish_block(
            first[0].period,
            first[0].id,
            first[0].raw.seal(Compression::Zstd(1)),
        );
        let blocks = &h.chunks[&0].blocks;
        assert_eq!(
            blocks
                .iter()
                .map(|b| (b.min_ts, b.max_ts))
                .collect::<Vec<_>>(),
            [(0, 9), (10, 19)]
        );
        assert!(h.chunks[&0].cutting.is_empty());
    }

    #[test]
    fn judging_rejects_too_old_and_drops_duplicates_in_head_blocks_and_batch() {
        let mut h = StreamHead::default();
        let mut scratch = Scratch::default();
        let first = [(0, e(100, "a")), (1, e(100, "a")), (2, e(90, "b"))];
        let v = h.judge(&first, 50, 1000, &mut scratch);
        assert_eq!((v.accepted.clone(), v.duplicates), (vec![0, 2], 1));
        h.apply(
            1,
            0,
            v.accepted
                .iter()
                .map(|&i| (first[i].1.ts_ns, first[i].1.line, &Labels::EMPTY)),
            1000,
            1,
            |_| false,
        );
        h.cut_full_blocks(1, Compression::Zstd(1));
        assert_eq!(
            h.chunks[&0].blocks.len(),
            1,
            "the full open block was sealed"
        );
        let second = [
            (0, e(90, "b")),
            (1, e(40, "old")),
            (2, e(50, "edge")),
            (3, e(95, "c")),
        ];
        let v = h.judge(&second, 50, 1000, &mut scratch);
        assert_eq!(v.accepted, [2, 3]);
        assert_eq!(v.duplicates, 1);
        assert_eq!(
            v.rejected,
            [Rejected {
                index: 1,
                ts_ns: 40,
                oldest_acceptable_ns: 50
            }]
        );
    }

    #[test]
    fn entries_go_to_their_period_and_sealing_keeps_them_readable() {
        let mut h = StreamHead::default();
        let entries = [(999, "x"), (1000, "y"), (1001, "z")];
        h.apply(
            7,
            5,
            entries.iter().map(|&(t, l)| (t, l, &Labels::EMPTY)),
            1000,
            1 << 20,
            |p| p == 2,
        );
        assert_eq!(h.chunks.keys().copied().collect::<Vec<_>>(), [0, 1]);
        assert_eq!(h.oldest_seq(), Some(7));
        let sealed = h.seal(1, 42, Compression::Lz4).unwrap();
        assert_eq!((sealed.bounds(), sealed.blocks.len()), ((1000, 1001), 1));
        assert_eq!(h.stats(0, 2000).entries, 3);
        h.unseal(42);
        assert_eq!(h.stats(0, 2000).entries, 1);
    }
}
