//! Process metrics as the Python client exports them on Linux, read from
//! `/proc` at scrape time.

use std::fs;

use crate::registry::{Collector, FamilySnapshot, MetricKind, MetricSnapshot, MetricValue};

/// Collects `process_*` metrics of the current process.
#[derive(Debug, Default)]
pub struct ProcessCollector;

/// The family names this collector produces, for registration.
pub const PROCESS_FAMILIES: [&str; 6] = [
    "process_virtual_memory_bytes",
    "process_resident_memory_bytes",
    "process_start_time_seconds",
    "process_cpu_seconds",
    "process_open_fds",
    "process_max_fds",
];

/// The fields of `/proc/self/stat` we need.
struct Stat {
    utime_ticks: f64,
    stime_ticks: f64,
    start_ticks: f64,
    vsize_bytes: f64,
    rss_pages: f64,
}

fn read_stat() -> Option<Stat> {
    let text = fs::read_to_string("/proc/self/stat").ok()?;
    // The command name is in parentheses and may itself hold spaces or
    // parentheses: fields are counted from the last `)`.
    let after_name = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // after_name starts at field 3 (state); field N is fields[N - 3].
    let field = |n: usize| fields.get(n - 3)?.parse::<f64>().ok();
    Some(Stat {
        utime_ticks: field(14)?,
        stime_ticks: field(15)?,
        start_ticks: field(22)?,
        vsize_bytes: field(23)?,
        rss_pages: field(24)?,
    })
}

fn boot_time_seconds() -> Option<f64> {
    let text = fs::read_to_string("/proc/stat").ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("btime ")?.trim().parse().ok())
}

fn open_fds() -> Option<f64> {
    Some(fs::read_dir("/proc/self/fd").ok()?.count() as f64)
}

fn max_fds() -> Option<f64> {
    let text = fs::read_to_string("/proc/self/limits").ok()?;
    let line = text.lines().find(|l| l.starts_with("Max open files"))?;
    let soft = line
        .trim_start_matches("Max open files")
        .split_whitespace()
        .next()?;
    // "unlimited" has no number; the Python client skips the metric then.
    soft.parse().ok()
}

fn single(
    out: &mut Vec<FamilySnapshot>,
    name: &str,
    help: &str,
    kind: MetricKind,
    value: Option<f64>,
) {
    if let Some(value) = value {
        out.push(FamilySnapshot {
            name: name.to_owned(),
            help: help.to_owned(),
            kind,
            metrics: vec![MetricSnapshot {
                labels: Vec::new(),
                value: MetricValue::Single(value),
                created: None,
            }],
        });
    }
}

impl Collector for ProcessCollector {
    fn collect(&self, out: &mut Vec<FamilySnapshot>) {
        let ticks = rustix::param::clock_ticks_per_second() as f64;
        let page_size = rustix::param::page_size() as f64;
        let stat = read_stat();
        let g = MetricKind::Gauge;
        single(
            out,
            "process_virtual_memory_bytes",
            "Virtual memory size in bytes.",
            g,
            stat.as_ref().map(|s| s.vsize_bytes),
        );
        single(
            out,
            "process_resident_memory_bytes",
            "Resident memory size in bytes.",
            g,
            stat.as_ref().map(|s| s.rss_pages * page_size),
        );
        single(
            out,
            "process_start_time_seconds",
            "Start time of the process since unix epoch in seconds.",
            g,
            stat.as_ref()
                .zip(boot_time_seconds())
                .map(|(s, boot)| boot + s.start_ticks / ticks),
        );
        single(
            out,
            // Named as both clients name it; the Python layouts print
            // `process_cpu_seconds_total` either way.
            "process_cpu_seconds_total",
            "Total user and system CPU time spent in seconds.",
            MetricKind::Counter,
            stat.as_ref()
                .map(|s| (s.utime_ticks + s.stime_ticks) / ticks),
        );
        single(
            out,
            "process_open_fds",
            "Number of open file descriptors.",
            g,
            open_fds(),
        );
        single(
            out,
            "process_max_fds",
            "Maximum number of open file descriptors.",
            g,
            max_fds(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_plausible_values_of_this_process() {
        let mut out = Vec::new();
        ProcessCollector.collect(&mut out);
        let value = |name: &str| {
            let family = out
                .iter()
                .find(|f| f.name == name)
                .unwrap_or_else(|| panic!("{name} missing"));
            match family.metrics[0].value {
                MetricValue::Single(v) => v,
                _ => panic!("{name} is not a single value"),
            }
        };
        assert!(value("process_resident_memory_bytes") > 1e5);
        assert!(value("process_virtual_memory_bytes") >= value("process_resident_memory_bytes"));
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs_f64();
        let start = value("process_start_time_seconds");
        assert!(
            start <= now + 1.0 && start > now - 3600.0,
            "start {start}, now {now}"
        );
        assert!(value("process_cpu_seconds_total") >= 0.0);
        assert!(value("process_open_fds") >= 3.0);
        assert!(value("process_max_fds") >= value("process_open_fds"));
    }
}
