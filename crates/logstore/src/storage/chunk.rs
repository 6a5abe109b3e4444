//! Chunk files: one stream's entries of one period, as compressed blocks in time order, with a block index in a footer; writing (with re-sorting of overlapping blocks) and reading one block at a time.
//!
//! ```text
//! [magic "VLGC"][version = 1: u8]
//! blocks, back to back (the block format of `block.rs`)
//! block index: [count: uvarint] then per block
//!     [offset: uvarint][length: uvarint][min ts: varint][max ts: varint]
//!     [entries: uvarint][line bytes: uvarint][crc32 of the block: u32 LE]
//! footer: [index offset: u64 LE][index length: u32 LE][crc32 of the index: u32 LE][magic "VLGC"]
//! ```
//!
//! Blocks of a chunk file never overlap in time (a block may end at the
//! time the next one starts, ties keeping arrival order), so a reader walks
//! them in order. A reader opens the file, reads the footer and the index,
//! then reads and decodes only the blocks that overlap its range, one at a
//! time.

use std::fs::{self, File};
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use segments::{Reader, put_uvarint, put_varint, sync_dir};

use super::StorageError;
use super::block::{self, Block, Decoded};
use super::codec::Compression;
use super::head::SealedChunk;

const MAGIC: &[u8; 4] = b"VLGC";
const VERSION: u8 = 1;
const FOOTER: usize = 20;

/// A chunk file known to the index.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ChunkRef {
    pub(crate) id: u64,
    pub(crate) period: i64,
    pub(crate) path: PathBuf,
    pub(crate) min_ts: i64,
    pub(crate) max_ts: i64,
    pub(crate) entries: u64,
    pub(crate) line_bytes: u64,
    pub(crate) file_bytes: u64,
}

/// The file name of chunk `id`.
pub(crate) fn file_name(id: u64) -> String {
    format!("{id:016x}")
}

/// Parses a chunk file name back to its id.
pub(crate) fn parse_name(name: &str) -> Option<u64> {
    (name.len() == 16).then(|| u64::from_str_radix(name, 16).ok())?
}

/// Where a block lies in its file, and what it holds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct BlockMeta {
    pub(crate) offset: u64,
    pub(crate) len: u32,
    pub(crate) min_ts: i64,
    pub(crate) max_ts: i64,
    pub(crate) entries: u64,
    pub(crate) line_bytes: u64,
    pub(crate) crc: u32,
}

/// Whether blocks in this order can be read one after another.
fn in_order(blocks: &[Arc<Block>]) -> bool {
    blocks.windows(2).all(|w| w[0].max_ts <= w[1].min_ts)
}

/// Rewrites overlapping blocks (out-of-order writes) into blocks in time
/// order of about `block_size` line bytes; ties keep arrival order (block
/// order, then position).
fn reorder(
    blocks: &[Arc<Block>],
    block_size: usize,
    codec: Compression,
) -> Result<Vec<Arc<Block>>, StorageError> {
    let mut decoded = Vec::with_capacity(blocks.len());
    for b in blocks {
        let mut d = Decoded::default();
        d.load(&b.data).map_err(StorageError::CorruptBlock)?;
        decoded.push(d);
    }
    let mut order: Vec<(i64, usize, usize)> = decoded
        .iter()
        .enumerate()
        .flat_map(|(bi, d)| (0..d.len()).map(move |i| (d.get(i).0, bi, i)))
        .collect();
    order.sort_unstable();
    let mut out = Vec::new();
    let mut from = 0;
    while from < order.len() {
        let mut size = 0;
        let mut to = from;
        while to < order.len() && (size < block_size || to == from) {
            let (_, bi, i) = order[to];
            size += decoded[bi].get(i).1.len();
            to += 1;
        }
        let entries = order[from..to].iter().map(|&(_, bi, i)| decoded[bi].get(i));
        out.push(Arc::new(block::encode(entries, codec)));
        from = to;
    }
    Ok(out)
}

/// Writes `sealed` as chunk file `dir/<id>` (through a temporary file,
/// fsynced, renamed, directory fsynced) and returns its reference.
pub(crate) fn write(
    dir: &Path,
    sealed: &SealedChunk,
    block_size: usize,
    codec: Compression,
) -> Result<ChunkRef, StorageError> {
    fs::create_dir_all(dir).map_err(|e| StorageError::io("create chunk directory", dir, e))?;
    let blocks = if in_order(&sealed.blocks) {
        sealed.blocks.clone()
    } else {
        reorder(&sealed.blocks, block_size, codec)?
    };
    let mut out = Vec::with_capacity(blocks.iter().map(|b| b.data.len()).sum::<usize>() + 64);
    out.extend_from_slice(MAGIC);
    out.push(VERSION);
    let mut index = Vec::new();
    put_uvarint(&mut index, blocks.len() as u64);
    let (mut min, mut max, mut entries, mut line_bytes) = (i64::MAX, i64::MIN, 0u64, 0u64);
    for b in &blocks {
        put_uvarint(&mut index, out.len() as u64);
        put_uvarint(&mut index, b.data.len() as u64);
        put_varint(&mut index, b.min_ts);
        put_varint(&mut index, b.max_ts);
        put_uvarint(&mut index, b.entries);
        put_uvarint(&mut index, b.line_bytes);
        index.extend_from_slice(&crc32fast::hash(&b.data).to_le_bytes());
        out.extend_from_slice(&b.data);
        min = min.min(b.min_ts);
        max = max.max(b.max_ts);
        entries += b.entries;
        line_bytes += b.line_bytes;
    }
    let index_offset = out.len() as u64;
    out.extend_from_slice(&index);
    out.extend_from_slice(&index_offset.to_le_bytes());
    out.extend_from_slice(&(index.len() as u32).to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(&index).to_le_bytes());
    out.extend_from_slice(MAGIC);

    let name = file_name(sealed.id);
    let tmp = dir.join(format!("{name}.tmp"));
    let path = dir.join(&name);
    let mut f = File::create(&tmp).map_err(|e| StorageError::io("create chunk file", &tmp, e))?;
    f.write_all(&out)
        .and_then(|()| f.sync_all())
        .map_err(|e| StorageError::io("write chunk file", &tmp, e))?;
    drop(f);
    fs::rename(&tmp, &path).map_err(|e| StorageError::io("publish chunk file", &path, e))?;
    sync_dir(dir)?;
    Ok(ChunkRef {
        id: sealed.id,
        period: sealed.period,
        path,
        min_ts: min,
        max_ts: max,
        entries,
        line_bytes,
        file_bytes: out.len() as u64,
    })
}

/// An open chunk file and its block index.
#[derive(Debug)]
pub(crate) struct ChunkReader {
    file: File,
    path: PathBuf,
    pub(crate) blocks: Vec<BlockMeta>,
}

impl ChunkReader {
    /// Opens a chunk file and reads its block index.
    pub(crate) fn open(path: &Path) -> Result<Self, StorageError> {
        let file = File::open(path).map_err(|e| StorageError::io("open chunk file", path, e))?;
        let len = file
            .metadata()
            .map_err(|e| StorageError::io("stat chunk file", path, e))?
            .len();
        let corrupt = |why: &str| StorageError::corrupt(path, why);
        if len < (MAGIC.len() + 1 + FOOTER) as u64 {
            return Err(corrupt("file too short"));
        }
        let mut footer = [0u8; FOOTER];
        file.read_exact_at(&mut footer, len - FOOTER as u64)
            .map_err(|e| StorageError::io("read chunk file", path, e))?;
        let mut r = Reader::new(&footer);
        let (Some(offset), Some(index_len), Some(crc), Some(magic)) =
            (r.u64_le(), r.u32_le(), r.u32_le(), r.bytes(4))
        else {
            return Err(corrupt("short footer"));
        };
        if magic != MAGIC {
            return Err(corrupt("bad magic"));
        }
        if offset.checked_add(u64::from(index_len)) != Some(len - FOOTER as u64) {
            return Err(corrupt("index out of bounds"));
        }
        let mut index = vec![0u8; index_len as usize];
        file.read_exact_at(&mut index, offset)
            .map_err(|e| StorageError::io("read chunk file", path, e))?;
        if crc32fast::hash(&index) != crc {
            return Err(corrupt("index checksum mismatch"));
        }
        let blocks = parse_index(&index, offset).ok_or_else(|| corrupt("index does not parse"))?;
        Ok(Self {
            file,
            path: path.to_owned(),
            blocks,
        })
    }

    /// Reads block `meta` into `buf` and checks it.
    pub(crate) fn read_block(
        &self,
        meta: &BlockMeta,
        buf: &mut Vec<u8>,
    ) -> Result<(), StorageError> {
        buf.resize(meta.len as usize, 0);
        self.file
            .read_exact_at(buf, meta.offset)
            .map_err(|e| StorageError::io("read chunk file", &self.path, e))?;
        if crc32fast::hash(buf) != meta.crc {
            return Err(StorageError::corrupt(&self.path, "block checksum mismatch"));
        }
        Ok(())
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}

fn parse_index(index: &[u8], data_end: u64) -> Option<Vec<BlockMeta>> {
    let mut r = Reader::new(index);
    let n = r.len()?;
    if n > index.len() {
        return None;
    }
    let mut out = Vec::with_capacity(n);
    let mut prev_end = (MAGIC.len() + 1) as u64;
    for _ in 0..n {
        let m = BlockMeta {
            offset: r.uvarint()?,
            len: u32::try_from(r.uvarint()?).ok()?,
            min_ts: r.varint()?,
            max_ts: r.varint()?,
            entries: r.uvarint()?,
            line_bytes: r.uvarint()?,
            crc: r.u32_le()?,
        };
        let end = m.offset.checked_add(u64::from(m.len))?;
        if m.offset < prev_end || end > data_end || m.min_ts > m.max_ts {
            return None;
        }
        prev_end = end;
        out.push(m);
    }
    r.is_empty().then_some(out)
}

/// Reads every entry of a chunk file (tests and tools; queries use
/// cursors).
#[cfg(test)]
pub(crate) fn read_all(path: &Path) -> Result<Vec<(i64, String, model::Labels)>, StorageError> {
    let reader = ChunkReader::open(path)?;
    let mut buf = Vec::new();
    let mut d = Decoded::default();
    let mut out = Vec::new();
    for m in &reader.blocks {
        reader.read_block(m, &mut buf)?;
        d.load(&buf)
            .map_err(|why| StorageError::corrupt(path, why))?;
        for i in 0..d.len() {
            let (t, l, md) = d.get(i);
            out.push((t, l.to_owned(), md.clone()));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::block::OpenBlock;
    use model::Labels;

    fn sealed(blocks: &[&[(i64, &str)]]) -> SealedChunk {
        let blocks = blocks
            .iter()
            .map(|entries| {
                let mut b = OpenBlock::default();
                for &(t, l) in *entries {
                    b.push(t, l, &Labels::EMPTY);
                }
                Arc::new(b.seal(Compression::Zstd(1)))
            })
            .collect();
        SealedChunk {
            id: 0xabc,
            period: 0,
            blocks,
            first_seq: 1,
            last_seq: 1,
        }
    }

    #[test]
    fn overlapping_blocks_are_written_in_order_with_ties_in_arrival_order() {
        let tmp = tempfile::tempdir().unwrap();
        let s = sealed(&[&[(1, "a"), (5, "b")], &[(3, "c"), (5, "d")], &[(0, "e")]]);
        let r = write(tmp.path(), &s, 2, Compression::Lz4).unwrap();
        assert_eq!((r.min_ts, r.max_ts, r.entries, r.line_bytes), (0, 5, 5, 5));
        assert_eq!(r.path, tmp.path().join("0000000000000abc"));
        let got: Vec<_> = read_all(&r.path)
            .unwrap()
            .into_iter()
            .map(|(t, l, _)| (t, l))
            .collect();
        let want = [(0, "e"), (1, "a"), (3, "c"), (5, "b"), (5, "d")];
        assert_eq!(got, want.map(|(t, l)| (t, l.to_owned())));
        assert!(ChunkReader::open(&r.path).unwrap().blocks.len() >= 2);
    }

    #[test]
    fn corrupt_chunk_files_are_errors_not_panics() {
        let tmp = tempfile::tempdir().unwrap();
        let s = sealed(&[&[(1, "hello"), (2, "world")], &[(3, "again")]]);
        let r = write(tmp.path(), &s, 1 << 20, Compression::Snappy).unwrap();
        let good = fs::read(&r.path).unwrap();
        let bad_path = tmp.path().join("bad");
        for i in 0..good.len() {
            for flip in [0x01u8, 0x80, 0xff] {
                let mut bad = good.clone();
                bad[i] ^= flip;
                fs::write(&bad_path, &bad).unwrap();
                let _ = read_all(&bad_path);
            }
        }
        for cut in 0..good.len() {
            fs::write(&bad_path, &good[..cut]).unwrap();
            assert!(read_all(&bad_path).is_err());
        }
        assert_eq!(parse_name(&file_name(u64::MAX)), Some(u64::MAX));
        assert_eq!(parse_name("nothex"), None);
    }
}
