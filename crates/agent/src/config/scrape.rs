//! `scrape_configs`: the jobs, what they read and how their lines are
//! processed.
//!
//! Promtail runs a job as one kind of target, chosen in a fixed order:
//! service discovery first (`static_configs`, `file_sd_configs` and the
//! other `*_sd_configs` find files to tail through `__path__`), then
//! `journal`, `syslog`, `gcplog`, `loki_push_api`, `windows_events`,
//! `kafka`, `gelf`, `cloudflare`, `docker_sd_configs`, `heroku_drain`.
//! vigil tails files found by `static_configs` and `file_sd_configs`; the
//! rest is accepted and reported by [`super::Config::not_supported`].

use std::path::PathBuf;
use std::time::Duration;

use super::file::{FileSdFile, Kind, ScrapeFile, StaticFile};
use super::{PipelineStage, RelabelStep};
use crate::entry::LabelSet;

/// The label holding a static target's path glob.
pub const PATH_LABEL: &str = "__path__";
/// The label holding a glob of paths not to tail.
pub const PATH_EXCLUDE_LABEL: &str = "__path_exclude__";

/// One job.
#[derive(Debug, Clone)]
pub struct ScrapeConfig {
    /// `job_name` (never empty).
    pub job_name: String,
    /// `pipeline_stages`, in order.
    pub pipeline_stages: Vec<PipelineStage>,
    /// `static_configs`.
    pub static_configs: Vec<StaticConfig>,
    /// `file_sd_configs`.
    pub file_sd_configs: Vec<FileSdConfig>,
    /// `relabel_configs`, applied to each discovered target's labels.
    pub relabel_configs: Vec<RelabelStep>,
    /// `encoding`: the files' text encoding (`UTF-16`, …); empty for UTF-8.
    pub encoding: String,
    /// What kind of target Promtail would run the job as; `None` when the
    /// job names no target at all (Promtail refuses it at start, unless
    /// it reads standard input).
    pub kind: Option<TargetKind>,
    /// The keys of target kinds and discovery mechanisms the job has that
    /// vigil does not run, in Promtail's order.
    pub(crate) unsupported: Vec<&'static str>,
}

/// One entry of `static_configs`: labels for the files a glob finds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StaticConfig {
    /// `targets`: in Promtail only the `__address__` label, which is
    /// dropped; kept for `/service-discovery`.
    pub targets: Vec<String>,
    /// `labels`, with the reserved `__path__` and `__path_exclude__`.
    pub labels: LabelSet,
}

impl StaticConfig {
    /// The `__path__` glob, when set.
    pub fn path(&self) -> Option<&str> {
        self.labels
            .get(PATH_LABEL)
            .map(String::as_str)
            .filter(|p| !p.is_empty())
    }

    /// The `__path_exclude__` glob, when set.
    pub fn path_exclude(&self) -> Option<&str> {
        self.labels
            .get(PATH_EXCLUDE_LABEL)
            .map(String::as_str)
            .filter(|p| !p.is_empty())
    }
}

/// One entry of `file_sd_configs`: target groups read from JSON or YAML
/// files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileSdConfig {
    /// `files`: globs of the files holding the target groups (each ends in
    /// `.json`, `.yml` or `.yaml`).
    pub files: Vec<PathBuf>,
    /// `refresh_interval`: how often they are re-read (5m).
    pub refresh_interval: Duration,
}

/// The kinds of target a Promtail job can be, in the order Promtail
/// chooses among them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetKind {
    /// Files found by service discovery (`static_configs`, `*_sd_configs`).
    Files,
    /// `journal`.
    Journal,
    /// `syslog`.
    Syslog,
    /// `gcplog`.
    Gcplog,
    /// `loki_push_api`.
    LokiPushApi,
    /// `windows_events`.
    WindowsEvents,
    /// `kafka`.
    Kafka,
    /// `gelf`.
    Gelf,
    /// `cloudflare`.
    Cloudflare,
    /// `docker_sd_configs`.
    DockerSd,
    /// `heroku_drain`.
    HerokuDrain,
}

impl TargetKind {
    /// The config key that asks for this kind.
    pub fn key(self) -> &'static str {
        match self {
            TargetKind::Files => "static_configs",
            TargetKind::Journal => "journal",
            TargetKind::Syslog => "syslog",
            TargetKind::Gcplog => "gcplog",
            TargetKind::LokiPushApi => "loki_push_api",
            TargetKind::WindowsEvents => "windows_events",
            TargetKind::Kafka => "kafka",
            TargetKind::Gelf => "gelf",
            TargetKind::Cloudflare => "cloudflare",
            TargetKind::DockerSd => "docker_sd_configs",
            TargetKind::HerokuDrain => "heroku_drain",
        }
    }
}

/// Something a config asks for that vigil accepts but does not do: a
/// target kind or discovery mechanism of a job, or a client's OAuth2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotSupported {
    /// The job it belongs to; `None` for a client setting.
    pub job: Option<String>,
    /// Where it is: the key in the job (`syslog`, `kubernetes_sd_configs`)
    /// or the client's path (`clients[0].oauth2`).
    pub key: String,
}

impl std::fmt::Display for NotSupported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.job {
            Some(job) => write!(
                f,
                "scrape_configs job {job:?}: {} is not supported; only files (static_configs, file_sd_configs) are read",
                self.key
            ),
            None => write!(f, "{} is not supported", self.key),
        }
    }
}

/// Whether a kept block is present: an explicit null is not.
fn present(kind: &Kind) -> bool {
    kind.as_ref().is_some_and(|v| !v.is_null())
}

impl ScrapeConfig {
    pub(crate) fn from_file(file: ScrapeFile) -> ScrapeConfig {
        // Discovery mechanisms vigil does not run, which still make the job
        // a file job in Promtail.
        let other_discovery: [(&'static str, &Kind); 14] = [
            ("dns_sd_configs", &file.dns_sd_configs),
            ("consul_sd_configs", &file.consul_sd_configs),
            ("consulagent_sd_configs", &file.consulagent_sd_configs),
            ("digitalocean_sd_configs", &file.digitalocean_sd_configs),
            ("dockerswarm_sd_configs", &file.dockerswarm_sd_configs),
            ("serverset_sd_configs", &file.serverset_sd_configs),
            ("nerve_sd_configs", &file.nerve_sd_configs),
            ("marathon_sd_configs", &file.marathon_sd_configs),
            ("kubernetes_sd_configs", &file.kubernetes_sd_configs),
            ("gce_sd_configs", &file.gce_sd_configs),
            ("ec2_sd_configs", &file.ec2_sd_configs),
            ("openstack_sd_configs", &file.openstack_sd_configs),
            ("azure_sd_configs", &file.azure_sd_configs),
            ("triton_sd_configs", &file.triton_sd_configs),
        ];
        let other_kinds: [(TargetKind, &Kind); 10] = [
            (TargetKind::Journal, &file.journal),
            (TargetKind::Syslog, &file.syslog),
            (TargetKind::Gcplog, &file.gcplog),
            (TargetKind::LokiPushApi, &file.loki_push_api),
            (TargetKind::WindowsEvents, &file.windows_events),
            (TargetKind::Kafka, &file.kafka),
            (TargetKind::Gelf, &file.gelf),
            (TargetKind::Cloudflare, &file.cloudflare),
            (TargetKind::DockerSd, &file.docker_sd_configs),
            (TargetKind::HerokuDrain, &file.heroku_drain),
        ];
        let static_configs: Vec<StaticConfig> = file
            .static_configs
            .unwrap_or_default()
            .into_iter()
            .map(static_config)
            .collect();
        let file_sd_configs: Vec<FileSdConfig> = file
            .file_sd_configs
            .unwrap_or_default()
            .into_iter()
            .map(|c| file_sd_config(c.0))
            .collect();
        let discovery = !static_configs.is_empty()
            || !file_sd_configs.is_empty()
            || other_discovery.iter().any(|(_, k)| present(k));
        let kind = if discovery {
            Some(TargetKind::Files)
        } else {
            other_kinds
                .iter()
                .find(|(_, k)| present(k))
                .map(|(kind, _)| *kind)
        };
        let unsupported = other_discovery
            .iter()
            .filter(|(_, k)| present(k))
            .map(|(key, _)| *key)
            .chain(
                other_kinds
                    .iter()
                    .filter(|(_, k)| present(k))
                    .map(|(kind, _)| kind.key()),
            )
            .collect();
        ScrapeConfig {
            job_name: file.job_name.map(|n| n.0).unwrap_or_default(),
            pipeline_stages: file.pipeline_stages.unwrap_or_default(),
            static_configs,
            file_sd_configs,
            relabel_configs: file
                .relabel_configs
                .unwrap_or_default()
                .into_iter()
                .map(|c| c.0)
                .collect(),
            encoding: file.encoding.map(|e| e.0).unwrap_or_default(),
            kind,
            unsupported,
        }
    }

    /// The labels of all its `static_configs` merged, a later group's
    /// winning on a clash: the labels Promtail gives lines read from
    /// standard input.
    pub fn merged_static_labels(&self) -> LabelSet {
        let mut labels = LabelSet::new();
        for group in &self.static_configs {
            labels.extend(group.labels.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        labels
    }

    /// The job Promtail reads standard input with when the config has
    /// none: `stdin`, labelled `job="stdin"` and `hostname`.
    pub fn default_stdin(hostname: &str) -> ScrapeConfig {
        let group = |name: &str, value: &str| StaticConfig {
            targets: Vec::new(),
            labels: LabelSet::from([(name.to_owned(), value.to_owned())]),
        };
        ScrapeConfig {
            job_name: "stdin".to_owned(),
            pipeline_stages: Vec::new(),
            static_configs: vec![group("job", "stdin"), group("hostname", hostname)],
            file_sd_configs: Vec::new(),
            relabel_configs: Vec::new(),
            encoding: String::new(),
            kind: Some(TargetKind::Files),
            unsupported: Vec::new(),
        }
    }

    /// What of this job vigil does not run.
    pub fn not_supported(&self) -> Vec<NotSupported> {
        self.unsupported
            .iter()
            .map(|key| NotSupported {
                job: Some(self.job_name.clone()),
                key: (*key).to_owned(),
            })
            .collect()
    }
}

fn static_config(file: StaticFile) -> StaticConfig {
    StaticConfig {
        targets: file
            .targets
            .unwrap_or_default()
            .into_iter()
            .map(|t| t.0)
            .collect(),
        labels: file.labels.map(|l| l.0).unwrap_or_default(),
    }
}

fn file_sd_config(file: FileSdFile) -> FileSdConfig {
    FileSdConfig {
        files: file
            .files
            .unwrap_or_default()
            .into_iter()
            .map(|f| PathBuf::from(f.0))
            .collect(),
        refresh_interval: file
            .refresh_interval
            .map_or(Duration::from_secs(5 * 60), |d| d.0),
    }
}
