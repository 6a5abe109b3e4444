//! Loki's validation of a decoded push (its distributor's checks), and the
//! message the storage gives for entries it ignores (its ingester's).
//!
//! Messages are Loki 2.8's, the version the recorded answers come from.
//! Like Loki, validation keeps the valid entries of a request and reports
//! only the last error it met.

use std::time::Duration;

use super::labels::labels_string;
use super::{PushError, PushRequest, PushStream};

/// Go's `time.RFC3339` of a time (UTC), as Loki's messages print it.
fn go_rfc3339(ns: i64) -> String {
    gocompat::time::format(ns, gocompat::time::RFC3339)
}

/// Go's `Time.String()` of a time (UTC), as Loki's messages print it.
fn go_time_string(ns: i64) -> String {
    gocompat::time::format(ns, gocompat::time::TIME_STRING)
}

/// The per-tenant limits validation and rate limiting apply; the server
/// fills them from `limits_config`. Defaults are Loki 3's.
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// Refuse entries older than `reject_old_samples_max_age`.
    pub reject_old_samples: bool,
    /// How old an entry may be when `reject_old_samples` is on.
    pub reject_old_samples_max_age: Duration,
    /// How far in the future an entry may be.
    pub creation_grace_period: Duration,
    /// The longest line in bytes; 0 is no limit.
    pub max_line_size: usize,
    /// Cut longer lines to `max_line_size` instead of refusing them.
    pub max_line_size_truncate: bool,
    /// The most labels a stream may have.
    pub max_label_names_per_series: usize,
    /// The longest label name in bytes.
    pub max_label_name_length: usize,
    /// The longest label value in bytes.
    pub max_label_value_length: usize,
    /// The tenant's ingestion rate, line bytes a second.
    pub ingestion_rate_bytes: f64,
    /// The tenant's burst, in line bytes.
    pub ingestion_burst_bytes: usize,
    /// Each stream's rate, line bytes a second.
    pub per_stream_rate_bytes: f64,
    /// Each stream's burst, in line bytes.
    pub per_stream_burst_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        const MIB: usize = 1 << 20;
        Self {
            reject_old_samples: true,
            reject_old_samples_max_age: Duration::from_secs(7 * 24 * 3600),
            creation_grace_period: Duration::from_secs(600),
            max_line_size: 256 << 10,
            max_line_size_truncate: false,
            max_label_names_per_series: 15,
            max_label_name_length: 1024,
            max_label_value_length: 2048,
            ingestion_rate_bytes: (4 * MIB) as f64,
            ingestion_burst_bytes: 6 * MIB,
            per_stream_rate_bytes: (3 * MIB) as f64,
            per_stream_burst_bytes: 15 * MIB,
        }
    }
}

/// What validation keeps and what it refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Validated {
    /// The streams and entries that passed (streams left empty are dropped).
    pub request: PushRequest,
    /// The last error met (Loki answers with it, 400, after storing what
    /// passed); `None` when everything passed.
    pub error: Option<PushError>,
    /// Entries refused.
    pub rejected: usize,
    /// Lines kept, for the tenant rate limiter.
    pub lines: usize,
    /// Line bytes kept, for the tenant rate limiter.
    pub bytes: usize,
}

fn nanos(d: Duration) -> i64 {
    i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)
}

/// Validates a push at `now_ns` as Loki's distributor does: streams without
/// entries are skipped, a stream whose labels fail is refused whole, then
/// each entry is checked for age, future and size. Lines are truncated
/// first when `max_line_size_truncate` is on.
///
/// The caller then checks the tenant's rate on `lines`/`bytes` (only when
/// something was kept), stores `request`, and answers `error` or 204.
pub fn validate(req: PushRequest, limits: &Limits, now_ns: i64) -> Validated {
    let oldest = now_ns.saturating_sub(nanos(limits.reject_old_samples_max_age));
    let newest = now_ns.saturating_add(nanos(limits.creation_grace_period));
    let mut out = Validated {
        request: PushRequest {
            streams: Vec::with_capacity(req.streams.len()),
        },
        error: None,
        rejected: 0,
        lines: 0,
        bytes: 0,
    };
    for mut stream in req.streams {
        if stream.entries.is_empty() {
            continue;
        }
        if limits.max_line_size_truncate && limits.max_line_size > 0 {
            for e in &mut stream.entries {
                truncate_at_char(&mut e.line, limits.max_line_size);
            }
        }
        if let Err(e) = validate_labels(&stream, limits) {
            out.rejected += stream.entries.len();
            out.error = Some(e);
            continue;
        }
        let name = labels_string(&stream.labels);
        let total = stream.entries.len();
        stream.entries.retain(|e| {
            let failed = if limits.reject_old_samples && e.ts_ns < oldest {
                Some(format!(
                    "entry for stream '{name}' has timestamp too old: {}, oldest acceptable timestamp is: {}",
                    go_rfc3339(e.ts_ns),
                    go_rfc3339(oldest)
                ))
            } else if e.ts_ns > newest {
                Some(format!(
                    "entry for stream '{name}' has timestamp too new: {}",
                    go_rfc3339(e.ts_ns)
                ))
            } else if limits.max_line_size != 0 && e.line.len() > limits.max_line_size {
                Some(format!(
                    "Max entry size '{}' bytes exceeded for stream '{name}' while adding an entry with length '{}' bytes",
                    limits.max_line_size,
                    e.line.len()
                ))
            } else {
                None
            };
            match failed {
                Some(msg) => {
                    out.error = Some(PushError::BadRequest(msg));
                    false
                }
                None => true,
            }
        });
        out.rejected += total - stream.entries.len();
        out.lines += stream.entries.len();
        out.bytes += stream.entries.iter().map(|e| e.line.len()).sum::<usize>();
        if !stream.entries.is_empty() {
            out.request.streams.push(stream);
        }
    }
    out
}

fn truncate_at_char(line: &mut String, max: usize) {
    if line.len() > max {
        let mut cut = max;
        while !line.is_char_boundary(cut) {
            cut -= 1;
        }
        line.truncate(cut);
    }
}

/// Loki's label checks: at least one, not too many, names and values not
/// too long, no name twice. Messages quote the labels as sent.
fn validate_labels(stream: &PushStream, limits: &Limits) -> Result<(), PushError> {
    if stream.labels.is_empty() {
        return Err(PushError::bad(
            "error at least one label pair is required per stream",
        ));
    }
    let text = &stream.labels_text;
    if stream.label_count > limits.max_label_names_per_series {
        return Err(PushError::BadRequest(format!(
            "entry for stream '{text}' has {} label names; limit {}",
            stream.label_count, limits.max_label_names_per_series
        )));
    }
    for l in stream.labels.iter() {
        if l.name.len() > limits.max_label_name_length {
            return Err(PushError::BadRequest(format!(
                "stream '{text}' has label name too long: '{}'",
                l.name
            )));
        }
        if l.value.len() > limits.max_label_value_length {
            return Err(PushError::BadRequest(format!(
                "stream '{text}' has label value too long: '{}'",
                l.value
            )));
        }
        if stream.duplicate_label.as_deref() == Some(l.name) {
            return Err(PushError::BadRequest(format!(
                "stream '{text}' has duplicate label name: '{}'",
                l.name
            )));
        }
    }
    Ok(())
}

/// An entry the storage ignored: its timestamp and Loki's reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedEntry {
    /// The entry's timestamp, ns.
    pub ts_ns: i64,
    /// Why, e.g. [`too_far_behind_reason`] or a per-stream rate message.
    pub reason: String,
    /// Whether it was a rate limit (429) rather than an order problem (400).
    pub rate_limited: bool,
}

/// Loki's reason for an entry older than its stream's newest entry minus
/// the out-of-order window: `entry too far behind, oldest acceptable
/// timestamp is: <RFC 3339>`.
pub fn too_far_behind_reason(cutoff_ns: i64) -> String {
    format!(
        "entry too far behind, oldest acceptable timestamp is: {}",
        go_rfc3339(cutoff_ns)
    )
}

/// The error Loki's ingester gives for the entries of one stream it
/// ignored: a line per entry (at most `max_listed`, Loki's
/// `max_returned_stream_errors`, 10 by default; 0 lists all), then the
/// totals. 429 when the last failure was a rate limit, else 400.
pub fn ignored_entries_error(
    tenant: &str,
    stream: &model::Labels,
    failed: &[FailedEntry],
    total: usize,
    max_listed: usize,
) -> Option<PushError> {
    let last = failed.last()?;
    let name = labels_string(stream);
    let listed = if max_listed > 0 {
        &failed[..failed.len().min(max_listed)]
    } else {
        failed
    };
    let mut msg = String::new();
    for f in listed {
        msg.push_str(&format!(
            "entry with timestamp {} ignored, reason: '{}' for stream: {name},\n",
            go_time_string(f.ts_ns),
            f.reason
        ));
    }
    msg.push_str(&format!(
        "user '{tenant}', total ignored: {} out of {total}",
        failed.len()
    ));
    Some(if last.rate_limited {
        PushError::RateLimited(msg)
    } else {
        PushError::BadRequest(msg)
    })
}
