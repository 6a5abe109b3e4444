//! A short, seeded fuzz run of every decoder of outside input the
//! dashboards server has: provisioning YAML and dashboard JSON files, the
//! bodies of `/api/ds/query`, `POST /login` (JSON and form),
//! `POST /api/dashboards/db` and `PUT /api/user/password`, session cookies
//! and `Authorization: Basic` headers, the proxy's path in odd encodings,
//! and the Prometheus and Loki answers `/api/ds/query` turns into frames
//! (served mutated by a stub datasource). Inputs are mutations of real
//! ones (the shared fixtures and reference configs, and request bodies as
//! the UI sends them) and random bytes, from fixed seeds, so a failure
//! replays. The file and answer decoders also run open-ended under
//! libFuzzer in `crates/dashboard/fuzz`, whose harness this file includes
//! so both drive them the same way.
//!
//! What must hold: nothing panics (the server keeps answering:
//! `/api/health` after every batch, and no query reports a panicked task),
//! a client's bad input gets a 4xx, never a 5xx, and a datasource's garbage
//! answer becomes that query's error inside a 200/207 answer, not a failure
//! of the whole request.
//!
//! Each bug the fuzzing found has a regression test below, named after it.

mod common;

#[path = "../fuzz/src/lib.rs"]
pub mod harness;

use std::path::Path;

use common::{Server, Stub, datasource, fixtures, loki_fixture, prometheus_fixture};
use dashboard::auth::SecurityOptions;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A small deterministic generator (SplitMix64): the run must replay.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<T: Clone>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())].clone()
    }
}

/// Pieces that make decoders take unusual paths: JSON and YAML structure,
/// escapes, numbers and times at the edges, templates, URL encodings.
const TOKENS: &[&str] = &[
    "\"",
    "\\",
    "\\u",
    "\\ud800",
    "\\u0000",
    "{",
    "}",
    "[",
    "]",
    ":",
    ",",
    "=",
    "&",
    "+",
    " ",
    "\t",
    "\r",
    "\n",
    "\0",
    "é",
    "\u{feff}",
    "\u{10FFFF}",
    "\u{fffd}",
    "\u{2028}",
    "0",
    "-1",
    "1e400",
    "-1e400",
    "1e-400",
    "NaN",
    "+Inf",
    "-Inf",
    "1.5",
    "-0",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775808",
    "18446744073709551616",
    "99999999999999999999999",
    "0x1f",
    "now",
    "now-",
    "now-1h",
    "now+99999999999y",
    "now-9223372036854775807ms",
    "-5s",
    "1h2m3s",
    "99999999999h",
    "0.5ms",
    "$__interval",
    "${__rate_interval}",
    "$__range",
    "[$__auto]",
    "{{",
    "}}",
    "{{job}}",
    "{{ }}",
    "__auto",
    "${",
    "$$",
    "%",
    "%2e",
    "%2E%2e",
    "%2f",
    "%5c",
    "%00",
    "%ff",
    "%C0%AE",
    "..",
    "/../",
    "//",
    "\\",
    "?",
    "#",
    ";",
    "-",
    "- ",
    "&a ",
    "*a",
    "<<: ",
    "!!binary ",
    "!!int ",
    "? ",
    "'",
    "|",
    ">",
    "%YAML 1.1",
    "---",
    "...",
    "~",
    "null",
    "true",
    "yes",
    "[]",
    "{}",
    "[[[[",
    "{\"a\":",
    "\"status\":\"success\"",
    "\"resultType\":\"matrix\"",
    "\"resultType\":\"streams\"",
    "\"values\":[[",
    "\"value\":[",
    "[1,\"1\"]",
    "[\"1\",1]",
    "[1e308,\"NaN\"]",
];

/// `seed` changed 1 to 8 times: bytes flipped, inserted or removed,
/// [`TOKENS`] inserted, ranges copied or spliced from `others`.
fn mutate(rng: &mut Rng, seed: &[u8], others: &[Vec<u8>]) -> Vec<u8> {
    let mut data = seed.to_vec();
    for _ in 0..=rng.below(8) {
        let at = rng.below(data.len() + 1);
        match rng.below(7) {
            0 if !data.is_empty() => {
                let i = at.min(data.len() - 1);
                data[i] ^= 1 << rng.below(8);
            }
            1 => data.insert(at, rng.next() as u8),
            2 => {
                let end = (at + rng.below(16)).min(data.len());
                data.drain(at..end);
            }
            3 | 4 => {
                let token = rng.pick(TOKENS);
                data.splice(at..at, token.bytes());
            }
            5 if !data.is_empty() => {
                let from = rng.below(data.len());
                let end = (from + rng.below(32)).min(data.len());
                let copy = data[from..end].to_vec();
                data.splice(at..at, copy);
            }
            _ if !others.is_empty() => {
                let other = &others[rng.below(others.len())];
                let from = rng.below(other.len() + 1);
                let end = (from + rng.below(64)).min(other.len());
                data.splice(at..at, other[from..end].iter().copied());
            }
            _ => data.truncate(at),
        }
    }
    data
}

/// Random bytes, `len` at most `max`.
fn random(rng: &mut Rng, max: usize) -> Vec<u8> {
    let len = rng.below(max + 1);
    (0..len).map(|_| rng.next() as u8).collect()
}

/// Line-level changes keep YAML's shape more often than byte changes do.
fn mutate_lines(rng: &mut Rng, text: &[u8], others: &[Vec<u8>]) -> Vec<u8> {
    let mut lines: Vec<Vec<u8>> = text.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect();
    for _ in 0..=rng.below(3) {
        let i = rng.below(lines.len());
        match rng.below(5) {
            0 => {
                lines.remove(i);
                if lines.is_empty() {
                    lines.push(Vec::new());
                }
            }
            1 => {
                let copy = lines[i].clone();
                lines.insert(rng.below(lines.len() + 1), copy);
            }
            2 => lines[i].splice(0..0, b"  ".iter().copied()).for_each(drop),
            3 => {
                let line = rng.pick(&lines);
                lines[i] = mutate(rng, &line, others);
            }
            _ => {
                let other = &others[rng.below(others.len())];
                let from: Vec<&[u8]> = other.split(|&b| b == b'\n').collect();
                lines.insert(i, from[rng.below(from.len())].to_vec());
            }
        }
    }
    lines.join(&b'\n')
}

/// A JSON value that typed decoders do not expect where they find it.
fn odd_value(rng: &mut Rng, donor: &Value) -> Value {
    match rng.below(24) {
        0 => Value::Null,
        1 => json!(true),
        2 => json!(0),
        3 => json!(-1),
        4 => json!(i64::MAX),
        5 => json!(i64::MIN),
        6 => json!(u64::MAX),
        7 => json!(1e308),
        8 => json!(-1e308),
        9 => json!(0.5),
        10 => json!(""),
        11 => json!("NaN"),
        12 => json!("-Inf"),
        13 => json!("now-99999999999y"),
        14 => json!("9223372036854775807"),
        15 => json!([]),
        16 => json!({}),
        17 => json!([[[[1]]]]),
        18 => Value::String("x".repeat(rng.below(5000))),
        19 => json!("{{job}} $__interval ${__rate_interval} [$__range]"),
        20 => json!("\u{0}\u{feff}\u{10FFFF}"),
        21 => json!([1e308, "1e400"]),
        22 => Value::String(rng.pick(TOKENS).to_owned()),
        // Somewhere else's part of the same document, in the wrong place.
        _ => pick_node(rng, donor).clone(),
    }
}

/// A node reached by a random walk down from `value`.
fn pick_node<'a>(rng: &mut Rng, value: &'a Value) -> &'a Value {
    let mut node = value;
    loop {
        let next = match node {
            Value::Object(o) if !o.is_empty() && rng.below(4) != 0 => {
                o.values().nth(rng.below(o.len()))
            }
            Value::Array(a) if !a.is_empty() && rng.below(4) != 0 => a.get(rng.below(a.len())),
            _ => None,
        };
        match next {
            Some(n) => node = n,
            None => return node,
        }
    }
}

/// `value` with 1 to 4 nodes replaced, removed or duplicated: keeps JSON
/// valid so the typed decoding behind the parser is reached.
fn mutate_json(rng: &mut Rng, value: &Value) -> Value {
    let mut out = value.clone();
    for _ in 0..=rng.below(3) {
        let replacement = odd_value(rng, value);
        mutate_node(rng, &mut out, replacement);
    }
    out
}

/// Walks down from `node` at random and changes where it stops.
fn mutate_node(rng: &mut Rng, node: &mut Value, replacement: Value) {
    let descend = rng.below(5) != 0;
    match node {
        Value::Object(o) if !o.is_empty() && descend => {
            let key = o
                .keys()
                .nth(rng.below(o.len()))
                .cloned()
                .unwrap_or_default();
            if rng.below(8) == 0 {
                o.remove(&key);
            } else if let Some(child) = o.get_mut(&key) {
                mutate_node(rng, child, replacement);
            }
        }
        Value::Array(a) if !a.is_empty() && descend => {
            let i = rng.below(a.len());
            match rng.below(10) {
                0 => {
                    a.remove(i);
                }
                1 => {
                    let copy = a[i].clone();
                    a.push(copy);
                }
                _ => mutate_node(rng, &mut a[i], replacement),
            }
        }
        _ => *node = replacement,
    }
}

/// A mutation of `seed` (JSON): structural or byte-level, sometimes
/// random bytes.
fn mutate_json_text(rng: &mut Rng, seed: &Value, others: &[Vec<u8>]) -> Vec<u8> {
    match rng.below(10) {
        0 => random(rng, 200),
        1..=3 => mutate(rng, seed.to_string().as_bytes(), others),
        _ => serde_json::to_vec(&mutate_json(rng, seed)).unwrap(),
    }
}

fn read_dir_sorted(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    paths
}

/// The fixture dashboards, parsed.
fn fixture_dashboards() -> Vec<Value> {
    let list: Vec<Value> = read_dir_sorted(&fixtures().join("dashboards"))
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap())
        .collect();
    assert!(list.len() >= 5, "fixture dashboards missing");
    list
}

#[test]
fn provisioning_files_load_or_report_problems() {
    let shared = testkit::shared_dir();
    let reference = shared.join("reference/config/grafana");
    let mut datasource_seeds: Vec<Vec<u8>> = read_dir_sorted(&reference.join("datasources"))
        .into_iter()
        .map(|p| std::fs::read(p).unwrap())
        .collect();
    datasource_seeds
        .push(std::fs::read(fixtures().join("provisioning/kludex-datasource.yml")).unwrap());
    datasource_seeds.push(
        b"apiVersion: 1\ndatasources:\n- name: P\n  type: prometheus\n  uid: p\n  url: $PROM_URL\n  isDefault: true\n  basicAuth: true\n  basicAuthUser: u\n  secureJsonData:\n    basicAuthPassword: ${PW:-x}\n  jsonData:\n    timeInterval: 15s\n    httpMethod: GET\n    maxLines: 1000\n  version: 3\n  editable: false\n- name: L\n  type: loki\n  url: http://l:3100\n  orgId: 2\n".to_vec(),
    );
    let dir = tempfile::tempdir().unwrap();
    let provider = |extra: &str| {
        format!(
            "apiVersion: 1\nproviders:\n- name: p\n  orgId: 1\n  folder: F\n  folderUid: f\n  type: file\n  disableDeletion: false\n  updateIntervalSeconds: 10\n  allowUiUpdates: true\n  options:\n    path: ${}\n    foldersFromFilesStructure: {extra}\n",
            harness::JSON_DIR_VAR
        )
        .into_bytes()
    };
    let mut provider_seeds = vec![provider("false"), provider("true")];
    provider_seeds.push(std::fs::read(reference.join("dashboards/default.yml")).unwrap());
    provider_seeds
        .push(std::fs::read(fixtures().join("provisioning/kludex-dashboard.yml")).unwrap());
    let dashboards = fixture_dashboards();
    let dashboard_texts: Vec<Vec<u8>> = dashboards
        .iter()
        .map(|d| d.to_string().into_bytes())
        .collect();
    let all_yaml: Vec<Vec<u8>> = datasource_seeds
        .iter()
        .chain(provider_seeds.iter())
        .cloned()
        .collect();

    let mut rng = Rng(0x5EED_D001);
    let (mut with_datasources, mut with_problems, mut dashboards_loaded) = (0, 0, 0);
    for i in 0..300 {
        let ds = rng.pick(&datasource_seeds);
        let ds = match (i, rng.below(5)) {
            (0, _) | (_, 0) => ds,
            (_, 1) => mutate(&mut rng, &ds, &all_yaml),
            (_, 2) => random(&mut rng, 100),
            _ => mutate_lines(&mut rng, &ds, &all_yaml),
        };
        // The provider mostly stays pointed at the dashboards.
        let pv = match (i, rng.below(5)) {
            (0, _) | (_, 0..=2) => provider_seeds[i % 2].clone(),
            (_, 3) => mutate_lines(&mut rng, &provider_seeds[i % 2], &all_yaml),
            _ => {
                let seed = rng.pick(&provider_seeds);
                mutate(&mut rng, &seed, &all_yaml)
            }
        };
        let texts: Vec<Vec<u8>> = (0..2)
            .map(|n| {
                let seed = &dashboards[(i + n) % dashboards.len()];
                if i == 0 {
                    seed.to_string().into_bytes()
                } else {
                    mutate_json_text(&mut rng, seed, &dashboard_texts)
                }
            })
            .collect();
        let texts: Vec<&[u8]> = texts.iter().map(Vec::as_slice).collect();
        let loaded = harness::load_folder(&dir.path().join("p"), &ds, &pv, &texts);
        dashboards_loaded += loaded.dashboards.len();
        if !loaded.datasources.all().is_empty() {
            with_datasources += 1;
        }
        if !loaded.problems.is_empty() {
            with_problems += 1;
        }
    }
    assert!(
        with_datasources > 50 && with_problems > 50 && dashboards_loaded > 50,
        "{with_datasources} with datasources, {with_problems} with problems, {dashboards_loaded} dashboards"
    );
}

#[test]
fn datasource_answers_decode_to_frames_or_are_refused() {
    let texts: Vec<Vec<u8>> = upstream_seeds()
        .into_iter()
        .map(|(_, _, body)| body.into_bytes())
        .collect();
    let seeds: Vec<Value> = texts
        .iter()
        .filter_map(|t| serde_json::from_slice(t).ok())
        .collect();
    assert!(seeds.len() > 10, "recorded answers missing");
    let mut rng = Rng(0x5EED_D008);
    let (mut framed, mut refused) = (0, 0);
    for i in 0..3000 {
        let mut input = vec![rng.next() as u8];
        if i < seeds.len() {
            input.extend(seeds[i].to_string().into_bytes());
        } else {
            let seed = rng.pick(&seeds);
            input.extend(mutate_json_text(&mut rng, &seed, &texts));
        }
        match harness::run_answer(&input) {
            Ok(n) if n > 0 => framed += 1,
            Ok(_) => {}
            Err(_) => refused += 1,
        }
    }
    assert!(
        framed > 100 && refused > 500,
        "{framed} framed, {refused} refused"
    );
}

/// 2026-11-24T15:13:44Z, 1 h range.
const TO: i64 = 1_795_533_224_500;
const FROM: i64 = TO - 3_600_000;

/// Requests to `/api/ds/query` as the UI sends them.
fn ds_query_seeds() -> Vec<Value> {
    let prom_range = json!({"refId": "A", "datasource": {"type": "prometheus", "uid": "prom"},
        "expr": "sum(rate(x[$__rate_interval])) by (job)", "range": true, "instant": false,
        "intervalMs": 15000, "maxDataPoints": 1200, "format": "time_series",
        "legendFormat": "{{job}}", "interval": "", "utcOffsetSec": 3600});
    let prom_instant = json!({"refId": "I", "datasource": {"uid": "prom"}, "expr": "up",
        "instant": true, "range": false, "intervalFactor": 2});
    let loki_range = json!({"refId": "B", "datasource": {"type": "loki", "uid": "loki"},
        "expr": "{job=\"x\"} |= \"err\"", "queryType": "range", "maxLines": 1000,
        "direction": "backward", "intervalMs": 2000, "maxDataPoints": 1200, "resolution": 1});
    let loki_instant = json!({"refId": "C", "datasource": "LOKI",
        "expr": "sum(count_over_time({job=\"x\"}[$__auto]))", "queryType": "instant",
        "direction": "forward"});
    let request = |queries: Value| json!({"from": FROM.to_string(), "to": TO.to_string(), "queries": queries});
    vec![
        request(json!([prom_range.clone()])),
        request(json!([prom_instant.clone(), loki_instant.clone()])),
        request(json!([loki_range.clone()])),
        request(json!([prom_range, prom_instant, loki_range, loki_instant])),
        json!({"from": "now-6h", "to": "now", "queries": [{"refId": "A", "expr": "up", "interval": "1m"}]}),
    ]
}

/// A datasource stub answering every query path with recorded answers.
async fn fixture_stubs() -> (Stub, Stub) {
    let prom = Stub::start(vec![
        (
            "/api/v1/query_range",
            200,
            prometheus_fixture("query_range.json"),
        ),
        (
            "/api/v1/query",
            200,
            prometheus_fixture("query_vector.json"),
        ),
        ("/api/v1/labels", 200, prometheus_fixture("labels.json")),
        ("/api/v1/series", 200, prometheus_fixture("series.json")),
    ])
    .await;
    let (s1, streams) = loki_fixture("query_range_streams.txt");
    let (s2, vector) = loki_fixture("query_instant_vector.txt");
    let (s3, labels) = loki_fixture("labels.txt");
    let loki = Stub::start(vec![
        ("/loki/api/v1/query_range", s1, streams),
        ("/loki/api/v1/query", s2, vector),
        ("/loki/api/v1/labels", s3, labels),
    ])
    .await;
    (prom, loki)
}

fn datasources(prom: &Stub, loki: &Stub) -> Vec<dashboard::datasource::Datasource> {
    let mut p = datasource("prom", "prometheus", &prom.url());
    p.is_default = true;
    p.json_data.insert("timeInterval".into(), json!("15s"));
    let mut l = datasource("loki", "loki", &loki.url());
    l.id = 2;
    vec![p, l]
}

/// A server with brute-force protection off (the fuzz fails many logins),
/// the stubs provisioned, and an admin session.
async fn fuzz_server(prom: &Stub, loki: &Stub) -> (Server, String) {
    let server = Server::start(SecurityOptions {
        disable_brute_force_login_protection: true,
        ..SecurityOptions::default()
    })
    .await;
    server.provision(datasources(prom, loki));
    let cookie = server.session("admin", "admin").await;
    (server, cookie)
}

/// Sends `body` with the headers a browser's write has; the status and
/// the body, or `None` when the connection broke (a panic's sign).
async fn send(
    server: &Server,
    method: reqwest::Method,
    path: &str,
    cookie: &str,
    content_type: &str,
    body: Vec<u8>,
) -> Option<(u16, Vec<u8>)> {
    let response = server
        .client
        .request(method, server.url(path))
        .header("cookie", cookie)
        .header("origin", server.origin())
        .header("x-grafana-org-id", "1")
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .ok()?;
    let status = response.status().as_u16();
    let body = response.bytes().await.ok()?;
    Some((status, body.to_vec()))
}

async fn assert_healthy(server: &Server, after: &str) {
    let (status, body) = server.get("/api/health", None).await;
    assert_eq!(status, 200, "after {after}: {body}");
}

/// Fails on a 5xx or a broken connection for `input`.
fn client_error_only(what: &str, input: &[u8], answer: Option<(u16, Vec<u8>)>) -> u16 {
    let Some((status, body)) = answer else {
        panic!(
            "{what}: the connection broke for {:?}",
            String::from_utf8_lossy(input)
        );
    };
    assert!(
        status < 500,
        "{what}: {status} {} for {:?}",
        String::from_utf8_lossy(&body),
        String::from_utf8_lossy(input)
    );
    status
}

/// Checks a `/api/ds/query` answer: every result has a status, and none
/// is a panicked task.
fn check_results(input: &[u8], status: u16, body: &[u8]) {
    if status != 200 && status != 207 {
        return;
    }
    let answer: Value = serde_json::from_slice(body).expect("a JSON answer");
    let results = answer["results"].as_object().expect("results");
    for (ref_id, result) in results {
        assert!(result["status"].is_u64(), "{ref_id}: {result}");
        let error = result["error"].as_str().unwrap_or("");
        assert!(
            !error.contains("panicked")
                && !error.starts_with("query failed:")
                && !error.starts_with("decoding the answer failed"),
            "{ref_id}: {error} for {:?}",
            String::from_utf8_lossy(input)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ds_query_bodies_are_answered_or_refused_with_a_4xx() {
    let (prom, loki) = fixture_stubs().await;
    let (server, cookie) = fuzz_server(&prom, &loki).await;
    let seeds = ds_query_seeds();
    let texts: Vec<Vec<u8>> = seeds.iter().map(|s| s.to_string().into_bytes()).collect();
    let mut rng = Rng(0x5EED_D002);
    let mut counts = std::collections::BTreeMap::<u16, usize>::new();
    for i in 0..600 {
        let input = if i < seeds.len() {
            texts[i].clone()
        } else {
            let mut seed = rng.pick(&seeds);
            // Mostly one query changed: the request's own fields are
            // three of many, and a bad one refuses it all.
            let n = seed["queries"].as_array().map_or(0, Vec::len);
            if n > 0 && rng.below(3) != 0 {
                let at = rng.below(n);
                let query = mutate_json(&mut rng, &seed["queries"][at]);
                seed["queries"][at] = query;
                seed.to_string().into_bytes()
            } else {
                mutate_json_text(&mut rng, &seed, &texts)
            }
        };
        let answer = send(
            &server,
            reqwest::Method::POST,
            "/api/ds/query",
            &cookie,
            "application/json",
            input.clone(),
        )
        .await;
        let status = client_error_only("/api/ds/query", &input, answer.clone());
        check_results(&input, status, &answer.unwrap().1);
        *counts.entry(status).or_default() += 1;
        if i % 100 == 99 {
            assert_healthy(&server, "a batch of /api/ds/query").await;
        }
    }
    let get = |s| counts.get(&s).copied().unwrap_or(0);
    assert!(
        get(200) > 50 && get(207) > 20 && get(400) > 50,
        "statuses: {counts:?}"
    );
}

/// The Prometheus and Loki answers a query decodes, recorded.
fn upstream_seeds() -> Vec<(bool, u16, String)> {
    let mut seeds = Vec::new();
    for name in [
        "query_range.json",
        "query_range_empty.json",
        "query_vector.json",
        "query_matrix.json",
        "query_scalar.json",
        "query_string.json",
        "query_warn.json",
        "err_parse.json",
        "err_exec.json",
        "err_timeout.json",
    ] {
        let status = if name.starts_with("err_") { 400 } else { 200 };
        seeds.push((true, status, prometheus_fixture(name)));
    }
    for name in [
        "query_range_streams.txt",
        "query_range_matrix.txt",
        "query_instant_vector.txt",
        "query_instant_streams.txt",
        "query_scalar.txt",
        "query_scalar2.txt",
        "bad_query.txt",
    ] {
        let (status, body) = loki_fixture(name);
        seeds.push((false, status, body));
    }
    seeds
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_datasource_answers_become_query_errors() {
    let (prom, loki) = fixture_stubs().await;
    let (server, cookie) = fuzz_server(&prom, &loki).await;
    let seeds = upstream_seeds();
    let texts: Vec<Vec<u8>> = seeds.iter().map(|s| s.2.clone().into_bytes()).collect();
    let request = json!({"from": FROM.to_string(), "to": TO.to_string(), "queries": [
        {"refId": "A", "datasource": {"uid": "prom"}, "expr": "up", "range": true,
         "instant": true, "legendFormat": "{{job}} {{ instance }}", "intervalMs": 15000},
        {"refId": "B", "datasource": {"uid": "loki"}, "expr": "{job=\"x\"}", "queryType": "range"},
        {"refId": "C", "datasource": {"uid": "loki"}, "expr": "{job=\"x\"}", "queryType": "range",
         "direction": "forward"},
        {"refId": "D", "datasource": {"uid": "loki"}, "expr": "count_over_time({job=\"x\"}[1m])",
         "queryType": "instant"},
    ]})
    .to_string()
    .into_bytes();
    let mut rng = Rng(0x5EED_D003);
    let (mut ok, mut failed) = (0, 0);
    for i in 0..400 {
        let (is_prom, status, body) = rng.pick(&seeds);
        let status = match rng.below(8) {
            0 => rng.pick(&[200, 204, 206, 400, 422, 500, 503]),
            _ => status,
        };
        let body = if i < seeds.len() {
            seeds[i].2.clone().into_bytes()
        } else {
            match serde_json::from_str::<Value>(&body) {
                Ok(v) => mutate_json_text(&mut rng, &v, &texts),
                Err(_) => mutate(&mut rng, body.as_bytes(), &texts),
            }
        };
        let body = String::from_utf8_lossy(&body).into_owned();
        let (p, l) = if is_prom || i < seeds.len() {
            let (s, b) = if i < seeds.len() {
                (seeds[i].1, body.clone())
            } else {
                (status, body.clone())
            };
            let p = Stub::start(vec![
                ("/api/v1/query_range", s, b.clone()),
                ("/api/v1/query", s, b.clone()),
            ])
            .await;
            let l = Stub::start(vec![
                ("/loki/api/v1/query_range", s, b.clone()),
                ("/loki/api/v1/query", s, b),
            ])
            .await;
            (p, l)
        } else {
            let l = Stub::start(vec![
                ("/loki/api/v1/query_range", status, body.clone()),
                ("/loki/api/v1/query", status, body.clone()),
            ])
            .await;
            let p = Stub::start(vec![
                ("/api/v1/query_range", status, body.clone()),
                ("/api/v1/query", status, body.clone()),
            ])
            .await;
            (p, l)
        };
        server.provision(datasources(&p, &l));
        let answer = send(
            &server,
            reqwest::Method::POST,
            "/api/ds/query",
            &cookie,
            "application/json",
            request.clone(),
        )
        .await;
        let Some((status, answer)) = answer else {
            panic!("the connection broke for the answer {body:?}");
        };
        assert!(
            status == 200 || status == 207,
            "{status} {} for the answer {body:?}",
            String::from_utf8_lossy(&answer)
        );
        check_results(body.as_bytes(), status, &answer);
        if status == 200 {
            ok += 1;
        } else {
            failed += 1;
        }
        if i % 100 == 99 {
            assert_healthy(&server, "a batch of datasource answers").await;
        }
    }
    assert!(
        ok > 20 && failed > 100,
        "{ok} all ran, {failed} with errors"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saved_dashboards_are_stored_or_refused_with_a_4xx() {
    let (prom, loki) = fixture_stubs().await;
    let (server, cookie) = fuzz_server(&prom, &loki).await;
    let seeds: Vec<Value> = fixture_dashboards()
        .into_iter()
        .enumerate()
        .map(|(i, mut d)| {
            d["id"] = Value::Null;
            d["uid"] = json!(format!("fuzz-{i}"));
            json!({"dashboard": d, "folderUid": "", "overwrite": i % 2 == 0, "message": "m"})
        })
        .collect();
    let texts: Vec<Vec<u8>> = seeds.iter().map(|s| s.to_string().into_bytes()).collect();
    let mut rng = Rng(0x5EED_D004);
    let mut counts = std::collections::BTreeMap::<u16, usize>::new();
    for i in 0..250 {
        let input = if i < seeds.len() {
            texts[i].clone()
        } else {
            let seed = rng.pick(&seeds);
            // Structural changes mostly: a byte flip in 100 kB of JSON
            // only reaches the parser.
            match rng.below(6) {
                0 => {
                    let text = rng.pick(&texts);
                    mutate(&mut rng, &text, &texts)
                }
                1 => random(&mut rng, 100),
                _ => serde_json::to_vec(&mutate_json(&mut rng, &seed)).unwrap(),
            }
        };
        let answer = send(
            &server,
            reqwest::Method::POST,
            "/api/dashboards/db",
            &cookie,
            "application/json",
            input.clone(),
        )
        .await;
        let status = client_error_only("/api/dashboards/db", &input, answer);
        *counts.entry(status).or_default() += 1;
        if i % 50 == 49 {
            assert_healthy(&server, "a batch of saved dashboards").await;
            // What was saved reads back.
            let (status, body) = server.get("/api/search?query=", Some(&cookie)).await;
            assert_eq!(status, 200, "{body}");
        }
    }
    let get = |s| counts.get(&s).copied().unwrap_or(0);
    assert!(get(200) > 20 && get(400) > 20, "statuses: {counts:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_and_password_bodies_get_an_answer_below_500() {
    let (prom, loki) = fixture_stubs().await;
    let (server, cookie) = fuzz_server(&prom, &loki).await;
    let json_seeds: Vec<Vec<u8>> = [
        r#"{"user":"admin","password":"admin"}"#,
        r#"{"user":"admin","password":"wrong"}"#,
        r#"{"user":"nobody","password":"x","email":"a@b"}"#,
        r#"{"user":"","password":""}"#,
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    let form_seeds: Vec<Vec<u8>> = [
        "user=admin&password=admin",
        "user=admin&password=wr%20ong",
        "user=%E2%82%AC&password=%ff%fe",
        "user=a&user=b&password=",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    let all: Vec<Vec<u8>> = json_seeds.iter().chain(&form_seeds).cloned().collect();
    let mut rng = Rng(0x5EED_D005);
    let mut counts = std::collections::BTreeMap::<u16, usize>::new();
    for i in 0..300 {
        let form = rng.below(2) == 0;
        let seeds = if form { &form_seeds } else { &json_seeds };
        let input = match rng.below(8) {
            0 => random(&mut rng, 60),
            _ => {
                let seed = rng.pick(seeds);
                mutate(&mut rng, &seed, &all)
            }
        };
        let content_type = if form {
            "application/x-www-form-urlencoded"
        } else {
            rng.pick(&[
                "application/json",
                "text/plain",
                "",
                "application/json; charset=utf-8",
            ])
        };
        let answer = send(
            &server,
            reqwest::Method::POST,
            "/login",
            "",
            content_type,
            input.clone(),
        )
        .await;
        let status = client_error_only("/login", &input, answer);
        *counts.entry(status).or_default() += 1;
        if i % 100 == 99 {
            assert_healthy(&server, "a batch of logins").await;
        }
    }
    let get = |s| counts.get(&s).copied().unwrap_or(0);
    assert!(get(400) > 20 && get(401) > 20, "login statuses: {counts:?}");

    // Password changes: the old password is never right, so the session
    // stays usable; the body's decoding is what is fuzzed.
    let seeds: Vec<Vec<u8>> = [
        r#"{"oldPassword":"wrong","newPassword":"newpassword","confirmNew":"newpassword"}"#,
        r#"{"oldPassword":"x","newPassword":"a","confirmNew":"b"}"#,
        r#"{"oldPassword":"","newPassword":"","confirmNew":null}"#,
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    let mut counts = std::collections::BTreeMap::<u16, usize>::new();
    for i in 0..150 {
        let input = match rng.below(8) {
            0 => random(&mut rng, 60),
            _ => {
                let seed = rng.pick(&seeds);
                mutate(&mut rng, &seed, &seeds)
            }
        };
        let answer = send(
            &server,
            reqwest::Method::PUT,
            "/api/user/password",
            &cookie,
            "application/json",
            input.clone(),
        )
        .await;
        let status = client_error_only("/api/user/password", &input, answer);
        *counts.entry(status).or_default() += 1;
        if i % 50 == 49 {
            assert_healthy(&server, "a batch of password changes").await;
        }
    }
    let get = |s| counts.get(&s).copied().unwrap_or(0);
    assert!(
        get(400) > 20 && get(401) > 5,
        "password statuses: {counts:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cookies_and_basic_auth_headers_identify_or_get_a_401() {
    use base64::Engine;
    let (prom, loki) = fixture_stubs().await;
    let (server, cookie) = fuzz_server(&prom, &loki).await;
    let b64 = |s: &[u8]| base64::engine::general_purpose::STANDARD.encode(s);
    let cookie_seeds: Vec<Vec<u8>> = vec![
        cookie.clone().into_bytes(),
        format!("a=b; {cookie}; c=\"d\"").into_bytes(),
        format!("{cookie}; {cookie}x").into_bytes(),
        b"grafana_session=".to_vec(),
        b"grafana_session=\"quoted\"; =; ;;".to_vec(),
    ];
    let auth_seeds: Vec<Vec<u8>> = vec![
        format!("Basic {}", b64(b"admin:admin")).into_bytes(),
        format!("Basic {}", b64(b"admin:wrong:colon")).into_bytes(),
        format!("basic {}", b64(b"admin")).into_bytes(),
        format!("Basic {}", b64("é\u{0}:\u{10FFFF}".as_bytes())).into_bytes(),
        format!("Basic {}", b64(&[0xff, 0xfe, b':', 0x80])).into_bytes(),
        b"Basic !!".to_vec(),
        b"Bearer abc".to_vec(),
    ];
    let all: Vec<Vec<u8>> = cookie_seeds.iter().chain(&auth_seeds).cloned().collect();
    let mut rng = Rng(0x5EED_D006);
    let mut counts = std::collections::BTreeMap::<u16, usize>::new();
    for i in 0..400 {
        let use_cookie = rng.below(2) == 0;
        let seeds = if use_cookie {
            &cookie_seeds
        } else {
            &auth_seeds
        };
        let input = match (i < seeds.len(), rng.below(8)) {
            (true, _) | (_, 1) => seeds[i % seeds.len()].clone(),
            (_, 0) => random(&mut rng, 40),
            _ => {
                let seed = rng.pick(seeds);
                mutate(&mut rng, &seed, &all)
            }
        };
        // Bytes no HTTP client can send in a header are not fuzzed.
        let Ok(value) = reqwest::header::HeaderValue::from_bytes(&input) else {
            continue;
        };
        let name = if use_cookie {
            "cookie"
        } else {
            "authorization"
        };
        let path = rng.pick(&["/api/user", "/api/search", "/api/datasources", "/"]);
        let answer = server
            .client
            .get(server.url(path))
            .header(name, value)
            .send()
            .await
            .ok()
            .map(|r| r.status().as_u16());
        let Some(status) = answer else {
            panic!(
                "{name}: the connection broke for {:?}",
                String::from_utf8_lossy(&input)
            );
        };
        assert!(
            matches!(status, 200 | 302 | 400 | 401 | 429),
            "{name} {status} for {:?}",
            String::from_utf8_lossy(&input)
        );
        *counts.entry(status).or_default() += 1;
        if i % 100 == 99 {
            assert_healthy(&server, "a batch of credentials").await;
        }
    }
    let get = |s| counts.get(&s).copied().unwrap_or(0);
    assert!(get(200) > 20 && get(401) > 50, "statuses: {counts:?}");
}

/// `/api/ds/query` as `send` posts it, parsed.
async fn ds_query(server: &Server, cookie: &str, request: Value) -> (u16, Value) {
    let input = request.to_string().into_bytes();
    let (status, body) = send(
        server,
        reqwest::Method::POST,
        "/api/ds/query",
        cookie,
        "application/json",
        input.clone(),
    )
    .await
    .expect("an answer");
    check_results(&input, status, &body);
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_time_range_past_the_i64_range_is_refused_not_a_panicked_query() {
    // Found by the fuzzing: `to - from` overflowed in the step computation
    // (a panic in debug builds, a wrapped step in release ones).
    let (prom, loki) = fixture_stubs().await;
    let (server, cookie) = fuzz_server(&prom, &loki).await;
    let query = json!([{"refId": "B", "datasource": {"uid": "loki"}, "expr": "{job=\"x\"}"}]);
    for (from, to) in [
        (json!(-1), json!("9223372036854775807")),
        (json!(i64::MIN), json!(0)),
        (json!("now-1h"), json!("now+9223372036854775807")),
        (json!("now-9223372036854775807"), json!("now+1h")),
    ] {
        let (status, body) = ds_query(
            &server,
            &cookie,
            json!({"from": from, "to": to, "queries": query}),
        )
        .await;
        assert_eq!(status, 400, "{from} {to}: {body}");
    }
}

#[tokio::test]
async fn huge_intervals_and_offsets_do_not_overflow_the_step() {
    // Found by the fuzzing: Loki's `intervalMs * resolution` and the
    // range / 11000 round-up, `$__rate_interval`'s sum and the alignment
    // to `utcOffsetSec` overflowed on the request's extreme numbers.
    let (prom, loki) = fixture_stubs().await;
    let (server, cookie) = fuzz_server(&prom, &loki).await;
    let queries = json!([
        {"refId": "L", "datasource": {"uid": "loki"}, "expr": "{job=\"x\"}",
         "intervalMs": i64::MAX, "resolution": 5},
        {"refId": "P", "datasource": {"uid": "prom"}, "expr": "rate(x[$__rate_interval])",
         "intervalMs": i64::MAX, "utcOffsetSec": i64::MAX},
        {"refId": "Q", "datasource": {"uid": "prom"}, "expr": "up",
         "interval": "$__rate_interval", "utcOffsetSec": i64::MIN},
    ]);
    for (from, to) in [(0, i64::MAX), (i64::MIN + 1, 0), (FROM, TO)] {
        let (status, body) = ds_query(
            &server,
            &cookie,
            json!({"from": from.to_string(), "to": to.to_string(), "queries": queries}),
        )
        .await;
        assert!(status == 200 || status == 207, "{from} {to}: {body}");
    }
}

/// One raw HTTP/1.1 request (the target sent exactly as given, which an
/// HTTP client would normalise): the status, or `None` when the
/// connection closed without one.
async fn raw_get(addr: std::net::SocketAddr, target: &[u8], cookie: &str) -> Option<(u16, String)> {
    let mut stream = tokio::net::TcpStream::connect(addr).await.ok()?;
    let mut request = b"GET ".to_vec();
    request.extend_from_slice(target);
    request.extend_from_slice(
        format!(" HTTP/1.1\r\nHost: {addr}\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n")
            .as_bytes(),
    );
    stream.write_all(&request).await.ok()?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.ok()?;
    let text = String::from_utf8_lossy(&answer).into_owned();
    let status = text.split_whitespace().nth(1)?.parse().ok()?;
    Some((status, text))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxy_paths_in_odd_encodings_are_forwarded_or_refused() {
    let (prom, loki) = fixture_stubs().await;
    let (server, cookie) = fuzz_server(&prom, &loki).await;
    let seeds: Vec<Vec<u8>> = [
        "/api/datasources/proxy/uid/prom/api/v1/labels",
        "/api/datasources/proxy/uid/prom/api/v1/series?match[]=up&start=1&end=2",
        "/api/datasources/proxy/uid/prom/api/v1/label/job/values",
        "/api/datasources/proxy/uid/loki/loki/api/v1/labels?start=1",
        "/api/datasources/proxy/uid/loki/loki/api/v1/label/%6aob/values",
        "/api/datasources/proxy/1/api/v1/labels",
        "/api/datasources/proxy/uid/prom/api/v1/%2e%2e/admin/tsdb/snapshot",
        "/api/datasources/proxy/uid/prom/api/v1/..%2fadmin",
        "/api/datasources/proxy/uid/prom//api/v1/labels",
        "/api/datasources/proxy/uid/pr%6fm/api/v1/query?query=up",
        "/api/datasources/proxy/uid/nope/api/v1/labels",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    let addr = server.dashboards.addr();
    let cookie_value = cookie.clone();
    let mut rng = Rng(0x5EED_D007);
    let mut counts = std::collections::BTreeMap::<u16, usize>::new();
    for i in 0..500 {
        let input = if i < seeds.len() {
            seeds[i].clone()
        } else {
            let seed = rng.pick(&seeds);
            // Past the fixed prefix, so the proxy's own decoding is reached.
            let keep = b"/api/datasources/proxy/".len();
            let mut out = seed[..keep].to_vec();
            out.extend(mutate(&mut rng, &seed[keep..], &seeds));
            out
        };
        // Spaces and line breaks end the request line: not a path.
        if input.iter().any(|b| matches!(b, b' ' | b'\r' | b'\n')) {
            continue;
        }
        let Some((status, text)) = raw_get(addr, &input, &cookie_value).await else {
            panic!("proxy: no answer for {:?}", String::from_utf8_lossy(&input));
        };
        assert!(
            status < 500,
            "proxy {status} for {:?}: {text}",
            String::from_utf8_lossy(&input)
        );
        *counts.entry(status).or_default() += 1;
        if i % 100 == 99 {
            assert_healthy(&server, "a batch of proxy paths").await;
        }
    }
    // Nothing outside the read API reached a datasource.
    for stub in [&prom, &loki] {
        for r in stub.requests() {
            assert!(
                !r.path.contains("..") && !r.path.contains("admin") && !r.path.contains('\\'),
                "forwarded: {r:?}"
            );
        }
    }
    let get = |s| counts.get(&s).copied().unwrap_or(0);
    assert!(
        get(200) > 5 && get(403) > 50 && get(404) > 10,
        "statuses: {counts:?}"
    );
}
