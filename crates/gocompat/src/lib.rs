//! Go compatibility: the pieces of Go's standard library (and of the Go
//! libraries upstream configs are read with) whose exact behaviour vigil's
//! inputs and outputs depend on.
//!
//! Prometheus, Loki and Promtail are Go programs, so the text users write
//! for them is read by Go code and the text they print is printed by Go
//! code. Where vigil must accept and print the same text, the rule lives
//! here once, for every component:
//!
//! - [`yaml`]: scalars as Go's yaml.v2 reads them into Go types (any
//!   scalar as a string, YAML 1.1 booleans, negative `int`s, byte sizes).
//! - [`env`]: `-config.expand-env`, the `${VAR:-default}` expansion Loki
//!   and Promtail share.
//!
//! **What this crate never does:** it depends on no crate of the workspace
//! (it is a leaf: `model` and everything above may depend on it); it holds
//! no Prometheus, Loki or Promtail concept (labels, queries, configs);
//! it performs no I/O and reads no environment itself (callers pass a
//! lookup); and it never panics on bad input.
//!
//! ```
//! use gocompat::{env, yaml};
//!
//! let text = env::expand("url: ${HOST:-localhost}:3100", &|_| None).unwrap();
//! assert_eq!(text, "url: localhost:3100");
//! assert_eq!(yaml::parse_byte_size("3MB"), Some(3 << 20));
//! ```

pub mod env;
pub mod yaml;
