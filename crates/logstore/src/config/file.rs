//! loki-config.yaml as written: every key Loki 3 accepts, typed where vigil
//! acts on it and skipped where it does not.
//!
//! The key lists are the yaml tags of Loki's config structs, the union over
//! the 3.x releases (3.0 to 3.7 and main), so a file written for any of them
//! loads. Blocks vigil reads deny unknown keys, as Loki's strict decoding
//! does, and name the ones they skip; blocks vigil does not read at all are
//! skipped whole, since their inner keys are Loki's business. What the file
//! holds of the skipped keys is reported from the document itself, see
//! [`super::Config::not_applicable`].

use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};

use gocompat::yaml::{ByteSize, GoBool, GoInt, strict_block};
use model::duration::PromDuration;

strict_block! {
    /// The whole file. The top-level keys are exactly Loki's.
    pub(crate) struct FileConfig {
        pub(crate) auth_enabled: Option<GoBool>,
        pub(crate) server: Option<ServerFile>,
        pub(crate) common: Option<CommonFile>,
        pub(crate) limits_config: Option<LimitsFile>,
        pub(crate) compactor: Option<CompactorFile>,
        pub(crate) ingester: Option<Pick<WalKey, Pick<DirKey, String>>>,
        pub(crate) storage_config: Option<Pick<FilesystemKey, Pick<DirectoryKey, String>>>,
        pub(crate) ruler: Option<yaml_serde::Value>,
    }
    skipped: [
        analytics, ballast_bytes, block_builder, block_scheduler, bloom_build, bloom_compactor,
        bloom_gateway, chunk_store_config, compactor_client, compactor_grpc_client, dataobj,
        dataobj_explorer, distributor, frontend, frontend_worker, http_prefix, index_gateway,
        ingest_limits, ingest_limits_frontend, ingest_limits_frontend_client, ingester_client,
        ingester_rf, internal_server, kafka_config, kafka_ingester, lbac, legacy_read_target,
        memberlist, metastore, metastore_client, metrics_namespace, no_auth_tenant,
        operational_config, partition_ring, pattern_ingester, profiling, querier, querier_rf,
        query_engine, query_range, query_scheduler, ruler_storage, runtime_config, schema_config,
        shutdown_delay, table_manager, target, tenant_limits_allow_publish, tracing, ui,
    ]
}

strict_block! {
    /// `server`: dskit's HTTP and gRPC server settings.
    pub(crate) struct ServerFile {
        pub(crate) http_listen_address: Option<String>,
        pub(crate) http_listen_port: Option<u16>,
    }
    skipped: [
        cluster_validation, create_new_traces, graceful_shutdown_timeout,
        grpc_collect_max_streams_by_conn, grpc_listen_address, grpc_listen_conn_limit,
        grpc_listen_network, grpc_listen_port, grpc_server_keepalive_time,
        grpc_server_keepalive_timeout, grpc_server_max_concurrent_streams,
        grpc_server_max_connection_age, grpc_server_max_connection_age_grace,
        grpc_server_max_connection_idle, grpc_server_max_recv_msg_size,
        grpc_server_max_send_msg_size, grpc_server_min_time_between_pings,
        grpc_server_num_workers, grpc_server_ping_without_stream_allowed,
        grpc_server_read_buffer_size, grpc_server_recv_buffer_pools_enabled,
        grpc_server_stats_tracking_enabled, grpc_server_write_buffer_size, grpc_tls_config,
        http_listen_conn_limit, http_listen_network,
        http_log_closed_connections_without_response_enabled, http_path_prefix,
        http_server_idle_timeout, http_server_read_header_timeout, http_server_read_timeout,
        http_server_write_timeout, http_tls_config, log_format, log_level,
        log_request_at_info_level_enabled, log_request_exclude_headers_list, log_request_headers,
        log_source_ips_enabled, log_source_ips_full, log_source_ips_header, log_source_ips_regex,
        proxy_protocol_enabled, register_instrumentation,
        report_grpc_codes_in_instrumentation_label_enabled, tls_cipher_suites, tls_min_version,
        trace_request_exclude_headers_list, trace_request_headers,
    ]
}

strict_block! {
    /// `common`: settings Loki shares between its components.
    pub(crate) struct CommonFile {
        pub(crate) path_prefix: Option<String>,
        pub(crate) storage: Option<CommonStorageFile>,
    }
    skipped: [
        compactor_address, compactor_grpc_address, instance_addr, instance_interface_names,
        persist_tokens, replication_factor, ring, scratch_path,
    ]
}

strict_block! {
    /// `common.storage`: one object store for every component.
    pub(crate) struct CommonStorageFile {
        pub(crate) filesystem: Option<FilesystemFile>,
    }
    skipped: [
        alibabacloud, azure, bos, congestion_control, cos, gcs, hedging, object_store, s3, swift,
    ]
}

strict_block! {
    /// `common.storage.filesystem`.
    pub(crate) struct FilesystemFile {
        pub(crate) chunks_directory: Option<String>,
        pub(crate) rules_directory: Option<String>,
    }
    skipped: []
}

strict_block! {
    /// `compactor`.
    pub(crate) struct CompactorFile {
        pub(crate) working_directory: Option<String>,
        pub(crate) retention_enabled: Option<GoBool>,
        // Loki's hidden run-once switch is spelled `_`, which is no Rust name.
        #[serde(rename = "_")]
        #[allow(dead_code)]
        run_once: Option<IgnoredAny>,
    }
    skipped: [
        apply_retention_interval, backup_delete_request_store_db_type, compaction_interval,
        compactor_ring, delete_batch_size, delete_max_interval, delete_request_cancel_period,
        delete_request_store, delete_request_store_db_type, delete_request_store_key_prefix,
        deletion_marker_object_store_prefix, horizontal_scaling_mode, jobs_config,
        max_compaction_parallelism, retention_backoff_config, retention_delete_delay,
        retention_delete_worker_count, retention_table_timeout, skip_latest_n_tables,
        tables_to_compact, upload_parallelism, worker_config,
    ]
}

strict_block! {
    /// `limits_config`: Loki's per-tenant limits (the `Limits` struct).
    pub(crate) struct LimitsFile {
        pub(crate) reject_old_samples: Option<GoBool>,
        pub(crate) reject_old_samples_max_age: Option<PromDuration>,
        pub(crate) creation_grace_period: Option<PromDuration>,
        pub(crate) retention_period: Option<PromDuration>,
        pub(crate) max_query_series: Option<GoInt>,
        pub(crate) max_query_parallelism: Option<GoInt>,
        pub(crate) split_queries_by_interval: Option<PromDuration>,
        pub(crate) max_entries_limit_per_query: Option<GoInt>,
        pub(crate) max_query_length: Option<PromDuration>,
        pub(crate) max_line_size: Option<ByteSize>,
        pub(crate) max_line_size_truncate: Option<GoBool>,
        pub(crate) max_label_names_per_series: Option<GoInt>,
        pub(crate) max_label_name_length: Option<GoInt>,
        pub(crate) max_label_value_length: Option<GoInt>,
        pub(crate) ingestion_rate_mb: Option<f64>,
        pub(crate) ingestion_burst_size_mb: Option<f64>,
        pub(crate) per_stream_rate_limit: Option<ByteSize>,
        pub(crate) per_stream_rate_limit_burst: Option<ByteSize>,
        pub(crate) query_timeout: Option<PromDuration>,
        pub(crate) max_streams_per_user: Option<GoInt>,
        pub(crate) max_global_streams_per_user: Option<GoInt>,
    }
    skipped: [
        allow_deletes, allow_structured_metadata, block_ingestion_policy_until,
        block_ingestion_status_code, block_ingestion_until, blocked_queries, bloom_block_encoding,
        bloom_build_builder_response_timeout, bloom_build_max_builders,
        bloom_build_task_max_retries, bloom_compactor_enable_compaction,
        bloom_compactor_max_block_size, bloom_compactor_max_bloom_size,
        bloom_compactor_shard_size, bloom_creation_enabled, bloom_false_positive_rate,
        bloom_gateway_cache_key_interval, bloom_gateway_enable_filtering,
        bloom_gateway_shard_size, bloom_max_block_size, bloom_max_bloom_size, bloom_ngram_length,
        bloom_ngram_skip, bloom_planning_strategy, bloom_prefetch_blocks,
        bloom_split_series_keyspace_by, bloom_task_target_series_chunk_size, cardinality_limit,
        dataobj_index_compaction_enabled, dataobj_log_compaction_enabled, debug_engine_streams,
        debug_engine_tasks, deletion_mode, discover_generic_fields, discover_log_levels,
        discover_service_name, enable_multi_variant_queries, enforced_labels,
        engine_results_cache_time_bucket_interval, increment_duplicate_timestamp,
        index_gateway_max_capacity, index_gateway_shard_size,
        ingestion_partitions_tenant_shard_size, ingestion_rate_strategy, log_level_fields,
        log_level_from_json_max_depth, max_cache_freshness_per_query, max_chunks_per_query,
        max_concurrent_tail_requests,
        max_line_size_truncate_identifier, max_metadata_cache_freshness, max_querier_bytes_read,
        max_queriers_per_tenant, max_query_bytes_read, max_query_capacity, max_query_lookback,
        max_query_range, max_scan_task_parallelism, max_stats_cache_freshness,
        max_streams_matchers_per_query,
        max_structured_metadata_entries_count, max_structured_metadata_size,
        metric_aggregation_enabled, min_sharding_lookback, minimum_labels_number, otlp_config,
        pattern_ingester_tokenizable_json_fields_append,
        pattern_ingester_tokenizable_json_fields_default,
        pattern_ingester_tokenizable_json_fields_delete, pattern_persistence_enabled,
        pattern_persistence_granularity, pattern_rate_threshold, per_tenant_override_config,
        per_tenant_override_period, policy_enforced_labels, policy_override_limits,
        policy_stream_mapping, query_ready_index_num_days, recent_metadata_query_window,
        required_labels, retention_stream, ruler_alertmanager_config, ruler_enable_wal_replay,
        ruler_max_rule_groups_per_tenant, ruler_max_rules_per_rule_group,
        ruler_remote_evaluation_max_response_size, ruler_remote_evaluation_timeout,
        ruler_remote_write_config, ruler_remote_write_disabled, ruler_remote_write_headers,
        ruler_remote_write_queue_batch_send_deadline, ruler_remote_write_queue_capacity,
        ruler_remote_write_queue_max_backoff, ruler_remote_write_queue_max_samples_per_send,
        ruler_remote_write_queue_max_shards, ruler_remote_write_queue_min_backoff,
        ruler_remote_write_queue_min_shards, ruler_remote_write_queue_retry_on_ratelimit,
        ruler_remote_write_relabel_configs, ruler_remote_write_sigv4_config,
        ruler_remote_write_timeout, ruler_remote_write_url, ruler_tenant_shard_size,
        s3_sse_kms_encryption_context, s3_sse_kms_key_id, s3_sse_type, shard_aggregations,
        shard_streams, simulated_push_latency, sort_schema, split_ingester_queries_by_interval,
        split_instant_metric_queries_by_interval, split_metadata_queries_by_interval,
        split_recent_metadata_queries_by_interval, tsdb_max_bytes_per_shard,
        tsdb_max_query_parallelism, tsdb_precompute_chunks, tsdb_sharding_strategy,
        unordered_writes, use_owned_stream_count, volume_enabled, volume_max_series,
    ]
}

/// Names the one key a [`Pick`] reads.
pub(crate) trait PickKey {
    /// The key.
    const KEY: &'static str;
}

/// A block vigil does not type as a whole but reads one key of, such as
/// `ingester.wal.dir`: that key is decoded in place (so its errors keep
/// their line), every other key is skipped unchecked.
#[derive(Debug)]
pub(crate) struct Pick<K, T> {
    pub(crate) value: Option<T>,
    key: PhantomData<K>,
}

impl<'de, K: PickKey, T: Deserialize<'de>> Deserialize<'de> for Pick<K, T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct PickVisitor<K, T>(PhantomData<(K, T)>);
        impl<'de, K: PickKey, T: Deserialize<'de>> Visitor<'de> for PickVisitor<K, T> {
            type Value = Pick<K, T>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a mapping")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Pick {
                    value: None,
                    key: PhantomData,
                })
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut value = None;
                // Keys are read as YAML values: a block vigil skips may
                // hold keys of any kind.
                while let Some(key) = map.next_key::<yaml_serde::Value>()? {
                    if key.as_str() == Some(K::KEY) {
                        value = map.next_value::<Option<T>>()?;
                    } else {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
                Ok(Pick {
                    value,
                    key: PhantomData,
                })
            }
        }
        deserializer.deserialize_any(PickVisitor(PhantomData))
    }
}

macro_rules! pick_key {
    ($($name:ident = $key:literal),*) => {$(
        #[derive(Debug)]
        pub(crate) struct $name;
        impl PickKey for $name {
            const KEY: &'static str = $key;
        }
    )*};
}

pick_key!(
    WalKey = "wal",
    DirKey = "dir",
    FilesystemKey = "filesystem",
    DirectoryKey = "directory"
);
