//! Fuzz target: an arbitrary provisioning folder (datasource YAML, a
//! provider's YAML, dashboard JSON; NUL-separated) loads, with problems
//! reported for what is wrong; never a panic.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

fn scratch() -> &'static tempfile::TempDir {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        tempfile::tempdir_in("/dev/shm")
            .or_else(|_| tempfile::tempdir())
            .expect("a scratch folder")
    })
}

fuzz_target!(|data: &[u8]| {
    let _ = dashboard_fuzz::run_provisioning(&scratch().path().join("p"), data);
});
