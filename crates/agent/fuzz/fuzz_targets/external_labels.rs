//! Fuzz target: arbitrary `-client.external-labels` text gives valid
//! labels or a flag error; never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = agent_fuzz::run_external_labels(data);
});
