//! `vigil loki`: the Loki HTTP API over the storage, with the lifecycle
//! every vigil component has (start, ready, reload, drain).
//!
//! Routes follow Loki 3: push (`/loki/api/v1/push`, `/otlp/v1/logs`),
//! queries (`query`, `query_range`), metadata (`labels`, `label/<name>/values`,
//! `series`, `index/stats`, `index/volume`, `index/volume_range`,
//! `detected_labels`, `detected_fields`), `format_query`, `tail`
//! (WebSocket), `status/buildinfo`, `/ready`, `/metrics`, `POST /flush`.
//! Anything else is Loki's `404 page not found`, which is what Grafana's
//! probe of `/loki/api/v2alpha/tail` expects.

mod metrics;
mod params;
mod push;
mod query;
pub mod respond;
mod tail;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tokio_util::sync::CancellationToken;

use crate::config::{Config, ConfigError, Limits};
use crate::storage::{Storage, StorageError, StorageOptions};
pub use params::FAKE_TENANT;

/// The largest push body read (compressed); Loki's distributor takes up to
/// its gRPC message size, 100 MiB decompressed, which the decoder checks.
const MAX_BODY_BYTES: usize = 64 << 20;

/// How `vigil loki` is started.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// loki-config.yaml.
    pub config_file: PathBuf,
    /// `--storage.path`: every directory goes under it.
    pub storage_path: Option<PathBuf>,
    /// `-config.expand-env`: `${VAR}` in the file are replaced.
    pub expand_env: bool,
    /// `-server.http-listen-address`: overrides the config's.
    pub listen_address: Option<String>,
    /// `-server.http-listen-port`: overrides the config's (0 picks a free
    /// port).
    pub listen_port: Option<u16>,
}

impl ServerOptions {
    /// Options for `config_file` with nothing overridden.
    pub fn new(config_file: PathBuf) -> Self {
        Self {
            config_file,
            storage_path: None,
            expand_env: false,
            listen_address: None,
            listen_port: None,
        }
    }
}

/// Why the server could not start or stop cleanly.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The config does not load.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The listen address is taken or invalid.
    #[error("listening on {addr}: {source}")]
    Bind {
        /// The address.
        addr: String,
        /// Why.
        source: std::io::Error,
    },
    /// The metrics registry refused a family (a bug).
    #[error("registering metrics: {0}")]
    Metrics(#[from] instrument::RegistryError),
    /// The storage does not open, or failed to close cleanly.
    #[error("storage: {0}")]
    Storage(#[from] StorageError),
    /// A serving task panicked or failed.
    #[error("a server task failed: {0}")]
    Task(String),
}

/// Everything the handlers read.
pub(crate) struct AppState {
    pub(crate) auth_enabled: bool,
    limits: RwLock<Limits>,
    pub(crate) storage: Arc<Storage>,
    pub(crate) metrics: metrics::Metrics,
    pub(crate) rates: push::RateLimits,
    /// Pushes decoded and stored at once: one per core, and one more to
    /// keep the cores busy while another waits on a lock.
    pub(crate) pushing: Arc<tokio::sync::Semaphore>,
    /// Set when maintenance failed in a way that needs a person.
    pub(crate) broken: Arc<std::sync::atomic::AtomicBool>,
}

impl AppState {
    /// The limits in force (they change on reload).
    pub(crate) fn limits(&self) -> Limits {
        self.limits
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The limits the push path applies.
    pub(crate) fn push_limits(&self) -> crate::push::Limits {
        push_limits(&self.limits())
    }
}

/// `limits_config` as the push path reads it.
fn push_limits(l: &Limits) -> crate::push::Limits {
    const MB: f64 = (1 << 20) as f64;
    crate::push::Limits {
        reject_old_samples: l.reject_old_samples,
        reject_old_samples_max_age: l.reject_old_samples_max_age,
        creation_grace_period: l.creation_grace_period,
        max_line_size: usize::try_from(l.max_line_size).unwrap_or(usize::MAX),
        max_line_size_truncate: l.max_line_size_truncate,
        max_label_names_per_series: l.max_label_names_per_series,
        max_label_name_length: l.max_label_name_length,
        max_label_value_length: l.max_label_value_length,
        ingestion_rate_bytes: l.ingestion_rate_mb * MB,
        ingestion_burst_bytes: (l.ingestion_burst_size_mb * MB) as usize,
        per_stream_rate_bytes: l.per_stream_rate_limit as f64,
        per_stream_burst_bytes: usize::try_from(l.per_stream_rate_limit_burst)
            .unwrap_or(usize::MAX),
    }
}

/// A running `vigil loki`.
pub struct LokiServer {
    addr: SocketAddr,
    options: ServerOptions,
    state: Arc<AppState>,
    stop: CancellationToken,
    serving: lifecycle::Task<std::io::Result<()>>,
    /// Maintenance (flushing idle and old chunks, deleting flushed log
    /// segments) and retention.
    tasks: Vec<lifecycle::Task<()>>,
    fault: lifecycle::Fault,
}

/// The log store's name in messages.
const NAME: &str = "the log store";

/// Compressed bytes at which a stream's chunk goes to disk. Loki's 1.5 MB
/// suits object stores; chunk files here are local, and a chunk waits in
/// memory until it is written, so a smaller one bounds memory under heavy
/// pushes (16 busy streams hold 4 MiB instead of 24).
const CHUNK_TARGET_SIZE: usize = 256 << 10;

/// How often chunks are checked for idleness and age.
const MAINTAIN_EVERY: Duration = Duration::from_secs(10);
/// How often retention runs (Loki's `compaction_interval`).
const RETENTION_EVERY: Duration = Duration::from_secs(600);

impl LokiServer {
    /// Loads the config, opens the storage and starts serving; returns once
    /// the server is ready.
    pub async fn start(options: ServerOptions) -> Result<LokiServer, ServerError> {
        let config = load(&options)?;
        for key in config.not_applicable() {
            tracing::info!(
                "{}: {key} does not apply to vigil and is ignored",
                options.config_file.display()
            );
        }
        let paths = config.resolve_paths(options.storage_path.as_deref())?;
        let storage_options = StorageOptions {
            wal_dir: paths.wal_dir.clone(),
            chunk_target_size: CHUNK_TARGET_SIZE,
            ..StorageOptions::new(paths.chunks_dir.clone())
        };
        // Opening replays the log: blocking work, off the async threads.
        let storage = lifecycle::blocking(NAME, "replay", move || Storage::open(storage_options))
            .await
            .map_err(|e| ServerError::Task(e.to_string()))??;
        tracing::info!(
            chunks = %paths.chunks_dir.display(),
            wal = %paths.wal_dir.display(),
            "log storage open"
        );
        let host = options
            .listen_address
            .clone()
            .unwrap_or_else(|| config.server.http_listen_address.clone());
        let port = options
            .listen_port
            .unwrap_or(config.server.http_listen_port);
        // An empty address is every interface, as in Go.
        let host = if host.is_empty() {
            "0.0.0.0".to_owned()
        } else {
            host
        };
        let listen = if host.contains(':') {
            format!("[{host}]:{port}")
        } else {
            format!("{host}:{port}")
        };
        let listener = tokio::net::TcpListener::bind(&listen)
            .await
            .map_err(|source| ServerError::Bind {
                addr: listen.clone(),
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| ServerError::Bind {
            addr: listen.clone(),
            source,
        })?;
        let storage = Arc::new(storage);
        let retention = (config.compactor.retention_enabled
            && !config.limits.retention_period.is_zero())
        .then_some(config.limits.retention_period);
        let state = Arc::new(AppState {
            auth_enabled: config.auth_enabled,
            rates: push::RateLimits::new(&push_limits(&config.limits)),
            limits: RwLock::new(config.limits),
            metrics: metrics::Metrics::new(storage.clone())?,
            storage: storage.clone(),
            pushing: Arc::new(tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map_or(1, usize::from) + 1,
            )),
            broken: Arc::default(),
        });
        let stop = CancellationToken::new();
        let fault = lifecycle::Fault::new(NAME);
        let router = router(state.clone(), stop.clone());
        let serving = lifecycle::spawn(&fault, "serve", {
            let stop = stop.clone();
            async move {
                axum::serve(listener, router)
                    .with_graceful_shutdown(stop.cancelled_owned())
                    .await
            }
        });
        let mut tasks = vec![lifecycle::spawn(
            &fault,
            "maintain",
            maintain(
                fault.clone(),
                storage.clone(),
                state.broken.clone(),
                stop.clone(),
                MAINTAIN_EVERY,
                None,
            ),
        )];
        if let Some(period) = retention {
            tasks.push(lifecycle::spawn(
                &fault,
                "retention",
                maintain(
                    fault.clone(),
                    storage,
                    state.broken.clone(),
                    stop.clone(),
                    RETENTION_EVERY,
                    Some(period),
                ),
            ));
        }
        tracing::info!(%addr, "log store listening");
        Ok(LokiServer {
            addr,
            options,
            state,
            stop,
            serving,
            tasks,
            fault,
        })
    }

    /// The address actually bound.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The registry behind `/metrics` (`vigil up`'s status line reads
    /// `loki_distributor_lines_received_total` from it).
    pub fn registry(&self) -> &Arc<instrument::Registry> {
        &self.state.metrics.registry
    }

    /// Reads the config file again and applies its limits (what SIGHUP
    /// does). On error the previous config stays in force.
    pub async fn reload(&self) -> Result<(), ServerError> {
        let options = self.options.clone();
        let loaded = tokio::task::spawn_blocking(move || load(&options))
            .await
            .map_err(|e| ServerError::Task(e.to_string()))?;
        match loaded {
            Ok(config) => {
                self.state.rates.reset(&push_limits(&config.limits));
                *self
                    .state
                    .limits
                    .write()
                    .unwrap_or_else(PoisonError::into_inner) = config.limits;
                tracing::info!("log store config reloaded");
                Ok(())
            }
            Err(e) => {
                tracing::error!("reloading the log store config failed: {e}");
                Err(e.into())
            }
        }
    }

    /// Stops serving and maintenance, then closes the storage (its log is
    /// synced; the head is replayed from it at the next start). A task
    /// that panicked is reported as an error, after the storage is closed.
    pub async fn shutdown(mut self) -> Result<(), ServerError> {
        self.stop.cancel();
        let mut failure = match self.serving.join().await {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some(e.to_string()),
            Err(e) => Some(e.to_string()),
        };
        for task in self.tasks.drain(..) {
            if let Err(e) = task.join().await {
                failure.get_or_insert(e.to_string());
            }
        }
        // A panic on a blocking thread of maintenance, reported there.
        if let Some(e) = self.fault.error() {
            failure.get_or_insert(e.to_string());
        }
        let storage = self.state.storage.clone();
        lifecycle::blocking(NAME, "close", move || storage.close())
            .await
            .map_err(|e| ServerError::Task(e.to_string()))??;
        match failure {
            Some(e) => Err(ServerError::Task(e)),
            None => Ok(()),
        }
    }
}

impl lifecycle::Component for LokiServer {
    type Config = ServerOptions;
    type Report = ();
    type Error = ServerError;

    async fn start(options: ServerOptions) -> Result<Self, ServerError> {
        LokiServer::start(options).await
    }

    async fn reload(&self) -> Result<(), ServerError> {
        LokiServer::reload(self).await
    }

    fn fault(&self) -> &lifecycle::Fault {
        &self.fault
    }

    async fn shutdown(self) -> Result<(), ServerError> {
        LokiServer::shutdown(self).await
    }
}

fn load(options: &ServerOptions) -> Result<Config, ConfigError> {
    Config::load(&options.config_file, options.expand_env)
}

/// Now, in ns since the epoch (the one clock of the handlers).
pub(crate) fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Every `every`: flushes idle and old chunks, or, with `retention`,
/// deletes the periods past it. Errors are logged; the next round tries
/// again.
async fn maintain(
    fault: lifecycle::Fault,
    storage: Arc<Storage>,
    broken: Arc<std::sync::atomic::AtomicBool>,
    stop: CancellationToken,
    every: Duration,
    retention: Option<Duration>,
) {
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(every) => {}
        }
        let storage = storage.clone();
        let done = lifecycle::blocking(NAME, "maintain", move || match retention {
            None => storage.maintain(now_ns()).map(|()| 0),
            Some(period) => storage.apply_retention(now_ns(), period),
        })
        .await;
        match done {
            Ok(Ok(deleted)) if deleted > 0 => {
                tracing::info!(periods = deleted, "retention deleted old log periods");
            }
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::error!("log storage maintenance failed: {e}"),
            // A bug: the server stops saying it is ready, so that whoever
            // watches `/ready` sees it, and the component's fault stops
            // the process (after draining what it can).
            Err(e) => {
                broken.store(true, std::sync::atomic::Ordering::SeqCst);
                fault.report(e);
                return;
            }
        }
    }
}

fn router(state: Arc<AppState>, stop: CancellationToken) -> Router {
    let metrics =
        instrument::metrics_route(state.metrics.registry.clone(), instrument::Flavour::Go);
    Router::new()
        .route("/loki/api/v1/push", post(push::loki))
        .route("/otlp/v1/logs", post(push::otlp))
        .route(
            "/loki/api/v1/query",
            get(query::instant).post(query::instant),
        )
        .route(
            "/loki/api/v1/query_range",
            get(query::range).post(query::range),
        )
        .route(
            "/loki/api/v1/labels",
            get(query::labels).post(query::labels),
        )
        .route(
            "/loki/api/v1/label/{name}/values",
            get(query::label_values).post(query::label_values),
        )
        .route(
            "/loki/api/v1/series",
            get(query::series).post(query::series),
        )
        .route(
            "/loki/api/v1/index/stats",
            get(query::index_stats).post(query::index_stats),
        )
        .route(
            "/loki/api/v1/index/volume",
            get(query::volume).post(query::volume),
        )
        .route(
            "/loki/api/v1/index/volume_range",
            get(query::volume_range).post(query::volume_range),
        )
        .route("/loki/api/v1/detected_labels", get(query::detected_labels))
        .route("/loki/api/v1/detected_fields", get(query::detected_fields))
        .route(
            "/loki/api/v1/format_query",
            get(query::format_query).post(query::format_query),
        )
        .route("/loki/api/v1/tail", get(tail::tail))
        .route("/loki/api/v1/status/buildinfo", get(buildinfo))
        .route("/ready", get(ready))
        .route("/flush", post(flush))
        .route("/metrics", metrics)
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
        .layer(axum::Extension(stop))
}

async fn ready(State(st): State<Arc<AppState>>) -> Response {
    if st.broken.load(std::sync::atomic::Ordering::SeqCst) {
        return respond::ApiError::unavailable("log storage maintenance failed; see the log")
            .into_response();
    }
    respond::ready()
}

async fn not_found() -> Response {
    respond::ApiError::not_found().into_response()
}

async fn buildinfo() -> Response {
    respond::bare(&serde_json::json!({
        "version": env!("CARGO_PKG_VERSION"),
        "revision": "",
        "branch": "",
        "buildUser": "",
        "buildDate": "",
        "goVersion": "",
    }))
}

async fn flush(State(st): State<Arc<AppState>>) -> Response {
    let storage = st.storage.clone();
    match tokio::task::spawn_blocking(move || storage.flush_all()).await {
        Ok(Ok(())) => respond::no_content(),
        Ok(Err(e)) => respond::ApiError::internal(e.to_string()).into_response(),
        Err(e) => respond::ApiError::internal(e.to_string()).into_response(),
    }
}
