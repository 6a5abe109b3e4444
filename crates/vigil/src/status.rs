//! `vigil up`'s live status line: targets up, samples and log lines per
//! second, disk used, refreshed every few seconds while stdout is a
//! terminal (and never printed otherwise). The numbers come from the
//! components in this process, never over HTTP.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use lifecycle::CancellationToken;

/// How often the line is refreshed.
const EVERY: Duration = Duration::from_secs(3);

/// Where each number is read.
pub(crate) struct Probes {
    /// Targets up, and targets scraped.
    pub(crate) targets: Box<dyn Fn() -> (usize, usize) + Send + Sync>,
    /// Samples appended to the metrics storage so far.
    pub(crate) samples: Box<dyn Fn() -> u64 + Send + Sync>,
    /// Log lines the log store received so far.
    pub(crate) log_lines: Box<dyn Fn() -> u64 + Send + Sync>,
    /// The data directory, whose size is the disk used.
    pub(crate) data_dir: PathBuf,
}

/// One reading of the counters.
#[derive(Debug, Clone, Copy)]
struct Reading {
    at: Instant,
    samples: u64,
    log_lines: u64,
}

/// Starts refreshing the line until `stop`, when stdout is a terminal.
pub(crate) fn spawn(
    probes: Probes,
    stop: CancellationToken,
) -> Option<tokio::task::JoinHandle<()>> {
    if !std::io::stdout().is_terminal() {
        return None;
    }
    Some(tokio::spawn(async move {
        let mut last = read(&probes);
        loop {
            tokio::select! {
                () = tokio::time::sleep(EVERY) => {}
                () = stop.cancelled() => break,
            }
            let now = read(&probes);
            let dir = probes.data_dir.clone();
            let disk = tokio::task::spawn_blocking(move || dir_size(&dir))
                .await
                .unwrap_or(0);
            let line = status_line((probes.targets)(), last, now, disk);
            let mut out = std::io::stdout().lock();
            // Rewrites the same terminal line.
            let _ = write!(out, "\r\x1b[2K{line}");
            let _ = out.flush();
            last = now;
        }
        println!();
    }))
}

fn read(probes: &Probes) -> Reading {
    Reading {
        at: Instant::now(),
        samples: (probes.samples)(),
        log_lines: (probes.log_lines)(),
    }
}

/// The line for two readings.
fn status_line(targets: (usize, usize), last: Reading, now: Reading, disk: u64) -> String {
    let seconds = now.at.duration_since(last.at).as_secs_f64().max(1e-3);
    let rate = |a: u64, b: u64| b.saturating_sub(a) as f64 / seconds;
    format!(
        "targets {}/{} up | {:.1} samples/s | {:.1} log lines/s | {} on disk",
        targets.0,
        targets.1,
        rate(last.samples, now.samples),
        rate(last.log_lines, now.log_lines),
        human_bytes(disk)
    )
}

/// Bytes with a 1024-based unit, one decimal.
fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// The size of the files under `dir` (what can be read of it).
fn dir_size(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .filter_map(Result::ok)
        .map(|entry| match entry.file_type() {
            Ok(t) if t.is_dir() => dir_size(&entry.path()),
            Ok(t) if t.is_file() => entry.metadata().map_or(0, |m| m.len()),
            _ => 0,
        })
        .sum()
}

/// The sum of a counter family's children in `registry` (the name with or
/// without `_total`).
pub(crate) fn counter_sum(registry: &instrument::Registry, name: &str) -> u64 {
    let base = name.strip_suffix("_total").unwrap_or(name);
    registry
        .gather()
        .iter()
        .filter(|f| f.name.strip_suffix("_total").unwrap_or(&f.name) == base)
        .flat_map(|f| &f.metrics)
        .map(|m| match m.value {
            instrument::MetricValue::Single(v) => v as u64,
            _ => 0,
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_shows_rates_over_the_interval() {
        let at = Instant::now();
        let last = Reading {
            at,
            samples: 100,
            log_lines: 10,
        };
        let now = Reading {
            at: at + Duration::from_secs(2),
            samples: 300,
            log_lines: 15,
        };
        assert_eq!(
            status_line((2, 3), last, now, 3 << 20),
            "targets 2/3 up | 100.0 samples/s | 2.5 log lines/s | 3.0 MiB on disk"
        );
    }

    #[test]
    fn sizes_read_like_a_person_writes_them() {
        for (bytes, text) in [
            (0, "0 B"),
            (1023, "1023 B"),
            (1536, "1.5 KiB"),
            (5 << 30, "5.0 GiB"),
        ] {
            assert_eq!(human_bytes(bytes), text);
        }
    }

    #[test]
    fn the_disk_used_counts_nested_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("a/b")).unwrap();
        std::fs::write(dir.path().join("x"), [0; 10]).unwrap();
        std::fs::write(dir.path().join("a/b/y"), [0; 5]).unwrap();
        assert_eq!(dir_size(dir.path()), 15);
    }
}
