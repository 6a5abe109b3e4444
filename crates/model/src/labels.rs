//! Label sets: the identity of a series (metrics) or a stream (logs).
//!
//! A set is one shared, immutable buffer: cloning it (which queries do for
//! every series they return) bumps a reference count, and a series held in
//! memory costs its label text plus a byte or two per label, not a `String`
//! allocation per name and value. Equal sets have equal buffers, so
//! equality and hashing look at one slice.

use std::cmp::Ordering;
use std::fmt;
use std::sync::Arc;

/// The reserved label that holds a metric's name.
pub const METRIC_NAME: &str = "__name__";

/// One `name="value"` pair of a [`Labels`], borrowed from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Label<'a> {
    /// The label name.
    pub name: &'a str,
    /// The label value; an empty value means "absent" in PromQL semantics.
    pub value: &'a str,
}

/// A set of labels, kept sorted by name with unique names, so that equal sets
/// compare, hash and print equally whatever order they were built in.
///
/// The buffer holds, per label in name order, the name's length, the name,
/// the value's length and the value. A length is written in ASCII bytes,
/// six bits each, low bits first, `0x40` marking that another byte follows;
/// so the buffer is always valid UTF-8 and slicing it needs no check
/// beyond the standard one.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct Labels(Option<Arc<str>>);

fn write_len(buf: &mut String, mut n: usize) {
    loop {
        let low = (n & 0x3f) as u8;
        n >>= 6;
        if n == 0 {
            buf.push(char::from(low));
            return;
        }
        buf.push(char::from(low | 0x40));
    }
}

/// Reads a length at `pos`, returning it and the position after it.
fn read_len(bytes: &[u8], mut pos: usize) -> (usize, usize) {
    let mut n = 0;
    let mut shift = 0;
    loop {
        let b = bytes[pos];
        pos += 1;
        n |= usize::from(b & 0x3f) << shift;
        if b & 0x40 == 0 {
            return (n, pos);
        }
        shift += 6;
    }
}

fn encode<'a>(sorted: impl IntoIterator<Item = (&'a str, &'a str)>) -> Labels {
    let mut buf = String::new();
    for (name, value) in sorted {
        write_len(&mut buf, name.len());
        buf.push_str(name);
        write_len(&mut buf, value.len());
        buf.push_str(value);
    }
    if buf.is_empty() {
        Labels(None)
    } else {
        Labels(Some(Arc::from(buf)))
    }
}

/// The labels of a set in name order.
#[derive(Debug, Clone)]
pub struct Iter<'a> {
    buf: &'a str,
    pos: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = Label<'a>;

    fn next(&mut self) -> Option<Label<'a>> {
        if self.pos >= self.buf.len() {
            return None;
        }
        let bytes = self.buf.as_bytes();
        let (len, start) = read_len(bytes, self.pos);
        let name = &self.buf[start..start + len];
        let (len, start) = read_len(bytes, start + len);
        let value = &self.buf[start..start + len];
        self.pos = start + len;
        Some(Label { name, value })
    }
}

impl Labels {
    /// The empty label set, as a constant (for `&'static Labels`).
    pub const EMPTY: Labels = Labels(None);

    /// The empty label set.
    pub fn empty() -> Self {
        Self(None)
    }

    /// Builds a set from pairs; a later pair wins over an earlier one of the
    /// same name.
    pub fn from_pairs<N: AsRef<str>, V: AsRef<str>>(
        pairs: impl IntoIterator<Item = (N, V)>,
    ) -> Self {
        let mut pairs: Vec<(N, V)> = pairs.into_iter().collect();
        // Stable: pairs of one name keep their order, and the last one wins.
        pairs.sort_by(|a, b| a.0.as_ref().cmp(b.0.as_ref()));
        let mut kept: Vec<(&str, &str)> = Vec::with_capacity(pairs.len());
        for (name, value) in &pairs {
            let (name, value) = (name.as_ref(), value.as_ref());
            match kept.last_mut() {
                Some(last) if last.0 == name => last.1 = value,
                _ => kept.push((name, value)),
            }
        }
        encode(kept)
    }

    /// A set from labels already sorted by name with unique names, as
    /// another set's [`Labels::iter`] yields them.
    fn from_sorted<'a>(labels: impl IntoIterator<Item = Label<'a>>) -> Self {
        encode(labels.into_iter().map(|l| (l.name, l.value)))
    }

    /// The value of `name`, if the set has it.
    pub fn get(&self, name: &str) -> Option<&str> {
        for label in self.iter() {
            match label.name.cmp(name) {
                Ordering::Less => {}
                Ordering::Equal => return Some(label.value),
                Ordering::Greater => return None,
            }
        }
        None
    }

    /// Sets `name` to `value`, replacing any earlier value.
    pub fn set(&mut self, name: impl AsRef<str>, value: impl AsRef<str>) {
        let (name, value) = (name.as_ref(), value.as_ref());
        if self.get(name) == Some(value) {
            return;
        }
        let new = Label { name, value };
        let mut out: Vec<Label<'_>> = Vec::with_capacity(self.len() + 1);
        let mut placed = false;
        for label in self.iter() {
            match label.name.cmp(name) {
                Ordering::Less => out.push(label),
                Ordering::Equal => {}
                Ordering::Greater => {
                    if !placed {
                        out.push(new);
                        placed = true;
                    }
                    out.push(label);
                }
            }
        }
        if !placed {
            out.push(new);
        }
        *self = Self::from_sorted(out);
    }

    /// Removes `name`, returning its value if it was there.
    pub fn remove(&mut self, name: &str) -> Option<String> {
        let value = self.get(name)?.to_owned();
        *self = self.filtered(|l| l.name != name);
        Some(value)
    }

    /// The subset of labels for which `keep` holds.
    pub fn filtered(&self, keep: impl Fn(&Label<'_>) -> bool) -> Self {
        Self::from_sorted(self.iter().filter(|l| keep(l)))
    }

    /// The labels in name order.
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            buf: self.0.as_deref().unwrap_or(""),
            pos: 0,
        }
    }

    /// Number of labels.
    pub fn len(&self) -> usize {
        self.iter().count()
    }

    /// Whether the set has no labels.
    pub fn is_empty(&self) -> bool {
        self.0.is_none()
    }

    fn bytes(&self) -> &[u8] {
        self.0.as_deref().unwrap_or("").as_bytes()
    }

    /// Bytes of label text the set holds (names and values), as Prometheus
    /// counts a series' size.
    pub fn text_len(&self) -> usize {
        self.iter().map(|l| l.name.len() + l.value.len()).sum()
    }
}

impl<'a> IntoIterator for &'a Labels {
    type Item = Label<'a>;
    type IntoIter = Iter<'a>;
    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

impl PartialOrd for Labels {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Labels {
    /// Label by label: name, then value; a set that is a prefix of another
    /// comes first. This is the order series are returned in.
    fn cmp(&self, other: &Self) -> Ordering {
        // Walks both buffers label by label, comparing names and values as
        // byte slices (the order of `str`), without building `Label`s.
        let (a, b) = (self.bytes(), other.bytes());
        if a == b {
            return Ordering::Equal;
        }
        let (mut i, mut j) = (0, 0);
        loop {
            match (i < a.len(), j < b.len()) {
                (false, false) => return Ordering::Equal,
                (false, true) => return Ordering::Less,
                (true, false) => return Ordering::Greater,
                (true, true) => {}
            }
            // Name, then value.
            for _ in 0..2 {
                let (la, sa) = read_len(a, i);
                let (lb, sb) = read_len(b, j);
                let order = a[sa..sa + la].cmp(&b[sb..sb + lb]);
                if order != Ordering::Equal {
                    return order;
                }
                (i, j) = (sa + la, sb + lb);
            }
        }
    }
}

/// Writes `s` as a double-quoted string with `\`, `"` and newlines escaped, as
/// Prometheus and Loki print label values.
pub(crate) fn write_quoted(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    f.write_str("\"")?;
    for c in s.chars() {
        match c {
            '\\' => f.write_str("\\\\")?,
            '"' => f.write_str("\\\"")?,
            '\n' => f.write_str("\\n")?,
            c => fmt::Write::write_char(f, c)?,
        }
    }
    f.write_str("\"")
}

impl fmt::Display for Labels {
    /// `{a="1", b="2"}`, the form Prometheus and Loki use in messages.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("{")?;
        for (i, label) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            f.write_str(label.name)?;
            f.write_str("=")?;
            write_quoted(f, label.value)?;
        }
        f.write_str("}")
    }
}

impl fmt::Debug for Labels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Labels{self}")
    }
}

/// Whether `name` is a valid metric name in the classic character set
/// (`[a-zA-Z_:][a-zA-Z0-9_:]*`).
pub fn is_valid_metric_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    matches!(bytes.next(), Some(b) if b.is_ascii_alphabetic() || b == b'_' || b == b':')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b':')
}

/// Whether `name` is a valid label name in the classic character set
/// (`[a-zA-Z_][a-zA-Z0-9_]*`).
pub fn is_valid_label_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    matches!(bytes.next(), Some(b) if b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn order_of_construction_does_not_matter() {
        let a = Labels::from_pairs([("b", "2"), ("a", "1")]);
        let b = Labels::from_pairs([("a", "1"), ("b", "2")]);
        assert_eq!(a, b);
        assert_eq!(a.to_string(), r#"{a="1", b="2"}"#);
    }

    #[test]
    fn later_pair_wins() {
        let l = Labels::from_pairs([("a", "1"), ("a", "2")]);
        assert_eq!(l.len(), 1);
        assert_eq!(l.get("a"), Some("2"));
    }

    #[test]
    fn set_and_remove_keep_order() {
        let mut l = Labels::from_pairs([("c", "3"), ("a", "1")]);
        l.set("b", "2");
        l.set("a", "x");
        let names: Vec<_> = l.iter().map(|l| l.name).collect();
        assert_eq!(names, ["a", "b", "c"]);
        assert_eq!(l.get("a"), Some("x"));
        assert_eq!(l.remove("b"), Some("2".into()));
        assert_eq!(l.remove("b"), None);
        assert_eq!(l.get("zz"), None);
        l.set("z", "last");
        assert_eq!(l.to_string(), r#"{a="x", c="3", z="last"}"#);
        assert_eq!(l.remove("a").as_deref(), Some("x"));
        assert_eq!(l.remove("c").as_deref(), Some("3"));
        assert_eq!(l.remove("z").as_deref(), Some("last"));
        assert!(l.is_empty());
        assert_eq!(l, Labels::empty());
    }

    #[test]
    fn filtered_keeps_order() {
        let l = Labels::from_pairs([("c", "3"), ("a", "1"), ("b", "2")]);
        let f = l.filtered(|l| l.name != "b");
        assert_eq!(f, Labels::from_pairs([("a", "1"), ("c", "3")]));
    }

    #[test]
    fn display_escapes_values() {
        let l = Labels::from_pairs([("m", "a\"b\\c\nd")]);
        assert_eq!(l.to_string(), r#"{m="a\"b\\c\nd"}"#);
    }

    #[test]
    fn long_and_empty_texts_round_trip() {
        let long = "x".repeat(70_000);
        let l = Labels::from_pairs([("a", ""), ("b", long.as_str()), ("", "v")]);
        let got: Vec<(&str, &str)> = l.iter().map(|l| (l.name, l.value)).collect();
        assert_eq!(got, [("", "v"), ("a", ""), ("b", long.as_str())]);
    }

    fn pairs() -> impl Strategy<Value = Vec<(String, String)>> {
        proptest::collection::vec(("[a-c_]{0,3}", "\\PC{0,4}"), 0..6)
    }

    /// The reference: the sorted, deduplicated pairs the old `Vec` of
    /// owned labels held.
    fn model(pairs: &[(String, String)]) -> Vec<(String, String)> {
        let mut m: std::collections::BTreeMap<String, String> = Default::default();
        for (n, v) in pairs {
            m.insert(n.clone(), v.clone());
        }
        m.into_iter().collect()
    }

    proptest! {
        #[test]
        fn behaves_like_a_sorted_map(a in pairs(), b in pairs(), name in "[a-c_]{0,3}", value in "\\PC{0,4}") {
            let (la, lb) = (Labels::from_pairs(a.clone()), Labels::from_pairs(b.clone()));
            let (ma, mb) = (model(&a), model(&b));
            let listed = |l: &Labels| -> Vec<(String, String)> {
                l.iter().map(|l| (l.name.to_owned(), l.value.to_owned())).collect()
            };
            prop_assert_eq!(listed(&la), ma.clone());
            prop_assert_eq!(la.len(), ma.len());
            prop_assert_eq!(la.cmp(&lb), ma.cmp(&mb));
            prop_assert_eq!(la == lb, ma == mb);
            let mut set = la.clone();
            set.set(&name, &value);
            let mut mset: std::collections::BTreeMap<_, _> = ma.iter().cloned().collect();
            mset.insert(name.clone(), value.clone());
            prop_assert_eq!(listed(&set), mset.into_iter().collect::<Vec<_>>());
            let mut removed = la.clone();
            let gone = removed.remove(&name);
            prop_assert_eq!(gone, ma.iter().find(|(n, _)| *n == name).map(|(_, v)| v.clone()));
            prop_assert_eq!(removed.get(&name), None);
        }
    }
}
