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

use crate::entry::Entry;

// Until the stage builder names them, these stages are only reached from
// their tests.
#[allow(dead_code)]
mod drop;
#[allow(dead_code)]
mod limit;
#[allow(dead_code)]
mod metrics;
#[allow(dead_code)]
mod multiline;
#[allow(dead_code)]
mod sampling;
mod weak;

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

/// Stages in order.
pub struct Pipeline {
    stages: Vec<Box<dyn Stage>>,
    /// Scratch buffers, kept to avoid an allocation per entry.
    current: Vec<PipelineEntry>,
    next: Vec<PipelineEntry>,
}

impl Pipeline {
    /// A pipeline of already built stages.
    pub fn from_stages(stages: Vec<Box<dyn Stage>>) -> Self {
        Self {
            stages,
            current: Vec::new(),
            next: Vec::new(),
        }
    }

    /// Runs `entry` through every stage; what comes out is appended to
    /// `out`.
    pub fn process(&mut self, entry: Entry, now_ns: i64, out: &mut Vec<Entry>) {
        let mut released = Vec::new();
        self.process_entry(PipelineEntry::new(entry), now_ns, &mut released);
        out.extend(released.into_iter().map(|e| e.entry));
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
                stage.process(e, now_ns, &mut self.next);
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

    #[test]
    fn the_extracted_map_starts_with_the_labels() {
        let mut entry = line("x");
        entry.labels.insert("job".into(), "api".into());
        let e = PipelineEntry::new(entry);
        assert_eq!(e.extracted["job"], "api");
    }
}
