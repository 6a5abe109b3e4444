//! The container deployment (`deploy/`), checked without a container
//! engine: both compose files parse, everything they and the Dockerfile
//! name exists in the repository, and the addresses in the config files
//! they mount reach the services the compose files run, on the ports they
//! publish.
//!
//! The compose files are read as Docker Compose reads them (YAML with merge
//! keys, short and long volume and port syntax); each program's listen
//! address, config file and data paths are worked out the way that program
//! works them out (flags over config file over defaults, `-config.expand-env`
//! with the container's environment, relative paths against the working
//! directory). One test per property, each over both files, failing with
//! every problem it found, named by file and service.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use yaml_serde::Value;

#[path = "deploy/compose.rs"]
mod compose;
#[path = "deploy/dockerfile.rs"]
mod dockerfile;

use compose::{
    Compose, Mount, Place, Program, Service, both, container_join, host_port, is_loopback, load,
    repo_relative, scalar, strings, tag,
};
use dockerfile::{Dockerfile, dockerignore, ignored};

/// The two deployments: the upstream programs, and vigil's own components.
const COMPOSE_FILES: [&str; 2] = [
    "deploy/docker-compose.yml",
    "deploy/docker-compose.vigil.yml",
];

/// The Dockerfile the compose files build vigil's image from.
const DOCKERFILE: &str = "deploy/Dockerfile";

/// The dashboard vigil provisions; Grafana must find it.
const DASHBOARD_FILE: &str = "fast-api-metrics.json";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Fails with every problem found, one a line.
fn assert_none(problems: Vec<String>) {
    assert!(
        problems.is_empty(),
        "{} problem(s):\n  {}",
        problems.len(),
        problems.join("\n  ")
    );
}

#[test]
fn compose_files_parse_and_name_distinct_projects() {
    let mut problems = Vec::new();
    let composes = both();
    let names: BTreeSet<_> = composes.iter().filter_map(|c| c.name.clone()).collect();
    if names.len() != composes.len() {
        problems.push(format!(
            "both compose files live in deploy/, so each needs its own top-level `name` (the project), else they share containers and volumes; names: {names:?}"
        ));
    }
    for compose in &composes {
        for service in &compose.services {
            if service.image.is_none() && service.build.is_none() {
                problems.push(format!("{}: neither image nor build", service.at(compose)));
            }
            if service.program.is_none() {
                problems.push(format!(
                    "{}: runs neither a known upstream image nor a vigil subcommand ({:?} {:?})",
                    service.at(compose),
                    service.image,
                    service.command.first()
                ));
            }
        }
    }
    assert_none(problems);
}

#[test]
fn every_deployment_runs_every_component() {
    let mut problems = Vec::new();
    for compose in both() {
        for program in [
            Program::Demo,
            Program::Loadgen,
            Program::Loggen,
            Program::Promtail,
            Program::Loki,
            Program::Prometheus,
            Program::Grafana,
        ] {
            compose.require(program, &mut problems);
        }
    }
    assert_none(problems);
}

#[test]
fn images_are_pinned() {
    let mut problems = Vec::new();
    for compose in both() {
        for service in &compose.services {
            let Some(image) = &service.image else {
                continue;
            };
            match tag(image) {
                None => problems.push(format!(
                    "{}: image {image} has no tag (latest)",
                    service.at(&compose)
                )),
                Some("latest") => problems.push(format!(
                    "{}: image {image} is not pinned",
                    service.at(&compose)
                )),
                Some(_) => {}
            }
        }
    }
    for stage in Dockerfile::read().stages {
        if !stage.from.contains(':') && !stage.from.contains('@') {
            problems.push(format!("{DOCKERFILE}: FROM {} has no tag", stage.from));
        } else if tag(&stage.from) == Some("latest") {
            problems.push(format!("{DOCKERFILE}: FROM {} is not pinned", stage.from));
        }
    }
    assert_none(problems);
}

#[test]
fn bind_mounts_exist_in_the_repository_and_volumes_are_declared() {
    let mut problems = Vec::new();
    for compose in both() {
        for service in &compose.services {
            for mount in &service.mounts {
                match mount {
                    Mount::Bind { source, .. } => {
                        match repo_relative(Path::new("deploy"), source) {
                            None => problems.push(format!(
                                "{}: bind mount {source} leaves the repository",
                                service.at(&compose)
                            )),
                            Some(path) if !repo().join(&path).exists() => problems.push(format!(
                                "{}: bind mount {source} ({}) does not exist",
                                service.at(&compose),
                                path.display()
                            )),
                            Some(_) => {}
                        }
                    }
                    Mount::Volume { name, .. } if !compose.volumes.contains(name) => {
                        problems.push(format!(
                            "{}: volume {name} is not declared under `volumes:`",
                            service.at(&compose)
                        ))
                    }
                    Mount::Volume { .. } => {}
                }
            }
        }
    }
    assert_none(problems);
}

#[test]
fn vigil_services_build_the_repository_dockerfile() {
    let mut problems = Vec::new();
    for compose in both() {
        for service in compose.services.iter().filter(|s| s.vigil) {
            let Some((context, dockerfile)) = &service.build else {
                problems.push(format!(
                    "{}: runs vigil's image but has no build",
                    service.at(&compose)
                ));
                continue;
            };
            match repo_relative(Path::new("deploy"), context) {
                Some(dir) if dir.as_os_str().is_empty() => {}
                other => problems.push(format!(
                    "{}: build context {context} ({other:?}) is not the repository root, which the Dockerfile's COPY lines assume",
                    service.at(&compose)
                )),
            }
            if Path::new(dockerfile) != Path::new(DOCKERFILE) {
                problems.push(format!(
                    "{}: dockerfile {dockerfile} is not {DOCKERFILE}",
                    service.at(&compose)
                ));
            }
            if !repo().join(dockerfile).is_file() {
                problems.push(format!(
                    "{}: dockerfile {dockerfile} does not exist",
                    service.at(&compose)
                ));
            }
        }
    }
    assert_none(problems);
}

#[test]
fn configs_are_the_repository_files_not_copies() {
    let mut problems = Vec::new();
    for compose in both() {
        for service in &compose.services {
            let flag = match service.program {
                Some(Program::Loki | Program::Promtail | Program::Prometheus) => "config.file",
                _ => continue,
            };
            match compose.config(service, flag) {
                Err(e) => problems.push(e),
                Ok((file, text)) => {
                    if !file.starts_with("config") {
                        problems.push(format!(
                            "{}: reads {}, not a file of config/",
                            service.at(&compose),
                            file.display()
                        ));
                    }
                    // Without -config.expand-env, the program would read
                    // `${VIGIL_DATA_DIR:-data}` as a literal path.
                    if text.contains("${") {
                        problems.push(format!(
                            "{}: {} holds ${{...}} but is read without -config.expand-env=true",
                            service.at(&compose),
                            file.display()
                        ));
                    }
                    if let Err(e) = yaml_serde::from_str::<Value>(&text) {
                        problems.push(format!("{}: {}: {e}", service.at(&compose), file.display()));
                    }
                }
            }
        }
        if let Some(grafana) = compose.require(Program::Grafana, &mut problems) {
            match grafana_provisioning(grafana) {
                Place::Repo(dir) if dir.starts_with("config") => {}
                other => problems.push(format!(
                    "{}: the provisioning folder is {other:?}, not a folder of config/",
                    grafana.at(&compose)
                )),
            }
        }
    }
    // One source of truth: deploy/ holds no config of its own.
    let own: Vec<String> = std::fs::read_dir(repo().join("deploy"))
        .map(|d| {
            d.filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| {
                    !COMPOSE_FILES.iter().any(|f| f.ends_with(n.as_str())) && n != "Dockerfile"
                })
                .collect()
        })
        .unwrap_or_default();
    if !own.is_empty() {
        problems.push(format!(
            "deploy/ holds files besides the compose files and the Dockerfile ({own:?}): configs belong in config/, once"
        ));
    }
    assert_none(problems);
}

#[test]
fn both_deployments_feed_the_same_configs_and_publish_the_same_ports() {
    let [upstream, own] = [load(COMPOSE_FILES[0]), load(COMPOSE_FILES[1])];
    let mut problems = Vec::new();
    let configs = |c: &Compose| -> BTreeMap<String, BTreeSet<PathBuf>> {
        c.services
            .iter()
            .map(|s| {
                let files = s
                    .mounts
                    .iter()
                    .filter_map(|m| match m {
                        Mount::Bind { source, .. } => repo_relative(Path::new("deploy"), source),
                        Mount::Volume { .. } => None,
                    })
                    .collect();
                (s.name.clone(), files)
            })
            .collect()
    };
    if configs(&upstream) != configs(&own) {
        problems.push(format!(
            "the services mount different repository files:\n    {}: {:?}\n    {}: {:?}",
            upstream.file,
            configs(&upstream),
            own.file,
            configs(&own)
        ));
    }
    let ports = |c: &Compose| -> BTreeSet<(u16, u16)> {
        c.services
            .iter()
            .flat_map(|s| s.ports.iter().copied())
            .collect()
    };
    if ports(&upstream) != ports(&own) {
        problems.push(format!(
            "published ports differ: {} {:?}, {} {:?}",
            upstream.file,
            ports(&upstream),
            own.file,
            ports(&own)
        ));
    }
    assert_none(problems);
}

#[test]
fn published_ports_reach_a_server_listening_beyond_loopback() {
    let mut problems = Vec::new();
    for compose in both() {
        for publisher in &compose.services {
            for &(host_port, container_port) in &publisher.ports {
                // The same numbers as `vigil up` and the reference setup.
                if host_port != container_port {
                    problems.push(format!(
                        "{}: publishes {host_port}:{container_port}; the host port should be the component's own",
                        publisher.at(&compose)
                    ));
                }
                let served: Vec<_> = compose
                    .services
                    .iter()
                    .filter(|s| s.netns() == publisher.netns())
                    .filter_map(|s| match compose.listen(s) {
                        Ok(Some((h, p))) if p == container_port => Some((s.name.clone(), h)),
                        Ok(_) => None,
                        Err(e) => {
                            problems.push(e);
                            None
                        }
                    })
                    .collect();
                match served.as_slice() {
                    [] => problems.push(format!(
                        "{}: publishes {container_port}, on which nothing in its network namespace listens",
                        publisher.at(&compose)
                    )),
                    [(name, host)] if is_loopback(host) => problems.push(format!(
                        "{}: publishes {container_port}, but {name} listens on {host} only, which a published port does not reach",
                        publisher.at(&compose)
                    )),
                    [_] => {}
                    many => problems.push(format!(
                        "{}: {container_port} is listened on by several services: {many:?}",
                        publisher.at(&compose)
                    )),
                }
            }
        }
    }
    assert_none(problems);
}

#[test]
fn promtail_pushes_to_loki() {
    let mut problems = Vec::new();
    for compose in both() {
        let Some((promtail, config)) = compose.program_config(Program::Promtail, &mut problems)
        else {
            continue;
        };
        let urls: Vec<String> = config
            .get("clients")
            .and_then(Value::as_sequence)
            .map(|cs| {
                cs.iter()
                    .filter_map(|c| c.get("url").and_then(scalar))
                    .collect()
            })
            .unwrap_or_default();
        if urls.is_empty() {
            problems.push(format!(
                "{}: its config has no clients[].url",
                promtail.at(&compose)
            ));
        }
        for url in urls {
            if !url.ends_with("/loki/api/v1/push") {
                problems.push(format!(
                    "{}: client {url} is not Loki's push path",
                    promtail.at(&compose)
                ));
            }
            problems.extend(compose.expect_reaches(promtail, "clients[].url", &url, Program::Loki));
        }
    }
    assert_none(problems);
}

#[test]
fn prometheus_scrapes_the_demo_api() {
    let mut problems = Vec::new();
    for compose in both() {
        let Some((prometheus, config)) = compose.program_config(Program::Prometheus, &mut problems)
        else {
            continue;
        };
        let jobs = config
            .get("scrape_configs")
            .and_then(Value::as_sequence)
            .cloned()
            .unwrap_or_default();
        let mut fastapi = false;
        for job in &jobs {
            let name = job.get("job_name").and_then(Value::as_str).unwrap_or("?");
            let targets = job
                .get("static_configs")
                .and_then(Value::as_sequence)
                .into_iter()
                .flatten()
                .flat_map(|sc| strings(sc.get("targets")));
            for target in targets {
                let what = format!("job {name} target");
                if name == "fastapi" {
                    fastapi = true;
                    problems.extend(compose.expect_reaches(
                        prometheus,
                        &what,
                        &target,
                        Program::Demo,
                    ));
                } else if let Some((host, port)) = host_port(&target) {
                    if let Err(e) = compose.reach(prometheus, &host, port) {
                        problems.push(format!("{what} {target}: {e}"));
                    }
                }
            }
        }
        if !fastapi {
            problems.push(format!(
                "{}: no target in job fastapi, which the dashboard queries",
                prometheus.at(&compose)
            ));
        }
    }
    assert_none(problems);
}

/// The provisioning folder Grafana reads, as a place.
fn grafana_provisioning(grafana: &Service) -> Place {
    let dir = if grafana.vigil {
        grafana.flag("provisioning")
    } else {
        None
    }
    .or_else(|| grafana.environment.get("GF_PATHS_PROVISIONING").cloned())
    // The upstream image's default; vigil's has none.
    .or_else(|| (!grafana.vigil).then(|| "/etc/grafana/provisioning".to_owned()));
    match dir {
        Some(dir) => grafana.place(&dir),
        None => Place::Container("<none>".to_owned()),
    }
}

/// The YAML files of a provisioning subfolder in the repository.
fn provisioning_files(dir: &Path, sub: &str) -> Result<Vec<(PathBuf, Value)>, String> {
    let folder = repo().join(dir).join(sub);
    let entries =
        std::fs::read_dir(&folder).map_err(|e| format!("{}/{sub}: {e}", dir.display()))?;
    let mut files = Vec::new();
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        if !matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yml" | "yaml")
        ) {
            continue;
        }
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let value = yaml_serde::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        files.push((path, value));
    }
    files.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(files)
}

#[test]
fn grafana_datasources_reach_prometheus_and_loki() {
    let mut problems = Vec::new();
    for compose in both() {
        let Some(grafana) = compose.require(Program::Grafana, &mut problems) else {
            continue;
        };
        let Place::Repo(dir) = grafana_provisioning(grafana) else {
            problems.push(format!(
                "{}: the provisioning folder is not in the repository",
                grafana.at(&compose)
            ));
            continue;
        };
        let files = match provisioning_files(&dir, "datasources") {
            Ok(f) => f,
            Err(e) => {
                problems.push(format!("{}: {e}", grafana.at(&compose)));
                continue;
            }
        };
        let datasources: Vec<&Value> = files
            .iter()
            .filter_map(|(_, v)| v.get("datasources").and_then(Value::as_sequence))
            .flatten()
            .collect();
        for (uid, program) in [
            ("prometheus-datasource", Program::Prometheus),
            ("loki-datasource", Program::Loki),
        ] {
            let Some(ds) = datasources
                .iter()
                .find(|d| d.get("uid").and_then(Value::as_str) == Some(uid))
            else {
                problems.push(format!(
                    "{}: no datasource with uid {uid}",
                    grafana.at(&compose)
                ));
                continue;
            };
            let Some(url) = ds.get("url").and_then(Value::as_str) else {
                problems.push(format!(
                    "{}: datasource {uid} has no url",
                    grafana.at(&compose)
                ));
                continue;
            };
            let what = format!("datasource {uid} url");
            problems.extend(compose.expect_reaches(grafana, &what, url, program));
        }
    }
    assert_none(problems);
}

#[test]
fn grafana_dashboard_provider_finds_the_dashboard() {
    let mut problems = Vec::new();
    for compose in both() {
        let Some(grafana) = compose.require(Program::Grafana, &mut problems) else {
            continue;
        };
        let provisioning = grafana
            .flag("provisioning")
            .unwrap_or("/etc/grafana/provisioning".into());
        let Place::Repo(dir) = grafana_provisioning(grafana) else {
            problems.push(format!(
                "{}: the provisioning folder is not in the repository",
                grafana.at(&compose)
            ));
            continue;
        };
        let files = match provisioning_files(&dir, "dashboards") {
            Ok(f) => f,
            Err(e) => {
                problems.push(format!("{}: {e}", grafana.at(&compose)));
                continue;
            }
        };
        let mut found = false;
        for (file, value) in &files {
            let providers = value
                .get("providers")
                .and_then(Value::as_sequence)
                .cloned()
                .unwrap_or_default();
            for provider in providers {
                let Some(path) = provider
                    .get("options")
                    .and_then(|o| o.get("path"))
                    .and_then(Value::as_str)
                else {
                    problems.push(format!(
                        "{}: a provider without options.path",
                        file.display()
                    ));
                    continue;
                };
                // Grafana resolves a relative path against its working
                // directory; vigil against the provisioning folder.
                let resolved = if grafana.vigil {
                    container_join(&provisioning, path)
                } else {
                    container_join(&grafana.workdir(), path)
                };
                match grafana.place(&resolved) {
                    Place::Repo(host) if repo().join(&host).join(DASHBOARD_FILE).is_file() => {
                        found = true
                    }
                    other => problems.push(format!(
                        "{}: provider path {path} ({}) is {other:?}, without {DASHBOARD_FILE}",
                        grafana.at(&compose),
                        resolved
                    )),
                }
            }
        }
        if !found {
            problems.push(format!(
                "{}: no dashboard provider reads {DASHBOARD_FILE}",
                grafana.at(&compose)
            ));
        }
    }
    assert_none(problems);
}

#[test]
fn promtail_reads_where_the_demo_api_and_loggen_write() {
    let mut problems = Vec::new();
    for compose in both() {
        let (Some((promtail, config)), Some(demo), Some(loggen)) = (
            compose.program_config(Program::Promtail, &mut problems),
            compose.require(Program::Demo, &mut problems),
            compose.require(Program::Loggen, &mut problems),
        ) else {
            continue;
        };
        // The directory of each `__path__` glob, where it lives.
        let globs: Vec<(String, Place)> = config
            .get("scrape_configs")
            .and_then(Value::as_sequence)
            .into_iter()
            .flatten()
            .filter_map(|job| job.get("static_configs").and_then(Value::as_sequence))
            .flatten()
            .filter_map(|sc| {
                sc.get("labels")?
                    .get("__path__")?
                    .as_str()
                    .map(str::to_owned)
            })
            .map(|glob| {
                let dir = glob.rsplit_once('/').map_or(".", |(d, _)| d).to_owned();
                let place = promtail.place(&dir);
                (glob, place)
            })
            .collect();
        for (writer, flag, default) in [(demo, "log-dir", "logs"), (loggen, "dir", "logs")] {
            let dir = writer.flag(flag).unwrap_or(default.into());
            let place = writer.place(&dir);
            if !matches!(place, Place::Volume(..)) {
                problems.push(format!(
                    "{}: writes its logs to {place:?}, not to a volume Promtail can mount",
                    writer.at(&compose)
                ));
            }
            if !globs.iter().any(|(_, p)| *p == place) {
                problems.push(format!(
                    "{}: writes to {place:?}; promtail's __path__ globs read {globs:?}",
                    writer.at(&compose)
                ));
            }
        }
        match config
            .get("positions")
            .and_then(|p| p.get("filename"))
            .and_then(Value::as_str)
        {
            Some(file) => {
                if !matches!(promtail.place(file), Place::Volume(..)) {
                    problems.push(format!(
                        "{}: positions file {file} is {:?}, lost with the container (every line sent again)",
                        promtail.at(&compose),
                        promtail.place(file)
                    ));
                }
            }
            None => problems.push(format!("{}: no positions.filename", promtail.at(&compose))),
        }
    }
    assert_none(problems);
}

#[test]
fn stores_keep_their_data_on_volumes() {
    let mut problems = Vec::new();
    let on_volume = |compose: &Compose, service: &Service, what: &str, path: &str| {
        let place = service.place(path);
        (!matches!(place, Place::Volume(..))).then(|| {
            format!(
                "{}: {what} {path} is {place:?}, lost with the container",
                service.at(compose)
            )
        })
    };
    for compose in both() {
        for service in &compose.services {
            match service.program {
                Some(Program::Loki) => {
                    let prefix =
                        compose
                            .yaml_config(service, "config.file")
                            .ok()
                            .and_then(|(_, c)| {
                                c.get("common")?
                                    .get("path_prefix")?
                                    .as_str()
                                    .map(str::to_owned)
                            });
                    match prefix {
                        Some(p) => {
                            problems.extend(on_volume(&compose, service, "common.path_prefix", &p))
                        }
                        None => problems
                            .push(format!("{}: no common.path_prefix", service.at(&compose))),
                    }
                }
                Some(Program::Prometheus) => {
                    let path = service.flag("storage.tsdb.path").unwrap_or("data/".into());
                    problems.extend(on_volume(&compose, service, "--storage.tsdb.path", &path));
                }
                Some(Program::Grafana) => {
                    let path = if service.vigil {
                        service.flag("data").unwrap_or("data/grafana".into())
                    } else {
                        "/var/lib/grafana".to_owned()
                    };
                    problems.extend(on_volume(&compose, service, "data", &path));
                }
                _ => {}
            }
        }
    }
    assert_none(problems);
}

#[test]
fn dockerfile_stages_reference_existing_paths() {
    let dockerfile = Dockerfile::read();
    let patterns = dockerignore();
    let mut problems = Vec::new();
    if dockerfile.stages.len() < 2 {
        problems.push(format!(
            "{DOCKERFILE}: not multi-stage (a build stage, then a small final image)"
        ));
    }
    let mut names = Vec::new();
    for stage in &dockerfile.stages {
        for (from, sources) in &stage.copies {
            match from {
                Some(stage_name) if !names.contains(stage_name) => problems.push(format!(
                    "{DOCKERFILE}: COPY --from={stage_name} names no earlier stage"
                )),
                Some(_) => {}
                None => {
                    for source in sources {
                        if !repo().join(source).exists() {
                            problems.push(format!(
                                "{DOCKERFILE}: COPY {source}: not in the repository"
                            ));
                        } else if ignored(source, &patterns) {
                            problems.push(format!(
                                "{DOCKERFILE}: COPY {source}: left out by .dockerignore"
                            ));
                        }
                    }
                }
            }
        }
        for run in &stage.runs {
            let words: Vec<&str> = run.split_whitespace().collect();
            let Some(cargo) = words.windows(2).position(|w| w == ["cargo", "build"]) else {
                continue;
            };
            if let Some(i) = words[cargo..]
                .iter()
                .position(|w| *w == "-p")
                .map(|i| i + cargo)
            {
                let package = words.get(i + 1).copied().unwrap_or("");
                let manifest = repo().join("crates").join(package).join("Cargo.toml");
                let named = std::fs::read_to_string(&manifest)
                    .is_ok_and(|t| t.contains(&format!("name = \"{package}\"")));
                if !named {
                    problems.push(format!(
                        "{DOCKERFILE}: builds -p {package}, which crates/{package} does not define"
                    ));
                }
            }
        }
        names.extend(stage.name.clone());
    }
    for ignored_dir in ["target", "data"] {
        if !ignored(ignored_dir, &patterns) {
            problems.push(format!(".dockerignore: {ignored_dir} is sent to the build"));
        }
    }
    if !ignored("ui/node_modules", &patterns) {
        problems.push(".dockerignore: ui/node_modules is sent to the build".to_owned());
    }
    if let Some(last) = dockerfile.stages.last() {
        match last.user.as_deref() {
            None | Some("root" | "0") => {
                problems.push(format!("{DOCKERFILE}: the final image runs as root"))
            }
            Some(_) => {}
        }
        if !last
            .entrypoint
            .as_deref()
            .is_some_and(|e| e.contains("vigil"))
        {
            problems.push(format!(
                "{DOCKERFILE}: the final image's ENTRYPOINT is not vigil"
            ));
        }
        if !last
            .copies
            .iter()
            .any(|(from, s)| from.is_some() && s.iter().any(|p| p.ends_with("/vigil")))
        {
            problems.push(format!(
                "{DOCKERFILE}: the final image copies no vigil binary from the build stage"
            ));
        }
        let published: BTreeSet<u16> = both()
            .iter()
            .flat_map(|c| c.services.iter().flat_map(|s| s.ports.iter().map(|p| p.1)))
            .collect();
        for port in published {
            if !last.expose.contains(&port) {
                problems.push(format!(
                    "{DOCKERFILE}: port {port} is published but not EXPOSEd"
                ));
            }
        }
    }
    assert_none(problems);
}

/// The relative paths (`../...`) a file reads outside its directory: the
/// `include_str!`/`include_bytes!` arguments of a source file, and every
/// such string literal of a build script (`manifest.join("../../ui")`).
fn relative_literals(text: &str, build_script: bool) -> Vec<String> {
    let literals: Vec<&str> = if build_script {
        text.split('"').skip(1).step_by(2).collect()
    } else {
        ["include_str!(\"", "include_bytes!(\""]
            .iter()
            .flat_map(|open| text.split(open).skip(1))
            .filter_map(|rest| rest.split('"').next())
            .collect()
    };
    literals
        .into_iter()
        .filter(|s| s.starts_with("../") && !s.contains(char::is_whitespace))
        .map(str::to_owned)
        .collect()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
    {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn dockerfile_copies_every_file_the_build_reads() {
    let sources = Dockerfile::read().context_sources();
    let mut problems = Vec::new();
    let crates = repo().join("crates");
    for krate in std::fs::read_dir(&crates)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
    {
        let mut files = Vec::new();
        rust_files(&krate.path().join("src"), &mut files);
        files.push(krate.path().join("build.rs"));
        for file in files {
            let Ok(text) = std::fs::read_to_string(&file) else {
                continue;
            };
            let build_script = file.ends_with("build.rs");
            let relative_to = if build_script {
                krate.path()
            } else {
                file.parent().map(Path::to_owned).unwrap_or_default()
            };
            for literal in relative_literals(&text, build_script) {
                let base = relative_to
                    .strip_prefix(repo())
                    .unwrap_or(&relative_to)
                    .to_owned();
                let Some(target) = repo_relative(&base, &literal) else {
                    continue;
                };
                // Only paths outside the crate matter: the crate is copied whole.
                if target.starts_with("crates") {
                    continue;
                }
                if !sources
                    .iter()
                    .any(|s| target.starts_with(s.trim_end_matches('/')))
                {
                    problems.push(format!(
                        "{} reads {} ({literal}), which {DOCKERFILE} does not copy",
                        file.strip_prefix(repo()).unwrap_or(&file).display(),
                        target.display()
                    ));
                }
            }
        }
    }
    assert_none(problems);
}

#[test]
fn dockerignore_matching() {
    let patterns: Vec<String> = [
        "**/target",
        "**/node_modules",
        "target-*",
        "ui/dist",
        "crates/*/fuzz",
    ]
    .map(str::to_owned)
    .to_vec();
    for (path, left_out) in [
        ("target", true),
        ("target/release/vigil", true),
        ("target-deploy", true),
        ("ui/node_modules", true),
        ("node_modules", true),
        ("ui/dist/x.js", true),
        ("ui", false),
        ("ui/src", false),
        ("crates/target.rs", false),
        ("config", false),
        ("crates/agent/fuzz/corpus", true),
        ("crates/agent/src", false),
        ("crates/prom/fuzz", true),
    ] {
        assert_eq!(ignored(path, &patterns), left_out, "{path}");
    }
}

#[test]
fn flags_are_read_as_go_and_clap_write_them() {
    let service = |command: &[&str], vigil: bool| Service {
        name: "s".into(),
        image: None,
        build: None,
        command: command.iter().map(|s| (*s).to_owned()).collect(),
        environment: BTreeMap::new(),
        mounts: Vec::new(),
        ports: Vec::new(),
        network_mode: None,
        working_dir: None,
        vigil,
        program: None,
    };
    let upstream = service(
        &[
            "-config.file=/a",
            "--web.listen-address",
            ":9",
            "-config.expand-env",
        ],
        false,
    );
    assert_eq!(upstream.flag("config.file").as_deref(), Some("/a"));
    assert_eq!(upstream.flag("web.listen-address").as_deref(), Some(":9"));
    assert_eq!(upstream.flag("config.expand-env").as_deref(), Some("true"));
    assert_eq!(upstream.flag("config"), None);
    // vigil's subcommand is not a flag value.
    let own = service(&["loki", "--config.file", "/b"], true);
    assert_eq!(own.flag("config.file").as_deref(), Some("/b"));
}

#[test]
fn container_paths_resolve_through_mounts() {
    let mut service = Service {
        name: "s".into(),
        image: Some("grafana/loki:3.5.0".into()),
        build: None,
        command: Vec::new(),
        environment: BTreeMap::new(),
        mounts: vec![
            Mount::Bind {
                source: "../config/loki-config.yaml".into(),
                target: "/etc/loki/local-config.yaml".into(),
            },
            Mount::Bind {
                source: "../config/grafana".into(),
                target: "/etc/grafana/provisioning".into(),
            },
            Mount::Volume {
                name: "loki-data".into(),
                target: "/loki".into(),
            },
        ],
        ports: Vec::new(),
        network_mode: None,
        working_dir: Some("/loki".into()),
        vigil: false,
        program: Some(Program::Loki),
    };
    assert_eq!(
        service.place("/etc/loki/local-config.yaml"),
        Place::Repo("config/loki-config.yaml".into())
    );
    assert_eq!(
        service.place("/etc/grafana/provisioning/dashboards"),
        Place::Repo("config/grafana/dashboards".into())
    );
    assert_eq!(
        service.place("data/loki/chunks"),
        Place::Volume("loki-data".into(), "data/loki/chunks".into())
    );
    assert_eq!(service.place("/tmp/x"), Place::Container("/tmp/x".into()));
    service.working_dir = Some("/".into());
    assert_eq!(
        service.place("data/loki"),
        Place::Container("/data/loki".into())
    );
}

/// The long flags `vigil <subcommand> --help` lists.
fn vigil_flags(subcommand: &str) -> Result<BTreeSet<String>, String> {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args([subcommand, "--help"])
        .output()
        .map_err(|e| format!("running vigil {subcommand} --help: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "vigil has no subcommand {subcommand}: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    let help = String::from_utf8_lossy(&output.stdout);
    Ok(help
        .split(|c: char| c.is_whitespace() || c == ',' || c == '[' || c == ']')
        .filter_map(|word| word.strip_prefix("--"))
        .map(|flag| flag.split('=').next().unwrap_or(flag).to_owned())
        .collect())
}

/// The flags of a vigil command line that its subcommand does not have.
fn unknown_flags(args: &[String]) -> Result<Vec<String>, String> {
    let Some(subcommand) = args.first() else {
        return Ok(Vec::new());
    };
    let known = vigil_flags(subcommand)?;
    Ok(args[1..]
        .iter()
        // vigil reads `-name` as `--name`, as Go programs do.
        .filter(|a| a.starts_with('-'))
        .map(|a| a.trim_start_matches('-'))
        .map(|a| a.split('=').next().unwrap_or(a).to_owned())
        .filter(|flag| !known.contains(flag))
        .collect())
}

#[test]
fn vigil_command_lines_use_flags_vigil_has() {
    let mut problems = Vec::new();
    let mut check = |what: String, args: &[String]| match unknown_flags(args) {
        Ok(unknown) if unknown.is_empty() => {}
        Ok(unknown) => problems.push(format!("{what}: vigil {} has no {unknown:?}", args[0])),
        Err(e) => problems.push(format!("{what}: {e}")),
    };
    for compose in both() {
        for service in compose.services.iter().filter(|s| s.vigil) {
            check(service.at(&compose), &service.command);
        }
    }
    match Dockerfile::read().stages.last().and_then(|s| s.cmd.clone()) {
        Some(cmd) => check(format!("{DOCKERFILE}: CMD"), &cmd),
        None => problems.push(format!(
            "{DOCKERFILE}: the final image has no CMD in exec form"
        )),
    }
    assert_none(problems);
}
