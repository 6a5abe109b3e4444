//! What the Loki HTTP API asks of the index besides queries: label names and values, series, index stats and volume, all answered from the index and the heads without reading chunks.

use std::collections::{BTreeMap, BTreeSet};

use model::{Labels, Matcher};

use super::index::IndexedStream;
use super::storage::Storage;
use super::wal::lock;

/// What `index/stats` reports for a selector and range.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IndexStats {
    /// Streams with data in range.
    pub streams: u64,
    /// Chunks (files, and chunks still in memory) with data in range.
    pub chunks: u64,
    /// Uncompressed line bytes of those chunks.
    pub bytes: u64,
    /// Entries of those chunks.
    pub entries: u64,
}

impl Storage {
    /// Calls `f` for every stream of `tenant` selected by `matchers` (all
    /// with none) with data in `[start, end)`, with the sizes of that data:
    /// `(chunks, entries, line bytes)`, counting whole chunks as Loki does.
    fn each_stream(
        &self,
        tenant: &str,
        matchers: &[Matcher],
        start: i64,
        end: i64,
        mut f: impl FnMut(&IndexedStream, u64, u64, u64),
    ) {
        let Some(tenant) = self.inner().tenant(tenant, false) else {
            return;
        };
        let idx = tenant.read();
        for s in idx.select(matchers) {
            let h = lock(&s.entry.head).stats(start, end);
            let (mut chunks, mut entries, mut bytes) = (h.chunks, h.entries, h.line_bytes);
            for c in s
                .chunks
                .iter()
                .filter(|c| c.min_ts < end && c.max_ts >= start)
            {
                chunks += 1;
                entries += c.entries;
                bytes += c.line_bytes;
            }
            if chunks > 0 {
                f(s, chunks, entries, bytes);
            }
        }
    }

    /// Sorted label names of `tenant`'s streams selected by `matchers`
    /// with data in `[start, end)`.
    pub fn label_names(
        &self,
        tenant: &str,
        start: i64,
        end: i64,
        matchers: &[Matcher],
    ) -> Vec<String> {
        let mut names = BTreeSet::new();
        self.each_stream(tenant, matchers, start, end, |s, _, _, _| {
            names.extend(s.entry.labels.iter().map(|l| l.name.to_owned()));
        });
        names.into_iter().collect()
    }

    /// Sorted distinct values of label `name` among those streams.
    pub fn label_values(
        &self,
        tenant: &str,
        name: &str,
        start: i64,
        end: i64,
        matchers: &[Matcher],
    ) -> Vec<String> {
        let mut values = BTreeSet::new();
        self.each_stream(tenant, matchers, start, end, |s, _, _, _| {
            if let Some(v) = s.entry.labels.get(name) {
                values.insert(v.to_owned());
            }
        });
        values.into_iter().collect()
    }

    /// The label sets of streams selected by any of `groups` (each a
    /// selector's matchers) with data in `[start, end)`, sorted, without
    /// repeats.
    pub fn series(
        &self,
        tenant: &str,
        groups: &[Vec<Matcher>],
        start: i64,
        end: i64,
    ) -> Vec<Labels> {
        let mut out = BTreeSet::new();
        let all = [Vec::new()];
        let groups = if groups.is_empty() { &all[..] } else { groups };
        for g in groups {
            self.each_stream(tenant, g, start, end, |s, _, _, _| {
                out.insert(s.entry.labels.clone());
            });
        }
        out.into_iter().collect()
    }

    /// Streams, chunks, bytes and entries selected by `matchers` in range.
    pub fn index_stats(
        &self,
        tenant: &str,
        matchers: &[Matcher],
        start: i64,
        end: i64,
    ) -> IndexStats {
        let mut st = IndexStats::default();
        self.each_stream(tenant, matchers, start, end, |_, chunks, entries, bytes| {
            st.streams += 1;
            st.chunks += chunks;
            st.entries += entries;
            st.bytes += bytes;
        });
        st
    }

    /// Line bytes selected by `matchers` in range, summed by the labels
    /// `by` (Loki's `targetLabels`; with none, by the labels the matchers
    /// name), largest first.
    pub fn volume(
        &self,
        tenant: &str,
        matchers: &[Matcher],
        start: i64,
        end: i64,
        by: &[String],
    ) -> Vec<(Labels, u64)> {
        let keys: Vec<&str> = if by.is_empty() {
            matchers.iter().map(|m| m.name.as_str()).collect()
        } else {
            by.iter().map(String::as_str).collect()
        };
        let mut sums: BTreeMap<Labels, u64> = BTreeMap::new();
        self.each_stream(tenant, matchers, start, end, |s, _, _, bytes| {
            let key = s.entry.labels.filtered(|l| keys.contains(&l.name));
            *sums.entry(key).or_default() += bytes;
        });
        let mut out: Vec<(Labels, u64)> = sums.into_iter().collect();
        out.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        out
    }
}
