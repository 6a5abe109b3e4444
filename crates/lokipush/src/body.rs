//! The body of a push: the protobuf `PushRequest` in one snappy block.

use prost::Message;

use crate::proto::{PushRequest, Timestamp};

/// Why a push body could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum WireError {
    /// An entry's time is outside years 1 to 9999, which Go's protobuf
    /// timestamps (and so Promtail and Loki) cannot carry.
    #[error("timestamp {seconds}s {nanos}ns is outside 0001-01-01 to 10000-01-01")]
    TimestampOutOfRange {
        /// The timestamp's seconds since the epoch.
        seconds: i64,
        /// Its nanoseconds.
        nanos: i32,
    },
    /// The protobuf is too large for one snappy block (about 4 GiB).
    #[error("snappy: {0}")]
    Compress(#[source] snap::Error),
    /// The body is not a valid snappy block.
    #[error("snappy: corrupt input")]
    Corrupt(#[source] snap::Error),
    /// The block would expand past the reader's limit.
    #[error("received message larger than max ({len} vs {max})")]
    TooLarge {
        /// What the block says it expands to.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The expanded bytes are not a `PushRequest`.
    #[error("proto: {0}")]
    Protobuf(#[source] prost::DecodeError),
}

/// Writes a push body: checks every timestamp as Go's protobuf library
/// does, encodes the protobuf, compresses it as one snappy block.
pub fn encode(request: &PushRequest) -> Result<Vec<u8>, WireError> {
    let out_of_range = request
        .streams
        .iter()
        .flat_map(|s| &s.entries)
        .filter_map(|e| e.timestamp)
        .find(|ts| !ts.is_valid());
    if let Some(Timestamp { seconds, nanos }) = out_of_range {
        return Err(WireError::TimestampOutOfRange { seconds, nanos });
    }
    compress(&request.encode_to_vec())
}

/// Compresses bytes as one snappy block (not the framed format).
pub fn compress(raw: &[u8]) -> Result<Vec<u8>, WireError> {
    snap::raw::Encoder::new()
        .compress_vec(raw)
        .map_err(WireError::Compress)
}

/// Expands one snappy block, refusing one that says it expands past
/// `max_decompressed` bytes before expanding anything.
pub fn decompress(body: &[u8], max_decompressed: usize) -> Result<Vec<u8>, WireError> {
    let len = snap::raw::decompress_len(body).map_err(WireError::Corrupt)?;
    if len > max_decompressed {
        return Err(WireError::TooLarge {
            len,
            max: max_decompressed,
        });
    }
    snap::raw::Decoder::new()
        .decompress_vec(body)
        .map_err(WireError::Corrupt)
}

/// Reads a push body: expands the snappy block (at most
/// `max_decompressed` bytes) and decodes the protobuf.
pub fn decode(body: &[u8], max_decompressed: usize) -> Result<PushRequest, WireError> {
    let raw = decompress(body, max_decompressed)?;
    PushRequest::decode(raw.as_slice()).map_err(WireError::Protobuf)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::{EntryAdapter, StreamAdapter};

    fn one_entry(ts: Timestamp) -> PushRequest {
        PushRequest {
            streams: vec![StreamAdapter {
                labels: br#"{job="x"}"#.to_vec(),
                entries: vec![EntryAdapter {
                    timestamp: Some(ts),
                    line: b"line".to_vec(),
                    structured_metadata: vec![],
                }],
                hash: 0,
            }],
        }
    }

    #[test]
    fn round_trip_through_snappy_and_protobuf() {
        for ns in [0, 1_700_000_000_123_456_789, -1] {
            let request = one_entry(Timestamp::from_nanos(ns));
            let body = encode(&request).unwrap();
            assert_eq!(decode(&body, 1 << 20).unwrap(), request);
        }
    }

    #[test]
    fn the_body_is_a_snappy_block_not_a_frame() {
        let body = encode(&one_entry(Timestamp::from_nanos(0))).unwrap();
        // The framed format starts with its stream identifier chunk.
        assert_ne!(body[0], 0xff);
        let raw = snap::raw::Decoder::new().decompress_vec(&body).unwrap();
        assert_eq!(raw, one_entry(Timestamp::from_nanos(0)).encode_to_vec());
    }

    #[test]
    fn a_time_past_year_9999_fails_the_whole_body() {
        let mut request = one_entry(Timestamp::from_nanos(0));
        let mut far = request.streams[0].entries[0].clone();
        far.timestamp = Some(Timestamp {
            seconds: 1_690_899_095_123,
            nanos: 1,
        });
        request.streams[0].entries.push(far);
        let err = encode(&request).unwrap_err();
        assert!(matches!(
            err,
            WireError::TimestampOutOfRange {
                seconds: 1_690_899_095_123,
                nanos: 1
            }
        ));
    }

    #[test]
    fn bodies_that_are_not_pushes_are_refused() {
        let check = |body: &[u8], want: &str| {
            let err = decode(body, 1 << 20).unwrap_err();
            assert!(err.to_string().starts_with(want), "{err}");
        };
        check(b"", "snappy: corrupt input");
        check(b"\xff\xff\xff\xff\xff", "snappy: corrupt input");
        // A block claiming 2 MiB against a 1 MiB limit.
        check(
            &[0x80, 0x80, 0x80, 0x01],
            "received message larger than max (2097152 vs 1048576)",
        );
        check(&compress(b"\x0a\x05{").unwrap(), "proto: ");
    }
}
