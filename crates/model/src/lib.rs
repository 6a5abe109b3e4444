//! Shared vocabulary of vigil: the small types every component speaks.
//!
//! `model` owns label sets ([`Labels`]), label matchers ([`Matcher`], with
//! Prometheus' regex anchoring), relabeling ([`relabel`], shared by the
//! metrics server and the log agent), durations in Prometheus notation
//! ([`duration`], with the config scalar [`duration::PromDuration`]; Go's
//! notation is `gocompat::duration`), the staleness marker ([`staleness`]),
//! the JSON envelope of the Prometheus and Loki APIs ([`envelope`]) and the
//! vector algebra PromQL and LogQL share ([`algebra`]). Every other crate of the workspace may depend on it; it
//! depends on none of them but the leaf `gocompat` (Go's own rules), performs no I/O and knows nothing of HTTP.
//!
//! ```
//! use model::{Labels, Matcher, MatchOp};
//!
//! let series = Labels::from_pairs([("job", "fastapi"), ("__name__", "up")]);
//! assert_eq!(series.to_string(), r#"{__name__="up", job="fastapi"}"#);
//! let m = Matcher::new(MatchOp::Regex, "job", "fast.*").unwrap();
//! assert!(m.matches(series.get("job").unwrap_or("")));
//! assert_eq!(model::duration::parse_duration("1m30s").unwrap().as_secs(), 90);
//! ```

pub mod algebra;
pub mod duration;
pub mod envelope;
mod error;
mod labels;
mod matcher;
pub mod relabel;
pub mod staleness;
pub mod time;

pub use error::ModelError;
pub use labels::{Label, Labels, METRIC_NAME, is_valid_label_name, is_valid_metric_name};
pub use matcher::{MatchOp, Matcher, anchored_regex};
