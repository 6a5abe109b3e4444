//! Scraping: one loop per target, kept in step with the config and with
//! discovery.
//!
//! [`ScrapeManager::sync`] computes the targets the config and its target
//! files (as [`Discovery`] last read them) name now, starts loops for new ones, stops (with staleness
//! markers) the ones that are gone, and leaves the others running, so a
//! reload or a changed target file never interrupts an unchanged target.

mod http;
mod process;
mod target_loop;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use model::Labels;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tsdb::Tsdb;

use crate::config::{Config, ScrapeConfig, TlsConfig};
use crate::discovery::{self, Discovery};
use crate::exposition::ExpositionFormat;
use crate::target::{Populated, Target, populate};
use http::Fetcher;
use target_loop::{StopReason, TargetLoop};

/// How a target did at its last scrape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HealthState {
    /// Not scraped yet.
    #[default]
    Unknown,
    /// The last scrape succeeded.
    Up,
    /// The last scrape failed.
    Down,
}

impl HealthState {
    /// The word the targets API uses.
    pub fn as_str(self) -> &'static str {
        match self {
            HealthState::Unknown => "unknown",
            HealthState::Up => "up",
            HealthState::Down => "down",
        }
    }
}

/// The state of one target, for `/api/v1/targets`.
#[derive(Debug, Clone, Default)]
pub struct Health {
    /// Up, down or unknown.
    pub state: HealthState,
    /// Why the last scrape failed; empty when it did not.
    pub last_error: String,
    /// When the last scrape started.
    pub last_scrape: Option<SystemTime>,
    /// How long it took.
    pub last_scrape_duration: Duration,
    /// Samples the TSDB refused so far (out of order, duplicates).
    pub rejected_samples: u64,
    /// Metadata of the families the last successful scrape exposed.
    pub metadata: Arc<Vec<crate::exposition::Metadata>>,
}

/// An active target as the API shows it.
#[derive(Debug, Clone)]
pub struct ActiveTarget {
    /// Its job.
    pub job: String,
    /// The target.
    pub target: Target,
    /// Its health.
    pub health: Health,
}

/// A target that relabeling dropped, or that could not be built.
#[derive(Debug, Clone)]
pub struct DroppedTarget {
    /// Its job.
    pub job: String,
    /// Its labels before relabeling.
    pub discovered: Labels,
}

/// The remote-write senders every loop forwards to; swapped on reload.
pub(crate) type RemoteSlot = Arc<std::sync::RwLock<Option<Arc<crate::remote::RemoteWriters>>>>;

/// Identifies a target across syncs: job, URL and labels.
type TargetKey = (String, String, Labels);

/// A target a sync wants running, with its job and the job's fingerprint.
struct Wanted {
    job: Arc<ScrapeConfig>,
    fingerprint: String,
    target: Target,
    client: Result<reqwest::Client, String>,
}

struct RunningLoop {
    job: String,
    job_fingerprint: String,
    target: Target,
    health: Arc<Mutex<Health>>,
    stop: CancellationToken,
    reason: Arc<Mutex<StopReason>>,
    task: JoinHandle<()>,
}

#[derive(Default)]
struct State {
    loops: HashMap<TargetKey, RunningLoop>,
    dropped: Vec<DroppedTarget>,
    discovery_errors: Vec<String>,
}

/// HTTP clients by TLS settings: the jobs that share a `tls_config` share
/// a client, and with it its connection pool.
type Clients = HashMap<TlsConfig, reqwest::Client>;

/// Runs the scrape loops of a config.
pub struct ScrapeManager {
    db: Arc<Tsdb>,
    clients: Mutex<Clients>,
    state: Mutex<State>,
    remote: RemoteSlot,
}

impl ScrapeManager {
    /// A manager writing into `db`.
    pub fn new(db: Arc<Tsdb>) -> Self {
        Self {
            db,
            clients: Mutex::default(),
            state: Mutex::default(),
            remote: RemoteSlot::default(),
        }
    }

    /// Sets the remote-write senders that stored samples are forwarded to,
    /// returning the previous ones (for the caller to shut down).
    pub fn set_remote_writers(
        &self,
        writers: Option<Arc<crate::remote::RemoteWriters>>,
    ) -> Option<Arc<crate::remote::RemoteWriters>> {
        std::mem::replace(
            &mut *self.remote.write().unwrap_or_else(PoisonError::into_inner),
            writers,
        )
    }

    /// Brings the running loops in line with `config` and the target
    /// groups `discovery` holds for its jobs. Reads no file (discovery
    /// did); must run inside a tokio runtime.
    pub fn sync(&self, config: &Config, discovery: &Discovery) {
        let mut wanted: HashMap<TargetKey, Wanted> = HashMap::new();
        let mut dropped = Vec::new();
        let mut errors = Vec::new();
        let mut clients = self.clients.lock().unwrap_or_else(PoisonError::into_inner);
        let mut kept = Clients::new();
        for job in &config.scrape_configs {
            let job = Arc::new(job.clone());
            let fingerprint = format!("{job:?}");
            let client = client_for(&job.http.tls_config, &mut clients, &mut kept);
            if let Err(e) = &client {
                errors.push(format!(
                    "job {:?}: error creating HTTP client: {e}",
                    job.job_name
                ));
            }
            let found = discovery.job(&job.job_name);
            errors.extend(found.errors);
            for (group_labels, address) in discovery::targets_of(&found.groups) {
                match populate(&job, &group_labels, &address) {
                    Ok(Populated::Active(target)) => {
                        let key = (
                            job.job_name.clone(),
                            target.url.clone(),
                            target.labels.clone(),
                        );
                        let fingerprint = fingerprint.clone();
                        wanted.insert(
                            key,
                            Wanted {
                                job: job.clone(),
                                fingerprint,
                                target,
                                client: client.clone(),
                            },
                        );
                    }
                    Ok(Populated::Dropped(discovered)) => dropped.push(DroppedTarget {
                        job: job.job_name.clone(),
                        discovered,
                    }),
                    Err(e) => {
                        errors.push(format!("job {:?}, target {address:?}: {e}", job.job_name));
                        dropped.push(DroppedTarget {
                            job: job.job_name.clone(),
                            discovered: Labels::from_pairs(
                                group_labels
                                    .into_iter()
                                    .chain([("__address__".to_owned(), address)]),
                            ),
                        });
                    }
                }
            }
        }
        // Clients no job uses any more are dropped; running loops keep
        // their own handle.
        *clients = kept;
        drop(clients);
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let stale: Vec<_> = state
            .loops
            .iter()
            .filter(|(key, running)| {
                wanted
                    .get(*key)
                    .is_none_or(|w| w.fingerprint != running.job_fingerprint)
            })
            .map(|(key, _)| key.clone())
            .collect();
        for key in stale {
            if let Some(running) = state.loops.remove(&key) {
                *running
                    .reason
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner) = StopReason::Removed;
                running.stop.cancel();
            }
        }
        for (
            key,
            Wanted {
                job,
                fingerprint,
                target,
                client,
            },
        ) in wanted
        {
            if state.loops.contains_key(&key) {
                continue;
            }
            let running = self.start(job, fingerprint, target, client);
            state.loops.insert(key, running);
        }
        for error in &errors {
            tracing::warn!("{error}");
        }
        state.dropped = dropped;
        state.discovery_errors = errors;
    }

    fn start(
        &self,
        job: Arc<ScrapeConfig>,
        job_fingerprint: String,
        target: Target,
        client: Result<reqwest::Client, String>,
    ) -> RunningLoop {
        let health = Arc::new(Mutex::new(Health::default()));
        let stop = CancellationToken::new();
        let reason = Arc::new(Mutex::new(StopReason::Shutdown));
        let fallback = job.fallback_scrape_protocol.as_deref().and_then(|p| {
            if p.starts_with("OpenMetrics") {
                Some(ExpositionFormat::OpenMetrics)
            } else if p.starts_with("Prometheus") {
                Some(ExpositionFormat::Text)
            } else {
                None
            }
        });
        let fetcher = Fetcher {
            client,
            url: target.url.clone(),
            timeout: target.timeout,
            auth: job.http.clone(),
            body_size_limit: job.body_size_limit.map(|b| b.0),
            fallback,
        };
        let scrape_loop = TargetLoop {
            target: target.clone(),
            job: job.clone(),
            db: self.db.clone(),
            fetcher,
            health: health.clone(),
            cache: None,
            remote: self.remote.clone(),
        };
        let task = tokio::spawn(scrape_loop.run(stop.clone(), reason.clone()));
        RunningLoop {
            job: job.job_name.clone(),
            job_fingerprint,
            target,
            health,
            stop,
            reason,
            task,
        }
    }

    /// Active targets, by job then URL.
    pub fn active_targets(&self) -> Vec<ActiveTarget> {
        let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let mut out: Vec<ActiveTarget> = state
            .loops
            .values()
            .map(|running| ActiveTarget {
                job: running.job.clone(),
                target: running.target.clone(),
                health: running
                    .health
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .clone(),
            })
            .collect();
        out.sort_by(|a, b| (&a.job, &a.target.url).cmp(&(&b.job, &b.target.url)));
        out
    }

    /// Targets dropped by relabeling or invalid, from the last sync.
    pub fn dropped_targets(&self) -> Vec<DroppedTarget> {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .dropped
            .clone()
    }

    /// Problems met reading target files at the last sync.
    pub fn discovery_errors(&self) -> Vec<String> {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .discovery_errors
            .clone()
    }

    /// How many targets are up (their last scrape succeeded), and how
    /// many are scraped.
    pub fn targets_up(&self) -> (usize, usize) {
        let targets = self.active_targets();
        let up = targets
            .iter()
            .filter(|t| t.health.state == HealthState::Up)
            .count();
        (up, targets.len())
    }

    /// Stops every loop and waits for them; no staleness markers are written,
    /// as Prometheus writes none when it shuts down.
    /// A loop that panicked is logged.
    pub async fn shutdown(&self) {
        if let Err(e) = self.stop().await {
            tracing::error!("a scrape loop failed: {e}");
        }
    }

    /// [`ScrapeManager::shutdown`], returning the first loop's panic
    /// (every loop is stopped and waited for regardless), for the server's
    /// shutdown to report.
    pub async fn stop(&self) -> Result<(), tokio::task::JoinError> {
        let loops: Vec<RunningLoop> = {
            let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            state.loops.drain().map(|(_, running)| running).collect()
        };
        for running in &loops {
            running.stop.cancel();
        }
        let mut first = Ok(());
        for running in loops {
            if let Err(e) = running.task.await
                && first.is_ok()
            {
                first = Err(e);
            }
        }
        first
    }
}

/// The client for `tls`: the one built at an earlier sync, else a new one.
/// Either way it goes to `kept`, the clients of this sync. A failure is not
/// kept, so the next sync (a reload) tries again.
fn client_for(
    tls: &TlsConfig,
    earlier: &mut Clients,
    kept: &mut Clients,
) -> Result<reqwest::Client, String> {
    if let Some(client) = kept.get(tls) {
        return Ok(client.clone());
    }
    let client = match earlier.remove(tls) {
        Some(client) => client,
        None => crate::client::build(
            tls,
            reqwest::Client::builder().user_agent(concat!("vigil/", env!("CARGO_PKG_VERSION"))),
        )?,
    };
    kept.insert(tls.clone(), client.clone());
    Ok(client)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_with_the_same_tls_config_share_one_client() {
        let (mut earlier, mut kept) = (Clients::new(), Clients::new());
        let plain = TlsConfig::default();
        let insecure = TlsConfig {
            insecure_skip_verify: true,
            ..TlsConfig::default()
        };
        for tls in [&plain, &insecure, &plain, &insecure, &plain] {
            client_for(tls, &mut earlier, &mut kept).unwrap();
        }
        assert_eq!(kept.len(), 2);

        // The next sync reuses them, and forgets what no job uses.
        let (mut earlier, mut next) = (kept, Clients::new());
        client_for(&plain, &mut earlier, &mut next).unwrap();
        assert_eq!(next.len(), 1);

        let missing = TlsConfig {
            ca_file: "/nonexistent/ca.pem".into(),
            ..TlsConfig::default()
        };
        let error = client_for(&missing, &mut earlier, &mut next).unwrap_err();
        assert!(error.contains("unable to read CA cert"), "{error}");
        assert_eq!(next.len(), 1, "a failure is not cached");
    }
}
