//! Query mode: LogQL queries through Loki's query API, R times each,
//! timed from sending the request to having read the whole answer.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::push::{now_ns, snippet};
use crate::{Common, fmt_bytes, percentile};

/// A time parameter: fixed, or relative to the moment of each run, so that
/// repeated runs behave like a dashboard refreshing `now-1h` to `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TimeArg {
    /// Nanoseconds since the epoch.
    At(i64),
    /// Nanoseconds added to the time of the run.
    Now(i64),
}

impl TimeArg {
    /// `now`, `now-1h`, `now+30s`, or seconds since the epoch (`1700000000.5`).
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        if let Some(rest) = text.strip_prefix("now") {
            return match rest.as_bytes().first() {
                None => Ok(Self::Now(0)),
                Some(b'-') => Ok(Self::Now(-parse_duration_ns(&rest[1..])?)),
                Some(b'+') => Ok(Self::Now(parse_duration_ns(&rest[1..])?)),
                _ => Err(format!(
                    "bad time {text:?}: expected now, now-1h or seconds"
                )),
            };
        }
        let seconds: f64 = text
            .parse()
            .map_err(|_| format!("bad time {text:?}: expected now, now-1h or seconds"))?;
        if !seconds.is_finite() {
            return Err(format!("bad time {text:?}"));
        }
        Ok(Self::At((seconds * 1e9) as i64))
    }

    fn resolve(self, now: i64) -> i64 {
        match self {
            Self::At(ns) => ns,
            Self::Now(offset) => now.saturating_add(offset),
        }
    }
}

/// `90s`, `1m`, `1h30m`, `250ms`, `2d`, or plain seconds (`15`, `0.5`).
pub(crate) fn parse_duration_ns(text: &str) -> Result<i64, String> {
    let bad = || format!("bad duration {text:?}");
    if let Ok(seconds) = text.parse::<f64>() {
        return if seconds.is_finite() {
            Ok((seconds * 1e9) as i64)
        } else {
            Err(bad())
        };
    }
    let mut total: i64 = 0;
    let mut rest = text;
    if rest.is_empty() {
        return Err(bad());
    }
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
        let number: i64 = rest[..digits].parse().map_err(|_| bad())?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let unit = match &rest[..unit_len] {
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            "d" => 86_400_000_000_000,
            _ => return Err(bad()),
        };
        total = number
            .checked_mul(unit)
            .and_then(|n| total.checked_add(n))
            .ok_or_else(bad)?;
        rest = &rest[unit_len..];
    }
    Ok(total)
}

/// How to run the queries.
#[derive(Debug, Clone)]
pub(crate) struct QueryOptions {
    pub(crate) queries: Vec<String>,
    /// `query_range` with start, end, step; else an instant query at `time`.
    pub(crate) range: bool,
    pub(crate) time: TimeArg,
    pub(crate) start: TimeArg,
    pub(crate) end: TimeArg,
    pub(crate) step: Option<String>,
    pub(crate) limit: Option<u64>,
    pub(crate) direction: Option<String>,
    pub(crate) runs: usize,
    pub(crate) warmup: usize,
    /// Bytes the query scans, when known to the caller: gives a GB/s even
    /// when the server reports no statistics.
    pub(crate) scan_bytes: Option<u64>,
}

/// What one answer said.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct Answer {
    pub(crate) result_type: String,
    /// Series or streams.
    pub(crate) results: usize,
    /// Log lines returned (streams) or points (matrix).
    pub(crate) entries: usize,
    /// The first sample's value of a vector or scalar answer.
    pub(crate) value: Option<String>,
    pub(crate) bytes_processed: Option<u64>,
    pub(crate) lines_processed: Option<u64>,
}

/// Reads a Loki query answer; `Err` says why it is not a successful one.
pub(crate) fn read_answer(body: &str) -> Result<Answer, String> {
    let value: Value =
        serde_json::from_str(body).map_err(|e| format!("not JSON ({e}): {}", snippet(body)))?;
    if value.get("status").and_then(Value::as_str) != Some("success") {
        let error = value
            .get("error")
            .and_then(Value::as_str)
            .unwrap_or("no status \"success\"");
        return Err(format!("answer is not a success: {error}"));
    }
    let data = value.get("data").ok_or("answer has no data")?;
    let result_type = data
        .get("resultType")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    let (results, entries) = match (result_type.as_str(), data.get("result")) {
        // A scalar or string answer is one `[<time>, "<value>"]`.
        ("scalar" | "string", Some(_)) => (1, 1),
        (_, Some(Value::Array(items))) => {
            let entries = items
                .iter()
                .map(|item| match item.get("values") {
                    Some(Value::Array(values)) => values.len(),
                    _ => usize::from(item.get("value").is_some()),
                })
                .sum();
            (items.len(), entries)
        }
        _ => (0, 0),
    };
    let summary = data.pointer("/stats/summary");
    let number = |key: &str| {
        summary
            .and_then(|s| s.get(key))
            .and_then(Value::as_f64)
            .map(|v| v as u64)
    };
    let value = match result_type.as_str() {
        "scalar" | "string" => data.pointer("/result/1"),
        _ => data.pointer("/result/0/value/1"),
    }
    .and_then(Value::as_str)
    .map(str::to_owned);
    Ok(Answer {
        result_type,
        results,
        entries,
        value,
        bytes_processed: number("totalBytesProcessed"),
        lines_processed: number("totalLinesProcessed"),
    })
}

/// Runs every query; returns whether all of them answered successfully.
pub(crate) async fn run(common: &Common, options: &QueryOptions) -> Result<bool, String> {
    let client = common.client(1)?;
    crate::check_reachable(&client, &common.url).await?;
    let mut all_ok = true;
    for query in &options.queries {
        let mut latencies = Vec::new();
        let mut last = None;
        let mut error = None;
        for run in 0..options.warmup + options.runs.max(1) {
            match run_once(&client, common, options, query).await {
                Ok((latency, answer)) => {
                    if run >= options.warmup {
                        latencies.push(latency);
                    }
                    last = Some(answer);
                }
                Err(e) => {
                    error = Some(e);
                    break;
                }
            }
        }
        all_ok &= error.is_none();
        report(common, options, query, latencies, last, error);
    }
    Ok(all_ok)
}

async fn run_once(
    client: &reqwest::Client,
    common: &Common,
    options: &QueryOptions,
    query: &str,
) -> Result<(Duration, Answer), String> {
    let now = now_ns();
    let mut params = form_urlencoded::Serializer::new(String::new());
    params.append_pair("query", query);
    let path = if options.range {
        params.append_pair("start", &options.start.resolve(now).to_string());
        params.append_pair("end", &options.end.resolve(now).to_string());
        if let Some(step) = &options.step {
            params.append_pair("step", step);
        }
        "query_range"
    } else {
        params.append_pair("time", &options.time.resolve(now).to_string());
        "query"
    };
    if let Some(limit) = options.limit {
        params.append_pair("limit", &limit.to_string());
    }
    if let Some(direction) = &options.direction {
        params.append_pair("direction", direction);
    }
    let url = format!("{}/loki/api/v1/{path}?{}", common.url, params.finish());
    let mut request = client.get(&url);
    if let Some(tenant) = &common.tenant {
        request = request.header("X-Scope-OrgID", tenant);
    }
    let sent = Instant::now();
    let response = request
        .send()
        .await
        .map_err(|e| format!("request error: {e}"))?;
    let status = response.status();
    let body = response
        .text()
        .await
        .map_err(|e| format!("reading the answer: {e}"))?;
    let latency = sent.elapsed();
    if !status.is_success() {
        return Err(format!("{status}: {}", snippet(&body)));
    }
    Ok((latency, read_answer(&body)?))
}

fn report(
    common: &Common,
    options: &QueryOptions,
    query: &str,
    mut latencies: Vec<Duration>,
    answer: Option<Answer>,
    error: Option<String>,
) {
    latencies.sort();
    let ms = |d: Option<Duration>| d.map(|d| d.as_secs_f64() * 1e3);
    let (min, median, max) = (
        ms(latencies.first().copied()),
        ms(percentile(&latencies, 0.5)),
        ms(latencies.last().copied()),
    );
    let per_second = |bytes: Option<u64>| match (bytes, median) {
        (Some(b), Some(m)) if m > 0.0 => Some(b as f64 / (m / 1e3) / 1e9),
        _ => None,
    };
    let answer = answer.unwrap_or_default();
    let gbps = per_second(answer.bytes_processed);
    let scan_gbps = per_second(options.scan_bytes);
    if common.json {
        let report = json!({
            "mode": "query",
            "query": query,
            "kind": if options.range { "range" } else { "instant" },
            "runs": latencies.len(),
            "min_ms": min,
            "median_ms": median,
            "max_ms": max,
            "latencies_ms": latencies.iter().map(|d| d.as_secs_f64() * 1e3).collect::<Vec<_>>(),
            "result_type": answer.result_type,
            "results": answer.results,
            "entries": answer.entries,
            "value": answer.value,
            "bytes_processed": answer.bytes_processed,
            "lines_processed": answer.lines_processed,
            "gb_per_second": gbps,
            "scan_bytes": options.scan_bytes,
            "scan_gb_per_second": scan_gbps,
            "error": error,
        });
        println!("{report}");
        return;
    }
    println!("{query}");
    if let Some(error) = error {
        println!("  failed: {error}");
        return;
    }
    let f = |v: Option<f64>| v.map_or("-".into(), |v| format!("{v:.1}"));
    println!(
        "  {} runs: min {} ms, median {} ms, max {} ms; {} {} ({} entries){}",
        latencies.len(),
        f(min),
        f(median),
        f(max),
        answer.results,
        if answer.result_type.is_empty() {
            "results"
        } else {
            &answer.result_type
        },
        answer.entries,
        answer
            .value
            .map_or(String::new(), |v| format!(", first value {v}")),
    );
    if let Some(bytes) = answer.bytes_processed {
        println!(
            "  server processed {} ({} GB/s at the median)",
            fmt_bytes(bytes as f64),
            gbps.map_or("-".into(), |g| format!("{g:.2}"))
        );
    }
    if let (Some(bytes), Some(g)) = (options.scan_bytes, scan_gbps) {
        println!(
            "  {} scanned: {g:.2} GB/s at the median",
            fmt_bytes(bytes as f64)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times() {
        assert_eq!(TimeArg::parse("now"), Ok(TimeArg::Now(0)));
        assert_eq!(
            TimeArg::parse("now-1h"),
            Ok(TimeArg::Now(-3_600_000_000_000))
        );
        assert_eq!(TimeArg::parse("now+90s"), Ok(TimeArg::Now(90_000_000_000)));
        assert_eq!(
            TimeArg::parse("1700000000.5"),
            Ok(TimeArg::At(1_700_000_000_500_000_000))
        );
        for bad in ["", "nowish", "now-", "now-1x", "yesterday", "NaN", "inf"] {
            assert!(TimeArg::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration_ns("1h30m"), Ok(5_400_000_000_000));
        assert_eq!(parse_duration_ns("250ms"), Ok(250_000_000));
        assert_eq!(parse_duration_ns("15"), Ok(15_000_000_000));
        for bad in ["", "h", "1x", "1h-", "99999999999999999999d"] {
            assert!(parse_duration_ns(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn answers() {
        let vector = r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"42"]}],
            "stats":{"summary":{"totalBytesProcessed":290000000,"totalLinesProcessed":2000000}}}}"#;
        let answer = read_answer(vector).unwrap();
        assert_eq!((answer.results, answer.entries), (1, 1));
        assert_eq!(answer.bytes_processed, Some(290_000_000));
        assert_eq!(answer.value.as_deref(), Some("42"));
        let scalar = r#"{"status":"success","data":{"resultType":"scalar","result":[1,"2"]}}"#;
        let answer = read_answer(scalar).unwrap();
        assert_eq!((answer.results, answer.value.as_deref()), (1, Some("2")));
        let streams = r#"{"status":"success","data":{"resultType":"streams","result":[
            {"stream":{"a":"b"},"values":[["1","x"],["2","y"]]},{"stream":{},"values":[["3","z"]]}]}}"#;
        let answer = read_answer(streams).unwrap();
        assert_eq!(
            (answer.result_type.as_str(), answer.results, answer.entries),
            ("streams", 2, 3)
        );
        assert_eq!(answer.bytes_processed, None);
        for bad in [
            "",
            "[]",
            "null",
            r#"{"status":"error","error":"parse error"}"#,
            r#"{"status":"success"}"#,
        ] {
            assert!(read_answer(bad).is_err(), "{bad}");
        }
    }
}
