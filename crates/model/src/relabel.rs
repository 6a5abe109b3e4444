//! Relabeling: the `relabel_configs`, `metric_relabel_configs` and
//! `write_relabel_configs` steps of prometheus.yml (and Promtail's
//! `relabel_configs`), with Prometheus' defaults, validation and semantics.
//!
//! One implementation for the metrics server and the log agent: both read
//! the steps from YAML ([`RelabelConfig`]), check them when the config
//! loads ([`RelabelConfig::validate`]) and run them over a label set
//! ([`process`]).

use std::fmt::Write as _;

use md5::{Digest, Md5};
use regex::Regex;
use serde::{Deserialize, Deserializer, de};

use crate::{Labels, is_valid_label_name};

/// A relabeling regex: anchored as `^(?:…)$` (without the `s` flag that
/// label matchers get), and kept with its source text for printing.
#[derive(Debug, Clone)]
pub struct RelabelRegex {
    source: String,
    compiled: Regex,
}

impl RelabelRegex {
    /// Compiles `source` anchored.
    pub fn new(source: &str) -> Result<Self, regex::Error> {
        Ok(Self {
            source: source.to_owned(),
            compiled: Regex::new(&format!("^(?:{source})$"))?,
        })
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// The anchored, compiled pattern.
    pub fn regex(&self) -> &Regex {
        &self.compiled
    }
}

impl Default for RelabelRegex {
    fn default() -> Self {
        Self::new("(.*)").expect("the default relabel regex compiles")
    }
}

impl PartialEq for RelabelRegex {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl<'de> Deserialize<'de> for RelabelRegex {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        RelabelRegex::new(&text)
            .map_err(|e| de::Error::custom(format!("invalid regex {text:?}: {e}")))
    }
}

/// Why a relabel step is refused when the config loads; the messages are
/// Prometheus'.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RelabelError {
    /// `hashmod` with `modulus: 0`.
    #[error("relabel configuration for hashmod requires non-zero modulus")]
    HashModWithoutModulus,
    /// An action that writes a label, with no `target_label`.
    #[error("relabel configuration for {action} action requires 'target_label' value")]
    MissingTargetLabel {
        /// The action as Prometheus names it.
        action: &'static str,
    },
    /// A `target_label` that is not a label name (nor a template, for
    /// `replace`).
    #[error("{target:?} is invalid 'target_label' for {action} action")]
    InvalidTargetLabel {
        /// The label as written.
        target: String,
        /// The action as Prometheus names it.
        action: &'static str,
    },
    /// A `labelmap` replacement that is neither a label name nor a template.
    #[error("{replacement:?} is invalid 'replacement' for {action} action")]
    InvalidReplacement {
        /// The replacement as written.
        replacement: String,
        /// The action as Prometheus names it.
        action: &'static str,
    },
    /// `labeldrop`/`labelkeep` with fields besides `regex`.
    #[error("{action} action requires only 'regex', and no other fields")]
    OnlyRegex {
        /// The action as Prometheus names it.
        action: &'static str,
    },
    /// `keepequal`/`dropequal` with fields besides the labels.
    #[error(
        "{action} action requires only 'source_labels' and `target_label`, and no other fields"
    )]
    OnlyLabels {
        /// The action as Prometheus names it.
        action: &'static str,
    },
}

/// What a relabel step does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Action {
    /// Set `target_label` to the expanded replacement when the regex matches.
    #[default]
    Replace,
    /// Drop the series unless the regex matches.
    Keep,
    /// Drop the series when the regex matches.
    Drop,
    /// Keep the series only when `target_label` equals the joined sources.
    KeepEqual,
    /// Drop the series when `target_label` equals the joined sources.
    DropEqual,
    /// Set `target_label` to the hash of the joined sources modulo `modulus`.
    HashMod,
    /// Copy labels whose names match to names made from the replacement.
    LabelMap,
    /// Remove labels whose names match.
    LabelDrop,
    /// Remove labels whose names do not match.
    LabelKeep,
    /// Set `target_label` to the joined sources in lower case.
    Lowercase,
    /// Set `target_label` to the joined sources in upper case.
    Uppercase,
}

impl Action {
    /// The action as Prometheus spells it (`labelmap`).
    pub fn name(self) -> &'static str {
        match self {
            Action::Replace => "replace",
            Action::Keep => "keep",
            Action::Drop => "drop",
            Action::KeepEqual => "keepequal",
            Action::DropEqual => "dropequal",
            Action::HashMod => "hashmod",
            Action::LabelMap => "labelmap",
            Action::LabelDrop => "labeldrop",
            Action::LabelKeep => "labelkeep",
            Action::Lowercase => "lowercase",
            Action::Uppercase => "uppercase",
        }
    }
}

impl<'de> Deserialize<'de> for Action {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        // Prometheus accepts any case.
        Ok(match text.to_ascii_lowercase().as_str() {
            "replace" => Action::Replace,
            "keep" => Action::Keep,
            "drop" => Action::Drop,
            "keepequal" => Action::KeepEqual,
            "dropequal" => Action::DropEqual,
            "hashmod" => Action::HashMod,
            "labelmap" => Action::LabelMap,
            "labeldrop" => Action::LabelDrop,
            "labelkeep" => Action::LabelKeep,
            "lowercase" => Action::Lowercase,
            "uppercase" => Action::Uppercase,
            _ => {
                return Err(serde::de::Error::custom(format!(
                    "unknown relabel action {text:?}"
                )));
            }
        })
    }
}

/// One relabel step as written in YAML.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RelabelConfig {
    /// Labels whose values are joined to form the input.
    pub source_labels: Vec<String>,
    /// Joins the source values (default `;`).
    pub separator: String,
    /// Matched against the joined input, anchored (default `(.*)`).
    pub regex: RelabelRegex,
    /// For `hashmod`.
    pub modulus: u64,
    /// The label written by replace, hashmod, lowercase, uppercase.
    pub target_label: String,
    /// Template with `$1`, `${name}` (default `$1`).
    pub replacement: String,
    /// What to do.
    pub action: Action,
}

impl Default for RelabelConfig {
    fn default() -> Self {
        Self {
            source_labels: Vec::new(),
            separator: ";".into(),
            regex: RelabelRegex::default(),
            modulus: 0,
            target_label: String::new(),
            replacement: "$1".into(),
            action: Action::Replace,
        }
    }
}

impl RelabelConfig {
    /// Checks the combination of fields the way Prometheus does when it
    /// loads a config.
    pub fn validate(&self) -> Result<(), RelabelError> {
        let action = self.action.name();
        if self.action == Action::HashMod && self.modulus == 0 {
            return Err(RelabelError::HashModWithoutModulus);
        }
        let needs_target = matches!(
            self.action,
            Action::Replace
                | Action::HashMod
                | Action::Lowercase
                | Action::Uppercase
                | Action::KeepEqual
                | Action::DropEqual
        );
        if needs_target && self.target_label.is_empty() {
            return Err(RelabelError::MissingTargetLabel { action });
        }
        let templated_target_ok = self.action == Action::Replace && self.target_label.contains('$');
        if needs_target && !templated_target_ok && !is_valid_label_name(&self.target_label) {
            return Err(RelabelError::InvalidTargetLabel {
                target: self.target_label.clone(),
                action,
            });
        }
        if self.action == Action::LabelMap
            && !self.replacement.contains('$')
            && !is_valid_label_name(&self.replacement)
        {
            return Err(RelabelError::InvalidReplacement {
                replacement: self.replacement.clone(),
                action,
            });
        }
        let defaults = RelabelConfig::default();
        if matches!(self.action, Action::LabelDrop | Action::LabelKeep)
            && (!self.source_labels.is_empty()
                || !self.target_label.is_empty()
                || self.modulus != defaults.modulus
                || self.separator != defaults.separator
                || self.replacement != defaults.replacement)
        {
            return Err(RelabelError::OnlyRegex { action });
        }
        if matches!(self.action, Action::KeepEqual | Action::DropEqual)
            && (self.regex != defaults.regex
                || self.modulus != defaults.modulus
                || self.replacement != defaults.replacement)
        {
            return Err(RelabelError::OnlyLabels { action });
        }
        Ok(())
    }
}

/// Runs `steps` over `labels`; `None` means the series (or target) is
/// dropped.
pub fn process(labels: &Labels, steps: &[RelabelConfig]) -> Option<Labels> {
    let mut labels = labels.clone();
    for step in steps {
        if !apply(&mut labels, step) {
            return None;
        }
    }
    Some(labels)
}

/// One step; returns false when it drops the series.
fn apply(labels: &mut Labels, step: &RelabelConfig) -> bool {
    let regex = step.regex.regex();
    let mut joined = String::new();
    for (i, name) in step.source_labels.iter().enumerate() {
        if i > 0 {
            joined.push_str(&step.separator);
        }
        joined.push_str(labels.get(name).unwrap_or(""));
    }
    match step.action {
        Action::Drop => return !regex.is_match(&joined),
        Action::Keep => return regex.is_match(&joined),
        Action::DropEqual => return labels.get(&step.target_label).unwrap_or("") != joined,
        Action::KeepEqual => return labels.get(&step.target_label).unwrap_or("") == joined,
        Action::Replace => {
            let Some(captures) = regex.captures(&joined) else {
                return true;
            };
            let mut target = String::new();
            captures.expand(&step.target_label, &mut target);
            if !is_valid_label_name(&target) {
                return true;
            }
            let mut value = String::new();
            captures.expand(&step.replacement, &mut value);
            set_or_delete(labels, target, value);
        }
        Action::Lowercase => {
            set_or_delete(labels, step.target_label.clone(), joined.to_lowercase())
        }
        Action::Uppercase => {
            set_or_delete(labels, step.target_label.clone(), joined.to_uppercase())
        }
        Action::HashMod => {
            let digest = Md5::digest(joined.as_bytes());
            let mut tail = [0u8; 8];
            tail.copy_from_slice(&digest[8..16]);
            let bucket = u64::from_be_bytes(tail) % step.modulus.max(1);
            let mut value = String::new();
            let _ = write!(value, "{bucket}");
            labels.set(step.target_label.clone(), value);
        }
        Action::LabelMap => {
            let mapped: Vec<(String, String)> = labels
                .iter()
                .filter(|l| regex.is_match(l.name))
                .map(|l| {
                    (
                        regex
                            .replace_all(l.name, step.replacement.as_str())
                            .into_owned(),
                        l.value.to_owned(),
                    )
                })
                .collect();
            for (name, value) in mapped {
                labels.set(name, value);
            }
        }
        Action::LabelDrop | Action::LabelKeep => {
            let keep_matching = step.action == Action::LabelKeep;
            let doomed: Vec<String> = labels
                .iter()
                .filter(|l| regex.is_match(l.name) != keep_matching)
                .map(|l| l.name.to_owned())
                .collect();
            for name in doomed {
                labels.remove(&name);
            }
        }
    }
    true
}

/// An empty value removes the label: empty and absent are the same thing.
fn set_or_delete(labels: &mut Labels, name: String, value: String) {
    if value.is_empty() {
        labels.remove(&name);
    } else {
        labels.set(name, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(yaml: &str) -> RelabelConfig {
        let step: RelabelConfig = yaml_serde::from_str(yaml).unwrap();
        step.validate().unwrap();
        step
    }

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        Labels::from_pairs(pairs.iter().copied())
    }

    fn check(yaml: &str, input: &[(&str, &str)], expected: Option<&[(&str, &str)]>) {
        let got = process(&labels(input), &[step(yaml)]);
        assert_eq!(got, expected.map(labels), "{yaml}");
    }

    #[test]
    fn replace() {
        check(
            "source_labels: [a, b]\nregex: (.*);(.*)\ntarget_label: c\nreplacement: ${2}-$1",
            &[("a", "x"), ("b", "y")],
            Some(&[("a", "x"), ("b", "y"), ("c", "y-x")]),
        );
        // No match: unchanged. Empty result: the target is deleted.
        check(
            "source_labels: [a]\nregex: z\ntarget_label: c",
            &[("a", "x")],
            Some(&[("a", "x")]),
        );
        check(
            "source_labels: [a]\nregex: (.*)\ntarget_label: b\nreplacement: ''",
            &[("a", "x"), ("b", "y")],
            Some(&[("a", "x")]),
        );
        // The default step copies nothing but can template the target name.
        check(
            "source_labels: [a]\nregex: (.*)\ntarget_label: l_$1",
            &[("a", "x")],
            Some(&[("a", "x"), ("l_x", "x")]),
        );
        // A templated target that is not a valid name is skipped.
        check(
            "source_labels: [a]\ntarget_label: $1",
            &[("a", "1x")],
            Some(&[("a", "1x")]),
        );
    }

    #[test]
    fn keep_and_drop() {
        check(
            "source_labels: [a]\nregex: x|y\naction: keep",
            &[("a", "x")],
            Some(&[("a", "x")]),
        );
        check(
            "source_labels: [a]\nregex: x|y\naction: keep",
            &[("a", "xy")],
            None,
        );
        check(
            "source_labels: [a]\nregex: x.*\naction: DROP",
            &[("a", "xy")],
            None,
        );
        // An absent source is the empty string.
        check(
            "source_labels: [missing]\nregex: ''\naction: drop",
            &[("a", "x")],
            None,
        );
    }

    #[test]
    fn keepequal_and_dropequal() {
        check(
            "source_labels: [a]\ntarget_label: b\naction: keepequal",
            &[("a", "1"), ("b", "1")],
            Some(&[("a", "1"), ("b", "1")]),
        );
        check(
            "source_labels: [a]\ntarget_label: b\naction: keepequal",
            &[("a", "1"), ("b", "2")],
            None,
        );
        check(
            "source_labels: [a]\ntarget_label: b\naction: dropequal",
            &[("a", "1"), ("b", "1")],
            None,
        );
    }

    #[test]
    fn hashmod_is_md5_based_and_stable() {
        let out = process(
            &labels(&[("a", "foo")]),
            &[step(
                "source_labels: [a]\nmodulus: 1000\ntarget_label: h\naction: hashmod",
            )],
        )
        .unwrap();
        let expected = {
            let digest = Md5::digest(b"foo");
            u64::from_be_bytes(digest[8..16].try_into().unwrap()) % 1000
        };
        assert_eq!(out.get("h"), Some(expected.to_string().as_str()));
    }

    #[test]
    fn labelmap_labeldrop_labelkeep() {
        check(
            "regex: __meta_(.+)\naction: labelmap",
            &[("__meta_zone", "eu"), ("a", "1")],
            Some(&[("__meta_zone", "eu"), ("a", "1"), ("zone", "eu")]),
        );
        check(
            "regex: tmp_.*\naction: labeldrop",
            &[("tmp_x", "1"), ("a", "1")],
            Some(&[("a", "1")]),
        );
        check(
            "regex: a|__name__\naction: labelkeep",
            &[("tmp_x", "1"), ("a", "1"), ("__name__", "m")],
            Some(&[("__name__", "m"), ("a", "1")]),
        );
    }

    #[test]
    fn case_changes() {
        check(
            "source_labels: [a]\ntarget_label: b\naction: lowercase",
            &[("a", "AbC")],
            Some(&[("a", "AbC"), ("b", "abc")]),
        );
        check(
            "source_labels: [a]\ntarget_label: b\naction: uppercase",
            &[("a", "AbC")],
            Some(&[("a", "AbC"), ("b", "ABC")]),
        );
    }

    #[test]
    fn validation_messages() {
        for (yaml, message) in [
            (
                "action: hashmod\ntarget_label: x",
                "requires non-zero modulus",
            ),
            ("action: replace", "requires 'target_label' value"),
            (
                "action: lowercase\ntarget_label: 1x",
                "is invalid 'target_label'",
            ),
            (
                "action: labeldrop\nsource_labels: [a]",
                "requires only 'regex'",
            ),
            (
                "action: keepequal\ntarget_label: b\nregex: x",
                "requires only 'source_labels'",
            ),
            (
                "action: labelmap\nreplacement: 1x",
                "is invalid 'replacement'",
            ),
        ] {
            let step: RelabelConfig = yaml_serde::from_str(yaml).unwrap();
            let error = step.validate().unwrap_err().to_string();
            assert!(error.contains(message), "{yaml}: {error}");
        }
        let error = yaml_serde::from_str::<RelabelConfig>("action: nope")
            .unwrap_err()
            .to_string();
        assert!(error.contains("unknown relabel action"), "{error}");
        let error = yaml_serde::from_str::<RelabelConfig>("regex: '('")
            .unwrap_err()
            .to_string();
        assert!(error.contains("invalid regex"), "{error}");
    }

    #[test]
    fn relabel_regexes_are_anchored_without_dotall() {
        let re = RelabelRegex::new("a.b").unwrap();
        assert!(re.regex().is_match("axb"));
        assert!(!re.regex().is_match("xaxb"));
        assert!(!re.regex().is_match("a\nb"));
        assert!(RelabelRegex::new("a|b").unwrap().regex().is_match("b"));
    }
}
