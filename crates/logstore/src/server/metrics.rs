//! The log store's own `/metrics`: what was received, discarded and
//! queried, under Loki's metric names where Loki has one, plus the
//! process metrics.

use std::sync::Arc;

use instrument::{Counter, Family, Registry, RegistryError};
use logql::eval::Stats;

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
    pub(crate) fn new() -> Result<Self, RegistryError> {
        let registry = Arc::new(Registry::new());
        registry.register(
            &instrument::PROCESS_FAMILIES,
            Arc::new(instrument::ProcessCollector),
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
