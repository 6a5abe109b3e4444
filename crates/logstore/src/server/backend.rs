//! What the HTTP API needs of storage: append a validated batch for a
//! tenant, read a tenant's logs through LogQL's seam, flush.
//!
//! [`MemBackend`] keeps everything in memory (a `logql::store::MemStore`
//! per tenant): tests use it, and it is what the API runs on when no
//! durable storage is configured.

use std::collections::HashMap;
use std::sync::{PoisonError, RwLock};

use logql::store::{MemStore, Store, StoreError, Stream};
use model::{Labels, Matcher};

/// One stream of a batch to append, its entries as pushed.
#[derive(Debug, Clone, PartialEq)]
pub struct AppendStream {
    /// The stream's labels, validated.
    pub labels: Labels,
    /// The entries: `(ns, line, structured metadata)`.
    pub entries: Vec<(i64, String, Labels)>,
}

/// An entry the storage refused because it is older than its stream
/// allows (Loki's `entry too far behind`).
#[derive(Debug, Clone, PartialEq)]
pub struct TooFarBehind {
    /// The stream.
    pub labels: Labels,
    /// The refused entry's time.
    pub ts_ns: i64,
    /// The oldest time the stream accepted then.
    pub oldest_acceptable_ns: i64,
}

/// What became of a batch.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AppendOutcome {
    /// Entries stored.
    pub stored: u64,
    /// Exact duplicates dropped silently.
    pub duplicates: u64,
    /// Entries refused for their age.
    pub too_far_behind: Vec<TooFarBehind>,
}

/// Storage as the API uses it.
pub trait Backend: Send + Sync + 'static {
    /// Stores a batch for `tenant`; returns once it is durable.
    fn append(
        &self,
        tenant: &str,
        batch: &[AppendStream],
        now_ns: i64,
    ) -> Result<AppendOutcome, StoreError>;

    /// The tenant's logs, for LogQL.
    fn reader<'a>(&'a self, tenant: &str) -> Box<dyn Store + 'a>;

    /// Writes everything in memory to durable storage.
    fn flush(&self) -> Result<(), StoreError>;
}

/// How far behind its stream's newest entry an entry may be (Loki 3: half
/// of `max_chunk_age`, 2h by default).
pub const OUT_OF_ORDER_WINDOW_NS: i64 = 3600 * 1_000_000_000;

/// Tenants' logs in memory.
#[derive(Debug, Default)]
pub struct MemBackend {
    tenants: RwLock<HashMap<String, Tenant>>,
}

#[derive(Debug, Default)]
struct Tenant {
    store: MemStore,
    /// Each stream's newest entry time.
    newest: HashMap<Labels, i64>,
}

impl Backend for MemBackend {
    fn append(
        &self,
        tenant: &str,
        batch: &[AppendStream],
        _now_ns: i64,
    ) -> Result<AppendOutcome, StoreError> {
        let mut tenants = self.tenants.write().unwrap_or_else(PoisonError::into_inner);
        let t = tenants.entry(tenant.to_owned()).or_default();
        let mut outcome = AppendOutcome::default();
        for stream in batch {
            for (ts, line, metadata) in &stream.entries {
                let newest = t.newest.get(&stream.labels).copied().unwrap_or(i64::MIN);
                let oldest = newest.saturating_sub(OUT_OF_ORDER_WINDOW_NS);
                if *ts < oldest {
                    outcome.too_far_behind.push(TooFarBehind {
                        labels: stream.labels.clone(),
                        ts_ns: *ts,
                        oldest_acceptable_ns: oldest,
                    });
                    continue;
                }
                if t.store.push(&stream.labels, *ts, line, metadata) {
                    outcome.stored += 1;
                    if *ts > newest {
                        t.newest.insert(stream.labels.clone(), *ts);
                    }
                } else {
                    outcome.duplicates += 1;
                }
            }
        }
        Ok(outcome)
    }

    fn reader<'a>(&'a self, tenant: &str) -> Box<dyn Store + 'a> {
        Box::new(MemReader {
            backend: self,
            tenant: tenant.to_owned(),
        })
    }

    fn flush(&self) -> Result<(), StoreError> {
        Ok(())
    }
}

/// One tenant's view of a [`MemBackend`]. Selecting takes the lock only
/// while it picks the streams: they share the entries, so a long query
/// never holds up writers.
struct MemReader<'a> {
    backend: &'a MemBackend,
    tenant: String,
}

impl Store for MemReader<'_> {
    fn select(
        &self,
        matchers: &[Matcher],
        start_ns: i64,
        end_ns: i64,
    ) -> Result<Vec<Stream>, StoreError> {
        let tenants = self
            .backend
            .tenants
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        match tenants.get(&self.tenant) {
            Some(t) => t.store.select(matchers, start_ns, end_ns),
            None => Ok(Vec::new()),
        }
    }
}
