//! Persisted blocks: immutable directories holding every series' samples of one time range.
//!
//! ```text
//! <name>/meta.json   BlockMeta: time range [min_time, max_time), counts, level, parents
//! <name>/index       "VGIX" 1 [payload] [CRC32 of payload: u32 LE]
//!                    payload: uvarint series count, then per series (sorted by labels):
//!                      uvarint label count, (name, value) as length-prefixed UTF-8,
//!                      uvarint chunk count, per chunk: zigzag varint mint,
//!                      uvarint maxt - mint, uvarint offset, uvarint length
//! <name>/chunks      "VGCH" 1, then per chunk: [CRC32 of chunk: u32 LE][XOR chunk]
//! ```
//!
//! A block is written into `<name>.tmp`, fsynced, then renamed, so a block
//! directory without the suffix is always complete. Opening a block loads its
//! index (labels and chunk positions: memory per series, not per sample);
//! chunks stay on disk and are read, and their checksums verified, per query.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use model::{Labels, Matcher};
use serde::{Deserialize, Serialize};

use crate::TsdbError;
use crate::index::Index;
use crate::storage::{ChunkSlice, Querier, Queryable, Series, SeriesRef};
use segments::{Reader, put_str, put_uvarint, put_varint, sync_dir};

const META_FILE: &str = "meta.json";
const INDEX_FILE: &str = "index";
const CHUNKS_FILE: &str = "chunks";
const INDEX_MAGIC: &[u8; 5] = b"VGIX\x01";
const CHUNKS_MAGIC: &[u8; 5] = b"VGCH\x01";
/// Suffix of a block directory still being written.
pub(crate) const TMP_SUFFIX: &str = ".tmp";

/// Counts describing a block's contents.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockStats {
    /// Series in the block.
    pub series: u64,
    /// Samples in the block.
    pub samples: u64,
    /// Chunks in the block.
    pub chunks: u64,
}

/// The contents of a block's `meta.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockMeta {
    /// Format version, 1.
    pub version: u32,
    /// Oldest timestamp the block may hold (inclusive), in milliseconds.
    pub min_time: i64,
    /// End of the block's range (exclusive), in milliseconds.
    pub max_time: i64,
    /// What is in it.
    pub stats: BlockStats,
    /// 1 for a block cut from the head, one more than its highest parent for
    /// a compacted one.
    pub level: u32,
    /// Names of the blocks this one replaces; if they are still on disk at
    /// open (a crash during compaction), they are deleted.
    pub parents: Vec<String>,
}

/// One encoded chunk with its time range, as written to or read from a block.
#[derive(Debug, Clone)]
pub(crate) struct RawChunk {
    /// First sample's timestamp.
    pub(crate) mint: i64,
    /// Last sample's timestamp.
    pub(crate) maxt: i64,
    /// The XOR chunk, header included.
    pub(crate) data: Arc<[u8]>,
}

/// Where one chunk is in the chunks file.
#[derive(Debug, Clone, Copy)]
struct ChunkMeta {
    mint: i64,
    maxt: i64,
    offset: u64,
    len: u32,
}

/// One series of an open block. Its labels stay in their encoded form (as
/// in the index file) and are decoded when a query returns the series: with
/// many blocks of many series, a decoded copy per block would dominate the
/// memory of the process.
#[derive(Debug)]
struct BlockSeries {
    labels: Box<[u8]>,
    chunks: Box<[ChunkMeta]>,
}

impl BlockSeries {
    fn labels(&self) -> Labels {
        // Parsed once already when the block was opened.
        decode_labels(&mut Reader::new(&self.labels)).unwrap_or_default()
    }
}

fn decode_labels(c: &mut Reader<'_>) -> Option<Labels> {
    let n = c.uvarint()?;
    let mut pairs = Vec::new();
    for _ in 0..n {
        pairs.push((c.str()?, c.str()?));
    }
    Some(Labels::from_pairs(pairs))
}

/// An open, immutable block.
#[derive(Debug)]
pub struct Block {
    name: String,
    dir: PathBuf,
    meta: BlockMeta,
    index: Index,
    series: Vec<BlockSeries>,
    chunks: File,
    /// Length of the chunks file, which bounds every read of it.
    chunks_len: u64,
    size: u64,
}

/// The directory name of a block covering `[min_time, max_time)`; blocks
/// never overlap, so the range names a block uniquely.
pub(crate) fn block_name(min_time: i64, max_time: i64) -> String {
    format!("b{min_time}_{max_time}")
}

fn read_index(path: &Path) -> Result<(Vec<BlockSeries>, Index), TsdbError> {
    let data = fs::read(path).map_err(|e| TsdbError::io("read block index", path, e))?;
    let corrupt = |why: &str| TsdbError::corrupt(path, why);
    let body = data
        .strip_prefix(INDEX_MAGIC)
        .ok_or_else(|| corrupt("bad magic"))?;
    let (payload, crc) = body
        .split_last_chunk::<4>()
        .ok_or_else(|| corrupt("too short"))?;
    if crc32fast::hash(payload) != u32::from_le_bytes(*crc) {
        return Err(corrupt("checksum mismatch"));
    }
    decode_index(payload).ok_or_else(|| corrupt("does not parse"))
}

/// Decodes the index payload into the series list and their inverted
/// index (ids are positions in the list).
fn decode_index(payload: &[u8]) -> Option<(Vec<BlockSeries>, Index)> {
    let mut c = Reader::new(payload);
    let n = c.uvarint()?;
    let mut out = Vec::new();
    let mut index = Index::postings_only();
    for i in 0..n {
        let before = c.rest();
        let labels = decode_labels(&mut c)?;
        let raw = &before[..before.len() - c.remaining()];
        index.add(SeriesRef(i), &labels);
        let nchunks = c.uvarint()?;
        let mut chunks = Vec::new();
        for _ in 0..nchunks {
            let mint = c.varint()?;
            let maxt = mint.checked_add(i64::try_from(c.uvarint()?).ok()?)?;
            let offset = c.uvarint()?;
            let len = u32::try_from(c.uvarint()?).ok()?;
            chunks.push(ChunkMeta {
                mint,
                maxt,
                offset,
                len,
            });
        }
        out.push(BlockSeries {
            labels: raw.into(),
            chunks: chunks.into_boxed_slice(),
        });
    }
    c.is_empty().then_some((out, index))
}

fn dir_size(dir: &Path) -> u64 {
    fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter_map(|e| e.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

impl Block {
    /// Opens the block in `dir`, loading its meta and index.
    pub fn open(dir: &Path) -> Result<Self, TsdbError> {
        let meta_path = dir.join(META_FILE);
        let meta_bytes =
            fs::read(&meta_path).map_err(|e| TsdbError::io("read block meta", &meta_path, e))?;
        let meta: BlockMeta = serde_json::from_slice(&meta_bytes)
            .map_err(|e| TsdbError::corrupt(&meta_path, e.to_string()))?;
        let (series, index) = read_index(&dir.join(INDEX_FILE))?;
        let chunks_path = dir.join(CHUNKS_FILE);
        let chunks = File::open(&chunks_path)
            .map_err(|e| TsdbError::io("open block chunks", &chunks_path, e))?;
        let chunks_len = chunks
            .metadata()
            .map_err(|e| TsdbError::io("open block chunks", &chunks_path, e))?
            .len();

        let name = dir
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        Ok(Self {
            name,
            dir: dir.to_owned(),
            meta,
            index,
            series,
            chunks,
            chunks_len,
            size: dir_size(dir),
        })
    }

    /// The directory name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The block's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The block's `meta.json`.
    pub fn meta(&self) -> &BlockMeta {
        &self.meta
    }

    /// Bytes on disk.
    pub fn size_bytes(&self) -> u64 {
        self.size
    }

    /// Whether the block's range meets `[mint, maxt]` (inclusive).
    pub(crate) fn overlaps(&self, mint: i64, maxt: i64) -> bool {
        self.meta.min_time <= maxt && self.meta.max_time > mint
    }

    /// Reads and verifies the chunks of series `i` that meet `[mint, maxt]`.
    fn read_chunks(&self, i: usize, mint: i64, maxt: i64) -> Result<Vec<RawChunk>, TsdbError> {
        let wanted: Vec<ChunkMeta> = self.series[i]
            .chunks
            .iter()
            .filter(|c| c.mint <= maxt && c.maxt >= mint)
            .copied()
            .collect();
        if wanted.is_empty() {
            return Ok(Vec::new());
        }
        let path = || self.dir.join(CHUNKS_FILE);
        // A series' chunks are contiguous in the file: one read for all. The
        // range is checked against the file's size first, so a damaged index
        // cannot make us allocate more than the file holds.
        let start = wanted.iter().map(|c| c.offset).min().unwrap_or(0);
        let end = wanted
            .iter()
            .map(|c| c.offset.saturating_add(4 + u64::from(c.len)))
            .max()
            .unwrap_or(0);
        if end > self.chunks_len {
            return Err(TsdbError::corrupt(
                path(),
                "chunk beyond the end of the file",
            ));
        }
        let len = usize::try_from(end - start)
            .map_err(|_| TsdbError::corrupt(path(), "chunk range too large"))?;
        let mut buf = vec![0; len];
        self.chunks
            .read_exact_at(&mut buf, start)
            .map_err(|e| TsdbError::io("read block chunks", path(), e))?;
        let mut out = Vec::with_capacity(wanted.len());
        for c in wanted {
            let at = usize::try_from(c.offset - start).unwrap_or(usize::MAX);
            let framed = at
                .checked_add(4 + c.len as usize)
                .and_then(|end| buf.get(at..end))
                .ok_or_else(|| TsdbError::corrupt(path(), "chunk outside the file"))?;
            let (crc, data) = framed.split_at(4);
            if crc32fast::hash(data).to_le_bytes() != crc {
                return Err(TsdbError::corrupt(
                    path(),
                    format!("chunk at {} fails its checksum", c.offset),
                ));
            }
            out.push(RawChunk {
                mint: c.mint,
                maxt: c.maxt,
                data: Arc::from(data),
            });
        }
        Ok(out)
    }

    /// The raw chunks of series `i` with their time ranges, for compaction.
    pub(crate) fn series_chunks(&self, i: usize) -> Result<Vec<RawChunk>, TsdbError> {
        self.read_chunks(i, i64::MIN, i64::MAX)
    }

    /// Labels of every series, in the block's (label) order.
    pub(crate) fn series_labels(&self) -> impl Iterator<Item = Labels> + '_ {
        self.series.iter().map(BlockSeries::labels)
    }
}

impl Queryable for Block {
    fn querier(&self, mint: i64, maxt: i64) -> Result<Box<dyn Querier + '_>, TsdbError> {
        if mint > maxt {
            return Err(TsdbError::InvalidRange { mint, maxt });
        }
        Ok(Box::new(BlockQuerier {
            block: self,
            mint: mint.max(self.meta.min_time),
            maxt: maxt.min(self.meta.max_time.saturating_sub(1)),
        }))
    }
}

struct BlockQuerier<'a> {
    block: &'a Block,
    mint: i64,
    maxt: i64,
}

impl BlockQuerier<'_> {
    fn selected(&self, matchers: &[Matcher]) -> Vec<usize> {
        // Ids are positions in label order, so sorting ids sorts labels.
        self.block
            .index
            .select(matchers)
            .into_iter()
            .filter_map(|id| usize::try_from(id.0).ok())
            .collect()
    }
}

impl Querier for BlockQuerier<'_> {
    fn select(&self, matchers: &[Matcher]) -> Result<Vec<Series>, TsdbError> {
        if self.mint > self.maxt {
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        for i in self.selected(matchers) {
            let chunks: Vec<ChunkSlice> = self
                .block
                .read_chunks(i, self.mint, self.maxt)?
                .into_iter()
                .map(|c| ChunkSlice {
                    data: c.data,
                    mint: self.mint,
                    maxt: self.maxt,
                })
                .collect();
            if !chunks.is_empty() {
                out.push(Series::new(self.block.series[i].labels(), chunks));
            }
        }
        Ok(out)
    }

    fn label_names(&self, matchers: &[Matcher]) -> Result<Vec<String>, TsdbError> {
        if matchers.is_empty() {
            return Ok(self.block.index.label_names());
        }
        Ok(crate::storage::distinct_label_names(
            self.selected(matchers)
                .into_iter()
                .map(|i| self.block.series[i].labels()),
        ))
    }

    fn label_values(&self, name: &str, matchers: &[Matcher]) -> Result<Vec<String>, TsdbError> {
        if matchers.is_empty() {
            return Ok(self.block.index.label_values(name));
        }
        let mut values: Vec<String> = self
            .selected(matchers)
            .into_iter()
            .filter_map(|i| self.block.series[i].labels().get(name).map(str::to_owned))
            .collect();
        values.sort();
        values.dedup();
        Ok(values)
    }
}

/// Writes a new block, series by series in label order.
pub(crate) struct BlockWriter {
    tmp: PathBuf,
    dest: PathBuf,
    chunks: BufWriter<File>,
    offset: u64,
    index: Vec<u8>,
    series: u64,
    stats: BlockStats,
    last_labels: Option<Labels>,
}

impl BlockWriter {
    /// Starts block `name` under `parent`, replacing a leftover temporary
    /// directory of the same name.
    pub(crate) fn create(parent: &Path, name: &str) -> Result<Self, TsdbError> {
        let tmp = parent.join(format!("{name}{TMP_SUFFIX}"));
        if tmp.exists() {
            fs::remove_dir_all(&tmp).map_err(|e| TsdbError::io("remove stale block", &tmp, e))?;
        }
        fs::create_dir_all(&tmp).map_err(|e| TsdbError::io("create block directory", &tmp, e))?;
        let path = tmp.join(CHUNKS_FILE);
        let file =
            File::create(&path).map_err(|e| TsdbError::io("create block chunks", &path, e))?;
        let mut chunks = BufWriter::new(file);
        chunks
            .write_all(CHUNKS_MAGIC)
            .map_err(|e| TsdbError::io("write block chunks", &path, e))?;
        Ok(Self {
            tmp,
            dest: parent.join(name),
            chunks,
            offset: CHUNKS_MAGIC.len() as u64,
            index: Vec::new(),
            series: 0,
            stats: BlockStats::default(),
            last_labels: None,
        })
    }

    /// Adds one series with its time-ordered chunks `(mint, maxt, bytes)`;
    /// series must come in label order and carry at least one chunk.
    pub(crate) fn add_series(
        &mut self,
        labels: &Labels,
        chunks: &[RawChunk],
    ) -> Result<(), TsdbError> {
        if chunks.is_empty() {
            return Ok(());
        }
        debug_assert!(
            self.last_labels.as_ref().is_none_or(|l| l < labels),
            "series out of label order"
        );
        self.last_labels = Some(labels.clone());
        put_uvarint(&mut self.index, labels.len() as u64);
        for label in labels {
            put_str(&mut self.index, label.name);
            put_str(&mut self.index, label.value);
        }
        put_uvarint(&mut self.index, chunks.len() as u64);
        let path = self.tmp.join(CHUNKS_FILE);
        for RawChunk { mint, maxt, data } in chunks {
            put_varint(&mut self.index, *mint);
            put_uvarint(&mut self.index, maxt.wrapping_sub(*mint) as u64);
            put_uvarint(&mut self.index, self.offset);
            put_uvarint(&mut self.index, data.len() as u64);
            self.chunks
                .write_all(&crc32fast::hash(data).to_le_bytes())
                .and_then(|()| self.chunks.write_all(data))
                .map_err(|e| TsdbError::io("write block chunks", &path, e))?;
            self.offset += 4 + data.len() as u64;
            self.stats.chunks += 1;
            self.stats.samples += crate::chunk::XorIter::new(data).count() as u64;
        }
        self.series += 1;
        Ok(())
    }

    /// Writes index and meta, fsyncs, and moves the block into place.
    pub(crate) fn finish(
        mut self,
        min_time: i64,
        max_time: i64,
        level: u32,
        parents: Vec<String>,
    ) -> Result<Block, TsdbError> {
        let sync = |f: &File, path: &Path| {
            f.sync_all()
                .map_err(|e| TsdbError::io("fsync block file", path, e))
        };
        let chunks_path = self.tmp.join(CHUNKS_FILE);
        self.chunks
            .flush()
            .map_err(|e| TsdbError::io("write block chunks", &chunks_path, e))?;
        sync(self.chunks.get_ref(), &chunks_path)?;

        let mut payload = Vec::with_capacity(self.index.len() + 10);
        put_uvarint(&mut payload, self.series);
        payload.extend_from_slice(&self.index);
        let mut file_bytes = INDEX_MAGIC.to_vec();
        file_bytes.extend_from_slice(&payload);
        file_bytes.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
        let index_path = self.tmp.join(INDEX_FILE);
        write_synced(&index_path, &file_bytes)?;

        self.stats.series = self.series;
        let meta = BlockMeta {
            version: 1,
            min_time,
            max_time,
            stats: self.stats.clone(),
            level,
            parents,
        };
        let meta_path = self.tmp.join(META_FILE);
        let json = serde_json::to_vec_pretty(&meta)
            .map_err(|e| TsdbError::corrupt(&meta_path, e.to_string()))?;
        write_synced(&meta_path, &json)?;
        sync_dir(&self.tmp)?;
        fs::rename(&self.tmp, &self.dest)
            .map_err(|e| TsdbError::io("publish block", &self.dest, e))?;
        if let Some(parent) = self.dest.parent() {
            sync_dir(parent)?;
        }
        Block::open(&self.dest)
    }
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), TsdbError> {
    let mut f = File::create(path).map_err(|e| TsdbError::io("create block file", path, e))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .map_err(|e| TsdbError::io("write block file", path, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chunk::XorEncoder;
    use model::MatchOp;

    fn chunk(samples: &[(i64, f64)]) -> RawChunk {
        let mut enc = XorEncoder::new();
        for &(t, v) in samples {
            enc.append(t, v).unwrap();
        }
        RawChunk {
            mint: enc.min_time(),
            maxt: enc.max_time(),
            data: Arc::from(enc.bytes()),
        }
    }

    fn write_test_block(parent: &Path) -> Block {
        let mut w = BlockWriter::create(parent, &block_name(0, 1000)).unwrap();
        let a = Labels::from_pairs([("__name__", "a"), ("job", "x")]);
        let b = Labels::from_pairs([("__name__", "b")]);
        w.add_series(
            &a,
            &[
                chunk(&[(0, 1.0), (10, 2.0)]),
                chunk(&[(20, 3.0), (990, 4.0)]),
            ],
        )
        .unwrap();
        w.add_series(&b, &[chunk(&[(500, model::staleness::stale_nan())])])
            .unwrap();
        w.finish(0, 1000, 1, vec![]).unwrap()
    }

    fn collect(
        block: &Block,
        mint: i64,
        maxt: i64,
        matchers: &[Matcher],
    ) -> Vec<(String, Vec<(i64, u64)>)> {
        block
            .querier(mint, maxt)
            .unwrap()
            .select(matchers)
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s.labels().to_string(),
                    s.samples().map(|(t, v)| (t, v.to_bits())).collect(),
                )
            })
            .collect()
    }

    #[test]
    fn written_block_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let block = write_test_block(dir.path());
        let reopened = Block::open(&dir.path().join("b0_1000")).unwrap();
        assert_eq!(reopened.meta(), block.meta());
        assert_eq!(
            block.meta().stats,
            BlockStats {
                series: 2,
                samples: 5,
                chunks: 3
            }
        );
        let got = collect(&reopened, 10, 600, &[]);
        assert_eq!(
            got[0],
            (
                r#"{__name__="a", job="x"}"#.into(),
                vec![(10, 2f64.to_bits()), (20, 3f64.to_bits())]
            )
        );
        assert_eq!(got[1].1, vec![(500, model::staleness::STALE_NAN_BITS)]);
        let q = reopened.querier(0, 2000).unwrap();
        assert_eq!(q.label_values("__name__", &[]).unwrap(), ["a", "b"]);
        let job = Matcher::new(MatchOp::Equal, "job", "x").unwrap();
        assert_eq!(q.label_names(&[job]).unwrap(), ["__name__", "job"]);
        assert!(
            collect(&reopened, 1000, 2000, &[]).is_empty(),
            "max_time is exclusive"
        );
        assert!(!dir.path().join("b0_1000.tmp").exists());
    }

    #[test]
    fn corrupt_chunk_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        write_test_block(dir.path());
        let path = dir.path().join("b0_1000").join(CHUNKS_FILE);
        let mut bytes = fs::read(&path).unwrap();
        bytes[12] ^= 1;
        fs::write(&path, bytes).unwrap();
        let block = Block::open(&dir.path().join("b0_1000")).unwrap();
        let err = block.querier(0, 1000).unwrap().select(&[]).unwrap_err();
        assert!(matches!(err, TsdbError::Corrupt { .. }), "{err}");
    }

    #[test]
    fn truncated_chunks_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        write_test_block(dir.path());
        let path = dir.path().join("b0_1000").join(CHUNKS_FILE);
        let len = fs::metadata(&path).unwrap().len();
        fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(len - 5)
            .unwrap();
        let block = Block::open(&dir.path().join("b0_1000")).unwrap();
        let err = block.querier(0, 1000).unwrap().select(&[]).unwrap_err();
        assert!(err.to_string().contains("beyond the end"), "{err}");
    }

    #[test]
    fn corrupt_index_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        write_test_block(dir.path());
        let path = dir.path().join("b0_1000").join(INDEX_FILE);
        let mut bytes = fs::read(&path).unwrap();
        bytes[8] ^= 1;
        fs::write(&path, &bytes).unwrap();
        assert!(matches!(
            Block::open(&dir.path().join("b0_1000")),
            Err(TsdbError::Corrupt { .. })
        ));
        fs::write(&path, &bytes[..3]).unwrap();
        assert!(matches!(
            Block::open(&dir.path().join("b0_1000")),
            Err(TsdbError::Corrupt { .. })
        ));
    }
}
