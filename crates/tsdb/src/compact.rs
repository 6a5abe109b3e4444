//! Housekeeping of the database: cutting the head into blocks, merging blocks, retention.

use std::collections::BTreeMap;
use std::fs;
use std::sync::{Arc, PoisonError};

use model::Labels;

use crate::block::{Block, BlockWriter, RawChunk, TMP_SUFFIX, block_name};
use crate::chunk::{SAMPLES_PER_CHUNK, XorEncoder};
use crate::db::{SAMPLES_PER_RECORD, Tsdb};
use crate::head::lock;
use crate::{TsdbError, record, wal};

/// Longest range a compacted block may cover: 31 days, as Prometheus.
const MAX_BLOCK_RANGE: i64 = 31 * 24 * 3600 * 1000;

/// What one [`Tsdb::compact`] call did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CompactionReport {
    /// Blocks cut from the head.
    pub blocks_cut: usize,
    /// Blocks written by merging others.
    pub blocks_merged: usize,
    /// Blocks deleted by retention.
    pub blocks_deleted: usize,
    /// Series the head dropped because all their samples went to blocks.
    pub series_dropped: usize,
}

/// Encodes time-ordered samples into chunks of [`SAMPLES_PER_CHUNK`].
fn encode_chunks(samples: &[(i64, f64)]) -> Result<Vec<RawChunk>, TsdbError> {
    let mut out = Vec::new();
    for part in samples.chunks(usize::from(SAMPLES_PER_CHUNK)) {
        let mut enc = XorEncoder::new();
        for &(t, v) in part {
            enc.append(t, v)?;
        }
        out.push(RawChunk {
            mint: enc.min_time(),
            maxt: enc.max_time(),
            data: Arc::from(enc.bytes()),
        });
    }
    Ok(out)
}

impl Tsdb {
    /// Cuts the head into blocks while it spans more than one and a half
    /// block durations, merges blocks whose time window is complete, and
    /// deletes blocks past retention. Call it periodically; concurrent calls
    /// wait for each other. Appends and queries go on meanwhile.
    pub fn compact(&self) -> Result<CompactionReport, TsdbError> {
        let _one_at_a_time = lock(&self.compacting);
        let mut report = CompactionReport::default();
        let range = self.options.block_duration.max(1);
        let mut checkpoint = None;
        while let (Some(min), Some(max)) = (self.head.min_time(), self.head.max_time()) {
            // Timestamps are any i64. The first block starts at i64::MIN if
            // its aligned start is below it; a sample so late that no block
            // could end after it stays in the head.
            let window = min.div_euclid(range);
            let start = window.checked_mul(range).unwrap_or(i64::MIN);
            let Some(end) = window.checked_add(1).and_then(|w| w.checked_mul(range)) else {
                break;
            };
            if max < end.saturating_add(range / 2) {
                break;
            }
            let (dropped, next_segment) = self.cut_head(start, end)?;
            report.series_dropped += dropped;
            report.blocks_cut += 1;
            checkpoint = Some(next_segment);
        }
        // One checkpoint for all the cuts: each rewrites what the head
        // still holds, so doing it per cut would cost the square.
        if let Some(n) = checkpoint {
            self.checkpoint(n)?;
        }
        report.blocks_merged = self.merge_blocks()?;
        report.blocks_deleted = self.apply_retention()?;
        Ok(report)
    }

    /// Writes the head's samples in `[start, end)` to a block, then drops
    /// them from the head; returns the series dropped and the log segment
    /// from which a checkpoint may replace the log.
    fn cut_head(&self, start: i64, end: i64) -> Result<(usize, u64), TsdbError> {
        // Stop accepting samples in the block's range first, under the log's
        // lock (commits apply under it), so none can arrive once a series
        // has been written out.
        {
            let _wal = self.wal.lock()?;
            self.head.set_min_valid(end);
        }
        let mut writer = BlockWriter::create(&self.dir, &block_name(start, end))?;
        for series in self.head.all_series() {
            let samples = series.samples_in(start, end - 1);
            if !samples.is_empty() {
                writer.add_series(&series.labels, &encode_chunks(&samples)?)?;
            }
        }
        let block = writer.finish(start, end, 1, Vec::new())?;
        tracing::info!(
            block = block.name(),
            series = block.meta().stats.series,
            "cut head block"
        );
        {
            let mut blocks = self.blocks.write().unwrap_or_else(PoisonError::into_inner);
            blocks.push(Arc::new(block));
            blocks.sort_by_key(|b| b.meta().min_time);
            self.head.set_query_min(end);
        }
        let mut wal = self.wal.lock()?;
        let next = wal.rotate()?;
        Ok((self.head.truncate(end), next))
    }

    /// Replaces every log segment before `n` with the head's current state.
    ///
    /// Commits landing in segment `n` or later meanwhile may also be in the
    /// checkpoint; replaying them again is harmless, as an exact repeat of a
    /// sample is ignored.
    fn checkpoint(&self, n: u64) -> Result<(), TsdbError> {
        let series = self.head.all_series();
        let mut out = wal::Checkpoint::create(&self.dir.join("wal"), n)?;
        let mut bytes = Vec::new();
        for part in series.chunks(10_000) {
            record::encode_series(&mut bytes, part.iter().map(|s| (s.id, &s.labels)));
            out.write(&bytes)?;
            bytes.clear();
        }
        let min = self.head.min_valid();
        let mut batch = Vec::new();
        for s in &series {
            batch.extend(
                s.samples_in(min, i64::MAX)
                    .into_iter()
                    .map(|(t, v)| (s.id, t, v)),
            );
            if batch.len() >= SAMPLES_PER_RECORD {
                record::encode_samples(&mut bytes, batch.drain(..));
                out.write(&bytes)?;
                bytes.clear();
            }
        }
        if !batch.is_empty() {
            record::encode_samples(&mut bytes, batch);
            out.write(&bytes)?;
        }
        out.finish()
    }

    /// Merges blocks that fall in one aligned window of 3, 9, 27, …
    /// block durations once that window is complete; returns how many
    /// blocks were written.
    fn merge_blocks(&self) -> Result<usize, TsdbError> {
        let base = self.options.block_duration.max(1);
        let max_range = match self.options.retention_time {
            Some(keep) => (keep / 10).clamp(base, MAX_BLOCK_RANGE),
            None => MAX_BLOCK_RANGE,
        };
        let mut merged = 0;
        let mut range = base.saturating_mul(3);
        while range <= max_range {
            loop {
                let blocks = self.blocks();
                // The window must be over: nothing can be added to it later.
                let horizon = self.head.min_valid();
                let mut windows: BTreeMap<i64, Vec<Arc<Block>>> = BTreeMap::new();
                for b in blocks {
                    let w = b.meta().min_time.div_euclid(range);
                    let fits = b.meta().max_time <= (w + 1).saturating_mul(range);
                    if fits && (w + 1).saturating_mul(range) <= horizon {
                        windows.entry(w).or_default().push(b);
                    }
                }
                let Some(group) = windows.into_values().find(|g| g.len() > 1) else {
                    break;
                };
                self.merge(&group)?;
                merged += 1;
            }
            range = range.saturating_mul(3);
        }
        Ok(merged)
    }

    /// Writes one block holding all of `group` (time-ordered, not
    /// overlapping), then replaces them with it.
    fn merge(&self, group: &[Arc<Block>]) -> Result<(), TsdbError> {
        let (Some(first), Some(last)) = (group.first(), group.last()) else {
            return Ok(());
        };
        let (min, max) = (first.meta().min_time, last.meta().max_time);
        let mut series: BTreeMap<Labels, Vec<(usize, usize)>> = BTreeMap::new();
        for (b, block) in group.iter().enumerate() {
            for (i, labels) in block.series_labels().enumerate() {
                series.entry(labels).or_default().push((b, i));
            }
        }
        let mut writer = BlockWriter::create(&self.dir, &block_name(min, max))?;
        for (labels, parts) in series {
            let mut chunks = Vec::new();
            for (b, i) in parts {
                chunks.extend(group[b].series_chunks(i)?);
            }
            writer.add_series(&labels, &chunks)?;
        }
        let level = group.iter().map(|b| b.meta().level).max().unwrap_or(0) + 1;
        let parents = group.iter().map(|b| b.name().to_owned()).collect();
        let block = writer.finish(min, max, level, parents)?;
        tracing::info!(
            block = block.name(),
            parents = group.len(),
            "compacted blocks"
        );
        {
            let mut blocks = self.blocks.write().unwrap_or_else(PoisonError::into_inner);
            blocks.retain(|b| !group.iter().any(|g| Arc::ptr_eq(b, g)));
            blocks.push(Arc::new(block));
            blocks.sort_by_key(|b| b.meta().min_time);
        }
        for old in group {
            remove_block(old)?;
        }
        Ok(())
    }

    /// Deletes whole blocks past the time or size limit; returns how many.
    fn apply_retention(&self) -> Result<usize, TsdbError> {
        let blocks = self.blocks();
        let newest = self
            .head
            .max_time()
            .into_iter()
            .chain(blocks.last().map(|b| b.meta().max_time))
            .max();
        let mut doomed: Vec<Arc<Block>> = Vec::new();
        if let (Some(keep), Some(newest)) = (self.options.retention_time, newest) {
            let cutoff = newest.saturating_sub(keep);
            doomed.extend(
                blocks
                    .iter()
                    .filter(|b| b.meta().max_time <= cutoff)
                    .cloned(),
            );
        }
        if let Some(limit) = self.options.retention_size {
            let mut total: u64 = wal_size(&self.dir.join("wal"))
                + blocks
                    .iter()
                    .filter(|b| !doomed.iter().any(|d| Arc::ptr_eq(b, d)))
                    .map(|b| b.size_bytes())
                    .sum::<u64>();
            for b in &blocks {
                if total <= limit {
                    break;
                }
                if !doomed.iter().any(|d| Arc::ptr_eq(b, d)) {
                    total = total.saturating_sub(b.size_bytes());
                    doomed.push(Arc::clone(b));
                }
            }
        }
        if doomed.is_empty() {
            return Ok(0);
        }
        self.blocks
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|b| !doomed.iter().any(|d| Arc::ptr_eq(b, d)));
        for b in &doomed {
            tracing::info!(block = b.name(), "deleting block past retention");
            remove_block(b)?;
        }
        Ok(doomed.len())
    }
}

/// Removes a block's directory. It is renamed to `*.tmp` first, so a crash
/// halfway leaves an unfinished block that the next open removes, never a
/// damaged one that would be read.
fn remove_block(block: &Block) -> Result<(), TsdbError> {
    let dir = block.dir();
    let doomed = dir.with_file_name(format!("{}{TMP_SUFFIX}", block.name()));
    fs::rename(dir, &doomed).map_err(|e| TsdbError::io("remove block", dir, e))?;
    fs::remove_dir_all(&doomed).map_err(|e| TsdbError::io("remove block", &doomed, e))
}

fn wal_size(dir: &std::path::Path) -> u64 {
    fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter_map(|e| e.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

/// A background thread running [`Tsdb::compact`] periodically; see
/// [`Tsdb::spawn_compactor`]. Dropping it stops the thread (waiting for a
/// compaction in progress to finish).
#[derive(Debug)]
pub struct Compactor {
    stop: Arc<(std::sync::Mutex<bool>, std::sync::Condvar)>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Tsdb {
    /// Runs [`Tsdb::compact`] every `every` on a background thread, as
    /// Prometheus does every minute, until the returned [`Compactor`] or the
    /// last other reference to the database is dropped. Failures are logged
    /// and retried at the next tick: a full disk must not stop ingestion.
    pub fn spawn_compactor(
        db: &Arc<Tsdb>,
        every: std::time::Duration,
    ) -> Result<Compactor, TsdbError> {
        let stop = Arc::new((std::sync::Mutex::new(false), std::sync::Condvar::new()));
        let weak = Arc::downgrade(db);
        let signal = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("tsdb-compactor".into())
            .spawn(move || {
                let (stopped, wake) = &*signal;
                let mut guard = lock(stopped);
                loop {
                    guard = wake
                        .wait_timeout(guard, every)
                        .map(|(g, _)| g)
                        .unwrap_or_else(|e| e.into_inner().0);
                    if *guard {
                        return;
                    }
                    // Only hold the database while compacting, so dropping
                    // it elsewhere ends this thread at the next tick.
                    let Some(db) = weak.upgrade() else { return };
                    drop(guard);
                    if let Err(e) = db.compact() {
                        tracing::error!(error = %e, "tsdb compaction failed");
                    }
                    drop(db);
                    guard = lock(stopped);
                }
            })
            .map_err(|e| TsdbError::io("start compactor thread", db.dir(), e))?;
        Ok(Compactor {
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for Compactor {
    fn drop(&mut self) {
        *lock(&self.stop.0) = true;
        self.stop.1.notify_all();
        if let Some(thread) = self.thread.take() {
            // A panic in the thread has already been reported by it.
            let _ = thread.join();
        }
    }
}
