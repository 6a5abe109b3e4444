//! Grafana's provisioning files, read as Grafana reads them:
//! `DIR/datasources/*.yaml|yml` ([`datasources`]) and `DIR/dashboards/*.yaml|yml`
//! dashboard providers with their JSON files ([`dashboards`]), values
//! interpolated from the environment ([`values`]).
//!
//! A [`Provisioner`] owns what is remembered between reads (numeric ids,
//! each file's version) and produces [`Provisioned`] snapshots: a full
//! read ([`Provisioner::load`], at start and on reload) and rescans of the
//! providers whose `updateIntervalSeconds` has passed
//! ([`Provisioner::rescan`]). Reading is blocking file I/O: call these on a
//! blocking thread.
//!
//! A problem in one file (broken YAML or JSON, two default datasources, a
//! duplicate uid, a missing name) is logged with the file and, where it
//! is at one place, the line and column, and that file or entry is
//! skipped: the rest still loads. Only an unusable provisioning folder
//! itself is an error.

pub mod dashboards;
pub mod datasources;
mod locate;
pub mod values;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use gocompat::yaml::{FileError, Messages, Ties};

pub use dashboards::{DEFAULT_UPDATE_INTERVAL, Provider, ProvisionedDashboard};
pub use datasources::LegacyFields;
pub use values::Env;

use crate::datasource::{Datasource, Datasources};

/// How yaml_serde's messages are worded for provisioning files.
pub(crate) const MESSAGES: Messages = Messages {
    words: &[
        ("expected a sequence", "expected a list"),
        ("expected i64", "expected an integer"),
    ],
    ties: Ties::FirstListed,
};

/// Problems found while reading, in the order found.
pub(crate) type Problems = Vec<FileError>;

/// A folder of dashboards: a provider's `folder`, or a subfolder with
/// `foldersFromFilesStructure`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Folder {
    /// Grafana's numeric id (dashboards and folders share one sequence).
    pub id: i64,
    /// Its `folderUid`, or the uid derived from its title.
    pub uid: String,
    /// Its title (the provider's `folder`, or the subfolder's name).
    pub title: String,
    /// When vigil first provisioned it, ms since the epoch.
    pub created: i64,
}

/// Everything provisioning found at one moment.
#[derive(Debug, Default)]
pub struct Provisioned {
    /// The datasources, in file order.
    pub datasources: Datasources,
    /// The legacy `user`/`database` of each datasource, by uid.
    pub legacy: BTreeMap<String, LegacyFields>,
    /// The dashboard providers.
    pub providers: Vec<Provider>,
    /// The folders providers put dashboards in.
    pub folders: Vec<Folder>,
    /// The dashboards, provider by provider, each file in path order.
    pub dashboards: Vec<ProvisionedDashboard>,
    /// What was wrong (and logged): files and entries skipped.
    pub problems: Vec<FileError>,
}

impl Provisioned {
    /// Reads the provisioning folder (nothing when `None`) once, with the
    /// process environment.
    pub async fn load(dir: Option<&Path>) -> Result<Provisioned, ProvisioningError> {
        let provisioner = Provisioner::new(
            dir.map(Path::to_owned),
            values::process_env(),
            Arc::new(Ids::default()),
        );
        tokio::task::spawn_blocking(move || provisioner.load())
            .await
            .map_err(|e| ProvisioningError::Task(e.to_string()))?
    }

    /// A provisioned dashboard by uid.
    pub fn dashboard(&self, uid: &str) -> Option<&ProvisionedDashboard> {
        self.dashboards.iter().find(|d| d.uid == uid)
    }

    /// A provisioned folder by uid.
    pub fn folder(&self, uid: &str) -> Option<&Folder> {
        self.folders.iter().find(|f| f.uid == uid)
    }

    /// A provider by name.
    pub fn provider(&self, name: &str) -> Option<&Provider> {
        self.providers.iter().find(|p| p.name == name)
    }
}

/// A provisioning folder that cannot be used at all (a single broken file
/// is logged and skipped instead).
#[derive(Debug, thiserror::Error)]
pub enum ProvisioningError {
    /// The folder is missing or unreadable.
    #[error("provisioning folder {path}: {source}")]
    Dir {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    /// The blocking read panicked or was cancelled.
    #[error("provisioning: the reading task failed: {0}")]
    Task(String),
}

/// What a numeric id is for: datasources have their own sequence,
/// dashboards and folders share one (as in Grafana's tables).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IdKind {
    /// A datasource.
    Datasource,
    /// A dashboard or a folder.
    Dashboard,
}

/// Grafana's numeric ids, given out in order of first sight and kept per
/// uid for the life of the process (the API still reports them; links
/// use uids).
#[derive(Debug, Default)]
pub struct Ids {
    inner: Mutex<IdsInner>,
}

#[derive(Debug, Default)]
struct IdsInner {
    by_uid: HashMap<(IdKind, String), i64>,
    by_id: HashMap<(IdKind, i64), String>,
    last: HashMap<IdKind, i64>,
}

impl Ids {
    /// The id of `uid`, given out now if it has none yet.
    pub fn id(&self, kind: IdKind, uid: &str) -> i64 {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(id) = inner.by_uid.get(&(kind, uid.to_owned())) {
            return *id;
        }
        let next = inner.last.get(&kind).copied().unwrap_or(0) + 1;
        inner.last.insert(kind, next);
        inner.by_uid.insert((kind, uid.to_owned()), next);
        inner.by_id.insert((kind, next), uid.to_owned());
        next
    }

    /// The uid an id was given to.
    pub fn uid(&self, kind: IdKind, id: i64) -> Option<String> {
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner.by_id.get(&(kind, id)).cloned()
    }
}

/// Reads the provisioning folder and remembers what it read.
pub struct Provisioner {
    dir: Option<PathBuf>,
    env: Env,
    ids: Arc<Ids>,
    started: i64,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    datasources: Vec<Datasource>,
    legacy: BTreeMap<String, LegacyFields>,
    setup_problems: Problems,
    providers: Vec<Provider>,
    scans: HashMap<String, Scan>,
    cache: dashboards::FileCache,
    logged: HashSet<String>,
}

struct Scan {
    at: Instant,
    dashboards: Vec<ProvisionedDashboard>,
    problems: Problems,
}

impl Provisioner {
    /// A provisioner of `dir` (none: nothing is provisioned), with `env`
    /// for `$VAR` and `ids` for numeric ids.
    pub fn new(dir: Option<PathBuf>, env: Env, ids: Arc<Ids>) -> Provisioner {
        Provisioner {
            dir,
            env,
            ids,
            started: millis(SystemTime::now()),
            state: Mutex::new(State::default()),
        }
    }

    /// The id registry shared with the API.
    pub fn ids(&self) -> &Arc<Ids> {
        &self.ids
    }

    /// Reads everything: the datasource files, the provider files, and
    /// every provider's dashboards. Blocking.
    pub fn load(&self) -> Result<Provisioned, ProvisioningError> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let Some(dir) = &self.dir else {
            return Ok(self.assemble(&mut state));
        };
        match std::fs::metadata(dir) {
            Ok(meta) if meta.is_dir() => {}
            Ok(_) => {
                return Err(ProvisioningError::Dir {
                    path: dir.clone(),
                    source: std::io::Error::other("not a folder"),
                });
            }
            Err(source) => {
                return Err(ProvisioningError::Dir {
                    path: dir.clone(),
                    source,
                });
            }
        }
        let mut problems = Problems::new();
        let (datasources, legacy) = datasources::read(
            &dir.join("datasources"),
            &self.env,
            &self.ids,
            &mut problems,
        );
        let providers =
            dashboards::read_providers(&dir.join("dashboards"), dir, &self.env, &mut problems);
        state.datasources = datasources;
        state.legacy = legacy;
        state.setup_problems = problems;
        state.providers = providers;
        let State {
            providers,
            scans,
            cache,
            ..
        } = &mut *state;
        scans.retain(|name, _| providers.iter().any(|p| &p.name == name));
        for provider in providers.iter() {
            scan_provider(provider, scans, cache);
        }
        // A reload reports every problem again, even one logged before.
        state.logged.clear();
        Ok(self.assemble(&mut state))
    }

    /// Scans the dashboards of every provider whose interval has passed
    /// since its last scan (every provider when `force`), keeping the
    /// datasources and providers of the last [`Provisioner::load`].
    /// Blocking.
    pub fn rescan(&self, force: bool) -> Provisioned {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let State {
            providers,
            scans,
            cache,
            ..
        } = &mut *state;
        for provider in providers.iter() {
            let due = scans
                .get(&provider.name)
                .is_none_or(|s| s.at.elapsed() >= provider.update_interval);
            if force || due {
                scan_provider(provider, scans, cache);
            }
        }
        self.assemble(&mut state)
    }

    /// How long until the next provider is due for a rescan (the default
    /// interval when there are no providers).
    pub fn next_rescan(&self) -> Duration {
        let state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state
            .providers
            .iter()
            .map(|p| {
                let since = state.scans.get(&p.name).map(|s| s.at.elapsed());
                p.update_interval
                    .saturating_sub(since.unwrap_or(p.update_interval))
            })
            .min()
            .unwrap_or(DEFAULT_UPDATE_INTERVAL)
            .max(Duration::from_millis(100))
    }

    fn assemble(&self, state: &mut State) -> Provisioned {
        let mut problems = state.setup_problems.clone();
        let mut folders: Vec<Folder> = Vec::new();
        let mut add_folder = |uid: &str, title: &str| {
            if !uid.is_empty() && !folders.iter().any(|f| f.uid == uid) {
                folders.push(Folder {
                    id: self.ids.id(IdKind::Dashboard, &format!("folder/{uid}")),
                    uid: uid.to_owned(),
                    title: title.to_owned(),
                    created: self.started,
                });
            }
        };
        let mut list: Vec<ProvisionedDashboard> = Vec::new();
        for provider in &state.providers {
            add_folder(&provider.folder_uid, &provider.folder);
            let Some(scan) = state.scans.get(&provider.name) else {
                continue;
            };
            problems.extend(scan.problems.iter().cloned());
            for dashboard in &scan.dashboards {
                let file = dashboard.file.display().to_string();
                if let Some(other) = list.iter().find(|d| d.uid == dashboard.uid) {
                    problems.push(FileError::whole_file(
                        &file,
                        format!(
                            "dashboard uid {:?} is already used by {}; skipped",
                            dashboard.uid,
                            other.file.display()
                        ),
                    ));
                    continue;
                }
                if let Some(other) = list.iter().find(|d| {
                    d.folder_uid == dashboard.folder_uid
                        && d.title.eq_ignore_ascii_case(&dashboard.title)
                }) {
                    problems.push(FileError::whole_file(
                        &file,
                        format!(
                            "a dashboard titled {:?} is already in this folder ({}); skipped",
                            dashboard.title,
                            other.file.display()
                        ),
                    ));
                    continue;
                }
                add_folder(&dashboard.folder_uid, &dashboard.folder_title);
                let mut dashboard = dashboard.clone();
                dashboard.id = self.ids.id(IdKind::Dashboard, &dashboard.uid);
                list.push(dashboard);
            }
        }
        // Each problem is logged once, when it appears, not on every rescan.
        let now: HashSet<String> = problems.iter().map(ToString::to_string).collect();
        for problem in &problems {
            let text = problem.to_string();
            if !state.logged.contains(&text) {
                tracing::error!("provisioning: {text}");
            }
        }
        state.logged = now;
        Provisioned {
            datasources: Datasources::new(state.datasources.clone()),
            legacy: state.legacy.clone(),
            providers: state.providers.clone(),
            folders,
            dashboards: list,
            problems,
        }
    }
}

fn scan_provider(
    provider: &Provider,
    scans: &mut HashMap<String, Scan>,
    cache: &mut dashboards::FileCache,
) {
    let mut problems = Problems::new();
    let mut found = dashboards::scan(provider, cache, &mut problems);
    if let Some(previous) = scans.get(&provider.name) {
        for old in &previous.dashboards {
            if found.iter().any(|d| d.file == old.file) {
                continue;
            }
            if provider.disable_deletion {
                // Grafana keeps a deleted file's dashboard when the
                // provider disables deletion.
                if old.file.exists() {
                    continue; // Still there, but now broken or renamed uid.
                }
                found.push(old.clone());
            } else {
                tracing::info!(
                    provider = provider.name,
                    file = %old.file.display(),
                    uid = old.uid,
                    "dashboard file removed; dashboard deleted"
                );
            }
        }
    }
    scans.insert(
        provider.name.clone(),
        Scan {
            at: Instant::now(),
            dashboards: found,
            problems,
        },
    );
}

/// The `.yaml` and `.yml` files of `dir` in name order; none when it does
/// not exist.
pub(crate) fn yaml_files(dir: &Path, problems: &mut Problems) -> Vec<PathBuf> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Vec::new(),
        Err(e) => {
            problems.push(FileError::whole_file(
                &dir.display().to_string(),
                format!("cannot read the folder: {e}"),
            ));
            return Vec::new();
        }
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml") && p.is_file())
        .collect();
    files.sort();
    files
}

/// Milliseconds since the epoch (0 before it).
pub fn millis(time: SystemTime) -> i64 {
    time.duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
