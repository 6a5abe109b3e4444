//! Differential test against the real Prometheus (Debian's 2.42): the same
//! synthetic series are remote-written to it and to our server, then every
//! query of `differential_queries.txt` runs against both APIs, as instant
//! queries at several times and as range queries, and the answers must be
//! equal: same result type, same label sets, values within 1e-9 relative
//! (NaN equals NaN, infinities exact), same timestamps.
//!
//! Sample timestamps sit off every evaluation boundary (each series has its
//! own millisecond offset), so the 2.x closed and 3.x left-open range
//! windows select the same samples.
//!
//! Fails when no `prometheus` binary is on the PATH: `./test.sh` installs
//! Debian's package, and a skipped test would pass silently.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use model::Labels;
use prom::remote::proto;
use prom::server::{PrometheusServer, ServerOptions};
use serde_json::Value;

/// Differences that are our bugs, not Prometheus 2.42/3.x semantics: listed
/// so that the test stays green while they are open, printed on every run,
/// and required to still differ (the test fails once one is fixed, so that
/// its entry is removed).
const KNOWN_BUGS: &[&str] = &[];

/// Where a known difference may show.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Scope {
    /// Only at evaluation times on a whole second: a subquery's steps are
    /// whole seconds from the epoch, so its window's start coincides with
    /// one of its steps only then. At the half-second evaluation times the
    /// query must agree.
    WholeSeconds,
    /// At any evaluation time.
    Everywhere,
}

/// Prometheus 3's left-open windows applied to a subquery: with the range a
/// multiple of the step and the evaluation time on a step, 2.42 includes the
/// subquery step at the window's start, 3.x excludes it. The Prometheus 3
/// migration guide and 3.0.0 changelog (#13904): range selectors and the
/// lookback delta are now left-open, a sample (here a subquery step)
/// coinciding with the lower time limit is excluded rather than included.
const LEFT_OPEN: &str = "3.x left-open window: subquery step on the window's start excluded";

/// `rate`/`increase` extrapolation at a series' start: prometheus/prometheus
/// PR #13725 ("promql: Fix limiting of extrapolation to negative values",
/// merged March 2024, after 2.42, so in 3.x) limits the half-interval
/// extrapolation by the counter's zero point, where 2.42 compared the zero
/// point with the whole distance to the window's start. Differs when the
/// first sample of a new series is small: `queue_depth` starts at a value
/// near zero.
const ZERO_POINT: &str = "rate extrapolation limited by the zero point after the half-interval rule (PR #13725, after 2.42)";

/// The Prometheus 3.0.0 changelog: "holt_winters is now called
/// double_exponential_smoothing and moves behind the experimental PromQL
/// functions feature flag" (#14930); 3.x (and we) refuse the old name as an
/// unknown function.
const RENAMED: &str = "3.x renamed holt_winters (now double_exponential_smoothing, experimental)";

/// Queries whose answers legitimately differ between Prometheus 2.42 and
/// the Prometheus 3 semantics we implement, one reason each. Outside its
/// scope a listed query must agree; and every reason must still show on
/// at least one of its queries, or the test fails.
const KNOWN_DIFFERENCES: &[(&str, Scope, &str)] = &[
    (
        "max_over_time(rate(http_requests_total[1m])[10m:1m])",
        Scope::WholeSeconds,
        LEFT_OPEN,
    ),
    (
        "avg_over_time(sum(up)[30m:2m])",
        Scope::WholeSeconds,
        LEFT_OPEN,
    ),
    (
        "min_over_time(temperature_celsius[20m:45s])",
        Scope::WholeSeconds,
        LEFT_OPEN,
    ),
    (
        "rate(http_requests_total{job=\"fastapi\", status=\"5xx\"}[5m:30s])",
        Scope::WholeSeconds,
        LEFT_OPEN,
    ),
    (
        "deriv(sum(process_resident_memory_bytes)[15m:1m])",
        Scope::WholeSeconds,
        LEFT_OPEN,
    ),
    (
        "max_over_time(deriv(temperature_celsius[5m])[20m:2m])",
        Scope::WholeSeconds,
        LEFT_OPEN,
    ),
    ("sum_over_time(up[1h:5m])", Scope::WholeSeconds, LEFT_OPEN),
    (
        "max_over_time(sum(rate(http_requests_total[1m]))[30m:1m] offset 5m)",
        Scope::WholeSeconds,
        LEFT_OPEN,
    ),
    // `@ END` puts the evaluation time on a whole minute whatever the
    // query's time.
    (
        "avg_over_time(temperature_celsius[10m:1m] @ END)",
        Scope::Everywhere,
        LEFT_OPEN,
    ),
    ("rate(queue_depth[5m])", Scope::Everywhere, ZERO_POINT),
    (
        "holt_winters(temperature_celsius[10m], 0.5, 0.5)",
        Scope::Everywhere,
        RENAMED,
    ),
];

/// Scrape interval of the synthetic series, in milliseconds.
const STEP_MS: i64 = 15_000;
/// Number of samples per series: one hour.
const POINTS: i64 = 240;

/// A small deterministic generator (a 64-bit LCG), so both servers and
/// every run see the same data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn unit(&mut self) -> f64 {
        (self.next() % 1_000_000) as f64 / 1_000_000.0
    }
}

/// One synthetic series: labels and `(timestamp, value)` samples.
struct Series {
    labels: Labels,
    samples: Vec<(i64, f64)>,
}

const JOBS: [&str; 2] = ["fastapi", "worker"];
const INSTANCES: [&str; 2] = ["10.0.0.1:8000", "10.0.0.2:8000"];
const HANDLERS: [&str; 3] = ["/", "/items", "/users"];
const METHODS: [&str; 4] = ["GET", "POST", "PUT", "DELETE"];
const STATUSES: [&str; 3] = ["2xx", "4xx", "5xx"];
const BUCKETS: [&str; 10] = [
    "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "+Inf",
];

/// The synthetic data set, starting at `base` (a whole minute): counters
/// with resets, gauges (one with a gap closed by a stale marker, one that
/// stops), classic histograms, `up`. Each series gets its own offset whose
/// millisecond part lies in 1..=399: never on a whole or half second, where
/// the queries' windows start. Counters and histograms start far from zero,
/// as those of a long-running process, with fractional increments, so that
/// `topk` never meets a tie.
fn generate(base: i64) -> Vec<Series> {
    let mut rng = Rng(0x5eed);
    let mut out: Vec<Series> = Vec::new();
    let mut offset = {
        let mut n = 0i64;
        move || {
            n += 1;
            1000 * ((n * 7) % 14) + 1 + (n * 137) % 399
        }
    };
    let times = |off: i64| (0..POINTS).map(move |k| (k, base + k * STEP_MS + off));

    for (j, job) in JOBS.iter().enumerate() {
        for (i, instance) in INSTANCES.iter().enumerate() {
            // up: one target down for ten minutes.
            let off = offset();
            let samples = times(off)
                .map(|(k, t)| {
                    let down = j == 0 && i == 1 && (120..160).contains(&k);
                    (t, if down { 0.0 } else { 1.0 })
                })
                .collect();
            out.push(Series {
                labels: Labels::from_pairs([
                    ("__name__", "up"),
                    ("job", job),
                    ("instance", instance),
                ]),
                samples,
            });

            // Request counters, some reset once or twice.
            for handler in HANDLERS {
                for method in METHODS {
                    for status in STATUSES {
                        let n = out.len() as u64;
                        let off = offset();
                        let weight = match status {
                            "2xx" => 20,
                            "4xx" => 4,
                            _ => 2,
                        };
                        let mut value = 1000.0 + rng.below(1000) as f64;
                        let samples = times(off)
                            .map(|(k, t)| {
                                if (n % 7 == 3 && k == 100) || (n % 11 == 5 && k == 170) {
                                    value = rng.below(5) as f64;
                                } else {
                                    value += rng.below(weight) as f64 + rng.unit();
                                }
                                (t, value)
                            })
                            .collect();
                        out.push(Series {
                            labels: Labels::from_pairs([
                                ("__name__", "http_requests_total"),
                                ("job", job),
                                ("instance", instance),
                                ("handler", handler),
                                ("method", method),
                                ("status", status),
                            ]),
                            samples,
                        });
                    }
                }

                // A classic histogram per handler; one of them resets.
                let off = offset();
                let mut counts = [0f64; BUCKETS.len()];
                let mut sum = 0f64;
                let mut rows: Vec<(i64, [f64; BUCKETS.len()], f64)> = Vec::new();
                let resets = j == 1 && i == 0 && handler == "/items";
                for (k, t) in (-1..0).map(|k| (k, 0)).chain(times(off)) {
                    if resets && k == 130 {
                        counts = [0.0; BUCKETS.len()];
                        sum = 0.0;
                    }
                    let observations = if k < 0 { 2000 } else { rng.below(12) };
                    for _ in 0..observations {
                        let d = rng.unit() * rng.unit() * 3.0;
                        sum += d;
                        for (b, le) in BUCKETS.iter().enumerate() {
                            let bound: f64 = if *le == "+Inf" {
                                f64::INFINITY
                            } else {
                                le.parse().unwrap()
                            };
                            if d <= bound {
                                counts[b] += 1.0;
                            }
                        }
                    }
                    if k >= 0 {
                        rows.push((t, counts, sum));
                    }
                }
                let labels = |name: &str, le: Option<&str>| {
                    let mut pairs = vec![
                        ("__name__", name),
                        ("job", job),
                        ("instance", instance),
                        ("handler", handler),
                    ];
                    if let Some(le) = le {
                        pairs.push(("le", le));
                    }
                    Labels::from_pairs(pairs)
                };
                for (b, le) in BUCKETS.iter().enumerate() {
                    out.push(Series {
                        labels: labels("http_request_duration_seconds_bucket", Some(le)),
                        samples: rows.iter().map(|r| (r.0, r.1[b])).collect(),
                    });
                }
                out.push(Series {
                    labels: labels("http_request_duration_seconds_count", None),
                    samples: rows.iter().map(|r| (r.0, r.1[BUCKETS.len() - 1])).collect(),
                });
                out.push(Series {
                    labels: labels("http_request_duration_seconds_sum", None),
                    samples: rows.iter().map(|r| (r.0, r.2)).collect(),
                });
            }

            // Gauges.
            let off = offset();
            let phase = (j * 2 + i) as f64;
            out.push(Series {
                labels: Labels::from_pairs([
                    ("__name__", "process_resident_memory_bytes"),
                    ("job", job),
                    ("instance", instance),
                ]),
                samples: times(off)
                    .map(|(k, t)| {
                        let v = 5.0e7 + 1.0e7 * ((k as f64) / 20.0 + phase).sin();
                        (t, v.round())
                    })
                    .collect(),
            });
            for zone in ["a", "b"] {
                let off = offset();
                let z = if zone == "a" { 0.0 } else { 1.5 };
                out.push(Series {
                    labels: Labels::from_pairs([
                        ("__name__", "temperature_celsius"),
                        ("job", job),
                        ("instance", instance),
                        ("zone", zone),
                    ]),
                    samples: times(off)
                        .map(|(k, t)| {
                            let v = 20.0 + z + 5.0 * ((k as f64) / 33.0 + phase).cos() - rng.unit();
                            (t, v)
                        })
                        .collect(),
                });
            }
            // A gauge with a gap: a stale marker at k = 150, back at 165.
            let off = offset();
            out.push(Series {
                labels: Labels::from_pairs([
                    ("__name__", "queue_depth"),
                    ("job", job),
                    ("instance", instance),
                ]),
                samples: times(off)
                    .filter(|(k, _)| !(151..165).contains(k))
                    .map(|(k, t)| {
                        if k == 150 {
                            (t, model::staleness::stale_nan())
                        } else {
                            (t, rng.below(50) as f64 - 10.0)
                        }
                    })
                    .collect(),
            });
        }
    }
    // A series that stops 50 minutes in, without a stale marker.
    let off = offset();
    out.push(Series {
        labels: Labels::from_pairs([("__name__", "batch_last_success"), ("job", "batch")]),
        samples: times(off)
            .filter(|(k, _)| *k < 200)
            .map(|(k, t)| (t, (base / 1000 + k * 15) as f64))
            .collect(),
    });
    out
}

/// The data as remote-write bodies, one per five minutes of samples across
/// all series, oldest first: both TSDBs take samples within an hour of the
/// newest they hold.
fn bodies(series: &[Series], base: i64) -> Vec<Vec<u8>> {
    let window = 20 * STEP_MS;
    let mut out = Vec::new();
    let mut from = base;
    while from < base + POINTS * STEP_MS {
        let to = from + window;
        let timeseries = series
            .iter()
            .map(|s| {
                let mut ts = proto::TimeSeries::new(&s.labels);
                ts.samples = s
                    .samples
                    .iter()
                    .filter(|(t, _)| (from..to).contains(t))
                    .map(|&(timestamp, value)| proto::Sample { value, timestamp })
                    .collect();
                ts
            })
            .filter(|ts| !ts.samples.is_empty())
            .collect();
        out.push(proto::encode(&proto::WriteRequest {
            timeseries,
            metadata: vec![],
        }));
        from = to;
    }
    out
}

/// One evaluation of a query.
#[derive(Clone, Copy, Debug)]
enum Eval {
    Instant(i64),
    Range { start: i64, end: i64, step: i64 },
}

fn seconds(ms: i64) -> String {
    format!("{}.{:03}", ms.div_euclid(1000), ms.rem_euclid(1000))
}

async fn run(client: &reqwest::Client, base: &str, query: &str, eval: Eval) -> Value {
    let request = match eval {
        Eval::Instant(t) => client
            .get(format!("{base}/api/v1/query"))
            .query(&[("query", query), ("time", &seconds(t))]),
        Eval::Range { start, end, step } => {
            client.get(format!("{base}/api/v1/query_range")).query(&[
                ("query", query),
                ("start", &seconds(start)),
                ("end", &seconds(end)),
                ("step", &seconds(step)),
            ])
        }
    };
    let text = request.send().await.unwrap().text().await.unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{base}: {query}: {e}: {text}"))
}

fn parse_value(v: &Value) -> Result<f64, String> {
    let s = v
        .as_str()
        .ok_or_else(|| format!("value {v} is not a string"))?;
    match s {
        "NaN" => Ok(f64::NAN),
        "+Inf" => Ok(f64::INFINITY),
        "-Inf" => Ok(f64::NEG_INFINITY),
        _ => s.parse().map_err(|e| format!("value {s:?}: {e}")),
    }
}

fn parse_time(v: &Value) -> Result<i64, String> {
    let t = v
        .as_f64()
        .ok_or_else(|| format!("timestamp {v} is not a number"))?;
    Ok((t * 1000.0).round() as i64)
}

fn close(a: f64, b: f64) -> bool {
    if a.is_nan() || b.is_nan() {
        return a.is_nan() && b.is_nan();
    }
    if a.is_infinite() || b.is_infinite() {
        return a == b;
    }
    let scale = a.abs().max(b.abs());
    (a - b).abs() <= 1e-9 * scale || (a - b).abs() <= 1e-12
}

fn point(p: &Value) -> Result<(i64, Value), String> {
    Ok((parse_time(&p[0])?, p[1].clone()))
}

fn compare_points(ours: &Value, theirs: &Value, what: &str) -> Result<(), String> {
    let (to, vo) = point(ours)?;
    let (tt, vt) = point(theirs)?;
    if to != tt {
        return Err(format!("{what}: timestamp ours {to}, theirs {tt}"));
    }
    let (a, b) = (parse_value(&vo)?, parse_value(&vt)?);
    if !close(a, b) {
        return Err(format!("{what} at {to}: ours {vo}, theirs {vt}"));
    }
    Ok(())
}

fn metric(series: &Value) -> BTreeMap<String, String> {
    series["metric"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

fn sorted(result: &Value) -> Vec<(BTreeMap<String, String>, &Value)> {
    let mut out: Vec<_> = result
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| (metric(s), s))
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// `Ok` when the two API answers agree.
fn compare(ours: &Value, theirs: &Value) -> Result<(), String> {
    let status = |v: &Value| v["status"].as_str().unwrap_or_default().to_owned();
    match (status(ours).as_str(), status(theirs).as_str()) {
        ("success", "success") => {}
        ("error", "error") => {
            return if ours["errorType"] == theirs["errorType"] {
                Ok(())
            } else {
                Err(format!(
                    "error types differ: ours {} ({}), theirs {} ({})",
                    ours["errorType"], ours["error"], theirs["errorType"], theirs["error"]
                ))
            };
        }
        _ => {
            return Err(format!(
                "ours {} {}, theirs {} {}",
                status(ours),
                ours["error"],
                status(theirs),
                theirs["error"]
            ));
        }
    }
    let (ours, theirs) = (&ours["data"], &theirs["data"]);
    let kind = ours["resultType"].as_str().unwrap_or_default();
    if ours["resultType"] != theirs["resultType"] {
        return Err(format!(
            "result types: ours {}, theirs {}",
            ours["resultType"], theirs["resultType"]
        ));
    }
    let (ro, rt) = (&ours["result"], &theirs["result"]);
    match kind {
        "scalar" => compare_points(ro, rt, "scalar"),
        "string" => {
            let (a, b) = (point(ro)?, point(rt)?);
            if a == b {
                Ok(())
            } else {
                Err(format!("string: ours {ro}, theirs {rt}"))
            }
        }
        "vector" | "matrix" => {
            let (so, st) = (sorted(ro), sorted(rt));
            let labels = |s: &[(BTreeMap<String, String>, &Value)]| {
                s.iter().map(|x| x.0.clone()).collect::<Vec<_>>()
            };
            if labels(&so) != labels(&st) {
                return Err(format!(
                    "series: ours {:?}, theirs {:?}",
                    labels(&so),
                    labels(&st)
                ));
            }
            for ((m, o), (_, t)) in so.iter().zip(&st) {
                let what = format!("{m:?}");
                if kind == "vector" {
                    compare_points(&o["value"], &t["value"], &what)?;
                } else {
                    let empty = Vec::new();
                    let po = o["values"].as_array().unwrap_or(&empty);
                    let pt = t["values"].as_array().unwrap_or(&empty);
                    let times =
                        |p: &[Value]| p.iter().map(|x| parse_time(&x[0])).collect::<Vec<_>>();
                    if po.len() != pt.len() {
                        return Err(format!(
                            "{what}: timestamps ours {:?}, theirs {:?}",
                            times(po),
                            times(pt)
                        ));
                    }
                    for (a, b) in po.iter().zip(pt) {
                        compare_points(a, b, &what)?;
                    }
                }
            }
            Ok(())
        }
        other => Err(format!("unknown result type {other:?}")),
    }
}

fn queries() -> Vec<String> {
    include_str!("differential_queries.txt")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect()
}

/// Its own `main` (no libtest harness), like the promqltest runner, so its
/// totals are printed on every run, not only when it fails.
fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(same_answers_as_prometheus());
}

async fn same_answers_as_prometheus() {
    let started = Instant::now();
    let prometheus = testkit::RealPrometheus::start();
    let dir = tempfile::tempdir().unwrap();
    let config_file = dir.path().join("prometheus.yml");
    std::fs::write(&config_file, "global:\n  scrape_interval: 1h\n").unwrap();
    let ours = PrometheusServer::start(ServerOptions {
        enable_remote_write_receiver: true,
        ..ServerOptions::new(
            config_file,
            dir.path().join("data"),
            "127.0.0.1:0".parse().unwrap(),
        )
    })
    .await
    .unwrap();
    let our_base = format!("http://{}", ours.addr());
    let their_base = format!("http://{}", prometheus.addr());

    // An hour of data ending five minutes ago, starting on a whole minute.
    let now = chrono::Utc::now().timestamp_millis();
    let base = (now / 60_000) * 60_000 - 65 * 60_000;
    let series = generate(base);
    let client = reqwest::Client::new();
    for body in bodies(&series, base) {
        for target in [&our_base, &their_base] {
            let mut request = client.post(format!("{target}/api/v1/write"));
            for (name, value) in proto::REQUEST_HEADERS {
                request = request.header(name, value);
            }
            let response = request.body(body.clone()).send().await.unwrap();
            let status = response.status().as_u16();
            let text = response.text().await.unwrap();
            assert_eq!(status, 204, "{target}: {text}");
        }
    }

    let end = base + POINTS * STEP_MS;
    let evals = [
        Eval::Instant(end - 5 * 60_000),
        Eval::Instant(end - 23 * 60_000 - 30_000),
        Eval::Instant(base + 30 * 60_000 + 7_500),
        Eval::Instant(base + 3 * 60_000),
        Eval::Instant(base + 2 * 60_000 + 500),
        Eval::Instant(end + 9 * 60_000),
        Eval::Instant(end + 4 * 60_000 + 30_500),
        Eval::Range {
            start: base - 2 * 60_000,
            end: end + 7 * 60_000,
            step: 60_000,
        },
        Eval::Range {
            start: base - 60_000 + 500,
            end: end + 5 * 60_000,
            step: 60_000,
        },
        Eval::Range {
            start: base + 10 * 60_000 + 3_500,
            end: base + 40 * 60_000,
            step: 37_000,
        },
    ];
    let queries = queries();
    assert!(queries.len() >= 150, "only {} queries", queries.len());
    let (mut passed, mut failed) = ([0usize; 2], [0usize; 2]);
    let mut known_seen = vec![false; KNOWN_DIFFERENCES.len()];
    let mut bugs_seen = vec![false; KNOWN_BUGS.len()];
    let mut failures = Vec::new();
    for query in &queries {
        // `@ end()` style times are resolved by the API; `BASE`/`END`
        // stand for the data's first and last minute in seconds.
        let query = query
            .replace("BASE", &(base / 1000).to_string())
            .replace("END", &(end / 1000).to_string());
        let known = KNOWN_DIFFERENCES.iter().position(|(q, _, _)| {
            q.replace("BASE", &(base / 1000).to_string())
                .replace("END", &(end / 1000).to_string())
                == query
        });
        for eval in evals {
            let (kind, first) = match eval {
                Eval::Instant(t) => (0, t),
                Eval::Range { start, .. } => (1, start),
            };
            let excused =
                known.filter(|&k| KNOWN_DIFFERENCES[k].1 == Scope::Everywhere || first % 1000 == 0);
            let a = run(&client, &our_base, &query, eval).await;
            let b = run(&client, &their_base, &query, eval).await;
            let bug = KNOWN_BUGS.iter().position(|q| *q == query);
            match (compare(&a, &b), excused) {
                (Ok(()), _) => passed[kind] += 1,
                (Err(why), _) if bug.is_some() => {
                    bugs_seen[bug.unwrap_or_default()] = true;
                    // The first 300 characters say enough; whole answers
                    // would bury the summary.
                    let short: String = why.chars().take(300).collect();
                    eprintln!("KNOWN BUG {query}  [{eval:?}]: {short}…");
                }
                (Err(_), Some(k)) => known_seen[k] = true,
                (Err(why), None) => {
                    failed[kind] += 1;
                    failures.push(format!("{query}  [{eval:?}]: {why}"));
                }
            }
        }
    }
    for failure in &failures {
        eprintln!("FAIL {failure}");
    }
    println!(
        "differential: {} passed, {} failed ({} queries; instant {} passed, {} failed; range {} passed, {} failed; {} known differences)",
        passed[0] + passed[1],
        failed[0] + failed[1],
        queries.len(),
        passed[0],
        failed[0],
        passed[1],
        failed[1],
        KNOWN_DIFFERENCES.len(),
    );
    println!(
        "differential: {} known bugs (see KNOWN_BUGS)",
        KNOWN_BUGS.len()
    );
    ours.shutdown().await.unwrap();
    drop(prometheus);
    assert!(failures.is_empty(), "{} differences", failures.len());
    for (query, seen) in KNOWN_BUGS.iter().zip(bugs_seen) {
        assert!(
            seen,
            "known bug no longer differs, remove it from KNOWN_BUGS: {query}"
        );
    }
    // Each reason must still show somewhere. Not each entry: whether a
    // subquery step on the window's start changes a `min`/`max`/`avg`
    // depends on where the data's start falls against the step, which
    // moves with the wall clock.
    for (_, _, reason) in KNOWN_DIFFERENCES {
        let shown = KNOWN_DIFFERENCES
            .iter()
            .zip(&known_seen)
            .any(|((_, _, r), seen)| r == reason && *seen);
        assert!(shown, "known difference no longer shows anywhere: {reason}");
    }
    for ((query, _, _), seen) in KNOWN_DIFFERENCES.iter().zip(&known_seen) {
        if !seen {
            println!("differential: listed difference did not show this run: {query}");
        }
    }
    assert!(started.elapsed() < Duration::from_secs(120));
}
