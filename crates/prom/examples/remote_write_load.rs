//! Writes the same synthetic history to one or more remote-write endpoints,
//! for `bench/prom_query_remote.sh`: TARGETS instances of the reference
//! FastAPI app's metrics (the shapes of `bench/prom_targets.py`:
//! `http_requests_total{handler,method,status}` counters and a classic
//! `http_request_duration_seconds` histogram per handler, plus `up`),
//! sampled every INTERVAL seconds over the last HOURS hours, oldest first,
//! in requests of two minutes of samples across all series.
//!
//! ```text
//! cargo run --release -p vigil-prom --example remote_write_load -- \
//!     --targets 50 --hours 1 --interval 15 http://127.0.0.1:9090/api/v1/write ...
//! ```

use model::Labels;
use prom::remote::proto::{self, Sample, TimeSeries, WriteRequest};

const METHODS: [&str; 4] = ["GET", "POST", "PUT", "DELETE"];
const STATUSES: [(&str, f64); 3] = [("2xx", 7.0), ("4xx", 2.0), ("5xx", 1.0)];
const BUCKETS: [&str; 10] = [
    "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "+Inf",
];
const HANDLERS: usize = 41;

/// One series and how much it grows per sample.
struct Shape {
    labels: Labels,
    per_sample: f64,
}

fn shapes(targets: usize) -> Vec<Shape> {
    let mut out = Vec::new();
    for target in 0..targets {
        let instance = format!("127.0.0.1:{}", 19300 + target);
        let series = |name: &str, extra: &[(&str, &str)], per_sample: f64| Shape {
            labels: Labels::from_pairs(
                [
                    ("__name__", name),
                    ("job", "fastapi"),
                    ("instance", instance.as_str()),
                ]
                .into_iter()
                .chain(extra.iter().copied()),
            ),
            per_sample,
        };
        out.push(series("up", &[], 0.0));
        for h in 0..HANDLERS {
            let handler = format!("/api/v1/resource{h}");
            let weight = (1 + (h + target) % 3) as f64;
            for method in METHODS {
                for (status, w) in STATUSES {
                    out.push(series(
                        "http_requests_total",
                        &[
                            ("handler", handler.as_str()),
                            ("method", method),
                            ("status", status),
                        ],
                        w * weight,
                    ));
                }
            }
            for (i, le) in BUCKETS.iter().enumerate() {
                out.push(series(
                    "http_request_duration_seconds_bucket",
                    &[("handler", handler.as_str()), ("le", le)],
                    (i + 1) as f64,
                ));
            }
            out.push(series(
                "http_request_duration_seconds_count",
                &[("handler", handler.as_str())],
                BUCKETS.len() as f64,
            ));
            out.push(series(
                "http_request_duration_seconds_sum",
                &[("handler", handler.as_str())],
                0.37,
            ));
        }
    }
    out
}

fn value(shape: &Shape, n: i64) -> f64 {
    if shape.per_sample == 0.0 {
        1.0
    } else {
        1000.0 + n as f64 * shape.per_sample
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut targets = 50usize;
    let mut hours = 1.0f64;
    let mut interval_s = 15i64;
    let mut urls = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut number = |name: &str| -> f64 {
            args.next()
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("{name} takes a number"))
        };
        match arg.as_str() {
            "--targets" => targets = number("--targets") as usize,
            "--hours" => hours = number("--hours"),
            "--interval" => interval_s = number("--interval") as i64,
            url => urls.push(url.to_owned()),
        }
    }
    assert!(!urls.is_empty(), "give at least one remote-write URL");
    let shapes = shapes(targets);
    let step = interval_s * 1000;
    let now = chrono::Utc::now().timestamp_millis();
    let end = now - now % step;
    let points = (hours * 3600.0 * 1000.0) as i64 / step;
    let start = end - (points - 1) * step;
    let per_request = (120_000 / step).max(1);
    let client = reqwest::Client::new();
    let mut sent = 0usize;
    let mut n = 0;
    while n < points {
        let upto = (n + per_request).min(points);
        let request = WriteRequest {
            timeseries: shapes
                .iter()
                .map(|shape| {
                    let mut ts = TimeSeries::new(&shape.labels);
                    ts.samples = (n..upto)
                        .map(|k| Sample {
                            value: value(shape, k),
                            timestamp: start + k * step,
                        })
                        .collect();
                    ts
                })
                .collect(),
            metadata: Vec::new(),
        };
        let body = proto::encode(&request);
        for url in &urls {
            let mut post = client.post(url);
            for (name, value) in proto::REQUEST_HEADERS {
                post = post.header(name, value);
            }
            let response = post
                .body(body.clone())
                .send()
                .await
                .unwrap_or_else(|e| panic!("{url}: {e}"));
            let status = response.status();
            assert!(
                status.is_success(),
                "{url}: {status}: {}",
                response.text().await.unwrap_or_default()
            );
        }
        sent += shapes.len() * (upto - n) as usize;
        n = upto;
    }
    println!(
        "{} series x {points} samples every {interval_s}s ({sent} samples) written to {} endpoint(s); last sample at {}",
        shapes.len(),
        urls.len(),
        end / 1000
    );
}
