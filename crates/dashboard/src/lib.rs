//! The Grafana-compatible dashboards server of vigil.
//!
//! `dashboard` owns what Grafana's server does for a user of the reference
//! setup:
//! - [`provisioning`]: Grafana's provisioning files (datasources and
//!   dashboard providers), read as Grafana reads them, re-read on their
//!   `updateIntervalSeconds`;
//! - [`datasource`]: the datasources the dashboards query;
//! - [`store`]: state in SQLite (users, sessions, dashboards saved through
//!   the API, preferences), with schema migrations;
//! - [`auth`]: logins, sessions, CSRF protection, login rate limits;
//! - [`api`]: the Grafana-style HTTP API the UI and tools use;
//! - [`proxy`] and [`query`]: the datasource proxy (read API paths only)
//!   and `/api/ds/query`, which runs panel queries and answers data frames;
//! - [`assets`]: the web UI bundle (`ui/` at the repository root), built by
//!   `build.rs` and embedded;
//! - [`server`]: all of it as one component with vigil's lifecycle (start,
//!   ready, reload, drain).
//!
//! It must never store or evaluate metrics or logs itself (those are the
//! metrics server's and the log store's, reached only over HTTP as any
//! datasource is), nor act as an open proxy: only a datasource's read API
//! is reachable through it. Grafana's front-end math (intervals, units,
//! reducers) lives in the UI, not here.

pub mod api;
pub mod assets;
pub mod auth;
pub mod datasource;
pub mod provisioning;
pub mod proxy;
pub mod query;
pub mod server;
pub mod store;
