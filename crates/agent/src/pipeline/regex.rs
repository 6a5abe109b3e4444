//! The `regex` stage: the named groups of a regular expression, matched
//! against the line or an extracted value, into the extracted map.

use regex::Regex;
use serde::Deserialize;
use serde_json::Value;

use super::config::{ConfigError, StageOptions};
use super::value::get_string;
use super::{PipelineEntry, Stage};

/// `regex: {expression, source}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "RawRegexConfig")]
pub struct RegexConfig {
    /// The compiled expression (unanchored, as Go's `FindStringSubmatch`).
    pub expression: Regex,
    /// The extracted value to match instead of the line.
    pub source: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct RawRegexConfig {
    #[serde(default)]
    expression: String,
    #[serde(default)]
    source: Option<String>,
}

impl RegexConfig {
    /// Checks the options as Promtail does and compiles the expression.
    pub fn new(expression: &str, source: Option<String>) -> Result<Self, ConfigError> {
        if expression.is_empty() {
            return Err(ConfigError::Invalid("expression is required"));
        }
        if source.as_deref() == Some("") {
            return Err(ConfigError::Invalid("empty source"));
        }
        let expression = compile(expression)?;
        Ok(Self { expression, source })
    }
}

/// Compiles a Go (RE2) regular expression, with Go's meaning of `\d`,
/// `\w`, `\s`, `\b` (ASCII) and `\Q…\E` (see `gocompat::regexp`).
pub(crate) fn compile(expression: &str) -> Result<Regex, ConfigError> {
    Regex::new(&gocompat::regexp::translate(expression))
        .map_err(|e| ConfigError::Regex(e.to_string()))
}

impl TryFrom<RawRegexConfig> for RegexConfig {
    type Error = ConfigError;
    fn try_from(raw: RawRegexConfig) -> Result<Self, ConfigError> {
        Self::new(&raw.expression, raw.source)
    }
}

impl StageOptions for RegexConfig {
    type Raw = RawRegexConfig;
    fn from_raw(raw: RawRegexConfig) -> Result<Self, ConfigError> {
        raw.try_into()
    }
    fn from_null() -> Result<Self, ConfigError> {
        RawRegexConfig::default().try_into()
    }
}

/// The text a parsing stage reads: the line, or the `source` value when
/// there is one (`None` when the source is missing or not a string, and
/// the stage then does nothing, as in Promtail).
pub(crate) fn input_text<'e>(
    e: &'e PipelineEntry,
    source: Option<&str>,
) -> Option<std::borrow::Cow<'e, str>> {
    match source {
        None => Some(std::borrow::Cow::Borrowed(e.entry.line.as_str())),
        Some(key) => e.extracted.get(key).and_then(get_string),
    }
}

/// The built stage.
#[derive(Debug)]
pub struct RegexStage {
    cfg: RegexConfig,
    /// The named groups, by index (unnamed ones are not extracted).
    names: Vec<(usize, String)>,
    /// Where the last match's groups were, kept to avoid an allocation
    /// per line.
    locations: regex::CaptureLocations,
}

impl RegexStage {
    /// The stage for `cfg`.
    pub fn new(cfg: RegexConfig) -> Self {
        let names = cfg
            .expression
            .capture_names()
            .enumerate()
            .skip(1)
            .filter_map(|(i, name)| Some((i, name.filter(|n| !n.is_empty())?.to_owned())))
            .collect();
        let locations = cfg.expression.capture_locations();
        Self {
            cfg,
            names,
            locations,
        }
    }

    fn apply(&mut self, e: &mut PipelineEntry) {
        let owned;
        let input: &str = match self.cfg.source.as_deref() {
            None => &e.entry.line,
            source => match input_text(e, source) {
                Some(text) => {
                    owned = text.into_owned();
                    &owned
                }
                None => return,
            },
        };
        if self
            .cfg
            .expression
            .captures_read(&mut self.locations, input)
            .is_none()
        {
            return;
        }
        for (i, name) in &self.names {
            // A group that did not take part in the match is "" in Go.
            let text = self
                .locations
                .get(*i)
                .map_or("", |(start, end)| &input[start..end]);
            match e.extracted.get_mut(name.as_str()) {
                Some(Value::String(old)) => {
                    old.clear();
                    old.push_str(text);
                }
                Some(old) => *old = Value::String(text.to_owned()),
                None => {
                    e.extracted
                        .insert(name.clone(), Value::String(text.to_owned()));
                }
            }
        }
    }
}

impl Stage for RegexStage {
    fn name(&self) -> &'static str {
        "regex"
    }

    fn process(&mut self, mut e: PipelineEntry, _now_ns: i64, out: &mut Vec<PipelineEntry>) {
        self.apply(&mut e);
        out.push(e);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::testing::{entry, extracted_of};

    fn run(
        expr: &str,
        source: Option<&str>,
        line: &str,
        before: &[(&str, Value)],
    ) -> Vec<(String, String)> {
        let cfg = RegexConfig::new(expr, source.map(str::to_owned)).expect("valid config");
        let mut stage = RegexStage::new(cfg);
        let mut e = entry(line);
        for (k, v) in before {
            e.extracted.insert((*k).to_owned(), v.clone());
        }
        let mut out = Vec::new();
        stage.process(e, 0, &mut out);
        extracted_of(&out[0])
    }

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn named_groups_are_extracted() {
        assert_eq!(
            run(r"^(?P<a>\w+) (?P<b>\w+)", None, "x y z", &[]),
            pairs(&[("a", "x"), ("b", "y")])
        );
    }

    #[test]
    fn unnamed_groups_are_not() {
        assert_eq!(
            run(r"^(\w+) (?P<b>\w+)", None, "x y", &[]),
            pairs(&[("b", "y")])
        );
    }

    #[test]
    fn an_unmatched_optional_group_is_empty() {
        assert_eq!(
            run(r"^(?P<a>x)(?P<b>y)?", None, "x", &[]),
            pairs(&[("a", "x"), ("b", "")])
        );
    }

    #[test]
    fn no_match_leaves_the_map_alone() {
        assert_eq!(run(r"^(?P<a>q)", None, "x", &[]), pairs(&[]));
    }

    #[test]
    fn perl_classes_are_ascii_as_in_go() {
        assert_eq!(run(r"(?P<w>\w+)", None, "héllo", &[]), pairs(&[("w", "h")]));
    }

    #[test]
    fn the_match_is_unanchored() {
        assert_eq!(
            run(r"(?P<a>\d+)", None, "abc 42 x", &[]),
            pairs(&[("a", "42")])
        );
    }

    #[test]
    fn source_reads_an_extracted_value() {
        let got = run(
            r"(?P<n>\d+)",
            Some("s"),
            "line 1",
            &[("s", Value::String("v 7".into()))],
        );
        assert_eq!(got, pairs(&[("n", "7"), ("s", "v 7")]));
    }

    #[test]
    fn a_missing_source_does_nothing() {
        assert_eq!(run(r"(?P<n>\d+)", Some("s"), "line 1", &[]), pairs(&[]));
    }

    #[test]
    fn a_numeric_source_is_read_as_text() {
        let got = run(
            r"(?P<n>\d)\.",
            Some("s"),
            "",
            &[("s", serde_json::json!(1.5))],
        );
        assert_eq!(got, pairs(&[("n", "1"), ("s", "1.5")]));
    }

    #[test]
    fn config_errors() {
        assert_eq!(
            RegexConfig::new("", None).err(),
            Some(ConfigError::Invalid("expression is required"))
        );
        assert_eq!(
            RegexConfig::new("a", Some(String::new())).err(),
            Some(ConfigError::Invalid("empty source"))
        );
        assert!(matches!(
            RegexConfig::new("a(", None),
            Err(ConfigError::Regex(_))
        ));
    }
}
