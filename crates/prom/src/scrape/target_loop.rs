//! The loop that scrapes one target at its interval and stores what it
//! gets, with staleness markers and the report series.

use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio_util::sync::CancellationToken;
use tsdb::Tsdb;

use super::http::Fetcher;
use super::process::ScrapeCache;
use super::{Health, HealthState};
use crate::config::ScrapeConfig;
use crate::target::Target;

/// Why a loop ends: a target that is gone gets staleness markers, one
/// whose server stops does not (as in Prometheus).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StopReason {
    Removed,
    Shutdown,
}

pub(crate) struct TargetLoop {
    pub(crate) target: Target,
    pub(crate) job: Arc<ScrapeConfig>,
    pub(crate) db: Arc<Tsdb>,
    pub(crate) fetcher: Fetcher,
    pub(crate) health: Arc<Mutex<Health>>,
    /// What the target exposed so far; taken by the blocking task that
    /// stores a scrape, and put back after it.
    pub(crate) cache: Option<ScrapeCache>,
    /// Where accepted samples are forwarded, if `remote_write` is set.
    pub(crate) remote: super::RemoteSlot,
}

impl TargetLoop {
    /// Scrapes until told to stop; the stop token's reason is read from
    /// `reason` when it fires.
    pub(crate) async fn run(mut self, stop: CancellationToken, reason: Arc<Mutex<StopReason>>) {
        let interval = self.target.interval;
        tokio::select! {
            () = tokio::time::sleep(self.first_delay(interval)) => {}
            () = stop.cancelled() => return,
        }
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            tokio::select! {
                _ = ticker.tick() => self.scrape_once().await,
                () = stop.cancelled() => break,
            }
        }
        if *reason.lock().unwrap_or_else(PoisonError::into_inner) == StopReason::Removed {
            self.mark_all_stale(now_ms()).await;
        }
    }

    /// Spreads targets over the interval by a hash of their identity, so
    /// that they do not all scrape at once and each keeps its phase across
    /// restarts.
    fn first_delay(&self, interval: Duration) -> Duration {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        self.target.labels.hash(&mut hasher);
        self.target.url.hash(&mut hasher);
        let interval_ns = interval.as_nanos().max(1) as u64;
        let offset = hasher.finish() % interval_ns;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos() as u64;
        Duration::from_nanos((offset + interval_ns - now % interval_ns) % interval_ns)
    }

    /// One scrape: fetch, then parse, store and report off the async
    /// threads.
    pub(crate) async fn scrape_once(&mut self) {
        let started_at = now_ms();
        let started = Instant::now();
        let fetched = self.fetcher.fetch().await;
        // As in Prometheus, the duration is the request's, not the storing's.
        let duration = started.elapsed();
        let remote = self.remote();
        let stored = self
            .with_cache(move |cache, db| {
                cache.store(
                    db,
                    fetched,
                    started_at,
                    duration.as_secs_f64(),
                    remote.as_deref(),
                )
            })
            .await;
        let Some(report) = stored else { return };
        let mut health = self.health.lock().unwrap_or_else(PoisonError::into_inner);
        health.state = if report.error.is_none() {
            HealthState::Up
        } else {
            HealthState::Down
        };
        health.last_error = report.error.unwrap_or_default();
        health.last_scrape = Some(SystemTime::now());
        health.last_scrape_duration = duration;
        health.rejected_samples += report.rejected;
        if let Some(metadata) = report.metadata {
            health.metadata = Arc::new(metadata);
        }
    }

    /// Staleness markers for everything this target wrote, report series
    /// included.
    async fn mark_all_stale(&mut self, at: i64) {
        self.with_cache(move |cache, db| cache.mark_all_stale(db, at))
            .await;
    }

    fn remote(&self) -> Option<Arc<crate::remote::RemoteWriters>> {
        self.remote
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Runs `work` on the cache in a blocking task: parsing and appending
    /// a body is CPU work, and a commit writes to the log. `None` when the
    /// work failed (logged); a panic loses the cache, which then starts
    /// afresh.
    async fn with_cache<T: Send + 'static>(
        &mut self,
        work: impl FnOnce(&mut ScrapeCache, &Tsdb) -> Result<T, tsdb::TsdbError> + Send + 'static,
    ) -> Option<T> {
        let mut cache = self
            .cache
            .take()
            .unwrap_or_else(|| ScrapeCache::new(self.target.labels.clone(), self.job.clone()));
        let db = self.db.clone();
        let done = tokio::task::spawn_blocking(move || {
            let result = work(&mut cache, &db);
            (cache, result)
        })
        .await;
        match done {
            Ok((cache, result)) => {
                self.cache = Some(cache);
                result
                    .inspect_err(|e| {
                        tracing::error!(target_url = %self.target.url, error = %e, "storing a scrape failed");
                    })
                    .ok()
            }
            Err(e) => {
                tracing::error!(target_url = %self.target.url, error = %e, "storing a scrape panicked");
                None
            }
        }
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}
