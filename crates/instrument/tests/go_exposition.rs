//! The Go flavour of the exposition: families printed as `client_golang`
//! (with `prometheus/common` v0.39's `expfmt`) prints them, in the text
//! format and in OpenMetrics, one small case per behaviour.

use http::HeaderValue;
use instrument::exposition::{Format, encode};
use instrument::{
    FamilySnapshot, Flavour, MetricKind, MetricSnapshot, MetricValue, Registry, render,
};

fn family(
    name: &str,
    help: &str,
    kind: MetricKind,
    metrics: Vec<MetricSnapshot>,
) -> FamilySnapshot {
    FamilySnapshot {
        name: name.to_owned(),
        help: help.to_owned(),
        kind,
        metrics,
    }
}

fn labels(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// A counter or gauge child; `created` is set to show Go never prints it.
fn single(pairs: &[(&str, &str)], value: f64) -> MetricSnapshot {
    MetricSnapshot {
        labels: labels(pairs),
        value: MetricValue::Single(value),
        created: Some(1_700_000_000.5),
    }
}

fn histogram(pairs: &[(&str, &str)], buckets: &[(f64, u64)], sum: f64) -> MetricSnapshot {
    let count = buckets.last().map_or(0, |(_, n)| *n);
    MetricSnapshot {
        labels: labels(pairs),
        value: MetricValue::Histogram {
            buckets: buckets.to_vec(),
            count,
            sum,
        },
        created: Some(1_700_000_000.5),
    }
}

/// `families` in the Go text format is `text`, and in Go's OpenMetrics
/// `openmetrics` (without the final `# EOF`, which is checked apart).
fn check(families: &[FamilySnapshot], text: &str, openmetrics: &str) {
    assert_eq!(encode(Format::Text, Flavour::Go, families), text, "text");
    let om = encode(Format::OpenMetrics, Flavour::Go, families);
    let body = om
        .strip_suffix("# EOF\n")
        .unwrap_or_else(|| panic!("no # EOF in\n{om}"));
    assert_eq!(body, openmetrics, "openmetrics");
}

#[test]
fn a_counter_without_total_keeps_its_name() {
    // Promtail's metrics stage: a counter configured as `bytes_sum`.
    check(
        &[family(
            "promtail_custom_bytes_sum",
            "bytes",
            MetricKind::Counter,
            vec![single(&[("level", "error")], 3200.0)],
        )],
        "# HELP promtail_custom_bytes_sum bytes\n\
         # TYPE promtail_custom_bytes_sum counter\n\
         promtail_custom_bytes_sum{level=\"error\"} 3200\n",
        // OpenMetrics wants counters to end in `_total`: Go types it
        // `unknown` and keeps the name.
        "# HELP promtail_custom_bytes_sum bytes\n\
         # TYPE promtail_custom_bytes_sum unknown\n\
         promtail_custom_bytes_sum{level=\"error\"} 3200.0\n",
    );
}

#[test]
fn a_counter_with_total_is_printed_as_named() {
    check(
        &[family(
            "promtail_read_lines_total",
            "Number of lines read.",
            MetricKind::Counter,
            vec![single(&[("path", "/l/a.log")], 5.0)],
        )],
        "# HELP promtail_read_lines_total Number of lines read.\n\
         # TYPE promtail_read_lines_total counter\n\
         promtail_read_lines_total{path=\"/l/a.log\"} 5\n",
        "# HELP promtail_read_lines Number of lines read.\n\
         # TYPE promtail_read_lines counter\n\
         promtail_read_lines_total{path=\"/l/a.log\"} 5.0\n",
    );
}

#[test]
fn no_created_series_even_when_the_snapshot_has_a_time() {
    let families = [family(
        "c_total",
        "h",
        MetricKind::Counter,
        vec![single(&[], 1.0)],
    )];
    for format in [Format::Text, Format::OpenMetrics] {
        let out = encode(format, Flavour::Go, &families);
        assert!(!out.contains("_created"), "{out}");
    }
}

#[test]
fn gauge_values_in_go_float_form() {
    let values = [
        (5.0, "5", "5.0"),
        (0.0, "0", "0.0"),
        (-0.0, "0", "0.0"),
        (1.0, "1", "1.0"),
        (-1.0, "-1", "-1.0"),
        (0.25, "0.25", "0.25"),
        (0.003097784, "0.003097784", "0.003097784"),
        (123456.0, "123456", "123456.0"),
        (1.5e6, "1.5e+06", "1.5e+06"),
        (1e-5, "1e-05", "1e-05"),
        (1795533185.48, "1.79553318548e+09", "1.79553318548e+09"),
        (f64::NAN, "NaN", "NaN"),
        (f64::INFINITY, "+Inf", "+Inf"),
        (f64::NEG_INFINITY, "-Inf", "-Inf"),
    ];
    for (value, text, openmetrics) in values {
        check(
            &[family(
                "g",
                "A gauge.",
                MetricKind::Gauge,
                vec![single(&[], value)],
            )],
            &format!("# HELP g A gauge.\n# TYPE g gauge\ng {text}\n"),
            &format!("# HELP g A gauge.\n# TYPE g gauge\ng {openmetrics}\n"),
        );
    }
}

#[test]
fn histogram_le_last_in_go_float_form_and_sum_before_count() {
    check(
        &[family(
            "promtail_request_duration_seconds",
            "Duration of send requests.",
            MetricKind::Histogram,
            vec![histogram(
                // Label order as given is not the printed order.
                &[("status_code", "204"), ("host", "h:1")],
                &[
                    (0.005, 1),
                    (1.0, 1),
                    (2.5, 1),
                    (10.0, 1),
                    (f64::INFINITY, 1),
                ],
                0.003097784,
            )],
        )],
        "# HELP promtail_request_duration_seconds Duration of send requests.\n\
         # TYPE promtail_request_duration_seconds histogram\n\
         promtail_request_duration_seconds_bucket{host=\"h:1\",status_code=\"204\",le=\"0.005\"} 1\n\
         promtail_request_duration_seconds_bucket{host=\"h:1\",status_code=\"204\",le=\"1\"} 1\n\
         promtail_request_duration_seconds_bucket{host=\"h:1\",status_code=\"204\",le=\"2.5\"} 1\n\
         promtail_request_duration_seconds_bucket{host=\"h:1\",status_code=\"204\",le=\"10\"} 1\n\
         promtail_request_duration_seconds_bucket{host=\"h:1\",status_code=\"204\",le=\"+Inf\"} 1\n\
         promtail_request_duration_seconds_sum{host=\"h:1\",status_code=\"204\"} 0.003097784\n\
         promtail_request_duration_seconds_count{host=\"h:1\",status_code=\"204\"} 1\n",
        "# HELP promtail_request_duration_seconds Duration of send requests.\n\
         # TYPE promtail_request_duration_seconds histogram\n\
         promtail_request_duration_seconds_bucket{host=\"h:1\",status_code=\"204\",le=\"0.005\"} 1\n\
         promtail_request_duration_seconds_bucket{host=\"h:1\",status_code=\"204\",le=\"1.0\"} 1\n\
         promtail_request_duration_seconds_bucket{host=\"h:1\",status_code=\"204\",le=\"2.5\"} 1\n\
         promtail_request_duration_seconds_bucket{host=\"h:1\",status_code=\"204\",le=\"10.0\"} 1\n\
         promtail_request_duration_seconds_bucket{host=\"h:1\",status_code=\"204\",le=\"+Inf\"} 1\n\
         promtail_request_duration_seconds_sum{host=\"h:1\",status_code=\"204\"} 0.003097784\n\
         promtail_request_duration_seconds_count{host=\"h:1\",status_code=\"204\"} 1\n",
    );
}

#[test]
fn counts_are_floats_in_text_and_integers_in_openmetrics() {
    check(
        &[family(
            "h",
            "h",
            MetricKind::Histogram,
            vec![histogram(
                &[],
                &[(1e6, 2_000_000), (f64::INFINITY, 2_000_000)],
                1e12,
            )],
        )],
        "# HELP h h\n# TYPE h histogram\n\
         h_bucket{le=\"1e+06\"} 2e+06\n\
         h_bucket{le=\"+Inf\"} 2e+06\n\
         h_sum 1e+12\n\
         h_count 2e+06\n",
        "# HELP h h\n# TYPE h histogram\n\
         h_bucket{le=\"1e+06\"} 2000000\n\
         h_bucket{le=\"+Inf\"} 2000000\n\
         h_sum 1e+12\n\
         h_count 2000000\n",
    );
}

#[test]
fn summary_prints_sum_then_count() {
    check(
        &[family(
            "s",
            "s",
            MetricKind::Summary,
            vec![MetricSnapshot {
                labels: Vec::new(),
                value: MetricValue::Summary { count: 3, sum: 1.5 },
                created: None,
            }],
        )],
        "# HELP s s\n# TYPE s summary\ns_sum 1.5\ns_count 3\n",
        "# HELP s s\n# TYPE s summary\ns_sum 1.5\ns_count 3\n",
    );
}

#[test]
fn label_values_and_help_are_escaped() {
    check(
        &[family(
            "g",
            "Say \"hi\"\\\nbye",
            MetricKind::Gauge,
            vec![single(&[("l", "a\"b\\c\nd")], 1.0)],
        )],
        // The text format leaves quotes in HELP alone; OpenMetrics escapes
        // them.
        "# HELP g Say \"hi\"\\\\\\nbye\n# TYPE g gauge\ng{l=\"a\\\"b\\\\c\\nd\"} 1\n",
        "# HELP g Say \\\"hi\\\"\\\\\\nbye\n# TYPE g gauge\ng{l=\"a\\\"b\\\\c\\nd\"} 1.0\n",
    );
}

#[test]
fn families_by_name_and_children_by_label_values() {
    let families = [
        family(
            "b_total",
            "b",
            MetricKind::Counter,
            vec![
                single(&[("z", "1"), ("a", "y")], 1.0),
                single(&[("z", "0"), ("a", "y")], 2.0),
                single(&[("z", "9"), ("a", "x")], 3.0),
                // Fewer labels sort first, whatever their values.
                single(&[("a", "zz")], 4.0),
            ],
        ),
        family("a", "a", MetricKind::Gauge, vec![single(&[], 5.0)]),
        // Without children a family is not printed at all.
        family("aa_empty", "e", MetricKind::Gauge, Vec::new()),
        // `A` < `_` < `a` in bytes, as Go compares names.
        family("A_upper", "u", MetricKind::Gauge, vec![single(&[], 6.0)]),
        family("a_b", "ab", MetricKind::Gauge, vec![single(&[], 7.0)]),
    ];
    let text = encode(Format::Text, Flavour::Go, &families);
    assert_eq!(
        text,
        "# HELP A_upper u\n# TYPE A_upper gauge\nA_upper 6\n\
         # HELP a a\n# TYPE a gauge\na 5\n\
         # HELP a_b ab\n# TYPE a_b gauge\na_b 7\n\
         # HELP b_total b\n# TYPE b_total counter\n\
         b_total{a=\"zz\"} 4\n\
         b_total{a=\"x\",z=\"9\"} 3\n\
         b_total{a=\"y\",z=\"0\"} 2\n\
         b_total{a=\"y\",z=\"1\"} 1\n"
    );
}

#[test]
fn families_of_one_name_are_merged() {
    // Two collectors adding to one name, as Go's gatherer merges them.
    let families = [
        family(
            "m",
            "first",
            MetricKind::Gauge,
            vec![single(&[("k", "b")], 1.0)],
        ),
        family(
            "m",
            "second",
            MetricKind::Gauge,
            vec![single(&[("k", "a")], 2.0)],
        ),
    ];
    assert_eq!(
        encode(Format::Text, Flavour::Go, &families),
        "# HELP m first\n# TYPE m gauge\nm{k=\"a\"} 2\nm{k=\"b\"} 1\n"
    );
}

#[test]
fn an_empty_registry_is_an_empty_body() {
    assert_eq!(encode(Format::Text, Flavour::Go, &[]), "");
    assert_eq!(encode(Format::OpenMetrics, Flavour::Go, &[]), "# EOF\n");
}

#[test]
fn registry_counters_print_under_the_name_they_were_given() {
    let registry = Registry::new();
    registry
        .counter("x_total", "with", &[])
        .unwrap()
        .with_labels(&[])
        .inc();
    registry
        .counter("y_sum", "without", &[])
        .unwrap()
        .with_labels(&[])
        .inc_by(2.0);
    let families = registry.gather();
    assert_eq!(
        encode(Format::Text, Flavour::Go, &families),
        "# HELP x_total with\n# TYPE x_total counter\nx_total 1\n\
         # HELP y_sum without\n# TYPE y_sum counter\ny_sum 2\n"
    );
    // The Python layout is unchanged: both get `_total`.
    let python = encode(Format::Text, Flavour::Python, &families);
    assert!(python.contains("\nx_total 1.0\n"), "{python}");
    assert!(python.contains("\ny_sum_total 2.0\n"), "{python}");
}

#[test]
fn render_negotiates_the_format_in_the_flavour_given() {
    let registry = Registry::new();
    registry
        .gauge("g", "h", &[])
        .unwrap()
        .with_labels(&[])
        .set(2.0);
    let (headers, body) = render(&registry, Flavour::Go, None);
    assert_eq!(
        headers[http::header::CONTENT_TYPE],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    assert_eq!(body, "# HELP g h\n# TYPE g gauge\ng 2\n");
    let accept = HeaderValue::from_static("application/openmetrics-text;version=1.0.0");
    let (headers, body) = render(&registry, Flavour::Go, Some(&accept));
    assert_eq!(
        headers[http::header::CONTENT_TYPE],
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    );
    assert_eq!(body, "# HELP g h\n# TYPE g gauge\ng 2.0\n# EOF\n");
    let (_, body) = render(&registry, Flavour::Python, None);
    assert_eq!(body, "# HELP g h\n# TYPE g gauge\ng 2.0\n");
}
