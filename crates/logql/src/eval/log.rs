//! Log queries: entries of the selected streams through the pipeline,
//! limited across streams and grouped by final label set.

use std::collections::HashMap;

use model::Labels;

use super::{Direction, Query, Store, StreamResult, compile_pipeline};
use crate::ast::LogExpr;
use crate::error::Error;

/// Loki 3's refusal of a log query on the instant endpoint (since 3.2:
/// docs/sources/reference/loki-http-api.md, "Instant queries are only used
/// for metric type LogQL queries and will return a 400"). Loki 2.8 answered
/// with the entries of about `[time - 30s, time)` instead.
pub const INSTANT_LOG_QUERY: &str = "log queries are not supported as an instant query type, please change your query to a range query type";

/// Runs a log query over `[start, end)`; `limit` keeps the newest
/// (backward) or oldest (forward) entries across all streams.
pub(super) fn eval_log<S: Store>(
    store: &S,
    expr: &LogExpr,
    q: &Query,
) -> Result<Vec<StreamResult>, Error> {
    if q.instant {
        return Err(Error::Invalid(INSTANT_LOG_QUERY.to_owned()));
    }
    let pipeline = compile_pipeline(&expr.stages)?;
    let (start, end) = (q.start_ns, q.end_ns);
    let mut rows: Vec<(i64, String, Labels)> = Vec::new();
    for (labels, entries) in store.select(&expr.matchers, start, end) {
        for e in entries {
            if let Some(p) = pipeline.process(e.ts_ns, &e.line, labels, &e.metadata) {
                rows.push((e.ts_ns, p.line.into_owned(), p.labels));
            }
        }
    }
    match q.direction {
        Direction::Forward => rows.sort_by_key(|r| r.0),
        Direction::Backward => rows.sort_by_key(|r| std::cmp::Reverse(r.0)),
    }
    rows.truncate(q.limit);
    let mut index: HashMap<Labels, usize> = HashMap::new();
    let mut out: Vec<StreamResult> = Vec::new();
    for (ts, line, labels) in rows {
        let i = *index.entry(labels.clone()).or_insert_with(|| {
            out.push(StreamResult {
                labels,
                entries: Vec::new(),
            });
            out.len() - 1
        });
        if let Some(s) = out.get_mut(i) {
            s.entries.push((ts, line));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::{Entry, MemStore};

    const S: i64 = 1_000_000_000;

    fn store() -> MemStore {
        let mut s = MemStore::default();
        let a = Labels::from_pairs([("app", "a")]);
        let b = Labels::from_pairs([("app", "b")]);
        for i in 0..5 {
            s.push(
                &a,
                i * 10 * S,
                &format!("level=info n={i}"),
                &Labels::empty(),
            );
            s.push(
                &b,
                i * 10 * S + S,
                &format!("level=warn n={i}"),
                &Labels::empty(),
            );
        }
        s
    }

    fn run(query: &str, q: &Query) -> Vec<(String, Vec<i64>)> {
        let crate::ast::Expr::Log(expr) = crate::parse(query).unwrap() else {
            panic!("log query")
        };
        let mut out: Vec<(String, Vec<i64>)> = eval_log(&store(), &expr, q)
            .unwrap()
            .into_iter()
            .map(|s| {
                (
                    s.labels.to_string(),
                    s.entries.iter().map(|e| e.0 / S).collect(),
                )
            })
            .collect();
        out.sort();
        out
    }

    fn range(start: i64, end: i64, limit: usize, direction: Direction) -> Query {
        Query {
            limit,
            direction,
            ..Query::range(start * S, end * S, S)
        }
    }

    #[test]
    fn limit_is_global_and_direction_orders_entries() {
        let q = range(0, 100, 3, Direction::Backward);
        assert_eq!(
            run(r#"{app=~"a|b"}"#, &q),
            [
                (r#"{app="a"}"#.into(), vec![40]),
                (r#"{app="b"}"#.into(), vec![41, 31])
            ]
        );
        let q = range(0, 100, 3, Direction::Forward);
        assert_eq!(
            run(r#"{app=~"a|b"}"#, &q),
            [
                (r#"{app="a"}"#.into(), vec![0, 10]),
                (r#"{app="b"}"#.into(), vec![1])
            ]
        );
    }

    #[test]
    fn range_is_start_inclusive_end_exclusive() {
        let q = range(10, 30, 100, Direction::Forward);
        assert_eq!(
            run(r#"{app="a"}"#, &q),
            [(r#"{app="a"}"#.into(), vec![10, 20])]
        );
    }

    #[test]
    fn results_are_grouped_by_final_labels() {
        let q = range(0, 100, 100, Direction::Forward);
        let got = run(r#"{app="a"} | logfmt | n < 2"#, &q);
        assert_eq!(
            got,
            [
                (r#"{app="a", level="info", n="0"}"#.into(), vec![0]),
                (r#"{app="a", level="info", n="1"}"#.into(), vec![10])
            ]
        );
    }

    #[test]
    fn instant_log_queries_are_refused() {
        let expr = match crate::parse(r#"{app="a"} |= "n""#).unwrap() {
            crate::ast::Expr::Log(l) => l,
            crate::ast::Expr::Metric(_) => unreachable!(),
        };
        let got = eval_log(&store(), &expr, &Query::instant(40 * S));
        assert_eq!(
            got.err().map(|e| e.to_string()).as_deref(),
            Some(INSTANT_LOG_QUERY)
        );
    }

    #[test]
    fn entries_keep_metadata_as_labels() {
        let mut s = MemStore::default();
        let l = Labels::from_pairs([("app", "a")]);
        s.push(&l, 1, "x", &Labels::from_pairs([("trace", "t1")]));
        let selected = s.select(
            &[model::Matcher::new(model::MatchOp::Equal, "app", "a").unwrap()],
            0,
            2,
        );
        assert_eq!(
            selected[0].1,
            [Entry {
                ts_ns: 1,
                line: "x".into(),
                metadata: Labels::from_pairs([("trace", "t1")])
            }]
        );
    }
}
