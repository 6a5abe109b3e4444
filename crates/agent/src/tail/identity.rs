//! Which file an offset belongs to: device and inode plus a fingerprint of
//! the file's first bytes, and the search for a rotated file by them.
//!
//! Device+inode alone is not enough: file systems hand a freed inode to
//! the next new file at once, so a file deleted and recreated by a rotation
//! can come back with the same inode. Copytruncate keeps the inode and
//! changes the content. The fingerprint (a hash of up to
//! [`FINGERPRINT_MAX`] leading bytes, and how many were hashed) tells those
//! cases apart: a file whose first bytes changed is not the file we read.

use std::fs::{File, Metadata};
use std::io;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// How many leading bytes the fingerprint covers at most. Long enough to
/// hold a timestamped first line, so two log files rarely share it.
pub const FINGERPRINT_MAX: usize = 1024;

/// The identity of one file's content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct FileId {
    /// Device the file lives on.
    pub dev: u64,
    /// Inode number on that device.
    pub ino: u64,
    /// How many leading bytes `fp` hashes (0 for an empty file).
    pub fp_len: u32,
    /// FNV-1a hash of the first `fp_len` bytes.
    pub fp: u64,
}

/// What a file's first bytes say about a recorded identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fingerprint {
    /// The leading bytes are the recorded ones (possibly more of them now,
    /// in which case the identity was extended).
    Same,
    /// The file is shorter than the recorded fingerprint, or its first
    /// bytes differ: it is no longer the content that was read.
    Changed,
}

impl FileId {
    /// The identity of an open file, fingerprinting what it holds now.
    pub fn of(file: &File) -> io::Result<FileId> {
        let meta = file.metadata()?;
        let mut id = FileId {
            dev: meta.dev(),
            ino: meta.ino(),
            fp_len: 0,
            fp: fnv1a(&[]),
        };
        id.check(file, meta.len())?;
        Ok(id)
    }

    /// Whether `meta` is the same device and inode.
    pub fn same_inode(&self, meta: &Metadata) -> bool {
        self.dev == meta.dev() && self.ino == meta.ino()
    }

    /// Compares the file's leading bytes with the fingerprint, and extends
    /// the fingerprint when the file has grown past it. `size` is the
    /// file's current length.
    pub fn check(&mut self, file: &File, size: u64) -> io::Result<Fingerprint> {
        let recorded = self.fp_len as usize;
        if size < recorded as u64 {
            return Ok(Fingerprint::Changed);
        }
        if recorded == FINGERPRINT_MAX || size == recorded as u64 && recorded > 0 {
            // Nothing more to learn; check the recorded prefix only.
            let mut buf = vec![0u8; recorded];
            let n = read_full_at(file, &mut buf)?;
            return Ok(if n == recorded && fnv1a(&buf) == self.fp {
                Fingerprint::Same
            } else {
                Fingerprint::Changed
            });
        }
        let want = (size as usize).min(FINGERPRINT_MAX);
        let mut buf = vec![0u8; want];
        let n = read_full_at(file, &mut buf)?;
        if n < recorded || fnv1a(&buf[..recorded]) != self.fp {
            return Ok(Fingerprint::Changed);
        }
        self.fp_len = n as u32;
        self.fp = fnv1a(&buf[..n]);
        Ok(Fingerprint::Same)
    }

    /// Whether `file` starts with the fingerprinted bytes (without
    /// changing the identity).
    pub fn content_matches(&self, file: &File) -> io::Result<bool> {
        let mut buf = vec![0u8; self.fp_len as usize];
        let n = read_full_at(file, &mut buf)?;
        Ok(n == buf.len() && fnv1a(&buf) == self.fp)
    }
}

/// Reads from offset 0 until `buf` is full or the file ends.
fn read_full_at(file: &File, buf: &mut [u8]) -> io::Result<usize> {
    let mut done = 0;
    while done < buf.len() {
        match file.read_at(&mut buf[done..], done as u64) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}

/// 64-bit FNV-1a: small, stable across versions and platforms (the value is
/// stored on disk), and plenty to tell two files' first bytes apart.
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// A file found for a recorded identity.
#[derive(Debug)]
pub(crate) struct Found {
    /// Where it is now.
    pub(crate) path: PathBuf,
    /// The open file.
    pub(crate) file: File,
}

/// Looks in `dir` (and at `also`, the watched path itself) for the file
/// `id` describes, holding at least `min_size` bytes: the same device and
/// inode with the same first bytes is preferred (a renamed file), then any
/// file with the same first bytes (the copy copytruncate made). `skip`
/// names a device+inode that is known not to be it (the truncated file).
pub(crate) fn find_rotated(
    dir: &Path,
    also: &Path,
    id: &FileId,
    min_size: u64,
    skip: Option<(u64, u64)>,
) -> Option<Found> {
    let mut candidates: Vec<PathBuf> = vec![also.to_path_buf()];
    if let Ok(entries) = std::fs::read_dir(dir) {
        candidates.extend(entries.flatten().map(|e| e.path()).filter(|p| p != also));
    }
    let mut by_content: Option<Found> = None;
    for path in candidates {
        let Ok(meta) = std::fs::metadata(&path) else {
            continue;
        };
        if !meta.is_file() || meta.len() < min_size {
            continue;
        }
        if skip == Some((meta.dev(), meta.ino())) {
            continue;
        }
        let inode_match = id.same_inode(&meta);
        // An empty fingerprint matches every file: only the inode can
        // identify a file that was empty when it was recorded.
        if !inode_match && (id.fp_len == 0 || by_content.is_some()) {
            continue;
        }
        let Ok(file) = File::open(&path) else {
            continue;
        };
        if !matches!(id.content_matches(&file), Ok(true)) {
            continue;
        }
        if inode_match {
            return Some(Found { path, file });
        }
        by_content = Some(Found { path, file });
    }
    by_content
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn write(path: &Path, data: &[u8]) {
        let mut f = File::create(path).unwrap();
        f.write_all(data).unwrap();
    }

    #[test]
    fn a_growing_file_keeps_its_identity_and_extends_the_fingerprint() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.log");
        write(&p, b"first\n");
        let mut id = FileId::of(&File::open(&p).unwrap()).unwrap();
        assert_eq!(id.fp_len, 6);
        std::fs::OpenOptions::new()
            .append(true)
            .open(&p)
            .unwrap()
            .write_all(b"second\n")
            .unwrap();
        let f = File::open(&p).unwrap();
        assert_eq!(id.check(&f, 13).unwrap(), Fingerprint::Same);
        assert_eq!(id.fp_len, 13);
    }

    #[test]
    fn rewritten_first_bytes_are_a_change() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.log");
        write(&p, b"first\n");
        let mut id = FileId::of(&File::open(&p).unwrap()).unwrap();
        write(&p, b"other line\n");
        let f = File::open(&p).unwrap();
        assert_eq!(id.check(&f, 11).unwrap(), Fingerprint::Changed);
        write(&p, b"fir");
        assert_eq!(id.check(&f, 3).unwrap(), Fingerprint::Changed);
    }

    #[test]
    fn a_copy_is_found_by_content_and_a_renamed_file_by_inode() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.log");
        write(&p, b"line one\n");
        let id = FileId::of(&File::open(&p).unwrap()).unwrap();
        std::fs::copy(&p, dir.path().join("a.log.1")).unwrap();
        write(&p, b"");
        let found = find_rotated(dir.path(), &p, &id, 9, None).unwrap();
        assert_eq!(found.path, dir.path().join("a.log.1"));

        std::fs::rename(dir.path().join("a.log.1"), dir.path().join("a.log.2")).unwrap();
        let found = find_rotated(dir.path(), &p, &id, 0, None).unwrap();
        assert_eq!(found.path, dir.path().join("a.log.2"));
    }
}
