//! The canonical printer: `Display` for the AST, one line per query, such
//! that `parse(&expr.to_string()) == expr` (tested in `tests`).

use std::fmt::{self, Display, Formatter, Write};

use model::algebra::{Cardinality, Grouping};

use crate::ast::*;

/// Writes `s` as Go's `strconv.Quote` does, as Loki prints strings.
fn quoted(f: &mut Formatter<'_>, s: &str) -> fmt::Result {
    f.write_str(&gocompat::strconv::quote(s))
}

fn number(f: &mut Formatter<'_>, v: f64) -> fmt::Result {
    write!(f, "{v}")
}

/// A duration in nanoseconds, in a notation the lexer reads back.
fn duration(f: &mut Formatter<'_>, ns: i64) -> fmt::Result {
    if ns >= 0 && ns % 1_000_000 == 0 {
        let ms = u64::try_from(ns / 1_000_000).unwrap_or(0);
        f.write_str(&model::duration::format_duration(
            std::time::Duration::from_millis(ms),
        ))
    } else {
        write!(f, "{ns}ns")
    }
}

fn labels_list(f: &mut Formatter<'_>, labels: &[String]) -> fmt::Result {
    f.write_str("(")?;
    f.write_str(&labels.join(", "))?;
    f.write_str(")")
}

/// `s` double-quoted as the printer writes strings.
pub(crate) fn quoted_text(s: &str) -> String {
    struct Q<'a>(&'a str);
    impl Display for Q<'_> {
        fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
            quoted(f, self.0)
        }
    }
    Q(s).to_string()
}

/// A duration as [`Display`] prints it (`5m`, `250ms`).
pub(crate) fn duration_text(ns: i64) -> String {
    struct D(i64);
    impl Display for D {
        fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
            duration(f, self.0)
        }
    }
    D(ns).to_string()
}

/// `by (a, b)` / `without (a)`.
pub(crate) fn grouping_text(g: &Grouping) -> String {
    struct G<'a>(&'a Grouping);
    impl Display for G<'_> {
        fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
            grouping(f, self.0)
        }
    }
    G(g).to_string()
}

/// The operator of a binary expression with its modifiers:
/// `> bool on (a) group_left (b)`.
pub(crate) fn operator_text(b: &BinaryExpr) -> String {
    let mut out = b.op.as_str().to_owned();
    if b.return_bool {
        out.push_str(" bool");
    }
    if let Some(m) = &b.matching {
        out.push_str(if m.on { " on (" } else { " ignoring (" });
        out.push_str(&m.labels.join(", "));
        out.push(')');
        let group = match m.card {
            Cardinality::ManyToOne => Some(" group_left ("),
            Cardinality::OneToMany => Some(" group_right ("),
            Cardinality::OneToOne | Cardinality::ManyToMany => None,
        };
        if let Some(g) = group {
            out.push_str(g);
            out.push_str(&m.include.join(", "));
            out.push(')');
        }
    }
    out
}

fn grouping(f: &mut Formatter<'_>, g: &Grouping) -> fmt::Result {
    match g {
        Grouping::By(_) => f.write_str("by ")?,
        Grouping::Without(_) => f.write_str("without ")?,
    }
    match g {
        Grouping::By(l) | Grouping::Without(l) => labels_list(f, l),
    }
}

impl Display for Expr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Log(l) => l.fmt(f),
            Expr::Metric(m) => m.fmt(f),
        }
    }
}

impl Display for LogExpr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str("{")?;
        for (i, m) in self.matchers.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            m.fmt(f)?;
        }
        f.write_str("}")?;
        for stage in &self.stages {
            f.write_char(' ')?;
            stage.fmt(f)?;
        }
        Ok(())
    }
}

fn params(f: &mut Formatter<'_>, params: &[ExtractParam]) -> fmt::Result {
    for (i, p) in params.iter().enumerate() {
        f.write_str(if i == 0 { " " } else { ", " })?;
        f.write_str(&p.label)?;
        if let Some(e) = &p.expr {
            f.write_char('=')?;
            quoted(f, e)?;
        }
    }
    Ok(())
}

fn selectors(f: &mut Formatter<'_>, items: &[NameOrMatcher]) -> fmt::Result {
    for (i, item) in items.iter().enumerate() {
        f.write_str(if i == 0 { " " } else { ", " })?;
        match item {
            NameOrMatcher::Name(n) => f.write_str(n)?,
            NameOrMatcher::Matcher(m) => m.fmt(f)?,
        }
    }
    Ok(())
}

impl Display for Stage {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Stage::LineFilter(lf) => {
                f.write_str(lf.op.as_str())?;
                for (i, v) in lf.values.iter().enumerate() {
                    f.write_str(if i == 0 { " " } else { " or " })?;
                    match v {
                        LineFilterValue::Text(t) => quoted(f, t)?,
                        LineFilterValue::Ip(p) => {
                            f.write_str("ip(")?;
                            quoted(f, p)?;
                            f.write_str(")")?;
                        }
                    }
                }
                Ok(())
            }
            Stage::Parser(p) => match p {
                ParserExpr::Json(ps) => {
                    f.write_str("| json")?;
                    params(f, ps)
                }
                ParserExpr::Logfmt {
                    strict,
                    keep_empty,
                    params: ps,
                } => {
                    f.write_str("| logfmt")?;
                    if *strict {
                        f.write_str(" --strict")?;
                    }
                    if *keep_empty {
                        f.write_str(" --keep-empty")?;
                    }
                    params(f, ps)
                }
                ParserExpr::Regexp(r) => {
                    f.write_str("| regexp ")?;
                    quoted(f, r)
                }
                ParserExpr::Pattern(p) => {
                    f.write_str("| pattern ")?;
                    quoted(f, p)
                }
                ParserExpr::Unpack => f.write_str("| unpack"),
            },
            Stage::LabelFilter(lf) => write!(f, "| {lf}"),
            Stage::LineFormat(t) => {
                f.write_str("| line_format ")?;
                quoted(f, t)
            }
            Stage::LabelFormat(items) => {
                f.write_str("| label_format")?;
                for (i, item) in items.iter().enumerate() {
                    f.write_str(if i == 0 { " " } else { ", " })?;
                    match item {
                        LabelFormat::Rename { dst, src } => write!(f, "{dst}={src}")?,
                        LabelFormat::Template { dst, template } => {
                            write!(f, "{dst}=")?;
                            quoted(f, template)?;
                        }
                    }
                }
                Ok(())
            }
            Stage::Drop(items) => {
                f.write_str("| drop")?;
                selectors(f, items)
            }
            Stage::Keep(items) => {
                f.write_str("| keep")?;
                selectors(f, items)
            }
            Stage::Decolorize => f.write_str("| decolorize"),
        }
    }
}

impl Display for LabelFilter {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let child = |f: &mut Formatter<'_>, c: &LabelFilter| -> fmt::Result {
            if matches!(c, LabelFilter::And(..) | LabelFilter::Or(..)) {
                write!(f, "({c})")
            } else {
                c.fmt(f)
            }
        };
        match self {
            LabelFilter::Matcher(m) => m.fmt(f),
            LabelFilter::Number { name, op, value } => {
                write!(f, "{name} {} ", op.as_str())?;
                number(f, *value)
            }
            LabelFilter::Duration { name, op, text, .. }
            | LabelFilter::Bytes { name, op, text, .. } => {
                write!(f, "{name} {} {text}", op.as_str())
            }
            LabelFilter::Ip {
                name,
                equal,
                pattern,
            } => {
                write!(f, "{name} {} ip(", if *equal { "=" } else { "!=" })?;
                quoted(f, pattern)?;
                f.write_str(")")
            }
            LabelFilter::And(a, b) | LabelFilter::Or(a, b) => {
                // Left-nested chains of the same operator need no parentheses.
                let same = matches!(
                    (self, a.as_ref()),
                    (LabelFilter::And(..), LabelFilter::And(..))
                        | (LabelFilter::Or(..), LabelFilter::Or(..))
                );
                if same {
                    a.fmt(f)?
                } else {
                    child(f, a)?
                }
                f.write_str(if matches!(self, LabelFilter::And(..)) {
                    " and "
                } else {
                    " or "
                })?;
                child(f, b)
            }
        }
    }
}

impl Display for MetricExpr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            MetricExpr::Literal(v) => number(f, *v),
            MetricExpr::Vector1(v) => {
                f.write_str("vector(")?;
                number(f, *v)?;
                f.write_str(")")
            }
            MetricExpr::Range(r) => {
                write!(f, "{}(", r.op.as_str())?;
                if let Some(p) = r.param {
                    number(f, p)?;
                    f.write_str(", ")?;
                }
                r.range.fmt(f)?;
                f.write_str(")")?;
                if let Some(g) = &r.grouping {
                    f.write_char(' ')?;
                    grouping(f, g)?;
                }
                Ok(())
            }
            MetricExpr::Vector(v) => {
                f.write_str(v.op.as_str())?;
                if let Some(g) = &v.grouping {
                    f.write_char(' ')?;
                    grouping(f, g)?;
                    f.write_char(' ')?;
                }
                f.write_str("(")?;
                if let Some(p) = v.param {
                    number(f, p)?;
                    f.write_str(", ")?;
                }
                v.expr.fmt(f)?;
                f.write_str(")")
            }
            MetricExpr::LabelReplace(l) => {
                write!(f, "label_replace({}", l.expr)?;
                for arg in [&l.dst, &l.replacement, &l.src, &l.regex] {
                    f.write_str(", ")?;
                    quoted(f, arg)?;
                }
                f.write_str(")")
            }
            MetricExpr::Binary(b) => {
                let operand = |f: &mut Formatter<'_>, e: &MetricExpr| -> fmt::Result {
                    if matches!(e, MetricExpr::Binary(_)) {
                        write!(f, "({e})")
                    } else {
                        e.fmt(f)
                    }
                };
                operand(f, &b.lhs)?;
                write!(f, " {} ", operator_text(b))?;
                operand(f, &b.rhs)
            }
        }
    }
}

impl Display for LogRange {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        self.log.fmt(f)?;
        if let Some(u) = &self.unwrap {
            f.write_str(" | unwrap ")?;
            match u.conv {
                UnwrapConv::Float => f.write_str(&u.label)?,
                UnwrapConv::Duration => write!(f, "duration({})", u.label)?,
                UnwrapConv::DurationSeconds => write!(f, "duration_seconds({})", u.label)?,
                UnwrapConv::Bytes => write!(f, "bytes({})", u.label)?,
            }
            for lf in &u.filters {
                write!(f, " | {lf}")?;
            }
        }
        f.write_str(" [")?;
        duration(f, self.range_ns)?;
        f.write_str("]")?;
        if self.offset_ns != 0 {
            f.write_str(" offset ")?;
            duration(f, self.offset_ns)?;
        }
        Ok(())
    }
}
