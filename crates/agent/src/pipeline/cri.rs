//! The `cri` stage: CRI log lines (`<time> <stream> <flags> <content>`)
//! read as Promtail 2.8 reads them — a fixed pipeline of `regex`,
//! `labels`, `timestamp` and `output` stages — with partial (`P`) lines
//! held per stream and joined to the full (`F`) line that ends them.

use std::collections::BTreeMap;

use super::docker::composed;
use super::{Pipeline, PipelineEntry, PipelineError, Stage, StageContext};
use crate::entry::LabelSet;

/// Promtail's composition (`NewCRI`), as the stages it is made of. The
/// second `output` reads `tags`, which nothing extracts: it is Promtail's
/// and changes nothing.
const CRI_STAGES: &str = r#"
- regex:
    expression: '^(?s)(?P<time>\S+?) (?P<stream>stdout|stderr) (?P<flags>\S+?) (?P<content>.*)$'
- labels:
    stream:
- timestamp:
    source: time
    format: RFC3339Nano
- output:
    source: content
- output:
    source: tags
"#;

/// How many streams may hold a partial line; past this, every held one is
/// released as it is (Promtail's `MaxPartialLinesSize`).
const MAX_PARTIAL_LINES: usize = 100;

/// The `cri` stage.
pub struct CriStage {
    base: Pipeline,
    /// The partial line gathered so far, by the labels of its stream.
    partial: BTreeMap<LabelSet, PipelineEntry>,
}

impl CriStage {
    /// Builds the stage's pipeline.
    pub fn new(ctx: &StageContext) -> Result<Self, PipelineError> {
        Ok(Self {
            base: composed(CRI_STAGES, ctx)?,
            partial: BTreeMap::new(),
        })
    }

    /// Holds a partial line, or joins the held ones to a full line.
    fn join(&mut self, mut e: PipelineEntry, out: &mut Vec<PipelineEntry>) {
        let is_partial = e.extracted.get("flags").and_then(|f| f.as_str()) == Some("P");
        if is_partial {
            if self.partial.len() > MAX_PARTIAL_LINES {
                // Too many streams waiting: release them unjoined and
                // start over with this line.
                out.extend(std::mem::take(&mut self.partial).into_values());
                self.partial.insert(e.entry.labels.clone(), e);
                return;
            }
            if let Some(prev) = self.partial.remove(&e.entry.labels) {
                prepend(prev, &mut e);
            }
            self.partial.insert(e.entry.labels.clone(), e);
            return;
        }
        if let Some(prev) = self.partial.remove(&e.entry.labels) {
            prepend(prev, &mut e);
        }
        out.push(e);
    }
}

/// Puts what `prev` gathered before `e`'s line; `e` answers for both.
fn prepend(prev: PipelineEntry, e: &mut PipelineEntry) {
    let mut line = prev.entry.line;
    line.push_str(&e.entry.line);
    e.entry.line = line;
    e.entry.receipt.merge(prev.entry.receipt);
}

impl Stage for CriStage {
    fn name(&self) -> &'static str {
        "cri"
    }

    fn process(&mut self, entry: PipelineEntry, now_ns: i64, out: &mut Vec<PipelineEntry>) {
        let mut parsed = Vec::with_capacity(1);
        Stage::process(&mut self.base, entry, now_ns, &mut parsed);
        for e in parsed {
            self.join(e, out);
        }
    }

    // Partial lines still held at shutdown are not released: Promtail 2.8
    // never flushes them (case28 of the golden corpus).
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::{Entry, Receipt};
    use crate::pipeline::StageConfig;
    use instrument::Registry;
    use std::any::Any;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn stage() -> Result<CriStage, PipelineError> {
        CriStage::new(&StageContext::new("job", Arc::new(Registry::new()))?)
    }

    fn entry(line: &str) -> PipelineEntry {
        PipelineEntry::new(Entry {
            line: line.to_owned(),
            ts_ns: 7,
            ..Entry::default()
        })
    }

    /// `(labels, ts, line)` of what the lines become, after a drain.
    fn run(lines: &[&str]) -> Option<Vec<(String, i64, String)>> {
        let mut stage = stage().ok()?;
        let mut out = Vec::new();
        for line in lines {
            stage.process(entry(line), 7, &mut out);
        }
        stage.drain(&mut out);
        Some(
            out.into_iter()
                .map(|e| {
                    let e = e.entry;
                    let labels: Vec<String> =
                        e.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
                    (labels.join(","), e.ts_ns, e.line)
                })
                .collect(),
        )
    }

    fn rows(rows: &[(&str, i64, &str)]) -> Option<Vec<(String, i64, String)>> {
        Some(
            rows.iter()
                .map(|(l, t, s)| ((*l).to_owned(), *t, (*s).to_owned()))
                .collect(),
        )
    }

    #[test]
    fn the_composition_parses() {
        let stages: Vec<StageConfig> = yaml_serde::from_str(CRI_STAGES).unwrap();
        let names: Vec<_> = stages.iter().map(StageConfig::name).collect();
        assert_eq!(names, ["regex", "labels", "timestamp", "output", "output"]);
    }

    #[test]
    fn a_full_line_gives_its_stream_time_and_content() {
        assert_eq!(
            run(&["2023-08-01T14:11:35.123456789Z stdout F hello world"]),
            rows(&[("stream=stdout", 1_690_899_095_123_456_789, "hello world")])
        );
        assert_eq!(run(&["not cri"]), rows(&[("", 7, "not cri")]));
    }

    #[test]
    fn partial_lines_join_the_full_line_of_their_stream() {
        assert_eq!(
            run(&[
                "2023-08-01T00:00:01Z stdout P a",
                "2023-08-01T00:00:02Z stderr P x",
                "2023-08-01T00:00:03Z stdout P b",
                "2023-08-01T00:00:04Z stdout F c",
            ]),
            rows(&[("stream=stdout", 1_690_848_004_000_000_000, "abc")])
        );
    }

    /// The stage with its composition less the timestamp stage, so the
    /// parsing, labels, output and joining are checked on their own.
    fn without_timestamp() -> CriStage {
        let stages: Vec<StageConfig> = yaml_serde::from_str(CRI_STAGES).unwrap();
        let stages: Vec<StageConfig> = stages
            .into_iter()
            .filter(|s| s.name() != "timestamp")
            .collect();
        let ctx = StageContext::new("job", Arc::new(Registry::new())).unwrap();
        CriStage {
            base: Pipeline::new(&stages, &ctx).unwrap(),
            partial: BTreeMap::new(),
        }
    }

    #[test]
    fn lines_are_parsed_labelled_and_joined() {
        let mut stage = without_timestamp();
        let mut out = Vec::new();
        for line in [
            "2023-08-01T00:00:01Z stdout P a",
            "2023-08-01T00:00:02Z stderr P x",
            "2023-08-01T00:00:03Z stdout P b",
            "2023-08-01T00:00:04Z stdout F c\nd",
            "not a cri line",
            "2023-08-01T00:00:05Z stderr F y",
        ] {
            stage.process(entry(line), 7, &mut out);
        }
        stage.drain(&mut out);
        let got: Vec<(String, String)> = out
            .into_iter()
            .map(|e| {
                let stream = e.entry.labels.get("stream").cloned().unwrap_or_default();
                (stream, e.entry.line)
            })
            .collect();
        let want = [
            ("stdout", "abc\nd"),
            ("", "not a cri line"),
            ("stderr", "xy"),
        ];
        let want: Vec<(String, String)> = want
            .iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn partial_lines_are_not_released_at_shutdown() {
        let mut stage = without_timestamp();
        let mut out = Vec::new();
        stage.process(entry("2023-08-01T00:00:01Z stdout P a"), 7, &mut out);
        stage.drain(&mut out);
        assert!(out.is_empty());
    }

    #[test]
    fn too_many_waiting_streams_are_released_unjoined() {
        let mut stage = CriStage {
            base: Pipeline::from_stages(Vec::new()),
            partial: BTreeMap::new(),
        };
        let mut out = Vec::new();
        for i in 0..=MAX_PARTIAL_LINES + 1 {
            let mut e = entry(&format!("p{i}"));
            e.entry.labels.insert("s".into(), i.to_string());
            e.extracted.insert("flags".into(), "P".into());
            stage.join(e, &mut out);
        }
        assert_eq!(out.len(), MAX_PARTIAL_LINES + 1);
        assert_eq!(stage.partial.len(), 1);
    }

    struct Token(Arc<AtomicUsize>);
    impl Drop for Token {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn a_joined_line_carries_every_receipt() {
        let released = Arc::new(AtomicUsize::new(0));
        let mut stage = CriStage {
            base: Pipeline::from_stages(Vec::new()),
            partial: BTreeMap::new(),
        };
        let mut out = Vec::new();
        for flags in ["P", "P", "F"] {
            let mut e = entry(flags);
            e.extracted.insert("flags".into(), flags.into());
            let token: Arc<dyn Any + Send + Sync> = Arc::new(Token(released.clone()));
            e.entry.receipt = Receipt::new(token);
            stage.join(e, &mut out);
        }
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].entry.line, "PPF");
        drop(stage);
        assert_eq!(released.load(Ordering::SeqCst), 0);
        drop(out);
        assert_eq!(released.load(Ordering::SeqCst), 3);
    }
}
