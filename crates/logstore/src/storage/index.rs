//! The label index: per tenant, the streams and their chunk files, with an inverted index name → value → streams held in memory and one append-only index file per period on disk.
//!
//! On disk, `tenants/<tenant>/<period>/index` is a sequence of records in
//! `segments`' frames (`[length: u32 LE][crc32: u32 LE][payload]`, as in
//! the log), one per chunk file flushed:
//!
//! ```text
//! [kind = 1: u8][chunk id: u64 LE][stream labels][min ts: varint][max ts: varint]
//! [entries: uvarint][line bytes: uvarint][file bytes: uvarint]
//! [log sequence through which the stream's entries of this period are in chunk files: uvarint]
//! ```
//!
//! Opening reads these files only, never a chunk. A torn tail (a crash
//! while appending a record) is truncated with a warning; a chunk file
//! without a record (a crash between the two writes) is deleted, its
//! entries being still in the log.

use std::collections::{BTreeMap, HashMap};
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use model::{Labels, Matcher};
use segments::{Reader, begin_frame, end_frame, put_uvarint, put_varint, read_repairing, sync_dir};

use super::StorageError;
use super::chunk::{self, ChunkRef};
use super::encoding::{ReadLabels, put_labels};
use super::head::{StreamEntry, StreamHead};

const KIND_CHUNK: u8 = 1;

/// One stream as the index knows it.
#[derive(Debug)]
pub(crate) struct IndexedStream {
    pub(crate) entry: Arc<StreamEntry>,
    /// Its chunk files, in the order they were flushed.
    pub(crate) chunks: Vec<Arc<ChunkRef>>,
    /// Per period, the log sequence through which its entries are in chunk
    /// files: replay skips those.
    pub(crate) flushed_through: BTreeMap<i64, u64>,
}

/// The streams of one tenant and how to find them by labels.
#[derive(Debug, Default)]
pub(crate) struct TenantIndex {
    streams: Vec<IndexedStream>,
    by_labels: HashMap<Labels, usize>,
    /// name → value → positions in `streams`, ascending.
    postings: BTreeMap<String, BTreeMap<String, Vec<usize>>>,
}

impl TenantIndex {
    /// The stream with these labels, created if new.
    pub(crate) fn get_or_insert(&mut self, labels: &Labels) -> Arc<StreamEntry> {
        if let Some(&i) = self.by_labels.get(labels) {
            return Arc::clone(&self.streams[i].entry);
        }
        let entry = Arc::new(StreamEntry {
            labels: labels.clone(),
            head: Mutex::new(StreamHead::default()),
        });
        self.push(IndexedStream {
            entry: Arc::clone(&entry),
            chunks: Vec::new(),
            flushed_through: BTreeMap::new(),
        });
        entry
    }

    fn push(&mut self, s: IndexedStream) {
        let i = self.streams.len();
        for l in &s.entry.labels {
            self.postings
                .entry(l.name.to_owned())
                .or_default()
                .entry(l.value.to_owned())
                .or_default()
                .push(i);
        }
        self.by_labels.insert(s.entry.labels.clone(), i);
        self.streams.push(s);
    }

    /// The stream with these labels (created if new) and the log sequences
    /// through which its periods are in chunk files.
    pub(crate) fn for_replay(&mut self, labels: &Labels) -> (Arc<StreamEntry>, BTreeMap<i64, u64>) {
        let entry = self.get_or_insert(labels);
        let marks = self
            .by_labels
            .get(labels)
            .map(|&i| self.streams[i].flushed_through.clone())
            .unwrap_or_default();
        (entry, marks)
    }

    /// The stream with these labels, if known.
    pub(crate) fn get(&self, labels: &Labels) -> Option<&Arc<StreamEntry>> {
        self.by_labels.get(labels).map(|&i| &self.streams[i].entry)
    }

    /// Records a flushed chunk file of the stream `labels`.
    pub(crate) fn add_chunk(&mut self, labels: &Labels, chunk: ChunkRef, flushed_through: u64) {
        self.get_or_insert(labels);
        let Some(&i) = self.by_labels.get(labels) else {
            return;
        };
        let s = &mut self.streams[i];
        let mark = s.flushed_through.entry(chunk.period).or_insert(0);
        *mark = (*mark).max(flushed_through);
        let mut head = super::wal::lock(&s.entry.head);
        head.max_ts = Some(head.max_ts.map_or(chunk.max_ts, |m| m.max(chunk.max_ts)));
        drop(head);
        s.chunks.push(Arc::new(chunk));
    }

    /// Every stream.
    pub(crate) fn streams(&self) -> &[IndexedStream] {
        &self.streams
    }

    /// The streams whose labels satisfy every matcher (a missing label has
    /// the value `""`), found through the postings without reading chunks.
    pub(crate) fn select(&self, matchers: &[Matcher]) -> Vec<&IndexedStream> {
        // Candidates come from the matchers that cannot select a stream
        // lacking their label; each candidate is then checked against all.
        let mut candidates: Option<Vec<usize>> = None;
        for m in matchers.iter().filter(|m| !m.matches_empty()) {
            let mut ids: Vec<usize> = self
                .postings
                .get(&m.name)
                .into_iter()
                .flat_map(|values| values.iter())
                .filter(|(v, _)| m.matches(v))
                .flat_map(|(_, ids)| ids.iter().copied())
                .collect();
            ids.sort_unstable();
            candidates = Some(match candidates {
                None => ids,
                Some(prev) => prev
                    .into_iter()
                    .filter(|i| ids.binary_search(i).is_ok())
                    .collect(),
            });
        }
        let all = || (0..self.streams.len()).collect();
        candidates
            .unwrap_or_else(all)
            .into_iter()
            .filter_map(|i| self.streams.get(i))
            .filter(|s| {
                matchers
                    .iter()
                    .all(|m| m.matches(s.entry.labels.get(&m.name).unwrap_or("")))
            })
            .collect()
    }

    /// Drops the chunks of periods before `first_kept` and the streams left
    /// with nothing; returns the chunks dropped.
    pub(crate) fn drop_periods_before(&mut self, first_kept: i64) -> Vec<Arc<ChunkRef>> {
        let mut dropped = Vec::new();
        let old = std::mem::take(self);
        for mut s in old.streams {
            let (gone, kept): (Vec<_>, Vec<_>) =
                s.chunks.into_iter().partition(|c| c.period < first_kept);
            dropped.extend(gone);
            s.chunks = kept;
            s.flushed_through.retain(|&p, _| p >= first_kept);
            let in_memory = !super::wal::lock(&s.entry.head).is_empty();
            if !s.chunks.is_empty() || in_memory {
                self.push(s);
            }
        }
        dropped
    }
}

/// The directory of a tenant: its name with every byte outside
/// `[A-Za-z0-9_-]` written `%XX`, so any tenant id is one safe path
/// component.
pub(crate) fn tenant_dir_name(tenant: &str) -> String {
    let mut out = String::with_capacity(tenant.len());
    for b in tenant.bytes() {
        if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The tenant a directory name stands for.
pub(crate) fn parse_tenant_dir(name: &str) -> Option<String> {
    let bytes = name.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok().filter(|t| !t.is_empty())
}

/// The directory of one tenant's period.
pub(crate) fn period_dir(root: &Path, tenant: &str, period: i64) -> PathBuf {
    root.join(tenant_dir_name(tenant)).join(period.to_string())
}

/// Appends the record of a flushed chunk to its period's index file and
/// makes it durable.
pub(crate) fn append_record(
    period_dir: &Path,
    labels: &Labels,
    chunk: &ChunkRef,
    flushed_through: u64,
) -> Result<(), StorageError> {
    let mut frame = Vec::new();
    let start = begin_frame(&mut frame);
    frame.push(KIND_CHUNK);
    frame.extend_from_slice(&chunk.id.to_le_bytes());
    put_labels(&mut frame, labels);
    put_varint(&mut frame, chunk.min_ts);
    put_varint(&mut frame, chunk.max_ts);
    put_uvarint(&mut frame, chunk.entries);
    put_uvarint(&mut frame, chunk.line_bytes);
    put_uvarint(&mut frame, chunk.file_bytes);
    put_uvarint(&mut frame, flushed_through);
    end_frame(&mut frame, start);
    let path = period_dir.join("index");
    let existed = path.exists();
    let mut f = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(|e| StorageError::io("open index file", &path, e))?;
    let before = f
        .metadata()
        .map_err(|e| StorageError::io("read index file size", &path, e))?
        .len();
    if let Err(e) = f.write_all(&frame).and_then(|()| f.sync_data()) {
        // A partial frame would hide every later record at the next open:
        // cut it off so that the retry appends after a whole file.
        let _ = f.set_len(before).and_then(|()| f.sync_data());
        return Err(StorageError::io("write index file", &path, e));
    }
    if !existed {
        sync_dir(period_dir)?;
    }
    Ok(())
}

/// One record of an index file.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct IndexRecord {
    pub(crate) labels: Labels,
    pub(crate) chunk: ChunkRef,
    pub(crate) flushed_through: u64,
}

fn decode_record(payload: &[u8], period: i64, chunks_dir: &Path) -> Option<IndexRecord> {
    let mut r = Reader::new(payload);
    if r.u8()? != KIND_CHUNK {
        return None;
    }
    let id = r.u64_le()?;
    let labels = r.labels()?;
    let chunk = ChunkRef {
        id,
        period,
        path: chunks_dir.join(chunk::file_name(id)),
        min_ts: r.varint()?,
        max_ts: r.varint()?,
        entries: r.uvarint()?,
        line_bytes: r.uvarint()?,
        file_bytes: r.uvarint()?,
    };
    let flushed_through = r.uvarint()?;
    (r.is_empty() && chunk.min_ts <= chunk.max_ts).then_some(IndexRecord {
        labels,
        chunk,
        flushed_through,
    })
}

/// Reads one period's index, repairing it: a torn tail is truncated,
/// chunk files the index does not name are deleted, and records whose
/// chunk file is gone are dropped (with a warning: that data is lost).
pub(crate) fn load_period(dir: &Path, period: i64) -> Result<Vec<IndexRecord>, StorageError> {
    let path = dir.join("index");
    let chunks_dir = dir.join("chunks");
    let mut records = Vec::new();
    read_repairing(&path, |payload| {
        records.push(decode_record(payload, period, &chunks_dir).ok_or("undecodable record")?);
        Ok(())
    })?;
    let mut on_disk = HashMap::new();
    match fs::read_dir(&chunks_dir) {
        Ok(entries) => {
            for entry in entries {
                let entry =
                    entry.map_err(|e| StorageError::io("read chunk directory", &chunks_dir, e))?;
                let name = entry.file_name();
                match name.to_str().and_then(chunk::parse_name) {
                    Some(id) => {
                        on_disk.insert(id, entry.path());
                    }
                    None => {
                        tracing::warn!(file = %entry.path().display(), "removing an unfinished chunk file");
                        fs::remove_file(entry.path())
                            .map_err(|e| StorageError::io("remove chunk file", entry.path(), e))?;
                    }
                }
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(StorageError::io("read chunk directory", &chunks_dir, e)),
    }
    records.retain(|r| {
        let found = on_disk.remove(&r.chunk.id).is_some();
        if !found {
            tracing::warn!(file = %r.chunk.path.display(), "the index names a chunk file that is missing; its entries are lost");
        }
        found
    });
    for (_, orphan) in on_disk {
        tracing::warn!(file = %orphan.display(), "removing a chunk file the index does not name; its entries are replayed from the log");
        fs::remove_file(&orphan).map_err(|e| StorageError::io("remove chunk file", &orphan, e))?;
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::MatchOp;

    fn m(op: MatchOp, n: &str, v: &str) -> Matcher {
        Matcher::new(op, n, v).unwrap()
    }

    #[test]
    fn selection_treats_missing_labels_as_empty_and_anchors_regexes() {
        let mut idx = TenantIndex::default();
        for pairs in [
            vec![("app", "api"), ("env", "prod")],
            vec![("app", "api-2")],
            vec![("app", "web"), ("env", "dev")],
        ] {
            idx.get_or_insert(&Labels::from_pairs(pairs));
        }
        let names = |ms: &[Matcher]| -> Vec<String> {
            idx.select(ms)
                .iter()
                .map(|s| s.entry.labels.to_string())
                .collect()
        };
        assert_eq!(names(&[m(MatchOp::Regex, "app", "api")]).len(), 1);
        assert_eq!(names(&[m(MatchOp::Regex, "app", "api.*")]).len(), 2);
        assert_eq!(names(&[m(MatchOp::Equal, "env", "")]), [r#"{app="api-2"}"#]);
        assert_eq!(names(&[m(MatchOp::NotEqual, "env", "prod")]).len(), 2);
        assert_eq!(
            names(&[
                m(MatchOp::Regex, "app", "api.*"),
                m(MatchOp::NotRegex, "env", "prod|dev")
            ])
            .len(),
            1
        );
    }

    #[test]
    fn tenant_names_escape_to_one_path_component_and_back() {
        for t in ["fake", "a/b", "..", "tenant.with:colon", "ünï"] {
            let d = tenant_dir_name(t);
            assert!(!d.contains('/') && !d.contains('.'), "{d}");
            assert_eq!(parse_tenant_dir(&d).as_deref(), Some(t));
        }
        assert_eq!(parse_tenant_dir("%zz"), None);
        assert_eq!(parse_tenant_dir("%4"), None);
    }

    #[test]
    fn index_files_repair_torn_tails_and_orphans() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        fs::create_dir_all(dir.join("chunks")).unwrap();
        let labels = Labels::from_pairs([("app", "a")]);
        let mk = |id: u64| ChunkRef {
            id,
            period: 3,
            path: dir.join("chunks").join(chunk::file_name(id)),
            min_ts: 1,
            max_ts: 2,
            entries: 3,
            line_bytes: 4,
            file_bytes: 5,
        };
        for id in [1, 2] {
            fs::write(mk(id).path, b"x").unwrap();
            append_record(dir, &labels, &mk(id), id * 10).unwrap();
        }
        fs::write(mk(9).path, b"orphan").unwrap();
        fs::write(dir.join("chunks").join("0000000000000003.tmp"), b"tmp").unwrap();
        fs::remove_file(mk(2).path).unwrap();
        let mut data = fs::read(dir.join("index")).unwrap();
        data.extend_from_slice(&[7, 0, 0]);
        fs::write(dir.join("index"), &data).unwrap();
        let recs = load_period(dir, 3).unwrap();
        assert_eq!(
            recs,
            [IndexRecord {
                labels,
                chunk: mk(1),
                flushed_through: 10
            }]
        );
        assert!(!mk(9).path.exists());
        assert_eq!(fs::read_dir(dir.join("chunks")).unwrap().count(), 1);
        for i in 0..data.len() {
            let mut bad = data.clone();
            bad[i] ^= 0x41;
            fs::write(dir.join("index"), &bad).unwrap();
            let _ = load_period(dir, 3).unwrap();
        }
    }
}
