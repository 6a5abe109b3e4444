//! `vigil promtail`: the agent as one component, with the lifecycle every
//! vigil component has (start, ready, reload, drain).
//!
//! [`Agent::start`] loads promtail-config.yaml and wires, per job, the file
//! targets ([`crate::tail`]) into the job's pipeline ([`job::JobSink`]) and
//! that into the clients ([`crate::client`]), or into the printer of
//! `--dry-run`. The HTTP endpoints ([`crate::server`]) and the metrics
//! registry live as long as the agent; a reload builds the targets,
//! pipelines and clients anew from the new file and retires the old ones
//! the way a shutdown does, so no acknowledged position is lost across it.
//! [`run_stdin`] is `--stdin`: the first job's pipeline over standard
//! input, until its end.

mod clients;
mod job;
mod stdin;

use std::io::Write as _;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use instrument::Registry;
use model::Labels;
use tokio_util::sync::CancellationToken;

use crate::client::{ClientError, ClientMetrics};
use crate::config::{Config, ConfigError, Overrides, ScrapeConfig, TargetKind};
use crate::entry::{LabelSet, Sink};
use crate::pipeline::{DryRunSink, LimitStage, Pipeline, PipelineError, StageContext};
use crate::server::{JobStatus, ServerState, StatusSource};
use crate::tail::{
    Positions, PositionsConfig, PositionsError, SyncHandle, TailConfig, TailMetrics, TargetConfig,
    TargetManager,
};
use clients::Clients;
pub use job::{JobSink, ReadlineLimit};
pub use stdin::run_stdin;

/// How long a shutdown waits for the clients to acknowledge what was
/// read: within `vigil up`'s promise to exit in 5 s.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(3);

/// How `vigil promtail` is started.
#[derive(Debug, Clone, Default)]
pub struct AgentOptions {
    /// `-config.file`: one path, or a comma list of which the first that
    /// exists is read (as Promtail).
    pub config_file: String,
    /// `-config.expand-env`.
    pub expand_env: bool,
    /// `-client.url`, `-client.external-labels`.
    pub overrides: Overrides,
    /// `-dry-run`: print entries instead of pushing them; positions are
    /// read but never written.
    pub dry_run: bool,
    /// `-inspect`: print what each stage changes (with `-dry-run`).
    pub inspect: bool,
    /// Where to listen instead of the config's `server` block (`up`, tests).
    pub listen: Option<SocketAddr>,
}

/// Why the agent could not start, reload or stop cleanly.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// The config does not load, or fails Promtail's checks.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A job's pipeline does not build.
    #[error("job {job}: {source}")]
    Pipeline {
        /// The job.
        job: String,
        /// Why.
        source: PipelineError,
    },
    /// The positions file cannot be read or written.
    #[error(transparent)]
    Positions(#[from] PositionsError),
    /// A client cannot be built.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// The metrics registry refused a family (a bug).
    #[error("registering metrics: {0}")]
    Metrics(#[from] instrument::RegistryError),
    /// The listen address is taken or invalid.
    #[error("listening on {addr}: {source}")]
    Bind {
        /// The address.
        addr: String,
        /// Why.
        source: std::io::Error,
    },
    /// Reading standard input failed.
    #[error("reading standard input: {0}")]
    Stdin(std::io::Error),
    /// A task or thread of the agent panicked or failed.
    #[error("an agent task failed: {0}")]
    Task(String),
}

/// The running agent.
pub struct Agent {
    options: AgentOptions,
    addr: Option<SocketAddr>,
    metrics: Metrics,
    status: Arc<CurrentTargets>,
    running: tokio::sync::Mutex<Option<Running>>,
    server: Option<(CancellationToken, lifecycle::Task<std::io::Result<()>>)>,
    fault: lifecycle::Fault,
}

/// The agent's name in messages.
const NAME: &str = "the log agent";

/// What a config builds: targets, pipelines, clients and the threads
/// between them.
struct Running {
    jobs: Vec<Arc<JobSink>>,
    clients: Option<Clients>,
    sync: SyncHandle,
    ticker: Ticker,
    /// Cancelled when this config's clients are retired.
    retired: lifecycle::CancellationToken,
}

impl Agent {
    /// Loads the config and starts reading, pushing and serving.
    pub async fn start(options: AgentOptions) -> Result<Agent, AgentError> {
        let config = load(&options).await?;
        let metrics = Metrics::new()?;
        let status = Arc::new(CurrentTargets::default());
        let server_config = config.server.clone();
        let config_text = config_text(&config);
        let fault = lifecycle::Fault::new(NAME);
        let running = start_running(config, &options, &metrics, &status, &fault).await?;
        let mut agent = Agent {
            options,
            addr: None,
            metrics,
            status,
            running: tokio::sync::Mutex::new(Some(running)),
            server: None,
            fault,
        };
        if !server_config.disable {
            let addr = match agent.options.listen {
                Some(addr) => addr.to_string(),
                None => format!(
                    "{}:{}",
                    if server_config.http_listen_address.is_empty() {
                        "0.0.0.0"
                    } else {
                        &server_config.http_listen_address
                    },
                    server_config.http_listen_port
                ),
            };
            let listener = match tokio::net::TcpListener::bind(&addr).await {
                Ok(l) => l,
                Err(source) => {
                    agent.shutdown_running().await;
                    return Err(AgentError::Bind { addr, source });
                }
            };
            agent.addr = listener.local_addr().ok();
            let router = crate::server::router(ServerState {
                registry: agent.metrics.registry.clone(),
                status: agent.status.clone(),
                config_text: config_text.into(),
                health_check_target: server_config.health_check_target,
            });
            let stop = CancellationToken::new();
            let serve_stop = stop.clone();
            let task = lifecycle::spawn(&agent.fault, "serve", async move {
                axum::serve(listener, router)
                    .with_graceful_shutdown(serve_stop.cancelled_owned())
                    .await
            });
            agent.server = Some((stop, task));
        }
        Ok(agent)
    }

    /// Where the HTTP endpoints listen, unless `server.disable` is set.
    pub fn addr(&self) -> Option<SocketAddr> {
        self.addr
    }

    /// The registry `/metrics` prints.
    pub fn registry(&self) -> &Arc<Registry> {
        &self.metrics.registry
    }

    /// Reads the config file again and, when it loads, retires the
    /// targets, pipelines and clients and builds them from the new file.
    /// A file that does not load leaves everything as it was.
    pub async fn reload(&self) -> Result<(), AgentError> {
        let config = match load(&self.options).await {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(error = %e, "reload failed; keeping the running config");
                return Err(e);
            }
        };
        let mut running = self.running.lock().await;
        if let Some(old) = running.take() {
            stop_running(old, &self.status).await;
        }
        let new = start_running(
            config,
            &self.options,
            &self.metrics,
            &self.status,
            &self.fault,
        )
        .await?;
        *running = Some(new);
        tracing::info!("config reloaded");
        Ok(())
    }

    /// Stops reading, lets the clients acknowledge what was read (up to a
    /// few seconds), saves the positions and stops serving.
    pub async fn shutdown(mut self) -> Result<(), AgentError> {
        self.shutdown_running().await;
        if let Some((stop, task)) = self.server.take() {
            stop.cancel();
            match task.join().await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => return Err(AgentError::Task(e.to_string())),
                Err(e) => return Err(AgentError::Task(e.to_string())),
            }
        }
        Ok(())
    }

    async fn shutdown_running(&mut self) {
        if let Some(running) = self.running.get_mut().take() {
            stop_running(running, &self.status).await;
        }
    }
}

impl lifecycle::Component for Agent {
    type Config = AgentOptions;
    type Report = ();
    type Error = AgentError;

    async fn start(options: AgentOptions) -> Result<Self, AgentError> {
        Agent::start(options).await
    }

    async fn reload(&self) -> Result<(), AgentError> {
        Agent::reload(self).await
    }

    fn fault(&self) -> &lifecycle::Fault {
        &self.fault
    }

    async fn shutdown(self) -> Result<(), AgentError> {
        Agent::shutdown(self).await
    }
}

/// Loads, overrides and checks the config, off the async workers.
async fn load(options: &AgentOptions) -> Result<Config, AgentError> {
    let options = options.clone();
    let config = tokio::task::spawn_blocking(move || -> Result<Config, ConfigError> {
        let mut config = Config::load_config_file_flag(&options.config_file, options.expand_env)?;
        config.apply(&options.overrides);
        config.validate(false)?;
        Ok(config)
    })
    .await
    .map_err(|e| AgentError::Task(e.to_string()))??;
    for key in config.not_applicable() {
        tracing::info!(key = %key, "config key accepted but not used by vigil");
    }
    for unsupported in config.not_supported() {
        tracing::warn!("{unsupported}");
    }
    Ok(config)
}

/// The config as `/config` shows it: the file's name and the model.
fn config_text(config: &Config) -> String {
    format!("# {}\n{config:#?}\n", config.file_name())
}

/// Builds and starts what a config describes.
async fn start_running(
    config: Config,
    options: &AgentOptions,
    metrics: &Metrics,
    status: &Arc<CurrentTargets>,
    fault: &lifecycle::Fault,
) -> Result<Running, AgentError> {
    let (sink, clients) = sinks(&config, options, metrics)?;
    // Until these clients are retired (a reload builds new ones).
    let retired = lifecycle::CancellationToken::new();
    if let Some(clients) = &clients {
        clients.forward_faults(fault, &retired);
    }
    let base = metrics.stages.clone();
    let readline = readline_limit(&config, metrics);
    let mut jobs = Vec::new();
    let mut targets = Vec::new();
    for scrape in &config.scrape_configs {
        if scrape.kind != Some(TargetKind::Files) {
            // Other target kinds were reported when the config loaded.
            continue;
        }
        if !scrape.file_sd_configs.is_empty() {
            tracing::warn!(
                job = %scrape.job_name,
                "file_sd_configs are not supported yet and are ignored; use static_configs"
            );
        }
        if scrape.static_configs.is_empty() {
            continue;
        }
        let job = Arc::new(
            JobSink::new(job_pipeline(scrape, &base, options.inspect)?, sink.clone())
                .with_readline_limit(readline.clone()),
        );
        jobs.push(job.clone());
        targets.extend(job_targets(scrape, job));
    }
    let positions = Positions::open(PositionsConfig {
        filename: config.positions.filename.clone(),
        sync_period: config.positions.sync_period,
        ignore_invalid_yaml: config.positions.ignore_invalid_yaml,
        read_only: options.dry_run,
    })?;
    let tail_config = TailConfig {
        sync_period: config.target_config.sync_period,
        // A line the clients may still truncate is never cut here.
        max_line_bytes: TailConfig::default()
            .max_line_bytes
            .max(usize::try_from(config.limits.max_line_size).unwrap_or(usize::MAX)),
        ..TailConfig::default()
    };
    let sync = positions.start_sync();
    let tail_metrics = metrics.tail.clone();
    let manager = tokio::task::spawn_blocking(move || {
        TargetManager::start(targets, positions, tail_config, tail_metrics)
    })
    .await
    .map_err(|e| AgentError::Task(e.to_string()))?;
    status.set(Some(manager));
    let ticker = Ticker::start(jobs.clone());
    Ok(Running {
        jobs,
        clients,
        sync,
        ticker,
        retired,
    })
}

/// The agent's metrics, registered once and kept across reloads.
pub(crate) struct Metrics {
    registry: Arc<Registry>,
    tail: Arc<TailMetrics>,
    clients: ClientMetrics,
    /// What every job's stages count into.
    stages: StageContext,
}

impl Metrics {
    pub(crate) fn new() -> Result<Metrics, instrument::RegistryError> {
        let registry = Arc::new(Registry::new());
        registry.register(
            &instrument::PROCESS_FAMILIES,
            Arc::new(instrument::ProcessCollector),
        )?;
        Ok(Metrics {
            tail: TailMetrics::register(&registry)?,
            clients: ClientMetrics::new(&registry)?,
            stages: StageContext::new("", registry.clone())?,
            registry,
        })
    }
}

/// Where a config's entries go: the printer of `--dry-run`, or its clients.
pub(crate) fn sinks(
    config: &Config,
    options: &AgentOptions,
    metrics: &Metrics,
) -> Result<(Arc<dyn Sink>, Option<Clients>), AgentError> {
    if options.dry_run {
        return Ok((Arc::new(DryRunSink::new(std::io::stdout())), None));
    }
    let clients = Clients::start(
        &config.clients,
        &config.limits,
        &metrics.clients,
        &tokio::runtime::Handle::current(),
    )?;
    Ok((clients.sink(), Some(clients)))
}

/// `limits_config.readline_rate`, when `readline_rate_enabled` is set: one
/// limiter for every job.
pub(crate) fn readline_limit(config: &Config, metrics: &Metrics) -> Option<job::ReadlineLimit> {
    let limits = &config.limits;
    limits.readline_rate_enabled.then(|| {
        Arc::new(Mutex::new(LimitStage::readline(
            limits.readline_rate,
            limits.readline_burst,
            limits.readline_rate_drop,
            metrics.stages.dropped.clone(),
        )))
    })
}

/// The job's pipeline, printing each stage's changes when inspecting.
fn job_pipeline(
    scrape: &ScrapeConfig,
    base: &StageContext,
    inspect: bool,
) -> Result<Pipeline, AgentError> {
    let pipeline = Pipeline::new(&scrape.pipeline_stages, &base.for_job(&scrape.job_name))
        .map_err(|source| AgentError::Pipeline {
            job: scrape.job_name.clone(),
            source,
        })?;
    Ok(if inspect {
        pipeline.inspect_with(Box::new(|text: &str| {
            let mut err = std::io::stderr().lock();
            let _ = err.write_all(text.as_bytes());
        }))
    } else {
        pipeline
    })
}

/// The file targets of a job: each static config's labels, with
/// `__address__` for each of its `targets` as Prometheus' discovery sets
/// it, relabelled; a target relabelled away is dropped.
fn job_targets(scrape: &ScrapeConfig, job: Arc<JobSink>) -> Vec<TargetConfig> {
    let mut out = Vec::new();
    for group in &scrape.static_configs {
        let addresses: Vec<Option<&str>> = if group.targets.is_empty() {
            vec![None]
        } else {
            group.targets.iter().map(|t| Some(t.as_str())).collect()
        };
        for address in addresses {
            let mut labels: LabelSet = group.labels.clone();
            if let Some(address) = address {
                labels.insert("__address__".to_owned(), address.to_owned());
            }
            let Some(labels) = relabel(&labels, scrape) else {
                continue;
            };
            out.push(TargetConfig {
                job: scrape.job_name.clone(),
                labels,
                sink: job.clone(),
            });
        }
    }
    out
}

/// Applies the job's `relabel_configs`; `None` when a step drops the target.
fn relabel(labels: &LabelSet, scrape: &ScrapeConfig) -> Option<LabelSet> {
    if scrape.relabel_configs.is_empty() {
        return Some(labels.clone());
    }
    let model_labels = Labels::from_pairs(labels.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let relabelled = model::relabel::process(&model_labels, &scrape.relabel_configs)?;
    Some(
        relabelled
            .iter()
            .map(|l| (l.name.to_owned(), l.value.to_owned()))
            .collect(),
    )
}

/// Retires what a config built, losing nothing acknowledged: held entries
/// are released, reading stops, the clients get a few seconds to
/// acknowledge what was read (the tailers record positions up to what
/// they did), then the clients stop and the positions are saved.
async fn stop_running(running: Running, status: &CurrentTargets) {
    let Running {
        jobs,
        clients,
        sync,
        ticker,
        retired,
    } = running;
    retired.cancel();
    let manager = status.set(None);
    let result = tokio::task::spawn_blocking(move || {
        for job in &jobs {
            // From now on, nothing is held back: entries the tailers still
            // send pass straight through.
            if job.close().is_err() {
                tracing::warn!("the clients stopped before the pipelines were drained");
            }
        }
        if let Some(manager) = manager {
            manager.stop(DRAIN_TIMEOUT);
        }
        ticker.stop();
        if let Some(clients) = clients {
            clients.stop(Duration::from_millis(500));
        }
        sync.stop()
    })
    .await;
    match result {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::error!(error = %e, "saving positions at shutdown"),
        Err(e) => tracing::error!(error = %e, "the shutdown of the agent's targets panicked"),
    }
}

/// The targets the pages show: the current config's, swapped on reload.
#[derive(Default)]
struct CurrentTargets(Mutex<Option<Arc<TargetManagerCell>>>);

/// A target manager that can be taken out to stop it.
struct TargetManagerCell(Mutex<Option<TargetManager>>);

impl CurrentTargets {
    /// Installs `manager` (or none), returning the one it replaces.
    fn set(&self, manager: Option<TargetManager>) -> Option<TargetManager> {
        let mut current = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let old = current
            .take()
            .and_then(|cell| cell.0.lock().unwrap_or_else(PoisonError::into_inner).take());
        *current = manager.map(|m| Arc::new(TargetManagerCell(Mutex::new(Some(m)))));
        old
    }
}

impl StatusSource for CurrentTargets {
    fn jobs(&self) -> Vec<JobStatus> {
        let cell = self
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        cell.map(|cell| {
            cell.0
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .as_ref()
                .map(StatusSource::jobs)
                .unwrap_or_default()
        })
        .unwrap_or_default()
    }
}

/// The thread that releases entries held past their time in every job's
/// pipeline.
struct Ticker {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Ticker {
    fn start(jobs: Vec<Arc<JobSink>>) -> Ticker {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("pipeline-ticker".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    std::thread::sleep(job::TICK);
                    for job in &jobs {
                        if job.tick().is_err() {
                            return;
                        }
                    }
                }
            })
            .ok();
        if thread.is_none() {
            tracing::error!(
                "could not start the pipeline ticker; multiline waits end only with new lines"
            );
        }
        Ticker { stop, thread }
    }

    fn stop(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            tracing::error!("the pipeline ticker panicked");
        }
    }
}

/// The default config file path, as Promtail's flag has it.
pub const DEFAULT_CONFIG_FILE: &str = "config.yaml";
