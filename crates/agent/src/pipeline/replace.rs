//! The `replace` stage: what a regex's groups matched, replaced by a
//! template's output, in the line or an extracted value.

use std::collections::{BTreeMap, HashMap};

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
