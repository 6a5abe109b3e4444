//! From a scrape config and a discovered target group to the targets to
//! scrape: the label population and relabeling Prometheus 3 does.
//!
//! A target starts from its group's labels, its own `__address__` and the
//! job's defaults (`job`, `__scheme__`, `__metrics_path__`,
//! `__scrape_interval__`, `__scrape_timeout__`, `__param_*`). Relabeling may
//! rewrite or drop it. Afterwards the labels starting with `__` are kept
//! only to build the URL, and `instance` defaults to the address. Unlike
//! Prometheus 2, no default port is added to the address.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use model::Labels;

use crate::config::ScrapeConfig;
use model::relabel;

/// Label names of the target model.
pub mod names {
    /// `host:port` to scrape.
    pub const ADDRESS: &str = "__address__";
    /// `http` or `https`.
    pub const SCHEME: &str = "__scheme__";
    /// Path of the metrics.
    pub const METRICS_PATH: &str = "__metrics_path__";
    /// Per-target scrape interval.
    pub const SCRAPE_INTERVAL: &str = "__scrape_interval__";
    /// Per-target scrape timeout.
    pub const SCRAPE_TIMEOUT: &str = "__scrape_timeout__";
    /// Prefix of URL query parameters.
    pub const PARAM_PREFIX: &str = "__param_";
    /// Prefix of every label that is not kept on the series.
    pub const RESERVED_PREFIX: &str = "__";
    /// The job.
    pub const JOB: &str = "job";
    /// The instance.
    pub const INSTANCE: &str = "instance";
}

/// A target ready to scrape.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// Labels added to every scraped series (no `__` labels).
    pub labels: Labels,
    /// All labels after relabeling, `__` ones included.
    pub internal: Labels,
    /// Labels before relabeling, as `/api/v1/targets` shows them.
    pub discovered: Labels,
    /// The URL to scrape.
    pub url: String,
    /// Time between scrapes.
    pub interval: Duration,
    /// Scrape time limit.
    pub timeout: Duration,
}

/// What became of one discovered target.
#[derive(Debug, Clone, PartialEq)]
pub enum Populated {
    /// Scrape it.
    Active(Target),
    /// Relabeling dropped it; its discovered labels are kept for the API.
    Dropped(Labels),
}

/// Builds the target for `address` in a group with `group_labels`.
pub fn populate(
    job: &ScrapeConfig,
    group_labels: &BTreeMap<String, String>,
    address: &str,
) -> Result<Populated, String> {
    use names::*;
    let mut labels = Labels::from_pairs(group_labels.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    labels.set(ADDRESS, address);
    let defaults = [
        (JOB, job.job_name.clone()),
        (SCHEME, job.scheme.clone().unwrap_or_else(|| "http".into())),
        (
            METRICS_PATH,
            job.metrics_path
                .clone()
                .unwrap_or_else(|| "/metrics".into()),
        ),
        (
            SCRAPE_INTERVAL,
            model::duration::format_duration(job.interval()),
        ),
        (
            SCRAPE_TIMEOUT,
            model::duration::format_duration(job.timeout()),
        ),
    ];
    for (name, value) in defaults {
        if labels.get(name).is_none() {
            labels.set(name, value);
        }
    }
    for (name, values) in &job.params {
        let label = format!("{PARAM_PREFIX}{name}");
        if let (None, Some(first)) = (labels.get(&label), values.first()) {
            labels.set(label, first.clone());
        }
    }
    let discovered = labels.clone();
    let Some(mut internal) = relabel::process(&labels, &job.relabel_configs) else {
        return Ok(Populated::Dropped(discovered));
    };
    let address = internal.get(ADDRESS).unwrap_or("").to_owned();
    if address.is_empty() {
        return Err("no address".into());
    }
    if address.contains('/') {
        return Err(format!("{address:?} is not a valid hostname"));
    }
    let interval = parse_label_duration(&internal, SCRAPE_INTERVAL, "interval")?;
    let timeout = parse_label_duration(&internal, SCRAPE_TIMEOUT, "timeout")?;
    if timeout > interval {
        return Err(format!(
            "scrape timeout cannot be greater than scrape interval ({:?} > {:?})",
            model::duration::format_duration(timeout),
            model::duration::format_duration(interval)
        ));
    }
    if internal.get(INSTANCE).is_none() {
        internal.set(INSTANCE, address.clone());
    }
    let kept = Labels::from_pairs(
        internal
            .iter()
            .filter(|l| !l.name.starts_with(RESERVED_PREFIX))
            .map(|l| (l.name.to_owned(), l.value.to_owned())),
    );
    Ok(Populated::Active(Target {
        url: url_of(&internal, job),
        labels: kept,
        internal,
        discovered,
        interval,
        timeout,
    }))
}

fn parse_label_duration(labels: &Labels, name: &str, what: &str) -> Result<Duration, String> {
    let text = labels.get(name).unwrap_or("");
    let duration = model::duration::parse_duration(text)
        .map_err(|e| format!("error parsing scrape {what}: {e}"))?;
    if duration.is_zero() {
        return Err(format!("scrape {what} cannot be 0"));
    }
    Ok(duration)
}

/// `scheme://address/path?params`, the job's `params` overridden by
/// `__param_*` labels.
fn url_of(labels: &Labels, job: &ScrapeConfig) -> String {
    use names::*;
    let mut params: BTreeMap<String, Vec<String>> = job.params.clone();
    for label in labels.iter() {
        if let Some(name) = label.name.strip_prefix(PARAM_PREFIX) {
            params.insert(name.to_owned(), vec![label.value.to_owned()]);
        }
    }
    let mut url = format!(
        "{}://{}{}",
        labels.get(SCHEME).unwrap_or("http"),
        labels.get(ADDRESS).unwrap_or(""),
        labels.get(METRICS_PATH).unwrap_or("/metrics")
    );
    let mut separator = '?';
    for (name, values) in &params {
        for value in values {
            let _ = write!(
                url,
                "{separator}{}={}",
                encode_query(name),
                encode_query(value)
            );
            separator = '&';
        }
    }
    url
}

/// Percent-encodes a query component the way Go's `url.QueryEscape` does.
fn encode_query(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(byte as char)
            }
            b' ' => out.push('+'),
            _ => {
                let _ = write!(out, "%{byte:02X}");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn job(yaml: &str) -> ScrapeConfig {
        let config = Config::parse(yaml, std::path::Path::new("t.yml")).unwrap();
        config.scrape_configs.into_iter().next().unwrap()
    }

    fn active(populated: Populated) -> Target {
        match populated {
            Populated::Active(target) => target,
            Populated::Dropped(labels) => panic!("dropped: {labels}"),
        }
    }

    #[test]
    fn defaults_give_job_instance_and_url() {
        let job = job("scrape_configs:\n  - job_name: api\n    scrape_interval: 15s\n");
        let target = active(
            populate(
                &job,
                &BTreeMap::from([("env".into(), "dev".into())]),
                "127.0.0.1:8000",
            )
            .unwrap(),
        );
        assert_eq!(
            target.labels.to_string(),
            r#"{env="dev", instance="127.0.0.1:8000", job="api"}"#
        );
        assert_eq!(target.url, "http://127.0.0.1:8000/metrics");
        assert_eq!(
            (target.interval.as_secs(), target.timeout.as_secs()),
            (15, 10)
        );
        assert_eq!(target.discovered.get("__scrape_interval__"), Some("15s"));
    }

    #[test]
    fn no_default_port_is_added() {
        let job = job("scrape_configs:\n  - job_name: api\n    scheme: https\n");
        let target = active(populate(&job, &BTreeMap::new(), "example.org").unwrap());
        assert_eq!(target.url, "https://example.org/metrics");
        assert_eq!(target.labels.get("instance"), Some("example.org"));
    }

    #[test]
    fn relabeling_rewrites_the_address_params_and_labels() {
        let job = job(concat!(
            "scrape_configs:\n  - job_name: probe\n    metrics_path: /probe\n    params:\n      module: [http_2xx]\n",
            "    relabel_configs:\n",
            "      - source_labels: [__address__]\n        target_label: __param_target\n",
            "      - source_labels: [__param_target]\n        target_label: instance\n",
            "      - target_label: __address__\n        replacement: 127.0.0.1:9115\n",
        ));
        let target = active(populate(&job, &BTreeMap::new(), "https://site.example/a b").unwrap());
        assert_eq!(
            target.url,
            "http://127.0.0.1:9115/probe?module=http_2xx&target=https%3A%2F%2Fsite.example%2Fa+b"
        );
        assert_eq!(
            target.labels.get("instance"),
            Some("https://site.example/a b")
        );
    }

    #[test]
    fn relabeling_can_drop_and_per_target_intervals_are_checked() {
        let job_yaml = "scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - source_labels: [drop]\n        regex: yes\n        action: drop\n";
        let dropped = populate(
            &job(job_yaml),
            &BTreeMap::from([("drop".into(), "yes".into())]),
            "a:1",
        )
        .unwrap();
        assert!(matches!(dropped, Populated::Dropped(l) if l.get("drop") == Some("yes")));

        let job_yaml = "scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - target_label: __scrape_timeout__\n        replacement: 2m\n";
        let error = populate(&job(job_yaml), &BTreeMap::new(), "a:1").unwrap_err();
        assert!(
            error.contains("scrape timeout cannot be greater than scrape interval"),
            "{error}"
        );

        let job_yaml = "scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - target_label: __address__\n        replacement: ''\n";
        assert_eq!(
            populate(&job(job_yaml), &BTreeMap::new(), "a:1").unwrap_err(),
            "no address"
        );
    }
}
