//! The two exposition formats, the classic text format (0.0.4) and
//! OpenMetrics 1.0, each in two flavours: laid out as the Python client
//! lays them out, or as Go's `client_golang` does.
//!
//! One encoder writes all four; [`Flavour`] holds the differences:
//!
//! | | Python (`prometheus_client`) | Go (`client_golang`, `expfmt`) |
//! |---|---|---|
//! | numbers | Python's `repr` (`2.0`, `1e-05`) | `FormatFloat(v, 'g', -1)` (`2`, `1e-05`); OpenMetrics adds `.0` |
//! | counters | printed as `<base>_total`, `_total` stripped from the name | the name as given; in OpenMetrics one without `_total` is `unknown` |
//! | `_created` | a gauge family after the family (text), in the family (OpenMetrics) | none |
//! | order | families as registered, children as created | families by name, children by label values, empty families left out |
//! | labels | sorted by name, `le` among them | sorted by name, `le` / `quantile` last |
//! | histogram, summary | `_count` then `_sum` | `_sum` then `_count` |
//!
//! Which flavour a `/metrics` speaks is chosen where the registry is
//! served (see [`crate::metrics_route`]): the demo API mimics a FastAPI app,
//! the agent, log store and metrics server stand in for Go programs.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::float::{format_value, go_openmetrics_value, go_text_value};
use crate::registry::{FamilySnapshot, MetricKind, MetricSnapshot, MetricValue};

/// Content type of the classic text format.
pub const TEXT_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";
/// Content type of OpenMetrics 1.0.
pub const OPENMETRICS_CONTENT_TYPE: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// An exposition format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `text/plain; version=0.0.4`.
    Text,
    /// `application/openmetrics-text; version=1.0.0`.
    OpenMetrics,
}

impl Format {
    /// Picks the format an `Accept` header prefers: OpenMetrics when it is
    /// listed with a quality at least that of every plain-text entry
    /// (Prometheus lists it first with q=1), the text format otherwise.
    pub fn negotiate(accept: Option<&str>) -> Format {
        let Some(accept) = accept else {
            return Format::Text;
        };
        let mut best_openmetrics: f32 = 0.0;
        let mut best_other: f32 = 0.0;
        for entry in accept.split(',') {
            let mut parts = entry.split(';').map(str::trim);
            let media = parts.next().unwrap_or("").to_ascii_lowercase();
            let quality = parts
                .filter_map(|p| p.strip_prefix("q="))
                .find_map(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            if media == "application/openmetrics-text" {
                best_openmetrics = best_openmetrics.max(quality);
            } else {
                best_other = best_other.max(quality);
            }
        }
        if best_openmetrics > 0.0 && best_openmetrics >= best_other {
            Format::OpenMetrics
        } else {
            Format::Text
        }
    }

    /// The `Content-Type` of a response in this format.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Text => TEXT_CONTENT_TYPE,
            Format::OpenMetrics => OPENMETRICS_CONTENT_TYPE,
        }
    }

    /// Encodes families in this format, laid out as `flavour`'s client does.
    pub fn encode(self, flavour: Flavour, families: &[FamilySnapshot]) -> String {
        encode(self, flavour, families)
    }
}

/// Which Prometheus client library an exposition reads like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavour {
    /// Python's `prometheus_client`, as prometheus-fastapi-instrumentator
    /// serves it: the demo API's layout.
    Python,
    /// Go's `client_golang` with `prometheus/common` v0.39's `expfmt`, as
    /// Promtail and Loki 2.8 and Prometheus serve their own metrics.
    Go,
}

/// Encodes families in the classic text format, laid out as the Python
/// client lays it out.
pub fn encode_text(families: &[FamilySnapshot]) -> String {
    encode(Format::Text, Flavour::Python, families)
}

/// Encodes families in OpenMetrics 1.0, laid out as the Python client lays
/// it out, ending with `# EOF`.
pub fn encode_openmetrics(families: &[FamilySnapshot]) -> String {
    encode(Format::OpenMetrics, Flavour::Python, families)
}

/// Encodes families in `format`, laid out as `flavour`'s client does.
pub fn encode(format: Format, flavour: Flavour, families: &[FamilySnapshot]) -> String {
    let layout = Layout { format, flavour };
    let mut out = String::with_capacity(families.len() * 512);
    match flavour {
        Flavour::Python => {
            for family in families {
                let metrics: Vec<&MetricSnapshot> = family.metrics.iter().collect();
                layout.write_family(&mut out, family, &metrics);
            }
        }
        Flavour::Go => {
            for (family, metrics) in go_order(families) {
                layout.write_family(&mut out, family, &metrics);
            }
        }
    }
    if format == Format::OpenMetrics {
        out.push_str("# EOF\n");
    }
    out
}

/// Families as Go's `Gatherer` hands them to the encoder: sorted by name,
/// those of one name merged (the first one's help and type win), without
/// the ones that have no children, and each family's children sorted by
/// their label values taken in label-name order (fewer labels first).
fn go_order(families: &[FamilySnapshot]) -> Vec<(&FamilySnapshot, Vec<&MetricSnapshot>)> {
    let mut by_name: BTreeMap<&str, (&FamilySnapshot, Vec<&MetricSnapshot>)> = BTreeMap::new();
    for family in families {
        by_name
            .entry(family.name.as_str())
            .or_insert_with(|| (family, Vec::new()))
            .1
            .extend(&family.metrics);
    }
    by_name
        .into_values()
        .filter(|(_, metrics)| !metrics.is_empty())
        .map(|(family, metrics)| {
            let mut keyed: Vec<(Vec<&str>, &MetricSnapshot)> = metrics
                .into_iter()
                .map(|m| {
                    let values = sorted_pairs(&m.labels).into_iter().map(|(_, v)| v);
                    (values.collect(), m)
                })
                .collect();
            keyed.sort_by(|(a, _), (b, _)| a.len().cmp(&b.len()).then_with(|| a.cmp(b)));
            (family, keyed.into_iter().map(|(_, m)| m).collect())
        })
        .collect()
}

/// Label pairs sorted by name.
fn sorted_pairs(labels: &[(String, String)]) -> Vec<(&str, &str)> {
    let mut pairs: Vec<(&str, &str)> = labels
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    pairs.sort_by_key(|(n, _)| *n);
    pairs
}

/// A number to print: sample values and bounds are floats, while bucket
/// and observation counts are integers (Go's OpenMetrics prints them so).
#[derive(Clone, Copy)]
enum Number {
    Float(f64),
    Count(u64),
}

/// A format in a flavour: every choice that differs between them.
#[derive(Clone, Copy)]
struct Layout {
    format: Format,
    flavour: Flavour,
}

impl Layout {
    fn number(self, n: Number) -> String {
        match (self.flavour, self.format, n) {
            (Flavour::Python, _, Number::Float(v)) => format_value(v),
            (Flavour::Python, _, Number::Count(c)) => format_value(c as f64),
            // The text encoder turns counts into float64 first.
            (Flavour::Go, Format::Text, Number::Float(v)) => go_text_value(v),
            (Flavour::Go, Format::Text, Number::Count(c)) => go_text_value(c as f64),
            (Flavour::Go, Format::OpenMetrics, Number::Float(v)) => go_openmetrics_value(v),
            (Flavour::Go, Format::OpenMetrics, Number::Count(c)) => c.to_string(),
        }
    }

    /// The name and type in a family's `# HELP` and `# TYPE` lines.
    fn header(self, family: &FamilySnapshot) -> (String, &'static str) {
        let kind = family.kind.as_str();
        if family.kind != MetricKind::Counter {
            return (family.name.clone(), kind);
        }
        let base = base_name(family);
        match (self.flavour, self.format) {
            (Flavour::Python, Format::Text) => (format!("{base}_total"), kind),
            (Flavour::Python, Format::OpenMetrics) => (base.to_owned(), kind),
            (Flavour::Go, Format::Text) => (family.name.clone(), kind),
            // OpenMetrics counters end in `_total`; Go prints one that does
            // not as it is, typed `unknown`.
            (Flavour::Go, Format::OpenMetrics) if base.len() < family.name.len() => {
                (base.to_owned(), kind)
            }
            (Flavour::Go, Format::OpenMetrics) => (family.name.clone(), "unknown"),
        }
    }

    fn write_family(self, out: &mut String, family: &FamilySnapshot, metrics: &[&MetricSnapshot]) {
        let (name, kind) = self.header(family);
        let openmetrics = self.format == Format::OpenMetrics;
        write_header(out, &name, &family.help, kind, openmetrics);
        let python = self.flavour == Flavour::Python;
        let created = format!("{}_created", base_name(family));
        for metric in metrics {
            self.write_samples(out, family, metric);
            if let (true, true, Some(at)) = (python, openmetrics, metric.created) {
                self.write_sample(out, &created, &metric.labels, None, Number::Float(at));
            }
        }
        // The text format has no `_created` sample type: the Python client
        // prints the timestamps as a gauge family of their own.
        if python && !openmetrics && metrics.iter().any(|m| m.created.is_some()) {
            write_header(out, &created, &family.help, "gauge", false);
            for metric in metrics {
                if let Some(at) = metric.created {
                    self.write_sample(out, &created, &metric.labels, None, Number::Float(at));
                }
            }
        }
    }

    /// The samples of one child, except `_created`.
    fn write_samples(self, out: &mut String, family: &FamilySnapshot, metric: &MetricSnapshot) {
        let name = &family.name;
        match &metric.value {
            MetricValue::Single(value) => {
                let sample = match (family.kind, self.flavour) {
                    (MetricKind::Counter, Flavour::Python) => {
                        format!("{}_total", base_name(family))
                    }
                    _ => name.clone(),
                };
                self.write_sample(out, &sample, &metric.labels, None, Number::Float(*value));
            }
            MetricValue::Histogram {
                buckets,
                count,
                sum,
            } => {
                let bucket_name = format!("{name}_bucket");
                for (bound, cumulative) in buckets {
                    let le = self.number(Number::Float(*bound));
                    self.write_sample(
                        out,
                        &bucket_name,
                        &metric.labels,
                        Some(("le", &le)),
                        Number::Count(*cumulative),
                    );
                }
                self.write_count_and_sum(out, name, &metric.labels, *count, *sum);
            }
            MetricValue::Summary { count, sum } => {
                self.write_count_and_sum(out, name, &metric.labels, *count, *sum);
            }
        }
    }

    fn write_count_and_sum(
        self,
        out: &mut String,
        name: &str,
        labels: &[(String, String)],
        count: u64,
        sum: f64,
    ) {
        let count_line = |out: &mut String| {
            self.write_sample(
                out,
                &format!("{name}_count"),
                labels,
                None,
                Number::Count(count),
            );
        };
        let sum_line = |out: &mut String| {
            self.write_sample(
                out,
                &format!("{name}_sum"),
                labels,
                None,
                Number::Float(sum),
            );
        };
        match self.flavour {
            Flavour::Python => {
                count_line(out);
                sum_line(out);
            }
            Flavour::Go => {
                sum_line(out);
                count_line(out);
            }
        }
    }

    /// One line: name, labels sorted by name with `extra` among them
    /// (Python) or after them (Go), value.
    fn write_sample(
        self,
        out: &mut String,
        name: &str,
        labels: &[(String, String)],
        extra: Option<(&str, &str)>,
        value: Number,
    ) {
        out.push_str(name);
        let mut pairs = sorted_pairs(labels);
        if let Some(extra) = extra {
            pairs.push(extra);
            if self.flavour == Flavour::Python {
                pairs.sort_by_key(|(n, _)| *n);
            }
        }
        if !pairs.is_empty() {
            out.push('{');
            for (i, (label, value)) in pairs.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(label);
                out.push_str("=\"");
                for c in value.chars() {
                    match c {
                        '\\' => out.push_str("\\\\"),
                        '\n' => out.push_str("\\n"),
                        '"' => out.push_str("\\\""),
                        c => out.push(c),
                    }
                }
                out.push('"');
            }
            out.push('}');
        }
        out.push(' ');
        out.push_str(&self.number(value));
        out.push('\n');
    }
}

/// A counter's name without `_total`, any other family's name.
fn base_name(family: &FamilySnapshot) -> &str {
    match family.kind {
        MetricKind::Counter => family.name.strip_suffix("_total").unwrap_or(&family.name),
        _ => &family.name,
    }
}

fn write_header(out: &mut String, name: &str, help: &str, kind: &str, openmetrics: bool) {
    out.push_str("# HELP ");
    out.push_str(name);
    out.push(' ');
    for c in help.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '"' if openmetrics => out.push_str("\\\""),
            c => out.push(c),
        }
    }
    out.push('\n');
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Registry;

    fn sample_registry() -> Registry {
        let registry = Registry::new();
        let c = registry
            .counter(
                "req_total",
                "Requests \"seen\".\nTwo lines \\ end",
                &["path"],
            )
            .unwrap();
        c.with_labels(&["/a\"b"]).inc();
        let h = registry
            .histogram("lat_seconds", "Latency.", &["path"], &[0.5])
            .unwrap();
        h.observe(&["/x"], 0.25);
        registry
            .gauge("g", "A gauge.", &[])
            .unwrap()
            .with_labels(&[])
            .set(7.0);
        registry
    }

    fn without_created_values(text: &str) -> String {
        text.lines()
            .map(|l| match l.split_once("_created") {
                Some((head, rest)) if !l.starts_with('#') => {
                    let labels = rest.rsplit_once(' ').map_or(rest, |(labels, _)| labels);
                    format!("{head}_created{labels} <t>")
                }
                _ => l.to_owned(),
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn text_layout_puts_created_in_its_own_gauge_family() {
        let text = encode_text(&sample_registry().gather());
        let expected = r#"# HELP req_total Requests "seen".\nTwo lines \\ end
# TYPE req_total counter
req_total{path="/a\"b"} 1.0
# HELP req_created Requests "seen".\nTwo lines \\ end
# TYPE req_created gauge
req_created{path="/a\"b"} <t>
# HELP lat_seconds Latency.
# TYPE lat_seconds histogram
lat_seconds_bucket{le="0.5",path="/x"} 1.0
lat_seconds_bucket{le="+Inf",path="/x"} 1.0
lat_seconds_count{path="/x"} 1.0
lat_seconds_sum{path="/x"} 0.25
# HELP lat_seconds_created Latency.
# TYPE lat_seconds_created gauge
lat_seconds_created{path="/x"} <t>
# HELP g A gauge.
# TYPE g gauge
g 7.0"#;
        assert_eq!(without_created_values(&text), expected);
    }

    #[test]
    fn openmetrics_layout_keeps_created_in_the_family() {
        let text = encode_openmetrics(&sample_registry().gather());
        let expected = r#"# HELP req Requests \"seen\".\nTwo lines \\ end
# TYPE req counter
req_total{path="/a\"b"} 1.0
req_created{path="/a\"b"} <t>
# HELP lat_seconds Latency.
# TYPE lat_seconds histogram
lat_seconds_bucket{le="0.5",path="/x"} 1.0
lat_seconds_bucket{le="+Inf",path="/x"} 1.0
lat_seconds_count{path="/x"} 1.0
lat_seconds_sum{path="/x"} 0.25
lat_seconds_created{path="/x"} <t>
# HELP g A gauge.
# TYPE g gauge
g 7.0
# EOF"#;
        assert_eq!(without_created_values(&text), expected);
    }

    #[test]
    fn negotiation() {
        let prometheus = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
        assert_eq!(Format::negotiate(Some(prometheus)), Format::OpenMetrics);
        assert_eq!(Format::negotiate(None), Format::Text);
        assert_eq!(Format::negotiate(Some("*/*")), Format::Text);
        assert_eq!(Format::negotiate(Some("text/plain")), Format::Text);
        assert_eq!(
            Format::negotiate(Some("text/plain;q=1,application/openmetrics-text;q=0.5")),
            Format::Text
        );
        assert_eq!(
            Format::negotiate(Some("application/openmetrics-text;q=0")),
            Format::Text
        );
    }
}
