//! The protobuf messages of a Loki push, with Loki's field numbers.

/// `logproto.PushRequest`: the streams of one push.
#[derive(Clone, PartialEq, prost::Message)]
pub struct PushRequest {
    /// The streams pushed.
    #[prost(message, repeated, tag = "1")]
    pub streams: Vec<StreamAdapter>,
}

/// `logproto.StreamAdapter`: one stream's label set and its entries.
#[derive(Clone, PartialEq, prost::Message)]
pub struct StreamAdapter {
    /// The label set as text, e.g. `{job="x"}` (see [`crate::labels_text`]).
    #[prost(bytes = "vec", tag = "1")]
    pub labels: Vec<u8>,
    /// The entries, in the order sent.
    #[prost(message, repeated, tag = "2")]
    pub entries: Vec<EntryAdapter>,
    /// A hash of the labels some clients send; Loki ignores it, and so
    /// does vigil (0 when not sent).
    #[prost(uint64, tag = "3")]
    pub hash: u64,
}

/// `logproto.EntryAdapter`: one log line.
#[derive(Clone, PartialEq, prost::Message)]
pub struct EntryAdapter {
    /// When the line was logged.
    #[prost(message, optional, tag = "1")]
    pub timestamp: Option<Timestamp>,
    /// The log line.
    #[prost(bytes = "vec", tag = "2")]
    pub line: Vec<u8>,
    /// Structured metadata: name/value pairs kept beside the line (Loki
    /// 2.9 and later; older ones skip the field as unknown).
    #[prost(message, repeated, tag = "3")]
    pub structured_metadata: Vec<LabelPairAdapter>,
}

/// `logproto.LabelPairAdapter`: one structured-metadata pair.
#[derive(Clone, PartialEq, prost::Message)]
pub struct LabelPairAdapter {
    /// The name.
    #[prost(bytes = "vec", tag = "1")]
    pub name: Vec<u8>,
    /// The value.
    #[prost(bytes = "vec", tag = "2")]
    pub value: Vec<u8>,
}

/// `google.protobuf.Timestamp`.
#[derive(Clone, Copy, PartialEq, Eq, prost::Message)]
pub struct Timestamp {
    /// Seconds since the Unix epoch.
    #[prost(int64, tag = "1")]
    pub seconds: i64,
    /// Nanoseconds within the second, `0..1_000_000_000`.
    #[prost(int32, tag = "2")]
    pub nanos: i32,
}

/// The first second Go's protobuf timestamps accept: 0001-01-01T00:00:00Z.
const MIN_VALID_SECONDS: i64 = -62_135_596_800;
/// The first second they refuse: 10000-01-01T00:00:00Z.
const MAX_VALID_SECONDS: i64 = 253_402_300_800;

impl Timestamp {
    /// Splits nanoseconds since the epoch as protobuf wants them: `nanos`
    /// is never negative, even before 1970.
    pub fn from_nanos(ns: i64) -> Self {
        Self {
            seconds: ns.div_euclid(1_000_000_000),
            // In 0..1e9, so it fits.
            nanos: ns.rem_euclid(1_000_000_000) as i32,
        }
    }

    /// Nanoseconds since the epoch, clamped to the range of `i64`.
    pub fn to_nanos(self) -> i64 {
        let ns = i128::from(self.seconds) * 1_000_000_000 + i128::from(self.nanos);
        // Clamped first, so the cast cannot wrap.
        ns.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
    }

    /// Whether Go's protobuf library accepts the timestamp: seconds within
    /// years 1 to 9999 and nanos within a second. Promtail fails to encode
    /// a whole batch holding one it does not.
    pub fn is_valid(self) -> bool {
        (MIN_VALID_SECONDS..MAX_VALID_SECONDS).contains(&self.seconds)
            && (0..1_000_000_000).contains(&self.nanos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;

    #[test]
    fn field_numbers_are_lokis() {
        // A hand-built encoding of PushRequest{streams: [{labels: "{}",
        // entries: [{timestamp: {seconds: 1, nanos: 2}, line: "x"}]}]}:
        // tag 1 (streams, length-delimited), tag 1 (labels), tag 2
        // (entries), tag 1 (timestamp) with seconds=1 nanos=2, tag 2 (line).
        let wire = [
            0x0a, 0x0f, 0x0a, 0x02, b'{', b'}', 0x12, 0x09, 0x0a, 0x04, 0x08, 0x01, 0x10, 0x02,
            0x12, 0x01, b'x',
        ];
        let decoded = PushRequest::decode(&wire[..]).unwrap();
        let stream = &decoded.streams[0];
        assert_eq!(stream.labels, b"{}");
        assert_eq!(
            stream.entries[0].timestamp,
            Some(Timestamp {
                seconds: 1,
                nanos: 2
            })
        );
        assert_eq!(stream.entries[0].line, b"x");
        assert_eq!(decoded.encode_to_vec(), wire);
    }

    #[test]
    fn structured_metadata_is_field_three_of_an_entry() {
        let entry = EntryAdapter {
            timestamp: None,
            line: vec![],
            structured_metadata: vec![LabelPairAdapter {
                name: b"a".to_vec(),
                value: b"b".to_vec(),
            }],
        };
        assert_eq!(
            entry.encode_to_vec(),
            [0x1a, 0x06, 0x0a, 0x01, b'a', 0x12, 0x01, b'b']
        );
    }

    #[test]
    fn nanoseconds_split_with_non_negative_nanos() {
        for (ns, seconds, nanos) in [
            (0, 0, 0),
            (1_700_000_000_123_456_789, 1_700_000_000, 123_456_789),
            (-1, -1, 999_999_999),
            (-1_000_000_000, -1, 0),
            (i64::MAX, 9_223_372_036, 854_775_807),
            (i64::MIN, -9_223_372_037, 145_224_192),
        ] {
            let ts = Timestamp::from_nanos(ns);
            assert_eq!((ts.seconds, ts.nanos), (seconds, nanos), "{ns}");
            assert_eq!(ts.to_nanos(), ns, "{ns}");
        }
    }

    #[test]
    fn valid_range_is_gos() {
        let at = |seconds, nanos| Timestamp { seconds, nanos }.is_valid();
        assert!(at(0, 0));
        assert!(at(MIN_VALID_SECONDS, 0));
        assert!(at(MAX_VALID_SECONDS - 1, 999_999_999));
        assert!(!at(MAX_VALID_SECONDS, 0));
        assert!(!at(MIN_VALID_SECONDS - 1, 999_999_999));
        assert!(!at(0, -1));
        assert!(!at(0, 1_000_000_000));
        // Year 55552, which a millisecond time read as seconds gives.
        assert!(!at(1_690_899_095_123, 1));
    }
}
