//! HTTP metrics for axum and tower apps, and the Prometheus exposition of
//! any metrics a vigil component keeps.
//!
//! `instrument` owns:
//! - a [`Registry`] of metric families ([`Counter`], [`Gauge`],
//!   [`Histogram`], [`Summary`]) plus scrape-time [`Collector`]s such as
//!   [`ProcessCollector`];
//! - the encoders of the classic text format and OpenMetrics
//!   ([`exposition`]), each laid out as the Python client lays it out, so a
//!   Rust app's `/metrics` is interchangeable with a FastAPI app's, or as
//!   Go's `client_golang` does, for the stand-ins of Go programs
//!   ([`Flavour`]);
//! - [`Instrumentator`], which builds a tower layer recording the series of
//!   prometheus-fastapi-instrumentator 8.1 (`http_requests_total`,
//!   request/response size summaries, two latency histograms);
//! - [`metrics_route`], the `/metrics` handler, told the flavour where the
//!   registry is served.
//!
//! It never scrapes, stores or queries: that is the metrics server's job.
//! The exposition is written by hand because no maintained crate prints the
//! text format with the Python client's `_created` families, and matching it
//! is what makes dashboards built for the instrumentator work unchanged;
//! the Go layout lives in the same encoder, its differences in one place.
//!
//! ```
//! use std::sync::Arc;
//! use axum::{Router, routing::get};
//! use instrument::{Flavour, Instrumentator, ProcessCollector, Registry, metrics_route};
//!
//! let registry = Arc::new(Registry::new());
//! registry.register(&instrument::PROCESS_FAMILIES, Arc::new(ProcessCollector)).unwrap();
//! let layer = Instrumentator::default().build(&registry).unwrap();
//! let app: Router = Router::new()
//!     .route("/hello", get(|| async { "hi" }))
//!     .route("/metrics", metrics_route(registry.clone(), Flavour::Python))
//!     .layer(layer);
//! # let _ = app;
//! ```

mod error;
pub mod exposition;
mod float;
mod handler;
mod layer;
mod process;
mod registry;

pub use error::RegistryError;
pub use exposition::Flavour;
pub use float::format_value;
pub use handler::{metrics_route, render};
pub use layer::{
    DEFAULT_HIGHR_BUCKETS, DEFAULT_LOWR_BUCKETS, HttpMetricsLayer, HttpMetricsService,
    Instrumentator,
};
pub use process::{PROCESS_FAMILIES, ProcessCollector};
pub use registry::{
    Collector, Counter, Family, FamilySnapshot, Gauge, Histogram, Metric, MetricKind,
    MetricSnapshot, MetricValue, Registry, Summary,
};
