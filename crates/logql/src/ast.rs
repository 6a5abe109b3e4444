//! The LogQL syntax tree. Templates, regexes and patterns are kept as text;
//! the evaluator compiles them into pipeline stages.

use model::Matcher;
use model::algebra::{BinaryOp, Grouping, VectorMatching};

/// A whole query: a log query or a metric query.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// `{…} | …`: returns log lines.
    Log(LogExpr),
    /// Anything that returns numbers.
    Metric(MetricExpr),
}

/// A stream selector and its pipeline.
#[derive(Debug, Clone, PartialEq)]
pub struct LogExpr {
    /// The matchers of `{…}`.
    pub matchers: Vec<Matcher>,
    /// The stages after the selector, in order.
    pub stages: Vec<Stage>,
}

/// One stage of a log pipeline.
#[derive(Debug, Clone, PartialEq)]
pub enum Stage {
    /// `|= "a" or "b"`, `!~ "re"`, `|> "<_> x"`, `!= ip("…")`.
    LineFilter(LineFilter),
    /// `| json`, `| logfmt`, `| regexp`, `| pattern`, `| unpack`.
    Parser(ParserExpr),
    /// `| status >= 500 and level="error"`.
    LabelFilter(LabelFilter),
    /// `| line_format "…"`.
    LineFormat(String),
    /// `| label_format a=b, c="{{…}}"`.
    LabelFormat(Vec<LabelFormat>),
    /// `| drop a, b="v"`.
    Drop(Vec<NameOrMatcher>),
    /// `| keep a, b="v"`.
    Keep(Vec<NameOrMatcher>),
    /// `| decolorize`.
    Decolorize,
}

/// The operator of a line filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineFilterOp {
    /// `|=`
    Contains,
    /// `!=`
    NotContains,
    /// `|~`
    Regex,
    /// `!~`
    NotRegex,
    /// `|>`
    Pattern,
    /// `!>`
    NotPattern,
}

impl LineFilterOp {
    /// The operator as written.
    pub fn as_str(self) -> &'static str {
        match self {
            LineFilterOp::Contains => "|=",
            LineFilterOp::NotContains => "!=",
            LineFilterOp::Regex => "|~",
            LineFilterOp::NotRegex => "!~",
            LineFilterOp::Pattern => "|>",
            LineFilterOp::NotPattern => "!>",
        }
    }

    /// Whether the filter keeps lines that do *not* match.
    pub fn is_negative(self) -> bool {
        matches!(
            self,
            LineFilterOp::NotContains | LineFilterOp::NotRegex | LineFilterOp::NotPattern
        )
    }
}

/// A line filter: one operator and alternatives joined by `or`.
#[derive(Debug, Clone, PartialEq)]
pub struct LineFilter {
    /// The operator.
    pub op: LineFilterOp,
    /// At least one value; a line matches when any value matches.
    pub values: Vec<LineFilterValue>,
}

/// The operand of a line filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineFilterValue {
    /// A string, regex or pattern.
    Text(String),
    /// `ip("…")`: an address, range or CIDR.
    Ip(String),
}

/// A parser stage.
#[derive(Debug, Clone, PartialEq)]
pub enum ParserExpr {
    /// `json` or `json a="path", b`.
    Json(Vec<ExtractParam>),
    /// `logfmt [--strict] [--keep-empty] [params]`.
    Logfmt {
        /// `--strict`: stop at the first malformed pair.
        strict: bool,
        /// `--keep-empty`: keep standalone keys as empty labels.
        keep_empty: bool,
        /// Extraction parameters; empty extracts everything.
        params: Vec<ExtractParam>,
    },
    /// `regexp "re"`.
    Regexp(String),
    /// `pattern "<a> <_>"`.
    Pattern(String),
    /// `unpack`.
    Unpack,
}

/// `label="expression"` or `label` in json/logfmt parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtractParam {
    /// The label to set.
    pub label: String,
    /// The path (`a.b[0]`) or key; `None` means the label name itself.
    pub expr: Option<String>,
}

pub use crate::pipeline::label_filter::CmpOp;

/// A label filter expression.
#[derive(Debug, Clone, PartialEq)]
pub enum LabelFilter {
    /// `name op "value"` with a string operator.
    Matcher(Matcher),
    /// `name op 1.5`.
    Number {
        /// The label.
        name: String,
        /// The comparison.
        op: CmpOp,
        /// The literal.
        value: f64,
    },
    /// `name op 250ms`.
    Duration {
        /// The label.
        name: String,
        /// The comparison.
        op: CmpOp,
        /// The literal as written.
        text: String,
        /// The literal in seconds.
        seconds: f64,
    },
    /// `name op 20KB`.
    Bytes {
        /// The label.
        name: String,
        /// The comparison.
        op: CmpOp,
        /// The literal as written.
        text: String,
        /// The literal in bytes.
        bytes: f64,
    },
    /// `name = ip("…")` or `name != ip("…")`.
    Ip {
        /// The label.
        name: String,
        /// `=` when true, `!=` when false.
        equal: bool,
        /// The address pattern.
        pattern: String,
    },
    /// `a and b` (also `a, b` and `a b`).
    And(Box<LabelFilter>, Box<LabelFilter>),
    /// `a or b`.
    Or(Box<LabelFilter>, Box<LabelFilter>),
}

/// One item of `label_format`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LabelFormat {
    /// `dst=src`: rename.
    Rename {
        /// The new name.
        dst: String,
        /// The label renamed.
        src: String,
    },
    /// `dst="{{…}}"`: set from a template.
    Template {
        /// The label set.
        dst: String,
        /// The template text.
        template: String,
    },
}

/// An item of `drop`/`keep`.
#[derive(Debug, Clone, PartialEq)]
pub enum NameOrMatcher {
    /// A label name.
    Name(String),
    /// A label with a value condition.
    Matcher(Matcher),
}

/// A metric query.
#[derive(Debug, Clone, PartialEq)]
pub enum MetricExpr {
    /// `rate({…}[5m])` and friends.
    Range(RangeAggregation),
    /// `sum by (…) (…)` and friends.
    Vector(VectorAggregation),
    /// `a + b`, `a > bool on (x) b`.
    Binary(Box<BinaryExpr>),
    /// A number literal.
    Literal(f64),
    /// `label_replace(v, "dst", "repl", "src", "re")`.
    LabelReplace(Box<LabelReplace>),
    /// `vector(1)`.
    Vector1(f64),
}

/// A range aggregation's function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeOp {
    /// `rate`
    Rate,
    /// `rate_counter`
    RateCounter,
    /// `count_over_time`
    CountOverTime,
    /// `bytes_rate`
    BytesRate,
    /// `bytes_over_time`
    BytesOverTime,
    /// `absent_over_time`
    AbsentOverTime,
    /// `sum_over_time`
    SumOverTime,
    /// `avg_over_time`
    AvgOverTime,
    /// `min_over_time`
    MinOverTime,
    /// `max_over_time`
    MaxOverTime,
    /// `stdvar_over_time`
    StdvarOverTime,
    /// `stddev_over_time`
    StddevOverTime,
    /// `quantile_over_time`
    QuantileOverTime,
    /// `first_over_time`
    FirstOverTime,
    /// `last_over_time`
    LastOverTime,
}

impl RangeOp {
    const ALL: [RangeOp; 15] = [
        RangeOp::Rate,
        RangeOp::RateCounter,
        RangeOp::CountOverTime,
        RangeOp::BytesRate,
        RangeOp::BytesOverTime,
        RangeOp::AbsentOverTime,
        RangeOp::SumOverTime,
        RangeOp::AvgOverTime,
        RangeOp::MinOverTime,
        RangeOp::MaxOverTime,
        RangeOp::StdvarOverTime,
        RangeOp::StddevOverTime,
        RangeOp::QuantileOverTime,
        RangeOp::FirstOverTime,
        RangeOp::LastOverTime,
    ];

    /// The function's name.
    pub fn as_str(self) -> &'static str {
        match self {
            RangeOp::Rate => "rate",
            RangeOp::RateCounter => "rate_counter",
            RangeOp::CountOverTime => "count_over_time",
            RangeOp::BytesRate => "bytes_rate",
            RangeOp::BytesOverTime => "bytes_over_time",
            RangeOp::AbsentOverTime => "absent_over_time",
            RangeOp::SumOverTime => "sum_over_time",
            RangeOp::AvgOverTime => "avg_over_time",
            RangeOp::MinOverTime => "min_over_time",
            RangeOp::MaxOverTime => "max_over_time",
            RangeOp::StdvarOverTime => "stdvar_over_time",
            RangeOp::StddevOverTime => "stddev_over_time",
            RangeOp::QuantileOverTime => "quantile_over_time",
            RangeOp::FirstOverTime => "first_over_time",
            RangeOp::LastOverTime => "last_over_time",
        }
    }

    /// Looks a function up by name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|op| op.as_str() == name)
    }

    /// Whether the function needs `| unwrap`: `Some(true)` needs it,
    /// `Some(false)` forbids it, `None` takes both (`rate`).
    pub fn needs_unwrap(self) -> Option<bool> {
        match self {
            RangeOp::Rate | RangeOp::AbsentOverTime => None,
            RangeOp::CountOverTime | RangeOp::BytesRate | RangeOp::BytesOverTime => Some(false),
            _ => Some(true),
        }
    }

    /// Whether `by`/`without` may follow the function.
    pub fn allows_grouping(self) -> bool {
        matches!(
            self,
            RangeOp::AvgOverTime
                | RangeOp::StddevOverTime
                | RangeOp::StdvarOverTime
                | RangeOp::QuantileOverTime
                | RangeOp::MinOverTime
                | RangeOp::MaxOverTime
                | RangeOp::FirstOverTime
                | RangeOp::LastOverTime
        )
    }
}

/// `op(param, log-range) by (…)`.
#[derive(Debug, Clone, PartialEq)]
pub struct RangeAggregation {
    /// The function.
    pub op: RangeOp,
    /// φ of quantile_over_time.
    pub param: Option<f64>,
    /// The log expression and its window.
    pub range: LogRange,
    /// `by`/`without` after the call.
    pub grouping: Option<Grouping>,
}

/// A log expression with a window: `{…} | … | unwrap x [5m] offset 1m`.
#[derive(Debug, Clone, PartialEq)]
pub struct LogRange {
    /// The selector and pipeline.
    pub log: LogExpr,
    /// The window in nanoseconds.
    pub range_ns: i64,
    /// The offset in nanoseconds (0 when absent).
    pub offset_ns: i64,
    /// The `| unwrap` stage.
    pub unwrap: Option<Unwrap>,
}

/// How `unwrap` converts the label value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnwrapConv {
    /// A plain float.
    Float,
    /// `duration(x)` / `duration_seconds(x)`: Go duration to seconds.
    Duration,
    /// `duration_seconds(x)`.
    DurationSeconds,
    /// `bytes(x)`: humanized bytes.
    Bytes,
}

/// `| unwrap [conv(]label[)]` and label filters after it.
#[derive(Debug, Clone, PartialEq)]
pub struct Unwrap {
    /// The label unwrapped.
    pub label: String,
    /// The conversion.
    pub conv: UnwrapConv,
    /// Label filters after unwrap (they see conversion errors).
    pub filters: Vec<LabelFilter>,
}

/// A vector aggregation's operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VectorOp {
    /// `sum`
    Sum,
    /// `avg`
    Avg,
    /// `min`
    Min,
    /// `max`
    Max,
    /// `count`
    Count,
    /// `stddev`
    Stddev,
    /// `stdvar`
    Stdvar,
    /// `topk`
    Topk,
    /// `bottomk`
    Bottomk,
    /// `sort`
    Sort,
    /// `sort_desc`
    SortDesc,
    /// `approx_topk`: exact here, instant queries only as in Loki.
    ApproxTopk,
}

impl VectorOp {
    const ALL: [VectorOp; 12] = [
        VectorOp::Sum,
        VectorOp::Avg,
        VectorOp::Min,
        VectorOp::Max,
        VectorOp::Count,
        VectorOp::Stddev,
        VectorOp::Stdvar,
        VectorOp::Topk,
        VectorOp::Bottomk,
        VectorOp::Sort,
        VectorOp::SortDesc,
        VectorOp::ApproxTopk,
    ];

    /// The operator's name.
    pub fn as_str(self) -> &'static str {
        match self {
            VectorOp::Sum => "sum",
            VectorOp::Avg => "avg",
            VectorOp::Min => "min",
            VectorOp::Max => "max",
            VectorOp::Count => "count",
            VectorOp::Stddev => "stddev",
            VectorOp::Stdvar => "stdvar",
            VectorOp::Topk => "topk",
            VectorOp::Bottomk => "bottomk",
            VectorOp::Sort => "sort",
            VectorOp::SortDesc => "sort_desc",
            VectorOp::ApproxTopk => "approx_topk",
        }
    }

    /// Looks an operator up by name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|op| op.as_str() == name)
    }

    /// Whether the operator takes a leading parameter (`k`).
    pub fn takes_param(self) -> bool {
        matches!(
            self,
            VectorOp::Topk | VectorOp::Bottomk | VectorOp::ApproxTopk
        )
    }
}

/// `op by (…) (param, expr)`.
#[derive(Debug, Clone, PartialEq)]
pub struct VectorAggregation {
    /// The operator.
    pub op: VectorOp,
    /// `k` of topk/bottomk.
    pub param: Option<f64>,
    /// `by`/`without`.
    pub grouping: Option<Grouping>,
    /// The aggregated expression.
    pub expr: Box<MetricExpr>,
}

/// `lhs op [bool] [on|ignoring (…) [group_left|group_right (…)]] rhs`.
#[derive(Debug, Clone, PartialEq)]
pub struct BinaryExpr {
    /// The operator.
    pub op: BinaryOp,
    /// The left operand.
    pub lhs: MetricExpr,
    /// The right operand.
    pub rhs: MetricExpr,
    /// `bool` after a comparison.
    pub return_bool: bool,
    /// The matching modifiers, when written.
    pub matching: Option<VectorMatching>,
}

/// The arguments of `label_replace`.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelReplace {
    /// The vector.
    pub expr: MetricExpr,
    /// The label set.
    pub dst: String,
    /// The replacement with `$1` references.
    pub replacement: String,
    /// The label read.
    pub src: String,
    /// The regex, anchored.
    pub regex: String,
}
