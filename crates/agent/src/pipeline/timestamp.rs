//! The `timestamp` stage: the entry's time parsed from an extracted value.

use serde::Deserialize;

use super::config::{ConfigError, StageOptions};

/// What to do when the value is missing or does not parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActionOnFailure {
    /// Keep the entry's time.
    Skip,
    /// The last good time of the same labels plus 1ns (Promtail's default).
    Fudge,
}

/// `timestamp: {source, format, fallback_formats, location, action_on_failure}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "RawTimestampConfig")]
pub struct TimestampConfig {
    /// The extracted name holding the time.
    pub source: String,
    /// The format: a Promtail name (`RFC3339`, `Unix`, …) or a Go layout.
    pub format: String,
    /// Formats tried in order when `format` fails.
    pub fallback_formats: Vec<String>,
    /// The time zone for layouts without one.
    pub location: Option<String>,
    /// On failure.
    pub action_on_failure: ActionOnFailure,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct RawTimestampConfig {
    #[serde(default)]
    source: String,
    #[serde(default)]
    format: String,
    #[serde(default)]
    fallback_formats: Vec<String>,
    #[serde(default)]
    location: Option<String>,
    #[serde(default)]
    action_on_failure: Option<String>,
}

impl TryFrom<RawTimestampConfig> for TimestampConfig {
    type Error = ConfigError;
    fn try_from(raw: RawTimestampConfig) -> Result<Self, ConfigError> {
        if raw.source.is_empty() {
            return Err(ConfigError::Invalid(
                "timestamp source value is required if timestamp is specified",
            ));
        }
        if raw.format.is_empty() {
            return Err(ConfigError::Invalid("timestamp format is required"));
        }
        let action_on_failure = match raw.action_on_failure.as_deref() {
            None | Some("fudge") => ActionOnFailure::Fudge,
            Some("skip") => ActionOnFailure::Skip,
            Some(_) => return Err(ConfigError::ActionOnFailure),
        };
        Ok(Self {
            source: raw.source,
            format: raw.format,
            fallback_formats: raw.fallback_formats,
            location: raw.location,
            action_on_failure,
        })
    }
}

impl StageOptions for TimestampConfig {
    type Raw = RawTimestampConfig;
    fn from_raw(raw: RawTimestampConfig) -> Result<Self, ConfigError> {
        raw.try_into()
    }
    fn from_null() -> Result<Self, ConfigError> {
        Err(ConfigError::Invalid(
            "timestamp stage config cannot be empty",
        ))
    }
}
