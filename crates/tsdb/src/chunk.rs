//! XOR chunks: delta-of-delta timestamps and XOR-compressed float values.
//!
//! The layout follows the scheme Prometheus uses (from the Gorilla paper), in
//! our own code:
//!
//! ```text
//! [count: u16 big-endian] then a bit stream, most significant bit first:
//!   sample 0: t as zigzag varint, v as 64 raw bits
//!   sample 1: t - t0 as zigzag varint, v XOR-coded
//!   sample n: dod = (t - t') - (t' - t'') coded as
//!               '0'                    dod == 0
//!               '10'   + 14 bits       -2^13 <= dod < 2^13
//!               '110'  + 17 bits       -2^16 <= dod < 2^16
//!               '1110' + 20 bits       -2^19 <= dod < 2^19
//!               '1111' + 64 bits       anything else
//!             v XOR-coded
//!   XOR coding of v against the previous value p (x = bits(v) ^ bits(p)):
//!               '0'                    x == 0
//!               '10' + meaningful bits x fits the previous leading/trailing window
//!               '11' + 5 bits leading zeros + 6 bits length (0 means 64)
//!                    + meaningful bits
//! ```
//!
//! Arithmetic on timestamps is wrapping on both sides, so any sequence of
//! `i64` round-trips, including decreasing ones: refusing out-of-order or
//! duplicate timestamps is the head's business, not the encoding's. Values
//! are stored as raw bits, so every NaN payload (the staleness marker among
//! them) comes back bit for bit.

use crate::TsdbError;

/// How many samples the head puts in one chunk before cutting a new one; the
/// figure Prometheus found to balance compression against decode cost.
pub const SAMPLES_PER_CHUNK: u16 = 120;

/// Bytes of the sample-count header in front of the bit stream.
const HEADER_LEN: usize = 2;

/// The number of samples an encoded chunk holds, from its header.
pub(crate) fn sample_count(data: &[u8]) -> usize {
    match data {
        [hi, lo, ..] => usize::from(u16::from_be_bytes([*hi, *lo])),
        _ => 0,
    }
}

/// Marks "no leading/trailing window yet" in the XOR state.
const NO_WINDOW: u8 = u8::MAX;

/// Appends bits, most significant first, to a byte vector.
#[derive(Debug, Clone)]
struct BitWriter {
    bytes: Vec<u8>,
    /// Unused low bits of the last byte.
    free: u8,
}

impl BitWriter {
    fn write_bit(&mut self, bit: bool) {
        self.write_bits(u64::from(bit), 1);
    }

    /// Writes the low `n` bits of `value` (`n <= 64`): first into the free
    /// bits of the last byte, then whole bytes, then a partial one.
    #[inline]
    fn write_bits(&mut self, value: u64, mut n: u8) {
        let mut value = value & low_mask(n);
        if self.free > 0 && n > 0 {
            let take = self.free.min(n);
            // `value` has `n` significant bits, so this keeps `take` of them.
            let part = (value >> (n - take)) as u8;
            if let Some(last) = self.bytes.last_mut() {
                *last |= part << (self.free - take);
            }
            self.free -= take;
            n -= take;
            value &= low_mask(n);
        }
        while n >= 8 {
            n -= 8;
            self.bytes.push((value >> n) as u8);
        }
        if n > 0 {
            self.bytes.push((value << (8 - n)) as u8);
            self.free = 8 - n;
        }
    }

    fn write_varint(&mut self, value: i64) {
        let mut z = zigzag(value);
        loop {
            let byte = (z & 0x7f) as u8;
            z >>= 7;
            if z == 0 {
                self.write_bits(u64::from(byte), 8);
                return;
            }
            self.write_bits(u64::from(byte | 0x80), 8);
        }
    }
}

/// Reads bits, most significant first, from a byte slice.
#[derive(Debug, Clone)]
struct BitReader<'a> {
    bytes: &'a [u8],
    /// Position in bits from the start of `bytes`.
    pos: usize,
}

impl BitReader<'_> {
    fn read_bit(&mut self) -> Option<bool> {
        self.read_bits(1).map(|b| b == 1)
    }

    /// Reads `n` bits (`n <= 64`); `None` past the end of the data.
    fn read_bits(&mut self, mut n: u8) -> Option<u64> {
        let mut out = 0u64;
        while n > 0 {
            let byte = *self.bytes.get(self.pos / 8)?;
            let avail = 8 - (self.pos % 8) as u8;
            let take = avail.min(n);
            let part = (u64::from(byte) >> (avail - take)) & low_mask(take);
            out = (out << take) | part;
            self.pos += usize::from(take);
            n -= take;
        }
        Some(out)
    }

    fn read_varint(&mut self) -> Option<i64> {
        let mut z = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = self.read_bits(8)?;
            z |= (byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Some(unzigzag(z));
            }
        }
        None
    }
}

fn low_mask(n: u8) -> u64 {
    if n >= 64 { u64::MAX } else { (1u64 << n) - 1 }
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(z: u64) -> i64 {
    ((z >> 1) as i64) ^ -((z & 1) as i64)
}

/// Sign-extends the low `n` bits of `raw`.
fn sign_extend(raw: u64, n: u8) -> i64 {
    let shift = 64 - u32::from(n);
    ((raw << shift) as i64) >> shift
}

/// The delta-of-delta buckets: (prefix, prefix length, payload bits).
const DOD_BUCKETS: [(u64, u8, u8); 3] = [(0b10, 2, 14), (0b110, 3, 17), (0b1110, 4, 20)];

/// Builds one XOR chunk sample by sample.
#[derive(Debug, Clone)]
pub struct XorEncoder {
    w: BitWriter,
    count: u16,
    t: i64,
    delta: i64,
    v_bits: u64,
    leading: u8,
    trailing: u8,
    mint: i64,
}

impl Default for XorEncoder {
    fn default() -> Self {
        Self::new()
    }
}

impl XorEncoder {
    /// An empty chunk.
    pub fn new() -> Self {
        Self {
            w: BitWriter {
                bytes: vec![0; HEADER_LEN],
                free: 0,
            },
            count: 0,
            t: 0,
            delta: 0,
            v_bits: 0,
            leading: NO_WINDOW,
            trailing: 0,
            mint: 0,
        }
    }

    /// Adds a sample; fails only once the chunk holds `u16::MAX` samples.
    pub fn append(&mut self, t: i64, v: f64) -> Result<(), TsdbError> {
        if self.count == u16::MAX {
            return Err(TsdbError::ChunkFull);
        }
        let v_bits = v.to_bits();
        match self.count {
            0 => {
                self.w.write_varint(t);
                self.w.write_bits(v_bits, 64);
                self.mint = t;
            }
            1 => {
                let delta = t.wrapping_sub(self.t);
                self.w.write_varint(delta);
                self.write_value(v_bits);
                self.delta = delta;
            }
            _ => {
                let delta = t.wrapping_sub(self.t);
                self.write_dod(delta.wrapping_sub(self.delta));
                self.write_value(v_bits);
                self.delta = delta;
            }
        }
        self.t = t;
        self.v_bits = v_bits;
        self.count += 1;
        self.w.bytes[..HEADER_LEN].copy_from_slice(&self.count.to_be_bytes());
        Ok(())
    }

    fn write_dod(&mut self, dod: i64) {
        if dod == 0 {
            self.w.write_bit(false);
            return;
        }
        for (prefix, prefix_len, bits) in DOD_BUCKETS {
            let limit = 1i64 << (bits - 1);
            if (-limit..limit).contains(&dod) {
                self.w.write_bits(prefix, prefix_len);
                self.w.write_bits(dod as u64 & low_mask(bits), bits);
                return;
            }
        }
        self.w.write_bits(0b1111, 4);
        self.w.write_bits(dod as u64, 64);
    }

    fn write_value(&mut self, v_bits: u64) {
        let x = v_bits ^ self.v_bits;
        if x == 0 {
            self.w.write_bit(false);
            return;
        }
        // Five bits hold the leading-zero count, so it is capped at 31.
        let leading = (x.leading_zeros() as u8).min(31);
        let trailing = x.trailing_zeros() as u8;
        // Control bits go out with their payload in as few writes as fit in
        // 64 bits: this is the innermost loop of every append.
        if self.leading != NO_WINDOW && leading >= self.leading && trailing >= self.trailing {
            let len = 64 - self.leading - self.trailing;
            let bits = x >> self.trailing;
            if len <= 62 {
                self.w.write_bits((0b10 << len) | bits, len + 2);
            } else {
                self.w.write_bits(0b10, 2);
                self.w.write_bits(bits, len);
            }
            return;
        }
        let len = 64 - leading - trailing;
        // A length of 64 does not fit in six bits; 0 never occurs (x != 0),
        // so it stands for 64.
        let header = (0b11 << 11) | (u64::from(leading) << 6) | (u64::from(len) & 0x3f);
        self.w.write_bits(header, 13);
        self.w.write_bits(x >> trailing, len);
        self.leading = leading;
        self.trailing = trailing;
    }

    /// Number of samples in the chunk.
    pub fn len(&self) -> usize {
        usize::from(self.count)
    }

    /// Whether the chunk has no sample yet.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Timestamp of the first sample (0 while empty).
    pub fn min_time(&self) -> i64 {
        self.mint
    }

    /// Timestamp of the last sample (0 while empty).
    pub fn max_time(&self) -> i64 {
        self.t
    }

    /// The encoded chunk, header included.
    pub fn bytes(&self) -> &[u8] {
        &self.w.bytes
    }

    /// Iterates over the samples appended so far.
    pub fn iter(&self) -> XorIter<'_> {
        XorIter::new(self.bytes())
    }
}

/// Decodes the samples of one encoded chunk.
///
/// Ends early on malformed data, which [`XorIter::error`] then reports: a
/// chunk read from disk is input, and bad input must not panic.
#[derive(Debug, Clone)]
pub struct XorIter<'a> {
    r: BitReader<'a>,
    count: u16,
    read: u16,
    t: i64,
    delta: i64,
    v_bits: u64,
    leading: u8,
    trailing: u8,
    error: bool,
}

impl<'a> XorIter<'a> {
    /// Starts decoding `chunk` (header included).
    pub fn new(chunk: &'a [u8]) -> Self {
        let (count, error) = match chunk {
            [hi, lo, ..] => (u16::from_be_bytes([*hi, *lo]), false),
            _ => (0, true),
        };
        Self {
            r: BitReader {
                bytes: chunk.get(HEADER_LEN..).unwrap_or(&[]),
                pos: 0,
            },
            count,
            read: 0,
            t: 0,
            delta: 0,
            v_bits: 0,
            leading: 0,
            trailing: 0,
            error,
        }
    }

    /// Whether decoding stopped on malformed data rather than at the end.
    pub fn error(&self) -> bool {
        self.error
    }

    fn decode_next(&mut self) -> Option<(i64, f64)> {
        match self.read {
            0 => {
                self.t = self.r.read_varint()?;
                self.v_bits = self.r.read_bits(64)?;
            }
            1 => {
                self.delta = self.r.read_varint()?;
                self.t = self.t.wrapping_add(self.delta);
                self.read_value()?;
            }
            _ => {
                let dod = self.read_dod()?;
                self.delta = self.delta.wrapping_add(dod);
                self.t = self.t.wrapping_add(self.delta);
                self.read_value()?;
            }
        }
        Some((self.t, f64::from_bits(self.v_bits)))
    }

    fn read_dod(&mut self) -> Option<i64> {
        if !self.r.read_bit()? {
            return Some(0);
        }
        for (_, _, bits) in DOD_BUCKETS {
            if !self.r.read_bit()? {
                return Some(sign_extend(self.r.read_bits(bits)?, bits));
            }
        }
        self.r.read_bits(64).map(|raw| raw as i64)
    }

    fn read_value(&mut self) -> Option<()> {
        if !self.r.read_bit()? {
            return Some(());
        }
        if self.r.read_bit()? {
            self.leading = self.r.read_bits(5)? as u8;
            let len = match self.r.read_bits(6)? as u8 {
                0 => 64,
                n => n,
            };
            if u32::from(self.leading) + u32::from(len) > 64 {
                return None;
            }
            self.trailing = 64 - self.leading - len;
        }
        let len = 64 - self.leading - self.trailing;
        let x = self.r.read_bits(len)?;
        // `len == 64` implies `trailing == 0`; avoid an overflowing shift.
        let x = if self.trailing == 0 {
            x
        } else {
            x << self.trailing
        };
        self.v_bits ^= x;
        Some(())
    }
}

impl Iterator for XorIter<'_> {
    type Item = (i64, f64);

    fn next(&mut self) -> Option<(i64, f64)> {
        if self.error || self.read >= self.count {
            return None;
        }
        match self.decode_next() {
            Some(sample) => {
                self.read += 1;
                Some(sample)
            }
            None => {
                self.error = true;
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    // The staleness marker Prometheus writes when a series disappears.
    use model::staleness::STALE_NAN_BITS as STALE_NAN;

    fn encode(samples: &[(i64, f64)]) -> XorEncoder {
        let mut enc = XorEncoder::new();
        for &(t, v) in samples {
            enc.append(t, v).unwrap();
        }
        enc
    }

    /// Compares bit patterns so NaN payloads count.
    fn bits(samples: &[(i64, f64)]) -> Vec<(i64, u64)> {
        samples.iter().map(|&(t, v)| (t, v.to_bits())).collect()
    }

    fn check_round_trip(samples: &[(i64, f64)]) {
        let enc = encode(samples);
        let mut it = enc.iter();
        let got: Vec<_> = it.by_ref().collect();
        assert!(!it.error());
        assert_eq!(bits(&got), bits(samples));
        assert_eq!(enc.len(), samples.len());
        // Decoding a copy of the bytes (what a reader of a closed chunk
        // does) gives the same.
        let copy = enc.bytes().to_vec();
        assert_eq!(
            bits(&XorIter::new(&copy).collect::<Vec<_>>()),
            bits(samples)
        );
    }

    /// Values a scrape produces most: repeats, counters, gauges, specials.
    fn value() -> impl Strategy<Value = f64> {
        prop_oneof![
            Just(0.0),
            Just(-0.0),
            Just(1.0),
            Just(f64::INFINITY),
            Just(f64::NEG_INFINITY),
            Just(f64::from_bits(STALE_NAN)),
            Just(f64::NAN),
            any::<u64>().prop_map(f64::from_bits),
            (0u32..1_000_000).prop_map(f64::from),
            any::<f64>(),
        ]
    }

    /// Timestamp steps: regular scrape intervals with jitter, zero,
    /// negative, and huge jumps that need the widest buckets.
    fn step() -> impl Strategy<Value = i64> {
        prop_oneof![
            Just(15_000i64),
            (14_990i64..15_010),
            (-10i64..10),
            (-70_000i64..70_000),
            (-600_000i64..600_000),
            any::<i64>(),
        ]
    }

    proptest! {
        #[test]
        fn round_trips_any_samples(
            start in any::<i64>(),
            steps in prop::collection::vec((step(), value()), 0..300),
        ) {
            let mut t = start;
            let mut samples = Vec::new();
            for (dt, v) in steps {
                samples.push((t, v));
                t = t.wrapping_add(dt);
            }
            check_round_trip(&samples);
        }

        #[test]
        fn truncated_chunk_never_panics(
            samples in prop::collection::vec((any::<i64>(), value()), 1..50),
            cut in 0usize..1000,
        ) {
            let enc = encode(&samples);
            let bytes = enc.bytes();
            let cut = cut % bytes.len();
            let mut it = XorIter::new(&bytes[..cut]);
            let got: Vec<_> = it.by_ref().collect();
            // Whatever was decoded before the cut is a prefix of the truth.
            prop_assert!(got.len() < samples.len() || cut == bytes.len());
            prop_assert_eq!(bits(&got), bits(&samples[..got.len()]));
            prop_assert!(it.error());
        }

        #[test]
        fn garbage_decodes_consistently(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
            // Whatever garbage decodes to, without panicking, must be
            // something the encoder reproduces.
            let decoded: Vec<_> = XorIter::new(&bytes).collect();
            let again: Vec<_> = encode(&decoded).iter().collect();
            prop_assert_eq!(bits(&again), bits(&decoded));
        }
    }

    #[test]
    fn staleness_marker_round_trips_bit_exactly() {
        let stale = f64::from_bits(STALE_NAN);
        check_round_trip(&[(1000, 1.0), (2000, stale), (3000, stale), (4000, 2.0)]);
        let got: Vec<_> = encode(&[(5, stale)]).iter().collect();
        assert_eq!(got[0].1.to_bits(), STALE_NAN);
        assert_ne!(STALE_NAN, f64::NAN.to_bits());
    }

    #[test]
    fn each_dod_bucket_boundary() {
        // Deltas chosen so the delta-of-delta lands on each side of every
        // bucket edge.
        let mut samples = vec![(0, 1.0), (1000, 1.0)];
        let mut t = 1000i64;
        let mut delta = 1000i64;
        for dod in [
            0,
            -(1 << 13),
            (1 << 13) - 1,
            1 << 13,
            -(1 << 13) - 1,
            -(1 << 16),
            (1 << 16) - 1,
            1 << 16,
            -(1 << 19),
            (1 << 19) - 1,
            1 << 19,
            i64::MAX,
            i64::MIN,
        ] {
            delta = delta.wrapping_add(dod);
            t = t.wrapping_add(delta);
            samples.push((t, 2.0));
        }
        check_round_trip(&samples);
    }

    #[test]
    fn regular_scrape_compresses_well() {
        // A counter scraped every 15s with a little jitter should cost a
        // couple of bytes per sample, as in Prometheus (~1.3 B/sample).
        let samples: Vec<_> = (0..120)
            .map(|i| (1_700_000_000_000 + i * 15_000 + (i % 3), (i * 7) as f64))
            .collect();
        let enc = encode(&samples);
        check_round_trip(&samples);
        let per_sample = enc.bytes().len() as f64 / samples.len() as f64;
        assert!(per_sample < 3.0, "{per_sample} bytes per sample");
    }

    #[test]
    fn empty_and_headerless() {
        assert_eq!(XorEncoder::new().iter().count(), 0);
        let mut it = XorIter::new(&[0x01]);
        assert_eq!(it.next(), None);
        assert!(it.error());
    }
}
