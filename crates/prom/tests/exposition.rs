//! The exposition parser on recorded real output, on what our own encoder
//! writes, and on malformed bodies.

use instrument::{Flavour, Registry};
use prom::exposition::{ExpositionFormat, MetricType, parse};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        testkit::shared_dir()
            .join("fixtures/instrumentator")
            .join(name),
    )
    .expect("fixture missing")
}

#[test]
fn reads_the_recorded_instrumentator_output() {
    let body = fixture("metrics-text-1.0.0.txt");
    let text = String::from_utf8(body.clone()).unwrap();
    let exposition = parse(&body, ExpositionFormat::Text).unwrap();
    let sample_lines = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .count();
    assert_eq!(exposition.samples.len(), sample_lines);

    let find = |name: &str, labels: &[(&str, &str)]| {
        exposition
            .samples
            .iter()
            .find(|s| {
                s.labels.get("__name__") == Some(name)
                    && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v))
            })
            .unwrap_or_else(|| panic!("{name} {labels:?} missing"))
    };
    let requests = find(
        "http_requests_total",
        &[
            ("handler", "/items/{item_id}"),
            ("method", "GET"),
            ("status", "2xx"),
        ],
    );
    assert_eq!(requests.value, 3.0);
    assert_eq!(requests.labels.len(), 4);
    assert_eq!(
        find("process_virtual_memory_bytes", &[]).value,
        1.32370432e+08
    );
    assert_eq!(
        find(
            "http_request_duration_highr_seconds_bucket",
            &[("le", "+Inf")]
        )
        .value,
        6.0
    );
    assert_eq!(
        find(
            "http_request_duration_highr_seconds_bucket",
            &[("le", "0.05")]
        )
        .value,
        6.0
    );
    assert_eq!(find("python_info", &[("version", "3.11.7")]).value, 1.0);

    let kind = |family: &str| {
        exposition
            .metadata
            .iter()
            .find(|m| m.family == family)
            .map(|m| m.kind)
    };
    assert_eq!(kind("http_requests_total"), Some(MetricType::Counter));
    assert_eq!(kind("http_requests_created"), Some(MetricType::Gauge));
    assert_eq!(kind("http_request_size_bytes"), Some(MetricType::Summary));
    assert_eq!(
        kind("http_request_duration_seconds"),
        Some(MetricType::Histogram)
    );
    let help = exposition
        .metadata
        .iter()
        .find(|m| m.family == "http_request_size_bytes")
        .unwrap()
        .help
        .clone();
    assert!(
        help.unwrap().ends_with("No percentile calculated. "),
        "help keeps its trailing space"
    );
}

#[test]
fn the_recording_made_with_an_openmetrics_accept_is_still_the_text_format() {
    // The instrumentator ignores Accept: a scraper must go by Content-Type.
    let body = fixture("metrics-openmetrics.txt");
    let error = parse(&body, ExpositionFormat::OpenMetrics).unwrap_err();
    assert!(
        error.message.contains("EOF") || error.message.contains("keyword"),
        "{error}"
    );
    assert!(parse(&body, ExpositionFormat::Text).is_ok());
}

/// What our own encoder writes, in either flavour, the parser reads back
/// exactly.
fn round_trip(label_value: &str, value: f64) {
    let registry = Registry::new();
    let counter = registry
        .counter("c_total", "help \\ \"x\"\n", &["l"])
        .unwrap();
    counter.with_labels(&[label_value]).inc_by(value);
    let histogram = registry
        .histogram("h_seconds", "h", &["l"], &[0.5, 1.0])
        .unwrap();
    histogram.observe(&[label_value], value);
    let layouts = [
        instrument::exposition::Format::Text,
        instrument::exposition::Format::OpenMetrics,
    ]
    .into_iter()
    .flat_map(|f| [(f, Flavour::Python), (f, Flavour::Go)]);
    for (format, flavour) in layouts {
        let body = format.encode(flavour, &registry.gather());
        let ours = match format {
            instrument::exposition::Format::Text => ExpositionFormat::Text,
            instrument::exposition::Format::OpenMetrics => ExpositionFormat::OpenMetrics,
        };
        let parsed = parse(body.as_bytes(), ours).unwrap_or_else(|e| panic!("{e} in:\n{body}"));
        let total = parsed
            .samples
            .iter()
            .find(|s| s.labels.get("__name__") == Some("c_total"))
            .unwrap();
        assert_eq!(total.value.to_bits(), value.to_bits());
        let expected_label = if label_value.is_empty() {
            None
        } else {
            Some(label_value)
        };
        assert_eq!(total.labels.get("l"), expected_label);
        let count = parsed
            .samples
            .iter()
            .find(|s| s.labels.get("__name__") == Some("h_seconds_count"))
            .unwrap();
        assert_eq!(count.value, 1.0);
        let help = parsed
            .metadata
            .iter()
            .find(|m| m.family.starts_with('c'))
            .unwrap()
            .help
            .clone();
        assert_eq!(help.as_deref(), Some("help \\ \"x\"\n"));
    }
}

#[test]
fn round_trips_awkward_label_values() {
    for value in [
        "plain",
        "",
        "quo\"te",
        "back\\slash",
        "new\nline",
        "é 😀 ,}={",
        "\\n",
    ] {
        round_trip(value, 2.5);
    }
}

proptest::proptest! {
    #[test]
    fn round_trips_any_label_value_and_count(label in "\\PC*", value in 0.0f64..1e300) {
        round_trip(&label, value);
    }

    #[test]
    fn never_panics(body in "\\PC*") {
        let _ = parse(body.as_bytes(), ExpositionFormat::Text);
        let _ = parse(body.as_bytes(), ExpositionFormat::OpenMetrics);
    }

    #[test]
    fn never_panics_on_near_valid_lines(body in "[a-z_{}=\",# \n\\\\0-9.+-]{0,80}") {
        let _ = parse(body.as_bytes(), ExpositionFormat::Text);
        let _ = parse(body.as_bytes(), ExpositionFormat::OpenMetrics);
    }
}

#[test]
fn timestamps() {
    let text = parse(b"a 1 1700000000123\n", ExpositionFormat::Text).unwrap();
    assert_eq!(text.samples[0].timestamp_ms, Some(1_700_000_000_123));
    let om = parse(
        b"a 1 1700000000.123\n# EOF\n",
        ExpositionFormat::OpenMetrics,
    )
    .unwrap();
    assert_eq!(om.samples[0].timestamp_ms, Some(1_700_000_000_123));
}

#[test]
fn special_values() {
    let body = b"a NaN\nb +Inf\nc -Inf\nd 1e-3\ne -0\n";
    let parsed = parse(body, ExpositionFormat::Text).unwrap();
    let values: Vec<f64> = parsed.samples.iter().map(|s| s.value).collect();
    assert!(values[0].is_nan());
    assert_eq!(
        &values[1..],
        &[f64::INFINITY, f64::NEG_INFINITY, 0.001, -0.0]
    );
}

#[test]
fn openmetrics_exemplars_units_and_types() {
    let body = b"# TYPE foo counter\n# UNIT foo seconds\n# HELP foo Some \\\"text\\\".\nfoo_total{a=\"1\"} 17 # {trace_id=\"abc\"} 0.5 1700000000.5\nfoo_created{a=\"1\"} 1700000000\n# TYPE s stateset\ns{s=\"x\"} 1\n# EOF\n";
    let parsed = parse(body, ExpositionFormat::OpenMetrics).unwrap();
    let foo = &parsed.metadata[0];
    assert_eq!(
        (foo.family.as_str(), foo.kind, foo.unit.as_deref()),
        ("foo", MetricType::Counter, Some("seconds"))
    );
    assert_eq!(foo.help.as_deref(), Some("Some \"text\"."));
    let exemplar = parsed.samples[0].exemplar.as_ref().unwrap();
    assert_eq!(exemplar.labels.get("trace_id"), Some("abc"));
    assert_eq!(
        (exemplar.value, exemplar.timestamp_ms),
        (0.5, Some(1_700_000_000_500))
    );
    assert_eq!(parsed.samples.len(), 3);
    assert_eq!(parsed.metadata[1].kind, MetricType::StateSet);
}

#[test]
fn quoted_metric_and_label_names() {
    let body = b"{\"my.metric\",\"label.one\"=\"x\",b=\"y\"} 4\n";
    let parsed = parse(body, ExpositionFormat::Text).unwrap();
    let sample = &parsed.samples[0];
    assert_eq!(sample.labels.get("__name__"), Some("my.metric"));
    assert_eq!(sample.labels.get("label.one"), Some("x"));
    assert_eq!(sample.value, 4.0);
}

#[test]
fn text_format_is_lenient_with_blanks_and_comments() {
    let body =
        b"# just a comment\n\n  \nmetric { a = \"1\" , b=\"2\", } \t 3 \t\n#TYPE other gauge\n";
    let parsed = parse(body, ExpositionFormat::Text);
    // A line of blanks only is not a sample: Prometheus rejects it too.
    assert!(parsed.is_err());
    let body = b"# just a comment\n\nmetric { a = \"1\" , b=\"2\", } \t 3 \t\n# TYPE other gauge\n";
    let parsed = parse(body, ExpositionFormat::Text).unwrap();
    assert_eq!(parsed.samples[0].labels.get("b"), Some("2"));
    assert_eq!(parsed.metadata[0].kind, MetricType::Gauge);
}

#[test]
fn errors_name_the_line() {
    use ExpositionFormat::{OpenMetrics as OM, Text};
    for (body, format, line, message) in [
        ("a 1\nb{c=\"1\" 2\n", Text, 2, "expected ',' or '}'"),
        ("a 1\nb x\n", Text, 2, "invalid value \"x\""),
        ("a{b=\"1\",b=\"2\"} 1\n", Text, 1, "not unique"),
        ("a{b=1} 1\n", Text, 1, "expected '\"'"),
        ("a{b=\"1} 1\n", Text, 1, "unterminated"),
        ("9a 1\n", Text, 1, "invalid metric name"),
        ("a 1 1.5\n", Text, 1, "invalid timestamp"),
        ("a 1 2 3\n", Text, 1, "unexpected"),
        ("a\n", Text, 1, "expected a single space"),
        ("# TYPE a nonsense\n", Text, 1, "invalid metric type"),
        ("a 1\n", OM, 2, "does not end with # EOF"),
        ("a 1\n# EOF\nb 2\n", OM, 3, "after # EOF"),
        ("a  1\n# EOF\n", OM, 1, "single space"),
        ("a 1\n\nb 1\n# EOF\n", OM, 2, "empty line"),
        ("# hello\n# EOF\n", OM, 1, "invalid metadata keyword"),
        ("# TYPE a untyped\n# EOF\n", OM, 1, "invalid metric type"),
        ("a 1 # {x=\"1\"}\n# EOF\n", OM, 1, "expected a single space"),
        ("a 1 # {x=\"1\"} 1\n", Text, 1, "unexpected"),
    ] {
        let error = parse(body.as_bytes(), format).expect_err(body);
        assert_eq!(error.line, line, "{body:?}: {error}");
        assert!(error.message.contains(message), "{body:?}: {error}");
    }
    let error = parse(b"a 1\nb \xff 2\n", Text).unwrap_err();
    assert_eq!((error.line, error.message.as_str()), (2, "invalid UTF-8"));
}

#[test]
fn content_types() {
    use ExpositionFormat::*;
    assert_eq!(
        ExpositionFormat::from_content_type("text/plain; version=1.0.0; charset=utf-8"),
        Some(Text)
    );
    assert_eq!(
        ExpositionFormat::from_content_type("text/plain"),
        Some(Text)
    );
    assert_eq!(
        ExpositionFormat::from_content_type(
            "application/openmetrics-text; version=1.0.0; charset=utf-8"
        ),
        Some(OpenMetrics)
    );
    assert_eq!(
        ExpositionFormat::from_content_type("application/json"),
        None
    );
}
