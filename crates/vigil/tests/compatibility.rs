//! `docs/compatibility.md`, kept true: each component's table under
//! `tests/compatibility/` lists the upstream config fields, HTTP endpoints
//! and metrics with a status, and this test checks every row against the
//! real component, then regenerates the document from the tables.
//!
//! What a status means, per kind of row:
//! - a config field is fed, in a minimal file that uses it, to the
//!   component's own parser. `supported`: accepted with no report;
//!   `ignored`: accepted and reported by the component's "not acted on"
//!   list (what it logs at start); `silent`: accepted with no report
//!   although nothing acts on it (what the code does, recorded so that it
//!   is fixed rather than hidden); `unsupported`: refused with an error,
//!   or accepted and reported as not supported (the agent's target kinds),
//!   or, for provisioning, the entry skipped with a problem logged.
//! - an endpoint is asked of the component, started alone on
//!   `127.0.0.1:0`. `supported`: any answer but 404, 405 or 501;
//!   `unsupported`: 404 or 405.
//! - a metric is looked for in the demo API's `/metrics` after a request:
//!   `supported` when a sample of it is there, `unsupported` when not.
//!
//! After a change of the tables, `VIGIL_BLESS=1 cargo test -p vigil --test
//! compatibility` rewrites the document.

mod common;

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;

/// The components, in the document's order: (table file, how to check it).
const COMPONENTS: &[&str] = &["prometheus", "loki", "promtail", "grafana", "demo"];

/// One component's table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Table {
    /// The heading in the document.
    title: String,
    /// The upstream versions and documents the rows come from.
    upstream: String,
    /// A config every config row is merged over (mappings merge, the
    /// row's other values win), so rows stay short.
    #[serde(default)]
    base: Option<yaml_serde::Value>,
    sections: Vec<Section>,
}

/// A group of rows of one kind.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Section {
    title: String,
    kind: Kind,
    rows: Vec<Row>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Kind {
    Config,
    Endpoint,
    Metric,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Status {
    /// The default, so that most endpoint rows need no status.
    #[default]
    Supported,
    Ignored,
    /// Accepted and not acted on, without a word: the truth about fields
    /// the component should report and does not (yet).
    Silent,
    Unsupported,
}

impl Status {
    fn words(self) -> &'static str {
        match self {
            Status::Supported => "supported",
            Status::Ignored => "accepted, ignored",
            Status::Silent => "accepted, ignored (no warning)",
            Status::Unsupported => "not supported",
        }
    }
}

/// One field, endpoint or metric.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Row {
    /// The field's dotted path, `METHOD /path`, or the metric's name.
    key: String,
    #[serde(default)]
    status: Status,
    #[serde(default)]
    note: String,
    /// Config rows: the file's text (merged over the table's `base`).
    #[serde(default)]
    config: Option<String>,
    /// Config rows: more files beside it, by relative path.
    #[serde(default)]
    files: BTreeMap<String, String>,
    /// Endpoint rows: the request to send when the key's path is not one
    /// (`GET /api/v1/query?query=up`).
    #[serde(default)]
    request: Option<String>,
    /// Endpoint rows: a body, sent with `content_type`.
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    content_type: Option<String>,
}

fn tables_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/compatibility")
}

fn load(component: &str) -> Table {
    let path = tables_dir().join(format!("{component}.yaml"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    yaml_serde::from_str(&text).unwrap_or_else(|e| panic!("{path:?}: {e}"))
}

fn rows(table: &Table, kind: Kind) -> impl Iterator<Item = &Row> {
    table
        .sections
        .iter()
        .filter(move |s| s.kind == kind)
        .flat_map(|s| &s.rows)
}

// ---------------------------------------------------------------------------
// Config rows

/// What a component's parser made of one file.
#[derive(Debug)]
enum Verdict {
    /// Loaded; these were reported as ignored, these as not supported.
    Loaded {
        ignored: Vec<String>,
        unsupported: Vec<String>,
    },
    /// Refused with this error (printed when the row is wrong).
    Refused(#[allow(dead_code)] String),
}

impl Verdict {
    fn status(&self) -> Status {
        match self {
            Verdict::Refused(_) => Status::Unsupported,
            Verdict::Loaded { unsupported, .. } if !unsupported.is_empty() => Status::Unsupported,
            Verdict::Loaded { ignored, .. } if !ignored.is_empty() => Status::Ignored,
            Verdict::Loaded { .. } => Status::Supported,
        }
    }
}

/// `overlay` merged into `base`: mappings key by key, anything else
/// replaced.
fn merge(base: &mut yaml_serde::Value, overlay: yaml_serde::Value) {
    match (base, overlay) {
        (yaml_serde::Value::Mapping(base), yaml_serde::Value::Mapping(overlay)) => {
            for (key, value) in overlay {
                match base.get_mut(&key) {
                    Some(slot) => merge(slot, value),
                    None => {
                        base.insert(key, value);
                    }
                }
            }
        }
        (slot, value) => *slot = value,
    }
}

/// The file a row's config is written as, with the table's base merged in.
fn config_text(table: &Table, row: &Row) -> String {
    let text = row.config.clone().unwrap_or_default();
    match &table.base {
        None => text,
        Some(base) => {
            let mut merged = base.clone();
            let overlay: yaml_serde::Value = yaml_serde::from_str(&text)
                .unwrap_or_else(|e| panic!("{}: the row's config is not YAML: {e}", row.key));
            if !overlay.is_null() {
                merge(&mut merged, overlay);
            }
            yaml_serde::to_string(&merged).expect("YAML")
        }
    }
}

fn check_config(component: &str, dir: &Path, text: &str) -> Verdict {
    match component {
        "prometheus" => {
            let path = dir.join("prometheus.yml");
            match prom::config::Config::parse(text, &path) {
                Ok(config) => Verdict::Loaded {
                    ignored: config.unsupported(),
                    unsupported: Vec::new(),
                },
                Err(e) => Verdict::Refused(e.to_string()),
            }
        }
        "loki" => match logstore::config::Config::parse(text, "loki.yaml") {
            Ok(config) => Verdict::Loaded {
                ignored: config.not_applicable(),
                unsupported: Vec::new(),
            },
            Err(e) => Verdict::Refused(e.to_string()),
        },
        "promtail" => {
            let config = match agent::config::Config::parse(text, "promtail.yaml") {
                Ok(config) => config,
                Err(e) => return Verdict::Refused(e.to_string()),
            };
            // Promtail refuses some files only when it starts.
            if let Err(e) = config.validate(false) {
                return Verdict::Refused(e.to_string());
            }
            Verdict::Loaded {
                ignored: config.not_applicable(),
                unsupported: config
                    .not_supported()
                    .iter()
                    .map(ToString::to_string)
                    .collect(),
            }
        }
        "grafana" => {
            let runtime = common::runtime();
            let loaded = runtime.block_on(dashboard::provisioning::Provisioned::load(Some(dir)));
            match loaded {
                Err(e) => Verdict::Refused(e.to_string()),
                Ok(p) if !p.problems.is_empty() => Verdict::Refused(
                    p.problems
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join("; "),
                ),
                Ok(p) if p.datasources.all().is_empty() && p.providers.is_empty() => {
                    Verdict::Refused("nothing was provisioned".to_owned())
                }
                // Grafana reads its provisioning files leniently and
                // never names a key it skips, and neither does vigil.
                Ok(_) => Verdict::Loaded {
                    ignored: Vec::new(),
                    unsupported: Vec::new(),
                },
            }
        }
        other => panic!("no config check for {other}"),
    }
}

/// The file a component's config rows are written to.
fn config_file(component: &str) -> &'static str {
    match component {
        "prometheus" => "prometheus.yml",
        "loki" => "loki.yaml",
        "promtail" => "promtail.yaml",
        "grafana" => "datasources/test.yaml",
        other => panic!("no config file for {other}"),
    }
}

fn config_rows_hold(component: &str) {
    let table = load(component);
    let mut wrong = Vec::new();
    for row in rows(&table, Kind::Config) {
        let dir = tempfile::tempdir().expect("a temporary directory");
        for (name, text) in &row.files {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().expect("a parent")).expect("a folder");
            std::fs::write(&path, text).expect("written");
        }
        let text = config_text(&table, row);
        let path = dir.path().join(config_file(component));
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("a folder");
        std::fs::write(&path, &text).expect("written");
        let verdict = check_config(component, dir.path(), &text);
        // An ignored field must be the one reported, not some other key.
        let reported_right = match (&verdict, row.status) {
            (Verdict::Loaded { ignored, .. }, Status::Ignored) => {
                let leaf = row.key.rsplit('.').next().unwrap_or(&row.key);
                let leaf = leaf.trim_end_matches("[]");
                ignored.iter().any(|i| i.contains(leaf))
            }
            _ => true,
        };
        // A silently ignored field loads like a supported one; which of
        // the two it is, the table says from reading the code.
        let expected = match row.status {
            Status::Silent => Status::Supported,
            other => other,
        };
        if verdict.status() != expected || !reported_right {
            wrong.push(format!(
                "{component}: {} is listed {:?} but the parser says {verdict:?}\n--- file:\n{text}",
                row.key, row.status
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n\n"));
}

#[test]
fn prometheus_config_fields_are_as_documented() {
    config_rows_hold("prometheus");
}

#[test]
fn loki_config_fields_are_as_documented() {
    config_rows_hold("loki");
}

#[test]
fn promtail_config_fields_are_as_documented() {
    config_rows_hold("promtail");
}

#[test]
fn grafana_provisioning_fields_are_as_documented() {
    config_rows_hold("grafana");
}

// ---------------------------------------------------------------------------
// Endpoint and metric rows

/// `METHOD /path?query` split.
fn method_and_path(text: &str) -> (reqwest::Method, String) {
    let (method, path) = text.split_once(' ').unwrap_or(("GET", text));
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("an HTTP method");
    (method, path.to_owned())
}

/// Sends every endpoint row of `component` to `url` and checks its answer.
fn endpoint_rows_hold(component: &str, url: &str, auth: Option<(&str, &str)>) {
    let table = load(component);
    let client = reqwest::Client::new();
    let runtime = common::runtime();
    let mut wrong = Vec::new();
    for row in rows(&table, Kind::Endpoint) {
        let (method, path) = method_and_path(row.request.as_deref().unwrap_or(&row.key));
        let status = runtime.block_on(async {
            let mut request = client.request(method, format!("{url}{path}"));
            if let Some((user, password)) = auth {
                request = request.basic_auth(user, Some(password));
            }
            if let Some(body) = &row.body {
                request = request.body(body.clone());
            }
            if let Some(kind) = &row.content_type {
                request = request.header("Content-Type", kind);
            }
            request.send().await.map(|r| r.status().as_u16())
        });
        let status = match status {
            Ok(status) => status,
            Err(e) => {
                wrong.push(format!("{component}: {}: no answer: {e}", row.key));
                continue;
            }
        };
        // Any answer but "no such route", "no such method" or "not
        // implemented": a proxy's gateway error and the demo's drawn 500s
        // are answers.
        let found = !matches!(status, 404 | 405 | 501);
        let holds = match row.status {
            Status::Supported => found,
            Status::Unsupported => matches!(status, 404 | 405),
            Status::Ignored | Status::Silent => false,
        };
        if !holds {
            wrong.push(format!(
                "{component}: {} is listed {:?} but answered {status}",
                row.key, row.status
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn prometheus_endpoints_are_as_documented() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let config = dir.path().join("prometheus.yml");
    std::fs::write(&config, "scrape_configs: []\n").expect("written");
    let mut command = Command::new(common::VIGIL);
    command
        .arg("prometheus")
        .arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.path().join("data").display()
        ))
        .arg("--web.listen-address=127.0.0.1:0")
        .arg("--web.enable-remote-write-receiver")
        .arg("--web.enable-lifecycle");
    let addr = regex::Regex::new(r"addr\W*=\W*(127\.0\.0\.1:\d+)").expect("a regex");
    let (_running, url) = common::spawn_until(command, &addr, "the metrics server listens");
    endpoint_rows_hold("prometheus", &url, None);
}

#[test]
fn loki_endpoints_are_as_documented() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let config = dir.path().join("loki.yaml");
    std::fs::write(&config, "auth_enabled: false\n").expect("written");
    let (_running, url) = common::start(&config, &dir.path().join("data"));
    endpoint_rows_hold("loki", &url, None);
}

#[test]
fn promtail_endpoints_are_as_documented() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let config = dir.path().join("promtail.yaml");
    let text = format!(
        "server:\n  http_listen_address: 127.0.0.1\n  http_listen_port: 0\n\
         \x20 health_check_target: false\n\
         positions:\n  filename: {}\n\
         clients:\n  - url: http://127.0.0.1:1/loki/api/v1/push\n\
         scrape_configs:\n  - job_name: app\n    static_configs:\n      - labels: {{job: app, __path__: {}}}\n",
        dir.path().join("positions.yaml").display(),
        dir.path().join("*.log").display(),
    );
    std::fs::write(&config, text).expect("written");
    let (_running, url) = common::start_agent(&config);
    endpoint_rows_hold("promtail", &url, None);
}

#[test]
fn grafana_endpoints_are_as_documented() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let provisioning = dir.path().join("provisioning/datasources");
    std::fs::create_dir_all(&provisioning).expect("a folder");
    std::fs::write(
        provisioning.join("ds.yaml"),
        "datasources:\n  - name: Prometheus\n    type: prometheus\n    uid: prom\n    url: http://127.0.0.1:1\n",
    )
    .expect("written");
    // A dashboard in a folder, for the endpoints that take their uids.
    let boards = dir.path().join("provisioning/dashboards");
    std::fs::create_dir_all(boards.join("json")).expect("a folder");
    std::fs::write(
        boards.join("default.yaml"),
        format!(
            "providers:\n  - name: compat\n    folder: Compat\n    folderUid: compat-folder\n    options:\n      path: {}\n",
            boards.join("json").display()
        ),
    )
    .expect("written");
    std::fs::write(
        boards.join("json/compat.json"),
        r#"{"uid": "compat", "title": "Compat", "panels": [], "schemaVersion": 41}"#,
    )
    .expect("written");
    let data = dir.path().join("data");
    let provisioning = dir.path().join("provisioning");
    let (_running, url) = common::start_grafana(&[
        OsStr::new("--provisioning"),
        provisioning.as_os_str(),
        OsStr::new("--http-addr"),
        OsStr::new("127.0.0.1:0"),
        OsStr::new("--data"),
        data.as_os_str(),
    ]);
    endpoint_rows_hold("grafana", &url, Some(("admin", "admin")));
}

#[test]
fn demo_metrics_are_as_documented() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut command = Command::new(common::VIGIL);
    command
        .args(["demo", "--listen", "127.0.0.1:0", "--max-delay", "10ms"])
        .arg("--log-dir")
        .arg(dir.path());
    let addr =
        regex::Regex::new(r"demo API listening on http://(127\.0\.0\.1:\d+)").expect("a regex");
    let (_running, url) = common::spawn_until(command, &addr, "the demo API listens");
    endpoint_rows_hold("demo", &url, None);
    let runtime = common::runtime();
    let body = runtime.block_on(async {
        let client = reqwest::Client::new();
        // The endpoint rows above made requests of every kind.
        let response = client
            .get(format!("{url}/metrics"))
            .send()
            .await
            .expect("answered");
        response.text().await.expect("a body")
    });
    let table = load("demo");
    let mut wrong = Vec::new();
    for row in rows(&table, Kind::Metric) {
        // A family by its TYPE line, a single series by a sample.
        let family = format!("# TYPE {} ", row.key);
        let present = body.lines().any(|line| {
            line.starts_with(&family)
                || line
                    .strip_prefix(row.key.as_str())
                    .is_some_and(|rest| rest.starts_with(['{', ' ']))
        });
        let listed = row.status == Status::Supported;
        if present != listed {
            wrong.push(format!(
                "demo: {} is listed {:?} but is {}in /metrics",
                row.key,
                row.status,
                if present { "" } else { "not " }
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{}\n--- /metrics:\n{body}",
        wrong.join("\n")
    );
}

// ---------------------------------------------------------------------------
// The document

/// A table cell: one line, pipes escaped.
fn cell(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace('|', "\\|")
}

fn render() -> String {
    let mut out = String::new();
    out.push_str(
        "<!-- Generated from crates/vigil/tests/compatibility/*.yaml by \
         crates/vigil/tests/compatibility.rs; do not edit by hand. \
         Regenerate: VIGIL_BLESS=1 cargo test -p vigil --test compatibility -->\n\n",
    );
    out.push_str("# Compatibility with the upstream programs\n\n");
    out.push_str(
        "For each component, the upstream config fields, HTTP endpoints and metrics that users \
         of the reference setup and of typical configs meet, and what vigil does with each. \
         Every row is checked by `crates/vigil/tests/compatibility.rs` against the real \
         component, so this page says what the code does today.\n\n\
         - **supported**: config fields are accepted with no warning and acted on; endpoints \
         answer (anything but 404, 405 or 501 to a sensible request); metrics are exposed.\n\
         - **accepted, ignored**: the config loads unchanged, and the component names the field \
         in the warning it logs at start (\"not acted on\"). A working upstream config never \
         fails to load because of one of these.\n\
         - **accepted, ignored (no warning)**: the config loads, but nothing acts on the field \
         and the component does not say so yet.\n\
         - **not supported**: the config is refused with an error that names the file and line, \
         or (where noted) loads with the part reported as not supported and left out; endpoints \
         answer 404 or 405; metrics are absent.\n\n\
         Fields not listed follow their block: a block marked ignored is ignored whole, and an \
         unknown key is refused as the upstream program refuses it.\n\n",
    );
    for component in COMPONENTS {
        let table = load(component);
        let _ = writeln!(out, "## {}\n\n{}\n", table.title, cell(&table.upstream));
        for section in &table.sections {
            let head = match section.kind {
                Kind::Config => "Field",
                Kind::Endpoint => "Endpoint",
                Kind::Metric => "Metric",
            };
            let _ = writeln!(out, "### {}\n", section.title);
            let _ = writeln!(out, "| {head} | Status | Note |\n|---|---|---|");
            for row in &section.rows {
                let _ = writeln!(
                    out,
                    "| `{}` | {} | {} |",
                    row.key,
                    row.status.words(),
                    cell(&row.note)
                );
            }
            out.push('\n');
        }
    }
    out.truncate(out.trim_end().len());
    out.push('\n');
    out
}

#[test]
fn the_document_is_generated_from_the_tables() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/compatibility.md");
    let text = render();
    if std::env::var_os("VIGIL_BLESS").is_some() {
        std::fs::write(&path, &text).expect("written");
        return;
    }
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        on_disk == text,
        "docs/compatibility.md is not what the tables in crates/vigil/tests/compatibility/ \
         make; regenerate it with: VIGIL_BLESS=1 cargo test -p vigil --test compatibility"
    );
}

#[test]
fn every_component_has_a_table_and_every_row_is_checkable() {
    for component in COMPONENTS {
        let table = load(component);
        for section in &table.sections {
            for row in &section.rows {
                match section.kind {
                    Kind::Config => assert!(
                        row.config.is_some() || !row.files.is_empty(),
                        "{component}: {} has no config to check",
                        row.key
                    ),
                    Kind::Endpoint => assert!(
                        !matches!(row.status, Status::Ignored | Status::Silent),
                        "{component}: {}: an endpoint is supported or not",
                        row.key
                    ),
                    Kind::Metric => assert!(
                        !matches!(row.status, Status::Ignored | Status::Silent),
                        "{component}: {}: a metric is exposed or not",
                        row.key
                    ),
                }
            }
        }
    }
}
