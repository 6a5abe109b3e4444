//! `limits_config`: the limits vigil enforces, with Loki 3's defaults.

use std::time::Duration;

use super::file::LimitsFile;

/// The limits vigil enforces on pushes and queries. Every field has Loki
/// 3's default when the file leaves it out; a zero duration or size means
/// "no limit" wherever Loki reads it so.
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// Refuse entries older than [`Limits::reject_old_samples_max_age`]
    /// (default true).
    pub reject_old_samples: bool,
    /// How old an accepted entry may be (default 7 days).
    pub reject_old_samples_max_age: Duration,
    /// How far in the future an accepted entry may be (default 10 minutes).
    pub creation_grace_period: Duration,
    /// How long logs are kept once the compactor's retention is on; zero
    /// keeps them forever (the default).
    pub retention_period: Duration,
    /// Most series a metric query may return (default 500).
    pub max_query_series: usize,
    /// Most sub-queries of one query run at once (default 32).
    pub max_query_parallelism: usize,
    /// Time span a query is split by; zero turns splitting off (default
    /// 1 hour).
    pub split_queries_by_interval: Duration,
    /// Most entries a log query may return (default 5000).
    pub max_entries_limit_per_query: usize,
    /// Longest time range a query may cover; zero is no limit (default
    /// 721 hours, 30 days and one hour).
    pub max_query_length: Duration,
    /// Longest accepted line in bytes; zero is no limit (default 256 KiB).
    pub max_line_size: u64,
    /// Truncate longer lines instead of refusing them (default false).
    pub max_line_size_truncate: bool,
    /// Most labels a stream may have (default 15).
    pub max_label_names_per_series: usize,
    /// Longest label name in bytes (default 1024).
    pub max_label_name_length: usize,
    /// Longest label value in bytes (default 2048).
    pub max_label_value_length: usize,
    /// Ingestion rate per tenant in MiB per second (default 4).
    pub ingestion_rate_mb: f64,
    /// Ingestion burst per tenant in MiB (default 6).
    pub ingestion_burst_size_mb: f64,
    /// Ingestion rate per stream in bytes per second (default 3 MiB).
    pub per_stream_rate_limit: u64,
    /// Ingestion burst per stream in bytes (default 15 MiB, five times the
    /// rate).
    pub per_stream_rate_limit_burst: u64,
    /// Time limit of one query (default 1 minute).
    pub query_timeout: Duration,
    /// Most active streams a tenant may have on this instance; zero is no
    /// limit (default 0).
    pub max_streams_per_user: usize,
    /// Most active streams a tenant may have in the whole cluster, which is
    /// this one instance here; zero is no limit (default 5000).
    pub max_global_streams_per_user: usize,
}

impl Default for Limits {
    fn default() -> Self {
        const HOUR: u64 = 3600;
        const MIB: u64 = 1 << 20;
        Self {
            reject_old_samples: true,
            reject_old_samples_max_age: Duration::from_secs(7 * 24 * HOUR),
            creation_grace_period: Duration::from_secs(10 * 60),
            retention_period: Duration::ZERO,
            max_query_series: 500,
            max_query_parallelism: 32,
            split_queries_by_interval: Duration::from_secs(HOUR),
            max_entries_limit_per_query: 5000,
            max_query_length: Duration::from_secs(721 * HOUR),
            max_line_size: 256 << 10,
            max_line_size_truncate: false,
            max_label_names_per_series: 15,
            max_label_name_length: 1024,
            max_label_value_length: 2048,
            ingestion_rate_mb: 4.0,
            ingestion_burst_size_mb: 6.0,
            per_stream_rate_limit: 3 * MIB,
            per_stream_rate_limit_burst: 15 * MIB,
            query_timeout: Duration::from_secs(60),
            max_streams_per_user: 0,
            max_global_streams_per_user: 5000,
        }
    }
}

impl Limits {
    /// The defaults, overridden by what the file sets.
    pub(crate) fn from_file(file: LimitsFile) -> Limits {
        let d = Limits::default();
        Limits {
            reject_old_samples: file
                .reject_old_samples
                .map_or(d.reject_old_samples, |v| v.0),
            reject_old_samples_max_age: file
                .reject_old_samples_max_age
                .map_or(d.reject_old_samples_max_age, |v| v.0),
            creation_grace_period: file
                .creation_grace_period
                .map_or(d.creation_grace_period, |v| v.0),
            retention_period: file.retention_period.map_or(d.retention_period, |v| v.0),
            max_query_series: file.max_query_series.map_or(d.max_query_series, |v| v.0),
            max_query_parallelism: file
                .max_query_parallelism
                .map_or(d.max_query_parallelism, |v| v.0),
            split_queries_by_interval: file
                .split_queries_by_interval
                .map_or(d.split_queries_by_interval, |v| v.0),
            max_entries_limit_per_query: file
                .max_entries_limit_per_query
                .map_or(d.max_entries_limit_per_query, |v| v.0),
            max_query_length: file.max_query_length.map_or(d.max_query_length, |v| v.0),
            max_line_size: file.max_line_size.map_or(d.max_line_size, |v| v.0),
            max_line_size_truncate: file
                .max_line_size_truncate
                .map_or(d.max_line_size_truncate, |v| v.0),
            max_label_names_per_series: file
                .max_label_names_per_series
                .map_or(d.max_label_names_per_series, |v| v.0),
            max_label_name_length: file
                .max_label_name_length
                .map_or(d.max_label_name_length, |v| v.0),
            max_label_value_length: file
                .max_label_value_length
                .map_or(d.max_label_value_length, |v| v.0),
            ingestion_rate_mb: file.ingestion_rate_mb.unwrap_or(d.ingestion_rate_mb),
            ingestion_burst_size_mb: file
                .ingestion_burst_size_mb
                .unwrap_or(d.ingestion_burst_size_mb),
            per_stream_rate_limit: file
                .per_stream_rate_limit
                .map_or(d.per_stream_rate_limit, |v| v.0),
            per_stream_rate_limit_burst: file
                .per_stream_rate_limit_burst
                .map_or(d.per_stream_rate_limit_burst, |v| v.0),
            query_timeout: file.query_timeout.map_or(d.query_timeout, |v| v.0),
            max_streams_per_user: file
                .max_streams_per_user
                .map_or(d.max_streams_per_user, |v| v.0),
            max_global_streams_per_user: file
                .max_global_streams_per_user
                .map_or(d.max_global_streams_per_user, |v| v.0),
        }
    }

    /// The active streams a tenant may have here: the smaller of the local
    /// and the global limit, a zero being none (as Loki's limiter with one
    /// instance and a replication factor of one); `None` without a limit.
    pub fn active_streams_limit(&self) -> Option<usize> {
        [self.max_streams_per_user, self.max_global_streams_per_user]
            .into_iter()
            .filter(|&n| n > 0)
            .min()
    }

    /// The names of the `limits_config` keys vigil acts on.
    pub(crate) const KEYS: [&'static str; 21] = [
        "reject_old_samples",
        "reject_old_samples_max_age",
        "creation_grace_period",
        "retention_period",
        "max_query_series",
        "max_query_parallelism",
        "split_queries_by_interval",
        "max_entries_limit_per_query",
        "max_query_length",
        "max_line_size",
        "max_line_size_truncate",
        "max_label_names_per_series",
        "max_label_name_length",
        "max_label_value_length",
        "ingestion_rate_mb",
        "ingestion_burst_size_mb",
        "per_stream_rate_limit",
        "per_stream_rate_limit_burst",
        "query_timeout",
        "max_streams_per_user",
        "max_global_streams_per_user",
    ];
}
