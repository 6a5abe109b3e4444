//! The receiver: a remote-write request appended to the TSDB.

use std::time::{SystemTime, UNIX_EPOCH};

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use model::{Labels, METRIC_NAME};
use tsdb::{SeriesRef, Tsdb, TsdbError};

use super::proto::{self, TimeSeries};
use super::{RemoteError, status_and_message};

/// How far ahead of the clock a sample may be (Prometheus' `maxAheadTime`).
const MAX_AHEAD_MS: i64 = 10 * 60 * 1000;

/// The media type of remote-write bodies.
const PROTOBUF: &str = "application/x-protobuf";

/// The 1.0 message, the only one this receiver accepts.
const PROTO_V1: &str = "prometheus.WriteRequest";

/// What one accepted request held.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReceiveStats {
    /// Series in the request.
    pub series: usize,
    /// Samples handed to the TSDB (identical duplicates of stored samples
    /// included: the TSDB ignores those silently).
    pub samples: usize,
    /// Exemplars in the request; the TSDB does not store exemplars.
    pub exemplars_ignored: usize,
    /// Metadata entries in the request; not stored.
    pub metadata_ignored: usize,
}

/// Appends a remote-write request to `db`.
///
/// `content_type` and `content_encoding` are the request's headers, `None`
/// when absent (then 1.0 protobuf and snappy are assumed, as Prometheus
/// does). On a refused sample or series the rest is still appended and the
/// first error comes back; map it with [`status_and_message`].
///
/// This appends and commits synchronously: call it from blocking context
/// (`tokio::task::spawn_blocking`), as the scrape loop stores its batches.
pub fn receive(
    db: &Tsdb,
    content_type: Option<&str>,
    content_encoding: Option<&str>,
    body: &[u8],
) -> Result<ReceiveStats, RemoteError> {
    check_content_type(content_type)?;
    check_encoding(content_encoding)?;
    let request = proto::decode(body)?;
    let mut stats = ReceiveStats {
        series: request.timeseries.len(),
        metadata_ignored: request.metadata.len(),
        ..ReceiveStats::default()
    };
    let max_t = now_ms().saturating_add(MAX_AHEAD_MS);
    let mut first_error: Option<RemoteError> = None;
    let mut appender = db.appender();
    for series in &request.timeseries {
        stats.exemplars_ignored += series.exemplars.len();
        let labels = match to_labels(series) {
            Ok(labels) => labels,
            Err(e) => {
                first_error.get_or_insert(e);
                continue;
            }
        };
        let mut reference: Option<SeriesRef> = None;
        for sample in &series.samples {
            if sample.timestamp > max_t {
                first_error.get_or_insert_with(|| RemoteError::TooFarInFuture {
                    series: labels.to_string(),
                    timestamp: sample.timestamp,
                });
                continue;
            }
            let appended = match reference {
                Some(r) => match appender.append_ref(r, sample.timestamp, sample.value) {
                    // A block cut forgot the series: look it up again.
                    Err(TsdbError::UnknownSeries(_)) => {
                        appender.append(&labels, sample.timestamp, sample.value)
                    }
                    other => other.map(|()| r),
                },
                None => appender.append(&labels, sample.timestamp, sample.value),
            };
            match appended {
                Ok(r) => {
                    reference = Some(r);
                    stats.samples += 1;
                }
                Err(
                    e @ (TsdbError::OutOfOrder
                    | TsdbError::DuplicateSample
                    | TsdbError::OutOfBounds { .. }),
                ) => {
                    first_error.get_or_insert_with(|| RemoteError::Sample {
                        series: labels.to_string(),
                        source: e,
                    });
                }
                // The appender is dropped unread: nothing is kept, and the
                // sender retries on the 500.
                Err(e) => return Err(RemoteError::Storage(e)),
            }
        }
    }
    let commit = appender.commit().map_err(RemoteError::Storage)?;
    if commit.rejected > 0 && first_error.is_none() {
        // A concurrent commit stored newer samples of a series first.
        stats.samples -= commit.rejected.min(stats.samples);
        first_error = Some(RemoteError::Sample {
            series: format!("({} samples)", commit.rejected),
            source: TsdbError::OutOfOrder,
        });
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok(stats),
    }
}

/// [`receive`] as an HTTP answer: 204 with no body, or the status of
/// [`status_and_message`] with the message as plain text. The router calls
/// this from `spawn_blocking` with the request's headers and body.
pub fn respond(db: &Tsdb, headers: &HeaderMap, body: &[u8]) -> Response {
    let header_text = |name| headers.get(name).and_then(|v| v.to_str().ok());
    match receive(
        db,
        header_text(header::CONTENT_TYPE),
        header_text(header::CONTENT_ENCODING),
        body,
    ) {
        Ok(_) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => {
            let (status, message) = status_and_message(&e);
            if status.is_server_error() {
                tracing::error!(error = %e, "remote write failed");
            } else {
                tracing::debug!(error = %e, "remote write refused");
            }
            (status, message).into_response()
        }
    }
}

/// Accepts an absent type, `application/x-protobuf`, and that with
/// `proto=prometheus.WriteRequest`.
fn check_content_type(content_type: Option<&str>) -> Result<(), RemoteError> {
    let Some(text) = content_type.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(());
    };
    let mut parts = text.split(';');
    let media = parts.next().unwrap_or("").trim();
    if !media.eq_ignore_ascii_case(PROTOBUF) {
        return Err(RemoteError::UnsupportedContentType(format!(
            "expected {PROTOBUF} as the first (media) part, got {text} content-type"
        )));
    }
    for parameter in parts {
        let (key, value) = parameter.split_once('=').unwrap_or((parameter, ""));
        if key.trim() == "proto" && value.trim() != PROTO_V1 {
            return Err(RemoteError::UnsupportedContentType(format!(
                "{} protobuf message is not accepted by this server; accepted [{PROTO_V1}]",
                value.trim()
            )));
        }
    }
    Ok(())
}

fn check_encoding(encoding: Option<&str>) -> Result<(), RemoteError> {
    match encoding.map(str::trim) {
        None | Some("") => Ok(()),
        Some(e) if e.eq_ignore_ascii_case("snappy") => Ok(()),
        Some(e) => Err(RemoteError::UnsupportedEncoding(e.to_owned())),
    }
}

/// The series' labels, validated: a metric name, no empty or repeated
/// names. Order on the wire does not matter (they are sorted here), and a
/// label with an empty value is dropped, as PromQL treats it as absent.
fn to_labels(series: &TimeSeries) -> Result<Labels, RemoteError> {
    let shown = || {
        let pairs = series.labels.iter().map(|l| (l.name.as_str(), &l.value));
        let inner: Vec<String> = pairs.map(|(n, v)| format!("{n}={v:?}")).collect();
        format!("{{{}}}", inner.join(", "))
    };
    let mut names: Vec<&str> = series.labels.iter().map(|l| l.name.as_str()).collect();
    names.sort_unstable();
    if let Some(pair) = names.windows(2).find(|w| w[0] == w[1]) {
        return Err(RemoteError::DuplicateLabel {
            labels: shown(),
            name: pair[0].to_owned(),
        });
    }
    let has_name = series
        .labels
        .iter()
        .any(|l| l.name == METRIC_NAME && !l.value.is_empty());
    if !has_name || names.contains(&"") {
        return Err(RemoteError::InvalidLabels(shown()));
    }
    Ok(Labels::from_pairs(
        series
            .labels
            .iter()
            .filter(|l| !l.value.is_empty())
            .map(|l| (l.name.as_str(), l.value.as_str())),
    ))
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types() {
        for ok in [
            None,
            Some(""),
            Some("application/x-protobuf"),
            Some("application/x-protobuf;proto=prometheus.WriteRequest"),
        ] {
            assert!(check_content_type(ok).is_ok(), "{ok:?}");
        }
        for bad in [
            Some("application/json"),
            Some("application/x-protobuf;proto=io.prometheus.write.v2.Request"),
        ] {
            assert!(
                matches!(
                    check_content_type(bad),
                    Err(RemoteError::UnsupportedContentType(_))
                ),
                "{bad:?}"
            );
        }
        assert!(check_encoding(Some("Snappy")).is_ok());
        assert!(check_encoding(Some("gzip")).is_err());
    }
}
