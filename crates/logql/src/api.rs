//! The Loki query API without the HTTP: request parameters to [`Query`],
//! results to JSON bodies, errors to status codes. The log store's HTTP
//! handlers call these, and so does the golden conformance runner, so both
//! share one implementation.

use model::Labels;
use model::algebra::format_float;

use crate::error::Error;
use crate::eval::{Direction, Query, QueryResult};
use crate::pipeline::json::write_json_string;

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
            Error::Store(crate::store::StoreError::Read(_)) => Self {
                status: 500,
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
/// seconds, longer ones nanoseconds; decimals are float seconds (and lose
/// precision like Loki's); anything else is RFC 3339.
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
        let ns = f * 1e9;
        if ns.is_finite() && ns.abs() < 9.2e18 {
            return Ok(ns as i64);
        }
        return Err(bad());
    }
    crate::template::parse_rfc3339(t).map_err(|_| bad())
}

/// Parses `step`: a duration (`30s`, `1m`) or float seconds.
fn parse_step(text: &str) -> Result<i64, ApiError> {
    if let Ok(f) = text.trim().parse::<f64>() {
        return Ok((f * 1e9) as i64);
    }
    crate::parser::duration_seconds(text.trim())
        .map(|s| (s * 1e9) as i64)
        .ok_or_else(|| ApiError::bad(format!("cannot parse {text:?} to a valid duration")))
}

fn limit_and_direction(
    get: &dyn Fn(&str) -> Option<String>,
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
            if v > MAX_ENTRIES_LIMIT {
                return Err(ApiError::bad(format!(
                    "max entries limit per query exceeded, limit > max_entries_limit ({v} > {MAX_ENTRIES_LIMIT})"
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

/// Go's `time.Duration` printing for whole seconds (`235791h3m0s`).
fn go_duration(ns: i64) -> String {
    let secs = ns / 1_000_000_000;
    format!("{}h{}m{}s", secs / 3600, (secs % 3600) / 60, secs % 60)
}

/// `/loki/api/v1/query_range` parameters. Defaults: `end` now, `start` one
/// hour earlier, `limit` 100, `direction` backward, `step` from the range
/// (Loki's `max(1s, range/250)`). For metric queries the steps are aligned
/// to multiples of `step` (start down, end up), as Loki's frontend does.
pub fn range_request(
    get: &dyn Fn(&str) -> Option<String>,
    now_ns: i64,
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
    if end.saturating_sub(start) > MAX_QUERY_LENGTH_NS {
        return Err(ApiError::bad(format!(
            "the query time range exceeds the limit (query length: {}, limit: {})",
            go_duration(end.saturating_sub(start)),
            go_duration(MAX_QUERY_LENGTH_NS)
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
    let (limit, direction) = limit_and_direction(get)?;
    Ok(Request {
        query: query_text(get),
        params: Query {
            start_ns: start,
            end_ns: end,
            step_ns: step,
            instant: false,
            direction,
            limit,
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
    let time = get("time")
        .map(|t| parse_time(&t))
        .transpose()?
        .unwrap_or(now_ns);
    let (limit, direction) = limit_and_direction(get)?;
    let mut params = Query::instant(time);
    params.limit = limit;
    params.direction = direction;
    Ok(Request {
        query: query_text(get),
        params,
    })
}

fn write_labels(out: &mut String, labels: &Labels) {
    out.push('{');
    for (i, l) in labels.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_json_string(out, l.name);
        out.push(':');
        write_json_string(out, l.value);
    }
    out.push('}');
}

/// Seconds as a JSON number (`1795532100`, `1795532100.5`).
fn write_seconds(out: &mut String, ns: i64) {
    let secs = ns.div_euclid(1_000_000_000);
    let frac = ns.rem_euclid(1_000_000_000);
    if frac == 0 {
        out.push_str(&secs.to_string());
    } else {
        let f = format!("{frac:09}");
        out.push_str(&format!("{secs}.{}", f.trim_end_matches('0')));
    }
}

fn write_point(out: &mut String, ns: i64, value: f64) {
    out.push('[');
    write_seconds(out, ns);
    out.push(',');
    write_json_string(out, &format_float(value));
    out.push(']');
}

/// The success body: `{"status":"success","data":{"resultType":…,"result":…}}`.
pub fn encode_result(result: &QueryResult, q: &Query) -> String {
    let mut out = String::from(r#"{"status":"success","data":{"resultType":"#);
    match result {
        QueryResult::Streams(streams) => {
            out.push_str(r#""streams","result":["#);
            for (i, s) in streams.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(r#"{"stream":"#);
                write_labels(&mut out, &s.labels);
                out.push_str(r#","values":["#);
                for (j, (ts, line)) in s.entries.iter().enumerate() {
                    if j > 0 {
                        out.push(',');
                    }
                    out.push('[');
                    write_json_string(&mut out, &ts.to_string());
                    out.push(',');
                    write_json_string(&mut out, line);
                    out.push(']');
                }
                out.push_str("]}");
            }
            out.push(']');
        }
        QueryResult::Vector(v) => {
            out.push_str(r#""vector","result":["#);
            for (i, s) in v.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(r#"{"metric":"#);
                write_labels(&mut out, &s.labels);
                out.push_str(r#","value":"#);
                write_point(&mut out, q.start_ns, s.value);
                out.push('}');
            }
            out.push(']');
        }
        QueryResult::Scalar(v) => {
            out.push_str(r#""scalar","result":"#);
            write_point(&mut out, q.start_ns, *v);
        }
        QueryResult::Matrix(m) => {
            out.push_str(r#""matrix","result":["#);
            for (i, s) in m.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(r#"{"metric":"#);
                write_labels(&mut out, &s.labels);
                out.push_str(r#","values":["#);
                for (j, (t, v)) in s.points.iter().enumerate() {
                    if j > 0 {
                        out.push(',');
                    }
                    write_point(&mut out, *t, *v);
                }
                out.push_str("]}");
            }
            out.push(']');
        }
    }
    out.push_str(r#","stats":{}}}"#);
    out
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
        assert_eq!(
            encode_result(&streams, &q),
            r#"{"status":"success","data":{"resultType":"streams","result":[{"stream":{"a":"\"x\""},"values":[["5","line"]]}],"stats":{}}}"#
        );
        assert_eq!(
            encode_result(&QueryResult::Scalar(f64::INFINITY), &q),
            r#"{"status":"success","data":{"resultType":"scalar","result":[1.5,"+Inf"],"stats":{}}}"#
        );
    }
}
