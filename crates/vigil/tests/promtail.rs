//! The agent's reliability (issue 10), with both binaries running on
//! loopback: a SIGKILL of `vigil promtail` while lines are written (also
//! with a rotation while it is down), the log store down for 30 s, and
//! rotations by rename and by copytruncate. Each test writes numbered lines
//! and checks that every number is in the store exactly once.
//!
//! The lines carry their own timestamps (the reference request format,
//! parsed by a `regex` and a `timestamp` stage), so a line sent again after
//! a crash is an exact duplicate that the store drops, as Loki does;
//! without that, a re-read line would get a new read time and be stored
//! twice, which no agent can prevent once its positions lag.

mod common;

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::{Running, query_range, runtime, start_agent, start_loki_on};

const MS: i64 = 1_000_000;

/// How long the store may take to hold every line once the agent can reach
/// it: generous for a loaded 2-core machine running debug builds.
const CATCH_UP: Duration = Duration::from_secs(120);

/// The log store's config: limits high enough that the agent's bursts
/// after an outage are never refused for rate.
const LOKI_CONFIG: &str = "auth_enabled: false
limits_config:
  max_entries_limit_per_query: 1000000
  ingestion_rate_mb: 1024
  ingestion_burst_size_mb: 1024
  per_stream_rate_limit: 1GB
  per_stream_rate_limit_burst: 1GB
";

/// One test's directory, log store and time base.
struct Setup {
    dir: tempfile::TempDir,
    /// Line `n` is stamped `base_ns + n ms`.
    base_ns: i64,
}

impl Setup {
    fn new() -> Setup {
        let dir = tempfile::tempdir().expect("a directory");
        std::fs::create_dir(dir.path().join("logs")).expect("a log directory");
        std::fs::write(dir.path().join("loki-config.yaml"), LOKI_CONFIG).expect("written");
        // Far enough in the past that the lines of a long test stay there,
        // well within the store's age limit.
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as i64)
            .unwrap_or(0);
        let base_ns = now / 1000 / MS * 1000 * MS - 3600 * 1000 * MS;
        Setup { dir, base_ns }
    }

    fn log(&self) -> PathBuf {
        self.dir.path().join("logs/app.log")
    }

    fn positions(&self) -> PathBuf {
        self.dir.path().join("positions.yaml")
    }

    /// Starts the log store on `port` (0: a free one), over this test's
    /// storage.
    fn start_store(&self, port: u16) -> (Running, String) {
        start_loki_on(
            &self.dir.path().join("loki-config.yaml"),
            &self.dir.path().join("data"),
            port,
        )
    }

    /// Writes the agent's config: `app.log` only, pushing to `store`,
    /// retrying every 100ms to 2s for as long as a test runs.
    fn agent_config(&self, store: &str) -> PathBuf {
        let config = self.dir.path().join("promtail-config.yaml");
        let text = format!(
            r#"server:
  http_listen_address: 127.0.0.1
  http_listen_port: 0
  grpc_listen_port: 0
positions:
  filename: {positions}
  sync_period: 500ms
clients:
  - url: {store}/loki/api/v1/push
    batchwait: 200ms
    backoff_config:
      min_period: 100ms
      max_period: 2s
      max_retries: 100000
target_config:
  sync_period: 1s
scrape_configs:
  - job_name: reliability
    pipeline_stages:
      - regex:
          expression: '^(?P<timestamp>\S+) \| (?P<log_level>\w+) \| (?P<method>\w+) (?P<uri>\S+) \|'
      - timestamp:
          source: timestamp
          format: RFC3339Nano
    static_configs:
      - targets: [localhost]
        labels:
          job: reliability
          __path__: {log}
"#,
            positions = self.positions().display(),
            log = self.log().display(),
        );
        std::fs::write(&config, text).expect("written");
        config
    }
}

/// Line `seq` in the reference request format, stamped `base_ns + seq ms`
/// and padded to about `size` bytes in its `Requested by` field.
fn line(base_ns: i64, seq: u64, size: usize) -> String {
    let ts = rfc3339_ms(base_ns + seq as i64 * MS);
    let mut line =
        format!("{ts} | INFO | GET /n/{seq} | Requested by: x Status: 200 Duration: 1 ms\n");
    if line.len() < size {
        let pad = "x".repeat(size - line.len());
        line = line.replacen("by: x", &format!("by: x{pad}"), 1);
    }
    line
}

/// `2026-12-05T13:04:05.123Z` for a time in nanoseconds since the epoch.
fn rfc3339_ms(ns: i64) -> String {
    let ms = ns.div_euclid(MS);
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let in_day = secs.rem_euclid(86_400);
    // Days to a civil date (proleptic Gregorian), after Howard Hinnant.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        in_day / 3600,
        in_day / 60 % 60,
        in_day % 60,
        ms.rem_euclid(1000)
    )
}

#[test]
fn timestamps_are_rfc3339() {
    for (ns, text) in [
        (0, "1970-01-01T00:00:00.000Z"),
        (951_782_400_123 * MS, "2000-02-29T00:00:00.123Z"),
        (1_796_475_845_999 * MS, "2026-12-05T13:04:05.999Z"),
    ] {
        assert_eq!(rfc3339_ms(ns), text);
    }
}

/// How the writer rotates the log, every `every` lines.
#[derive(Clone, Copy, Debug)]
enum Rotation {
    None,
    /// `app.log` becomes `app.log.1` (older ones shift up), and the
    /// writer creates `app.log` anew, as logrotate's default.
    Rename {
        every: u64,
    },
    /// `app.log` is copied to `app.log.1` (older ones shift up) and
    /// truncated, as logrotate's `copytruncate`; the writer goes on with
    /// its handle, appending from the start.
    CopyTruncate {
        every: u64,
    },
}

/// A thread appending numbered lines to the log at a steady rate until it
/// is stopped.
struct Writer {
    stop: Arc<AtomicBool>,
    /// How many rotations the writer may make so far: a file rotated
    /// before the agent found it is not the agent's to read.
    may_rotate: Arc<AtomicU32>,
    written: Arc<AtomicU64>,
    thread: Option<JoinHandle<u64>>,
}

/// What a writer writes.
#[derive(Clone, Copy)]
struct WriterConfig {
    lines_per_sec: u64,
    line_size: usize,
    rotation: Rotation,
}

impl Writer {
    fn start(setup: &Setup, config: WriterConfig) -> Writer {
        let stop = Arc::new(AtomicBool::new(false));
        let written = Arc::new(AtomicU64::new(0));
        let path = setup.log();
        let base_ns = setup.base_ns;
        let may_rotate = Arc::new(AtomicU32::new(0));
        let flags = (stop.clone(), may_rotate.clone());
        let count = written.clone();
        let thread =
            std::thread::spawn(move || write_lines(&path, base_ns, config, &flags, &count));
        Writer {
            stop,
            may_rotate,
            written,
            thread: Some(thread),
        }
    }

    /// Lets the writer rotate as often as its config says.
    fn allow_rotation(&self) {
        self.may_rotate.store(u32::MAX, Ordering::SeqCst);
    }

    /// Lets the writer rotate once more, as soon as its config allows.
    fn rotate_once(&self) {
        self.may_rotate.fetch_add(1, Ordering::SeqCst);
    }

    fn written(&self) -> u64 {
        self.written.load(Ordering::SeqCst)
    }

    /// Stops the writer; returns how many lines it wrote.
    fn finish(mut self) -> u64 {
        self.stop.store(true, Ordering::SeqCst);
        self.thread
            .take()
            .expect("running")
            .join()
            .expect("the writer does not panic")
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn open_log(path: &Path) -> File {
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .expect("the log opens")
}

fn write_lines(
    path: &Path,
    base_ns: i64,
    config: WriterConfig,
    (stop, may_rotate): &(Arc<AtomicBool>, Arc<AtomicU32>),
    written: &AtomicU64,
) -> u64 {
    let mut file = open_log(path);
    let started = Instant::now();
    let mut seq = 0u64;
    let mut rotations = 0u32;
    let mut rotated_at = 0u64;
    while !stop.load(Ordering::SeqCst) {
        // Lines due by now, in one write: a steady rate however late the
        // thread is woken.
        let due =
            (started.elapsed().as_micros() as u64 * config.lines_per_sec / 1_000_000).max(seq + 1);
        let mut chunk = String::new();
        while seq < due {
            chunk.push_str(&line(base_ns, seq, config.line_size));
            seq += 1;
            let every = match config.rotation {
                Rotation::None => u64::MAX,
                Rotation::Rename { every } | Rotation::CopyTruncate { every } => every,
            };
            if seq - rotated_at >= every && rotations < may_rotate.load(Ordering::SeqCst) {
                rotated_at = seq;
                file.write_all(chunk.as_bytes()).expect("a write");
                chunk.clear();
                rotations += 1;
                rotate(path, &mut file, config.rotation, rotations);
            }
        }
        file.write_all(chunk.as_bytes()).expect("a write");
        written.store(seq, Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(5));
    }
    seq
}

/// Rotates the log for the `n`th time, the way logrotate does.
fn rotate(path: &Path, file: &mut File, rotation: Rotation, n: u32) {
    let rotated = |k: u32| PathBuf::from(format!("{}.{k}", path.display()));
    // Shift the older rotations up, oldest first.
    for k in (1..n).rev() {
        std::fs::rename(rotated(k), rotated(k + 1)).expect("a rotated file shifts");
    }
    match rotation {
        Rotation::None => {}
        Rotation::Rename { .. } => {
            std::fs::rename(path, rotated(1)).expect("the log is renamed");
            *file = open_log(path);
        }
        Rotation::CopyTruncate { .. } => {
            // The writer is this thread: nothing is written between the
            // copy and the truncation.
            std::fs::copy(path, rotated(1)).expect("the log is copied");
            file.set_len(0).expect("the log is truncated");
        }
    }
}

/// How often each of the first `n` sequence numbers is in the store.
fn stored(url: &str, setup: &Setup, n: u64) -> BTreeMap<u64, u32> {
    // Lines per query: a window of their times.
    const WINDOW: u64 = 20_000;
    let seq = regex::Regex::new(r" GET /n/(\d+) ").expect("a regex");
    let client = reqwest::Client::new();
    let mut seen = BTreeMap::new();
    runtime().block_on(async {
        let mut first = 0;
        while first < n {
            // Half a millisecond before each line's time, so that each
            // line is in one window whichever end is inclusive.
            let start = setup.base_ns + first as i64 * MS - MS / 2;
            let end = start + WINDOW as i64 * MS;
            let v = query_range(&client, url, r#"{job="reliability"}"#, start, end).await;
            for s in v["data"]["result"].as_array().into_iter().flatten() {
                for e in s["values"].as_array().into_iter().flatten() {
                    let line = e[1].as_str().unwrap_or_default();
                    if let Some(c) = seq.captures(line)
                        && let Ok(k) = c[1].parse::<u64>()
                    {
                        *seen.entry(k).or_insert(0) += 1;
                    }
                }
            }
            first += WINDOW;
        }
    });
    seen
}

/// How many of the first `n` lines the store holds, by a metric query
/// (cheaper than fetching them while waiting).
fn count_stored(url: &str, setup: &Setup, n: u64) -> u64 {
    // Up to half a millisecond before line `n`, over every line before it.
    let at = setup.base_ns + n as i64 * MS - MS / 2;
    let range_ms = n + 1000;
    let query = format!(r#"sum(count_over_time({{job="reliability"}}[{range_ms}ms]))"#);
    let body = runtime().block_on(async {
        reqwest::Client::new()
            .get(format!("{url}/loki/api/v1/query"))
            .query(&[("query", query.as_str()), ("time", at.to_string().as_str())])
            .send()
            .await
            .expect("answered")
            .text()
            .await
            .expect("a body")
    });
    let v: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    v["data"]["result"][0]["value"][1]
        .as_str()
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

/// Waits until each of the first `n` lines is in the store (or
/// [`CATCH_UP`] passed), then checks that each is there exactly once.
fn assert_each_once(url: &str, setup: &Setup, n: u64) {
    let deadline = Instant::now() + CATCH_UP;
    loop {
        let have = count_stored(url, setup, n);
        if have >= n || Instant::now() >= deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    let seen = stored(url, setup, n);
    let missing: Vec<u64> = (0..n).filter(|k| !seen.contains_key(k)).collect();
    let doubled: Vec<(&u64, &u32)> = seen.iter().filter(|(_, c)| **c != 1).collect();
    let unknown: Vec<&u64> = seen.keys().filter(|k| **k >= n).collect();
    assert!(
        missing.is_empty() && doubled.is_empty() && unknown.is_empty(),
        "of {n} lines, {} missing (first {:?}), {} more than once (first {:?}), {} never written",
        missing.len(),
        &missing[..missing.len().min(10)],
        doubled.len(),
        &doubled[..doubled.len().min(10)],
        unknown.len(),
    );
}

/// The offset the positions file records for `log`, if any.
fn position(setup: &Setup) -> Option<u64> {
    let text = std::fs::read_to_string(setup.positions()).ok()?;
    let log = setup.log().display().to_string();
    text.lines()
        .find(|l| l.trim_start().starts_with(&log) && l.contains(':'))
        .and_then(|l| l.rsplit(':').next())
        .and_then(|v| v.trim().trim_matches('"').parse().ok())
}

/// Polls `check` every 50ms until it holds or `timeout` passes.
fn wait_for(what: &str, timeout: Duration, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting: {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The peak resident set of a process, from `/proc`.
fn peak_rss_bytes(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("a live process");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .expect("VmHWM")
        * 1024
}

/// A SIGKILL of the agent while lines are written: the restarted agent
/// goes on from the saved positions, re-sending at most what was not yet
/// recorded, which the store drops as exact duplicates.
#[test]
fn a_sigkilled_agent_restarts_and_every_line_arrives_once() {
    sigkill_loses_nothing(Rotation::None);
}

/// The same, with the file renamed away while no agent runs: the new one
/// finishes the renamed file from the saved position, then reads the new
/// one.
#[test]
fn a_file_renamed_while_the_agent_is_down_is_finished_after_a_restart() {
    sigkill_loses_nothing(Rotation::Rename { every: 1 });
}

/// The same, with the file copied and truncated while no agent runs: the
/// new one finds the copy by its first bytes.
#[test]
fn a_file_copytruncated_while_the_agent_is_down_is_finished_after_a_restart() {
    sigkill_loses_nothing(Rotation::CopyTruncate { every: 1 });
}

/// A SIGKILL of the agent while lines are written, and `rotation` once
/// while it is down.
fn sigkill_loses_nothing(rotation: Rotation) {
    let setup = Setup::new();
    let (_store, url) = setup.start_store(0);
    let config = setup.agent_config(&url);
    let (mut agent, _) = start_agent(&config);
    let writer = Writer::start(
        &setup,
        WriterConfig {
            lines_per_sec: 2000,
            line_size: 0,
            rotation,
        },
    );
    // Mid-stream: some lines acknowledged and their position saved, more
    // being written.
    wait_for("a saved position", Duration::from_secs(60), || {
        position(&setup).is_some_and(|p| p > 0)
    });
    wait_for("more lines", Duration::from_secs(60), || {
        writer.written() >= 3000
    });
    let killed_at = writer.written();
    agent.kill();
    let saved = position(&setup).unwrap_or(0);
    // Lines written while no agent runs (and a rotation, if any), then by
    // the new one.
    if !matches!(rotation, Rotation::None) {
        writer.rotate_once();
        let rotated = PathBuf::from(format!("{}.1", setup.log().display()));
        wait_for("the rotation", Duration::from_secs(60), || rotated.exists());
    }
    let restart_at = writer.written() + 300;
    wait_for(
        "lines while the agent is down",
        Duration::from_secs(60),
        || writer.written() >= restart_at,
    );
    let (_agent, _) = start_agent(&config);
    wait_for("lines after the restart", Duration::from_secs(60), || {
        writer.written() >= killed_at + 4000
    });
    let n = writer.finish();
    assert_each_once(&url, &setup, n);
    eprintln!(
        "{n} lines; killed after {killed_at} at saved offset {saved}; \
         the store received {} lines and dropped {} as sent again",
        metric(&url, "loki_distributor_lines_received_total"),
        metric(&url, "vigil_loki_duplicates_dropped ")
    );
}

/// The log store down for 30 s while 1 KiB lines are written at 2 MiB/s:
/// the agent stops reading (back-pressure) instead of queueing, so its
/// memory stays bounded, and once the store is back every line arrives,
/// once.
#[test]
fn the_store_down_for_30s_loses_nothing_and_the_agent_stays_small() {
    // What the agent may read ahead of the store while it is down: the
    // batch being filled and the two queued behind it (`batchsize`, 1 MiB
    // each) plus what the tailer and pipeline hold; 8 MiB leaves room.
    const READ_AHEAD_BOUND: u64 = 8 << 20;
    // Its peak memory: a debug build's code and runtime (27 MiB here)
    // plus that read-ahead, with a margin. Less than what is written
    // during the outage, so an agent that queued it would go over.
    const RSS_BOUND: u64 = 48 << 20;
    const OUTAGE: Duration = Duration::from_secs(30);
    const LINE: usize = 1024;
    let setup = Setup::new();
    let (mut store, url) = setup.start_store(0);
    let port: u16 = url
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("a port");
    let config = setup.agent_config(&url);
    let (agent, agent_url) = start_agent(&config);
    let writer = Writer::start(
        &setup,
        WriterConfig {
            lines_per_sec: 2048,
            line_size: LINE,
            rotation: Rotation::None,
        },
    );
    wait_for("lines acknowledged", Duration::from_secs(60), || {
        position(&setup).is_some_and(|p| p > 0)
    });
    store.kill();
    let read_before = read_bytes(&agent_url);
    let down_at = writer.written();
    std::thread::sleep(OUTAGE);
    let during = writer.written() - down_at;
    let read_ahead = read_bytes(&agent_url) - read_before;
    let (_store, _) = setup.start_store(port);
    let n = writer.finish();
    eprintln!(
        "{n} lines, {during} of them ({} MiB) while the store was down; \
         the agent read {} KiB of them meanwhile",
        (during * LINE as u64) >> 20,
        read_ahead >> 10
    );
    assert!(
        during * LINE as u64 > RSS_BOUND,
        "too little written during the outage to show a queue: {during} lines"
    );
    assert!(
        read_ahead < READ_AHEAD_BOUND,
        "the agent read {} KiB while the store was down",
        read_ahead >> 10
    );
    assert_each_once(&url, &setup, n);
    let peak = peak_rss_bytes(agent.pid());
    eprintln!("the agent's peak RSS: {} MiB", peak >> 20);
    assert!(
        peak < RSS_BOUND,
        "the agent's peak RSS {} MiB is over {} MiB",
        peak >> 20,
        RSS_BOUND >> 20
    );
}

/// The bytes the agent has read of its one file, from its `/metrics`.
fn read_bytes(agent: &str) -> u64 {
    metric(agent, "promtail_read_bytes_total{") as u64
}

/// The value of the first sample in `server`'s `/metrics` whose line
/// starts with `prefix`.
fn metric(server: &str, prefix: &str) -> f64 {
    let text = common::metrics_text(server);
    text.lines()
        .find(|l| l.starts_with(prefix))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or_else(|| panic!("no {prefix} in\n{text}"))
}

/// Rotations under continuous writing: the agent reads each rotated file
/// to its end and the new one from its start.
///
/// A rotation every 2 s (4000 lines at 2000/s) leaves the tailer, which
/// looks for rotations every 250 ms as Promtail's does, time to see each
/// generation even on a loaded machine: a generation rotated away before
/// the tailer ever looked at the path is out of its reach (Promtail's too;
/// rotating every 150 ms loses them here).
fn rotation_loses_nothing(rotation: Rotation) {
    let setup = Setup::new();
    let (_store, url) = setup.start_store(0);
    let config = setup.agent_config(&url);
    let (_agent, _) = start_agent(&config);
    let writer = Writer::start(
        &setup,
        WriterConfig {
            lines_per_sec: 2000,
            line_size: 0,
            rotation,
        },
    );
    // Rotate only once the agent tails the file: a file rotated away
    // before it was found is out of the glob's reach, for Promtail too.
    wait_for("the agent tails the log", Duration::from_secs(60), || {
        position(&setup).is_some_and(|p| p > 0)
    });
    writer.allow_rotation();
    let rotated = || {
        std::fs::read_dir(setup.dir.path().join("logs"))
            .map(|d| d.count().saturating_sub(1))
            .unwrap_or(0)
    };
    wait_for("five rotations", Duration::from_secs(90), || rotated() >= 5);
    let n = writer.finish();
    eprintln!("{n} lines, {} rotations", rotated());
    assert_each_once(&url, &setup, n);
}

#[test]
fn rotation_by_rename_loses_and_duplicates_nothing() {
    rotation_loses_nothing(Rotation::Rename { every: 4000 });
}

#[test]
fn rotation_by_copytruncate_loses_and_duplicates_nothing() {
    rotation_loses_nothing(Rotation::CopyTruncate { every: 4000 });
}
