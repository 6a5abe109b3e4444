//! Label matchers (`=`, `!=`, `=~`, `!~`) with Prometheus' regex semantics.

use std::fmt;

use regex::Regex;

use crate::ModelError;
use crate::labels::write_quoted;

/// How a matcher compares a label value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MatchOp {
    /// `=`
    Equal,
    /// `!=`
    NotEqual,
    /// `=~`: the whole value matches the regex.
    Regex,
    /// `!~`: the whole value does not match the regex.
    NotRegex,
}

impl MatchOp {
    /// The operator as written in a selector.
    pub fn as_str(self) -> &'static str {
        match self {
            MatchOp::Equal => "=",
            MatchOp::NotEqual => "!=",
            MatchOp::Regex => "=~",
            MatchOp::NotRegex => "!~",
        }
    }
}

/// One `name op "value"` condition on a label set.
///
/// A label that is absent has the value `""`, so `{a=""}` selects series
/// without `a` and `{a!=""}` those that have it, as in Prometheus and Loki.
#[derive(Debug, Clone)]
pub struct Matcher {
    /// The operator.
    pub op: MatchOp,
    /// The label name.
    pub name: String,
    /// The value or the regex pattern as written (unanchored).
    pub value: String,
    /// The compiled pattern, anchored as `^(?s:value)$`; set for regex ops.
    regex: Option<Regex>,
}

impl Matcher {
    /// Builds a matcher; regex values are compiled fully anchored with `.`
    /// matching newlines, the way Prometheus compiles them.
    pub fn new(
        op: MatchOp,
        name: impl Into<String>,
        value: impl Into<String>,
    ) -> Result<Self, ModelError> {
        let value = value.into();
        let regex = match op {
            MatchOp::Regex | MatchOp::NotRegex => Some(anchored_regex(&value)?),
            MatchOp::Equal | MatchOp::NotEqual => None,
        };
        Ok(Self {
            op,
            name: name.into(),
            value,
            regex,
        })
    }

    /// Whether a label value (`""` when the label is absent) satisfies this
    /// matcher.
    pub fn matches(&self, value: &str) -> bool {
        match (self.op, &self.regex) {
            (MatchOp::Equal, _) => value == self.value,
            (MatchOp::NotEqual, _) => value != self.value,
            (MatchOp::Regex, Some(re)) => re.is_match(value),
            (MatchOp::NotRegex, Some(re)) => !re.is_match(value),
            (MatchOp::Regex | MatchOp::NotRegex, None) => {
                unreachable!("regex matchers always carry a compiled regex")
            }
        }
    }

    /// Whether this matcher selects series that lack the label; selectors
    /// made only of such matchers would select everything.
    pub fn matches_empty(&self) -> bool {
        self.matches("")
    }
}

/// Compiles `pattern` the way Prometheus does for label matchers and
/// `label_replace`: the whole input must match, and `.` matches `\n`.
///
/// A range query evaluates `label_replace` at every step with the same
/// pattern, and compiling a regex costs far more than running it: the
/// last patterns compiled on this thread are kept (a `Regex` is a cheap
/// handle to shared state), at most 64 of them.
pub fn anchored_regex(pattern: &str) -> Result<Regex, ModelError> {
    thread_local! {
        static CACHE: std::cell::RefCell<std::collections::HashMap<String, Regex>> =
            std::cell::RefCell::new(std::collections::HashMap::new());
    }
    if let Some(re) = CACHE.with(|c| c.borrow().get(pattern).cloned()) {
        return Ok(re);
    }
    let re = Regex::new(&format!("^(?s:{pattern})$")).map_err(|e| ModelError::InvalidRegex {
        pattern: pattern.to_owned(),
        reason: e.to_string(),
    })?;
    CACHE.with(|c| {
        let mut cache = c.borrow_mut();
        // Bounded: a query with many distinct patterns starts afresh.
        if cache.len() >= REGEX_CACHE_SIZE {
            cache.clear();
        }
        cache.insert(pattern.to_owned(), re.clone());
    });
    Ok(re)
}

/// How many compiled patterns [`anchored_regex`] keeps per thread.
pub(crate) const REGEX_CACHE_SIZE: usize = 64;

impl PartialEq for Matcher {
    fn eq(&self, other: &Self) -> bool {
        self.op == other.op && self.name == other.name && self.value == other.value
    }
}

impl Eq for Matcher {}

impl fmt::Display for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)?;
        f.write_str(self.op.as_str())?;
        write_quoted(f, &self.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cached_pattern_matches_as_a_fresh_one_and_errors_stay_errors() {
        for _ in 0..2 {
            let re = anchored_regex("a|b.c").unwrap();
            assert!(re.is_match("b\nc") && re.is_match("a") && !re.is_match("xa"));
            assert!(anchored_regex("(").is_err());
        }
        // Past the bound the cache starts afresh and still answers right.
        for i in 0..REGEX_CACHE_SIZE + 3 {
            let re = anchored_regex(&format!("p{i}")).unwrap();
            assert!(re.is_match(&format!("p{i}")) && !re.is_match("p"));
        }
    }

    fn check(op: MatchOp, pattern: &str, value: &str, want: bool) {
        let m = Matcher::new(op, "l", pattern).unwrap();
        assert_eq!(m.matches(value), want, "{m} on {value:?}");
    }

    #[test]
    fn equality() {
        check(MatchOp::Equal, "a", "a", true);
        check(MatchOp::Equal, "a", "ab", false);
        check(MatchOp::NotEqual, "a", "ab", true);
        check(MatchOp::NotEqual, "", "", false);
    }

    #[test]
    fn regex_is_fully_anchored() {
        check(MatchOp::Regex, "a", "ab", false);
        check(MatchOp::Regex, "a.*", "ab", true);
        check(MatchOp::Regex, "a|b", "b", true);
        check(MatchOp::Regex, "a|b", "ab", false);
        check(MatchOp::NotRegex, "a|b", "ab", true);
    }

    #[test]
    fn dot_matches_newline() {
        check(MatchOp::Regex, "a.b", "a\nb", true);
    }

    #[test]
    fn empty_matching() {
        assert!(
            Matcher::new(MatchOp::Regex, "l", ".*")
                .unwrap()
                .matches_empty()
        );
        assert!(
            !Matcher::new(MatchOp::Regex, "l", ".+")
                .unwrap()
                .matches_empty()
        );
        assert!(
            Matcher::new(MatchOp::Equal, "l", "")
                .unwrap()
                .matches_empty()
        );
        assert!(
            Matcher::new(MatchOp::NotEqual, "l", "x")
                .unwrap()
                .matches_empty()
        );
    }

    #[test]
    fn bad_regex_is_an_error() {
        let err = Matcher::new(MatchOp::Regex, "l", "(").unwrap_err();
        assert!(matches!(err, ModelError::InvalidRegex { .. }));
    }

    #[test]
    fn display() {
        let m = Matcher::new(MatchOp::NotRegex, "job", "a\"b").unwrap();
        assert_eq!(m.to_string(), r#"job!~"a\"b""#);
    }
}
