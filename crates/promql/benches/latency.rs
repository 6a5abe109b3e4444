//! Query latency of the reference dashboard's PromQL queries, as range
//! queries over 6 h of data from 1,000 series scraped every 15 s, evaluated
//! by `promql::Engine` over an in-memory `tsdb::Head`.
//!
//! ```text
//! cargo bench -p vigil-promql --bench latency                        # our figures
//! cargo bench -p vigil-promql --bench latency -- --openmetrics F     # also write the data for promtool
//! ```
//! `bench/promql_latency.sh` runs this and Prometheus 2.42 on the same data.

use std::io::Write;
use std::time::{Duration, Instant};

use model::Labels;
use promql::{Engine, EngineOptions};
use tsdb::Head;

/// 2026-11-24T00:00:00Z: a fixed start so both engines see the same data.
const START_MS: i64 = 1_795_478_400_000;
const SCRAPE_MS: i64 = 15_000;
const HOURS: i64 = 6;
const STEP_MS: i64 = 20_000;

/// The dashboard's queries (`shared/reference/README.md`) plus a
/// latency percentile over the duration histogram.
const QUERIES: &[&str] = &[
    r#"up{job="fastapi"}"#,
    "sum(rate(http_requests_total[1m]))",
    "sum by (handler) (rate(http_requests_total[1m]))",
    r#"sum(irate(http_requests_total{job="fastapi"}[1m]))"#,
    r#"sum(http_requests_total{status="2xx"}) / sum(http_requests_total) * 100"#,
    r#"sum by (handler) (http_requests_total{status="5xx"}) / sum by (handler) (http_requests_total)"#,
    r#"http_request_duration_seconds_sum{job="fastapi"} / http_request_duration_seconds_count{job="fastapi"}"#,
    "histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket[5m])))",
];

/// A small deterministic generator (64-bit LCG), so runs are comparable.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

struct SeriesSpec {
    labels: Labels,
    /// Mean increase per scrape (counters) or level (gauges).
    rate: f64,
    counter: bool,
}

fn base(name: &str, extra: &[(&str, String)]) -> Labels {
    let mut pairs: Vec<(String, String)> = vec![
        ("__name__".into(), name.into()),
        ("job".into(), "fastapi".into()),
        ("instance".into(), "app:8000".into()),
    ];
    pairs.extend(extra.iter().map(|(k, v)| (k.to_string(), v.clone())));
    Labels::from_pairs(pairs)
}

/// 1,000 series shaped like prometheus-fastapi-instrumentator's.
fn series() -> Vec<SeriesSpec> {
    let mut out = Vec::new();
    let handlers: Vec<String> = (0..50).map(|i| format!("/api/v1/endpoint_{i}")).collect();
    let methods = ["GET", "POST"];
    for (h, handler) in handlers.iter().enumerate() {
        for method in methods {
            for (s, status) in ["2xx", "4xx", "5xx"].iter().enumerate() {
                out.push(SeriesSpec {
                    labels: base(
                        "http_requests_total",
                        &[
                            ("handler", handler.clone()),
                            ("method", method.into()),
                            ("status", status.to_string()),
                        ],
                    ),
                    rate: (h % 7 + 1) as f64 * [10.0, 1.0, 0.2][s],
                    counter: true,
                });
            }
        }
    }
    for (h, handler) in handlers.iter().enumerate() {
        for method in methods {
            let m = [("handler", handler.clone()), ("method", method.to_string())];
            let n = (h % 7 + 1) as f64 * 11.0;
            out.push(SeriesSpec {
                labels: base("http_request_duration_seconds_count", &m),
                rate: n,
                counter: true,
            });
            out.push(SeriesSpec {
                labels: base("http_request_duration_seconds_sum", &m),
                rate: n * 0.12,
                counter: true,
            });
            for (le, share) in [("0.1", 0.6), ("0.5", 0.9), ("1.0", 0.98), ("+Inf", 1.0)] {
                let mut with_le = m.to_vec();
                with_le.push(("le", le.to_string()));
                out.push(SeriesSpec {
                    labels: base("http_request_duration_seconds_bucket", &with_le),
                    rate: n * share,
                    counter: true,
                });
            }
        }
    }
    for (i, handler) in handlers.iter().enumerate() {
        for method in methods {
            if out.len() == 999 {
                break;
            }
            out.push(SeriesSpec {
                labels: base(
                    "http_response_size_bytes_sum",
                    &[("handler", handler.clone()), ("method", method.into())],
                ),
                rate: 512.0 * (i + 1) as f64,
                counter: true,
            });
        }
    }
    out.push(SeriesSpec {
        labels: base("up", &[]),
        rate: 1.0,
        counter: false,
    });
    out
}

/// Appends every sample to `head`, and writes them as OpenMetrics when asked.
fn load(head: &Head, mut om: Option<&mut dyn Write>) -> std::io::Result<usize> {
    let specs = series();
    assert_eq!(specs.len(), 1000, "the benchmark promises 1,000 series");
    let scrapes = HOURS * 3600 * 1000 / SCRAPE_MS;
    let mut rng = Lcg(42);
    let mut total = 0;
    let mut last_family = String::new();
    for spec in &specs {
        let name = spec.labels.get("__name__").unwrap_or_default().to_owned();
        if let Some(w) = om.as_deref_mut() {
            if name != last_family {
                writeln!(w, "# TYPE {name} unknown")?;
                last_family = name.clone();
            }
        }
        let mut value = 0.0;
        for k in 0..=scrapes {
            let t = START_MS + k * SCRAPE_MS;
            if spec.counter {
                value += (spec.rate * (0.5 + rng.next())).round();
            } else {
                value = spec.rate;
            }
            if head.append(&spec.labels, t, value).is_ok() {
                total += 1;
            }
            if let Some(w) = om.as_deref_mut() {
                let mut labels = String::new();
                for l in spec.labels.iter().filter(|l| l.name != "__name__") {
                    if !labels.is_empty() {
                        labels.push(',');
                    }
                    labels.push_str(&format!("{}=\"{}\"", l.name, l.value));
                }
                writeln!(w, "{name}{{{labels}}} {value} {}", t / 1000)?;
            }
        }
    }
    if let Some(w) = om {
        writeln!(w, "# EOF")?;
    }
    Ok(total)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--list") {
        for q in QUERIES {
            println!("{q}");
        }
        return Ok(());
    }
    let openmetrics = args
        .iter()
        .position(|a| a == "--openmetrics")
        .and_then(|i| args.get(i + 1));
    let rounds: usize = std::env::var("ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(7);
    let head = Head::new();
    let began = Instant::now();
    let samples = match openmetrics {
        Some(path) => {
            let mut file = std::io::BufWriter::new(std::fs::File::create(path)?);
            load(&head, Some(&mut file))?
        }
        None => load(&head, None)?,
    };
    eprintln!(
        "loaded {samples} samples of 1000 series in {:.1?}",
        began.elapsed()
    );
    let engine = Engine::new(EngineOptions::default());
    let end = START_MS + HOURS * 3_600_000;
    let start = START_MS;
    println!(
        "range queries over 6 h (start {}, end {}, step {}s), {rounds} rounds, median (min)",
        start / 1000,
        end / 1000,
        STEP_MS / 1000
    );
    println!("| query | series | points | vigil median | vigil min |");
    println!("|---|---|---|---|---|");
    let only = std::env::var("ONLY").ok();
    for q in QUERIES {
        if only.as_deref().is_some_and(|o| !q.contains(o)) {
            continue;
        }
        let first = engine.range(&head, q, start, end, STEP_MS)?;
        let points: usize = first.value.iter().map(|s| s.points.len()).sum();
        let mut times = Vec::with_capacity(rounds);
        for _ in 0..rounds {
            let t = Instant::now();
            let r = engine.range(&head, q, start, end, STEP_MS)?;
            times.push(t.elapsed());
            assert_eq!(r.value.len(), first.value.len());
        }
        let min = times.iter().min().copied().unwrap_or_default();
        println!(
            "| `{q}` | {} | {points} | {:.1} ms | {:.1} ms |",
            first.value.len(),
            median(times).as_secs_f64() * 1e3,
            min.as_secs_f64() * 1e3
        );
    }
    Ok(())
}
