//! Stages that rewrite: `line_format`, `label_format`, `drop`, `keep`,
//! `decolorize`.

use std::borrow::Cow;
use std::collections::BTreeMap;

use model::Matcher;
use regex::Regex;

use super::{ERR_TEMPLATE, ERROR_DETAILS_LABEL, ERROR_LABEL, LabelsBuilder, Stage};
use crate::template::{Context, Template};

/// The data a template sees: every label, error labels included.
fn template_data(labels: &LabelsBuilder) -> BTreeMap<String, String> {
    let mut data: BTreeMap<String, String> = labels
        .iter()
        .map(|(n, v)| (n.to_owned(), v.to_owned()))
        .collect();
    for name in [ERROR_LABEL, ERROR_DETAILS_LABEL] {
        if let Some(v) = labels.get(name) {
            data.insert(name.to_owned(), v.to_owned());
        }
    }
    data
}

/// `| line_format "template"`.
#[derive(Debug, Clone)]
pub struct LineFormat {
    template: Template,
}

impl LineFormat {
    /// Compiles the template.
    pub fn new(text: &str) -> Result<Self, String> {
        Ok(Self {
            template: Template::parse("line", text).map_err(|e| e.to_string())?,
        })
    }
}

impl Stage for LineFormat {
    fn process<'a>(&self, ts_ns: i64, line: &mut Cow<'a, str>, labels: &mut LabelsBuilder) -> bool {
        let data = template_data(labels);
        match self.template.render(&data, Context { line, ts_ns }) {
            Ok(out) => *line = Cow::Owned(out),
            Err(e) => labels.set_error(ERR_TEMPLATE, e.to_string()),
        }
        true
    }
}

/// One `label_format` item, compiled.
#[derive(Debug, Clone)]
pub enum LabelFormatItem {
    /// `dst=src`.
    Rename {
        /// The new name.
        dst: String,
        /// The old name.
        src: String,
    },
    /// `dst="template"`.
    Template {
        /// The label set.
        dst: String,
        /// The template.
        template: Template,
    },
}

/// `| label_format a=b, c="{{…}}"`.
#[derive(Debug, Clone)]
pub struct LabelFormat {
    items: Vec<LabelFormatItem>,
}

impl LabelFormat {
    /// Compiles items given as `(dst, Ok(src))` for renames and
    /// `(dst, Err(template))` for templates; a target may appear once.
    pub fn new(items: Vec<(String, Result<String, String>)>) -> Result<Self, String> {
        let mut seen: Vec<&str> = Vec::new();
        for (dst, _) in &items {
            if seen.contains(&dst.as_str()) {
                return Err(format!(
                    "multiple label name '{dst}' not allowed in a single format operation"
                ));
            }
            seen.push(dst);
        }
        let items = items
            .into_iter()
            .map(|(dst, item)| match item {
                Ok(src) => Ok(LabelFormatItem::Rename { dst, src }),
                Err(text) => Ok(LabelFormatItem::Template {
                    template: Template::parse("label", &text).map_err(|e| e.to_string())?,
                    dst,
                }),
            })
            .collect::<Result<_, String>>()?;
        Ok(Self { items })
    }
}

impl Stage for LabelFormat {
    fn process<'a>(&self, ts_ns: i64, line: &mut Cow<'a, str>, labels: &mut LabelsBuilder) -> bool {
        let mut data: Option<BTreeMap<String, String>> = None;
        for item in &self.items {
            match item {
                LabelFormatItem::Rename { dst, src } => {
                    if let Some(v) = labels.get(src).map(str::to_owned) {
                        labels.remove(src);
                        labels.set(dst.clone(), v);
                    }
                }
                LabelFormatItem::Template { dst, template } => {
                    let d = data.get_or_insert_with(|| template_data(labels));
                    match template.render(d, Context { line, ts_ns }) {
                        Ok(v) => labels.set(dst.clone(), v),
                        Err(e) => labels.set_error(ERR_TEMPLATE, e.to_string()),
                    }
                }
            }
        }
        true
    }
}

/// A label named in `drop`/`keep`, with an optional value condition.
#[derive(Debug, Clone)]
pub enum LabelSelector {
    /// Just the name.
    Name(String),
    /// The name with a condition on the value.
    Matcher(Matcher),
}

impl LabelSelector {
    fn selects(&self, name: &str, value: &str) -> bool {
        match self {
            LabelSelector::Name(n) => n == name,
            LabelSelector::Matcher(m) => m.name == name && m.matches(value),
        }
    }
}

/// `| drop …`: removes the selected labels.
#[derive(Debug, Clone)]
pub struct Drop(pub Vec<LabelSelector>);

impl Stage for Drop {
    fn process<'a>(&self, _ts: i64, _line: &mut Cow<'a, str>, labels: &mut LabelsBuilder) -> bool {
        labels.retain(|n, v| !self.0.iter().any(|s| s.selects(n, v)));
        true
    }

    fn labels_only(&self) -> bool {
        true
    }
}

/// `| keep …`: keeps only the selected labels.
#[derive(Debug, Clone)]
pub struct Keep(pub Vec<LabelSelector>);

impl Stage for Keep {
    fn process<'a>(&self, _ts: i64, _line: &mut Cow<'a, str>, labels: &mut LabelsBuilder) -> bool {
        labels.retain(|n, v| self.0.iter().any(|s| s.selects(n, v)));
        true
    }

    fn labels_only(&self) -> bool {
        true
    }
}

/// `| decolorize`: removes ANSI escape sequences from the line.
#[derive(Debug, Clone)]
pub struct Decolorize {
    ansi: Regex,
}

impl Default for Decolorize {
    fn default() -> Self {
        Self::new()
    }
}

impl Decolorize {
    /// The stage.
    pub fn new() -> Self {
        // CSI sequences (colours, cursor moves) and two-byte escapes.
        let ansi = Regex::new(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-Z\\-_]")
            .unwrap_or_else(|_| unreachable!("constant regex"));
        Self { ansi }
    }
}

impl Stage for Decolorize {
    fn process<'a>(&self, _ts: i64, line: &mut Cow<'a, str>, _labels: &mut LabelsBuilder) -> bool {
        if line.contains('\u{1b}') {
            *line = Cow::Owned(self.ansi.replace_all(line, "").into_owned());
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::{Labels, MatchOp};

    fn run(stage: &dyn Stage, stream: &[(&str, &str)], line: &str) -> (String, Labels) {
        let mut lb = LabelsBuilder::new(
            &Labels::from_pairs(stream.iter().copied()),
            &Labels::empty(),
        );
        let mut l = Cow::Borrowed(line);
        assert!(stage.process(0, &mut l, &mut lb));
        (l.into_owned(), lb.finish())
    }

    #[test]
    fn line_format_renders_labels() {
        let (line, _) = run(
            &LineFormat::new("L={{.level}} {{ __line__ }}").unwrap(),
            &[("level", "error")],
            "x",
        );
        assert_eq!(line, "L=error x");
        assert!(
            LineFormat::new("{{ nosuchfunc }}")
                .unwrap_err()
                .contains("not defined")
        );
    }

    #[test]
    fn label_format_rename_and_template() {
        let f = LabelFormat::new(vec![
            ("r".into(), Err("{{.method}}-ok".into())),
            ("verb".into(), Ok("method".into())),
        ])
        .unwrap();
        let (_, labels) = run(&f, &[("method", "get")], "x");
        assert_eq!(
            labels,
            Labels::from_pairs([("verb", "get"), ("r", "get-ok")])
        );
        assert!(
            LabelFormat::new(vec![
                ("a".into(), Ok("b".into())),
                ("a".into(), Ok("c".into()))
            ])
            .is_err()
        );
    }

    #[test]
    fn drop_and_keep() {
        let m = Matcher::new(MatchOp::Equal, "code", "500").unwrap();
        let (_, l) = run(
            &Drop(vec![
                LabelSelector::Matcher(m.clone()),
                LabelSelector::Name("zone".into()),
            ]),
            &[("code", "500"), ("zone", "z"), ("app", "a")],
            "x",
        );
        assert_eq!(l, Labels::from_pairs([("app", "a")]));
        let (_, l) = run(
            &Keep(vec![LabelSelector::Matcher(m)]),
            &[("code", "200"), ("app", "a")],
            "x",
        );
        assert_eq!(l, Labels::empty());
    }

    #[test]
    fn decolorize_strips_ansi() {
        let (line, _) = run(&Decolorize::new(), &[], "\u{1b}[31mred\u{1b}[0m plain");
        assert_eq!(line, "red plain");
    }
}
