//! The client's metrics, named, labelled and described as Promtail 2.8's.

use std::sync::Arc;

use instrument::{Counter, Family, Histogram, Registry, RegistryError};

/// Why entries were dropped: the `reason` label, as Promtail names them.
pub mod reason {
    /// The store refused the batch, or it could not be sent or encoded.
    pub const INGESTER_ERROR: &str = "ingester_error";
    /// The store answered 429 to the last attempt.
    pub const RATE_LIMITED: &str = "rate_limited";
    /// The batch already held `max_streams` streams.
    pub const STREAM_LIMITED: &str = "stream_limited";
    /// The line was longer than `max_line_size`.
    pub const LINE_TOO_LONG: &str = "line_too_long";
    /// Every reason, each present at 0 once a tenant has a batch.
    pub const ALL: [&str; 4] = [INGESTER_ERROR, RATE_LIMITED, STREAM_LIMITED, LINE_TOO_LONG];
}

/// Prometheus' default histogram buckets, which Promtail's request
/// duration uses.
const DURATION_BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The `promtail_*` families every client counts into, registered once
/// and shared (the `host` label tells the clients apart, as in Promtail).
///
/// The families are public so that other parts of the agent count into
/// the same ones (the tailer's `line_too_long` drops, if it checks line
/// sizes itself).
#[derive(Clone)]
pub struct ClientMetrics {
    /// `promtail_batch_retries_total{host,tenant}`.
    pub batch_retries: Arc<Family<Counter>>,
    /// `promtail_dropped_bytes_total{host,reason,tenant}`.
    pub dropped_bytes: Arc<Family<Counter>>,
    /// `promtail_dropped_entries_total{host,reason,tenant}`.
    pub dropped_entries: Arc<Family<Counter>>,
    /// `promtail_encoded_bytes_total{host}`: compressed bytes of batches.
    pub encoded_bytes: Arc<Family<Counter>>,
    /// `promtail_mutated_bytes_total{host,reason,tenant}`.
    pub mutated_bytes: Arc<Family<Counter>>,
    /// `promtail_mutated_entries_total{host,reason,tenant}`.
    pub mutated_entries: Arc<Family<Counter>>,
    /// `promtail_request_duration_seconds{host,status_code}`; `-1` is the
    /// code of a request that got no answer.
    pub request_duration: Arc<Family<Histogram>>,
    /// `promtail_sent_bytes_total{host}`: compressed bytes acknowledged.
    pub sent_bytes: Arc<Family<Counter>>,
    /// `promtail_sent_entries_total{host}`.
    pub sent_entries: Arc<Family<Counter>>,
}

/// The family names [`ClientMetrics`] registers (counters without
/// `_total`).
pub const CLIENT_FAMILIES: [&str; 9] = [
    "promtail_batch_retries",
    "promtail_dropped_bytes",
    "promtail_dropped_entries",
    "promtail_encoded_bytes",
    "promtail_mutated_bytes",
    "promtail_mutated_entries",
    "promtail_request_duration_seconds",
    "promtail_sent_bytes",
    "promtail_sent_entries",
];

impl ClientMetrics {
    /// Registers the families in `registry`, in name order as Go's
    /// registry prints them.
    pub fn new(registry: &Registry) -> Result<Self, RegistryError> {
        const HOST_TENANT_REASON: &[&str] = &["host", "reason", "tenant"];
        Ok(Self {
            batch_retries: registry.counter(
                "promtail_batch_retries_total",
                "Number of times batches has had to be retried.",
                &["host", "tenant"],
            )?,
            dropped_bytes: registry.counter(
                "promtail_dropped_bytes_total",
                "Number of bytes dropped because failed to be sent to the ingester after all retries.",
                HOST_TENANT_REASON,
            )?,
            dropped_entries: registry.counter(
                "promtail_dropped_entries_total",
                "Number of log entries dropped because failed to be sent to the ingester after all retries.",
                HOST_TENANT_REASON,
            )?,
            encoded_bytes: registry.counter(
                "promtail_encoded_bytes_total",
                "Number of bytes encoded and ready to send.",
                &["host"],
            )?,
            mutated_bytes: registry.counter(
                "promtail_mutated_bytes_total",
                "The total number of bytes that have been mutated.",
                HOST_TENANT_REASON,
            )?,
            mutated_entries: registry.counter(
                "promtail_mutated_entries_total",
                "The total number of log entries that have been mutated.",
                HOST_TENANT_REASON,
            )?,
            request_duration: registry.histogram(
                "promtail_request_duration_seconds",
                "Duration of send requests.",
                &["host", "status_code"],
                &DURATION_BUCKETS,
            )?,
            sent_bytes: registry.counter(
                "promtail_sent_bytes_total",
                "Number of bytes sent.",
                &["host"],
            )?,
            sent_entries: registry.counter(
                "promtail_sent_entries_total",
                "Number of log entries sent to the ingester.",
                &["host"],
            )?,
        })
    }

    /// What Promtail shows for a client as it starts: its per-host
    /// counters at 0.
    pub(crate) fn init_host(&self, host: &str) {
        for family in [&self.encoded_bytes, &self.sent_bytes, &self.sent_entries] {
            family.with_labels(&[host]);
        }
    }

    /// What Promtail shows once a tenant has a batch: every reason of the
    /// per-tenant counters at 0.
    pub(crate) fn init_tenant(&self, host: &str, tenant: &str) {
        for family in [
            &self.dropped_bytes,
            &self.dropped_entries,
            &self.mutated_entries,
            &self.mutated_bytes,
        ] {
            for reason in reason::ALL {
                family.with_labels(&[host, reason, tenant]);
            }
        }
        self.batch_retries.with_labels(&[host, tenant]);
    }

    /// Counts entries dropped for `why`.
    pub(crate) fn dropped(
        &self,
        host: &str,
        tenant: &str,
        why: &str,
        entries: usize,
        bytes: usize,
    ) {
        self.dropped_entries
            .with_labels(&[host, why, tenant])
            .inc_by(entries as f64);
        self.dropped_bytes
            .with_labels(&[host, why, tenant])
            .inc_by(bytes as f64);
    }
}
