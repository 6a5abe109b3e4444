//! The lines the load tool pushes, with their streams and timestamps.
//!
//! Two shapes:
//! - `bench`: access-log lines of about 145 bytes in S streams
//!   `{job="bench", stream="sN"}`, in the layout of the demo's request lines
//!   (`crates/demo/src/lines.rs`) with a varied path, client, user and size,
//!   so that neither compression nor filtering gets an unrealistically easy
//!   ride. About 10% are `ERROR` (5xx), 15% `WARNING` (4xx).
//! - `reference`: what the reference Promtail ships from the reference
//!   app's `logs.log`: half application lines, half request lines, as its
//!   log generator writes them (level drawn uniformly, as it does), with the
//!   labels its two regex stages extract (`log_level`, `module`,
//!   `function` or `log_level`, `method`, `uri`, `status`) besides `job`,
//!   `env` and `filename`. That is 27 + 108 streams.
//!
//! Line `k` of `n` gets the timestamp `end - span + (k + 1) * span / n`:
//! increasing over all lines, hence strictly increasing in every stream,
//! and never after `end`. The text timestamp is the entry's, to the
//! millisecond, as in the reference's files.

use std::fmt::Write;

/// A small deterministic generator (SplitMix64): the same seed gives the
/// same lines, so two servers can be given identical data.
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0); the modulo bias is irrelevant here.
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    fn pick<'a>(&mut self, choices: &[&'a str]) -> &'a str {
        choices[self.below(choices.len() as u64) as usize]
    }
}

/// Which lines and streams to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    /// Access-log lines round-robin over this many streams, with this
    /// `job` label.
    Bench { streams: usize, job: &'static str },
    /// The reference app's `logs.log` as the reference Promtail labels it.
    Reference,
}

const METHODS: [&str; 4] = ["GET", "POST", "PUT", "DELETE"];
// Words for query strings: none of them contains a level name, so a
// `|= "ERROR"` filter matches exactly the ERROR lines.
const WORDS: [&str; 8] = [
    "shoes", "laptop", "coffee", "garden", "phone", "lamp", "books", "bike",
];

// The reference log generator's choices (its `log_generator.py`, as
// `crates/demo/src/loggen.rs` reproduces them).
const REF_LEVELS: [&str; 3] = ["INFO", "WARNING", "ERROR"];
const REF_URIS: [&str; 3] = ["api/vi/foo", "api/vi/bar", "api/vi/buz"];
const REF_STATUSES: [&str; 3] = ["200", "400", "500"];
const REF_MODULES: [&str; 3] = ["module_1", "module_2", "module_3"];
const REF_FUNCTIONS: [&str; 3] = ["function_1", "function_2", "function_3"];

/// Produces line after line, each with its stream and timestamp.
#[derive(Debug)]
pub(crate) struct Generator {
    shape: Shape,
    rng: Rng,
    streams: Vec<String>,
    end_ns: i64,
    span_ns: i64,
    total: u64,
    /// The text of the last whole second formatted, and which second: the
    /// date part changes once a second at most, so it is formatted once.
    second: (i64, String),
}

impl Generator {
    /// `total` lines with timestamps in `(end - span, end]`.
    pub(crate) fn new(shape: Shape, seed: u64, end_ns: i64, span_ns: i64, total: u64) -> Self {
        let streams = match shape {
            Shape::Bench { streams, job } => (0..streams.max(1))
                .map(|s| format!(r#"{{job="{job}", stream="s{s}"}}"#))
                .collect(),
            Shape::Reference => reference_streams(),
        };
        Self {
            shape,
            rng: Rng::new(seed),
            streams,
            end_ns,
            span_ns,
            total: total.max(1),
            second: (i64::MIN, String::new()),
        }
    }

    /// Every stream's label set; [`Self::line`] returns indexes into it.
    pub(crate) fn streams(&self) -> &[String] {
        &self.streams
    }

    /// Line `k`: its stream index and timestamp, the text into `out`
    /// (cleared first, no trailing newline: Promtail strips it).
    pub(crate) fn line(&mut self, k: u64, out: &mut String) -> (usize, i64) {
        let offset = (k as i128 + 1) * self.span_ns as i128 / self.total as i128;
        let ts = self.end_ns - self.span_ns + offset as i64;
        out.clear();
        self.timestamp(ts, out);
        let stream = match self.shape {
            Shape::Bench { .. } => {
                self.bench_line(out);
                (k % self.streams.len() as u64) as usize
            }
            Shape::Reference => self.reference_line(out),
        };
        (stream, ts)
    }

    fn timestamp(&mut self, ts: i64, out: &mut String) {
        let (secs, nanos) = (ts.div_euclid(1_000_000_000), ts.rem_euclid(1_000_000_000));
        if self.second.0 != secs {
            let text = chrono::DateTime::from_timestamp(secs, 0)
                .map(|t| t.format("%Y-%m-%dT%H:%M:%S").to_string())
                .unwrap_or_else(|| "1970-01-01T00:00:00".into());
            self.second = (secs, text);
        }
        let _ = write!(out, "{}.{:03}Z", self.second.1, nanos / 1_000_000);
    }

    /// `<ts> | INFO | GET /api/v1/users/4821/orders | Requested by:
    /// 10.0.3.17 Status: 200 Duration: 37 ms | user: 58172 | size: 5120`
    fn bench_line(&mut self, out: &mut String) {
        let r = &mut self.rng;
        let roll = r.below(100);
        let (level, status) = match roll {
            0..10 => ("ERROR", ["500", "502", "503"][r.below(3) as usize]),
            10..25 => ("WARNING", ["400", "401", "403", "404"][r.below(4) as usize]),
            _ => (
                "INFO",
                ["200", "200", "200", "201", "204"][r.below(5) as usize],
            ),
        };
        // Mostly reads, as on a real API.
        let method = match r.below(10) {
            0..6 => "GET",
            6..8 => "POST",
            8 => "PUT",
            _ => "DELETE",
        };
        let _ = write!(out, " | {level} | {method} ");
        match r.below(8) {
            0 => {
                let _ = write!(out, "/api/v1/users/{}/orders", r.below(100_000));
            }
            1 => {
                let _ = write!(out, "/api/v1/orders/{}/items", 100_000 + r.below(900_000));
            }
            2 => {
                let _ = write!(out, "/api/v1/products?page={}", 1 + r.below(50));
            }
            3 => {
                let word = r.pick(&WORDS);
                let _ = write!(out, "/api/v1/search?q={word}&limit=20");
            }
            4 => out.push_str("/api/v1/cart/checkout"),
            5 => {
                let _ = write!(out, "/api/v2/inventory/sku-{:06}", r.below(1_000_000));
            }
            6 => out.push_str("/health"),
            _ => {
                let _ = write!(out, "/static/js/app.{:08x}.js", r.below(16) * 0x1f2e3d);
            }
        }
        // Durations are skewed: most requests are quick, errors are slow.
        let duration = match level {
            "ERROR" => 200 + r.below(4800),
            _ if r.below(10) == 0 => 100 + r.below(900),
            _ => 1 + r.below(99),
        };
        let _ = write!(
            out,
            " | Requested by: 10.{}.{}.{} Status: {status} Duration: {duration} ms | user: {} | size: {}",
            r.below(4),
            r.below(16),
            1 + r.below(254),
            10_000 + r.below(90_000),
            r.below(65_536),
        );
    }

    /// The reference's two formats, half and half; returns the stream.
    fn reference_line(&mut self, out: &mut String) -> usize {
        let r = &mut self.rng;
        let level = r.below(3) as usize;
        if r.below(2) == 0 {
            let (module, function) = (r.below(3) as usize, r.below(3) as usize);
            let _ = write!(
                out,
                " | {} | Module: {} | Function: {}| Fake log message from {}",
                REF_LEVELS[level],
                REF_MODULES[module],
                REF_FUNCTIONS[function],
                REF_FUNCTIONS[function]
            );
            (level * 3 + module) * 3 + function
        } else {
            let (method, uri, status) = (
                r.below(4) as usize,
                r.below(3) as usize,
                r.below(3) as usize,
            );
            let _ = write!(
                out,
                " | {} | {} {} | Requested by: Undefined Status: {} Duration: {} ms",
                REF_LEVELS[level],
                METHODS[method],
                REF_URIS[uri],
                REF_STATUSES[status],
                100 + r.below(1401)
            );
            27 + ((level * 4 + method) * 3 + uri) * 3 + status
        }
    }
}

/// The label sets of the reference shape, in the order
/// [`Generator::reference_line`] indexes them; names sorted, as Promtail
/// writes a label set.
fn reference_streams() -> Vec<String> {
    const COMMON: &str = r#"env="dev", filename="/var/log/logs.log""#;
    let mut out = Vec::with_capacity(27 + 108);
    for level in REF_LEVELS {
        for module in REF_MODULES {
            for function in REF_FUNCTIONS {
                out.push(format!(
                    r#"{{{COMMON}, function="{function}", job="fast-api-logs", log_level="{level}", module="{module}"}}"#
                ));
            }
        }
    }
    for level in REF_LEVELS {
        for method in METHODS {
            for uri in REF_URIS {
                for status in REF_STATUSES {
                    out.push(format!(
                        r#"{{{COMMON}, job="fast-api-logs", log_level="{level}", method="{method}", status="{status}", uri="{uri}"}}"#
                    ));
                }
            }
        }
    }
    out
}

/// The mean length of a shape's lines, from a sample: to turn a byte
/// target into a line count before the timestamps are laid out.
pub(crate) fn mean_line_len(shape: Shape, seed: u64) -> f64 {
    const SAMPLE: u64 = 20_000;
    let mut generator = Generator::new(
        shape,
        seed ^ 0x5eed,
        1_700_000_000_000_000_000,
        3_600_000_000_000,
        SAMPLE,
    );
    let mut line = String::new();
    let mut bytes = 0usize;
    for k in 0..SAMPLE {
        generator.line(k, &mut line);
        bytes += line.len();
    }
    bytes as f64 / SAMPLE as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    const END: i64 = 1_700_000_000_000_000_000;
    const BENCH16: Shape = Shape::Bench {
        streams: 16,
        job: "bench",
    };
    const HOUR: i64 = 3_600_000_000_000;

    #[test]
    fn bench_lines_are_about_145_bytes_and_10_percent_errors() {
        let n = 50_000;
        let mut generator = Generator::new(BENCH16, 1, END, HOUR, n);
        let (mut line, mut bytes, mut errors) = (String::new(), 0, 0);
        for k in 0..n {
            generator.line(k, &mut line);
            bytes += line.len();
            errors += usize::from(line.contains("ERROR"));
        }
        let mean = bytes as f64 / n as f64;
        assert!((135.0..155.0).contains(&mean), "mean line length {mean}");
        let share = errors as f64 / n as f64;
        assert!((0.09..0.11).contains(&share), "ERROR share {share}");
    }

    #[test]
    fn timestamps_increase_per_stream_and_stay_in_the_span() {
        for shape in [
            Shape::Bench {
                streams: 3,
                job: "bench",
            },
            Shape::Reference,
        ] {
            let n = 10_000;
            let mut generator = Generator::new(shape, 7, END, HOUR, n);
            let mut last = vec![i64::MIN; generator.streams().len()];
            let mut line = String::new();
            for k in 0..n {
                let (stream, ts) = generator.line(k, &mut line);
                assert!(ts > last[stream], "{shape:?} line {k}");
                assert!(ts > END - HOUR && ts <= END);
                last[stream] = ts;
            }
            assert_eq!(last.iter().copied().max(), Some(END));
        }
    }

    #[test]
    fn text_timestamp_is_the_entrys() {
        let mut generator = Generator::new(
            Shape::Bench {
                streams: 1,
                job: "bench",
            },
            1,
            END,
            HOUR,
            1,
        );
        let mut line = String::new();
        generator.line(0, &mut line);
        // 1_700_000_000 s is 2023-11-14T22:13:20Z.
        assert!(line.starts_with("2023-11-14T22:13:20.000Z | "), "{line}");
    }

    #[test]
    fn reference_lines_match_their_streams() {
        let n = 5_000;
        let mut generator = Generator::new(Shape::Reference, 3, END, HOUR, n);
        assert_eq!(generator.streams().len(), 135);
        let mut line = String::new();
        for k in 0..n {
            let (stream, _) = generator.line(k, &mut line);
            let labels = generator.streams()[stream].clone();
            let fields: Vec<&str> = line.split(" | ").collect();
            assert!(
                labels.contains(&format!(r#"log_level="{}""#, fields[1])),
                "{labels} {line}"
            );
            if let Some(module) = fields[2].strip_prefix("Module: ") {
                assert!(
                    labels.contains(&format!(r#"module="{module}""#)),
                    "{labels} {line}"
                );
            } else {
                let (method, uri) = fields[2].split_once(' ').unwrap();
                assert!(
                    labels.contains(&format!(r#"method="{method}""#)),
                    "{labels} {line}"
                );
                assert!(
                    labels.contains(&format!(r#"uri="{uri}""#)),
                    "{labels} {line}"
                );
            }
        }
    }
}
