//! The compose files as Docker Compose reads them, and each service's
//! program as that program reads its flags, config file and paths: where a
//! container path lives (repository, volume or the container itself), what
//! a service listens on, and which service an address reaches.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Component, Path, PathBuf};

use yaml_serde::Value;

use super::dockerfile::Dockerfile;
use super::{COMPOSE_FILES, repo};

/// What a service runs, known from its image or, for vigil's image, from
/// its subcommand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Program {
    /// The container holding the shared network namespace.
    Pod,
    Demo,
    Loadgen,
    Loggen,
    Promtail,
    Loki,
    Prometheus,
    Grafana,
}

impl Program {
    pub(crate) fn from_upstream_image(repository: &str) -> Option<Program> {
        Some(match repository {
            "registry.k8s.io/pause" => Program::Pod,
            "grafana/promtail" => Program::Promtail,
            "grafana/loki" => Program::Loki,
            "prom/prometheus" => Program::Prometheus,
            "grafana/grafana" => Program::Grafana,
            _ => return None,
        })
    }

    pub(crate) fn from_subcommand(name: &str) -> Option<Program> {
        Some(match name {
            "demo" => Program::Demo,
            "loadgen" => Program::Loadgen,
            "loggen" => Program::Loggen,
            "promtail" => Program::Promtail,
            "loki" => Program::Loki,
            "prometheus" => Program::Prometheus,
            "grafana" => Program::Grafana,
            _ => return None,
        })
    }
}

/// Where a container path lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Place {
    /// A file or directory of the repository, bind-mounted.
    Repo(PathBuf),
    /// Inside a named volume, at a path relative to its root.
    Volume(String, String),
    /// In the container's own file system: gone with the container.
    Container(String),
}

/// One entry of a service's `volumes:`.
#[derive(Debug)]
pub(crate) enum Mount {
    Bind { source: String, target: String },
    Volume { name: String, target: String },
}

impl Mount {
    pub(crate) fn target(&self) -> &str {
        match self {
            Mount::Bind { target, .. } | Mount::Volume { target, .. } => target,
        }
    }
}

/// One service of a compose file, with what the checks need of it.
#[derive(Debug)]
pub(crate) struct Service {
    pub(crate) name: String,
    pub(crate) image: Option<String>,
    /// `build.context` and `build.dockerfile`, as written.
    pub(crate) build: Option<(String, String)>,
    pub(crate) command: Vec<String>,
    pub(crate) environment: BTreeMap<String, String>,
    pub(crate) mounts: Vec<Mount>,
    /// Published ports as (host, container).
    pub(crate) ports: Vec<(u16, u16)>,
    pub(crate) network_mode: Option<String>,
    pub(crate) working_dir: Option<String>,
    /// Runs vigil's image (built from deploy/Dockerfile).
    pub(crate) vigil: bool,
    pub(crate) program: Option<Program>,
}

/// One compose file: its project name, services and declared volumes.
pub(crate) struct Compose {
    pub(crate) file: &'static str,
    pub(crate) name: Option<String>,
    pub(crate) services: Vec<Service>,
    pub(crate) volumes: BTreeSet<String>,
}

/// The working directory of vigil's image: the final stage's `WORKDIR`.
pub(crate) fn image_workdir() -> &'static str {
    static WORKDIR: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    WORKDIR.get_or_init(|| {
        Dockerfile::read()
            .stages
            .last()
            .and_then(|s| s.workdir.clone())
            .unwrap_or_else(|| "/".to_owned())
    })
}

/// Reads a compose file of the repository; a file that does not parse
/// fails the test that reads it.
pub(crate) fn load(file: &'static str) -> Compose {
    let path = repo().join(file);
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{file}: cannot be read: {e}"));
    let mut doc: Value =
        yaml_serde::from_str(&text).unwrap_or_else(|e| panic!("{file}: not YAML: {e}"));
    doc.apply_merge()
        .unwrap_or_else(|e| panic!("{file}: bad merge key: {e}"));
    let services = doc
        .get("services")
        .and_then(Value::as_mapping)
        .unwrap_or_else(|| panic!("{file}: no `services` mapping"));
    let services = services
        .iter()
        .map(|(name, body)| {
            let name = name
                .as_str()
                .unwrap_or_else(|| panic!("{file}: a service name is not a string"));
            parse_service(file, name, body)
        })
        .collect();
    let volumes = doc
        .get("volumes")
        .and_then(Value::as_mapping)
        .map(|m| {
            m.keys()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    Compose {
        file,
        name: doc.get("name").and_then(Value::as_str).map(str::to_owned),
        services,
        volumes,
    }
}

pub(crate) fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

pub(crate) fn strings(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::String(s)) => s.split_whitespace().map(str::to_owned).collect(),
        Some(Value::Sequence(items)) => items.iter().filter_map(scalar).collect(),
        _ => Vec::new(),
    }
}

pub(crate) fn parse_service(file: &str, name: &str, body: &Value) -> Service {
    let at = format!("{file}: service {name}");
    let text = |key: &str| body.get(key).and_then(Value::as_str).map(str::to_owned);
    let build = body.get("build").map(|b| match b {
        Value::String(context) => (context.clone(), "Dockerfile".to_owned()),
        _ => (
            b.get("context")
                .and_then(Value::as_str)
                .unwrap_or(".")
                .to_owned(),
            b.get("dockerfile")
                .and_then(Value::as_str)
                .unwrap_or("Dockerfile")
                .to_owned(),
        ),
    });
    let environment = match body.get("environment") {
        Some(Value::Mapping(m)) => m
            .iter()
            .filter_map(|(k, v)| Some((k.as_str()?.to_owned(), scalar(v).unwrap_or_default())))
            .collect(),
        Some(Value::Sequence(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
        _ => BTreeMap::new(),
    };
    let mounts = body
        .get("volumes")
        .and_then(Value::as_sequence)
        .map(|items| items.iter().map(|v| parse_mount(&at, v)).collect())
        .unwrap_or_default();
    let ports = body
        .get("ports")
        .and_then(Value::as_sequence)
        .map(|items| items.iter().map(|v| parse_port(&at, v)).collect())
        .unwrap_or_default();
    let image = text("image");
    let command = strings(body.get("command"));
    let vigil = build.is_some() || image.as_deref().is_some_and(|i| i.starts_with("vigil:"));
    let program = if vigil {
        command.first().and_then(|c| Program::from_subcommand(c))
    } else {
        image
            .as_deref()
            .and_then(|i| Program::from_upstream_image(repository(i)))
    };
    Service {
        name: name.to_owned(),
        image,
        build,
        command,
        environment,
        mounts,
        ports,
        network_mode: text("network_mode"),
        working_dir: text("working_dir"),
        vigil,
        program,
    }
}

pub(crate) fn parse_mount(at: &str, value: &Value) -> Mount {
    let (source, target) = match value {
        Value::String(short) => {
            let mut parts = short.splitn(3, ':');
            match (parts.next(), parts.next()) {
                (Some(source), Some(target)) => (source.to_owned(), target.to_owned()),
                _ => panic!("{at}: volume {short:?} has no target"),
            }
        }
        long => (
            long.get("source")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned(),
            long.get("target")
                .and_then(Value::as_str)
                .unwrap_or_else(|| panic!("{at}: a volume has no target"))
                .to_owned(),
        ),
    };
    // Compose reads a source starting with `.`, `/` or `~` as a host path,
    // anything else as a volume name.
    if source.starts_with(['.', '/', '~']) {
        Mount::Bind { source, target }
    } else {
        Mount::Volume {
            name: source,
            target,
        }
    }
}

pub(crate) fn parse_port(at: &str, value: &Value) -> (u16, u16) {
    let number = |text: &str| -> u16 {
        text.trim_end_matches("/tcp")
            .parse()
            .unwrap_or_else(|_| panic!("{at}: port {text:?} is not a number"))
    };
    match value {
        Value::Mapping(_) => {
            let field = |k: &str| value.get(k).and_then(scalar).map(|s| number(&s));
            let target = field("target").unwrap_or_else(|| panic!("{at}: a port has no target"));
            (field("published").unwrap_or(target), target)
        }
        other => {
            let text = scalar(other).unwrap_or_default();
            let parts: Vec<&str> = text.split(':').collect();
            match parts.as_slice() {
                [container] => (number(container), number(container)),
                [.., host, container] => (number(host), number(container)),
                [] => panic!("{at}: empty port"),
            }
        }
    }
}

/// `grafana/loki:3.5.0` → `grafana/loki`.
pub(crate) fn repository(image: &str) -> &str {
    let name_start = image.rfind('/').map_or(0, |i| i + 1);
    match image[name_start..].find(':') {
        Some(colon) => &image[..name_start + colon],
        None => image,
    }
}

pub(crate) fn tag(image: &str) -> Option<&str> {
    let name_start = image.rfind('/').map_or(0, |i| i + 1);
    image[name_start..].split_once(':').map(|(_, t)| t)
}

/// Joins a container path onto a directory, normalizing `.` and `..`.
pub(crate) fn container_join(dir: &str, path: &str) -> String {
    let mut parts: Vec<&str> = if path.starts_with('/') {
        Vec::new()
    } else {
        dir.split('/').filter(|p| !p.is_empty()).collect()
    };
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    format!("/{}", parts.join("/"))
}

/// `path` without the leading components of `prefix`, if it starts so.
pub(crate) fn strip_dir<'a>(path: &'a str, prefix: &str) -> Option<&'a str> {
    let prefix = prefix.trim_end_matches('/');
    let rest = path.strip_prefix(prefix)?;
    if rest.is_empty() {
        Some("")
    } else {
        rest.strip_prefix('/')
    }
}

/// A repository path, normalized, or `None` when it leaves the repository.
pub(crate) fn repo_relative(base: &Path, path: &str) -> Option<PathBuf> {
    let mut parts: Vec<std::ffi::OsString> = Vec::new();
    for component in base.join(path).components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                parts.pop()?;
            }
            Component::Normal(p) => parts.push(p.to_owned()),
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(parts.iter().collect())
}

impl Service {
    pub(crate) fn at(&self, compose: &Compose) -> String {
        format!("{}: service {}", compose.file, self.name)
    }

    /// The value of a Go-style flag (`-name=v`, `--name=v`, `-name v`),
    /// `true` for a bare boolean flag.
    pub(crate) fn flag(&self, name: &str) -> Option<String> {
        let args = if self.vigil {
            self.command.get(1..).unwrap_or_default()
        } else {
            &self.command[..]
        };
        let mut iter = args.iter().peekable();
        while let Some(arg) = iter.next() {
            let bare = arg.trim_start_matches('-');
            if bare.len() == arg.len() {
                continue;
            }
            if let Some(value) = bare.strip_prefix(name).and_then(|r| r.strip_prefix('=')) {
                return Some(value.to_owned());
            }
            if bare == name {
                return match iter.peek() {
                    Some(next) if !next.starts_with('-') => Some((*next).clone()),
                    _ => Some("true".to_owned()),
                };
            }
        }
        None
    }

    pub(crate) fn workdir(&self) -> String {
        match (&self.working_dir, self.vigil) {
            (Some(dir), _) => dir.clone(),
            (None, true) => image_workdir().to_owned(),
            (None, false) => "/".to_owned(),
        }
    }

    /// Where a path as the program sees it (relative ones against its
    /// working directory) lives.
    pub(crate) fn place(&self, path: &str) -> Place {
        let absolute = container_join(&self.workdir(), path);
        let mount = self
            .mounts
            .iter()
            .filter(|m| strip_dir(&absolute, m.target()).is_some())
            .max_by_key(|m| m.target().len());
        match mount {
            Some(Mount::Bind { source, target }) => {
                let rest = strip_dir(&absolute, target).unwrap_or("");
                let base = repo_relative(Path::new("deploy"), source)
                    .unwrap_or_else(|| PathBuf::from("<outside the repository>"));
                Place::Repo(if rest.is_empty() {
                    base
                } else {
                    base.join(rest)
                })
            }
            Some(Mount::Volume { name, target }) => Place::Volume(
                name.clone(),
                strip_dir(&absolute, target).unwrap_or("").to_owned(),
            ),
            None => Place::Container(absolute),
        }
    }

    /// The network namespace the service is in: its own, or the one of
    /// the service named by `network_mode: service:NAME`.
    pub(crate) fn netns(&self) -> &str {
        self.network_mode
            .as_deref()
            .and_then(|m| m.strip_prefix("service:"))
            .unwrap_or(&self.name)
    }
}

impl Compose {
    pub(crate) fn service(&self, program: Program) -> Option<&Service> {
        self.services.iter().find(|s| s.program == Some(program))
    }

    /// The services running `program`, or a problem when there is none.
    pub(crate) fn require(&self, program: Program, problems: &mut Vec<String>) -> Option<&Service> {
        let found = self.service(program);
        if found.is_none() {
            problems.push(format!("{}: no service runs {program:?}", self.file));
        }
        found
    }

    /// The service running `program` and its `-config.file`, parsed; a
    /// problem when either is missing.
    pub(crate) fn program_config(
        &self,
        program: Program,
        problems: &mut Vec<String>,
    ) -> Option<(&Service, Value)> {
        let service = self.require(program, problems)?;
        match self.yaml_config(service, "config.file") {
            Ok((_, config)) => Some((service, config)),
            Err(e) => {
                problems.push(e);
                None
            }
        }
    }

    /// A config file named on the command line: where it is in the
    /// repository and its text as the program reads it (expanded when the
    /// program expands the environment).
    pub(crate) fn config(
        &self,
        service: &Service,
        flag: &str,
    ) -> Result<(PathBuf, String), String> {
        let at = service.at(self);
        let path = service
            .flag(flag)
            .ok_or_else(|| format!("{at}: no -{flag} on its command line"))?;
        let Place::Repo(file) = service.place(&path) else {
            return Err(format!(
                "{at}: -{flag}={path} is not bind-mounted from the repository"
            ));
        };
        let text = std::fs::read_to_string(repo().join(&file))
            .map_err(|e| format!("{at}: {}: {e}", file.display()))?;
        let expand = service
            .flag("config.expand-env")
            .is_some_and(|v| v == "true" || v == "1");
        if !expand {
            return Ok((file, text));
        }
        let name = file.display().to_string();
        let text = agent::config::expand_env_with(&text, &name, |var| {
            service.environment.get(var).cloned()
        })
        .map_err(|e| format!("{at}: {e}"))?;
        Ok((file, text))
    }

    pub(crate) fn yaml_config(
        &self,
        service: &Service,
        flag: &str,
    ) -> Result<(PathBuf, Value), String> {
        let (file, text) = self.config(service, flag)?;
        let value = yaml_serde::from_str(&text)
            .map_err(|e| format!("{}: {}: not YAML: {e}", service.at(self), file.display()))?;
        Ok((file, value))
    }

    /// The address the service's HTTP server listens on, as (host, port),
    /// worked out as the program does.
    pub(crate) fn listen(&self, service: &Service) -> Result<Option<(String, u16)>, String> {
        let at = service.at(self);
        let split = |text: &str| -> Result<(String, u16), String> {
            let (host, port) = text
                .rsplit_once(':')
                .ok_or_else(|| format!("{at}: address {text:?} has no port"))?;
            let port = port
                .parse()
                .map_err(|_| format!("{at}: address {text:?} has a bad port"))?;
            // An empty host is every address, as Go's net.Listen reads it.
            let host = match host.trim_matches(['[', ']']) {
                "" => "0.0.0.0",
                h => h,
            };
            Ok((host.to_owned(), port))
        };
        let Some(program) = service.program else {
            return Ok(None);
        };
        match program {
            Program::Pod | Program::Loadgen | Program::Loggen => Ok(None),
            Program::Demo => {
                split(&service.flag("listen").unwrap_or("127.0.0.1:8000".into())).map(Some)
            }
            Program::Prometheus => split(
                &service
                    .flag("web.listen-address")
                    .unwrap_or("0.0.0.0:9090".into()),
            )
            .map(Some),
            Program::Grafana if service.vigil => {
                split(&service.flag("http-addr").unwrap_or("127.0.0.1:3000".into())).map(Some)
            }
            Program::Grafana => {
                let env =
                    |k: &str, d: &str| service.environment.get(k).cloned().unwrap_or(d.into());
                let port = env("GF_SERVER_HTTP_PORT", "3000");
                split(&format!("{}:{port}", env("GF_SERVER_HTTP_ADDR", ""))).map(Some)
            }
            Program::Loki | Program::Promtail => {
                // Defaults, then the config file, then the flags.
                let (_, config) = self.yaml_config(service, "config.file")?;
                let server = config.get("server");
                let from_file = |k: &str| server.and_then(|s| s.get(k)).and_then(scalar);
                let default_port = if program == Program::Loki {
                    "3100"
                } else {
                    "80"
                };
                let host = service
                    .flag("server.http-listen-address")
                    .or_else(|| from_file("http_listen_address"))
                    .unwrap_or_default();
                let port = service
                    .flag("server.http-listen-port")
                    .or_else(|| from_file("http_listen_port"))
                    .unwrap_or(default_port.into());
                split(&format!("{host}:{port}")).map(Some)
            }
        }
    }

    /// The service that `host:port`, dialled from `from`, reaches: by
    /// loopback within `from`'s network namespace, or by service name.
    pub(crate) fn reach(&self, from: &Service, host: &str, port: u16) -> Result<&Service, String> {
        let loopback = is_loopback(host);
        let candidates: Vec<&Service> = self
            .services
            .iter()
            .filter(|s| {
                if loopback {
                    s.netns() == from.netns()
                } else {
                    s.name == host
                }
            })
            .collect();
        let mut seen = Vec::new();
        for candidate in candidates {
            match self.listen(candidate)? {
                Some((listen_host, listen_port)) if listen_port == port => {
                    let local = candidate.netns() == from.netns();
                    if local || !is_loopback(&listen_host) {
                        return Ok(candidate);
                    }
                    seen.push(format!(
                        "{} on {listen_host}:{listen_port} (loopback only)",
                        candidate.name
                    ));
                }
                Some((h, p)) => seen.push(format!("{} on {h}:{p}", candidate.name)),
                None => {}
            }
        }
        Err(format!(
            "{}: {host}:{port} reaches no service from its network namespace ({}); listening there: {}",
            from.at(self),
            from.netns(),
            if seen.is_empty() {
                "nothing".to_owned()
            } else {
                seen.join(", ")
            }
        ))
    }

    /// Expects `url` (dialled from `from`) to reach a service running
    /// `program`.
    pub(crate) fn expect_reaches(
        &self,
        from: &Service,
        what: &str,
        url: &str,
        program: Program,
    ) -> Option<String> {
        let Some((host, port)) = host_port(url) else {
            return Some(format!(
                "{}: {what} {url:?} has no host:port",
                from.at(self)
            ));
        };
        match self.reach(from, &host, port) {
            Ok(s) if s.program == Some(program) => None,
            Ok(s) => Some(format!(
                "{}: {what} {url} reaches {} ({:?}), not {program:?}",
                from.at(self),
                s.name,
                s.program
            )),
            Err(e) => Some(format!("{what} {url}: {e}")),
        }
    }
}

pub(crate) fn is_loopback(host: &str) -> bool {
    host == "localhost" || host == "::1" || host.starts_with("127.")
}

/// `http://host:port/path` or `host:port` → (host, port), with the
/// scheme's port when none is written.
pub(crate) fn host_port(url: &str) -> Option<(String, u16)> {
    let (scheme, rest) = match url.split_once("://") {
        Some((s, r)) => (s, r),
        None => ("", url),
    };
    let authority = rest.split('/').next()?;
    match authority.rsplit_once(':') {
        Some((host, port)) => Some((host.to_owned(), port.parse().ok()?)),
        None => Some((
            authority.to_owned(),
            if scheme == "https" { 443 } else { 80 },
        )),
    }
}

pub(crate) fn both() -> Vec<Compose> {
    COMPOSE_FILES.iter().map(|f| load(f)).collect()
}
