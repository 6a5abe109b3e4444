//! The stages that set labels: `labels`, `static_labels`, `labelallow`,
//! `labeldrop`, and `structured_metadata` (which sets structured metadata
//! the way `labels` sets labels).

use std::collections::{BTreeMap, BTreeSet};

use model::algebra::is_valid_label_name;
use serde::Deserialize;

use super::config::{ConfigError, StageOptions};
use super::value::get_string;
use super::{PipelineEntry, Stage};

/// `labels: {name: source}`: label name → extracted name (the label's own
/// name when the config leaves it empty or null).
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "BTreeMap<String, Option<String>>")]
pub struct LabelsConfig {
    /// Label name → extracted name.
    pub labels: BTreeMap<String, String>,
}

impl LabelsConfig {
    /// Checks the names as Promtail does.
    pub fn new(pairs: &[(&str, &str)]) -> Result<Self, ConfigError> {
        let mut labels = BTreeMap::new();
        for (name, source) in pairs {
            if !is_valid_label_name(name) {
                return Err(ConfigError::LabelName((*name).to_owned()));
            }
            let source = if source.is_empty() { name } else { source };
            labels.insert((*name).to_owned(), (*source).to_owned());
        }
        Ok(Self { labels })
    }
}

impl TryFrom<BTreeMap<String, Option<String>>> for LabelsConfig {
    type Error = ConfigError;
    fn try_from(raw: BTreeMap<String, Option<String>>) -> Result<Self, ConfigError> {
        let pairs: Vec<(&str, &str)> = raw
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_deref().unwrap_or("")))
            .collect();
        Self::new(&pairs)
    }
}

impl StageOptions for LabelsConfig {
    type Raw = BTreeMap<String, Option<String>>;
    fn from_raw(raw: BTreeMap<String, Option<String>>) -> Result<Self, ConfigError> {
        raw.try_into()
    }
    // Promtail decodes nothing into an empty, valid map.
    fn from_null() -> Result<Self, ConfigError> {
        Ok(Self {
            labels: BTreeMap::new(),
        })
    }
}

/// `static_labels: {name: value}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "BTreeMap<String, Option<String>>")]
pub struct StaticLabelsConfig {
    /// Label name → value; names with an empty value are skipped.
    pub labels: BTreeMap<String, String>,
}

impl TryFrom<BTreeMap<String, Option<String>>> for StaticLabelsConfig {
    type Error = ConfigError;
    fn try_from(raw: BTreeMap<String, Option<String>>) -> Result<Self, ConfigError> {
        let mut labels = BTreeMap::new();
        for (name, value) in raw {
            if !is_valid_label_name(&name) {
                return Err(ConfigError::LabelName(name));
            }
            if let Some(value) = value.filter(|v| !v.is_empty()) {
                labels.insert(name, value);
            }
        }
        Ok(Self { labels })
    }
}

impl StageOptions for StaticLabelsConfig {
    type Raw = BTreeMap<String, Option<String>>;
    fn from_raw(raw: BTreeMap<String, Option<String>>) -> Result<Self, ConfigError> {
        raw.try_into()
    }
    fn from_null() -> Result<Self, ConfigError> {
        Err(ConfigError::Invalid(
            "static_labels stage config cannot be empty",
        ))
    }
}

/// `labelallow: [names]` and `labeldrop: [names]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "Vec<String>")]
pub struct LabelListConfig {
    /// The label names.
    pub names: BTreeSet<String>,
}

impl TryFrom<Vec<String>> for LabelListConfig {
    type Error = ConfigError;
    fn try_from(names: Vec<String>) -> Result<Self, ConfigError> {
        if names.is_empty() {
            return Err(ConfigError::Invalid(
                "label list stage config cannot be empty",
            ));
        }
        Ok(Self {
            names: names.into_iter().collect(),
        })
    }
}

impl StageOptions for LabelListConfig {
    type Raw = Vec<String>;
    fn from_raw(raw: Vec<String>) -> Result<Self, ConfigError> {
        raw.try_into()
    }
    fn from_null() -> Result<Self, ConfigError> {
        Vec::new().try_into()
    }
}

/// Calls `set` for each configured name whose source is in the extracted
/// map and converts to a string (Promtail's `labels` rule; an empty string
/// is set too).
fn each_extracted(cfg: &LabelsConfig, e: &PipelineEntry, mut set: impl FnMut(&str, String)) {
    for (name, source) in &cfg.labels {
        if let Some(value) = e.extracted.get(source).and_then(get_string) {
            set(name, value.into_owned());
        }
    }
}

/// The `labels` stage.
#[derive(Debug)]
pub struct LabelsStage {
    cfg: LabelsConfig,
}

impl LabelsStage {
    /// The stage for `cfg`.
    pub fn new(cfg: LabelsConfig) -> Self {
        Self { cfg }
    }
}

impl Stage for LabelsStage {
    fn name(&self) -> &'static str {
        "labels"
    }

    fn process(&mut self, mut e: PipelineEntry, _now_ns: i64, out: &mut Vec<PipelineEntry>) {
        // `each_extracted`'s rule, written into the labels in place: a
        // label already there keeps its name's allocation.
        for (name, source) in &self.cfg.labels {
            let Some(value) = e.extracted.get(source).and_then(get_string) else {
                continue;
            };
            match e.entry.labels.get_mut(name) {
                Some(old) => {
                    old.clear();
                    old.push_str(&value);
                }
                None => {
                    e.entry.labels.insert(name.clone(), value.into_owned());
                }
            }
        }
        out.push(e);
    }
}

/// The `structured_metadata` stage, as later Promtail has it: the
/// configured extracted values become structured metadata, and a label of
/// the configured source name moves from the labels to the metadata.
#[derive(Debug)]
pub struct StructuredMetadataStage {
    cfg: LabelsConfig,
}

impl StructuredMetadataStage {
    /// The stage for `cfg`.
    pub fn new(cfg: LabelsConfig) -> Self {
        Self { cfg }
    }
}

impl Stage for StructuredMetadataStage {
    fn name(&self) -> &'static str {
        "structured_metadata"
    }

    fn process(&mut self, mut e: PipelineEntry, _now_ns: i64, out: &mut Vec<PipelineEntry>) {
        let mut set = Vec::new();
        each_extracted(&self.cfg, &e, |k, v| set.push((k.to_owned(), v)));
        e.entry.structured_metadata.extend(set);
        for (name, source) in &self.cfg.labels {
            if let Some(value) = e.entry.labels.remove(source) {
                e.entry.structured_metadata.insert(name.clone(), value);
            }
        }
        out.push(e);
    }
}

/// The `static_labels` stage.
#[derive(Debug)]
pub struct StaticLabelsStage {
    cfg: StaticLabelsConfig,
}

impl StaticLabelsStage {
    /// The stage for `cfg`.
    pub fn new(cfg: StaticLabelsConfig) -> Self {
        Self { cfg }
    }
}

impl Stage for StaticLabelsStage {
    fn name(&self) -> &'static str {
        "static_labels"
    }

    fn process(&mut self, mut e: PipelineEntry, _now_ns: i64, out: &mut Vec<PipelineEntry>) {
        for (k, v) in &self.cfg.labels {
            e.entry.labels.insert(k.clone(), v.clone());
        }
        out.push(e);
    }
}

/// The `labelallow` stage: labels not listed are removed.
#[derive(Debug)]
pub struct LabelAllowStage {
    cfg: LabelListConfig,
}

impl LabelAllowStage {
    /// The stage for `cfg`.
    pub fn new(cfg: LabelListConfig) -> Self {
        Self { cfg }
    }
}

impl Stage for LabelAllowStage {
    fn name(&self) -> &'static str {
        "labelallow"
    }

    fn process(&mut self, mut e: PipelineEntry, _now_ns: i64, out: &mut Vec<PipelineEntry>) {
        e.entry.labels.retain(|k, _| self.cfg.names.contains(k));
        out.push(e);
    }
}

/// The `labeldrop` stage: the listed labels are removed.
#[derive(Debug)]
pub struct LabelDropStage {
    cfg: LabelListConfig,
}

impl LabelDropStage {
    /// The stage for `cfg`.
    pub fn new(cfg: LabelListConfig) -> Self {
        Self { cfg }
    }
}

impl Stage for LabelDropStage {
    fn name(&self) -> &'static str {
        "labeldrop"
    }

    fn process(&mut self, mut e: PipelineEntry, _now_ns: i64, out: &mut Vec<PipelineEntry>) {
        for name in &self.cfg.names {
            e.entry.labels.remove(name);
        }
        out.push(e);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::testing::{entry, labels_of};
    use serde_json::{Value, json};

    fn run(
        stage: &mut dyn Stage,
        labels: &[(&str, &str)],
        extracted: &[(&str, Value)],
    ) -> Vec<(String, String)> {
        let mut e = entry("line");
        for (k, v) in labels {
            e.entry.labels.insert((*k).into(), (*v).into());
        }
        for (k, v) in extracted {
            e.extracted.insert((*k).into(), v.clone());
        }
        let mut out = Vec::new();
        stage.process(e, 0, &mut out);
        labels_of(&out[0])
    }

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect()
    }

    fn labels(cfg: &[(&str, &str)]) -> LabelsStage {
        LabelsStage::new(LabelsConfig::new(cfg).expect("valid"))
    }

    #[test]
    fn labels_map_same_named_and_renamed_fields() {
        let got = run(
            &mut labels(&[("level", "lvl"), ("app", "")]),
            &[],
            &[("lvl", json!("warn")), ("app", json!("api"))],
        );
        assert_eq!(got, pairs(&[("app", "api"), ("level", "warn")]));
    }

    #[test]
    fn labels_keep_empty_values() {
        assert_eq!(
            run(&mut labels(&[("e", "")]), &[], &[("e", json!(""))]),
            pairs(&[("e", "")])
        );
    }

    #[test]
    fn labels_skip_missing_and_null_and_stringify_numbers() {
        let got = run(
            &mut labels(&[("a", ""), ("n", ""), ("f", ""), ("b", "")]),
            &[],
            &[("n", Value::Null), ("f", json!(12.5)), ("b", json!(true))],
        );
        assert_eq!(got, pairs(&[("b", "true"), ("f", "12.5")]));
    }

    #[test]
    fn labels_overwrite_existing_ones() {
        assert_eq!(
            run(
                &mut labels(&[("job", "j")]),
                &[("job", "old")],
                &[("j", json!("new"))]
            ),
            pairs(&[("job", "new")])
        );
    }

    #[test]
    fn labels_reject_invalid_names() {
        assert_eq!(
            LabelsConfig::new(&[("bad-name", "")]).err(),
            Some(ConfigError::LabelName("bad-name".into()))
        );
    }

    #[test]
    fn static_labels_set_fixed_values_and_skip_empty_ones() {
        let raw: BTreeMap<String, Option<String>> = [
            ("env".to_owned(), Some("prod".to_owned())),
            ("none".to_owned(), None),
        ]
        .into_iter()
        .collect();
        let mut s = StaticLabelsStage::new(raw.try_into().expect("valid"));
        assert_eq!(
            run(&mut s, &[("env", "dev")], &[]),
            pairs(&[("env", "prod")])
        );
    }

    fn list(names: &[&str]) -> LabelListConfig {
        names
            .iter()
            .map(|n| (*n).to_owned())
            .collect::<Vec<_>>()
            .try_into()
            .expect("valid")
    }

    #[test]
    fn labelallow_keeps_only_the_listed() {
        let got = run(
            &mut LabelAllowStage::new(list(&["a", "c"])),
            &[("a", "1"), ("b", "2"), ("c", "3")],
            &[],
        );
        assert_eq!(got, pairs(&[("a", "1"), ("c", "3")]));
    }

    #[test]
    fn labeldrop_removes_the_listed() {
        let got = run(
            &mut LabelDropStage::new(list(&["a", "x"])),
            &[("a", "1"), ("b", "2")],
            &[],
        );
        assert_eq!(got, pairs(&[("b", "2")]));
    }

    #[test]
    fn empty_lists_are_errors() {
        assert!(LabelListConfig::try_from(Vec::new()).is_err());
    }

    #[test]
    fn structured_metadata_takes_fields_and_moves_labels() {
        let mut s = StructuredMetadataStage::new(
            LabelsConfig::new(&[("trace", ""), ("pod", "")]).expect("valid"),
        );
        let mut e = entry("x");
        e.extracted.insert("trace".into(), json!("abc"));
        e.entry.labels.insert("pod".into(), "p1".into());
        let mut out = Vec::new();
        s.process(e, 0, &mut out);
        let sm: Vec<_> = out[0]
            .entry
            .structured_metadata
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(sm, [("pod", "p1"), ("trace", "abc")]);
        assert!(out[0].entry.labels.is_empty());
    }
}
