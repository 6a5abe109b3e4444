//! Segment files on disk: their names, listing, creation, deletion, fsync of directories, and replay that cuts a torn tail.

use std::fs::{self, File, OpenOptions};
use std::path::{Path, PathBuf};

use crate::SegmentsError;
use crate::frame::scan_frames;

/// The path of segment `n` in `dir`: eight digits, `00000000` first.
pub fn segment_path(dir: &Path, n: u64) -> PathBuf {
    dir.join(format!("{n:08}"))
}

/// Makes a newly created, renamed or removed directory entry durable.
pub fn sync_dir(dir: &Path) -> Result<(), SegmentsError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| SegmentsError::io("sync directory", dir, e))
}

/// The segment numbers present in `dir`, ascending. A name that is not a
/// number is passed over with a warning, unless it starts with
/// `own_prefix`: files the caller keeps beside its segments (tsdb's
/// checkpoints).
pub fn list_segments(dir: &Path, own_prefix: Option<&str>) -> Result<Vec<u64>, SegmentsError> {
    let mut out = Vec::new();
    let entries = fs::read_dir(dir).map_err(|e| SegmentsError::io("read wal directory", dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| SegmentsError::io("read wal directory", dir, e))?;
        let name = entry.file_name();
        let name_str = name.to_str();
        match name_str.and_then(|n| n.parse::<u64>().ok()) {
            Some(n) => out.push(n),
            None if own_prefix
                .zip(name_str)
                .is_some_and(|(p, n)| n.starts_with(p)) => {}
            None => tracing::warn!(file = ?name, "ignoring a file that is not a wal segment"),
        }
    }
    out.sort_unstable();
    Ok(out)
}

/// Creates segment `n` of `dir` for appending; it must not exist yet. The
/// directory is fsynced, so the new name survives a power loss.
pub fn create_segment(dir: &Path, n: u64) -> Result<File, SegmentsError> {
    let path = segment_path(dir, n);
    let file = OpenOptions::new()
        .create_new(true)
        .append(true)
        .open(&path)
        .map_err(|e| SegmentsError::io("create wal segment", &path, e))?;
    sync_dir(dir)?;
    Ok(file)
}

/// Deletes these segments of `dir` (one already gone is no error), then
/// fsyncs the directory.
pub fn remove_segments(
    dir: &Path,
    segments: impl IntoIterator<Item = u64>,
) -> Result<(), SegmentsError> {
    for n in segments {
        let path = segment_path(dir, n);
        match fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(SegmentsError::io("remove wal segment", path, e)),
        }
    }
    sync_dir(dir)
}

/// Deletes every segment of `dir` numbered below `n`; `own_prefix` as in
/// [`list_segments`].
pub fn remove_segments_below(
    dir: &Path,
    n: u64,
    own_prefix: Option<&str>,
) -> Result<(), SegmentsError> {
    let old = list_segments(dir, own_prefix)?;
    remove_segments(dir, old.into_iter().take_while(|&s| s < n))
}

/// What [`read_repairing`] kept and cut.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Repaired {
    /// Bytes of good frames kept.
    pub kept: u64,
    /// Bytes cut after them (0: the file was clean).
    pub cut: u64,
}

/// Reads the framed file at `path` (a missing one is empty), handing each
/// payload to `each` as [`scan_frames`] does. The first frame that is
/// short, fails its checksum or is refused ends the file: it is truncated
/// there, fsynced, and a `tracing::warn!` says so. Everything before it is
/// kept.
pub fn read_repairing(
    path: &Path,
    each: impl FnMut(&[u8]) -> Result<(), &'static str>,
) -> Result<Repaired, SegmentsError> {
    let data = match fs::read(path) {
        Ok(d) => d,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(SegmentsError::io("read framed file", path, e)),
    };
    let scan = scan_frames(&data, each);
    let kept = scan.valid as u64;
    let Some(why) = scan.problem else {
        return Ok(Repaired { kept, cut: 0 });
    };
    let cut = (data.len() - scan.valid) as u64;
    tracing::warn!(
        file = %path.display(),
        offset = kept,
        dropped_bytes = cut,
        reason = why,
        "truncating a file at a torn or corrupt record"
    );
    OpenOptions::new()
        .write(true)
        .open(path)
        .and_then(|f| {
            f.set_len(kept)?;
            f.sync_all()
        })
        .map_err(|e| SegmentsError::io("truncate torn tail", path, e))?;
    Ok(Repaired { kept, cut })
}

/// What [`replay_segments`] found.
#[derive(Debug, Default)]
pub struct Replayed {
    /// The segments read, in order, with the bytes kept of each; the last
    /// may have been truncated.
    pub segments: Vec<(u64, u64)>,
    /// Bytes cut from a torn or corrupt tail, and of the segments after it.
    pub truncated_bytes: u64,
    /// Whole segments removed because they followed a corrupt one.
    pub removed_segments: u64,
}

/// Hands every payload of `segments` (numbers in `dir`, ascending) to
/// `each` with its segment's number, in order. The first frame that is
/// short, fails its checksum or is refused ends the log: its segment is
/// truncated there (see [`read_repairing`]) and every later segment
/// deleted, each with a warning, because a record after a gap could not be
/// trusted to follow what was lost.
pub fn replay_segments(
    dir: &Path,
    segments: &[u64],
    mut each: impl FnMut(u64, &[u8]) -> Result<(), &'static str>,
) -> Result<Replayed, SegmentsError> {
    let mut out = Replayed::default();
    for (i, &n) in segments.iter().enumerate() {
        let path = segment_path(dir, n);
        let repaired = read_repairing(&path, |payload| each(n, payload))?;
        out.segments.push((n, repaired.kept));
        if repaired.cut == 0 {
            continue;
        }
        out.truncated_bytes += repaired.cut;
        for &later in &segments[i + 1..] {
            let later = segment_path(dir, later);
            tracing::warn!(segment = %later.display(), "removing a wal segment that follows a corrupt one");
            let len = fs::metadata(&later).map(|m| m.len()).unwrap_or(0);
            fs::remove_file(&later)
                .map_err(|e| SegmentsError::io("remove wal segment", &later, e))?;
            out.truncated_bytes += len;
            out.removed_segments += 1;
        }
        sync_dir(dir)?;
        break;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::framed as frames;
    use std::io::Write;

    #[test]
    fn segments_are_listed_in_order_and_others_passed_over() {
        let tmp = tempfile::tempdir().unwrap();
        for n in [3, 1, 10] {
            create_segment(tmp.path(), n).unwrap();
        }
        fs::write(tmp.path().join("checkpoint.00000002"), b"").unwrap();
        fs::write(tmp.path().join("stray"), b"").unwrap();
        assert_eq!(
            list_segments(tmp.path(), Some("checkpoint.")).unwrap(),
            [1, 3, 10]
        );
        assert!(
            create_segment(tmp.path(), 3).is_err(),
            "never reuses a segment"
        );
        remove_segments_below(tmp.path(), 10, Some("checkpoint.")).unwrap();
        assert_eq!(list_segments(tmp.path(), None).unwrap(), [10]);
        remove_segments(tmp.path(), [10, 11]).unwrap();
        assert!(list_segments(tmp.path(), None).unwrap().is_empty());
    }

    #[test]
    fn a_torn_tail_is_cut_and_later_segments_removed() {
        let tmp = tempfile::tempdir().unwrap();
        let whole = frames(&[b"a", b"bb", b"ccc"]);
        let mut f = create_segment(tmp.path(), 0).unwrap();
        f.write_all(&whole[..whole.len() - 1]).unwrap();
        create_segment(tmp.path(), 1)
            .unwrap()
            .write_all(&frames(&[b"after"]))
            .unwrap();
        let segments = list_segments(tmp.path(), None).unwrap();
        let mut seen = Vec::new();
        let out = replay_segments(tmp.path(), &segments, |n, p| {
            seen.push((n, p.to_vec()));
            Ok(())
        })
        .unwrap();
        assert_eq!(seen, [(0, b"a".to_vec()), (0, b"bb".to_vec())]);
        assert_eq!(out.segments, [(0, 19)]);
        assert_eq!(out.removed_segments, 1);
        assert_eq!(out.truncated_bytes, 10 + 13);
        assert_eq!(fs::metadata(segment_path(tmp.path(), 0)).unwrap().len(), 19);
        // A second replay finds a clean log.
        let again = replay_segments(tmp.path(), &[0], |_, _| Ok(())).unwrap();
        assert_eq!(again.truncated_bytes, 0);
    }

    #[test]
    fn a_missing_file_reads_as_empty() {
        let tmp = tempfile::tempdir().unwrap();
        let r = read_repairing(&tmp.path().join("index"), |_| Ok(())).unwrap();
        assert_eq!(r, Repaired::default());
    }
}
