//! Helpers shared by the test modules.

use std::collections::BTreeMap;
use std::time::Duration;

use demo::api::{ApiConfig, ApiServer};

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

/// One sample: its name, its other labels, its value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Sample {
    pub(crate) name: String,
    pub(crate) labels: BTreeMap<String, String>,
    pub(crate) value: f64,
}

/// The samples of a text-format body, read with the metrics server's parser.
pub(crate) fn parse_samples(text: &str) -> Vec<Sample> {
    prom::exposition::parse(text.as_bytes(), prom::exposition::ExpositionFormat::Text)
        .unwrap_or_else(|e| panic!("{e} in:\n{text}"))
        .samples
        .into_iter()
        .map(|s| Sample {
            name: s.labels.get("__name__").unwrap_or_default().to_owned(),
            labels: s
                .labels
                .iter()
                .filter(|l| l.name != "__name__")
                .map(|l| (l.name.to_owned(), l.value.to_owned()))
                .collect(),
            value: s.value,
        })
        .collect()
}

/// `# TYPE` lines: family name → type.
pub(crate) fn family_types(text: &str) -> BTreeMap<String, String> {
    prom::exposition::parse(text.as_bytes(), prom::exposition::ExpositionFormat::Text)
        .unwrap_or_else(|e| panic!("{e} in:\n{text}"))
        .metadata
        .into_iter()
        .map(|m| (m.family, m.kind.as_str().to_owned()))
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
