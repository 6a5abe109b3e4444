//! `pipeline_stages` as promtail-config.yaml writes them: one
//! [`StageConfig`] per list item (`- regex: {expression: …}`), checked while
//! it is deserialised so a bad regex or template names its line.
//!
//! Promtail 2.8 decodes each stage's options with mapstructure's default
//! settings, which ignore unknown keys and reject values of the wrong
//! type; serde without `deny_unknown_fields` does the same. The checks a
//! stage's constructor does in Promtail (`expression is required`, a regex
//! that does not compile, …) run here as `TryFrom` conversions, so they
//! surface as serde errors of the stage's own YAML node.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, IgnoredAny, MapAccess, Visitor};

use super::drop::{DropConfig, DropError};
use super::json::JsonConfig;
use super::labels::{LabelListConfig, LabelsConfig, StaticLabelsConfig};
use super::limit::{LimitConfig, LimitError};
use super::logfmt::LogfmtConfig;
use super::match_stage::{MatchConfig, MatchError};
use super::metrics::{MetricsConfig, MetricsError};
use super::multiline::{MultilineConfig, MultilineError};
use super::output::OutputConfig;
use super::pack::PackConfig;
use super::regex::RegexConfig;
use super::replace::ReplaceConfig;
use super::sampling::{SamplingConfig, SamplingError};
use super::template::TemplateConfig;
use super::tenant::TenantConfig;
use super::timestamp::TimestampConfig;

/// Why a stage's options are invalid. The messages are Promtail's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// An option Promtail requires is missing or empty; the text is
    /// Promtail's message (`expression is required`, `empty source`, …).
    #[error("{0}")]
    Invalid(&'static str),
    /// The regular expression does not compile.
    #[error("could not compile regular expression: {0}")]
    Regex(String),
    /// A JMESPath expression does not compile.
    #[error("could not compile JMES expression: {0}")]
    Jmes(String),
    /// A label name that Prometheus' rules reject.
    #[error("invalid label name: {0}")]
    LabelName(String),
    /// A `location` that is not a known time zone.
    #[error("invalid location specified: {0}")]
    Location(String),
    /// `action_on_failure` is neither `skip` nor `fudge`.
    #[error("invalid action on failure (supported values are [skip fudge])")]
    ActionOnFailure,
    /// The template does not parse.
    #[error("{0}")]
    Template(String),
    /// A `multiline` stage's options.
    #[error(transparent)]
    Multiline(#[from] MultilineError),
    /// A `match` stage's options.
    #[error(transparent)]
    Match(#[from] MatchError),
    /// A `drop` stage's options.
    #[error(transparent)]
    Drop(#[from] DropError),
    /// A `limit` stage's options.
    #[error(transparent)]
    Limit(#[from] LimitError),
    /// A `sampling` stage's options.
    #[error(transparent)]
    Sampling(#[from] SamplingError),
    /// A `metrics` stage's options.
    #[error(transparent)]
    Metrics(#[from] MetricsError),
}

/// One item of `pipeline_stages`.
#[derive(Debug, Clone)]
pub enum StageConfig {
    /// `regex`: named groups of a regular expression into the extracted map.
    Regex(RegexConfig),
    /// `json`: JMESPath expressions over a JSON line or extracted value.
    Json(JsonConfig),
    /// `logfmt`: keys of a logfmt line into the extracted map.
    Logfmt(LogfmtConfig),
    /// `replace`: rewrites what a regex's groups matched.
    Replace(ReplaceConfig),
    /// `pack`: labels and line packed into a JSON line.
    Pack(PackConfig),
    /// `decolorize`: ANSI colour codes removed from the line.
    Decolorize,
    /// `template`: an extracted value rewritten by a Go template.
    Template(TemplateConfig),
    /// `output`: the line replaced by an extracted value.
    Output(OutputConfig),
    /// `timestamp`: the entry's time parsed from an extracted value.
    Timestamp(TimestampConfig),
    /// `labels`: extracted values as labels.
    Labels(LabelsConfig),
    /// `labelallow`: every label not listed removed.
    LabelAllow(LabelListConfig),
    /// `labeldrop`: the listed labels removed.
    LabelDrop(LabelListConfig),
    /// `static_labels`: fixed labels added.
    StaticLabels(StaticLabelsConfig),
    /// `tenant`: the tenant chosen through `__tenant_id__`.
    Tenant(TenantConfig),
    /// `structured_metadata` (later Promtail): extracted values as
    /// structured metadata.
    StructuredMetadata(LabelsConfig),

    /// `multiline`: a first line and those after it joined into one entry.
    Multiline(MultilineConfig),
    /// `docker`: Docker's JSON log lines (`log`, `stream`, `time`); Promtail
    /// reads no options.
    Docker,
    /// `cri`: CRI log lines (`time stream flags content`), partial lines
    /// joined; Promtail reads no options.
    Cri,
    /// `match`: nested stages, or a drop, for entries a selector matches.
    Match(MatchConfig),
    /// `drop`: entries meeting every condition dropped.
    Drop(DropConfig),
    /// `limit`: a rate limit that drops or waits.
    Limit(LimitConfig),
    /// `sampling` (Promtail 2.9): a random share of entries kept.
    Sampling(SamplingConfig),
    /// `metrics`: counters, gauges and histograms from extracted values.
    Metrics(MetricsConfig),
}

impl StageConfig {
    /// The stage's name as the config writes it.
    pub fn name(&self) -> &'static str {
        match self {
            StageConfig::Regex(_) => "regex",
            StageConfig::Json(_) => "json",
            StageConfig::Logfmt(_) => "logfmt",
            StageConfig::Replace(_) => "replace",
            StageConfig::Pack(_) => "pack",
            StageConfig::Decolorize => "decolorize",
            StageConfig::Template(_) => "template",
            StageConfig::Output(_) => "output",
            StageConfig::Timestamp(_) => "timestamp",
            StageConfig::Labels(_) => "labels",
            StageConfig::LabelAllow(_) => "labelallow",
            StageConfig::LabelDrop(_) => "labeldrop",
            StageConfig::StaticLabels(_) => "static_labels",
            StageConfig::Tenant(_) => "tenant",
            StageConfig::StructuredMetadata(_) => "structured_metadata",
            StageConfig::Multiline(_) => "multiline",
            StageConfig::Docker => "docker",
            StageConfig::Cri => "cri",
            StageConfig::Match(_) => "match",
            StageConfig::Drop(_) => "drop",
            StageConfig::Limit(_) => "limit",
            StageConfig::Sampling(_) => "sampling",
            StageConfig::Metrics(_) => "metrics",
        }
    }
}

/// A stage's options: what the YAML holds, and the checks Promtail's
/// constructor makes of it.
pub(crate) trait StageOptions: Sized {
    /// The options as written.
    type Raw: de::DeserializeOwned;
    /// Checks and compiles the options.
    fn from_raw(raw: Self::Raw) -> Result<Self, ConfigError>;
    /// The options of a stage written as YAML null (`- decolorize:`):
    /// what Promtail makes of a nil config.
    fn from_null() -> Result<Self, ConfigError>;
}

/// Reads the value of a stage key. The checks run here, in the visitor of
/// the stage's item, so the YAML error carries that item's line.
fn stage_value<'de, A, T>(map: &mut A) -> Result<T, A::Error>
where
    A: MapAccess<'de>,
    T: StageOptions,
{
    match map.next_value::<Option<T::Raw>>()? {
        Some(raw) => T::from_raw(raw),
        None => T::from_null(),
    }
    .map_err(de::Error::custom)
}

/// The stage names Promtail 2.8 knows but vigil does not build.
const NOT_SUPPORTED: &[&str] = &["eventlogmessage", "geoip"];

struct StageVisitor;

impl<'de> Visitor<'de> for StageVisitor {
    type Value = StageConfig;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a pipeline stage: a map with one key, the stage's name")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<StageConfig, E> {
        // Promtail's own wording for `- regex` without a colon.
        Err(E::custom(format!(
            "invalid YAML config, make sure each stage of your pipeline is a YAML object \
             (must end with a `:`), check stage `- {v}`"
        )))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<StageConfig, A::Error> {
        let Some(name) = map.next_key::<String>()? else {
            return Err(de::Error::custom("empty pipeline stage"));
        };
        let stage = match name.as_str() {
            "regex" => StageConfig::Regex(stage_value(&mut map)?),
            "json" => StageConfig::Json(stage_value(&mut map)?),
            "logfmt" => StageConfig::Logfmt(stage_value(&mut map)?),
            "replace" => StageConfig::Replace(stage_value(&mut map)?),
            "pack" => StageConfig::Pack(stage_value(&mut map)?),
            "decolorize" => {
                map.next_value::<IgnoredAny>()?;
                StageConfig::Decolorize
            }
            "template" => StageConfig::Template(stage_value(&mut map)?),
            "output" => StageConfig::Output(stage_value(&mut map)?),
            "timestamp" => StageConfig::Timestamp(stage_value(&mut map)?),
            "labels" => StageConfig::Labels(stage_value(&mut map)?),
            "labelallow" => StageConfig::LabelAllow(stage_value::<_, LabelListConfig>(&mut map)?),
            "labeldrop" => StageConfig::LabelDrop(stage_value::<_, LabelListConfig>(&mut map)?),
            "static_labels" => StageConfig::StaticLabels(stage_value(&mut map)?),
            "tenant" => StageConfig::Tenant(stage_value(&mut map)?),
            "structured_metadata" => StageConfig::StructuredMetadata(stage_value(&mut map)?),
            "multiline" => StageConfig::Multiline(stage_value(&mut map)?),
            "docker" => {
                map.next_value::<IgnoredAny>()?;
                StageConfig::Docker
            }
            "cri" => {
                map.next_value::<IgnoredAny>()?;
                StageConfig::Cri
            }
            "match" => StageConfig::Match(stage_value(&mut map)?),
            "drop" => StageConfig::Drop(stage_value(&mut map)?),
            "limit" => StageConfig::Limit(stage_value(&mut map)?),
            "sampling" => StageConfig::Sampling(stage_value(&mut map)?),
            "metrics" => StageConfig::Metrics(stage_value(&mut map)?),
            other if NOT_SUPPORTED.contains(&other) => {
                return Err(de::Error::custom(format!(
                    "the {other} stage is not supported by vigil"
                )));
            }
            other => {
                return Err(de::Error::custom(format!("unknown stage type: {other}")));
            }
        };
        if map.next_key::<IgnoredAny>()?.is_some() {
            return Err(de::Error::custom(
                "pipeline stage must contain only one key",
            ));
        }
        Ok(stage)
    }
}

impl<'de> Deserialize<'de> for StageConfig {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StageVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(yaml: &str) -> Result<Vec<StageConfig>, String> {
        yaml_serde::from_str::<Vec<StageConfig>>(yaml).map_err(|e| e.to_string())
    }

    fn names(yaml: &str) -> Vec<&'static str> {
        match parse(yaml) {
            Ok(stages) => stages.iter().map(StageConfig::name).collect(),
            Err(e) => panic!("{yaml}: {e}"),
        }
    }

    fn err(yaml: &str) -> String {
        match parse(yaml) {
            Ok(s) => panic!("{yaml}: parsed as {s:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn every_stage_name_parses() {
        let yaml = r#"
- regex: {expression: 'a(?P<x>b)'}
- json: {expressions: {a: b}}
- logfmt: {mapping: {a: null}}
- replace: {expression: 'a', replace: 'b'}
- pack: {labels: [a]}
- decolorize:
- template: {source: a, template: '{{ .Value }}'}
- output: {source: a}
- timestamp: {source: a, format: RFC3339}
- labels: {a: null}
- labelallow: [a]
- labeldrop: [a]
- static_labels: {a: b}
- tenant: {value: t}
- structured_metadata: {a: null}
- multiline: {firstline: '^x'}
- docker: {}
- cri: {}
- match: {selector: '{a="b"}', action: drop}
- drop: {source: a}
- limit: {rate: 1, burst: 1}
- sampling: {rate: 0.5}
- metrics: {}
"#;
        assert_eq!(
            names(yaml),
            [
                "regex",
                "json",
                "logfmt",
                "replace",
                "pack",
                "decolorize",
                "template",
                "output",
                "timestamp",
                "labels",
                "labelallow",
                "labeldrop",
                "static_labels",
                "tenant",
                "structured_metadata",
                "multiline",
                "docker",
                "cri",
                "match",
                "drop",
                "limit",
                "sampling",
                "metrics"
            ]
        );
    }

    #[test]
    fn an_unknown_stage_is_an_error_with_its_line() {
        let e = err("- regex: {expression: a}\n- regexp: {expression: a}\n");
        assert!(e.contains("unknown stage type: regexp"), "{e}");
        assert!(e.contains("line 2"), "{e}");
    }

    #[test]
    fn a_stage_without_colon_is_an_error() {
        let e = err("- decolorize\n");
        assert!(e.contains("check stage `- decolorize`"), "{e}");
    }

    #[test]
    fn two_keys_in_one_stage_is_an_error() {
        let e = err("- regex: {expression: a}\n  output: {source: a}\n");
        assert!(e.contains("only one key"), "{e}");
    }

    #[test]
    fn a_bad_regex_names_its_line() {
        let e = err("- output: {source: a}\n- regex:\n    expression: 'a(b'\n");
        assert!(e.contains("could not compile regular expression"), "{e}");
        assert!(e.contains("line 2"), "{e}");
    }

    #[test]
    fn unknown_keys_are_ignored_as_mapstructure_does() {
        assert_eq!(names("- output: {source: a, colour: red}\n"), ["output"]);
    }

    #[test]
    fn not_supported_stages_say_so() {
        let e = err("- geoip: {db: x}\n");
        assert!(e.contains("not supported"), "{e}");
    }
}
