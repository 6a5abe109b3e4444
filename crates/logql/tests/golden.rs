//! Conformance: replays the log queries recorded from the real Loki 2.8
//! (`shared/conformance/golden/loki-log-queries/`, read at test time)
//! through the same request parsing, engine and response encoding the log
//! store's API uses, in process, and compares with the recorded answers
//! (`golden_runner`). Prints `golden: N passed, N failed, N newer-syntax,
//! N loki3-differs` and fails on any failure.

mod golden_runner;

use logql::api;
use logql::ast::Expr;
use logql::eval::Engine;
use logql::store::MemStore;

use golden_runner::ApiError;

#[test]
fn golden_log_queries() {
    let input = golden_runner::input();
    let mut store = MemStore::default();
    for (labels, entries) in &input.streams {
        for (ts, line, metadata) in entries {
            store.push(labels, *ts, line, metadata);
        }
    }
    let engine = Engine::new(&store);
    let now_ns = input.now_ns;
    let refuse = |e: api::ApiError| ApiError {
        status: e.status,
        message: e.message,
    };
    golden_runner::run("golden", &mut |endpoint, params| {
        let get = |k: &str| params.get(k).cloned();
        let request = if endpoint.ends_with("query_range") {
            api::range_request(&get, now_ns)
        } else {
            api::instant_request(&get, now_ns)
        }
        .map_err(refuse)?;
        let expr = logql::parse(&request.query)
            .map_err(|e| refuse(api::ApiError::from(&logql::Error::from(e))))?;
        let params = match (&expr, request.params.instant) {
            (Expr::Metric(_), false) => api::align_steps(&request.params),
            _ => request.params.clone(),
        };
        let (result, read) = engine
            .eval_with_stats(&expr, &params)
            .map_err(|e| refuse(api::ApiError::from(&e)))?;
        let stats = api::QueryStats {
            read,
            entries_returned: api::result_size(&result),
            ..api::QueryStats::default()
        };
        Ok(api::encode_result(&result, &params, &stats))
    });
}
