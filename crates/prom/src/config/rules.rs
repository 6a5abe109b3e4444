//! Rule files (`rule_files` in prometheus.yml): finding them, reading them
//! and checking them as Prometheus does (`model/rulefmt`), so that a bad
//! rule file fails the config at start and on reload. Evaluating the rules
//! is not done here.
//!
//! yaml_serde keeps no positions in its values, so a problem found after
//! decoding is located by decoding the file once more with a visitor that
//! fails on purpose at the node in question ([`locate`]): the error then
//! carries that node's line and column. This only runs when a file is
//! already known to be bad.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::ConfigError;
use super::template;
use model::duration::PromDuration;
use model::is_valid_label_name;

/// One file a `rule_files` pattern matched, with its groups.
#[derive(Debug, Clone)]
pub struct RuleFile {
    /// The file, joined to the config file's directory when relative.
    pub path: PathBuf,
    /// Its groups, in file order.
    pub groups: Vec<RuleGroup>,
}

/// Rules evaluated one after the other at one interval.
#[derive(Debug, Clone)]
pub struct RuleGroup {
    /// Unique within its file.
    pub name: String,
    /// Evaluation interval; `None` means the global `evaluation_interval`.
    pub interval: Option<PromDuration>,
    /// How far back evaluation looks; `None` means the global
    /// `rule_query_offset` (Prometheus 2.53+).
    pub query_offset: Option<PromDuration>,
    /// Most alerts or series a rule may produce; 0 or less is no limit.
    pub limit: i64,
    /// Labels added to every rule of the group (Prometheus 3).
    pub labels: BTreeMap<String, String>,
    /// The rules.
    pub rules: Vec<Rule>,
}

/// A recording or an alerting rule.
#[derive(Debug, Clone)]
pub enum Rule {
    /// `record:`.
    Recording(RecordingRule),
    /// `alert:`.
    Alerting(AlertingRule),
}

/// Stores the result of `expr` under a new metric name.
#[derive(Debug, Clone)]
pub struct RecordingRule {
    /// The metric name the result is stored under.
    pub record: String,
    /// A PromQL expression, known to parse.
    pub expr: String,
    /// Labels added or overwritten on the result.
    pub labels: BTreeMap<String, String>,
}

/// Fires an alert for every series `expr` returns.
#[derive(Debug, Clone)]
pub struct AlertingRule {
    /// The alert name.
    pub alert: String,
    /// A PromQL expression, known to parse.
    pub expr: String,
    /// How long an alert stays pending before it fires.
    pub for_: PromDuration,
    /// How long an alert keeps firing after its condition is gone.
    pub keep_firing_for: PromDuration,
    /// Labels of the alert (templates).
    pub labels: BTreeMap<String, String>,
    /// Annotations of the alert (templates).
    pub annotations: BTreeMap<String, String>,
}

/// Expands `patterns` as Prometheus' `filepath.Glob`, relative to `base`.
/// A pattern without `*` must name an existing file, as `promtool check
/// config` wants (the Prometheus server alone would skip it). An error
/// names the pattern, to be located in the config text.
pub(super) fn resolve(patterns: &[String], base: &Path) -> Result<Vec<PathBuf>, (String, String)> {
    let mut files = Vec::new();
    for pattern in patterns {
        let joined = base.join(pattern);
        let matched = go_glob(&joined.to_string_lossy()).map_err(|e| {
            (
                pattern.clone(),
                format!("rule file pattern {pattern:?}: {e}"),
            )
        })?;
        if matched.is_empty() && !pattern.contains('*') {
            return Err((
                pattern.clone(),
                format!("{:?} does not point to an existing file", joined.display()),
            ));
        }
        files.extend(matched);
    }
    Ok(files)
}

/// Whether a `rule_files` entry has Prometheus' shape: a `*` only in the
/// last path element (`^[^*]*(\*[^/]*)?$`).
pub(super) fn is_valid_pattern(pattern: &str) -> bool {
    pattern
        .find('*')
        .is_none_or(|star| !pattern[star..].contains('/'))
}

/// Go's `filepath.Glob` through the `glob` crate: `*` never crosses a `/`
/// and a run of them is one `*` (Go has no `**`), `[^…]` is `[!…]`, and a
/// backslash escapes the next character. Unreadable directories are
/// skipped, as Go does.
fn go_glob(pattern: &str) -> Result<Vec<PathBuf>, glob::PatternError> {
    let mut translated = String::with_capacity(pattern.len());
    let mut chars = pattern.chars().peekable();
    let mut in_class = false;
    while let Some(c) = chars.next() {
        match c {
            '*' if !in_class => {
                translated.push('*');
                while chars.peek() == Some(&'*') {
                    chars.next();
                }
            }
            '[' if !in_class => {
                in_class = true;
                translated.push('[');
                if chars.peek() == Some(&'^') {
                    chars.next();
                    translated.push('!');
                }
            }
            ']' if in_class => {
                in_class = false;
                translated.push(']');
            }
            '\\' if !in_class => match chars.next() {
                Some(escaped @ ('*' | '?' | '[' | ']')) => {
                    translated.push('[');
                    translated.push(escaped);
                    translated.push(']');
                }
                Some(other) => translated.push(other),
                None => translated.push('\\'),
            },
            _ => translated.push(c),
        }
    }
    let options = glob::MatchOptions {
        case_sensitive: true,
        require_literal_separator: true,
        require_literal_leading_dot: false,
    };
    Ok(glob::glob_with(&translated, options)?
        .filter_map(Result::ok)
        .collect())
}

/// Reads and checks every file, stopping at the first bad one.
pub(super) fn load(paths: Vec<PathBuf>) -> Result<Vec<RuleFile>, ConfigError> {
    paths
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).map_err(|e| ConfigError {
                path: path.clone(),
                location: None,
                message: e.to_string(),
            })?;
            let groups = parse(&text, &path)?;
            Ok(RuleFile { path, groups })
        })
        .collect()
}

/// Parses and checks the text of one rule file. When there are several
/// problems, the first is the error's own and the others follow it in the
/// message, one a line, each with its own location.
pub fn parse(text: &str, path: &Path) -> Result<Vec<RuleGroup>, ConfigError> {
    let raw: RawFile = match yaml_serde::from_str::<Option<RawFile>>(text) {
        Ok(raw) => raw.unwrap_or_default(),
        Err(e) => {
            return Err(ConfigError {
                path: path.to_owned(),
                location: e.location().map(|l| (l.line(), l.column())),
                message: super::strip_location(&e.to_string()),
            });
        }
    };
    let problems = validate(&raw);
    let Some((first, rest)) = problems.split_first() else {
        return Ok(raw.groups.into_iter().map(RawGroup::into_group).collect());
    };
    let error = |problem: &Problem| ConfigError {
        path: path.to_owned(),
        location: locate(text, &problem.at),
        message: problem.message.clone(),
    };
    let mut error_out = error(first);
    for problem in rest {
        error_out.message.push('\n');
        error_out.message.push_str(&error(problem).to_string());
    }
    Err(error_out)
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default, deserialize_with = "null_as_default")]
    groups: Vec<RawGroup>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGroup {
    #[serde(default, deserialize_with = "null_as_default")]
    name: String,
    #[serde(default)]
    interval: Option<PromDuration>,
    #[serde(default)]
    query_offset: Option<PromDuration>,
    #[serde(default, deserialize_with = "null_as_default")]
    limit: i64,
    #[serde(default, deserialize_with = "null_as_default")]
    labels: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "null_as_default")]
    rules: Vec<RawRule>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    #[serde(default, deserialize_with = "null_as_default")]
    record: String,
    #[serde(default, deserialize_with = "null_as_default")]
    alert: String,
    #[serde(default, deserialize_with = "null_as_default")]
    expr: String,
    #[serde(default, rename = "for")]
    for_: Option<PromDuration>,
    #[serde(default)]
    keep_firing_for: Option<PromDuration>,
    #[serde(default, deserialize_with = "null_as_default")]
    labels: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "null_as_default")]
    annotations: BTreeMap<String, String>,
}

/// Go's YAML decoder leaves a field at its zero value for `null`.
fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

impl RawGroup {
    fn into_group(self) -> RuleGroup {
        let rules = self
            .rules
            .into_iter()
            .map(|r| {
                if r.alert.is_empty() {
                    Rule::Recording(RecordingRule {
                        record: r.record,
                        expr: r.expr,
                        labels: r.labels,
                    })
                } else {
                    Rule::Alerting(AlertingRule {
                        alert: r.alert,
                        expr: r.expr,
                        for_: r.for_.unwrap_or_default(),
                        keep_firing_for: r.keep_firing_for.unwrap_or_default(),
                        labels: r.labels,
                        annotations: r.annotations,
                    })
                }
            })
            .collect();
        RuleGroup {
            name: self.name,
            interval: self.interval,
            query_offset: self.query_offset,
            limit: self.limit,
            labels: self.labels,
            rules,
        }
    }
}

/// A step on the way from the document's root to a node.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Key(String),
    Index(usize),
}

/// A problem and the node it is about.
#[derive(Debug)]
struct Problem {
    at: Vec<Step>,
    message: String,
}

/// Prometheus' checks (`RuleGroups.Validate` and `RuleNode.Validate`), in
/// its order and with its messages.
fn validate(file: &RawFile) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut seen = HashSet::new();
    for (j, group) in file.groups.iter().enumerate() {
        let group_at = vec![Step::Key("groups".into()), Step::Index(j)];
        if group.name.is_empty() {
            problems.push(Problem {
                at: group_at.clone(),
                message: "Groupname must not be empty".into(),
            });
        }
        if !seen.insert(group.name.as_str()) {
            problems.push(Problem {
                at: group_at.clone(),
                message: format!("groupname: {:?} is repeated in the same file", group.name),
            });
        }
        for name in group.labels.keys() {
            if !is_valid_label_name(name) || name == "__name__" {
                problems.push(Problem {
                    at: at(
                        &group_at,
                        &[Step::Key("labels".into()), Step::Key(name.clone())],
                    ),
                    message: format!("invalid label name: {name}"),
                });
            }
        }
        for (i, rule) in group.rules.iter().enumerate() {
            let rule_at = at(&group_at, &[Step::Key("rules".into()), Step::Index(i)]);
            let name = if rule.alert.is_empty() {
                &rule.record
            } else {
                &rule.alert
            };
            for (step, message) in validate_rule(rule) {
                problems.push(Problem {
                    at: at(&rule_at, &step),
                    message: format!(
                        "group {:?}, rule {}, {name:?}: {message}",
                        group.name,
                        i + 1
                    ),
                });
            }
        }
    }
    problems
}

fn at(base: &[Step], more: &[Step]) -> Vec<Step> {
    base.iter().chain(more).cloned().collect()
}

/// One rule's problems, each with the path from the rule to its node.
fn validate_rule(rule: &RawRule) -> Vec<(Vec<Step>, String)> {
    let key = |k: &str| vec![Step::Key(k.into())];
    let mut problems = Vec::new();
    if !rule.record.is_empty() && !rule.alert.is_empty() {
        problems.push((
            key("record"),
            "only one of 'record' and 'alert' must be set".into(),
        ));
    }
    if rule.record.is_empty() && rule.alert.is_empty() {
        problems.push((
            key("record"),
            "one of 'record' or 'alert' must be set".into(),
        ));
    }
    if rule.expr.is_empty() {
        problems.push((key("expr"), "field 'expr' must be set in rule".into()));
    } else if let Err(e) = promql_parser::parser::parse(&rule.expr) {
        problems.push((key("expr"), format!("could not parse expression: {e}")));
    }
    if !rule.record.is_empty() {
        let nonzero = |d: Option<PromDuration>| d.is_some_and(|d| !d.0.is_zero());
        if !rule.annotations.is_empty() {
            problems.push((
                key("record"),
                "invalid field 'annotations' in recording rule".into(),
            ));
        }
        if nonzero(rule.for_) {
            problems.push((
                key("record"),
                "invalid field 'for' in recording rule".into(),
            ));
        }
        if nonzero(rule.keep_firing_for) {
            problems.push((
                key("record"),
                "invalid field 'keep_firing_for' in recording rule".into(),
            ));
        }
        // The classic character set: Prometheus 2.42's, and what 3.x asks
        // under `metric_name_validation_scheme: legacy`.
        if !model::is_valid_metric_name(&rule.record) {
            problems.push((
                key("record"),
                format!("invalid recording rule name: {}", rule.record),
            ));
        }
    }
    for name in rule.labels.keys() {
        if !is_valid_label_name(name) || name == "__name__" {
            problems.push((
                vec![Step::Key("labels".into()), Step::Key(name.clone())],
                format!("invalid label name: {name}"),
            ));
        }
    }
    for name in rule.annotations.keys() {
        if !is_valid_label_name(name) {
            problems.push((
                vec![Step::Key("annotations".into()), Step::Key(name.clone())],
                format!("invalid annotation name: {name}"),
            ));
        }
    }
    if !rule.alert.is_empty() {
        let template_name = format!("__alert_{}", rule.alert);
        for (section, kind, map) in [
            ("labels", "label", &rule.labels),
            ("annotations", "annotation", &rule.annotations),
        ] {
            for (name, value) in map {
                if let Err(e) = template::check(value, &template_name) {
                    problems.push((
                        vec![Step::Key(section.into()), Step::Key(name.clone())],
                        format!("{kind} {name:?}: {e}"),
                    ));
                }
            }
        }
    }
    problems
}

/// The error [`Locate`] raises on arriving; no YAML error says this.
const ARRIVED: &str = "\u{0}arrived";

/// The 1-based line and column of the node at `path`, or of its nearest
/// ancestor that is there (a rule without `record:` is located at the
/// rule).
fn locate(text: &str, path: &[Step]) -> Option<(usize, usize)> {
    (0..=path.len())
        .rev()
        .find_map(|len| locate_exactly(text, &path[..len]))
}

/// Decodes `text` again, failing on purpose at the node at `path`.
fn locate_exactly(text: &str, path: &[Step]) -> Option<(usize, usize)> {
    let error = Locate(path)
        .deserialize(yaml_serde::Deserializer::from_str(text))
        .err()?;
    if !error.to_string().contains(ARRIVED) {
        return None;
    }
    error.location().map(|l| (l.line(), l.column()))
}

/// Walks `path`, skipping everything beside it; a mapping key is compared
/// as text. `Ok` means the node is not there.
struct Locate<'a>(&'a [Step]);

impl<'de> DeserializeSeed<'de> for Locate<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        match self.0.first() {
            None => deserializer.deserialize_any(Arrived),
            Some(Step::Key(_)) => deserializer.deserialize_map(self),
            Some(Step::Index(_)) => deserializer.deserialize_seq(self),
        }
    }
}

impl<'de> Visitor<'de> for Locate<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a mapping or a sequence")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let (Some(Step::Key(want)), rest) = (self.0.first(), &self.0[1..]) else {
            return Ok(());
        };
        while let Some(key) = map.next_key::<String>()? {
            if key == *want {
                map.next_value_seed(Locate(rest))?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let (Some(Step::Index(want)), rest) = (self.0.first(), &self.0[1..]) else {
            return Ok(());
        };
        let mut index = 0;
        loop {
            let more = if index == *want {
                seq.next_element_seed(Locate(rest))?.is_some()
            } else {
                seq.next_element::<IgnoredAny>()?.is_some()
            };
            if !more {
                return Ok(());
            }
            index += 1;
        }
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
}

/// Fails with [`ARRIVED`] on any node; yaml_serde adds the node's position.
struct Arrived;

impl<'de> Visitor<'de> for Arrived {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("anything")
    }

    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        Err(de::Error::custom(ARRIVED))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        Err(de::Error::custom(ARRIVED))
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Err(E::custom(ARRIVED))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Err(E::custom(ARRIVED))
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Err(E::custom(ARRIVED))
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Err(E::custom(ARRIVED))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Err(E::custom(ARRIVED))
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Err(E::custom(ARRIVED))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error_of(text: &str) -> String {
        parse(text, Path::new("rules.yml")).unwrap_err().to_string()
    }

    fn check(text: &str, expected: &str) {
        assert_eq!(error_of(text), expected);
    }

    #[test]
    fn a_valid_file_gives_typed_rules() {
        let groups = parse(
            "groups:\n  - name: g\n    interval: 30s\n    limit: 5\n    rules:\n      - record: job:up:sum\n        expr: sum by (job) (up)\n      - alert: Down\n        expr: up == 0\n        for: 5m\n        labels:\n          severity: page\n        annotations:\n          summary: '{{ $labels.instance }} is down ({{ $value | humanize }})'\n",
            Path::new("r.yml"),
        )
        .unwrap();
        assert_eq!(groups.len(), 1);
        let group = &groups[0];
        assert_eq!(group.name, "g");
        assert_eq!(group.interval.unwrap().to_string(), "30s");
        assert_eq!(group.limit, 5);
        let Rule::Recording(record) = &group.rules[0] else {
            panic!("{:?}", group.rules[0])
        };
        assert_eq!(record.record, "job:up:sum");
        let Rule::Alerting(alert) = &group.rules[1] else {
            panic!("{:?}", group.rules[1])
        };
        assert_eq!(alert.for_.to_string(), "5m");
        assert_eq!(alert.labels["severity"], "page");
    }

    #[test]
    fn empty_files_and_empty_groups_are_valid() {
        for text in ["", "# nothing\n", "groups:\n", "groups: []\n"] {
            assert!(
                parse(text, Path::new("r.yml")).unwrap().is_empty(),
                "{text:?}"
            );
        }
        let groups = parse("groups:\n  - name: g\n", Path::new("r.yml")).unwrap();
        assert!(groups[0].rules.is_empty());
    }

    #[test]
    fn unknown_fields_are_errors_at_their_line() {
        let message = error_of(
            "groups:\n  - name: g\n    rules:\n      - record: a\n        expr: up\n        bogus: 1\n",
        );
        assert!(message.starts_with("rules.yml:6:9: "), "{message}");
        assert!(message.contains("unknown field `bogus`"), "{message}");
        let message = error_of("group:\n  - name: g\n");
        assert!(message.starts_with("rules.yml:1:1: "), "{message}");
        assert!(message.contains("unknown field `group`"), "{message}");
    }

    #[test]
    fn both_record_and_alert() {
        check(
            "groups:\n  - name: g\n    rules:\n      - record: a\n        alert: X\n        expr: up\n",
            "rules.yml:4:17: group \"g\", rule 1, \"X\": only one of 'record' and 'alert' must be set",
        );
    }

    #[test]
    fn neither_record_nor_alert_and_no_expr() {
        check(
            "groups:\n  - name: g\n    rules:\n      - labels: {a: b}\n",
            "rules.yml:4:9: group \"g\", rule 1, \"\": one of 'record' or 'alert' must be set\nrules.yml:4:9: group \"g\", rule 1, \"\": field 'expr' must be set in rule",
        );
    }

    #[test]
    fn bad_promql_is_located_at_the_expression() {
        let message = error_of(
            "groups:\n  - name: g\n    rules:\n      - record: a\n        expr: sum by (job) (up\n",
        );
        assert!(
            message.starts_with(
                "rules.yml:5:15: group \"g\", rule 1, \"a\": could not parse expression: "
            ),
            "{message}"
        );
    }

    #[test]
    fn group_names_are_required_and_unique() {
        check(
            "groups:\n  - name: g\n    rules: []\n  - name: g\n  - rules: []\n",
            "rules.yml:4:5: groupname: \"g\" is repeated in the same file\nrules.yml:5:5: Groupname must not be empty",
        );
    }

    #[test]
    fn recording_rules_take_no_alert_fields_and_a_metric_name() {
        check(
            "groups:\n  - name: g\n    rules:\n      - record: bad-name\n        expr: up\n        for: 1m\n        annotations:\n          a: b\n",
            "rules.yml:4:17: group \"g\", rule 1, \"bad-name\": invalid field 'annotations' in recording rule\nrules.yml:4:17: group \"g\", rule 1, \"bad-name\": invalid field 'for' in recording rule\nrules.yml:4:17: group \"g\", rule 1, \"bad-name\": invalid recording rule name: bad-name",
        );
        // A zero `for` is no `for`, as in Go.
        assert!(
            parse(
                "groups:\n  - name: g\n    rules:\n      - record: a\n        expr: up\n        for: 0s\n",
                Path::new("r.yml")
            )
            .is_ok()
        );
    }

    #[test]
    fn label_and_annotation_names() {
        check(
            "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up\n        labels:\n          __name__: x\n          ok: y\n        annotations:\n          bad-name: z\n",
            "rules.yml:7:21: group \"g\", rule 1, \"A\": invalid label name: __name__\nrules.yml:10:21: group \"g\", rule 1, \"A\": invalid annotation name: bad-name",
        );
    }

    #[test]
    fn alert_templates_must_parse() {
        check(
            "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up\n        annotations:\n          a: '{{ if .Labels }}'\n          b: '{{ $nope }}'\n",
            "rules.yml:7:14: group \"g\", rule 1, \"A\": annotation \"a\": template: __alert_A:1: unexpected EOF\nrules.yml:8:14: group \"g\", rule 1, \"A\": annotation \"b\": template: __alert_A:1: undefined variable \"$nope\"",
        );
        // Recording rules' labels are not templates.
        assert!(
            parse(
                "groups:\n  - name: g\n    rules:\n      - record: a\n        expr: up\n        labels:\n          x: '{{'\n",
                Path::new("r.yml")
            )
            .is_ok()
        );
    }

    #[test]
    fn flow_style_nodes_are_located_too() {
        check(
            "groups: [{name: g, rules: [{record: a, alert: B, expr: up}]}]\n",
            "rules.yml:1:37: group \"g\", rule 1, \"B\": only one of 'record' and 'alert' must be set",
        );
    }

    #[test]
    fn rule_file_patterns() {
        for ok in ["a.yml", "rules/*.yml", "/etc/rules/x*y*.yml", "r/**.yml"] {
            assert!(is_valid_pattern(ok), "{ok}");
        }
        for bad in ["*/a.yml", "rules/*/a.yml"] {
            assert!(!is_valid_pattern(bad), "{bad}");
        }
    }

    #[test]
    fn globs_follow_go() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["a.yml", "b.yml", ".hidden.yml", "c.yaml"] {
            std::fs::write(dir.path().join(name), "").unwrap();
        }
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("sub/d.yml"), "").unwrap();
        let names = |patterns: &[&str]| -> Result<Vec<String>, String> {
            let patterns: Vec<String> = patterns.iter().map(|p| p.to_string()).collect();
            resolve(&patterns, dir.path())
                .map(|files| {
                    files
                        .iter()
                        .map(|f| f.strip_prefix(dir.path()).unwrap().display().to_string())
                        .collect()
                })
                .map_err(|(_, message)| message)
        };
        assert_eq!(
            names(&["*.yml"]).unwrap(),
            [".hidden.yml", "a.yml", "b.yml"]
        );
        assert_eq!(
            names(&["**.yml"]).unwrap(),
            [".hidden.yml", "a.yml", "b.yml"]
        );
        assert_eq!(names(&["[^a].yml"]).unwrap(), ["b.yml"]);
        assert_eq!(names(&["nothing*.yml", "c.yaml"]).unwrap(), ["c.yaml"]);
        let missing = names(&["missing.yml"]).unwrap_err();
        assert!(
            missing.ends_with("missing.yml\" does not point to an existing file"),
            "{missing}"
        );
        assert!(names(&["[.yml"]).is_err());
    }
}
