//! The error type of this crate.

use std::fmt;
use std::ops::Range;

use model::Labels;
use model::algebra::{AlgebraError, Side};

/// A query that does not parse or does not validate, with the byte span of
/// the offending text and the query it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// The query text.
    pub input: String,
    /// Byte range of the problem in `input`; always inside it.
    pub span: Range<usize>,
    /// What is wrong, in Loki's words where Loki has some.
    pub message: String,
}

impl ParseError {
    /// Builds an error, clamping the span into the input so that it is
    /// always a valid range of it.
    pub(crate) fn new(input: &str, span: Range<usize>, message: impl Into<String>) -> Self {
        let end = span.end.min(input.len());
        let start = span.start.min(end);
        Self {
            input: input.to_owned(),
            span: start..end,
            message: message.into(),
        }
    }

    /// 1-based line and column (in characters) of the span's start.
    pub fn line_col(&self) -> (usize, usize) {
        let before = self.input.get(..self.span.start).unwrap_or("");
        let line = before.matches('\n').count() + 1;
        let col = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
        (line, col)
    }
}

impl fmt::Display for ParseError {
    /// `parse error at line 1, col 23: …`, Loki's shape.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (line, col) = self.line_col();
        write!(f, "parse error at line {line}, col {col}: {}", self.message)
    }
}

impl std::error::Error for ParseError {}

/// Everything that can go wrong while parsing or running a LogQL query.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// The query does not parse or is not valid LogQL.
    #[error("{0}")]
    Parse(#[from] ParseError),
    /// A metric query met an entry whose pipeline left an `__error__` label
    /// (Loki's message, verbatim).
    #[error(
        "pipeline error: '{error}' for series: '{series}'.\nUse a label filter to intercept this error. (e.g `| __error__!=\"{error}\"`).\nTo skip all potential errors you can match empty errors.(e.g `__error__=\"\"`)\nThe label filter can also be specified after unwrap. (e.g `| unwrap latency | __error__=\"\" `)\n"
    )]
    Pipeline {
        /// The error kind (`JSONParserErr`, `LabelFilterErr`, …).
        error: String,
        /// The series with its `__error__` and `__error_details__` labels.
        series: Labels,
    },
    /// A binary operation or aggregation failed.
    #[error("{}", algebra_message(.0))]
    Algebra(AlgebraError),
    /// A request the engine refuses (bad limits, unsupported result types).
    #[error("{0}")]
    Invalid(String),
    /// A metric query grew more series than `max_series` allows (Loki's
    /// message).
    #[error("maximum of series ({0}) reached for a single query")]
    SeriesLimit(usize),
    /// A range aggregation grew more series than it may hold while it runs
    /// (vigil's guard: a hundred times `max_query_series`).
    #[error(
        "maximum of series ({0}) reached inside a range aggregation of this query; reduce its cardinality with label filters, `drop`, or `by`/`without`"
    )]
    InnerSeriesLimit(usize),
    /// The query ran past its deadline.
    #[error(
        "request timed out, decrease the duration of the request or add more label matchers (prefer exact match over regex match) to reduce the amount of data processed"
    )]
    Timeout,
    /// A fault of the engine itself (a panicked worker thread): never the
    /// query's.
    #[error("internal error: {0}")]
    Internal(String),
    /// The store could not be read, or refused the query for its limits.
    #[error("{0}")]
    Store(#[from] crate::store::StoreError),
}

impl From<AlgebraError> for Error {
    fn from(e: AlgebraError) -> Self {
        Error::Algebra(e)
    }
}

/// Loki words duplicate-series errors differently from Prometheus.
fn algebra_message(e: &AlgebraError) -> String {
    match e {
        AlgebraError::DuplicateSeries { side, .. } => format!(
            "found duplicate series on the {} hand-side;many-to-many matching not allowed: matching labels must be unique on one side",
            match side {
                Side::Left => "left",
                Side::Right => "right",
            }
        ),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_has_line_and_column() {
        let e = ParseError::new("ab\ncdé", 5..6, "boom");
        assert_eq!(e.to_string(), "parse error at line 2, col 3: boom");
    }

    #[test]
    fn spans_are_clamped_into_the_input() {
        let e = ParseError::new("abc", 7..9, "x");
        assert_eq!(e.span, 3..3);
    }
}
