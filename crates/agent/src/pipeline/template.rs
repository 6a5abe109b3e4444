//! The `template` stage: an extracted value rewritten by a Go template.

use serde::Deserialize;

use super::config::{ConfigError, StageOptions};

/// `template: {source, template}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "RawTemplateConfig")]
pub struct TemplateConfig {
    /// The extracted name the result is stored under (and `.Value`).
    pub source: String,
    /// The template text.
    pub template: String,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct RawTemplateConfig {
    #[serde(default)]
    source: String,
    #[serde(default)]
    template: String,
}

impl TryFrom<RawTemplateConfig> for TemplateConfig {
    type Error = ConfigError;
    fn try_from(raw: RawTemplateConfig) -> Result<Self, ConfigError> {
        if raw.source.is_empty() {
            return Err(ConfigError::Invalid("template source value is required"));
        }
        Ok(Self {
            source: raw.source,
            template: raw.template,
        })
    }
}

impl StageOptions for TemplateConfig {
    type Raw = RawTemplateConfig;
    fn from_raw(raw: RawTemplateConfig) -> Result<Self, ConfigError> {
        raw.try_into()
    }
    fn from_null() -> Result<Self, ConfigError> {
        Err(ConfigError::Invalid(
            "template stage config cannot be empty",
        ))
    }
}
