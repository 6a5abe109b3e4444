//! The dashboards server's decoders of files and datasource answers, each
//! behind one function that takes arbitrary bytes and panics only on a bug
//! in the server: a Prometheus or Loki query answer decoded and turned
//! into data frames, and a provisioning folder (datasource YAML, a
//! dashboard provider's YAML, dashboard JSON files) loaded.
//!
//! Shared by the libFuzzer targets (`fuzz_targets/`) and the seeded short
//! run in `cargo test -p vigil-dashboard` (`tests/no_panic.rs` includes
//! this file as a module), so both exercise the same code the same way.
//! The HTTP decoders (request bodies, cookies, headers, proxy paths) are
//! fuzzed through a running server in `tests/no_panic.rs` only.

use std::path::Path;
use std::sync::Arc;

use dashboard::provisioning::{Env, Ids, Provisioned, Provisioner};
use dashboard::query::frames::{self, Decoded, Envelope, FrameContext};

/// Decodes `data` past its first byte as a query answer (the envelope
/// Prometheus and Loki share) and makes its frames; byte 0's bit 0 asks
/// for oldest-first log lines, bit 1 for a legend format. The number of
/// frames, or the decoding error (a per-query error on the server).
pub fn run_answer(data: &[u8]) -> Result<usize, serde_json::Error> {
    let (flags, body) = data.split_first().unwrap_or((&0, &[]));
    let envelope: Envelope = serde_json::from_slice(body)?;
    let ctx = FrameContext {
        ref_id: "A".into(),
        executed: "Expr: x\nStep: 15s".into(),
        expr: "x".into(),
        legend_format: (flags & 2 != 0).then(|| "{{job}} {{ instance }} {{ {{}} }}".into()),
        interval_ms: Some(15_000),
    };
    let forward = flags & 1 != 0;
    let made = match envelope.data {
        None => Vec::new(),
        Some(Decoded::Matrix(series)) => frames::matrix_frames(&series, &ctx),
        Some(Decoded::Vector(samples)) => frames::vector_frames(&samples, &ctx),
        Some(Decoded::Scalar(point)) => vec![frames::scalar_frame(&point, &ctx)],
        Some(Decoded::String(point)) => vec![frames::string_frame(&point, &ctx)],
        Some(Decoded::Streams(streams)) => vec![frames::log_frame(&streams, &ctx, forward)],
    };
    // What the server sends must serialise (no NaN left in a number).
    for frame in &made {
        serde_json::to_vec(frame).expect("a frame serialises");
    }
    Ok(made.len())
}

/// The variable a provider's `path:` names the dashboards folder with.
pub const JSON_DIR_VAR: &str = "JSON_DIR";

/// Writes a provisioning folder under `root` (emptied first):
/// `datasources/ds.yaml`, `dashboards/p.yaml` and each of `dashboards` as
/// `json/<n>.json` (every other one in `json/sub/`), then loads it the way
/// the server does, with `$JSON_DIR` set to the `json` folder. A rescan
/// must find the same dashboards.
pub fn load_folder(
    root: &Path,
    datasources: &[u8],
    provider: &[u8],
    dashboards: &[&[u8]],
) -> Provisioned {
    let _ = std::fs::remove_dir_all(root);
    for sub in ["datasources", "dashboards", "json/sub"] {
        std::fs::create_dir_all(root.join(sub)).expect("a scratch folder");
    }
    std::fs::write(root.join("datasources/ds.yaml"), datasources).expect("written");
    std::fs::write(root.join("dashboards/p.yaml"), provider).expect("written");
    for (n, text) in dashboards.iter().enumerate() {
        let name = if n % 2 == 0 {
            format!("json/{n}.json")
        } else {
            format!("json/sub/{n}.json")
        };
        std::fs::write(root.join(name), text).expect("written");
    }
    let json_dir = root.join("json").display().to_string();
    let env: Env = Arc::new(move |name| (name == JSON_DIR_VAR).then(|| json_dir.clone()));
    let provisioner = Provisioner::new(Some(root.to_owned()), env, Arc::new(Ids::default()));
    let loaded = provisioner.load().expect("the folder exists");
    let again = provisioner.rescan(true);
    assert_eq!(loaded.dashboards.len(), again.dashboards.len());
    loaded
}

/// `data` split at NUL bytes into the datasource YAML, the provider YAML
/// and dashboard JSON files, loaded by [`load_folder`] under `root`.
pub fn run_provisioning(root: &Path, data: &[u8]) -> Provisioned {
    let mut parts = data.split(|&b| b == 0);
    let datasources = parts.next().unwrap_or_default();
    let provider = parts.next().unwrap_or_default();
    let dashboards: Vec<&[u8]> = parts.take(4).collect();
    load_folder(root, datasources, provider, &dashboards)
}
