//! The log pipeline: stages that filter, parse and rewrite one log entry.
//!
//! This module is a leaf: it knows neither the LogQL grammar nor HTTP, so the
//! query engine, the log store and the agent all build the same stages.
//! A [`Pipeline`] runs its [`Stage`]s in order over an entry (timestamp,
//! line, stream labels, structured metadata). Failures become data: a stage
//! that cannot parse or convert sets `__error__` (and `__error_details__`)
//! in the [`LabelsBuilder`] instead of failing.
//!
//! Line filters placed before any other stage run on the raw line without
//! allocating; only entries that pass them get a label builder.

pub mod filter;
pub mod format;
pub mod json;
pub mod label_filter;
pub mod parsers;
pub mod pattern;

use std::borrow::Cow;

use model::Labels;

pub use filter::LineFilterStage;

/// `__error__` value of the json and unpack parsers.
pub const ERR_JSON: &str = "JSONParserErr";
/// `__error__` value of the logfmt parser.
pub const ERR_LOGFMT: &str = "LogfmtParserErr";
/// `__error__` value of a label filter that cannot convert a value.
pub const ERR_LABEL_FILTER: &str = "LabelFilterErr";
/// `__error__` value of a failed line_format/label_format template.
pub const ERR_TEMPLATE: &str = "TemplateFormatErr";
/// `__error__` value of an unwrap that cannot convert a value.
pub const ERR_SAMPLE_EXTRACTION: &str = "SampleExtractionErr";
/// The error label.
pub const ERROR_LABEL: &str = "__error__";
/// The error details label.
pub const ERROR_DETAILS_LABEL: &str = "__error_details__";

/// The labels of one entry as the pipeline changes them.
///
/// Kept as owned pairs sorted by name while stages add and remove labels
/// (a parser may set dozens per line); [`LabelsBuilder::finish`] builds the
/// [`Labels`] once.
#[derive(Debug, Clone)]
pub struct LabelsBuilder {
    stream: Labels,
    metadata_names: Vec<String>,
    current: Vec<(String, String)>,
    error: Option<String>,
    error_details: Option<String>,
}

impl LabelsBuilder {
    /// Starts from a stream's labels and an entry's structured metadata; a
    /// metadata name that clashes with a stream label gets `_extracted`.
    pub fn new(stream: &Labels, metadata: &Labels) -> Self {
        let mut builder = Self {
            stream: stream.clone(),
            metadata_names: metadata.iter().map(|l| l.name.to_owned()).collect(),
            current: stream
                .iter()
                .map(|l| (l.name.to_owned(), l.value.to_owned()))
                .collect(),
            error: None,
            error_details: None,
        };
        for l in metadata {
            if stream.get(l.name).is_some() {
                builder.put(format!("{}_extracted", l.name), l.value.to_owned());
            } else {
                builder.put(l.name.to_owned(), l.value.to_owned());
            }
        }
        builder
    }

    fn position(&self, name: &str) -> Result<usize, usize> {
        self.current.binary_search_by(|(n, _)| n.as_str().cmp(name))
    }

    fn put(&mut self, name: String, value: String) {
        match self.position(&name) {
            Ok(i) => self.current[i].1 = value,
            Err(i) => self.current.insert(i, (name, value)),
        }
    }

    /// The value of `name`, including `__error__` and `__error_details__`.
    pub fn get(&self, name: &str) -> Option<&str> {
        match name {
            ERROR_LABEL => self.error.as_deref(),
            ERROR_DETAILS_LABEL => self.error_details.as_deref(),
            _ => self.label(name),
        }
    }

    /// The value of `name` among the labels (error labels excluded).
    pub fn label(&self, name: &str) -> Option<&str> {
        self.position(name).ok().map(|i| self.current[i].1.as_str())
    }

    /// Whether the stream labels or the metadata already use `name`.
    pub fn base_has(&self, name: &str) -> bool {
        self.stream.get(name).is_some() || self.metadata_names.iter().any(|n| n == name)
    }

    /// The name a parsed label gets: `<name>_extracted` on a clash.
    pub fn parsed_name(&self, name: &str) -> String {
        if self.base_has(name) {
            format!("{name}_extracted")
        } else {
            name.to_owned()
        }
    }

    /// Sets a label (no clash handling).
    pub fn set(&mut self, name: impl Into<String>, value: impl Into<String>) {
        let name = name.into();
        match name.as_str() {
            ERROR_LABEL => self.error = Some(value.into()),
            ERROR_DETAILS_LABEL => self.error_details = Some(value.into()),
            _ => self.put(name, value.into()),
        }
    }

    /// Sets a label found by a parser, renaming it on a clash.
    pub fn set_parsed(&mut self, name: &str, value: impl Into<String>) {
        let name = self.parsed_name(name);
        self.put(name, value.into());
    }

    /// Removes a label.
    pub fn remove(&mut self, name: &str) {
        match name {
            ERROR_LABEL => self.error = None,
            ERROR_DETAILS_LABEL => self.error_details = None,
            _ => {
                if let Ok(i) = self.position(name) {
                    self.current.remove(i);
                }
            }
        }
    }

    /// Whether a stage set `__error__`.
    pub fn has_error(&self) -> bool {
        self.error.is_some()
    }

    /// The error, if any.
    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    /// Sets `__error__` unless an earlier stage did.
    pub fn set_error(&mut self, error: &str, details: impl Into<String>) {
        if self.error.is_none() {
            self.error = Some(error.to_owned());
        }
        if self.error_details.is_none() {
            self.error_details = Some(details.into());
        }
    }

    /// Sets `__error__` alone (no details) unless an earlier stage did.
    pub fn set_error_without_details(&mut self, error: &str) {
        if self.error.is_none() {
            self.error = Some(error.to_owned());
        }
    }

    /// The labels without the error labels, in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.current.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    /// Keeps only the labels for which `keep` says yes (error labels included).
    pub fn retain(&mut self, mut keep: impl FnMut(&str, &str) -> bool) {
        self.current.retain(|(n, v)| keep(n, v));
        if let Some(e) = &self.error {
            if !keep(ERROR_LABEL, e) {
                self.error = None;
            }
        }
        if let Some(d) = &self.error_details {
            if !keep(ERROR_DETAILS_LABEL, d) {
                self.error_details = None;
            }
        }
    }

    /// The final label set, with `__error__`/`__error_details__` when set.
    pub fn finish(&self) -> Labels {
        let errors = [
            (ERROR_LABEL, self.error.as_deref()),
            (ERROR_DETAILS_LABEL, self.error_details.as_deref()),
        ];
        Labels::from_pairs(
            self.iter().chain(
                errors
                    .into_iter()
                    .filter_map(|(name, value)| Some((name, value?))),
            ),
        )
    }
}

/// One step of a pipeline.
pub trait Stage: Send + Sync + std::fmt::Debug {
    /// Processes an entry: may replace the line and change the labels;
    /// returns false to drop the entry.
    fn process<'a>(&self, ts_ns: i64, line: &mut Cow<'a, str>, labels: &mut LabelsBuilder) -> bool;

    /// Whether the stage reads only labels and leaves the line alone, so
    /// that what it does to an entry follows from the entry's labels
    /// alone (label filters, `drop`, `keep`).
    fn labels_only(&self) -> bool {
        false
    }
}

/// A sequence of stages with a fast path for leading line filters.
#[derive(Debug, Default)]
pub struct Pipeline {
    prefilters: Vec<LineFilterStage>,
    stages: Vec<Box<dyn Stage>>,
}

/// What a pipeline made of an entry it kept.
#[derive(Debug, Clone, PartialEq)]
pub struct Processed<'a> {
    /// The line, borrowed when no stage rewrote it.
    pub line: Cow<'a, str>,
    /// The final labels (with `__error__` when a stage failed).
    pub labels: Labels,
}

impl Pipeline {
    /// An empty pipeline that keeps every entry unchanged.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a line filter; while no other stage was added, it runs on the
    /// raw line before any label work.
    pub fn push_line_filter(&mut self, filter: LineFilterStage) {
        if self.stages.is_empty() {
            self.prefilters.push(filter);
        } else {
            self.stages.push(Box::new(filter));
        }
    }

    /// Appends a stage.
    pub fn push(&mut self, stage: Box<dyn Stage>) {
        self.stages.push(stage);
    }

    /// Whether every stage after the leading line filters reads only
    /// labels: then, past those filters, entries with the same stream
    /// labels and metadata are kept or dropped alike and end with the same
    /// labels and their own line.
    pub fn labels_only(&self) -> bool {
        self.stages.iter().all(|s| s.labels_only())
    }

    /// A substring every line the leading line filters pass contains (the
    /// first `|= "text"` among them), which a store can search for.
    pub fn required_substring(&self) -> Option<&memchr::memmem::Finder<'static>> {
        self.prefilters
            .iter()
            .find_map(LineFilterStage::required_substring)
    }

    /// Whether the line passes the leading line filters (no allocation).
    pub fn prefilter(&self, line: &[u8]) -> bool {
        self.prefilters.iter().all(|f| f.matches(line))
    }

    /// Runs the pipeline; `None` when a stage dropped the entry.
    pub fn process_builder<'a>(
        &self,
        ts_ns: i64,
        line: &'a str,
        stream: &Labels,
        metadata: &Labels,
    ) -> Option<(Cow<'a, str>, LabelsBuilder)> {
        if !self.prefilter(line.as_bytes()) {
            return None;
        }
        let mut labels = LabelsBuilder::new(stream, metadata);
        let mut line = Cow::Borrowed(line);
        for stage in &self.stages {
            if !stage.process(ts_ns, &mut line, &mut labels) {
                return None;
            }
        }
        Some((line, labels))
    }

    /// Runs the pipeline and returns the line and final labels.
    pub fn process<'a>(
        &self,
        ts_ns: i64,
        line: &'a str,
        stream: &Labels,
        metadata: &Labels,
    ) -> Option<Processed<'a>> {
        self.process_builder(ts_ns, line, stream, metadata)
            .map(|(line, labels)| Processed {
                line,
                labels: labels.finish(),
            })
    }
}

/// Turns a key into a valid label name the way Loki does: characters other
/// than ASCII letters, digits and `_` become `_`, and a leading digit gets a
/// `_` prefix. An empty key stays empty (and is skipped by parsers).
pub fn sanitize_label_key(key: &str) -> String {
    let mut out = String::with_capacity(key.len() + 1);
    if key.starts_with(|c: char| c.is_ascii_digit()) {
        out.push('_');
    }
    for c in key.chars() {
        if c.is_ascii_alphanumeric() || c == '_' {
            out.push(c);
        } else {
            out.push('_');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_clash_gets_extracted_and_parsed_clash_too() {
        let stream = Labels::from_pairs([("a", "s")]);
        let md = Labels::from_pairs([("a", "m"), ("b", "m")]);
        let mut lb = LabelsBuilder::new(&stream, &md);
        lb.set_parsed("b", "p");
        lb.set_parsed("c", "p");
        let want = Labels::from_pairs([
            ("a", "s"),
            ("a_extracted", "m"),
            ("b", "m"),
            ("b_extracted", "p"),
            ("c", "p"),
        ]);
        assert_eq!(lb.finish(), want);
    }

    #[test]
    fn first_error_wins() {
        let mut lb = LabelsBuilder::new(&Labels::empty(), &Labels::empty());
        lb.set_error(ERR_JSON, "one");
        lb.set_error(ERR_LOGFMT, "two");
        assert_eq!(lb.get(ERROR_LABEL), Some(ERR_JSON));
        assert_eq!(lb.get(ERROR_DETAILS_LABEL), Some("one"));
    }

    #[test]
    fn sanitizes_like_loki() {
        assert_eq!(sanitize_label_key("a-b"), "a_b");
        assert_eq!(sanitize_label_key("9x"), "_9x");
        assert_eq!(sanitize_label_key("a.b"), "a_b");
    }

    #[test]
    fn prefilter_runs_before_labels() {
        let mut p = Pipeline::new();
        p.push_line_filter(LineFilterStage::contains("x", false));
        assert!(
            p.process(0, "abc", &Labels::empty(), &Labels::empty())
                .is_none()
        );
        let kept = p
            .process(0, "axc", &Labels::empty(), &Labels::empty())
            .unwrap();
        assert!(matches!(kept.line, Cow::Borrowed("axc")));
    }
}
