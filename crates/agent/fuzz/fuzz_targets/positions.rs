//! Fuzz target: arbitrary positions YAML or `.vigil` side file loads or is
//! refused as invalid, never panics, and what loads saves and reloads to
//! the same text.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

fn dir() -> &'static tempfile::TempDir {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    // Prefer memory: every loaded input is saved twice, with fsyncs.
    DIR.get_or_init(|| {
        tempfile::tempdir_in("/dev/shm")
            .or_else(|_| tempfile::tempdir())
            .expect("a temporary directory")
    })
}

fuzz_target!(|data: &[u8]| {
    agent_fuzz::run_positions(dir().path(), data);
});
