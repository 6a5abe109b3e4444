//! Fuzz target: arbitrary promtail-config.yaml text is expanded, parsed,
//! validated and its pipelines built and run, or refused with an
//! invalid-config error inside the text; never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = agent_fuzz::run_config(data);
});
