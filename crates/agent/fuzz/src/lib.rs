//! The agent's decoders of outside input, each behind one function that
//! takes arbitrary bytes and panics only on a bug in the agent: log lines
//! through representative pipelines, the positions files, promtail-config.yaml
//! text and `-client.external-labels`.
//!
//! Shared by the libFuzzer targets (`fuzz_targets/`) and the seeded short
//! run in `cargo test -p vigil-agent` (`tests/no_panic.rs` includes this
//! file as a module), so both exercise the same code the same way.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use agent::config::{Config, ConfigError, expand_env_with, parse_external_labels};
use agent::entry::{Entry, LabelSet};
use agent::pipeline::{
    Pipeline, PipelineError, StageConfig, StageContext, build_stage, dry_run_line,
};
use agent::tail::PathGlob;
use agent::tail::positions::{Positions, PositionsConfig, PositionsError};
use instrument::Registry;

/// Pipelines written for the fuzzing, one per stage family, so every
/// parsing stage meets arbitrary lines (the golden cases add theirs).
/// Each is the `pipeline_stages` list of a scrape config.
pub const OWN_PIPELINES: &[(&str, &str)] = &[
    (
        "json-jmespath",
        r#"
- json:
    expressions:
      level:
      msg: message
      first: items[0].sku
      n: length(items)
      all: items[*].sku
      nested: a.b.c
      quoted: '"dotted.key"'
      filtered: items[?qty > `1`].sku | [0]
      joined: join(',', tags)
      keys: keys(@)
      sorted: sort_by(items, &qty)[0].sku
      anyval: '@'
- json:
    source: msg
    expressions:
      inner: x
- labels:
    level:
    first:
    n:
- output:
    source: msg
"#,
    ),
    (
        "json-drop-malformed",
        r#"
- json:
    drop_malformed: true
    expressions:
      time:
      stream:
- tenant:
    source: stream
- labels:
    stream:
"#,
    ),
    (
        "logfmt",
        r#"
- logfmt:
    mapping:
      level:
      dur: duration
      msg:
      ts:
- logfmt:
    source: msg
    mapping:
      k:
- labels:
    level:
- structured_metadata:
    dur:
- output:
    source: msg
"#,
    ),
    (
        "regex-replace-template",
        r#"
- regex:
    expression: '^(?P<level>\w+)?\s*(?P<msg>.*)$'
- replace:
    expression: '(\d+)'
    replace: '<{{ .Value }}>'
- replace:
    expression: '(?P<ip>\d+\.\d+\.\d+\.\d+)'
    source: msg
    replace: '*{{ .ip | ToUpper }}*'
- template:
    source: level
    template: '{{ ToUpper .Value }}'
- template:
    source: combo
    template: '{{ .level }}|{{ if eq .level "ERROR" }}bad{{ else }}ok{{ end }}|{{ default "dflt" .missing }}|{{ regexReplaceAll "(\\d+)" .msg "${1}" }}|{{ Replace .msg "o" "0" -1 }}|{{ TrimSpace .msg }}'
- labels:
    level:
    combo:
"#,
    ),
    (
        "timestamp-formats",
        r#"
- regex:
    expression: '^(?P<ts>[^|]*)\|(?P<rest>.*)$'
- timestamp:
    source: ts
    format: RFC3339
    action_on_failure: skip
- timestamp:
    source: ts
    format: RFC3339Nano
- timestamp:
    source: ts
    format: Unix
- timestamp:
    source: ts
    format: UnixMs
- timestamp:
    source: ts
    format: UnixUs
- timestamp:
    source: ts
    format: UnixNs
- timestamp:
    source: ts
    format: '2006-01-02 15:04:05.000 MST'
    location: America/New_York
- timestamp:
    source: ts
    format: 'Jan _2 15:04:05'
    action_on_failure: fudge
- timestamp:
    source: ts
    format: '02/Jan/2006:15:04:05 -0700'
- timestamp:
    source: ts
    format: 'Mon, 02 Jan 2006 15:04:05.999999999 Z07:00'
    location: Europe/Paris
- timestamp:
    source: ts
    format: RFC1123Z
- timestamp:
    source: ts
    format: ANSIC
- timestamp:
    source: ts
    format: StampMicro
- drop:
    older_than: 1h
"#,
    ),
    (
        "docker",
        r#"
- docker: {}
- labels:
    stream:
"#,
    ),
    (
        "cri-decolorize",
        r#"
- cri: {}
- decolorize: {}
- multiline:
    firstline: '^\d{4}-\d{2}-\d{2}'
    max_wait_time: 1s
    max_lines: 3
"#,
    ),
    (
        "multiline-regex",
        r#"
- multiline:
    firstline: '^\S'
    max_wait_time: 3s
    max_lines: 2
- regex:
    expression: '(?s)^(?P<first>[^\n]*)\n?(?P<rest>.*)$'
- labels:
    first:
"#,
    ),
    (
        "pack-unpack",
        r#"
- regex:
    expression: '(?P<level>\w+)=(?P<value>\S+)'
- labels:
    level:
- pack:
    labels: [level, missing]
    ingest_timestamp: true
- json:
    expressions:
      _entry:
      level:
- output:
    source: _entry
"#,
    ),
    (
        "match-filters",
        r#"
- regex:
    expression: '^(?P<level>\w+)'
- labels:
    level:
- match:
    selector: '{level="debug"}'
    action: drop
    drop_counter_reason: debug
- match:
    selector: '{job="fuzz"} |= "db" != "x" |~ "a.*b|c[0-9]+" !~ "^z"'
    stages:
    - logfmt:
        mapping:
          db:
    - labels:
        db:
- match:
    selector: '{job=~"f.*", level!="info"}'
    pipeline_name: nested
    stages:
    - json:
        expressions:
          k: k
    - output:
        source: k
"#,
    ),
    (
        "drop-conditions",
        r#"
- logfmt:
    mapping:
      level:
      app:
- drop:
    source: level
    value: debug
- drop:
    source: app
    expression: '^(test|tmp)'
- drop:
    expression: 'secret'
- drop:
    longer_than: 200
- drop:
    older_than: 24h
    drop_counter_reason: too_old
"#,
    ),
    (
        "labels-and-friends",
        r#"
- regex:
    expression: '(?P<a>\w+)=(?P<b>[^ ]*) ?(?P<c>.*)'
- labels:
    a:
    bee: b
    c:
    __tenant_id__: a
- static_labels:
    team: core
- labeldrop: [c]
- labelallow: [a, bee, job, team]
- tenant:
    value: fixed
- limit:
    rate: 5
    burst: 2
    drop: true
    by_label_name: a
"#,
    ),
    (
        "metrics",
        r#"
- regex:
    expression: '^(?P<level>\w+) (?P<value>\S+)?'
- metrics:
    lines_total:
      type: Counter
      description: lines
      config:
        match_all: true
        count_entry_bytes: true
        action: add
    value_total:
      type: Counter
      description: values
      source: value
      config:
        action: add
    value_gauge:
      type: Gauge
      description: gauge
      source: value
      config:
        action: set
    value_inc:
      type: Gauge
      description: gauge
      source: level
      config:
        value: error
        action: inc
    value_hist:
      type: Histogram
      description: hist
      source: value
      config:
        buckets: [0.001, 1, 10, 1000]
"#,
    ),
];

/// One pipeline under test: where it came from and its stages.
#[derive(Debug, Clone)]
pub struct PipelineCase {
    /// `own/<name>`, `golden/<case>` or `reference`.
    pub name: String,
    /// The stages, as the config's parser read them.
    pub stages: Vec<StageConfig>,
}

/// Every pipeline to fuzz: ours, then those of the reference config and
/// of each golden case found in the shared directory (read there, never
/// copied; a libFuzzer run without it fuzzes ours only).
pub fn pipeline_cases() -> Vec<PipelineCase> {
    let mut cases: Vec<PipelineCase> = OWN_PIPELINES
        .iter()
        .map(|(name, yaml)| PipelineCase {
            name: format!("own/{name}"),
            stages: yaml_serde::from_str(yaml)
                .unwrap_or_else(|e| panic!("own pipeline {name} does not parse: {e}")),
        })
        .collect();
    for (name, text) in config_texts(&testkit::shared_dir()) {
        let Ok(config) = Config::parse(&text, &name) else {
            continue;
        };
        for job in config.scrape_configs {
            if !job.pipeline_stages.is_empty() {
                cases.push(PipelineCase {
                    name: format!("{name}/{}", job.job_name),
                    stages: job.pipeline_stages,
                });
            }
        }
    }
    cases
}

/// The reference promtail-config.yaml and every golden case's config, by
/// name, sorted.
pub fn config_texts(shared: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let reference = shared.join("reference/config/promtail-config.yaml");
    if let Ok(text) = std::fs::read_to_string(reference) {
        out.push(("reference".to_owned(), text));
    }
    for suite in ["promtail-pipelines", "promtail-files"] {
        let Ok(entries) = std::fs::read_dir(shared.join("conformance/golden").join(suite)) else {
            continue;
        };
        let mut found: Vec<(String, String)> = entries
            .flatten()
            .filter_map(|e| {
                let text = std::fs::read_to_string(e.path().join("config.yaml")).ok()?;
                Some((format!("golden/{}", e.file_name().to_string_lossy()), text))
            })
            .collect();
        found.sort();
        out.extend(found);
    }
    out
}

/// The golden cases' input logs, for seeding line mutations.
pub fn golden_inputs(shared: &Path) -> Vec<Vec<u8>> {
    let Ok(entries) = std::fs::read_dir(shared.join("conformance/golden/promtail-pipelines"))
    else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path().join("input.log"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .filter_map(|p| std::fs::read(p).ok())
        .collect()
}

/// Builds `stages` for job `fuzz` with a registry of its own; with
/// `inspect`, every stage's changes are rendered as `--inspect` does.
/// Stages this version does not build yet (and `match` stages holding
/// one) are left out, so the pipeline grows as they land; any other error
/// is a bug in a config that Promtail accepts.
pub fn build_pipeline(stages: &[StageConfig], inspect: bool) -> Pipeline {
    let ctx = StageContext::new("fuzz", Arc::new(Registry::new()))
        .unwrap_or_else(|e| panic!("context: {e}"));
    let built = stages
        .iter()
        .filter_map(|cfg| match build_stage(cfg, &ctx) {
            Ok(stage) => Some(stage),
            Err(PipelineError::NotBuilt(_)) => None,
            Err(e) => panic!("stage {} does not build: {e}", cfg.name()),
        })
        .collect();
    let pipeline = Pipeline::from_stages(built);
    if inspect {
        // The report is made before the sink is called; dropping it is enough.
        pipeline.inspect_with(Box::new(|_| {}))
    } else {
        pipeline
    }
}

/// Whether every stage of `stages` is built by this version.
pub fn fully_built(stages: &[StageConfig]) -> bool {
    let ctx = StageContext::new("fuzz", Arc::new(Registry::new()))
        .unwrap_or_else(|e| panic!("context: {e}"));
    stages
        .iter()
        .all(|cfg| !matches!(build_stage(cfg, &ctx), Err(PipelineError::NotBuilt(_))))
}

/// Reads 8 bytes (fewer are zero-padded) as a little-endian i64.
fn take_i64(data: &mut &[u8]) -> i64 {
    let mut buf = [0u8; 8];
    let n = data.len().min(8);
    buf[..n].copy_from_slice(&data[..n]);
    *data = &data[n..];
    i64::from_le_bytes(buf)
}

/// Pushes `data` through `pipeline` as the tailer would: the first 8
/// bytes are the first entry's time and the next 8 the step between
/// entries (both arbitrary, extremes included); the rest is split into
/// lines at `\n`, each decoded lossily to UTF-8. Then time passes
/// (`tick`), and shutdown releases what is held (`drain`). Every entry
/// that comes out is rendered as `-dry-run` prints it.
pub fn run_pipeline(pipeline: &mut Pipeline, mut data: &[u8]) -> usize {
    let start = take_i64(&mut data);
    let step = take_i64(&mut data);
    let mut out = Vec::new();
    let mut ts = start;
    for raw in data.split(|&b| b == b'\n') {
        let line = String::from_utf8_lossy(raw);
        let entry = Entry {
            labels: LabelSet::from([
                ("job".to_owned(), "fuzz".to_owned()),
                ("filename".to_owned(), "/var/log/fuzz.log".to_owned()),
            ]),
            ts_ns: ts,
            line: line.trim_end_matches('\r').to_owned(),
            ..Entry::default()
        };
        // The read time: the entry's time, as for `promtail -stdin`.
        pipeline.process(entry, ts, &mut out);
        ts = ts.wrapping_add(step);
    }
    pipeline.tick(ts, &mut out);
    pipeline.tick(ts.saturating_add(3_600_000_000_000), &mut out);
    pipeline.drain(&mut out);
    for entry in &out {
        let _ = dry_run_line(entry);
    }
    out.len()
}

/// What [`run_positions`] saw, for tests to count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PositionsOutcome {
    /// The files loaded (and saved and loaded again to the same text).
    Loaded,
    /// The YAML was refused with [`PositionsError::Invalid`].
    Refused,
}

/// Loads arbitrary positions files from `dir`: the first byte picks what
/// is arbitrary (even: the YAML file; odd: the `.vigil` side file beside
/// a fixed YAML file naming the paths the side file's seeds use), the rest
/// is its content. A YAML Promtail would refuse must be refused with
/// [`PositionsError::Invalid`], and what loads must save and load again
/// to the same text (the writer's quoting must read back).
pub fn run_positions(dir: &Path, data: &[u8]) -> PositionsOutcome {
    let Some((&pick, body)) = data.split_first() else {
        return PositionsOutcome::Loaded;
    };
    let yaml = dir.join("positions.yaml");
    let side = agent::tail::positions::side_path(&yaml);
    let _ = std::fs::remove_file(&side);
    if pick % 2 == 0 {
        write(&yaml, body);
    } else {
        write(
            &yaml,
            b"positions:\n  /var/log/a.log: \"520\"\n  /var/log/b.log: \"7\"\n",
        );
        write(&side, body);
    }
    let open = || Positions::open(PositionsConfig::new(&yaml));
    let positions = match open() {
        Ok(p) => p,
        Err(PositionsError::Invalid { .. }) => return PositionsOutcome::Refused,
        Err(e) => panic!("an unreadable file is not a read error: {e}"),
    };
    for path in ["/var/log/a.log", "/var/log/b.log", ""] {
        let _ = positions.get(path);
        let _ = positions.get_string(path);
    }
    positions
        .save()
        .unwrap_or_else(|e| panic!("saving loaded positions: {e}"));
    let first = std::fs::read(&yaml).unwrap_or_default();
    let again = open().unwrap_or_else(|e| {
        panic!(
            "positions saved as {:?} do not load again: {e}",
            String::from_utf8_lossy(&first)
        )
    });
    again
        .save()
        .unwrap_or_else(|e| panic!("saving reloaded positions: {e}"));
    let second = std::fs::read(&yaml).unwrap_or_default();
    assert_eq!(
        String::from_utf8_lossy(&first),
        String::from_utf8_lossy(&second),
        "positions change when saved and loaded again"
    );
    PositionsOutcome::Loaded
}

fn write(path: &Path, bytes: &[u8]) {
    std::fs::write(path, bytes).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
}

/// Parses arbitrary promtail-config.yaml text (lossily decoded) as the
/// agent's start does: `${VAR}` expansion, parsing, validation, the
/// `__path__` globs compiled, and the pipelines of every job built and
/// given a few lines. Errors must be
/// [`ConfigError::Invalid`] with a location inside the text.
pub fn run_config(data: &[u8]) -> Result<(), ConfigError> {
    let text = String::from_utf8_lossy(data);
    let lookup = |name: &str| (name.len() % 2 == 0).then(|| format!("v-{name}"));
    match expand_env_with(&text, "fuzz.yaml", lookup) {
        Ok(expanded) => drop(expanded),
        Err(e) => check_invalid(&text, &e),
    }
    let config = Config::parse(&text, "fuzz.yaml").inspect_err(|e| check_invalid(&text, e))?;
    let _ = config.validate(false).map(|()| config.validate(true));
    let _ = config.not_applicable();
    let _ = config.not_supported();
    let _ = config.stdin_job("fuzz-host");
    // A `limit` stage that waits would sleep for as long as its rate says.
    let may_sleep = text.contains("limit");
    for job in &config.scrape_configs {
        // The globs are compiled only: matching them walks the disk.
        for target in &job.static_configs {
            for glob in [target.path(), target.path_exclude()].into_iter().flatten() {
                let _ = PathGlob::new(glob);
            }
        }
        let ctx = StageContext::new(&job.job_name, Arc::new(Registry::new()))
            .unwrap_or_else(|e| panic!("context: {e}"));
        let Ok(mut pipeline) = Pipeline::new(&job.pipeline_stages, &ctx) else {
            continue;
        };
        if !may_sleep {
            run_pipeline(&mut pipeline, b"\0\0\0\0\0\0\0\0\x01\0\0\0\0\0\0\0level=info a=1 {\"k\":\"v\"}\n2024-01-02T03:04:05Z stdout F x\nplain");
        }
    }
    Ok(())
}

fn check_invalid(text: &str, e: &ConfigError) {
    let _ = e.to_string();
    match e {
        ConfigError::Invalid(error) => {
            if let Some(agent::config::Location { line, column }) = error.location {
                let lines = text.split('\n').count();
                assert!(
                    line >= 1 && line <= lines.max(1) && column >= 1,
                    "error {e} points outside the text ({lines} lines)"
                );
            }
        }
        other => panic!("a bad config text is not an invalid-config error: {other:?}"),
    }
}

/// Parses arbitrary `-client.external-labels` text (lossily decoded):
/// an error is a [`ConfigError::Flag`], a success holds only valid label
/// names.
pub fn run_external_labels(data: &[u8]) -> Result<LabelSet, ConfigError> {
    let text = String::from_utf8_lossy(data);
    match parse_external_labels(&text) {
        Ok(labels) => {
            for name in labels.keys() {
                assert!(
                    model::is_valid_label_name(name),
                    "{text:?} gave invalid name {name:?}"
                );
            }
            Ok(labels)
        }
        Err(e @ ConfigError::Flag { .. }) => {
            let _ = e.to_string();
            Err(e)
        }
        Err(other) => panic!("a bad flag is not a flag error: {other:?}"),
    }
}
