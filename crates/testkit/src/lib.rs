//! Test support shared by the workspace's tests. Only ever a
//! dev-dependency: nothing here ships in the binary.
//!
//! It owns one thing today: where the shared test inputs live. The
//! upstream suites, fixtures and reference configs are read at test time
//! from `shared/` beside the repository and are never copied into it.
//!
//! ```
//! let fixtures = testkit::shared_dir().join("fixtures");
//! # let _ = fixtures;
//! ```

use std::path::PathBuf;

/// `shared/` beside the repository, or `$VIGIL_SHARED_DIR` when set.
pub fn shared_dir() -> PathBuf {
    std::env::var_os("VIGIL_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared")))
}
