//! The engine's contract beyond the conformance suite: typed errors and
//! limits for the HTTP API, Prometheus 3 window edges, and no panics.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use model::Labels;
use promql::{Engine, EngineOptions, ErrorKind, QueryError, Value};
use tsdb::Head;

/// `x{i="0"}` … with one sample every 15 s from 0 to 10m, value = seconds.
fn head() -> Head {
    let head = Head::new();
    for i in 0..3 {
        let labels = Labels::from_pairs([("__name__", "x"), ("i", &i.to_string())]);
        for k in 0..=40 {
            head.append(&labels, k * 15_000, (k * 15) as f64).unwrap();
        }
    }
    head
}

fn instant(head: &Head, q: &str, t: i64) -> Result<Value, QueryError> {
    Engine::default().instant(head, q, t).map(|r| r.value)
}

/// One value of a query expected to return a one-sample vector.
fn single(head: &Head, q: &str, t: i64) -> Option<f64> {
    match instant(head, q, t).unwrap() {
        Value::Vector(v) if v.len() == 1 => Some(v[0].value),
        Value::Vector(v) if v.is_empty() => None,
        Value::Scalar(s) => Some(s),
        other => panic!("{q}: unexpected {other:?}"),
    }
}

#[test]
fn parse_errors_are_bad_data() {
    let err = instant(&head(), "sum(", 0).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BadData);
    assert_eq!(err.kind().as_str(), "bad_data");
}

#[test]
fn range_query_rejects_range_vectors_and_too_many_points() {
    let e = Engine::default();
    let err = e.range(&head(), "x[5m]", 0, 60_000, 15_000).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BadData);
    assert!(err.to_string().contains("range vector"), "{err}");
    let err = e.range(&head(), "x", 0, 11_000_000, 1_000).unwrap_err();
    assert_eq!(
        err.to_string(),
        "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)"
    );
    assert!(e.range(&head(), "x", 0, 10_999_000, 1_000).is_ok());
    assert_eq!(
        e.range(&head(), "x", 0, 1, 0).unwrap_err().kind(),
        ErrorKind::BadData
    );
}

#[test]
fn sample_limit_is_an_execution_error_with_prometheus_message() {
    let e = Engine::new(EngineOptions {
        max_samples: 10,
        ..EngineOptions::default()
    });
    let err = e
        .instant(&head(), "sum_over_time(x[10m])", 600_000)
        .unwrap_err();
    assert_eq!(err, QueryError::TooManySamples);
    assert_eq!(err.kind(), ErrorKind::Execution);
    assert_eq!(
        err.to_string(),
        "query processing would load too many samples into memory in query execution"
    );
    let roomy = Engine::new(EngineOptions {
        max_samples: 1_000,
        ..EngineOptions::default()
    });
    assert!(
        roomy
            .instant(&head(), "sum_over_time(x[10m])", 600_000)
            .is_ok()
    );
}

#[test]
fn timeout_and_cancel_are_typed() {
    let e = Engine::new(EngineOptions {
        timeout: Duration::ZERO,
        ..EngineOptions::default()
    });
    std::thread::sleep(Duration::from_millis(2));
    let err = e.range(&head(), "x", 0, 600_000, 15_000).unwrap_err();
    assert_eq!(err, QueryError::Timeout);
    assert_eq!(err.kind(), ErrorKind::Timeout);

    let cancel = Arc::new(AtomicBool::new(true));
    let err = Engine::default()
        .range_with_cancel(&head(), "x", 0, 600_000, 15_000, Some(&cancel))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Canceled);
}

#[test]
fn lookback_window_is_left_open() {
    let h = Head::new();
    let l = Labels::from_pairs([("__name__", "y")]);
    h.append(&l, 0, 1.0).unwrap();
    // Five minutes later the sample is exactly at t - lookback: out.
    assert_eq!(single(&h, "y", 299_999), Some(1.0));
    assert_eq!(single(&h, "y", 300_000), None);
}

#[test]
fn range_window_is_left_open() {
    let h = head();
    // (60s, 120s] holds 75, 90, 105, 120: four samples, not five.
    assert_eq!(
        single(&h, r#"count_over_time(x{i="0"}[1m])"#, 120_000),
        Some(4.0)
    );
    assert_eq!(
        single(&h, r#"sum_over_time(x{i="0"}[1m])"#, 120_000),
        Some(390.0)
    );
}

#[test]
fn staleness_marker_ends_a_series() {
    let h = Head::new();
    let l = Labels::from_pairs([("__name__", "z")]);
    h.append(&l, 0, 1.0).unwrap();
    h.append(&l, 15_000, model::staleness::stale_nan()).unwrap();
    assert_eq!(single(&h, "z", 10_000), Some(1.0));
    assert_eq!(single(&h, "z", 20_000), None);
    // Range functions ignore the marker itself.
    assert_eq!(single(&h, "count_over_time(z[1m])", 20_000), Some(1.0));
}

#[test]
fn rate_extrapolates_like_prometheus() {
    // 1 per second; the window (60s, 120s] has samples at 75..120 covering
    // 45 s, extrapolated to the window's 60 s.
    let h = head();
    let v = single(&h, r#"rate(x{i="0"}[1m])"#, 120_000).unwrap();
    assert!((v - 1.0).abs() < 1e-9, "{v}");
    let inc = single(&h, r#"increase(x{i="0"}[1m])"#, 120_000).unwrap();
    assert!((inc - 60.0).abs() < 1e-9, "{inc}");
}

#[test]
fn at_modifier_start_and_end_follow_the_range() {
    let m = Engine::default()
        .range(&head(), r#"x{i="0"} @ end()"#, 0, 60_000, 30_000)
        .unwrap()
        .value;
    let values: Vec<f64> = m[0].points.iter().map(|p| p.v).collect();
    assert_eq!(values, [60.0, 60.0, 60.0]);
    let m = Engine::default()
        .range(&head(), r#"x{i="0"} @ start()"#, 30_000, 60_000, 30_000)
        .unwrap()
        .value;
    assert!(m[0].points.iter().all(|p| p.v == 30.0));
}

#[test]
fn annotations_reach_the_caller() {
    let r = Engine::default()
        .range(&head(), "sort(x)", 0, 60_000, 30_000)
        .unwrap();
    assert_eq!(
        r.annotations.warnings,
        [
            "PromQL warning: sort is ineffective for range queries since results are always ordered by labels (1:1)"
        ]
    );
}

#[test]
fn odd_queries_never_panic() {
    let h = head();
    let queries = [
        "x / 0",
        "x % 0",
        "-x ^ 0.5",
        "topk(-1, x)",
        "topk(1e300, x)",
        "quantile(2, x)",
        "histogram_quantile(0.5, x)",
        "rate(x[1ms])",
        "x[1m:1ms]",
        "label_replace(x, \"1bad\", \"\", \"i\", \"(\")",
        "count_values(\"\", x)",
        "round(x, 0)",
        "predict_linear(x[1m], -1e308)",
        "x offset -1h",
        "x @ -1000000000",
        "absent_over_time(nothing[1m])",
        "sum by (nope) (x) and on() vector(1)",
        "x == bool x",
        "day_of_month(vector(1e20))",
        "clamp(x, 10, 0)",
        "holt_winters(x[5m], 0.5, 0.5)",
        "double_exponential_smoothing(x[5m], 2, 0.5)",
        "scalar(x)",
        "(x)[5m:30s] offset 1m",
        "",
        "{}",
    ];
    for q in queries {
        let _ = std::panic::catch_unwind(|| Engine::default().instant(&h, q, 300_000))
            .unwrap_or_else(|_| panic!("{q} panicked"));
        let _ = std::panic::catch_unwind(|| Engine::default().range(&h, q, 0, 600_000, 15_000))
            .unwrap_or_else(|_| panic!("{q} panicked (range)"));
    }
}

/// The aggregation fast path must agree exactly with the general path;
/// `* 1` is exact and takes the general path.
#[test]
fn aggregation_fast_path_matches_general_path() {
    let h = Head::new();
    for i in 0..20 {
        let labels = Labels::from_pairs([
            ("__name__", "req_total"),
            ("handler", &format!("/h{}", i % 4)),
            ("pod", &i.to_string()),
        ]);
        for k in 0..=80 {
            // Irregular increments with a counter reset and a gap.
            if k == 30 && i % 3 == 0 {
                continue;
            }
            let v = if k > 60 && i % 5 == 0 {
                k as f64
            } else {
                (k * k * (i + 1)) as f64 * 0.37
            };
            h.append(&labels, k * 15_000, v).unwrap();
        }
    }
    let e = Engine::default();
    for (agg, inner) in [
        ("sum", "rate(req_total[1m])"),
        ("sum by (handler)", "rate(req_total[1m])"),
        ("avg without (pod)", "irate(req_total[2m])"),
        ("count by (handler)", "increase(req_total[45s])"),
        ("sum", "delta(req_total[5m] offset 1m)"),
        ("avg by (handler)", "idelta(req_total[1m])"),
        ("sum by (handler)", "req_total"),
        ("avg", r#"req_total{handler="/h1"} @ 300"#),
    ] {
        check_same(
            &e,
            &h,
            &format!("{agg} ({inner})"),
            &format!("{agg} ({inner} * 1)"),
        );
    }
    // Arithmetic between two selectors, with and without matching
    // modifiers; `x * 1` on the left takes the general path.
    for (lhs, op, rhs) in [
        ("req_total", "/", "req_total offset 1m"),
        (
            r#"req_total{handler="/h1"}"#,
            "-",
            "ignoring(handler) req_total",
        ),
        ("req_total", "+ on(pod)", "req_total @ 600"),
        ("req_total", "^", "req_total"),
    ] {
        check_same(
            &e,
            &h,
            &format!("{lhs} {op} {rhs}"),
            &format!("({lhs} * 1) {op} {rhs}"),
        );
    }
    // Several series per match group: the fast path steps aside and the
    // general path reports the matching error.
    let err = e
        .range(&h, "req_total / on(handler) req_total", 0, 60_000, 10_000)
        .unwrap_err();
    assert!(err.to_string().contains("duplicate series"), "{err}");
}

/// Both queries give the same series with bit-identical values.
fn check_same(e: &Engine, h: &Head, fast: &str, general: &str) {
    let a = e.range(h, fast, 0, 1_200_000, 10_000).unwrap();
    let b = e.range(h, general, 0, 1_200_000, 10_000).unwrap();
    assert_eq!(a.annotations, b.annotations, "{fast}");
    let (a, b) = (a.value, b.value);
    assert!(!a.is_empty(), "{fast} returned nothing");
    assert_eq!(a.len(), b.len(), "{fast}");
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x.labels, y.labels, "{fast}");
        let xs: Vec<(i64, u64)> = x.points.iter().map(|p| (p.t, p.v.to_bits())).collect();
        let ys: Vec<(i64, u64)> = y.points.iter().map(|p| (p.t, p.v.to_bits())).collect();
        assert_eq!(xs, ys, "{fast}");
    }
}

#[test]
fn infos_of_a_range_query_come_in_the_same_order_on_both_paths() {
    let h = Head::new();
    // `late` has samples only from 10 min on, `early` from the start: the
    // general path meets `early` first although `late` sorts first.
    for (name, from) in [("a_late", 600_000), ("b_early", 0), ("c_total", 0)] {
        let l = Labels::from_pairs([("__name__", name), ("series", name)]);
        for k in 0..=80 {
            let t = k * 15_000;
            if t >= from {
                h.append(&l, t, k as f64).unwrap();
            }
        }
    }
    let e = Engine::default();
    check_same(
        &e,
        &h,
        r#"sum(rate({__name__=~".+"}[1m]))"#,
        r#"sum(rate({__name__=~".+"}[1m]) * 1)"#,
    );
    let infos = e
        .range(
            &h,
            r#"sum(rate({__name__=~".+"}[1m]))"#,
            0,
            1_200_000,
            10_000,
        )
        .unwrap()
        .annotations
        .infos;
    assert_eq!(infos.len(), 2, "{infos:?}");
    assert!(
        infos[0].contains("b_early") && infos[1].contains("a_late"),
        "{infos:?}"
    );
}

#[test]
fn rate_of_a_non_counter_name_is_an_info_on_both_paths() {
    let h = head();
    let want = [
        "PromQL info: metric might not be a counter, name does not end in _total/_sum/_count/_bucket: \"x\" (1:10)",
    ];
    let r = Engine::default()
        .instant(&h, "sum(rate(x[1m]))", 120_000)
        .unwrap();
    assert_eq!(r.annotations.infos, want);
    let r = Engine::default()
        .instant(&h, "sum(rate(x[1m]) * 1)", 120_000)
        .unwrap();
    assert_eq!(r.annotations.infos, want);
    let ok = Head::new();
    let l = Labels::from_pairs([("__name__", "x_total")]);
    ok.append(&l, 0, 1.0).unwrap();
    ok.append(&l, 15_000, 2.0).unwrap();
    let r = Engine::default()
        .instant(&ok, "rate(x_total[1m])", 30_000)
        .unwrap();
    assert!(r.annotations.infos.is_empty());
}
