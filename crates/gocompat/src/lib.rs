//! Go compatibility: the pieces of Go's standard library (and of the Go
//! libraries upstream configs are read with) whose exact behaviour vigil's
//! inputs and outputs depend on.
//!
//! Prometheus, Loki and Promtail are Go programs, so the text users write
//! for them is read by Go code and the text they print is printed by Go
//! code. Where vigil must accept and print the same text, the rule lives
//! here once, for every component:
//!
//! - [`template`]: Go's `text/template` engine and builtins; each user
//!   brings its own function set ([`template::Functions`]).
//! - [`time`]: formatting and parsing by reference layout
//!   (`2006-01-02T15:04:05Z07:00`), Go's named layouts, RFC 3339.
//! - [`duration`]: `time.ParseDuration` (with Go's messages) and
//!   `Duration.String`.
//! - [`strconv`]: `FormatFloat`, `Quote`/`QuoteRune`, and the escape
//!   sequences of Go string literals.
//! - [`json`]: how `encoding/json` writes strings and numbers.
//! - [`regexp`]: Go's RE2 syntax rewritten for Rust's `regex` (ASCII
//!   `\d`, `\w`, `\s`, `\b`; `\Q…\E`).
//! - [`url`]: Go's `url.QueryEscape` and `url.QueryUnescape`.
//! - [`yaml`]: config files as Go's yaml.v2 reads them: scalars into Go
//!   types (any scalar as a string, YAML 1.1 booleans, negative `int`s,
//!   `time.Duration`s, byte sizes), blocks that deny unknown keys as
//!   `yaml.UnmarshalStrict` does, and errors at `file:line:column`.
//! - [`env`]: `-config.expand-env`, the `${VAR:-default}` expansion Loki
//!   and Promtail share.
//!
//! **What this crate never does:** it depends on no crate of the workspace
//! (it is a leaf: `model` and everything above may depend on it); it holds
//! no Prometheus, Loki or Promtail concept (labels, queries, configs, their
//! template functions); it performs no I/O and reads no environment or
//! clock itself (callers pass lookups and times); and it never panics on
//! bad input.
//!
//! ```
//! use gocompat::{duration, env, strconv, time, yaml};
//!
//! let text = env::expand("url: ${HOST:-localhost}:3100", &|_| None).unwrap();
//! assert_eq!(text, "url: localhost:3100");
//! assert_eq!(yaml::parse_byte_size("3MB"), Some(3 << 20));
//! assert_eq!(strconv::format_float(1e6, 'g', -1), "1e+06");
//! assert_eq!(duration::format(90_000_000_000), "1m30s");
//! assert_eq!(time::format(0, time::RFC3339), "1970-01-01T00:00:00Z");
//! ```

pub mod duration;
pub mod env;
pub mod json;
pub mod regexp;
pub mod strconv;
pub mod template;
pub mod time;
pub mod url;
pub mod yaml;
