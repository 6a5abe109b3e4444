//! Finding log files, tailing them, and the positions file.
//!
//! A [`TargetManager`] holds the file targets of every job (a
//! `static_configs` entry: labels with a `__path__` glob and an optional
//! `__path_exclude__`). Every `sync_period` it evaluates the globs: a new
//! file gets a tailer thread, a file that no longer matches is read to its
//! end and released, and its position forgotten. Tailers read on plain
//! threads, never on an async worker, because [`Sink::send`] blocks while
//! the clients are full: that is the back-pressure, and a tailer simply
//! waits and goes on where it stopped.
//!
//! Each line becomes an [`Entry`](crate::entry::Entry) with the target's
//! labels (without the `__` ones) plus `filename`, the read time, and a
//! receipt whose release marks the line done. The [`Positions`] record, per
//! path, the end of the longest prefix of done lines, so a restart neither
//! loses nor re-sends lines; rotations by rename and by copytruncate are
//! followed by device+inode and a fingerprint of the first bytes (see
//! [`identity`]).
//!
//! ```no_run
//! use std::sync::Arc;
//! use agent::tail::{Positions, PositionsConfig, TailConfig, TailMetrics, TargetConfig, TargetManager};
//! # fn sink() -> Arc<dyn agent::entry::Sink> { unimplemented!() }
//! let positions = Positions::open(PositionsConfig::new("/tmp/positions.yaml")).unwrap();
//! let sync = positions.start_sync();
//! let labels = [("job", "app"), ("__path__", "/var/log/app/*.log")]
//!     .into_iter()
//!     .map(|(k, v)| (k.to_owned(), v.to_owned()))
//!     .collect();
//! let targets = vec![TargetConfig { job: "app".into(), labels, sink: sink() }];
//! let manager = TargetManager::start(targets, positions, TailConfig::default(), TailMetrics::unregistered());
//! // ...
//! manager.stop(std::time::Duration::from_secs(5));
//! sync.stop().unwrap();
//! ```

pub mod discovery;
pub mod identity;
mod metrics;
pub mod positions;
mod reader;
mod tracker;

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

pub use discovery::{GlobError, PathGlob};
pub use metrics::{FAMILIES, TailMetrics};
pub use positions::{Positions, PositionsConfig, PositionsError, SyncHandle};

use crate::entry::{LabelSet, Sink};
use crate::server::{JobStatus, StatusSource, TargetStatus};
use metrics::FileStatus;
use reader::{Control, Tailer};

pub use crate::config::{PATH_EXCLUDE_LABEL, PATH_LABEL};
/// A target with this label is only tailed on the host of that name.
pub const HOST_LABEL: &str = "__host__";
/// The label every entry gets: the file's path as matched.
pub const FILENAME_LABEL: &str = "filename";

/// How files are discovered and read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TailConfig {
    /// `target_config.sync_period`: how often globs are evaluated
    /// (Promtail: 10s).
    pub sync_period: Duration,
    /// How often a tailer looks for new data and rotations when idle
    /// (Promtail's tail polls every 250ms too).
    pub poll_interval: Duration,
    /// How long a last line without a newline waits for it before it is
    /// sent as it is. Promtail never sends it (its golden run shows it held
    /// for 6 s and more); a writer that flushes lines in pieces needs a
    /// margin, hence 10 s by default. Bytes that come after the line was
    /// sent start a new line.
    pub partial_line_timeout: Duration,
    /// How long a rotated file, read to its end, stays open for a writer
    /// that has not reopened its log yet.
    pub rotated_idle: Duration,
    /// The longest line kept whole; longer ones are cut into pieces of
    /// this size, so one endless line cannot take all memory (the clients
    /// apply `limits_config.max_line_size` afterwards, as Promtail's do).
    pub max_line_bytes: usize,
    /// Lines in flight (read, not yet acknowledged) per file, at most;
    /// a tailer waits past that.
    pub max_in_flight_lines: u64,
    /// Bytes read from a file at a time.
    pub read_buffer: usize,
}

impl Default for TailConfig {
    fn default() -> Self {
        Self {
            sync_period: Duration::from_secs(10),
            poll_interval: Duration::from_millis(250),
            partial_line_timeout: Duration::from_secs(10),
            rotated_idle: Duration::from_secs(5),
            max_line_bytes: 16 << 20,
            max_in_flight_lines: 1 << 17,
            read_buffer: 64 << 10,
        }
    }
}

/// One file target: a `static_configs` entry of a job, after relabeling.
#[derive(Clone)]
pub struct TargetConfig {
    /// The job's name.
    pub job: String,
    /// Its labels, `__path__` and `__path_exclude__` included.
    pub labels: LabelSet,
    /// Where its entries go (the job's pipeline, then the clients).
    pub sink: Arc<dyn Sink>,
}

/// What the `/targets` page shows of a target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetSnapshot {
    /// The job's name.
    pub job: String,
    /// The labels as configured, `__path__` included.
    pub discovered_labels: LabelSet,
    /// The labels entries get (without the `__` ones, before `filename`).
    pub labels: LabelSet,
    /// Why the target is not tailing anything, if so (no `__path__`, a
    /// bad glob).
    pub error: Option<String>,
    /// The files it tails.
    pub files: Vec<FileSnapshot>,
}

/// What the `/targets` page shows of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileSnapshot {
    /// The path as matched.
    pub path: String,
    /// The labels its entries carry.
    pub labels: LabelSet,
    /// End of the last complete line read.
    pub read_offset: u64,
    /// End of the acknowledged lines: what the positions file records.
    pub committed_offset: u64,
    /// The file's size when last looked at.
    pub size: u64,
    /// Lines read.
    pub read_lines: u64,
    /// False when the last attempt to read failed.
    pub healthy: bool,
    /// What failed.
    pub error: Option<String>,
}

struct Target {
    job: String,
    discovered: LabelSet,
    labels: LabelSet,
    glob: Result<(PathGlob, Option<PathGlob>), String>,
    sink: Arc<dyn Sink>,
}

struct Running {
    control: Arc<Control>,
    status: Arc<FileStatus>,
    /// None when no thread could be made (resource limits).
    thread: Option<JoinHandle<()>>,
}

impl Running {
    fn is_finished(&self) -> bool {
        self.thread.as_ref().is_none_or(JoinHandle::is_finished)
    }

    fn wake(&self) {
        if let Some(t) = &self.thread {
            t.thread().unpark();
        }
    }

    fn join(&mut self) {
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

struct Shared {
    targets: Vec<Target>,
    positions: Arc<Positions>,
    config: TailConfig,
    metrics: Arc<TailMetrics>,
    /// Tailers by target index and path.
    tailers: Mutex<BTreeMap<(usize, String), Running>>,
    /// Tailers of released files, finishing.
    releasing: Mutex<Vec<Running>>,
    quit: (Mutex<bool>, Condvar),
}

/// The file targets of an agent, and their tailers.
pub struct TargetManager {
    shared: Arc<Shared>,
    discovery: Option<JoinHandle<()>>,
}

impl TargetManager {
    /// Starts discovery (once at once, then every `sync_period`) and
    /// tailing for `targets`. A target without `__path__` or with a bad
    /// glob is kept, with its error, for the `/targets` page.
    pub fn start(
        targets: Vec<TargetConfig>,
        positions: Arc<Positions>,
        config: TailConfig,
        metrics: Arc<TailMetrics>,
    ) -> TargetManager {
        let targets: Vec<Target> = targets.into_iter().map(Target::new).collect();
        metrics.add_targets(targets.iter().filter(|t| t.glob.is_ok()).count() as i64);
        let shared = Arc::new(Shared {
            targets,
            positions,
            config,
            metrics,
            tailers: Mutex::new(BTreeMap::new()),
            releasing: Mutex::new(Vec::new()),
            quit: (Mutex::new(false), Condvar::new()),
        });
        shared.sync();
        let s = shared.clone();
        let discovery = std::thread::Builder::new()
            .name("tail-discovery".into())
            .spawn(move || s.run_discovery())
            .ok();
        TargetManager { shared, discovery }
    }

    /// Evaluates the globs now, as the periodic sync does.
    pub fn sync_now(&self) {
        self.shared.sync();
    }

    /// Per target, what it tails and how far.
    pub fn snapshot(&self) -> Vec<TargetSnapshot> {
        let tailers = self.shared.lock_tailers();
        self.shared
            .targets
            .iter()
            .enumerate()
            .map(|(i, t)| TargetSnapshot {
                job: t.job.clone(),
                discovered_labels: t.discovered.clone(),
                labels: t.labels.clone(),
                error: t.glob.as_ref().err().cloned(),
                files: tailers
                    .range((i, String::new())..)
                    .take_while(|((ti, _), _)| *ti == i)
                    .map(|(_, r)| file_snapshot(&r.status))
                    .collect(),
            })
            .collect()
    }

    /// Stops reading, waits up to `timeout` for the lines in flight to be
    /// acknowledged, and records the positions (then saves them). Call it
    /// before the clients stop, so they can still acknowledge.
    pub fn stop(mut self, timeout: Duration) {
        self.shutdown(timeout);
    }

    fn shutdown(&mut self, timeout: Duration) {
        {
            let (lock, cvar) = &self.shared.quit;
            let mut quit = lock.lock().unwrap_or_else(PoisonError::into_inner);
            if *quit {
                return;
            }
            *quit = true;
            cvar.notify_all();
        }
        if let Some(discovery) = self.discovery.take() {
            let _ = discovery.join();
        }
        let deadline = Instant::now() + timeout;
        let mut all: Vec<Running> = std::mem::take(&mut *self.shared.lock_tailers())
            .into_values()
            .collect();
        all.append(
            &mut self
                .shared
                .releasing
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        );
        for r in &all {
            *r.control
                .deadline
                .lock()
                .unwrap_or_else(PoisonError::into_inner) = Some(deadline);
            r.control.stop.store(true, Ordering::SeqCst);
            r.wake();
        }
        for mut r in all {
            // A tailer blocked in a sink that never takes the entry is left
            // behind rather than holding the shutdown.
            while !r.is_finished() && Instant::now() < deadline + Duration::from_millis(200) {
                std::thread::sleep(Duration::from_millis(5));
            }
            if r.is_finished() {
                r.join();
            }
            self.shared.metrics.remove_file(&r.status);
        }
        let active = self
            .shared
            .targets
            .iter()
            .filter(|t| t.glob.is_ok())
            .count() as i64;
        self.shared.metrics.add_targets(-active);
        if let Err(e) = self.shared.positions.save() {
            tracing::error!(error = %e, "error writing positions file");
        }
    }
}

impl Drop for TargetManager {
    fn drop(&mut self) {
        self.shutdown(Duration::ZERO);
    }
}

/// The `/targets` and `/service-discovery` pages' view, as Promtail shows a
/// file target: ready while it tails at least one file, and its details
/// mapping each file to its recorded (here: acknowledged) offset.
impl StatusSource for TargetManager {
    fn jobs(&self) -> Vec<JobStatus> {
        let mut jobs: Vec<JobStatus> = Vec::new();
        for target in self.snapshot() {
            let mut details: BTreeMap<String, String> = target
                .files
                .iter()
                .map(|f| {
                    let value = match &f.error {
                        None => f.committed_offset.to_string(),
                        Some(e) => format!("{} (error: {e})", f.committed_offset),
                    };
                    (f.path.clone(), value)
                })
                .collect();
            if let Some(e) = &target.error {
                details.insert("error".to_owned(), e.clone());
            }
            let status = TargetStatus {
                kind: "file".to_owned(),
                discovered_labels: target.discovered_labels,
                labels: target.labels,
                ready: target.files.iter().any(|f| f.healthy),
                details,
            };
            match jobs.iter_mut().find(|j| j.job == target.job) {
                Some(job) => job.targets.push(status),
                None => jobs.push(JobStatus {
                    job: target.job,
                    targets: vec![status],
                }),
            }
        }
        jobs
    }
}

fn file_snapshot(status: &FileStatus) -> FileSnapshot {
    let error = status.error();
    FileSnapshot {
        path: status.path.clone(),
        labels: status.labels.clone(),
        read_offset: status.read_offset.load(Ordering::Relaxed),
        committed_offset: status.committed.load(Ordering::Relaxed),
        size: status.size.load(Ordering::Relaxed),
        read_lines: status.read_lines.load(Ordering::Relaxed),
        healthy: error.is_none() && status.running.load(Ordering::Relaxed),
        error,
    }
}

/// The machine's host name, as Go's `os.Hostname` reads it on Linux.
fn hostname() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
}

impl Target {
    fn new(config: TargetConfig) -> Target {
        let labels: LabelSet = config
            .labels
            .iter()
            .filter(|(k, _)| !k.starts_with("__"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let host = config.labels.get(HOST_LABEL);
        let glob = match config.labels.get(PATH_LABEL) {
            _ if host.is_some_and(|h| Some(h.as_str()) != hostname().as_deref()) => Err(format!(
                "ignoring target, wrong host (hostname: {})",
                hostname().unwrap_or_default()
            )),
            None => Err("no path for target".to_owned()),
            Some(path) => PathGlob::new(path)
                .and_then(|p| {
                    let exclude = match config.labels.get(PATH_EXCLUDE_LABEL) {
                        Some(e) if !e.is_empty() => Some(PathGlob::new(e)?),
                        _ => None,
                    };
                    Ok((p, exclude))
                })
                .map_err(|e| e.to_string()),
        };
        Target {
            job: config.job,
            discovered: config.labels,
            labels,
            glob,
            sink: config.sink,
        }
    }
}

impl Shared {
    fn lock_tailers(&self) -> std::sync::MutexGuard<'_, BTreeMap<(usize, String), Running>> {
        self.tailers.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn run_discovery(self: Arc<Self>) {
        let (lock, cvar) = &self.quit;
        let mut quit = lock.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            let (guard, _) = cvar
                .wait_timeout(quit, self.config.sync_period)
                .unwrap_or_else(PoisonError::into_inner);
            quit = guard;
            if *quit {
                return;
            }
            drop(quit);
            self.sync();
            quit = lock.lock().unwrap_or_else(PoisonError::into_inner);
            if *quit {
                return;
            }
        }
    }

    /// One discovery pass over every target.
    fn sync(&self) {
        let mut tailers = self.lock_tailers();
        // Tailers that ended on their own (the file could not be opened)
        // are started again below if the file still matches.
        let ended: Vec<(usize, String)> = tailers
            .iter()
            .filter(|(_, r)| r.is_finished() && !r.status.permanent.load(Ordering::SeqCst))
            .map(|(k, _)| k.clone())
            .collect();
        for key in ended {
            if let Some(mut r) = tailers.remove(&key) {
                r.join();
                self.metrics.remove_file(&r.status);
            }
        }
        for (i, target) in self.targets.iter().enumerate() {
            let Ok((glob, exclude)) = &target.glob else {
                continue;
            };
            let found = discovery::discover(glob, exclude.as_ref());
            for path in &found {
                let key = (i, path.clone());
                if let std::collections::btree_map::Entry::Vacant(slot) = tailers.entry(key) {
                    tracing::debug!(filename = %path, "tailing new file");
                    slot.insert(self.spawn(target, path));
                }
            }
            let gone: Vec<(usize, String)> = tailers
                .range((i, String::new())..)
                .take_while(|((ti, _), _)| *ti == i)
                .filter(|((_, p), _)| found.binary_search(p).is_err())
                .map(|(k, _)| k.clone())
                .collect();
            for key in gone {
                if let Some(r) = tailers.remove(&key) {
                    tracing::info!(filename = %key.1, "file no longer matches: releasing it");
                    r.control.release.store(true, Ordering::SeqCst);
                    r.control.stop.store(true, Ordering::SeqCst);
                    r.wake();
                    self.metrics.remove_file(&r.status);
                    self.releasing
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .push(r);
                }
            }
        }
        drop(tailers);
        self.releasing
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|r| !r.is_finished());
    }

    fn spawn(&self, target: &Target, path: &str) -> Running {
        let mut labels = target.labels.clone();
        labels.insert(FILENAME_LABEL.to_owned(), path.to_owned());
        let status = Arc::new(FileStatus::new(path, labels.clone()));
        let control = Arc::new(Control::default());
        let tailer = Tailer::new(
            path.to_owned(),
            labels,
            target.sink.clone(),
            self.positions.clone(),
            self.config.clone(),
            status.clone(),
            control.clone(),
        );
        self.metrics.add_file(status.clone());
        let thread = std::thread::Builder::new()
            .name("tail".into())
            .spawn(move || tailer.run());
        let thread = match thread {
            Ok(t) => Some(t),
            Err(e) => {
                // Reported as failed; the next sync tries again.
                status.set_error(Some(format!("no thread for the tailer: {e}")));
                status.running.store(false, Ordering::SeqCst);
                None
            }
        };
        Running {
            control,
            status,
            thread,
        }
    }
}
