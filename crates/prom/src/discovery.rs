//! Target groups of the jobs: their `static_configs` and the files of their
//! `file_sd_configs`, as Prometheus' file discovery reads them.
//!
//! A file holds a list of groups (`targets` and `labels`) in JSON (`.json`)
//! or YAML (`.yml`, `.yaml`); each target of a file gets the label
//! `__meta_filepath`. A file that cannot be read or parsed keeps no groups
//! and is reported, without affecting other files or jobs.
//!
//! When files are read again: Prometheus watches the files' directories
//! (inotify) and re-reads a `file_sd_configs` entry's files on any change,
//! and also every `refresh_interval` (5m by default) in case a change
//! notification was missed. vigil has no watcher; its stand-in is
//! [`Discovery::poll`], which the server calls every [`POLL_TICK`]: it
//! lists each entry's globs again and compares every file's modification
//! time and size with those of the last read. An entry whose list of files
//! or whose stamps changed is re-read at once, and an entry is re-read in
//! full once its own `refresh_interval` has passed since its last read,
//! whatever the stamps say (which catches a rewrite that keeps the size
//! within the file system's time granularity, as the refresh catches a
//! lost notification upstream).
//!
//! Everything here is blocking file I/O: callers in async code run it on
//! blocking threads.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use crate::config::{Config, FileSdConfig, ScrapeConfig, TargetGroup};

/// The label file discovery puts on its targets.
pub const META_FILEPATH: &str = "__meta_filepath";

/// How often the server looks for changed target files (a glob and a
/// `stat` per file: cheap enough to stand in for change notifications).
pub const POLL_TICK: Duration = Duration::from_secs(1);

/// The groups of one job right now, and the problems met reading files.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Discovered {
    /// Groups in config order, static ones first.
    pub groups: Vec<TargetGroup>,
    /// `path: problem` for every file that could not be used.
    pub errors: Vec<String>,
}

/// The target groups of every job of a config, kept current by
/// [`Discovery::poll`].
#[derive(Debug, Default)]
pub struct Discovery {
    jobs: BTreeMap<String, JobGroups>,
}

#[derive(Debug)]
struct JobGroups {
    static_groups: Vec<TargetGroup>,
    files: Vec<FileSd>,
}

/// What identifies a file's content without reading it.
type Stamp = Option<(SystemTime, u64)>;

/// One `file_sd_configs` entry and what its files held at the last read.
#[derive(Debug)]
struct FileSd {
    /// The globs, resolved against the config file's directory.
    patterns: Vec<(String, PathBuf)>,
    refresh_interval: Duration,
    last_read: Instant,
    /// The files the globs matched at the last read, with their stamps.
    stamps: Vec<(PathBuf, Stamp)>,
    groups: Vec<TargetGroup>,
    errors: Vec<String>,
}

impl Discovery {
    /// Reads the target files of every job of `config` (relative paths
    /// against `base_dir`, the config file's directory) at time `now`.
    pub fn new(config: &Config, base_dir: &Path, now: Instant) -> Discovery {
        let jobs = config
            .scrape_configs
            .iter()
            .map(|job| (job.job_name.clone(), JobGroups::new(job, base_dir, now)))
            .collect();
        Discovery { jobs }
    }

    /// The current groups of the job named `job_name` (none for a job the
    /// config this was built from does not have).
    pub fn job(&self, job_name: &str) -> Discovered {
        let Some(job) = self.jobs.get(job_name) else {
            return Discovered::default();
        };
        let mut found = Discovered {
            groups: job.static_groups.clone(),
            errors: Vec::new(),
        };
        for file_sd in &job.files {
            found.groups.extend(file_sd.groups.iter().cloned());
            found.errors.extend(file_sd.errors.iter().cloned());
        }
        found
    }

    /// Whether any job reads target files (otherwise polling is pointless).
    pub fn has_files(&self) -> bool {
        self.jobs.values().any(|j| !j.files.is_empty())
    }

    /// Re-reads the entries whose files changed and those whose
    /// `refresh_interval` has passed at `now`; true when any job's groups or
    /// problems are different afterwards.
    pub fn poll(&mut self, now: Instant) -> bool {
        let mut changed = false;
        for job in self.jobs.values_mut() {
            for file_sd in &mut job.files {
                let due =
                    now.saturating_duration_since(file_sd.last_read) >= file_sd.refresh_interval;
                if due || file_sd.listing() != file_sd.stamps {
                    let groups = std::mem::take(&mut file_sd.groups);
                    let errors = std::mem::take(&mut file_sd.errors);
                    file_sd.read(now);
                    changed |= groups != file_sd.groups || errors != file_sd.errors;
                }
            }
        }
        changed
    }
}

impl JobGroups {
    fn new(job: &ScrapeConfig, base_dir: &Path, now: Instant) -> JobGroups {
        JobGroups {
            static_groups: job.static_configs.clone(),
            files: job
                .file_sd_configs
                .iter()
                .map(|c| FileSd::new(c, base_dir, now))
                .collect(),
        }
    }
}

impl FileSd {
    fn new(config: &FileSdConfig, base_dir: &Path, now: Instant) -> FileSd {
        let patterns = config
            .files
            .iter()
            .map(|pattern| {
                let full = if Path::new(pattern).is_absolute() {
                    PathBuf::from(pattern)
                } else {
                    base_dir.join(pattern)
                };
                (pattern.clone(), full)
            })
            .collect();
        let mut file_sd = FileSd {
            patterns,
            refresh_interval: config.refresh_interval.0,
            last_read: now,
            stamps: Vec::new(),
            groups: Vec::new(),
            errors: Vec::new(),
        };
        file_sd.read(now);
        file_sd
    }

    /// The files the globs match now, each pattern's sorted, with their
    /// stamps; a pattern that is not a valid glob matches nothing.
    fn listing(&self) -> Vec<(PathBuf, Stamp)> {
        self.matches()
            .into_iter()
            .filter_map(Result::ok)
            .map(|path| {
                let stamp = stamp(&path);
                (path, stamp)
            })
            .collect()
    }

    /// Each pattern's files in order, or why the pattern is not a glob.
    fn matches(&self) -> Vec<Result<PathBuf, String>> {
        let mut out = Vec::new();
        for (pattern, full) in &self.patterns {
            match glob::glob(&full.to_string_lossy()) {
                Ok(paths) => {
                    let mut paths: Vec<PathBuf> = paths.filter_map(Result::ok).collect();
                    paths.sort();
                    out.extend(paths.into_iter().map(Ok));
                }
                Err(e) => out.push(Err(format!("{pattern}: {e}"))),
            }
        }
        out
    }

    /// Reads every file again. A file's stamp is taken before its content,
    /// so a write in between shows as a change at the next poll.
    fn read(&mut self, now: Instant) {
        self.last_read = now;
        self.stamps.clear();
        self.groups.clear();
        self.errors.clear();
        for found in self.matches() {
            let path = match found {
                Ok(path) => path,
                Err(e) => {
                    self.errors.push(e);
                    continue;
                }
            };
            self.stamps.push((path.clone(), stamp(&path)));
            match read_file(&path) {
                Ok(groups) => self.groups.extend(groups),
                Err(e) => self.errors.push(format!("{}: {e}", path.display())),
            }
        }
    }
}

fn stamp(path: &Path) -> Stamp {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}

fn read_file(path: &Path) -> Result<Vec<TargetGroup>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let is_json = path.extension().is_some_and(|e| e == "json");
    let mut groups: Vec<TargetGroup> = if is_json {
        serde_json::from_str(&text).map_err(|e| e.to_string())?
    } else if text.trim().is_empty() {
        Vec::new()
    } else {
        yaml_serde::from_str(&text).map_err(|e| e.to_string())?
    };
    let filepath = path.to_string_lossy().into_owned();
    for group in &mut groups {
        group
            .labels
            .insert(META_FILEPATH.to_owned(), filepath.clone());
        for name in group.labels.keys() {
            if !model::is_valid_label_name(name) {
                return Err(format!("{name:?} is not a valid label name"));
            }
        }
    }
    Ok(groups)
}

/// Every `(group labels, address)` pair of the groups.
pub fn targets_of(groups: &[TargetGroup]) -> Vec<(BTreeMap<String, String>, String)> {
    groups
        .iter()
        .flat_map(|g| g.targets.iter().map(move |t| (g.labels.clone(), t.clone())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs::File;

    /// A config with one job `j` reading `files` every `refresh`.
    fn config(files: &str, refresh: &str) -> Config {
        let yaml = format!(
            "scrape_configs:\n  - job_name: j\n    file_sd_configs:\n      - files: [{files}]\n        refresh_interval: {refresh}\n"
        );
        Config::parse(&yaml, Path::new("p.yml")).unwrap()
    }

    fn addresses(discovery: &Discovery) -> Vec<String> {
        targets_of(&discovery.job("j").groups)
            .into_iter()
            .map(|(_, a)| a)
            .collect()
    }

    /// Writes `text` to `path` keeping its modification time, as a rewrite
    /// within the file system's time granularity would.
    fn rewrite_keeping_mtime(path: &Path, text: &str) {
        let mtime = std::fs::metadata(path).unwrap().modified().unwrap();
        std::fs::write(path, text).unwrap();
        File::options()
            .write(true)
            .open(path)
            .unwrap()
            .set_modified(mtime)
            .unwrap();
    }

    #[test]
    fn reads_static_json_and_yaml_groups_and_reports_bad_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("a.json"),
            r#"[{"targets": ["h1:1", "h2:2"], "labels": {"env": "prod"}}]"#,
        )
        .unwrap();
        std::fs::write(dir.path().join("b.yml"), "- targets: [h3:3]\n").unwrap();
        std::fs::write(dir.path().join("c.json"), "not json").unwrap();
        let yaml = "scrape_configs:\n  - job_name: j\n    static_configs:\n      - targets: [s:1]\n    file_sd_configs:\n      - files: ['*.json', 'b.yml']\n";
        let config = Config::parse(yaml, Path::new("p.yml")).unwrap();
        let found = Discovery::new(&config, dir.path(), Instant::now()).job("j");
        let targets = targets_of(&found.groups);
        let addresses: Vec<&str> = targets.iter().map(|(_, a)| a.as_str()).collect();
        assert_eq!(addresses, ["s:1", "h1:1", "h2:2", "h3:3"]);
        assert_eq!(targets[1].0.get("env").map(String::as_str), Some("prod"));
        assert!(targets[3].0[META_FILEPATH].ends_with("b.yml"));
        assert!(!targets[0].0.contains_key(META_FILEPATH));
        assert_eq!(found.errors.len(), 1);
        assert!(found.errors[0].contains("c.json"), "{:?}", found.errors);
    }

    #[test]
    fn changed_added_and_removed_files_are_read_at_the_next_poll() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.yml"), dir.path().join("b.yml"));
        std::fs::write(&a, "- targets: [a:1]\n").unwrap();
        let t0 = Instant::now();
        let mut discovery = Discovery::new(&config("'*.yml'", "5m"), dir.path(), t0);
        let soon = t0 + Duration::from_millis(1);
        assert!(!discovery.poll(soon), "nothing changed");
        std::fs::write(&a, "- targets: [a:1, a:2]\n").unwrap();
        assert!(discovery.poll(soon));
        assert_eq!(addresses(&discovery), ["a:1", "a:2"]);
        std::fs::write(&b, "- targets: [b:1]\n").unwrap();
        assert!(discovery.poll(soon));
        assert_eq!(addresses(&discovery), ["a:1", "a:2", "b:1"]);
        std::fs::remove_file(&a).unwrap();
        assert!(discovery.poll(soon));
        assert_eq!(addresses(&discovery), ["b:1"]);
        assert!(!discovery.poll(soon));
    }

    /// A rewrite the stamps cannot see is read when the entry's own
    /// `refresh_interval` has passed since its last read, not before.
    #[test]
    fn refresh_interval_rereads_what_the_stamps_miss() {
        for (refresh, after, reread) in [
            ("1s", Duration::from_millis(500), false),
            ("1s", Duration::from_secs(1), true),
            ("2s", Duration::from_secs(1), false),
            ("2s", Duration::from_secs(2), true),
            ("5m", Duration::from_secs(60), false),
        ] {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("t.json");
            std::fs::write(&path, r#"[{"targets": ["a:1"]}]"#).unwrap();
            let t0 = Instant::now();
            let mut discovery = Discovery::new(&config("'t.json'", refresh), dir.path(), t0);
            rewrite_keeping_mtime(&path, r#"[{"targets": ["b:1"]}]"#);
            assert_eq!(
                discovery.poll(t0 + after),
                reread,
                "{refresh} after {after:?}"
            );
            let want = if reread { "b:1" } else { "a:1" };
            assert_eq!(addresses(&discovery), [want], "{refresh} after {after:?}");
        }
    }

    #[test]
    fn a_due_refresh_that_finds_nothing_new_is_no_change() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("t.yml"), "- targets: [a:1]\n").unwrap();
        let t0 = Instant::now();
        let mut discovery = Discovery::new(&config("'t.yml'", "1s"), dir.path(), t0);
        assert!(discovery.has_files());
        assert!(!discovery.poll(t0 + Duration::from_secs(5)));
        assert_eq!(addresses(&discovery), ["a:1"]);
    }

    #[test]
    fn jobs_without_files_need_no_polling() {
        let yaml =
            "scrape_configs:\n  - job_name: j\n    static_configs:\n      - targets: [s:1]\n";
        let config = Config::parse(yaml, Path::new("p.yml")).unwrap();
        let discovery = Discovery::new(&config, Path::new("."), Instant::now());
        assert!(!discovery.has_files());
        assert_eq!(addresses(&discovery), ["s:1"]);
        assert_eq!(discovery.job("other"), Discovered::default());
    }
}
