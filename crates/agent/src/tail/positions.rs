//! The positions file: how far each file has been delivered, in Promtail's
//! YAML format, plus a side file that says which file an offset belongs to.
//!
//! The YAML file is what Promtail 2.8 writes and reads (`positions.go`):
//!
//! ```yaml
//! positions:
//!   /var/log/app.log: "520"
//! ```
//!
//! Promtail reads it with `yaml.UnmarshalStrict`, so an extra key would
//! make Promtail refuse the file; what Promtail's format has no room for
//! (the device, inode and fingerprint of the file each offset was read
//! from, and the rotated files not yet delivered to their end) goes to a
//! JSON side file `<positions file>.vigil` beside it. The side file is only
//! trusted for a path when its newest offset equals the YAML one, so a
//! Promtail run in between (which rewrites only the YAML) is noticed.
//!
//! Both are written atomically: a temporary file in the same directory,
//! fsync, rename over the old one, fsync of the directory.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::identity::FileId;

/// Keys Promtail keeps even though no file has that name: journal cursors.
const CURSOR_PREFIXES: [&str; 2] = ["cursor-", "journal-"];

/// Promtail writes the file readable by its owner only.
const FILE_MODE: u32 = 0o600;

/// The `positions` block of promtail-config.yaml.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PositionsConfig {
    /// `filename`: where the positions are kept.
    pub filename: PathBuf,
    /// `sync_period`: how often they are written (Promtail: 10s).
    pub sync_period: Duration,
    /// `ignore_invalid_yaml`: start empty, with a warning, when the file
    /// cannot be read as positions; otherwise that is an error.
    pub ignore_invalid_yaml: bool,
    /// Never write the files (Promtail sets it for `--dry-run`).
    pub read_only: bool,
}

impl PositionsConfig {
    /// Promtail's defaults for a given file.
    pub fn new(filename: impl Into<PathBuf>) -> Self {
        Self {
            filename: filename.into(),
            sync_period: Duration::from_secs(10),
            ignore_invalid_yaml: false,
            read_only: false,
        }
    }
}

/// Why the positions could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum PositionsError {
    /// The file exists but could not be read.
    #[error("reading positions file {path}: {source}")]
    Read {
        /// The positions file.
        path: PathBuf,
        /// What the system said.
        source: io::Error,
    },
    /// The file is not Promtail's positions YAML (and
    /// `ignore_invalid_yaml` is off).
    #[error("invalid yaml positions file [{path}]: {message}")]
    Invalid {
        /// The positions file.
        path: PathBuf,
        /// What the YAML parser said.
        message: String,
    },
    /// Writing the file failed.
    #[error("writing positions file {path}: {source}")]
    Write {
        /// The file being written.
        path: PathBuf,
        /// What the system said.
        source: io::Error,
    },
}

/// One file whose offset is recorded: which file it was, and the offset of
/// the first byte not yet delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Generation {
    /// The file's identity when the offset was recorded.
    pub id: FileId,
    /// Bytes delivered from its start.
    pub offset: u64,
}

/// What is recorded for one watched path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    /// The offset in the YAML file (the newest file at the path).
    pub offset: u64,
    /// From the side file, oldest first: rotated files not yet delivered
    /// to their end, then the file at the path. Empty when the side file
    /// has nothing trustworthy for the path (a Promtail-written file).
    pub chain: Vec<Generation>,
}

#[derive(Default)]
struct State {
    /// Path (or cursor key) to offset, as Promtail keeps them: strings.
    offsets: BTreeMap<String, String>,
    /// Path to the identity chain.
    chains: BTreeMap<String, Vec<Generation>>,
    /// Paths a tailer is reading now: never cleaned up.
    live: BTreeSet<String>,
}

/// The positions of every tailed file, shared by the tailers.
pub struct Positions {
    config: PositionsConfig,
    state: Mutex<State>,
    /// Serializes writers of the files, so a periodic save and the final
    /// one never interleave their renames.
    writing: Mutex<()>,
}

/// The positions YAML as Promtail's `File` struct has it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct YamlFile {
    #[serde(default)]
    positions: Option<BTreeMap<String, Scalar>>,
}

/// A YAML scalar; yaml.v2 reads an unquoted number into a string field, so
/// `a.log: 520` is accepted as Promtail accepts it.
#[derive(Deserialize)]
#[serde(untagged)]
enum Scalar {
    Str(String),
    Unsigned(u64),
    Signed(i64),
    Float(f64),
    Bool(bool),
}

impl Scalar {
    fn into_string(self) -> String {
        match self {
            Scalar::Str(s) => s,
            Scalar::Unsigned(n) => n.to_string(),
            Scalar::Signed(n) => n.to_string(),
            Scalar::Float(n) => n.to_string(),
            Scalar::Bool(b) => b.to_string(),
        }
    }
}

/// The side file.
#[derive(Serialize, Deserialize, Default)]
struct SideFile {
    version: u32,
    files: BTreeMap<String, Vec<Generation>>,
}

impl Positions {
    /// Reads the positions file (a missing one starts empty) and its side
    /// file (a missing or unreadable side file only loses identities).
    pub fn open(config: PositionsConfig) -> Result<Arc<Positions>, PositionsError> {
        // A first start creates the file's directory, so that the first
        // save does not fail with the lines already read.
        if !config.read_only
            && let Some(dir) = config
                .filename
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
        {
            std::fs::create_dir_all(dir).map_err(|source| PositionsError::Write {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        let offsets = read_yaml(&config)?;
        let chains = read_side(&side_path(&config.filename));
        Ok(Arc::new(Positions {
            config,
            state: Mutex::new(State {
                offsets,
                chains,
                live: BTreeSet::new(),
            }),
            writing: Mutex::new(()),
        }))
    }

    /// The configuration it was opened with.
    pub fn config(&self) -> &PositionsConfig {
        &self.config
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// What is recorded for `path`, if anything. A value that is not a
    /// byte offset (Promtail would refuse to tail the file) reads as no
    /// record, so the file is read from its start rather than not at all.
    pub fn get(&self, path: &str) -> Option<Recorded> {
        let state = self.state();
        let raw = state.offsets.get(path)?;
        let Ok(offset) = raw.trim().parse::<u64>() else {
            tracing::warn!(path, value = %raw, "positions: not a byte offset, reading from the start");
            return None;
        };
        let chain = match state.chains.get(path) {
            Some(chain) if chain.last().map(|g| g.offset) == Some(offset) => chain.clone(),
            _ => Vec::new(),
        };
        Some(Recorded { offset, chain })
    }

    /// The raw string recorded for a key (journal cursors included).
    pub fn get_string(&self, key: &str) -> Option<String> {
        self.state().offsets.get(key).cloned()
    }

    /// Records the chain for `path`; the YAML offset is its newest
    /// generation's. An empty chain records nothing.
    pub fn put(&self, path: &str, chain: &[Generation]) {
        let Some(newest) = chain.last() else {
            return;
        };
        let mut state = self.state();
        state
            .offsets
            .insert(path.to_owned(), newest.offset.to_string());
        match state.chains.get_mut(path) {
            Some(existing) if existing.as_slice() == chain => {}
            _ => {
                state.chains.insert(path.to_owned(), chain.to_vec());
            }
        }
    }

    /// Forgets `path`, as Promtail does when a file stops matching.
    pub fn remove(&self, path: &str) {
        let mut state = self.state();
        state.offsets.remove(path);
        state.chains.remove(path);
    }

    /// Marks `path` as being read (`true`) or not: a path being read is
    /// kept by [`Positions::cleanup`] even while it is missing (between
    /// the rename and the create of a rotation).
    pub fn set_live(&self, path: &str, live: bool) {
        let mut state = self.state();
        if live {
            state.live.insert(path.to_owned());
        } else {
            state.live.remove(path);
        }
    }

    /// Removes entries for files that no longer exist, as Promtail does on
    /// every sync; cursor keys and paths being read are kept.
    pub fn cleanup(&self) {
        let keys: Vec<String> = {
            let state = self.state();
            state
                .offsets
                .keys()
                .filter(|k| !CURSOR_PREFIXES.iter().any(|p| k.starts_with(p)))
                .filter(|k| !state.live.contains(*k))
                .cloned()
                .collect()
        };
        for key in keys {
            match fs::metadata(&key) {
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    let mut state = self.state();
                    if !state.live.contains(&key) {
                        state.offsets.remove(&key);
                        state.chains.remove(&key);
                    }
                }
                Err(e) => {
                    tracing::warn!(path = %key, error = %e, "could not determine if log file still exists while cleaning positions file");
                }
                Ok(_) => {}
            }
        }
    }

    /// Writes both files now (unless read-only): the side file first, so a crash between the
    /// two leaves a side file the YAML does not confirm, which is ignored.
    pub fn save(&self) -> Result<(), PositionsError> {
        if self.config.read_only {
            return Ok(());
        }
        let (yaml, side) = {
            let state = self.state();
            let side = SideFile {
                version: 1,
                files: state
                    .chains
                    .iter()
                    .filter(|(k, _)| state.offsets.contains_key(*k))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            };
            (render_yaml(&state.offsets), side)
        };
        let _writing = self.writing.lock().unwrap_or_else(PoisonError::into_inner);
        let side_json = serde_json::to_vec(&side).unwrap_or_default();
        let side = side_path(&self.config.filename);
        write_atomically(&side, &side_json).map_err(|source| PositionsError::Write {
            path: side.clone(),
            source,
        })?;
        write_atomically(&self.config.filename, yaml.as_bytes()).map_err(|source| {
            PositionsError::Write {
                path: self.config.filename.clone(),
                source,
            }
        })
    }

    /// Starts the periodic save (every `sync_period`, then a cleanup, as
    /// Promtail does); the returned handle saves once more when stopped.
    pub fn start_sync(self: &Arc<Self>) -> SyncHandle {
        let quit = Arc::new((Mutex::new(false), Condvar::new()));
        let stopped = Arc::new(AtomicBool::new(false));
        let positions = self.clone();
        let q = quit.clone();
        let thread = std::thread::Builder::new()
            .name("positions-sync".into())
            .spawn(move || {
                let (lock, cvar) = &*q;
                let mut done = lock.lock().unwrap_or_else(PoisonError::into_inner);
                loop {
                    let (guard, _) = cvar
                        .wait_timeout(done, positions.config.sync_period)
                        .unwrap_or_else(PoisonError::into_inner);
                    done = guard;
                    if *done {
                        break;
                    }
                    if let Err(e) = positions.save() {
                        tracing::error!(error = %e, "error writing positions file");
                    }
                    positions.cleanup();
                }
            })
            .ok();
        SyncHandle {
            positions: self.clone(),
            quit,
            thread,
            stopped,
        }
    }
}

/// The running periodic save of [`Positions::start_sync`].
pub struct SyncHandle {
    positions: Arc<Positions>,
    quit: Arc<(Mutex<bool>, Condvar)>,
    thread: Option<JoinHandle<()>>,
    stopped: Arc<AtomicBool>,
}

impl SyncHandle {
    /// Stops the periodic save and writes the positions one last time.
    pub fn stop(mut self) -> Result<(), PositionsError> {
        self.halt();
        self.positions.save()
    }

    fn halt(&mut self) {
        if self.stopped.swap(true, Ordering::SeqCst) {
            return;
        }
        let (lock, cvar) = &*self.quit;
        *lock.lock().unwrap_or_else(PoisonError::into_inner) = true;
        cvar.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for SyncHandle {
    fn drop(&mut self) {
        if !self.stopped.load(Ordering::SeqCst) {
            self.halt();
            if let Err(e) = self.positions.save() {
                tracing::error!(error = %e, "error writing positions file");
            }
        }
    }
}

/// Where the side file of a positions file lives.
pub fn side_path(positions: &Path) -> PathBuf {
    let mut name = positions.as_os_str().to_owned();
    name.push(".vigil");
    PathBuf::from(name)
}

fn read_yaml(config: &PositionsConfig) -> Result<BTreeMap<String, String>, PositionsError> {
    let path = &config.filename;
    let text = match fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
        Err(source) => {
            return Err(PositionsError::Read {
                path: path.clone(),
                source,
            });
        }
    };
    match parse_yaml(&text) {
        Ok(map) => Ok(map),
        Err(message) if config.ignore_invalid_yaml => {
            tracing::warn!(file = %path.display(), error = %message, "ignoring invalid positions file");
            Ok(BTreeMap::new())
        }
        Err(message) => Err(PositionsError::Invalid {
            path: path.clone(),
            message,
        }),
    }
}

/// Parses Promtail's positions YAML; an empty document is no positions.
fn parse_yaml(bytes: &[u8]) -> Result<BTreeMap<String, String>, String> {
    let text = std::str::from_utf8(bytes).map_err(|e| e.to_string())?;
    if text.trim().is_empty() {
        return Ok(BTreeMap::new());
    }
    let file: YamlFile = yaml_serde::from_str(text).map_err(|e| e.to_string())?;
    Ok(file
        .positions
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k, v.into_string()))
        .collect())
}

fn read_side(path: &Path) -> BTreeMap<String, Vec<Generation>> {
    let Ok(bytes) = fs::read(path) else {
        return BTreeMap::new();
    };
    match serde_json::from_slice::<SideFile>(&bytes) {
        Ok(side) => side.files,
        Err(e) => {
            tracing::warn!(file = %path.display(), error = %e, "ignoring unreadable positions side file");
            BTreeMap::new()
        }
    }
}

/// Renders the YAML as yaml.v2 marshals Promtail's `File`: keys sorted,
/// values double-quoted.
fn render_yaml(offsets: &BTreeMap<String, String>) -> String {
    if offsets.is_empty() {
        return "positions: {}\n".to_owned();
    }
    let mut out = String::from("positions:\n");
    for (key, value) in offsets {
        out.push_str("  ");
        if plain_safe(key) {
            out.push_str(key);
        } else {
            push_quoted(&mut out, key);
        }
        out.push_str(": ");
        push_quoted(&mut out, value);
        out.push('\n');
    }
    out
}

/// Whether a key can be written as a plain YAML scalar unchanged (read
/// back by yaml.v2 and by us as the same string).
fn plain_safe(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    !"-?:,[]{}#&*!|>'\"%@` ".contains(first)
        && !s.ends_with(' ')
        && !s.contains(": ")
        && !s.contains(" #")
        && !s.ends_with(':')
        && s.chars().all(|c| !needs_escape(c))
        && !matches!(
            s,
            "~" | "null" | "true" | "false" | "yes" | "no" | "on" | "off"
        )
        // yaml.v2 reads these as null (the empty key) or as a merge key.
        && !matches!(s, "Null" | "NULL" | "<<")
        && s.parse::<f64>().is_err()
}

/// Characters YAML reads as line breaks or does not print (U+2028 and
/// U+2029 break lines even inside quotes, U+FEFF is a byte-order mark):
/// written escaped, so every key reads back unchanged.
fn needs_escape(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}')
}

fn push_quoted(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if needs_escape(c) => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Writes `data` to `path` so that a crash leaves either the old or the
/// new content: temporary file beside it, fsync, rename, fsync of the
/// directory.
fn write_atomically(path: &Path, data: &[u8]) -> io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp{}", std::process::id()));
    let result = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(FILE_MODE)
            .open(&tmp)?;
        file.write_all(data)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&tmp, path)?;
        File::open(&dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Vec<(String, String)>, String> {
        parse_yaml(text.as_bytes()).map(|m| m.into_iter().collect())
    }

    fn pair(k: &str, v: &str) -> (String, String) {
        (k.to_owned(), v.to_owned())
    }

    #[test]
    fn promtails_format_is_read() {
        let cases: &[(&str, Vec<(String, String)>)] = &[
            ("", vec![]),
            ("positions:\n", vec![]),
            ("positions: {}\n", vec![]),
            (
                "positions:\n  /a.log: \"520\"\n",
                vec![pair("/a.log", "520")],
            ),
            ("positions:\n  /a.log: 7\n", vec![pair("/a.log", "7")]),
            (
                "positions:\n  cursor-x: \"s=abc\"\n",
                vec![pair("cursor-x", "s=abc")],
            ),
        ];
        for (text, want) in cases {
            assert_eq!(&parse(text).unwrap(), want, "{text:?}");
        }
    }

    #[test]
    fn what_promtail_refuses_is_invalid() {
        for text in [
            "positions: [1, 2]\n",
            "other: 1\n",
            "positions:\n  a: \"1\"\nextra: 2\n",
            ":::\n",
        ] {
            assert!(parse(text).is_err(), "{text:?}");
        }
    }

    #[test]
    fn the_side_file_is_trusted_only_where_the_yaml_agrees() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("positions.yaml");
        let p = Positions::open(PositionsConfig::new(&file)).unwrap();
        let id = FileId {
            dev: 1,
            ino: 2,
            fp_len: 3,
            fp: 4,
        };
        let chain = [Generation { id, offset: 10 }, Generation { id, offset: 20 }];
        p.put("/a.log", &chain);
        p.put("/b.log", &chain);
        p.save().unwrap();
        let text = fs::read_to_string(&file).unwrap();
        assert_eq!(text, "positions:\n  /a.log: \"20\"\n  /b.log: \"20\"\n");
        // Promtail ran in between and moved b.log on.
        fs::write(&file, text.replace("/b.log: \"20\"", "/b.log: \"25\"")).unwrap();
        let p = Positions::open(PositionsConfig::new(&file)).unwrap();
        let a = p.get("/a.log").unwrap();
        assert_eq!((a.offset, a.chain.as_slice()), (20, &chain[..]));
        let b = p.get("/b.log").unwrap();
        assert_eq!((b.offset, b.chain.len()), (25, 0));
    }

    #[test]
    fn the_written_yaml_reads_back() {
        let mut m = BTreeMap::new();
        for key in [
            "/var/log/a.log",
            "/odd: name.log",
            "#x",
            "/q\"uote\\",
            "123",
            // Found by the positions round trip in tests/no_panic.rs:
            // written plain, these did not read back.
            "/line\u{2028}separator.log",
            "/para\u{2029}graph\u{feff}.log",
        ] {
            m.insert(key.to_owned(), "42".to_owned());
        }
        let text = render_yaml(&m);
        assert!(text.contains("  /var/log/a.log: \"42\"\n"), "{text}");
        assert_eq!(parse_yaml(text.as_bytes()).unwrap(), m);
        assert_eq!(render_yaml(&BTreeMap::new()), "positions: {}\n");
    }

    #[test]
    fn keys_yaml_v2_would_read_as_null_or_merge_are_quoted() {
        for key in ["Null", "NULL", "<<"] {
            let m = BTreeMap::from([(key.to_owned(), "1".to_owned())]);
            assert_eq!(render_yaml(&m), format!("positions:\n  \"{key}\": \"1\"\n"));
        }
    }
}
