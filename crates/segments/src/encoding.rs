//! Byte-level helpers for payloads: varints, length-prefixed strings, and a bounds-checked reader.

/// Appends `v` as an unsigned LEB128 varint.
pub fn put_uvarint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Appends `v` zigzag-encoded, so small negative numbers stay short.
pub fn put_varint(out: &mut Vec<u8>, v: i64) {
    put_uvarint(out, ((v << 1) ^ (v >> 63)) as u64);
}

/// Appends a string as its length (uvarint) then its UTF-8 bytes.
pub fn put_str(out: &mut Vec<u8>, s: &str) {
    put_uvarint(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

/// A reader over bytes that may come from disk: every read checks bounds and
/// returns `None` rather than panicking on short or malformed input.
#[derive(Debug, Clone)]
pub struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    /// Reads `bytes` from the start.
    pub fn new(bytes: &'a [u8]) -> Self {
        Self(bytes)
    }

    /// Whether everything was read.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The bytes not read yet.
    pub fn rest(&self) -> &'a [u8] {
        self.0
    }

    /// How many bytes are left: callers bound a count by it before
    /// allocating, so a corrupt count cannot ask for gigabytes.
    pub fn remaining(&self) -> usize {
        self.0.len()
    }

    /// One byte.
    pub fn u8(&mut self) -> Option<u8> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(b)
    }

    /// An unsigned LEB128 varint of at most ten bytes.
    pub fn uvarint(&mut self) -> Option<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let (&byte, rest) = self.0.split_first()?;
            self.0 = rest;
            v |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Some(v);
            }
        }
        None
    }

    /// A varint that must fit a `usize` (a length or a count).
    pub fn len(&mut self) -> Option<usize> {
        usize::try_from(self.uvarint()?).ok()
    }

    /// A zigzag-encoded varint.
    pub fn varint(&mut self) -> Option<i64> {
        let z = self.uvarint()?;
        Some(((z >> 1) as i64) ^ -((z & 1) as i64))
    }

    /// The next `n` bytes.
    pub fn bytes(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, rest) = self.0.split_at_checked(n)?;
        self.0 = rest;
        Some(head)
    }

    /// A little-endian `u32`.
    pub fn u32_le(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.bytes(4)?.try_into().ok()?))
    }

    /// A little-endian `u64`.
    pub fn u64_le(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.bytes(8)?.try_into().ok()?))
    }

    /// A little-endian `i64`.
    pub fn i64_le(&mut self) -> Option<i64> {
        Some(self.u64_le()? as i64)
    }

    /// A string written by [`put_str`]; `None` if it is not UTF-8.
    pub fn str(&mut self) -> Option<&'a str> {
        let len = self.len()?;
        std::str::from_utf8(self.bytes(len)?).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_and_strings_round_trip_and_short_input_is_none() {
        for v in [0i64, 1, -1, 63, -64, 300, i64::MAX, i64::MIN] {
            let mut out = Vec::new();
            put_varint(&mut out, v);
            assert_eq!(Reader::new(&out).varint(), Some(v));
            assert_eq!(Reader::new(&out[..out.len() - 1]).varint(), None);
        }
        // Eleven continuation bytes: longer than any u64.
        assert_eq!(Reader::new(&[0xff; 11]).uvarint(), None);
        let mut out = Vec::new();
        put_str(&mut out, "héllo");
        let mut r = Reader::new(&out);
        assert_eq!(r.str(), Some("héllo"));
        assert!(r.is_empty());
        assert_eq!(Reader::new(&[3, b'a']).str(), None);
        assert_eq!(Reader::new(&[2, 0xff, 0xfe]).str(), None);
        assert_eq!(Reader::new(&[1, 2, 3]).u32_le(), None);
    }
}
