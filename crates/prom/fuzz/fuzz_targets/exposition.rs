//! Fuzz target: any scrape body parses or fails cleanly in both formats,
//! and errors always name a line of the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use prom::exposition::{ExpositionFormat, parse};

fuzz_target!(|data: &[u8]| {
    let lines = data.split(|b| *b == b'\n').count();
    for format in [ExpositionFormat::Text, ExpositionFormat::OpenMetrics] {
        if let Err(error) = parse(data, format) {
            assert!(error.line >= 1 && error.line <= lines, "{error} for {lines} lines");
        }
    }
});
