//! Label sets: the identity of a series (metrics) or a stream (logs).

use std::fmt;

/// The reserved label that holds a metric's name.
pub const METRIC_NAME: &str = "__name__";

/// One `name="value"` pair.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Label {
    /// The label name.
    pub name: String,
    /// The label value; an empty value means "absent" in PromQL semantics.
    pub value: String,
}

/// A set of labels, kept sorted by name with unique names, so that equal sets
/// compare, hash and print equally whatever order they were built in.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Labels(Vec<Label>);

impl Labels {
    /// The empty label set.
    pub fn empty() -> Self {
        Self(Vec::new())
    }

    /// Builds a set from pairs; a later pair wins over an earlier one of the
    /// same name.
    pub fn from_pairs<N: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (N, V)>,
    ) -> Self {
        let mut labels: Vec<Label> = Vec::new();
        for (name, value) in pairs {
            let label = Label {
                name: name.into(),
                value: value.into(),
            };
            match labels.iter_mut().find(|l| l.name == label.name) {
                Some(existing) => *existing = label,
                None => labels.push(label),
            }
        }
        labels.sort();
        Self(labels)
    }

    /// The value of `name`, if the set has it.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .binary_search_by(|l| l.name.as_str().cmp(name))
            .ok()
            .map(|i| self.0[i].value.as_str())
    }

    /// Sets `name` to `value`, replacing any earlier value.
    pub fn set(&mut self, name: impl Into<String>, value: impl Into<String>) {
        let name = name.into();
        let value = value.into();
        match self.0.binary_search_by(|l| l.name.cmp(&name)) {
            Ok(i) => self.0[i].value = value,
            Err(i) => self.0.insert(i, Label { name, value }),
        }
    }

    /// Removes `name`, returning its value if it was there.
    pub fn remove(&mut self, name: &str) -> Option<String> {
        self.0
            .binary_search_by(|l| l.name.as_str().cmp(name))
            .ok()
            .map(|i| self.0.remove(i).value)
    }

    /// The subset of labels for which `keep` holds. Cheaper than
    /// [`Labels::from_pairs`]: a subset of a sorted set is already sorted.
    pub fn filtered(&self, keep: impl Fn(&Label) -> bool) -> Self {
        Self(self.0.iter().filter(|l| keep(l)).cloned().collect())
    }

    /// The labels in name order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &Label> {
        self.0.iter()
    }

    /// Number of labels.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the set has no labels.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<'a> IntoIterator for &'a Labels {
    type Item = &'a Label;
    type IntoIter = std::slice::Iter<'a, Label>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
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
        for (i, label) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            f.write_str(&label.name)?;
            f.write_str("=")?;
            write_quoted(f, &label.value)?;
        }
        f.write_str("}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let names: Vec<_> = l.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(names, ["a", "b", "c"]);
        assert_eq!(l.get("a"), Some("x"));
        assert_eq!(l.remove("b"), Some("2".into()));
        assert_eq!(l.remove("b"), None);
        assert_eq!(l.get("zz"), None);
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
}
