//! How a label set is written in the log, blocks and index: its count, then each name and value (the rest of the byte encoding is `segments`').

use model::Labels;
use segments::{Reader, put_str, put_uvarint};

/// Appends a label set: its count, then each name and value.
pub(crate) fn put_labels(out: &mut Vec<u8>, labels: &Labels) {
    put_uvarint(out, labels.len() as u64);
    for l in labels {
        put_str(out, l.name);
        put_str(out, l.value);
    }
}

/// Reads what [`put_labels`] wrote, on `segments`' bounds-checked reader.
pub(crate) trait ReadLabels {
    /// A label set; `None` if short or malformed.
    fn labels(&mut self) -> Option<Labels>;
}

impl ReadLabels for Reader<'_> {
    fn labels(&mut self) -> Option<Labels> {
        let n = self.len()?;
        // Each label takes at least two bytes: a bound before allocating.
        if n > self.remaining() / 2 {
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
    fn labels_round_trip_and_short_input_is_none() {
        let l = Labels::from_pairs([("app", "a"), ("env", "prod")]);
        let mut out = Vec::new();
        put_labels(&mut out, &l);
        assert_eq!(Reader::new(&out).labels(), Some(l));
        assert_eq!(Reader::new(&out[..out.len() - 1]).labels(), None);
        assert_eq!(Reader::new(&[200, 1]).labels(), None);
    }
}
