//! promtail-config.yaml as written: every key Promtail 2.8 accepts, typed
//! where vigil acts on it and skipped where it does not.
//!
//! The key lists are the yaml tags of Promtail 2.8's config structs and of
//! the structs they inline (weaveworks' server config, Prometheus'
//! HTTP client config). Blocks deny unknown keys, as Promtail's
//! `yaml.UnmarshalStrict` does; the blocks of target kinds vigil does not
//! run are kept as plain YAML, to be reported, not checked. What the file
//! holds of the skipped keys is reported from the document, see
//! [`super::Config::not_applicable`].

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};

use gocompat::yaml::{ByteSize, GoBool, GoDuration, GoInt, strict_block};
use model::duration::PromDuration;
use model::relabel::RelabelConfig;

use super::values::{GoString, LabelMap};
use super::{LogFormat, LogLevel, PipelineStage};

strict_block! {
    /// The whole file: Promtail 2.8's top-level keys.
    pub(crate) struct FileConfig {
        pub(crate) server: Option<ServerFile>,
        pub(crate) client: Option<Checked<ClientFile>>,
        pub(crate) clients: Option<Vec<Checked<ClientFile>>>,
        pub(crate) positions: Option<PositionsFile>,
        pub(crate) scrape_configs: Option<Vec<Checked<ScrapeFile>>>,
        pub(crate) target_config: Option<TargetFile>,
        pub(crate) limits_config: Option<LimitsFile>,
        #[allow(dead_code)]
        pub(crate) options: Option<OptionsFile>,
        #[allow(dead_code)]
        pub(crate) tracing: Option<TracingFile>,
        #[allow(dead_code)]
        pub(crate) wal: Option<WalFile>,
    }
    skipped: []
}

strict_block! {
    /// `server`: weaveworks' server settings and Promtail's own.
    pub(crate) struct ServerFile {
        pub(crate) http_listen_address: Option<GoString>,
        pub(crate) http_listen_port: Option<u16>,
        pub(crate) disable: Option<GoBool>,
        pub(crate) log_level: Option<LogLevel>,
        pub(crate) log_format: Option<LogFormat>,
        pub(crate) health_check_target: Option<GoBool>,
    }
    skipped: [
        http_listen_network, http_listen_conn_limit, grpc_listen_network, grpc_listen_address,
        grpc_listen_port, grpc_listen_conn_limit, tls_cipher_suites, tls_min_version,
        http_tls_config, grpc_tls_config, register_instrumentation, graceful_shutdown_timeout,
        http_server_read_timeout, http_server_write_timeout, http_server_idle_timeout,
        grpc_server_max_recv_msg_size, grpc_server_max_send_msg_size,
        grpc_server_max_concurrent_streams, grpc_server_max_connection_idle,
        grpc_server_max_connection_age, grpc_server_max_connection_age_grace,
        grpc_server_keepalive_time, grpc_server_keepalive_timeout,
        grpc_server_min_time_between_pings, grpc_server_ping_without_stream_allowed,
        log_source_ips_enabled, log_source_ips_header, log_source_ips_regex,
        log_request_at_info_level_enabled, http_path_prefix, external_url, profiling_enabled,
        enable_runtime_reload,
    ]
}

strict_block! {
    /// One entry of `clients` (or the legacy `client`): Promtail's client
    /// settings with Prometheus' HTTP client settings inlined.
    pub(crate) struct ClientFile {
        pub(crate) name: Option<GoString>,
        pub(crate) url: Option<GoString>,
        pub(crate) batchwait: Option<GoDuration>,
        pub(crate) batchsize: Option<GoInt>,
        pub(crate) timeout: Option<GoDuration>,
        pub(crate) tenant_id: Option<GoString>,
        pub(crate) backoff_config: Option<BackoffFile>,
        pub(crate) external_labels: Option<LabelMap>,
        pub(crate) headers: Option<std::collections::BTreeMap<String, GoString>>,
        pub(crate) basic_auth: Option<BasicAuthFile>,
        pub(crate) authorization: Option<AuthorizationFile>,
        pub(crate) bearer_token: Option<GoString>,
        pub(crate) bearer_token_file: Option<GoString>,
        pub(crate) tls_config: Option<TlsFile>,
        pub(crate) proxy_url: Option<GoString>,
        pub(crate) drop_rate_limited_batches: Option<GoBool>,
        pub(crate) stream_lag_labels: Option<GoString>,
        /// Kept to be reported: vigil fetches no OAuth2 tokens.
        pub(crate) oauth2: Option<IgnoredAny>,
    }
    skipped: [proxy_connect_header, follow_redirects, enable_http2]
}

strict_block! {
    /// `backoff_config`: dskit's backoff.
    pub(crate) struct BackoffFile {
        pub(crate) min_period: Option<GoDuration>,
        pub(crate) max_period: Option<GoDuration>,
        pub(crate) max_retries: Option<GoInt>,
    }
    skipped: []
}

strict_block! {
    /// `basic_auth`.
    pub(crate) struct BasicAuthFile {
        pub(crate) username: Option<GoString>,
        pub(crate) password: Option<GoString>,
        pub(crate) password_file: Option<GoString>,
    }
    skipped: []
}

strict_block! {
    /// `authorization`.
    pub(crate) struct AuthorizationFile {
        #[serde(rename = "type")]
        pub(crate) kind: Option<GoString>,
        pub(crate) credentials: Option<GoString>,
        pub(crate) credentials_file: Option<GoString>,
    }
    skipped: []
}

strict_block! {
    /// `tls_config`.
    pub(crate) struct TlsFile {
        pub(crate) ca_file: Option<GoString>,
        pub(crate) cert_file: Option<GoString>,
        pub(crate) key_file: Option<GoString>,
        pub(crate) server_name: Option<GoString>,
        pub(crate) insecure_skip_verify: Option<GoBool>,
        pub(crate) min_version: Option<super::TlsVersion>,
        pub(crate) max_version: Option<super::TlsVersion>,
    }
    skipped: []
}

strict_block! {
    /// `positions`.
    pub(crate) struct PositionsFile {
        pub(crate) filename: Option<GoString>,
        pub(crate) sync_period: Option<GoDuration>,
        pub(crate) ignore_invalid_yaml: Option<GoBool>,
    }
    skipped: []
}

strict_block! {
    /// `target_config`: the file targets' settings.
    pub(crate) struct TargetFile {
        pub(crate) sync_period: Option<GoDuration>,
        pub(crate) stdin: Option<GoBool>,
    }
    skipped: []
}

strict_block! {
    /// `limits_config`.
    pub(crate) struct LimitsFile {
        pub(crate) readline_rate: Option<f64>,
        pub(crate) readline_burst: Option<GoInt>,
        pub(crate) readline_rate_enabled: Option<GoBool>,
        pub(crate) readline_rate_drop: Option<GoBool>,
        pub(crate) max_streams: Option<GoInt>,
        pub(crate) max_line_size: Option<ByteSize>,
        pub(crate) max_line_size_truncate: Option<GoBool>,
    }
    skipped: []
}

strict_block! {
    /// `options`.
    pub(crate) struct OptionsFile {}
    skipped: [stream_lag_labels]
}

strict_block! {
    /// `tracing`: Jaeger, set up from the environment.
    pub(crate) struct TracingFile {}
    skipped: [enabled]
}

strict_block! {
    /// `wal`: Promtail 2.8's experimental write-ahead log.
    pub(crate) struct WalFile {
        // The one camel-cased key of Promtail's config.
        #[serde(rename = "cleanSegmentsOlderThan")]
        #[allow(dead_code)]
        clean_segments_older_than: Option<IgnoredAny>,
    }
    skipped: [enabled, dir]
}

/// Keeps the block of a target kind vigil does not run, to report it; an
/// explicit null counts as absent, as a nil pointer does in Go.
pub(crate) type Kind = Option<yaml_serde::Value>;

strict_block! {
    /// One entry of `scrape_configs`.
    pub(crate) struct ScrapeFile {
        pub(crate) job_name: Option<GoString>,
        pub(crate) pipeline_stages: Option<Vec<PipelineStage>>,
        pub(crate) static_configs: Option<Vec<StaticFile>>,
        pub(crate) file_sd_configs: Option<Vec<Checked<FileSdFile>>>,
        pub(crate) relabel_configs: Option<Vec<Checked<RelabelConfig>>>,
        pub(crate) encoding: Option<GoString>,
        pub(crate) journal: Kind,
        pub(crate) syslog: Kind,
        pub(crate) gcplog: Kind,
        pub(crate) loki_push_api: Kind,
        pub(crate) windows_events: Kind,
        pub(crate) kafka: Kind,
        pub(crate) gelf: Kind,
        pub(crate) cloudflare: Kind,
        pub(crate) heroku_drain: Kind,
        pub(crate) docker_sd_configs: Kind,
        pub(crate) dns_sd_configs: Kind,
        pub(crate) consul_sd_configs: Kind,
        pub(crate) consulagent_sd_configs: Kind,
        pub(crate) digitalocean_sd_configs: Kind,
        pub(crate) dockerswarm_sd_configs: Kind,
        pub(crate) serverset_sd_configs: Kind,
        pub(crate) nerve_sd_configs: Kind,
        pub(crate) marathon_sd_configs: Kind,
        pub(crate) kubernetes_sd_configs: Kind,
        pub(crate) gce_sd_configs: Kind,
        pub(crate) ec2_sd_configs: Kind,
        pub(crate) openstack_sd_configs: Kind,
        pub(crate) azure_sd_configs: Kind,
        pub(crate) triton_sd_configs: Kind,
    }
    skipped: []
}

strict_block! {
    /// One entry of `static_configs`: Prometheus' target group.
    pub(crate) struct StaticFile {
        pub(crate) targets: Option<Vec<GoString>>,
        pub(crate) labels: Option<LabelMap>,
    }
    skipped: []
}

strict_block! {
    /// One entry of `file_sd_configs`.
    pub(crate) struct FileSdFile {
        pub(crate) files: Option<Vec<GoString>>,
        pub(crate) refresh_interval: Option<PromDuration>,
    }
    skipped: []
}

/// The checks Promtail's decoders make on a whole block once its keys are
/// read (`job_name is empty`, conflicting credentials); the message is
/// Promtail's.
pub(crate) trait Check {
    fn check(&self) -> Result<(), String>;
}

/// A block whose [`Check`] runs while the decoder is still inside it, so a
/// failure is reported at the block's own line rather than its list's.
#[derive(Debug, Default)]
pub(crate) struct Checked<T>(pub(crate) T);

impl<'de, T: Deserialize<'de> + Check> Deserialize<'de> for Checked<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct CheckedVisitor<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de> + Check> Visitor<'de> for CheckedVisitor<T> {
            type Value = Checked<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a mapping")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Checked<T>, A::Error> {
                let block = T::deserialize(de::value::MapAccessDeserializer::new(map))?;
                block.check().map_err(de::Error::custom)?;
                Ok(Checked(block))
            }
        }
        deserializer.deserialize_map(CheckedVisitor(std::marker::PhantomData))
    }
}

impl Check for RelabelConfig {
    /// Prometheus' checks of a relabel step, which Promtail's decoder runs.
    fn check(&self) -> Result<(), String> {
        self.validate().map_err(|e| e.to_string())
    }
}

impl Check for ScrapeFile {
    fn check(&self) -> Result<(), String> {
        if self.job_name.as_ref().is_none_or(|n| n.0.is_empty()) {
            return Err("job_name is empty".to_owned());
        }
        Ok(())
    }
}

impl Check for FileSdFile {
    fn check(&self) -> Result<(), String> {
        let files = self.files.as_deref().unwrap_or_default();
        if files.is_empty() {
            return Err("file service discovery config must contain at least one path name".into());
        }
        for file in files {
            // Prometheus checks the extension of the file's name, as a glob.
            let name = file.0.rsplit('/').next().unwrap_or_default();
            if !(name.ends_with(".json") || name.ends_with(".yml") || name.ends_with(".yaml")) {
                return Err(format!(
                    "path name {:?} is not valid for file discovery",
                    file.0
                ));
            }
        }
        Ok(())
    }
}

impl Check for ClientFile {
    /// Prometheus' `HTTPClientConfig.Validate`, which Promtail runs when it
    /// builds the client.
    fn check(&self) -> Result<(), String> {
        let set = |s: &Option<GoString>| s.as_ref().is_some_and(|s| !s.0.is_empty());
        let bearer = set(&self.bearer_token) || set(&self.bearer_token_file);
        if set(&self.bearer_token) && set(&self.bearer_token_file) {
            return Err(
                "at most one of bearer_token & bearer_token_file must be configured".into(),
            );
        }
        if (self.basic_auth.is_some() || self.oauth2.is_some()) && bearer {
            return Err(
                "at most one of basic_auth, oauth2, bearer_token & bearer_token_file must be configured"
                    .into(),
            );
        }
        if let Some(basic) = &self.basic_auth {
            if set(&basic.password) && set(&basic.password_file) {
                return Err(
                    "at most one of basic_auth password & password_file must be configured".into(),
                );
            }
        }
        if let Some(auth) = &self.authorization {
            if bearer {
                return Err(
                    "authorization is not compatible with bearer_token & bearer_token_file".into(),
                );
            }
            if set(&auth.credentials) && set(&auth.credentials_file) {
                return Err(
                    "at most one of authorization credentials & credentials_file must be configured"
                        .into(),
                );
            }
            let kind = auth.kind.as_ref().map(|k| k.0.trim()).unwrap_or_default();
            if kind.eq_ignore_ascii_case("basic") {
                return Err(
                    "authorization type cannot be set to \"basic\", use \"basic_auth\" instead"
                        .into(),
                );
            }
            if self.basic_auth.is_some() || self.oauth2.is_some() {
                return Err(
                    "at most one of basic_auth, oauth2 & authorization must be configured".into(),
                );
            }
        }
        if self.oauth2.is_some() && self.basic_auth.is_some() {
            return Err(
                "at most one of basic_auth, oauth2 & authorization must be configured".into(),
            );
        }
        Ok(())
    }
}
