//! Query results: [`Value`], [`Matrix`], [`RangeSeries`], and the
//! [`Annotations`] (warnings and infos) that come with them.

use model::Labels;
pub use model::algebra::{Sample, Vector};

/// One point of a series: milliseconds and value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    /// Timestamp in milliseconds.
    pub t: i64,
    /// The value.
    pub v: f64,
}

/// A series with its points over time, oldest first.
#[derive(Debug, Clone, PartialEq)]
pub struct RangeSeries {
    /// The series' labels.
    pub labels: Labels,
    /// The points, oldest first.
    pub points: Vec<Point>,
}

/// A range vector or a range query result: series sorted by labels.
pub type Matrix = Vec<RangeSeries>;

/// The result of an instant query.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A number.
    Scalar(f64),
    /// A string literal.
    String(String),
    /// An instant vector; every sample is at the evaluation time.
    Vector(Vector),
    /// A range vector (an instant query of `x[5m]` or a subquery).
    Matrix(Matrix),
}

impl Value {
    /// The type name Prometheus' API uses (`resultType`).
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Scalar(_) => "scalar",
            Value::String(_) => "string",
            Value::Vector(_) => "vector",
            Value::Matrix(_) => "matrix",
        }
    }
}

/// Warnings and infos collected during evaluation, each a full message
/// (`PromQL warning: …`), deduplicated in order of first appearance.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Annotations {
    /// Possible problems with the result.
    pub warnings: Vec<String>,
    /// Hints that do not question the result.
    pub infos: Vec<String>,
}

impl Annotations {
    pub(crate) fn warn(&mut self, message: String) {
        if !self.warnings.contains(&message) {
            self.warnings.push(message);
        }
    }

    pub(crate) fn info(&mut self, message: String) {
        if !self.infos.contains(&message) {
            self.infos.push(message);
        }
    }
}

/// A result with the annotations gathered while computing it.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryResult<T> {
    /// The result.
    pub value: T,
    /// Warnings and infos.
    pub annotations: Annotations,
}
