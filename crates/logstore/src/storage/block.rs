//! Blocks, the unit of compression: the open block a head appends to, sealed (compressed) blocks, and the decoder a cursor reuses.
//!
//! A sealed block is self-describing:
//!
//! ```text
//! [codec tag: u8][header length: uvarint][lines length: uvarint]
//! [compressed header length: uvarint][compressed header][compressed lines]
//!
//! header: [entry count: uvarint]
//!         [metadata table: count, then each label set]
//!         [first timestamp: varint][n-1 deltas to the previous: uvarint]
//!         [line lengths: n uvarint]
//!         [metadata index per entry, 0 = none: n uvarint, only when the table is not empty]
//! lines:  every line, concatenated
//! ```
//!
//! The lines are compressed apart from the header so that a reader can
//! decode them straight into a `String` and check UTF-8 once per block: a
//! cursor then lends `&str` lines by offset, with no per-entry check or
//! allocation. Entries inside a block are in time order, ties in arrival
//! order.

use std::ops::Range;

use model::Labels;
use segments::{Reader, put_uvarint, put_varint};

use super::codec::Compression;

use super::encoding::{ReadLabels, put_labels};

/// A bound on the decoded size of a header or lines section, so that a
/// corrupt length cannot make a reader allocate without limit.
const MAX_SECTION: usize = 1 << 30;

/// One entry of an [`OpenBlock`].
#[derive(Debug, Clone)]
struct OpenEntry {
    ts: i64,
    start: usize,
    end: usize,
    metadata: Labels,
}

/// The block a head appends to: lines in one buffer, entries kept in time
/// order (an entry older than the newest is inserted in place, after the
/// entries of its own timestamp, so ties keep their arrival order).
#[derive(Debug, Clone, Default)]
pub(crate) struct OpenBlock {
    lines: String,
    entries: Vec<OpenEntry>,
}

impl OpenBlock {
    /// Makes room for a whole block of `block_size` line bytes once the
    /// block is a quarter full: grown by doubling, a block cut just past
    /// 256 KiB would hold 512 KiB in every busy stream, while a quiet
    /// stream (most of them) keeps a small buffer.
    pub(crate) fn reserve_for(&mut self, block_size: usize) {
        let want = block_size + block_size / 16;
        if self.lines.capacity() < want && self.lines.len() >= block_size / 4 {
            // A line may end past the cut: a little slack for the last.
            self.lines.reserve(want - self.lines.len());
        }
    }

    /// Moves the entries at or after `from_ts` into a new block, which it
    /// returns; this block keeps the older ones (their lines stay in its
    /// buffer, which is sealed next).
    pub(crate) fn split_off(&mut self, from_ts: i64) -> OpenBlock {
        let at = self.entries.partition_point(|e| e.ts < from_ts);
        let mut tail = OpenBlock::default();
        for e in self.entries.drain(at..) {
            if let Some(line) = self.lines.get(e.start..e.end) {
                let start = tail.lines.len();
                tail.lines.push_str(line);
                tail.entries.push(OpenEntry {
                    ts: e.ts,
                    start,
                    end: tail.lines.len(),
                    metadata: e.metadata,
                });
            }
        }
        tail
    }

    /// Adds an entry.
    pub(crate) fn push(&mut self, ts: i64, line: &str, metadata: &Labels) {
        let start = self.lines.len();
        self.lines.push_str(line);
        let entry = OpenEntry {
            ts,
            start,
            end: self.lines.len(),
            metadata: metadata.clone(),
        };
        // The common case, an entry newer than all others, is a push.
        if self.entries.last().is_none_or(|e| e.ts <= ts) {
            self.entries.push(entry);
        } else {
            let pos = self.entries.partition_point(|e| e.ts <= ts);
            self.entries.insert(pos, entry);
        }
    }

    /// Whether an entry with this timestamp and line is already here.
    pub(crate) fn contains(&self, ts: i64, line: &str) -> bool {
        let from = self.entries.partition_point(|e| e.ts < ts);
        self.entries[from..]
            .iter()
            .take_while(|e| e.ts == ts)
            .any(|e| self.lines.get(e.start..e.end) == Some(line))
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Bytes of line text held.
    pub(crate) fn line_bytes(&self) -> usize {
        self.lines.len()
    }

    /// Time of the oldest and newest entries.
    pub(crate) fn bounds(&self) -> Option<(i64, i64)> {
        Some((self.entries.first()?.ts, self.entries.last()?.ts))
    }

    /// Positions of the entries in `[start, end)`.
    pub(crate) fn range(&self, start: i64, end: i64) -> Range<usize> {
        let from = self.entries.partition_point(|e| e.ts < start);
        let to = self.entries.partition_point(|e| e.ts < end).max(from);
        from..to
    }

    /// The entry at `i`.
    pub(crate) fn get(&self, i: usize) -> Option<(i64, &str, &Labels)> {
        let e = self.entries.get(i)?;
        Some((e.ts, self.lines.get(e.start..e.end)?, &e.metadata))
    }

    /// Every entry in time order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (i64, &str, &Labels)> {
        (0..self.entries.len()).filter_map(|i| self.get(i))
    }

    /// Compresses the block.
    pub(crate) fn seal(&self, codec: Compression) -> Block {
        encode(self.iter(), codec)
    }
}

/// A sealed block: compressed, immutable, shared with queries.
#[derive(Debug, Clone)]
pub(crate) struct Block {
    /// Oldest entry.
    pub(crate) min_ts: i64,
    /// Newest entry.
    pub(crate) max_ts: i64,
    /// Number of entries.
    pub(crate) entries: u64,
    /// Bytes of line text, uncompressed.
    pub(crate) line_bytes: u64,
    /// The encoded block (see the module documentation).
    pub(crate) data: Box<[u8]>,
}

/// Encodes entries given in time order (ties in arrival order) as a block.
pub(crate) fn encode<'a>(
    entries: impl Iterator<Item = (i64, &'a str, &'a Labels)>,
    codec: Compression,
) -> Block {
    let mut ts = Vec::new();
    let mut lens = Vec::new();
    let mut meta_idx = Vec::new();
    let mut table: Vec<&Labels> = Vec::new();
    let mut lines = Vec::new();
    for (t, line, metadata) in entries {
        ts.push(t);
        lens.push(line.len());
        lines.extend_from_slice(line.as_bytes());
        let idx = if metadata.is_empty() {
            0
        } else {
            // Blocks rarely carry more than a handful of distinct sets.
            match table.iter().position(|m| *m == metadata) {
                Some(i) => i + 1,
                None => {
                    table.push(metadata);
                    table.len()
                }
            }
        };
        meta_idx.push(idx);
    }
    let mut header = Vec::with_capacity(ts.len() * 4 + 16);
    put_uvarint(&mut header, ts.len() as u64);
    put_uvarint(&mut header, table.len() as u64);
    for m in &table {
        put_labels(&mut header, m);
    }
    let mut prev = 0i64;
    for (i, &t) in ts.iter().enumerate() {
        if i == 0 {
            put_varint(&mut header, t);
        } else {
            put_uvarint(&mut header, t.wrapping_sub(prev) as u64);
        }
        prev = t;
    }
    for &l in &lens {
        put_uvarint(&mut header, l as u64);
    }
    if !table.is_empty() {
        for &i in &meta_idx {
            put_uvarint(&mut header, i as u64);
        }
    }
    let header_c = codec.compress(&header);
    let lines_c = codec.compress(&lines);
    let mut data = Vec::with_capacity(header_c.len() + lines_c.len() + 16);
    data.push(codec.tag());
    put_uvarint(&mut data, header.len() as u64);
    put_uvarint(&mut data, lines.len() as u64);
    put_uvarint(&mut data, header_c.len() as u64);
    data.extend_from_slice(&header_c);
    data.extend_from_slice(&lines_c);
    Block {
        min_ts: ts.first().copied().unwrap_or(0),
        max_ts: ts.last().copied().unwrap_or(0),
        entries: ts.len() as u64,
        line_bytes: lines.len() as u64,
        data: data.into_boxed_slice(),
    }
}

/// One decoded entry: its time, where its line lies, its metadata.
#[derive(Debug, Clone, Copy)]
struct DecodedEntry {
    ts: i64,
    start: u32,
    end: u32,
    meta: u32,
}

/// A decoded block, reused from one block to the next by a cursor so that
/// reading allocates only when a block is larger than any before.
#[derive(Debug, Default)]
pub(crate) struct Decoded {
    header: Vec<u8>,
    lines: String,
    entries: Vec<DecodedEntry>,
    /// Metadata sets; index 0 is the empty set.
    metas: Vec<Labels>,
}

impl Decoded {
    /// Decodes `data`, an encoded block; on error the previous content is
    /// gone and the block must not be read.
    pub(crate) fn load(&mut self, data: &[u8]) -> Result<(), &'static str> {
        self.entries.clear();
        let mut r = Reader::new(data);
        let codec = Compression::from_tag(r.u8().ok_or("empty block")?).ok_or("unknown codec")?;
        let header_len = r.len().ok_or("short block")?;
        let lines_len = r.len().ok_or("short block")?;
        let header_c_len = r.len().ok_or("short block")?;
        if header_len > MAX_SECTION || lines_len > MAX_SECTION {
            return Err("block too large");
        }
        let header_c = r.bytes(header_c_len).ok_or("short block")?;
        codec.decompress(header_c, header_len, &mut self.header)?;
        let mut buf = std::mem::take(&mut self.lines).into_bytes();
        codec.decompress(r.rest(), lines_len, &mut buf)?;
        self.lines = String::from_utf8(buf).map_err(|_| "lines are not utf-8")?;

        let mut h = Reader::new(&self.header);
        let n = h.len().ok_or("short header")?;
        // Each entry takes at least two header bytes.
        if n > self.header.len() / 2 + 1 {
            return Err("entry count exceeds the header");
        }
        let tables = h.len().ok_or("short header")?;
        self.metas.clear();
        self.metas.push(Labels::empty());
        for _ in 0..tables {
            self.metas.push(h.labels().ok_or("bad metadata")?);
        }
        self.entries.reserve(n);
        let mut ts = 0i64;
        for i in 0..n {
            ts = if i == 0 {
                h.varint().ok_or("short timestamps")?
            } else {
                ts.wrapping_add(h.uvarint().ok_or("short timestamps")? as i64)
            };
            self.entries.push(DecodedEntry {
                ts,
                start: 0,
                end: 0,
                meta: 0,
            });
        }
        let mut pos = 0usize;
        for e in &mut self.entries {
            let len = h.len().ok_or("short lengths")?;
            let end = pos.checked_add(len).ok_or("bad length")?;
            if end > self.lines.len() || !self.lines.is_char_boundary(end) {
                return Err("line length out of bounds");
            }
            e.start = pos as u32;
            e.end = end as u32;
            pos = end;
        }
        if pos != self.lines.len() {
            return Err("lines longer than their lengths");
        }
        if tables > 0 {
            for e in &mut self.entries {
                let idx = h.len().ok_or("short metadata index")?;
                if idx > tables {
                    return Err("metadata index out of range");
                }
                e.meta = idx as u32;
            }
        }
        if !h.is_empty() {
            return Err("trailing header bytes");
        }
        if self.entries.windows(2).any(|w| w[0].ts > w[1].ts) {
            return Err("entries out of order");
        }
        Ok(())
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Positions of the entries in `[start, end)`.
    pub(crate) fn range(&self, start: i64, end: i64) -> Range<usize> {
        let from = self.entries.partition_point(|e| e.ts < start);
        let to = self.entries.partition_point(|e| e.ts < end).max(from);
        from..to
    }

    /// The first entry of `range` whose line contains `needle`, searching
    /// the block's lines as one text (they are stored one after another,
    /// in entry order), and the entries and line bytes passed over to
    /// reach it, it included (all of `range` when none matches).
    pub(crate) fn find_containing(
        &self,
        range: Range<usize>,
        needle: &memchr::memmem::Finder<'_>,
    ) -> (Option<usize>, u64, u64) {
        let Some((begin, end)) = self.text_span(&range) else {
            return (None, 0, 0);
        };
        let text = self.lines.as_bytes();
        let passed = |to: usize| -> (u64, u64) {
            let bytes = self
                .entries
                .get(to)
                .map_or(0, |e| (e.end as usize).saturating_sub(begin));
            ((to + 1 - range.start) as u64, bytes as u64)
        };
        let mut from = begin;
        while from < end {
            let Some(at) = text.get(from..end).and_then(|t| needle.find(t)) else {
                break;
            };
            let at = from + at;
            let i = self.entry_holding(&range, at);
            match self.entries.get(i) {
                Some(e) if at + needle.needle().len() <= e.end as usize => {
                    let (lines, bytes) = passed(i);
                    return (Some(i), lines, bytes);
                }
                // The match runs into the next line: look again after its start.
                Some(_) => from = at + 1,
                None => break,
            }
        }
        (None, range.len() as u64, end.saturating_sub(begin) as u64)
    }

    /// Where the lines of the entries in `range` lie in the block's text
    /// (one after another, in entry order); `None` for an empty range.
    fn text_span(&self, range: &Range<usize>) -> Option<(usize, usize)> {
        let first = self.entries.get(range.start)?;
        let last = self.entries.get(range.end.checked_sub(1)?)?;
        Some((first.start as usize, last.end as usize))
    }

    /// The entry of `range` whose line holds the text's byte `at`.
    fn entry_holding(&self, range: &Range<usize>, at: usize) -> usize {
        range.start
            + self
                .entries
                .get(range.clone())
                .map_or(0, |es| es.partition_point(|e| (e.end as usize) <= at))
    }

    /// [`Decoded::find_containing`] backward: the last entry of `range`
    /// whose line contains the needle, and the entries and line bytes
    /// passed over from the end of `range` to reach it, it included.
    pub(crate) fn rfind_containing(
        &self,
        range: Range<usize>,
        needle: &memchr::memmem::FinderRev<'_>,
    ) -> (Option<usize>, u64, u64) {
        let Some((begin, end)) = self.text_span(&range) else {
            return (None, 0, 0);
        };
        let text = self.lines.as_bytes();
        let len = needle.needle().len();
        let mut until = end;
        while until > begin {
            let Some(at) = text.get(begin..until).and_then(|t| needle.rfind(t)) else {
                break;
            };
            let at = begin + at;
            let i = self.entry_holding(&range, at);
            match self.entries.get(i) {
                Some(e) if at + len <= e.end as usize => {
                    let bytes = end.saturating_sub(e.start as usize);
                    return (Some(i), (range.end - i) as u64, bytes as u64);
                }
                // Runs into the next line: look before this occurrence's end.
                Some(_) => until = at + len - 1,
                None => break,
            }
        }
        (None, range.len() as u64, end.saturating_sub(begin) as u64)
    }

    /// The time of the entry at `i` (0 past the end).
    pub(crate) fn ts(&self, i: usize) -> i64 {
        self.entries.get(i).map_or(0, |e| e.ts)
    }

    /// The entry at `i`; an empty one past the end (never reached by a
    /// cursor, which stays within [`Decoded::range`]).
    pub(crate) fn get(&self, i: usize) -> (i64, &str, &Labels) {
        match self.entries.get(i) {
            Some(e) => (
                e.ts,
                self.lines
                    .get(e.start as usize..e.end as usize)
                    .unwrap_or(""),
                self.metas.get(e.meta as usize).unwrap_or(&Labels::EMPTY),
            ),
            None => (0, "", &Labels::EMPTY),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Searching a block's lines as one text finds the first entry holding
    /// the needle, never a match that runs across two lines, and counts
    /// what it passed over.
    #[test]
    fn find_containing_searches_whole_lines_only() {
        let open = block_of(
            &[(1, "ab"), (2, "cd"), (3, "xabx"), (4, "bcd")],
            &Labels::EMPTY,
        );
        let mut d = Decoded::default();
        d.load(&open.seal(Compression::Zstd(1)).data).unwrap();
        let finder = |s: &'static str| memchr::memmem::Finder::new(s.as_bytes());
        // "bc" spans entries 0 and 1 ("ab"+"cd"): skipped; found in entry 3.
        assert_eq!(d.find_containing(0..4, &finder("bc")), (Some(3), 4, 11));
        assert_eq!(d.find_containing(0..4, &finder("ab")), (Some(0), 1, 2));
        assert_eq!(d.find_containing(1..4, &finder("ab")), (Some(2), 2, 6));
        assert_eq!(d.find_containing(0..4, &finder("zz")), (None, 4, 11));
        assert_eq!(d.find_containing(3..3, &finder("a")), (None, 0, 0));
        let rfinder = |s: &'static str| memchr::memmem::FinderRev::new(s.as_bytes());
        // Backward: "bc" in entry 3 first; "ab" last in entry 2.
        assert_eq!(d.rfind_containing(0..4, &rfinder("bc")), (Some(3), 1, 3));
        assert_eq!(d.rfind_containing(0..4, &rfinder("ab")), (Some(2), 2, 7));
        assert_eq!(d.rfind_containing(0..2, &rfinder("bc")), (None, 2, 4));
        assert_eq!(d.rfind_containing(0..4, &rfinder("zz")), (None, 4, 11));
    }

    fn block_of(entries: &[(i64, &str)], meta: &Labels) -> OpenBlock {
        let mut b = OpenBlock::default();
        for &(t, l) in entries {
            b.push(t, l, meta);
        }
        b
    }

    #[test]
    fn open_block_sorts_keeps_ties_in_arrival_order_and_finds_duplicates() {
        let b = block_of(&[(5, "a"), (3, "b"), (5, "c"), (4, "d")], &Labels::empty());
        let got: Vec<_> = b.iter().map(|(t, l, _)| (t, l)).collect();
        assert_eq!(got, [(3, "b"), (4, "d"), (5, "a"), (5, "c")]);
        assert!(b.contains(5, "c"));
        assert!(!b.contains(5, "b"));
        assert_eq!(b.range(4, 5), 1..2);
        assert_eq!(b.bounds(), Some((3, 5)));
    }

    #[test]
    fn sealed_blocks_decode_to_what_was_written_with_every_codec() {
        let meta = Labels::from_pairs([("trace_id", "t1")]);
        let mut b = block_of(&[(10, "x"), (-7, "é"), (10, "")], &Labels::empty());
        b.push(11, "with meta", &meta);
        for codec in [
            Compression::None,
            Compression::Zstd(1),
            Compression::Lz4,
            Compression::Snappy,
        ] {
            let sealed = b.seal(codec);
            assert_eq!((sealed.min_ts, sealed.max_ts, sealed.entries), (-7, 11, 4));
            let mut d = Decoded::default();
            d.load(&sealed.data).unwrap();
            let got: Vec<_> = (0..d.len()).map(|i| d.get(i)).collect();
            let want: Vec<_> = b.iter().collect();
            assert_eq!(got, want);
            assert_eq!(d.range(10, 11), 1..3);
        }
    }

    #[test]
    fn corrupt_blocks_are_errors_not_panics() {
        let b = block_of(
            &[(1, "hello"), (2, "world")],
            &Labels::from_pairs([("k", "v")]),
        );
        let sealed = b.seal(Compression::None);
        let mut d = Decoded::default();
        for cut in 0..sealed.data.len() {
            assert!(d.load(&sealed.data[..cut]).is_err());
        }
        for i in 0..sealed.data.len() {
            for bit in 0..8 {
                let mut bad = sealed.data.to_vec();
                bad[i] ^= 1 << bit;
                let _ = d.load(&bad);
            }
        }
    }
}
