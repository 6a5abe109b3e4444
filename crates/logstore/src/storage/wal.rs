//! The write-ahead log of the log store: its records, group commit, and deletion of flushed segments.
//!
//! The segment files and their frames are `segments`': a directory of files
//! named by an eight-digit number (`00000000`, `00000001`, …), each at most
//! the configured segment size unless one record alone is larger, holding
//! records framed as `[payload length: u32 LE][CRC32 of payload: u32 LE][payload]`
//! that never span two segments. A payload here is:
//!
//! ```text
//! payload: [kind = 1: u8][sequence: u64 LE][wall clock of the append, ns: i64 LE]
//!          [tenant: str] then, until the end, streams:
//!          [labels][entry count: uvarint] entries:
//!              [timestamp minus the previous one (0 first): varint][line: str][metadata: labels]
//! ```
//!
//! A record holds one append's *accepted* entries, so replay inserts them
//! without judging them again. Sequence numbers grow by one per record and
//! across restarts; the label index remembers, per stream and period, the
//! sequence up to which entries are in chunk files, so replay skips exactly
//! those (see `storage.rs`).
//!
//! **Durability.** A record is written (one `write`) before the append is
//! applied to the head. With [`SyncPolicy::EveryAppend`] (the default) the
//! append then waits until it is fsynced; appenders arriving while an fsync
//! runs wait for the next one, which covers all of them: one fsync per
//! group of concurrent appends (group commit). With
//! [`SyncPolicy::Interval`], a background thread fsyncs at that interval and
//! appends return once written, as Loki's WAL does. After a failed write or
//! fsync the log refuses further writes: the kernel may have dropped the
//! pages, so acknowledging more could lose data silently.
//!
//! **Replay** reads the segments in order. The first frame that is short,
//! fails its checksum or does not decode ends the log: its segment is
//! truncated there and any later segment removed, each with a
//! `tracing::warn!`, and everything before it is recovered.
//!
//! **Deletion.** A segment other than the one being written is deleted once
//! every record in it is older than the oldest entry still only in memory.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use model::Labels;
use segments::{
    FRAME_HEADER, Reader, SegmentWriter, begin_frame, end_frame, list_segments, put_str,
    put_uvarint, put_varint, remove_segments, replay_segments,
};

use super::StorageError;
use super::encoding::{ReadLabels, put_labels};

/// Largest size of a segment before the log moves to the next one: small
/// enough that flushed data leaves the disk soon, large enough that a busy
/// store does not create files by the thousand.
pub const DEFAULT_SEGMENT_SIZE: u64 = 32 << 20;

/// The largest payload of one record; a frame counts its length in 32 bits.
const MAX_RECORD: usize = (u32::MAX >> 1) as usize;

const KIND_ENTRIES: u8 = 1;

/// When appends are made durable; see the module documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SyncPolicy {
    /// Every append waits for an fsync that covers it; concurrent appends
    /// share one fsync.
    #[default]
    EveryAppend,
    /// A background thread fsyncs at this interval; appends do not wait.
    Interval(Duration),
}

/// Locks a mutex, carrying on after a panic elsewhere: every critical
/// section here leaves its data consistent before anything can panic.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

// ---------------------------------------------------------------- records

/// Builds one record in a reusable buffer.
#[derive(Debug, Default)]
pub(crate) struct RecordBuilder {
    buf: Vec<u8>,
}

impl RecordBuilder {
    /// Starts a record; the sequence is filled in by [`WalGuard::write`].
    pub(crate) fn begin(&mut self, now_ns: i64, tenant: &str) {
        self.buf.clear();
        begin_frame(&mut self.buf);
        self.buf.push(KIND_ENTRIES);
        self.buf.extend_from_slice(&0u64.to_le_bytes());
        self.buf.extend_from_slice(&now_ns.to_le_bytes());
        put_str(&mut self.buf, tenant);
    }

    /// Adds one stream's entries.
    pub(crate) fn stream<'a>(
        &mut self,
        labels: &Labels,
        entries: impl ExactSizeIterator<Item = (i64, &'a str, &'a Labels)>,
    ) {
        put_labels(&mut self.buf, labels);
        put_uvarint(&mut self.buf, entries.len() as u64);
        let mut prev = 0i64;
        for (ts, line, metadata) in entries {
            put_varint(&mut self.buf, ts.wrapping_sub(prev));
            prev = ts;
            put_str(&mut self.buf, line);
            put_labels(&mut self.buf, metadata);
        }
    }
}

/// One entry of a record: time, line, metadata.
pub(crate) type RecordEntry<'a> = (i64, &'a str, Labels);

/// One decoded record.
#[derive(Debug, PartialEq)]
pub(crate) struct Record<'a> {
    pub(crate) seq: u64,
    pub(crate) now_ns: i64,
    pub(crate) tenant: &'a str,
    pub(crate) streams: Vec<(Labels, Vec<RecordEntry<'a>>)>,
}

fn decode(payload: &[u8]) -> Option<Record<'_>> {
    let mut r = Reader::new(payload);
    if r.u8()? != KIND_ENTRIES {
        return None;
    }
    let seq = r.u64_le()?;
    let now_ns = r.i64_le()?;
    let tenant = r.str()?;
    let mut streams = Vec::new();
    while !r.is_empty() {
        let labels = r.labels()?;
        let n = r.len()?;
        // Each entry takes at least three bytes: a bound before allocating.
        if n > r.remaining() / 3 {
            return None;
        }
        let mut entries = Vec::with_capacity(n);
        let mut ts = 0i64;
        for _ in 0..n {
            ts = ts.wrapping_add(r.varint()?);
            entries.push((ts, r.str()?, r.labels()?));
        }
        streams.push((labels, entries));
    }
    Some(Record {
        seq,
        now_ns,
        tenant,
        streams,
    })
}

/// What a segment holds, for deleting it once flushed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct SegmentInfo {
    /// Sequence of its newest record (0: none).
    pub(crate) max_seq: u64,
    /// Its size.
    pub(crate) bytes: u64,
}

/// What replay found.
#[derive(Debug, Default)]
pub(crate) struct ReplayOutcome {
    /// Number the writer's first segment should have.
    pub(crate) next_segment: u64,
    /// Sequence of the newest record recovered (0: none).
    pub(crate) last_seq: u64,
    /// The segments kept, with what they hold.
    pub(crate) segments: BTreeMap<u64, SegmentInfo>,
    /// Records recovered.
    pub(crate) records: u64,
    /// Bytes cut from a torn or corrupt tail (and segments after it).
    pub(crate) truncated_bytes: u64,
}

/// Feeds every good record of the log in `dir` to `apply`, in order,
/// repairing a torn or corrupt tail as the module documentation says.
pub(crate) fn replay(
    dir: &Path,
    mut apply: impl FnMut(Record<'_>),
) -> Result<ReplayOutcome, StorageError> {
    let mut out = ReplayOutcome::default();
    let segments = list_segments(dir, None)?;
    out.next_segment = segments.last().map_or(0, |n| n + 1);
    let replayed = replay_segments(dir, &segments, |n, payload| {
        let rec = decode(payload).ok_or("undecodable record")?;
        // Sequences only grow; a record that goes back is as wrong as one
        // that does not decode.
        if rec.seq <= out.last_seq {
            return Err("sequence number goes back");
        }
        out.last_seq = rec.seq;
        out.segments.entry(n).or_default().max_seq = rec.seq;
        apply(rec);
        out.records += 1;
        Ok(())
    })?;
    for (n, kept) in replayed.segments {
        out.segments.entry(n).or_default().bytes = kept;
    }
    out.truncated_bytes = replayed.truncated_bytes;
    Ok(out)
}

// ---------------------------------------------------------------- writer

#[derive(Debug)]
struct State {
    writer: SegmentWriter,
    /// Sequence of the last record written.
    written: u64,
    /// Sequence of the last record known to be fsynced.
    synced: u64,
    /// Whether some thread is fsyncing for the group.
    syncing: bool,
    /// Every segment on disk but the current one.
    older: BTreeMap<u64, SegmentInfo>,
    /// Newest record of the current segment.
    current_max_seq: u64,
    stop: bool,
}

#[derive(Debug)]
struct Shared {
    state: Mutex<State>,
    /// Signalled on every write, every fsync and on shutdown.
    changed: Condvar,
}

impl Shared {
    fn wait<'a>(&self, guard: MutexGuard<'a, State>) -> MutexGuard<'a, State> {
        self.changed
            .wait(guard)
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// The open log.
#[derive(Debug)]
pub(crate) struct Wal {
    shared: Arc<Shared>,
    policy: SyncPolicy,
    syncer: Option<JoinHandle<()>>,
}

impl Wal {
    /// Starts writing after replay: a new segment numbered
    /// `replayed.next_segment`, sequences after `last_seq`.
    pub(crate) fn open(
        dir: &Path,
        replayed: &ReplayOutcome,
        last_seq: u64,
        max_segment: u64,
        policy: SyncPolicy,
    ) -> Result<Self, StorageError> {
        let writer = SegmentWriter::create(dir, replayed.next_segment, max_segment)?;
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                writer,
                written: last_seq,
                synced: last_seq,
                syncing: false,
                older: replayed.segments.clone(),
                current_max_seq: 0,
                stop: false,
            }),
            changed: Condvar::new(),
        });
        let syncer = match policy {
            SyncPolicy::Interval(every) => {
                let shared = Arc::clone(&shared);
                let handle = std::thread::Builder::new()
                    .name("logstore-wal-sync".into())
                    .spawn(move || sync_loop(&shared, every))
                    .map_err(|e| StorageError::io("start wal sync thread", dir, e))?;
                Some(handle)
            }
            SyncPolicy::EveryAppend => None,
        };
        Ok(Self {
            shared,
            policy,
            syncer,
        })
    }

    /// Takes the log for writing. The storage applies a record to the head
    /// while holding the guard, so the order of records in the log is the
    /// order in which they reach the head.
    pub(crate) fn lock(&self) -> Result<WalGuard<'_>, StorageError> {
        let st = lock(&self.shared.state);
        st.writer.check()?;
        if st.stop {
            return Err(StorageError::Closed);
        }
        Ok(WalGuard { st })
    }

    /// Waits until record `seq` is durable, if the policy says appends
    /// wait; the first waiter fsyncs for every record written so far.
    pub(crate) fn wait_durable(&self, seq: u64) -> Result<(), StorageError> {
        if self.policy != SyncPolicy::EveryAppend {
            return Ok(());
        }
        self.sync_through(seq)
    }

    /// Fsyncs everything written so far.
    pub(crate) fn sync(&self) -> Result<(), StorageError> {
        let seq = lock(&self.shared.state).written;
        self.sync_through(seq)
    }

    fn sync_through(&self, seq: u64) -> Result<(), StorageError> {
        let mut st = lock(&self.shared.state);
        loop {
            if st.synced >= seq {
                return Ok(());
            }
            st.writer.check()?;
            if st.syncing {
                st = self.shared.wait(st);
                continue;
            }
            // Lead the group: fsync outside the lock so that others keep
            // writing meanwhile; their records ride on the next fsync.
            st.syncing = true;
            let file = st.writer.file();
            let target = st.written;
            let path = st.writer.path();
            drop(st);
            let result = file.sync_data();
            st = lock(&self.shared.state);
            st.syncing = false;
            self.shared.changed.notify_all();
            match result {
                // Every record up to `target` is in this file or in an
                // older segment, fsynced when the log moved past it.
                Ok(()) => st.synced = st.synced.max(target),
                Err(e) => return Err(st.writer.fsync_failed(path, e).into()),
            }
        }
    }

    /// Deletes the segments whose records are all older than `oldest_live`,
    /// the sequence of the oldest record with entries still only in memory
    /// (`u64::MAX` when there is none). The current segment is closed first
    /// when that frees it too, so an idle store keeps no log.
    pub(crate) fn remove_flushed(&self, oldest_live: u64) -> Result<(), StorageError> {
        let mut st = lock(&self.shared.state);
        if st.writer.is_broken() || st.stop {
            return Ok(());
        }
        if st.writer.segment_len() > 0 && st.current_max_seq < oldest_live {
            rotate(&mut st)?;
        }
        let dead: Vec<u64> = st
            .older
            .iter()
            .filter(|(_, info)| info.max_seq < oldest_live)
            .map(|(&n, _)| n)
            .collect();
        if dead.is_empty() {
            return Ok(());
        }
        remove_segments(st.writer.dir(), dead.iter().copied())?;
        for n in dead {
            st.older.remove(&n);
        }
        Ok(())
    }

    /// Bytes of log on disk.
    pub(crate) fn bytes(&self) -> u64 {
        let st = lock(&self.shared.state);
        st.writer.segment_len() + st.older.values().map(|s| s.bytes).sum::<u64>()
    }

    /// Number of segment files.
    #[cfg(test)]
    pub(crate) fn segments(&self) -> usize {
        let st = lock(&self.shared.state);
        st.older.len() + 1
    }

    /// Fsyncs and refuses further writes.
    pub(crate) fn close(&self) -> Result<(), StorageError> {
        let result = self.sync();
        lock(&self.shared.state).stop = true;
        self.shared.changed.notify_all();
        result
    }
}

/// Exclusive access to the log; see [`Wal::lock`].
pub(crate) struct WalGuard<'a> {
    st: MutexGuard<'a, State>,
}

impl WalGuard<'_> {
    /// The sequence the next record will get.
    pub(crate) fn next_seq(&self) -> u64 {
        self.st.written + 1
    }

    /// Frames and writes the record built in `rec` with the next sequence,
    /// and returns that sequence.
    pub(crate) fn write(&mut self, rec: &mut RecordBuilder) -> Result<u64, StorageError> {
        let st = &mut *self.st;
        st.writer.check()?;
        let payload_len = rec.buf.len() - FRAME_HEADER;
        if payload_len > MAX_RECORD {
            return Err(StorageError::BatchTooLarge(payload_len));
        }
        let seq = st.written + 1;
        rec.buf[FRAME_HEADER + 1..FRAME_HEADER + 9].copy_from_slice(&seq.to_le_bytes());
        end_frame(&mut rec.buf, 0);
        let len = rec.buf.len() as u64;
        if st.writer.is_full_for(len) {
            rotate(st)?;
        }
        st.writer.write(&rec.buf)?;
        st.written = seq;
        st.current_max_seq = seq;
        Ok(seq)
    }
}

/// Closes the current segment (fsynced, so every record so far is durable)
/// and opens the next one.
fn rotate(st: &mut State) -> Result<(), StorageError> {
    let (closed, bytes) = st.writer.rotate()?;
    st.synced = st.written;
    st.older.insert(
        closed,
        SegmentInfo {
            max_seq: st.current_max_seq,
            bytes,
        },
    );
    st.current_max_seq = 0;
    Ok(())
}

/// The background fsync of [`SyncPolicy::Interval`].
fn sync_loop(shared: &Shared, every: Duration) {
    let mut next = Instant::now() + every;
    let mut st = lock(&shared.state);
    loop {
        if st.stop {
            return;
        }
        let now = Instant::now();
        if now < next {
            st = shared
                .changed
                .wait_timeout(st, next - now)
                .map(|(g, _)| g)
                .unwrap_or_else(|e| e.into_inner().0);
            continue;
        }
        next = now + every;
        if st.written == st.synced || st.writer.is_broken() || st.syncing {
            continue;
        }
        st.syncing = true;
        let file = st.writer.file();
        let path = st.writer.path();
        let target = st.written;
        drop(st);
        let result = file.sync_data();
        st = lock(&shared.state);
        st.syncing = false;
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
            // The thread only returns or waits on the lock; a panic in it
            // leaves nothing to clean up.
            let _ = handle.join();
        }
        let st = lock(&self.shared.state);
        if !st.writer.is_broken() && st.synced < st.written {
            if let Err(e) = st.writer.file().sync_data() {
                tracing::warn!(error = %e, "final fsync of the write-ahead log failed");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use segments::{Frame, read_frame, segment_path};
    use std::fs::{self, OpenOptions};

    fn record(b: &mut RecordBuilder, tenant: &str, line: &str) {
        b.begin(42, tenant);
        let l = Labels::from_pairs([("app", "a")]);
        let m = Labels::from_pairs([("trace", "t")]);
        b.stream(
            &l,
            [(5, line, &m), (3, "second", &Labels::EMPTY)].into_iter(),
        );
    }

    fn replay_all(dir: &Path) -> (Vec<(u64, String)>, ReplayOutcome) {
        let mut got = Vec::new();
        let out = replay(dir, |r| got.push((r.seq, r.streams[0].1[0].1.to_owned()))).unwrap();
        (got, out)
    }

    #[test]
    fn records_round_trip_through_segments_and_rotation() {
        let tmp = tempfile::tempdir().unwrap();
        let (_, first) = replay_all(tmp.path());
        let wal = Wal::open(tmp.path(), &first, 0, 100, SyncPolicy::EveryAppend).unwrap();
        let mut b = RecordBuilder::default();
        for i in 0..5 {
            record(&mut b, "t", &format!("line {i}"));
            let seq = wal.lock().unwrap().write(&mut b).unwrap();
            wal.wait_durable(seq).unwrap();
            assert_eq!(seq, i + 1);
        }
        assert!(wal.segments() > 1, "records larger than 100 bytes rotate");
        drop(wal);
        let (got, out) = replay_all(tmp.path());
        assert_eq!(got.len(), 5);
        assert_eq!(got[4], (5, "line 4".to_owned()));
        assert_eq!(out.last_seq, 5);
        let mut full = Vec::new();
        replay(tmp.path(), |r| {
            full.push((
                r.tenant.to_owned(),
                r.now_ns,
                r.streams
                    .clone()
                    .into_iter()
                    .map(|(l, e)| {
                        (
                            l,
                            e.into_iter()
                                .map(|(t, s, m)| (t, s.to_owned(), m))
                                .collect::<Vec<_>>(),
                        )
                    })
                    .collect::<Vec<_>>(),
            ))
        })
        .unwrap();
        let (tenant, now, streams) = &full[0];
        assert_eq!((tenant.as_str(), *now), ("t", 42));
        assert_eq!(streams[0].1[1], (3, "second".to_owned(), Labels::empty()));
        assert_eq!(streams[0].1[0].2, Labels::from_pairs([("trace", "t")]));
    }

    #[test]
    fn a_torn_tail_is_truncated_and_later_segments_removed() {
        let tmp = tempfile::tempdir().unwrap();
        let (_, first) = replay_all(tmp.path());
        let wal = Wal::open(tmp.path(), &first, 0, 1 << 20, SyncPolicy::EveryAppend).unwrap();
        let mut b = RecordBuilder::default();
        for i in 0..3 {
            record(&mut b, "t", &format!("line {i}"));
            wal.lock().unwrap().write(&mut b).unwrap();
        }
        drop(wal);
        let seg = segment_path(tmp.path(), 0);
        let len = fs::metadata(&seg).unwrap().len();
        OpenOptions::new()
            .write(true)
            .open(&seg)
            .unwrap()
            .set_len(len - 3)
            .unwrap();
        fs::write(segment_path(tmp.path(), 7), b"garbage after the tear").unwrap();
        let (got, out) = replay_all(tmp.path());
        assert_eq!(got.len(), 2);
        assert!(out.truncated_bytes > 0);
        assert!(!segment_path(tmp.path(), 7).exists());
        // A second replay finds a clean log.
        let (again, out) = replay_all(tmp.path());
        assert_eq!(again, got);
        assert_eq!(out.truncated_bytes, 0);
    }

    #[test]
    fn flipped_bits_anywhere_never_panic() {
        let mut b = RecordBuilder::default();
        record(&mut b, "tenant", "a line");
        let mut framed = b.buf.clone();
        let payload_len = framed.len() - FRAME_HEADER;
        framed[..4].copy_from_slice(&(payload_len as u32).to_le_bytes());
        for i in 0..framed.len() {
            let mut bad = framed.clone();
            bad[i] ^= 0x5a;
            // Recompute the checksum so that the decoder itself is tested.
            let crc = crc32fast::hash(&bad[FRAME_HEADER..]);
            bad[4..8].copy_from_slice(&crc.to_le_bytes());
            if let Frame::Ok { payload, .. } = read_frame(&bad) {
                let _ = decode(payload);
            }
        }
    }

    #[test]
    fn flushed_segments_are_deleted_and_live_ones_kept() {
        let tmp = tempfile::tempdir().unwrap();
        let (_, first) = replay_all(tmp.path());
        let wal = Wal::open(tmp.path(), &first, 0, 100, SyncPolicy::EveryAppend).unwrap();
        let mut b = RecordBuilder::default();
        for i in 0..4 {
            record(&mut b, "t", &format!("line {i}"));
            wal.lock().unwrap().write(&mut b).unwrap();
        }
        wal.remove_flushed(3).unwrap();
        drop(wal);
        let (got, _) = replay_all(tmp.path());
        assert_eq!(got.iter().map(|g| g.0).collect::<Vec<_>>(), [3, 4]);
    }
}
