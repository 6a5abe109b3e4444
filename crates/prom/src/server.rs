//! `vigil prometheus`: config, storage, scraping and the HTTP API wired
//! together, with reload and shutdown.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use instrument::{Collector, FamilySnapshot, MetricKind, MetricSnapshot, MetricValue, Registry};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tsdb::Tsdb;

use crate::api::{self, ApiState, ReloadRequest, RuntimeState};
use crate::config::{Config, ConfigError};
use crate::discovery::{Discovery, POLL_TICK};
use crate::remote::{RemoteMetrics, RemoteWriters};
use crate::scrape::ScrapeManager;

/// How often the TSDB cuts blocks, compacts and applies retention.
const COMPACTION_INTERVAL: Duration = Duration::from_secs(60);

/// The server's settings, named after Prometheus' flags.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// `--config.file`
    pub config_file: PathBuf,
    /// `--storage.tsdb.path`
    pub storage_path: PathBuf,
    /// `--web.listen-address`
    pub listen: SocketAddr,
    /// `--storage.tsdb.retention.time` (default 15d)
    pub retention: Option<Duration>,
    /// `--storage.tsdb.retention.size`, bytes
    pub retention_size: Option<u64>,
    /// `--web.enable-lifecycle`: allow `POST /-/reload`.
    pub enable_lifecycle: bool,
    /// `--web.enable-remote-write-receiver`: accept `POST /api/v1/write`.
    pub enable_remote_write_receiver: bool,
    /// `--enable-feature=promql-delayed-name-removal`: PromQL keeps
    /// dropped metric names until the end of evaluation
    /// ([`promql::EngineOptions::delayed_name_removal`]).
    pub promql_delayed_name_removal: bool,
}

impl ServerOptions {
    /// The options of `vigil prometheus --config.file .. --storage.tsdb.path
    /// .. --web.listen-address ..` with no other flag: Prometheus'
    /// defaults, every optional feature off.
    pub fn new(config_file: PathBuf, storage_path: PathBuf, listen: SocketAddr) -> Self {
        Self {
            config_file,
            storage_path,
            listen,
            retention: None,
            retention_size: None,
            enable_lifecycle: false,
            enable_remote_write_receiver: false,
            promql_delayed_name_removal: false,
        }
    }
}

/// Why the server could not start or stop cleanly.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The config file is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The storage could not be opened or closed.
    #[error("storage {path}: {source}")]
    Storage {
        /// The data directory.
        path: PathBuf,
        /// Why.
        source: tsdb::TsdbError,
    },
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// A `remote_write` entry could not be started.
    #[error(transparent)]
    Remote(#[from] crate::remote::RemoteError),
    /// Metric registration failed (a bug).
    #[error(transparent)]
    Metrics(#[from] instrument::RegistryError),
    /// A task of the server panicked, or serving failed.
    #[error(transparent)]
    Task(#[from] lifecycle::TaskError),
    /// Serving failed.
    #[error("serving: {0}")]
    Serve(std::io::Error),
    /// A scrape loop panicked.
    #[error("a scrape loop failed: {0}")]
    Scrape(String),
    /// The config file did not reload; the previous one stays.
    #[error("reload: {0}")]
    Reload(String),
}

/// The metrics server's name in messages.
const NAME: &str = "the metrics server";

/// A running metrics server.
pub struct PrometheusServer {
    addr: SocketAddr,
    storage_path: PathBuf,
    db: Arc<Tsdb>,
    scrape: Arc<ScrapeManager>,
    reload: mpsc::Sender<ReloadRequest>,
    stop: CancellationToken,
    tasks: Vec<lifecycle::Task<()>>,
    serving: lifecycle::Task<std::io::Result<()>>,
    compactor: Option<tsdb::Compactor>,
    registry: Arc<Registry>,
    fault: lifecycle::Fault,
}

/// The config in force, where its relative paths point, and the target
/// groups its discovery found. Shared by the reload and discovery tasks
/// behind an async mutex, so that the one locking it on a blocking thread
/// (to read files) never blocks the other on an async worker.
struct Loaded {
    config: Config,
    base_dir: PathBuf,
    discovery: Discovery,
}

impl PrometheusServer {
    /// Loads the config, opens the storage, starts scraping and serving.
    pub async fn start(options: ServerOptions) -> Result<PrometheusServer, ServerError> {
        let config_yaml =
            std::fs::read_to_string(&options.config_file).map_err(|e| ConfigError {
                path: options.config_file.clone(),
                location: None,
                message: e.to_string(),
            })?;
        let config = Config::parse(&config_yaml, &options.config_file)?;
        for unsupported in config.unsupported() {
            tracing::warn!(
                "{}: {unsupported} is accepted but not supported yet",
                options.config_file.display()
            );
        }
        let retention_ms = options.retention.map(|d| d.as_millis() as i64);
        let tsdb_options = tsdb::Options {
            retention_time: retention_ms.or(Some(tsdb::DEFAULT_RETENTION)),
            retention_size: options.retention_size,
            ..tsdb::Options::default()
        };
        let storage_error = |source| ServerError::Storage {
            path: options.storage_path.clone(),
            source,
        };
        // Opening replays the write-ahead log: blocking work.
        let path = options.storage_path.clone();
        let db = lifecycle::blocking(NAME, "replay", move || Tsdb::open(&path, tsdb_options))
            .await?
            .map_err(storage_error)?;
        let db = Arc::new(db);
        let compactor =
            Some(Tsdb::spawn_compactor(&db, COMPACTION_INTERVAL).map_err(storage_error)?);
        let scrape = Arc::new(ScrapeManager::new(db.clone()));
        let base_dir = options
            .config_file
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let discovery = discover(&config, &base_dir).await;
        scrape.sync(&config, &discovery);

        let runtime = Arc::new(Mutex::new(RuntimeState {
            config_yaml,
            last_reload_ok: true,
            last_config_time: SystemTime::now(),
        }));
        let registry = Arc::new(Registry::new());
        registry.register(
            &instrument::PROCESS_FAMILIES,
            Arc::new(instrument::ProcessCollector),
        )?;
        registry.register(
            &ServerCollector::FAMILIES,
            Arc::new(ServerCollector {
                db: db.clone(),
                runtime: runtime.clone(),
            }),
        )?;

        let remote = Remote {
            metrics: RemoteMetrics::register(&registry)?,
            data_dir: options.storage_path.clone(),
        };
        let writers = RemoteWriters::start(&config, &remote.data_dir, &remote.metrics)?;
        scrape.set_remote_writers(Some(Arc::new(writers)));

        let listener = tokio::net::TcpListener::bind(options.listen)
            .await
            .map_err(|source| ServerError::Bind {
                addr: options.listen,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| ServerError::Bind {
            addr: options.listen,
            source,
        })?;
        let (reload, reload_requests) = mpsc::channel::<ReloadRequest>(4);
        let state = Arc::new(ApiState {
            db: db.clone(),
            scrape: scrape.clone(),
            flags: flags(&options),
            start_time: SystemTime::now(),
            retention: model::duration::format_duration(Duration::from_millis(
                retention_ms.unwrap_or(tsdb::DEFAULT_RETENTION).max(0) as u64,
            )),
            runtime: runtime.clone(),
            reload: options.enable_lifecycle.then(|| reload.clone()),
            remote_write_receiver: options.enable_remote_write_receiver,
            registry: registry.clone(),
            external_host: format!("{}:{}", hostname(), addr.port()),
            engine: promql::EngineOptions {
                delayed_name_removal: options.promql_delayed_name_removal,
                ..promql::EngineOptions::default()
            },
        });

        let stop = CancellationToken::new();
        let fault = lifecycle::Fault::new(NAME);
        let router = api::router(state);
        let serving = lifecycle::spawn(&fault, "serve", {
            let stop = stop.clone();
            async move {
                axum::serve(listener, router)
                    .with_graceful_shutdown(stop.cancelled_owned())
                    .await
            }
        });

        let loaded = Arc::new(tokio::sync::Mutex::new(Loaded {
            config,
            base_dir,
            discovery,
        }));
        let tasks = vec![
            lifecycle::spawn(
                &fault,
                "reload",
                reload_loop(
                    reload_requests,
                    options.config_file.clone(),
                    loaded.clone(),
                    scrape.clone(),
                    remote,
                    runtime,
                    stop.clone(),
                ),
            ),
            lifecycle::spawn(
                &fault,
                "discovery",
                discovery_loop(loaded, scrape.clone(), stop.clone()),
            ),
        ];
        tracing::info!(%addr, storage = %options.storage_path.display(), "metrics server listening");
        Ok(PrometheusServer {
            addr,
            storage_path: options.storage_path.clone(),
            db,
            scrape,
            reload,
            stop,
            tasks,
            serving,
            compactor,
            registry,
            fault,
        })
    }

    /// The registry behind `/metrics`.
    pub fn registry(&self) -> &Arc<Registry> {
        &self.registry
    }

    /// The scrape manager (its targets and their health).
    pub fn scrape(&self) -> &Arc<ScrapeManager> {
        &self.scrape
    }

    /// The address actually bound.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The storage, for components that run in the same process.
    pub fn db(&self) -> &Arc<Tsdb> {
        &self.db
    }

    /// Reloads the config file (what SIGHUP and `POST /-/reload` do); on
    /// error the previous config stays in force.
    pub async fn reload(&self) -> Result<(), String> {
        let (done, result) = tokio::sync::oneshot::channel();
        self.reload
            .send(done)
            .await
            .map_err(|_| "server is shutting down".to_owned())?;
        result
            .await
            .map_err(|_| "server is shutting down".to_owned())?
    }

    /// Stops serving and scraping, then flushes the storage. A task that
    /// panicked, or serving that failed, is the error, reported after the
    /// storage is synced.
    pub async fn shutdown(mut self) -> Result<(), ServerError> {
        self.stop.cancel();
        let mut failure = match self.serving.join().await {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some(ServerError::Serve(e)),
            Err(e) => Some(ServerError::Task(e)),
        };
        for task in self.tasks.drain(..) {
            if let Err(e) = task.join().await {
                failure.get_or_insert(ServerError::Task(e));
            }
        }
        if let Err(e) = self.scrape.stop().await {
            failure.get_or_insert(ServerError::Scrape(e.to_string()));
        }
        if let Some(writers) = self.scrape.set_remote_writers(None) {
            shutdown_writers(writers).await;
        }
        // The compactor's thread is joined on drop: a blocking wait.
        let compactor = self.compactor.take();
        let db = self.db.clone();
        let synced = lifecycle::blocking(NAME, "sync", move || {
            drop(compactor);
            db.sync()
        })
        .await?;
        synced.map_err(|source| ServerError::Storage {
            path: self.storage_path.clone(),
            source,
        })?;
        failure.map_or(Ok(()), Err)
    }
}

impl lifecycle::Component for PrometheusServer {
    type Config = ServerOptions;
    type Report = ();
    type Error = ServerError;

    async fn start(options: ServerOptions) -> Result<Self, ServerError> {
        PrometheusServer::start(options).await
    }

    /// What SIGHUP does; the error is the reload's message.
    async fn reload(&self) -> Result<(), ServerError> {
        PrometheusServer::reload(self)
            .await
            .map_err(ServerError::Reload)
    }

    fn fault(&self) -> &lifecycle::Fault {
        &self.fault
    }

    async fn shutdown(self) -> Result<(), ServerError> {
        PrometheusServer::shutdown(self).await
    }
}

/// What starting remote-write senders needs, kept for reloads.
struct Remote {
    metrics: RemoteMetrics,
    data_dir: PathBuf,
}

/// Stops senders, even while a scrape in flight still holds them (what
/// it enqueues goes to the on-disk queues); what they had not delivered
/// stays in those queues for the next ones.
async fn shutdown_writers(writers: Arc<RemoteWriters>) {
    writers.stop().await;
}

async fn reload_loop(
    mut requests: mpsc::Receiver<ReloadRequest>,
    config_file: PathBuf,
    loaded: Arc<tokio::sync::Mutex<Loaded>>,
    scrape: Arc<ScrapeManager>,
    remote: Remote,
    runtime: Arc<Mutex<RuntimeState>>,
    stop: CancellationToken,
) {
    loop {
        let done = tokio::select! {
            request = requests.recv() => match request { Some(done) => done, None => return },
            () = stop.cancelled() => return,
        };
        let file = config_file.clone();
        let result = blocking(move || {
            std::fs::read_to_string(&file)
                .map_err(|e| format!("{}: {e}", file.display()))
                .and_then(|text| {
                    Config::parse(&text, &file)
                        .map(|c| (text, c))
                        .map_err(|e| e.to_string())
                })
        })
        .await
        .unwrap_or_else(|| Err("server is shutting down".to_owned()));
        // The old senders stop first: a new one may reuse their queue.
        let old_writers = match &result {
            Ok(_) => scrape.set_remote_writers(None),
            Err(_) => None,
        };
        if let Some(old) = old_writers {
            shutdown_writers(old).await;
        }
        let result = result.and_then(|(text, config)| {
            RemoteWriters::start(&config, &remote.data_dir, &remote.metrics)
                .map(|writers| (text, config, writers))
                .map_err(|e| e.to_string())
        });
        let outcome = match result {
            Ok((text, config, writers)) => {
                scrape.set_remote_writers(Some(Arc::new(writers)));
                let base_dir = loaded.lock().await.base_dir.clone();
                let discovery = discover(&config, &base_dir).await;
                let mut loaded = loaded.lock().await;
                scrape.sync(&config, &discovery);
                loaded.config = config;
                loaded.discovery = discovery;
                *runtime.lock().unwrap_or_else(PoisonError::into_inner) = RuntimeState {
                    config_yaml: text,
                    last_reload_ok: true,
                    last_config_time: SystemTime::now(),
                };
                tracing::info!(file = %config_file.display(), "configuration reloaded");
                Ok(())
            }
            Err(message) => {
                runtime
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .last_reload_ok = false;
                tracing::error!("reloading the configuration failed: {message}");
                Err(message)
            }
        };
        let _ = done.send(outcome);
    }
}

/// Runs `work` on a blocking thread; a panic there is logged and carried on
/// into the calling task rather than dropped. `None` when the runtime shuts
/// down before the work could run.
async fn blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    match tokio::task::spawn_blocking(work).await {
        Ok(value) => Some(value),
        Err(e) if e.is_panic() => {
            tracing::error!("blocking work of the metrics server panicked: {e}");
            std::panic::resume_unwind(e.into_panic())
        }
        Err(_) => None,
    }
}

/// Reads the target files of `config`'s jobs on a blocking thread (no
/// groups from files when the runtime is shutting down).
async fn discover(config: &Config, base_dir: &Path) -> Discovery {
    let (config, base_dir) = (config.clone(), base_dir.to_path_buf());
    blocking(move || Discovery::new(&config, &base_dir, Instant::now()))
        .await
        .unwrap_or_default()
}

/// Keeps targets in step with their files: every [`POLL_TICK`] it asks
/// the discovery (on a blocking thread) to re-read what changed or what
/// its `refresh_interval` makes due, and syncs the scrape loops when the
/// groups changed. See [`crate::discovery`] for why polling.
async fn discovery_loop(
    loaded: Arc<tokio::sync::Mutex<Loaded>>,
    scrape: Arc<ScrapeManager>,
    stop: CancellationToken,
) {
    loop {
        tokio::select! {
            () = tokio::time::sleep(POLL_TICK) => {}
            () = stop.cancelled() => return,
        }
        let polled = loaded.clone();
        let changed = blocking(move || {
            let mut loaded = polled.blocking_lock();
            loaded.discovery.has_files() && loaded.discovery.poll(Instant::now())
        })
        .await;
        let Some(changed) = changed else {
            return;
        };
        if changed {
            let loaded = loaded.lock().await;
            scrape.sync(&loaded.config, &loaded.discovery);
        }
    }
}

fn flags(options: &ServerOptions) -> BTreeMap<String, String> {
    let duration = |d: Option<Duration>| {
        d.map(model::duration::format_duration)
            .unwrap_or_else(|| "0s".into())
    };
    BTreeMap::from([
        (
            "config.file".into(),
            options.config_file.display().to_string(),
        ),
        (
            "storage.tsdb.path".into(),
            options.storage_path.display().to_string(),
        ),
        (
            "storage.tsdb.retention.time".into(),
            duration(options.retention),
        ),
        (
            "storage.tsdb.retention.size".into(),
            options.retention_size.unwrap_or(0).to_string(),
        ),
        ("web.listen-address".into(), options.listen.to_string()),
        (
            "web.enable-lifecycle".into(),
            options.enable_lifecycle.to_string(),
        ),
        (
            "enable-feature".into(),
            if options.promql_delayed_name_removal {
                "promql-delayed-name-removal".into()
            } else {
                String::new()
            },
        ),
        ("query.lookback-delta".into(), "5m".into()),
        ("query.max-samples".into(), "50000000".into()),
        ("query.timeout".into(), "2m".into()),
    ])
}

/// The server's own `prometheus_*` series that dashboards for Prometheus use.
struct ServerCollector {
    db: Arc<Tsdb>,
    runtime: Arc<Mutex<RuntimeState>>,
}

impl ServerCollector {
    const FAMILIES: [&'static str; 4] = [
        "prometheus_tsdb_head_series",
        "prometheus_tsdb_head_samples_appended_total",
        "prometheus_config_last_reload_successful",
        "prometheus_config_last_reload_success_timestamp_seconds",
    ];
}

impl Collector for ServerCollector {
    fn collect(&self, out: &mut Vec<FamilySnapshot>) {
        let stats = self.db.head().stats();
        let runtime = self
            .runtime
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let reload_time = runtime
            .last_config_time
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        for (name, help, kind, value) in [
            (
                Self::FAMILIES[0],
                "Total number of series in the head block.",
                MetricKind::Gauge,
                stats.series as f64,
            ),
            (
                Self::FAMILIES[1],
                "Total number of appended samples.",
                MetricKind::Counter,
                stats.samples_appended as f64,
            ),
            (
                Self::FAMILIES[2],
                "Whether the last configuration reload attempt was successful.",
                MetricKind::Gauge,
                if runtime.last_reload_ok { 1.0 } else { 0.0 },
            ),
            (
                Self::FAMILIES[3],
                "Timestamp of the last successful configuration reload.",
                MetricKind::Gauge,
                reload_time,
            ),
        ] {
            out.push(FamilySnapshot {
                name: name.into(),
                help: help.into(),
                kind,
                metrics: vec![MetricSnapshot {
                    labels: Vec::new(),
                    value: MetricValue::Single(value),
                    created: None,
                }],
            });
        }
    }
}

/// The machine's name, for the external URL Prometheus derives when
/// `--web.external-url` is not given (`http://<hostname>:<port>/`).
fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_owned())
}
