//! The `template` stage: an extracted value rewritten by a Go template with
//! Promtail's functions (sprig's and Promtail's own, see
//! `gocompat::template::Promtail`).
//!
//! The template sees every extracted value that converts to a string by
//! its name, `.Value` (the source's value) and `.Entry` (the line); a
//! missing name prints `<no value>`, as Go prints a missing key of
//! Promtail's `map[string]interface{}`. An output of "" removes the source
//! from the extracted map; an execution error changes nothing.

use std::collections::BTreeMap;
use std::sync::Arc;

use gocompat::template::{Promtail, Template, Value as GoValue};
use serde::Deserialize;
use serde_json::Value;

use super::config::{ConfigError, StageOptions};
use super::value::get_string;
use super::{PipelineEntry, Stage};

/// `template: {source, template}`.
#[derive(Debug, Clone)]
pub struct TemplateConfig {
    /// The extracted name the result is stored under (and `.Value`).
    pub source: String,
    /// The parsed template.
    pub template: Arc<Template>,
}

/// The options as written.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct RawTemplateConfig {
    #[serde(default)]
    source: String,
    #[serde(default)]
    template: String,
}

impl TemplateConfig {
    /// Checks the options as Promtail does and parses the template.
    pub fn new(source: &str, template: &str) -> Result<Self, ConfigError> {
        if source.is_empty() {
            return Err(ConfigError::Invalid("template source value is required"));
        }
        let template = Template::parse("pipeline_template", template, &Promtail)
            .map_err(|e| ConfigError::Template(e.to_string()))?;
        Ok(Self {
            source: source.to_owned(),
            template: Arc::new(template),
        })
    }
}

impl StageOptions for TemplateConfig {
    type Raw = RawTemplateConfig;
    fn from_raw(raw: RawTemplateConfig) -> Result<Self, ConfigError> {
        Self::new(&raw.source, &raw.template)
    }
    fn from_null() -> Result<Self, ConfigError> {
        Err(ConfigError::Invalid(
            "template stage config cannot be empty",
        ))
    }
}

/// The extracted values that convert to strings, as template data.
pub(crate) fn string_data(e: &PipelineEntry) -> BTreeMap<String, String> {
    e.extracted
        .iter()
        .filter_map(|(k, v)| Some((k.clone(), get_string(v)?.into_owned())))
        .collect()
}

/// Template data as Go sees a map: missing keys are nil (`<no value>`).
pub(crate) fn go_map(data: &BTreeMap<String, String>) -> GoValue {
    GoValue::Map(
        data.iter()
            .map(|(k, v)| (k.clone(), GoValue::Str(v.clone())))
            .collect(),
        false,
    )
}

/// The built stage.
#[derive(Debug)]
pub struct TemplateStage {
    cfg: TemplateConfig,
}

impl TemplateStage {
    /// The stage for `cfg`.
    pub fn new(cfg: TemplateConfig) -> Self {
        Self { cfg }
    }
}

impl Stage for TemplateStage {
    fn name(&self) -> &'static str {
        "template"
    }

    fn process(&mut self, mut e: PipelineEntry, _now_ns: i64, out: &mut Vec<PipelineEntry>) {
        let mut data = string_data(&e);
        if let Some(v) = data.get(&self.cfg.source).cloned() {
            data.insert("Value".to_owned(), v);
        }
        data.insert("Entry".to_owned(), e.entry.line.clone());
        if let Ok(text) = self.cfg.template.execute(&go_map(&data), &Promtail) {
            if text.is_empty() {
                e.extracted.remove(&self.cfg.source);
            } else {
                e.extracted
                    .insert(self.cfg.source.clone(), Value::String(text));
            }
        }
        out.push(e);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::testing::entry;
    use serde_json::json;

    /// Runs `template` for `source` over an entry with `extracted`; the
    /// source's value after it (None: removed).
    fn run(
        source: &str,
        template: &str,
        line: &str,
        extracted: &[(&str, Value)],
    ) -> Option<String> {
        let mut stage = TemplateStage::new(TemplateConfig::new(source, template).expect("valid"));
        let mut e = entry(line);
        for (k, v) in extracted {
            e.extracted.insert((*k).to_owned(), v.clone());
        }
        let mut out = Vec::new();
        stage.process(e, 0, &mut out);
        out[0]
            .extracted
            .get(source)
            .and_then(get_string)
            .map(|s| s.into_owned())
    }

    #[test]
    fn value_is_the_source() {
        assert_eq!(
            run("l", "{{ .Value | ToUpper }}", "x", &[("l", json!("warn"))]).as_deref(),
            Some("WARN")
        );
    }

    #[test]
    fn a_new_name_can_be_made() {
        assert_eq!(
            run(
                "new",
                "{{ .a }}-{{ .b }}",
                "x",
                &[("a", json!("1")), ("b", json!(2.5))]
            )
            .as_deref(),
            Some("1-2.5")
        );
    }

    #[test]
    fn entry_is_the_line() {
        assert_eq!(
            run("n", "{{ .Entry }}!", "the line", &[]).as_deref(),
            Some("the line!")
        );
    }

    #[test]
    fn missing_names_print_no_value() {
        assert_eq!(
            run("n", "{{ .missing }}", "x", &[]).as_deref(),
            Some("<no value>")
        );
        assert_eq!(
            run("n", "{{ .Value }}", "x", &[]).as_deref(),
            Some("<no value>")
        );
    }

    #[test]
    fn an_empty_result_removes_the_source() {
        assert_eq!(
            run(
                "l",
                r#"{{ if eq .Value "x" }}kept{{ end }}"#,
                "x",
                &[("l", json!("y"))]
            ),
            None
        );
    }

    #[test]
    fn an_execution_error_changes_nothing() {
        assert_eq!(
            run("l", r#"{{ fail "no" }}"#, "x", &[("l", json!("y"))]).as_deref(),
            Some("y")
        );
    }

    #[test]
    fn config_errors() {
        assert_eq!(
            TemplateConfig::new("", "x").err(),
            Some(ConfigError::Invalid("template source value is required"))
        );
        assert!(matches!(
            TemplateConfig::new("s", "{{ nope }}"),
            Err(ConfigError::Template(_))
        ));
        assert!(matches!(
            TemplateConfig::new("s", "{{ .a "),
            Err(ConfigError::Template(_))
        ));
    }
}
