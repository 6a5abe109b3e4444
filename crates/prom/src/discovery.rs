//! Target groups of a job: its `static_configs` and the files of its
//! `file_sd_configs`, as Prometheus' file discovery reads them.
//!
//! A file holds a list of groups (`targets` and `labels`) in JSON (`.json`)
//! or YAML (`.yml`, `.yaml`); each target of a file gets the label
//! `__meta_filepath`. A file that cannot be read or parsed keeps no groups
//! and is reported, without affecting other files or jobs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::config::{ScrapeConfig, TargetGroup};

/// The label file discovery puts on its targets.
pub const META_FILEPATH: &str = "__meta_filepath";

/// The groups of one job right now, and the problems met reading files.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Discovered {
    /// Groups in config order, static ones first.
    pub groups: Vec<TargetGroup>,
    /// `path: problem` for every file that could not be used.
    pub errors: Vec<String>,
}

/// Reads the current groups of `job`; relative file paths are resolved
/// against `base_dir` (the config file's directory).
pub fn discover(job: &ScrapeConfig, base_dir: &Path) -> Discovered {
    let mut found = Discovered {
        groups: job.static_configs.clone(),
        errors: Vec::new(),
    };
    for file_sd in &job.file_sd_configs {
        for pattern in &file_sd.files {
            let full = if Path::new(pattern).is_absolute() {
                PathBuf::from(pattern)
            } else {
                base_dir.join(pattern)
            };
            let paths = match glob::glob(&full.to_string_lossy()) {
                Ok(paths) => paths,
                Err(e) => {
                    found.errors.push(format!("{pattern}: {e}"));
                    continue;
                }
            };
            let mut paths: Vec<PathBuf> = paths.filter_map(Result::ok).collect();
            paths.sort();
            for path in paths {
                match read_file(&path) {
                    Ok(groups) => found.groups.extend(groups),
                    Err(e) => found.errors.push(format!("{}: {e}", path.display())),
                }
            }
        }
    }
    found
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
    use crate::config::Config;

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
        let job = Config::parse(yaml, Path::new("p.yml"))
            .unwrap()
            .scrape_configs
            .remove(0);
        let found = discover(&job, dir.path());
        let targets = targets_of(&found.groups);
        let addresses: Vec<&str> = targets.iter().map(|(_, a)| a.as_str()).collect();
        assert_eq!(addresses, ["s:1", "h1:1", "h2:2", "h3:3"]);
        assert_eq!(targets[1].0.get("env").map(String::as_str), Some("prod"));
        assert!(targets[3].0[META_FILEPATH].ends_with("b.yml"));
        assert!(!targets[0].0.contains_key(META_FILEPATH));
        assert_eq!(found.errors.len(), 1);
        assert!(found.errors[0].contains("c.json"), "{:?}", found.errors);
    }
}
