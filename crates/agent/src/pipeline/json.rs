//! The `json` stage: JMESPath expressions over a JSON line (or extracted
//! value) into the extracted map.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use super::config::{ConfigError, StageOptions};
use super::regex::input_text;
use super::value::go_json;
use super::{PipelineEntry, Stage};

/// `json: {expressions, source, drop_malformed}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "RawJsonConfig")]
pub struct JsonConfig {
    /// Extracted name → compiled expression (the name itself when the
    /// config leaves the expression empty).
    pub expressions: Vec<(String, JmesPath)>,
    /// The extracted value to parse instead of the line.
    pub source: Option<String>,
    /// Drop entries whose input is not a JSON object.
    pub drop_malformed: bool,
}

/// A compiled JMESPath expression.
#[derive(Clone)]
pub struct JmesPath(std::sync::Arc<jmespath::Expression<'static>>);

impl std::fmt::Debug for JmesPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "JmesPath({:?})", self.0.as_str())
    }
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct RawJsonConfig {
    #[serde(default)]
    expressions: BTreeMap<String, Option<String>>,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    drop_malformed: bool,
}

impl JsonConfig {
    /// Checks the options as Promtail does and compiles the expressions.
    pub fn new(
        expressions: &[(&str, &str)],
        source: Option<String>,
        drop_malformed: bool,
    ) -> Result<Self, ConfigError> {
        if expressions.is_empty() {
            return Err(ConfigError::Invalid("JMES expression is required"));
        }
        if source.as_deref() == Some("") {
            return Err(ConfigError::Invalid("empty source"));
        }
        let expressions = expressions
            .iter()
            .map(|(name, expr)| {
                let text = if expr.is_empty() { name } else { expr };
                jmespath::compile(text)
                    .map(|c| ((*name).to_owned(), JmesPath(std::sync::Arc::new(c))))
                    .map_err(|e| ConfigError::Jmes(e.to_string()))
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            expressions,
            source,
            drop_malformed,
        })
    }
}

impl TryFrom<RawJsonConfig> for JsonConfig {
    type Error = ConfigError;
    fn try_from(raw: RawJsonConfig) -> Result<Self, ConfigError> {
        let pairs: Vec<(&str, &str)> = raw
            .expressions
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_deref().unwrap_or("")))
            .collect();
        Self::new(&pairs, raw.source, raw.drop_malformed)
    }
}

impl StageOptions for JsonConfig {
    type Raw = RawJsonConfig;
    fn from_raw(raw: RawJsonConfig) -> Result<Self, ConfigError> {
        raw.try_into()
    }
    fn from_null() -> Result<Self, ConfigError> {
        RawJsonConfig::default().try_into()
    }
}

/// The built stage.
#[derive(Debug)]
pub struct JsonStage {
    cfg: JsonConfig,
}

/// The JSON input is not an object.
struct Malformed;

impl JsonStage {
    /// The stage for `cfg`.
    pub fn new(cfg: JsonConfig) -> Self {
        Self { cfg }
    }

    fn apply(&self, e: &mut PipelineEntry) -> Result<(), Malformed> {
        // A missing or unconvertible source is not an error: Promtail
        // passes the entry on, even with drop_malformed.
        let Some(input) = input_text(e, self.cfg.source.as_deref()) else {
            return Ok(());
        };
        // Go unmarshals into map[string]interface{}: an object will do, and
        // so does `null` (a nil map, where every expression finds null).
        let data: Value = serde_json::from_str(&input).map_err(|_| Malformed)?;
        drop(input);
        if !matches!(data, Value::Object(_) | Value::Null) {
            return Err(Malformed);
        }
        for (name, expr) in &self.cfg.expressions {
            let Ok(found) = expr.0.search(&data) else {
                continue;
            };
            let value = match &*found {
                jmespath::Variable::Null => Value::Null,
                jmespath::Variable::String(s) => Value::String(s.clone()),
                jmespath::Variable::Bool(b) => Value::Bool(*b),
                // Go's JSON numbers are float64.
                jmespath::Variable::Number(n) => n
                    .as_f64()
                    .and_then(serde_json::Number::from_f64)
                    .map_or(Value::Null, Value::Number),
                other => match serde_json::to_value(other) {
                    Ok(v) => Value::String(go_json(&v)),
                    Err(_) => continue,
                },
            };
            e.extracted.insert(name.clone(), value);
        }
        Ok(())
    }
}

impl Stage for JsonStage {
    fn name(&self) -> &'static str {
        "json"
    }

    fn process(&mut self, mut e: PipelineEntry, _now_ns: i64, out: &mut Vec<PipelineEntry>) {
        if self.apply(&mut e).is_err() && self.cfg.drop_malformed {
            return;
        }
        out.push(e);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::testing::{entry, extracted_of};

    fn run(
        exprs: &[(&str, &str)],
        source: Option<&str>,
        drop: bool,
        line: &str,
    ) -> Option<Vec<(String, String)>> {
        let cfg = JsonConfig::new(exprs, source.map(str::to_owned), drop).expect("valid config");
        let mut stage = JsonStage::new(cfg);
        let mut out = Vec::new();
        stage.process(entry(line), 0, &mut out);
        out.first().map(extracted_of)
    }

    fn check(exprs: &[(&str, &str)], line: &str, want: &[(&str, &str)]) {
        let want: Vec<(String, String)> = want
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect();
        assert_eq!(run(exprs, None, false, line), Some(want), "{line}");
    }

    #[test]
    fn plain_keys_and_empty_expressions() {
        check(
            &[("level", ""), ("m", "msg")],
            r#"{"level":"info","msg":"hi"}"#,
            &[("level", "info"), ("m", "hi")],
        );
    }

    #[test]
    fn numbers_are_float64_text() {
        check(
            &[("a", "a"), ("b", "b"), ("c", "c")],
            r#"{"a":12.50,"b":1e3,"c":5}"#,
            &[("a", "12.5"), ("b", "1000"), ("c", "5")],
        );
    }

    #[test]
    fn bools_arrays_and_objects() {
        check(
            &[("t", "ok"), ("arr", "tags"), ("obj", "o")],
            r#"{"ok":true,"tags":["a","b"],"o":{"y":1.0,"x":"<"}}"#,
            &[
                ("arr", r#"["a","b"]"#),
                ("obj", r#"{"x":"\u003c","y":1}"#),
                ("t", "true"),
            ],
        );
    }

    #[test]
    fn jmespath_functions_projections_and_quoted_keys() {
        check(
            &[
                ("n", "length(items)"),
                ("skus", "items[*].sku"),
                ("first", "items[0].sku"),
                ("q", r#""dotted.key""#),
            ],
            r#"{"items":[{"sku":"s1"},{"sku":"s2"}],"dotted.key":"dk"}"#,
            &[
                ("first", "s1"),
                ("n", "2"),
                ("q", "dk"),
                ("skus", r#"["s1","s2"]"#),
            ],
        );
    }

    #[test]
    fn null_and_missing_are_null_in_the_map() {
        let cfg = JsonConfig::new(&[("a", "a"), ("b", "nope")], None, false).expect("valid");
        let mut stage = JsonStage::new(cfg);
        let mut out = Vec::new();
        stage.process(entry(r#"{"a":null}"#), 0, &mut out);
        assert_eq!(out[0].extracted.get("a"), Some(&Value::Null));
        assert_eq!(out[0].extracted.get("b"), Some(&Value::Null));
    }

    #[test]
    fn a_non_json_line_passes_unchanged() {
        assert_eq!(run(&[("a", "")], None, false, "not json"), Some(vec![]));
        assert_eq!(run(&[("a", "")], None, false, "[1,2]"), Some(vec![]));
    }

    #[test]
    fn a_null_line_is_not_malformed_and_finds_null() {
        let cfg = JsonConfig::new(&[("a", "")], None, true).expect("valid");
        let mut out = Vec::new();
        JsonStage::new(cfg).process(entry("null"), 0, &mut out);
        assert_eq!(out[0].extracted.get("a"), Some(&Value::Null));
        assert_eq!(run(&[("a", "")], None, true, r#""text""#), None);
    }

    #[test]
    fn drop_malformed_drops_only_malformed_present_input() {
        assert_eq!(run(&[("a", "")], None, true, "not json"), None);
        assert_eq!(
            run(&[("a", "")], Some("missing"), true, "not json"),
            Some(vec![])
        );
        assert!(run(&[("a", "")], None, true, r#"{"a":"x"}"#).is_some());
    }

    #[test]
    fn config_errors() {
        assert!(matches!(
            JsonConfig::new(&[], None, false),
            Err(ConfigError::Invalid(_))
        ));
        assert!(matches!(
            JsonConfig::new(&[("a", "[")], None, false),
            Err(ConfigError::Jmes(_))
        ));
        assert!(matches!(
            JsonConfig::new(&[("a", "")], Some(String::new()), false),
            Err(ConfigError::Invalid(_))
        ));
    }
}
