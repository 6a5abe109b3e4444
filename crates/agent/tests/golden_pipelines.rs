//! Replays the recorded Promtail 2.8 pipeline cases
//! (`shared/conformance/golden/promtail-pipelines/`): each case's config and
//! input go through our pipeline as `promtail -stdin` would feed them, and
//! the entries must equal what the real Promtail pushed (labels, times,
//! lines, tenant) and print as its `-dry-run` printed them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use agent::entry::{Entry, LabelSet, TENANT_LABEL};
use agent::pipeline::{Pipeline, PipelineError, StageConfig, StageContext, dry_run_line};
use serde::Deserialize;

/// Cases expected to fail, with why. A listed case that passes is
/// reported, so the list can shrink.
const KNOWN_FAILURES: &[(&str, &str)] = &[(
    "case17-timestamp-unix",
    "a Unix time in ms read as seconds is year 55552, past what an i64 of ns holds: \
         vigil treats it as a parse failure, Promtail keeps it and its client then drops \
         the whole batch",
)];

/// The part of promtail-config.yaml that stdin mode uses.
#[derive(Deserialize)]
struct Config {
    scrape_configs: Vec<ScrapeConfig>,
}

#[derive(Deserialize)]
struct ScrapeConfig {
    job_name: String,
    #[serde(default)]
    static_configs: Vec<StaticConfig>,
    #[serde(default)]
    pipeline_stages: Vec<StageConfig>,
}

#[derive(Deserialize)]
struct StaticConfig {
    #[serde(default)]
    labels: BTreeMap<String, String>,
}

/// One line of output.jsonl.
#[derive(Deserialize)]
struct Expected {
    labels: BTreeMap<String, String>,
    ts_ns: String,
    line: String,
    #[serde(default)]
    tenant: Option<String>,
    #[serde(default)]
    ts_volatile: bool,
}

/// An entry as compared: labels, time (None: the read time), line, tenant.
type Key = (Vec<(String, String)>, Option<i64>, String, Option<String>);

fn cases_dir() -> PathBuf {
    testkit::shared_dir().join("conformance/golden/promtail-pipelines")
}

/// The read-time window `A .. B` noted in notes.txt.
fn run_window(notes: &str) -> Result<(i64, i64), String> {
    let rest = notes
        .split("Run window (read-time range): ")
        .nth(1)
        .ok_or("notes.txt has no run window")?;
    let mut parts = rest.split_whitespace();
    let start = parts
        .next()
        .and_then(|s| s.parse().ok())
        .ok_or("bad window start")?;
    let _dots = parts.next();
    let end = parts
        .next()
        .and_then(|s| s.parse().ok())
        .ok_or("bad window end")?;
    Ok((start, end))
}

/// What the run of one case produced.
struct Run {
    entries: Vec<Entry>,
    /// Every read time given to a line (distinct values inside the run
    /// window): an entry whose time is one of them kept its read time.
    read_times: BTreeSet<i64>,
    dry_run: Vec<String>,
}

/// Feeds `input` line by line as stdin mode does: `\r\n` trimmed, empty
/// lines skipped, each line read at its own time inside the window.
fn run_case(
    stages: &[StageConfig],
    job: &str,
    labels: &LabelSet,
    input: &str,
    window: (i64, i64),
) -> Result<Run, PipelineError> {
    let ctx = StageContext::new(job, Arc::new(instrument::Registry::new()))?;
    let mut pipeline = Pipeline::new(stages, &ctx)?;
    let mut entries = Vec::new();
    let mut read_times = BTreeSet::new();
    let mut now = window.0 + 1_000_000;
    for raw in input.split('\n') {
        let line = raw.trim_end_matches(['\r', '\n']);
        if line.is_empty() {
            continue;
        }
        now += 1_000;
        let entry = Entry {
            labels: labels.clone(),
            ts_ns: now,
            line: line.to_owned(),
            ..Entry::default()
        };
        read_times.insert(now);
        pipeline.process(entry, now, &mut entries);
    }
    // Promtail held stdin open 2.5 s: timers fire, then the rest drains.
    let later = now + 2_500_000_000;
    pipeline.tick(later, &mut entries);
    pipeline.drain(&mut entries);
    let dry_run = entries.iter().map(dry_run_line).collect();
    Ok(Run {
        entries,
        read_times,
        dry_run,
    })
}

/// What the client pushes: `__tenant_id__` becomes the tenant.
fn key_of(e: &Entry, read_times: &BTreeSet<i64>) -> Key {
    let mut labels = e.labels.clone();
    let tenant = labels.remove(TENANT_LABEL);
    let ts = (!read_times.contains(&e.ts_ns)).then_some(e.ts_ns);
    (labels.into_iter().collect(), ts, e.line.clone(), tenant)
}

fn expected_key(x: &Expected) -> Result<Key, String> {
    let ts = if x.ts_volatile {
        None
    } else {
        Some(
            x.ts_ns
                .parse::<i64>()
                .map_err(|e| format!("ts_ns {:?}: {e}", x.ts_ns))?,
        )
    };
    Ok((
        x.labels.clone().into_iter().collect(),
        ts,
        x.line.clone(),
        x.tenant.clone(),
    ))
}

/// A dry-run line with a read time (any time on the capture day between
/// 15:30 and 15:40 UTC, when the corpus was recorded) replaced by a marker,
/// so runs at different times compare.
fn normalise_dry_run(line: &str, ours: bool, read_times: &[String]) -> String {
    let Some((ts, rest)) = line.split_once(['\t', '{']) else {
        return line.to_owned();
    };
    let volatile = if ours {
        read_times.iter().any(|t| t == ts)
    } else {
        ts.starts_with("2026-11-24T15:3")
    };
    if !volatile {
        return line.to_owned();
    }
    // Keep what follows the time's cell and padding.
    let sep = &line[ts.len()..ts.len() + 1];
    let rest = if sep == "{" {
        format!("{{{rest}")
    } else {
        rest.to_owned()
    };
    format!("<read time>{}", rest.trim_start_matches('\t'))
}

/// Checks one case; Err says what differs.
fn check_case(dir: &Path) -> Result<(), String> {
    let read =
        |name: &str| std::fs::read_to_string(dir.join(name)).map_err(|e| format!("{name}: {e}"));
    let notes = read("notes.txt")?;
    let window = run_window(&notes)?;
    let expected: Vec<Expected> = read("output.jsonl")?
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).map_err(|e| format!("output.jsonl: {e}")))
        .collect::<Result<_, _>>()?;
    let expect_config_error = notes.contains("error creating promtail");

    let config: Config = match yaml_serde::from_str(&read("config.yaml")?) {
        Ok(c) => c,
        Err(e) if expect_config_error && expected.is_empty() => {
            eprintln!("  {}: config error as expected: {e}", dir.display());
            return Ok(());
        }
        Err(e) => return Err(format!("config.yaml: {e}")),
    };
    let scrape = config.scrape_configs.first().ok_or("no scrape config")?;
    let labels: LabelSet = scrape
        .static_configs
        .first()
        .map(|s| s.labels.clone().into_iter().collect())
        .unwrap_or_default();
    let run = match run_case(
        &scrape.pipeline_stages,
        &scrape.job_name,
        &labels,
        &read("input.log")?,
        window,
    ) {
        Ok(run) => run,
        Err(PipelineError::NotBuilt(stage)) => {
            return Err(format!("the {stage} stage is not built"));
        }
        Err(e) if expect_config_error && expected.is_empty() => {
            eprintln!("  {}: config error as expected: {e}", dir.display());
            return Ok(());
        }
        Err(e) => return Err(format!("pipeline: {e}")),
    };
    if expect_config_error {
        return Err("Promtail refused this config; we accepted it".into());
    }

    let mut got: Vec<Key> = run
        .entries
        .iter()
        .map(|e| key_of(e, &run.read_times))
        .collect();
    let mut want: Vec<Key> = expected
        .iter()
        .map(expected_key)
        .collect::<Result<_, _>>()?;
    got.sort();
    want.sort();
    if got != want {
        return Err(format!(
            "entries differ\n    got:  {got:?}\n    want: {want:?}"
        ));
    }

    let dry = read("dryrun.txt")?;
    if !dry.trim().is_empty() {
        let read_ts: Vec<String> = run
            .read_times
            .iter()
            .map(|t| agent::pipeline::format_time(*t))
            .collect();
        let mut got: Vec<String> = run
            .dry_run
            .iter()
            .flat_map(|l| l.lines().map(str::to_owned).collect::<Vec<_>>())
            .map(|l| normalise_dry_run(&l, true, &read_ts))
            .collect();
        let mut want: Vec<String> = dry
            .lines()
            .map(|l| normalise_dry_run(l, false, &[]))
            .collect();
        got.sort();
        want.sort();
        if got != want {
            return Err(format!(
                "dry-run output differs\n    got:  {got:#?}\n    want: {want:#?}"
            ));
        }
    }
    Ok(())
}

#[test]
fn promtail_pipelines() {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(cases_dir())
        .expect("the golden corpus is readable")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("config.yaml").is_file())
        .collect();
    dirs.sort();
    assert!(!dirs.is_empty(), "no case under {}", cases_dir().display());
    let (mut passed, mut failed, mut unexpected) = (0, 0, Vec::new());
    for dir in &dirs {
        let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        let known = KNOWN_FAILURES.iter().find(|(n, _)| *n == name);
        match (check_case(dir), known) {
            (Ok(()), None) => passed += 1,
            (Ok(()), Some(_)) => {
                passed += 1;
                eprintln!("{name}: passes now; remove it from KNOWN_FAILURES");
            }
            (Err(e), Some((_, why))) => {
                failed += 1;
                eprintln!(
                    "{name}: known failure ({why}): {}",
                    e.lines().next().unwrap_or("")
                );
            }
            (Err(e), None) => {
                failed += 1;
                eprintln!("{name}: FAILED: {e}");
                unexpected.push(name.to_owned());
            }
        }
    }
    println!("promtail-pipelines: {passed} passed, {failed} failed");
    assert!(unexpected.is_empty(), "unexpected failures: {unexpected:?}");
}
