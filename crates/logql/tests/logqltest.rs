//! Conformance: runs Loki's own LogQL metric-query suite
//! (`shared/conformance/logqltest/*.logqltest`, read at test time, never
//! copied into the repository) against the in-memory store.
//!
//! Prints `<file>: N passed, N failed` per file and a final
//! `logqltest: N passed, N failed`; fails on any failure that is not listed
//! with its reason in `logqltest_known_failures.txt`, and on listed cases
//! that now pass (so the list stays honest).

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;

use logql::eval::{Engine, Query, QueryResult};
use logql::store::MemStore;
use model::Labels;

fn dur_ns(text: &str) -> Result<i64, String> {
    model::duration::parse_duration(text)
        .map(|d| d.as_nanos() as i64)
        .map_err(|e| format!("{text}: {e}"))
}

/// Parses `{a="b", c="d"}` with Go string escapes in the values.
fn parse_labels(text: &str) -> Result<(Labels, &str), String> {
    let text = text.trim_start();
    let body = text
        .strip_prefix('{')
        .ok_or_else(|| format!("expected labels in {text:?}"))?;
    let mut pairs = Vec::new();
    let mut rest = body;
    loop {
        rest = rest.trim_start().trim_start_matches(',').trim_start();
        if let Some(r) = rest.strip_prefix('}') {
            return Ok((Labels::from_pairs(pairs), r));
        }
        let eq = rest.find('=').ok_or("expected =")?;
        let name = rest.get(..eq).unwrap_or("").trim().to_owned();
        rest = rest.get(eq + 1..).unwrap_or("").trim_start();
        let r = rest.strip_prefix('"').ok_or("expected quoted value")?;
        let mut value = String::new();
        let mut chars = r.char_indices();
        let mut end = None;
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    end = Some(i + 1);
                    break;
                }
                '\\' => match chars.next() {
                    Some((_, 'n')) => value.push('\n'),
                    Some((_, 't')) => value.push('\t'),
                    Some((_, c)) => value.push(c),
                    None => return Err("unterminated value".into()),
                },
                c => value.push(c),
            }
        }
        let end = end.ok_or("unterminated value")?;
        rest = r.get(end..).unwrap_or("");
        pairs.push((name, value));
    }
}

/// One `load` line.
fn load_line(store: &mut MemStore, line: &str) -> Result<(), String> {
    let (labels, rest) = parse_labels(line)?;
    let rest = rest.trim_start();
    let (quote, body) = match rest.chars().next() {
        Some(q @ ('"' | '`')) => (q, rest.get(1..).unwrap_or("")),
        _ => return Err(format!("expected a line in {rest:?}")),
    };
    let end = body.find(quote).ok_or("unterminated line")?;
    let text = body.get(..end).unwrap_or("");
    let rest = body.get(end + 1..).unwrap_or("").trim_start();
    let rest = rest.strip_prefix('@').ok_or("expected @")?.trim_start();
    let (offset, mut rest) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    let offset = dur_ns(offset)?;
    let (mut every, mut count) = (0, 1);
    let mut metadata = Labels::empty();
    loop {
        rest = rest.trim_start();
        if rest.is_empty() || rest.starts_with('#') {
            break;
        }
        let inner = rest
            .strip_prefix('[')
            .ok_or_else(|| format!("unexpected {rest:?}"))?;
        let close = inner.find(']').ok_or("unclosed [")?;
        let content = inner.get(..close).unwrap_or("").trim();
        rest = inner.get(close + 1..).unwrap_or("");
        if let Some(r) = content.strip_prefix("repeat every ") {
            let (step, n) = r.split_once(" for ").ok_or("bad repeat")?;
            every = dur_ns(step.trim())?;
            count = n.trim().parse().map_err(|_| "bad count")?;
        } else if let Some(r) = content.strip_prefix("metadata") {
            let (l, _) = parse_labels(&format!("{{{}}}", r.trim().replace("\" ", "\", ")))?;
            metadata = l;
        } else {
            return Err(format!("unknown modifier {content:?}"));
        }
    }
    for i in 0..count {
        let line = text.replace("{{.i}}", &i.to_string());
        store.push(&labels, offset + every * i, &line, &metadata);
    }
    Ok(())
}

/// Expands promqltest values: `1 2 _ 3x2 1+2x3 _x2`.
fn expand(values: &str) -> Result<Vec<Option<f64>>, String> {
    let num = |s: &str| -> Result<f64, String> {
        match s {
            "NaN" => Ok(f64::NAN),
            "Inf" | "+Inf" => Ok(f64::INFINITY),
            "-Inf" => Ok(f64::NEG_INFINITY),
            _ => s.parse().map_err(|_| format!("bad value {s:?}")),
        }
    };
    let mut out = Vec::new();
    for tok in values.split_whitespace() {
        if tok.starts_with('#') {
            break;
        }
        if let Some((base, n)) = tok
            .rsplit_once('x')
            .filter(|(_, n)| n.chars().all(|c| c.is_ascii_digit()) && !n.is_empty())
        {
            let n: usize = n.parse().map_err(|_| "bad count")?;
            if base == "_" {
                out.extend(std::iter::repeat_n(None, n));
                continue;
            }
            let split = base
                .char_indices()
                .skip(1)
                .find(|(_, c)| *c == '+' || *c == '-')
                .map(|(i, _)| i);
            let (start, delta) = match split {
                Some(i) => (
                    num(base.get(..i).unwrap_or(""))?,
                    num(base.get(i..).unwrap_or(""))?,
                ),
                None => (num(base)?, 0.0),
            };
            for k in 0..=n {
                out.push(Some(start + delta * k as f64));
            }
        } else if tok == "_" {
            out.push(None);
        } else {
            out.push(Some(num(tok)?));
        }
    }
    Ok(out)
}

#[derive(Debug, Default)]
struct Eval {
    line_no: usize,
    instant: bool,
    start: i64,
    end: i64,
    step: i64,
    query: String,
    expect_fail: Option<Option<String>>,
    fail_regex: Option<String>,
    ordered: bool,
    empty: bool,
    scalar: Option<f64>,
    series: Vec<(Labels, Vec<Option<f64>>)>,
}

fn close(a: f64, b: f64) -> bool {
    if a.is_nan() || b.is_nan() {
        return a.is_nan() && b.is_nan();
    }
    if a == b {
        return true;
    }
    (a - b).abs() <= 1e-6 * a.abs().max(b.abs())
}

fn run_eval(store: &MemStore, e: &Eval) -> Result<(), String> {
    let query = if e.instant {
        Query::instant(e.start)
    } else {
        Query::range(e.start, e.end, e.step)
    };
    let result = logql::parse(&e.query)
        .map_err(logql::Error::from)
        .and_then(|expr| Engine::new(store).eval(&expr, &query));
    if let Some(msg) = &e.expect_fail {
        return match result {
            Ok(r) => Err(format!("expected failure, got {r:?}")),
            Err(err) => {
                let text = err.to_string();
                if let Some(m) = msg {
                    if !text.contains(m.as_str()) {
                        return Err(format!("error {text:?} does not contain {m:?}"));
                    }
                }
                if let Some(re) = &e.fail_regex {
                    let re = regex::Regex::new(re).map_err(|x| x.to_string())?;
                    if !re.is_match(&text) {
                        return Err(format!("error {text:?} does not match /{re}/"));
                    }
                }
                Ok(())
            }
        };
    }
    let result = result.map_err(|err| format!("unexpected error: {err}"))?;
    if let Some(want) = e.scalar {
        return match result {
            QueryResult::Scalar(v) if close(v, want) => Ok(()),
            QueryResult::Matrix(m)
                if m.len() == 1 && m.iter().all(|s| s.points.iter().all(|p| close(p.1, want))) =>
            {
                Ok(())
            }
            other => Err(format!("want scalar {want}, got {other:?}")),
        };
    }
    // Normalise to series of optional points per step.
    let steps: Vec<i64> = if e.instant {
        vec![e.start]
    } else {
        let mut v = Vec::new();
        let mut t = e.start;
        while t <= e.end {
            v.push(t);
            t += e.step;
        }
        v
    };
    let got: Vec<(Labels, Vec<Option<f64>>)> = match &result {
        QueryResult::Vector(v) => v
            .iter()
            .map(|s| (s.labels.clone(), vec![Some(s.value)]))
            .collect(),
        QueryResult::Scalar(v) => vec![(Labels::empty(), vec![Some(*v)])],
        QueryResult::Matrix(m) => m
            .iter()
            .map(|s| {
                let points = steps
                    .iter()
                    .map(|t| s.points.iter().find(|p| p.0 == *t).map(|p| p.1))
                    .collect();
                (s.labels.clone(), points)
            })
            .collect(),
        QueryResult::Streams(_) => return Err("got streams for a metric query".into()),
    };
    let got: Vec<_> = got
        .into_iter()
        .filter(|(_, p)| p.iter().any(Option::is_some))
        .collect();
    if e.empty {
        return if got.is_empty() {
            Ok(())
        } else {
            Err(format!("expected empty, got {got:?}"))
        };
    }
    let show = |s: &[(Labels, Vec<Option<f64>>)]| {
        s.iter()
            .map(|(l, p)| {
                let pts: Vec<String> = p
                    .iter()
                    .map(|x| x.map_or("_".into(), |v| v.to_string()))
                    .collect();
                format!("{l} {}", pts.join(" "))
            })
            .collect::<Vec<_>>()
            .join("\n    ")
    };
    let mismatch = || {
        format!(
            "\n  want:\n    {}\n  got:\n    {}",
            show(&e.series),
            show(&got)
        )
    };
    if got.len() != e.series.len() {
        return Err(mismatch());
    }
    let mut used = HashSet::new();
    for (i, (labels, points)) in e.series.iter().enumerate() {
        let found = if e.ordered {
            got.get(i).filter(|(l, _)| l == labels).map(|_| i)
        } else {
            got.iter().position(|(l, _)| l == labels)
        };
        let Some(j) = found.filter(|j| used.insert(*j)) else {
            return Err(mismatch());
        };
        let Some((_, gp)) = got.get(j) else {
            return Err(mismatch());
        };
        if gp.len() != points.len() {
            return Err(mismatch());
        }
        for (a, b) in gp.iter().zip(points) {
            match (a, b) {
                (None, None) => {}
                (Some(x), Some(y)) if close(*x, *y) => {}
                _ => return Err(mismatch()),
            }
        }
    }
    Ok(())
}

fn parse_eval(line_no: usize, line: &str) -> Result<Eval, String> {
    let mut e = Eval {
        line_no,
        ..Eval::default()
    };
    if let Some(r) = line.strip_prefix("eval instant at ") {
        let (t, q) = r.split_once(' ').ok_or("bad eval")?;
        e.instant = true;
        e.start = dur_ns(t)?;
        e.end = e.start;
        e.query = q.trim().to_owned();
    } else if let Some(r) = line.strip_prefix("eval range from ") {
        let parts: Vec<&str> = r.splitn(6, ' ').collect();
        let [t0, "to", t1, "step", s, q] = parts.as_slice() else {
            return Err(format!("bad eval range: {line}"));
        };
        e.start = dur_ns(t0)?;
        e.end = dur_ns(t1)?;
        e.step = dur_ns(s)?;
        e.query = q.trim().to_owned();
    } else {
        return Err(format!("unknown command: {line}"));
    }
    Ok(e)
}

struct Outcome {
    passed: usize,
    failed: Vec<(String, String)>,
}

fn run_file(name: &str, text: &str) -> Outcome {
    let mut store = MemStore::default();
    let mut out = Outcome {
        passed: 0,
        failed: Vec::new(),
    };
    let lines: Vec<&str> = text.lines().collect();
    let mut i = 0;
    let fail = |out: &mut Outcome, line_no: usize, why: String| {
        out.failed.push((format!("{name}:{line_no}"), why))
    };
    while let Some(&line) = lines.get(i) {
        i += 1;
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        if trimmed == "clear" {
            store.clear();
        } else if trimmed == "load" {
            while let Some(&l) = lines.get(i) {
                if !l.starts_with(' ') && !l.starts_with('\t') {
                    break;
                }
                i += 1;
                let l = l.trim();
                if l.is_empty() || l.starts_with('#') {
                    continue;
                }
                if let Err(e) = load_line(&mut store, l) {
                    fail(&mut out, i, format!("load: {e}"));
                }
            }
        } else if trimmed.starts_with("eval ") {
            let line_no = i;
            let mut e = match parse_eval(line_no, trimmed) {
                Ok(e) => e,
                Err(err) => {
                    fail(&mut out, line_no, err);
                    continue;
                }
            };
            let mut bad = None;
            while let Some(&l) = lines.get(i) {
                if !l.starts_with(' ') && !l.starts_with('\t') {
                    break;
                }
                i += 1;
                let l = l.trim();
                if l.is_empty() || l.starts_with('#') {
                    continue;
                }
                if l.starts_with("skip ") {
                    // `skip … on "<stack>"` only concerns Loki's sharded stacks.
                    continue;
                }
                if l == "expect empty" {
                    e.empty = true;
                } else if l == "expect ordered" {
                    e.ordered = true;
                } else if let Some(r) = l.strip_prefix("expect fail") {
                    let r = r.trim();
                    e.expect_fail = Some(None);
                    if let Some(m) = r.strip_prefix("msg:") {
                        e.expect_fail = Some(Some(m.trim().to_owned()));
                    } else if let Some(re) = r.strip_prefix("regex:") {
                        e.fail_regex = Some(re.trim().to_owned());
                    }
                } else if l.starts_with('{') {
                    match parse_labels(l).and_then(|(labels, rest)| Ok((labels, expand(rest)?))) {
                        Ok(s) => e.series.push(s),
                        Err(err) => bad = Some(err),
                    }
                } else {
                    match expand(l) {
                        Ok(v) if v.len() == 1 => e.scalar = v.first().copied().flatten(),
                        _ => bad = Some(format!("bad expectation {l:?}")),
                    }
                }
            }
            let result = match bad {
                Some(b) => Err(b),
                None => run_eval(&store, &e),
            };
            match result {
                Ok(()) => out.passed += 1,
                Err(why) => fail(&mut out, e.line_no, format!("{}: {why}", e.query)),
            }
        } else {
            fail(&mut out, i, format!("unknown command {trimmed:?}"));
        }
    }
    out
}

#[test]
fn logqltest_suite() {
    let dir = testkit::shared_dir().join("conformance/logqltest");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e} (set VIGIL_SHARED_DIR)", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "logqltest"))
        .collect();
    files.sort();
    assert_eq!(
        files.len(),
        9,
        "expected the nine logqltest files in {}",
        dir.display()
    );
    let known: BTreeMap<String, String> = include_str!("logqltest_known_failures.txt")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| {
            l.split_once(' ')
                .map(|(k, r)| (k.to_owned(), r.trim().to_owned()))
        })
        .collect();
    let (mut passed, mut failed) = (0, 0);
    let mut unexpected = Vec::new();
    let mut seen_failures = HashSet::new();
    for path in &files {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let text =
            std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let out = run_file(&name, &text);
        println!("{name}: {} passed, {} failed", out.passed, out.failed.len());
        passed += out.passed;
        failed += out.failed.len();
        for (id, why) in out.failed {
            seen_failures.insert(id.clone());
            if !known.contains_key(&id) {
                unexpected.push(format!("{id}: {why}"));
            }
        }
    }
    println!("logqltest: {passed} passed, {failed} failed");
    let stale: Vec<&String> = known
        .keys()
        .filter(|k| !seen_failures.contains(*k))
        .collect();
    assert!(
        unexpected.is_empty(),
        "{} unexpected failures:\n{}",
        unexpected.len(),
        unexpected.join("\n")
    );
    assert!(
        stale.is_empty(),
        "known failures that now pass, remove them: {stale:?}"
    );
}
