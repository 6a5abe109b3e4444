//! The tower layer that records HTTP metrics the way
//! prometheus-fastapi-instrumentator 8.1 does with its defaults.
//!
//! The handler label is the route template (axum's [`MatchedPath`]), or
//! `none` when no route matched, so unknown URLs cannot blow up the number of
//! series. A route that matched by path but not by method (405) keeps its
//! template, as Starlette's partial match does.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::extract::MatchedPath;
use http::{Request, Response, StatusCode, header};
use http_body::Body;
use regex::Regex;
use tower::{Layer, Service};

use crate::RegistryError;
use crate::registry::{Counter, Family, Gauge, Histogram, Registry, Summary};

/// The instrumentator's default latency buckets with few bounds
/// (`http_request_duration_seconds`).
pub const DEFAULT_LOWR_BUCKETS: [f64; 3] = [0.1, 0.5, 1.0];

/// The instrumentator's default latency buckets with many bounds
/// (`http_request_duration_highr_seconds`).
pub const DEFAULT_HIGHR_BUCKETS: [f64; 21] = [
    0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0,
    7.5, 10.0, 30.0, 60.0,
];

/// Options of the HTTP metrics, named after the instrumentator's.
#[derive(Debug, Clone)]
pub struct Instrumentator {
    /// Report `2xx`/`4xx`/`5xx` instead of exact status codes (default on).
    pub group_status_codes: bool,
    /// Do not record requests that matched no route (default off).
    pub ignore_untemplated: bool,
    /// Record unmatched requests under handler `none` rather than their raw
    /// path (default on; off lets any client create series).
    pub group_untemplated: bool,
    /// Handlers whose template matches any of these regexes (searched, not
    /// anchored) are not recorded.
    pub excluded_handlers: Vec<Regex>,
    /// Add the `http_requests_inprogress` gauge (default off).
    pub inprogress: bool,
    /// Give the in-progress gauge `handler` and `method` labels.
    pub inprogress_labels: bool,
    /// Buckets of `http_request_duration_seconds`.
    pub latency_lowr_buckets: Vec<f64>,
    /// Buckets of `http_request_duration_highr_seconds`.
    pub latency_highr_buckets: Vec<f64>,
    /// Constant labels added to every per-handler metric.
    pub custom_labels: Vec<(String, String)>,
}

impl Default for Instrumentator {
    fn default() -> Self {
        Self {
            group_status_codes: true,
            ignore_untemplated: false,
            group_untemplated: true,
            excluded_handlers: Vec::new(),
            inprogress: false,
            inprogress_labels: false,
            latency_lowr_buckets: DEFAULT_LOWR_BUCKETS.to_vec(),
            latency_highr_buckets: DEFAULT_HIGHR_BUCKETS.to_vec(),
            custom_labels: Vec::new(),
        }
    }
}

impl Instrumentator {
    /// Registers the metric families in `registry` and returns the layer
    /// that feeds them.
    pub fn build(self, registry: &Registry) -> Result<HttpMetricsLayer, RegistryError> {
        let custom: Vec<&str> = self.custom_labels.iter().map(|(n, _)| n.as_str()).collect();
        let with_custom = |names: &[&'static str]| -> Vec<&str> {
            names
                .iter()
                .copied()
                .chain(custom.iter().copied())
                .collect()
        };
        let requests = registry.counter(
            "http_requests_total",
            "Total number of requests by method, status and handler.",
            &with_custom(&["method", "status", "handler"]),
        )?;
        let request_size = registry.summary(
            "http_request_size_bytes",
            "Content length of incoming requests by handler. Only value of header is respected. Otherwise ignored. No percentile calculated. ",
            &with_custom(&["handler"]),
        )?;
        let response_size = registry.summary(
            "http_response_size_bytes",
            "Content length of outgoing responses by handler. Only value of header is respected. Otherwise ignored. No percentile calculated. ",
            &with_custom(&["handler"]),
        )?;
        let latency_highr = registry.histogram(
            "http_request_duration_highr_seconds",
            "Latency with many buckets but no API specific labels. Made for more accurate percentile calculations. ",
            &[],
            &self.latency_highr_buckets,
        )?;
        let latency_lowr = registry.histogram(
            "http_request_duration_seconds",
            "Latency with only few buckets by handler. Made to be only used if aggregation by handler is important. ",
            &with_custom(&["handler", "method"]),
            &self.latency_lowr_buckets,
        )?;
        let inprogress = if self.inprogress {
            let labels: &[&str] = if self.inprogress_labels {
                &["handler", "method"]
            } else {
                &[]
            };
            Some(registry.gauge(
                "http_requests_inprogress",
                "Number of HTTP requests in progress.",
                labels,
            )?)
        } else {
            None
        };
        Ok(HttpMetricsLayer {
            metrics: Arc::new(HttpMetrics {
                options: self,
                requests,
                request_size,
                response_size,
                latency_highr,
                latency_lowr,
                inprogress,
            }),
        })
    }
}

struct HttpMetrics {
    options: Instrumentator,
    requests: Arc<Family<Counter>>,
    request_size: Arc<Family<Summary>>,
    response_size: Arc<Family<Summary>>,
    latency_highr: Arc<Family<Histogram>>,
    latency_lowr: Arc<Family<Histogram>>,
    inprogress: Option<Arc<Family<Gauge>>>,
}

/// The handler label: the route template, shared with axum's own
/// `MatchedPath` without copying, or an owned fallback.
enum HandlerLabel {
    Route(MatchedPath),
    Other(String),
}

impl HandlerLabel {
    fn as_str(&self) -> &str {
        match self {
            HandlerLabel::Route(path) => path.as_str(),
            HandlerLabel::Other(text) => text,
        }
    }
}

/// What is known of a request when it arrives.
struct Arrival {
    handler: HandlerLabel,
    method: http::Method,
    request_size: f64,
    started: Instant,
    _inprogress: Option<InProgress>,
}

/// Keeps the in-progress gauge up while a request is handled, and brings
/// it down even when the client goes away and the future is dropped.
struct InProgress(Arc<Gauge>);

impl Drop for InProgress {
    fn drop(&mut self) {
        self.0.dec();
    }
}

impl HttpMetrics {
    /// Decides whether and how a request is recorded.
    fn arrive<B>(&self, request: &Request<B>) -> Option<Arrival> {
        let handler = match request.extensions().get::<MatchedPath>() {
            Some(path) => HandlerLabel::Route(path.clone()),
            None if self.options.ignore_untemplated => return None,
            None if self.options.group_untemplated => HandlerLabel::Other("none".to_owned()),
            None => HandlerLabel::Other(request.uri().path().to_owned()),
        };
        if self
            .options
            .excluded_handlers
            .iter()
            .any(|re| re.is_match(handler.as_str()))
        {
            return None;
        }
        let method = request.method().clone();
        let inprogress = self.inprogress.as_ref().map(|family| {
            let gauge = if self.options.inprogress_labels {
                family.with_labels(&[handler.as_str(), method.as_str()])
            } else {
                family.with_labels(&[])
            };
            gauge.inc();
            InProgress(gauge)
        });
        Some(Arrival {
            request_size: content_length(request.headers()).unwrap_or(0.0),
            handler,
            method,
            started: Instant::now(),
            _inprogress: inprogress,
        })
    }

    /// Records a finished request.
    fn record(&self, arrival: &Arrival, status: StatusCode, response_size: f64) {
        let elapsed = arrival.started.elapsed().as_secs_f64();
        let status = if self.options.group_status_codes {
            grouped_status(status)
        } else {
            status.as_str()
        };
        let handler = arrival.handler.as_str();
        let method = arrival.method.as_str();
        self.with_custom(&[method, status, handler], |values| {
            self.requests.with_labels(values).inc();
        });
        self.with_custom(&[handler], |values| {
            self.request_size
                .with_labels(values)
                .observe(arrival.request_size);
            self.response_size
                .with_labels(values)
                .observe(response_size);
        });
        self.latency_highr.observe(&[], elapsed);
        self.with_custom(&[handler, method], |values| {
            self.latency_lowr.observe(values, elapsed);
        });
    }

    /// Calls `f` with `base` followed by the custom label values; without
    /// custom labels, the common case, nothing is allocated.
    fn with_custom(&self, base: &[&str], f: impl FnOnce(&[&str])) {
        if self.options.custom_labels.is_empty() {
            return f(base);
        }
        let custom = self.options.custom_labels.iter().map(|(_, v)| v.as_str());
        let values: Vec<&str> = base.iter().copied().chain(custom).collect();
        f(&values)
    }
}

/// `2xx` and the like: the first digit and `xx`, as the instrumentator
/// groups them.
fn grouped_status(status: StatusCode) -> &'static str {
    const CLASSES: [&str; 10] = [
        "0xx", "1xx", "2xx", "3xx", "4xx", "5xx", "6xx", "7xx", "8xx", "9xx",
    ];
    // StatusCode holds 100..=999, so the class is a single digit.
    CLASSES[usize::from(status.as_u16() / 100).min(9)]
}

fn content_length(headers: &http::HeaderMap) -> Option<f64> {
    headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// The layer; add it with `Router::layer` so that it sees every request,
/// including unmatched ones and `/metrics` itself.
#[derive(Clone)]
pub struct HttpMetricsLayer {
    metrics: Arc<HttpMetrics>,
}

impl<S> Layer<S> for HttpMetricsLayer {
    type Service = HttpMetricsService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        HttpMetricsService {
            inner,
            metrics: self.metrics.clone(),
        }
    }
}

/// The service the layer wraps around a router or handler.
#[derive(Clone)]
pub struct HttpMetricsService<S> {
    inner: S,
    metrics: Arc<HttpMetrics>,
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for HttpMetricsService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    S::Future: Send + 'static,
    ResBody: Body,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let arrival = self.metrics.arrive(&request);
        let metrics = self.metrics.clone();
        let response = self.inner.call(request);
        Box::pin(async move {
            let result = response.await;
            if let Some(arrival) = arrival {
                match &result {
                    Ok(response) => {
                        let size = content_length(response.headers())
                            .or_else(|| response.body().size_hint().exact().map(|n| n as f64))
                            .unwrap_or(0.0);
                        metrics.record(&arrival, response.status(), size);
                    }
                    // The instrumentator records an exception as a 500.
                    Err(_) => metrics.record(&arrival, StatusCode::INTERNAL_SERVER_ERROR, 0.0),
                }
            }
            result
        })
    }
}
