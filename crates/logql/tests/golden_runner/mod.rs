//! The golden log-query runner, shared by its two drivers: in process
//! (`crates/logql/tests/golden.rs`, through the API functions and the
//! engine) and over HTTP against a running `vigil loki`
//! (`crates/logstore/tests/golden_http.rs`). Both must give the same
//! totals. A driver supplies the corpus' data to its store and an
//! `answer` function; this module reads the cases, judges the answers and
//! prints the totals.
//!
//! Judging follows the corpus README: streams compare as sets, entries in
//! order; a 400 recorded for syntax that only Loki 3 accepts (cases named
//! `…?`) answered with data counts as "newer syntax"; a recorded 500 must be
//! answered without a 5xx (a 400 or, for `1 + 2`, Loki 3's scalar). A case
//! where Loki 3 answers differently is listed in `loki3_differs.txt` with
//! the logqltest line (or Loki 3 doc) that pins the Loki 3 behaviour and the
//! adjustment that turns the 2.8 answer into Loki 3's, which the case must
//! then match.

// Each driver includes this file as a module: its items are `pub` for the
// driver, and each driver uses its own part of the input.
#![allow(unreachable_pub, dead_code)]

use std::collections::BTreeMap;

use logql::pipeline::json::{JsonValue, parse_json};
use model::Labels;

fn str_of(v: &JsonValue) -> Option<&str> {
    match v {
        JsonValue::String(s) => Some(s),
        _ => None,
    }
}

fn labels_of(v: Option<&JsonValue>) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = match v {
        Some(JsonValue::Object(pairs)) => pairs
            .iter()
            .map(|(k, v)| (k.clone(), str_of(v).unwrap_or("").to_owned()))
            .collect(),
        _ => Vec::new(),
    };
    out.sort();
    out
}

/// A result reduced to what must match: its type and a sorted set of
/// series (labels, points as strings).
type Pairs = Vec<(String, String)>;
type Normal = (String, Vec<(Pairs, Pairs)>);

fn number_text(v: &JsonValue) -> String {
    match v {
        JsonValue::Number(n) => n.parse::<f64>().map(|f| format!("{f}")).unwrap_or_default(),
        JsonValue::String(s) => s.clone(),
        other => other.to_json(),
    }
}

fn normalise(response: &JsonValue) -> Result<Normal, String> {
    let data = response.get("data").ok_or("no data")?;
    let kind = data
        .get("resultType")
        .and_then(str_of)
        .ok_or("no resultType")?
        .to_owned();
    let mut series = Vec::new();
    match data.get("result") {
        Some(JsonValue::Array(pair)) if kind == "scalar" => {
            let at = |k: usize| pair.get(k).map(number_text).unwrap_or_default();
            series.push((Vec::new(), vec![(at(0), at(1))]));
        }
        Some(JsonValue::Array(items)) => {
            for item in items {
                let labels = labels_of(item.get("stream").or_else(|| item.get("metric")));
                let points: Vec<(String, String)> =
                    match item.get("values").or_else(|| item.get("value")) {
                        Some(JsonValue::Array(values)) if kind == "vector" => {
                            vec![(
                                number_text(values.first().ok_or("bad point")?),
                                number_text(values.get(1).ok_or("bad point")?),
                            )]
                        }
                        Some(JsonValue::Array(values)) => values
                            .iter()
                            .map(|p| match p {
                                JsonValue::Array(pair) => Ok((
                                    number_text(pair.first().ok_or("bad point")?),
                                    number_text(pair.get(1).ok_or("bad point")?),
                                )),
                                _ => Err("bad point".to_owned()),
                            })
                            .collect::<Result<_, _>>()?,
                        _ => return Err("no values".into()),
                    };
                series.push((labels, points));
            }
        }
        None => {}
        Some(_) => return Err("bad result".into()),
    }
    series.sort();
    Ok((kind, series))
}

enum Verdict {
    Pass,
    Fail(String),
    NewerSyntax,
}

/// How a `loki3-differs` entry turns the recorded 2.8 answer into the Loki 3
/// one; the case then must match the adjusted answer exactly, so an entry
/// covers only the difference it names.
#[derive(Debug, Clone, PartialEq)]
enum Adjust {
    /// `empty-labels`: Loki 3 drops parsed labels with an empty value (a
    /// bare logfmt key); streams that become equal merge.
    EmptyLabels,
    /// `errored-lacks=<label>`: Loki 3 drops the entries that carry
    /// `__error__` and lack `<label>` at a number/duration/bytes filter.
    ErroredLacks(String),
    /// `instant-400`: Loki 3 refuses a log query on the instant endpoint.
    Instant400,
}

fn parse_adjust(text: &str) -> Result<Vec<Adjust>, String> {
    text.split('+')
        .map(|a| match a.split_once('=') {
            None if a == "empty-labels" => Ok(Adjust::EmptyLabels),
            None if a == "instant-400" => Ok(Adjust::Instant400),
            Some(("errored-lacks", l)) if !l.is_empty() => Ok(Adjust::ErroredLacks(l.to_owned())),
            _ => Err(format!("unknown adjustment {a:?}")),
        })
        .collect()
}

/// Applies the series adjustments to a normalised 2.8 answer; `backward`
/// orders merged entries newest first.
fn adjust_series(want: &mut Normal, adjust: &[Adjust], backward: bool) {
    for a in adjust {
        match a {
            Adjust::EmptyLabels => {
                let mut merged: BTreeMap<Pairs, Pairs> = BTreeMap::new();
                for (mut labels, points) in std::mem::take(&mut want.1) {
                    labels.retain(|(_, v)| !v.is_empty());
                    merged.entry(labels).or_default().extend(points);
                }
                for (labels, mut points) in merged {
                    points.sort_by_key(|(t, _)| t.parse::<i128>().unwrap_or(0));
                    if backward {
                        points.reverse();
                    }
                    want.1.push((labels, points));
                }
            }
            Adjust::ErroredLacks(label) => want.1.retain(|(labels, _)| {
                let errored = labels.iter().any(|(k, _)| k == "__error__");
                !errored || labels.iter().any(|(k, _)| k == label)
            }),
            Adjust::Instant400 => {}
        }
    }
    want.1.sort();
}

/// Loki 3's answer to a log query on `/loki/api/v1/query`
/// (docs/sources/reference/loki-http-api.md, pkg/logqlmodel/error.go).
const INSTANT_LOG_REFUSED: &str = "log queries are not supported as an instant query type, please change your query to a range query type";

fn run_case(
    answer: &mut dyn FnMut(&str, &BTreeMap<String, String>) -> Answer,
    case: &JsonValue,
    adjust: &[Adjust],
) -> Result<Verdict, String> {
    let name = case.get("name").and_then(str_of).ok_or("no name")?;
    let endpoint = case.get("endpoint").and_then(str_of).ok_or("no endpoint")?;
    let status = match case.get("status") {
        Some(JsonValue::Number(n)) => n.parse::<u16>().map_err(|e| e.to_string())?,
        _ => return Err("no status".into()),
    };
    let mut params: BTreeMap<String, String> = BTreeMap::new();
    if let Some(JsonValue::Object(pairs)) = case.get("params") {
        for (k, v) in pairs {
            params.insert(k.clone(), str_of(v).unwrap_or("").to_owned());
        }
    }
    params.insert(
        "query".into(),
        case.get("query").and_then(str_of).unwrap_or("").to_owned(),
    );
    let answer = answer(endpoint, &params);
    if adjust.contains(&Adjust::Instant400) {
        return Ok(match answer {
            Err(e) if e.status == 400 && e.message.trim_end() == INSTANT_LOG_REFUSED => {
                Verdict::Pass
            }
            Err(e) => Verdict::Fail(format!(
                "want Loki 3's 400, got {}: {}",
                e.status, e.message
            )),
            Ok(_) => Verdict::Fail("want Loki 3's 400, got 200".into()),
        });
    }
    let backward = !params
        .get("direction")
        .is_some_and(|d| d.eq_ignore_ascii_case("forward"));
    Ok(match (status, answer) {
        (200, Err(e)) => Verdict::Fail(format!("want 200, got {}: {}", e.status, e.message)),
        (200, Ok(body)) => {
            let got = normalise(&parse_json(&String::from_utf8_lossy(&body))?)?;
            let mut want = normalise(case.get("response").ok_or("no response")?)?;
            adjust_series(&mut want, adjust, backward);
            if got == want {
                Verdict::Pass
            } else {
                let missing: Vec<_> = want
                    .1
                    .iter()
                    .filter(|x| !got.1.contains(x))
                    .take(3)
                    .collect();
                let extra: Vec<_> = got
                    .1
                    .iter()
                    .filter(|x| !want.1.contains(x))
                    .take(3)
                    .collect();
                let brief = |v: &[&(Pairs, Pairs)]| {
                    v.iter()
                        .map(|(l, p)| {
                            format!("\n      {l:?} ({} entries, first {:?})", p.len(), p.first())
                        })
                        .collect::<String>()
                };
                Verdict::Fail(format!(
                    "{} vs {} series\n    missing:{}\n    unexpected:{}",
                    want.1.len(),
                    got.1.len(),
                    brief(&missing),
                    brief(&extra)
                ))
            }
        }
        (400, Ok(_)) if name.ends_with('?') => Verdict::NewerSyntax,
        (400, Ok(_)) => Verdict::Fail("want 400, got 200".into()),
        (400, Err(e)) if e.status == 400 => Verdict::Pass,
        // Only `1 + 2` on the instant endpoint: 2.8 failed to encode the
        // scalar, Loki 3 answers it.
        (500, Ok(body)) => match normalise(&parse_json(&String::from_utf8_lossy(&body))?)?
            .0
            .as_str()
        {
            "scalar" => Verdict::Pass,
            kind => Verdict::Fail(format!("want 400 for 2.8's 500, got a {kind}")),
        },
        (500, Err(e)) if e.status == 400 => Verdict::Pass,
        (want, Err(e)) => Verdict::Fail(format!("want {want}, got {}: {}", e.status, e.message)),
        (want, Ok(_)) => Verdict::Fail(format!("want {want}, got 200")),
    })
}

/// An answer of the API under test: a body on success, or the status and
/// plain-text message of an error.
pub type Answer = Result<Vec<u8>, ApiError>;

/// A refusal, as the API answered it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The HTTP status.
    pub status: u16,
    /// The body.
    pub message: String,
}

/// `(ns, line, structured metadata)`.
pub type InputEntry = (i64, String, Labels);

/// The corpus' data: the exact push body, its streams, and "now" as when
/// the cases were recorded.
pub struct Input {
    /// `input.json` as recorded (its `streams` are the push body).
    pub text: String,
    /// Each stream's labels and entries.
    pub streams: Vec<(Labels, Vec<InputEntry>)>,
    /// About 15:30 UTC on the recording day (base + 32 min).
    pub now_ns: i64,
}

fn dir() -> std::path::PathBuf {
    testkit::shared_dir().join("conformance/golden/loki-log-queries")
}

/// Reads `input.json`.
pub fn input() -> Input {
    let dir = dir();
    let text = std::fs::read_to_string(dir.join("input.json"))
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let input = parse_json(&text).expect("input.json");
    let base_s: i64 = match input.get("base_timestamp_s") {
        Some(JsonValue::Number(n)) => n.parse().expect("base"),
        _ => panic!("no base_timestamp_s"),
    };
    let Some(JsonValue::Array(streams)) = input.get("streams") else {
        panic!("no streams")
    };
    let mut out = Vec::new();
    for s in streams {
        let labels = Labels::from_pairs(labels_of(s.get("stream")));
        let Some(JsonValue::Array(values)) = s.get("values") else {
            continue;
        };
        let mut entries = Vec::new();
        for v in values {
            let JsonValue::Array(pair) = v else { continue };
            let ts: i64 = pair
                .first()
                .and_then(str_of)
                .and_then(|t| t.parse().ok())
                .expect("ts");
            let line = pair.get(1).and_then(str_of).expect("line");
            let metadata = Labels::from_pairs(labels_of(pair.get(2)));
            entries.push((ts, line.to_owned(), metadata));
        }
        out.push((labels, entries));
    }
    Input {
        text,
        streams: out,
        now_ns: (base_s + 32 * 60) * 1_000_000_000,
    }
}

/// Replays every case through `answer` and judges it; returns the summary
/// line (`golden…: N passed, N failed, N newer-syntax, N loki3-differs`),
/// and panics, after printing it, on any failure.
pub fn run(
    label: &str,
    answer: &mut dyn FnMut(&str, &BTreeMap<String, String>) -> Answer,
) -> String {
    let dir = dir();
    // `<name> <adjustments> <reason>`; the reason cites the logqltest line
    // (or, for the instant endpoint, the Loki 3 doc) that pins the Loki 3
    // behaviour.
    let mut differs: BTreeMap<String, Vec<Adjust>> = BTreeMap::new();
    for l in include_str!("loki3_differs.txt")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let mut parts = l.splitn(3, ' ');
        let (Some(name), Some(adjust), Some(reason)) = (parts.next(), parts.next(), parts.next())
        else {
            panic!("loki3_differs.txt: `{l}` needs a name, adjustments and a reason");
        };
        assert!(
            reason.contains(".logqltest:") || reason.contains("loki-http-api.md"),
            "loki3_differs.txt: `{name}` cites no logqltest line or Loki 3 doc"
        );
        let adjust = parse_adjust(adjust).unwrap_or_else(|e| panic!("{name}: {e}"));
        differs.insert(name.to_owned(), adjust);
    }
    let cases = std::fs::read_to_string(dir.join("cases.jsonl")).expect("cases.jsonl");
    let (mut passed, mut newer, mut loki3) = (0, 0, 0);
    let mut failures = Vec::new();
    for line in cases.lines().filter(|l| !l.trim().is_empty()) {
        let case = parse_json(line).expect("case");
        let name = case.get("name").and_then(str_of).unwrap_or("?").to_owned();
        let adjust = differs.remove(&name);
        match run_case(answer, &case, &[]) {
            Ok(Verdict::Pass) if adjust.is_some() => failures.push(format!(
                "{name}: matches 2.8, remove it from the loki3-differs list"
            )),
            Ok(Verdict::Pass) => passed += 1,
            Ok(Verdict::NewerSyntax) => newer += 1,
            Ok(Verdict::Fail(why)) | Err(why) => match adjust {
                None => failures.push(format!("{name}: {why}")),
                Some(adjust) => match run_case(answer, &case, &adjust) {
                    Ok(Verdict::Pass) => loki3 += 1,
                    Ok(Verdict::Fail(w)) | Err(w) => {
                        failures.push(format!("{name}: differs from 2.8 beyond {adjust:?}: {w}"))
                    }
                    Ok(Verdict::NewerSyntax) => failures.push(format!("{name}: newer syntax?")),
                },
            },
        }
    }
    let failed = failures.len();
    let summary = format!(
        "{label}: {passed} passed, {failed} failed, {newer} newer-syntax, {loki3} loki3-differs"
    );
    println!("{summary}");
    assert!(
        differs.is_empty(),
        "loki3-differs entries naming no case: {:?}",
        differs.keys()
    );
    assert!(
        failures.is_empty(),
        "{failed} failures:\n{}",
        failures.join("\n")
    );
    summary
}
