//! The error type of this crate.

/// Everything that can go wrong while building a model value from text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelError {
    /// The text is not a duration in Prometheus notation (`1h30m`, `500ms`).
    #[error("not a valid duration string: {0:?}")]
    InvalidDuration(String),
    /// A time parameter that is neither float seconds nor RFC 3339.
    #[error("cannot parse {0:?} to a valid timestamp")]
    InvalidTime(String),
    /// A duration that does not fit in the representable range.
    #[error("duration out of range: {0:?}")]
    DurationOutOfRange(String),
    /// The value of a regex matcher does not compile.
    #[error("invalid regular expression {pattern:?}: {reason}")]
    InvalidRegex {
        /// The pattern as written, before anchoring.
        pattern: String,
        /// What the regex compiler said.
        reason: String,
    },
}
