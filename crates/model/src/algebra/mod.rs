//! Vector algebra shared by the PromQL and LogQL engines.
//!
//! An instant vector is a list of [`Sample`]s (a label set and a float) taken
//! at one evaluation time. This module owns what both query languages do with
//! such vectors, following Prometheus' engine exactly: aggregations
//! ([`aggregate`]), binary operators between vectors and scalars with vector
//! matching ([`vector_binop`], [`vector_scalar_binop`], [`scalar_binop`]) and
//! `label_replace` ([`label_replace`]). It knows nothing of either language's
//! syntax: callers translate their AST into [`AggregateOp`], [`BinaryOp`] and
//! [`VectorMatching`].
//!
//! ```
//! use model::Labels;
//! use model::algebra::{aggregate, AggregateOp, AggregateParam, Grouping, Sample};
//!
//! let v = vec![
//!     Sample::new(Labels::from_pairs([("app", "a"), ("pod", "1")]), 2.0),
//!     Sample::new(Labels::from_pairs([("app", "a"), ("pod", "2")]), 3.0),
//! ];
//! let by_app = Grouping::By(vec!["app".into()]);
//! let out = aggregate(AggregateOp::Sum, &AggregateParam::None, Some(&by_app), v).unwrap();
//! assert_eq!(out, vec![Sample::new(Labels::from_pairs([("app", "a")]), 5.0)]);
//! ```

mod aggregate;
mod binary;
mod functions;
mod precise;

pub use aggregate::{AggregateOp, AggregateParam, Grouping, aggregate, format_float};
pub use binary::{
    BinaryOp, Cardinality, Dialect, Side, VectorMatching, check_one_to_one, fill_unmatched,
    scalar_binop, scalar_binop_in, vector_binop, vector_binop_in, vector_scalar_binop,
    vector_scalar_binop_in,
};
pub use functions::label_replace;
pub use precise::{
    KahanSum, aggregate_in, prometheus_mean, prometheus_quantile, prometheus_variance,
};

use crate::Labels;

/// One element of an instant vector.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// The series' labels.
    pub labels: Labels,
    /// The value.
    pub value: f64,
}

impl Sample {
    /// A sample from its parts.
    pub fn new(labels: Labels, value: f64) -> Self {
        Self { labels, value }
    }
}

/// An instant vector: samples of distinct series at one time.
pub type Vector = Vec<Sample>;

/// Why an aggregation or a binary operation cannot be computed; messages are
/// Prometheus' own.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AlgebraError {
    /// Two series on the "one" side of a match share a match group.
    #[error(
        "found duplicate series for the match group {group} on the {side} hand-side of the operation: [{first}, {second}];many-to-many matching not allowed: matching labels must be unique on one side"
    )]
    DuplicateSeries {
        /// The side with the duplicates.
        side: Side,
        /// The labels both series match on.
        group: Labels,
        /// The first series.
        first: Labels,
        /// The second series.
        second: Labels,
    },
    /// One-to-one matching found several left series for one right series.
    #[error(
        "multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)"
    )]
    ManyToOneNotExplicit,
    /// Many-to-one matching produced the same output series twice.
    #[error("multiple matches for labels: grouping labels must ensure unique matches")]
    GroupingNotUnique,
    /// A many-to-many match was requested for an operator that needs one side
    /// unique.
    #[error("many-to-many only allowed for set operators")]
    ManyToManyNotAllowed,
    /// Two output series of a function or aggregation have the same labels.
    #[error("vector cannot contain metrics with the same labelset")]
    DuplicateLabelSet,
    /// `count_values` got an invalid label name.
    #[error("invalid label name {0:?}")]
    InvalidLabelName(String),
    /// A regex argument does not compile.
    #[error("invalid regular expression in label_replace(): {0}")]
    InvalidRegex(String),
    /// A parameter that must be a finite number or a label is missing or wrong.
    #[error("invalid parameter for {0}")]
    InvalidParameter(&'static str),
}

/// Kept here too because PromQL's and LogQL's functions name it from the
/// algebra they use it in.
pub use crate::is_valid_label_name;
