//! promtail-config.yaml loading: the reference file and the golden configs,
//! Promtail 2.8's defaults, errors with their lines, keys accepted without
//! effect, target kinds not supported, `${VAR}` and the command line's
//! overrides.

use std::path::{Path, PathBuf};
use std::time::Duration;

use agent::config::{
    ClientAuth, Config, ConfigError, FileError, Location, LogLevel, Overrides, Secret, TargetKind,
    TlsVersion, expand_env_with, parse_external_labels,
};
use agent::pipeline::StageConfig;

const SECOND: Duration = Duration::from_secs(1);

fn reference_path() -> PathBuf {
    testkit::shared_dir().join("reference/config/promtail-config.yaml")
}

fn parse(text: &str) -> Config {
    match Config::parse(text, "promtail.yaml") {
        Ok(config) => config,
        Err(e) => panic!("{e}"),
    }
}

/// Parses `text`, which must fail, and returns the error as displayed.
fn error(text: &str) -> String {
    match Config::parse(text, "promtail.yaml") {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(e) => e.to_string(),
    }
}

/// The `source` of a `timestamp` stage.
fn timestamp_source(stage: &StageConfig) -> &str {
    match stage {
        StageConfig::Timestamp(t) => &t.source,
        other => panic!("not a timestamp stage: {other:?}"),
    }
}

/// A file with one client and one file job, to which a test adds keys.
const MINIMAL: &str = "clients:
  - url: http://127.0.0.1:3100/loki/api/v1/push
scrape_configs:
  - job_name: app
    static_configs:
      - labels: {job: app, __path__: /var/log/*.log}
";

#[test]
fn reference_file_loads_unchanged_with_the_defaults_filled() {
    let config = match Config::load(&reference_path(), false) {
        Ok(config) => config,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(config.server.http_listen_port, 9080);
    assert_eq!(config.server.http_listen_address, "");
    assert!(!config.server.disable);
    assert_eq!(config.clients.len(), 1);
    let client = &config.clients[0];
    assert_eq!(client.url, "http://loki:3100/loki/api/v1/push");
    assert_eq!(client.batch_wait, SECOND);
    assert_eq!(client.batch_size, 1 << 20);
    assert_eq!(client.timeout, 10 * SECOND);
    assert_eq!(client.backoff.min_period, Duration::from_millis(500));
    assert_eq!(client.backoff.max_period, 300 * SECOND);
    assert_eq!(client.backoff.max_retries, 10);
    assert_eq!(client.tenant_id, "");
    assert_eq!(config.positions.filename, Path::new("/tmp/positions.yaml"));
    assert_eq!(config.positions.sync_period, 10 * SECOND);
    assert_eq!(config.target_config.sync_period, 10 * SECOND);
    assert_eq!(config.limits.readline_rate, 10_000.0);
    assert_eq!(config.limits.max_line_size, 0);

    let job = &config.scrape_configs[0];
    assert_eq!(job.job_name, "fast-api-logs");
    assert_eq!(job.kind, Some(TargetKind::Files));
    assert_eq!(job.static_configs.len(), 1);
    assert_eq!(job.static_configs[0].targets, ["localhost"]);
    assert_eq!(job.static_configs[0].path(), Some("/var/log/logs.log"));
    assert_eq!(job.static_configs[0].labels["job"], "fast-api-logs");
    assert_eq!(job.static_configs[0].labels["env"], "dev");
    assert_eq!(job.pipeline_stages.len(), 6);

    let names: Vec<&str> = job.pipeline_stages.iter().map(StageConfig::name).collect();
    assert_eq!(
        names,
        [
            "regex",
            "labels",
            "timestamp",
            "regex",
            "labels",
            "timestamp"
        ]
    );
    // Quirk one: the `labels` stages give no value, which maps each label
    // to the extracted field of the same name.
    let StageConfig::Labels(labels) = &job.pipeline_stages[1] else {
        panic!("{:?}", job.pipeline_stages[1]);
    };
    for name in ["log_level", "module", "function"] {
        assert_eq!(labels.labels[name], name);
    }
    // Quirk two: the second timestamp stage reads `log_timestamp`, which
    // only the first regex extracts.
    assert_eq!(timestamp_source(&job.pipeline_stages[2]), "log_timestamp");
    assert_eq!(timestamp_source(&job.pipeline_stages[5]), "log_timestamp");
    let StageConfig::Regex(second) = &job.pipeline_stages[3] else {
        panic!("{:?}", job.pipeline_stages[3]);
    };
    assert!(second.expression.as_str().contains("(?P<timestamp>"));

    assert_eq!(config.not_applicable(), ["server.grpc_listen_port"]);
    assert!(config.not_supported().is_empty());
    assert!(config.validate(false).is_ok());
}

#[test]
fn vigils_own_config_loads_with_its_variables() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/promtail-config.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    let lookup = |name: &str| (name == "VIGIL_DATA_DIR").then(|| "/srv/vigil".to_owned());
    let expanded = expand_env_with(&text, "promtail-config.yaml", lookup).unwrap();
    let config = parse(&expanded);
    assert_eq!(
        config.positions.filename,
        Path::new("/srv/vigil/promtail/positions.yaml")
    );
    let job = &config.scrape_configs[0];
    assert_eq!(job.static_configs.len(), 2);
    assert_eq!(
        job.static_configs[1].path(),
        Some("/srv/vigil/logs/loggen/*.log")
    );
    assert_eq!(timestamp_source(&job.pipeline_stages[5]), "timestamp");
    assert!(config.validate(false).is_ok());
}

/// The golden cases' configs, with the case's name.
fn golden_configs() -> Vec<(String, String)> {
    let root = testkit::shared_dir().join("conformance/golden");
    let mut out = Vec::new();
    for suite in ["promtail-pipelines", "promtail-files"] {
        let dir = root.join(suite);
        let mut candidates = vec![dir.join("config.yaml")];
        if let Ok(entries) = std::fs::read_dir(&dir) {
            candidates.extend(entries.flatten().map(|e| e.path().join("config.yaml")));
        }
        for path in candidates {
            if let Ok(text) = std::fs::read_to_string(&path) {
                let name = path.parent().unwrap().file_name().unwrap();
                // `{dir}` stands for the directory the case ran in.
                out.push((
                    name.to_string_lossy().into_owned(),
                    text.replace("{dir}", "/tmp/case"),
                ));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn every_golden_config_loads() {
    let configs = golden_configs();
    assert!(
        configs.len() >= 20,
        "golden configs missing: {}",
        configs.len()
    );
    for (case, text) in configs {
        if case.starts_with("case14") {
            // Promtail 2.8 refuses its `drop` stage (a list `source`) when
            // it builds the pipeline; that check is the drop stage's.
            continue;
        }
        let config = match Config::parse(&text, &case) {
            Ok(config) => config,
            Err(e) => panic!("{case}: {e}"),
        };
        assert!(config.validate(false).is_ok(), "{case}");
        assert!(config.not_supported().is_empty(), "{case}");
        assert!(!config.scrape_configs[0].pipeline_stages.is_empty() || case.contains("case30"));
    }
}

#[test]
fn a_bad_stage_names_its_line() {
    let err = error(
        "scrape_configs:\n  - job_name: a\n    pipeline_stages:\n      - regex:\n          expression: '(?P<x'\n",
    );
    assert!(err.starts_with("promtail.yaml:"), "{err}");
    assert!(
        err.contains("scrape_configs[0].pipeline_stages[0]"),
        "{err}"
    );
}

#[test]
fn golden_files_config_reads_its_glob_and_fast_sync() {
    let (_, text) = golden_configs()
        .into_iter()
        .find(|(case, _)| case == "promtail-files")
        .expect("the promtail-files golden config");
    let config = parse(&text);
    assert_eq!(config.server.http_listen_address, "127.0.0.1");
    assert_eq!(config.server.http_listen_port, 3197);
    assert_eq!(config.positions.sync_period, SECOND);
    assert_eq!(config.clients[0].batch_wait, Duration::from_millis(200));
    assert_eq!(
        config.scrape_configs[0].static_configs[0].path(),
        Some("/tmp/case/logs/*.log")
    );
}

#[test]
fn an_empty_file_is_all_defaults_and_has_no_client() {
    let config = parse("# nothing\n");
    assert_eq!(config.server.http_listen_port, 80);
    assert_eq!(
        config.positions.filename,
        Path::new("/var/log/positions.yaml")
    );
    assert!(config.clients.is_empty());
    assert_eq!(
        config.validate(false).unwrap_err().to_string(),
        "promtail.yaml: at least one client config should be provided (clients[].url, or -client.url)"
    );
}

/// Each case: a fragment added to [`MINIMAL`]'s top level, and what it sets.
#[test]
fn settings_are_read() {
    let config = parse(&format!(
        "{MINIMAL}server:
  http_listen_address: 0.0.0.0
  http_listen_port: 9080
  disable: yes
  log_level: debug
  health_check_target: false
positions:
  filename: /data/positions.yaml
  sync_period: 1m30s
  ignore_invalid_yaml: true
target_config:
  sync_period: 5s
  stdin: true
limits_config:
  readline_rate: 50
  readline_burst: 100
  readline_rate_enabled: true
  readline_rate_drop: false
  max_streams: 7
  max_line_size: 256KB
  max_line_size_truncate: true
"
    ));
    assert_eq!(config.server.http_listen_address, "0.0.0.0");
    assert!(config.server.disable);
    assert_eq!(config.server.log_level, LogLevel::Debug);
    assert!(!config.server.health_check_target);
    assert_eq!(config.positions.sync_period, 90 * SECOND);
    assert!(config.positions.ignore_invalid_yaml);
    assert_eq!(config.target_config.sync_period, 5 * SECOND);
    assert!(config.target_config.stdin);
    let limits = &config.limits;
    assert_eq!(limits.readline_rate, 50.0);
    assert_eq!(limits.readline_burst, 100);
    assert!(limits.readline_rate_enabled);
    assert!(!limits.readline_rate_drop);
    assert_eq!(limits.max_streams, 7);
    assert_eq!(limits.max_line_size, 256 * 1024);
    assert!(limits.max_line_size_truncate);
}

#[test]
fn client_settings_are_read() {
    let config = parse(
        "clients:
  - url: https://logs.example/loki/api/v1/push
    name: main
    tenant_id: 42
    batchwait: 5s
    batchsize: 102400
    timeout: 30s
    backoff_config: {min_period: 1s, max_period: 1m, max_retries: 3}
    external_labels: {host: web1}
    headers: {X-Extra: yes}
    basic_auth: {username: u, password_file: /run/secret}
    tls_config: {ca_file: /ca.pem, insecure_skip_verify: true, min_version: TLS12}
    drop_rate_limited_batches: true
",
    );
    let client = &config.clients[0];
    assert_eq!(client.name, "main");
    assert_eq!(client.tenant_id, "42");
    assert_eq!(client.batch_wait, 5 * SECOND);
    assert_eq!(client.batch_size, 102_400);
    assert_eq!(client.timeout, 30 * SECOND);
    assert_eq!(client.backoff.min_period, SECOND);
    assert_eq!(client.backoff.max_period, 60 * SECOND);
    assert_eq!(client.backoff.max_retries, 3);
    assert_eq!(client.external_labels["host"], "web1");
    // A Go string takes the scalar as written.
    assert_eq!(client.headers["X-Extra"], "yes");
    assert_eq!(
        client.auth,
        Some(ClientAuth::Basic {
            username: "u".into(),
            password: Secret::File("/run/secret".into()),
        })
    );
    assert_eq!(client.tls.ca_file.as_deref(), Some(Path::new("/ca.pem")));
    assert!(client.tls.insecure_skip_verify);
    assert_eq!(client.tls.min_version, Some(TlsVersion::Tls12));
    assert!(client.drop_rate_limited_batches);
}

#[test]
fn bearer_tokens_are_bearer_authorizations() {
    let auth = |block: &str| {
        let config = parse(&format!("clients:\n  - url: http://x\n    {block}\n"));
        config.clients[0].auth.clone()
    };
    let bearer = |credentials| {
        Some(ClientAuth::Authorization {
            scheme: "Bearer".into(),
            credentials,
        })
    };
    assert_eq!(
        auth("bearer_token: abc"),
        bearer(Secret::Inline("abc".into()))
    );
    assert_eq!(
        auth("bearer_token_file: /t"),
        bearer(Secret::File("/t".into()))
    );
    assert_eq!(
        auth("authorization: {credentials: abc}"),
        bearer(Secret::Inline("abc".into()))
    );
    assert_eq!(
        auth("authorization: {type: Token, credentials_file: /t}"),
        Some(ClientAuth::Authorization {
            scheme: "Token".into(),
            credentials: Secret::File("/t".into()),
        })
    );
    assert_eq!(auth("tenant_id: t"), None);
}

#[test]
fn secrets_do_not_show_in_debug_output() {
    let config = parse("clients:\n  - url: http://x\n    bearer_token: hunter2\n");
    assert!(!format!("{config:?}").contains("hunter2"));
}

/// Each case: a text and the error Promtail's reading gives, as vigil
/// displays it.
#[test]
fn invalid_files_name_the_line_and_the_problem() {
    for (text, expected) in [
        (
            "serverr:\n  http_listen_port: 1\n",
            "promtail.yaml:1:1: unknown field \"serverr\", did you mean \"server\"?",
        ),
        (
            "global:\n  file_watch_config: {}\n",
            "promtail.yaml:1:1: unknown field \"global\"",
        ),
        (
            "server:\n  http_listen_port: 9080\n  http_port: 1\n",
            "promtail.yaml:3:3: server: unknown field \"http_port\"",
        ),
        (
            "server:\n  http_listen_port: abc\n",
            "promtail.yaml:2:21: server.http_listen_port: invalid type: string \"abc\", expected a port number",
        ),
        (
            "positions:\n  sync_period: 10\n  filename: 1\n  bogus: 1\n",
            "promtail.yaml:4:3: positions: unknown field \"bogus\"",
        ),
        (
            "positions:\n  sync_period: 1d\n",
            "promtail.yaml:2:16: positions.sync_period: invalid duration \"1d\": time: unknown unit \"d\" in duration \"1d\"",
        ),
        (
            "clients:\n  - url: http://x\n    batchwait: soon\n",
            "promtail.yaml:3:16: clients[0].batchwait: invalid duration \"soon\": time: invalid duration \"soon\"",
        ),
        (
            "clients:\n  - url: http://x\n    backoff_config:\n      max_retires: 3\n",
            "promtail.yaml:4:7: clients[0].backoff_config: unknown field \"max_retires\", did you mean \"max_retries\"?",
        ),
        (
            "clients:\n  - url: http://x\n    external_labels:\n      1host: a\n",
            "promtail.yaml:4:7: clients[0].external_labels: \"1host\" is not a valid label name",
        ),
        (
            "clients:\n  - url: http://x\n    bearer_token: a\n    bearer_token_file: /b\n",
            "promtail.yaml:2:5: clients[0]: at most one of bearer_token & bearer_token_file must be configured",
        ),
        (
            "limits_config:\n  max_line_size: 2 lines\n",
            "promtail.yaml:2:18: limits_config.max_line_size: invalid size \"2 lines\"",
        ),
        (
            "server:\n  log_level: verbose\n",
            "promtail.yaml:2:14: server.log_level: unrecognized log level \"verbose\"",
        ),
        (
            "scrape_configs:\n  - job_name: a\n  - static_configs: []\n",
            "promtail.yaml:3:5: scrape_configs[1]: job_name is empty",
        ),
        (
            "scrape_configs:\n  - job_name: a\n    static_configs:\n      - labels: {job: a}\n        target: [x]\n",
            "promtail.yaml:5:9: scrape_configs[0].static_configs[0]: unknown field \"target\", did you mean \"targets\"?",
        ),
        (
            "scrape_configs:\n  - job_name: a\n    azure_event_hubs: {}\n",
            "promtail.yaml:3:5: scrape_configs[0]: unknown field \"azure_event_hubs\"",
        ),
        (
            "scrape_configs:\n  - job_name: a\n    file_sd_configs:\n      - files: [targets.txt]\n",
            "promtail.yaml:4:9: scrape_configs[0].file_sd_configs[0]: path name \"targets.txt\" is not valid for file discovery",
        ),
        (
            "server: [\n",
            "promtail.yaml:2:1: did not find expected node content",
        ),
    ] {
        let got = error(text);
        assert!(
            got == expected || got.starts_with(&format!("{expected} ")),
            "{text}\n got: {got}\nwant: {expected}"
        );
    }
}

#[test]
fn every_error_location_lies_inside_its_text() {
    for text in [
        "server:\n  http_listen_port: 99999\n",
        "clients: 3\n",
        "scrape_configs:\n  - job_name: a\n    pipeline_stages: {}\n",
        "positions:\n  sync_period:\n    - 1s\n",
        "a: b: c\n",
        "x",
    ] {
        match Config::parse(text, "p.yaml") {
            Err(ConfigError::Invalid(FileError {
                location: Some(Location { line, column }),
                ..
            })) => {
                let lines: Vec<&str> = text.split('\n').collect();
                assert!(line >= 1 && line <= lines.len(), "{text:?}: line {line}");
                assert!(
                    column >= 1 && column <= lines[line - 1].chars().count() + 1,
                    "{text:?}: column {column}"
                );
            }
            other => panic!("{text:?}: {other:?}"),
        }
    }
}

#[test]
fn durations_are_go_durations() {
    let sync = |value: &str| {
        Config::parse(&format!("positions:\n  sync_period: {value}\n"), "p.yaml")
            .map(|c| c.positions.sync_period)
            .ok()
    };
    assert_eq!(sync("250ms"), Some(Duration::from_millis(250)));
    assert_eq!(sync("1h2m3s"), Some(Duration::from_secs(3723)));
    assert_eq!(sync("1.5s"), Some(Duration::from_millis(1500)));
    // yaml.v2 reads a bare number into a time.Duration as nanoseconds.
    assert_eq!(sync("10"), Some(Duration::from_nanos(10)));
    assert_eq!(sync("'10'"), None);
    assert_eq!(sync("1w"), None);
}

#[test]
fn keys_without_effect_are_listed() {
    let config = parse(&format!(
        "{MINIMAL}server:
  http_listen_port: 9080
  grpc_listen_port: 0
  register_instrumentation: true
  http_server_read_timeout: 30s
options:
  stream_lag_labels: filename
tracing:
  enabled: false
wal:
  enabled: false
  cleanSegmentsOlderThan: 1h
"
    ));
    assert_eq!(
        config.not_applicable(),
        [
            "server.grpc_listen_port",
            "server.register_instrumentation",
            "server.http_server_read_timeout",
            "options.stream_lag_labels",
            "tracing.enabled",
            "wal.enabled",
            "wal.cleanSegmentsOlderThan",
        ]
    );
}

#[test]
fn client_keys_without_effect_are_listed_by_client() {
    let config = parse(
        "clients:\n  - url: http://a\n  - url: http://b\n    follow_redirects: false\n    enable_http2: true\n",
    );
    assert_eq!(
        config.not_applicable(),
        ["clients[1].follow_redirects", "clients[1].enable_http2"]
    );
}

/// Each case: a job's target block, the kind Promtail runs it as, and the
/// keys vigil reports as not supported.
#[test]
fn target_kinds_other_than_files_are_reported_with_their_job() {
    for (block, kind, unsupported) in [
        (
            "static_configs: [{labels: {__path__: /x}}]",
            Some(TargetKind::Files),
            &[][..],
        ),
        (
            "file_sd_configs: [{files: [/etc/targets/*.json]}]",
            Some(TargetKind::Files),
            &[],
        ),
        (
            "journal: {max_age: 12h}",
            Some(TargetKind::Journal),
            &["journal"],
        ),
        (
            "syslog: {listen_address: 0.0.0.0:1514}",
            Some(TargetKind::Syslog),
            &["syslog"],
        ),
        (
            "gcplog: {project_id: p, subscription: s}",
            Some(TargetKind::Gcplog),
            &["gcplog"],
        ),
        (
            "loki_push_api: {server: {http_listen_port: 3500}}",
            Some(TargetKind::LokiPushApi),
            &["loki_push_api"],
        ),
        (
            "windows_events: {eventlog_name: Application}",
            Some(TargetKind::WindowsEvents),
            &["windows_events"],
        ),
        (
            "kafka: {brokers: [k:9092], topics: [t]}",
            Some(TargetKind::Kafka),
            &["kafka"],
        ),
        ("gelf: {}", Some(TargetKind::Gelf), &["gelf"]),
        (
            "cloudflare: {api_token: t, zone_id: z}",
            Some(TargetKind::Cloudflare),
            &["cloudflare"],
        ),
        (
            "heroku_drain: {server: {http_listen_port: 8080}}",
            Some(TargetKind::HerokuDrain),
            &["heroku_drain"],
        ),
        (
            "docker_sd_configs: [{host: unix:///var/run/docker.sock}]",
            Some(TargetKind::DockerSd),
            &["docker_sd_configs"],
        ),
        (
            "kubernetes_sd_configs: [{role: pod}]",
            Some(TargetKind::Files),
            &["kubernetes_sd_configs"],
        ),
        (
            "consul_sd_configs: [{server: c:8500}]",
            Some(TargetKind::Files),
            &["consul_sd_configs"],
        ),
        // Promtail runs the file job and ignores the journal.
        (
            "static_configs: [{labels: {__path__: /x}}]\n    journal: {}",
            Some(TargetKind::Files),
            &["journal"],
        ),
        ("journal:", None, &[]),
        ("pipeline_stages: []", None, &[]),
    ] {
        let config = parse(&format!(
            "clients: [{{url: http://x}}]\nscrape_configs:\n  - job_name: j\n    {block}\n"
        ));
        let job = &config.scrape_configs[0];
        assert_eq!(job.kind, kind, "{block}");
        let reported: Vec<String> = config
            .not_supported()
            .iter()
            .map(|n| n.key.clone())
            .collect();
        assert_eq!(reported, unsupported, "{block}");
        for n in config.not_supported() {
            assert_eq!(n.job.as_deref(), Some("j"));
            assert!(
                n.to_string().starts_with("scrape_configs job \"j\": "),
                "{n}"
            );
        }
    }
}

#[test]
fn a_job_without_targets_is_refused_at_start_unless_reading_stdin() {
    let config = parse(
        "clients: [{url: http://x}]\nscrape_configs:\n  - job_name: j\n    pipeline_stages: []\n",
    );
    assert_eq!(
        config.validate(false).unwrap_err().to_string(),
        "promtail.yaml: no valid target scrape config defined for \"j\""
    );
    assert!(config.validate(true).is_ok());
}

#[test]
fn start_checks_refuse_what_promtail_refuses() {
    for (text, expected) in [
        (
            "clients:\n  - tenant_id: a\n",
            "clients[0]: client needs target URL",
        ),
        (
            "clients:\n  - url: loki:3100/loki/api/v1/push\n",
            "clients[0].url \"loki:3100/loki/api/v1/push\": unsupported protocol scheme",
        ),
        (
            "clients:\n  - url: http://a\n  - url: http://a\n",
            "duplicate client configs are not allowed, found duplicate for URL: http://a",
        ),
        (
            "clients:\n  - url: http://a\n    name: x\n  - url: http://b\n    name: x\n",
            "duplicate client configs are not allowed, found duplicate for URL: http://b",
        ),
        (
            "clients:\n  - url: http://a\n    stream_lag_labels: filename\n",
            "clients[0]: client config stream_lag_labels is deprecated",
        ),
    ] {
        let got = parse(text).validate(false).unwrap_err().to_string();
        assert!(
            got.starts_with(&format!("promtail.yaml: {expected}")),
            "{got}"
        );
    }
    // Two clients differing in anything but the URL are two clients.
    assert!(
        parse("clients:\n  - url: http://a\n  - url: http://a\n    tenant_id: t\n")
            .validate(false)
            .is_ok()
    );
}

#[test]
fn oauth2_is_reported_as_not_supported() {
    let config = parse("clients:\n  - url: http://a\n    oauth2: {client_id: c}\n");
    let reported: Vec<String> = config
        .not_supported()
        .iter()
        .map(|n| n.to_string())
        .collect();
    assert_eq!(reported, ["clients[0].oauth2 is not supported"]);
}

#[test]
fn static_labels_keep_empty_values_and_scalars_as_written() {
    let config = parse(
        "scrape_configs:\n  - job_name: j\n    static_configs:\n      - labels: {a: , b: 8080, c: true, __path_exclude__: /x/*.gz}\n",
    );
    let static_config = &config.scrape_configs[0].static_configs[0];
    assert_eq!(static_config.labels["a"], "");
    assert_eq!(static_config.labels["b"], "8080");
    assert_eq!(static_config.labels["c"], "true");
    assert_eq!(static_config.path(), None);
    assert_eq!(static_config.path_exclude(), Some("/x/*.gz"));
}

#[test]
fn file_sd_configs_are_read_with_their_default_refresh() {
    let config = parse(
        "scrape_configs:\n  - job_name: j\n    file_sd_configs:\n      - files: [/etc/t/*.yaml]\n      - files: [/etc/u.json]\n        refresh_interval: 1m\n",
    );
    let sd = &config.scrape_configs[0].file_sd_configs;
    assert_eq!(sd[0].files, [PathBuf::from("/etc/t/*.yaml")]);
    assert_eq!(sd[0].refresh_interval, 300 * SECOND);
    assert_eq!(sd[1].refresh_interval, 60 * SECOND);
}

#[test]
fn environment_variables_are_expanded_before_reading() {
    let text = "clients:\n  - url: http://${LOKI_HOST:-localhost}:3100/loki/api/v1/push\n    tenant_id: ${TENANT}\n";
    let lookup = |name: &str| (name == "TENANT").then(|| "team-a".to_owned());
    let config = parse(&expand_env_with(text, "p.yaml", lookup).unwrap());
    assert_eq!(
        config.clients[0].url,
        "http://localhost:3100/loki/api/v1/push"
    );
    assert_eq!(config.clients[0].tenant_id, "team-a");
}

#[test]
fn a_bad_substitution_names_its_line() {
    let err = expand_env_with("a: 1\nb: ${X\n", "p.yaml", |_| None).unwrap_err();
    assert!(
        err.to_string().starts_with("p.yaml:2:4: bad substitution"),
        "{err}"
    );
}

#[test]
fn load_expands_only_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("promtail.yaml");
    std::fs::write(&path, "positions:\n  filename: $${HOME}/p.yaml\n").unwrap();
    let plain = Config::load(&path, false).unwrap();
    assert_eq!(plain.positions.filename, Path::new("$${HOME}/p.yaml"));
    let expanded = Config::load(&path, true).unwrap();
    assert_eq!(expanded.positions.filename, Path::new("${HOME}/p.yaml"));
    let missing = Config::load(&dir.path().join("none.yaml"), false).unwrap_err();
    assert!(missing.to_string().starts_with("cannot read "), "{missing}");
}

#[test]
fn flags_point_the_reference_config_at_another_store() {
    let mut config = Config::load(&reference_path(), false).unwrap();
    config.apply(&Overrides {
        client_url: Some("http://127.0.0.1:3100/loki/api/v1/push".into()),
        client_external_labels: Some(parse_external_labels("host=ci,dc=local").unwrap()),
    });
    assert_eq!(config.clients.len(), 1);
    assert_eq!(
        config.clients[0].url,
        "http://127.0.0.1:3100/loki/api/v1/push"
    );
    assert_eq!(config.clients[0].external_labels["host"], "ci");
    assert_eq!(config.clients[0].external_labels["dc"], "local");
    assert!(config.validate(false).is_ok());
}

#[test]
fn standard_input_uses_the_first_job_with_its_labels_merged() {
    let config = parse(
        "scrape_configs:
  - job_name: first
    static_configs:
      - labels: {job: a, env: dev}
      - labels: {job: b}
  - job_name: second
",
    );
    let job = config.stdin_job("host1");
    assert_eq!(job.job_name, "first");
    let labels: Vec<(String, String)> = job.merged_static_labels().into_iter().collect();
    assert_eq!(
        labels,
        [("env".into(), "dev".into()), ("job".into(), "b".into())]
    );
}

#[test]
fn standard_input_without_a_job_is_labelled_stdin_and_hostname() {
    let job = parse("clients: [{url: http://x}]\n").stdin_job("host1");
    assert_eq!(job.job_name, "stdin");
    let labels = job.merged_static_labels();
    assert_eq!(labels["job"], "stdin");
    assert_eq!(labels["hostname"], "host1");
}

#[test]
fn more_bad_values_are_refused_at_their_line() {
    for (text, expected) in [
        (
            "scrape_configs:\n  - job_name: a\n    file_sd_configs:\n      - files: [a.json]\n        refresh_interval: 5 minutes\n",
            "promtail.yaml:5:27: scrape_configs[0].file_sd_configs[0].refresh_interval: not a valid duration string: \"5 minutes\"",
        ),
        (
            "clients:\n  - url: http://x\n    tls_config:\n      min_version: TLS14\n",
            "promtail.yaml:4:20: clients[0].tls_config.min_version: unknown TLS version: TLS14",
        ),
        (
            "clients:\n  - url: http://x\n    batchsize: 1MB\n",
            "promtail.yaml:3:16: clients[0].batchsize: invalid type: string \"1MB\", expected an integer",
        ),
        (
            "target_config:\n  stdin: maybe\n",
            "promtail.yaml:2:10: target_config.stdin: invalid type: string \"maybe\", expected a boolean",
        ),
        (
            "scrape_configs:\n  - job_name: a\n    static_configs:\n      - targets: localhost\n",
            "promtail.yaml:4:18: scrape_configs[0].static_configs[0].targets: invalid type: string \"localhost\", expected a sequence",
        ),
    ] {
        assert_eq!(error(text), expected, "{text}");
    }
}

#[test]
fn merge_keys_are_honoured_as_yaml_v2_does() {
    let config = parse(
        "clients:
  - &defaults
    url: http://a/push
    batchwait: 2s
  - <<: *defaults
    url: http://b/push
",
    );
    assert_eq!(config.clients[1].url, "http://b/push");
    assert_eq!(config.clients[1].batch_wait, 2 * SECOND);
    // Still strict, though the line is lost.
    let err = error("server: &x\n  http_listen_port: 1\npositions:\n  <<: *x\n");
    assert!(err.contains("unknown field \"http_listen_port\""), "{err}");
}

#[test]
fn the_config_file_flag_takes_the_first_file_that_exists() {
    let dir = tempfile::tempdir().unwrap();
    let second = dir.path().join("b.yaml");
    std::fs::write(&second, "server:\n  http_listen_port: 9080\n").unwrap();
    let missing = dir.path().join("a.yaml");
    let value = format!("{}, {}", missing.display(), second.display());
    let config = Config::load_config_file_flag(&value, false).unwrap();
    assert_eq!(config.server.http_listen_port, 9080);
    assert_eq!(config.file_name(), second.display().to_string());
    let err = Config::load_config_file_flag(&missing.display().to_string(), false).unwrap_err();
    assert!(err.to_string().contains("does not exist"), "{err}");
}

#[test]
fn an_error_in_a_file_with_variables_suggests_expanding_them() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.yaml");
    std::fs::write(&path, "server:\n  http_listen_port: ${PORT}\n").unwrap();
    let err = Config::load(&path, false).unwrap_err().to_string();
    assert!(
        err.ends_with(
            "(use -config.expand-env=true to expand environment variables in the config file)"
        ),
        "{err}"
    );
}

#[test]
fn relabel_configs_are_prometheus_relabel_steps() {
    let config = parse(
        "scrape_configs:
  - job_name: j
    static_configs: [{labels: {__path__: /x}}]
    relabel_configs:
      - source_labels: [__path__]
        regex: '.*/(.*)\\.log'
        target_label: file
      - action: labeldrop
        regex: tmp_.*
",
    );
    let steps = &config.scrape_configs[0].relabel_configs;
    assert_eq!(steps.len(), 2);
    assert_eq!(steps[0].source_labels, ["__path__"]);
    assert_eq!(steps[0].target_label, "file");
    assert_eq!(steps[0].replacement, "$1");
    assert_eq!(steps[1].action, model::relabel::Action::LabelDrop);
}

#[test]
fn a_bad_relabel_step_names_its_line() {
    for (step, expected) in [
        (
            "- action: replace\n        source_labels: [a]",
            "promtail.yaml:5:9: scrape_configs[0].relabel_configs[0]: relabel configuration for replace action requires 'target_label' value",
        ),
        (
            "- action: hashmod\n        target_label: a",
            "promtail.yaml:5:9: scrape_configs[0].relabel_configs[0]: relabel configuration for hashmod requires non-zero modulus",
        ),
        (
            "- regex: '('",
            "promtail.yaml:5:9: scrape_configs[0].relabel_configs[0]: invalid regex \"(\"",
        ),
        (
            "- sources: [a]",
            "promtail.yaml:5:9: scrape_configs[0].relabel_configs[0]: unknown field \"sources\"",
        ),
    ] {
        let text = format!(
            "scrape_configs:\n  - job_name: j\n    static_configs: [{{labels: {{__path__: /x}}}}]\n    relabel_configs:\n      {step}\n"
        );
        let got = error(&text);
        assert!(
            got.starts_with(expected),
            "{text}\n got: {got}\nwant: {expected}"
        );
    }
}
