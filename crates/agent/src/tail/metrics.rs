//! Promtail's file-target metrics, computed at scrape time from the state
//! every tailer keeps anyway, so reading a line touches no metric family.
//!
//! Names, types and help texts are Promtail 2.8's (`targets/file/metrics.go`);
//! a file's series go away when its tailer stops, as Promtail deletes them.
//! No `_created` series: Promtail's Go client prints none.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use instrument::{Collector, FamilySnapshot, MetricKind, MetricSnapshot, MetricValue, Registry};

use crate::entry::LabelSet;

/// What one tailer shares with the metrics and the `/targets` page.
#[derive(Debug, Default)]
pub(crate) struct FileStatus {
    /// The path as matched by the glob.
    pub(crate) path: String,
    /// The labels its entries carry (the target's plus `filename`).
    pub(crate) labels: LabelSet,
    /// End of the last complete line read from the file at the path.
    pub(crate) read_offset: AtomicU64,
    /// End of the longest acknowledged prefix of lines of that file.
    pub(crate) committed: AtomicU64,
    /// The file's size when last looked at.
    pub(crate) size: AtomicU64,
    /// Lines read from the path (rotated files included).
    pub(crate) read_lines: AtomicU64,
    /// Whether the tailer thread is still running.
    pub(crate) running: AtomicBool,
    /// The tailer ended for good (the sink shut down, or the file is
    /// of a kind it cannot read): it is not started again.
    pub(crate) permanent: AtomicBool,
    /// The last error, cleared when reading works again.
    pub(crate) error: Mutex<Option<String>>,
}

impl FileStatus {
    pub(crate) fn new(path: &str, labels: LabelSet) -> Self {
        Self {
            path: path.to_owned(),
            labels,
            running: AtomicBool::new(true),
            ..Self::default()
        }
    }

    pub(crate) fn set_error(&self, error: Option<String>) {
        *self.error.lock().unwrap_or_else(PoisonError::into_inner) = error;
    }

    pub(crate) fn error(&self) -> Option<String> {
        self.error
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// The tail metrics of one agent; register once, share with every
/// [`super::TargetManager`] built on reloads.
#[derive(Default)]
pub struct TailMetrics {
    files: Mutex<Vec<Arc<FileStatus>>>,
    targets_active: AtomicI64,
}

/// The names [`TailMetrics`] registers, a counter's without `_total` as the
/// registry keys counters (it prints `promtail_read_lines_total`).
pub const FAMILIES: [&str; 5] = [
    "promtail_file_bytes_total",
    "promtail_files_active_total",
    "promtail_read_bytes_total",
    "promtail_read_lines",
    "promtail_targets_active_total",
];

impl TailMetrics {
    /// Registers the families in `registry`.
    pub fn register(registry: &Registry) -> Result<Arc<TailMetrics>, instrument::RegistryError> {
        let metrics = Arc::new(TailMetrics::default());
        registry.register(&FAMILIES, metrics.clone())?;
        Ok(metrics)
    }

    /// Metrics that are kept but exported nowhere (tests, `--dry-run`).
    pub fn unregistered() -> Arc<TailMetrics> {
        Arc::new(TailMetrics::default())
    }

    pub(crate) fn add_file(&self, status: Arc<FileStatus>) {
        self.files
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(status);
    }

    pub(crate) fn remove_file(&self, status: &Arc<FileStatus>) {
        self.files
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|s| !Arc::ptr_eq(s, status));
    }

    pub(crate) fn add_targets(&self, delta: i64) {
        self.targets_active.fetch_add(delta, Ordering::Relaxed);
    }
}

fn family(
    name: &str,
    help: &str,
    kind: MetricKind,
    metrics: Vec<MetricSnapshot>,
) -> FamilySnapshot {
    FamilySnapshot {
        name: name.to_owned(),
        help: help.to_owned(),
        kind,
        metrics,
    }
}

fn sample(labels: Vec<(String, String)>, value: f64) -> MetricSnapshot {
    MetricSnapshot {
        labels,
        value: MetricValue::Single(value),
        created: None,
    }
}

impl Collector for TailMetrics {
    fn collect(&self, out: &mut Vec<FamilySnapshot>) {
        // Per path: two targets tailing one path share its series, as they
        // share its position in Promtail.
        let mut by_path: BTreeMap<String, (u64, u64, u64)> = BTreeMap::new();
        let active = {
            let files = self.files.lock().unwrap_or_else(PoisonError::into_inner);
            for f in files.iter() {
                let e = by_path.entry(f.path.clone()).or_default();
                e.0 = e.0.max(f.size.load(Ordering::Relaxed));
                e.1 = e.1.max(f.read_offset.load(Ordering::Relaxed));
                e.2 += f.read_lines.load(Ordering::Relaxed);
            }
            files.len()
        };
        let per_path = |pick: fn(&(u64, u64, u64)) -> u64| {
            by_path
                .iter()
                .map(|(p, v)| sample(vec![("path".to_owned(), p.clone())], pick(v) as f64))
                .collect::<Vec<_>>()
        };
        out.push(family(
            "promtail_file_bytes_total",
            "Number of bytes total.",
            MetricKind::Gauge,
            per_path(|v| v.0),
        ));
        out.push(family(
            "promtail_files_active_total",
            "Number of active files.",
            MetricKind::Gauge,
            vec![sample(Vec::new(), active as f64)],
        ));
        out.push(family(
            "promtail_read_bytes_total",
            "Number of bytes read.",
            MetricKind::Gauge,
            per_path(|v| v.1),
        ));
        out.push(family(
            "promtail_read_lines_total",
            "Number of lines read.",
            MetricKind::Counter,
            per_path(|v| v.2),
        ));
        out.push(family(
            "promtail_targets_active_total",
            "Number of active total.",
            MetricKind::Gauge,
            vec![sample(
                Vec::new(),
                self.targets_active.load(Ordering::Relaxed) as f64,
            )],
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_print_as_promtail_prints_them() {
        let registry = Registry::new();
        let metrics = TailMetrics::register(&registry).unwrap();
        let status = Arc::new(FileStatus::new("/l/a.log", LabelSet::new()));
        status.read_lines.store(5, Ordering::Relaxed);
        status.size.store(520, Ordering::Relaxed);
        status.read_offset.store(520, Ordering::Relaxed);
        metrics.add_file(status.clone());
        metrics.add_targets(1);
        // Values are printed by the registry's encoder (its float style is
        // not this module's business), hence no newline after them here.
        let text = instrument::exposition::encode_text(&registry.gather());
        for want in [
            "# HELP promtail_read_lines_total Number of lines read.\n# TYPE promtail_read_lines_total counter\npromtail_read_lines_total{path=\"/l/a.log\"} 5",
            "# HELP promtail_file_bytes_total Number of bytes total.\n# TYPE promtail_file_bytes_total gauge\npromtail_file_bytes_total{path=\"/l/a.log\"} 520",
            "# HELP promtail_files_active_total Number of active files.\n# TYPE promtail_files_active_total gauge\npromtail_files_active_total 1",
            "# HELP promtail_read_bytes_total Number of bytes read.\n# TYPE promtail_read_bytes_total gauge\npromtail_read_bytes_total{path=\"/l/a.log\"} 520",
            "promtail_targets_active_total 1",
        ] {
            assert!(text.contains(want), "{want}\nin\n{text}");
        }
        assert!(!text.contains("_created"));
        metrics.remove_file(&status);
        let text = instrument::exposition::encode_text(&registry.gather());
        assert!(!text.contains("a.log"));
    }
}
