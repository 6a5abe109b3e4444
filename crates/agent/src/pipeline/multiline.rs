//! The `multiline` stage: joins a first line (matched by `firstline`) and
//! the lines after it into one entry per stream, released on the next
//! first line, at `max_lines`, after `max_wait_time` without a line, or at
//! shutdown.

use std::collections::BTreeMap;

use regex::Regex;
use serde::Deserialize;

use super::config::{ConfigError, StageOptions};
use super::weak;
use super::{PipelineEntry, Stage};
use crate::entry::{LabelSet, Receipt};

const DEFAULT_MAX_LINES: u64 = 128;
const DEFAULT_MAX_WAIT_NS: i64 = 3_000_000_000;

/// The `multiline` stage's options as written, keys as Promtail's.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct RawMultilineConfig {
    /// A regex matching the first line of a block.
    #[serde(default, deserialize_with = "weak::opt_string")]
    pub(crate) firstline: Option<String>,
    /// A Go duration; a block is released when its stream was this long
    /// without a line (`3s` by default).
    #[serde(default, deserialize_with = "weak::opt_string")]
    pub(crate) max_wait_time: Option<String>,
    /// A block is released, and the next one started, at this many lines
    /// (128 by default).
    #[serde(default, deserialize_with = "weak::opt_u64")]
    pub(crate) max_lines: Option<u64>,
}

/// Why a `multiline` config is refused; messages are Promtail's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MultilineError {
    /// No `firstline`.
    #[error("multiline stage config must define `firstline` regular expression")]
    NoFirstline,
    /// `firstline` does not compile.
    #[error("multiline stage first line regex compilation error: {0}")]
    Regex(String),
    /// `max_wait_time` is not a Go duration.
    #[error("multiline stage `max_wait_time` parse error: {0}")]
    MaxWait(gocompat::duration::GoDurationError),
}

/// The block being gathered for one stream.
struct Block {
    /// The entry of the block's first line, without its line and receipt:
    /// its timestamp, labels, metadata and extracted map go to every
    /// entry of the block, including what follows a split or a timeout
    /// (Promtail keeps the last first line of a stream until the next).
    start: PipelineEntry,
    lines: String,
    count: u64,
    receipt: Receipt,
    /// When the stream last had a line.
    last_ns: i64,
}

impl Block {
    /// Releases the gathered lines as one entry, if there are any.
    fn flush(&mut self, out: &mut Vec<PipelineEntry>) {
        if self.lines.is_empty() {
            return;
        }
        let mut e = self.start.clone();
        e.entry.line = std::mem::take(&mut self.lines);
        e.entry.receipt = std::mem::take(&mut self.receipt);
        self.count = 0;
        out.push(e);
    }
}

/// The `multiline` stage's checked options.
#[derive(Debug, Clone)]
pub struct MultilineConfig {
    firstline: Regex,
    max_wait_ns: i64,
    max_lines: u64,
}

impl MultilineConfig {
    /// Checks `cfg` as Promtail does.
    pub(crate) fn new(cfg: &RawMultilineConfig) -> Result<Self, MultilineError> {
        let firstline = cfg
            .firstline
            .as_deref()
            .ok_or(MultilineError::NoFirstline)?;
        let firstline = Regex::new(firstline).map_err(|e| MultilineError::Regex(e.to_string()))?;
        let max_wait_ns = match &cfg.max_wait_time {
            None => DEFAULT_MAX_WAIT_NS,
            Some(text) => weak::go_duration_ns(text).map_err(MultilineError::MaxWait)?,
        };
        Ok(Self {
            firstline,
            max_wait_ns,
            max_lines: cfg.max_lines.unwrap_or(DEFAULT_MAX_LINES),
        })
    }
}

impl StageOptions for MultilineConfig {
    type Raw = RawMultilineConfig;
    fn from_raw(raw: RawMultilineConfig) -> Result<Self, ConfigError> {
        Ok(Self::new(&raw)?)
    }
    fn from_null() -> Result<Self, ConfigError> {
        Self::from_raw(RawMultilineConfig::default())
    }
}

/// The `multiline` stage.
pub struct MultilineStage {
    firstline: Regex,
    max_wait_ns: i64,
    max_lines: u64,
    /// Streams that have seen a first line, by label set; sorted, so
    /// releases come in a stable order.
    streams: BTreeMap<LabelSet, Block>,
}

impl MultilineStage {
    /// The stage for `cfg`, holding nothing yet.
    pub fn new(cfg: MultilineConfig) -> Self {
        Self {
            firstline: cfg.firstline,
            max_wait_ns: cfg.max_wait_ns,
            max_lines: cfg.max_lines,
            streams: BTreeMap::new(),
        }
    }
}

impl Stage for MultilineStage {
    fn name(&self) -> &'static str {
        "multiline"
    }

    fn process(&mut self, mut e: PipelineEntry, now_ns: i64, out: &mut Vec<PipelineEntry>) {
        let is_first = self.firstline.is_match(&e.entry.line);
        let block = match self.streams.get_mut(&e.entry.labels) {
            Some(block) => block,
            // Until a stream's first first line, its lines pass alone.
            None if !is_first => {
                out.push(e);
                return;
            }
            None => self
                .streams
                .entry(e.entry.labels.clone())
                .or_insert_with(|| Block {
                    start: PipelineEntry::default(),
                    lines: String::new(),
                    count: 0,
                    receipt: Receipt::default(),
                    last_ns: now_ns,
                }),
        };
        block.last_ns = now_ns;
        if is_first {
            block.flush(out);
        }
        let line = std::mem::take(&mut e.entry.line);
        let receipt = std::mem::take(&mut e.entry.receipt);
        if is_first {
            block.start = e;
        }
        if !block.lines.is_empty() {
            block.lines.push('\n');
        }
        block.lines.push_str(&line);
        block.receipt.merge(receipt);
        block.count += 1;
        if block.count == self.max_lines {
            block.flush(out);
        }
    }

    fn tick(&mut self, now_ns: i64, out: &mut Vec<PipelineEntry>) {
        for block in self.streams.values_mut() {
            if now_ns.saturating_sub(block.last_ns) >= self.max_wait_ns {
                block.flush(out);
            }
        }
    }

    fn drain(&mut self, out: &mut Vec<PipelineEntry>) {
        for block in self.streams.values_mut() {
            block.flush(out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::Entry;
    use std::any::Any;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    const SEC: i64 = 1_000_000_000;

    fn stage(yaml: &str) -> Result<MultilineStage, String> {
        let raw: RawMultilineConfig = yaml_serde::from_str(yaml).map_err(|e| e.to_string())?;
        Ok(MultilineStage::new(
            MultilineConfig::new(&raw).map_err(|e| e.to_string())?,
        ))
    }

    fn entry(line: &str, ts_ns: i64, stream: &str) -> PipelineEntry {
        let mut e = Entry {
            line: line.to_owned(),
            ts_ns,
            ..Entry::default()
        };
        e.labels.insert("s".into(), stream.into());
        PipelineEntry::new(e)
    }

    /// Feeds `(line, time)` of stream "a" (at that time), then drains;
    /// returns `(line, ts)` of what came out, in order.
    fn run(yaml: &str, lines: &[(&str, i64)]) -> Vec<(String, i64)> {
        let mut stage = stage(yaml).unwrap();
        let mut out = Vec::new();
        for (line, t) in lines {
            stage.process(entry(line, *t, "a"), *t, &mut out);
        }
        stage.drain(&mut out);
        out.into_iter()
            .map(|e| (e.entry.line, e.entry.ts_ns))
            .collect()
    }

    fn owned(rows: &[(&str, i64)]) -> Vec<(String, i64)> {
        rows.iter().map(|(l, t)| ((*l).to_owned(), *t)).collect()
    }

    #[test]
    fn config_errors_are_promtails() {
        for (yaml, want) in [
            ("max_lines: 3", "must define `firstline`"),
            ("firstline: '('", "first line regex compilation error"),
            (
                "firstline: x\nmax_wait_time: 3",
                "`max_wait_time` parse error",
            ),
        ] {
            let err = stage(yaml).err().unwrap_or_default();
            assert!(err.contains(want), "{yaml}: {err}");
        }
    }

    #[test]
    fn lines_join_under_the_first_lines_timestamp() {
        let got = run(
            "firstline: '^\\d'",
            &[
                ("1 a", 10),
                ("  x", 11),
                ("  y", 12),
                ("2 b", 13),
                ("3 c", 14),
                ("  z", 15),
            ],
        );
        assert_eq!(
            got,
            owned(&[("1 a\n  x\n  y", 10), ("2 b", 13), ("3 c\n  z", 14)])
        );
    }

    #[test]
    fn lines_before_the_first_first_line_pass_alone() {
        let got = run(
            "firstline: '^\\d'",
            &[("x", 1), ("y", 2), ("1 a", 3), ("z", 4)],
        );
        assert_eq!(got, owned(&[("x", 1), ("y", 2), ("1 a\nz", 3)]));
    }

    #[test]
    fn max_lines_splits_and_the_rest_keeps_the_timestamp() {
        let got = run(
            "firstline: '^\\d'\nmax_lines: 3",
            &[
                ("1", 10),
                ("a", 11),
                ("b", 12),
                ("c", 13),
                ("d", 14),
                ("e", 15),
                ("2", 16),
            ],
        );
        assert_eq!(got, owned(&[("1\na\nb", 10), ("c\nd\ne", 10), ("2", 16)]));
    }

    #[test]
    fn max_lines_defaults_to_128() {
        let mut lines = vec![("0", 1)];
        lines.extend(std::iter::repeat_n(("x", 2), 130));
        let got = run("firstline: '^0'", &lines);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].0.lines().count(), 128);
        assert_eq!(got[1].0.lines().count(), 3);
    }

    #[test]
    fn a_tick_releases_a_block_after_max_wait_time() {
        for (yaml, wait) in [
            ("firstline: '^\\d'\nmax_wait_time: 1s", SEC),
            ("firstline: '^\\d'", 3 * SEC),
        ] {
            let mut stage = stage(yaml).unwrap();
            let mut out = Vec::new();
            stage.process(entry("1", 0, "a"), 0, &mut out);
            stage.process(entry("x", 0, "a"), SEC / 2, &mut out);
            stage.tick(SEC / 2 + wait - 1, &mut out);
            assert!(out.is_empty(), "{yaml}");
            stage.tick(SEC / 2 + wait, &mut out);
            assert_eq!(out.len(), 1, "{yaml}");
            assert_eq!(out[0].entry.line, "1\nx");
        }
    }

    #[test]
    fn after_a_timeout_a_continuation_keeps_the_blocks_start() {
        let mut stage = stage("firstline: '^\\d'\nmax_wait_time: 1s").unwrap();
        let mut out = Vec::new();
        stage.process(entry("1", 5, "a"), 0, &mut out);
        stage.tick(2 * SEC, &mut out);
        stage.process(entry("late", 99, "a"), 3 * SEC, &mut out);
        stage.drain(&mut out);
        let got: Vec<_> = out
            .iter()
            .map(|e| (e.entry.line.as_str(), e.entry.ts_ns))
            .collect();
        assert_eq!(got, [("1", 5), ("late", 5)]);
    }

    #[test]
    fn streams_are_gathered_apart() {
        let mut stage = stage("firstline: '^\\d'").unwrap();
        let mut out = Vec::new();
        stage.process(entry("1a", 1, "a"), 0, &mut out);
        stage.process(entry("1b", 2, "b"), 0, &mut out);
        stage.process(entry("xa", 3, "a"), 0, &mut out);
        stage.process(entry("xb", 4, "b"), 0, &mut out);
        stage.drain(&mut out);
        let got: Vec<_> = out.iter().map(|e| e.entry.line.as_str()).collect();
        assert_eq!(got, ["1a\nxa", "1b\nxb"]);
        assert_eq!(out[1].entry.labels["s"], "b");
    }

    #[test]
    fn the_block_keeps_the_first_lines_extracted_map() {
        let mut stage = stage("firstline: '^\\d'").unwrap();
        let mut out = Vec::new();
        let mut first = entry("1", 1, "a");
        first.extracted.insert("k".into(), "first".into());
        let mut next = entry("x", 2, "a");
        next.extracted.insert("k".into(), "next".into());
        stage.process(first, 0, &mut out);
        stage.process(next, 0, &mut out);
        stage.drain(&mut out);
        assert_eq!(out[0].extracted["k"], "first");
    }

    struct Token(Arc<AtomicUsize>);
    impl Drop for Token {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn the_block_carries_every_lines_receipt() {
        let released = Arc::new(AtomicUsize::new(0));
        let mut stage = stage("firstline: '^\\d'").unwrap();
        let mut out = Vec::new();
        for line in ["1", "x", "y"] {
            let mut e = entry(line, 0, "a");
            let token: Arc<dyn Any + Send + Sync> = Arc::new(Token(released.clone()));
            e.entry.receipt = Receipt::new(token);
            stage.process(e, 0, &mut out);
        }
        stage.drain(&mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(released.load(Ordering::SeqCst), 0);
        drop(out);
        assert_eq!(released.load(Ordering::SeqCst), 3);
    }

    /// case15: Promtail 2.8's blocks for the recorded input (timestamps are
    /// read times there; here each line's index stands for it).
    #[test]
    fn golden_case15_blocks() {
        let dir =
            testkit::shared_dir().join("conformance/golden/promtail-pipelines/case15-multiline");
        let config = std::fs::read_to_string(dir.join("config.yaml")).unwrap();
        let doc: serde_json::Value = yaml_serde::from_str(&config).unwrap();
        let raw: RawMultilineConfig = serde_json::from_value(
            doc["scrape_configs"][0]["pipeline_stages"][0]["multiline"].clone(),
        )
        .unwrap();
        let mut stage = MultilineStage::new(MultilineConfig::new(&raw).unwrap());
        let input = std::fs::read_to_string(dir.join("input.log")).unwrap();
        let mut out = Vec::new();
        for (i, line) in input.lines().enumerate() {
            stage.process(entry(line, i as i64, "a"), 0, &mut out);
        }
        // The last block waits for max_wait_time (1s here).
        stage.tick(SEC - 1, &mut out);
        let before_wait = out.len();
        stage.tick(SEC, &mut out);
        assert_eq!(out.len(), before_wait + 1);
        let want: Vec<(String, String)> = std::fs::read_to_string(dir.join("output.jsonl"))
            .unwrap()
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                (
                    v["line"].as_str().unwrap_or_default().to_owned(),
                    v["ts_ns"].to_string(),
                )
            })
            .collect();
        let got: Vec<&str> = out.iter().map(|e| e.entry.line.as_str()).collect();
        let want_lines: Vec<&str> = want.iter().map(|(l, _)| l.as_str()).collect();
        assert_eq!(got, want_lines);
        // Entries that share a recorded timestamp share one here.
        for i in 1..want.len() {
            assert_eq!(
                want[i].1 == want[i - 1].1,
                out[i].entry.ts_ns == out[i - 1].entry.ts_ns,
                "entry {i}"
            );
        }
    }
}
