//! The two ways of dropping `__name__`: at once (Prometheus' default) and
//! delayed to the end of evaluation (`promql-delayed-name-removal`,
//! `EngineOptions::delayed_name_removal`). Each query runs in both modes,
//! instant and range, so the fast paths are held to the general path's
//! answers in both.

use model::Labels;
use promql::{Engine, EngineOptions, ErrorKind, QueryError, Value};
use tsdb::Head;

/// `a_total{job="x"}` and `b_total{job="x"}`, which differ by name alone,
/// and `c_total{job="y"}`; a sample every 15 s for 10 minutes, counting up
/// by 1, 2 and 3 per sample.
fn head() -> Head {
    let head = Head::new();
    for (name, job, slope) in [
        ("a_total", "x", 1),
        ("b_total", "x", 2),
        ("c_total", "y", 3),
    ] {
        let labels = Labels::from_pairs([("__name__", name), ("job", job)]);
        for k in 0..=40 {
            head.append(&labels, k * 15_000, (k * slope) as f64)
                .unwrap();
        }
    }
    head
}

fn engine(delayed: bool) -> Engine {
    Engine::new(EngineOptions {
        delayed_name_removal: delayed,
        ..EngineOptions::default()
    })
}

const T: i64 = 600_000;

/// The instant query's series as `labels value` lines, sorted; checks that
/// a range query over two steps ending at `T` agrees at `T`.
fn run(delayed: bool, query: &str) -> Result<Vec<String>, QueryError> {
    let head = head();
    let engine = engine(delayed);
    let instant = engine.instant(&head, query, T).map(|r| r.value);
    let range = engine.range(&head, query, T - 60_000, T, 60_000);
    let lines = match instant {
        Ok(Value::Vector(v)) => {
            let mut lines: Vec<String> = v
                .iter()
                .map(|s| format!("{} {}", s.labels, s.value))
                .collect();
            lines.sort();
            lines
        }
        Ok(other) => panic!("{query}: not a vector: {other:?}"),
        Err(e) => {
            let range_error = range.expect_err(query);
            assert_eq!(range_error, e, "{query}: range and instant errors differ");
            return Err(e);
        }
    };
    let mut at_t: Vec<String> = range
        .unwrap_or_else(|e| panic!("{query}: range failed: {e}"))
        .value
        .iter()
        .filter_map(|s| {
            let p = s.points.iter().find(|p| p.t == T)?;
            Some(format!("{} {}", s.labels, p.v))
        })
        .collect();
    at_t.sort();
    assert_eq!(at_t, lines, "{query}: range query disagrees at T");
    Ok(lines)
}

/// Checks `query` in both modes: immediate removal first, then delayed.
fn check(query: &str, immediate: &[&str], delayed: &[&str]) {
    assert_eq!(run(false, query).unwrap(), immediate, "immediate: {query}");
    assert_eq!(run(true, query).unwrap(), delayed, "delayed: {query}");
}

fn collides(delayed: bool, query: &str) -> bool {
    match run(delayed, query) {
        Ok(_) => false,
        Err(e) => {
            assert_eq!(e.kind(), ErrorKind::Execution, "{query}: {e}");
            assert_eq!(
                e.to_string(),
                "vector cannot contain metrics with the same labelset"
            );
            true
        }
    }
}

#[test]
fn default_is_immediate_removal_as_in_prometheus() {
    assert!(!EngineOptions::default().delayed_name_removal);
}

#[test]
fn label_replace_over_rate_reads_the_name_only_when_delayed() {
    // Immediate: the source is empty, the regex needs a character, so
    // nothing is written.
    check(
        r#"label_replace(rate(c_total[1m]), "name", "$1", "__name__", "(.+)")"#,
        &[r#"{job="y"} 0.2"#],
        &[r#"{job="y", name="c_total"} 0.2"#],
    );
}

#[test]
fn label_replace_can_keep_a_dropped_name_only_when_delayed() {
    check(
        r#"label_replace(abs(c_total), "__name__", "$1", "__name__", "(.*)")"#,
        &[r#"{job="y"} 120"#],
        &[r#"{__name__="c_total", job="y"} 120"#],
    );
}

#[test]
fn sum_by_name_groups_under_an_empty_name_unless_delayed() {
    // Immediate: `rate` has dropped both names, so one group.
    let query = r#"sum by (__name__) (rate({__name__=~"a_total|c_total"}[1m]))"#;
    assert_eq!(run(false, query).unwrap(), ["{} 0.26666666666666666"]);
    // Delayed: one group per name, and both groups lose it at the end.
    assert!(collides(true, query));
    check(
        r#"label_replace(sum by (__name__) (rate(c_total[1m])), "name", "$1", "__name__", "(.+)")"#,
        &["{} 0.2"],
        &[r#"{name="c_total"} 0.2"#],
    );
}

#[test]
fn series_differing_by_name_collide_where_the_name_goes() {
    // `rate` drops the name: at once, a_total and b_total collide inside
    // `sum`, on the fast path as on the general path; delayed, the sum has
    // removed the name before it would be dropped.
    for query in [
        r#"sum(rate({job="x"}[1m]))"#,
        r#"sum by (job) (rate({job="x"}[1m]))"#,
        r#"avg without (__name__) (rate({job="x"}[1m]))"#,
        r#"max(rate({job="x"}[1m]))"#,
        r#"sum(-{job="x"})"#,
        r#"count(abs({job="x"}))"#,
    ] {
        assert!(collides(false, query), "immediate: {query}");
        assert!(!collides(true, query), "delayed: {query}");
    }
    // Without an aggregation, both collide: delayed, at the end.
    for query in [r#"rate({job="x"}[1m])"#, r#"-{job="x"}"#] {
        assert!(collides(false, query), "immediate: {query}");
        assert!(collides(true, query), "delayed: {query}");
    }
    // A name written back by label_replace avoids the collision only when
    // the name was still there to read.
    let query = r#"label_replace(rate({job="x"}[1m]), "__name__", "rate_$1", "__name__", "(.+)")"#;
    assert!(collides(false, query));
    assert_eq!(
        run(true, query).unwrap(),
        [
            r#"{__name__="rate_a_total", job="x"} 0.06666666666666667"#,
            r#"{__name__="rate_b_total", job="x"} 0.13333333333333333"#,
        ]
    );
}

#[test]
fn both_modes_agree_where_names_do_not_matter() {
    for query in [
        "sum(rate(c_total[1m]))",
        "sum by (job) (rate({__name__=~\"a_total|c_total\"}[1m]))",
        "rate(c_total[1m]) * 2",
        "c_total / c_total",
        "last_over_time(c_total[1m])",
        "c_total > 100",
        "histogram_quantile(0.5, c_total)",
    ] {
        assert_eq!(
            run(false, query).unwrap(),
            run(true, query).unwrap(),
            "{query}"
        );
    }
}
