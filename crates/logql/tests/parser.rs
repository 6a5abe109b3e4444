//! Parser, validation and printer tests: one `check` per construct, error
//! messages and positions, spans inside the input, and the printer's round
//! trip (`parse(print(ast)) == ast`), including over every query of the
//! logqltest suite.

use logql::ast::{Expr, LabelFilter, MetricExpr, Stage};
use logql::parse;

/// Parses `input` and checks the canonical print, then the round trip.
fn check(input: &str, printed: &str) {
    let ast = parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
    assert_eq!(ast.to_string(), printed, "print of {input}");
    let again = parse(printed).unwrap_or_else(|e| panic!("reparse {printed}: {e}"));
    assert_eq!(again, ast, "round trip of {input}");
}

/// Checks that the input prints back unchanged.
fn same(input: &str) {
    check(input, input);
}

/// Checks an error's message (substring) and 1-based column.
fn check_err(input: &str, message: &str, col: usize) {
    let err = parse(input).expect_err(input);
    assert!(
        err.message.contains(message),
        "{input}: {:?} lacks {message:?}",
        err.message
    );
    assert_eq!(err.line_col(), (1, col), "{input}: {err}");
    assert!(
        err.to_string()
            .starts_with(&format!("parse error at line 1, col {col}: ")),
        "{err}"
    );
}

#[test]
fn selectors() {
    same(r#"{app="a"}"#);
    same(r#"{app="a", env!="dev", job=~"api|web", pod!~"x.*"}"#);
    check(
        r#"{ app = "a" , env =~ `d.v` }"#,
        r#"{app="a", env=~"d.v"}"#,
    );
    check(r#"{app="a\"b\\c\td"}"#, "{app=\"a\\\"b\\\\c\td\"}");
}

#[test]
fn empty_compatible_selectors_are_refused_with_lokis_message() {
    for q in [
        r#"{app=~".*"}"#,
        r#"{app=""}"#,
        r#"{app!="x"}"#,
        "{}",
        r#"{a!~"b", c=~""}"#,
    ] {
        let err = parse(q).unwrap_err();
        assert_eq!(err.message, logql::parser::EMPTY_SELECTOR_MESSAGE, "{q}");
        assert_eq!(err.span.start, 0, "{q}");
    }
    assert!(logql::parser::EMPTY_SELECTOR_MESSAGE.starts_with(
        "queries require at least one regexp or equality matcher that does not have an empty-compatible value. For instance, app=~\".*\" does not meet this requirement, but app=~\".+\" will"
    ));
    same(r#"{app=~".+", env=""}"#);
}

#[test]
fn line_filters() {
    same(r#"{app="a"} |= "x" != "y" |~ "z.*" !~ "w" |> "<_> GET <_>" !> "x <_>""#);
    same(r#"{app="a"} |= "x" or "y" or "z""#);
    same(r#"{app="a"} != ip("10.0.0.0/8") or ip("192.168.0.1-192.168.0.9")"#);
    check(r#"{app="a"} |= `a\b`"#, r#"{app="a"} |= "a\\b""#);
    check(r#"{app="a"} |= "\x41\u00e9\101""#, r#"{app="a"} |= "AéA""#);
    check_err(r#"{app="a"} |~ "(""#, "error parsing regexp", 14);
    check_err(r#"{app="a"} |~ ip("1.2.3.4")"#, "ip: invalid operation", 14);
    check_err(r#"{app="a"} |= ip("bogus")"#, "ip: invalid pattern", 14);
    check_err(
        r#"{app="a"} |> "<verb> x""#,
        "named captures are not allowed",
        14,
    );
}

#[test]
fn parsers() {
    same(r#"{app="a"} | json"#);
    same(r#"{app="a"} | json who="user.id", tag="tags[0]", plain"#);
    same(r#"{app="a"} | logfmt"#);
    same(r#"{app="a"} | logfmt --strict --keep-empty level, code="status""#);
    check(
        r#"{app="a"} | logfmt --keep-empty --strict"#,
        r#"{app="a"} | logfmt --strict --keep-empty"#,
    );
    same(r#"{app="a"} | regexp "(?P<m>\\w+)""#);
    same(r#"{app="a"} | pattern "<ip> - <_> <status>""#);
    same(r#"{app="a"} | unpack | logfmt"#);
    check_err(
        r#"{app="a"} | regexp "nocapture""#,
        "at least one named capture",
        20,
    );
    check_err(
        r#"{app="a"} | pattern "none""#,
        "at least one capture is required",
        21,
    );
    check_err(r#"{app="a"} | logfmt --loose"#, "unknown logfmt flag", 27);
}

#[test]
fn label_filters() {
    same(r#"{app="a"} | level="error""#);
    same(r#"{app="a"} | level=~"err.*" | name!~"x" | a!="b""#);
    same(r#"{app="a"} | status >= 500"#);
    check(
        r#"{app="a"} | status = 200"#,
        r#"{app="a"} | status == 200"#,
    );
    same(r#"{app="a"} | latency > 250ms and took <= 1m30s"#);
    same(r#"{app="a"} | size > 20KB or size < 1.5MiB"#);
    same(r#"{app="a"} | addr = ip("10.0.0.0/8") | addr != ip("::1")"#);
    check(
        r#"{app="a"} | a="1", b="2""#,
        r#"{app="a"} | a="1" and b="2""#,
    );
    check(
        r#"{app="a"} | a="1" b="2""#,
        r#"{app="a"} | a="1" and b="2""#,
    );
    same(r#"{app="a"} | __error__="" | __error_details__!="x""#);
    // `and` binds tighter than `or`; parentheses survive the print.
    check(
        r#"{app="a"} | a="1" or b="2" and c="3""#,
        r#"{app="a"} | a="1" or (b="2" and c="3")"#,
    );
    same(r#"{app="a"} | (a="1" or b="2") and c="3""#);
    let Expr::Log(log) = parse(r#"{app="a"} | x > 1 or y > 2 and z > 3"#).unwrap() else {
        panic!()
    };
    let Stage::LabelFilter(LabelFilter::Or(_, rhs)) = &log.stages[0] else {
        panic!("or at the top")
    };
    assert!(matches!(**rhs, LabelFilter::And(..)));
    check_err(r#"{app="a"} | code == "200""#, "syntax error", 21);
    check_err(
        r#"{app="a"} | size > 1mb"#,
        "syntax error: unexpected IDENTIFIER",
        21,
    );
    check_err(
        r#"{app="a"} | addr == ip("1.2.3.4")"#,
        "syntax error: unexpected ip",
        21,
    );
    check_err(
        r#"{app="a"} | code > 0x10"#,
        "unable to parse literal as a float",
        20,
    );
}

#[test]
fn formatters_drop_keep_decolorize() {
    same(r#"{app="a"} | line_format "{{.level}} {{ __line__ }}""#);
    same(r#"{app="a"} | label_format verb=method, route="{{.method}}-ok""#);
    same(r#"{app="a"} | drop a, b="x", c=~"y.*""#);
    same(r#"{app="a"} | keep a, b!="x""#);
    same(r#"{app="a"} | decolorize"#);
    check_err(r#"{app="a"} | drop"#, "expecting IDENTIFIER", 17);
    check_err(r#"{app="a"} | keep [1m]"#, "expecting IDENTIFIER", 18);
}

#[test]
fn range_aggregations() {
    same(r#"rate({app="a"} [5m])"#);
    check(
        r#"count_over_time({app="a"}[1m30s])"#,
        r#"count_over_time({app="a"} [1m30s])"#,
    );
    check(
        r#"count_over_time(({app="a"} |= "x")[1m])"#,
        r#"count_over_time({app="a"} |= "x" [1m])"#,
    );
    check(
        r#"count_over_time({app="a"}[1m] |= "x")"#,
        r#"count_over_time({app="a"} |= "x" [1m])"#,
    );
    same(r#"bytes_rate({app="a"} [1m] offset 5m)"#);
    same(r#"bytes_over_time({app="a"} [1h])"#);
    same(r#"absent_over_time({app="a"} [1m])"#);
    same(r#"sum_over_time({app="a"} | logfmt | unwrap v [1m])"#);
    same(r#"avg_over_time({app="a"} | logfmt | unwrap duration(d) | __error__="" [1m]) by (app)"#);
    same(r#"max_over_time({app="a"} | unwrap bytes(b) [1m]) without (pod)"#);
    same(r#"min_over_time({app="a"} | unwrap duration_seconds(d) [1m])"#);
    same(r#"quantile_over_time(0.99, {app="a"} | json | unwrap latency [5m]) by (route)"#);
    same(r#"first_over_time({app="a"} | unwrap v [1m])"#);
    same(r#"last_over_time({app="a"} | unwrap v [1m])"#);
    same(r#"stddev_over_time({app="a"} | unwrap v [1m])"#);
    same(r#"stdvar_over_time({app="a"} | unwrap v [1m])"#);
    same(r#"rate_counter({app="a"} | unwrap c [1m])"#);
    same(r#"rate({app="a"} | unwrap c [1m])"#);
    check(r#"rate({app="a"}[250ms])"#, r#"rate({app="a"} [250ms])"#);
    check_err(
        r#"sum_over_time({app="a"}[1m])"#,
        "invalid aggregation sum_over_time without unwrap",
        1,
    );
    check_err(
        r#"count_over_time({app="a"} | unwrap v [1m])"#,
        "invalid aggregation count_over_time with unwrap",
        1,
    );
    check_err(
        r#"rate({app="a"}[1m]) by (app)"#,
        "grouping not allowed for rate aggregation",
        1,
    );
    check_err(
        r#"quantile_over_time(-0.1, {app="a"} | unwrap v [1m])"#,
        "unexpected -",
        20,
    );
    check_err(
        r#"rate({app="a"})"#,
        "syntax error: unexpected ), expecting RANGE",
        15,
    );
}

#[test]
fn vector_aggregations() {
    same(r#"sum(rate({app="a"} [1m]))"#);
    check(
        r#"sum(rate({app="a"}[1m])) by (app)"#,
        r#"sum by (app) (rate({app="a"} [1m]))"#,
    );
    same(r#"avg without (pod) (rate({app="a"} [1m]))"#);
    for op in [
        "min",
        "max",
        "count",
        "stddev",
        "stdvar",
        "sort",
        "sort_desc",
    ] {
        same(&format!(r#"{op}(rate({{app="a"}} [1m]))"#));
    }
    same(r#"topk(3, rate({app="a"} [1m]))"#);
    same(r#"bottomk by (app) (2, rate({app="a"} [1m]))"#);
    same(r#"approx_topk(2, rate({app="a"} [1m]))"#);
    check_err(
        r#"topk(rate({app="a"}[1m]))"#,
        "parameter required for operation topk",
        1,
    );
    check_err(
        r#"topk(1.5, rate({app="a"}[1m]))"#,
        "invalid parameter topk(1.5,",
        6,
    );
    check_err(
        r#"sum(2, rate({app="a"}[1m]))"#,
        "unsupported parameter for operation sum(2,",
        5,
    );
}

#[test]
fn binary_operators_precedence_and_matching() {
    same("1 + 2");
    check("1 + 2 * 3", "1 + (2 * 3)");
    check("(1 + 2) * 3", "(1 + 2) * 3");
    check("2 ^ 3 ^ 2", "2 ^ (3 ^ 2)");
    check("10 / 5 / 2", "(10 / 5) / 2");
    check("-2 ^ 2", "-2 ^ 2");
    check("1+1--1", "(1 + 1) - -1");
    check(
        "1 > 2 or 3 < 4 and 5 == 5",
        "(1 > 2) or ((3 < 4) and (5 == 5))",
    );
    let Ok(Expr::Metric(MetricExpr::Binary(b))) = parse("2 ^ 3 ^ 2") else {
        panic!()
    };
    assert!(matches!(b.lhs, MetricExpr::Literal(v) if v == 2.0));
    same(r#"rate({app="a"} [1m]) > bool 1"#);
    same(
        r#"rate({app="a"} [1m]) / on (app) group_left (pool) sum by (app, pool) (rate({app="b"} [1m]))"#,
    );
    same(r#"rate({app="a"} [1m]) - ignoring (pod) group_right () rate({app="b"} [1m])"#);
    same(r#"rate({app="a"} [1m]) and on () rate({app="b"} [1m])"#);
    same(r#"rate({app="a"} [1m]) unless rate({app="b"} [1m])"#);
    same(r#"rate({app="a"} [1m]) or vector(0)"#);
    same(r#"label_replace(rate({app="a"} [1m]), "dst", "$1", "app", "(.*)")"#);
    check("0x1p3 + 0X1.8P3", "8 + 12");
    check_err(
        "1 and 2",
        "unexpected literal for left leg of logical/set binary operation",
        3,
    );
    check_err(
        r#"rate({app="a"}[1m]) bool > 1"#,
        "syntax error: unexpected bool",
        21,
    );
    check_err(r#"-count_over_time({app="a"}[1m])"#, "expecting NUMBER", 2);
    check_err("0x1A", "unable to parse literal as a float", 1);
    check_err("0b1010", "unable to parse literal as a float", 1);
    check_err("1e999", "unable to parse literal as a float", 1);
    check_err(
        r#"vector(count_over_time({app="a"}[1m]))"#,
        "expecting NUMBER",
        8,
    );
    check_err(
        r#"label_replace(vector(1), "d", "$1", "s", "(")"#,
        "invalid regular expression",
        42,
    );
    check_err(
        r#"rate({app="a"}[1m]) + bool 1"#,
        "bool modifier can only be used on comparison operators",
        23,
    );
}

#[test]
fn comments_and_whitespace() {
    check(
        "sum(\n  rate({app=\"a\"}[1m]) # per app\n)",
        r#"sum(rate({app="a"} [1m]))"#,
    );
}

#[test]
fn lexer_errors_have_positions() {
    check_err(r#"{app="a"} |= "open"#, "literal not terminated", 14);
    check_err(r#"{app="a"} |= "\q""#, "escape", 14);
    check_err(r#"{app="a"} $"#, "unexpected character", 11);
    check_err(r#"rate({app="a"} [1m"#, "unclosed range", 16);
}

/// Every error span lies inside its input, whatever the input.
#[test]
fn error_spans_lie_inside_the_input() {
    let inputs = [
        "",
        "{",
        "}",
        "{app",
        "{app=",
        r#"{app="a""#,
        r#"{app="a"} |"#,
        r#"{app="a"} | json x="#,
        "sum(",
        "sum by (",
        "rate(",
        r#"rate({app="a"}"#,
        r#"rate({app="a"}[1m]"#,
        r#"rate({app="a"}[x])"#,
        "1 +",
        "topk(",
        "é",
        "{é=\"a\"}",
        "1 and",
        r#"{app="a"} |= "é" |~ "(""#,
        r#"{app="a"} | line_format"#,
        r#"count_over_time({app="a"} | unwrap"#,
        "label_replace(",
        "vector(",
        r#"{app="a"} | a > "#,
        "\"unterminated",
        "`raw",
        "[",
        "(((",
        ")))",
    ];
    for input in inputs {
        if let Err(e) = parse(input) {
            assert!(
                e.span.start <= e.span.end && e.span.end <= input.len(),
                "{input:?}: {:?}",
                e.span
            );
            assert!(
                input.is_char_boundary(e.span.start) && input.is_char_boundary(e.span.end),
                "{input:?}"
            );
            let _ = e.to_string();
        }
    }
}

/// The printer round-trips every query of Loki's suite that parses.
#[test]
fn printer_round_trips_the_logqltest_queries() {
    let dir = testkit::shared_dir().join("conformance/logqltest");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        for line in text.lines() {
            let query = if let Some(r) = line.strip_prefix("eval instant at ") {
                r.split_once(' ').map(|x| x.1)
            } else if let Some(r) = line.strip_prefix("eval range from ") {
                r.splitn(6, ' ').nth(5)
            } else {
                None
            };
            let Some(query) = query else { continue };
            if let Ok(ast) = parse(query) {
                let printed = ast.to_string();
                assert_eq!(
                    parse(&printed).as_ref(),
                    Ok(&ast),
                    "{query}\n  printed as {printed}"
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 900, "only {checked} queries checked");
}

/// Loki's own wording for malformed queries (recorded from Loki 2.8).
#[test]
fn malformed_queries_use_lokis_words() {
    check_err(
        r#"{job="api""#,
        "syntax error: unexpected $end, expecting } or ,",
        11,
    );
    check_err(r#"job="api""#, "syntax error: unexpected IDENTIFIER", 1);
    check_err(
        r#"{job="api"} | json | status >"#,
        "syntax error: unexpected $end",
        30,
    );
    check_err(
        r#"{job="api"} | unknownparser"#,
        "syntax error: unexpected IDENTIFIER",
        15,
    );
    check_err(
        r#"count_over_time({job="api"}[1x])"#,
        r#"not a valid duration string: "1x""#,
        28,
    );
    check_err(
        r#"count_over_time({job="api"}[1m]) |= "x""#,
        "syntax error: unexpected |=",
        34,
    );
    check_err("", "syntax error: unexpected $end", 1);
}

/// The multi-line pretty printer also round-trips every query of Loki's
/// suite, at a width that forces line breaks.
#[test]
fn pretty_printer_round_trips_the_logqltest_queries() {
    let dir = testkit::shared_dir().join("conformance/logqltest");
    let mut broken = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        for line in text.lines() {
            let query = if let Some(r) = line.strip_prefix("eval instant at ") {
                r.split_once(' ').map(|x| x.1)
            } else if let Some(r) = line.strip_prefix("eval range from ") {
                r.splitn(6, ' ').nth(5)
            } else {
                None
            };
            let Some(Ok(ast)) = query.map(parse) else {
                continue;
            };
            for width in [20, 100] {
                let printed = logql::pretty::pretty_width(&ast, width);
                broken += usize::from(printed.contains('\n'));
                assert_eq!(parse(&printed).as_ref(), Ok(&ast), "{printed}");
            }
        }
    }
    assert!(broken > 500, "only {broken} multi-line prints");
}
