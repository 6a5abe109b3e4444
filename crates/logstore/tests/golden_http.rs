//! Conformance over HTTP: the golden log-query corpus recorded from the
//! real Loki 2.8 (`shared/conformance/golden/loki-log-queries/`) replayed
//! against a running `vigil loki`: `input.json` pushed as recorded, every
//! case sent to the query API, judged by the same runner as the in-process
//! driver (`crates/logql/tests/golden.rs`), which must give the same
//! totals. Prints `golden-http: N passed, N failed, N newer-syntax,
//! N loki3-differs`.

mod common;
#[path = "../../logql/tests/golden_runner/mod.rs"]
mod golden_runner;

use common::{JSON, Server, test_config};
use golden_runner::ApiError;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn golden_log_queries_over_http() {
    // The corpus is from 2026-11-24: old samples must be accepted. Queries
    // are split by the default hour, so splitting is exercised too.
    let s = Server::start(&test_config(false, "")).await;
    let input = golden_runner::input();
    let (status, body) = s
        .push(JSON, None, None, input.text.clone().into_bytes())
        .await;
    assert_eq!(status, 204, "{body}");

    let (url, client) = (s.url.clone(), s.client.clone());
    let runtime = tokio::runtime::Handle::current();
    let in_process = "golden: 107 passed, 0 failed, 3 newer-syntax, 31 loki3-differs";
    let summary = tokio::task::spawn_blocking(move || {
        golden_runner::run("golden-http", &mut |endpoint, params| {
            runtime.block_on(async {
                let response = client
                    .get(format!("{url}{endpoint}"))
                    .query(params)
                    .send()
                    .await
                    .map_err(|e| ApiError {
                        status: 0,
                        message: e.to_string(),
                    })?;
                let status = response.status().as_u16();
                let body = response.bytes().await.unwrap_or_default().to_vec();
                if status == 200 {
                    Ok(body)
                } else {
                    Err(ApiError {
                        status,
                        message: String::from_utf8_lossy(&body).trim_end().to_owned(),
                    })
                }
            })
        })
    })
    .await
    .expect("the runner finishes");
    assert_eq!(summary.replace("golden-http", "golden"), in_process);
    s.stop().await;
}
