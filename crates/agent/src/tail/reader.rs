//! Tailing one path on its own thread: reading lines, following rotations
//! and truncations, and recording what was delivered.
//!
//! A path is read as a list of generations, oldest first: rotated files
//! still being read to their end (renamed away, or the copy copytruncate
//! made), then the file now at the path. Each generation has its own
//! commits (see [`super::tracker`]); the positions record the whole list,
//! so a restart finishes the rotated files before the new one.
//!
//! What differs from Promtail on purpose:
//! - the recorded offset is the acknowledged one, not the read one;
//! - a partial last line is sent after [`TailConfig::partial_line_timeout`]
//!   without a newline (Promtail waits for the newline forever);
//! - invalid UTF-8 becomes U+FFFD (Promtail passes the bytes on, and the
//!   store may reject the whole push);
//! - the copy copytruncate made is found by its first bytes and read from
//!   where the truncated file was left (Promtail reads the truncated file
//!   from its start and loses what it had not read yet);
//! - a renamed file stays open for [`TailConfig::rotated_idle`] after its
//!   last data, for a writer that reopens late (Promtail reads it to its
//!   end once, then switches);
//! - after a restart, a file rotated while the agent was down is found and
//!   finished first (Promtail cannot tell, and applies the old offset to
//!   the new file, or starts it over when it is shorter).
//!
//! Like Promtail, a line is what precedes a `\n`: a `\r` before it stays in
//! the line.

use std::fs::File;
use std::io;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::entry::{Entry, LabelSet, Receipt, Sink};

use super::TailConfig;
use super::identity::{FileId, Fingerprint, find_rotated};
use super::metrics::FileStatus;
use super::positions::{Generation, Positions, Recorded};
use super::tracker::Commits;

/// How a running tailer is told to stop.
#[derive(Default)]
pub(crate) struct Control {
    /// Stop reading.
    pub(crate) stop: AtomicBool,
    /// The path no longer matches: read what is left, then forget it.
    pub(crate) release: AtomicBool,
    /// Until when to wait for receipts after stopping.
    pub(crate) deadline: Mutex<Option<Instant>>,
}

impl Control {
    fn deadline(&self) -> Instant {
        self.deadline
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .unwrap_or_else(Instant::now)
    }
}

/// One file being read.
struct Gen {
    file: Option<File>,
    id: FileId,
    /// End of the last complete line read.
    read_pos: u64,
    /// Bytes read after it, waiting for their newline.
    partial: Vec<u8>,
    /// When `partial` last grew.
    partial_since: Instant,
    /// When data last came (for rotated files: when to let go).
    last_data: Instant,
    commits: Commits,
    /// Renamed away or copied: read to its end, then dropped.
    rotated: bool,
    /// The file size when last looked at.
    size: u64,
}

impl Gen {
    fn new(file: Option<File>, id: FileId, start: u64, config: &TailConfig) -> Gen {
        let now = Instant::now();
        Gen {
            file,
            id,
            read_pos: start,
            partial: Vec::new(),
            partial_since: now,
            last_data: now,
            commits: Commits::new(start, config.max_in_flight_lines),
            rotated: false,
            size: 0,
        }
    }

    fn rotated(mut self) -> Gen {
        self.rotated = true;
        self.last_data = Instant::now();
        self
    }
}

/// What reading a generation ended with.
#[derive(PartialEq, Eq)]
enum Read {
    /// Reached the end of the file.
    Eof,
    /// Stopped before the end (stop asked, or the sink closed).
    Stopped,
    /// The file at the path was truncated or rewritten under the reader.
    Changed,
}

/// The tailer of one path.
pub(crate) struct Tailer {
    path: String,
    dir: PathBuf,
    labels: LabelSet,
    sink: Arc<dyn Sink>,
    positions: Arc<Positions>,
    config: TailConfig,
    status: Arc<FileStatus>,
    control: Arc<Control>,
    gens: Vec<Gen>,
    buf: Vec<u8>,
    sink_closed: bool,
    /// The timestamp given to the last line.
    last_ts: i64,
}

impl Tailer {
    #[allow(clippy::too_many_arguments)] // the parts of a tailer, each needed once
    pub(crate) fn new(
        path: String,
        labels: LabelSet,
        sink: Arc<dyn Sink>,
        positions: Arc<Positions>,
        config: TailConfig,
        status: Arc<FileStatus>,
        control: Arc<Control>,
    ) -> Tailer {
        let dir = std::path::Path::new(&path)
            .parent()
            .map(|p| p.to_path_buf())
            .unwrap_or_else(|| PathBuf::from("/"));
        Tailer {
            path,
            dir,
            labels,
            sink,
            positions,
            config,
            status,
            control,
            gens: Vec::new(),
            buf: Vec::new(),
            sink_closed: false,
            last_ts: 0,
        }
    }

    /// Runs until stopped, released, the sink closes, or the file cannot
    /// be opened (the manager tries again at its next sync).
    pub(crate) fn run(mut self) {
        self.positions.set_live(&self.path, true);
        if let Err(e) = self.open_initial() {
            tracing::error!(path = %self.path, error = %e, "failed to tail file");
            self.status.set_error(Some(e.to_string()));
            self.positions.set_live(&self.path, false);
            self.status.running.store(false, Ordering::SeqCst);
            return;
        }
        tracing::info!(path = %self.path, "tail routine: started");
        while !self.control.stop.load(Ordering::SeqCst) && !self.sink_closed {
            self.check_rotation();
            let mut changed = false;
            let mut i = 0;
            while i < self.gens.len() && !self.sink_closed {
                changed |= self.read_gen(i, false) == Read::Changed;
                i += 1;
            }
            self.retire_rotated();
            self.commit();
            if self.control.stop.load(Ordering::SeqCst) {
                break;
            }
            if !changed {
                std::thread::park_timeout(self.config.poll_interval);
            }
        }
        let release = self.control.release.load(Ordering::SeqCst);
        if release && !self.sink_closed {
            // The file is gone from the glob: deliver what is left of it.
            for i in 0..self.gens.len() {
                self.read_gen(i, true);
                self.flush_partial(i);
            }
        }
        self.wait_for_receipts();
        self.commit();
        if release {
            self.positions.remove(&self.path);
        }
        self.positions.set_live(&self.path, false);
        self.status.running.store(false, Ordering::SeqCst);
        tracing::info!(path = %self.path, "tail routine: exited");
    }

    /// Opens the path and, from what the positions recorded, the rotated
    /// files still to finish.
    fn open_initial(&mut self) -> io::Result<()> {
        if is_compressed(&self.path) {
            // Promtail 2.8 decompresses these once instead of tailing them;
            // tailing their bytes would only send garbage.
            self.status.permanent.store(true, Ordering::SeqCst);
            return Err(io::Error::other(
                "reading compressed files is not supported",
            ));
        }
        let file = File::open(&self.path)?;
        let meta = file.metadata()?;
        if meta.is_dir() {
            return Err(io::Error::other("file is a directory"));
        }
        let id = FileId::of(&file)?;
        let recorded = self.positions.get(&self.path);
        match recorded {
            None => self.gens.push(Gen::new(Some(file), id, 0, &self.config)),
            Some(Recorded { offset, chain }) if chain.is_empty() => {
                // Promtail's own file: the offset is the file's at the path,
                // unless the file is now shorter (Promtail starts over then).
                let start = if meta.len() >= offset { offset } else { 0 };
                self.gens
                    .push(Gen::new(Some(file), id, start, &self.config));
            }
            Some(Recorded { chain, .. }) => {
                let mut seen: Vec<(u64, u64)> = Vec::new();
                let mut current: Option<Gen> = None;
                let last = chain.len() - 1;
                for (i, g) in chain.iter().enumerate() {
                    if i == last
                        && g.id.same_inode(&meta)
                        && meta.len() >= g.offset
                        && matches!(g.id.content_matches(&file), Ok(true))
                    {
                        let mut id = g.id;
                        let _ = id.check(&file, meta.len());
                        current = Some(Gen::new(Some(file), id, g.offset, &self.config));
                        break;
                    }
                    let found = find_rotated(
                        &self.dir,
                        std::path::Path::new(&self.path),
                        &g.id,
                        g.offset,
                        Some((meta.dev(), meta.ino())),
                    );
                    match found {
                        Some(found) => {
                            let Ok(m) = found.file.metadata() else {
                                continue;
                            };
                            if seen.contains(&(m.dev(), m.ino())) {
                                continue;
                            }
                            seen.push((m.dev(), m.ino()));
                            tracing::info!(path = %self.path, rotated = %found.path.display(), "finishing a file rotated while stopped");
                            let mut id = g.id;
                            id.dev = m.dev();
                            id.ino = m.ino();
                            self.gens.push(
                                Gen::new(Some(found.file), id, g.offset, &self.config).rotated(),
                            );
                        }
                        None => {
                            tracing::warn!(path = %self.path, offset = g.offset, "the file recorded for this path is gone; its unread lines are lost");
                        }
                    }
                }
                let current = match current {
                    Some(c) => c,
                    None => Gen::new(Some(File::open(&self.path)?), id, 0, &self.config),
                };
                self.gens.push(current);
            }
        }
        Ok(())
    }

    /// Looks at the path: a different file there means a rename rotation;
    /// the same file shorter than what was read, or with other first
    /// bytes, means copytruncate or truncation.
    fn check_rotation(&mut self) {
        let Some(cur) = self.gens.last_mut() else {
            return;
        };
        let meta = match std::fs::metadata(&self.path) {
            Ok(m) => m,
            // Between a rename and the create: keep reading what is open.
            Err(e) if e.kind() == io::ErrorKind::NotFound => return,
            Err(e) => {
                self.status.set_error(Some(e.to_string()));
                return;
            }
        };
        if !cur.id.same_inode(&meta) {
            let new = match File::open(&self.path).and_then(|f| Ok((FileId::of(&f)?, f))) {
                Ok(n) => n,
                Err(e) => {
                    self.status.set_error(Some(e.to_string()));
                    return;
                }
            };
            tracing::info!(path = %self.path, "file rotated: reading the old one to its end");
            self.push_current(Some(new.1), new.0, 0);
            return;
        }
        let Some(file) = &cur.file else { return };
        let size = meta.len();
        cur.size = size;
        let consumed = cur.read_pos + cur.partial.len() as u64;
        let changed =
            size < consumed || matches!(cur.id.check(file, size), Ok(Fingerprint::Changed));
        if !changed {
            return;
        }
        let found = find_rotated(
            &self.dir,
            std::path::Path::new(&self.path),
            &cur.id,
            consumed,
            Some((cur.id.dev, cur.id.ino)),
        );
        let Ok(reopened) = File::open(&self.path) else {
            return;
        };
        let Ok(new_id) = FileId::of(&reopened) else {
            return;
        };
        match found {
            Some(copy) => {
                tracing::info!(path = %self.path, copy = %copy.path.display(), "file copied and truncated: reading the copy to its end");
                if let Ok(m) = copy.file.metadata() {
                    cur.id.dev = m.dev();
                    cur.id.ino = m.ino();
                }
                cur.file = Some(copy.file);
            }
            None => {
                tracing::info!(path = %self.path, "file truncated: reading it from the start");
                cur.file = None;
                let i = self.gens.len() - 1;
                self.flush_partial(i);
            }
        }
        self.push_current(Some(reopened), new_id, 0);
    }

    /// Makes the current generation a rotated one and starts a new one.
    fn push_current(&mut self, file: Option<File>, id: FileId, start: u64) {
        if let Some(old) = self.gens.pop() {
            self.gens.push(old.rotated());
        }
        self.gens.push(Gen::new(file, id, start, &self.config));
        self.status.set_error(None);
    }

    /// Drops rotated generations that were read to their end, have been
    /// quiet for [`TailConfig::rotated_idle`], and whose lines are all
    /// done.
    fn retire_rotated(&mut self) {
        let last = self.gens.len().saturating_sub(1);
        for i in 0..last {
            let g = &mut self.gens[i];
            if g.file.is_some() && g.last_data.elapsed() >= self.config.rotated_idle {
                // Nothing was written for a while: the writer has moved on.
                self.flush_partial(i);
                self.gens[i].file = None;
            }
        }
        let mut i = 0;
        while i + 1 < self.gens.len() {
            let g = &mut self.gens[i];
            g.commits.advance();
            if g.file.is_none() && g.commits.in_flight() == 0 {
                self.gens.remove(i);
            } else {
                i += 1;
            }
        }
    }

    /// Reads generation `i` to its end (or until stopped): every complete
    /// line goes to the sink. With `finishing`, a stop is not obeyed.
    fn read_gen(&mut self, i: usize, finishing: bool) -> Read {
        let mut buf = std::mem::take(&mut self.buf);
        let result = self.read_into(i, finishing, &mut buf);
        if buf.capacity() > 4 * self.config.read_buffer.max(4096) {
            // A long line made it grow: give the memory back.
            buf = Vec::new();
        }
        self.buf = buf;
        match result {
            Ok(read) => read,
            Err(e) => {
                tracing::warn!(path = %self.path, error = %e, "error reading file");
                self.status.set_error(Some(e.to_string()));
                Read::Stopped
            }
        }
    }

    fn read_into(&mut self, i: usize, finishing: bool, buf: &mut Vec<u8>) -> io::Result<Read> {
        let read_size = self.config.read_buffer.max(4096);
        let max_line = self.config.max_line_bytes.max(1);
        loop {
            if self.sink_closed || !finishing && self.control.stop.load(Ordering::SeqCst) {
                return Ok(Read::Stopped);
            }
            let is_current = i + 1 == self.gens.len();
            let g = &mut self.gens[i];
            let Some(file) = &g.file else {
                return Ok(Read::Eof);
            };
            let plen = g.partial.len();
            if is_current && !g.rotated {
                // Checked before every read, not only once a poll, so that
                // a file truncated and rewritten while being read is not
                // read at an offset that now belongs to other lines.
                let size = file.metadata()?.len();
                g.size = size;
                if size < g.read_pos + plen as u64
                    || g.id.check(file, size)? == Fingerprint::Changed
                {
                    return Ok(Read::Changed);
                }
            }
            buf.clear();
            buf.extend_from_slice(&g.partial);
            buf.resize(plen + read_size, 0);
            let n = loop {
                match file.read_at(&mut buf[plen..], g.read_pos + plen as u64) {
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    other => break other?,
                }
            };
            if n == 0 {
                if plen > 0 && g.partial_since.elapsed() >= self.config.partial_line_timeout {
                    self.flush_partial(i);
                }
                if is_current && !self.sink_closed {
                    self.status.set_error(None);
                }
                return Ok(Read::Eof);
            }
            buf.truncate(plen + n);
            g.last_data = Instant::now();
            let ts_ns = now_ns();
            let mut start = 0usize;
            let mut lines = 0u64;
            for nl in memchr::memchr_iter(b'\n', buf) {
                // A line longer than the limit is cut into pieces, so memory
                // stays bounded whatever is written; the same cut happens
                // below when the newline is not read yet.
                while nl - start > max_line {
                    if !self.emit(
                        i,
                        &buf[start..start + max_line],
                        (start + max_line) as u64,
                        ts_ns,
                        finishing,
                    ) {
                        self.after_chunk(i, start, lines, is_current);
                        return Ok(Read::Stopped);
                    }
                    lines += 1;
                    start += max_line;
                }
                if !self.emit(i, &buf[start..nl], nl as u64 + 1, ts_ns, finishing) {
                    self.after_chunk(i, start, lines, is_current);
                    return Ok(Read::Stopped);
                }
                lines += 1;
                start = nl + 1;
            }
            while buf.len() - start > max_line {
                if !self.emit(
                    i,
                    &buf[start..start + max_line],
                    (start + max_line) as u64,
                    ts_ns,
                    finishing,
                ) {
                    self.after_chunk(i, start, lines, is_current);
                    return Ok(Read::Stopped);
                }
                lines += 1;
                start += max_line;
            }
            self.after_chunk(i, start, lines, is_current);
            let g = &mut self.gens[i];
            g.partial.extend_from_slice(&buf[start..]);
            if !g.partial.is_empty() {
                // New bytes without a newline: the timeout starts over.
                g.partial_since = Instant::now();
            }
        }
    }

    /// Accounts for the lines of a chunk: the read position moves past the
    /// `consumed` bytes, which start at the old read position; what was
    /// not consumed is read again from the file.
    fn after_chunk(&mut self, i: usize, consumed: usize, lines: u64, is_current: bool) {
        let g = &mut self.gens[i];
        g.read_pos += consumed as u64;
        if g.partial.capacity() > 64 << 10 {
            // It held a long partial line: give the memory back.
            g.partial = Vec::new();
        } else {
            g.partial.clear();
        }
        self.status.read_lines.fetch_add(lines, Ordering::Relaxed);
        if is_current {
            self.status.read_offset.store(g.read_pos, Ordering::Relaxed);
        }
    }

    /// Sends one line of generation `i` ending `end_rel` bytes after its
    /// read position. Waits while too many lines are in flight. Returns
    /// false when the line could not be sent (stop or closed sink).
    fn emit(&mut self, i: usize, bytes: &[u8], end_rel: u64, ts_ns: i64, finishing: bool) -> bool {
        let g = &mut self.gens[i];
        while !g.commits.has_room() {
            g.commits.advance();
            if g.commits.has_room() {
                break;
            }
            if !finishing && self.control.stop.load(Ordering::SeqCst) {
                return false;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        let line = match std::str::from_utf8(bytes) {
            Ok(s) => s.to_owned(),
            Err(_) => String::from_utf8_lossy(bytes).into_owned(),
        };
        let token = g.commits.push(g.read_pos + end_rel);
        let seq = token.seq();
        let entry = Entry {
            labels: self.labels.clone(),
            ts_ns: self.next_ts(ts_ns),
            line,
            structured_metadata: LabelSet::new(),
            receipt: Receipt::new(Arc::new(token)),
        };
        if let Err(e) = self.sink.send(entry) {
            self.gens[i].commits.refuse(seq);
            self.sink_closed = true;
            self.status.permanent.store(true, Ordering::SeqCst);
            self.status.set_error(Some(e.to_string()));
            return false;
        }
        true
    }

    /// The timestamp of the next line: the read time, but always after the
    /// previous line's. Lines read at once share a clock reading, and the
    /// store drops an entry with the same stream, time and line as another
    /// as a duplicate: two equal lines must not look like one re-sent.
    fn next_ts(&mut self, read_ns: i64) -> i64 {
        self.last_ts = read_ns.max(self.last_ts.saturating_add(1));
        self.last_ts
    }

    /// Sends the partial last line of generation `i` as a line.
    fn flush_partial(&mut self, i: usize) {
        let g = &mut self.gens[i];
        if g.partial.is_empty() || self.sink_closed {
            return;
        }
        let bytes = std::mem::take(&mut g.partial);
        let len = bytes.len() as u64;
        if self.emit(i, &bytes, len, now_ns(), true) {
            let is_current = i + 1 == self.gens.len();
            let g = &mut self.gens[i];
            g.read_pos += len;
            self.status.read_lines.fetch_add(1, Ordering::Relaxed);
            if is_current {
                self.status.read_offset.store(g.read_pos, Ordering::Relaxed);
            }
        } else {
            self.gens[i].partial = bytes;
        }
    }

    /// After a stop: lets the clients finish what is in flight, up to the
    /// deadline the manager set.
    fn wait_for_receipts(&mut self) {
        let deadline = self.control.deadline();
        loop {
            let in_flight: usize = self
                .gens
                .iter_mut()
                .map(|g| {
                    g.commits.advance();
                    g.commits.in_flight()
                })
                .sum();
            if in_flight == 0 || Instant::now() >= deadline || self.sink_closed {
                return;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Records how far each generation is delivered.
    fn commit(&mut self) {
        let chain: Vec<Generation> = self
            .gens
            .iter_mut()
            .map(|g| Generation {
                id: g.id,
                offset: g.commits.advance(),
            })
            .collect();
        if let Some(cur) = self.gens.last() {
            self.status
                .committed
                .store(cur.commits.committed(), Ordering::Relaxed);
            self.status
                .read_offset
                .store(cur.read_pos, Ordering::Relaxed);
            let size = cur
                .file
                .as_ref()
                .and_then(|f| f.metadata().ok())
                .map_or(cur.size, |m| m.len());
            self.status.size.store(size, Ordering::Relaxed);
        }
        self.positions.put(&self.path, &chain);
    }
}

/// Whether Promtail would read `path` as a compressed file: it looks at
/// the last extension only.
fn is_compressed(path: &str) -> bool {
    let ext = std::path::Path::new(path)
        .extension()
        .map(|e| e.to_string_lossy().into_owned());
    matches!(ext.as_deref(), Some("gz" | "z" | "bz2"))
}

fn now_ns() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}
