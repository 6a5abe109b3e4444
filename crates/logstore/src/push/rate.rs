//! Loki's rate limits as token buckets (the semantics of Go's
//! `golang.org/x/time/rate`), with time passed in so tests never sleep.

use std::collections::HashMap;

use super::PushError;
use super::labels::labels_string;
use model::Labels;

/// A token bucket: `limit` tokens a second, at most `burst` held, full at
/// the start. One token is one byte of log line.
#[derive(Debug, Clone)]
pub struct RateLimiter {
    limit: f64,
    burst: usize,
    tokens: f64,
    last_ns: Option<i64>,
}

impl RateLimiter {
    /// A full bucket.
    pub fn new(limit_per_sec: f64, burst: usize) -> Self {
        Self {
            limit: limit_per_sec,
            burst,
            tokens: burst as f64,
            last_ns: None,
        }
    }

    /// The rate, per second.
    pub fn limit(&self) -> f64 {
        self.limit
    }

    /// Takes `n` tokens at `now_ns` if the bucket holds them; a refused
    /// request takes nothing. More than the burst is never allowed.
    pub fn allow_n(&mut self, now_ns: i64, n: usize) -> bool {
        if self.limit.is_infinite() {
            return true;
        }
        let tokens = self.tokens_at(now_ns);
        if n > self.burst || tokens < n as f64 {
            return false;
        }
        self.tokens = tokens - n as f64;
        self.last_ns = Some(self.last_ns.map_or(now_ns, |last| last.max(now_ns)));
        true
    }

    fn tokens_at(&self, now_ns: i64) -> f64 {
        let Some(last) = self.last_ns else {
            return self.burst as f64;
        };
        let elapsed = now_ns.saturating_sub(last).max(0) as f64 / 1e9;
        (self.tokens + elapsed * self.limit).min(self.burst as f64)
    }
}

/// The distributor's limit per tenant (Loki's "local" strategy:
/// `ingestion_rate_mb` and `ingestion_burst_size_mb`, in bytes here).
#[derive(Debug, Clone)]
pub struct TenantRateLimiter {
    limit: f64,
    burst: usize,
    tenants: HashMap<String, RateLimiter>,
}

impl TenantRateLimiter {
    /// Bytes a second and burst bytes, the same for every tenant.
    pub fn new(bytes_per_sec: f64, burst_bytes: usize) -> Self {
        Self {
            limit: bytes_per_sec,
            burst: burst_bytes,
            tenants: HashMap::new(),
        }
    }

    /// Admits a push of `lines` valid lines totaling `bytes` line bytes, or
    /// refuses all of it with Loki's 429.
    pub fn check(
        &mut self,
        tenant: &str,
        now_ns: i64,
        lines: usize,
        bytes: usize,
    ) -> Result<(), PushError> {
        let (limit, burst) = (self.limit, self.burst);
        let bucket = self
            .tenants
            .entry(tenant.to_owned())
            .or_insert_with(|| RateLimiter::new(limit, burst));
        if bucket.allow_n(now_ns, bytes) {
            return Ok(());
        }
        Err(PushError::RateLimited(format!(
            "Ingestion rate limit exceeded for user {tenant} (limit: {} bytes/sec) while attempting to ingest '{lines}' lines totaling '{bytes}' bytes, reduce log volume or contact your Loki administrator to see if the limit can be increased",
            limit as i64
        )))
    }
}

/// A line refused by its stream's rate, with Loki's reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct StreamRateLimited(pub String);

/// The ingester's limit per stream (`per_stream_rate_limit` and its burst),
/// applied line by line.
#[derive(Debug, Clone)]
pub struct StreamRateLimiter {
    bucket: RateLimiter,
}

impl StreamRateLimiter {
    /// Bytes a second and burst bytes.
    pub fn new(bytes_per_sec: f64, burst_bytes: usize) -> Self {
        Self {
            bucket: RateLimiter::new(bytes_per_sec, burst_bytes),
        }
    }

    /// Admits one line of `line_bytes`, or gives Loki's reason for refusing
    /// it (the storage collects these into [`super::ignored_entries_error`]
    /// with status 429).
    pub fn check(
        &mut self,
        now_ns: i64,
        stream: &Labels,
        line_bytes: usize,
    ) -> Result<(), StreamRateLimited> {
        if self.bucket.allow_n(now_ns, line_bytes) {
            return Ok(());
        }
        Err(StreamRateLimited(format!(
            "Per stream rate limit exceeded (limit: {}/sec) while attempting to ingest for stream '{}' totaling {}, consider splitting a stream via additional labels or contact your Loki administrator to see if the limit can be increased",
            go_byte_size(self.bucket.limit() as u64),
            labels_string(stream),
            go_byte_size(line_bytes as u64)
        )))
    }
}

/// A byte count as Loki's `flagext.ByteSize` prints it: base-2 units, each
/// non-zero component from the largest, e.g. `3MiB`, `1KiB476B`, `0B`.
pub fn go_byte_size(mut n: u64) -> String {
    const UNITS: [&str; 7] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if n == 0 {
        return "0B".to_owned();
    }
    let mut parts = Vec::new();
    for unit in UNITS {
        if n % 1024 != 0 {
            parts.push(format!("{}{unit}", n % 1024));
        }
        n /= 1024;
        if n == 0 {
            break;
        }
    }
    parts.reverse();
    parts.concat()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_refills_with_time() {
        let mut b = RateLimiter::new(10.0, 20);
        assert!(b.allow_n(0, 20));
        assert!(!b.allow_n(0, 1));
        assert!(b.allow_n(1_000_000_000, 10));
        assert!(!b.allow_n(1_000_000_000, 1));
        assert!(!b.allow_n(5_000_000_000, 21));
    }

    #[test]
    fn byte_sizes() {
        assert_eq!(go_byte_size(3 << 20), "3MiB");
        assert_eq!(go_byte_size(1500), "1KiB476B");
        assert_eq!(go_byte_size(0), "0B");
    }
}
