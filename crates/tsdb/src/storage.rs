//! The seam the query engine reads through: [`Queryable`], [`Querier`], [`Series`].

use std::fmt;
use std::sync::Arc;

use model::{Labels, Matcher};

use crate::TsdbError;
use crate::chunk::XorIter;

/// Identifies a series inside one database for its lifetime (and across
/// restarts, through the write-ahead log).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SeriesRef(pub u64);

impl fmt::Display for SeriesRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Something that can be queried over a time range: the head, a block, the
/// whole database.
pub trait Queryable: Send + Sync {
    /// A view of the samples with `mint <= t <= maxt` (milliseconds, both
    /// ends inclusive; PromQL's left-open windows are the engine's business).
    fn querier(&self, mint: i64, maxt: i64) -> Result<Box<dyn Querier + '_>, TsdbError>;
}

/// Reads series, label names and label values within one time range.
///
/// Matchers follow Prometheus: a label a series lacks has the value `""`, so
/// a matcher that matches `""` also selects series without the label, and
/// regexes are fully anchored. The storage answers any list of matchers, even
/// one that selects everything; refusing selectors in which every matcher
/// matches `""` (as PromQL requires) is the caller's rule.
///
/// A querier is `Send`, so a query can run on a worker thread.
pub trait Querier: Send {
    /// The series selected by `matchers` that have at least one sample in
    /// range, sorted by labels.
    fn select(&self, matchers: &[Matcher]) -> Result<Vec<Series>, TsdbError>;

    /// Sorted label names of the series selected by `matchers`; with no
    /// matcher, every label name the storage knows (possibly including
    /// series with no sample in range, as Prometheus' head does).
    fn label_names(&self, matchers: &[Matcher]) -> Result<Vec<String>, TsdbError>;

    /// Sorted distinct values of label `name` among the series selected by
    /// `matchers`; with no matcher, every value the storage knows.
    fn label_values(&self, name: &str, matchers: &[Matcher]) -> Result<Vec<String>, TsdbError>;
}

/// One selected series: its labels and its compressed samples in range.
///
/// The chunks are shared, not copied, with the storage, so holding a
/// `Series` costs little and never blocks writers.
#[derive(Debug, Clone)]
pub struct Series {
    labels: Labels,
    chunks: Vec<ChunkSlice>,
}

/// One encoded chunk and the part of it that belongs to a query: a head
/// chunk can straddle the end of the newest block, and those samples must be
/// read from one place only.
#[derive(Debug, Clone)]
pub(crate) struct ChunkSlice {
    /// The encoded chunk.
    pub(crate) data: Arc<[u8]>,
    /// Oldest timestamp to return.
    pub(crate) mint: i64,
    /// Newest timestamp to return.
    pub(crate) maxt: i64,
}

impl Series {
    /// Assembles a series from time-ordered chunk slices whose ranges do not
    /// overlap.
    pub(crate) fn new(labels: Labels, chunks: Vec<ChunkSlice>) -> Self {
        Self { labels, chunks }
    }

    /// Appends the chunks of a later part of the same series.
    pub(crate) fn extend(&mut self, later: Series) {
        self.chunks.extend(later.chunks);
    }

    /// The series' labels.
    pub fn labels(&self) -> &Labels {
        &self.labels
    }

    /// At least the number of samples [`Series::samples`] yields (the
    /// chunks' sample counts, some of which may fall outside the range):
    /// the capacity to decode into.
    pub fn samples_upper_bound(&self) -> usize {
        self.chunks
            .iter()
            .map(|c| crate::chunk::sample_count(&c.data))
            .sum()
    }

    /// The samples in range, oldest first, as `(milliseconds, value)`.
    pub fn samples(&self) -> SeriesSamples<'_> {
        SeriesSamples {
            chunks: self.chunks.iter(),
            current: None,
            mint: 0,
            maxt: 0,
            error: false,
        }
    }
}

/// Iterator over the samples of a [`Series`].
#[derive(Debug)]
pub struct SeriesSamples<'a> {
    chunks: std::slice::Iter<'a, ChunkSlice>,
    current: Option<XorIter<'a>>,
    /// Range of the current chunk slice.
    mint: i64,
    maxt: i64,
    error: bool,
}

impl SeriesSamples<'_> {
    /// Whether iteration stopped on a malformed chunk instead of the end.
    pub fn error(&self) -> bool {
        self.error
    }
}

impl Iterator for SeriesSamples<'_> {
    type Item = (i64, f64);

    fn next(&mut self) -> Option<(i64, f64)> {
        loop {
            if let Some(it) = &mut self.current {
                match it.next() {
                    Some((t, _)) if t < self.mint => continue,
                    Some((t, _)) if t > self.maxt => {
                        // Samples are time-ordered: the rest of this chunk is
                        // past its slice.
                        self.current = None;
                    }
                    Some(sample) => return Some(sample),
                    None => {
                        if it.error() {
                            self.error = true;
                            self.chunks = [].iter();
                        }
                        self.current = None;
                    }
                }
            }
            let chunk = self.chunks.next()?;
            self.mint = chunk.mint;
            self.maxt = chunk.maxt;
            self.current = Some(XorIter::new(&chunk.data));
        }
    }
}

/// The sorted, distinct label names of some label sets: what
/// `label_names` answers once matchers have picked the series.
pub(crate) fn distinct_label_names<L: std::borrow::Borrow<Labels>>(
    sets: impl IntoIterator<Item = L>,
) -> Vec<String> {
    let mut names: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
    for set in sets {
        for label in set.borrow().iter() {
            if !names.contains(label.name) {
                names.insert(label.name.to_owned());
            }
        }
    }
    names.into_iter().collect()
}
