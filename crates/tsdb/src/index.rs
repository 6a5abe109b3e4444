//! The head's inverted index: label name → value → sorted series ids.

use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};

use model::{Labels, MatchOp, Matcher};

use crate::SeriesRef;

/// Maps label sets to series ids and label pairs to postings lists.
///
/// Postings lists are kept sorted by id so that intersection and union are
/// linear merges.
#[derive(Debug, Default)]
pub(crate) struct Index {
    /// Hash of a label set → the ids of the series with that hash (almost
    /// always one). The label sets themselves live with the series, so the
    /// index does not keep a second copy of every one of them.
    by_hash: HashMap<u64, Vec<SeriesRef>>,
    /// Whether `by_hash` is kept: only the head looks series up by labels.
    no_lookup: bool,
    postings: BTreeMap<String, BTreeMap<String, Vec<SeriesRef>>>,
    all: Vec<SeriesRef>,
}

/// A hash of a label set that is the same in every run (the default
/// hasher's keys are fixed).
fn labels_hash(labels: &Labels) -> u64 {
    let mut h = std::hash::DefaultHasher::new();
    labels.hash(&mut h);
    h.finish()
}

fn insert_sorted(list: &mut Vec<SeriesRef>, id: SeriesRef) {
    if let Err(pos) = list.binary_search(&id) {
        list.insert(pos, id);
    }
}

impl Index {
    /// An index that answers selections but not lookups by labels, for
    /// blocks, which would otherwise keep a second copy of every label set.
    pub(crate) fn postings_only() -> Self {
        Self {
            no_lookup: true,
            ..Self::default()
        }
    }

    /// The id of the series with exactly these labels; `has_labels` tells
    /// whether a candidate series (same hash) has them.
    pub(crate) fn lookup(
        &self,
        labels: &Labels,
        has_labels: impl Fn(SeriesRef) -> bool,
    ) -> Option<SeriesRef> {
        self.by_hash
            .get(&labels_hash(labels))?
            .iter()
            .copied()
            .find(|&id| has_labels(id))
    }

    /// Number of series indexed.
    pub(crate) fn len(&self) -> usize {
        self.all.len()
    }

    /// Indexes a new series.
    pub(crate) fn add(&mut self, id: SeriesRef, labels: &Labels) {
        if !self.no_lookup {
            self.by_hash
                .entry(labels_hash(labels))
                .or_default()
                .push(id);
        }
        insert_sorted(&mut self.all, id);
        for label in labels {
            // Look up before inserting: the names and values are almost
            // always known already, and need no new `String`.
            if !self.postings.contains_key(label.name) {
                self.postings.insert(label.name.to_owned(), BTreeMap::new());
            }
            let Some(values) = self.postings.get_mut(label.name) else {
                continue;
            };
            match values.get_mut(label.value) {
                Some(list) => insert_sorted(list, id),
                None => {
                    values.insert(label.value.to_owned(), vec![id]);
                }
            }
        }
    }

    /// Forgets a series.
    pub(crate) fn remove(&mut self, id: SeriesRef, labels: &Labels) {
        let hash = labels_hash(labels);
        if let Some(ids) = self.by_hash.get_mut(&hash) {
            ids.retain(|&other| other != id);
            if ids.is_empty() {
                self.by_hash.remove(&hash);
            }
        }
        if let Ok(pos) = self.all.binary_search(&id) {
            self.all.remove(pos);
        }
        for label in labels {
            let Some(values) = self.postings.get_mut(label.name) else {
                continue;
            };
            if let Some(list) = values.get_mut(label.value) {
                if let Ok(pos) = list.binary_search(&id) {
                    list.remove(pos);
                }
                if list.is_empty() {
                    values.remove(label.value);
                }
            }
            if values.is_empty() {
                self.postings.remove(label.name);
            }
        }
    }

    /// All series ids selected by `matchers`, sorted by id.
    ///
    /// A label a series lacks has the value `""`, so a matcher that matches
    /// the empty string also selects series without its label. With no
    /// matcher, or only empty-matching ones, every series is selected:
    /// refusing such selectors (Prometheus' "at least one matcher must not
    /// match the empty string") is the caller's rule, not the index's.
    pub(crate) fn select(&self, matchers: &[Matcher]) -> Vec<SeriesRef> {
        // Start from the narrowest kind of matcher: those that require the
        // label to be present with a matching value.
        let (required, optional): (Vec<&Matcher>, Vec<&Matcher>) =
            matchers.iter().partition(|m| !m.matches_empty());
        let mut result: Option<Vec<SeriesRef>> = None;
        for m in required {
            let list = self.matching(m);
            result = Some(match result {
                None => list,
                Some(acc) => intersect(&acc, &list),
            });
            if result.as_ref().is_some_and(Vec::is_empty) {
                return Vec::new();
            }
        }
        let mut result = result.unwrap_or_else(|| self.all.clone());
        for m in optional {
            // Series lacking the label match; of those carrying it, drop the
            // ones whose value does not.
            let Some(values) = self.postings.get(&m.name) else {
                continue;
            };
            let mut excluded = Vec::new();
            for (value, list) in values {
                if !m.matches(value) {
                    excluded = union(&excluded, list);
                }
            }
            result = subtract(&result, &excluded);
        }
        result
    }

    /// Union of the postings of every value of `m.name` that `m` matches.
    fn matching(&self, m: &Matcher) -> Vec<SeriesRef> {
        let Some(values) = self.postings.get(&m.name) else {
            return Vec::new();
        };
        if m.op == MatchOp::Equal {
            return values.get(&m.value).cloned().unwrap_or_default();
        }
        let mut out = Vec::new();
        for (value, list) in values {
            if m.matches(value) {
                out = union(&out, list);
            }
        }
        out
    }

    /// Every label name of the indexed series, sorted.
    pub(crate) fn label_names(&self) -> Vec<String> {
        self.postings.keys().cloned().collect()
    }

    /// Every value of label `name` among the indexed series, sorted.
    pub(crate) fn label_values(&self, name: &str) -> Vec<String> {
        self.postings
            .get(name)
            .map(|values| values.keys().cloned().collect())
            .unwrap_or_default()
    }
}

fn intersect(a: &[SeriesRef], b: &[SeriesRef]) -> Vec<SeriesRef> {
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::new();
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                out.push(a[i]);
                i += 1;
                j += 1;
            }
        }
    }
    out
}

fn union(a: &[SeriesRef], b: &[SeriesRef]) -> Vec<SeriesRef> {
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::with_capacity(a.len() + b.len());
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => {
                out.push(a[i]);
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                out.push(b[j]);
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                out.push(a[i]);
                i += 1;
                j += 1;
            }
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
    out
}

fn subtract(a: &[SeriesRef], b: &[SeriesRef]) -> Vec<SeriesRef> {
    let mut j = 0;
    let mut out = Vec::with_capacity(a.len());
    for &id in a {
        while j < b.len() && b[j] < id {
            j += 1;
        }
        if j >= b.len() || b[j] != id {
            out.push(id);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn index_of(series: &[Labels]) -> Index {
        let mut index = Index::default();
        for (i, labels) in series.iter().enumerate() {
            index.add(SeriesRef(i as u64 + 1), labels);
        }
        index
    }

    /// The definition the index must agree with: every matcher holds on the
    /// label's value, `""` when absent.
    fn brute_force(series: &[Labels], matchers: &[Matcher]) -> Vec<SeriesRef> {
        series
            .iter()
            .enumerate()
            .filter(|(_, l)| {
                matchers
                    .iter()
                    .all(|m| m.matches(l.get(&m.name).unwrap_or("")))
            })
            .map(|(i, _)| SeriesRef(i as u64 + 1))
            .collect()
    }

    fn m(op: MatchOp, name: &str, value: &str) -> Matcher {
        Matcher::new(op, name, value).unwrap()
    }

    fn check(matchers: &[Matcher], want: &[u64]) {
        let series = [
            Labels::from_pairs([("__name__", "up"), ("job", "api"), ("instance", "a")]),
            Labels::from_pairs([("__name__", "up"), ("job", "db"), ("instance", "b")]),
            Labels::from_pairs([("__name__", "up"), ("instance", "c")]),
            Labels::from_pairs([("__name__", "http_requests_total"), ("job", "api")]),
        ];
        let got = index_of(&series).select(matchers);
        let want: Vec<_> = want.iter().map(|&i| SeriesRef(i)).collect();
        assert_eq!(got, want, "{matchers:?}");
        assert_eq!(got, brute_force(&series, matchers));
    }

    #[test]
    fn equality_and_absence() {
        check(&[m(MatchOp::Equal, "__name__", "up")], &[1, 2, 3]);
        check(
            &[
                m(MatchOp::Equal, "__name__", "up"),
                m(MatchOp::Equal, "job", ""),
            ],
            &[3],
        );
        check(
            &[
                m(MatchOp::Equal, "__name__", "up"),
                m(MatchOp::NotEqual, "job", ""),
            ],
            &[1, 2],
        );
        check(&[m(MatchOp::NotEqual, "job", "api")], &[2, 3]);
        check(&[m(MatchOp::Equal, "nope", "x")], &[]);
    }

    #[test]
    fn regex_is_anchored_and_empty_matching_selects_absent() {
        check(&[m(MatchOp::Regex, "job", "ap")], &[]);
        check(&[m(MatchOp::Regex, "job", "api|db")], &[1, 2, 4]);
        check(&[m(MatchOp::Regex, "job", "api|")], &[1, 3, 4]);
        check(&[m(MatchOp::NotRegex, "job", "a.*")], &[2, 3]);
        check(&[m(MatchOp::Regex, "job", ".*")], &[1, 2, 3, 4]);
        check(&[], &[1, 2, 3, 4]);
    }

    fn labels_strategy() -> impl Strategy<Value = Labels> {
        prop::collection::vec((0..4usize, 0..4usize), 0..4).prop_map(|pairs| {
            Labels::from_pairs(
                pairs
                    .into_iter()
                    .map(|(n, v)| (["a", "b", "c", "d"][n], ["", "x", "y", "xy"][v])),
            )
        })
    }

    fn matcher_strategy() -> impl Strategy<Value = Matcher> {
        let ops = [
            MatchOp::Equal,
            MatchOp::NotEqual,
            MatchOp::Regex,
            MatchOp::NotRegex,
        ];
        (0..4usize, 0..4usize, 0..7usize).prop_map(move |(op, n, v)| {
            let value = ["", "x", "y", "xy", "x.*", ".*", "x|"][v];
            m(ops[op], ["a", "b", "c", "e"][n], value)
        })
    }

    proptest! {
        #[test]
        fn select_agrees_with_brute_force(
            series in prop::collection::vec(labels_strategy(), 0..20),
            matchers in prop::collection::vec(matcher_strategy(), 0..4),
        ) {
            // Equal label sets collapse to one series in the index.
            let mut unique = series.clone();
            unique.sort();
            unique.dedup();
            let index = index_of(&unique);
            prop_assert_eq!(index.select(&matchers), brute_force(&unique, &matchers));
        }
    }

    #[test]
    fn set_operations() {
        let ids = |v: &[u64]| v.iter().map(|&i| SeriesRef(i)).collect::<Vec<_>>();
        assert_eq!(intersect(&ids(&[1, 3, 5]), &ids(&[3, 4, 5])), ids(&[3, 5]));
        assert_eq!(union(&ids(&[1, 3]), &ids(&[2, 3, 9])), ids(&[1, 2, 3, 9]));
        assert_eq!(
            subtract(&ids(&[1, 2, 3, 4]), &ids(&[2, 4, 7])),
            ids(&[1, 3])
        );
    }
}
