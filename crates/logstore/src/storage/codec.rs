//! Block compression: the codecs a block may use, tagged by one byte so that a chunk written with one default stays readable under another.
//!
//! The default, [`Compression::DEFAULT`], was chosen by measurement on
//! access-log-like lines (`tests/storage_compression.rs`, figures in its
//! doc comment): it is the fastest codec to decompress among those that
//! reach a 10× ratio on 256 KiB blocks.

use std::cell::RefCell;

/// How blocks are compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// Stored as is (tests, and data that does not compress).
    None,
    /// Zstandard at a level (1–3 are the useful ones for logs: higher levels
    /// cost much more to write and gain little).
    Zstd(i32),
    /// LZ4 block format: the fastest to decompress, the weakest ratio.
    Lz4,
    /// Snappy raw format.
    Snappy,
}

impl Compression {
    /// The codec blocks use unless configured otherwise.
    pub const DEFAULT: Compression = Compression::Zstd(1);

    /// The tag stored before each compressed block.
    pub(crate) fn tag(self) -> u8 {
        match self {
            Compression::None => 0,
            Compression::Zstd(_) => 1,
            Compression::Lz4 => 2,
            Compression::Snappy => 3,
        }
    }

    /// The codec of a stored tag (the level does not matter to decode).
    pub(crate) fn from_tag(tag: u8) -> Option<Self> {
        Some(match tag {
            0 => Compression::None,
            1 => Compression::Zstd(1),
            2 => Compression::Lz4,
            3 => Compression::Snappy,
            _ => return None,
        })
    }

    /// Compresses `raw`.
    pub fn compress(self, raw: &[u8]) -> Vec<u8> {
        match self {
            Compression::None => raw.to_vec(),
            Compression::Zstd(level) => {
                thread_local! {
                    static CCTX: RefCell<Option<(i32, zstd::bulk::Compressor<'static>)>> =
                        const { RefCell::new(None) };
                }
                CCTX.with(|cell| {
                    let mut slot = cell.borrow_mut();
                    if slot.as_ref().is_none_or(|(l, _)| *l != level) {
                        *slot = zstd::bulk::Compressor::new(level).ok().map(|c| (level, c));
                    }
                    match slot.as_mut().map(|(_, c)| c.compress(raw)) {
                        Some(Ok(out)) => out,
                        // Compressing in memory only fails when the context
                        // cannot be made (out of memory); a one-shot call
                        // reports that as well, and storing the block raw
                        // would be silently wrong, so fall back to it.
                        _ => zstd::bulk::compress(raw, level).unwrap_or_else(|_| raw.to_vec()),
                    }
                })
            }
            Compression::Lz4 => lz4_flex::block::compress(raw),
            Compression::Snappy => snap::raw::Encoder::new()
                .compress_vec(raw)
                .unwrap_or_else(|_| raw.to_vec()),
        }
    }

    /// Decompresses `data`, which must decode to exactly `raw_len` bytes,
    /// into `out`, which is resized to `raw_len` (a reader reuses one
    /// buffer, so only growth is ever zero-filled).
    pub fn decompress(
        self,
        data: &[u8],
        raw_len: usize,
        out: &mut Vec<u8>,
    ) -> Result<(), &'static str> {
        out.resize(raw_len, 0);
        let dst = out.as_mut_slice();
        let n = match self {
            Compression::None => {
                if data.len() != raw_len {
                    return Err("stored block has the wrong length");
                }
                dst.copy_from_slice(data);
                raw_len
            }
            Compression::Zstd(_) => {
                thread_local! {
                    static DCTX: RefCell<Option<zstd::bulk::Decompressor<'static>>> =
                        const { RefCell::new(None) };
                }
                DCTX.with(|cell| {
                    let mut slot = cell.borrow_mut();
                    if slot.is_none() {
                        *slot = zstd::bulk::Decompressor::new().ok();
                    }
                    let d = slot.as_mut().ok_or("cannot create a zstd context")?;
                    d.decompress_to_buffer(data, dst)
                        .map_err(|_| "zstd block does not decode")
                })?
            }
            Compression::Lz4 => lz4_flex::block::decompress_into(data, dst)
                .map_err(|_| "lz4 block does not decode")?,
            Compression::Snappy => snap::raw::Decoder::new()
                .decompress(data, dst)
                .map_err(|_| "snappy block does not decode")?,
        };
        if n != raw_len {
            return Err("block decodes to the wrong length");
        }
        Ok(())
    }
}

impl Default for Compression {
    fn default() -> Self {
        Self::DEFAULT
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_codec_round_trips_and_refuses_garbage() {
        let raw: Vec<u8> = (0..10_000u32)
            .flat_map(|i| (i % 97).to_le_bytes())
            .collect();
        for c in [
            Compression::None,
            Compression::Zstd(1),
            Compression::Zstd(3),
            Compression::Lz4,
            Compression::Snappy,
        ] {
            let packed = c.compress(&raw);
            let mut buf = Vec::new();
            let tag = Compression::from_tag(c.tag()).unwrap();
            tag.decompress(&packed, raw.len(), &mut buf).unwrap();
            assert_eq!(buf, raw);
            assert!(tag.decompress(&packed, raw.len() + 1, &mut buf).is_err());
            let garbage = vec![0xA5u8; 64];
            assert!(tag.decompress(&garbage, raw.len(), &mut buf).is_err());
        }
    }
}
