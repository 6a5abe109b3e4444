//! Helpers shared by the storage tests: a deterministic generator of realistic log lines, and small query helpers.

#![allow(dead_code, unreachable_pub)] // Each test binary uses a different part of this module, which is private to it.

/// A small deterministic generator (xorshift64*): the tests need
/// reproducible data, not statistical quality.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

const PATHS: &[&str] = &[
    "/",
    "/get_endpoint",
    "/post_endpoint",
    "/put_endpoint",
    "/delete_endpoint",
    "/api/v1/users",
    "/api/v1/orders",
    "/api/v1/items/search",
    "/healthz",
    "/metrics",
];
const METHODS: &[&str] = &["GET", "GET", "GET", "POST", "PUT", "DELETE"];
const AGENTS: &[&str] = &[
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15",
    "curl/8.4.0",
    "python-requests/2.31.0",
    "Go-http-client/1.1",
    "Prometheus/2.42.0",
];
const FUNCS: &[&str] = &[
    "get_endpoint",
    "post_endpoint",
    "put_endpoint",
    "delete_endpoint",
];
const MESSAGES: &[&str] = &[
    "request handled",
    "cache miss, loading from database",
    "slow query detected",
    "user not found",
    "retrying upstream call",
    "connection reset by peer",
];

fn status(rng: &mut Rng) -> u16 {
    match rng.below(100) {
        0..=84 => 200,
        85..=89 => 201,
        90..=94 => 404,
        95..=96 => 400,
        _ => 500,
    }
}

fn level(status: u16) -> &'static str {
    match status {
        500.. => "ERROR",
        400..=499 => "WARNING",
        _ => "INFO",
    }
}

/// `HH:MM:SS.mmm` of a time in nanoseconds, with a fixed date: enough
/// for lines to look (and compress) like real ones.
fn clock(ts_ns: i64) -> String {
    let ms = ts_ns / 1_000_000;
    let s = ms / 1000;
    format!(
        "2024-05-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        1 + (s / 86_400) % 28,
        (s / 3600) % 24,
        (s / 60) % 60,
        s % 60,
        ms % 1000
    )
}

/// One line at `ts_ns`, in one of three formats: the demo's request and
/// application lines, and an nginx-like access line with a random trace id
/// (the hardest to compress).
pub fn line(rng: &mut Rng, ts_ns: i64) -> String {
    let format = rng.below(3);
    line_in(rng, ts_ns, format)
}

/// One line in the demo's two formats only.
pub fn demo_line(rng: &mut Rng, ts_ns: i64) -> String {
    let format = rng.below(2);
    line_in(rng, ts_ns, format)
}

fn line_in(rng: &mut Rng, ts_ns: i64, format: u64) -> String {
    let st = status(rng);
    match format {
        0 => format!(
            "{} | {} | {} {} | Requested by: 10.0.{}.{} Status: {} Duration: {} ms",
            clock(ts_ns),
            level(st),
            rng.pick(METHODS),
            rng.pick(PATHS),
            rng.below(8),
            rng.below(256),
            st,
            rng.below(1000),
        ),
        1 => format!(
            "{} | {} | Module: demo::api | Function: {}| {}",
            clock(ts_ns),
            level(st),
            rng.pick(FUNCS),
            rng.pick(MESSAGES),
        ),
        _ => format!(
            "192.168.{}.{} - - [{}] \"{} {}?page={} HTTP/1.1\" {} {} \"-\" \"{}\" rt={}.{:03} trace_id={:016x} level={}",
            rng.below(16),
            rng.below(256),
            clock(ts_ns),
            rng.pick(METHODS),
            rng.pick(PATHS),
            rng.below(50),
            st,
            200 + rng.below(20_000),
            rng.pick(AGENTS),
            rng.below(3),
            rng.below(1000),
            rng.next(),
            level(st),
        ),
    }
}
