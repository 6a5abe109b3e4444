//! A load tool for any Loki-compatible server: pushes generated log lines as fast as it is answered, or times LogQL queries.
//!
//! It speaks only the wire protocols (protobuf + snappy push, the query
//! API's JSON), so the same command measures `vigil loki` and Loki itself.
//! `bench/loki_push.sh` and `bench/loki_query.sh` drive it.
//!
//! ```text
//! cargo build --release -p vigil-logstore --example loki_load
//! loki_load push  [--url http://127.0.0.1:3100] [--tenant T] [--json]
//!                 [--lines 2000000 | --bytes 1GB] [--streams 16] [--job bench]
//!                 [--shape bench|reference]
//!                 [--batch-bytes 1MiB] [--connections 4] [--seed 1]
//!                 [--end now] [--span 59m] [--max-retries 10] [--pid SERVER_PID]
//! loki_load query [--url ...] [--tenant T] [--json] [--runs 5] [--warmup 1]
//!                 [--time now] | [--range --start now-1h --end now --step 60]
//!                 [--limit 1000] [--direction backward] [--scan-bytes N]
//!                 [--file QUERIES] QUERY...
//! ```
//!
//! Push: every request is generated, encoded and compressed before the
//! clock starts; then C connections send them, each taking the next unsent
//! request, retrying 429 and 5xx answers with a backoff. The timestamps
//! spread over `--span` ending at `--end` (the last hour by default, which
//! any Loki accepts). With `--pid`, the server's CPU time and peak RSS are
//! read from `/proc` around the sending window.
//!
//! Query: each query runs `--warmup` times unrecorded, then `--runs` times;
//! the report gives min / median / max latency and, when the answer carries
//! `data.stats.summary.totalBytesProcessed` (or `--scan-bytes` is given),
//! the scan rate at the median. `now`-relative times are resolved at each
//! run, as a refreshing dashboard would. Queries come from the arguments and
//! from `--file` (one a line, `#` comments).
//!
//! `--json` prints one JSON object per push, or per query, for scripts. The
//! exit status is 1 when any request finally failed, 2 on a usage error or
//! an unreachable server.

// The modules live in `loki_load/`; an example's root is not a `mod.rs`,
// so their paths are spelt out.
#[path = "loki_load/lines.rs"]
mod lines;
#[path = "loki_load/push.rs"]
mod push;
#[path = "loki_load/query.rs"]
mod query;
#[path = "loki_load/server.rs"]
mod server;
#[cfg(test)]
#[path = "loki_load/tests.rs"]
mod tests;

use std::process::ExitCode;
use std::time::Duration;

use lines::Shape;
use push::PushOptions;
use query::{QueryOptions, TimeArg, parse_duration_ns};

/// Options both modes share.
#[derive(Debug, Clone)]
pub(crate) struct Common {
    /// Base URL without a trailing `/`.
    pub(crate) url: String,
    pub(crate) tenant: Option<String>,
    pub(crate) json: bool,
    pub(crate) timeout: Duration,
}

impl Common {
    /// An HTTP/1.1 client keeping up to `connections` connections open.
    pub(crate) fn client(&self, connections: usize) -> Result<reqwest::Client, String> {
        reqwest::Client::builder()
            .pool_max_idle_per_host(connections.max(1))
            .timeout(self.timeout)
            // The targets are given explicitly; a proxy from the environment
            // would measure the proxy.
            .no_proxy()
            .user_agent("vigil-loki-load")
            .build()
            .map_err(|e| format!("cannot build an HTTP client: {}", error_chain(&e)))
    }
}

/// Any HTTP answer from `/ready` will do (Loki answers 503 while its
/// ingester warms up): this only turns "connection refused" deep in a run
/// into one clear message before minutes of encoding.
pub(crate) async fn check_reachable(client: &reqwest::Client, url: &str) -> Result<(), String> {
    client
        .get(format!("{url}/ready"))
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .map(drop)
        .map_err(|e| {
            format!(
                "cannot reach {url}: {} (is the server running?)",
                error_chain(&e)
            )
        })
}

/// An error and its sources on one line: reqwest's own message alone
/// ("error sending request") hides the cause.
pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The value at quantile `q` of sorted values (nearest rank).
pub(crate) fn percentile(sorted: &[Duration], q: f64) -> Option<Duration> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted.get(rank.clamp(1, sorted.len()) - 1).copied()
}

/// Bytes in decimal units, as rates in MB/s and GB/s are given.
pub(crate) fn fmt_bytes(bytes: f64) -> String {
    match bytes {
        b if b >= 1e9 => format!("{:.2} GB", b / 1e9),
        b if b >= 1e6 => format!("{:.1} MB", b / 1e6),
        b if b >= 1e3 => format!("{:.1} kB", b / 1e3),
        b => format!("{b:.0} B"),
    }
}

/// `1048576`, `1MiB`, `512KiB`, `1GB`, `1e9`.
fn parse_size(text: &str) -> Result<u64, String> {
    let split = text
        .find(|c: char| c.is_ascii_alphabetic() && c != 'e')
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().map_err(|_| format!("bad size {text:?}"))?;
    let unit = match unit {
        "" | "B" => 1.0,
        "kB" | "KB" => 1e3,
        "MB" => 1e6,
        "GB" => 1e9,
        "KiB" => 1024.0,
        "MiB" => 1024.0 * 1024.0,
        "GiB" => 1024.0 * 1024.0 * 1024.0,
        _ => {
            return Err(format!(
                "bad size {text:?}: units are B, kB, MB, GB, KiB, MiB, GiB"
            ));
        }
    };
    let bytes = number * unit;
    if !(0.0..1e15).contains(&bytes) {
        return Err(format!("bad size {text:?}"));
    }
    Ok(bytes as u64)
}

/// What the command line asks for.
#[derive(Debug)]
enum Command {
    Push(Common, PushOptions),
    Query(Common, QueryOptions),
}

const USAGE: &str = "usage: loki_load push [options] | loki_load query [options] QUERY... (see the top of crates/logstore/examples/loki_load.rs)";

fn parse_args(args: Vec<String>) -> Result<Command, String> {
    let mut args = args.into_iter();
    let mode = args.next().ok_or(USAGE)?;
    let mut common = Common {
        url: "http://127.0.0.1:3100".into(),
        tenant: None,
        json: false,
        timeout: Duration::from_secs(120),
    };
    let mut push = PushOptions {
        lines: None,
        bytes: None,
        shape: Shape::Bench {
            streams: 16,
            job: "bench",
        },
        batch_bytes: 1 << 20,
        connections: 4,
        seed: 1,
        end_ns: None,
        span_ns: 59 * 60 * 1_000_000_000,
        max_retries: 10,
        pid: None,
    };
    let mut streams = 16;
    let mut job = String::from("bench");
    let mut reference = false;
    let mut query = QueryOptions {
        queries: Vec::new(),
        range: false,
        time: TimeArg::Now(0),
        start: TimeArg::Now(-3_600_000_000_000),
        end: TimeArg::Now(0),
        step: None,
        limit: None,
        direction: None,
        runs: 5,
        warmup: 1,
        scan_bytes: None,
    };
    let is_push = match mode.as_str() {
        "push" => true,
        "query" => false,
        "-h" | "--help" | "help" => return Err(USAGE.into()),
        other => return Err(format!("unknown mode {other:?}; {USAGE}")),
    };
    while let Some(arg) = args.next() {
        // `--name=value` and `--name value` alike.
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n.to_owned(), Some(v.to_owned())),
            _ => (arg.clone(), None),
        };
        let mut value = || -> Result<String, String> {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        let number = |text: String| -> Result<u64, String> {
            text.parse()
                .map_err(|_| format!("{name}: {text:?} is not a whole number"))
        };
        match (name.as_str(), is_push) {
            ("--url", _) => common.url = value()?.trim_end_matches('/').to_owned(),
            ("--tenant", _) => common.tenant = Some(value()?),
            ("--json", _) => common.json = true,
            ("--timeout", _) => {
                common.timeout = Duration::from_nanos(parse_duration_ns(&value()?)?.max(0) as u64)
            }
            ("--lines", true) => push.lines = Some(number(value()?)?),
            ("--bytes", true) => push.bytes = Some(parse_size(&value()?)?),
            ("--streams", true) => streams = number(value()?)?.max(1) as usize,
            ("--job", true) => job = value()?,
            ("--shape", true) => {
                reference = match value()?.as_str() {
                    "bench" => false,
                    "reference" => true,
                    other => return Err(format!("--shape: {other:?} is not bench or reference")),
                }
            }
            ("--batch-bytes", true) => push.batch_bytes = parse_size(&value()?)?.max(1) as usize,
            ("--connections", true) => push.connections = number(value()?)?.clamp(1, 1024) as usize,
            ("--seed", true) => push.seed = number(value()?)?,
            ("--end", true) => push.end_ns = Some(TimeArg::parse(&value()?)?.resolve_now()),
            ("--span", true) => push.span_ns = parse_duration_ns(&value()?)?,
            ("--max-retries", true) => push.max_retries = number(value()?)? as u32,
            ("--pid", true) => push.pid = Some(number(value()?)? as u32),
            ("--range", false) => query.range = true,
            ("--time", false) => query.time = TimeArg::parse(&value()?)?,
            ("--start", false) => query.start = TimeArg::parse(&value()?)?,
            ("--end", false) => query.end = TimeArg::parse(&value()?)?,
            ("--step", false) => query.step = Some(value()?),
            ("--limit", false) => query.limit = Some(number(value()?)?),
            ("--direction", false) => query.direction = Some(value()?),
            ("--runs", false) => query.runs = number(value()?)?.max(1) as usize,
            ("--warmup", false) => query.warmup = number(value()?)? as usize,
            ("--scan-bytes", false) => query.scan_bytes = Some(parse_size(&value()?)?),
            ("--file", false) => {
                let path = value()?;
                let text = std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
                query.queries.extend(
                    text.lines()
                        .map(str::trim)
                        .filter(|l| !l.is_empty() && !l.starts_with('#'))
                        .map(str::to_owned),
                );
            }
            (flag, _) if flag.starts_with("--") => {
                return Err(format!("unknown option {flag} for {mode}; {USAGE}"));
            }
            (text, false) => query.queries.push(text.to_owned()),
            (text, true) => return Err(format!("unexpected argument {text:?}; {USAGE}")),
        }
    }
    if push.span_ns <= 0 {
        return Err("--span must be positive".into());
    }
    if is_push {
        if job.is_empty() || job.contains(['"', '\\']) {
            return Err(format!("--job {job:?}: give a plain label value"));
        }
        // Leaked: the shape is `Copy` and lives for the whole run.
        let job = Box::leak(job.into_boxed_str());
        push.shape = if reference {
            Shape::Reference
        } else {
            Shape::Bench { streams, job }
        };
        return Ok(Command::Push(common, push));
    }
    if query.queries.is_empty() {
        return Err(format!("no query given; {USAGE}"));
    }
    Ok(Command::Query(common, query))
}

impl TimeArg {
    /// The time now, for options that are fixed once (a push's `--end`).
    fn resolve_now(self) -> i64 {
        match self {
            TimeArg::At(ns) => ns,
            TimeArg::Now(offset) => push::now_ns().saturating_add(offset),
        }
    }
}

fn main() -> ExitCode {
    let command = match parse_args(std::env::args().skip(1).collect()) {
        Ok(command) => command,
        Err(e) => {
            eprintln!("loki_load: {e}");
            return ExitCode::from(2);
        }
    };
    // One thread: the tool shares the machine with the server it measures,
    // and with every body encoded beforehand, sending needs little CPU.
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("loki_load: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let outcome = runtime.block_on(async {
        match &command {
            Command::Push(common, options) => push::run(common, options).await,
            Command::Query(common, options) => query::run(common, options).await,
        }
    });
    match outcome {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("loki_load: {e}");
            ExitCode::from(2)
        }
    }
}
