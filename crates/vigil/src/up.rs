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
    /// Monitor your own service instead of the demo: start no demo API,
    /// traffic generator or log generator; give what to watch with
    /// --scrape and --logs
    #[arg(long)]
    no_demo: bool,
    /// A /metrics endpoint of your service to scrape, as HOST:PORT
    /// (repeatable; with --no-demo)
    #[arg(long, value_name = "HOST:PORT", requires = "no_demo", value_parser = host_port)]
    scrape: Vec<String>,
    /// Log files of your service to tail, as a glob (repeatable; with
    /// --no-demo)
    #[arg(long, value_name = "GLOB", requires = "no_demo")]
    logs: Vec<String>,
    /// The `job` label of your service's metrics and logs (with --no-demo)
    #[arg(long, default_value = "app", requires = "no_demo", value_parser = job_name)]
    job: String,
    /// Print the configs `up` would write and exit without starting
    /// anything
    #[arg(long)]
    print_config: bool,
}

/// Checks a `--scrape` target: `HOST:PORT`, as a Prometheus static target.
fn host_port(text: &str) -> Result<String, String> {
    let (host, port) = text
        .rsplit_once(':')
        .ok_or_else(|| format!("{text:?} is not HOST:PORT"))?;
    if host.is_empty() || host.contains('/') {
        return Err(format!("{text:?} is not HOST:PORT"));
    }
    port.parse::<u16>()
        .map_err(|e| format!("{text:?}: port {port:?}: {e}"))?;
    Ok(text.to_owned())
}

/// Checks `--job`: it goes into YAML, PromQL and LogQL as it is, so it is
/// kept to characters none of them quote.
fn job_name(text: &str) -> Result<String, String> {
    let fine = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.');
    if text.is_empty() || !text.chars().all(fine) {
        return Err(format!(
            "{text:?}: a job name of letters, digits, '_', '-' and '.'"
        ));
    }
    Ok(text.to_owned())
}

/// What `up --no-demo` watches instead of the demo.
#[derive(Debug, Clone, PartialEq)]
struct OwnService {
    /// The `job` label of its metrics and logs.
    job: String,
    /// `HOST:PORT` targets to scrape.
    scrape: Vec<String>,
    /// Globs of its log files, absolute.
    logs: Vec<String>,
}

impl UpArgs {
    /// The user's service, under `--no-demo`.
    fn own_service(&self) -> anyhow::Result<Option<OwnService>> {
        if !self.no_demo {
            return Ok(None);
        }
        // The agent may be started from elsewhere later (a service
        // manager); an absolute glob means the same files then.
        let logs = self
            .logs
            .iter()
            .map(|glob| Ok(std::path::absolute(glob)?.display().to_string()))
            .collect::<anyhow::Result<_>>()?;
        Ok(Some(OwnService {
            job: self.job.clone(),
            scrape: self.scrape.clone(),
            logs,
        }))
    }
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

/// The datasources for `up`: vigil's file pointed at the metrics server
/// and log store as `up` started them, Prometheus' `timeInterval` set to
/// the scrape interval.
fn datasources_text(metrics_url: &str, loki_url: &str, scrape_interval: Duration) -> String {
    let interval = model::duration::format_duration(scrape_interval);
    GRAFANA_DATASOURCES
        .replace("url: http://127.0.0.1:9090", &format!("url: {metrics_url}"))
        .replace("url: http://127.0.0.1:3100", &format!("url: {loki_url}"))
        .replace("timeInterval: 15s", &format!("timeInterval: {interval}"))
}

/// vigil's dashboard; under `--no-demo`, about the user's job: its logs
/// panels query the user's log job (warnings as `WARN` or `WARNING`), and the `job` variable (every job
/// with an `up` series) starts at the user's job.
fn dashboard_text(own: Option<&OwnService>) -> String {
    match own {
        None => GRAFANA_DASHBOARD.to_owned(),
        Some(own) => GRAFANA_DASHBOARD
            .replace(
                "{job=\\\"fast-api-logs\\\"",
                &format!("{{job=\\\"{}\\\"", own.job),
            )
            // Upper-cased `level=warn` is WARN; the demo's is WARNING.
            .replace(
                "log_level=\\\"WARNING\\\"",
                "log_level=~\\\"WARN|WARNING\\\"",
            )
            .replace(
                "\"text\": \"fastapi\"",
                &format!("\"text\": \"{}\"", own.job),
            )
            .replace(
                "\"value\": \"fastapi\"",
                &format!("\"value\": \"{}\"", own.job),
            ),
    }
}

/// The dashboards' provisioning folder for `up`, under `dir`: vigil's own
/// files with the datasources of [`datasources_text`]. The YAML files are
/// written once (a user's edits are kept); the dashboard is vigil's and
/// kept up to date.
fn grafana_provisioning(dir: &Path, datasources: &str, dashboard: &str) -> anyhow::Result<()> {
    write_once(&dir.join("datasources/vigil.yml"), datasources)?;
    write_once(&dir.join("dashboards/vigil.yml"), GRAFANA_PROVIDER)?;
    // vigil's own dashboard is vigil's file, not the user's: rewritten at
    // every start so that a newer vigil brings its newer dashboard (and
    // `--no-demo` its job). Users' dashboards go beside it (the provider
    // reads the whole folder).
    let path = dir.join("dashboards/fast-api-metrics.json");
    if std::fs::read_to_string(&path).ok().as_deref() != Some(dashboard) {
        write(&path, dashboard)?;
    }
    Ok(())
}

/// `up --print-config`: the configs `up` would write with these flags,
/// each under a `# --- <path> ---` line, with the addresses as given.
fn print_config(args: &UpArgs, own: Option<&OwnService>) -> anyhow::Result<String> {
    let config = args.data_dir.join("config");
    let metrics_url = format!("http://{}", local(args.prometheus_listen));
    let loki_url = format!("http://{}", local(args.loki_listen));
    let files = [
        (
            config.join("prometheus.yml"),
            prometheus_text(
                local(args.demo_listen),
                own,
                local(args.prometheus_listen),
                args.scrape_interval,
            ),
        ),
        (
            config.join("promtail-config.yaml"),
            promtail_text(&args.data_dir, own)?,
        ),
        (config.join("loki-config.yaml"), LOKI_CONFIG.to_owned()),
        (
            config.join("grafana/datasources/vigil.yml"),
            datasources_text(&metrics_url, &loki_url, args.scrape_interval),
        ),
    ];
    let mut out = String::new();
    for (path, text) in files {
        out.push_str(&format!("# --- {} ---\n{text}", path.display()));
        if !text.ends_with('\n') {
            out.push('\n');
        }
    }
    Ok(out)
}

/// Where the scrape configs start in vigil's promtail-config.yaml.
const PROMTAIL_SCRAPE_CONFIGS: &str = "\nscrape_configs:\n";

/// The agent's config for `up`: vigil's own file with the data directory
/// filled in; under `--no-demo`, its server, client and positions with a
/// scrape config for the user's log files instead of the demo's.
fn promtail_text(data_dir: &Path, own: Option<&OwnService>) -> anyhow::Result<String> {
    let data_dir = data_dir.display().to_string();
    let base = match own {
        None => PROMTAIL_CONFIG,
        Some(_) => PROMTAIL_CONFIG
            .find(PROMTAIL_SCRAPE_CONFIGS)
            .map_or(PROMTAIL_CONFIG, |at| &PROMTAIL_CONFIG[..at + 1]),
    };
    // Expanded before the user's globs are added: a `$` in them is theirs.
    let mut text = agent::config::expand_env_with(base, "promtail-config.yaml", |name| {
        (name == "VIGIL_DATA_DIR").then(|| data_dir.clone())
    })?;
    let header = match own {
        None => {
            "# Written by `vigil up` from vigil's config/promtail-config.yaml, with the data\n\
             # directory filled in; edit freely, it is not overwritten.\n"
        }
        Some(own) => {
            text.push_str(&own_scrape_configs(own));
            "# Written by `vigil up --no-demo` at every start from vigil's\n\
             # config/promtail-config.yaml (server, client, positions) and its --logs.\n"
        }
    };
    Ok(format!("{header}{text}"))
}

/// The agent's scrape config for the user's log files: every glob under
/// one job. Its lines are arbitrary, so the pipeline only looks for a
/// level: a logfmt `level=warn` or a JSON `"level":"warn"` (or `lvl`)
/// becomes the label `log_level`, upper-cased like the demo's so that the
/// dashboard's error panels count it; a line without one passes unchanged.
fn own_scrape_configs(own: &OwnService) -> String {
    if own.logs.is_empty() {
        return "scrape_configs: []\n".to_owned();
    }
    let mut text = format!(
        "scrape_configs:\n  \
         - job_name: \"{job}\"\n    \
           pipeline_stages:\n      \
             # A level (logfmt `level=warn`, JSON `\"level\":\"warn\"`) becomes the label\n      \
             # log_level, upper-cased; a line without one passes unchanged.\n      \
             - regex:\n          \
                 expression: '(?i)(?:^|[\\s{{,])\"?(?:level|lvl)\"?\\s*[=:]\\s*\"?(?P<log_level>[a-z]+)'\n      \
             - template:\n          \
                 source: log_level\n          \
                 template: '{{{{ ToUpper .Value }}}}'\n      \
             - labels:\n          \
                 log_level:\n    \
           static_configs:\n",
        job = own.job
    );
    for glob in &own.logs {
        // A JSON string is a YAML double-quoted scalar: any path fits.
        let path = serde_json::to_string(glob).unwrap_or_default();
        text.push_str(&format!(
            "      - targets: [localhost]\n        labels:\n          job: \"{}\"\n          __path__: {path}\n",
            own.job
        ));
    }
    text
}

/// Writes `text` to `path`, creating its directory.
fn write(path: &Path, text: &str) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, text)?;
    Ok(())
}

/// Writes `text` to `path` unless the file exists: a user's edits are kept.
fn write_once(path: &Path, text: &str) -> anyhow::Result<()> {
    if path.exists() {
        return Ok(());
    }
    write(path, text)
}

/// The demo API's job in vigil's prometheus.yml, which `--no-demo`
/// replaces with the user's service.
const PROMETHEUS_DEMO_JOB: &str =
    "  - job_name: \"fastapi\"\n    static_configs:\n      - targets: [\"127.0.0.1:8000\"]\n";

/// The metrics server's config for `up`: vigil's config/prometheus.yml
/// (the reference one plus the server's own metrics) pointed at the demo
/// API (or, under `--no-demo`, the user's targets) and the metrics server
/// as `up` starts them, without the own job when that port is only known
/// later.
fn prometheus_text(
    demo: SocketAddr,
    own: Option<&OwnService>,
    vigil: SocketAddr,
    interval: Duration,
) -> String {
    let interval = model::duration::format_duration(interval);
    let mut text = PROMETHEUS_CONFIG.replace(
        "scrape_interval: 15s",
        &format!("scrape_interval: {interval}"),
    );
    match own {
        None => text = text.replace("\"127.0.0.1:8000\"", &format!("\"{demo}\"")),
        Some(own) => {
            // No targets, no job: an empty target list scrapes nothing.
            let job = if own.scrape.is_empty() {
                String::new()
            } else {
                let targets: Vec<String> = own.scrape.iter().map(|t| format!("\"{t}\"")).collect();
                format!(
                    "  # Your service (`vigil up --no-demo --scrape`).\n  - job_name: \"{}\"\n    static_configs:\n      - targets: [{}]\n",
                    own.job,
                    targets.join(", ")
                )
            };
            text = text.replace(PROMETHEUS_DEMO_JOB, &job);
        }
    }
    text = text.replace("\"127.0.0.1:9090\"", &format!("\"{vigil}\""));
    // A metrics server on a port chosen at start has no address to write.
    if vigil.port() == 0 {
        if let Some(at) = text.find(PROMETHEUS_OWN_JOB) {
            text.truncate(at);
        }
    }
    let origin = match own {
        None => "config/prometheus.yml; edit freely, it is not overwritten",
        Some(_) => "config/prometheus.yml and its --no-demo flags, at every start",
    };
    format!("# Written by `vigil up` from vigil's {origin}.\n{text}")
}

/// Writes a generated scrape config (the metrics server's or the
/// agent's): once for the demo, a user's edits kept; at every start under
/// `--no-demo`, whose flags say what to watch. A file `--no-demo` wrote
/// (its first line says so) is the flags', not the user's: the demo
/// replaces it.
fn write_generated(path: &Path, text: &str, own: bool) -> anyhow::Result<()> {
    let from_flags = || {
        std::fs::read_to_string(path)
            .is_ok_and(|old| old.lines().next().is_some_and(|l| l.contains("--no-demo")))
    };
    if own || from_flags() {
        write(path, text)
    } else {
        write_once(path, text)
    }
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
    let own = args.own_service()?;
    if args.print_config {
        print!("{}", print_config(&args, own.as_ref())?);
        return Ok(());
    }
    let stop = shutdown_on_signal()?;
    let all = args.listen_all;
    let logs = args.data_dir.join("logs");
    // One writer per file: the API and the log generator get a directory each.
    let api_logs = logs.join("api");
    let loggen_logs = logs.join("loggen");
    let mut up = Supervisor::new("vigil up")?;

    let demo_listen = bind(args.demo_listen, all);
    let api_addr = match own {
        Some(_) => None,
        None => Some(
            up.start::<ApiServer, _>(
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
            .await?,
        ),
    };

    let prometheus_yml = args.data_dir.join("config/prometheus.yml");
    let prometheus_listen = bind(args.prometheus_listen, all);
    write_generated(
        &prometheus_yml,
        &prometheus_text(
            api_addr.map_or(args.demo_listen, local),
            own.as_ref(),
            local(args.prometheus_listen),
            args.scrape_interval,
        ),
        own.is_some(),
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
    write_generated(
        &promtail_yaml,
        &promtail_text(&args.data_dir, own.as_ref())?,
        own.is_some(),
    )?;
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
    grafana_provisioning(
        &grafana_dir,
        &datasources_text(&metrics_url, &loki_url, args.scrape_interval),
        &dashboard_text(own.as_ref()),
    )?;
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

    if let Some(api_addr) = api_addr {
        let api_url = format!("http://{}", local(api_addr));
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
    }

    // What to open: on loopback even with --listen-all.
    let shown = |addr: SocketAddr| format!("http://{}", local(addr));
    println!("vigil is up");
    println!(
        "  dashboards      {}  (login {login}; provisioning {})",
        shown(dashboards_addr),
        grafana_dir.display()
    );
    if let Some(api_addr) = api_addr {
        println!(
            "  demo API        {}  (metrics at {}/metrics)",
            shown(api_addr),
            shown(api_addr)
        );
    }
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
    match &own {
        None => {
            println!("  API log         {}", api_logs.join("logs.log").display());
            println!("  generated logs  {}", loggen_logs.display());
            println!(
                "  traffic         {} requests every {}",
                args.loadgen_clients,
                model::duration::format_duration(args.loadgen_interval)
            );
        }
        Some(own) => {
            let none = || "(none)".to_owned();
            let list = |items: &[String]| {
                if items.is_empty() {
                    none()
                } else {
                    items.join(" ")
                }
            };
            println!("  your service    job {}", own.job);
            println!("  scraping        {}", list(&own.scrape));
            println!("  tailing         {}", list(&own.logs));
        }
    }
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
    use super::{
        GRAFANA_DASHBOARD, OwnService, PROMETHEUS_CONFIG, PROMETHEUS_DEMO_JOB, PROMTAIL_CONFIG,
        PROMTAIL_SCRAPE_CONFIGS, bind, dashboard_text, local, write_generated,
    };

    /// Which generated file survives a start: (file there, `--no-demo`,
    /// file after writing "new").
    #[test]
    fn a_users_file_is_kept_and_a_no_demo_file_is_the_flags() {
        let cases = [
            (None, false, "new"),
            (None, true, "new"),
            (Some("# mine\n"), false, "# mine\n"),
            (Some("# mine\n"), true, "new"),
            (
                Some("# Written by `vigil up --no-demo` at every start\n"),
                false,
                "new",
            ),
        ];
        for (old, own, want) in cases {
            let dir = tempfile::tempdir().expect("a temp dir");
            let path = dir.path().join("config/prometheus.yml");
            if let Some(old) = old {
                std::fs::create_dir_all(dir.path().join("config")).expect("a folder");
                std::fs::write(&path, old).expect("written");
            }
            write_generated(&path, "new", own).expect("written");
            let got = std::fs::read_to_string(&path).expect("read");
            assert_eq!(got, want, "{old:?}, own {own}");
        }
    }

    /// `--no-demo` edits vigil's files by finding these in them.
    #[test]
    fn the_replaced_parts_are_in_the_built_in_files() {
        assert!(PROMETHEUS_CONFIG.contains(PROMETHEUS_DEMO_JOB));
        assert!(PROMTAIL_CONFIG.contains(PROMTAIL_SCRAPE_CONFIGS));
    }

    #[test]
    fn the_no_demo_dashboard_is_about_the_users_job() {
        let own = OwnService {
            job: "shop".to_owned(),
            scrape: vec![],
            logs: vec![],
        };
        let text = dashboard_text(Some(&own));
        let dashboard: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        let job = &dashboard["templating"]["list"][0];
        assert_eq!(job["name"], "job");
        assert_eq!(job["current"]["value"], "shop");
        assert_eq!(job["current"]["text"], "shop");
        assert!(!text.contains("fast-api-logs"));
        assert_eq!(
            text.matches("{job=\\\"shop\\\"").count(),
            GRAFANA_DASHBOARD
                .matches("{job=\\\"fast-api-logs\\\"")
                .count()
        );
        assert!(text.contains("{job=\\\"shop\\\", log_level=\\\"ERROR\\\"}"));
        assert!(text.contains("log_level=~\\\"WARN|WARNING\\\""));
        assert_eq!(dashboard_text(None), GRAFANA_DASHBOARD);
    }

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
