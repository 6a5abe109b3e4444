//! The sender's durable queue: CRC-framed records in numbered segment files, and a cursor.
//!
//! Layout of a queue directory: segment files named by an eight-digit
//! number (`00000001`, …) holding frames `[payload length: u32 LE][CRC32 of
//! payload: u32 LE][payload]`, where a payload is an uncompressed
//! [`WriteRequest`](super::proto::WriteRequest) of enqueued samples; and
//! `cursor`, the position up to which everything was delivered (segment,
//! offset, CRC; replaced by rename, so it is either the old or the new one).
//!
//! Writers append whole frames under a lock with one `write`, so the reader
//! (one background task) never sees half a frame in the live segment. Each
//! opening starts a new segment, so a torn tail left by a crash can only be
//! in an older one, where the reader skips the rest of the segment. The
//! queue is bounded: past `max_bytes` the oldest segments are deleted and
//! their samples counted as dropped.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

use super::RemoteError;
use super::proto::{self, WriteRequest};

const FRAME_HEADER: usize = 8;
const CURSOR: &str = "cursor";

/// A place in the queue: a segment and a byte offset in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub(crate) struct Position {
    pub(crate) segment: u64,
    pub(crate) offset: u64,
}

#[derive(Debug)]
struct Head {
    file: File,
    segment: u64,
    offset: u64,
    /// Bytes in every segment file, this one included.
    total_bytes: u64,
}

/// The writing side, shared by every caller of `enqueue`.
#[derive(Debug)]
pub(crate) struct DiskQueue {
    dir: PathBuf,
    segment_size: u64,
    max_bytes: u64,
    head: Mutex<Head>,
}

fn segment_path(dir: &Path, n: u64) -> PathBuf {
    dir.join(format!("{n:08}"))
}

fn segments(dir: &Path) -> Result<Vec<u64>, RemoteError> {
    let mut found = Vec::new();
    let entries = fs::read_dir(dir).map_err(|e| RemoteError::io("list queue", dir, e))?;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if name.len() == 8 && name.bytes().all(|b| b.is_ascii_digit()) {
            if let Ok(n) = name.parse() {
                found.push(n);
            }
        }
    }
    found.sort_unstable();
    Ok(found)
}

impl DiskQueue {
    /// Opens (creating) the queue in `dir` and starts a new segment; returns
    /// it with the delivered position read from the cursor.
    pub(crate) fn open(
        dir: &Path,
        segment_size: u64,
        max_bytes: u64,
    ) -> Result<(Self, Position), RemoteError> {
        fs::create_dir_all(dir).map_err(|e| RemoteError::io("create queue directory", dir, e))?;
        let existing = segments(dir)?;
        let mut total_bytes = 0;
        for n in &existing {
            let path = segment_path(dir, *n);
            total_bytes += fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        }
        let cursor = read_cursor(dir);
        // Always a fresh segment, after everything on disk or delivered.
        let newest = existing.last().copied().unwrap_or(0);
        let segment = newest.max(cursor.map_or(0, |c| c.segment)) + 1;
        let cursor = match cursor {
            Some(c) if existing.contains(&c.segment) => c,
            // No cursor, or its segment is gone (dropped by the size limit):
            // everything still on disk after it is undelivered.
            c => Position {
                segment: existing
                    .iter()
                    .copied()
                    .find(|n| c.is_none_or(|c| *n > c.segment))
                    .unwrap_or(segment),
                offset: 0,
            },
        };
        let path = segment_path(dir, segment);
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| RemoteError::io("create queue segment", &path, e))?;
        let queue = Self {
            dir: dir.to_owned(),
            segment_size,
            max_bytes,
            head: Mutex::new(Head {
                file,
                segment,
                offset: 0,
                total_bytes,
            }),
        };
        Ok((queue, cursor))
    }

    fn lock(&self) -> MutexGuard<'_, Head> {
        self.head.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The directory of the queue.
    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the next frame will be written: the reader's end.
    pub(crate) fn end(&self) -> Position {
        let head = self.lock();
        Position {
            segment: head.segment,
            offset: head.offset,
        }
    }

    /// Appends one record. Returns the number of samples dropped to keep
    /// the queue within its size (whole old segments).
    pub(crate) fn append(&self, request: &WriteRequest) -> Result<u64, RemoteError> {
        let payload = prost::Message::encode_to_vec(request);
        let length = u32::try_from(payload.len()).map_err(|_| RemoteError::Io {
            op: "append to queue",
            path: self.dir.clone(),
            source: std::io::Error::other("record larger than 4 GiB"),
        })?;
        let mut frame = Vec::with_capacity(FRAME_HEADER + payload.len());
        frame.extend_from_slice(&length.to_le_bytes());
        frame.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
        frame.extend_from_slice(&payload);
        let mut head = self.lock();
        if head.offset > 0 && head.offset + frame.len() as u64 > self.segment_size {
            self.rotate(&mut head)?;
        }
        let path = segment_path(&self.dir, head.segment);
        if let Err(e) = head.file.write_all(&frame) {
            // Cut a partial frame so that the reader never meets it, and
            // leave the segment: should the cut fail too, the reader skips a
            // torn tail in a segment that is no longer written.
            let _ = head.file.set_len(head.offset);
            let _ = self.rotate(&mut head);
            return Err(RemoteError::io("append to queue segment", &path, e));
        }
        head.offset += frame.len() as u64;
        head.total_bytes += frame.len() as u64;
        let mut dropped = 0;
        while head.total_bytes > self.max_bytes {
            let Some(oldest) = segments(&self.dir)?.into_iter().find(|n| *n < head.segment) else {
                break;
            };
            let path = segment_path(&self.dir, oldest);
            let (samples, _) = count_samples(&path);
            let size = fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
            fs::remove_file(&path).map_err(|e| RemoteError::io("drop queue segment", &path, e))?;
            tracing::warn!(segment = %path.display(), samples, "remote write queue full: oldest samples dropped");
            head.total_bytes = head.total_bytes.saturating_sub(size);
            dropped += samples;
        }
        Ok(dropped)
    }

    fn rotate(&self, head: &mut Head) -> Result<(), RemoteError> {
        let old = segment_path(&self.dir, head.segment);
        head.file
            .sync_data()
            .map_err(|e| RemoteError::io("sync queue segment", &old, e))?;
        let next = head.segment + 1;
        let path = segment_path(&self.dir, next);
        head.file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| RemoteError::io("create queue segment", &path, e))?;
        head.segment = next;
        head.offset = 0;
        Ok(())
    }

    /// Flushes the live segment to disk.
    pub(crate) fn sync(&self) -> Result<(), RemoteError> {
        let head = self.lock();
        head.file
            .sync_data()
            .map_err(|e| RemoteError::io("sync queue segment", &self.dir, e))
    }

    /// Records that everything before `delivered` was sent, and deletes the
    /// segments entirely before it.
    pub(crate) fn commit(&self, delivered: Position) -> Result<(), RemoteError> {
        let mut bytes = Vec::with_capacity(20);
        bytes.extend_from_slice(&delivered.segment.to_le_bytes());
        bytes.extend_from_slice(&delivered.offset.to_le_bytes());
        let crc = crc32fast::hash(&bytes);
        bytes.extend_from_slice(&crc.to_le_bytes());
        let tmp = self.dir.join("cursor.tmp");
        let path = self.dir.join(CURSOR);
        let write = || -> std::io::Result<()> {
            let mut file = File::create(&tmp)?;
            file.write_all(&bytes)?;
            file.sync_data()?;
            fs::rename(&tmp, &path)
        };
        write().map_err(|e| RemoteError::io("write queue cursor", &path, e))?;
        let mut removed = 0;
        for n in segments(&self.dir)? {
            if n >= delivered.segment {
                break;
            }
            let old = segment_path(&self.dir, n);
            removed += fs::metadata(&old).map(|m| m.len()).unwrap_or(0);
            fs::remove_file(&old).map_err(|e| RemoteError::io("remove queue segment", &old, e))?;
        }
        let mut head = self.lock();
        head.total_bytes = head.total_bytes.saturating_sub(removed);
        Ok(())
    }
}

fn read_cursor(dir: &Path) -> Option<Position> {
    let bytes = fs::read(dir.join(CURSOR)).ok()?;
    let (body, crc) = bytes.split_at_checked(16)?;
    if crc.len() != 4 || crc32fast::hash(body).to_le_bytes() != crc {
        tracing::warn!(dir = %dir.display(), "remote write queue cursor is corrupt: sending the whole queue again");
        return None;
    }
    let segment = u64::from_le_bytes(body[..8].try_into().ok()?);
    let offset = u64::from_le_bytes(body[8..].try_into().ok()?);
    Some(Position { segment, offset })
}

/// Samples and valid frames in a segment file (for the size limit).
fn count_samples(path: &Path) -> (u64, u64) {
    let Ok(data) = fs::read(path) else {
        return (0, 0);
    };
    let mut at = 0;
    let (mut samples, mut frames) = (0, 0);
    while let Some((payload, next)) = frame_at(&data, at) {
        if let Ok(request) = proto::decode_raw(payload) {
            samples += request
                .timeseries
                .iter()
                .map(|s| s.samples.len() as u64)
                .sum::<u64>();
        }
        frames += 1;
        at = next;
    }
    (samples, frames)
}

/// The payload of the frame starting at `at` and where the next one starts;
/// `None` at the end, on a short frame or a checksum mismatch.
fn frame_at(data: &[u8], at: usize) -> Option<(&[u8], usize)> {
    let header = data.get(at..at.checked_add(FRAME_HEADER)?)?;
    let length = u32::from_le_bytes(header[..4].try_into().ok()?) as usize;
    let crc = u32::from_le_bytes(header[4..].try_into().ok()?);
    let start = at + FRAME_HEADER;
    let payload = data.get(start..start.checked_add(length)?)?;
    (crc32fast::hash(payload) == crc).then_some((payload, start + length))
}

/// The reading side: the background task's position in the queue.
#[derive(Debug)]
pub(crate) struct Reader {
    at: Position,
    /// The live part of the current segment not yet decoded.
    buffer: Vec<u8>,
    /// Offset in the segment of `buffer[0]`.
    buffer_start: u64,
}

impl Reader {
    pub(crate) fn new(at: Position) -> Self {
        Self {
            at,
            buffer: Vec::new(),
            buffer_start: at.offset,
        }
    }

    /// The next record and the position after it, or `None` when the
    /// reader has caught up with the writers.
    pub(crate) fn next(
        &mut self,
        queue: &DiskQueue,
    ) -> Result<Option<(WriteRequest, Position)>, RemoteError> {
        loop {
            let end = queue.end();
            if self.at >= end {
                return Ok(None);
            }
            let relative = (self.at.offset - self.buffer_start) as usize;
            if let Some((payload, next)) = frame_at(&self.buffer, relative) {
                self.at.offset = self.buffer_start + next as u64;
                match proto::decode_raw(payload) {
                    Ok(request) => return Ok(Some((request, self.at))),
                    Err(e) => {
                        tracing::warn!(error = %e, "undecodable remote write queue record skipped");
                        continue;
                    }
                }
            }
            // Need more bytes: read what this segment holds past `at`
            // (up to the writers' end when it is the live segment).
            let limit = (end.segment == self.at.segment).then_some(end.offset);
            let read = self.fill(queue.dir(), limit)?;
            if read {
                continue;
            }
            // Nothing more in this segment (or a torn tail): the next one.
            if limit.is_some() {
                return Ok(None);
            }
            if self.buffer.len() > relative {
                tracing::warn!(
                    segment = self.at.segment,
                    offset = self.at.offset,
                    "torn remote write queue segment: rest skipped"
                );
            }
            let next = segments(queue.dir())?
                .into_iter()
                .find(|n| *n > self.at.segment)
                .unwrap_or(end.segment);
            self.at = Position {
                segment: next,
                offset: 0,
            };
            self.buffer.clear();
            self.buffer_start = 0;
        }
    }

    /// Reads the current segment from `at` up to `limit` (or its end) into
    /// the buffer; whether any new byte came.
    fn fill(&mut self, dir: &Path, limit: Option<u64>) -> Result<bool, RemoteError> {
        let path = segment_path(dir, self.at.segment);
        let mut file = match File::open(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(RemoteError::io("open queue segment", &path, e)),
        };
        // Drop what was decoded, keep a partial frame.
        let consumed = (self.at.offset - self.buffer_start) as usize;
        self.buffer.drain(..consumed.min(self.buffer.len()));
        self.buffer_start = self.at.offset;
        let from = self.buffer_start + self.buffer.len() as u64;
        let size = file
            .metadata()
            .map_err(|e| RemoteError::io("read queue segment", &path, e))?
            .len();
        let to = limit.map_or(size, |l| l.min(size));
        if to <= from {
            return Ok(false);
        }
        file.seek(SeekFrom::Start(from))
            .map_err(|e| RemoteError::io("read queue segment", &path, e))?;
        let before = self.buffer.len();
        file.take(to - from)
            .read_to_end(&mut self.buffer)
            .map_err(|e| RemoteError::io("read queue segment", &path, e))?;
        Ok(self.buffer.len() > before)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::remote::proto::{Sample, TimeSeries};
    use model::Labels;

    fn request(t: i64) -> WriteRequest {
        let mut series = TimeSeries::new(&Labels::from_pairs([("__name__", "x")]));
        series.samples.push(Sample {
            value: 1.0,
            timestamp: t,
        });
        WriteRequest {
            timeseries: vec![series],
            metadata: vec![],
        }
    }

    fn drain(reader: &mut Reader, queue: &DiskQueue) -> Vec<i64> {
        let mut out = Vec::new();
        while let Some((r, _)) = reader.next(queue).unwrap() {
            out.push(r.timeseries[0].samples[0].timestamp);
        }
        out
    }

    #[test]
    fn records_survive_reopen_until_committed() {
        let dir = tempfile::tempdir().unwrap();
        let (queue, at) = DiskQueue::open(dir.path(), 64, 1 << 20).unwrap();
        for t in 0..5 {
            queue.append(&request(t)).unwrap();
        }
        let mut reader = Reader::new(at);
        reader.next(&queue).unwrap().unwrap();
        let (_, after_two) = reader.next(&queue).unwrap().unwrap();
        queue.commit(after_two).unwrap();
        drop(queue);
        let (queue, at) = DiskQueue::open(dir.path(), 64, 1 << 20).unwrap();
        queue.append(&request(5)).unwrap();
        let mut reader = Reader::new(at);
        assert_eq!(drain(&mut reader, &queue), [2, 3, 4, 5]);
    }

    #[test]
    fn cursor_into_a_vanished_segment_resumes_after_it() {
        let dir = tempfile::tempdir().unwrap();
        let (queue, at) = DiskQueue::open(dir.path(), 1 << 20, 1 << 20).unwrap();
        queue.append(&request(1)).unwrap();
        let mut reader = Reader::new(at);
        let (_, end) = reader.next(&queue).unwrap().unwrap();
        queue.commit(end).unwrap();
        drop(queue);
        fs::remove_file(segment_path(dir.path(), end.segment)).unwrap();
        let (queue, at) = DiskQueue::open(dir.path(), 1 << 20, 1 << 20).unwrap();
        assert!(at.segment > end.segment);
        queue.append(&request(2)).unwrap();
        assert_eq!(drain(&mut Reader::new(at), &queue), [2]);
    }

    #[test]
    fn torn_tail_is_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let (queue, at) = DiskQueue::open(dir.path(), 1 << 20, 1 << 20).unwrap();
        queue.append(&request(1)).unwrap();
        queue.append(&request(2)).unwrap();
        drop(queue);
        let path = segment_path(dir.path(), at.segment);
        let len = fs::metadata(&path).unwrap().len();
        OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(len - 3)
            .unwrap();
        let (queue, at) = DiskQueue::open(dir.path(), 1 << 20, 1 << 20).unwrap();
        queue.append(&request(3)).unwrap();
        assert_eq!(drain(&mut Reader::new(at), &queue), [1, 3]);
    }

    #[test]
    fn size_limit_drops_oldest_segments() {
        let dir = tempfile::tempdir().unwrap();
        let (queue, at) = DiskQueue::open(dir.path(), 40, 200).unwrap();
        let mut dropped = 0;
        for t in 0..40 {
            dropped += queue.append(&request(t)).unwrap();
        }
        let left = drain(&mut Reader::new(at), &queue);
        assert!(dropped > 0);
        assert_eq!(left.len() as u64 + dropped, 40);
        assert_eq!(left.last(), Some(&39));
    }
}
