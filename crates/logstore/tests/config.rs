//! loki-config.yaml loading: the reference file, Loki's defaults, keys vigil
//! does not act on, errors with their lines, data paths and `${VAR}`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use logstore::config::{Config, ConfigError, FileError, Limits, Location, expand_env_with};

const HOUR: Duration = Duration::from_secs(3600);

fn reference_path() -> PathBuf {
    testkit::shared_dir().join("reference/config/loki-config.yaml")
}

fn parse(text: &str) -> Config {
    match Config::parse(text, "loki-config.yaml") {
        Ok(config) => config,
        Err(e) => panic!("{e}"),
    }
}

/// Parses `text`, which must fail, and returns the error as displayed.
fn error(text: &str) -> String {
    match Config::parse(text, "loki-config.yaml") {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn reference_file_loads_with_its_limits_and_paths() {
    let config = match Config::load(&reference_path(), false) {
        Ok(config) => config,
        Err(e) => panic!("{e}"),
    };
    assert!(!config.auth_enabled);
    assert_eq!(config.server.http_listen_port, 3100);
    assert_eq!(config.server.http_listen_address, "");
    let limits = &config.limits;
    assert_eq!(limits.split_queries_by_interval, 24 * HOUR);
    assert!(limits.reject_old_samples);
    assert_eq!(limits.reject_old_samples_max_age, 168 * HOUR);
    assert_eq!(limits.retention_period, 360 * HOUR);
    assert_eq!(limits.max_query_series, 2500);
    assert_eq!(limits.max_query_parallelism, 2);
    // What the file leaves out keeps Loki's default.
    assert_eq!(limits.max_entries_limit_per_query, 5000);
    assert_eq!(limits.max_line_size, 256 * 1024);
    assert!(!config.compactor.retention_enabled);
    assert!(config.ruler.is_some());

    let paths = config.paths(None).unwrap();
    assert_eq!(paths.root, Path::new("/loki"));
    assert_eq!(paths.chunks_dir, Path::new("/loki/chunks"));
    assert_eq!(paths.rules_dir, Path::new("/loki/rules"));
    assert_eq!(paths.wal_dir, Path::new("/loki/wal"));
    assert_eq!(paths.compactor_dir, Path::new("/loki/compactor"));

    assert_eq!(
        config.not_applicable(),
        [
            "limits_config.max_cache_freshness_per_query",
            "frontend.max_outstanding_per_tenant",
            "query_scheduler.max_outstanding_requests_per_tenant",
            "common.replication_factor",
            "common.ring",
            "schema_config.configs",
            "ruler.alertmanager_url",
        ]
    );
}

#[test]
fn missing_keys_take_loki_3_defaults() {
    for text in ["", "# only a comment\n", "limits_config:\nserver: {}\n"] {
        let config = parse(text);
        assert!(
            config.auth_enabled,
            "Loki requires a tenant unless told not to"
        );
        assert_eq!(config.server.http_listen_port, 3100);
        assert_eq!(config.limits, Limits::default());
        assert!(!config.compactor.retention_enabled);
        assert!(config.not_applicable().is_empty() || text.contains("limits_config"));
    }
    let d = Limits::default();
    assert!(d.reject_old_samples);
    assert_eq!(d.reject_old_samples_max_age, 168 * HOUR);
    assert_eq!(d.creation_grace_period, Duration::from_secs(600));
    assert_eq!(d.retention_period, Duration::ZERO);
    assert_eq!(d.max_query_series, 500);
    assert_eq!(d.max_query_parallelism, 32);
    assert_eq!(d.split_queries_by_interval, HOUR);
    assert_eq!(d.max_entries_limit_per_query, 5000);
    assert_eq!(d.max_query_length, 721 * HOUR);
    assert_eq!(d.max_line_size, 256 << 10);
    assert!(!d.max_line_size_truncate);
    assert_eq!(d.max_label_names_per_series, 15);
    assert_eq!(d.max_label_name_length, 1024);
    assert_eq!(d.max_label_value_length, 2048);
    assert_eq!(d.ingestion_rate_mb, 4.0);
    assert_eq!(d.ingestion_burst_size_mb, 6.0);
    assert_eq!(d.per_stream_rate_limit, 3 << 20);
    assert_eq!(d.per_stream_rate_limit_burst, 15 << 20);
    assert_eq!(d.query_timeout, Duration::from_secs(60));
}

#[test]
fn every_typed_limit_is_read() {
    let config = parse(
        "limits_config:
  reject_old_samples: no
  reject_old_samples_max_age: 1w
  creation_grace_period: 5m
  retention_period: 744h
  max_query_series: 1000
  max_query_parallelism: 4
  split_queries_by_interval: 0
  max_entries_limit_per_query: 100
  max_query_length: 0s
  max_line_size: 1MB
  max_line_size_truncate: true
  max_label_names_per_series: 30
  max_label_name_length: 512
  max_label_value_length: 4096
  ingestion_rate_mb: 10.5
  ingestion_burst_size_mb: 20
  per_stream_rate_limit: 512KB
  per_stream_rate_limit_burst: 4194304
  query_timeout: 2m
compactor:
  retention_enabled: true
  working_directory: /data/compactor
server:
  http_listen_address: 127.0.0.1
  http_listen_port: 3101
",
    );
    let l = &config.limits;
    assert!(!l.reject_old_samples);
    assert_eq!(l.reject_old_samples_max_age, 168 * HOUR);
    assert_eq!(l.creation_grace_period, Duration::from_secs(300));
    assert_eq!(l.retention_period, 744 * HOUR);
    assert_eq!(l.max_query_series, 1000);
    assert_eq!(l.max_query_parallelism, 4);
    assert_eq!(l.split_queries_by_interval, Duration::ZERO);
    assert_eq!(l.max_entries_limit_per_query, 100);
    assert_eq!(l.max_query_length, Duration::ZERO);
    assert_eq!(l.max_line_size, 1 << 20);
    assert!(l.max_line_size_truncate);
    assert_eq!(l.max_label_names_per_series, 30);
    assert_eq!(l.max_label_name_length, 512);
    assert_eq!(l.max_label_value_length, 4096);
    assert_eq!(l.ingestion_rate_mb, 10.5);
    assert_eq!(l.ingestion_burst_size_mb, 20.0);
    assert_eq!(l.per_stream_rate_limit, 512 << 10);
    assert_eq!(l.per_stream_rate_limit_burst, 4 << 20);
    assert_eq!(l.query_timeout, Duration::from_secs(120));
    assert!(config.compactor.retention_enabled);
    assert_eq!(config.server.http_listen_address, "127.0.0.1");
    assert_eq!(config.server.http_listen_port, 3101);
    assert!(
        config.not_applicable().is_empty(),
        "{:?}",
        config.not_applicable()
    );
}

/// A config for a clustered Loki on object storage, built from keys of
/// Loki's documented examples: it loads, and everything vigil does not act
/// on is reported.
const CLUSTER_CONFIG: &str = r#"
target: all
auth_enabled: true
http_prefix: ""
ballast_bytes: 0
shutdown_delay: 5s
server:
  http_listen_port: 3100
  grpc_listen_port: 9096
  log_level: info
  log_format: json
  grpc_server_max_recv_msg_size: 104857600
  grpc_server_max_send_msg_size: 104857600
  grpc_server_max_concurrent_streams: 1000
  http_server_read_timeout: 600s
  http_server_write_timeout: 600s
  register_instrumentation: true
common:
  instance_addr: 127.0.0.1
  path_prefix: /var/loki
  replication_factor: 3
  persist_tokens: false
  compactor_address: http://compactor:3100
  ring:
    kvstore:
      store: memberlist
  storage:
    s3:
      endpoint: minio:9000
      bucketnames: loki-data
      access_key_id: loki
      secret_access_key: supersecret
      s3forcepathstyle: true
      insecure: true
memberlist:
  join_members: ["loki-read", "loki-write", "loki-backend"]
  dead_node_reclaim_time: 30s
  gossip_to_dead_nodes_time: 15s
  left_ingesters_timeout: 30s
  bind_addr: ['0.0.0.0']
  bind_port: 7946
schema_config:
  configs:
    - from: 2023-01-01
      store: tsdb
      object_store: s3
      schema: v13
      index:
        prefix: index_
        period: 24h
storage_config:
  tsdb_shipper:
    active_index_directory: /var/loki/tsdb-index
    cache_location: /var/loki/tsdb-cache
  aws:
    s3: s3://access_key:secret_access_key@custom_endpoint/bucket_name
    s3forcepathstyle: true
  filesystem:
    directory: /var/loki/fs-chunks
ingester:
  wal:
    enabled: true
    dir: /var/loki/ingester-wal
    replay_memory_ceiling: 1GB
  chunk_idle_period: 1h
  max_chunk_age: 2h
  chunk_target_size: 1048576
  chunk_encoding: snappy
  lifecycler:
    ring:
      replication_factor: 1
ingester_client:
  remote_timeout: 10s
querier:
  max_concurrent: 16
  query_ingesters_within: 3h
query_range:
  align_queries_with_step: true
  cache_results: true
  results_cache:
    cache:
      embedded_cache:
        enabled: true
        max_size_mb: 100
frontend:
  max_outstanding_per_tenant: 4096
  compress_responses: true
  log_queries_longer_than: 5s
  encoding: protobuf
frontend_worker:
  frontend_address: query-frontend:9095
query_scheduler:
  max_outstanding_requests_per_tenant: 32768
compactor:
  working_directory: /var/loki/retention
  compaction_interval: 10m
  retention_enabled: true
  retention_delete_delay: 2h
  retention_delete_worker_count: 150
  delete_request_store: s3
limits_config:
  retention_period: 744h
  max_query_series: 100000
  max_cache_freshness_per_query: 10m
  ingestion_rate_strategy: global
  max_global_streams_per_user: 5000
  allow_structured_metadata: true
  volume_enabled: true
  retention_stream:
    - selector: '{namespace="dev"}'
      priority: 1
      period: 24h
  per_tenant_override_config: /etc/overrides.yaml
  otlp_config:
    resource_attributes:
      attributes_config:
        - action: index_label
          attributes: [service.group]
chunk_store_config:
  chunk_cache_config:
    embedded_cache:
      enabled: true
table_manager:
  retention_deletes_enabled: false
  retention_period: 0s
ruler:
  alertmanager_url: http://alertmanager:9093
  enable_api: true
  storage:
    type: local
    local:
      directory: /etc/loki/rules
ruler_storage:
  backend: filesystem
index_gateway:
  mode: simple
pattern_ingester:
  enabled: true
bloom_build:
  enabled: false
bloom_gateway:
  enabled: false
runtime_config:
  file: /etc/loki/runtime.yaml
operational_config:
  log_push_request: false
tracing:
  enabled: false
analytics:
  reporting_enabled: false
profiling:
  block_profile_rate: 0
distributor:
  ring:
    kvstore:
      store: memberlist
compactor_grpc_client:
  grpc_compression: snappy
internal_server:
  enable: false
"#;

#[test]
fn clustered_config_loads_and_reports_what_does_not_apply() {
    let config = parse(CLUSTER_CONFIG);
    assert!(config.auth_enabled);
    assert_eq!(config.limits.retention_period, 744 * HOUR);
    assert_eq!(config.limits.max_query_series, 100_000);
    assert!(config.compactor.retention_enabled);
    assert_eq!(
        config.ingester_wal_dir.as_deref(),
        Some(Path::new("/var/loki/ingester-wal"))
    );

    let paths = config.paths(None).unwrap();
    assert_eq!(paths.root, Path::new("/var/loki"));
    assert_eq!(paths.chunks_dir, Path::new("/var/loki/fs-chunks"));
    assert_eq!(paths.wal_dir, Path::new("/var/loki/ingester-wal"));
    assert_eq!(paths.rules_dir, Path::new("/var/loki/rules"));
    assert_eq!(paths.compactor_dir, Path::new("/var/loki/retention"));

    let reported = config.not_applicable();
    for expected in [
        "target",
        "http_prefix",
        "shutdown_delay",
        "server.grpc_listen_port",
        "server.http_server_write_timeout",
        "common.instance_addr",
        "common.replication_factor",
        "common.ring",
        "common.storage.s3",
        "memberlist.join_members",
        "schema_config.configs",
        "storage_config.tsdb_shipper",
        "storage_config.aws",
        "ingester.wal.enabled",
        "ingester.wal.replay_memory_ceiling",
        "ingester.chunk_idle_period",
        "ingester.lifecycler",
        "query_range.results_cache",
        "frontend.max_outstanding_per_tenant",
        "query_scheduler.max_outstanding_requests_per_tenant",
        "compactor.compaction_interval",
        "compactor.delete_request_store",
        "limits_config.max_cache_freshness_per_query",
        "limits_config.retention_stream",
        "limits_config.otlp_config",
        "table_manager.retention_period",
        "ruler.alertmanager_url",
        "internal_server.enable",
    ] {
        assert!(
            reported.iter().any(|r| r == expected),
            "{expected} not in {reported:?}"
        );
    }
    for used in [
        "auth_enabled",
        "server.http_listen_port",
        "common.path_prefix",
        "ingester.wal.dir",
        "storage_config.filesystem.directory",
        "compactor.retention_enabled",
        "compactor.working_directory",
        "limits_config.retention_period",
        "limits_config.max_query_series",
    ] {
        assert!(
            !reported.iter().any(|r| r == used),
            "{used} reported as not applicable"
        );
    }
    // Nothing reported twice, nothing below a reported key.
    for (i, r) in reported.iter().enumerate() {
        assert!(
            !reported[..i]
                .iter()
                .any(|p| r == p || r.starts_with(&format!("{p}."))),
            "{r} repeats an earlier report"
        );
    }
}

#[test]
fn unknown_top_level_key_names_line_and_field() {
    assert_eq!(
        error("auth_enabled: false\nserver:\n  http_listen_port: 3100\nlimit_config:\n  x: 1\n"),
        "loki-config.yaml:4:1: unknown field \"limit_config\", did you mean \"limits_config\"?"
    );
}

#[test]
fn unknown_nested_key_names_line_block_and_field() {
    assert_eq!(
        error(
            "auth_enabled: false\nlimits_config:\n  retention_period: 24h\n  max_qurey_series: 10\n"
        ),
        "loki-config.yaml:4:3: limits_config: unknown field \"max_qurey_series\", did you mean \"max_query_series\"?"
    );
    let deep = error("common:\n  storage:\n    filesystem:\n      chunk_directory: /x\n");
    assert!(
        deep.starts_with(
            "loki-config.yaml:4:7: common.storage.filesystem: unknown field \"chunk_directory\""
        ),
        "{deep}"
    );
    let server = error("server:\n  http_port: 80\n");
    assert!(
        server.starts_with("loki-config.yaml:2:3: server: unknown field \"http_port\""),
        "{server}"
    );
}

#[test]
fn bad_duration_names_line_and_key() {
    let e =
        error("limits_config:\n  split_queries_by_interval: 24h\n  retention_period: 15 days\n");
    assert!(e.starts_with("loki-config.yaml:3:"), "{e}");
    assert!(
        e.contains("limits_config.retention_period: not a valid duration string: \"15 days\""),
        "{e}"
    );
    // A bare number is no duration for Loki either.
    let e = error("limits_config:\n  query_timeout: 60\n");
    assert!(
        e.starts_with("loki-config.yaml:2:") && e.contains("not a valid duration string: \"60\""),
        "{e}"
    );
}

#[test]
fn bad_size_names_line_and_key() {
    let e = error("limits_config:\n  max_line_size: 256XB\n");
    assert!(e.starts_with("loki-config.yaml:2:"), "{e}");
    assert!(
        e.contains("limits_config.max_line_size: invalid size \"256XB\""),
        "{e}"
    );
}

#[test]
fn wrong_types_name_line_and_key() {
    for (text, line, key) in [
        (
            "limits_config:\n  max_query_series: lots\n",
            2,
            "limits_config.max_query_series",
        ),
        ("\nauth_enabled: maybe\n", 2, "auth_enabled"),
        (
            "server:\n  http_listen_port: [3100]\n",
            2,
            "server.http_listen_port",
        ),
        (
            "compactor:\n  retention_enabled: 1\n",
            2,
            "compactor.retention_enabled",
        ),
        ("limits_config: 5\n", 1, "limits_config"),
        (
            "ingester:\n  wal:\n    dir: {a: 1}\n",
            3,
            "ingester.wal.dir",
        ),
    ] {
        let e = error(text);
        assert!(e.starts_with(&format!("loki-config.yaml:{line}:")), "{e}");
        assert!(e.contains(&format!("{key}: invalid type")), "{e}");
        assert!(!e.contains("File"), "private type names leak: {e}");
    }
}

#[test]
fn bad_yaml_names_line() {
    let e = error("server:\n  http_listen_port: 3100\n bad indent: [\n");
    assert!(e.starts_with("loki-config.yaml:"), "{e}");
}

#[test]
fn unreadable_file_is_a_read_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.yaml");
    assert!(matches!(
        Config::load(&missing, false),
        Err(ConfigError::Read { .. })
    ));
}

#[test]
fn storage_path_puts_everything_under_it() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config::load(&reference_path(), false).unwrap();
    let paths = config.resolve_paths(Some(dir.path())).unwrap();
    assert_eq!(paths.root, dir.path());
    assert_eq!(paths.chunks_dir, dir.path().join("chunks"));
    assert_eq!(paths.wal_dir, dir.path().join("wal"));
    assert_eq!(paths.rules_dir, dir.path().join("rules"));
    assert_eq!(paths.compactor_dir, dir.path().join("compactor"));
    for p in [
        &paths.chunks_dir,
        &paths.wal_dir,
        &paths.rules_dir,
        &paths.compactor_dir,
    ] {
        assert!(p.is_dir(), "{} not created", p.display());
        assert_eq!(
            std::fs::read_dir(p).unwrap().count(),
            0,
            "probe left behind"
        );
    }
}

#[test]
fn writable_config_paths_are_used_and_created() {
    let dir = tempfile::tempdir().unwrap();
    let prefix = dir.path().join("loki");
    let config = parse(&format!(
        "common:\n  path_prefix: {}/\n  storage:\n    filesystem:\n      chunks_directory: {}\n",
        prefix.display(),
        dir.path().join("elsewhere").display()
    ));
    let paths = config.resolve_paths(None).unwrap();
    assert_eq!(paths.root, prefix, "the trailing slash is dropped");
    assert_eq!(paths.chunks_dir, dir.path().join("elsewhere"));
    assert_eq!(paths.wal_dir, prefix.join("wal"));
    assert!(paths.chunks_dir.is_dir() && paths.wal_dir.is_dir() && paths.compactor_dir.is_dir());
}

#[test]
fn unwritable_config_paths_say_to_pass_storage_path() {
    let dir = tempfile::tempdir().unwrap();
    // A file where a directory should be: no permission games needed, and
    // it fails even for root.
    let blocker = dir.path().join("blocker");
    std::fs::write(&blocker, "").unwrap();
    let config = parse(&format!(
        "common:\n  path_prefix: {}/loki\n",
        blocker.display()
    ));
    match config.resolve_paths(None) {
        Err(e @ ConfigError::DataDir { .. }) => {
            let message = e.to_string();
            assert!(message.contains("pass --storage.path"), "{message}");
            assert!(message.contains("chunks directory"), "{message}");
        }
        other => panic!("expected a data directory error, got {other:?}"),
    }
    // The same config runs once told where to keep data.
    assert!(config.resolve_paths(Some(&dir.path().join("data"))).is_ok());
}

#[test]
fn no_data_directory_is_an_error() {
    assert!(matches!(
        parse("server:\n  http_listen_port: 3100\n").paths(None),
        Err(ConfigError::NoDataDir)
    ));
    // Chunks alone are enough: the others go beside them.
    let config =
        parse("common:\n  storage:\n    filesystem:\n      chunks_directory: data/chunks\n");
    let paths = config.paths(None).unwrap();
    assert_eq!(paths.root, Path::new("data"));
    assert_eq!(paths.wal_dir, Path::new("data/wal"));
}

#[test]
fn expand_env_replaces_variables_before_parsing() {
    let text = "server:\n  http_listen_port: ${PORT:-3100}\ncommon:\n  path_prefix: ${DATA}/loki\nlimits_config:\n  retention_period: ${RETENTION:-744h}\n";
    let lookup = |name: &str| match name {
        "PORT" => Some("3200".to_owned()),
        "DATA" => Some("/srv".to_owned()),
        _ => None,
    };
    let expanded = expand_env_with(text, "loki-config.yaml", lookup).unwrap();
    let config = parse(&expanded);
    assert_eq!(config.server.http_listen_port, 3200);
    assert_eq!(
        config.common.path_prefix.as_deref(),
        Some(Path::new("/srv/loki"))
    );
    assert_eq!(config.limits.retention_period, 744 * HOUR);

    let bad = expand_env_with("a: 1\nb: ${OOPS", "loki-config.yaml", |_| None).unwrap_err();
    assert_eq!(
        bad.to_string(),
        "loki-config.yaml:2:4: bad substitution (missing closing brace)"
    );
}

#[test]
fn load_expands_env_only_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("loki.yaml");
    // `$$` keeps a literal dollar, whatever the environment holds.
    std::fs::write(&file, "server:\n  http_listen_address: \"$${HOST}\"\n").unwrap();
    let expanded = Config::load(&file, true).unwrap();
    assert_eq!(expanded.server.http_listen_address, "${HOST}");
    let raw = Config::load(&file, false).unwrap();
    assert_eq!(raw.server.http_listen_address, "$${HOST}");
}

proptest::proptest! {
    /// Whatever a damaged file holds, loading it does not panic, and an
    /// error's line and column lie inside the text.
    #[test]
    fn error_locations_lie_inside_the_input(
        start in 0usize..CLUSTER_CONFIG.len(),
        len in 0usize..40,
        insert in "[ :\\-\\[\\]{}a-z0-9\\n$]{0,6}",
    ) {
        let mut text = CLUSTER_CONFIG.to_owned();
        let start = (0..=start).rev().find(|i| text.is_char_boundary(*i)).unwrap_or(0);
        let end = (start + len).min(text.len());
        let end = (end..=text.len()).find(|i| text.is_char_boundary(*i)).unwrap_or(text.len());
        text.replace_range(start..end, &insert);
        let results = [
            Config::parse(&text, "f"),
            expand_env_with(&text, "f", |_| None).and_then(|t| Config::parse(&t, "f")),
        ];
        for result in results {
            if let Err(ConfigError::Invalid(FileError { location: Some(Location { line, column }), .. })) = result {
                let lines: Vec<&str> = text.split('\n').collect();
                proptest::prop_assert!(line >= 1 && line <= lines.len(), "line {line} of {}", lines.len());
                proptest::prop_assert!(
                    column >= 1 && column <= lines[line - 1].chars().count() + 1,
                    "column {column} of {:?}", lines[line - 1]
                );
            }
        }
    }
}

/// Not a test of ours but a check against Loki's own examples: set
/// `LOKI_EXAMPLES_DIR` to a directory of Loki config files and each must
/// load. Skipped when unset, since the files are not part of this
/// repository.
#[test]
fn loki_examples_load_when_given() {
    let Some(dir) = std::env::var_os("LOKI_EXAMPLES_DIR") else {
        return;
    };
    let mut failures = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if let Err(e) = Config::load(&path, true) {
            failures.push(e.to_string());
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
