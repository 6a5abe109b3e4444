//! Loki's protobuf push body: a snappy *block* holding a `PushRequest`.
//!
//! The messages and the snappy block are `lokipush`'s, shared with the
//! agent's client; here they are read into a [`PushRequest`]. Strings come
//! as bytes, because Loki (gogo protobuf) does not check UTF-8 and a log
//! line may hold anything.

use lokipush::WireError;

use super::labels::parse_labels;
use super::{PushEntry, PushError, PushRequest, PushStream, metadata_from_pairs};

pub use lokipush::{
    EntryAdapter as ProtoEntry, LabelPairAdapter as ProtoLabelPair,
    PushRequest as ProtoPushRequest, StreamAdapter as ProtoStream, Timestamp as ProtoTimestamp,
};

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
    let raw = lokipush::decompress(body, max_decompressed).map_err(|e| match e {
        WireError::TooLarge { .. } => PushError::TooLarge(e.to_string()),
        _ => PushError::bad("snappy: corrupt input"),
    })?;
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
