//! The loop that scrapes one target at its interval and stores what it
//! gets, with staleness markers and the report series.

use std::collections::HashSet;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use model::{Labels, METRIC_NAME};
use tokio_util::sync::CancellationToken;
use tsdb::Tsdb;

use super::http::Fetcher;
use super::process::{Processed, process};
use super::{Health, HealthState};
use crate::config::ScrapeConfig;
use crate::exposition::parse;
use crate::target::Target;

/// Names of the series Prometheus adds for every scrape.
const REPORT_SERIES: [&str; 5] = [
    "up",
    "scrape_duration_seconds",
    "scrape_samples_scraped",
    "scrape_samples_post_metric_relabeling",
    "scrape_series_added",
];

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
    /// Series of the last scrape without explicit timestamps: the ones that
    /// get a staleness marker when they disappear.
    pub(crate) previous: HashSet<Labels>,
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

    /// One scrape: fetch, parse, process, store, report.
    pub(crate) async fn scrape_once(&mut self) {
        let started_at = now_ms();
        let started = Instant::now();
        let mut metadata = None;
        let outcome = match self.fetcher.fetch().await {
            Ok(fetched) => parse(&fetched.body, fetched.format)
                .map_err(|e| e.to_string())
                .and_then(|mut exposition| {
                    metadata = Some(std::mem::take(&mut exposition.metadata));
                    process(exposition, &self.target.labels, &self.job, started_at)
                }),
            Err(e) => Err(e),
        };
        let duration = started.elapsed();
        let (samples, scraped, error) = match outcome {
            Ok(Processed { samples, scraped }) => (samples, scraped, None),
            Err(e) => (Vec::new(), 0, Some(e)),
        };
        let post_relabel = samples.len();
        let current: HashSet<Labels> = samples
            .iter()
            .filter(|(_, t, _)| *t == started_at)
            .map(|(l, _, _)| l.clone())
            .collect();
        let added = current.difference(&self.previous).count();
        let mut batch = samples;
        for gone in self.previous.difference(&current) {
            batch.push((gone.clone(), started_at, model::staleness::stale_nan()));
        }
        let up = if error.is_none() { 1.0 } else { 0.0 };
        for (name, value) in REPORT_SERIES.iter().zip([
            up,
            duration.as_secs_f64(),
            scraped as f64,
            post_relabel as f64,
            added as f64,
        ]) {
            batch.push((self.report_labels(name), started_at, value));
        }
        let rejected = self.store(batch).await;
        self.previous = current;
        let mut health = self.health.lock().unwrap_or_else(PoisonError::into_inner);
        health.state = if error.is_none() {
            HealthState::Up
        } else {
            HealthState::Down
        };
        health.last_error = error.unwrap_or_default();
        health.last_scrape = Some(SystemTime::now());
        health.last_scrape_duration = duration;
        health.rejected_samples += rejected;
        if let Some(metadata) = metadata {
            health.metadata = Arc::new(metadata);
        }
    }

    fn report_labels(&self, name: &str) -> Labels {
        let mut labels = self.target.labels.clone();
        labels.set(METRIC_NAME, name);
        labels
    }

    /// Staleness markers for everything this target wrote, report series
    /// included.
    async fn mark_all_stale(&mut self, at: i64) {
        let stale = model::staleness::stale_nan();
        let mut batch: Vec<(Labels, i64, f64)> =
            self.previous.drain().map(|l| (l, at, stale)).collect();
        for name in REPORT_SERIES {
            batch.push((self.report_labels(name), at, stale));
        }
        self.store(batch).await;
    }

    /// Appends and commits a batch off the async threads; returns how many
    /// samples the TSDB rejected (out of order, duplicates).
    async fn store(&self, batch: Vec<(Labels, i64, f64)>) -> u64 {
        let db = self.db.clone();
        let url = self.target.url.clone();
        let remote = self.remote.clone();
        let stored = tokio::task::spawn_blocking(move || {
            let mut appender = db.appender();
            let mut accepted = Vec::with_capacity(batch.len());
            let mut rejected = 0;
            for sample in batch {
                match appender.append(&sample.0, sample.1, sample.2) {
                    Ok(_) => accepted.push(sample),
                    Err(e) => {
                        tracing::debug!(target_url = %url, series = %sample.0, error = %e, "sample rejected");
                        rejected += 1;
                    }
                }
            }
            // Scrapes do not wait for the fsync: like Prometheus, a crash may
            // lose the last interval's samples, never acknowledged data.
            let _commit = appender.commit()?;
            // Forward only what is stored: the queue write is local and
            // quick, the network is the sender's business.
            if let Some(writers) = remote.read().unwrap_or_else(PoisonError::into_inner).as_ref() {
                writers.enqueue(&accepted);
            }
            Ok::<u64, tsdb::TsdbError>(rejected)
        })
        .await;
        match stored {
            Ok(Ok(rejected)) => rejected,
            Ok(Err(e)) => {
                tracing::error!(target_url = %self.target.url, error = %e, "storing a scrape failed");
                0
            }
            Err(e) => {
                tracing::error!(target_url = %self.target.url, error = %e, "storing a scrape panicked");
                0
            }
        }
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}
