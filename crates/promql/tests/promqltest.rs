//! Conformance: runs Prometheus' own promqltest suite
//! (`shared/conformance/promqltest/*.test`, read at test time, never copied
//! into the repository) against the engine over an in-memory `tsdb::Head`.
//!
//! Prints `<file>: N passed, N failed, N skipped` per file and
//! `promqltest core: N passed, N failed, N skipped` in total. Evals that
//! involve native histograms (a `{{…}}` literal in the query or the
//! expectation, or a query naming a metric loaded with histogram samples)
//! are skipped. Fails on any core failure not listed with its reason in
//! `promqltest_known_failures.txt`, on listed cases that now pass, and when
//! the list reaches 1 % of core evals. Non-core files are reported only.
//! Set `PROMQLTEST_VERBOSE=1` to list the failures of non-core files too.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;

use model::Labels;
use promql::{Engine, EngineOptions, QueryError, QueryResult, Value};
use promql_parser::parser::{Expr, VectorSelector};
use tsdb::Head;

const CORE: &[&str] = &[
    "aggregators",
    "at_modifier",
    "collision",
    "functions",
    "histograms",
    "literals",
    "name_label_dropping",
    "operators",
    "range_queries",
    "selectors",
    "staleness",
    "subquery",
    "trig_functions",
];

/// A time in milliseconds: a duration (`1m30s`), or a plain number of
/// seconds, optionally negative.
fn parse_time(text: &str) -> Result<i64, String> {
    let (neg, body) = match text.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, text),
    };
    let ms = if let Ok(secs) = body.parse::<f64>() {
        (secs * 1000.0).round() as i64
    } else {
        model::duration::parse_duration(body)
            .map(|d| d.as_millis() as i64)
            .map_err(|e| format!("{text}: {e}"))?
    };
    Ok(if neg { -ms } else { ms })
}

/// Unescapes a Go double-quoted string body.
fn unquote(body: &str) -> String {
    let mut out = String::new();
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('\\') => out.push('\\'),
            Some('"') => out.push('"'),
            Some('\'') => out.push('\''),
            Some('x') => {
                // Go's \xNN is a raw byte; keep invalid UTF-8 out of labels by
                // mapping to the Latin-1 char, enough for comparisons here.
                let hex: String = chars.by_ref().take(2).collect();
                if let Ok(b) = u8::from_str_radix(&hex, 16) {
                    out.push(char::from(b));
                }
            }
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// Reads a quoted string at the start of `s` (double quotes, single quotes
/// or backticks): its value and the rest.
fn quoted(s: &str) -> Option<(String, &str)> {
    let q = s.chars().next()?;
    if !matches!(q, '"' | '\'' | '`') {
        return None;
    }
    let bytes = s.as_bytes();
    let mut i = 1;
    while i < bytes.len() {
        if bytes[i] == b'\\' && q != '`' {
            i += 2;
            continue;
        }
        if bytes[i] == q as u8 {
            let body = &s[1..i];
            let value = if q == '`' {
                body.to_owned()
            } else {
                unquote(body)
            };
            return Some((value, &s[i + 1..]));
        }
        i += 1;
    }
    None
}

/// Parses `metric{a="b"}` / `{a="b"}` / `{"metric", a="b"}`; returns the
/// labels and the rest of the line.
fn parse_series(text: &str) -> Result<(Labels, &str), String> {
    let text = text.trim_start();
    let name_len = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
        .unwrap_or(text.len());
    let mut pairs: Vec<(String, String)> = Vec::new();
    if name_len > 0 {
        pairs.push(("__name__".into(), text[..name_len].to_owned()));
    }
    let mut rest = &text[name_len..];
    if let Some(body) = rest.strip_prefix('{') {
        rest = body;
        loop {
            rest = rest.trim_start();
            if let Some(r) = rest.strip_prefix(',') {
                rest = r.trim_start();
            }
            if let Some(r) = rest.strip_prefix('}') {
                rest = r;
                break;
            }
            let (name, r) = if let Some((n, r)) = quoted(rest) {
                (n, r)
            } else {
                let n = rest
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .ok_or_else(|| format!("bad labels in {text:?}"))?;
                (rest[..n].to_owned(), &rest[n..])
            };
            let r = r.trim_start();
            let Some(r) = r.strip_prefix('=') else {
                // A quoted metric name on its own.
                pairs.push(("__name__".into(), name));
                rest = r;
                continue;
            };
            let (value, r) =
                quoted(r.trim_start()).ok_or_else(|| format!("bad label value in {text:?}"))?;
            pairs.push((name, value));
            rest = r;
        }
    }
    Ok((Labels::from_pairs(pairs), rest))
}

/// One expanded point of a series description: a value, a gap or a
/// native histogram.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Pt {
    Val(f64),
    Gap,
    Histogram,
}

fn parse_number(s: &str) -> Result<f64, String> {
    match s {
        "NaN" | "nan" => Ok(f64::NAN),
        "Inf" | "+Inf" | "inf" | "+inf" => Ok(f64::INFINITY),
        "-Inf" | "-inf" => Ok(f64::NEG_INFINITY),
        "stale" => Ok(model::staleness::stale_nan()),
        _ => s.parse::<f64>().map_err(|e| format!("{s}: {e}")),
    }
}

/// Expands the values notation: `1 2 _ stale`, `a+bxN`, `a-bxN`, `axN`,
/// `_xN`, `{{…}}` and `{{…}}xN`.
fn parse_values(text: &str) -> Result<Vec<Pt>, String> {
    let mut out = Vec::new();
    let mut rest = text.trim();
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix("{{") {
            let end = r.find("}}").ok_or("unterminated histogram")?;
            rest = &r[end + 2..];
            // `{{a}}+{{b}}xN`: a histogram series with an increment.
            if let Some(r) = rest
                .strip_prefix("+{{")
                .or_else(|| rest.strip_prefix("-{{"))
            {
                let end = r.find("}}").ok_or("unterminated histogram")?;
                rest = &r[end + 2..];
            }
            let tok_end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            let suffix = &rest[..tok_end];
            rest = rest[tok_end..].trim_start();
            let n = match suffix.strip_prefix('x') {
                Some(n) => n.parse::<usize>().map_err(|e| e.to_string())? + 1,
                None => 1,
            };
            out.extend(std::iter::repeat_n(Pt::Histogram, n));
            continue;
        }
        let tok_end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let tok = &rest[..tok_end];
        rest = rest[tok_end..].trim_start();
        expand(tok, &mut out)?;
    }
    Ok(out)
}

fn expand(tok: &str, out: &mut Vec<Pt>) -> Result<(), String> {
    if tok == "_" {
        out.push(Pt::Gap);
        return Ok(());
    }
    let Some(xpos) = tok
        .rfind('x')
        .filter(|&i| i > 0 && tok[i + 1..].chars().all(|c| c.is_ascii_digit()))
    else {
        out.push(Pt::Val(parse_number(tok)?));
        return Ok(());
    };
    let times: usize = tok[xpos + 1..].parse().map_err(|e| format!("{tok}: {e}"))?;
    let head = &tok[..xpos];
    if head == "_" {
        out.extend(std::iter::repeat_n(Pt::Gap, times));
        return Ok(());
    }
    // Find the operator of `a+b` / `a-b`: a sign not at the start and not
    // part of an exponent.
    let bytes = head.as_bytes();
    let op = (1..bytes.len())
        .rev()
        .find(|&i| (bytes[i] == b'+' || bytes[i] == b'-') && !matches!(bytes[i - 1], b'e' | b'E'));
    let (start, delta) = match op {
        Some(i) => {
            let d = parse_number(&head[i + 1..])?;
            (
                parse_number(&head[..i])?,
                if bytes[i] == b'-' { -d } else { d },
            )
        }
        None => (parse_number(head)?, 0.0),
    };
    let stale = model::staleness::is_stale_nan(start);
    for k in 0..=times {
        if stale {
            out.push(Pt::Val(start));
        } else {
            out.push(Pt::Val(start + delta * k as f64));
        }
    }
    Ok(())
}

#[derive(Debug, Default)]
struct Expect {
    fail: bool,
    fail_msg: Option<String>,
    fail_regex: Option<String>,
    warn: Option<Option<AnnotationMatch>>,
    info: Option<Option<AnnotationMatch>>,
    no_warn: bool,
    no_info: bool,
    ordered: bool,
    string: Option<String>,
    range_vector: Option<(i64, i64, i64)>,
    /// Expected series (labels, points); a bare scalar has `None` labels.
    series: Vec<(Option<Labels>, Vec<Pt>)>,
}

#[derive(Debug)]
enum AnnotationMatch {
    Msg(String),
    Regex(String),
}

#[derive(Debug)]
struct Eval {
    query: String,
    instant: Option<i64>,
    range: Option<(i64, i64, i64)>,
    expect: Expect,
    raw: String,
}

fn almost_equal(a: f64, b: f64) -> bool {
    const EPSILON: f64 = 1e-6;
    const MIN_NORMAL: f64 = f64::MIN_POSITIVE;
    if a.is_nan() && b.is_nan() {
        return true;
    }
    if a == b {
        return true;
    }
    let abs_sum = a.abs() + b.abs();
    let diff = (a - b).abs();
    if a == 0.0 || b == 0.0 || abs_sum < MIN_NORMAL {
        return diff < EPSILON * MIN_NORMAL;
    }
    diff / abs_sum.min(f64::MAX) < EPSILON
}

fn check_annotations(e: &Expect, r: &promql::Annotations) -> Result<(), String> {
    let check = |want: &Option<Option<AnnotationMatch>>, got: &[String], what: &str| match want {
        None => Ok(()),
        Some(None) if got.is_empty() => Err(format!("expected {what}, got none")),
        Some(None) => Ok(()),
        Some(Some(AnnotationMatch::Msg(m))) => {
            if got.iter().any(|g| g == m) {
                Ok(())
            } else {
                Err(format!("expected {what} {m:?}, got {got:?}"))
            }
        }
        Some(Some(AnnotationMatch::Regex(re))) => {
            let re = regex::Regex::new(re).map_err(|e| e.to_string())?;
            if got.iter().any(|g| re.is_match(g)) {
                Ok(())
            } else {
                Err(format!("expected {what} matching {re}, got {got:?}"))
            }
        }
    };
    check(&e.warn, &r.warnings, "warning")?;
    check(&e.info, &r.infos, "info")?;
    if e.no_warn && !r.warnings.is_empty() {
        return Err(format!("expected no warnings, got {:?}", r.warnings));
    }
    if e.no_info && !r.infos.is_empty() {
        return Err(format!("expected no infos, got {:?}", r.infos));
    }
    Ok(())
}

/// Compares a list of (labels, points at times) against expectations whose
/// points are at `times`.
fn compare_series(
    got: &[(Labels, Vec<(i64, f64)>)],
    want: &[(Option<Labels>, Vec<Pt>)],
    times: impl Fn(usize) -> i64,
) -> Result<(), String> {
    let mut wanted: HashMap<&Labels, Vec<(i64, f64)>> = HashMap::new();
    for (labels, pts) in want {
        let Some(labels) = labels else {
            return Err("expected series, got a bare value".into());
        };
        let expanded: Vec<(i64, f64)> = pts
            .iter()
            .enumerate()
            .filter_map(|(i, p)| match p {
                Pt::Val(v) => Some((times(i), *v)),
                _ => None,
            })
            .collect();
        wanted.insert(labels, expanded);
    }
    let got: Vec<&(Labels, Vec<(i64, f64)>)> = got.iter().filter(|(_, p)| !p.is_empty()).collect();
    let wanted_nonempty = wanted.values().filter(|p| !p.is_empty()).count();
    if got.len() != wanted_nonempty {
        return Err(format!(
            "expected {} series, got {}: {:?}",
            wanted_nonempty,
            got.len(),
            got.iter().map(|g| g.0.to_string()).collect::<Vec<_>>()
        ));
    }
    for (labels, points) in got {
        let Some(want) = wanted.get(labels) else {
            return Err(format!("unexpected series {labels}"));
        };
        let same = want.len() == points.len()
            && want
                .iter()
                .zip(points)
                .all(|(a, b)| a.0 == b.0 && almost_equal(a.1, b.1));
        if !same {
            return Err(format!(
                "series {labels}: expected {want:?}, got {points:?}"
            ));
        }
    }
    Ok(())
}

fn check_result(e: &Eval, result: Result<QueryResult<Value>, QueryError>) -> Result<(), String> {
    let x = &e.expect;
    let r = match result {
        Err(err) => {
            if !x.fail {
                return Err(format!("unexpected error: {err}"));
            }
            let msg = err.to_string();
            if let Some(m) = &x.fail_msg {
                if &msg != m {
                    return Err(format!("expected error {m:?}, got {msg:?}"));
                }
            }
            if let Some(re) = &x.fail_regex {
                let re = regex::Regex::new(re).map_err(|e| e.to_string())?;
                if !re.is_match(&msg) {
                    return Err(format!("expected error matching {re}, got {msg:?}"));
                }
            }
            return Ok(());
        }
        Ok(r) => r,
    };
    if x.fail {
        return Err(format!("expected an error, got {:?}", r.value));
    }
    check_annotations(x, &r.annotations)?;
    match &r.value {
        Value::String(s) => match &x.string {
            Some(want) if want == s => Ok(()),
            want => Err(format!("expected {want:?}, got string {s:?}")),
        },
        Value::Scalar(v) => match x.series.as_slice() {
            [(None, pts)] if matches!(pts.as_slice(), [Pt::Val(w)] if almost_equal(*w, *v)) => {
                Ok(())
            }
            _ => Err(format!("expected {:?}, got scalar {v}", x.series)),
        },
        Value::Vector(v) => {
            if x.range_vector.is_some() || x.string.is_some() {
                return Err("expected another type, got a vector".into());
            }
            if x.series.iter().any(|(l, _)| l.is_none()) {
                return Err(format!("expected a scalar, got vector {v:?}"));
            }
            if x.series.len() != v.len() {
                return Err(format!(
                    "expected {} samples, got {}: {:?}",
                    x.series.len(),
                    v.len(),
                    v.iter()
                        .map(|s| format!("{} {}", s.labels, s.value))
                        .collect::<Vec<_>>()
                ));
            }
            for (i, (labels, pts)) in x.series.iter().enumerate() {
                let Some(labels) = labels else { continue };
                let Some(Pt::Val(want)) = pts.first() else {
                    return Err("expected a value".into());
                };
                let found = if x.ordered {
                    v.get(i).filter(|s| &s.labels == labels)
                } else {
                    v.iter().find(|s| &s.labels == labels)
                };
                match found {
                    Some(s) if almost_equal(s.value, *want) => {}
                    Some(s) => {
                        return Err(format!("{labels}: expected {want}, got {}", s.value));
                    }
                    None => return Err(format!("missing {labels} (ordered: {})", x.ordered)),
                }
            }
            Ok(())
        }
        Value::Matrix(m) => {
            let Some((from, _to, step)) = x.range_vector else {
                return Err("got a range vector, expected none".into());
            };
            let got: Vec<(Labels, Vec<(i64, f64)>)> = m
                .iter()
                .map(|s| {
                    (
                        s.labels.clone(),
                        s.points.iter().map(|p| (p.t, p.v)).collect(),
                    )
                })
                .collect();
            compare_series(&got, &x.series, |i| from + i as i64 * step)
        }
    }
}

fn check_range(
    e: &Eval,
    result: Result<QueryResult<promql::Matrix>, QueryError>,
    start: i64,
    step: i64,
) -> Result<(), String> {
    let x = &e.expect;
    let r = match result {
        Err(err) => {
            if !x.fail {
                return Err(format!("unexpected error: {err}"));
            }
            if let Some(m) = &x.fail_msg {
                if &err.to_string() != m {
                    return Err(format!("expected error {m:?}, got {err}"));
                }
            }
            if let Some(re) = &x.fail_regex {
                let re = regex::Regex::new(re).map_err(|e| e.to_string())?;
                if !re.is_match(&err.to_string()) {
                    return Err(format!("expected error matching {re}, got {err}"));
                }
            }
            return Ok(());
        }
        Ok(r) => r,
    };
    if x.fail {
        return Err("expected an error".into());
    }
    check_annotations(x, &r.annotations)?;
    let got: Vec<(Labels, Vec<(i64, f64)>)> = r
        .value
        .iter()
        .map(|s| {
            (
                s.labels.clone(),
                s.points.iter().map(|p| (p.t, p.v)).collect(),
            )
        })
        .collect();
    // A bare scalar expectation for a range query means the `{}` series.
    let want: Vec<(Option<Labels>, Vec<Pt>)> = x
        .series
        .iter()
        .map(|(l, p)| (Some(l.clone().unwrap_or_default()), p.clone()))
        .collect();
    compare_series(&got, &want, |i| start + i as i64 * step)
}

/// The engine as upstream's runner configures it for every file alike:
/// promqltest's `NewTestEngine` turns delayed name removal on, and
/// `TestEvaluations` runs all of `testdata/*.test` (`name_label_dropping`
/// included) through that one engine. The files expect names that
/// `label_replace` reads after a function has dropped them.
fn test_engine_options() -> EngineOptions {
    EngineOptions {
        delayed_name_removal: true,
        ..EngineOptions::default()
    }
}

#[derive(Default)]
struct Tally {
    passed: usize,
    failed: usize,
    skipped: usize,
    known: usize,
}

/// Runs one file; returns its tally and the failures as `file:line: reason`.
fn run_file(
    name: &str,
    text: &str,
    known: &HashSet<String>,
    seen: &mut HashSet<String>,
) -> (Tally, Vec<String>) {
    let engine = Engine::new(test_engine_options());
    let mut head = Head::new();
    let mut hist_series: Vec<Labels> = Vec::new();
    let mut tally = Tally::default();
    let mut failures = Vec::new();
    let lines: Vec<&str> = text.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i].trim_end();
        let trimmed = line.trim();
        i += 1;
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        if trimmed == "clear" {
            head = Head::new();
            hist_series.clear();
            continue;
        }
        // The indented block that follows a command.
        let block_start = i;
        while i < lines.len() {
            let l = lines[i];
            if l.trim().is_empty() || !(l.starts_with(' ') || l.starts_with('\t')) {
                break;
            }
            i += 1;
        }
        let block: Vec<&str> = lines[block_start..i]
            .iter()
            .map(|l| l.trim())
            .filter(|l| !l.starts_with('#'))
            .collect();
        let nhcb = trimmed.starts_with("load_with_nhcb ");
        if let Some(rest) = trimmed
            .strip_prefix("load_with_nhcb ")
            .or_else(|| trimmed.strip_prefix("load "))
        {
            let interval = match parse_time(rest.trim()) {
                Ok(v) => v,
                Err(e) => {
                    failures.push(format!("{name}:{block_start}: bad load: {e}"));
                    continue;
                }
            };
            // A later line for the same series and time wins, as in
            // Prometheus' test storage.
            let mut samples: BTreeMap<Labels, BTreeMap<i64, f64>> = BTreeMap::new();
            for l in block {
                let parsed = parse_series(l)
                    .and_then(|(labels, rest)| parse_values(rest).map(|values| (labels, values)));
                let Ok((labels, values)) = parsed else {
                    failures.push(format!("{name}:{block_start}: bad series line {l:?}"));
                    continue;
                };
                if nhcb {
                    if let Some(base) = labels
                        .get("__name__")
                        .and_then(|n| n.strip_suffix("_bucket"))
                    {
                        let mut native = labels.clone();
                        native.set("__name__", base);
                        native.remove("le");
                        hist_series.push(native);
                    }
                }
                for (k, p) in values.iter().enumerate() {
                    match p {
                        Pt::Val(v) => {
                            samples
                                .entry(labels.clone())
                                .or_default()
                                .insert(k as i64 * interval, *v);
                        }
                        Pt::Histogram => {
                            if !hist_series.contains(&labels) {
                                hist_series.push(labels.clone());
                            }
                        }
                        Pt::Gap => {}
                    }
                }
            }
            for (labels, points) in samples {
                for (t, v) in points {
                    if let Err(e) = head.append(&labels, t, v) {
                        failures.push(format!("{name}:{block_start}: cannot load {labels}: {e}"));
                    }
                }
            }
            continue;
        }
        let (mut fail, mut warn, mut info, mut ordered) = (false, false, false, false);
        let cmd = if let Some(r) = trimmed.strip_prefix("eval_fail ") {
            fail = true;
            r
        } else if let Some(r) = trimmed.strip_prefix("eval_warn ") {
            warn = true;
            r
        } else if let Some(r) = trimmed.strip_prefix("eval_info ") {
            info = true;
            r
        } else if let Some(r) = trimmed.strip_prefix("eval_ordered ") {
            ordered = true;
            r
        } else if let Some(r) = trimmed.strip_prefix("eval ") {
            r
        } else {
            failures.push(format!("{name}:{block_start}: unknown command {trimmed:?}"));
            continue;
        };
        let id = format!("{name}:{block_start}");
        seen.insert(id.clone());
        let mut eval = match parse_eval(cmd, &block) {
            Ok(e) => e,
            Err(e) => {
                tally.failed += 1;
                failures.push(format!("{id}: cannot parse eval: {e}"));
                continue;
            }
        };
        eval.expect.fail |= fail;
        if warn {
            eval.expect.warn.get_or_insert(None);
        }
        if info {
            eval.expect.info.get_or_insert(None);
        }
        eval.expect.ordered |= ordered;
        let involves_histograms = eval.raw.contains("{{") || selects_any(&eval.query, &hist_series);
        if involves_histograms {
            tally.skipped += 1;
            continue;
        }
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            if let Some(t) = eval.instant {
                check_result(&eval, engine.instant(&head, &eval.query, t))
            } else if let Some((start, end, step)) = eval.range {
                check_range(
                    &eval,
                    engine.range(&head, &eval.query, start, end, step),
                    start,
                    step,
                )
            } else {
                Err("no time".into())
            }
        }))
        .unwrap_or_else(|_| Err("panicked".into()));
        match outcome {
            Ok(()) => {
                if known.contains(&id) {
                    failures.push(format!("{id}: listed as a known failure but passes"));
                    tally.failed += 1;
                } else {
                    tally.passed += 1;
                }
            }
            Err(e) => {
                if known.contains(&id) {
                    tally.known += 1;
                } else {
                    tally.failed += 1;
                    failures.push(format!("{id}: {} => {e}", eval.query));
                }
            }
        }
    }
    (tally, failures)
}

/// Whether any selector of `query` selects one of `series`.
fn selects_any(query: &str, series: &[Labels]) -> bool {
    if series.is_empty() {
        return false;
    }
    let Ok(expr) = promql::parse(query) else {
        return false;
    };
    let mut selectors = Vec::new();
    collect_selectors(&expr, &mut selectors);
    selectors
        .iter()
        .any(|vs| series.iter().any(|s| selector_matches(vs, s)))
}

fn collect_selectors<'a>(expr: &'a Expr, out: &mut Vec<&'a VectorSelector>) {
    match expr {
        Expr::VectorSelector(vs) => out.push(vs),
        Expr::MatrixSelector(ms) => out.push(&ms.vs),
        Expr::Subquery(sq) => collect_selectors(&sq.expr, out),
        Expr::Aggregate(a) => {
            collect_selectors(&a.expr, out);
            if let Some(p) = &a.param {
                collect_selectors(p, out);
            }
        }
        Expr::Unary(u) => collect_selectors(&u.expr, out),
        Expr::Binary(b) => {
            collect_selectors(&b.lhs, out);
            collect_selectors(&b.rhs, out);
        }
        Expr::Paren(p) => collect_selectors(&p.expr, out),
        Expr::Call(c) => c.args.args.iter().for_each(|a| collect_selectors(a, out)),
        _ => {}
    }
}

fn selector_matches(vs: &VectorSelector, series: &Labels) -> bool {
    promql::selector_matchers(vs).is_ok_and(|sets| {
        sets.iter().any(|set| {
            set.iter()
                .all(|m| m.matches(series.get(&m.name).unwrap_or("")))
        })
    })
}

fn parse_eval(cmd: &str, block: &[&str]) -> Result<Eval, String> {
    let mut expect = Expect::default();
    let (instant, range, query) = if let Some(r) = cmd.strip_prefix("instant at ") {
        let (t, q) = r.split_once(' ').ok_or("missing query")?;
        (Some(parse_time(t)?), None, q.trim().to_owned())
    } else if let Some(r) = cmd.strip_prefix("range from ") {
        let parts: Vec<&str> = r.splitn(6, ' ').collect();
        if parts.len() < 6 || parts[1] != "to" || parts[3] != "step" {
            return Err(format!("bad range eval {cmd:?}"));
        }
        let range = (
            parse_time(parts[0])?,
            parse_time(parts[2])?,
            parse_time(parts[4])?,
        );
        (None, Some(range), parts[5].trim().to_owned())
    } else {
        return Err(format!("bad eval {cmd:?}"));
    };
    let mut raw = query.clone();
    for l in block {
        raw.push('\n');
        raw.push_str(l);
        if let Some(rest) = l.strip_prefix("expect ") {
            let rest = rest.trim();
            let (kind, arg) = match rest.split_once(' ') {
                Some((k, a)) => (k, a.trim()),
                None => (rest, ""),
            };
            let annotation = || -> Option<AnnotationMatch> {
                if let Some(m) = arg.strip_prefix("msg:") {
                    Some(AnnotationMatch::Msg(m.trim().to_owned()))
                } else {
                    arg.strip_prefix("regex:")
                        .map(|r| AnnotationMatch::Regex(r.trim().to_owned()))
                }
            };
            match kind {
                "fail" => {
                    expect.fail = true;
                    match annotation() {
                        Some(AnnotationMatch::Msg(m)) => expect.fail_msg = Some(m),
                        Some(AnnotationMatch::Regex(r)) => expect.fail_regex = Some(r),
                        None => {}
                    }
                }
                "warn" => expect.warn = Some(annotation()),
                "info" => expect.info = Some(annotation()),
                "no_warn" => expect.no_warn = true,
                "no_info" => expect.no_info = true,
                "ordered" => expect.ordered = true,
                "string" => {
                    let (s, _) = quoted(arg).ok_or("bad expected string")?;
                    expect.string = Some(s);
                }
                "range" => {
                    let r = arg.strip_prefix("vector from ").ok_or("bad range vector")?;
                    let parts: Vec<&str> = r.split_whitespace().collect();
                    if parts.len() != 5 {
                        return Err("bad range vector".into());
                    }
                    expect.range_vector = Some((
                        parse_time(parts[0])?,
                        parse_time(parts[2])?,
                        parse_time(parts[4])?,
                    ));
                }
                other => return Err(format!("unknown expectation {other}")),
            }
            continue;
        }
        // A bare scalar, or a series with values.
        let first = l.chars().next().unwrap_or(' ');
        if first.is_ascii_digit()
            || first == '-'
            || first == '+'
            || l.starts_with("NaN")
            || l.starts_with("Inf")
        {
            expect.series.push((None, parse_values(l)?));
        } else {
            let (labels, rest) = parse_series(l)?;
            expect.series.push((Some(labels), parse_values(rest)?));
        }
    }
    Ok(Eval {
        query,
        instant,
        range,
        expect,
        raw,
    })
}

fn known_failures() -> HashSet<String> {
    let text = include_str!("promqltest_known_failures.txt");
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| {
            let (id, reason) = l.split_once(' ')?;
            assert!(
                !reason.trim().is_empty(),
                "known failure {id} needs a reason"
            );
            Some(id.to_owned())
        })
        .collect()
}

/// Runs the suite. The test has its own `main` (no libtest harness) so that
/// its per-file summary is printed on every run, passing or not.
fn main() {
    values_notation_expands_like_promqltest();
    series_descriptions_parse();
    promqltest();
}

fn promqltest() {
    let dir = testkit::shared_dir().join("conformance/promqltest");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "test"))
        .collect();
    files.sort();
    let known = known_failures();
    let mut seen = HashSet::new();
    let mut core = Tally::default();
    let mut other = Tally::default();
    let mut core_failures = Vec::new();
    let mut per_file = BTreeMap::new();
    let show = std::env::var_os("PROMQLTEST_VERBOSE").is_some();
    for path in &files {
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_owned();
        let text = std::fs::read_to_string(path).expect("readable test file");
        let (tally, failures) = run_file(&stem, &text, &known, &mut seen);
        let is_core = CORE.contains(&stem.as_str());
        println!(
            "{stem}: {} passed, {} failed, {} skipped{}{}",
            tally.passed,
            tally.failed,
            tally.skipped,
            if tally.known > 0 {
                format!(", {} known failures", tally.known)
            } else {
                String::new()
            },
            if is_core { "" } else { " (not required)" }
        );
        if is_core || show {
            for f in failures.iter().take(if show { 1000 } else { 50 }) {
                println!("  FAIL {f}");
            }
        }
        let target = if is_core { &mut core } else { &mut other };
        target.passed += tally.passed;
        target.failed += tally.failed;
        target.skipped += tally.skipped;
        target.known += tally.known;
        if is_core {
            core_failures.extend(failures);
        }
        per_file.insert(stem, ());
    }
    println!(
        "promqltest core: {} passed, {} failed, {} skipped, {} known failures",
        core.passed, core.failed, core.skipped, core.known
    );
    println!(
        "promqltest other: {} passed, {} failed, {} skipped",
        other.passed, other.failed, other.skipped
    );
    for name in CORE {
        assert!(
            per_file.contains_key(*name),
            "core file {name}.test is missing"
        );
    }
    for id in &known {
        assert!(seen.contains(id), "known failure {id} names no eval");
    }
    let core_evals = core.passed + core.failed + core.known;
    assert!(
        core.known * 100 < core_evals,
        "known failures ({}) must stay under 1 % of core evals ({core_evals})",
        core.known
    );
    assert!(
        core_failures.is_empty(),
        "core failures:\n{}",
        core_failures.join("\n")
    );
}

fn values_notation_expands_like_promqltest() {
    let v = parse_values("1+2x2 _ 5x1 _x2 stale -1-1x1").unwrap();
    let want = [
        Pt::Val(1.0),
        Pt::Val(3.0),
        Pt::Val(5.0),
        Pt::Gap,
        Pt::Val(5.0),
        Pt::Val(5.0),
        Pt::Gap,
        Pt::Gap,
    ];
    assert_eq!(&v[..8], &want);
    assert!(matches!(v[8], Pt::Val(x) if model::staleness::is_stale_nan(x)));
    assert_eq!(&v[9..], &[Pt::Val(-1.0), Pt::Val(-2.0)]);
    let h = parse_values("{{schema:0 sum:1 count:1}}x2 3").unwrap();
    assert_eq!(
        h,
        [Pt::Histogram, Pt::Histogram, Pt::Histogram, Pt::Val(3.0)]
    );
}

fn series_descriptions_parse() {
    let (l, rest) = parse_series(r#"http_requests{job="a\"b", instance="0"} 1 2"#).unwrap();
    assert_eq!(l.get("__name__"), Some("http_requests"));
    assert_eq!(l.get("job"), Some("a\"b"));
    assert_eq!(rest.trim(), "1 2");
    let (l, _) = parse_series(r#"{"a.b", x="y"} 1"#).unwrap();
    assert_eq!(l.get("__name__"), Some("a.b"));
}
