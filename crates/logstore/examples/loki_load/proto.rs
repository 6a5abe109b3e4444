//! Loki's push request on the wire, written out by hand for the load tool.
//!
//! These are the fields of Loki's `logproto.PushRequest` that a client
//! sends: `PushRequest{streams=1}`, `StreamAdapter{labels=1, entries=2}`,
//! `EntryAdapter{timestamp=1 (google.protobuf.Timestamp), line=2}`. The
//! tool keeps its own copy rather than importing the server's decoder so
//! that it measures any Loki-compatible server through the wire format
//! alone, and so that a bug in the server's copy cannot hide behind the
//! same bug here.

use prost::Message;

/// `logproto.PushRequest`.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct PushRequest {
    #[prost(message, repeated, tag = "1")]
    pub(crate) streams: Vec<StreamAdapter>,
}

/// `logproto.StreamAdapter`: one stream's label set and its entries.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct StreamAdapter {
    /// The label set as text, `{job="bench", stream="s1"}`.
    #[prost(string, tag = "1")]
    pub(crate) labels: String,
    #[prost(message, repeated, tag = "2")]
    pub(crate) entries: Vec<EntryAdapter>,
}

/// `logproto.EntryAdapter`.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct EntryAdapter {
    #[prost(message, optional, tag = "1")]
    pub(crate) timestamp: Option<Timestamp>,
    #[prost(string, tag = "2")]
    pub(crate) line: String,
}

/// `google.protobuf.Timestamp`.
#[derive(Clone, Copy, PartialEq, prost::Message)]
pub(crate) struct Timestamp {
    #[prost(int64, tag = "1")]
    pub(crate) seconds: i64,
    #[prost(int32, tag = "2")]
    pub(crate) nanos: i32,
}

impl Timestamp {
    /// Splits nanoseconds since the epoch as protobuf wants them: `nanos`
    /// is never negative, even before 1970.
    pub(crate) fn from_nanos(ns: i64) -> Self {
        Self {
            seconds: ns.div_euclid(1_000_000_000),
            nanos: ns.rem_euclid(1_000_000_000) as i32,
        }
    }
}

/// The body of one push: the protobuf, compressed with snappy's *block*
/// format (not the framed one), as Promtail sends it.
pub(crate) fn encode(request: &PushRequest) -> Result<Vec<u8>, String> {
    snap::raw::Encoder::new()
        .compress_vec(&request.encode_to_vec())
        .map_err(|e| format!("snappy: {e}"))
}

/// The reverse of [`encode`], for the tests: what a server would read.
#[cfg(test)]
pub(crate) fn decode(body: &[u8]) -> Result<PushRequest, String> {
    let raw = snap::raw::Decoder::new()
        .decompress_vec(body)
        .map_err(|e| format!("snappy: {e}"))?;
    PushRequest::decode(raw.as_slice()).map_err(|e| format!("protobuf: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_through_snappy_and_protobuf() {
        let request = PushRequest {
            streams: vec![StreamAdapter {
                labels: r#"{job="bench", stream="s0"}"#.into(),
                entries: vec![
                    EntryAdapter {
                        timestamp: Some(Timestamp::from_nanos(1_700_000_000_123_456_789)),
                        line: "first".into(),
                    },
                    EntryAdapter {
                        timestamp: Some(Timestamp::from_nanos(-1)),
                        line: "before 1970".into(),
                    },
                ],
            }],
        };
        let body = encode(&request).unwrap();
        assert_eq!(decode(&body).unwrap(), request);
        let ts = request.streams[0].entries[1].timestamp.unwrap();
        assert_eq!((ts.seconds, ts.nanos), (-1, 999_999_999));
    }

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
        let entry = &decoded.streams[0].entries[0];
        assert_eq!(decoded.streams[0].labels, "{}");
        assert_eq!(
            entry.timestamp,
            Some(Timestamp {
                seconds: 1,
                nanos: 2
            })
        );
        assert_eq!(entry.line, "x");
        assert_eq!(decoded.encode_to_vec(), wire);
    }
}
