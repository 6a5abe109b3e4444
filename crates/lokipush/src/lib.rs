//! Loki's push wire format, the one implementation every part of vigil
//! uses to write or read it.
//!
//! It owns:
//! - the protobuf messages of a push ([`PushRequest`], [`StreamAdapter`],
//!   [`EntryAdapter`], [`LabelPairAdapter`], [`Timestamp`]), written by hand
//!   with prost (no build script), with Loki's field numbers;
//! - the body: that protobuf compressed as one snappy *block* (not the
//!   framed format), sent as [`CONTENT_TYPE`] ([`encode`], [`decode`]);
//! - the label-set text a stream is named by, `{a="b", c="d"}`, with values
//!   quoted as Go's `strconv.Quote` does ([`labels_text`], through
//!   `gocompat`).
//!
//! The log store decodes pushes with it, the agent's client and the load
//! tool encode them. Strings are carried as bytes, because Loki (gogo
//! protobuf) does not check UTF-8 and a log line may hold anything; the
//! reader decides how to turn them into text.
//!
//! It must never know about HTTP, tenants, limits or storage: it is a
//! leaf that turns values into bytes and back, and nothing else. Whoever
//! sends or receives a push depends on it; of vigil's crates it uses only
//! `gocompat`, another leaf.
//!
//! ```
//! use lokipush::{EntryAdapter, PushRequest, StreamAdapter, Timestamp, labels_text};
//!
//! let request = PushRequest {
//!     streams: vec![StreamAdapter {
//!         labels: labels_text([("job", "api"), ("level", "info")]).into_bytes(),
//!         entries: vec![EntryAdapter {
//!             timestamp: Some(Timestamp::from_nanos(1_700_000_000_000_000_001)),
//!             line: b"hello".to_vec(),
//!             structured_metadata: vec![],
//!         }],
//!         hash: 0,
//!     }],
//! };
//! let body = lokipush::encode(&request).unwrap();
//! let back = lokipush::decode(&body, 1 << 20).unwrap();
//! assert_eq!(back, request);
//! assert_eq!(back.streams[0].labels, br#"{job="api", level="info"}"#);
//! ```

mod body;
mod labels;
mod proto;

pub use body::{WireError, compress, decode, decompress, encode};
pub use labels::labels_text;
pub use proto::{EntryAdapter, LabelPairAdapter, PushRequest, StreamAdapter, Timestamp};

/// The `Content-Type` of a protobuf push body.
pub const CONTENT_TYPE: &str = "application/x-protobuf";
