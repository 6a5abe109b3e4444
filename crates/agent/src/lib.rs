//! The Promtail-compatible log agent of vigil.
//!
//! `agent` owns the way from a log file to a push:
//! - [`config`]: promtail-config.yaml as Promtail 2.8 reads it, with its
//!   defaults and errors that name the file, the line and the problem;
//! - [`tail`]: finding files by glob, tailing them through rotation and
//!   truncation, and the positions file, which only advances over lines
//!   every client has acknowledged (see [`entry::Receipt`]);
//! - [`pipeline`]: Promtail's pipeline stages over an [`entry::Entry`] and
//!   its extracted map;
//! - [`client`]: batching per tenant, the Loki push protocol, retries with
//!   backoff, and back-pressure when a store is down;
//! - [`server`]: the agent's own HTTP endpoints (`/ready`, `/metrics`,
//!   `/targets`);
//! - [`service`]: all of it as one component with vigil's lifecycle
//!   (start, ready, reload, drain), and `--stdin`.
//!
//! It must never store or query logs (that is the log store's, reached
//! only over HTTP), nor grow a queue without bound: when the clients
//! cannot keep up, reading stops.

pub mod client;
pub mod config;
pub mod entry;
pub mod pipeline;
pub mod server;
pub mod service;
pub mod tail;
