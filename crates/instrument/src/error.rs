//! The error type of this crate.

/// Why a metric family could not be registered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    /// Another family already uses this name.
    #[error("duplicated metric family name {0:?}")]
    Duplicate(String),
    /// The name is not a valid Prometheus metric name.
    #[error("invalid metric name {0:?}")]
    InvalidName(String),
    /// The name is not a valid label name, or starts with the reserved `__`.
    #[error("invalid label name {0:?}")]
    InvalidLabelName(String),
    /// A label that the metric type reserves for itself (`le`, `quantile`).
    #[error("label {0:?} is reserved for this metric type")]
    ReservedLabel(String),
    /// Histogram bounds that are empty, unsorted or NaN.
    #[error("histogram {0:?} needs increasing, non-NaN bucket bounds")]
    Buckets(String),
}
