//! The `match` stage: entries whose labels (and line) a LogQL selector
//! matches go through nested stages, or are dropped; the others pass on
//! unchanged.

use std::sync::Arc;

use instrument::{Counter, Family};
use model::Matcher;
use serde::Deserialize;

use super::config::{ConfigError, StageOptions};
use super::weak;
use super::{Pipeline, PipelineEntry, PipelineError, Stage, StageConfig, StageContext};

const DEFAULT_REASON: &str = "match_stage";

/// The `match` stage's options as written, keys as Promtail's.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct RawMatchConfig {
    /// A stream selector, optionally followed by line filters.
    #[serde(default)]
    selector: String,
    /// Names the nested pipeline (`<job>_<name>`); may be left out but not
    /// empty.
    #[serde(default)]
    pipeline_name: Option<String>,
    /// The nested stages, for `action: keep`.
    #[serde(default)]
    stages: Option<Vec<StageConfig>>,
    /// `keep` (the default) or `drop`.
    #[serde(default)]
    action: String,
    /// The `reason` label of the drop counter; `match_stage` by default.
    #[serde(default, deserialize_with = "weak::opt_string")]
    drop_counter_reason: Option<String>,
}

/// Why a `match` config is refused; messages are Promtail's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MatchError {
    /// `pipeline_name: ""`.
    #[error("match stage pipeline name can be omitted but cannot be an empty string")]
    PipelineName,
    /// No selector.
    #[error("selector statement required for match stage")]
    SelectorRequired,
    /// `keep` without stages.
    #[error("match stage requires at least one additional stage to be defined in '- stages'")]
    RequiresStages,
    /// `drop` with stages.
    #[error("match stage configured to drop entries cannot contains stages")]
    StagesWithDrop,
    /// An action other than `keep`/`drop`.
    #[error("match stage action should be 'keep' or 'drop'")]
    Action,
    /// The selector does not parse, or has more than line filters.
    #[error("invalid selector syntax for match stage: {0}")]
    Selector(String),
}

/// What happens to matching entries.
#[derive(Debug, Clone)]
enum Action {
    /// They go through these stages, in a pipeline named so.
    Keep {
        pipeline_name: Option<String>,
        stages: Vec<StageConfig>,
    },
    /// They are dropped and counted under this reason.
    Drop { reason: String },
}

/// The `match` stage's checked options.
#[derive(Debug, Clone)]
pub struct MatchConfig {
    matchers: Vec<Matcher>,
    /// The selector's line filters, compiled (only line filters, so they
    /// all run as the pipeline's prefilter).
    filters: Arc<logql::pipeline::Pipeline>,
    action: Action,
}

impl MatchConfig {
    /// Checks `cfg` as Promtail does.
    pub(crate) fn new(cfg: RawMatchConfig) -> Result<Self, MatchError> {
        if cfg.pipeline_name.as_deref() == Some("") {
            return Err(MatchError::PipelineName);
        }
        if cfg.selector.is_empty() {
            return Err(MatchError::SelectorRequired);
        }
        let stages = cfg.stages.unwrap_or_default();
        let action = match cfg.action.as_str() {
            "" | "keep" if stages.is_empty() => return Err(MatchError::RequiresStages),
            "" | "keep" => Action::Keep {
                pipeline_name: cfg.pipeline_name,
                stages,
            },
            "drop" if !stages.is_empty() => return Err(MatchError::StagesWithDrop),
            "drop" => Action::Drop {
                reason: match cfg.drop_counter_reason.as_deref() {
                    None | Some("") => DEFAULT_REASON.to_owned(),
                    Some(r) => r.to_owned(),
                },
            },
            _ => return Err(MatchError::Action),
        };
        let expr = parse_selector(&cfg.selector).map_err(MatchError::Selector)?;
        // Promtail's selector grammar has line filters and nothing else.
        if expr
            .stages
            .iter()
            .any(|s| !matches!(s, logql::ast::Stage::LineFilter(_)))
        {
            return Err(MatchError::Selector(
                "only line filters may follow the selector".to_owned(),
            ));
        }
        let filters = logql::eval::compile_pipeline(&expr.stages)
            .map_err(|e| MatchError::Selector(e.to_string()))?;
        Ok(Self {
            matchers: expr.matchers,
            filters: Arc::new(filters),
            action,
        })
    }
}

/// A matcher name no selector uses, standing in while a selector is parsed.
const PLACEHOLDER: &str = "__vigil_match_placeholder__";

/// Parses a selector and its line filters with LogQL's parser. Promtail's
/// own selector grammar has no rule against selectors every stream
/// matches (`{app!="x"}`), which LogQL queries refuse; such a selector is
/// parsed again with a placeholder matcher, then without it.
fn parse_selector(text: &str) -> Result<logql::ast::LogExpr, String> {
    match logql::parse_log_expr(text) {
        Ok(expr) => Ok(expr),
        Err(e)
            if e.to_string()
                .contains(logql::parser::EMPTY_SELECTOR_MESSAGE) =>
        {
            let patched = text.replacen('{', &format!("{{{PLACEHOLDER}=\"x\", "), 1);
            let mut expr = logql::parse_log_expr(&patched).map_err(|_| e.to_string())?;
            expr.matchers.retain(|m| m.name != PLACEHOLDER);
            Ok(expr)
        }
        Err(e) => Err(e.to_string()),
    }
}

impl StageOptions for MatchConfig {
    type Raw = RawMatchConfig;
    fn from_raw(raw: RawMatchConfig) -> Result<Self, ConfigError> {
        Ok(Self::new(raw)?)
    }
    fn from_null() -> Result<Self, ConfigError> {
        Self::from_raw(RawMatchConfig::default())
    }
}

/// What the built stage does with matching entries.
enum Built {
    Keep(Pipeline),
    Drop {
        reason: String,
        dropped: Arc<Family<Counter>>,
    },
}

/// The `match` stage.
pub struct MatchStage {
    matchers: Vec<Matcher>,
    filters: Arc<logql::pipeline::Pipeline>,
    action: Built,
}

impl MatchStage {
    /// Builds the stage and its nested pipeline; the nested stages see the
    /// job as `<job>_<pipeline_name>` when a name is given.
    pub fn new(cfg: &MatchConfig, ctx: &StageContext) -> Result<Self, PipelineError> {
        let action = match &cfg.action {
            Action::Keep {
                pipeline_name,
                stages,
            } => {
                let ctx = match pipeline_name {
                    Some(name) => ctx.for_job(&format!("{}_{name}", ctx.job_name)),
                    None => ctx.clone(),
                };
                Built::Keep(Pipeline::new(stages, &ctx)?)
            }
            Action::Drop { reason } => Built::Drop {
                reason: reason.clone(),
                dropped: ctx.dropped.clone(),
            },
        };
        Ok(Self {
            matchers: cfg.matchers.clone(),
            filters: cfg.filters.clone(),
            action,
        })
    }

    /// Whether the selector matches the entry's labels as they are now
    /// (a missing label is the empty string) and its line.
    fn matches(&self, e: &PipelineEntry) -> bool {
        self.matchers.iter().all(|m| {
            m.matches(
                e.entry
                    .labels
                    .get(&m.name)
                    .map(String::as_str)
                    .unwrap_or(""),
            )
        }) && self.filters.prefilter(e.entry.line.as_bytes())
    }
}

impl Stage for MatchStage {
    fn name(&self) -> &'static str {
        "match"
    }

    fn process(&mut self, entry: PipelineEntry, now_ns: i64, out: &mut Vec<PipelineEntry>) {
        if !self.matches(&entry) {
            out.push(entry);
            return;
        }
        match &mut self.action {
            Built::Keep(pipeline) => Stage::process(pipeline, entry, now_ns, out),
            Built::Drop { reason, dropped } => dropped.with_labels(&[reason.as_str()]).inc(),
        }
    }

    fn tick(&mut self, now_ns: i64, out: &mut Vec<PipelineEntry>) {
        if let Built::Keep(pipeline) = &mut self.action {
            Stage::tick(pipeline, now_ns, out);
        }
    }

    fn drain(&mut self, out: &mut Vec<PipelineEntry>) {
        if let Built::Keep(pipeline) = &mut self.action {
            Stage::drain(pipeline, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::Entry;
    use instrument::Registry;

    fn context() -> StageContext {
        StageContext::new("job", Arc::new(Registry::new())).unwrap()
    }

    fn parse(yaml: &str) -> Result<Vec<StageConfig>, String> {
        yaml_serde::from_str(yaml).map_err(|e| e.to_string())
    }

    /// Runs lines with labels `{level=<first word>}` through the stages of
    /// `yaml` and returns `(labels, line)` of what comes out.
    fn run(yaml: &str, lines: &[&str]) -> Vec<(String, String)> {
        let ctx = context();
        let mut pipeline = Pipeline::new(&parse(yaml).unwrap(), &ctx).unwrap();
        let mut out = Vec::new();
        for line in lines {
            let mut e = Entry {
                line: (*line).to_owned(),
                ..Entry::default()
            };
            let level = line.split(' ').next().unwrap_or_default();
            e.labels.insert("level".into(), level.into());
            pipeline.process(e, 0, &mut out);
        }
        pipeline.drain(&mut out);
        out.into_iter()
            .map(|e| {
                let labels: Vec<String> =
                    e.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
                (labels.join(","), e.line)
            })
            .collect()
    }

    fn pairs(rows: &[(&str, &str)]) -> Vec<(String, String)> {
        rows.iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect()
    }

    #[test]
    fn config_errors_are_promtails() {
        for (yaml, want) in [
            ("- match: {}", "selector statement required"),
            ("- match:", "selector statement required"),
            (
                "- match: {selector: '{a=\"b\"}', pipeline_name: '', action: drop}",
                "pipeline name can be omitted but cannot be an empty string",
            ),
            (
                "- match: {selector: '{a=\"b\"}'}",
                "requires at least one additional stage",
            ),
            (
                "- match: {selector: '{a=\"b\"}', action: drop, stages: [{static_labels: {x: y}}]}",
                "cannot contains stages",
            ),
            (
                "- match: {selector: '{a=\"b\"}', action: skip}",
                "should be 'keep' or 'drop'",
            ),
            (
                "- match: {selector: 'a=\"b\"', action: drop}",
                "invalid selector syntax",
            ),
            (
                "- match: {selector: '{}', action: drop}",
                "invalid selector syntax",
            ),
            (
                "- match: {selector: '{a=\"b\"} | json', action: drop}",
                "invalid selector syntax",
            ),
            (
                "- match: {selector: '{a=\"b\"} |~ \"(\"', action: drop}",
                "invalid selector syntax",
            ),
            (
                "- match: {selector: '{a=\"b\"}', stages: [{regex: {}}]}",
                "expression is required",
            ),
        ] {
            let err = parse(yaml).err().unwrap_or_default();
            assert!(err.contains(want), "{yaml}: {err}");
        }
    }

    #[test]
    fn keep_runs_the_nested_stages_on_matching_entries() {
        let got = run(
            "- match: {selector: '{level=\"error\"}', stages: [{static_labels: {hit: yes}}]}",
            &["error a", "info b"],
        );
        assert_eq!(
            got,
            pairs(&[("hit=yes,level=error", "error a"), ("level=info", "info b")])
        );
    }

    #[test]
    fn line_filters_narrow_the_match() {
        for (selector, want) in [
            ("{level=~\".+\"} |= \"db\"", [true, false, false]),
            ("{level=~\".+\"} != \"db\"", [false, true, true]),
            ("{level=~\".+\"} |~ \"d[b]|cache\"", [true, true, false]),
            ("{level=~\".+\"} !~ \"error|info\"", [false, false, true]),
            ("{level=\"error\"} |= \"x\" |= \"db\"", [true, false, false]),
        ] {
            let yaml = format!(
                "- match: {{selector: '{selector}', stages: [{{static_labels: {{hit: y}}}}]}}"
            );
            let got = run(&yaml, &["error db x", "error cache", "warn z"]);
            let hit: Vec<bool> = got.iter().map(|(l, _)| l.contains("hit=y")).collect();
            assert_eq!(hit, want, "{selector}");
        }
    }

    #[test]
    fn selectors_every_stream_matches_are_promtails_too() {
        let got = run(
            "- match: {selector: '{app!=\"x\"} |= \"b\"', action: drop}",
            &["info a", "warn b"],
        );
        assert_eq!(got, pairs(&[("level=info", "info a")]));
        let got = run(
            "- match: {selector: '{level=~\".*\"}', action: drop}",
            &["info a"],
        );
        assert!(got.is_empty());
    }

    #[test]
    fn a_missing_label_matches_as_empty() {
        let got = run(
            "- match: {selector: '{app=\"\", level=\"info\"}', action: drop}",
            &["info a", "warn b"],
        );
        assert_eq!(got, pairs(&[("level=warn", "warn b")]));
    }

    #[test]
    fn drop_counts_under_the_reason() {
        for (yaml, reason) in [
            (
                "- match: {selector: '{level=\"debug\"}', action: drop}",
                "match_stage",
            ),
            (
                "- match: {selector: '{level=\"debug\"}', action: drop, drop_counter_reason: dbg}",
                "dbg",
            ),
        ] {
            let ctx = context();
            let mut pipeline = Pipeline::new(&parse(yaml).unwrap(), &ctx).unwrap();
            let mut out = Vec::new();
            for line in ["debug 1", "info 2", "debug 3"] {
                let mut e = Entry {
                    line: line.to_owned(),
                    ..Entry::default()
                };
                e.labels
                    .insert("level".into(), line.split(' ').next().unwrap_or("").into());
                pipeline.process(e, 0, &mut out);
            }
            assert_eq!(out.len(), 1);
            assert_eq!(ctx.dropped.with_labels(&[reason]).get(), 2.0, "{yaml}");
        }
    }

    #[test]
    fn later_selectors_see_what_earlier_stages_changed() {
        let got = run(
            "
- match:
    selector: '{level=\"error\"}'
    stages:
    - static_labels: {level: handled}
- match:
    selector: '{level=\"handled\"}'
    stages:
    - static_labels: {second: yes}
",
            &["error a"],
        );
        assert_eq!(got, pairs(&[("level=handled,second=yes", "error a")]));
    }

    #[test]
    fn nested_matches_and_held_entries_are_released() {
        let got = run(
            "
- match:
    selector: '{level=~\".+\"}'
    stages:
    - multiline: {firstline: '^\\w+ start'}
    - match:
        selector: '{level=\"error\"}'
        stages:
        - static_labels: {inner: yes}
",
            &["error start", "error more", "info start"],
        );
        assert_eq!(
            got,
            pairs(&[
                ("inner=yes,level=error", "error start\nerror more"),
                ("level=info", "info start")
            ])
        );
    }
}
