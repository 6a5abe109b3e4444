//! Label filters: string matchers, numbers, durations, bytes and IPs,
//! combined with `and`/`or`. A value that does not convert sets
//! `__error__="LabelFilterErr"` and keeps the entry, as in Loki.

use std::borrow::Cow;

use model::Matcher;

use super::filter::IpPattern;
use super::{ERR_LABEL_FILTER, LabelsBuilder, Stage};

/// Comparison of a label filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    /// `==` (or `=`)
    Eq,
    /// `!=`
    Ne,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `<`
    Lt,
    /// `<=`
    Le,
}

impl CmpOp {
    /// The operator as written.
    pub fn as_str(self) -> &'static str {
        match self {
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
        }
    }

    /// Applies the comparison.
    pub fn compare(self, a: f64, b: f64) -> bool {
        match self {
            CmpOp::Eq => a == b,
            CmpOp::Ne => a != b,
            CmpOp::Gt => a > b,
            CmpOp::Ge => a >= b,
            CmpOp::Lt => a < b,
            CmpOp::Le => a <= b,
        }
    }
}

/// How a value is converted before a numeric comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conversion {
    /// Go's `strconv.ParseFloat`.
    Number,
    /// Go's `time.ParseDuration`, in seconds.
    Duration,
    /// humanize's `ParseBytes`.
    Bytes,
}

/// A compiled label filter.
#[derive(Debug, Clone)]
pub enum LabelFilterStage {
    /// A string matcher on the label's value (`""` when absent).
    Matcher(Matcher),
    /// A converted comparison.
    Compare {
        /// The label.
        name: String,
        /// The comparison.
        op: CmpOp,
        /// The conversion of the label value.
        conv: Conversion,
        /// The right-hand side, converted.
        value: f64,
    },
    /// An address condition.
    Ip {
        /// The label.
        name: String,
        /// `=` when true.
        equal: bool,
        /// The pattern.
        pattern: IpPattern,
    },
    /// Both sides, always evaluated.
    And(Box<LabelFilterStage>, Box<LabelFilterStage>),
    /// Either side; the right one runs only when the left one fails.
    Or(Box<LabelFilterStage>, Box<LabelFilterStage>),
}

/// Go's `strconv.ParseFloat` error text for `value`.
fn parse_float_error(value: &str) -> String {
    format!("strconv.ParseFloat: parsing {value:?}: invalid syntax")
}

/// Converts a label value like Go's `strconv.ParseFloat`.
pub fn parse_float(value: &str) -> Result<f64, String> {
    let lower = value.to_ascii_lowercase();
    let special = matches!(
        lower.trim_start_matches(['+', '-']),
        "inf" | "infinity" | "nan"
    );
    if special {
        return value.parse().map_err(|_| parse_float_error(value));
    }
    crate::parser::parse_go_float(value).ok_or_else(|| parse_float_error(value))
}

/// Parses sizes like humanize's `ParseBytes`: `3MB`, `2 MiB`, `1,024kb`,
/// units case-insensitive; errors in its words.
pub fn parse_bytes(text: &str) -> Result<u64, String> {
    let digits = text
        .char_indices()
        .find(|(_, c)| !(c.is_ascii_digit() || *c == '.' || *c == ','))
        .map_or(text.len(), |(i, _)| i);
    let number = text.get(..digits).unwrap_or("").replace(',', "");
    let value: f64 = number.parse().map_err(|_| parse_float_error(&number))?;
    if number.starts_with(['+', '-']) {
        return Err(parse_float_error(&number));
    }
    let unit = text.get(digits..).unwrap_or("").trim().to_ascii_lowercase();
    let scale: f64 = match unit.as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => 1e3,
        "ki" | "kib" => 1024.0,
        "m" | "mb" => 1e6,
        "mi" | "mib" => 1024f64.powi(2),
        "g" | "gb" => 1e9,
        "gi" | "gib" => 1024f64.powi(3),
        "t" | "tb" => 1e12,
        "ti" | "tib" => 1024f64.powi(4),
        "p" | "pb" => 1e15,
        "pi" | "pib" => 1024f64.powi(5),
        "e" | "eb" => 1e18,
        "ei" | "eib" => 1024f64.powi(6),
        _ => return Err(format!("unhandled size name: {unit}")),
    };
    let bytes = value * scale;
    if bytes >= u64::MAX as f64 {
        return Err(format!("too large: {text}"));
    }
    Ok(bytes as u64)
}

/// Converts a label value with the given conversion.
pub fn convert(conv: Conversion, value: &str) -> Result<f64, String> {
    match conv {
        Conversion::Number => parse_float(value),
        Conversion::Duration => {
            gocompat::duration::parse_go_duration(value).map_err(|e| e.to_string())
        }
        Conversion::Bytes => parse_bytes(value).map(|b| b as f64),
    }
}

impl LabelFilterStage {
    /// Evaluates the filter, recording conversion errors in `labels`.
    pub fn keep(&self, labels: &mut LabelsBuilder) -> bool {
        match self {
            LabelFilterStage::Matcher(m) => m.matches(labels.get(&m.name).unwrap_or("")),
            LabelFilterStage::Compare {
                name,
                op,
                conv,
                value,
            } => {
                // Converting filters read only real labels (not `__error__`)
                // and drop entries that lack the label.
                let Some(v) = labels.label(name) else {
                    return false;
                };
                match convert(*conv, v) {
                    Ok(x) => op.compare(x, *value),
                    Err(e) => {
                        labels.set_error(ERR_LABEL_FILTER, e);
                        true
                    }
                }
            }
            LabelFilterStage::Ip {
                name,
                equal,
                pattern,
            } => {
                // An entry that already failed is kept, so its error shows.
                if labels.has_error() {
                    return true;
                }
                let Some(v) = labels.get(name) else {
                    return false;
                };
                // Like the line filter, any address inside the value counts.
                let inside = pattern.matches_line(v.as_bytes());
                inside == *equal
            }
            LabelFilterStage::And(a, b) => {
                let left = a.keep(labels);
                let right = b.keep(labels);
                left && right
            }
            LabelFilterStage::Or(a, b) => a.keep(labels) || b.keep(labels),
        }
    }
}

impl Stage for LabelFilterStage {
    fn process<'a>(&self, _ts: i64, _line: &mut Cow<'a, str>, labels: &mut LabelsBuilder) -> bool {
        self.keep(labels)
    }

    fn labels_only(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::{Labels, MatchOp};

    fn lb(pairs: &[(&str, &str)]) -> LabelsBuilder {
        LabelsBuilder::new(&Labels::from_pairs(pairs.iter().copied()), &Labels::empty())
    }

    fn cmp(name: &str, op: CmpOp, conv: Conversion, value: f64) -> LabelFilterStage {
        LabelFilterStage::Compare {
            name: name.into(),
            op,
            conv,
            value,
        }
    }

    #[test]
    fn numeric_duration_bytes() {
        assert!(cmp("s", CmpOp::Ge, Conversion::Number, 500.0).keep(&mut lb(&[("s", "503")])));
        assert!(!cmp("s", CmpOp::Ge, Conversion::Number, 500.0).keep(&mut lb(&[("s", "200")])));
        assert!(cmp("d", CmpOp::Gt, Conversion::Duration, 1.0).keep(&mut lb(&[("d", "1.5s")])));
        assert!(cmp("b", CmpOp::Gt, Conversion::Bytes, 1e6).keep(&mut lb(&[("b", "2MiB")])));
        assert!(!cmp("missing", CmpOp::Gt, Conversion::Number, 1.0).keep(&mut lb(&[])));
    }

    #[test]
    fn conversion_errors_keep_the_entry_with_error() {
        let mut l = lb(&[("d", "90")]);
        assert!(cmp("d", CmpOp::Gt, Conversion::Duration, 1.0).keep(&mut l));
        assert_eq!(l.get("__error__"), Some(ERR_LABEL_FILTER));
        assert_eq!(
            l.get("__error_details__"),
            Some(r#"time: missing unit in duration "90""#)
        );
    }

    #[test]
    fn and_runs_both_or_short_circuits() {
        let m = LabelFilterStage::Matcher(Matcher::new(MatchOp::Equal, "l", "x").unwrap());
        let bad = cmp("v", CmpOp::Gt, Conversion::Number, 1.0);
        let mut l = lb(&[("l", "y"), ("v", "oops")]);
        assert!(!LabelFilterStage::And(Box::new(m.clone()), Box::new(bad.clone())).keep(&mut l));
        assert!(l.has_error());
        let mut l = lb(&[("l", "x"), ("v", "oops")]);
        assert!(LabelFilterStage::Or(Box::new(m), Box::new(bad)).keep(&mut l));
        assert!(!l.has_error());
    }

    #[test]
    fn humanize_bytes() {
        assert_eq!(parse_bytes("3MB"), Ok(3_000_000));
        assert_eq!(parse_bytes("3mb"), Ok(3_000_000));
        assert_eq!(parse_bytes("2KiB"), Ok(2048));
        assert_eq!(parse_bytes("1,024 B"), Ok(1024));
        assert_eq!(
            parse_bytes("oops").unwrap_err(),
            r#"strconv.ParseFloat: parsing "": invalid syntax"#
        );
        assert!(parse_bytes("1XB").is_err());
    }
}
