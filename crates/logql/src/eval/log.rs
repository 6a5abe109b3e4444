//! Log queries: entries of the selected streams through the pipeline,
//! limited across streams and grouped by final label set.

use std::collections::HashMap;

use model::Labels;

use super::{Direction, Query, Store, StreamResult, compile_pipeline};
use crate::ast::LogExpr;
use crate::error::Error;

/// How far back an instant log query looks: `[time - 30s, time)`. Loki does
/// not document this; 30s reproduces what Loki 2.8 answered (entries up to
/// about 30s before `time`, none at `time` itself).
pub const INSTANT_LOG_LOOKBACK_NS: i64 = 30_000_000_000;

/// Runs a log query over `[start, end)`; `limit` keeps the newest
/// (backward) or oldest (forward) entries across all streams.
pub(super) fn eval_log<S: Store>(
    store: &S,
    expr: &LogExpr,
    q: &Query,
) -> Result<Vec<StreamResult>, Error> {
    let pipeline = compile_pipeline(&expr.stages)?;
    let (start, end) = if q.instant {
        (
            q.start_ns.saturating_sub(INSTANT_LOG_LOOKBACK_NS),
            q.start_ns,
        )
    } else {
        (q.start_ns, q.end_ns)
    };
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
