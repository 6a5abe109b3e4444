//! The `decolorize` stage: ANSI colour codes removed from the line, with
//! the LogQL `| decolorize` stage (Promtail uses Loki's too).

use std::borrow::Cow;

use logql::pipeline::format::Decolorize;
use logql::pipeline::{LabelsBuilder, Stage as LogqlStage};

use super::{PipelineEntry, Stage};

/// The built stage.
#[derive(Debug, Default)]
pub struct DecolorizeStage {
    inner: Decolorize,
}

impl Stage for DecolorizeStage {
    fn name(&self) -> &'static str {
        "decolorize"
    }

    fn process(&mut self, mut e: PipelineEntry, _now_ns: i64, out: &mut Vec<PipelineEntry>) {
        if e.entry.line.contains('\u{1b}') {
            let mut line = Cow::Borrowed(e.entry.line.as_str());
            let mut labels =
                LabelsBuilder::new(&model::Labels::default(), &model::Labels::default());
            self.inner.process(e.entry.ts_ns, &mut line, &mut labels);
            let line = line.into_owned();
            e.entry.line = line;
        }
        out.push(e);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::testing::entry;

    fn run(line: &str) -> String {
        let mut out = Vec::new();
        DecolorizeStage::default().process(entry(line), 0, &mut out);
        out.remove(0).entry.line
    }

    #[test]
    fn colour_codes_go() {
        assert_eq!(run("\u{1b}[31mred\u{1b}[0m text"), "red text");
    }

    #[test]
    fn plain_lines_stay() {
        assert_eq!(run("plain"), "plain");
    }
}
