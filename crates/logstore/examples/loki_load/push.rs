//! Push mode: every request encoded first, then sent over C connections
//! at once, timed from the first send to the last answer.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::lines::{Generator, Shape, mean_line_len};
use crate::server::ServerProcess;
use crate::{Common, fmt_bytes, percentile};
use lokipush::{EntryAdapter, PushRequest, StreamAdapter, Timestamp};

/// What to push.
#[derive(Debug, Clone)]
pub(crate) struct PushOptions {
    pub(crate) lines: Option<u64>,
    pub(crate) bytes: Option<u64>,
    pub(crate) shape: Shape,
    pub(crate) batch_bytes: usize,
    pub(crate) connections: usize,
    pub(crate) seed: u64,
    pub(crate) end_ns: Option<i64>,
    pub(crate) span_ns: i64,
    pub(crate) max_retries: u32,
    pub(crate) pid: Option<u32>,
}

/// One request, ready to send.
#[derive(Debug)]
pub(crate) struct Batch {
    /// Leaked on purpose: a `'static` slice becomes a request body without
    /// a copy, and again on a retry. The tool exits after one run.
    pub(crate) body: &'static [u8],
    pub(crate) lines: usize,
}

/// All requests of a run and what they hold.
#[derive(Debug)]
pub(crate) struct Prepared {
    pub(crate) batches: Vec<Batch>,
    pub(crate) lines: u64,
    pub(crate) raw_bytes: u64,
    pub(crate) wire_bytes: u64,
    /// Lines holding `ERROR`: what a `|= "ERROR"` count must find.
    pub(crate) error_lines: u64,
    pub(crate) streams: usize,
    pub(crate) first_ns: i64,
    pub(crate) last_ns: i64,
}

/// Generates and encodes every request. Lines go into a request in time
/// order across all streams, as Promtail batches them, until the request
/// holds `batch_bytes` of line text.
pub(crate) fn prepare(options: &PushOptions) -> Result<Prepared, String> {
    let total = match (options.lines, options.bytes) {
        (Some(lines), _) => lines,
        (None, Some(bytes)) => {
            (bytes as f64 / mean_line_len(options.shape, options.seed)).ceil() as u64
        }
        (None, None) => 2_000_000,
    };
    if total == 0 {
        return Err("nothing to push: --lines 0".into());
    }
    let end_ns = options.end_ns.unwrap_or_else(now_ns);
    if options.span_ns < total as i64 {
        return Err("--span is too short to give every line its own nanosecond".into());
    }
    let mut generator = Generator::new(options.shape, options.seed, end_ns, options.span_ns, total);
    let labels: Vec<String> = generator.streams().to_vec();
    let mut pending: Vec<Vec<EntryAdapter>> = vec![Vec::new(); labels.len()];
    let mut prepared = Prepared {
        batches: Vec::new(),
        lines: 0,
        raw_bytes: 0,
        wire_bytes: 0,
        error_lines: 0,
        streams: 0,
        first_ns: i64::MAX,
        last_ns: i64::MIN,
    };
    let mut used = vec![false; labels.len()];
    let (mut in_batch, mut batch_lines) = (0usize, 0usize);
    let mut line = String::new();
    for k in 0..total {
        let (stream, ts) = generator.line(k, &mut line);
        in_batch += line.len();
        batch_lines += 1;
        prepared.raw_bytes += line.len() as u64;
        prepared.error_lines += u64::from(line.contains("ERROR"));
        prepared.first_ns = prepared.first_ns.min(ts);
        prepared.last_ns = prepared.last_ns.max(ts);
        used[stream] = true;
        pending[stream].push(EntryAdapter {
            timestamp: Some(Timestamp::from_nanos(ts)),
            line: line.clone().into_bytes(),
            structured_metadata: Vec::new(),
        });
        if in_batch >= options.batch_bytes || k + 1 == total {
            let request = PushRequest {
                streams: pending
                    .iter_mut()
                    .zip(&labels)
                    .filter(|(entries, _)| !entries.is_empty())
                    .map(|(entries, labels)| StreamAdapter {
                        labels: labels.clone().into_bytes(),
                        entries: std::mem::take(entries),
                        hash: 0,
                    })
                    .collect(),
            };
            let body = lokipush::encode(&request).map_err(|e| e.to_string())?;
            prepared.wire_bytes += body.len() as u64;
            prepared.batches.push(Batch {
                body: Vec::leak(body),
                lines: batch_lines,
            });
            (in_batch, batch_lines) = (0, 0);
        }
    }
    prepared.lines = total;
    prepared.streams = used.iter().filter(|u| **u).count();
    Ok(prepared)
}

pub(crate) fn now_ns() -> i64 {
    chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0)
}

/// What sending produced.
#[derive(Debug, Default)]
struct Outcome {
    latencies: Vec<Duration>,
    failures: Vec<String>,
    failed_requests: usize,
    failed_lines: usize,
    retries: usize,
}

/// Sends every batch, each worker taking the next unsent one, and prints
/// the report. Returns whether every request succeeded.
pub(crate) async fn run(common: &Common, options: &PushOptions) -> Result<bool, String> {
    let client = common.client(options.connections)?;
    let url = format!("{}/loki/api/v1/push", common.url);
    crate::check_reachable(&client, &common.url).await?;
    let prepare_started = Instant::now();
    let prepared = prepare(options)?;
    let prepare_seconds = prepare_started.elapsed().as_secs_f64();
    let server = options.pid.map(ServerProcess::new);
    let cpu_before = server.as_ref().and_then(|s| s.cpu_seconds());

    let batches: Arc<Vec<Batch>> = Arc::new(prepared.batches);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..options.connections.max(1) {
        let (client, url, batches, next) =
            (client.clone(), url.clone(), batches.clone(), next.clone());
        let tenant = common.tenant.clone();
        let max_retries = options.max_retries;
        workers.push(tokio::spawn(async move {
            let mut outcome = Outcome::default();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(batch) = batches.get(i) else { break };
                send_one(
                    &client,
                    &url,
                    tenant.as_deref(),
                    batch,
                    max_retries,
                    &mut outcome,
                )
                .await;
            }
            outcome
        }));
    }
    let mut outcome = Outcome::default();
    for worker in workers {
        let part = worker.await.map_err(|e| format!("a sender failed: {e}"))?;
        outcome.latencies.extend(part.latencies);
        outcome.failures.extend(part.failures);
        outcome.failed_requests += part.failed_requests;
        outcome.failed_lines += part.failed_lines;
        outcome.retries += part.retries;
    }
    let wall = started.elapsed().as_secs_f64();
    let cpu_after = server.as_ref().and_then(|s| s.cpu_seconds());
    let peak_rss = server.as_ref().and_then(|s| s.status_kib("VmHWM"));
    let rss = server.as_ref().and_then(|s| s.status_kib("VmRSS"));

    outcome.latencies.sort();
    let ms = |d: Option<Duration>| d.map(|d| d.as_secs_f64() * 1e3);
    let p50 = ms(percentile(&outcome.latencies, 0.50));
    let p99 = ms(percentile(&outcome.latencies, 0.99));
    let cores = match (cpu_before, cpu_after) {
        (Some(a), Some(b)) if wall > 0.0 => Some((b - a) / wall),
        _ => None,
    };
    let lines_ok = prepared.lines - outcome.failed_lines as u64;
    let lines_per_s = lines_ok as f64 / wall;
    let mb_per_s =
        prepared.raw_bytes as f64 * (lines_ok as f64 / prepared.lines as f64) / wall / 1e6;
    outcome.failures.truncate(20);
    if common.json {
        let report = json!({
            "mode": "push",
            "url": url,
            "lines": prepared.lines,
            "raw_bytes": prepared.raw_bytes,
            "wire_bytes": prepared.wire_bytes,
            "error_lines": prepared.error_lines,
            "streams": prepared.streams,
            "first_ts_ns": prepared.first_ns.to_string(),
            "last_ts_ns": prepared.last_ns.to_string(),
            "prepare_seconds": prepare_seconds,
            "wall_seconds": wall,
            "lines_per_second": lines_per_s,
            "mb_per_second": mb_per_s,
            "requests": batches.len(),
            "connections": options.connections,
            "failures": outcome.failed_requests,
            "failed_lines": outcome.failed_lines,
            "retries": outcome.retries,
            "latency_p50_ms": p50,
            "latency_p99_ms": p99,
            "server_cpu_cores": cores,
            "server_peak_rss_kib": peak_rss,
            "server_rss_kib": rss,
            "failure_samples": outcome.failures,
        });
        println!("{report}");
    } else {
        println!(
            "pushed {} lines ({} raw, {} on the wire) in {} streams to {url}",
            prepared.lines,
            fmt_bytes(prepared.raw_bytes as f64),
            fmt_bytes(prepared.wire_bytes as f64),
            prepared.streams,
        );
        println!(
            "  {} requests over {} connections in {wall:.2} s (encoded beforehand in {prepare_seconds:.2} s): {:.0} lines/s, {mb_per_s:.1} MB/s raw",
            batches.len(),
            options.connections,
            lines_per_s,
        );
        println!(
            "  failures {}, retries {}; latency p50 {} ms, p99 {} ms",
            outcome.failed_requests,
            outcome.retries,
            p50.map_or("-".into(), |v| format!("{v:.1}")),
            p99.map_or("-".into(), |v| format!("{v:.1}")),
        );
        if let Some(pid) = options.pid {
            println!(
                "  server {pid}: {} cores during the push, peak RSS {} MiB, RSS {} MiB",
                cores.map_or("-".into(), |c| format!("{c:.2}")),
                peak_rss.map_or("-".into(), |k| format!("{:.1}", k as f64 / 1024.0)),
                rss.map_or("-".into(), |k| format!("{:.1}", k as f64 / 1024.0)),
            );
        }
        for failure in &outcome.failures {
            println!("  failed: {failure}");
        }
    }
    Ok(outcome.failed_requests == 0)
}

/// Sends one batch, retrying rate limits (429), server errors (5xx) and
/// lost connections with a doubling backoff, as Promtail does; other
/// answers are final (Promtail drops a batch on any other 4xx).
async fn send_one(
    client: &reqwest::Client,
    url: &str,
    tenant: Option<&str>,
    batch: &Batch,
    max_retries: u32,
    outcome: &mut Outcome,
) {
    let mut backoff = Duration::from_millis(50);
    let mut attempt = 0;
    loop {
        let mut request = client
            .post(url)
            .header("Content-Type", lokipush::CONTENT_TYPE)
            .body(batch.body);
        if let Some(tenant) = tenant {
            request = request.header("X-Scope-OrgID", tenant);
        }
        let sent = Instant::now();
        let (retryable, failure) = match request.send().await {
            Ok(response) => {
                let status = response.status();
                // Read the whole answer: the request is not done before.
                let body = response.text().await.unwrap_or_default();
                outcome.latencies.push(sent.elapsed());
                if status.is_success() {
                    return;
                }
                let retryable = status.as_u16() == 429 || status.is_server_error();
                (retryable, format!("{status}: {}", snippet(&body)))
            }
            Err(e) => (true, format!("request error: {e}")),
        };
        if !retryable || attempt >= max_retries {
            outcome.failed_requests += 1;
            outcome.failed_lines += batch.lines;
            outcome.failures.push(failure);
            return;
        }
        attempt += 1;
        outcome.retries += 1;
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(2));
    }
}

/// The start of a server's answer, on one line, for a report.
pub(crate) fn snippet(body: &str) -> String {
    let one_line = body.trim().replace('\n', " ");
    match one_line.char_indices().nth(200) {
        Some((at, _)) => format!("{}…", &one_line[..at]),
        None => one_line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(lines: u64, batch_bytes: usize) -> PushOptions {
        PushOptions {
            lines: Some(lines),
            bytes: None,
            shape: Shape::Bench {
                streams: 4,
                job: "bench",
            },
            batch_bytes,
            connections: 2,
            seed: 1,
            end_ns: Some(1_700_000_000_000_000_000),
            span_ns: 3_540_000_000_000,
            max_retries: 3,
            pid: None,
        }
    }

    #[test]
    fn every_line_lands_in_one_request_in_order() {
        let prepared = prepare(&options(10_000, 64 * 1024)).unwrap();
        assert_eq!(prepared.lines, 10_000);
        assert_eq!(prepared.streams, 4);
        assert!(prepared.batches.len() > 10);
        let (mut lines, mut raw) = (0, 0);
        let mut last = std::collections::HashMap::new();
        for batch in &prepared.batches {
            let request = lokipush::decode(batch.body, usize::MAX).unwrap();
            let in_request: usize = request.streams.iter().map(|s| s.entries.len()).sum();
            assert_eq!(in_request, batch.lines);
            for stream in &request.streams {
                for entry in &stream.entries {
                    let ts = entry.timestamp.unwrap();
                    let ns = ts.seconds as i128 * 1_000_000_000 + ts.nanos as i128;
                    let previous = last.insert(stream.labels.clone(), ns).unwrap_or(i128::MIN);
                    assert!(ns > previous, "{}", String::from_utf8_lossy(&stream.labels));
                    raw += entry.line.len() as u64;
                }
            }
            lines += in_request;
        }
        assert_eq!(lines, 10_000);
        assert_eq!(raw, prepared.raw_bytes);
        assert_eq!(prepared.last_ns, 1_700_000_000_000_000_000);
    }

    #[test]
    fn a_byte_target_becomes_about_that_many_bytes() {
        let mut o = options(0, 1 << 20);
        o.lines = None;
        o.bytes = Some(5_000_000);
        let prepared = prepare(&o).unwrap();
        let ratio = prepared.raw_bytes as f64 / 5e6;
        assert!((0.97..1.03).contains(&ratio), "{ratio}");
    }

    #[test]
    fn snippets_are_short_and_on_one_line() {
        assert_eq!(snippet("a\nb\n"), "a b");
        assert_eq!(snippet(&"é".repeat(300)).chars().count(), 201);
    }
}
