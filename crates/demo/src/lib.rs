//! The sample web API that vigil monitors, and the two generators that feed
//! it — the Rust counterparts of the reference setup's FastAPI app,
//! `api_metrics_generator.py` and `log_generator.py`.
//!
//! - [`api`]: the API ([`ApiServer`]), instrumented with the `instrument`
//!   crate, writing request and application lines to `logs.log`.
//! - [`loadgen`]: rounds of concurrent requests to the test endpoints, with
//!   a per-(method, path, status) [`loadgen::Summary`].
//! - [`loggen`]: fake request and function lines in the same formats.
//! - [`lines`]: the two line formats, shared by the API and the log
//!   generator; [`logfile`]: the queued, rotating writer both use.
//!
//! Nothing here reads configuration files or knows about the rest of the
//! stack: the metrics server scrapes the API and the agent tails its files
//! like any other app's.
//!
//! ```no_run
//! # async fn demo() -> Result<(), demo::DemoError> {
//! use demo::api::{ApiConfig, ApiServer};
//! let server = ApiServer::start(ApiConfig { max_delay: std::time::Duration::ZERO, ..ApiConfig::default() }).await?;
//! println!("listening on {}", server.addr());
//! server.run_until(async { let _ = tokio::signal::ctrl_c().await; }).await
//! # }
//! ```

pub mod api;
mod error;
pub mod lines;
pub mod loadgen;
pub mod logfile;
pub mod loggen;

pub use api::{ApiConfig, ApiServer};
pub use error::DemoError;
