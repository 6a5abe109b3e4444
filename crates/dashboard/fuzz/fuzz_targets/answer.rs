//! Fuzz target: an arbitrary Prometheus or Loki query answer decodes to
//! frames that serialise, or is refused as malformed; never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = dashboard_fuzz::run_answer(data);
});
