//! `DIR/dashboards/*.yaml|yml`: dashboard providers, and the dashboard
//! JSON files each provider's `options.path` holds.
//!
//! A provider is read as Grafana reads one (`name`, `orgId`, `type: file`,
//! `folder`, `folderUid`, `options.path`, `options.foldersFromFilesStructure`,
//! `updateIntervalSeconds`, `disableDeletion`, `allowUiUpdates`, and the old
//! format: a bare list with snake_case keys). Its files are scanned again
//! every `updateIntervalSeconds`; a file whose bytes did not change is not
//! parsed again, and one that did gets the next version.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use gocompat::yaml::{FileError, Location};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::values::{Env, Flag, Int, Json, Text, with_env};
use super::{MESSAGES, Problems, locate, millis, yaml_files};

/// Grafana's default `updateIntervalSeconds`.
pub const DEFAULT_UPDATE_INTERVAL: Duration = Duration::from_secs(10);

/// The largest dashboard file read (the biggest real ones are a few MB).
const MAX_DASHBOARD_FILE: u64 = 32 << 20;

/// Folders are not followed deeper than this (a symlink loop ends here).
const MAX_DEPTH: usize = 16;

/// One dashboard provider, its settings resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provider {
    /// `name`, unique among providers.
    pub name: String,
    /// `folder`: the title of the folder its dashboards go in (empty: the
    /// General folder, i.e. none).
    pub folder: String,
    /// `folderUid`, or the stable uid vigil derives from the title.
    pub folder_uid: String,
    /// `options.path` resolved: relative paths against the provisioning
    /// folder, a missing `/etc/grafana/provisioning/...` inside it.
    pub path: PathBuf,
    /// `options.foldersFromFilesStructure`: each subfolder of `path` is a
    /// folder of dashboards named after it.
    pub folders_from_files_structure: bool,
    /// `updateIntervalSeconds` (default 10 s).
    pub update_interval: Duration,
    /// `disableDeletion`: a dashboard whose file goes away stays.
    pub disable_deletion: bool,
    /// `allowUiUpdates`: its dashboards may be saved through the API.
    pub allow_ui_updates: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ProvidersFile {
    #[serde(rename = "apiVersion")]
    #[allow(dead_code)] // Read so that a bad value is reported.
    api_version: Int,
    providers: Vec<Entry>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Entry {
    name: Text,
    #[serde(alias = "org_id")]
    org_id: Int,
    #[serde(rename = "type")]
    kind: Text,
    folder: Text,
    #[serde(alias = "folder_uid")]
    folder_uid: Text,
    #[allow(dead_code)] // Dashboards here are editable in the UI either way.
    editable: Flag,
    options: Json,
    #[serde(alias = "disable_deletion")]
    disable_deletion: Flag,
    #[serde(alias = "update_interval_seconds")]
    update_interval_seconds: Int,
    #[serde(alias = "allow_ui_updates")]
    allow_ui_updates: Flag,
}

/// The uid vigil gives a folder that has none: derived from its title, so
/// it is the same on every start and for every provider naming it.
pub fn folder_uid_from_title(title: &str) -> String {
    short_hash(&["folder", title])
}

/// The uid vigil gives a provisioned dashboard whose JSON has none:
/// derived from its provider and its path inside the provider's folder,
/// so links to it survive restarts.
pub fn dashboard_uid_from_path(provider: &str, relative_path: &str) -> String {
    short_hash(&["dashboard", provider, relative_path])
}

/// 14 hex digits of the SHA-256 of `parts` (Grafana's generated uids are
/// 14 characters too).
fn short_hash(parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    hasher.finalize()[..7]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Reads every provider file of `dir` (the `dashboards` folder) and
/// resolves each provider's path against `root` (the provisioning folder).
pub(crate) fn read_providers(
    dir: &Path,
    root: &Path,
    env: &Env,
    problems: &mut Problems,
) -> Vec<Provider> {
    let mut providers: Vec<Provider> = Vec::new();
    for path in yaml_files(dir, problems) {
        let name = path.display().to_string();
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) => {
                problems.push(FileError::whole_file(&name, format!("cannot read: {e}")));
                continue;
            }
        };
        let (entries, locations) = match with_env(env, || parse(&text)) {
            Ok(found) => found,
            Err(e) => {
                problems.push(MESSAGES.error(&name, &text, &e));
                continue;
            }
        };
        for (i, entry) in entries.into_iter().enumerate() {
            let at = |message: String| FileError {
                file: name.clone(),
                location: locations.get(i).copied(),
                message,
            };
            match provider(entry, root) {
                Ok(p) if providers.iter().any(|q| q.name == p.name) => problems.push(at(format!(
                    "dashboard provider names must be unique: {:?} is already used; skipped",
                    p.name
                ))),
                Ok(p) => providers.push(p),
                Err(message) => problems.push(at(message)),
            }
        }
    }
    providers
}

fn parse(text: &str) -> Result<(Vec<Entry>, Vec<Location>), yaml_serde::Error> {
    // Grafana's first format is a bare list of providers.
    let bare = matches!(
        yaml_serde::from_str::<yaml_serde::Value>(text),
        Ok(yaml_serde::Value::Sequence(_))
    );
    if bare {
        let entries: Vec<Entry> = yaml_serde::from_str(text)?;
        return Ok((entries, locate::top_level_items(text)));
    }
    let file: Option<ProvidersFile> = yaml_serde::from_str(text)?;
    Ok((
        file.unwrap_or_default().providers,
        locate::item_locations(text, "providers"),
    ))
}

/// The container path of Grafana's provisioning folder: a provider path
/// under it that does not exist here is looked for in vigil's
/// provisioning folder instead (the reference setup mounts its folder
/// there).
const CONTAINER_PROVISIONING: &str = "/etc/grafana/provisioning";

fn provider(entry: Entry, root: &Path) -> Result<Provider, String> {
    let name = entry.name.0;
    if name.trim().is_empty() {
        return Err("dashboard provider without a name; skipped".to_owned());
    }
    if !matches!(entry.org_id.0, 0 | 1) {
        return Err(format!(
            "dashboard provider {name:?} is for organization {}; vigil serves organization 1 only, skipped",
            entry.org_id.0
        ));
    }
    if !matches!(entry.kind.0.as_str(), "" | "file") {
        return Err(format!(
            "dashboard provider {name:?} has type {:?}; only \"file\" is supported, skipped",
            entry.kind.0
        ));
    }
    let options = entry.options.0;
    let Some(path) = options.get("path").and_then(|p| p.as_str()) else {
        return Err(format!(
            "dashboard provider {name:?}: options.path is missing or not a string; skipped"
        ));
    };
    let folders_from_files_structure = match options.get("foldersFromFilesStructure") {
        Some(serde_json::Value::Bool(b)) => *b,
        Some(serde_json::Value::String(s)) => s == "true",
        _ => false,
    };
    let folder = entry.folder.0;
    if folders_from_files_structure && !(folder.is_empty() && entry.folder_uid.0.is_empty()) {
        return Err(format!(
            "dashboard provider {name:?}: 'folder' and 'folderUid' must be empty with 'foldersFromFilesStructure'; skipped"
        ));
    }
    let folder_uid = match entry.folder_uid.0 {
        uid if uid.is_empty() && folder.is_empty() => String::new(),
        uid if uid.is_empty() => folder_uid_from_title(&folder),
        uid => {
            if let Some(problem) = super::datasources::uid_problem(&uid) {
                return Err(format!(
                    "dashboard provider {name:?}: folder {problem}; skipped"
                ));
            }
            uid
        }
    };
    let seconds = entry.update_interval_seconds.0;
    let update_interval = if seconds <= 0 {
        DEFAULT_UPDATE_INTERVAL
    } else {
        Duration::from_secs(seconds.unsigned_abs())
    };
    Ok(Provider {
        path: resolve(root, path, &name),
        name,
        folder,
        folder_uid,
        folders_from_files_structure,
        update_interval,
        disable_deletion: entry.disable_deletion.0,
        allow_ui_updates: entry.allow_ui_updates.0,
    })
}

fn resolve(root: &Path, path: &str, provider: &str) -> PathBuf {
    let given = Path::new(path);
    if given.is_relative() {
        return root.join(given);
    }
    if !given.exists()
        && let Ok(rest) = given.strip_prefix(CONTAINER_PROVISIONING)
    {
        let inside = root.join(rest);
        tracing::info!(
            provider,
            path,
            resolved = %inside.display(),
            "dashboard provider path is Grafana's container path and does not exist here; using the same path inside the provisioning folder"
        );
        return inside;
    }
    given.to_owned()
}

/// One dashboard read from a provider's folder.
#[derive(Debug, Clone)]
pub struct ProvisionedDashboard {
    /// Grafana's numeric id (stable per uid within a run).
    pub id: i64,
    /// `uid` of the JSON, or derived from provider and path.
    pub uid: String,
    /// `title` of the JSON (never empty).
    pub title: String,
    /// `tags` of the JSON.
    pub tags: Vec<String>,
    /// The folder's uid ("" for the General folder).
    pub folder_uid: String,
    /// The folder's title ("" for the General folder).
    pub folder_title: String,
    /// The provider's name.
    pub provider: String,
    /// Whether the provider lets the API save it.
    pub allow_ui_updates: bool,
    /// The file.
    pub file: PathBuf,
    /// The file's path inside the provider's folder (Grafana's
    /// `provisionedExternalId`).
    pub external_id: String,
    /// The JSON as written (never migrated here; the UI migrates).
    pub json: Arc<serde_json::Value>,
    /// 1 when first read, one more each time the file's content changes.
    pub version: i64,
    /// When vigil first read it, ms since the epoch (the file's mtime).
    pub created: i64,
    /// When its content last changed, ms since the epoch (the mtime).
    pub updated: i64,
}

/// What a file held when last read.
#[derive(Debug)]
pub(crate) struct CachedFile {
    digest: [u8; 32],
    parsed: Result<Parsed, FileError>,
    version: i64,
    created: i64,
    updated: i64,
}

#[derive(Debug, Clone)]
struct Parsed {
    uid: Option<String>,
    title: String,
    tags: Vec<String>,
    json: Arc<serde_json::Value>,
}

/// The files of every provider, remembered across scans.
pub(crate) type FileCache = HashMap<PathBuf, CachedFile>;

/// Reads the dashboards of one provider. Files unchanged since the last
/// scan are taken from `cache` without parsing; a file's problem is
/// reported when it is first seen (or changes), not on every scan.
pub(crate) fn scan(
    provider: &Provider,
    cache: &mut FileCache,
    problems: &mut Problems,
) -> Vec<ProvisionedDashboard> {
    let mut files = Vec::new();
    if let Err(e) = walk(&provider.path, 0, &mut files) {
        problems.push(FileError::whole_file(
            &provider.path.display().to_string(),
            format!(
                "dashboard provider {:?}: cannot read its folder: {e}",
                provider.name
            ),
        ));
        return Vec::new();
    }
    files.sort();
    // Files gone from the provider's folder are forgotten.
    cache.retain(|path, _| !path.starts_with(&provider.path) || files.contains(path));
    let mut out = Vec::new();
    for file in files {
        let name = file.display().to_string();
        let (bytes, mtime) = match read_limited(&file) {
            Ok(found) => found,
            Err(message) => {
                problems.push(FileError::whole_file(&name, message));
                continue;
            }
        };
        let digest: [u8; 32] = Sha256::digest(&bytes).into();
        let entry = match cache.get_mut(&file) {
            Some(cached) if cached.digest == digest => cached,
            previous => {
                let parsed = parse_dashboard(&name, &bytes);
                let (version, created) = previous
                    .map(|p| (p.version + 1, p.created))
                    .unwrap_or((1, mtime));
                cache.insert(
                    file.clone(),
                    CachedFile {
                        digest,
                        parsed,
                        version,
                        created,
                        updated: mtime,
                    },
                );
                cache.get_mut(&file).expect("just inserted")
            }
        };
        let parsed = match &entry.parsed {
            Ok(parsed) => parsed,
            Err(e) => {
                problems.push(e.clone());
                continue;
            }
        };
        let relative = file
            .strip_prefix(&provider.path)
            .unwrap_or(&file)
            .to_string_lossy()
            .replace('\\', "/");
        let (folder_title, folder_uid) = if provider.folders_from_files_structure {
            match Path::new(&relative)
                .parent()
                .and_then(|p| p.file_name())
                .map(|n| n.to_string_lossy().into_owned())
            {
                Some(dir) => {
                    let uid = folder_uid_from_title(&dir);
                    (dir, uid)
                }
                None => (String::new(), String::new()),
            }
        } else {
            (provider.folder.clone(), provider.folder_uid.clone())
        };
        out.push(ProvisionedDashboard {
            id: 0,
            uid: parsed
                .uid
                .clone()
                .unwrap_or_else(|| dashboard_uid_from_path(&provider.name, &relative)),
            title: parsed.title.clone(),
            tags: parsed.tags.clone(),
            folder_uid,
            folder_title,
            provider: provider.name.clone(),
            allow_ui_updates: provider.allow_ui_updates,
            file: file.clone(),
            external_id: relative,
            json: parsed.json.clone(),
            version: entry.version,
            created: entry.created,
            updated: entry.updated,
        });
    }
    out
}

fn read_limited(file: &Path) -> Result<(Vec<u8>, i64), String> {
    let meta = std::fs::metadata(file).map_err(|e| format!("cannot read: {e}"))?;
    if meta.len() > MAX_DASHBOARD_FILE {
        return Err(format!(
            "dashboard file of {} bytes is larger than the {} MiB vigil reads; skipped",
            meta.len(),
            MAX_DASHBOARD_FILE >> 20
        ));
    }
    let mtime = meta
        .modified()
        .map(millis)
        .unwrap_or_else(|_| millis(SystemTime::now()));
    let bytes = std::fs::read(file).map_err(|e| format!("cannot read: {e}"))?;
    Ok((bytes, mtime))
}

fn walk(dir: &Path, depth: usize, files: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        // `metadata` follows symlinks, as Grafana's walk does.
        let Ok(meta) = std::fs::metadata(&path) else {
            continue;
        };
        if meta.is_dir() {
            if depth < MAX_DEPTH {
                // A subfolder that cannot be read is skipped, not fatal.
                if let Err(e) = walk(&path, depth + 1, files) {
                    tracing::warn!(folder = %path.display(), "cannot read dashboard folder: {e}");
                }
            }
        } else if path.extension().is_some_and(|e| e == "json") {
            files.push(path);
        }
    }
    Ok(())
}

/// A dashboard file's JSON: an object with a non-empty `title`, and a
/// valid `uid` when it has one.
fn parse_dashboard(name: &str, bytes: &[u8]) -> Result<Parsed, FileError> {
    let json: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| {
        let message = e.to_string();
        let message = message
            .rfind(" at line ")
            .map_or(message.as_str(), |i| &message[..i]);
        FileError {
            file: name.to_owned(),
            location: (e.line() > 0).then_some(Location {
                line: e.line(),
                column: e.column().max(1),
            }),
            message: format!("invalid dashboard JSON: {message}"),
        }
    })?;
    let Some(object) = json.as_object() else {
        return Err(FileError::whole_file(
            name,
            "a dashboard file holds a JSON object".to_owned(),
        ));
    };
    let title = object
        .get("title")
        .and_then(|t| t.as_str())
        .map(str::trim)
        .unwrap_or_default()
        .to_owned();
    if title.is_empty() {
        return Err(FileError::whole_file(
            name,
            "dashboard title cannot be empty; skipped".to_owned(),
        ));
    }
    let uid = match object.get("uid") {
        Some(serde_json::Value::String(uid)) if !uid.is_empty() => {
            if let Some(problem) = super::datasources::uid_problem(uid) {
                return Err(FileError::whole_file(
                    name,
                    format!("dashboard {title:?}: {problem}; skipped"),
                ));
            }
            Some(uid.clone())
        }
        _ => None,
    };
    let tags = object
        .get("tags")
        .and_then(|t| t.as_array())
        .map(|tags| {
            tags.iter()
                .filter_map(|t| t.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    Ok(Parsed {
        uid,
        title,
        tags,
        json: Arc::new(json),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_uids_are_stable_and_distinct() {
        let a = dashboard_uid_from_path("p", "a.json");
        assert_eq!(a, dashboard_uid_from_path("p", "a.json"));
        assert_eq!(a.len(), 14);
        assert_ne!(a, dashboard_uid_from_path("q", "a.json"));
        assert_ne!(a, dashboard_uid_from_path("p", "b.json"));
        assert_ne!(folder_uid_from_title("x"), dashboard_uid_from_path("x", ""));
    }

    #[test]
    fn a_bad_dashboard_names_its_line() {
        let err = parse_dashboard("d.json", b"{\n  \"title\": \"x\",\n  oops\n}").unwrap_err();
        assert_eq!(err.location.map(|l| l.line), Some(3), "{err}");
        let err = parse_dashboard("d.json", b"{\"panels\": []}").unwrap_err();
        assert!(err.message.contains("title"), "{err}");
        assert!(parse_dashboard("d.json", b"[]").is_err());
    }
}
