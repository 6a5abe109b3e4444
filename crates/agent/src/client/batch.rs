//! A batch: one tenant's entries, grouped by stream, waiting to be pushed.

use std::collections::HashMap;
use std::time::Instant;

use lokipush::{EntryAdapter, PushRequest, StreamAdapter, WireError};

use crate::entry::Receipt;

/// Entries a batch holds at most, whatever their bytes. Promtail counts
/// only the bytes of lines, so a flood of empty or tiny lines could grow a
/// batch without bound within `batchwait`; this caps what one batch costs
/// beyond its lines (about a hundred bytes an entry).
pub(crate) const MAX_BATCH_ENTRIES: usize = 16 * 1024;

/// An entry made ready for a batch: its tenant, its stream's label text
/// and the entry as it goes on the wire.
pub(crate) struct Prepared {
    /// Who the entry is pushed for; empty for no `X-Scope-OrgID`.
    pub(crate) tenant: String,
    /// The stream's label text, without reserved labels.
    pub(crate) labels: String,
    /// The entry as sent.
    pub(crate) entry: EntryAdapter,
    /// What released the source bytes.
    pub(crate) receipt: Receipt,
}

/// One tenant's entries, by stream in order of arrival.
pub(crate) struct Batch {
    pub(crate) tenant: String,
    streams: Vec<(String, Vec<EntryAdapter>)>,
    index: HashMap<String, usize>,
    /// Bytes of lines: what `batchsize` is compared with.
    bytes: usize,
    entries: usize,
    created: Instant,
    /// Every entry's receipt, released only once the store answered or
    /// the client gave up.
    pub(crate) receipt: Held,
}

/// Receipts released only on purpose, by [`Held::release`]. Dropped any
/// other way (the client stopped mid-retry, the runtime shut down under
/// it) they stay unreleased for good: the positions must never pass lines
/// the store has not answered for, and the next start reads them again.
#[derive(Default)]
pub(crate) struct Held(Option<Receipt>);

impl Held {
    /// Takes over `receipt`.
    fn merge(&mut self, receipt: Receipt) {
        self.0.get_or_insert_with(Receipt::default).merge(receipt);
    }

    /// Releases the receipts: the lines count as done.
    pub(crate) fn release(mut self) {
        drop(self.0.take());
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        if let Some(receipt) = self.0.take() {
            super::keep_unreleased(receipt);
        }
    }
}

impl Batch {
    /// An empty batch for `tenant`, its age counted from `now`.
    pub(crate) fn new(tenant: String, now: Instant) -> Self {
        Self {
            tenant,
            streams: Vec::new(),
            index: HashMap::new(),
            bytes: 0,
            entries: 0,
            created: now,
            receipt: Held::default(),
        }
    }

    /// Bytes of lines held.
    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }

    /// Entries held.
    pub(crate) fn len(&self) -> usize {
        self.entries
    }

    /// Whether adding a line of `line_len` bytes takes the batch past
    /// `batch_size` (so it goes first, and the line starts the next one).
    pub(crate) fn is_full_before(&self, line_len: usize, batch_size: usize) -> bool {
        self.entries > 0
            && (self.bytes + line_len > batch_size || self.entries >= MAX_BATCH_ENTRIES)
    }

    /// Whether the batch is at least `wait` old at `now`.
    pub(crate) fn is_older_than(&self, wait: std::time::Duration, now: Instant) -> bool {
        now.saturating_duration_since(self.created) >= wait
    }

    /// Whether an entry of the stream `labels` fits: with `max_streams`
    /// streams held (0: no limit), only entries of those do.
    pub(crate) fn takes_stream(&self, labels: &str, max_streams: usize) -> bool {
        max_streams == 0 || self.streams.len() < max_streams || self.index.contains_key(labels)
    }

    /// Adds an entry (after [`Batch::takes_stream`]).
    pub(crate) fn add(&mut self, p: Prepared) {
        let index = match self.index.get(&p.labels) {
            Some(&i) => i,
            None => {
                self.index.insert(p.labels.clone(), self.streams.len());
                self.streams.push((p.labels, Vec::new()));
                self.streams.len() - 1
            }
        };
        self.bytes += p.entry.line.len();
        self.entries += 1;
        self.streams[index].1.push(p.entry);
        self.receipt.merge(p.receipt);
    }

    /// The push body of the batch; its entries are freed, its receipt
    /// stays.
    pub(crate) fn encode(&mut self) -> Result<Vec<u8>, WireError> {
        self.index = HashMap::new();
        let request = PushRequest {
            streams: std::mem::take(&mut self.streams)
                .into_iter()
                .map(|(labels, entries)| StreamAdapter {
                    labels: labels.into_bytes(),
                    entries,
                    hash: 0,
                })
                .collect(),
        };
        lokipush::encode(&request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lokipush::Timestamp;

    fn entry(labels: &str, line: &str) -> Prepared {
        Prepared {
            tenant: String::new(),
            labels: labels.to_owned(),
            entry: EntryAdapter {
                timestamp: Some(Timestamp::from_nanos(1)),
                line: line.as_bytes().to_vec(),
                structured_metadata: vec![],
            },
            receipt: Receipt::default(),
        }
    }

    #[test]
    fn entries_of_one_stream_share_it_in_order() {
        let mut b = Batch::new(String::new(), Instant::now());
        for (labels, line) in [
            ("{a=\"1\"}", "x"),
            ("{a=\"2\"}", "yy"),
            ("{a=\"1\"}", "zzz"),
        ] {
            b.add(entry(labels, line));
        }
        assert_eq!((b.len(), b.bytes()), (3, 6));
        let body = b.encode().unwrap();
        let request = lokipush::decode(&body, 1 << 20).unwrap();
        let streams: Vec<(String, Vec<String>)> = request
            .streams
            .into_iter()
            .map(|s| {
                let lines = s
                    .entries
                    .into_iter()
                    .map(|e| String::from_utf8(e.line).unwrap());
                (String::from_utf8(s.labels).unwrap(), lines.collect())
            })
            .collect();
        assert_eq!(
            streams,
            [
                (
                    "{a=\"1\"}".to_owned(),
                    vec!["x".to_owned(), "zzz".to_owned()]
                ),
                ("{a=\"2\"}".to_owned(), vec!["yy".to_owned()]),
            ]
        );
    }

    #[test]
    fn a_batch_is_full_when_the_next_line_would_pass_the_size() {
        let mut b = Batch::new(String::new(), Instant::now());
        // An empty batch takes any line, however long.
        assert!(!b.is_full_before(100, 10));
        b.add(entry("{}", "12345"));
        assert!(!b.is_full_before(5, 10));
        assert!(b.is_full_before(6, 10));
    }

    #[test]
    fn past_max_streams_only_the_streams_held_are_taken() {
        let mut b = Batch::new(String::new(), Instant::now());
        assert!(b.takes_stream("{a=\"1\"}", 1));
        b.add(entry("{a=\"1\"}", "x"));
        assert!(b.takes_stream("{a=\"1\"}", 1));
        assert!(!b.takes_stream("{a=\"2\"}", 1));
        assert!(b.takes_stream("{a=\"2\"}", 0));
    }
}
