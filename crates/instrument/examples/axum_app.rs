//! A tiny axum app instrumented with vigil's HTTP metrics layer and
//! `/metrics` handler, writing a logfmt request log: the shape of a service
//! to point `vigil up --no-demo` at.
//!
//! ```text
//! cargo run -p vigil-instrument --example axum_app -- 127.0.0.1:3001 app.log
//! vigil up --no-demo --scrape 127.0.0.1:3001 --logs 'app.log'
//! curl http://127.0.0.1:3001/items/7; curl http://127.0.0.1:3001/fail
//! ```
//!
//! Then the dashboards (http://127.0.0.1:3000) show the `app` job's
//! requests, and the log lines are in the log store under `{job="app"}`,
//! with `log_level` from each line's `level=`.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, mpsc};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use instrument::{Flavour, Instrumentator, ProcessCollector, Registry, metrics_route};

/// Lines for the log file; a thread writes them, so that no request waits
/// on the disk inside the async runtime.
type LogSender = mpsc::Sender<String>;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let listen: SocketAddr = args.next().as_deref().unwrap_or("127.0.0.1:3001").parse()?;
    let log_path = PathBuf::from(args.next().unwrap_or_else(|| "app.log".to_owned()));

    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)?;
    let (log, lines) = mpsc::channel::<String>();
    let writer = std::thread::spawn(move || {
        for line in lines {
            // A full disk loses log lines, not requests.
            let _ = writeln!(file, "{line}");
        }
    });

    let registry = Arc::new(Registry::new());
    registry.register(&instrument::PROCESS_FAMILIES, Arc::new(ProcessCollector))?;
    let app = Router::new()
        .route("/", get(|| async { "hello" }))
        .route("/items/{id}", get(item))
        .route("/fail", get(|| async { StatusCode::INTERNAL_SERVER_ERROR }))
        .route("/metrics", metrics_route(registry.clone(), Flavour::Python))
        .layer(middleware::from_fn_with_state(log.clone(), log_request))
        // Outermost, so that its durations include the logging.
        .layer(Instrumentator::default().build(&registry)?);

    let listener = tokio::net::TcpListener::bind(listen).await?;
    // stderr: in this workspace only the vigil binary prints to stdout.
    eprintln!(
        "listening on http://{}, logging to {}",
        listener.local_addr()?,
        log_path.display()
    );
    axum::serve(listener, app).await?;
    drop(log);
    let _ = writer.join();
    Ok(())
}

/// An item, or 404 past the catalogue's end.
async fn item(Path(id): Path<u32>) -> Result<String, StatusCode> {
    if id > 100 {
        return Err(StatusCode::NOT_FOUND);
    }
    Ok(format!("item {id}"))
}

/// Logs every request as one logfmt line; `level` follows the status, so
/// `vigil up --no-demo` labels errors `ERROR`.
async fn log_request(State(log): State<LogSender>, request: Request, next: Next) -> Response {
    let (method, path) = (request.method().clone(), request.uri().path().to_owned());
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status();
    let level = if status.is_server_error() {
        "error"
    } else if status.is_client_error() {
        "warn"
    } else {
        "info"
    };
    let ts = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    let _ = log.send(format!(
        "ts={ts:.3} level={level} method={method} path={path:?} status={} duration_ms={}",
        status.as_u16(),
        started.elapsed().as_millis()
    ));
    response
}
