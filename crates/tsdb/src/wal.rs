//! The write-ahead log of the metrics storage: its fsync policy, its checkpoints, and replay into the head.
//!
//! The segment files and their frames are `segments`': a directory of files
//! named by an eight-digit number (`00000000`, `00000001`, …), each at most
//! [`DEFAULT_SEGMENT_SIZE`] bytes unless one commit alone is larger, holding
//! records framed as `[payload length: u32 LE][CRC32 of payload: u32 LE][payload]`
//! that never span two segments. A payload here is a series record (ids
//! and labels) or a samples record (id, timestamp, value bits), one or more
//! per commit.
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

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use segments::{SegmentWriter, list_segments, replay_segments, scan_frames, sync_dir};

use crate::TsdbError;
use crate::head::lock;
use crate::record::{self, Record};

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
    segments::remove_segments_below(dir, n, Some(CHECKPOINT_PREFIX))?;
    Ok(())
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
        let scan = scan_frames(&data, |payload| {
            apply(record::decode(payload).ok_or("undecodable record")?);
            out.records += 1;
            Ok(())
        });
        if let Some(why) = scan.problem {
            return Err(TsdbError::corrupt(&path, why));
        }
        // Segments the checkpoint replaced, left by a crash before their
        // removal.
        remove_before(dir, n)?;
    }
    let segments = list_segments(dir, Some(CHECKPOINT_PREFIX))?;
    out.next_segment = segments.last().map_or(checkpoint.unwrap_or(0), |n| n + 1);
    let replayed = replay_segments(dir, &segments, |_, payload| {
        apply(record::decode(payload).ok_or("undecodable record")?);
        out.records += 1;
        Ok(())
    })?;
    out.segments = replayed.segments.len() as u64;
    out.truncated_bytes = replayed.truncated_bytes;
    out.removed_segments = replayed.removed_segments;
    Ok(out)
}

/// The writer's state, shared with the background fsync thread.
#[derive(Debug)]
struct State {
    writer: SegmentWriter,
    /// Sequence number of the last commit written.
    written: u64,
    /// Sequence number of the last commit known to be fsynced.
    synced: u64,
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
        let writer = SegmentWriter::create(dir, first_segment, max_segment)?;
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                writer,
                written: 0,
                synced: 0,
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
        st.writer.check()?;
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
            st.writer.check()?;
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
        st.writer.check()?;
        if st.synced == st.written {
            return Ok(());
        }
        st.writer.sync()?;
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
        st.writer.check()?;
        if st.writer.is_full_for(bytes.len() as u64) {
            rotate(st)?;
        }
        st.writer.write(bytes)?;
        st.written += 1;
        let seq = st.written;
        if self.wal.policy == SyncPolicy::EveryCommit {
            st.writer.sync()?;
            st.synced = seq;
        }
        Ok(seq)
    }

    /// Moves to a new segment and returns its number: every segment before
    /// it is complete and fsynced.
    pub(crate) fn rotate(&mut self) -> Result<u64, TsdbError> {
        rotate(&mut self.st)?;
        Ok(self.st.writer.segment())
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
    st.writer.rotate()?;
    st.synced = st.written;
    Ok(())
}

/// The background fsync of [`SyncPolicy::Interval`].
fn sync_loop(shared: &Shared, every: Duration) {
    let mut last_sync: Option<Instant> = None;
    let mut st = lock(&shared.state);
    loop {
        while !st.stop && (st.written == st.synced || st.writer.is_broken()) {
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
        let file = st.writer.file();
        let path = st.writer.path();
        let target = st.written;
        drop(st);
        let result = file.sync_data();
        last_sync = Some(Instant::now());
        st = lock(&shared.state);
        match result {
            Ok(()) => st.synced = st.synced.max(target),
            Err(e) => {
                tracing::error!(error = %e, "fsync of the write-ahead log failed; refusing further writes");
                st.writer.fsync_failed(path, e);
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
