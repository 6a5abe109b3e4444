//! Log queries: entries of the selected streams through the pipeline,
//! limited across streams and grouped by final label set.

use std::collections::HashMap;

use model::Labels;

use super::merge::Merged;
use super::{Query, Stats, StreamResult, compile_pipeline};
use crate::ast::LogExpr;
use crate::error::Error;
use crate::store::Store;

/// Loki 3's refusal of a log query on the instant endpoint (since 3.2:
/// docs/sources/reference/loki-http-api.md, "Instant queries are only used
/// for metric type LogQL queries and will return a 400"). Loki 2.8 answered
/// with the entries of about `[time - 30s, time)` instead.
pub const INSTANT_LOG_QUERY: &str = "log queries are not supported as an instant query type, please change your query to a range query type";

/// Above this many selected streams, a log query reads them one at a time
/// instead of merging them: a merge holds one open cursor (one decoded
/// block) per stream, so its memory would grow with the selection.
const MERGE_MAX_STREAMS: usize = 256;

/// Runs a log query over `[start, end)`; `limit` keeps the newest
/// (backward) or oldest (forward) entries across all streams.
///
/// Up to [`MERGE_MAX_STREAMS`] streams are merged lazily in the query's
/// direction, so reading stops at the limit. More are read stream by
/// stream, keeping the best `limit` entries so far; a stream stops once
/// its entries can no longer make the cut. Either way memory is bounded by
/// the limit (and one decoded block per open cursor), not by the data, and
/// the answer is the same.
pub(super) fn eval_log<S: Store + ?Sized>(
    store: &S,
    expr: &LogExpr,
    q: &Query,
    stats: &mut Stats,
) -> Result<Vec<StreamResult>, Error> {
    eval_log_with(store, expr, q, stats, MERGE_MAX_STREAMS)
}

fn eval_log_with<S: Store + ?Sized>(
    store: &S,
    expr: &LogExpr,
    q: &Query,
    stats: &mut Stats,
    merge_max_streams: usize,
) -> Result<Vec<StreamResult>, Error> {
    if q.instant {
        return Err(Error::Invalid(INSTANT_LOG_QUERY.to_owned()));
    }
    let pipeline = compile_pipeline(&expr.stages)?;
    let streams = store.select(&expr.matchers, q.start_ns, q.end_ns)?;
    // `interval` depends on the order entries are kept in: merged only.
    if streams.len() > merge_max_streams && q.interval_ns == 0 {
        return stream_by_stream(&streams, &pipeline, q, stats);
    }
    let needle = pipeline.required_substring().cloned();
    let mut merged = Merged::new(&streams, q.direction, q.deadline, needle)?;
    let mut index: HashMap<Labels, usize> = HashMap::new();
    let mut out: Vec<StreamResult> = Vec::new();
    let mut kept = 0;
    while kept < q.limit {
        let Some((labels, e)) = merged.next()? else {
            break;
        };
        let Some(p) = pipeline.process(e.ts_ns, e.line, labels, e.metadata) else {
            continue;
        };
        let ts = e.ts_ns;
        let i = match index.get(&p.labels) {
            Some(&i) => i,
            None => {
                index.insert(p.labels.clone(), out.len());
                out.push(StreamResult {
                    labels: p.labels,
                    entries: Vec::new(),
                });
                out.len() - 1
            }
        };
        let Some(s) = out.get_mut(i) else {
            continue;
        };
        // `interval`: skip entries too close to the stream's last one.
        if q.interval_ns > 0
            && s.entries
                .last()
                .is_some_and(|(last, _)| (ts - last).abs() < q.interval_ns)
        {
            continue;
        }
        kept += 1;
        s.entries.push((ts, p.line.into_owned()));
    }
    *stats += merged.stats();
    Ok(out)
}

/// Where an entry ranks in the answer: by time in the query's direction,
/// then by stream (in selection order), then by position in its stream,
/// as the merge hands them out. Smaller is better.
type Rank = (i128, usize, u64);

/// The best `q.limit` entries of `streams`, read one stream at a time.
fn stream_by_stream(
    streams: &[crate::store::Stream],
    pipeline: &crate::pipeline::Pipeline,
    q: &Query,
    stats: &mut Stats,
) -> Result<Vec<StreamResult>, Error> {
    use std::collections::BinaryHeap;
    // A max-heap on rank: the worst kept entry is on top, evicted first.
    let mut best: BinaryHeap<(Rank, Labels, i64, String)> = BinaryHeap::new();
    for (si, stream) in streams.iter().enumerate() {
        let needle = pipeline.required_substring().cloned();
        let mut merged = Merged::new(std::iter::once(stream), q.direction, q.deadline, needle)?;
        let mut pos = 0u64;
        while let Some((labels, e)) = merged.next()? {
            pos += 1;
            let rank: Rank = (
                match q.direction {
                    super::Direction::Forward => i128::from(e.ts_ns),
                    super::Direction::Backward => -i128::from(e.ts_ns),
                },
                si,
                pos,
            );
            // Entries come in rank order: once one cannot make the cut,
            // none of the rest of this stream can.
            if best.len() >= q.limit && best.peek().is_some_and(|top| rank >= top.0) {
                break;
            }
            let Some(p) = pipeline.process(e.ts_ns, e.line, labels, e.metadata) else {
                continue;
            };
            best.push((rank, p.labels, e.ts_ns, p.line.into_owned()));
            if best.len() > q.limit {
                best.pop();
            }
        }
        *stats += merged.stats();
    }
    let mut index: HashMap<Labels, usize> = HashMap::new();
    let mut out: Vec<StreamResult> = Vec::new();
    for (_, labels, ts, line) in best.into_sorted_vec() {
        let i = match index.get(&labels) {
            Some(&i) => i,
            None => {
                index.insert(labels.clone(), out.len());
                out.push(StreamResult {
                    labels,
                    entries: Vec::new(),
                });
                out.len() - 1
            }
        };
        if let Some(s) = out.get_mut(i) {
            s.entries.push((ts, line));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::Direction;
    use crate::store::MemStore;

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
        let mut out: Vec<(String, Vec<i64>)> = eval_log(&store(), &expr, q, &mut Stats::default())
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
        let got = eval_log(
            &store(),
            &expr,
            &Query::instant(40 * S),
            &mut Stats::default(),
        );
        assert_eq!(
            got.err().map(|e| e.to_string()).as_deref(),
            Some(INSTANT_LOG_QUERY)
        );
    }

    #[test]
    fn reading_stops_at_the_limit() {
        let mut s = MemStore::default();
        for app in ["a", "b"] {
            let l = Labels::from_pairs([("app", app)]);
            for i in 0..1000 {
                s.push(&l, i * S, "line", &Labels::empty());
            }
        }
        let crate::ast::Expr::Log(expr) = crate::parse(r#"{app=~"a|b"}"#).unwrap() else {
            panic!("log query")
        };
        for direction in [Direction::Forward, Direction::Backward] {
            let mut stats = Stats::default();
            let got = eval_log(&s, &expr, &range(0, 2000, 3, direction), &mut stats).unwrap();
            assert_eq!(got.iter().map(|s| s.entries.len()).sum::<usize>(), 3);
            assert_eq!(stats.lines_processed, 3, "{direction:?}");
        }
    }

    #[test]
    fn interval_keeps_entries_at_least_that_far_apart_per_stream() {
        let q = Query {
            interval_ns: 25 * S,
            ..range(0, 100, 100, Direction::Forward)
        };
        // a: 0 10 20 30 40; b: 1 11 21 31 41.
        assert_eq!(
            run(r#"{app=~"a|b"}"#, &q),
            [
                (r#"{app="a"}"#.into(), vec![0, 30]),
                (r#"{app="b"}"#.into(), vec![1, 31])
            ]
        );
        let q = Query {
            interval_ns: 25 * S,
            ..range(0, 100, 100, Direction::Backward)
        };
        assert_eq!(
            run(r#"{app="a"}"#, &q),
            [(r#"{app="a"}"#.into(), vec![40, 10])]
        );
    }

    /// Reading stream by stream gives the merge's answer, in the same
    /// order, whatever the limit, direction and filter.
    #[test]
    fn stream_by_stream_answers_as_the_merge() {
        let mut s = MemStore::default();
        for app in 0..9 {
            let l = Labels::from_pairs([("app", format!("a{app}")), ("k", format!("{}", app % 3))]);
            for i in 0..60_i64 {
                // Equal times across streams, and some within a stream.
                let ts = (i / 2) * S + (app % 2);
                s.push(
                    &l,
                    ts,
                    &format!("n={i} v={}", (i + app) % 5),
                    &Labels::empty(),
                );
            }
        }
        for query in [
            r#"{app=~"a.*"}"#,
            r#"{app=~"a.*"} |= "v=1""#,
            r#"{app=~"a.*"} | logfmt | drop app"#,
        ] {
            let crate::ast::Expr::Log(expr) = crate::parse(query).unwrap() else {
                panic!("log query")
            };
            for direction in [Direction::Forward, Direction::Backward] {
                for limit in [1, 7, 50, 1000] {
                    let q = range(0, 100, limit, direction);
                    let merged =
                        eval_log_with(&s, &expr, &q, &mut Stats::default(), usize::MAX).unwrap();
                    let mut read = Stats::default();
                    let each = eval_log_with(&s, &expr, &q, &mut read, 0).unwrap();
                    assert_eq!(each, merged, "{query} {direction:?} {limit}");
                }
            }
        }
    }
}
