//! What one scrape body becomes before it is stored: target labels
//! attached (with `honor_labels` or the `exported_` prefix), metric
//! relabeling, limits, and timestamps.

use model::{Labels, METRIC_NAME};

use crate::config::ScrapeConfig;
use crate::exposition::Exposition;
use crate::relabel;

/// Samples ready to append, and the counts the report series need.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Processed {
    /// `(labels, timestamp ms, value)` in exposition order.
    pub(crate) samples: Vec<(Labels, i64, f64)>,
    /// Samples in the body (`scrape_samples_scraped`).
    pub(crate) scraped: usize,
}

/// Applies the job's rules to a parsed body scraped at `now_ms`. A limit
/// that is exceeded fails the whole scrape, as in Prometheus.
pub(crate) fn process(
    exposition: Exposition,
    target_labels: &Labels,
    job: &ScrapeConfig,
    now_ms: i64,
) -> Result<Processed, String> {
    let scraped = exposition.samples.len();
    let honor_timestamps = job.honor_timestamps.unwrap_or(true);
    let mut samples = Vec::with_capacity(scraped);
    for sample in exposition.samples {
        let labels = attach_target_labels(sample.labels, target_labels, job.honor_labels);
        let Some(labels) = relabel::process(&labels, &job.metric_relabel_configs) else {
            continue;
        };
        if labels.get(METRIC_NAME).is_none() {
            // Relabeling removed the name: such a series cannot be stored.
            continue;
        }
        check_label_limits(&labels, job)?;
        let timestamp = match sample.timestamp_ms {
            Some(t) if honor_timestamps => t,
            _ => now_ms,
        };
        samples.push((labels, timestamp, sample.value));
    }
    if let Some(limit) = job.sample_limit.filter(|l| *l > 0) {
        if samples.len() as u64 > limit {
            return Err(format!(
                "sample limit exceeded: {} samples, limit {limit}",
                samples.len()
            ));
        }
    }
    Ok(Processed { samples, scraped })
}

/// Target labels win over the sample's (whose clashing values move to
/// `exported_<name>`), unless `honor_labels` keeps the sample's.
fn attach_target_labels(mut labels: Labels, target: &Labels, honor_labels: bool) -> Labels {
    for label in target.iter() {
        let existing = labels.get(&label.name).map(str::to_owned);
        match existing {
            Some(_) if honor_labels => {}
            Some(value) => {
                // `exported_job` may itself be taken: prefix until free.
                let mut name = format!("exported_{}", label.name);
                while labels.get(&name).is_some() {
                    name = format!("exported_{name}");
                }
                labels.set(name, value);
                labels.set(label.name.clone(), label.value.clone());
            }
            None => labels.set(label.name.clone(), label.value.clone()),
        }
    }
    labels
}

fn check_label_limits(labels: &Labels, job: &ScrapeConfig) -> Result<(), String> {
    let metric = labels.get(METRIC_NAME).unwrap_or("");
    if let Some(limit) = job.label_limit.filter(|l| *l > 0) {
        if labels.len() as u64 > limit {
            return Err(format!(
                "label_limit exceeded (metric: {metric}, number of labels: {}, limit: {limit})",
                labels.len()
            ));
        }
    }
    for label in labels.iter() {
        if let Some(limit) = job.label_name_length_limit.filter(|l| *l > 0) {
            if label.name.len() as u64 > limit {
                return Err(format!(
                    "label_name_length_limit exceeded (metric: {metric}, label name: {}, length: {}, limit: {limit})",
                    label.name,
                    label.name.len()
                ));
            }
        }
        if let Some(limit) = job.label_value_length_limit.filter(|l| *l > 0) {
            if label.value.len() as u64 > limit {
                return Err(format!(
                    "label_value_length_limit exceeded (metric: {metric}, label name: {}, value: {:?}, length: {}, limit: {limit})",
                    label.name,
                    label.value,
                    label.value.len()
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::exposition::{ExpositionFormat, parse};

    fn job(extra: &str) -> ScrapeConfig {
        let yaml = format!("scrape_configs:\n  - job_name: api\n{extra}");
        Config::parse(&yaml, std::path::Path::new("t.yml"))
            .unwrap()
            .scrape_configs
            .remove(0)
    }

    fn target() -> Labels {
        Labels::from_pairs([("job", "api"), ("instance", "h:1")])
    }

    fn run(body: &str, job: &ScrapeConfig) -> Result<Processed, String> {
        process(
            parse(body.as_bytes(), ExpositionFormat::Text).unwrap(),
            &target(),
            job,
            5_000,
        )
    }

    #[test]
    fn target_labels_are_attached_and_clashes_exported() {
        let out = run(
            "a{job=\"other\",exported_job=\"x\"} 1\nb 2 1000\n",
            &job(""),
        )
        .unwrap();
        assert_eq!(
            out.samples[0].0.to_string(),
            r#"{__name__="a", exported_exported_job="other", exported_job="x", instance="h:1", job="api"}"#
        );
        // Timestamps from the target are honoured by default.
        assert_eq!((out.samples[0].1, out.samples[1].1), (5_000, 1_000));
        assert_eq!(out.scraped, 2);
    }

    #[test]
    fn honor_labels_keeps_the_targets_values() {
        let out = run("a{job=\"other\"} 1\n", &job("    honor_labels: true\n")).unwrap();
        assert_eq!(out.samples[0].0.get("job"), Some("other"));
        assert_eq!(out.samples[0].0.get("instance"), Some("h:1"));
    }

    #[test]
    fn honor_timestamps_false_uses_the_scrape_time() {
        let out = run("b 2 1000\n", &job("    honor_timestamps: false\n")).unwrap();
        assert_eq!(out.samples[0].1, 5_000);
    }

    #[test]
    fn metric_relabeling_drops_and_rewrites() {
        let extra = "    metric_relabel_configs:\n      - source_labels: [__name__]\n        regex: go_.*\n        action: drop\n      - source_labels: [instance]\n        target_label: host\n        regex: (.*):.*\n";
        let out = run("go_gc 1\nkeep 2\n", &job(extra)).unwrap();
        assert_eq!(out.samples.len(), 1);
        assert_eq!(out.samples[0].0.get("host"), Some("h"));
        assert_eq!(out.scraped, 2);
    }

    #[test]
    fn limits_fail_the_scrape() {
        let error = run("a 1\nb 2\nc 3\n", &job("    sample_limit: 2\n")).unwrap_err();
        assert!(error.starts_with("sample limit exceeded"), "{error}");
        assert!(run("a 1\nb 2\n", &job("    sample_limit: 2\n")).is_ok());
        let error = run("a{x=\"1\",y=\"2\"} 1\n", &job("    label_limit: 4\n")).unwrap_err();
        assert!(error.contains("number of labels: 5, limit: 4"), "{error}");
        let error = run(
            "a{x=\"123456\"} 1\n",
            &job("    label_value_length_limit: 5\n"),
        )
        .unwrap_err();
        assert!(
            error.starts_with("label_value_length_limit exceeded"),
            "{error}"
        );
    }
}
