//! The log store's own `/metrics`: what was received, discarded and
//! queried, under Loki's metric names where Loki has one, plus the
//! process metrics.

use std::sync::Arc;

use instrument::{
    Collector, Counter, Family, FamilySnapshot, MetricKind, MetricSnapshot, MetricValue, Registry,
    RegistryError,
};
use logql::eval::Stats;

use crate::storage::Storage;

/// The counters the handlers update.
pub(crate) struct Metrics {
    pub(crate) registry: Arc<Registry>,
    lines_received: Arc<Family<Counter>>,
    bytes_received: Arc<Family<Counter>>,
    discarded_samples: Arc<Family<Counter>>,
    discarded_bytes: Arc<Family<Counter>>,
    queries: Arc<Family<Counter>>,
    lines_processed: Arc<Family<Counter>>,
    bytes_processed: Arc<Family<Counter>>,
}

impl Metrics {
    pub(crate) fn new(storage: Arc<Storage>) -> Result<Self, RegistryError> {
        let registry = Arc::new(Registry::new());
        registry.register(
            &instrument::PROCESS_FAMILIES,
            Arc::new(instrument::ProcessCollector),
        )?;
        registry.register(
            &StorageCollector::FAMILIES,
            Arc::new(StorageCollector(storage)),
        )?;
        Ok(Self {
            lines_received: registry.counter(
                "loki_distributor_lines_received_total",
                "The total number of lines received per tenant.",
                &["tenant"],
            )?,
            bytes_received: registry.counter(
                "loki_distributor_bytes_received_total",
                "The total number of uncompressed line bytes received per tenant.",
                &["tenant"],
            )?,
            discarded_samples: registry.counter(
                "loki_discarded_samples_total",
                "The total number of samples that were discarded.",
                &["reason", "tenant"],
            )?,
            discarded_bytes: registry.counter(
                "loki_discarded_bytes_total",
                "The total number of bytes that were discarded.",
                &["reason", "tenant"],
            )?,
            queries: registry.counter("vigil_loki_queries_total", "Queries evaluated.", &[])?,
            lines_processed: registry.counter(
                "vigil_loki_query_lines_processed_total",
                "Entries read by queries.",
                &[],
            )?,
            bytes_processed: registry.counter(
                "vigil_loki_query_bytes_processed_total",
                "Line bytes read by queries.",
                &[],
            )?,
            registry,
        })
    }

    pub(crate) fn received(&self, tenant: &str, lines: usize, bytes: usize) {
        self.lines_received
            .with_labels(&[tenant])
            .inc_by(lines as f64);
        self.bytes_received
            .with_labels(&[tenant])
            .inc_by(bytes as f64);
    }

    pub(crate) fn discarded(&self, reason: &str, tenant: &str, lines: usize, bytes: usize) {
        self.discarded_samples
            .with_labels(&[reason, tenant])
            .inc_by(lines as f64);
        self.discarded_bytes
            .with_labels(&[reason, tenant])
            .inc_by(bytes as f64);
    }

    pub(crate) fn query(&self, read: Stats) {
        self.queries.with_labels(&[]).inc();
        self.lines_processed
            .with_labels(&[])
            .inc_by(read.lines_processed as f64);
        self.bytes_processed
            .with_labels(&[])
            .inc_by(read.bytes_processed as f64);
    }
}

/// The storage's own figures, read at each scrape.
struct StorageCollector(Arc<Storage>);

impl StorageCollector {
    const FAMILIES: [&'static str; 7] = [
        "loki_ingester_memory_streams",
        "loki_ingester_chunks_flushed_total",
        "vigil_loki_lines_appended_total",
        "vigil_loki_duplicates_dropped_total",
        "vigil_loki_entries_rejected_total",
        "vigil_loki_chunk_bytes_on_disk",
        "vigil_loki_wal_bytes",
    ];
}

impl Collector for StorageCollector {
    fn collect(&self, out: &mut Vec<FamilySnapshot>) {
        let m = self.0.metrics();
        let [
            streams,
            flushed,
            appended,
            duplicates,
            rejected,
            chunk_bytes,
            wal_bytes,
        ] = Self::FAMILIES;
        for (name, help, kind, value) in [
            (
                streams,
                "The streams known, across tenants.",
                MetricKind::Gauge,
                m.streams,
            ),
            (
                flushed,
                "Chunk files written.",
                MetricKind::Counter,
                m.chunks_flushed,
            ),
            (
                appended,
                "Entries stored.",
                MetricKind::Counter,
                m.lines_appended,
            ),
            (
                duplicates,
                "Exact duplicates dropped.",
                MetricKind::Counter,
                m.duplicates_dropped,
            ),
            (
                rejected,
                "Entries refused as too far behind.",
                MetricKind::Counter,
                m.entries_rejected,
            ),
            (
                chunk_bytes,
                "Bytes of chunk files on disk.",
                MetricKind::Gauge,
                m.chunk_bytes_on_disk,
            ),
            (
                wal_bytes,
                "Bytes of write-ahead log on disk.",
                MetricKind::Gauge,
                m.wal_bytes,
            ),
        ] {
            out.push(FamilySnapshot {
                name: name.strip_suffix("_total").unwrap_or(name).into(),
                help: help.into(),
                kind,
                metrics: vec![MetricSnapshot {
                    labels: Vec::new(),
                    value: MetricValue::Single(value as f64),
                    created: None,
                }],
            });
        }
    }
}
