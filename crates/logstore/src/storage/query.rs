//! Reading: what a query holds of a stream (shared chunk references and a snapshot of the head), and the cursors that walk it in time order either way, one block at a time.
//!
//! A stream's data is a list of *runs*, each sorted: a chunk file, a
//! sealed block, the open block. Runs are listed in arrival order, and
//! entries are ordered by time, ties by arrival (run, then position), the
//! exact reverse backward. Runs that do not overlap are chained and read one
//! after another; only overlapping runs (out-of-order writes not yet
//! rewritten by a flush) are merged, through a small heap.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::ops::Range;
use std::sync::Arc;

use logql::eval::Direction;
use logql::eval::Stats;
use logql::store::{Cursor, EntryRef, StoreError, StreamEntries, check_deadline};
use memchr::memmem::{Finder, FinderRev};
use model::Labels;
use std::time::Instant;

use super::block::{Block, Decoded, OpenBlock};
use super::chunk::{BlockMeta, ChunkReader, ChunkRef};
use super::head::StreamHead;

/// One sorted piece of a stream.
#[derive(Debug, Clone)]
pub(crate) enum Run {
    Chunk(Arc<ChunkRef>),
    Block(Arc<Block>),
    Open(Arc<OpenBlock>),
}

impl Run {
    fn bounds(&self) -> (i64, i64) {
        match self {
            Run::Chunk(c) => (c.min_ts, c.max_ts),
            Run::Block(b) => (b.min_ts, b.max_ts),
            Run::Open(o) => o.bounds().unwrap_or((0, 0)),
        }
    }
}

fn overlaps(min: i64, max: i64, start: i64, end: i64) -> bool {
    min < end && max >= start
}

impl StreamHead {
    /// Adds the runs this head holds in `[start, end)`, after the stream's
    /// chunk files: sealed chunks, then each period's blocks and open block.
    pub(crate) fn snapshot(&self, start: i64, end: i64, runs: &mut Vec<Run>) {
        for s in &self.sealed {
            for b in &s.blocks {
                if overlaps(b.min_ts, b.max_ts, start, end) {
                    runs.push(Run::Block(Arc::clone(b)));
                }
            }
        }
        for c in self.chunks.values() {
            for b in &c.blocks {
                if overlaps(b.min_ts, b.max_ts, start, end) {
                    runs.push(Run::Block(Arc::clone(b)));
                }
            }
            for k in &c.cutting {
                if !k.raw.range(start, end).is_empty() {
                    runs.push(Run::Open(Arc::clone(&k.raw)));
                }
            }
            if !c.open.range(start, end).is_empty() {
                runs.push(Run::Open(Arc::clone(&c.open)));
            }
        }
    }
}

/// The part of one stream a query selected.
#[derive(Debug)]
pub(crate) struct StreamData {
    pub(crate) runs: Vec<Run>,
    pub(crate) start: i64,
    pub(crate) end: i64,
}

impl StreamData {
    /// Groups the runs into chains of runs that follow one another in time
    /// (each in arrival order).
    fn chains(&self) -> Vec<Vec<usize>> {
        let mut chains: Vec<(i64, Vec<usize>)> = Vec::new();
        for (i, run) in self.runs.iter().enumerate() {
            let (min, max) = run.bounds();
            match chains.iter_mut().find(|(last, _)| *last <= min) {
                Some((last, chain)) => {
                    *last = max;
                    chain.push(i);
                }
                None => chains.push((max, vec![i])),
            }
        }
        chains.into_iter().map(|(_, c)| c).collect()
    }
}

impl StreamEntries for StreamData {
    fn cursor(&self, direction: Direction) -> Result<Box<dyn Cursor + '_>, StoreError> {
        let mut chains: Vec<ChainCursor<'_>> = self
            .chains()
            .into_iter()
            .map(|order| ChainCursor::new(self, order, direction))
            .collect();
        if chains.len() == 1 {
            if let Some(only) = chains.pop() {
                return Ok(Box::new(only));
            }
        }
        Ok(Box::new(MergeCursor::new(chains, direction)?))
    }
}

/// A block waiting to be read in the current run.
#[derive(Debug)]
enum Pending<'a> {
    File(BlockMeta),
    Mem(&'a Block),
}

/// Where the current entry comes from.
#[derive(Debug, Clone, Copy)]
enum Source<'a> {
    None,
    Decoded,
    Open(&'a OpenBlock),
}

/// Reads runs that do not overlap, one after another.
struct ChainCursor<'a> {
    data: &'a StreamData,
    /// Positions in `data.runs`, in the order to read them.
    order: Vec<usize>,
    next_run: usize,
    direction: Direction,
    /// The run being read.
    run: usize,
    chunk: Option<ChunkReader>,
    pending: Vec<Pending<'a>>,
    /// Compressed bytes of the last block read from a file.
    buf: Vec<u8>,
    decoded: Decoded,
    source: Source<'a>,
    /// Positions of the current source still to hand out.
    left: Range<usize>,
    current: usize,
}

impl<'a> ChainCursor<'a> {
    fn new(data: &'a StreamData, mut order: Vec<usize>, direction: Direction) -> Self {
        if direction == Direction::Backward {
            order.reverse();
        }
        Self {
            data,
            order,
            next_run: 0,
            direction,
            run: 0,
            chunk: None,
            pending: Vec::new(),
            buf: Vec::new(),
            decoded: Decoded::default(),
            source: Source::None,
            left: 0..0,
            current: 0,
        }
    }

    fn forward(&self) -> bool {
        self.direction == Direction::Forward
    }

    /// Opens the next run; `false` when there is none.
    fn next_run(&mut self) -> Result<bool, StoreError> {
        let Some(&i) = self.order.get(self.next_run) else {
            return Ok(false);
        };
        self.next_run += 1;
        self.run = i;
        self.source = Source::None;
        self.left = 0..0;
        self.chunk = None;
        let (start, end) = (self.data.start, self.data.end);
        match &self.data.runs[i] {
            Run::Chunk(c) => {
                let reader = ChunkReader::open(&c.path).map_err(StoreError::from)?;
                // Pending blocks are taken from the back.
                let mut blocks: Vec<Pending<'a>> = reader
                    .blocks
                    .iter()
                    .filter(|b| overlaps(b.min_ts, b.max_ts, start, end))
                    .map(|b| Pending::File(*b))
                    .collect();
                if self.forward() {
                    blocks.reverse();
                }
                self.pending = blocks;
                self.chunk = Some(reader);
            }
            Run::Block(b) => self.pending = vec![Pending::Mem(b)],
            Run::Open(o) => {
                self.source = Source::Open(o);
                self.left = o.range(start, end);
            }
        }
        Ok(true)
    }

    /// Decodes the next pending block of the run; `false` when there is
    /// none.
    fn next_block(&mut self) -> Result<bool, StoreError> {
        let Some(p) = self.pending.pop() else {
            return Ok(false);
        };
        self.source = Source::None;
        let result = match p {
            Pending::Mem(b) => self
                .decoded
                .load(&b.data)
                .map_err(|why| StoreError::from(super::StorageError::CorruptBlock(why))),
            Pending::File(meta) => {
                let Some(reader) = &self.chunk else {
                    return Ok(false);
                };
                reader
                    .read_block(&meta, &mut self.buf)
                    .map_err(StoreError::from)?;
                self.decoded.load(&self.buf).map_err(|why| {
                    StoreError::from(super::StorageError::corrupt(reader.path(), why))
                })
            }
        };
        result?;
        self.source = Source::Decoded;
        self.left = self.decoded.range(self.data.start, self.data.end);
        Ok(true)
    }
}

impl Cursor for ChainCursor<'_> {
    fn advance(&mut self) -> Result<bool, StoreError> {
        loop {
            if !self.left.is_empty() {
                self.current = if self.forward() {
                    self.left.start += 1;
                    self.left.start - 1
                } else {
                    self.left.end -= 1;
                    self.left.end
                };
                return Ok(true);
            }
            if self.next_block()? {
                continue;
            }
            if !self.next_run()? {
                self.source = Source::None;
                return Ok(false);
            }
        }
    }

    /// Through decoded blocks, the needle is searched in each block's lines
    /// at once, either way: entries without it cost nothing each.
    fn advance_to_containing(
        &mut self,
        needle: &Finder<'_>,
        read: &mut Stats,
        deadline: Option<Instant>,
    ) -> Result<bool, StoreError> {
        let forward = self.forward();
        let rev = (!forward).then(|| FinderRev::new(needle.needle()));
        loop {
            if !self.left.is_empty() {
                match self.source {
                    Source::Decoded => {
                        // Once per block: the query's time may run out
                        // while a needle never comes.
                        check_deadline(deadline)?;
                        let (found, lines, bytes) = match &rev {
                            None => self.decoded.find_containing(self.left.clone(), needle),
                            Some(rev) => self.decoded.rfind_containing(self.left.clone(), rev),
                        };
                        read.lines_processed += lines;
                        read.bytes_processed += bytes;
                        match (found, forward) {
                            (Some(i), true) => {
                                self.current = i;
                                self.left.start = i + 1;
                                return Ok(true);
                            }
                            (Some(i), false) => {
                                self.current = i;
                                self.left.end = i;
                                return Ok(true);
                            }
                            (None, _) => self.left.start = self.left.end,
                        }
                    }
                    // The open block's lines are in arrival order: one by one.
                    Source::Open(_) | Source::None => {
                        self.current = if forward {
                            self.left.start += 1;
                            self.left.start - 1
                        } else {
                            self.left.end -= 1;
                            self.left.end
                        };
                        let line = self.entry().line.as_bytes();
                        read.lines_processed += 1;
                        read.bytes_processed += line.len() as u64;
                        if needle.find(line).is_some() {
                            return Ok(true);
                        }
                        if read.lines_processed % 4096 == 0 {
                            check_deadline(deadline)?;
                        }
                    }
                }
                continue;
            }
            if self.next_block()? {
                continue;
            }
            if !self.next_run()? {
                self.source = Source::None;
                return Ok(false);
            }
        }
    }

    fn ts(&self) -> i64 {
        match self.source {
            Source::Decoded => self.decoded.ts(self.current),
            Source::Open(o) => o.get(self.current).map_or(0, |e| e.0),
            Source::None => 0,
        }
    }

    fn entry(&self) -> EntryRef<'_> {
        let (ts_ns, line, metadata) = match self.source {
            Source::Decoded => self.decoded.get(self.current),
            Source::Open(o) => o.get(self.current).unwrap_or((0, "", &Labels::EMPTY)),
            Source::None => (0, "", &Labels::EMPTY),
        };
        EntryRef {
            ts_ns,
            line,
            metadata,
        }
    }
}

/// The heap key of a chain positioned on an entry: the greatest is next.
#[derive(Debug, PartialEq, Eq)]
struct Key {
    /// Time, negated forward (as i128 so that no time overflows).
    ts: i128,
    /// Run, negated forward: ties go to the earlier run forward.
    run: i128,
    chain: usize,
}

impl Ord for Key {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.ts, self.run).cmp(&(other.ts, other.run))
    }
}

impl PartialOrd for Key {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Merges chains that overlap in time, dropping exact duplicates (same
/// time and line) across them, as Loki's querier does: an entry pushed
/// again after its first copy was flushed (a client retrying across a
/// restart) is stored twice but read once.
struct MergeCursor<'a> {
    chains: Vec<ChainCursor<'a>>,
    heap: BinaryHeap<Key>,
    forward: bool,
    /// The chain whose entry was handed out last: it advances on the next
    /// call, once the caller no longer borrows that entry.
    current: Option<usize>,
    /// The time of the entries handed out last, and their lines.
    seen_ts: i64,
    seen: Vec<String>,
}

impl<'a> MergeCursor<'a> {
    fn new(mut chains: Vec<ChainCursor<'a>>, direction: Direction) -> Result<Self, StoreError> {
        let forward = direction == Direction::Forward;
        let mut heap = BinaryHeap::with_capacity(chains.len());
        for (i, c) in chains.iter_mut().enumerate() {
            if c.advance()? {
                heap.push(Self::key(forward, c, i));
            }
        }
        Ok(Self {
            chains,
            heap,
            forward,
            current: None,
            seen_ts: i64::MIN,
            seen: Vec::new(),
        })
    }

    fn key(forward: bool, c: &ChainCursor<'_>, chain: usize) -> Key {
        let ts = i128::from(c.ts());
        let run = c.run as i128;
        if forward {
            Key {
                ts: -ts,
                run: -run,
                chain,
            }
        } else {
            Key { ts, run, chain }
        }
    }
}

/// What a [`MergeCursor`] step looks for: the next entry, or the next one
/// whose line holds a needle (counting what the search reads).
type Search<'n, 'r> = Option<(&'n Finder<'n>, &'r mut Stats, Option<Instant>)>;

impl MergeCursor<'_> {
    fn step(&mut self, mut search: Search<'_, '_>) -> Result<bool, StoreError> {
        loop {
            let mut next = None;
            if let Some(i) = self.current.take() {
                if let Some(c) = self.chains.get_mut(i) {
                    let more = match search.as_mut() {
                        Some((needle, read, deadline)) => {
                            c.advance_to_containing(needle, read, *deadline)?
                        }
                        None => c.advance()?,
                    };
                    if more {
                        let key = Self::key(self.forward, c, i);
                        // Still ahead of every other chain: no heap work
                        // (overlaps are short, so this is the common case).
                        if self.heap.peek().is_none_or(|top| key > *top) {
                            next = Some(key);
                        } else {
                            self.heap.push(key);
                        }
                    }
                }
            }
            let Some(k) = next.or_else(|| self.heap.pop()) else {
                return Ok(false);
            };
            self.current = Some(k.chain);
            let Some(c) = self.chains.get(k.chain) else {
                return Ok(false);
            };
            let e = c.entry();
            if let Some((needle, read, _)) = search.as_mut() {
                // A chain's first entry was taken before any search: one
                // without the needle is passed over here.
                if needle.find(e.line.as_bytes()).is_none() {
                    read.lines_processed += 1;
                    read.bytes_processed += e.line.len() as u64;
                    continue;
                }
            }
            if e.ts_ns != self.seen_ts {
                self.seen_ts = e.ts_ns;
                self.seen.clear();
            } else if self.seen.iter().any(|l| l == e.line) {
                continue;
            }
            // A duplicate can only sit in another chain at this same time;
            // the line is kept only when some chain does.
            let top_ts = self
                .heap
                .peek()
                .map(|top| if self.forward { -top.ts } else { top.ts });
            if top_ts == Some(i128::from(e.ts_ns)) {
                self.seen.push(e.line.to_owned());
            }
            return Ok(true);
        }
    }
}

impl Cursor for MergeCursor<'_> {
    fn advance(&mut self) -> Result<bool, StoreError> {
        self.step(None)
    }

    /// Each chain searches on its own; the merge orders what they find.
    fn advance_to_containing(
        &mut self,
        needle: &Finder<'_>,
        read: &mut Stats,
        deadline: Option<Instant>,
    ) -> Result<bool, StoreError> {
        self.step(Some((needle, read, deadline)))
    }

    fn ts(&self) -> i64 {
        self.current
            .and_then(|i| self.chains.get(i))
            .map_or(0, |c| c.ts())
    }

    fn entry(&self) -> EntryRef<'_> {
        match self.current.and_then(|i| self.chains.get(i)) {
            Some(c) => c.entry(),
            None => EntryRef {
                ts_ns: 0,
                line: "",
                metadata: &Labels::EMPTY,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::codec::Compression;

    fn open(entries: &[(i64, &str)]) -> OpenBlock {
        let mut b = OpenBlock::default();
        for &(t, l) in entries {
            b.push(t, l, &Labels::EMPTY);
        }
        b
    }

    fn read(data: &StreamData, d: Direction) -> Vec<(i64, String)> {
        let mut c = data.cursor(d).unwrap();
        let mut out = Vec::new();
        while c.advance().unwrap() {
            let e = c.entry();
            out.push((e.ts_ns, e.line.to_owned()));
        }
        assert!(!c.advance().unwrap());
        out
    }

    #[test]
    fn overlapping_runs_merge_in_time_then_arrival_order_both_ways() {
        let b1 = open(&[(1, "a"), (5, "b"), (9, "c")]).seal(Compression::Zstd(1));
        let b2 = open(&[(5, "d"), (6, "e")]).seal(Compression::Lz4);
        let b3 = open(&[(10, "f"), (12, "g")]).seal(Compression::Snappy);
        let o = open(&[(5, "h"), (13, "i")]);
        let data = StreamData {
            runs: vec![
                Run::Block(Arc::new(b1)),
                Run::Block(Arc::new(b2)),
                Run::Block(Arc::new(b3)),
                Run::Open(Arc::new(o)),
            ],
            start: 0,
            end: 13,
        };
        assert_eq!(data.chains().len(), 3);
        let fwd = read(&data, Direction::Forward);
        let lines: String = fwd.iter().map(|(_, l)| l.as_str()).collect();
        assert_eq!(lines, "abdhecfg");
        let mut bwd = read(&data, Direction::Backward);
        bwd.reverse();
        assert_eq!(bwd, fwd);
    }

    #[test]
    fn a_single_chain_reads_without_a_heap_and_respects_the_range() {
        let b1 = open(&[(1, "a"), (2, "b")]).seal(Compression::Zstd(1));
        let o = open(&[(3, "c"), (4, "d")]);
        let data = StreamData {
            runs: vec![Run::Block(Arc::new(b1)), Run::Open(Arc::new(o))],
            start: 2,
            end: 4,
        };
        assert_eq!(data.chains().len(), 1);
        assert_eq!(
            read(&data, Direction::Forward),
            [(2, "b".to_owned()), (3, "c".to_owned())]
        );
        assert_eq!(
            read(&data, Direction::Backward),
            [(3, "c".to_owned()), (2, "b".to_owned())]
        );
    }
}
