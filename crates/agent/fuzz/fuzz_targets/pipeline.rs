//! Fuzz target: arbitrary bytes, as lines with arbitrary times, through
//! every representative pipeline (ours, the reference config's, the golden
//! cases'); no input panics.
#![no_main]

use std::sync::OnceLock;

use agent_fuzz::{PipelineCase, build_pipeline, pipeline_cases, run_pipeline};
use libfuzzer_sys::fuzz_target;

fn cases() -> &'static [PipelineCase] {
    static CASES: OnceLock<Vec<PipelineCase>> = OnceLock::new();
    CASES.get_or_init(pipeline_cases)
}

fuzz_target!(|data: &[u8]| {
    // The first byte picks the pipeline, and whether `--inspect` reports
    // on it; it is built afresh so that a crash replays from its input
    // alone (no state from earlier inputs).
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let cases = cases();
    let pick = usize::from(pick);
    let case = &cases[pick % cases.len()];
    let inspect = (pick / cases.len()) % 2 == 1;
    run_pipeline(&mut build_pipeline(&case.stages, inspect), rest);
});
