//! Write-ahead log records: the series and samples payloads, framed by `segments`.
//!
//! ```text
//! frame:   [payload length: u32 LE][crc32 of payload: u32 LE][payload]
//! payload: [type: u8][body]
//!   type 1, series:  repeated { id: uvarint, label count: uvarint,
//!                               (name, value) as (uvarint length, UTF-8 bytes) }
//!   type 2, samples: [base t: i64 LE] repeated { id: uvarint,
//!                               t - base: zigzag varint, value bits: u64 LE }
//! ```
//!
//! The frame is `segments`' (length and CRC32), and never spans two segment
//! files. Decoding never panics: anything that does not parse is reported as
//! corrupt, and the reader truncates there.

use model::Labels;

use crate::SeriesRef;
use segments::{Reader, begin_frame, end_frame, put_str, put_uvarint, put_varint};

const TYPE_SERIES: u8 = 1;
const TYPE_SAMPLES: u8 = 2;

/// One decoded record.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Record {
    /// Series created: their ids and labels.
    Series(Vec<(SeriesRef, Labels)>),
    /// Samples of one commit.
    Samples(Vec<(SeriesRef, i64, f64)>),
}

/// Starts a frame of record type `kind` in `out`; returns where it starts.
fn begin_record(out: &mut Vec<u8>, kind: u8) -> usize {
    let start = begin_frame(out);
    out.push(kind);
    start
}

/// Appends a framed series record to `out`.
pub(crate) fn encode_series<'a>(
    out: &mut Vec<u8>,
    series: impl IntoIterator<Item = (SeriesRef, &'a Labels)>,
) {
    let start = begin_record(out, TYPE_SERIES);
    for (id, labels) in series {
        put_uvarint(out, id.0);
        put_uvarint(out, labels.len() as u64);
        for label in labels {
            put_str(out, label.name);
            put_str(out, label.value);
        }
    }
    end_frame(out, start);
}

/// Appends a framed samples record to `out`.
pub(crate) fn encode_samples(
    out: &mut Vec<u8>,
    samples: impl IntoIterator<Item = (SeriesRef, i64, f64)>,
) {
    let mut samples = samples.into_iter().peekable();
    let base = samples.peek().map_or(0, |s| s.1);
    let start = begin_record(out, TYPE_SAMPLES);
    out.reserve(8 + samples.size_hint().0 * 12);
    out.extend_from_slice(&base.to_le_bytes());
    for (id, t, v) in samples {
        put_uvarint(out, id.0);
        put_varint(out, t.wrapping_sub(base));
        out.extend_from_slice(&v.to_bits().to_le_bytes());
    }
    end_frame(out, start);
}

/// Decodes a payload whose checksum was good; `None` if it does not parse.
pub(crate) fn decode(payload: &[u8]) -> Option<Record> {
    let (&kind, body) = payload.split_first()?;
    let mut c = Reader::new(body);
    match kind {
        TYPE_SERIES => {
            let mut out = Vec::new();
            while !c.is_empty() {
                let id = SeriesRef(c.uvarint()?);
                let n = c.uvarint()?;
                let mut pairs = Vec::new();
                for _ in 0..n {
                    pairs.push((c.str()?, c.str()?));
                }
                out.push((id, Labels::from_pairs(pairs)));
            }
            Some(Record::Series(out))
        }
        TYPE_SAMPLES => {
            let base = c.u64_le()? as i64;
            let mut out = Vec::new();
            while !c.is_empty() {
                let id = SeriesRef(c.uvarint()?);
                let d = c.varint()?;
                let v = f64::from_bits(c.u64_le()?);
                out.push((id, base.wrapping_add(d), v));
            }
            Some(Record::Samples(out))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use segments::{Frame, read_frame};

    fn payload_of(framed: &[u8]) -> &[u8] {
        match read_frame(framed) {
            Frame::Ok { payload, len } => {
                assert_eq!(len, framed.len());
                payload
            }
            other => panic!("{other:?}"),
        }
    }

    proptest! {
        #[test]
        fn samples_round_trip(samples in prop::collection::vec((any::<u64>(), any::<i64>(), any::<u64>()), 0..50)) {
            let samples: Vec<_> = samples.into_iter().map(|(id, t, v)| (SeriesRef(id), t, f64::from_bits(v))).collect();
            let mut out = Vec::new();
            encode_samples(&mut out, samples.iter().copied());
            let Some(Record::Samples(got)) = decode(payload_of(&out)) else { panic!("not samples") };
            let bits = |s: &[(SeriesRef, i64, f64)]| s.iter().map(|&(id, t, v)| (id, t, v.to_bits())).collect::<Vec<_>>();
            prop_assert_eq!(bits(&got), bits(&samples));
        }

        #[test]
        fn series_round_trip(series in prop::collection::vec((any::<u64>(), prop::collection::vec(("[a-z_]{1,5}", ".{0,6}"), 0..4)), 0..10)) {
            let series: Vec<_> = series.into_iter().map(|(id, pairs)| (SeriesRef(id), Labels::from_pairs(pairs))).collect();
            let mut out = Vec::new();
            encode_series(&mut out, series.iter().map(|(id, l)| (*id, l)));
            prop_assert_eq!(decode(payload_of(&out)), Some(Record::Series(series)));
        }

        #[test]
        fn garbage_payload_decodes_consistently_or_not_at_all(bytes in prop::collection::vec(any::<u8>(), 0..100)) {
            // Whatever garbage happens to parse must survive a re-encode
            // unchanged; the rest must be refused without panicking.
            if let Some(record) = decode(&bytes) {
                let mut out = Vec::new();
                match &record {
                    Record::Series(s) => encode_series(&mut out, s.iter().map(|(id, l)| (*id, l))),
                    Record::Samples(s) => encode_samples(&mut out, s.iter().copied()),
                }
                let again = decode(payload_of(&out));
                prop_assert_eq!(format!("{:?}", key(again.as_ref())), format!("{:?}", key(Some(&record))));
            }
        }
    }

    /// A comparable form of a record, with values as bits so NaNs compare.
    fn key(r: Option<&Record>) -> Option<Vec<(u64, String, u64)>> {
        Some(match r? {
            Record::Series(s) => s.iter().map(|(id, l)| (id.0, l.to_string(), 0)).collect(),
            Record::Samples(s) => s
                .iter()
                .map(|(id, t, v)| (id.0, t.to_string(), v.to_bits()))
                .collect(),
        })
    }

    #[test]
    fn an_unknown_record_type_does_not_decode() {
        assert_eq!(decode(&[9, 1, 2]), None);
        assert_eq!(decode(&[]), None);
    }
}
