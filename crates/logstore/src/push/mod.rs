//! The push API's bodies: Loki protobuf + snappy, JSON (gzip/deflate), OTLP logs; and Loki's validation of pushed entries.
//!
//! Everything here is a pure function over bytes, limits and an injected
//! `now`: the HTTP server calls [`decode`] (or [`decode_otlp`]) on a body,
//! then [`validate`] with the tenant's [`Limits`], then checks the tenant's
//! [`TenantRateLimiter`]; the storage uses [`StreamRateLimiter`] and
//! [`ignored_entries_error`] for what only it knows (per-stream rates, each
//! stream's newest timestamp). Each failure is a [`PushError`] carrying the
//! HTTP status and the plain-text body Loki answers with.
//!
//! ```
//! use logstore::push::{decode, validate, Limits};
//!
//! let body = br#"{"streams":[{"stream":{"job":"x"},"values":[["1795533361000000000","hello"]]}]}"#;
//! let req = decode(Some("application/json"), None, body).unwrap();
//! assert_eq!(req.streams[0].entries[0].line, "hello");
//! let now = 1_795_533_361_000_000_000;
//! let checked = validate(req, &Limits::default(), now);
//! assert!(checked.error.is_none());
//! ```

mod error;
mod json;
mod labels;
mod otlp;
mod proto;
mod rate;
mod validate;

pub use error::PushError;
pub use json::decode_json;
pub use labels::{LabelsError, ParsedLabels, labels_string, parse_labels};
pub use otlp::{DEFAULT_INDEX_ATTRIBUTES, DEFAULT_SERVICE_NAME_LABELS, OtlpConfig, decode_otlp};
pub use proto::{
    ProtoEntry, ProtoLabelPair, ProtoPushRequest, ProtoStream, ProtoTimestamp, decode_protobuf,
    decode_protobuf_raw,
};
pub use rate::{
    RateLimiter, StreamRateLimited, StreamRateLimiter, TenantRateLimiter, go_byte_size,
};
pub use validate::{
    FailedEntry, Limits, Validated, ignored_entries_error, too_far_behind_reason, validate,
};

use model::Labels;
use std::io::Read;

/// The most a body may decompress to unless the caller says otherwise.
pub const DEFAULT_MAX_DECOMPRESSED: usize = 100 << 20;

/// A decoded push: streams in the order sent.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PushRequest {
    /// The streams.
    pub streams: Vec<PushStream>,
}

/// One stream of a push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushStream {
    /// The label set's text: as sent for protobuf, Loki's rendering
    /// ([`labels_string`]) for JSON and OTLP. Label validation messages quote it.
    pub labels_text: String,
    /// The labels, sorted, empty values dropped.
    pub labels: Labels,
    /// How many pairs were sent (after dropping empty values), repeats included.
    pub label_count: usize,
    /// A label name the text repeats; such a stream fails validation.
    pub duplicate_label: Option<String>,
    /// The entries, in the order sent.
    pub entries: Vec<PushEntry>,
}

impl PushStream {
    /// A stream from a label set already checked (JSON objects and OTLP
    /// attributes cannot repeat a name).
    pub fn new(labels: Labels, entries: Vec<PushEntry>) -> Self {
        Self {
            labels_text: labels_string(&labels),
            label_count: labels.len(),
            labels,
            duplicate_label: None,
            entries,
        }
    }
}

/// One log entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushEntry {
    /// Nanoseconds since the Unix epoch.
    pub ts_ns: i64,
    /// The line.
    pub line: String,
    /// Structured metadata.
    pub metadata: Labels,
}

pub(crate) fn metadata_from_pairs(pairs: impl Iterator<Item = (String, String)>) -> Labels {
    let pairs: Vec<(String, String)> = pairs.collect();
    if pairs.is_empty() {
        Labels::empty()
    } else {
        Labels::from_pairs(pairs)
    }
}

/// Go's `mime.ParseMediaType`, as far as push needs it: the lowercased type
/// without parameters, or Go's error text.
pub fn media_type(content_type: Option<&str>) -> Result<String, PushError> {
    let value = content_type.unwrap_or("");
    let essence = value.split(';').next().unwrap_or("").trim();
    if essence.is_empty() {
        return Err(PushError::bad("mime: no media type"));
    }
    let Some((kind, sub)) = essence.split_once('/') else {
        return Err(PushError::bad("mime: expected slash after first token"));
    };
    let token = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?=".contains(&b))
    };
    if !token(kind) {
        return Err(PushError::bad("mime: no media type"));
    }
    if !token(sub) {
        return Err(PushError::bad("mime: expected token after slash"));
    }
    Ok(essence.to_ascii_lowercase())
}

/// Decodes a `POST /loki/api/v1/push` body as Loki does: `application/json`
/// as JSON, any other media type as snappy-compressed protobuf;
/// `Content-Encoding` may be `gzip`, `deflate`, `snappy` or absent.
pub fn decode(
    content_type: Option<&str>,
    content_encoding: Option<&str>,
    body: &[u8],
) -> Result<PushRequest, PushError> {
    decode_with_limit(
        content_type,
        content_encoding,
        body,
        DEFAULT_MAX_DECOMPRESSED,
    )
}

/// [`decode`] with a bound on the decompressed size (413 past it).
pub fn decode_with_limit(
    content_type: Option<&str>,
    content_encoding: Option<&str>,
    body: &[u8],
    max_decompressed: usize,
) -> Result<PushRequest, PushError> {
    let encoding = content_encoding.unwrap_or("");
    let inflated = match encoding {
        "" | "snappy" => None,
        "gzip" | "deflate" => Some(inflate(encoding, body, max_decompressed)?),
        other => {
            return Err(PushError::bad(format!(
                "Content-Encoding {} not supported",
                gocompat::strconv::quote(other)
            )));
        }
    };
    let body = inflated.as_deref().unwrap_or(body);
    if media_type(content_type)? == "application/json" {
        decode_json(body)
    } else {
        decode_protobuf(body, max_decompressed)
    }
}

/// Decompresses a gzip or deflate body, refusing more than `max` bytes out.
pub(crate) fn inflate(encoding: &str, body: &[u8], max: usize) -> Result<Vec<u8>, PushError> {
    let mut out = Vec::new();
    let limit = u64::try_from(max).unwrap_or(u64::MAX).saturating_add(1);
    let result = if encoding == "gzip" {
        if body.len() < 10 || body[0] != 0x1f || body[1] != 0x8b {
            return Err(PushError::bad(if body.is_empty() {
                "EOF"
            } else {
                "gzip: invalid header"
            }));
        }
        flate2::read::MultiGzDecoder::new(body)
            .take(limit)
            .read_to_end(&mut out)
    } else {
        flate2::read::DeflateDecoder::new(body)
            .take(limit)
            .read_to_end(&mut out)
    };
    match result {
        Ok(_) if out.len() > max => Err(PushError::TooLarge(format!(
            "decompressed message larger than max ({} vs {max})",
            out.len()
        ))),
        Ok(_) => Ok(out),
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            Err(PushError::bad("unexpected EOF"))
        }
        Err(_) if encoding == "gzip" => {
            Err(PushError::bad("gzip: invalid checksum or corrupt data"))
        }
        Err(_) => Err(PushError::bad("flate: corrupt input")),
    }
}
