//! The tool against a stand-in server on port 0: what it sends is what a
//! Loki server would decode, retries happen, failures are counted.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};

use crate::lines::Shape;
use crate::push::{self, PushOptions};
use crate::query::{self, QueryOptions, TimeArg};
use crate::{Command, Common, parse_args, parse_size};

/// What the stand-in saw, and how it should answer.
#[derive(Debug, Default)]
struct Seen {
    requests: usize,
    lines: usize,
    tenants: Vec<String>,
    /// Answer 429 to this many pushes first.
    rate_limit_first: usize,
    /// Answer every push with 400.
    reject: bool,
}

type Shared = Arc<Mutex<Seen>>;

async fn push_handler(
    State(seen): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, String) {
    let mut seen = seen.lock().unwrap();
    seen.requests += 1;
    assert_eq!(headers["content-type"], "application/x-protobuf");
    if let Some(tenant) = headers.get("x-scope-orgid") {
        seen.tenants.push(tenant.to_str().unwrap().to_owned());
    }
    if seen.reject {
        return (StatusCode::BAD_REQUEST, "entry too far behind\n".into());
    }
    if seen.rate_limit_first > 0 {
        seen.rate_limit_first -= 1;
        return (
            StatusCode::TOO_MANY_REQUESTS,
            "ingestion rate limit exceeded".into(),
        );
    }
    let request = lokipush::decode(&body, usize::MAX).unwrap();
    seen.lines += request
        .streams
        .iter()
        .map(|s| s.entries.len())
        .sum::<usize>();
    (StatusCode::NO_CONTENT, String::new())
}

async fn start(seen: Shared) -> String {
    let app = Router::new()
        .route("/ready", get(|| async { "ready" }))
        .route("/loki/api/v1/push", post(push_handler))
        .route(
            "/loki/api/v1/query",
            get(|| async {
                r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"7"]}],
                    "stats":{"summary":{"totalBytesProcessed":1000000}}}}"#
            }),
        )
        .route("/loki/api/v1/query_range", get(|| async { (StatusCode::BAD_REQUEST, "parse error") }))
        .with_state(seen);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

fn common(url: &str) -> Common {
    Common {
        url: url.into(),
        tenant: Some("team-a".into()),
        json: true,
        timeout: std::time::Duration::from_secs(10),
    }
}

fn push_options() -> PushOptions {
    PushOptions {
        lines: Some(20_000),
        bytes: None,
        shape: Shape::Bench {
            streams: 16,
            job: "bench",
        },
        batch_bytes: 100_000,
        connections: 4,
        seed: 1,
        end_ns: None,
        span_ns: 3_540_000_000_000,
        max_retries: 5,
        pid: Some(std::process::id()),
    }
}

#[tokio::test]
async fn pushes_every_line_and_retries_rate_limits() {
    let seen = Shared::default();
    seen.lock().unwrap().rate_limit_first = 3;
    let url = start(seen.clone()).await;
    assert_eq!(push::run(&common(&url), &push_options()).await, Ok(true));
    let seen = seen.lock().unwrap();
    assert_eq!(seen.lines, 20_000);
    assert!(seen.requests > 20, "{}", seen.requests);
    assert!(seen.tenants.iter().all(|t| t == "team-a"));
}

#[tokio::test]
async fn rejected_pushes_are_failures_not_retries() {
    let seen = Shared::default();
    seen.lock().unwrap().reject = true;
    let url = start(seen.clone()).await;
    let mut options = push_options();
    options.lines = Some(1_000);
    assert_eq!(push::run(&common(&url), &options).await, Ok(false));
    // One request per batch: a 400 is final.
    let prepared = push::prepare(&options).unwrap();
    assert_eq!(seen.lock().unwrap().requests, prepared.batches.len());
}

#[tokio::test]
async fn queries_report_and_bad_answers_fail() {
    let url = start(Shared::default()).await;
    let mut options = QueryOptions {
        queries: vec![r#"sum(count_over_time({job="bench"} |= "ERROR" [1h]))"#.into()],
        range: false,
        time: TimeArg::Now(0),
        start: TimeArg::Now(-3_600_000_000_000),
        end: TimeArg::Now(0),
        step: None,
        limit: None,
        direction: None,
        runs: 3,
        warmup: 1,
        scan_bytes: Some(2_000_000),
    };
    assert_eq!(query::run(&common(&url), &options).await, Ok(true));
    options.range = true;
    assert_eq!(query::run(&common(&url), &options).await, Ok(false));
}

#[tokio::test]
async fn an_unreachable_server_is_one_clear_error() {
    // A port that was just free: nothing listens there any more.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let error = push::run(&common(&url), &push_options()).await.unwrap_err();
    assert!(error.starts_with(&format!("cannot reach {url}")), "{error}");
}

#[test]
fn command_lines() {
    let args = |s: &str| s.split_whitespace().map(str::to_owned).collect::<Vec<_>>();
    let Ok(Command::Push(common, push)) = parse_args(args(
        "push --url http://h:1/ --lines 5 --batch-bytes=64KiB --streams 3 --json",
    )) else {
        panic!("push");
    };
    assert_eq!(common.url, "http://h:1");
    assert!(common.json);
    assert_eq!((push.lines, push.batch_bytes), (Some(5), 65_536));
    assert_eq!(
        push.shape,
        Shape::Bench {
            streams: 3,
            job: "bench"
        }
    );
    let Ok(Command::Query(_, query)) =
        parse_args(args("query --range --step 60 --limit 1000 {job=\"x\"}"))
    else {
        panic!("query");
    };
    assert!(query.range);
    assert_eq!(query.queries, ["{job=\"x\"}"]);
    for bad in [
        "",
        "pull",
        "push --lines",
        "push --lines x",
        "push --shape odd",
        "query",
        "query --runs",
        "push stray",
        "push --job a\"b",
    ] {
        assert!(parse_args(args(bad)).is_err(), "{bad:?}");
    }
    assert_eq!(parse_size("1MiB"), Ok(1 << 20));
    assert_eq!(parse_size("1e9"), Ok(1_000_000_000));
    assert_eq!(parse_size("1.5GB"), Ok(1_500_000_000));
    assert!(parse_size("1XB").is_err());
    assert!(parse_size("-1").is_err());
}
