//! A multi-line pretty printer in the manner of Loki's `format_query`:
//! anything that fits the width stays on one line; longer aggregations put
//! their argument on indented lines, long pipelines put one stage per line.
//! The output parses back to the same tree (tested over Loki's suite).

use crate::ast::*;
use crate::printer::{duration_text, grouping_text, operator_text, quoted_text};

/// Pretty-prints with Loki's default width of 100 columns.
pub fn pretty(expr: &Expr) -> String {
    pretty_width(expr, 100)
}

/// Pretty-prints so that lines fit in `width` columns where they can.
pub fn pretty_width(expr: &Expr, width: usize) -> String {
    let mut p = Pretty {
        out: String::new(),
        width,
    };
    match expr {
        Expr::Log(l) => p.log(l, 0, None),
        Expr::Metric(m) => p.metric(m, 0),
    }
    p.out
}

struct Pretty {
    out: String,
    width: usize,
}

impl Pretty {
    fn fits(&self, text: &str, indent: usize) -> bool {
        indent + text.chars().count() <= self.width
    }

    fn line(&mut self, indent: usize, text: &str) {
        self.out.extend(std::iter::repeat_n(' ', indent));
        self.out.push_str(text);
    }

    fn log(&mut self, l: &LogExpr, indent: usize, range: Option<&LogRange>) {
        let flat = match range {
            Some(r) => r.to_string(),
            None => l.to_string(),
        };
        if self.fits(&flat, indent) {
            self.line(indent, &flat);
            return;
        }
        let selector = LogExpr {
            matchers: l.matchers.clone(),
            stages: Vec::new(),
        };
        self.line(indent, &selector.to_string());
        for stage in &l.stages {
            self.out.push('\n');
            self.line(indent + 2, &stage.to_string());
        }
        if let Some(r) = range {
            if let Some(u) = &r.unwrap {
                let conv = match u.conv {
                    UnwrapConv::Float => u.label.clone(),
                    UnwrapConv::Duration => format!("duration({})", u.label),
                    UnwrapConv::DurationSeconds => format!("duration_seconds({})", u.label),
                    UnwrapConv::Bytes => format!("bytes({})", u.label),
                };
                self.out.push('\n');
                self.line(indent + 2, &format!("| unwrap {conv}"));
                for f in &u.filters {
                    self.out.push('\n');
                    self.line(indent + 2, &format!("| {f}"));
                }
            }
            self.out.push('\n');
            let mut window = format!("[{}]", duration_text(r.range_ns));
            if r.offset_ns != 0 {
                window.push_str(&format!(" offset {}", duration_text(r.offset_ns)));
            }
            self.line(indent, &window);
        }
    }

    fn metric(&mut self, m: &MetricExpr, indent: usize) {
        let flat = m.to_string();
        if self.fits(&flat, indent) {
            self.line(indent, &flat);
            return;
        }
        match m {
            MetricExpr::Literal(_) | MetricExpr::Vector1(_) => self.line(indent, &flat),
            MetricExpr::Range(r) => {
                self.line(indent, &format!("{}(\n", r.op.as_str()));
                if let Some(p) = r.param {
                    self.line(indent + 2, &format!("{p},\n"));
                }
                self.log(&r.range.log, indent + 2, Some(&r.range));
                self.out.push('\n');
                self.line(indent, ")");
                if let Some(g) = &r.grouping {
                    self.out.push(' ');
                    self.out.push_str(&grouping_text(g));
                }
            }
            MetricExpr::Vector(v) => {
                let mut head = v.op.as_str().to_owned();
                if let Some(g) = &v.grouping {
                    head.push(' ');
                    head.push_str(&grouping_text(g));
                    head.push(' ');
                }
                head.push_str("(\n");
                self.line(indent, &head);
                if let Some(p) = v.param {
                    self.line(indent + 2, &format!("{p},\n"));
                }
                self.metric(&v.expr, indent + 2);
                self.out.push('\n');
                self.line(indent, ")");
            }
            MetricExpr::Binary(b) => {
                self.operand(&b.lhs, indent);
                self.out.push('\n');
                self.line(indent, &operator_text(b));
                self.out.push('\n');
                self.operand(&b.rhs, indent);
            }
            MetricExpr::LabelReplace(l) => {
                self.line(indent, "label_replace(\n");
                self.metric(&l.expr, indent + 2);
                for arg in [&l.dst, &l.replacement, &l.src, &l.regex] {
                    self.out.push_str(",\n");
                    self.line(indent + 2, &quoted_text(arg));
                }
                self.out.push('\n');
                self.line(indent, ")");
            }
        }
    }

    fn operand(&mut self, e: &MetricExpr, indent: usize) {
        if matches!(e, MetricExpr::Binary(_)) {
            let flat = format!("({e})");
            if self.fits(&flat, indent) {
                self.line(indent, &flat);
                return;
            }
            self.line(indent, "(\n");
            self.metric(e, indent + 2);
            self.out.push('\n');
            self.line(indent, ")");
        } else {
            self.metric(e, indent);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_queries_stay_on_one_line() {
        let e = crate::parse(r#"sum by (app) (rate({app="a"}[1m]))"#).unwrap();
        assert_eq!(pretty(&e), r#"sum by (app) (rate({app="a"} [1m]))"#);
    }

    #[test]
    fn long_queries_break_like_format_query() {
        let q = r#"sum by (app) (rate({app="a", env="production"} |= "error" | logfmt | level="error" [5m])) / on (app) group_left sum by (app) (rate({app="a"}[5m]))"#;
        let e = crate::parse(q).unwrap();
        let want = r#"sum by (app) (
  rate(
    {app="a", env="production"}
      |= "error"
      | logfmt
      | level="error"
    [5m]
  )
)
/ on (app) group_left ()
sum by (app) (rate({app="a"} [5m]))"#;
        assert_eq!(pretty_width(&e, 40), want);
        assert_eq!(crate::parse(want).unwrap(), e);
    }
}
