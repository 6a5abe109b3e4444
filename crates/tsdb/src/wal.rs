//! The write-ahead log: numbered segment files, the fsync policy, and replay with tail repair.
//!
//! The log is a directory of segment files named by an eight-digit number
//! (`00000000`, `00000001`, …), each at most [`DEFAULT_SEGMENT_SIZE`] bytes
//! unless one commit alone is larger. Records are framed as
//! `[payload length: u32 LE][CRC32 of payload: u32 LE][payload]` and never
//! span two segments; a payload is a series record (ids and labels) or a
//! samples record (id, timestamp, value bits), one or more per commit.
//!
//! **fsync policy.** A commit is written to the segment file (one `write`)
//! before `commit` returns, so it survives the death of the process at once.
//! It is *durable* (survives a power loss) once fsynced:
//! - [`SyncPolicy::Interval`] (the default, every [`DEFAULT_SYNC_INTERVAL`]):
//!   a background thread fsyncs at most once per interval, and only when
//!   something was written since the last fsync. Commits in between share
//!   one fsync, so appends never wait on the disk.
//! - [`SyncPolicy::EveryCommit`]: `commit` fsyncs before returning.
//!
//! Either way the caller learns when its commit is durable: commits carry a
//! sequence number, and the database answers `is_durable` / `wait_durable`
//! for it. A failed write or fsync leaves the log refusing further writes:
//! after a failed fsync the kernel may have dropped the dirty pages, so
//! retrying could acknowledge data that is gone.
//!
//! **Checkpoints.** When the head is cut into a block, the log moves to a
//! new segment N and `checkpoint.NNNNNNNN` is written: the series and
//! samples the head still holds, framed like the segments. Once it is
//! fsynced and renamed into place, every segment before N is deleted, so the
//! log stays about as large as the head.
//!
//! **Replay** reads the newest checkpoint (damage there is an error: it was
//! complete before it got its name), then the segments from N on, in order.
//! The first frame of a segment that is short, fails its checksum or does
//! not decode ends the log: that segment is truncated there and any later
//! segment removed, each with a `tracing::warn!`, and everything before it
//! is recovered.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::TsdbError;
use crate::head::lock;
use crate::record::{self, Frame, Record};

/// Largest size of a segment file before the log moves to the next one.
pub const DEFAULT_SEGMENT_SIZE: u64 = 128 << 20;

/// How often, at most, the default policy fsyncs: a power loss can cost at
/// most this much of the samples acknowledged as written (never one
/// acknowledged as durable), while a busy server pays for at most ten fsyncs
/// a second, however many commits it makes.
pub const DEFAULT_SYNC_INTERVAL: Duration = Duration::from_millis(100);

/// When the log fsyncs; see the module documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncPolicy {
    /// Fsync at most once per interval, in the background.
    Interval(Duration),
    /// Fsync inside every commit, before it returns.
    EveryCommit,
}

impl Default for SyncPolicy {
    fn default() -> Self {
        Self::Interval(DEFAULT_SYNC_INTERVAL)
    }
}

fn segment_path(dir: &Path, n: u64) -> PathBuf {
    dir.join(format!("{n:08}"))
}

/// Checkpoints are named `checkpoint.NNNNNNNN`: the state of the head when
/// the log moved to segment N, replacing every segment before N.
const CHECKPOINT_PREFIX: &str = "checkpoint.";

fn checkpoint_path(dir: &Path, n: u64) -> PathBuf {
    dir.join(format!("{CHECKPOINT_PREFIX}{n:08}"))
}

/// The newest complete checkpoint in `dir`, removing unfinished ones.
fn latest_checkpoint(dir: &Path) -> Result<Option<u64>, TsdbError> {
    let mut best = None;
    let entries = fs::read_dir(dir).map_err(|e| TsdbError::io("read wal directory", dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| TsdbError::io("read wal directory", dir, e))?;
        let name = entry.file_name();
        let Some(rest) = name
            .to_str()
            .and_then(|n| n.strip_prefix(CHECKPOINT_PREFIX))
        else {
            continue;
        };
        match rest.parse::<u64>() {
            Ok(n) => best = best.max(Some(n)),
            Err(_) => {
                tracing::warn!(file = ?name, "removing an unfinished wal checkpoint");
                fs::remove_file(entry.path())
                    .map_err(|e| TsdbError::io("remove wal checkpoint", entry.path(), e))?;
            }
        }
    }
    Ok(best)
}

/// A checkpoint being written: the head's state when the log moved to
/// segment `n`, replacing every segment before it. It only takes effect,
/// and the segments it replaces are only deleted, in [`Checkpoint::finish`].
pub(crate) struct Checkpoint {
    dir: PathBuf,
    n: u64,
    tmp: PathBuf,
    out: std::io::BufWriter<File>,
}

impl Checkpoint {
    /// Starts checkpoint `n` in the log directory `dir`.
    pub(crate) fn create(dir: &Path, n: u64) -> Result<Self, TsdbError> {
        let tmp = dir.join(format!("{CHECKPOINT_PREFIX}{n:08}.tmp"));
        let file =
            File::create(&tmp).map_err(|e| TsdbError::io("create wal checkpoint", &tmp, e))?;
        Ok(Self {
            dir: dir.to_owned(),
            n,
            tmp,
            out: std::io::BufWriter::with_capacity(1 << 20, file),
        })
    }

    /// Appends whole frames.
    pub(crate) fn write(&mut self, frames: &[u8]) -> Result<(), TsdbError> {
        self.out
            .write_all(frames)
            .map_err(|e| TsdbError::io("write wal checkpoint", &self.tmp, e))
    }

    /// Makes the checkpoint durable and current, then deletes the segments
    /// and checkpoints it replaces.
    pub(crate) fn finish(self) -> Result<(), TsdbError> {
        let Self { dir, n, tmp, out } = self;
        let file = out
            .into_inner()
            .map_err(|e| TsdbError::io("write wal checkpoint", &tmp, e.into_error()))?;
        file.sync_all()
            .map_err(|e| TsdbError::io("fsync wal checkpoint", &tmp, e))?;
        let path = checkpoint_path(&dir, n);
        fs::rename(&tmp, &path).map_err(|e| TsdbError::io("publish wal checkpoint", &path, e))?;
        sync_dir(&dir)?;
        remove_before(&dir, n)
    }
}

/// Removes segments and checkpoints older than checkpoint `n`.
fn remove_before(dir: &Path, n: u64) -> Result<(), TsdbError> {
    for old in list_segments(dir)?.into_iter().filter(|&s| s < n) {
        let path = segment_path(dir, old);
        fs::remove_file(&path).map_err(|e| TsdbError::io("remove wal segment", &path, e))?;
    }
    let entries = fs::read_dir(dir).map_err(|e| TsdbError::io("read wal directory", dir, e))?;
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name();
        let older = name
            .to_str()
            .and_then(|s| s.strip_prefix(CHECKPOINT_PREFIX))
            .and_then(|s| s.parse::<u64>().ok())
            .is_some_and(|c| c < n);
        if older {
            fs::remove_file(entry.path())
                .map_err(|e| TsdbError::io("remove wal checkpoint", entry.path(), e))?;
        }
    }
    sync_dir(dir)
}

/// Makes a newly created or removed directory entry durable.
fn sync_dir(dir: &Path) -> Result<(), TsdbError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| TsdbError::io("sync directory", dir, e))
}

/// The segment numbers present in `dir`, ascending.
fn list_segments(dir: &Path) -> Result<Vec<u64>, TsdbError> {
    let mut out = Vec::new();
    let entries = fs::read_dir(dir).map_err(|e| TsdbError::io("read wal directory", dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| TsdbError::io("read wal directory", dir, e))?;
        let name = entry.file_name();
        match name.to_str().and_then(|n| n.parse::<u64>().ok()) {
            Some(n) => out.push(n),
            None if name
                .to_str()
                .is_some_and(|n| n.starts_with(CHECKPOINT_PREFIX)) => {}
            None => tracing::warn!(file = ?name, "ignoring a file that is not a wal segment"),
        }
    }
    out.sort_unstable();
    Ok(out)
}

/// What replay found, for the database's statistics.
#[derive(Debug, Default)]
pub(crate) struct ReplayOutcome {
    /// Number the writer's first segment should have.
    pub(crate) next_segment: u64,
    /// Segments read (including one truncated).
    pub(crate) segments: u64,
    /// Records recovered.
    pub(crate) records: u64,
    /// Bytes cut from a torn or corrupt tail.
    pub(crate) truncated_bytes: u64,
    /// Whole segments removed because they followed a corrupt one.
    pub(crate) removed_segments: u64,
}

/// Feeds every good record of the log in `dir` to `apply`, repairing a torn
/// or corrupt tail as described in the module documentation.
pub(crate) fn replay(
    dir: &Path,
    mut apply: impl FnMut(Record),
) -> Result<ReplayOutcome, TsdbError> {
    let checkpoint = latest_checkpoint(dir)?;
    let mut out = ReplayOutcome::default();
    if let Some(n) = checkpoint {
        // A checkpoint was fsynced before it got its name: damage in it is
        // not a torn write but a disk fault, and is refused.
        let path = checkpoint_path(dir, n);
        let data = fs::read(&path).map_err(|e| TsdbError::io("read wal checkpoint", &path, e))?;
        let mut offset = 0;
        loop {
            match record::read_frame(&data[offset..]) {
                Frame::End => break,
                Frame::Corrupt(why) => return Err(TsdbError::corrupt(&path, why)),
                Frame::Ok { payload, len } => {
                    let rec = record::decode(payload)
                        .ok_or_else(|| TsdbError::corrupt(&path, "undecodable record"))?;
                    apply(rec);
                    out.records += 1;
                    offset += len;
                }
            }
        }
        // Segments the checkpoint replaced, left by a crash before their
        // removal.
        remove_before(dir, n)?;
    }
    let segments = list_segments(dir)?;
    out.next_segment = segments.last().map_or(checkpoint.unwrap_or(0), |n| n + 1);
    for (i, &n) in segments.iter().enumerate() {
        let path = segment_path(dir, n);
        let data = fs::read(&path).map_err(|e| TsdbError::io("read wal segment", &path, e))?;
        out.segments += 1;
        let mut offset = 0;
        let problem = loop {
            let rest = &data[offset..];
            match record::read_frame(rest) {
                Frame::End => break None,
                Frame::Corrupt(why) => break Some(why),
                Frame::Ok { payload, len } => match record::decode(payload) {
                    Some(rec) => {
                        apply(rec);
                        out.records += 1;
                        offset += len;
                    }
                    None => break Some("undecodable record"),
                },
            }
        };
        let Some(why) = problem else { continue };
        let dropped = (data.len() - offset) as u64;
        tracing::warn!(
            segment = %path.display(),
            offset,
            dropped_bytes = dropped,
            reason = why,
            "truncating the write-ahead log at a torn or corrupt record"
        );
        OpenOptions::new()
            .write(true)
            .open(&path)
            .and_then(|f| {
                f.set_len(offset as u64)?;
                f.sync_all()
            })
            .map_err(|e| TsdbError::io("truncate wal segment", &path, e))?;
        out.truncated_bytes += dropped;
        for &later in &segments[i + 1..] {
            let later = segment_path(dir, later);
            tracing::warn!(segment = %later.display(), "removing a wal segment that follows a corrupt one");
            let len = fs::metadata(&later).map(|m| m.len()).unwrap_or(0);
            fs::remove_file(&later).map_err(|e| TsdbError::io("remove wal segment", &later, e))?;
            out.truncated_bytes += len;
            out.removed_segments += 1;
        }
        sync_dir(dir)?;
        break;
    }
    Ok(out)
}

/// The writer's state, shared with the background fsync thread.
#[derive(Debug)]
struct State {
    dir: PathBuf,
    file: Arc<File>,
    segment: u64,
    segment_len: u64,
    max_segment: u64,
    /// Sequence number of the last commit written.
    written: u64,
    /// Sequence number of the last commit known to be fsynced.
    synced: u64,
    /// Why the log refuses writes, after a failed write or fsync.
    broken: Option<String>,
    stop: bool,
}

#[derive(Debug)]
struct Shared {
    state: Mutex<State>,
    /// Signalled on every commit, every fsync and on shutdown.
    changed: Condvar,
}

impl Shared {
    fn wait<'a>(&self, guard: MutexGuard<'a, State>) -> MutexGuard<'a, State> {
        self.changed
            .wait(guard)
            .unwrap_or_else(PoisonError::into_inner)
    }
}

fn create_segment(dir: &Path, n: u64) -> Result<File, TsdbError> {
    let path = segment_path(dir, n);
    let file = OpenOptions::new()
        .create_new(true)
        .append(true)
        .open(&path)
        .map_err(|e| TsdbError::io("create wal segment", &path, e))?;
    sync_dir(dir)?;
    Ok(file)
}

/// The open log: appends commits, fsyncs them per its policy.
#[derive(Debug)]
pub(crate) struct Wal {
    shared: Arc<Shared>,
    policy: SyncPolicy,
    syncer: Option<JoinHandle<()>>,
}

impl Wal {
    /// Starts writing at segment `first_segment` of `dir` (replay first).
    pub(crate) fn open(
        dir: &Path,
        first_segment: u64,
        max_segment: u64,
        policy: SyncPolicy,
    ) -> Result<Self, TsdbError> {
        let file = create_segment(dir, first_segment)?;
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                dir: dir.to_owned(),
                file: Arc::new(file),
                segment: first_segment,
                segment_len: 0,
                max_segment,
                written: 0,
                synced: 0,
                broken: None,
                stop: false,
            }),
            changed: Condvar::new(),
        });
        let syncer = match policy {
            SyncPolicy::Interval(every) => {
                let shared = Arc::clone(&shared);
                let handle = std::thread::Builder::new()
                    .name("tsdb-wal-sync".into())
                    .spawn(move || sync_loop(&shared, every))
                    .map_err(|e| TsdbError::io("start wal sync thread", dir, e))?;
                Some(handle)
            }
            SyncPolicy::EveryCommit => None,
        };
        Ok(Self {
            shared,
            policy,
            syncer,
        })
    }

    /// Takes the log for writing. Holding the guard while applying a commit
    /// to the head makes the order of commits in the log the order in which
    /// they reach the head, so replay makes the same decisions.
    pub(crate) fn lock(&self) -> Result<WalGuard<'_>, TsdbError> {
        let st = lock(&self.shared.state);
        if let Some(why) = &st.broken {
            return Err(TsdbError::WalBroken(why.clone()));
        }
        Ok(WalGuard { wal: self, st })
    }

    /// Sequence number of the last commit known to be durable.
    pub(crate) fn synced(&self) -> u64 {
        lock(&self.shared.state).synced
    }

    /// Blocks until commit `seq` is durable.
    pub(crate) fn wait_synced(&self, seq: u64) -> Result<(), TsdbError> {
        let mut st = lock(&self.shared.state);
        loop {
            if st.synced >= seq {
                return Ok(());
            }
            if let Some(why) = &st.broken {
                return Err(TsdbError::WalBroken(why.clone()));
            }
            if self.syncer.is_none() || st.stop {
                // No one else will fsync: do it here.
                drop(st);
                return self.sync();
            }
            st = self.shared.wait(st);
        }
    }

    /// Fsyncs everything written so far, now.
    pub(crate) fn sync(&self) -> Result<(), TsdbError> {
        let mut st = lock(&self.shared.state);
        if let Some(why) = &st.broken {
            return Err(TsdbError::WalBroken(why.clone()));
        }
        if st.synced == st.written {
            return Ok(());
        }
        if let Err(e) = st.file.sync_data() {
            st.broken = Some(format!("fsync failed: {e}"));
            return Err(TsdbError::io(
                "fsync wal segment",
                segment_path(&st.dir, st.segment),
                e,
            ));
        }
        st.synced = st.written;
        self.shared.changed.notify_all();
        Ok(())
    }
}

/// Exclusive access to the log; see [`Wal::lock`].
pub(crate) struct WalGuard<'a> {
    wal: &'a Wal,
    st: MutexGuard<'a, State>,
}

impl WalGuard<'_> {
    /// Writes `bytes` (whole frames) as one commit and returns its sequence
    /// number; with [`SyncPolicy::EveryCommit`] it is durable on return.
    pub(crate) fn write(&mut self, bytes: &[u8]) -> Result<u64, TsdbError> {
        let st = &mut *self.st;
        if let Some(why) = &st.broken {
            return Err(TsdbError::WalBroken(why.clone()));
        }
        let len = bytes.len() as u64;
        if st.segment_len > 0 && st.segment_len + len > st.max_segment {
            rotate(st)?;
        }
        let path = segment_path(&st.dir, st.segment);
        if let Err(e) = (&*st.file).write_all(bytes) {
            // Cut off whatever part of the commit got written, so that the
            // next commit does not land behind a torn frame.
            if let Err(e2) = st.file.set_len(st.segment_len) {
                st.broken = Some(format!("write failed ({e}) and could not be undone ({e2})"));
            }
            return Err(TsdbError::io("write wal segment", path, e));
        }
        st.segment_len += len;
        st.written += 1;
        let seq = st.written;
        if self.wal.policy == SyncPolicy::EveryCommit {
            if let Err(e) = st.file.sync_data() {
                st.broken = Some(format!("fsync failed: {e}"));
                return Err(TsdbError::io("fsync wal segment", path, e));
            }
            st.synced = seq;
        }
        Ok(seq)
    }

    /// Moves to a new segment and returns its number: every segment before
    /// it is complete and fsynced.
    pub(crate) fn rotate(&mut self) -> Result<u64, TsdbError> {
        rotate(&mut self.st)?;
        Ok(self.st.segment)
    }
}

impl Drop for WalGuard<'_> {
    fn drop(&mut self) {
        self.wal.shared.changed.notify_all();
    }
}

/// Closes the current segment (fsynced, so every commit so far is durable)
/// and opens the next one.
fn rotate(st: &mut State) -> Result<(), TsdbError> {
    if let Err(e) = st.file.sync_data() {
        st.broken = Some(format!("fsync failed: {e}"));
        return Err(TsdbError::io(
            "fsync wal segment",
            segment_path(&st.dir, st.segment),
            e,
        ));
    }
    st.synced = st.written;
    let next = st.segment + 1;
    st.file = Arc::new(create_segment(&st.dir, next)?);
    st.segment = next;
    st.segment_len = 0;
    Ok(())
}

/// The background fsync of [`SyncPolicy::Interval`].
fn sync_loop(shared: &Shared, every: Duration) {
    let mut last_sync: Option<Instant> = None;
    let mut st = lock(&shared.state);
    loop {
        while !st.stop && (st.written == st.synced || st.broken.is_some()) {
            st = shared.wait(st);
        }
        if st.stop {
            return;
        }
        if let Some(due) = last_sync.map(|t| t + every) {
            let now = Instant::now();
            if now < due {
                st = shared
                    .changed
                    .wait_timeout(st, due - now)
                    .map(|(g, _)| g)
                    .unwrap_or_else(|e| e.into_inner().0);
                continue;
            }
        }
        // Fsync outside the lock so commits go on meanwhile. Every commit up
        // to `target` is in this file or in an earlier segment, which was
        // fsynced when the log moved past it.
        let file = Arc::clone(&st.file);
        let target = st.written;
        drop(st);
        let result = file.sync_data();
        last_sync = Some(Instant::now());
        st = lock(&shared.state);
        match result {
            Ok(()) => st.synced = st.synced.max(target),
            Err(e) => {
                tracing::error!(error = %e, "fsync of the write-ahead log failed; refusing further writes");
                st.broken = Some(format!("fsync failed: {e}"));
            }
        }
        shared.changed.notify_all();
    }
}

impl Drop for Wal {
    fn drop(&mut self) {
        lock(&self.shared.state).stop = true;
        self.shared.changed.notify_all();
        if let Some(handle) = self.syncer.take() {
            // The thread only returns or blocks on the lock; a panic in it
            // leaves nothing to clean up.
            let _ = handle.join();
        }
        if let Err(e) = self.sync() {
            tracing::warn!(error = %e, "final fsync of the write-ahead log failed");
        }
    }
}
