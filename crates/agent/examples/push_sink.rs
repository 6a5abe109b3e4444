//! A Loki push endpoint that only counts: the receiving end of the agent
//! benchmark (`bench/promtail.sh`).
//!
//! `POST /loki/api/v1/push` decodes the body (snappy block + protobuf,
//! with the workspace's `lokipush`), adds up the entries and line bytes
//! and answers 204; `GET /count` answers them as JSON, with the wall-clock
//! times (Unix ns) of the first push and of the push that brought the
//! count to `--expect`, so that the script can time the whole run without
//! polling fast. The address it listens on is printed on the first line.
//!
//!   cargo run --release -p vigil-agent --example push_sink -- --listen 127.0.0.1:0 --expect 2000000

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};

/// What the sink has received.
#[derive(Default)]
struct Counts {
    entries: AtomicU64,
    bytes: AtomicU64,
    pushes: AtomicU64,
    rejected: AtomicU64,
    first_ns: AtomicI64,
    done_ns: AtomicI64,
    expect: u64,
}

fn now_ns() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

async fn push(State(counts): State<Arc<Counts>>, body: Bytes) -> StatusCode {
    let at = now_ns();
    // Promtail's default batch is 1 MiB; a generous bound on the expansion.
    let request = match lokipush::decode(&body, 256 << 20) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("push_sink: bad push: {e}");
            counts.rejected.fetch_add(1, Ordering::Relaxed);
            return StatusCode::BAD_REQUEST;
        }
    };
    let (mut entries, mut bytes) = (0u64, 0u64);
    for stream in &request.streams {
        entries += stream.entries.len() as u64;
        bytes += stream
            .entries
            .iter()
            .map(|e| e.line.len() as u64)
            .sum::<u64>();
    }
    let _ = counts
        .first_ns
        .compare_exchange(0, at, Ordering::Relaxed, Ordering::Relaxed);
    counts.pushes.fetch_add(1, Ordering::Relaxed);
    counts.bytes.fetch_add(bytes, Ordering::Relaxed);
    let before = counts.entries.fetch_add(entries, Ordering::Relaxed);
    if counts.expect > 0 && before < counts.expect && before + entries >= counts.expect {
        counts.done_ns.store(now_ns(), Ordering::Relaxed);
    }
    StatusCode::NO_CONTENT
}

async fn count(State(counts): State<Arc<Counts>>) -> String {
    format!(
        "{{\"entries\":{},\"bytes\":{},\"pushes\":{},\"rejected\":{},\"first_ns\":{},\"done_ns\":{}}}\n",
        counts.entries.load(Ordering::Relaxed),
        counts.bytes.load(Ordering::Relaxed),
        counts.pushes.load(Ordering::Relaxed),
        counts.rejected.load(Ordering::Relaxed),
        counts.first_ns.load(Ordering::Relaxed),
        counts.done_ns.load(Ordering::Relaxed),
    )
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut listen = "127.0.0.1:0".to_string();
    let mut expect = 0u64;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--listen" => listen = args.next().ok_or("--listen needs an address")?,
            "--expect" => expect = args.next().ok_or("--expect needs a count")?.parse()?,
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    let counts = Arc::new(Counts {
        expect,
        ..Counts::default()
    });
    let app = Router::new()
        .route("/loki/api/v1/push", post(push))
        .route("/count", get(count))
        .with_state(counts);
    // One thread: the sink shares the machine with the agent it measures.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&listen).await?;
        println!("{}", listener.local_addr()?);
        axum::serve(listener, app).await
    })?;
    Ok(())
}
