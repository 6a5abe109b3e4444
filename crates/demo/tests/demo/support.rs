//! Helpers shared by the test modules.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use demo::api::{ApiConfig, ApiServer};

/// `../shared` beside the repository, or `$VIGIL_SHARED_DIR`.
pub(crate) fn shared_dir() -> PathBuf {
    std::env::var_os("VIGIL_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared")))
}

/// A demo API with no delay, logging into a temporary directory.
pub(crate) async fn start(tweak: impl FnOnce(&mut ApiConfig)) -> (ApiServer, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut config = ApiConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        max_delay: Duration::ZERO,
        log_dir: dir.path().to_owned(),
        ..ApiConfig::default()
    };
    tweak(&mut config);
    (ApiServer::start(config).await.unwrap(), dir)
}

pub(crate) fn url(server: &ApiServer, path: &str) -> String {
    format!("http://{}{path}", server.addr())
}

/// One sample line of the text format.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Sample {
    pub(crate) name: String,
    pub(crate) labels: BTreeMap<String, String>,
    pub(crate) value: f64,
}

/// A deliberately small reader of the text format for assertions: label
/// values here never hold `,` or `"`, which it does not handle.
pub(crate) fn parse_samples(text: &str) -> Vec<Sample> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|line| {
            let (series, value) = line.rsplit_once(' ').unwrap();
            let (name, labels) = match series.split_once('{') {
                Some((name, rest)) => {
                    let body = rest.strip_suffix('}').unwrap();
                    let labels = body
                        .split(',')
                        .filter(|p| !p.is_empty())
                        .map(|pair| {
                            let (k, v) = pair.split_once('=').unwrap();
                            (k.to_owned(), v.trim_matches('"').to_owned())
                        })
                        .collect();
                    (name, labels)
                }
                None => (series, BTreeMap::new()),
            };
            let value = match value {
                "+Inf" => f64::INFINITY,
                "-Inf" => f64::NEG_INFINITY,
                v => v.parse().unwrap(),
            };
            Sample {
                name: name.to_owned(),
                labels,
                value,
            }
        })
        .collect()
}

/// `# TYPE` lines: family name → type.
pub(crate) fn family_types(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .map(|rest| {
            let (name, kind) = rest.split_once(' ').unwrap();
            (name.to_owned(), kind.to_owned())
        })
        .collect()
}

/// The value of the sample `name` whose labels include all of `labels`
/// (0 when there is none), failing if several match.
pub(crate) fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> f64 {
    let matching: Vec<&Sample> = samples
        .iter()
        .filter(|s| {
            s.name == name
                && labels
                    .iter()
                    .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
        })
        .collect();
    assert!(
        matching.len() <= 1,
        "{name}{labels:?} is ambiguous: {matching:?}"
    );
    matching.first().map_or(0.0, |s| s.value)
}

/// `http_requests_total` as (handler, method, status) → count.
pub(crate) fn requests_by_label_set(samples: &[Sample]) -> BTreeMap<(String, String, String), u64> {
    samples
        .iter()
        .filter(|s| s.name == "http_requests_total")
        .map(|s| {
            let label = |name: &str| s.labels[name].clone();
            (
                (label("handler"), label("method"), label("status")),
                s.value as u64,
            )
        })
        .collect()
}

pub(crate) async fn scrape(server: &ApiServer) -> String {
    reqwest::get(url(server, "/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}
