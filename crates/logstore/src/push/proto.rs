//! Loki's protobuf push body: a snappy *block* holding a `PushRequest`.
//!
//! The messages are written by hand (no build script): only the fields a
//! push carries. Strings are read as bytes, because Loki (gogo protobuf)
//! does not check UTF-8 and a log line may hold anything.

use super::labels::parse_labels;
use super::{PushEntry, PushError, PushRequest, PushStream, metadata_from_pairs};

/// `logproto.PushRequest`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ProtoPushRequest {
    /// The streams pushed.
    #[prost(message, repeated, tag = "1")]
    pub streams: Vec<ProtoStream>,
}

/// `logproto.StreamAdapter`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ProtoStream {
    /// The label set as text, e.g. `{job="x"}`.
    #[prost(bytes = "vec", tag = "1")]
    pub labels: Vec<u8>,
    /// The entries, in the order sent.
    #[prost(message, repeated, tag = "2")]
    pub entries: Vec<ProtoEntry>,
    /// A hash some clients send; ignored.
    #[prost(uint64, tag = "3")]
    pub hash: u64,
}

/// `logproto.EntryAdapter`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ProtoEntry {
    /// When the line was logged.
    #[prost(message, optional, tag = "1")]
    pub timestamp: Option<ProtoTimestamp>,
    /// The log line.
    #[prost(bytes = "vec", tag = "2")]
    pub line: Vec<u8>,
    /// Structured metadata: name/value pairs kept beside the line.
    #[prost(message, repeated, tag = "3")]
    pub structured_metadata: Vec<ProtoLabelPair>,
}

/// `google.protobuf.Timestamp`.
#[derive(Clone, Copy, PartialEq, Eq, prost::Message)]
pub struct ProtoTimestamp {
    /// Seconds since the Unix epoch.
    #[prost(int64, tag = "1")]
    pub seconds: i64,
    /// Nanoseconds within the second.
    #[prost(int32, tag = "2")]
    pub nanos: i32,
}

/// `logproto.LabelPairAdapter`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ProtoLabelPair {
    /// The name.
    #[prost(bytes = "vec", tag = "1")]
    pub name: Vec<u8>,
    /// The value.
    #[prost(bytes = "vec", tag = "2")]
    pub value: Vec<u8>,
}

/// Bytes to text without a copy when they are UTF-8; otherwise invalid
/// sequences become U+FFFD.
pub(crate) fn into_string(bytes: Vec<u8>) -> String {
    match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    }
}

/// Nanoseconds since the epoch of a protobuf timestamp, saturating.
fn timestamp_ns(ts: Option<ProtoTimestamp>) -> i64 {
    let ts = ts.unwrap_or_default();
    ts.seconds
        .saturating_mul(1_000_000_000)
        .saturating_add(i64::from(ts.nanos))
}

/// Un-snappies and decodes a protobuf push body, then reads each stream's
/// labels. `max_decompressed` bounds what the block may expand to.
pub fn decode_protobuf(body: &[u8], max_decompressed: usize) -> Result<PushRequest, PushError> {
    let corrupt = || PushError::bad("snappy: corrupt input");
    let len = snap::raw::decompress_len(body).map_err(|_| corrupt())?;
    if len > max_decompressed {
        return Err(PushError::TooLarge(format!(
            "received message larger than max ({len} vs {max_decompressed})"
        )));
    }
    let raw = snap::raw::Decoder::new()
        .decompress_vec(body)
        .map_err(|_| corrupt())?;
    decode_protobuf_raw(&raw)
}

/// Decodes an uncompressed protobuf `PushRequest`.
pub fn decode_protobuf_raw(raw: &[u8]) -> Result<PushRequest, PushError> {
    let req = <ProtoPushRequest as prost::Message>::decode(raw)
        .map_err(|e| PushError::bad(format!("proto: {}", proto_reason(&e))))?;
    let mut streams = Vec::with_capacity(req.streams.len());
    for s in req.streams {
        let labels_text = into_string(s.labels);
        let parsed = parse_labels(&labels_text).map_err(|e| PushError::BadRequest(e.0))?;
        let entries = s
            .entries
            .into_iter()
            .map(|e| PushEntry {
                ts_ns: timestamp_ns(e.timestamp),
                line: into_string(e.line),
                metadata: metadata_from_pairs(
                    e.structured_metadata
                        .into_iter()
                        .map(|p| (into_string(p.name), into_string(p.value))),
                ),
            })
            .collect();
        streams.push(PushStream {
            labels_text,
            labels: parsed.labels,
            label_count: parsed.count,
            duplicate_label: parsed.duplicate,
            entries,
        });
    }
    Ok(PushRequest { streams })
}

/// prost's reason, lowercased at its start, without its own prefix.
fn proto_reason(e: &prost::DecodeError) -> String {
    let text = e.to_string();
    text.strip_prefix("failed to decode Protobuf message: ")
        .unwrap_or(&text)
        .to_owned()
}
