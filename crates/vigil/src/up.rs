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
use crate::supervise::{Part, Supervisor};

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
    /// Listen on every interface (0.0.0.0) instead of loopback, keeping
    /// each component's port; the components still reach each other over
    /// 127.0.0.1
    #[arg(long)]
    listen_all: bool,
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

/// The address a component binds: `--listen-all` keeps the port and
/// takes every interface.
fn bind(addr: SocketAddr, all: bool) -> SocketAddr {
    if all {
        SocketAddr::new(std::net::Ipv4Addr::UNSPECIFIED.into(), addr.port())
    } else {
        addr
    }
}

/// How the other components reach one bound at `addr`: over loopback when
/// it listens on every interface.
fn local(addr: SocketAddr) -> SocketAddr {
    if addr.ip().is_unspecified() {
        SocketAddr::new(std::net::Ipv4Addr::LOCALHOST.into(), addr.port())
    } else {
        addr
    }
}

/// A component of `up`, listening where `flag` says.
fn part(name: &'static str, addr: SocketAddr, flag: &'static str) -> Part {
    Part {
        command: "vigil up",
        name,
        listen: Some((addr, flag)),
    }
}

pub(crate) async fn run(args: UpArgs) -> anyhow::Result<()> {
    let stop = shutdown_on_signal()?;
    let all = args.listen_all;
    let logs = args.data_dir.join("logs");
    // One writer per file: the API and the log generator get a directory each.
    let api_logs = logs.join("api");
    let loggen_logs = logs.join("loggen");
    let mut up = Supervisor::new("vigil up");

    let demo_listen = bind(args.demo_listen, all);
    let api_addr = up
        .start::<ApiServer, _>(
            part("the demo API", demo_listen, "--demo-listen"),
            ApiConfig {
                listen: demo_listen,
                max_delay: args.max_delay,
                log_dir: api_logs.clone(),
                // `up` promises to exit within seconds of Ctrl-C.
                shutdown_grace: Duration::from_secs(2),
                ..ApiConfig::default()
            },
            ApiServer::addr,
        )
        .await?;
    let api_url = format!("http://{}", local(api_addr));

    let prometheus_yml = args.data_dir.join("config/prometheus.yml");
    let prometheus_listen = bind(args.prometheus_listen, all);
    prometheus_config(
        &prometheus_yml,
        local(api_addr),
        local(args.prometheus_listen),
        args.scrape_interval,
    )?;
    let (metrics_addr, targets, samples) = up
        .start::<PrometheusServer, _>(
            part(
                "the metrics server",
                prometheus_listen,
                "--prometheus-listen",
            ),
            ServerOptions {
                enable_lifecycle: true,
                enable_remote_write_receiver: true,
                ..ServerOptions::new(
                    prometheus_yml.clone(),
                    args.data_dir.join("prometheus"),
                    prometheus_listen,
                )
            },
            |server| {
                let scrape = server.scrape().clone();
                let db = server.db().clone();
                (
                    server.addr(),
                    move || scrape.targets_up(),
                    move || db.head().stats().samples_appended,
                )
            },
        )
        .await?;
    let metrics_url = format!("http://{}", local(metrics_addr));

    let loki_yaml = args.data_dir.join("config/loki-config.yaml");
    write_once(&loki_yaml, LOKI_CONFIG)?;
    let loki_listen = bind(args.loki_listen, all);
    let (loki_addr, loki_registry) = up
        .start::<LokiServer, _>(
            part("the log store", loki_listen, "--loki-listen"),
            LokiOptions {
                storage_path: Some(args.data_dir.join("loki")),
                listen_address: Some(loki_listen.ip().to_string()),
                listen_port: Some(loki_listen.port()),
                ..LokiOptions::new(loki_yaml.clone())
            },
            |server| (server.addr(), server.registry().clone()),
        )
        .await?;
    let loki_url = format!("http://{}", local(loki_addr));

    let promtail_yaml = args.data_dir.join("config/promtail-config.yaml");
    promtail_config(&promtail_yaml, &args.data_dir)?;
    let agent_listen = bind(args.agent_listen, all);
    let agent_addr = up
        .start::<Agent, _>(
            part("the log agent", agent_listen, "--agent-listen"),
            AgentOptions {
                config_file: promtail_yaml.display().to_string(),
                overrides: agent::config::Overrides {
                    // The store's address as `up` started it.
                    client_url: Some(format!("{loki_url}/loki/api/v1/push")),
                    client_external_labels: None,
                },
                listen: Some(agent_listen),
                ..AgentOptions::default()
            },
            Agent::addr,
        )
        .await?;
    let agent_url = agent_addr.map_or_else(
        || "(server disabled)".to_owned(),
        |a| format!("http://{}", local(a)),
    );

    let grafana_dir = args.data_dir.join("config/grafana");
    grafana_provisioning(&grafana_dir, &metrics_url, &loki_url, args.scrape_interval)?;
    let grafana_listen = bind(args.grafana_listen, all);
    let security = crate::cli::security_from_env(&|name| std::env::var(name).ok());
    let login = format!("{}/{}", security.admin_user, security.admin_password);
    let dashboards_addr = up
        .start::<Dashboards, _>(
            part("the dashboards", grafana_listen, "--grafana-listen"),
            DashboardOptions {
                http_addr: grafana_listen,
                data_dir: args.data_dir.join("grafana"),
                provisioning_dir: Some(grafana_dir.clone()),
                security,
            },
            Dashboards::addr,
        )
        .await?;

    up.start::<loadgen::Loadgen, _>(
        Part {
            command: "vigil up",
            name: "the traffic generator",
            listen: None,
        },
        loadgen::LoadgenStart {
            config: loadgen::LoadgenConfig {
                target: api_url.clone(),
                clients: args.loadgen_clients,
                interval: args.loadgen_interval,
                ..loadgen::LoadgenConfig::default()
            },
            on_round: std::sync::Arc::new(|round| tracing::debug!("loadgen {round}")),
        },
        |_| (),
    )
    .await?;
    up.start::<loggen::Loggen, _>(
        Part {
            command: "vigil up",
            name: "the log generator",
            listen: None,
        },
        loggen::LoggenConfig {
            dir: loggen_logs.clone(),
            interval: args.loggen_interval,
            ..loggen::LoggenConfig::default()
        },
        |_| (),
    )
    .await?;

    // What to open: on loopback even with --listen-all.
    let shown = |addr: SocketAddr| format!("http://{}", local(addr));
    println!("vigil is up");
    println!(
        "  dashboards      {}  (login {login}; provisioning {})",
        shown(dashboards_addr),
        grafana_dir.display()
    );
    println!(
        "  demo API        {}  (metrics at {api_url}/metrics)",
        shown(api_addr)
    );
    println!(
        "  metrics server  {}  (Prometheus API; config {})",
        shown(metrics_addr),
        prometheus_yml.display()
    );
    println!(
        "  log store       {}  (Loki API; config {})",
        shown(loki_addr),
        loki_yaml.display()
    );
    println!(
        "  log agent       {agent_url}  (tails the logs below; config {})",
        promtail_yaml.display()
    );
    println!("  data            {}", args.data_dir.display());
    println!("  API log         {}", api_logs.join("logs.log").display());
    println!("  generated logs  {}", loggen_logs.display());
    println!(
        "  traffic         {} requests every {}",
        args.loadgen_clients,
        model::duration::format_duration(args.loadgen_interval)
    );
    println!("Press Ctrl-C to stop; send SIGHUP to reload every config.");

    let status_stop = lifecycle::CancellationToken::new();
    let status = crate::status::spawn(
        crate::status::Probes {
            targets: Box::new(targets),
            samples: Box::new(samples),
            log_lines: Box::new(move || {
                crate::status::counter_sum(&loki_registry, "loki_distributor_lines_received_total")
            }),
            data_dir: args.data_dir.clone(),
        },
        status_stop.clone(),
    );
    let result = up.run_until(stop).await;
    status_stop.cancel();
    if let Some(status) = status {
        let _ = status.await;
    }
    let reports = result?;
    for report in &reports {
        if let Some(summary) = report.downcast_ref::<loadgen::Summary>() {
            tracing::info!(
                requests = summary.requests,
                errors = summary.errors,
                "traffic generator stopped"
            );
        }
        if let Some(report) = report.downcast_ref::<loggen::LoggenReport>() {
            tracing::info!(lines = report.lines, "log generator stopped");
        }
    }
    println!("vigil stopped");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{bind, local};

    #[test]
    fn listen_all_binds_every_interface_on_the_same_port() {
        let addr = "127.0.0.1:3100".parse().unwrap();
        assert_eq!(bind(addr, false), addr);
        assert_eq!(bind(addr, true).to_string(), "0.0.0.0:3100");
    }

    #[test]
    fn components_reach_each_other_over_loopback() {
        assert_eq!(
            local("0.0.0.0:9090".parse().unwrap()).to_string(),
            "127.0.0.1:9090"
        );
        let specific = "192.0.2.7:9090".parse().unwrap();
        assert_eq!(local(specific), specific);
    }
}
