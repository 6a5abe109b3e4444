//! The Prometheus-compatible metrics server: what `vigil prometheus` runs.
//!
//! `prom` owns everything between a target's `/metrics` and the TSDB:
//! reading what targets expose ([`exposition`]: the text format and
//! OpenMetrics) and prometheus.yml ([`config`]); relabeling is
//! `model::relabel`, shared with the log agent.
//! The scrape loop, rules, remote write and the Prometheus HTTP API come
//! next, here too.
//!
//! It never stores samples itself (that is `tsdb`) and never evaluates
//! PromQL itself (that is `promql`); it wires them to the network.
//!
//! ```
//! use prom::exposition::{parse, ExpositionFormat};
//!
//! let body = "# TYPE up gauge\nup{job=\"api\"} 1\n";
//! let exposition = parse(body.as_bytes(), ExpositionFormat::Text).unwrap();
//! assert_eq!(exposition.samples[0].labels.get("job"), Some("api"));
//! assert_eq!(exposition.samples[0].value, 1.0);
//! ```

pub mod api;
mod client;
pub mod config;
pub mod discovery;
pub mod exposition;
pub mod remote;
pub mod scrape;
pub mod server;
pub mod target;
