//! The `replace` stage: what a regex's groups matched, replaced by a
//! template's output, in the line or an extracted value.

use std::collections::{BTreeMap, HashMap};

use std::sync::Arc;

use gocompat::template::{Promtail, Template};
use regex::Regex;
use serde::Deserialize;
use serde_json::Value;

use super::config::{ConfigError, StageOptions};
use super::regex::input_text;
use super::template::{go_map, string_data};
use super::{PipelineEntry, Stage};

/// `replace: {expression, source, replace}`.
#[derive(Debug, Clone)]
pub struct ReplaceConfig {
    /// The compiled expression.
    pub expression: Regex,
    /// The extracted value to rewrite instead of the line.
    pub source: Option<String>,
    /// The template each captured group is replaced by; None when it does
    /// not parse: Promtail parses it for every entry and, failing, leaves
    /// the entry alone, so such a config is accepted and does nothing.
    pub replace: Option<Arc<Template>>,
}

/// The options as written.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct RawReplaceConfig {
    #[serde(default)]
    expression: String,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    replace: String,
}

impl ReplaceConfig {
    /// Checks the options as Promtail does.
    pub fn new(
        expression: &str,
        source: Option<String>,
        replace: &str,
    ) -> Result<Self, ConfigError> {
        if expression.is_empty() {
            return Err(ConfigError::Invalid("expression is required"));
        }
        if source.as_deref() == Some("") {
            return Err(ConfigError::Invalid("empty source in replace stage"));
        }
        Ok(Self {
            expression: super::regex::compile(expression)?,
            source,
            replace: Template::parse("pipeline_template", replace, &Promtail)
                .ok()
                .map(Arc::new),
        })
    }
}

impl StageOptions for ReplaceConfig {
    type Raw = RawReplaceConfig;
    fn from_raw(raw: RawReplaceConfig) -> Result<Self, ConfigError> {
        Self::new(&raw.expression, raw.source, &raw.replace)
    }
    fn from_null() -> Result<Self, ConfigError> {
        Self::from_raw(RawReplaceConfig::default())
    }
}

/// The built stage.
#[derive(Debug)]
pub struct ReplaceStage {
    cfg: ReplaceConfig,
}

impl ReplaceStage {
    /// The stage for `cfg`.
    pub fn new(cfg: ReplaceConfig) -> Self {
        Self { cfg }
    }

    fn apply(&self, e: &mut PipelineEntry) {
        let Some(template) = &self.cfg.replace else {
            return;
        };
        let Some(input) = input_text(e, self.cfg.source.as_deref()).map(|c| c.into_owned()) else {
            return;
        };
        let re = &self.cfg.expression;
        // The first match's groups name what is extracted afterwards.
        let Some(first) = re.captures(&input) else {
            return;
        };
        let mut data = string_data(e);
        let render = |d: &BTreeMap<String, String>| template.execute(&go_map(d), &Promtail).ok();
        let Some((result, captured)) = replace_groups(re, &input, &mut data, render) else {
            return;
        };
        match &self.cfg.source {
            Some(source) => {
                e.extracted.insert(source.clone(), Value::String(result));
            }
            None => e.entry.line = result,
        }
        for (i, name) in re.capture_names().enumerate().skip(1) {
            let Some(name) = name.filter(|n| !n.is_empty()) else {
                continue;
            };
            let text = first.get(i).map_or("", |m| m.as_str());
            if let Some(v) = captured.get(text) {
                e.extracted
                    .insert(name.to_owned(), Value::String(v.clone()));
            }
        }
    }
}

impl Stage for ReplaceStage {
    fn name(&self) -> &'static str {
        "replace"
    }

    fn process(&mut self, mut e: PipelineEntry, _now_ns: i64, out: &mut Vec<PipelineEntry>) {
        self.apply(&mut e);
        out.push(e);
    }
}

/// Go's replace loop: every capture group of every match is replaced by
/// the template's output for it (with `.Value` the captured text), text
/// between kept; a group starting inside one already replaced is not
/// replaced again but still recorded. Returns the new text and, per
/// captured text, what replaced it; None when the template fails.
pub(crate) fn replace_groups(
    re: &Regex,
    input: &str,
    data: &mut BTreeMap<String, String>,
    mut render: impl FnMut(&BTreeMap<String, String>) -> Option<String>,
) -> Option<(String, HashMap<String, String>)> {
    let mut result = String::with_capacity(input.len());
    let mut previous_end = 0;
    let mut captured_map = HashMap::new();
    for caps in re.captures_iter(input) {
        for group in caps.iter().skip(1).flatten() {
            let captured = group.as_str();
            data.insert("Value".to_owned(), captured.to_owned());
            let replaced = render(data)?;
            if previous_end == 0 || previous_end <= group.start() {
                result.push_str(&input[previous_end..group.start()]);
                result.push_str(&replaced);
                previous_end = group.end();
            }
            captured_map.insert(captured.to_owned(), replaced);
        }
    }
    result.push_str(&input[previous_end..]);
    Some((result, captured_map))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::testing::{entry, extracted_of};
    use serde_json::json;

    /// The line and the extracted strings after `replace`.
    fn run(
        expr: &str,
        source: Option<&str>,
        replace: &str,
        line: &str,
        extracted: &[(&str, Value)],
    ) -> (String, Vec<(String, String)>) {
        let cfg = ReplaceConfig::new(expr, source.map(str::to_owned), replace).expect("valid");
        let mut e = entry(line);
        for (k, v) in extracted {
            e.extracted.insert((*k).to_owned(), v.clone());
        }
        let mut out = Vec::new();
        ReplaceStage::new(cfg).process(e, 0, &mut out);
        let e = out.remove(0);
        let ex = extracted_of(&e);
        (e.entry.line, ex)
    }

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn every_group_of_every_match_is_replaced() {
        let (line, ex) = run(
            r"(\d{2}\.\d{2}\.\d{2}\.\d{2}) - (\S+)",
            None,
            "*",
            "11.11.11.11 - frank 12.12.12.12 - frank",
            &[],
        );
        assert_eq!(line, "* - * * - *");
        assert_eq!(ex, pairs(&[]));
    }

    #[test]
    fn named_groups_extract_their_replacement() {
        let (line, ex) = run(
            r"password=(?P<pw>\S+)",
            None,
            "****",
            "user=a password=secret x",
            &[],
        );
        assert_eq!(line, "user=a password=**** x");
        assert_eq!(ex, pairs(&[("pw", "****")]));
    }

    #[test]
    fn the_template_sees_value_and_extracted_data() {
        let (line, _) = run(
            r"(?P<ip>\d+\.\d+)",
            None,
            "{{ .Value | ToUpper }}/{{ .user }}",
            "from 1.2 ok",
            &[("user", json!("bob"))],
        );
        assert_eq!(line, "from 1.2/bob ok");
        let (line, _) = run(r"(x)", None, "{{ .nope }}", "axb", &[]);
        assert_eq!(line, "a<no value>b");
    }

    #[test]
    fn an_empty_replace_deletes_the_groups() {
        let (line, _) = run(r"( debug)", None, "", "level debug end", &[]);
        assert_eq!(line, "level end");
    }

    #[test]
    fn a_source_is_rewritten_in_the_map() {
        let (line, ex) = run(
            r"(\d+)",
            Some("msg"),
            "N",
            "line 1",
            &[("msg", json!("take 5"))],
        );
        assert_eq!(line, "line 1");
        assert_eq!(ex, pairs(&[("msg", "take N")]));
    }

    #[test]
    fn no_match_or_a_missing_source_changes_nothing() {
        assert_eq!(run(r"(q)", None, "x", "abc", &[]).0, "abc");
        assert_eq!(run(r"(a)", Some("nope"), "x", "abc", &[]).0, "abc");
    }

    #[test]
    fn a_template_that_does_not_parse_is_accepted_and_does_nothing() {
        assert_eq!(run(r"(a)", None, "{{ nope }}", "abc", &[]).0, "abc");
    }

    #[test]
    fn config_errors() {
        assert_eq!(
            ReplaceConfig::new("", None, "x").err(),
            Some(ConfigError::Invalid("expression is required"))
        );
        assert!(ReplaceConfig::new("a", Some(String::new()), "x").is_err());
        assert!(matches!(
            ReplaceConfig::new("a(", None, "x"),
            Err(ConfigError::Regex(_))
        ));
    }
}
