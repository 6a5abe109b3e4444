//! Promtail's pipeline: stages run in order over each entry and the map of
//! values extracted from it.
//!
//! Semantics follow Promtail 2.8: the extracted map starts with the
//! entry's labels and carries over from stage to stage; parsing stages add
//! to it, transform stages read it to change the labels, the timestamp or
//! the line, filtering stages drop entries. A stage may hold entries back
//! (`multiline`) and release them on a later entry or on [`Stage::tick`].
//!
//! The shape every stage has:
//!
//! ```
//! use agent::entry::Entry;
//! use agent::pipeline::{Pipeline, PipelineEntry, Stage};
//!
//! /// Upper-cases the line.
//! struct Shout;
//! impl Stage for Shout {
//!     fn name(&self) -> &'static str {
//!         "shout"
//!     }
//!     fn process(&mut self, mut e: PipelineEntry, _now_ns: i64, out: &mut Vec<PipelineEntry>) {
//!         e.entry.line = e.entry.line.to_uppercase();
//!         out.push(e);
//!     }
//! }
//!
//! let mut pipeline = Pipeline::from_stages(vec![Box::new(Shout)]);
//! let mut out = Vec::new();
//! pipeline.process(Entry { line: "hello".into(), ..Entry::default() }, 0, &mut out);
//! assert_eq!(out[0].line, "HELLO");
//! ```

use std::collections::BTreeMap;
use std::sync::Arc;

use instrument::{Counter, Family, Registry, RegistryError};

use crate::entry::Entry;

mod config;
mod decolorize;
mod dry_run;
mod inspect;
mod json;
mod labels;
mod logfmt;
mod output;
mod pack;
mod regex;
mod replace;
mod template;
mod tenant;
mod timestamp;
mod value;

mod cri;
mod docker;
mod drop;
mod limit;
mod match_stage;
mod metrics;
mod multiline;
mod sampling;
mod weak;

pub use config::{ConfigError, StageConfig};
pub use cri::CriStage;
pub use decolorize::DecolorizeStage;
pub use docker::DockerStage;
pub use drop::{DropConfig, DropError, DropStage};
pub use dry_run::{DryRunSink, dry_run_line, format_time, label_set_string, tabwriter};
pub use inspect::inspect;
pub use json::{JmesPath, JsonConfig, JsonStage};
pub use labels::{
    LabelAllowStage, LabelDropStage, LabelListConfig, LabelsConfig, LabelsStage,
    StaticLabelsConfig, StaticLabelsStage, StructuredMetadataStage,
};
pub use limit::{LimitConfig, LimitError, LimitStage};
pub use logfmt::{LogfmtConfig, LogfmtStage};
pub use match_stage::{MatchConfig, MatchError, MatchStage};
pub use metrics::{MetricsConfig, MetricsError, MetricsStage};
pub use multiline::{MultilineConfig, MultilineError, MultilineStage};
pub use output::{OutputConfig, OutputStage};
pub use pack::{PackConfig, PackStage};
pub use regex::{RegexConfig, RegexStage};
pub use replace::{ReplaceConfig, ReplaceStage};
pub use sampling::{SamplingConfig, SamplingError, SamplingStage};
pub use template::{TemplateConfig, TemplateStage};
pub use tenant::{TenantConfig, TenantStage};
pub use timestamp::{ActionOnFailure, Format, TimestampConfig, TimestampStage};
pub use value::{get_string, go_json};

/// What stages need from the agent around them.
#[derive(Clone)]
pub struct StageContext {
    /// The scrape config's `job_name` (the `match` stage's metrics use it).
    pub job_name: String,
    /// Where the `metrics` stage registers its families.
    pub registry: Arc<Registry>,
    /// `logentry_dropped_lines_total{reason}`, which every dropping stage
    /// counts into (Promtail shares one family across stages).
    pub dropped: Arc<Family<Counter>>,
}

impl StageContext {
    /// A context whose stages register their metrics in `registry`; it
    /// registers the shared drop counter there, so build it once per
    /// registry and [`StageContext::for_job`] per scrape config.
    pub fn new(job_name: &str, registry: Arc<Registry>) -> Result<Self, RegistryError> {
        let dropped = drop::dropped_lines(&registry)?;
        Ok(Self {
            job_name: job_name.to_owned(),
            registry,
            dropped,
        })
    }

    /// The same context for another job.
    pub fn for_job(&self, job_name: &str) -> Self {
        Self {
            job_name: job_name.to_owned(),
            ..self.clone()
        }
    }
}

impl std::fmt::Debug for StageContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StageContext")
            .field("job_name", &self.job_name)
            .finish_non_exhaustive()
    }
}

/// Why a pipeline could not be built.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// A stage's options are invalid (when built from values made in code;
    /// a config file reports these while it is deserialised).
    #[error("invalid {stage} stage config: {source}")]
    Config {
        /// The stage's name.
        stage: &'static str,
        /// What is wrong.
        source: ConfigError,
    },
    /// The stage is known but not built by this version.
    #[error("the {0} stage is not supported yet")]
    NotBuilt(&'static str),
    /// A stage's metric could not be registered.
    #[error("invalid metrics stage config: {0}")]
    Registry(#[from] RegistryError),
    /// The fixed stages `docker` or `cri` are made of did not parse (a bug).
    #[error("building a composed stage: {0}")]
    Composition(String),
}

/// Builds the stage `cfg` describes.
pub fn build_stage(cfg: &StageConfig, ctx: &StageContext) -> Result<Box<dyn Stage>, PipelineError> {
    Ok(match cfg {
        StageConfig::Regex(c) => Box::new(RegexStage::new(c.clone())),
        StageConfig::Json(c) => Box::new(JsonStage::new(c.clone())),
        StageConfig::Logfmt(c) => Box::new(LogfmtStage::new(c.clone())),
        StageConfig::Pack(c) => Box::new(PackStage::new(c.clone())),
        StageConfig::Decolorize => Box::new(DecolorizeStage::default()),
        StageConfig::Output(c) => Box::new(OutputStage::new(c.clone())),
        StageConfig::Labels(c) => Box::new(LabelsStage::new(c.clone())),
        StageConfig::LabelAllow(c) => Box::new(LabelAllowStage::new(c.clone())),
        StageConfig::LabelDrop(c) => Box::new(LabelDropStage::new(c.clone())),
        StageConfig::StaticLabels(c) => Box::new(StaticLabelsStage::new(c.clone())),
        StageConfig::Tenant(c) => Box::new(TenantStage::new(c.clone())),
        StageConfig::StructuredMetadata(c) => Box::new(StructuredMetadataStage::new(c.clone())),
        StageConfig::Timestamp(c) => Box::new(TimestampStage::new(c.clone())),
        StageConfig::Replace(c) => Box::new(ReplaceStage::new(c.clone())),
        StageConfig::Template(c) => Box::new(TemplateStage::new(c.clone())),
        StageConfig::Multiline(c) => Box::new(MultilineStage::new(c.clone())),
        StageConfig::Docker => Box::new(DockerStage::new(ctx)?),
        StageConfig::Cri => Box::new(CriStage::new(ctx)?),
        StageConfig::Match(c) => Box::new(MatchStage::new(c, ctx)?),
        StageConfig::Drop(c) => Box::new(DropStage::new(c.clone(), ctx.dropped.clone())),
        StageConfig::Limit(c) => Box::new(LimitStage::new(c, &ctx.registry, ctx.dropped.clone())?),
        StageConfig::Sampling(c) => Box::new(SamplingStage::new(c.clone(), ctx.dropped.clone())),
        StageConfig::Metrics(c) => Box::new(MetricsStage::new(c, &ctx.registry)?),
    })
}

/// Values extracted from an entry, by name. Parsing stages store strings
/// (`regex`, `logfmt`) or JSON values (`json`); readers convert as
/// Promtail does.
pub type Extracted = BTreeMap<String, serde_json::Value>;

/// An entry inside the pipeline, with its extracted map.
#[derive(Debug, Clone, Default)]
pub struct PipelineEntry {
    /// The entry as it will leave the pipeline.
    pub entry: Entry,
    /// What the stages so far have extracted.
    pub extracted: Extracted,
}

impl PipelineEntry {
    /// Starts the pipeline for `entry`: the extracted map holds its labels.
    pub fn new(entry: Entry) -> Self {
        let extracted = entry
            .labels
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
            .collect();
        Self { entry, extracted }
    }
}

/// One pipeline stage.
pub trait Stage: Send {
    /// The stage's name as written in the config (`regex`, `labels`, …),
    /// for `--inspect` and messages.
    fn name(&self) -> &'static str;

    /// Processes one entry at `now_ns` (ns since the epoch): pushes it to
    /// `out` (changed or not), pushes nothing to drop it, or keeps it to
    /// release later, possibly with entries held before.
    fn process(&mut self, entry: PipelineEntry, now_ns: i64, out: &mut Vec<PipelineEntry>);

    /// Releases entries held past their time; called periodically.
    fn tick(&mut self, _now_ns: i64, _out: &mut Vec<PipelineEntry>) {}

    /// Releases every entry held, at shutdown.
    fn drain(&mut self, _out: &mut Vec<PipelineEntry>) {}
}

/// Where `--inspect` reports go, one report per stage and entry.
pub type InspectSink = Box<dyn FnMut(&str) + Send>;

/// Stages in order.
pub struct Pipeline {
    stages: Vec<Box<dyn Stage>>,
    /// `--inspect`: when set, every stage's changes are reported here.
    inspector: Option<InspectSink>,
    /// Scratch buffers, kept to avoid an allocation per entry.
    current: Vec<PipelineEntry>,
    next: Vec<PipelineEntry>,
    released: Vec<PipelineEntry>,
}

impl Pipeline {
    /// Builds the stages of `pipeline_stages` in order.
    pub fn new(stages: &[StageConfig], ctx: &StageContext) -> Result<Self, PipelineError> {
        let built = stages
            .iter()
            .map(|cfg| build_stage(cfg, ctx))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self::from_stages(built))
    }

    /// A pipeline of already built stages.
    pub fn from_stages(stages: Vec<Box<dyn Stage>>) -> Self {
        Self {
            stages,
            inspector: None,
            current: Vec::new(),
            next: Vec::new(),
            released: Vec::new(),
        }
    }

    /// Reports what each stage changes to `sink` (`--inspect`). Only a
    /// stage that turns one entry into one entry is reported; entries a
    /// stage drops, holds or merges are not.
    pub fn inspect_with(mut self, sink: InspectSink) -> Self {
        self.inspector = Some(sink);
        self
    }

    /// Runs `entry` through every stage; what comes out is appended to
    /// `out`.
    pub fn process(&mut self, entry: Entry, now_ns: i64, out: &mut Vec<Entry>) {
        // A buffer kept across entries: no allocation per line.
        let mut released = std::mem::take(&mut self.released);
        self.process_entry(PipelineEntry::new(entry), now_ns, &mut released);
        out.extend(released.drain(..).map(|e| e.entry));
        self.released = released;
    }

    /// Runs one pipeline entry through every stage from the first.
    fn process_entry(&mut self, entry: PipelineEntry, now_ns: i64, out: &mut Vec<PipelineEntry>) {
        self.current.clear();
        self.current.push(entry);
        self.run_from(0, now_ns, out);
    }

    /// Runs the entries in `self.current` through the stages from `first`.
    fn run_from(&mut self, first: usize, now_ns: i64, out: &mut Vec<PipelineEntry>) {
        for stage in &mut self.stages[first..] {
            if self.current.is_empty() {
                break;
            }
            self.next.clear();
            for e in self.current.drain(..) {
                match self.inspector.as_mut() {
                    None => stage.process(e, now_ns, &mut self.next),
                    Some(report) => {
                        let before = e.clone();
                        let at = self.next.len();
                        stage.process(e, now_ns, &mut self.next);
                        if let [after] = &self.next[at..] {
                            report(&inspect(stage.name(), &before, after));
                        }
                    }
                }
            }
            std::mem::swap(&mut self.current, &mut self.next);
        }
        out.append(&mut self.current);
    }

    /// Releases entries held past their time, through the stages after the
    /// one that held them.
    pub fn tick(&mut self, now_ns: i64, out: &mut Vec<Entry>) {
        let mut released = Vec::new();
        Stage::tick(self, now_ns, &mut released);
        out.extend(released.into_iter().map(|e| e.entry));
    }

    /// Releases every entry held, through the stages after the one that
    /// held them.
    pub fn drain(&mut self, out: &mut Vec<Entry>) {
        let mut released = Vec::new();
        Stage::drain(self, &mut released);
        out.extend(released.into_iter().map(|e| e.entry));
    }

    /// For each stage in order, what it releases, then the rest of the
    /// pipeline after it.
    fn release(
        &mut self,
        now_ns: i64,
        out: &mut Vec<PipelineEntry>,
        mut take: impl FnMut(&mut dyn Stage, &mut Vec<PipelineEntry>),
    ) {
        for i in 0..self.stages.len() {
            let mut held = Vec::new();
            take(self.stages[i].as_mut(), &mut held);
            if !held.is_empty() {
                self.current.clear();
                self.current.append(&mut held);
                self.run_from(i + 1, now_ns, out);
            }
        }
    }
}

/// A pipeline is a stage too: `match` runs one inside another.
impl Stage for Pipeline {
    fn name(&self) -> &'static str {
        "pipeline"
    }

    fn process(&mut self, entry: PipelineEntry, now_ns: i64, out: &mut Vec<PipelineEntry>) {
        self.process_entry(entry, now_ns, out);
    }

    fn tick(&mut self, now_ns: i64, out: &mut Vec<PipelineEntry>) {
        self.release(now_ns, out, |stage, held| stage.tick(now_ns, held));
    }

    fn drain(&mut self, out: &mut Vec<PipelineEntry>) {
        // Entries released at shutdown still go through the later stages;
        // those see the time of the last tick, which no stage needs.
        self.release(0, out, |stage, held| stage.drain(held));
    }
}

/// Helpers for the stages' unit tests.
#[cfg(test)]
pub(crate) mod testing {
    use super::*;

    /// A pipeline entry for `line` with no labels.
    pub(crate) fn entry(line: &str) -> PipelineEntry {
        PipelineEntry::new(Entry {
            line: line.to_owned(),
            ..Entry::default()
        })
    }

    /// The extracted map as strings (values not convertible are left out).
    pub(crate) fn extracted_of(e: &PipelineEntry) -> Vec<(String, String)> {
        e.extracted
            .iter()
            .filter_map(|(k, v)| Some((k.clone(), get_string(v)?.into_owned())))
            .collect()
    }

    /// The labels as pairs.
    pub(crate) fn labels_of(e: &PipelineEntry) -> Vec<(String, String)> {
        e.entry
            .labels
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Holds every entry until the next one, or a tick.
    #[derive(Default)]
    struct HoldOne(Option<PipelineEntry>);
    impl Stage for HoldOne {
        fn name(&self) -> &'static str {
            "hold"
        }
        fn process(&mut self, e: PipelineEntry, _now: i64, out: &mut Vec<PipelineEntry>) {
            out.extend(self.0.replace(e));
        }
        fn tick(&mut self, _now: i64, out: &mut Vec<PipelineEntry>) {
            out.extend(self.0.take());
        }
        fn drain(&mut self, out: &mut Vec<PipelineEntry>) {
            out.extend(self.0.take());
        }
    }

    struct Suffix(&'static str);
    impl Stage for Suffix {
        fn name(&self) -> &'static str {
            "suffix"
        }
        fn process(&mut self, mut e: PipelineEntry, _now: i64, out: &mut Vec<PipelineEntry>) {
            e.entry.line.push_str(self.0);
            out.push(e);
        }
    }

    fn line(text: &str) -> Entry {
        Entry {
            line: text.to_owned(),
            ..Entry::default()
        }
    }

    #[test]
    fn held_entries_go_through_the_later_stages_only() {
        let mut p = Pipeline::from_stages(vec![
            Box::new(Suffix("-a")),
            Box::new(HoldOne::default()),
            Box::new(Suffix("-b")),
        ]);
        let mut out = Vec::new();
        p.process(line("1"), 0, &mut out);
        assert!(out.is_empty());
        p.process(line("2"), 0, &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].line, "1-a-b");
        p.tick(0, &mut out);
        assert_eq!(out[1].line, "2-a-b");
        p.process(line("3"), 0, &mut out);
        p.drain(&mut out);
        assert_eq!(out[2].line, "3-a-b");
    }

    fn from_yaml(yaml: &str) -> Pipeline {
        let stages: Vec<StageConfig> =
            yaml_serde::from_str(yaml).unwrap_or_else(|e| panic!("{yaml}: {e}"));
        let ctx = StageContext::new("job", Arc::new(Registry::new())).expect("a fresh registry");
        Pipeline::new(&stages, &ctx).unwrap_or_else(|e| panic!("{yaml}: {e}"))
    }

    #[test]
    fn a_pipeline_from_yaml_runs_its_stages_in_order() {
        let mut p = from_yaml(
            "- regex: {expression: '^(?P<level>\\w+) (?P<msg>.*)$'}\n\
             - labels: {level: null}\n\
             - output: {source: msg}\n",
        );
        let mut out = Vec::new();
        p.process(line("warn disk full"), 0, &mut out);
        assert_eq!(out[0].line, "disk full");
        assert_eq!(out[0].labels.get("level").map(String::as_str), Some("warn"));
    }

    #[test]
    fn inspect_reports_each_stage() {
        let reports = Arc::new(std::sync::Mutex::new(String::new()));
        let sink = reports.clone();
        let mut p = from_yaml(
            "- regex: {expression: '^(?P<level>\\w+)'}\n- labels: {level: null}\n- decolorize:\n",
        )
        .inspect_with(Box::new(move |r| {
            sink.lock().expect("not poisoned").push_str(r)
        }));
        let mut out = Vec::new();
        p.process(line("warn x"), 0, &mut out);
        let text = reports.lock().expect("not poisoned").clone();
        assert_eq!(
            text,
            "[inspect: regex stage]: \n{stages.Entry}.Extracted[\"level\"]:\n\t+: warn\n\
             [inspect: labels stage]: \n{stages.Entry}.Entry.Labels:\n\t-: {}\n\t+: {level=\"warn\"}\n\
             [inspect: decolorize stage]: none\n"
        );
    }

    #[test]
    fn the_extracted_map_starts_with_the_labels() {
        let mut entry = line("x");
        entry.labels.insert("job".into(), "api".into());
        let e = PipelineEntry::new(entry);
        assert_eq!(e.extracted["job"], "api");
    }
}
