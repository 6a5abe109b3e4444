//! The `replace` stage: what a regex's groups matched, replaced by a
//! template's output, in the line or an extracted value.

use regex::Regex;
use serde::Deserialize;

use super::config::{ConfigError, StageOptions};

/// `replace: {expression, source, replace}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "RawReplaceConfig")]
pub struct ReplaceConfig {
    /// The compiled expression.
    pub expression: Regex,
    /// The extracted value to rewrite instead of the line.
    pub source: Option<String>,
    /// The template each captured group is replaced by.
    pub replace: String,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct RawReplaceConfig {
    #[serde(default)]
    expression: String,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    replace: String,
}

impl TryFrom<RawReplaceConfig> for ReplaceConfig {
    type Error = ConfigError;
    fn try_from(raw: RawReplaceConfig) -> Result<Self, ConfigError> {
        if raw.expression.is_empty() {
            return Err(ConfigError::Invalid("expression is required"));
        }
        if raw.source.as_deref() == Some("") {
            return Err(ConfigError::Invalid("empty source in replace stage"));
        }
        Ok(Self {
            expression: super::regex::compile(&raw.expression)?,
            source: raw.source,
            replace: raw.replace,
        })
    }
}

impl StageOptions for ReplaceConfig {
    type Raw = RawReplaceConfig;
    fn from_raw(raw: RawReplaceConfig) -> Result<Self, ConfigError> {
        raw.try_into()
    }
    fn from_null() -> Result<Self, ConfigError> {
        RawReplaceConfig::default().try_into()
    }
}
