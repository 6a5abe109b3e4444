//! The segment being written: whole frames appended in one write each, rotation to the next number, fsync, and the broken state after a failure.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::SegmentsError;
use crate::files::{create_segment, segment_path};

/// Appends to the newest segment of a directory and moves on to the next
/// number when it is full. It does no locking and no fsync on its own
/// initiative: the log that owns it decides when to fsync (per commit, in
/// groups, on a timer) and keeps it behind its mutex.
///
/// After a failed write that could not be undone, or a failed fsync, the
/// writer is broken and refuses everything: after a failed fsync the kernel
/// may have dropped the dirty pages, so retrying could acknowledge data
/// that is gone.
#[derive(Debug)]
pub struct SegmentWriter {
    dir: PathBuf,
    /// Shared so the owner can fsync outside its lock while others write.
    file: Arc<File>,
    segment: u64,
    segment_len: u64,
    max_segment: u64,
    broken: Option<String>,
}

impl SegmentWriter {
    /// Creates segment `first` in `dir` (it must not exist: replay first)
    /// and writes there; segments roll over past `max_segment` bytes.
    pub fn create(dir: &Path, first: u64, max_segment: u64) -> Result<Self, SegmentsError> {
        Ok(Self {
            dir: dir.to_owned(),
            file: Arc::new(create_segment(dir, first)?),
            segment: first,
            segment_len: 0,
            max_segment,
            broken: None,
        })
    }

    /// The directory of the segments.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The number of the segment being written.
    pub fn segment(&self) -> u64 {
        self.segment
    }

    /// Bytes written to the current segment.
    pub fn segment_len(&self) -> u64 {
        self.segment_len
    }

    /// The path of the segment being written.
    pub fn path(&self) -> PathBuf {
        segment_path(&self.dir, self.segment)
    }

    /// The current segment's file, to fsync outside the owner's lock; report
    /// a failure with [`SegmentWriter::fsync_failed`].
    pub fn file(&self) -> Arc<File> {
        Arc::clone(&self.file)
    }

    /// Whether an earlier failure broke the writer.
    pub fn is_broken(&self) -> bool {
        self.broken.is_some()
    }

    /// [`SegmentsError::Broken`] if an earlier failure broke the writer.
    pub fn check(&self) -> Result<(), SegmentsError> {
        match &self.broken {
            Some(why) => Err(SegmentsError::Broken(why.clone())),
            None => Ok(()),
        }
    }

    /// Whether `len` more bytes belong in a new segment: the current one
    /// would pass its size and is not empty (a frame larger than a whole
    /// segment gets a segment of its own rather than never being written).
    pub fn is_full_for(&self, len: u64) -> bool {
        self.segment_len > 0 && self.segment_len + len > self.max_segment
    }

    /// Writes `bytes` (whole frames) to the current segment in one write.
    /// On failure, whatever part got written is cut off again, so that the
    /// next write does not land behind a torn frame; if even that fails the
    /// writer is broken.
    pub fn write(&mut self, bytes: &[u8]) -> Result<(), SegmentsError> {
        self.check()?;
        if let Err(e) = (&*self.file).write_all(bytes) {
            if let Err(e2) = self.file.set_len(self.segment_len) {
                self.broken = Some(format!("write failed ({e}) and could not be undone ({e2})"));
            }
            return Err(SegmentsError::io("write wal segment", self.path(), e));
        }
        self.segment_len += bytes.len() as u64;
        Ok(())
    }

    /// Fsyncs the current segment; a failure breaks the writer.
    pub fn sync(&mut self) -> Result<(), SegmentsError> {
        self.check()?;
        match self.file.sync_data() {
            Ok(()) => Ok(()),
            Err(e) => Err(self.fsync_failed(self.path(), e)),
        }
    }

    /// Records that an fsync of segment file `path`, made outside the
    /// owner's lock, failed: the writer is broken. Returns the error to
    /// report.
    pub fn fsync_failed(&mut self, path: PathBuf, e: std::io::Error) -> SegmentsError {
        self.broken = Some(format!("fsync failed: {e}"));
        SegmentsError::io("fsync wal segment", path, e)
    }

    /// Closes the current segment, fsynced (so everything written so far is
    /// durable), and opens the next one. Returns the number and length of
    /// the segment closed.
    pub fn rotate(&mut self) -> Result<(u64, u64), SegmentsError> {
        self.sync()?;
        let file = create_segment(&self.dir, self.segment + 1)?;
        let closed = (self.segment, self.segment_len);
        self.file = Arc::new(file);
        self.segment += 1;
        self.segment_len = 0;
        Ok(closed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::files::{list_segments, replay_segments};
    use crate::frame::framed;

    #[test]
    fn frames_written_rotate_and_replay() {
        let tmp = tempfile::tempdir().unwrap();
        let mut w = SegmentWriter::create(tmp.path(), 4, 20).unwrap();
        for p in [&b"first"[..], b"second", b"third"] {
            let buf = framed(&[p]);
            if w.is_full_for(buf.len() as u64) {
                w.rotate().unwrap();
            }
            w.write(&buf).unwrap();
        }
        w.sync().unwrap();
        assert_eq!(w.segment(), 6);
        let segments = list_segments(tmp.path(), None).unwrap();
        assert_eq!(segments, [4, 5, 6]);
        let mut seen = Vec::new();
        replay_segments(tmp.path(), &segments, |n, p| {
            seen.push((n, String::from_utf8_lossy(p).into_owned()));
            Ok(())
        })
        .unwrap();
        assert_eq!(seen[1], (5, "second".to_owned()));
    }

    #[test]
    fn a_failed_fsync_breaks_the_writer() {
        let tmp = tempfile::tempdir().unwrap();
        let mut w = SegmentWriter::create(tmp.path(), 0, 1 << 20).unwrap();
        let e = w.fsync_failed(w.path(), std::io::Error::other("disk gone"));
        assert!(e.to_string().starts_with("fsync wal segment "), "{e}");
        assert!(w.is_broken());
        assert!(matches!(w.write(b"x"), Err(SegmentsError::Broken(_))));
    }
}
