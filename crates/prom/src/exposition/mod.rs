//! Parsing what scrape targets expose: the classic text format (0.0.4 and
//! its 1.0.0 successor) and OpenMetrics 1.0.
//!
//! Both are line-based and share most of their grammar, so one parser
//! handles both, switching on the few rules that differ: OpenMetrics wants
//! single spaces, float-second timestamps, a final `# EOF`, no blank lines
//! and no free comments, and allows exemplars and `# UNIT`.

mod lexer;
mod parser;

use model::Labels;

pub use parser::{parse, scan, series_labels};

/// Which grammar a body is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpositionFormat {
    /// `text/plain; version=0.0.4` (and `1.0.0`, which adds quoted names).
    Text,
    /// `application/openmetrics-text; version=1.0.0`.
    OpenMetrics,
}

impl ExpositionFormat {
    /// The format a `Content-Type` names, if it names one we read.
    pub fn from_content_type(content_type: &str) -> Option<Self> {
        let media = content_type.split(';').next().unwrap_or("").trim();
        if media.eq_ignore_ascii_case("application/openmetrics-text") {
            Some(Self::OpenMetrics)
        } else if media.eq_ignore_ascii_case("text/plain") {
            Some(Self::Text)
        } else {
            None
        }
    }
}

/// The metric types the two formats name in `# TYPE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricType {
    /// `counter`
    Counter,
    /// `gauge`
    Gauge,
    /// `histogram`
    Histogram,
    /// `gaugehistogram` (OpenMetrics)
    GaugeHistogram,
    /// `summary`
    Summary,
    /// `info` (OpenMetrics)
    Info,
    /// `stateset` (OpenMetrics)
    StateSet,
    /// `untyped` (text) or `unknown` (OpenMetrics), and families without `# TYPE`.
    Unknown,
}

impl MetricType {
    /// The name the Prometheus API uses for this type.
    pub fn as_str(self) -> &'static str {
        match self {
            MetricType::Counter => "counter",
            MetricType::Gauge => "gauge",
            MetricType::Histogram => "histogram",
            MetricType::GaugeHistogram => "gaugehistogram",
            MetricType::Summary => "summary",
            MetricType::Info => "info",
            MetricType::StateSet => "stateset",
            MetricType::Unknown => "unknown",
        }
    }
}

/// What `# TYPE`, `# HELP` and `# UNIT` said of one family.
#[derive(Debug, Clone, PartialEq)]
pub struct Metadata {
    /// The family name as written in the metadata lines.
    pub family: String,
    /// Its type (`Unknown` without a `# TYPE` line).
    pub kind: MetricType,
    /// Its help text, unescaped.
    pub help: Option<String>,
    /// Its unit (OpenMetrics only).
    pub unit: Option<String>,
}

/// An exemplar attached to a sample (OpenMetrics only).
#[derive(Debug, Clone, PartialEq)]
pub struct Exemplar {
    /// The exemplar's labels (a trace id, typically).
    pub labels: Labels,
    /// Its value.
    pub value: f64,
    /// Its timestamp in milliseconds, if given.
    pub timestamp_ms: Option<i64>,
}

/// One sample line.
#[derive(Debug, Clone, PartialEq)]
pub struct ScrapedSample {
    /// All labels, the metric name as `__name__` among them.
    pub labels: Labels,
    /// The value (staleness-marker NaNs cannot be written in either format).
    pub value: f64,
    /// The timestamp in milliseconds, if the target gave one.
    pub timestamp_ms: Option<i64>,
    /// An exemplar, if the target gave one.
    pub exemplar: Option<Exemplar>,
}

/// Everything one scrape body holds, in order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Exposition {
    /// Samples in the order they were exposed.
    pub samples: Vec<ScrapedSample>,
    /// Metadata of every family that had a metadata line, in order.
    pub metadata: Vec<Metadata>,
}

/// One sample line as [`scan`] reads it: checked, its labels left as text.
#[derive(Debug, Clone, PartialEq)]
pub struct RawSample<'a> {
    /// The metric name and label set as written (`up{job="a"}`), the key a
    /// scrape's cache looks series up by; [`series_labels`] builds the
    /// labels.
    pub series: &'a str,
    /// 1-based line number, for errors found when the labels are built.
    pub line: usize,
    /// The value.
    pub value: f64,
    /// The timestamp in milliseconds, if the target gave one.
    pub timestamp_ms: Option<i64>,
    /// An exemplar, if the target gave one.
    pub exemplar: Option<Exemplar>,
}

/// A scrape body as [`scan`] reads it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Scan<'a> {
    /// Samples in the order they were exposed.
    pub samples: Vec<RawSample<'a>>,
    /// Metadata of every family that had a metadata line, in order.
    pub metadata: Vec<Metadata>,
}

/// Why a body could not be read; a scrape that hits one fails as a whole,
/// as in Prometheus.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct ParseError {
    /// 1-based line number.
    pub line: usize,
    /// What was wrong.
    pub message: String,
}
