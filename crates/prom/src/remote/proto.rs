//! The remote-write 1.0 wire format: protobuf messages, snappy block framing.
//!
//! The messages are `prometheus.WriteRequest` and the types it holds, with
//! the field numbers of the published remote-write 1.0 specification,
//! declared with `prost`'s derive so no build script or `.proto` file is
//! needed. Native histograms (field 4 of `TimeSeries`) are not declared:
//! protobuf decoders skip unknown fields, so a request carrying them decodes
//! and only their samples are ignored.

use model::Labels;

use super::RemoteError;

/// `prometheus.WriteRequest`: what one POST carries.
#[derive(Clone, PartialEq, prost::Message)]
pub struct WriteRequest {
    /// The series and their samples.
    #[prost(message, repeated, tag = "1")]
    pub timeseries: Vec<TimeSeries>,
    /// Metric metadata (type, help, unit); accepted and not stored.
    #[prost(message, repeated, tag = "3")]
    pub metadata: Vec<MetricMetadata>,
}

/// `prometheus.TimeSeries`: one series' labels and samples.
#[derive(Clone, PartialEq, prost::Message)]
pub struct TimeSeries {
    /// Labels, sorted by name, `__name__` among them.
    #[prost(message, repeated, tag = "1")]
    pub labels: Vec<Label>,
    /// Samples, oldest first.
    #[prost(message, repeated, tag = "2")]
    pub samples: Vec<Sample>,
    /// Exemplars; accepted and not stored.
    #[prost(message, repeated, tag = "3")]
    pub exemplars: Vec<Exemplar>,
}

/// `prometheus.Label`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Label {
    /// The label name.
    #[prost(string, tag = "1")]
    pub name: String,
    /// The label value.
    #[prost(string, tag = "2")]
    pub value: String,
}

/// `prometheus.Sample`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Sample {
    /// The value; a `double` on the wire, so every NaN keeps its bits.
    #[prost(double, tag = "1")]
    pub value: f64,
    /// Milliseconds since the Unix epoch.
    #[prost(int64, tag = "2")]
    pub timestamp: i64,
}

/// `prometheus.Exemplar`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Exemplar {
    /// The exemplar's own labels (a trace id, typically).
    #[prost(message, repeated, tag = "1")]
    pub labels: Vec<Label>,
    /// The observed value.
    #[prost(double, tag = "2")]
    pub value: f64,
    /// Milliseconds since the Unix epoch.
    #[prost(int64, tag = "3")]
    pub timestamp: i64,
}

/// `prometheus.MetricMetadata`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct MetricMetadata {
    /// The metric type: 0 unknown, 1 counter, 2 gauge, 3 histogram,
    /// 4 gauge histogram, 5 summary, 6 info, 7 stateset.
    #[prost(int32, tag = "1")]
    pub r#type: i32,
    /// The metric family name.
    #[prost(string, tag = "2")]
    pub metric_family_name: String,
    /// The HELP text.
    #[prost(string, tag = "4")]
    pub help: String,
    /// The UNIT.
    #[prost(string, tag = "5")]
    pub unit: String,
}

impl TimeSeries {
    /// A series of `labels` (already sorted, as [`Labels`] keeps them) with
    /// no samples yet.
    pub fn new(labels: &Labels) -> Self {
        Self {
            labels: labels
                .iter()
                .map(|l| Label {
                    name: l.name.to_owned(),
                    value: l.value.to_owned(),
                })
                .collect(),
            samples: Vec::new(),
            exemplars: Vec::new(),
        }
    }
}

/// The headers every remote-write 1.0 POST carries (besides authorization
/// and the user agent).
pub const REQUEST_HEADERS: [(&str, &str); 3] = [
    ("Content-Encoding", "snappy"),
    ("Content-Type", "application/x-protobuf"),
    ("X-Prometheus-Remote-Write-Version", "0.1.0"),
];

/// Serializes `request` and compresses it with snappy's block format: the
/// body of a remote-write POST.
pub fn encode(request: &WriteRequest) -> Vec<u8> {
    let raw = prost::Message::encode_to_vec(request);
    // Compressing a buffer into an output sized by `max_compress_len`
    // cannot fail; fall back to an empty body rather than panic anyway.
    snap::raw::Encoder::new()
        .compress_vec(&raw)
        .unwrap_or_default()
}

/// Largest decompressed body accepted: the snappy header declares the
/// size, and a few bytes could otherwise make us allocate gigabytes.
pub const MAX_DECOMPRESSED_BYTES: usize = 64 << 20;

/// Decompresses (snappy block format) and parses a remote-write body.
pub fn decode(body: &[u8]) -> Result<WriteRequest, RemoteError> {
    let declared =
        snap::raw::decompress_len(body).map_err(|e| RemoteError::Snappy(e.to_string()))?;
    if declared > MAX_DECOMPRESSED_BYTES {
        return Err(RemoteError::Snappy(format!(
            "decompressed size {declared} exceeds the limit of {MAX_DECOMPRESSED_BYTES} bytes"
        )));
    }
    let raw = snap::raw::Decoder::new()
        .decompress_vec(body)
        .map_err(|e| RemoteError::Snappy(e.to_string()))?;
    decode_raw(&raw)
}

/// Parses an uncompressed `WriteRequest`.
pub(crate) fn decode_raw(raw: &[u8]) -> Result<WriteRequest, RemoteError> {
    <WriteRequest as prost::Message>::decode(raw).map_err(|e| RemoteError::Protobuf(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_numbers_match_the_specification() {
        // label{name="a", value="b"}: tag 1 (0x0a) len 1 "a", tag 2 (0x12) len 1 "b".
        let label = Label {
            name: "a".into(),
            value: "b".into(),
        };
        assert_eq!(
            prost::Message::encode_to_vec(&label),
            [0x0a, 1, b'a', 0x12, 1, b'b']
        );
        // sample{value=1.0, timestamp=5}: tag 1 fixed64 (0x09), tag 2 varint (0x10).
        let sample = Sample {
            value: 1.0,
            timestamp: 5,
        };
        let mut expected = vec![0x09];
        expected.extend_from_slice(&1.0f64.to_le_bytes());
        expected.extend_from_slice(&[0x10, 5]);
        assert_eq!(prost::Message::encode_to_vec(&sample), expected);
    }

    #[test]
    fn snappy_round_trip() {
        let request = WriteRequest {
            timeseries: vec![TimeSeries {
                labels: vec![Label {
                    name: "__name__".into(),
                    value: "up".into(),
                }],
                samples: vec![Sample {
                    value: f64::from_bits(model::staleness::STALE_NAN_BITS),
                    timestamp: 1,
                }],
                exemplars: vec![],
            }],
            metadata: vec![],
        };
        let back = decode(&encode(&request)).unwrap();
        assert_eq!(
            back.timeseries[0].samples[0].value.to_bits(),
            model::staleness::STALE_NAN_BITS
        );
        assert!(matches!(decode(b"not snappy"), Err(RemoteError::Snappy(_))));
        // Five bytes declaring a 4 GiB body.
        let bomb = [0xff, 0xff, 0xff, 0xff, 0x0f];
        let Err(RemoteError::Snappy(message)) = decode(&bomb) else {
            panic!("a declared 4 GiB body must be refused");
        };
        assert!(message.contains("exceeds the limit"), "{message}");
    }
}
