//! Byte-level helpers for the log records, blocks, chunk files and index: varints, strings, labels, a bounds-checked reader.

use model::Labels;

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

/// Appends a length-prefixed string.
pub(crate) fn put_str(out: &mut Vec<u8>, s: &str) {
    put_uvarint(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

/// Appends a label set: its count, then each name and value.
pub(crate) fn put_labels(out: &mut Vec<u8>, labels: &Labels) {
    put_uvarint(out, labels.len() as u64);
    for l in labels {
        put_str(out, l.name);
        put_str(out, l.value);
    }
}

/// A reader over bytes that may come from disk: every read checks bounds and
/// returns `None` rather than panicking on short or malformed input.
#[derive(Debug, Clone)]
pub(crate) struct Reader<'a>(pub(crate) &'a [u8]);

impl<'a> Reader<'a> {
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(crate) fn u8(&mut self) -> Option<u8> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(b)
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

    /// A varint that must fit a `usize` (a length or a count).
    pub(crate) fn len(&mut self) -> Option<usize> {
        usize::try_from(self.uvarint()?).ok()
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

    pub(crate) fn u32_le(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.bytes(4)?.try_into().ok()?))
    }

    pub(crate) fn u64_le(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.bytes(8)?.try_into().ok()?))
    }

    pub(crate) fn i64_le(&mut self) -> Option<i64> {
        Some(self.u64_le()? as i64)
    }

    pub(crate) fn str(&mut self) -> Option<&'a str> {
        let len = self.len()?;
        std::str::from_utf8(self.bytes(len)?).ok()
    }

    pub(crate) fn labels(&mut self) -> Option<Labels> {
        let n = self.len()?;
        // Each label takes at least two bytes: a bound before allocating.
        if n > self.0.len() / 2 {
            return None;
        }
        let mut pairs = Vec::with_capacity(n);
        for _ in 0..n {
            pairs.push((self.str()?, self.str()?));
        }
        Some(Labels::from_pairs(pairs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_and_labels_round_trip_and_short_input_is_none() {
        for v in [0i64, 1, -1, 63, -64, 300, i64::MAX, i64::MIN] {
            let mut out = Vec::new();
            put_varint(&mut out, v);
            assert_eq!(Reader(&out).varint(), Some(v));
            assert_eq!(Reader(&out[..out.len() - 1]).varint(), None);
        }
        assert_eq!(Reader(&[0xff; 11]).uvarint(), None);
        assert_eq!(Reader(&[3, b'a']).str(), None);
        assert_eq!(Reader(&[2, 0xff, 0xfe]).str(), None);
        let l = Labels::from_pairs([("app", "a"), ("env", "prod")]);
        let mut out = Vec::new();
        put_labels(&mut out, &l);
        assert_eq!(Reader(&out).labels(), Some(l));
        assert_eq!(Reader(&out[..out.len() - 1]).labels(), None);
        assert_eq!(Reader(&[200, 1]).labels(), None);
    }
}
