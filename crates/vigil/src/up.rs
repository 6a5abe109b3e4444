//! `vigil up`: every component in one process, on the upstream ports, with
//! data under one directory.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use agent::service::{Agent, AgentOptions};
use clap::Args;
use dashboard::server::{DashboardOptions, Dashboards};
use demo::api::{ApiConfig, ApiServer};
use demo::{loadgen, loggen};
use logstore::server::{LokiServer, ServerOptions as LokiOptions};
use prom::server::{PrometheusServer, ServerOptions};

use crate::cli::duration;
use crate::shutdown_on_signal;

#[derive(Args)]
pub(crate) struct UpArgs {
    /// Where every component keeps its data and logs
    #[arg(long, default_value = "data")]
    data_dir: PathBuf,
    /// Address of the demo API
    #[arg(long, default_value = "127.0.0.1:8000")]
    demo_listen: SocketAddr,
    /// Upper bound of the demo API's random delay
    #[arg(long, default_value = "30s", value_parser = duration)]
    max_delay: Duration,
    /// Concurrent requests per traffic round
    #[arg(long, default_value_t = 25)]
    loadgen_clients: usize,
    /// Pause between traffic rounds
    #[arg(long, default_value = "5s", value_parser = duration)]
    loadgen_interval: Duration,
    /// Time between generated log lines
    #[arg(long, default_value = "1s", value_parser = duration)]
    loggen_interval: Duration,
    /// Address of the metrics server
    #[arg(long, default_value = "127.0.0.1:9090")]
    prometheus_listen: SocketAddr,
    /// Scrape interval written into a new data/config/prometheus.yml
    #[arg(long, default_value = "15s", value_parser = duration)]
    scrape_interval: Duration,
    /// Address of the log store
    #[arg(long, default_value = "127.0.0.1:3100")]
    loki_listen: SocketAddr,
    /// Address of the log agent's own endpoints (/ready, /metrics, /targets)
    #[arg(long, default_value = "127.0.0.1:9080")]
    agent_listen: SocketAddr,
    /// Address of the dashboards server (web UI and Grafana-style API)
    #[arg(long, default_value = "127.0.0.1:3000")]
    grafana_listen: SocketAddr,
}

/// vigil's own loki-config.yaml (`config/` in the repository), built in so
/// that the binary needs nothing beside it.
const LOKI_CONFIG: &str = include_str!("../../../config/loki-config.yaml");

/// vigil's own prometheus.yml, built in: the demo API and the metrics
/// server at their default addresses, which `up` replaces with its own.
const PROMETHEUS_CONFIG: &str = include_str!("../../../config/prometheus.yml");
/// Where the metrics server's own job starts in that file.
const PROMETHEUS_OWN_JOB: &str = "  # The metrics server's own metrics";

/// vigil's own promtail-config.yaml, built in likewise; its paths are under
/// `${VIGIL_DATA_DIR}`, which `up` fills in with its data directory.
const PROMTAIL_CONFIG: &str = include_str!("../../../config/promtail-config.yaml");

/// vigil's Grafana provisioning folder (`config/grafana/` in the
/// repository), built in: the datasources, the dashboard provider, and
/// vigil's own dashboard.
const GRAFANA_DATASOURCES: &str = include_str!("../../../config/grafana/datasources/vigil.yml");
const GRAFANA_PROVIDER: &str = include_str!("../../../config/grafana/dashboards/vigil.yml");
const GRAFANA_DASHBOARD: &str =
    include_str!("../../../config/grafana/dashboards/fast-api-metrics.json");

/// The dashboards' provisioning folder for `up`, under `dir`: vigil's own
/// files, the datasources pointed at the metrics server and log store as
/// `up` started them and Prometheus' `timeInterval` set to the scrape
/// interval. The YAML files are written once (a user's edits are kept);
/// the dashboard is vigil's and kept up to date.
fn grafana_provisioning(
    dir: &Path,
    metrics_url: &str,
    loki_url: &str,
    scrape_interval: Duration,
) -> anyhow::Result<()> {
    let interval = model::duration::format_duration(scrape_interval);
    let datasources = GRAFANA_DATASOURCES
        .replace("url: http://127.0.0.1:9090", &format!("url: {metrics_url}"))
        .replace("url: http://127.0.0.1:3100", &format!("url: {loki_url}"))
        .replace("timeInterval: 15s", &format!("timeInterval: {interval}"));
    write_once(&dir.join("datasources/vigil.yml"), &datasources)?;
    write_once(&dir.join("dashboards/vigil.yml"), GRAFANA_PROVIDER)?;
    // vigil's own dashboard is vigil's file, not the user's: rewritten at
    // every start so that a newer vigil brings its newer dashboard. Users'
    // dashboards go beside it (the provider reads the whole folder).
    let dashboard = dir.join("dashboards/fast-api-metrics.json");
    if std::fs::read_to_string(&dashboard).ok().as_deref() != Some(GRAFANA_DASHBOARD) {
        std::fs::create_dir_all(dir.join("dashboards"))?;
        std::fs::write(&dashboard, GRAFANA_DASHBOARD)?;
    }
    Ok(())
}

/// The agent's config for `up`: vigil's own file with the data directory
/// filled in. Written once; a user's edits are kept.
fn promtail_config(path: &Path, data_dir: &Path) -> anyhow::Result<()> {
    let data_dir = data_dir.display().to_string();
    let text = agent::config::expand_env_with(PROMTAIL_CONFIG, "promtail-config.yaml", |name| {
        (name == "VIGIL_DATA_DIR").then(|| data_dir.clone())
    })?;
    let text = format!(
        "# Written by `vigil up` from vigil's config/promtail-config.yaml, with the data\n\
         # directory filled in; edit freely, it is not overwritten.\n{text}"
    );
    write_once(path, &text)
}

/// Writes `text` to `path` unless the file exists: a user's edits are kept.
fn write_once(path: &Path, text: &str) -> anyhow::Result<()> {
    if path.exists() {
        return Ok(());
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, text)?;
    Ok(())
}

/// The metrics server's config for `up`: vigil's config/prometheus.yml
/// (the reference one plus the server's own metrics) pointed at the demo
/// API and the metrics server as `up` starts them, without the own job
/// when that port is only known later. Written once; a user's edits are
/// kept.
fn prometheus_config(
    path: &Path,
    demo: SocketAddr,
    vigil: SocketAddr,
    interval: Duration,
) -> anyhow::Result<()> {
    let interval = model::duration::format_duration(interval);
    let mut text = PROMETHEUS_CONFIG
        .replace(
            "scrape_interval: 15s",
            &format!("scrape_interval: {interval}"),
        )
        .replace("\"127.0.0.1:8000\"", &format!("\"{demo}\""))
        .replace("\"127.0.0.1:9090\"", &format!("\"{vigil}\""));
    // A metrics server on a port chosen at start has no address to write.
    if vigil.port() == 0 {
        if let Some(own) = text.find(PROMETHEUS_OWN_JOB) {
            text.truncate(own);
        }
    }
    write_once(
        path,
        &format!(
            "# Written by `vigil up` from vigil's config/prometheus.yml; edit freely, it is not overwritten.\n{text}"
        ),
    )
}

pub(crate) async fn run(args: UpArgs) -> anyhow::Result<()> {
    let shutdown = shutdown_on_signal()?;
    let logs = args.data_dir.join("logs");
    // One writer per file: the API and the log generator get a directory each.
    let api_logs = logs.join("api");
    let loggen_logs = logs.join("loggen");
    let api = ApiServer::start(ApiConfig {
        listen: args.demo_listen,
        max_delay: args.max_delay,
        log_dir: api_logs.clone(),
        // `up` promises to exit within seconds of Ctrl-C.
        shutdown_grace: Duration::from_secs(2),
        ..ApiConfig::default()
    })
    .await?;
    let api_url = format!("http://{}", api.addr());

    let prometheus_yml = args.data_dir.join("config/prometheus.yml");
    prometheus_config(
        &prometheus_yml,
        api.addr(),
        args.prometheus_listen,
        args.scrape_interval,
    )?;
    let metrics = PrometheusServer::start(ServerOptions {
        enable_lifecycle: true,
        enable_remote_write_receiver: true,
        ..ServerOptions::new(
            prometheus_yml.clone(),
            args.data_dir.join("prometheus"),
            args.prometheus_listen,
        )
    })
    .await?;
    let metrics_url = format!("http://{}", metrics.addr());

    let loki_yaml = args.data_dir.join("config/loki-config.yaml");
    write_once(&loki_yaml, LOKI_CONFIG)?;
    let logs_store = LokiServer::start(LokiOptions {
        storage_path: Some(args.data_dir.join("loki")),
        listen_address: Some(args.loki_listen.ip().to_string()),
        listen_port: Some(args.loki_listen.port()),
        ..LokiOptions::new(loki_yaml.clone())
    })
    .await?;
    let loki_url = format!("http://{}", logs_store.addr());

    let promtail_yaml = args.data_dir.join("config/promtail-config.yaml");
    promtail_config(&promtail_yaml, &args.data_dir)?;
    let agent = Agent::start(AgentOptions {
        config_file: promtail_yaml.display().to_string(),
        overrides: agent::config::Overrides {
            // The store's address as `up` was told it.
            client_url: Some(format!("{loki_url}/loki/api/v1/push")),
            client_external_labels: None,
        },
        listen: Some(args.agent_listen),
        ..AgentOptions::default()
    })
    .await?;
    let agent_url = agent
        .addr()
        .map_or_else(|| "(server disabled)".to_owned(), |a| format!("http://{a}"));

    let grafana_dir = args.data_dir.join("config/grafana");
    grafana_provisioning(&grafana_dir, &metrics_url, &loki_url, args.scrape_interval)?;
    let dashboards = Dashboards::start(DashboardOptions {
        http_addr: args.grafana_listen,
        data_dir: args.data_dir.join("grafana"),
        provisioning_dir: Some(grafana_dir.clone()),
        security: crate::cli::security_from_env(&|name| std::env::var(name).ok()),
    })
    .await?;
    let dashboards_url = format!("http://{}", dashboards.addr());

    let traffic = tokio::spawn({
        let config = loadgen::LoadgenConfig {
            target: api_url.clone(),
            clients: args.loadgen_clients,
            interval: args.loadgen_interval,
            ..loadgen::LoadgenConfig::default()
        };
        let stop = shutdown.clone();
        async move {
            loadgen::run(&config, stop.cancelled_owned(), |round| {
                tracing::debug!("loadgen {round}")
            })
            .await
        }
    });
    let fake_logs = tokio::spawn({
        let config = loggen::LoggenConfig {
            dir: loggen_logs.clone(),
            interval: args.loggen_interval,
            ..loggen::LoggenConfig::default()
        };
        let stop = shutdown.clone();
        async move { loggen::run(&config, stop.cancelled_owned()).await }
    });

    println!("vigil is up");
    println!("  demo API        {api_url}  (metrics at {api_url}/metrics)");
    println!(
        "  metrics server  {metrics_url}  (Prometheus API; config {})",
        prometheus_yml.display()
    );
    println!(
        "  log store       {loki_url}  (Loki API; config {})",
        loki_yaml.display()
    );
    println!(
        "  log agent       {agent_url}  (tails the logs below; config {})",
        promtail_yaml.display()
    );
    println!(
        "  dashboards      {dashboards_url}  (web UI; provisioning {})",
        grafana_dir.display()
    );
    println!("  API log         {}", api_logs.join("logs.log").display());
    println!("  generated logs  {}", loggen_logs.display());
    println!(
        "  traffic         {} requests every {}",
        args.loadgen_clients,
        model::duration::format_duration(args.loadgen_interval)
    );
    println!("Press Ctrl-C to stop.");

    shutdown.cancelled().await;
    // Every component is stopped, whatever the others report: an error of
    // one must not leave the stores unsynced. The dashboards go first: they
    // only read from the others.
    let dashboards = dashboards.shutdown().await;
    let traffic = traffic.await;
    let fake_logs = fake_logs.await;
    // The agent pushes what it has read before the log store stops.
    let agent = agent.shutdown().await;
    let api = api.shutdown().await;
    let metrics = metrics.shutdown().await;
    let logs_store = logs_store.shutdown().await;
    let summary = traffic??;
    tracing::info!(
        requests = summary.requests,
        errors = summary.errors,
        "traffic generator stopped"
    );
    let report = fake_logs??;
    tracing::info!(lines = report.lines, "log generator stopped");
    dashboards?;
    agent?;
    api?;
    metrics?;
    logs_store?;
    println!("vigil stopped");
    Ok(())
}
