//! prometheus.yml loading: the reference file, a corpus whose verdicts must
//! match `promtool check config`, and error locations.

use std::path::{Path, PathBuf};
use std::process::Command;

use prom::config::Config;

#[test]
fn the_reference_prometheus_yml_loads_unchanged() {
    let config =
        Config::load(&testkit::shared_dir().join("reference/config/prometheus.yml")).unwrap();
    assert_eq!(config.global.scrape_interval.to_string(), "15s");
    let job = &config.scrape_configs[0];
    assert_eq!(job.job_name, "fastapi");
    assert_eq!(
        job.static_configs[0].targets,
        ["fast-api-metrics-test:8000"]
    );
    // Defaults filled in as Prometheus does.
    assert_eq!(job.interval().as_secs(), 15);
    assert_eq!(job.timeout().as_secs(), 10);
    assert_eq!(job.metrics_path.as_deref(), Some("/metrics"));
    assert_eq!(job.scheme.as_deref(), Some("http"));
    assert_eq!(job.honor_timestamps, Some(true));
    assert!(config.unsupported().is_empty());
}

/// Every `.yml` file directly under `tests/configs/` is named for its
/// verdict (`valid-…` or `invalid-…`); our loader and promtool must both
/// give it. The rule files those configs name live in
/// `tests/configs/rules/` and are not cases themselves.
///
/// promtool runs with `--syntax-only`, which skips the files a config
/// names, except for configs with `rule_files`: only a full check reads
/// rule files, as our loader does.
#[test]
fn verdicts_match_promtool_check_config() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/configs");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "yml"))
        .collect();
    files.sort();
    assert!(files.len() >= 25, "corpus too small");
    let (mut agreed, mut disagreed) = (0, Vec::new());
    for file in &files {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let expected_valid = name.starts_with("valid-");
        assert!(
            expected_valid || name.starts_with("invalid-"),
            "{name}: name must say its verdict"
        );
        let ours = Config::load(file);
        let reads_rule_files = std::fs::read_to_string(file)
            .unwrap()
            .contains("rule_files:");
        let promtool = Command::new("promtool")
            .args(["check", "config"])
            .args((!reads_rule_files).then_some("--syntax-only"))
            .arg(file)
            .output()
            .expect(
                "promtool not found: run ./test.sh, which installs Debian's prometheus package",
            );
        let promtool_valid = promtool.status.success();
        if ours.is_ok() == expected_valid && promtool_valid == expected_valid {
            agreed += 1;
        } else {
            disagreed.push(format!(
                "{name}: expected {}, vigil {:?}, promtool {}",
                if expected_valid { "valid" } else { "invalid" },
                ours.err().map(|e| e.to_string()),
                String::from_utf8_lossy(&promtool.stderr).trim()
            ));
        }
    }
    println!(
        "promtool verdicts: {agreed} passed, {} failed",
        disagreed.len()
    );
    assert!(disagreed.is_empty(), "{disagreed:#?}");
}

fn error_of(text: &str) -> String {
    Config::parse(text, Path::new("prometheus.yml"))
        .unwrap_err()
        .to_string()
}

#[test]
fn errors_name_the_file_and_line() {
    let message = error_of(
        "global:\n  scrape_interval: 15s\nscrape_configs:\n  - job_name: a\n    bogus: 1\n",
    );
    assert!(message.starts_with("prometheus.yml:4:"), "{message}");
    assert!(message.contains("unknown field `bogus`"), "{message}");

    let message = error_of("global:\n  scrape_intervall: 15s\n");
    assert_eq!(
        message,
        "prometheus.yml:2:3: global: unknown field `scrape_intervall`, expected one of `scrape_interval`, `scrape_timeout`, `evaluation_interval`, `external_labels`, `rule_query_offset`, `query_log_file`, `scrape_failure_log_file`, `body_size_limit`, `sample_limit`, `target_limit`, `label_limit`, `label_name_length_limit`, `label_value_length_limit`, `keep_dropped_targets`, `scrape_protocols`, `metric_name_validation_scheme`"
    );

    let message = error_of(
        "scrape_configs:\n  - job_name: first\n  - job_name: slow\n    scrape_interval: 5s\n    scrape_timeout: 10s\n",
    );
    assert_eq!(
        message,
        "prometheus.yml:3:5: scrape timeout greater than scrape interval for scrape config with job name \"slow\""
    );

    let message = error_of("global:\n  scrape_interval: 1x\n");
    assert!(message.starts_with("prometheus.yml:2:"), "{message}");
    assert!(
        message.contains(r#"not a valid duration string: "1x""#),
        "{message}"
    );
}

#[test]
fn missing_file_is_an_error_naming_it() {
    let error = Config::load(Path::new("/nonexistent/prometheus.yml")).unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("/nonexistent/prometheus.yml: "),
        "{error}"
    );
}

#[test]
fn unsupported_sections_are_accepted_and_reported() {
    let config = Config::parse(
        "alerting:\n  alertmanagers: []\nscrape_configs:\n  - job_name: k8s\n    kubernetes_sd_configs:\n      - role: pod\n",
        Path::new("p.yml"),
    )
    .unwrap();
    assert_eq!(
        config.unsupported(),
        ["alerting", "kubernetes_sd_configs in job \"k8s\""]
    );
}

/// The message of loading a job (or remote write entry) with these
/// `tls_config` lines.
fn tls_error(section: &str, tls: &str) -> String {
    let yaml = match section {
        "scrape" => {
            format!("scrape_configs:\n  - job_name: a\n    scheme: https\n    tls_config:\n{tls}")
        }
        _ => format!("remote_write:\n  - url: https://127.0.0.1:1/w\n    tls_config:\n{tls}"),
    };
    error_of(&yaml)
}

#[test]
fn tls_config_combinations_are_checked_at_load_as_prometheus_does() {
    for (section, tls, expected) in [
        (
            "scrape",
            "      ca: x\n      ca_file: ca.pem\n",
            "at most one of ca, ca_file & ca_ref must be configured",
        ),
        (
            "scrape",
            "      cert: x\n      cert_file: c.pem\n      key_file: k.pem\n",
            "at most one of cert, cert_file & cert_ref must be configured",
        ),
        (
            "scrape",
            "      cert_file: c.pem\n      key: x\n      key_file: k.pem\n",
            "at most one of key and key_file must be configured",
        ),
        (
            "scrape",
            "      cert_file: c.pem\n",
            "exactly one of key or key_file must be configured when a client certificate is configured",
        ),
        (
            "remote_write",
            "      key_file: k.pem\n",
            "exactly one of cert or cert_file must be configured when a client key is configured",
        ),
    ] {
        let message = tls_error(section, tls);
        assert!(
            message.starts_with("prometheus.yml:") && message.ends_with(expected),
            "{tls}: {message}"
        );
    }
    let message = tls_error("scrape", "      min_version: TLS1.2\n");
    assert!(message.contains("unknown TLS version: TLS1.2"), "{message}");
}

#[test]
fn tls_and_secret_files_are_relative_to_the_config_file() {
    let config = Config::parse(
        "scrape_configs:\n  - job_name: a\n    basic_auth:\n      username: u\n      password_file: secrets/p\n    tls_config:\n      ca_file: ca.pem\n      cert_file: /abs/c.pem\n      key_file: k.pem\n      min_version: TLS12\nremote_write:\n  - url: https://127.0.0.1:1/w\n    tls_config:\n      ca_file: certs/ca.pem\n",
        Path::new("/etc/vigil/prometheus.yml"),
    )
    .unwrap();
    let http = &config.scrape_configs[0].http;
    assert_eq!(http.tls_config.ca_file, "/etc/vigil/ca.pem");
    assert_eq!(http.tls_config.cert_file, "/abs/c.pem");
    assert_eq!(http.tls_config.key_file, "/etc/vigil/k.pem");
    assert_eq!(
        http.tls_config.min_version,
        Some(prom::config::TlsVersion::Tls12)
    );
    assert_eq!(
        http.basic_auth.as_ref().unwrap().password_file.as_deref(),
        Some("/etc/vigil/secrets/p")
    );
    assert_eq!(
        config.remote_write[0].http.tls_config.ca_file,
        "/etc/vigil/certs/ca.pem"
    );
}

fn corpus(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/configs")
        .join(name)
}

fn load_error(name: &str) -> String {
    Config::load(&corpus(name)).unwrap_err().to_string()
}

#[test]
fn rule_files_are_loaded_relative_to_the_config_and_kept() {
    let config = Config::load(&corpus("valid-rules-glob.yml")).unwrap();
    let files: Vec<_> = config.rules.iter().map(|f| f.path.clone()).collect();
    assert_eq!(
        files,
        [corpus("rules/glob-a.yml"), corpus("rules/glob-b.yml")]
    );
    let config = Config::load(&corpus("valid-rules-alerting.yml")).unwrap();
    let group = &config.rules[0].groups[0];
    assert_eq!(group.name, "availability");
    assert_eq!(group.limit, 100);
    let prom::config::rules::Rule::Alerting(alert) = &group.rules[0] else {
        panic!("{group:?}")
    };
    assert_eq!(alert.alert, "TargetDown");
    assert_eq!(alert.keep_firing_for.to_string(), "1m");
    let config = Config::load(&corpus("valid-rules-glob-matching-nothing.yml")).unwrap();
    assert!(config.rules.is_empty());
}

#[test]
fn rule_file_errors_name_the_rule_file_and_line() {
    let rules = corpus("rules");
    let rules = rules.display();
    for (case, expected) in [
        (
            "invalid-rules-bad-promql.yml",
            format!(
                "{rules}/bad-promql.yml:5:15: group \"g\", rule 1, \"job:up:sum\": could not parse expression: "
            ),
        ),
        (
            "invalid-rules-record-and-alert.yml",
            format!(
                "{rules}/record-and-alert.yml:4:17: group \"g\", rule 1, \"Down\": only one of 'record' and 'alert' must be set"
            ),
        ),
        (
            "invalid-rules-duplicate-group.yml",
            format!(
                "{rules}/duplicate-group.yml:6:5: groupname: \"g\" is repeated in the same file"
            ),
        ),
        (
            "invalid-rules-unknown-field.yml",
            format!("{rules}/unknown-field.yml:6:9: groups[0].rules[0]: unknown field `severity`"),
        ),
        (
            "invalid-rules-bad-record-name.yml",
            format!(
                "{rules}/bad-record-name.yml:4:17: group \"g\", rule 1, \"job-up-sum\": invalid recording rule name: job-up-sum"
            ),
        ),
        (
            "invalid-rules-bad-template.yml",
            format!(
                "{rules}/bad-template.yml:7:20: group \"g\", rule 1, \"Down\": annotation \"summary\": template: __alert_Down:1: unexpected EOF"
            ),
        ),
    ] {
        let message = load_error(case);
        assert!(message.starts_with(&expected), "{case}: {message}");
    }
}

#[test]
fn rule_file_patterns_are_errors_in_the_config() {
    let config = corpus("invalid-rules-missing-file.yml");
    assert_eq!(
        load_error("invalid-rules-missing-file.yml"),
        format!(
            "{}:4:6: {:?} does not point to an existing file",
            config.display(),
            corpus("rules/missing.yml").display()
        )
    );
    let config = corpus("invalid-rules-star-in-directory.yml");
    assert_eq!(
        load_error("invalid-rules-star-in-directory.yml"),
        format!(
            "{}:4:6: invalid rule file path \"rules/*/alerting.yml\"",
            config.display()
        )
    );
}

#[test]
fn jobs_without_their_own_scrape_limits_take_the_global_ones() {
    let config = Config::parse(
        "global:\n  body_size_limit: 10MB\n  sample_limit: 1000\n  target_limit: 5\n  label_limit: 30\n  \
         label_name_length_limit: 40\n  label_value_length_limit: 50\n\
         scrape_configs:\n  - job_name: a\n  - job_name: b\n    sample_limit: 7\n    label_limit: 3\n",
        Path::new("prometheus.yml"),
    )
    .unwrap();
    let (a, b) = (&config.scrape_configs[0], &config.scrape_configs[1]);
    assert_eq!(a.body_size_limit.map(|s| s.0), Some(10 * 1024 * 1024));
    assert_eq!(
        (a.sample_limit, a.target_limit, a.label_limit),
        (Some(1000), Some(5), Some(30))
    );
    assert_eq!(
        (a.label_name_length_limit, a.label_value_length_limit),
        (Some(40), Some(50))
    );
    // A job's own value wins.
    assert_eq!((b.sample_limit, b.label_limit), (Some(7), Some(3)));
}
