//! The `logfmt` stage: the mapped keys of a logfmt line (or extracted
//! value) into the extracted map.
//!
//! Promtail decodes with go-logfmt, whose rules differ from the LogQL
//! `| logfmt` parser in `logql::pipeline` (which follows Loki's own
//! decoder): go-logfmt stops at an `=` inside an unquoted value
//! (`a=b=c`), reads on after text glued to a closing quote (`a="x"y=1`
//! yields `y`), splits records at newlines, and rejects invalid escapes.
//! Because the first error ends the decoding but keeps what was read
//! before it, the small decoder here follows go-logfmt step by step. Only
//! the unquoting of a quoted value is the same in both (Loki's decoder is a
//! fork of go-logfmt's and kept its `unquoteBytes`): that is LogQL's
//! [`unquote_logfmt`].

use std::collections::BTreeMap;

use logql::pipeline::parsers::unquote_logfmt;
use serde::Deserialize;
use serde_json::Value;

use super::config::{ConfigError, StageOptions};
use super::regex::input_text;
use super::{PipelineEntry, Stage};

/// `logfmt: {mapping, source}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "RawLogfmtConfig")]
pub struct LogfmtConfig {
    /// logfmt key → extracted name (the inverse of the config's mapping).
    pub keys: BTreeMap<String, String>,
    /// The extracted value to parse instead of the line.
    pub source: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct RawLogfmtConfig {
    #[serde(default)]
    mapping: BTreeMap<String, Option<String>>,
    #[serde(default)]
    source: Option<String>,
}

impl LogfmtConfig {
    /// Checks the options as Promtail does: `mapping` is extracted name →
    /// logfmt key (empty: the same name).
    pub fn new(mapping: &[(&str, &str)], source: Option<String>) -> Result<Self, ConfigError> {
        if mapping.is_empty() {
            return Err(ConfigError::Invalid("logfmt mapping is required"));
        }
        if source.as_deref() == Some("") {
            return Err(ConfigError::Invalid("empty source"));
        }
        let keys = mapping
            .iter()
            .map(|(name, key)| {
                let key = if key.is_empty() { name } else { key };
                ((*key).to_owned(), (*name).to_owned())
            })
            .collect();
        Ok(Self { keys, source })
    }
}

impl TryFrom<RawLogfmtConfig> for LogfmtConfig {
    type Error = ConfigError;
    fn try_from(raw: RawLogfmtConfig) -> Result<Self, ConfigError> {
        let pairs: Vec<(&str, &str)> = raw
            .mapping
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_deref().unwrap_or("")))
            .collect();
        Self::new(&pairs, raw.source)
    }
}

impl StageOptions for LogfmtConfig {
    type Raw = RawLogfmtConfig;
    fn from_raw(raw: RawLogfmtConfig) -> Result<Self, ConfigError> {
        raw.try_into()
    }
    fn from_null() -> Result<Self, ConfigError> {
        RawLogfmtConfig::default().try_into()
    }
}

/// The built stage.
#[derive(Debug)]
pub struct LogfmtStage {
    cfg: LogfmtConfig,
}

impl LogfmtStage {
    /// The stage for `cfg`.
    pub fn new(cfg: LogfmtConfig) -> Self {
        Self { cfg }
    }
}

impl Stage for LogfmtStage {
    fn name(&self) -> &'static str {
        "logfmt"
    }

    fn process(&mut self, mut e: PipelineEntry, _now_ns: i64, out: &mut Vec<PipelineEntry>) {
        if let Some(input) = input_text(&e, self.cfg.source.as_deref()) {
            let mut found = Vec::new();
            decode(&input, |key, value| {
                if let Some(name) = self.cfg.keys.get(key) {
                    found.push((name.clone(), value));
                }
            });
            drop(input);
            for (name, value) in found {
                e.extracted.insert(name, Value::String(value));
            }
        }
        out.push(e);
    }
}

/// Calls `pair` for each key/value go-logfmt's decoder reads from `text`,
/// up to its first syntax error.
pub(crate) fn decode(text: &str, mut pair: impl FnMut(&str, String)) {
    for record in text.split('\n') {
        if !decode_record(record, &mut pair) {
            return;
        }
    }
}

/// One line; false after a syntax error.
fn decode_record(line: &str, pair: &mut impl FnMut(&str, String)) -> bool {
    let b = line.as_bytes();
    let mut pos = 0;
    loop {
        // Skip what is not a key start.
        while pos < b.len() && b[pos] <= b' ' {
            pos += 1;
        }
        if pos >= b.len() {
            return true;
        }
        let start = pos;
        while pos < b.len() && b[pos] > b' ' && b[pos] != b'=' && b[pos] != b'"' {
            pos += 1;
        }
        match b.get(pos) {
            Some(b'"') => return false,
            Some(b'=') if pos == start => return false,
            Some(b'=') => {}
            // A key alone: its value is empty.
            _ => {
                pair(&line[start..pos], String::new());
                continue;
            }
        }
        let key = &line[start..pos];
        pos += 1; // '='
        match b.get(pos) {
            None => {
                pair(key, String::new());
                return true;
            }
            Some(c) if *c <= b' ' => {
                pair(key, String::new());
                continue;
            }
            Some(b'"') => {
                let open = pos;
                pos += 1;
                let mut escaped = false;
                let mut close = None;
                while pos < b.len() {
                    let c = b[pos];
                    pos += 1;
                    if escaped {
                        escaped = false;
                    } else if c == b'\\' {
                        escaped = true;
                    } else if c == b'"' {
                        close = Some(pos);
                        break;
                    }
                }
                let Some(close) = close else {
                    return false; // unterminated quoted value
                };
                // go-logfmt and Loki's decoder share their unquoting rule,
                // so the agent uses LogQL's (the pipeline crate is a leaf).
                match unquote_logfmt(&line[open..close]) {
                    Some(value) => pair(key, value.into_owned()),
                    None => return false, // invalid quoted value
                }
            }
            Some(_) => {
                let vstart = pos;
                while pos < b.len() && b[pos] > b' ' {
                    if b[pos] == b'=' || b[pos] == b'"' {
                        return false;
                    }
                    pos += 1;
                }
                pair(key, line[vstart..pos].to_owned());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(text: &str) -> Vec<(String, String)> {
        let mut out = Vec::new();
        decode(text, |k, v| out.push((k.to_owned(), v)));
        out
    }

    fn check(text: &str, want: &[(&str, &str)]) {
        let want: Vec<(String, String)> = want
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect();
        assert_eq!(pairs(text), want, "{text}");
    }

    #[test]
    fn plain_pairs() {
        check("a=1 b=two", &[("a", "1"), ("b", "two")]);
    }

    #[test]
    fn quoted_values_and_escapes() {
        check(
            r#"msg="hello world" q="a\"b\\c\n""#,
            &[("msg", "hello world"), ("q", "a\"b\\c\n")],
        );
        check(r#"u="\u00e9""#, &[("u", "é")]);
    }

    #[test]
    fn bare_keys_and_empty_values() {
        check("flag a= b=1", &[("flag", ""), ("a", ""), ("b", "1")]);
        check("a=", &[("a", "")]);
    }

    #[test]
    fn an_equals_in_a_value_stops_decoding() {
        check("a=1 b=c=d e=2", &[("a", "1")]);
    }

    #[test]
    fn a_quote_in_a_key_stops_decoding() {
        check(r#"a=1 "b"=2"#, &[("a", "1")]);
    }

    #[test]
    fn text_glued_to_a_closing_quote_starts_a_key() {
        check(r#"a="x"y=1"#, &[("a", "x"), ("y", "1")]);
    }

    #[test]
    fn an_unterminated_quote_stops_decoding() {
        check(r#"a=1 b="open"#, &[("a", "1")]);
    }

    #[test]
    fn an_invalid_escape_stops_decoding() {
        check(r#"a=1 b="\q" c=3"#, &[("a", "1")]);
    }

    #[test]
    fn records_are_lines() {
        check("a=1\nb=2", &[("a", "1"), ("b", "2")]);
    }

    #[test]
    fn a_leading_equals_stops_decoding() {
        check("=x a=1", &[]);
    }

    fn stage(mapping: &[(&str, &str)], source: Option<&str>) -> LogfmtStage {
        LogfmtStage::new(LogfmtConfig::new(mapping, source.map(str::to_owned)).expect("valid"))
    }

    #[test]
    fn the_stage_maps_keys_to_names() {
        let mut s = stage(&[("lvl", "level"), ("app", "")], None);
        let mut out = Vec::new();
        s.process(
            crate::pipeline::testing::entry("level=warn app=api other=x"),
            0,
            &mut out,
        );
        let got = crate::pipeline::testing::extracted_of(&out[0]);
        assert_eq!(
            got,
            vec![("app".into(), "api".into()), ("lvl".into(), "warn".into())]
        );
    }

    #[test]
    fn the_stage_reads_a_source() {
        let mut s = stage(&[("x", "")], Some("inner"));
        let mut e = crate::pipeline::testing::entry("x=line");
        e.extracted
            .insert("inner".into(), Value::String("x=src".into()));
        let mut out = Vec::new();
        s.process(e, 0, &mut out);
        assert_eq!(out[0].extracted["x"], "src");
    }

    #[test]
    fn config_errors() {
        assert!(LogfmtConfig::new(&[], None).is_err());
        assert!(LogfmtConfig::new(&[("a", "")], Some(String::new())).is_err());
    }
}
