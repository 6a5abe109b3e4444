//! The line parser shared by the text format and OpenMetrics.

use std::borrow::Cow;
use std::collections::HashMap;

use model::{Labels, METRIC_NAME};

use super::lexer::Cursor;
use super::{
    Exemplar, Exposition, ExpositionFormat, Metadata, MetricType, ParseError, RawSample, Scan,
    ScrapedSample,
};

/// Parses a whole scrape body, labels built for every sample.
pub fn parse(body: &[u8], format: ExpositionFormat) -> Result<Exposition, ParseError> {
    let scan = scan(body, format)?;
    let mut samples = Vec::with_capacity(scan.samples.len());
    for raw in scan.samples {
        let labels = series_labels(raw.series, format).map_err(|message| ParseError {
            line: raw.line,
            message,
        })?;
        samples.push(ScrapedSample {
            labels,
            value: raw.value,
            timestamp_ms: raw.timestamp_ms,
            exemplar: raw.exemplar,
        });
    }
    Ok(Exposition {
        samples,
        metadata: scan.metadata,
    })
}

/// Checks a whole scrape body and reads its values, timestamps and
/// metadata, leaving each sample's labels as the text they were written in:
/// a scrape looks that text up in its cache and builds labels only for
/// series it has not seen.
pub fn scan(body: &[u8], format: ExpositionFormat) -> Result<Scan<'_>, ParseError> {
    let text = std::str::from_utf8(body).map_err(|e| ParseError {
        line: 1 + body[..e.valid_up_to()]
            .iter()
            .filter(|b| **b == b'\n')
            .count(),
        message: "invalid UTF-8".into(),
    })?;
    let mut parser = Parser {
        openmetrics: format == ExpositionFormat::OpenMetrics,
        out: Scan::default(),
        metadata_index: HashMap::new(),
        pairs: Vec::new(),
    };
    let mut lines = text.split('\n').enumerate().peekable();
    let mut seen_eof = false;
    while let Some((index, line)) = lines.next() {
        let number = index + 1;
        let error = |message: String| ParseError {
            line: number,
            message,
        };
        if seen_eof {
            // Only the newline that ends `# EOF` may follow it.
            if line.is_empty() && lines.peek().is_none() {
                break;
            }
            return Err(error("unexpected data after # EOF".into()));
        }
        if line.is_empty() {
            if parser.openmetrics && lines.peek().is_some() {
                return Err(error("unexpected empty line".into()));
            }
            continue;
        }
        if line.starts_with('#') {
            seen_eof = parser.comment(line).map_err(error)?;
        } else {
            parser.sample(line, number).map_err(error)?;
        }
    }
    if parser.openmetrics && !seen_eof {
        return Err(ParseError {
            line: text.split('\n').count(),
            message: "data does not end with # EOF".into(),
        });
    }
    Ok(parser.out)
}

/// The labels of a series as [`RawSample::series`] wrote it: the metric
/// name as `__name__`, labels with empty values left out (as everywhere in
/// Prometheus).
pub fn series_labels(series: &str, format: ExpositionFormat) -> Result<Labels, String> {
    let mut parser = Parser {
        openmetrics: format == ExpositionFormat::OpenMetrics,
        out: Scan::default(),
        metadata_index: HashMap::new(),
        pairs: Vec::new(),
    };
    let mut c = Cursor::new(series);
    let name = parser.series(&mut c)?;
    if !c.at_end() {
        return Err(format!("unexpected {} after the series", c.peek_display()));
    }
    let pairs = std::mem::take(&mut parser.pairs);
    Ok(labels_from(
        pairs
            .into_iter()
            .chain([(Cow::Borrowed(METRIC_NAME), name)]),
    ))
}

/// Label pairs as read from a line: borrowed unless they had escapes.
type Pairs<'a> = Vec<(Cow<'a, str>, Cow<'a, str>)>;

struct Parser<'a> {
    openmetrics: bool,
    out: Scan<'a>,
    metadata_index: HashMap<String, usize>,
    /// The labels of the line being read; kept to reuse its allocation.
    pairs: Pairs<'a>,
}

impl<'a> Parser<'a> {
    /// Reads a `#` line; returns whether it was `# EOF`.
    fn comment(&mut self, line: &str) -> Result<bool, String> {
        let mut c = Cursor::new(line);
        c.eat('#');
        if self.openmetrics {
            if line == "# EOF" {
                return Ok(true);
            }
            if !c.eat(' ') {
                return Err("expected a space after '#'".into());
            }
        } else {
            c.skip_blanks();
        }
        let keyword = c.word();
        let known = matches!(keyword, "HELP" | "TYPE") || (self.openmetrics && keyword == "UNIT");
        if !known {
            // The text format allows free comments; OpenMetrics does not.
            return if self.openmetrics {
                Err(format!("invalid metadata keyword {keyword:?}"))
            } else {
                Ok(false)
            };
        }
        if self.separator(&mut c).is_err() {
            return if self.openmetrics {
                Err(format!("expected a metric family name after {keyword}"))
            } else {
                Ok(false)
            };
        }
        let family = match c.peek() {
            Some('"') => c.quoted()?.into_owned(),
            _ => c
                .identifier(true)
                .ok_or_else(|| format!("invalid metric family name {}", c.peek_display()))?
                .to_owned(),
        };
        let text = if c.at_end() {
            ""
        } else {
            self.separator(&mut c)?;
            c.rest()
        };
        let (help, kind) = match keyword {
            "HELP" => (Some(self.unescape_help(text)), None),
            "TYPE" => (None, Some(self.metric_type(text)?)),
            _ => (None, None),
        };
        let index = self.metadata_entry(family);
        let entry = &mut self.out.metadata[index];
        match keyword {
            "HELP" => entry.help = help,
            "TYPE" => entry.kind = kind.unwrap_or(MetricType::Unknown),
            _ => entry.unit = Some(text.to_owned()),
        }
        Ok(false)
    }

    fn metadata_entry(&mut self, family: String) -> usize {
        if let Some(index) = self.metadata_index.get(&family) {
            return *index;
        }
        let index = self.out.metadata.len();
        self.metadata_index.insert(family.clone(), index);
        self.out.metadata.push(Metadata {
            family,
            kind: MetricType::Unknown,
            help: None,
            unit: None,
        });
        index
    }

    fn metric_type(&self, text: &str) -> Result<MetricType, String> {
        Ok(match (text, self.openmetrics) {
            ("counter", _) => MetricType::Counter,
            ("gauge", _) => MetricType::Gauge,
            ("histogram", _) => MetricType::Histogram,
            ("summary", _) => MetricType::Summary,
            ("untyped", false) | ("unknown", true) => MetricType::Unknown,
            ("gaugehistogram", true) => MetricType::GaugeHistogram,
            ("info", true) => MetricType::Info,
            ("stateset", true) => MetricType::StateSet,
            _ => return Err(format!("invalid metric type {text:?}")),
        })
    }

    fn unescape_help(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut chars = text.chars();
        while let Some(c) = chars.next() {
            if c != '\\' {
                out.push(c);
                continue;
            }
            match chars.next() {
                Some('\\') => out.push('\\'),
                Some('n') => out.push('\n'),
                Some('"') if self.openmetrics => out.push('"'),
                Some(other) => {
                    out.push('\\');
                    out.push(other);
                }
                None => out.push('\\'),
            }
        }
        out
    }

    /// The gap between tokens: one space in OpenMetrics, any run of
    /// blanks in the text format.
    fn separator(&self, c: &mut Cursor<'_>) -> Result<(), String> {
        let ok = if self.openmetrics {
            c.eat(' ') && !c.rest().starts_with(' ')
        } else {
            c.skip_blanks() > 0
        };
        if ok {
            Ok(())
        } else {
            Err(format!(
                "expected a single space, found {}",
                c.peek_display()
            ))
        }
    }

    /// Reads a sample line: its series (checked, kept as text), value,
    /// timestamp and exemplar.
    fn sample(&mut self, line: &'a str, number: usize) -> Result<(), String> {
        let mut c = Cursor::new(line);
        self.series(&mut c)?;
        let series = line[..line.len() - c.rest().len()].trim_end_matches([' ', '\t']);
        self.separator(&mut c)?;
        let value = parse_value(c.word())?;
        let mut timestamp_ms = None;
        let mut exemplar = None;
        if !self.openmetrics && c.rest().trim_matches([' ', '\t']).is_empty() {
            c.skip_blanks();
        }
        if !c.at_end() {
            self.separator(&mut c)?;
            if c.peek() != Some('#') {
                timestamp_ms = Some(self.timestamp(c.word())?);
                if !self.openmetrics && c.rest().trim_matches([' ', '\t']).is_empty() {
                    c.skip_blanks();
                }
                if !c.at_end() {
                    self.separator(&mut c)?;
                }
            }
            if !c.at_end() {
                exemplar = Some(self.exemplar(&mut c)?);
            }
        }
        if !c.at_end() {
            return Err(format!("unexpected {} after the sample", c.peek_display()));
        }
        self.out.samples.push(RawSample {
            series,
            line: number,
            value,
            timestamp_ms,
            exemplar,
        });
        Ok(())
    }

    /// Reads a metric name and its label set into `self.pairs`, returning
    /// the name.
    fn series(&mut self, c: &mut Cursor<'a>) -> Result<Cow<'a, str>, String> {
        let mut pairs = std::mem::take(&mut self.pairs);
        pairs.clear();
        let mut name = c.identifier(true).map(Cow::Borrowed);
        if name.is_none() && c.peek() != Some('{') {
            self.pairs = pairs;
            return Err(format!("invalid metric name {}", c.peek_display()));
        }
        // The text format lets blanks stand between a name and its labels.
        if !self.openmetrics && c.rest().trim_start_matches([' ', '\t']).starts_with('{') {
            c.skip_blanks();
        }
        let read = if c.peek() == Some('{') {
            let slot = name.is_none().then_some(&mut name);
            self.label_set(c, &mut pairs, slot)
        } else {
            Ok(())
        };
        self.pairs = pairs;
        read?;
        name.ok_or_else(|| "metric name missing".to_owned())
    }

    /// Reads `{a="1",b="2"}`. With `quoted_name`, a quoted string that is
    /// not followed by `=` is the metric name (`{"my.metric",a="1"}`).
    fn label_set(
        &self,
        c: &mut Cursor<'a>,
        pairs: &mut Pairs<'a>,
        mut quoted_name: Option<&mut Option<Cow<'a, str>>>,
    ) -> Result<(), String> {
        c.eat('{');
        loop {
            if !self.openmetrics {
                c.skip_blanks();
            }
            if c.eat('}') {
                return Ok(());
            }
            let label = match c.peek() {
                Some('"') => c.quoted()?,
                _ => Cow::Borrowed(
                    c.identifier(false)
                        .ok_or_else(|| format!("invalid label name {}", c.peek_display()))?,
                ),
            };
            if !self.openmetrics {
                c.skip_blanks();
            }
            if c.eat('=') {
                if !self.openmetrics {
                    c.skip_blanks();
                }
                let value = c.quoted()?;
                if pairs.iter().any(|(n, _)| *n == label)
                    || label == METRIC_NAME && quoted_name.is_none()
                {
                    return Err(format!("label name {label:?} is not unique"));
                }
                pairs.push((label, value));
            } else if let Some(slot) = quoted_name.take().filter(|_| pairs.is_empty()) {
                *slot = Some(label);
            } else {
                return Err(format!(
                    "expected '=' after label name, found {}",
                    c.peek_display()
                ));
            }
            if !self.openmetrics {
                c.skip_blanks();
            }
            if c.eat(',') {
                continue;
            }
            if c.eat('}') {
                return Ok(());
            }
            return Err(format!("expected ',' or '}}', found {}", c.peek_display()));
        }
    }

    fn timestamp(&self, word: &str) -> Result<i64, String> {
        let invalid = || format!("invalid timestamp {word:?}");
        if self.openmetrics {
            let seconds: f64 = word.parse().map_err(|_| invalid())?;
            let ms = (seconds * 1000.0).round();
            if !ms.is_finite() || ms.abs() > i64::MAX as f64 {
                return Err(invalid());
            }
            Ok(ms as i64)
        } else {
            word.parse().map_err(|_| invalid())
        }
    }

    /// Reads ` # {labels} value [timestamp]` after a sample.
    fn exemplar(&self, c: &mut Cursor<'a>) -> Result<Exemplar, String> {
        if !self.openmetrics || !c.eat_str("# ") || c.peek() != Some('{') {
            return Err(format!("unexpected {} after the sample", c.peek_display()));
        }
        let mut pairs = Vec::new();
        self.label_set(c, &mut pairs, None)?;
        self.separator(c)?;
        let value = parse_value(c.word())?;
        let mut timestamp_ms = None;
        if !c.at_end() {
            self.separator(c)?;
            timestamp_ms = Some(self.timestamp(c.word())?);
        }
        Ok(Exemplar {
            labels: labels_from(pairs),
            value,
            timestamp_ms,
        })
    }
}

/// Go's `ParseFloat` spellings that matter here: decimals, exponents,
/// `NaN`, `Inf`/`+Inf`/`-Inf` (any case).
fn parse_value(word: &str) -> Result<f64, String> {
    word.parse::<f64>()
        .map_err(|_| format!("invalid value {word:?}"))
}

/// Labels from pairs; empty values mean "no such label", as everywhere in
/// Prometheus.
fn labels_from<'a>(pairs: impl IntoIterator<Item = (Cow<'a, str>, Cow<'a, str>)>) -> Labels {
    Labels::from_pairs(
        pairs
            .into_iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(n, v)| (n.into_owned(), v.into_owned())),
    )
}
