//! The two exposition formats: the classic text format (0.0.4) laid out as
//! the Python client lays it out, and OpenMetrics 1.0.
//!
//! The layouts differ in how `_created` is carried: OpenMetrics keeps it in
//! the family (`# TYPE x counter` then `x_total` and `x_created`), while the
//! text format has no such sample type, so the Python client — and we —
//! print it afterwards as a gauge family of its own (`x_created`).

use std::fmt::Write;

use crate::float::format_value;
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

    /// Encodes families in this format.
    pub fn encode(self, families: &[FamilySnapshot]) -> String {
        match self {
            Format::Text => encode_text(families),
            Format::OpenMetrics => encode_openmetrics(families),
        }
    }
}

/// Encodes families in the classic text format.
pub fn encode_text(families: &[FamilySnapshot]) -> String {
    let mut out = String::with_capacity(families.len() * 512);
    for family in families {
        let exposed = match family.kind {
            MetricKind::Counter => format!("{}_total", family.name),
            _ => family.name.clone(),
        };
        write_header(
            &mut out,
            &exposed,
            &family.help,
            family.kind.as_str(),
            false,
        );
        for metric in &family.metrics {
            write_samples(&mut out, family, metric);
        }
        if family.metrics.iter().any(|m| m.created.is_some()) {
            let created = format!("{}_created", family.name);
            write_header(&mut out, &created, &family.help, "gauge", false);
            for metric in &family.metrics {
                if let Some(at) = metric.created {
                    write_sample(&mut out, &created, &metric.labels, None, at);
                }
            }
        }
    }
    out
}

/// Encodes families in OpenMetrics 1.0, ending with `# EOF`.
pub fn encode_openmetrics(families: &[FamilySnapshot]) -> String {
    let mut out = String::with_capacity(families.len() * 512);
    for family in families {
        write_header(
            &mut out,
            &family.name,
            &family.help,
            family.kind.as_str(),
            true,
        );
        for metric in &family.metrics {
            write_samples(&mut out, family, metric);
            if let Some(at) = metric.created {
                let created = format!("{}_created", family.name);
                write_sample(&mut out, &created, &metric.labels, None, at);
            }
        }
    }
    out.push_str("# EOF\n");
    out
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

/// The samples of one child, except `_created`; both formats lay them out
/// alike.
fn write_samples(out: &mut String, family: &FamilySnapshot, metric: &MetricSnapshot) {
    let name = &family.name;
    match &metric.value {
        MetricValue::Single(value) => {
            let sample = match family.kind {
                MetricKind::Counter => format!("{name}_total"),
                _ => name.clone(),
            };
            write_sample(out, &sample, &metric.labels, None, *value);
        }
        MetricValue::Histogram {
            buckets,
            count,
            sum,
        } => {
            let bucket_name = format!("{name}_bucket");
            for (bound, cumulative) in buckets {
                let le = format_value(*bound);
                write_sample(
                    out,
                    &bucket_name,
                    &metric.labels,
                    Some(("le", &le)),
                    *cumulative as f64,
                );
            }
            write_count_and_sum(out, name, &metric.labels, *count, *sum);
        }
        MetricValue::Summary { count, sum } => {
            write_count_and_sum(out, name, &metric.labels, *count, *sum);
        }
    }
}

fn write_count_and_sum(
    out: &mut String,
    name: &str,
    labels: &[(String, String)],
    count: u64,
    sum: f64,
) {
    write_sample(out, &format!("{name}_count"), labels, None, count as f64);
    write_sample(out, &format!("{name}_sum"), labels, None, sum);
}

/// One line: name, labels sorted by name (with `extra` merged in), value.
fn write_sample(
    out: &mut String,
    name: &str,
    labels: &[(String, String)],
    extra: Option<(&str, &str)>,
    value: f64,
) {
    out.push_str(name);
    let mut pairs: Vec<(&str, &str)> = labels
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    pairs.extend(extra);
    if !pairs.is_empty() {
        pairs.sort_unstable_by_key(|(n, _)| *n);
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
    out.push_str(&format_value(value));
    out.push('\n');
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
