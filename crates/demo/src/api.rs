//! The sample web API: the endpoints of the reference FastAPI app, its
//! request and application logs, and its `/metrics`.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Json;
use axum::Router;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{Method, StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, get, on};
use chrono::Utc;
use instrument::{
    Collector, FamilySnapshot, Instrumentator, MetricKind, MetricSnapshot, MetricValue, Registry,
};
use rand::Rng;
use rand::distr::Distribution;
use rand::distr::weighted::WeightedIndex;
use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::DemoError;
use crate::lines::{AppLine, RequestLine, level_for_status};
use crate::logfile::{LogFile, LogFileOptions, LogSender};

/// The four test endpoints, with the method each answers; the traffic
/// generator picks from the same list.
pub const TEST_ENDPOINTS: [(&str, &str); 4] = [
    ("GET", "/get_endpoint"),
    ("POST", "/post_endpoint"),
    ("PUT", "/put_endpoint"),
    ("DELETE", "/delete_endpoint"),
];

/// The statuses the test endpoints answer with.
pub const TEST_STATUSES: [u16; 3] = [200, 400, 500];

/// How the demo API runs.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// Address to listen on (`127.0.0.1:8000`; port 0 picks a free one).
    pub listen: SocketAddr,
    /// Each test endpoint waits a uniform random delay in `[0, max_delay]`.
    pub max_delay: Duration,
    /// Relative weights of the statuses 200, 400 and 500.
    pub status_weights: [u32; 3],
    /// Directory of `logs.log`.
    pub log_dir: PathBuf,
    /// Rotation and queue of the log file.
    pub log_file: LogFileOptions,
    /// Serve `/metrics` and record HTTP metrics (on by default).
    pub metrics: bool,
    /// How long shutdown waits for in-flight requests before cutting them.
    pub shutdown_grace: Duration,
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8000)),
            max_delay: Duration::from_secs(30),
            status_weights: [1, 1, 1],
            log_dir: PathBuf::from("logs"),
            log_file: LogFileOptions::default(),
            metrics: true,
            shutdown_grace: Duration::from_secs(3),
        }
    }
}

struct AppState {
    max_delay: Duration,
    statuses: WeightedIndex<u32>,
    log: LogSender,
}

/// A running demo API.
pub struct ApiServer {
    addr: SocketAddr,
    registry: Arc<Registry>,
    log: LogSender,
    stop: oneshot::Sender<()>,
    serving: lifecycle::Task<std::io::Result<()>>,
    fault: lifecycle::Fault,
    log_file: LogFile,
    shutdown_grace: Duration,
}

impl ApiServer {
    /// Binds, opens the log file and starts serving in the background.
    pub async fn start(config: ApiConfig) -> Result<ApiServer, DemoError> {
        let statuses =
            WeightedIndex::new(config.status_weights).map_err(|_| DemoError::StatusWeights)?;
        let listener =
            TcpListener::bind(config.listen)
                .await
                .map_err(|source| DemoError::Bind {
                    addr: config.listen,
                    source,
                })?;
        let addr = listener.local_addr().map_err(|source| DemoError::Bind {
            addr: config.listen,
            source,
        })?;
        let log_path = config.log_dir.join("logs.log");
        let log_file = LogFile::open(&log_path, config.log_file.clone()).map_err(|source| {
            DemoError::LogFile {
                path: log_path,
                source,
            }
        })?;
        let log = log_file.sender();
        let registry = Arc::new(Registry::new());
        let state = Arc::new(AppState {
            max_delay: config.max_delay,
            statuses,
            log: log.clone(),
        });
        let app = router(state, &registry, config.metrics, log.clone())?;
        let (stop, stopped) = oneshot::channel::<()>();
        let fault = lifecycle::Fault::new(NAME);
        let serving = lifecycle::spawn(&fault, "serve", async move {
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
        });
        app_log(
            &log,
            "INFO",
            "start",
            &format!("Demo API listening on http://{addr}"),
        );
        Ok(ApiServer {
            addr,
            registry,
            log,
            stop,
            serving,
            fault,
            log_file,
            shutdown_grace: config.shutdown_grace,
        })
    }

    /// The address actually bound.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The registry behind `/metrics`.
    pub fn registry(&self) -> &Arc<Registry> {
        &self.registry
    }

    /// Log lines dropped because the writer could not keep up.
    pub fn dropped_log_lines(&self) -> u64 {
        self.log.dropped()
    }

    /// Serves until `signal` resolves, then shuts down.
    pub async fn run_until(self, signal: impl Future<Output = ()>) -> Result<(), DemoError> {
        signal.await;
        self.shutdown().await
    }

    /// Stops accepting, lets in-flight requests finish for up to the grace
    /// period (then cuts them), and flushes the log file.
    pub async fn shutdown(mut self) -> Result<(), DemoError> {
        let _ = self.stop.send(());
        let served = tokio::select! {
            joined = self.serving.join_ref() => match joined {
                Ok(result) => result.map_err(DemoError::Serve),
                Err(task) => Err(DemoError::Task(task)),
            },
            () = tokio::time::sleep(self.shutdown_grace) => {
                tracing::warn!(grace = ?self.shutdown_grace, "in-flight requests still running; cutting them");
                self.serving.abort();
                Ok(())
            }
        };
        app_log(&self.log, "INFO", "shutdown", "Demo API stopped");
        // The log is flushed whatever serving reported.
        let flushed = self.log_file.close().await.map_err(DemoError::Flush);
        served.and(flushed)
    }
}

/// The demo API's name in messages.
const NAME: &str = "the demo API";

impl lifecycle::Component for ApiServer {
    type Config = ApiConfig;
    type Report = ();
    type Error = DemoError;

    async fn start(config: ApiConfig) -> Result<Self, DemoError> {
        ApiServer::start(config).await
    }

    /// The demo API has no config file: nothing to re-read.
    async fn reload(&self) -> Result<(), DemoError> {
        Ok(())
    }

    fn fault(&self) -> &lifecycle::Fault {
        &self.fault
    }

    async fn shutdown(self) -> Result<(), DemoError> {
        ApiServer::shutdown(self).await
    }
}

fn router(
    state: Arc<AppState>,
    registry: &Arc<Registry>,
    metrics: bool,
    log: LogSender,
) -> Result<Router, DemoError> {
    let mut routes: Router<Arc<AppState>> = Router::new()
        .route("/health", get(health))
        .fallback(not_found);
    for (method, path) in TEST_ENDPOINTS {
        let filter = Method::from_bytes(method.as_bytes())
            .ok()
            .and_then(|m| MethodFilter::try_from(m).ok())
            .expect("TEST_ENDPOINTS names standard methods");
        // The reference names each handler after its path: `get_endpoint`.
        let function = &path[1..];
        routes = routes.route(
            path,
            on(filter, move |State(state)| answer(state, method, function)),
        );
    }
    if metrics {
        registry.register(
            &instrument::PROCESS_FAMILIES,
            Arc::new(instrument::ProcessCollector),
        )?;
        registry.register(
            &["demo_log_lines_dropped"],
            Arc::new(DroppedLines(log.clone())),
        )?;
        routes = routes.route(
            "/metrics",
            instrument::metrics_route(registry.clone(), instrument::Flavour::Python),
        );
    }
    // The request log wraps everything, so 404s, 405s and scrapes are
    // logged too, and the metrics layer sits outside it so that its
    // durations include the logging work, as a middleware stack would.
    // Applies only to routes registered before it, so it comes last.
    routes = routes.method_not_allowed_fallback(method_not_allowed);
    let mut app: Router = routes
        .layer(middleware::from_fn_with_state(log, log_request))
        .with_state(state);
    if metrics {
        app = app.layer(Instrumentator::default().build(registry)?);
    }
    Ok(app)
}

/// A test endpoint: waits a random delay, then answers a random status.
async fn answer(state: Arc<AppState>, method: &'static str, function: &'static str) -> Response {
    let (delay, status) = {
        let mut rng = rand::rng();
        let delay = state.max_delay.mul_f64(rng.random::<f64>());
        (delay, TEST_STATUSES[state.statuses.sample(&mut rng)])
    };
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let level = level_for_status(status);
    app_log(
        &state.log,
        level,
        function,
        &format!(
            "{method} request answered {status} after a delay of {} ms",
            delay.as_millis()
        ),
    );
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (
        status,
        Json(json!({ "message": format!("{method} endpoint test response") })),
    )
        .into_response()
}

async fn health() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

/// FastAPI's body for unknown paths.
async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({ "detail": "Not Found" })),
    )
        .into_response()
}

/// FastAPI's body for a known path with the wrong method; axum adds `Allow`.
async fn method_not_allowed() -> Response {
    (
        StatusCode::METHOD_NOT_ALLOWED,
        Json(json!({ "detail": "Method Not Allowed" })),
    )
        .into_response()
}

/// Writes one request line per request, after the response is ready.
async fn log_request(
    State(log): State<LogSender>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    method: Method,
    uri: Uri,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16();
    let line = RequestLine {
        at: Utc::now(),
        level: level_for_status(status),
        method: method.as_str(),
        uri: uri.path(),
        requested_by: &client.ip().to_string(),
        status,
        duration_ms: started.elapsed().as_millis() as u64,
    };
    log.try_write(line.render());
    response
}

fn app_log(log: &LogSender, level: &str, function: &str, message: &str) {
    let line = AppLine {
        at: Utc::now(),
        level,
        module: "demo::api",
        function,
        message,
    };
    log.try_write(line.render());
}

/// Exposes the log writer's drop counter as `demo_log_lines_dropped_total`.
struct DroppedLines(LogSender);

impl Collector for DroppedLines {
    fn collect(&self, out: &mut Vec<FamilySnapshot>) {
        out.push(FamilySnapshot {
            name: "demo_log_lines_dropped".into(),
            help: "Log lines dropped because the log writer could not keep up.".into(),
            kind: MetricKind::Counter,
            metrics: vec![MetricSnapshot {
                labels: Vec::new(),
                value: MetricValue::Single(self.0.dropped() as f64),
                created: None,
            }],
        });
    }
}
