//! The `output` stage: the line replaced by an extracted value.

use serde::Deserialize;

use super::config::{ConfigError, StageOptions};
use super::value::get_string;
use super::{PipelineEntry, Stage};

/// `output: {source}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "RawOutputConfig")]
pub struct OutputConfig {
    /// The extracted name whose value becomes the line.
    pub source: String,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct RawOutputConfig {
    #[serde(default)]
    source: String,
}

impl OutputConfig {
    /// Checks the options as Promtail does.
    pub fn new(source: &str) -> Result<Self, ConfigError> {
        if source.is_empty() {
            return Err(ConfigError::Invalid(
                "output source value is required if output is specified",
            ));
        }
        Ok(Self {
            source: source.to_owned(),
        })
    }
}

impl TryFrom<RawOutputConfig> for OutputConfig {
    type Error = ConfigError;
    fn try_from(raw: RawOutputConfig) -> Result<Self, ConfigError> {
        Self::new(&raw.source)
    }
}

impl StageOptions for OutputConfig {
    type Raw = RawOutputConfig;
    fn from_raw(raw: RawOutputConfig) -> Result<Self, ConfigError> {
        raw.try_into()
    }
    fn from_null() -> Result<Self, ConfigError> {
        Err(ConfigError::Invalid("output stage config cannot be empty"))
    }
}

/// The built stage.
#[derive(Debug)]
pub struct OutputStage {
    cfg: OutputConfig,
}

impl OutputStage {
    /// The stage for `cfg`.
    pub fn new(cfg: OutputConfig) -> Self {
        Self { cfg }
    }
}

impl Stage for OutputStage {
    fn name(&self) -> &'static str {
        "output"
    }

    fn process(&mut self, mut e: PipelineEntry, _now_ns: i64, out: &mut Vec<PipelineEntry>) {
        // An empty value empties the line; a missing or null one leaves it.
        if let Some(v) = e.extracted.get(&self.cfg.source).and_then(get_string) {
            e.entry.line = v.into_owned();
        }
        out.push(e);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::testing::entry;
    use serde_json::{Value, json};

    fn run(extracted: Option<Value>) -> String {
        let mut s = OutputStage::new(OutputConfig::new("msg").expect("valid"));
        let mut e = entry("original");
        if let Some(v) = extracted {
            e.extracted.insert("msg".into(), v);
        }
        let mut out = Vec::new();
        s.process(e, 0, &mut out);
        out.remove(0).entry.line
    }

    #[test]
    fn the_value_becomes_the_line() {
        assert_eq!(run(Some(json!("new"))), "new");
    }

    #[test]
    fn an_empty_value_empties_the_line() {
        assert_eq!(run(Some(json!(""))), "");
    }

    #[test]
    fn a_number_is_stringified() {
        assert_eq!(run(Some(json!(3.25))), "3.25");
    }

    #[test]
    fn missing_or_null_leaves_the_line() {
        assert_eq!(run(None), "original");
        assert_eq!(run(Some(Value::Null)), "original");
    }

    #[test]
    fn source_is_required() {
        assert!(OutputConfig::new("").is_err());
    }
}
