//! Subcommands and their flags.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use agent::service::{Agent, AgentOptions};
use clap::{Args, Parser, Subcommand};
use dashboard::auth::SecurityOptions;
use dashboard::server::{DashboardOptions, Dashboards};
use demo::api::{ApiConfig, ApiServer};
use demo::logfile::LogFileOptions;
use demo::{loadgen, loggen};
use logstore::server::{LokiServer, ServerOptions as LokiOptions};
use prom::server::{PrometheusServer, ServerOptions};

use crate::supervise::{Part, run_alone};
use crate::up::UpArgs;

/// The monitoring stack for web APIs, as one binary.
#[derive(Parser)]
#[command(name = "vigil", version, about, propagate_version = true)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Subcommand)]
pub(crate) enum Command {
    /// Run the whole stack in one process: demo API, traffic and log generators
    Up(UpArgs),
    /// Run the instrumented demo web API
    Demo(DemoArgs),
    /// Send rounds of requests to the demo API's test endpoints
    Loadgen(LoadgenArgs),
    /// Write fake request and function log lines
    Loggen(LoggenArgs),
    /// Run the Prometheus-compatible metrics server (scrape, TSDB, HTTP API)
    Prometheus(PrometheusArgs),
    /// Run the Loki-compatible log store (push API, storage, LogQL, HTTP API)
    Loki(LokiArgs),
    /// Run the Promtail-compatible log agent (tail files, pipeline stages, push)
    Promtail(PromtailArgs),
    /// Run the Grafana-compatible dashboards server (provisioning, API, web UI)
    Grafana(GrafanaArgs),
}

impl Command {
    pub(crate) async fn run(self) -> anyhow::Result<()> {
        match self {
            Command::Up(args) => crate::up::run(args).await,
            Command::Demo(args) => {
                let config = args.config();
                let part = alone("vigil demo", "the demo API", config.listen, "--listen");
                run_alone::<ApiServer>(part, config, |server| {
                    tracing::info!("demo API listening on http://{}", server.addr());
                })
                .await
            }
            Command::Loadgen(args) => {
                let part = Part {
                    command: "vigil loadgen",
                    name: "the traffic generator",
                    listen: None,
                };
                let start = loadgen::LoadgenStart {
                    config: args.config(),
                    on_round: std::sync::Arc::new(|round| println!("{round}")),
                };
                let summary = run_alone::<loadgen::Loadgen>(part, start, |_| ()).await?;
                println!("{}", serde_json::to_string_pretty(&summary)?);
                Ok(())
            }
            Command::Loggen(args) => {
                let part = Part {
                    command: "vigil loggen",
                    name: "the log generator",
                    listen: None,
                };
                let report = run_alone::<loggen::Loggen>(part, args.config(), |_| ()).await?;
                println!("{}", serde_json::to_string_pretty(&report)?);
                Ok(())
            }
            Command::Prometheus(args) => {
                let options = args.options();
                let part = alone(
                    "vigil prometheus",
                    "the metrics server",
                    options.listen,
                    "--web.listen-address",
                );
                run_alone::<PrometheusServer>(part, options, |_| ()).await
            }
            Command::Loki(args) => {
                let options = args.options();
                let part = Part {
                    command: "vigil loki",
                    name: "the log store",
                    listen: None,
                };
                run_alone::<LokiServer>(part, options, |_| ()).await
            }
            Command::Promtail(args) => {
                let options = args.options()?;
                if args.stdin.unwrap_or(false) {
                    return Ok(tokio::task::spawn_blocking(move || {
                        agent::service::run_stdin(&options)
                    })
                    .await??);
                }
                let part = Part {
                    command: "vigil promtail",
                    name: "the log agent",
                    listen: None,
                };
                run_alone::<Agent>(part, options, |agent| {
                    if let Some(addr) = agent.addr() {
                        tracing::info!("agent listening on http://{addr}");
                    }
                })
                .await
            }
            Command::Grafana(args) => {
                let options = args.options(&|name| std::env::var(name).ok());
                let part = alone(
                    "vigil grafana",
                    "the dashboards",
                    options.http_addr,
                    "--http-addr",
                );
                run_alone::<Dashboards>(part, options, |server| {
                    tracing::info!("dashboards listening on http://{}", server.addr());
                })
                .await
            }
        }
    }
}

/// A server subcommand's component, listening where `flag` says.
fn alone(command: &'static str, name: &'static str, addr: SocketAddr, flag: &'static str) -> Part {
    Part {
        command,
        name,
        listen: Some((addr, flag)),
    }
}

/// Parses a duration in Prometheus notation (`30s`, `1m30s`, `500ms`).
pub(crate) fn duration(text: &str) -> Result<Duration, String> {
    model::duration::parse_duration(text).map_err(|e| e.to_string())
}

fn status_weights(text: &str) -> Result<[u32; 3], String> {
    let parts: Vec<u32> = text
        .split(',')
        .map(|p| p.trim().parse::<u32>().map_err(|e| format!("{p:?}: {e}")))
        .collect::<Result<_, _>>()?;
    <[u32; 3]>::try_from(parts).map_err(|_| "expected three weights, for 200,400,500".to_owned())
}

#[derive(Args)]
pub(crate) struct DemoArgs {
    /// Address to listen on
    #[arg(long, default_value = "127.0.0.1:8000")]
    listen: SocketAddr,
    /// Upper bound of the random delay of each test endpoint
    #[arg(long, default_value = "30s", value_parser = duration)]
    max_delay: Duration,
    /// Directory of logs.log
    #[arg(long, default_value = "logs")]
    log_dir: PathBuf,
    /// Relative weights of the statuses 200, 400 and 500
    #[arg(long, default_value = "1,1,1", value_parser = status_weights)]
    status_weights: [u32; 3],
    /// Rotate logs.log to logs.log.1 past this many bytes (0: never)
    #[arg(long, default_value_t = 0)]
    log_rotate_bytes: u64,
    /// Serve the API without the metrics layer and /metrics
    #[arg(long)]
    no_metrics: bool,
    /// How long shutdown waits for in-flight requests
    #[arg(long, default_value = "3s", value_parser = duration)]
    shutdown_grace: Duration,
}

impl DemoArgs {
    fn config(self) -> ApiConfig {
        ApiConfig {
            listen: self.listen,
            max_delay: self.max_delay,
            status_weights: self.status_weights,
            log_dir: self.log_dir,
            log_file: LogFileOptions {
                rotate_bytes: (self.log_rotate_bytes > 0).then_some(self.log_rotate_bytes),
                ..LogFileOptions::default()
            },
            metrics: !self.no_metrics,
            shutdown_grace: self.shutdown_grace,
        }
    }
}

#[derive(Args)]
pub(crate) struct LoadgenArgs {
    /// Base URL of the demo API
    #[arg(long, default_value = "http://127.0.0.1:8000")]
    target: String,
    /// Concurrent requests per round
    #[arg(long, default_value_t = 25)]
    clients: usize,
    /// Pause between rounds
    #[arg(long, default_value = "5s", value_parser = duration)]
    interval: Duration,
    /// Stop after this many rounds (default: until Ctrl-C)
    #[arg(long)]
    rounds: Option<u64>,
    /// Per-request time limit
    #[arg(long, default_value = "60s", value_parser = duration)]
    timeout: Duration,
    /// Seed of the endpoint choice
    #[arg(long)]
    seed: Option<u64>,
}

impl LoadgenArgs {
    pub(crate) fn config(self) -> loadgen::LoadgenConfig {
        loadgen::LoadgenConfig {
            target: self.target,
            clients: self.clients,
            interval: self.interval,
            rounds: self.rounds,
            request_timeout: self.timeout,
            seed: self.seed,
        }
    }
}

#[derive(Args)]
pub(crate) struct LoggenArgs {
    /// Directory of logs.log and requests.log
    #[arg(long, default_value = "logs")]
    dir: PathBuf,
    /// Time between lines
    #[arg(long, default_value = "1s", value_parser = duration)]
    interval: Duration,
    /// Stop after this many lines (default: until Ctrl-C)
    #[arg(long)]
    count: Option<u64>,
    /// Benchmark mode: lines per second, as fast as asked
    #[arg(long)]
    rate: Option<f64>,
    /// Seed of the random choices
    #[arg(long)]
    seed: Option<u64>,
}

impl LoggenArgs {
    fn config(self) -> loggen::LoggenConfig {
        loggen::LoggenConfig {
            dir: self.dir,
            interval: self.interval,
            count: self.count,
            rate: self.rate.filter(|r| *r > 0.0),
            seed: self.seed,
            log_file: LogFileOptions::default(),
        }
    }
}

/// Parses a size with a 1024-based unit (`512MB`, `1GB`).
fn byte_size(text: &str) -> Result<u64, String> {
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    let number: u64 = text[..digits]
        .parse()
        .map_err(|_| format!("invalid size {text:?}"))?;
    let shift = match text[digits..].to_ascii_uppercase().as_str() {
        "" | "B" => 0,
        "KB" => 10,
        "MB" => 20,
        "GB" => 30,
        "TB" => 40,
        "PB" => 50,
        "EB" => 60,
        _ => return Err(format!("invalid size {text:?}")),
    };
    number
        .checked_shl(shift)
        .filter(|n| n >> shift == number)
        .ok_or_else(|| format!("size {text:?} too large"))
}

/// Prometheus' own flag names; `-config.file` works as well as `--config.file`.
#[derive(Args)]
pub(crate) struct PrometheusArgs {
    /// Prometheus configuration file path
    #[arg(long = "config.file", default_value = "prometheus.yml")]
    config_file: PathBuf,
    /// Base path for metrics storage
    #[arg(long = "storage.tsdb.path", default_value = "data/")]
    storage_path: PathBuf,
    /// Address to listen on for the web interface and API
    #[arg(long = "web.listen-address", default_value = "0.0.0.0:9090")]
    listen: SocketAddr,
    /// How long to retain samples in storage (default 15d)
    #[arg(long = "storage.tsdb.retention.time", value_parser = duration)]
    retention: Option<Duration>,
    /// Maximum number of bytes that can be stored for blocks (e.g. 512MB)
    #[arg(long = "storage.tsdb.retention.size", value_parser = byte_size)]
    retention_size: Option<u64>,
    /// Enable shutdown and reload via HTTP request
    #[arg(long = "web.enable-lifecycle")]
    enable_lifecycle: bool,
    /// Accept remote-write requests at /api/v1/write
    #[arg(long = "web.enable-remote-write-receiver")]
    enable_remote_write_receiver: bool,
    /// Comma separated feature names to enable; of Prometheus' features,
    /// promql-delayed-name-removal is supported, others are ignored
    #[arg(long = "enable-feature", value_delimiter = ',')]
    enable_feature: Vec<String>,
}

/// Prometheus' `--enable-feature` value that delays PromQL's `__name__`
/// removal to the end of evaluation.
const DELAYED_NAME_REMOVAL: &str = "promql-delayed-name-removal";

impl PrometheusArgs {
    fn options(self) -> ServerOptions {
        // Like Prometheus, an unknown feature is a warning, not an error.
        for feature in &self.enable_feature {
            match feature.trim() {
                "" => {}
                DELAYED_NAME_REMOVAL => {
                    tracing::info!("experimental PromQL delayed name removal enabled");
                }
                other => tracing::warn!(
                    option = other,
                    "unknown or unsupported option for --enable-feature, ignored"
                ),
            }
        }
        let promql_delayed_name_removal = self
            .enable_feature
            .iter()
            .any(|f| f.trim() == DELAYED_NAME_REMOVAL);
        ServerOptions {
            config_file: self.config_file,
            storage_path: self.storage_path,
            listen: self.listen,
            retention: self.retention,
            retention_size: self.retention_size,
            enable_lifecycle: self.enable_lifecycle,
            enable_remote_write_receiver: self.enable_remote_write_receiver,
            promql_delayed_name_removal,
        }
    }
}

/// Loki's own flag names (`-config.file` works as well as `--config.file`),
/// and `--storage.path` to put every directory of the config under one.
#[derive(Args)]
pub(crate) struct LokiArgs {
    /// Loki configuration file path
    #[arg(long = "config.file", default_value = "loki-config.yaml")]
    config_file: PathBuf,
    /// Expand ${VAR} and ${VAR:-default} in the config file from the environment
    #[arg(long = "config.expand-env", num_args = 0..=1, default_missing_value = "true")]
    expand_env: Option<bool>,
    /// Directory for all data (chunks, WAL, rules), instead of the config's paths
    #[arg(long = "storage.path")]
    storage_path: Option<PathBuf>,
    /// HTTP listen address, instead of the config's server.http_listen_address
    #[arg(long = "server.http-listen-address")]
    listen_address: Option<String>,
    /// HTTP listen port, instead of the config's server.http_listen_port
    #[arg(long = "server.http-listen-port")]
    listen_port: Option<u16>,
}

impl LokiArgs {
    fn options(self) -> LokiOptions {
        LokiOptions {
            config_file: self.config_file,
            storage_path: self.storage_path,
            expand_env: self.expand_env.unwrap_or(false),
            listen_address: self.listen_address,
            listen_port: self.listen_port,
        }
    }
}

/// Promtail's own flag names (`-config.file` works as well as
/// `--config.file`).
#[derive(Args)]
pub(crate) struct PromtailArgs {
    /// Promtail configuration file path; a comma list reads the first that exists
    #[arg(long = "config.file", default_value = agent::service::DEFAULT_CONFIG_FILE)]
    config_file: String,
    /// Expand ${VAR} and ${VAR:-default} in the config file from the environment
    #[arg(long = "config.expand-env", num_args = 0..=1, default_missing_value = "true")]
    expand_env: Option<bool>,
    /// Push to this URL instead of the config's clients
    #[arg(long = "client.url")]
    client_url: Option<String>,
    /// Labels added to every entry pushed, as k=v,k=v
    #[arg(long = "client.external-labels")]
    client_external_labels: Option<String>,
    /// Print the entries instead of pushing them; positions are not written
    #[arg(long = "dry-run", num_args = 0..=1, default_missing_value = "true")]
    dry_run: Option<bool>,
    /// Read lines from standard input instead of the config's targets
    #[arg(long = "stdin", num_args = 0..=1, default_missing_value = "true")]
    stdin: Option<bool>,
    /// Show what each pipeline stage changes (with --dry-run)
    #[arg(long = "inspect", num_args = 0..=1, default_missing_value = "true")]
    inspect: Option<bool>,
}

impl PromtailArgs {
    fn options(&self) -> anyhow::Result<AgentOptions> {
        let client_external_labels = match &self.client_external_labels {
            Some(text) => Some(agent::config::parse_external_labels(text)?),
            None => None,
        };
        Ok(AgentOptions {
            config_file: self.config_file.clone(),
            expand_env: self.expand_env.unwrap_or(false),
            overrides: agent::config::Overrides {
                client_url: self.client_url.clone(),
                client_external_labels,
            },
            dry_run: self.dry_run.unwrap_or(false),
            inspect: self.inspect.unwrap_or(false),
            listen: None,
        })
    }
}

/// Grafana's server with vigil's flags; Grafana's own `--homepath` and
/// `--config` are accepted (so a Grafana command line runs) and ignored
/// with a warning: vigil has no install folder and reads no grafana.ini.
#[derive(Args)]
pub(crate) struct GrafanaArgs {
    /// Grafana's provisioning folder: datasources/*.yaml and dashboards/*.yaml
    /// (default: $GF_PATHS_PROVISIONING, else none)
    #[arg(long)]
    provisioning: Option<PathBuf>,
    /// Address to listen on
    #[arg(long = "http-addr", default_value = "127.0.0.1:3000")]
    http_addr: SocketAddr,
    /// Where state lives (users, sessions, dashboards saved in the UI)
    #[arg(long, default_value = "data/grafana")]
    data: PathBuf,
    /// Grafana's install folder; ignored
    #[arg(long)]
    homepath: Option<PathBuf>,
    /// Grafana's grafana.ini; ignored
    #[arg(long)]
    config: Option<PathBuf>,
}

impl GrafanaArgs {
    /// The server options, with the environment read through `env`.
    pub(crate) fn options(self, env: &dyn Fn(&str) -> Option<String>) -> DashboardOptions {
        if let Some(path) = &self.homepath {
            tracing::warn!(homepath = %path.display(), "--homepath is Grafana's install folder; vigil needs none, ignored");
        }
        if let Some(path) = &self.config {
            tracing::warn!(config = %path.display(), "--config names a grafana.ini; vigil reads none, ignored (use --http-addr, --data, --provisioning and GF_* variables)");
        }
        let provisioning = self.provisioning.or_else(|| {
            env("GF_PATHS_PROVISIONING")
                .filter(|p| !p.is_empty())
                .map(PathBuf::from)
        });
        DashboardOptions {
            http_addr: self.http_addr,
            data_dir: self.data,
            provisioning_dir: provisioning,
            security: security_from_env(env),
        }
    }
}

/// Grafana's `GF_SECURITY_ADMIN_USER`, `GF_SECURITY_ADMIN_PASSWORD` and
/// `GF_AUTH_ANONYMOUS_ENABLED` over the defaults (admin/admin, no
/// anonymous access). An empty variable counts as unset.
pub(crate) fn security_from_env(env: &dyn Fn(&str) -> Option<String>) -> SecurityOptions {
    let mut security = SecurityOptions::default();
    let set = |name: &str| env(name).filter(|v| !v.is_empty());
    if let Some(user) = set("GF_SECURITY_ADMIN_USER") {
        security.admin_user = user;
    }
    if let Some(password) = set("GF_SECURITY_ADMIN_PASSWORD") {
        security.admin_password = password;
    }
    if let Some(enabled) = set("GF_AUTH_ANONYMOUS_ENABLED") {
        // Grafana reads ini booleans: true/false, 1/0, yes/no, on/off.
        match enabled.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" | "t" => security.anonymous_enabled = true,
            "false" | "0" | "no" | "off" | "f" => security.anonymous_enabled = false,
            other => tracing::warn!(
                value = other,
                "GF_AUTH_ANONYMOUS_ENABLED is not a boolean; anonymous access stays off"
            ),
        }
    }
    security
}

/// Go programs take long flags with one dash (`-config.file=x`); clap wants
/// two. Rewrites `-name…` with a name of two or more characters, so both
/// spellings work for every subcommand.
pub(crate) fn normalize_go_flags(
    args: impl IntoIterator<Item = std::ffi::OsString>,
) -> Vec<std::ffi::OsString> {
    args.into_iter()
        .map(|arg| match arg.to_str() {
            Some(text)
                if text.starts_with('-')
                    && !text.starts_with("--")
                    && text[1..].split('=').next().is_some_and(|name| {
                        name.len() >= 2 && name.starts_with(|c: char| c.is_ascii_alphabetic())
                    }) =>
            {
                std::ffi::OsString::from(format!("-{text}"))
            }
            _ => arg,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::{Cli, Command, normalize_go_flags};

    /// The server options `vigil prometheus <flags>` would start with.
    fn prometheus_options(flags: &[&str]) -> prom::server::ServerOptions {
        let args = ["vigil", "prometheus"].iter().chain(flags).map(Into::into);
        match Cli::try_parse_from(normalize_go_flags(args)).map(|c| c.command) {
            Ok(Command::Prometheus(args)) => args.options(),
            Ok(_) => panic!("not the prometheus subcommand"),
            Err(e) => panic!("{e}"),
        }
    }

    fn grafana_options(
        flags: &[&str],
        env: &[(&str, &str)],
    ) -> dashboard::server::DashboardOptions {
        let args = ["vigil", "grafana"].iter().chain(flags).map(Into::into);
        let lookup = |name: &str| {
            env.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        };
        match Cli::try_parse_from(normalize_go_flags(args)).map(|c| c.command) {
            Ok(Command::Grafana(args)) => args.options(&lookup),
            Ok(_) => panic!("not the grafana subcommand"),
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn grafana_defaults_are_grafanas() {
        let options = grafana_options(&[], &[]);
        assert_eq!(options.http_addr.to_string(), "127.0.0.1:3000");
        assert_eq!(options.data_dir, std::path::PathBuf::from("data/grafana"));
        assert_eq!(options.provisioning_dir, None);
        assert_eq!(options.security.admin_user, "admin");
        assert_eq!(options.security.admin_password, "admin");
        assert!(!options.security.anonymous_enabled);
    }

    #[test]
    fn grafana_flags_and_environment_are_read() {
        let options = grafana_options(
            &[
                "--provisioning",
                "prov",
                "-http-addr=127.0.0.1:3001",
                "--data",
                "d",
                "-homepath",
                "/usr/share/grafana",
                "--config",
                "grafana.ini",
            ],
            &[
                ("GF_SECURITY_ADMIN_USER", "root"),
                ("GF_SECURITY_ADMIN_PASSWORD", "s3cret"),
                ("GF_AUTH_ANONYMOUS_ENABLED", "true"),
            ],
        );
        assert_eq!(options.http_addr.port(), 3001);
        assert_eq!(options.provisioning_dir, Some("prov".into()));
        assert_eq!(options.data_dir, std::path::PathBuf::from("d"));
        assert_eq!(options.security.admin_user, "root");
        assert_eq!(options.security.admin_password, "s3cret");
        assert!(options.security.anonymous_enabled);
        let from_env = grafana_options(&[], &[("GF_PATHS_PROVISIONING", "/etc/p")]);
        assert_eq!(from_env.provisioning_dir, Some("/etc/p".into()));
    }

    #[test]
    fn delayed_name_removal_is_off_by_default() {
        assert!(!prometheus_options(&[]).promql_delayed_name_removal);
    }

    #[test]
    fn enable_feature_turns_on_delayed_name_removal() {
        for flags in [
            &["--enable-feature=promql-delayed-name-removal"][..],
            &["-enable-feature=promql-delayed-name-removal"],
            &[
                "--enable-feature",
                "exemplar-storage,promql-delayed-name-removal",
            ],
            &[
                "--enable-feature=exemplar-storage",
                "--enable-feature=promql-delayed-name-removal",
            ],
        ] {
            assert!(
                prometheus_options(flags).promql_delayed_name_removal,
                "{flags:?}"
            );
        }
        let other = prometheus_options(&["--enable-feature=exemplar-storage"]);
        assert!(!other.promql_delayed_name_removal);
    }
}
