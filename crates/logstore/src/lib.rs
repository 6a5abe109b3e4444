//! The Loki-compatible log store of vigil.
//!
//! `logstore` owns everything between a push and a query answer:
//! - [`config`]: loki-config.yaml, with Loki's defaults and validation;
//! - [`push`]: the push API's decoders (Loki protobuf + snappy, JSON with
//!   gzip/deflate, OTLP logs) and Loki's validation of what is pushed;
//! - [`storage`]: per tenant and stream, the in-memory head, the
//!   write-ahead log, compressed chunk files, the label index per period
//!   and retention. It implements LogQL's storage seam
//!   ([`logql::store::Store`]), so queries read the head and the chunks
//!   alike, lazily and within the query's limits;
//! - [`server`]: the Loki HTTP API over it, with the lifecycle every
//!   component has (start, ready, reload, drain).
//!
//! It must never evaluate LogQL itself (that is `logql`'s), parse a
//! Prometheus config, or reach another component except over HTTP.

pub mod config;
pub mod push;
pub mod server;
pub mod storage;
