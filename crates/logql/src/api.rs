//! The Loki query API without the HTTP: request parameters to [`Query`],
//! results to JSON bodies, errors to status codes. The log store's HTTP
//! handlers call these, and so does the golden conformance runner, so both
//! share one implementation.

use model::Labels;
use model::envelope::{SampleValue, Timestamp};
use serde::Serialize;
use serde::ser::{SerializeMap, SerializeSeq};

use crate::error::Error;
use crate::eval::{Direction, Query, QueryResult, Stats, StreamResult};

/// Loki's default `limit`.
pub const DEFAULT_LIMIT: usize = 100;
/// Loki's default `max_entries_limit_per_query`.
pub const MAX_ENTRIES_LIMIT: usize = 5000;
/// Loki's default `max_query_length` (721h) in ns.
pub const MAX_QUERY_LENGTH_NS: i64 = 721 * 3600 * 1_000_000_000;

/// A request the API refuses, with its HTTP status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// 400 for client errors (never 5xx for a bad query).
    pub status: u16,
    /// The plain-text body.
    pub message: String,
}

impl ApiError {
    fn bad(message: impl Into<String>) -> Self {
        Self {
            status: 400,
            message: message.into(),
        }
    }
}

impl From<&Error> for ApiError {
    /// The one place that maps query errors to statuses: an error of the
    /// query or a limit it hits is the client's (400); only a store that
    /// cannot be read is the server's (500).
    fn from(e: &Error) -> Self {
        match e {
            Error::Store(crate::store::StoreError::Read(_)) | Error::Internal(_) => Self {
                status: 500,
                message: e.to_string(),
            },
            Error::Timeout | Error::Store(crate::store::StoreError::Timeout) => Self {
                status: 504,
                message: e.to_string(),
            },
            _ => Self::bad(e.to_string()),
        }
    }
}

/// A parsed request: the query text and its parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// The LogQL text.
    pub query: String,
    /// Time range, step, limit, direction.
    pub params: Query,
}

/// Parses a time parameter as Loki does: integers of up to 10 digits are
/// seconds, longer ones nanoseconds; decimals are seconds to the
/// millisecond, as Loki rounds them; anything else is RFC 3339.
pub fn parse_time(text: &str) -> Result<i64, ApiError> {
    let bad = || ApiError::bad(format!("cannot parse {text:?} to a valid timestamp"));
    let t = text.trim();
    if let Ok(i) = t.parse::<i64>() {
        return Ok(if t.trim_start_matches('-').len() <= 10 {
            i.checked_mul(1_000_000_000).ok_or_else(bad)?
        } else {
            i
        });
    }
    if let Ok(f) = t.parse::<f64>() {
        // Loki keeps whole seconds and rounds the fraction to the
        // millisecond (`math.Modf`, then `Round(frac*1000)/1000`).
        if !f.is_finite() || f.abs() >= 9.2e9 {
            return Err(bad());
        }
        let whole = f.trunc();
        let millis = ((f - whole) * 1000.0).round();
        return Ok(whole as i64 * 1_000_000_000 + millis as i64 * 1_000_000);
    }
    gocompat::time::parse(gocompat::time::RFC3339_NANO, t).map_err(|_| bad())
}

/// Parses `step`: a duration (`30s`, `1m`) or float seconds.
pub fn parse_step(text: &str) -> Result<i64, ApiError> {
    if let Ok(f) = text.trim().parse::<f64>() {
        return Ok((f * 1e9) as i64);
    }
    crate::parser::duration_seconds(text.trim())
        .map(|s| (s * 1e9) as i64)
        .ok_or_else(|| ApiError::bad(format!("cannot parse {text:?} to a valid duration")))
}

/// The tenant limits a request is checked against (Loki's
/// `max_entries_limit_per_query` and `max_query_length`; 0 turns a limit
/// off).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestLimits {
    /// Most entries a log query may ask for.
    pub max_entries: usize,
    /// Longest range, ns.
    pub max_query_length_ns: i64,
}

impl Default for RequestLimits {
    fn default() -> Self {
        Self {
            max_entries: MAX_ENTRIES_LIMIT,
            max_query_length_ns: MAX_QUERY_LENGTH_NS,
        }
    }
}

fn limit_and_direction(
    get: &dyn Fn(&str) -> Option<String>,
    max_entries: usize,
) -> Result<(usize, Direction), ApiError> {
    let limit = match get("limit") {
        None => DEFAULT_LIMIT,
        Some(l) => {
            let v: i64 = l
                .trim()
                .parse()
                .map_err(|_| ApiError::bad(format!("cannot parse limit {l:?}")))?;
            if v <= 0 {
                return Err(ApiError::bad("limit must be a positive value"));
            }
            let v = usize::try_from(v).unwrap_or(usize::MAX);
            if max_entries > 0 && v > max_entries {
                return Err(ApiError::bad(format!(
                    "max entries limit per query exceeded, limit > max_entries_limit ({v} > {max_entries})"
                )));
            }
            v
        }
    };
    let direction = match get("direction") {
        None => Direction::Backward,
        Some(d) => match d.to_ascii_lowercase().as_str() {
            "forward" => Direction::Forward,
            "backward" => Direction::Backward,
            _ => return Err(ApiError::bad(format!("invalid direction '{d}'"))),
        },
    };
    Ok((limit, direction))
}

fn query_text(get: &dyn Fn(&str) -> Option<String>) -> String {
    get("query").unwrap_or_default()
}

/// `/loki/api/v1/query_range` parameters. Defaults: `end` now, `start` one
/// hour earlier, `limit` 100, `direction` backward, `step` from the range
/// (Loki's `max(1s, range/250)`). For metric queries the steps are aligned
/// to multiples of `step` (start down, end up), as Loki's frontend does.
pub fn range_request(
    get: &dyn Fn(&str) -> Option<String>,
    now_ns: i64,
) -> Result<Request, ApiError> {
    range_request_with(get, now_ns, &RequestLimits::default())
}

/// [`range_request`] with a tenant's limits.
pub fn range_request_with(
    get: &dyn Fn(&str) -> Option<String>,
    now_ns: i64,
    limits: &RequestLimits,
) -> Result<Request, ApiError> {
    let end = get("end")
        .map(|t| parse_time(&t))
        .transpose()?
        .unwrap_or(now_ns);
    let start = get("start")
        .map(|t| parse_time(&t))
        .transpose()?
        .unwrap_or(end.saturating_sub(3600 * 1_000_000_000));
    if end < start {
        return Err(ApiError::bad(
            "end timestamp must not be before or equal to start time",
        ));
    }
    let max_length = limits.max_query_length_ns;
    if max_length > 0 && end.saturating_sub(start) > max_length {
        return Err(ApiError::bad(format!(
            "the query time range exceeds the limit (query length: {}, limit: {})",
            gocompat::duration::format(end.saturating_sub(start)),
            gocompat::duration::format(max_length)
        )));
    }
    let step = match get("step") {
        Some(s) => parse_step(&s)?,
        None => (end.saturating_sub(start) / 250 / 1_000_000_000).max(1) * 1_000_000_000,
    };
    if step <= 0 {
        return Err(ApiError::bad(
            "zero or negative query resolution step widths are not accepted. Try a positive integer",
        ));
    }
    let (limit, direction) = limit_and_direction(get, limits.max_entries)?;
    let interval = match get("interval") {
        Some(i) => parse_step(&i)?.max(0),
        None => 0,
    };
    Ok(Request {
        query: query_text(get),
        params: Query {
            start_ns: start,
            end_ns: end,
            step_ns: step,
            instant: false,
            direction,
            limit,
            max_series: 0,
            deadline: None,
            parallelism: 1,
            interval_ns: interval,
        },
    })
}

/// Aligns a metric range query's steps like Loki's frontend: start down and
/// end up to multiples of the step.
pub fn align_steps(q: &Query) -> Query {
    let mut out = q.clone();
    if q.step_ns > 0 {
        out.start_ns = q.start_ns.div_euclid(q.step_ns) * q.step_ns;
        let rem = q.end_ns.rem_euclid(q.step_ns);
        if rem != 0 {
            out.end_ns = (q.end_ns - rem).saturating_add(q.step_ns);
        }
    }
    out
}

/// `/loki/api/v1/query` parameters: `time` (default now), `limit`,
/// `direction`.
pub fn instant_request(
    get: &dyn Fn(&str) -> Option<String>,
    now_ns: i64,
) -> Result<Request, ApiError> {
    instant_request_with(get, now_ns, &RequestLimits::default())
}

/// [`instant_request`] with a tenant's limits.
pub fn instant_request_with(
    get: &dyn Fn(&str) -> Option<String>,
    now_ns: i64,
    limits: &RequestLimits,
) -> Result<Request, ApiError> {
    let time = get("time")
        .map(|t| parse_time(&t))
        .transpose()?
        .unwrap_or(now_ns);
    let (limit, direction) = limit_and_direction(get, limits.max_entries)?;
    let mut params = Query::instant(time);
    params.limit = limit;
    params.direction = direction;
    Ok(Request {
        query: query_text(get),
        params,
    })
}

/// What a query cost, for the `stats` member of Loki's answers. The
/// summary's figures are real; the per-component breakdown Loki adds
/// (querier, ingester, cache) is written with the same members, filled from
/// what the store reports.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct QueryStats {
    /// What the engine read.
    pub read: Stats,
    /// Wall time of the execution, in seconds.
    pub exec_time_s: f64,
    /// Time spent waiting before execution, in seconds.
    pub queue_time_s: f64,
    /// Sub-queries the range was split into (0 when not split).
    pub splits: u64,
    /// Entries (log queries) or samples (metric queries) returned.
    pub entries_returned: u64,
}

impl QueryStats {
    fn per_second(&self, n: u64) -> u64 {
        if self.exec_time_s > 0.0 {
            (n as f64 / self.exec_time_s) as u64
        } else {
            0
        }
    }
}

/// Loki's per-store figures (`querier.store`, `ingester.store`).
#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
struct StoreStatsJson {
    total_chunks_ref: u64,
    total_chunks_downloaded: u64,
    chunks_download_time: u64,
    chunk: ChunkStatsJson,
}

#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
struct ChunkStatsJson {
    head_chunk_bytes: u64,
    head_chunk_lines: u64,
    decompressed_bytes: u64,
    decompressed_lines: u64,
    compressed_bytes: u64,
    total_duplicates: u64,
}

#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
struct CacheStatsJson {
    entries_found: u64,
    entries_requested: u64,
    entries_stored: u64,
    bytes_received: u64,
    bytes_sent: u64,
    requests: u64,
    download_time: u64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SummaryJson {
    bytes_processed_per_second: u64,
    lines_processed_per_second: u64,
    total_bytes_processed: u64,
    total_lines_processed: u64,
    exec_time: f64,
    queue_time: f64,
    subqueries: u64,
    total_entries_returned: u64,
    splits: u64,
    shards: u64,
}

#[derive(Serialize)]
struct QuerierJson {
    store: StoreStatsJson,
}

#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
struct IngesterJson {
    total_reached: u64,
    total_chunks_matched: u64,
    total_batches: u64,
    total_lines_sent: u64,
    store: StoreStatsJson,
}

#[derive(Serialize, Default)]
struct CachesJson {
    chunk: CacheStatsJson,
    index: CacheStatsJson,
    result: CacheStatsJson,
}

#[derive(Serialize)]
struct StatsJson {
    summary: SummaryJson,
    querier: QuerierJson,
    ingester: IngesterJson,
    cache: CachesJson,
}

impl Serialize for QueryStats {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        StatsJson {
            summary: SummaryJson {
                bytes_processed_per_second: self.per_second(self.read.bytes_processed),
                lines_processed_per_second: self.per_second(self.read.lines_processed),
                total_bytes_processed: self.read.bytes_processed,
                total_lines_processed: self.read.lines_processed,
                exec_time: self.exec_time_s,
                queue_time: self.queue_time_s,
                subqueries: 0,
                total_entries_returned: self.entries_returned,
                splits: self.splits,
                shards: 0,
            },
            querier: QuerierJson {
                store: StoreStatsJson {
                    chunk: ChunkStatsJson {
                        decompressed_bytes: self.read.bytes_processed,
                        decompressed_lines: self.read.lines_processed,
                        ..ChunkStatsJson::default()
                    },
                    ..StoreStatsJson::default()
                },
            },
            ingester: IngesterJson::default(),
            cache: CachesJson::default(),
        }
        .serialize(serializer)
    }
}

/// Labels as a JSON object.
struct LabelsJson<'a>(&'a Labels);

impl Serialize for LabelsJson<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for l in self.0.iter() {
            map.serialize_entry(l.name, l.value)?;
        }
        map.end()
    }
}

/// A metric point: `[<seconds>, "<value>"]`, its time (ns here) written
/// to the millisecond as Loki's samples carry it.
struct Point(i64, f64);

impl Serialize for Point {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        (Timestamp(self.0.div_euclid(1_000_000)), SampleValue(self.1)).serialize(serializer)
    }
}

/// A log entry: `["<ns>", "<line>"]`.
struct EntryJson<'a>(&'a (i64, String));

impl Serialize for EntryJson<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let (ts, line) = self.0;
        let mut seq = serializer.serialize_seq(Some(2))?;
        seq.serialize_element(&ts.to_string())?;
        seq.serialize_element(line)?;
        seq.end()
    }
}

/// A list serialized element by element through a mapping, without
/// collecting.
struct SeqOf<'a, T, F>(&'a [T], F);

/// [`SeqOf`], with the bound that lets closures' types be inferred.
fn seq_of<'a, T, U: Serialize, F: Fn(&'a T) -> U>(items: &'a [T], f: F) -> SeqOf<'a, T, F> {
    SeqOf(items, f)
}

impl<'a, T, F, U> Serialize for SeqOf<'a, T, F>
where
    F: Fn(&'a T) -> U,
    U: Serialize,
{
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
        for x in self.0 {
            seq.serialize_element(&(self.1)(x))?;
        }
        seq.end()
    }
}

#[derive(Serialize)]
struct StreamJson<'a, V: Serialize> {
    stream: LabelsJson<'a>,
    values: V,
}

#[derive(Serialize)]
struct SeriesJson<'a, V: Serialize> {
    metric: LabelsJson<'a>,
    values: V,
}

#[derive(Serialize)]
struct SampleJson<'a> {
    metric: LabelsJson<'a>,
    value: Point,
}

/// The `data` member of a query answer.
struct Data<'a> {
    result: &'a QueryResult,
    time_ns: i64,
    stats: &'a QueryStats,
}

impl Serialize for Data<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(3))?;
        match self.result {
            QueryResult::Streams(streams) => {
                map.serialize_entry("resultType", "streams")?;
                map.serialize_entry(
                    "result",
                    &seq_of(streams, |s| StreamJson {
                        stream: LabelsJson(&s.labels),
                        values: seq_of(&s.entries, EntryJson),
                    }),
                )?;
            }
            QueryResult::Vector(v) => {
                map.serialize_entry("resultType", "vector")?;
                map.serialize_entry(
                    "result",
                    &seq_of(v, |s| SampleJson {
                        metric: LabelsJson(&s.labels),
                        value: Point(self.time_ns, s.value),
                    }),
                )?;
            }
            QueryResult::Scalar(v) => {
                map.serialize_entry("resultType", "scalar")?;
                map.serialize_entry("result", &Point(self.time_ns, *v))?;
            }
            QueryResult::Matrix(m) => {
                map.serialize_entry("resultType", "matrix")?;
                map.serialize_entry(
                    "result",
                    &seq_of(m, |s| SeriesJson {
                        metric: LabelsJson(&s.labels),
                        values: seq_of(&s.points, |p| Point(p.0, p.1)),
                    }),
                )?;
            }
        }
        map.serialize_entry("stats", self.stats)?;
        map.end()
    }
}

/// A frame of `/loki/api/v1/tail`: `{"streams":[{"stream":{…},"values":[…]}]}`,
/// the streams written as in query answers.
pub fn encode_tail_frame(streams: &[StreamResult]) -> String {
    #[derive(Serialize)]
    struct Frame<S: Serialize> {
        streams: S,
    }
    let frame = Frame {
        streams: seq_of(streams, |s| StreamJson {
            stream: LabelsJson(&s.labels),
            values: seq_of(&s.entries, EntryJson),
        }),
    };
    // Only labels and strings are written: this cannot fail.
    serde_json::to_string(&frame).unwrap_or_default()
}

/// How many entries or samples a result holds.
pub fn result_size(result: &QueryResult) -> u64 {
    match result {
        QueryResult::Streams(s) => s.iter().map(|s| s.entries.len() as u64).sum(),
        QueryResult::Vector(v) => v.len() as u64,
        QueryResult::Scalar(_) => 1,
        QueryResult::Matrix(m) => m.iter().map(|s| s.points.len() as u64).sum(),
    }
}

/// The success body: `{"status":"success","data":{"resultType":…,"result":…,"stats":…}}`,
/// in the envelope the Prometheus API shares ([`model::envelope`]).
pub fn encode_result(result: &QueryResult, q: &Query, stats: &QueryStats) -> Vec<u8> {
    let data = Data {
        result,
        time_ns: q.start_ns,
        stats,
    };
    // Only labels, strings and numbers are written: this cannot fail, and
    // an empty body would be answered as an error by the caller's checks.
    model::envelope::success(&data, &[], &[]).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn params(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k: &str| map.get(k).cloned()
    }

    #[test]
    fn time_formats() {
        assert_eq!(parse_time("1795532579"), Ok(1_795_532_579_000_000_000));
        assert_eq!(
            parse_time("1795532580000000001"),
            Ok(1_795_532_580_000_000_001)
        );
        assert_eq!(
            parse_time("2026-11-24T14:58:00Z"),
            Ok(1_795_532_280_000_000_000)
        );
        assert_eq!(
            parse_time("2026-11-24T15:58:00.5+01:00"),
            Ok(1_795_532_280_500_000_000)
        );
        assert!(parse_time("yesterday").is_err());
    }

    #[test]
    fn limits_and_directions() {
        let get = params(&[("limit", "0")]);
        assert_eq!(
            range_request(&get, 0).unwrap_err().message,
            "limit must be a positive value"
        );
        let get = params(&[("limit", "5001")]);
        assert!(
            range_request(&get, 0)
                .unwrap_err()
                .message
                .contains("5001 > 5000")
        );
        let get = params(&[("direction", "FORWARD"), ("query", "{a=\"b\"}")]);
        let r = range_request(&get, 3_600_000_000_000).unwrap();
        assert_eq!(r.params.direction, Direction::Forward);
        assert_eq!(r.params.limit, DEFAULT_LIMIT);
        assert_eq!(r.params.start_ns, 0);
        assert_eq!(r.params.step_ns, 14_000_000_000);
        let get = params(&[("direction", "sideways")]);
        assert_eq!(
            range_request(&get, 0).unwrap_err().message,
            "invalid direction 'sideways'"
        );
        let get = params(&[("start", "10"), ("end", "5")]);
        assert_eq!(range_request(&get, 0).unwrap_err().status, 400);
    }

    #[test]
    fn steps_align_like_lokis_frontend() {
        let q = Query::range(
            1_795_532_287_000_000_000,
            1_795_532_480_000_000_000,
            30_000_000_000,
        );
        let a = align_steps(&q);
        assert_eq!(a.start_ns, 1_795_532_280_000_000_000);
        assert_eq!(a.end_ns, 1_795_532_490_000_000_000);
    }

    #[test]
    fn encodes_streams_and_matrices() {
        let q = Query::instant(1_500_000_000);
        let streams = QueryResult::Streams(vec![crate::eval::StreamResult {
            labels: Labels::from_pairs([("a", "\"x\"")]),
            entries: vec![(5, "line".into())],
        }]);
        let text = |r: &QueryResult| {
            let body = String::from_utf8(encode_result(r, &q, &QueryStats::default())).unwrap();
            let cut = body.find(r#","stats":"#).unwrap();
            body[..cut].to_owned()
        };
        assert_eq!(
            text(&streams),
            r#"{"status":"success","data":{"resultType":"streams","result":[{"stream":{"a":"\"x\""},"values":[["5","line"]]}]"#
        );
        assert_eq!(
            text(&QueryResult::Scalar(f64::INFINITY)),
            r#"{"status":"success","data":{"resultType":"scalar","result":[1.5,"+Inf"]"#
        );
    }
}
