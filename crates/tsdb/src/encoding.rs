//! Byte-level helpers shared by the log records and the block files: varints, strings, a bounds-checked cursor.

/// Appends `v` as an unsigned LEB128 varint.
pub(crate) fn put_uvarint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Appends `v` zigzag-encoded, so small negative numbers stay short.
pub(crate) fn put_varint(out: &mut Vec<u8>, v: i64) {
    put_uvarint(out, ((v << 1) ^ (v >> 63)) as u64);
}

/// Appends a length-prefixed UTF-8 string.
pub(crate) fn put_str(out: &mut Vec<u8>, s: &str) {
    put_uvarint(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

/// A cursor over bytes read from disk; every read checks bounds and returns
/// `None` rather than panicking on short or malformed input.
pub(crate) struct Cursor<'a>(pub(crate) &'a [u8]);

impl<'a> Cursor<'a> {
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(crate) fn uvarint(&mut self) -> Option<u64> {
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

    pub(crate) fn varint(&mut self) -> Option<i64> {
        let z = self.uvarint()?;
        Some(((z >> 1) as i64) ^ -((z & 1) as i64))
    }

    pub(crate) fn bytes(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, rest) = self.0.split_at_checked(n)?;
        self.0 = rest;
        Some(head)
    }

    pub(crate) fn u64_le(&mut self) -> Option<u64> {
        let bytes: [u8; 8] = self.bytes(8)?.try_into().ok()?;
        Some(u64::from_le_bytes(bytes))
    }

    pub(crate) fn string(&mut self) -> Option<String> {
        let len = usize::try_from(self.uvarint()?).ok()?;
        String::from_utf8(self.bytes(len)?.to_vec()).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip_and_short_input_is_none() {
        for v in [0i64, 1, -1, 63, -64, 300, i64::MAX, i64::MIN] {
            let mut out = Vec::new();
            put_varint(&mut out, v);
            assert_eq!(Cursor(&out).varint(), Some(v));
            assert_eq!(Cursor(&out[..out.len() - 1]).varint(), None);
        }
        // Eleven continuation bytes: longer than any u64.
        assert_eq!(Cursor(&[0xff; 11]).uvarint(), None);
        assert_eq!(Cursor(&[3, b'a']).string(), None);
        assert_eq!(Cursor(&[2, 0xff, 0xfe]).string(), None);
    }
}
