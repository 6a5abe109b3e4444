//! The log generator: fake request and function lines, like the reference
//! `log_generator.py`, in the formats of [`crate::lines`].
//!
//! Each tick writes either a request line (to `logs.log` and
//! `requests.log`) or a function line (to `logs.log` only). With a rate it
//! becomes a benchmark of the log pipeline: it writes as fast as asked and
//! reports the rate it achieved.

use std::future::Future;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use chrono::Utc;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use serde::Serialize;

use crate::DemoError;
use crate::lines::{AppLine, RequestLine};
use crate::logfile::{LogFile, LogFileOptions, LogSender};

const LEVELS: [&str; 3] = ["INFO", "WARNING", "ERROR"];
const METHODS: [&str; 4] = ["GET", "POST", "PUT", "DELETE"];
const URIS: [&str; 3] = ["api/vi/foo", "api/vi/bar", "api/vi/buz"];
const STATUSES: [u16; 3] = [200, 400, 500];
const MODULES: [&str; 3] = ["module_1", "module_2", "module_3"];
const FUNCTIONS: [&str; 3] = ["function_1", "function_2", "function_3"];

/// How the generator runs.
#[derive(Debug, Clone)]
pub struct LoggenConfig {
    /// Directory of `logs.log` and `requests.log`.
    pub dir: PathBuf,
    /// Time between lines (ignored when `rate` is set).
    pub interval: Duration,
    /// Stop after this many ticks; `None` runs until shut down.
    pub count: Option<u64>,
    /// Benchmark mode: ticks per second, as fast as asked.
    pub rate: Option<f64>,
    /// Seed of the random choices, for reproducible content.
    pub seed: Option<u64>,
    /// Rotation of both files.
    pub log_file: LogFileOptions,
}

impl Default for LoggenConfig {
    fn default() -> Self {
        Self {
            dir: PathBuf::from("logs"),
            interval: Duration::from_secs(1),
            count: None,
            rate: None,
            seed: None,
            log_file: LogFileOptions::default(),
        }
    }
}

/// What a run wrote.
#[derive(Debug, Clone, Serialize)]
pub struct LoggenReport {
    /// Ticks done (one line each in `logs.log`).
    pub lines: u64,
    /// Of which request lines (also in `requests.log`).
    pub request_lines: u64,
    /// Wall time, seconds.
    pub seconds: f64,
    /// Ticks per second achieved.
    pub lines_per_second: f64,
}

/// Writes lines until `config.count` is reached or `shutdown` resolves.
pub async fn run(
    config: &LoggenConfig,
    shutdown: impl Future<Output = ()>,
) -> Result<LoggenReport, DemoError> {
    let open = |name: &str| {
        let path = config.dir.join(name);
        LogFile::open(&path, config.log_file.clone())
            .map_err(|source| DemoError::LogFile { path, source })
    };
    let logs = open("logs.log")?;
    let requests = open("requests.log")?;
    let (to_logs, to_requests) = (logs.sender(), requests.sender());
    let mut rng = match config.seed {
        Some(seed) => StdRng::seed_from_u64(seed),
        None => StdRng::from_os_rng(),
    };
    let started = Instant::now();
    let mut lines = 0u64;
    let mut request_lines = 0u64;
    tokio::pin!(shutdown);
    while config.count.is_none_or(|n| lines < n) {
        // Pace: in rate mode, line `lines` is due at `lines / rate` seconds.
        let due = match config.rate {
            Some(rate) => started + Duration::from_secs_f64(lines as f64 / rate),
            None if lines == 0 => started,
            None => Instant::now() + config.interval,
        };
        if due > Instant::now() {
            tokio::select! {
                () = tokio::time::sleep_until(due.into()) => {}
                () = &mut shutdown => break,
            }
        }
        if write_tick(&mut rng, &to_logs, &to_requests).await {
            request_lines += 1;
        }
        lines += 1;
    }
    logs.close().await.map_err(DemoError::Flush)?;
    requests.close().await.map_err(DemoError::Flush)?;
    let seconds = started.elapsed().as_secs_f64();
    Ok(LoggenReport {
        lines,
        request_lines,
        seconds,
        lines_per_second: if seconds > 0.0 {
            lines as f64 / seconds
        } else {
            0.0
        },
    })
}

/// Writes one fake line; returns whether it was a request line.
async fn write_tick(rng: &mut StdRng, logs: &LogSender, requests: &LogSender) -> bool {
    let pick = |rng: &mut StdRng, choices: &[&'static str]| *choices.choose(rng).unwrap_or(&"");
    let level = pick(rng, &LEVELS);
    if rng.random_bool(0.5) {
        let line = RequestLine {
            at: Utc::now(),
            level,
            method: pick(rng, &METHODS),
            uri: pick(rng, &URIS),
            requested_by: "Undefined",
            status: *STATUSES.choose(rng).unwrap_or(&200),
            duration_ms: rng.random_range(100..=1500),
        }
        .render();
        logs.write(line.clone()).await;
        requests.write(line).await;
        true
    } else {
        let function = pick(rng, &FUNCTIONS);
        let message = format!("Fake log message from {function}");
        let line = AppLine {
            at: Utc::now(),
            level,
            module: pick(rng, &MODULES),
            function,
            message: &message,
        }
        .render();
        logs.write(line).await;
        false
    }
}

/// The log generator as a component: a task writing lines until it wrote
/// its count (then its fault trips as "finished") or is shut down; the
/// shutdown flushes both files and returns the [`LoggenReport`].
pub struct Loggen(lifecycle::Worker<Result<LoggenReport, DemoError>>);

impl lifecycle::Component for Loggen {
    type Config = LoggenConfig;
    type Report = LoggenReport;
    type Error = DemoError;

    async fn start(config: LoggenConfig) -> Result<Self, DemoError> {
        Ok(Loggen(lifecycle::Worker::start(
            "the log generator",
            "lines",
            |stop| async move { run(&config, stop.cancelled_owned()).await },
        )))
    }

    /// Nothing to re-read: the generator has no config file.
    async fn reload(&self) -> Result<(), DemoError> {
        Ok(())
    }

    fn fault(&self) -> &lifecycle::Fault {
        self.0.fault()
    }

    async fn shutdown(self) -> Result<LoggenReport, DemoError> {
        self.0.stop().await?
    }
}
