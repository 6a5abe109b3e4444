//! `vigil loki` over HTTP, against Loki's recorded answers
//! (`fixtures/loki-api/`): push, the query API, tenants and limits.

mod common;

use common::{JSON, PROTO, SEC, Server, json_push, now_ns, proto_push, recorded, test_config};
use regex::Regex;
use serde_json::Value;

/// A recorded body with its dates replaced, for answers that name the
/// time of the run.
fn without_dates(text: &str) -> String {
    let dates = Regex::new(r"\d{4}-\d\d-\d\d(T\d\d:\d\d:\d\dZ| \d\d:\d\d:\d\d(\.\d+)? \+0000 UTC)")
        .expect("a regex");
    dates.replace_all(text, "<time>").into_owned()
}

/// Every recorded push whose answer does not depend on the time, through
/// the real server: status and body byte for byte.
#[tokio::test]
async fn recorded_pushes_are_answered_as_loki_does() {
    let s = Server::start(&test_config(false, "")).await;
    let now = now_ns();
    // (fixture, content type, content encoding, body)
    type Case<'a> = (&'a str, Option<&'a str>, Option<&'a str>, Vec<u8>);
    let cases: Vec<Case<'_>> = vec![
        (
            "push_seed",
            PROTO,
            None,
            proto_push(r#"{job="seed", env="test"}"#, &[(now, "hello")]),
        ),
        (
            "push_dup_same",
            JSON,
            None,
            json_push(
                r#"{"job":"dup"}"#,
                &format!(r#"["{now}","same"],["{now}","same"]"#),
            ),
        ),
        (
            "push_empty_streams",
            JSON,
            None,
            br#"{"streams":[]}"#.to_vec(),
        ),
        (
            "push_bad_encoding",
            JSON,
            Some("br"),
            br#"{"streams":[]}"#.to_vec(),
        ),
        ("push_bad_json", JSON, None, br#"{"streams":[{"#.to_vec()),
        (
            "push_numeric_ts",
            JSON,
            None,
            br#"{"streams":[{"stream":{"job":"err"},"values":[[1795533361821457089,"num"]]}]}"#
                .to_vec(),
        ),
        (
            "push_bad_label",
            PROTO,
            None,
            proto_push(r#"{1abc="x"}"#, &[(now, "x")]),
        ),
        (
            "push_bad_label",
            JSON,
            None,
            json_push(r#"{"1abc":"x"}"#, &format!(r#"["{now}","x"]"#)),
        ),
        (
            "push_no_content_type",
            None,
            None,
            br#"{"streams":[]}"#.to_vec(),
        ),
        (
            "push_no_labels",
            JSON,
            None,
            json_push("{}", &format!(r#"["{now}","x"]"#)),
        ),
        (
            "push_proto_garbage",
            PROTO,
            None,
            b"this is not a snappy block".to_vec(),
        ),
    ];
    for (name, ct, ce, body) in cases {
        assert_eq!(s.push(ct, ce, None, body).await, recorded(name), "{name}");
    }
    s.stop().await;
}

/// The pushes whose answers name times: the same text as Loki's with the
/// times of this run.
#[tokio::test]
async fn too_old_too_new_and_too_far_behind_are_refused_with_lokis_messages() {
    let s = Server::start(
        "auth_enabled: false\nlimits_config:\n  reject_old_samples: true\n  reject_old_samples_max_age: 168h\n",
    )
    .await;
    let now = now_ns();
    let old = now - 8 * 24 * 3600 * SEC;
    let got = s
        .push(
            JSON,
            None,
            None,
            json_push(r#"{"job":"err"}"#, &format!(r#"["{old}","old"]"#)),
        )
        .await;
    let want = recorded("push_too_old");
    assert_eq!(
        (got.0, without_dates(&got.1)),
        (want.0, without_dates(&want.1))
    );

    let new = now + 3600 * SEC;
    let got = s
        .push(
            JSON,
            None,
            None,
            json_push(r#"{"job":"err"}"#, &format!(r#"["{new}","new"]"#)),
        )
        .await;
    let want = recorded("push_too_new");
    assert_eq!(
        (got.0, without_dates(&got.1)),
        (want.0, without_dates(&want.1))
    );

    // A stream at `now`, then an entry two hours behind it beside a good one.
    let (status, _) = s
        .push(
            JSON,
            None,
            None,
            json_push(r#"{"job":"ooo"}"#, &format!(r#"["{now}","newest"]"#)),
        )
        .await;
    assert_eq!(status, 204);
    let late = now - 2 * 3600 * SEC;
    let fine = now - 60 * SEC;
    let got = s
        .push(
            JSON,
            None,
            None,
            json_push(
                r#"{"job":"ooo"}"#,
                &format!(r#"["{late}","late"],["{fine}","fine"]"#),
            ),
        )
        .await;
    let want = recorded("push_too_far_behind");
    assert_eq!(
        (got.0, without_dates(&got.1)),
        (want.0, without_dates(&want.1))
    );
    // The good entry of the same request was stored.
    let start = (now - 3 * 3600 * SEC).to_string();
    let end = (now + SEC).to_string();
    let (_, body) = s
        .get(
            "/loki/api/v1/query_range",
            &[
                ("query", r#"{job="ooo"}"#),
                ("start", &start),
                ("end", &end),
            ],
            None,
        )
        .await;
    let lines = stream_lines(&body);
    assert_eq!(lines, ["newest", "fine"]);
    s.stop().await;
}

/// The tenant's ingestion rate: 7 MB at once over the 6 MB burst is a 429
/// with Loki's message, and nothing of it is stored.
#[tokio::test]
async fn the_ingestion_rate_limit_answers_429() {
    let s = Server::start(&test_config(false, "")).await;
    let now = now_ns();
    let line = "x".repeat(1000);
    let values: Vec<String> = (0..7000)
        .map(|i| format!(r#"["{}","{line}"]"#, now - i))
        .collect();
    let got = s
        .push(
            JSON,
            None,
            None,
            json_push(r#"{"job":"big"}"#, &values.join(",")),
        )
        .await;
    assert_eq!(got, recorded("push_rate_limited"));
    let (_, body) = s
        .get(
            "/loki/api/v1/query_range",
            &[("query", r#"{job="big"}"#)],
            None,
        )
        .await;
    assert!(stream_lines(&body).is_empty());
    s.stop().await;
}

/// The lines of a streams answer, in answer order.
fn stream_lines(body: &str) -> Vec<String> {
    let v: Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"));
    let mut out = Vec::new();
    for s in v["data"]["result"].as_array().cloned().unwrap_or_default() {
        for e in s["values"].as_array().cloned().unwrap_or_default() {
            out.push(e[1].as_str().unwrap_or_default().to_owned());
        }
    }
    out
}

/// The recorded query session's data: four lines in three `job="demo"`
/// streams, 142 bytes in all, at the recorded times.
async fn seed_demo(s: &Server) {
    let pushes = [
        (
            r#"{"job":"demo","level":"info"}"#,
            1_795_533_332_745_317_669_i64,
            r#"level=info msg=\"hello one\" dur=50ms size=10K"#,
        ),
        (
            r#"{"job":"demo","level":"info"}"#,
            1_795_533_333_245_317_669,
            r#"level=info msg=\"hello two\" dur=150ms size=20KB"#,
        ),
        (
            r#"{"job":"demo","level":"error"}"#,
            1_795_533_334_245_317_669,
            r#"{\"level\":\"error\",\"msg\":\"boom\",\"status\":500}"#,
        ),
        (
            r#"{"job":"demo","level":"warn"}"#,
            1_795_533_334_745_317_669,
            "gzip line",
        ),
    ];
    for (labels, ts, line) in pushes {
        let (status, body) = s
            .push(
                JSON,
                None,
                None,
                json_push(labels, &format!(r#"["{ts}","{line}"]"#)),
            )
            .await;
        assert_eq!(status, 204, "{body}");
    }
}

const DEMO_START: &str = "1795533300";
const DEMO_END: &str = "1795533400";

fn data(body: &str) -> Value {
    let v: Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"));
    v["data"].clone()
}

/// Results compared as sets (Loki gives streams and series no order).
fn sorted(mut v: Value) -> Value {
    if let Some(a) = v.as_array_mut() {
        a.sort_by_key(|x| x.to_string());
    }
    v
}

#[tokio::test]
async fn queries_answer_as_the_recordings() {
    let s = Server::start(&test_config(false, "")).await;
    seed_demo(&s).await;
    let range = [("start", DEMO_START), ("end", DEMO_END)];

    let (status, body) = s.get("/loki/api/v1/labels", &range, None).await;
    assert_eq!((status, body), recorded("labels"));

    let (status, body) = s.get("/loki/api/v1/label/level/values", &range, None).await;
    assert_eq!((status, body), recorded("label_values"));

    let mut params = range.to_vec();
    params.push(("match[]", r#"{job="demo"}"#));
    let (status, body) = s.get("/loki/api/v1/series", &params, None).await;
    let want = recorded("series");
    assert_eq!(status, want.0);
    assert_eq!(sorted(data(&body)), sorted(data(&want.1)));

    // The metric range query: one step, the counts by level, and the real
    // figures of what was read (Loki read the same 4 lines, 142 bytes).
    let (status, body) = s
        .get(
            "/loki/api/v1/query_range",
            &[
                (
                    "query",
                    r#"sum by (level) (count_over_time({job="demo"}[1m]))"#,
                ),
                ("start", "1795533360"),
                ("end", "1795533360"),
                ("step", "60"),
            ],
            None,
        )
        .await;
    let want = recorded("query_range_matrix");
    assert_eq!(status, want.0, "{body}");
    let (got, want) = (data(&body), data(&want.1));
    assert_eq!(got["resultType"], want["resultType"]);
    assert_eq!(
        sorted(got["result"].clone()),
        sorted(want["result"].clone())
    );
    for figure in [
        "totalBytesProcessed",
        "totalLinesProcessed",
        "totalEntriesReturned",
    ] {
        assert_eq!(
            got["stats"]["summary"][figure], want["stats"]["summary"][figure],
            "{figure}"
        );
    }
    assert!(
        got["stats"]["summary"]["execTime"]
            .as_f64()
            .is_some_and(|t| t > 0.0)
    );

    // The same at an instant with milliseconds.
    let (status, body) = s
        .get(
            "/loki/api/v1/query",
            &[
                (
                    "query",
                    r#"sum by (level) (count_over_time({job="demo"}[1m]))"#,
                ),
                ("time", "1795533336.245"),
            ],
            None,
        )
        .await;
    let want = recorded("query_instant_vector");
    assert_eq!(status, want.0);
    assert_eq!(
        sorted(data(&body)["result"].clone()),
        sorted(data(&want.1)["result"].clone())
    );

    // Grafana's health check.
    let (status, body) = s
        .get(
            "/loki/api/v1/query",
            &[("query", "vector(1)+vector(1)"), ("time", "4000000000")],
            None,
        )
        .await;
    let want = recorded("query_scalar");
    assert_eq!(status, want.0);
    assert_eq!(data(&body)["result"], data(&want.1)["result"]);

    // A log query with a parser: the stream's labels and the extracted ones.
    let (status, body) = s
        .get(
            "/loki/api/v1/query_range",
            &[
                (
                    "query",
                    r#"{job="demo", level="info"} | logfmt | size="20KB""#,
                ),
                ("start", DEMO_START),
                ("end", DEMO_END),
            ],
            None,
        )
        .await;
    let want = recorded("query_range_streams");
    assert_eq!(status, want.0);
    let (got, want) = (data(&body), data(&want.1));
    assert_eq!(got["result"], want["result"]);
    assert_eq!(
        got["stats"]["summary"]["totalLinesProcessed"],
        want["stats"]["summary"]["totalLinesProcessed"]
    );

    s.stop().await;
}

#[tokio::test]
async fn errors_and_small_endpoints_answer_as_the_recordings() {
    let s = Server::start(&test_config(false, "")).await;
    let (status, body) = s
        .get("/loki/api/v1/query", &[("query", r#"{job="demo""#)], None)
        .await;
    let want = recorded("bad_query");
    assert_eq!((status, body.trim_end()), (want.0, want.1.trim_end()));

    let (status, body) = s
        .get(
            "/loki/api/v1/format_query",
            &[("query", r#"{foo="bar"}|="x""#)],
            None,
        )
        .await;
    assert_eq!((status, body), recorded("format_query"));

    let (status, body) = s.get("/loki/api/v1/status/buildinfo", &[], None).await;
    assert_eq!(status, 200);
    let keys: Vec<String> = serde_json::from_str::<serde_json::Map<String, Value>>(&body)
        .expect("an object")
        .keys()
        .cloned()
        .collect();
    let want: Vec<String> =
        serde_json::from_str::<serde_json::Map<String, Value>>(&recorded("buildinfo").1)
            .expect("an object")
            .keys()
            .cloned()
            .collect();
    assert_eq!(keys, want);

    let (status, body) = s
        .get(
            "/loki/api/v1/index/stats",
            &[("query", r#"{job="none"}"#)],
            None,
        )
        .await;
    assert_eq!((status, body), recorded("index_stats"));

    // Grafana probes the old tail endpoint and must get a 404.
    let (status, body) = s.get("/loki/api/v2alpha/tail", &[], None).await;
    assert_eq!((status, body.trim_end()), (404, "404 page not found"));

    // Loki 3 refuses log queries on the instant endpoint (2.8 answered).
    let (status, body) = s
        .get("/loki/api/v1/query", &[("query", r#"{job="demo"}"#)], None)
        .await;
    assert_eq!(
        (status, body.trim_end()),
        (
            400,
            "log queries are not supported as an instant query type, please change your query to a range query type"
        )
    );

    let (status, body) = s.get("/ready", &[], None).await;
    assert_eq!((status, body.trim_end()), (200, "ready"));

    // Steps near the limits of time neither panic nor hang.
    for step in ["1e300", "9223372036", "-1"] {
        let (status, _) = s
            .get(
                "/loki/api/v1/query_range",
                &[
                    ("query", r#"count_over_time({job="x"}[1m])"#),
                    ("step", step),
                ],
                None,
            )
            .await;
        assert!(status == 200 || status == 400, "step {step}: {status}");
    }
    s.stop().await;
}

#[tokio::test]
async fn metrics_count_what_was_received_and_queried() {
    let s = Server::start(&test_config(false, "")).await;
    let now = now_ns();
    let (status, _) = s
        .push(
            JSON,
            None,
            None,
            json_push(
                r#"{"job":"m"}"#,
                &format!(r#"["{now}","abc"],["{}","de"]"#, now + 1),
            ),
        )
        .await;
    assert_eq!(status, 204);
    let (_, _) = s
        .get(
            "/loki/api/v1/query",
            &[("query", r#"count_over_time({job="m"}[1m])"#)],
            None,
        )
        .await;
    let (status, body) = s.get("/metrics", &[], None).await;
    assert_eq!(status, 200);
    assert!(
        body.contains(r#"loki_distributor_lines_received_total{tenant="fake"} 2"#),
        "{body}"
    );
    assert!(
        body.contains(r#"loki_distributor_bytes_received_total{tenant="fake"} 5"#),
        "{body}"
    );
    assert!(
        body.contains("vigil_loki_query_lines_processed_total 2"),
        "{body}"
    );
    assert!(body.contains("process_resident_memory_bytes"), "{body}");
    s.stop().await;
}

/// With auth on, a tenant sees only its own data, at every endpoint, and
/// a request without a tenant is a 401.
#[tokio::test]
async fn tenants_never_see_each_other() {
    let s = Server::start(&test_config(true, "")).await;
    let now = now_ns();
    let body = json_push(r#"{"job":"a"}"#, &format!(r#"["{now}","for a"]"#));
    assert_eq!(
        s.push(JSON, None, None, body.clone()).await,
        (401, "no org id\n".into())
    );
    assert_eq!(s.push(JSON, None, Some("team-a"), body).await.0, 204);
    let body = json_push(r#"{"job":"b"}"#, &format!(r#"["{now}","for b"]"#));
    assert_eq!(s.push(JSON, None, Some("team-b"), body).await.0, 204);

    let (status, body) = s
        .get(
            "/loki/api/v1/query_range",
            &[("query", r#"{job=~".+"}"#)],
            None,
        )
        .await;
    assert_eq!((status, body.as_str()), (401, "no org id\n"));
    for (tenant, line, job) in [("team-a", "for a", "a"), ("team-b", "for b", "b")] {
        let (_, body) = s
            .get(
                "/loki/api/v1/query_range",
                &[("query", r#"{job=~".+"}"#)],
                Some(tenant),
            )
            .await;
        assert_eq!(stream_lines(&body), [line]);
        let (_, body) = s
            .get("/loki/api/v1/label/job/values", &[], Some(tenant))
            .await;
        assert_eq!(data(&body), serde_json::json!([job]));
        let (_, body) = s
            .get(
                "/loki/api/v1/series",
                &[("match[]", r#"{job=~".+"}"#)],
                Some(tenant),
            )
            .await;
        assert_eq!(data(&body), serde_json::json!([{"job": job}]));
        let (_, body) = s
            .get(
                "/loki/api/v1/index/stats",
                &[("query", r#"{job=~".+"}"#)],
                Some(tenant),
            )
            .await;
        assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["entries"], 1);
        let (_, body) = s
            .get(
                "/loki/api/v1/query",
                &[("query", r#"count_over_time({job=~".+"}[5m])"#)],
                Some(tenant),
            )
            .await;
        assert_eq!(data(&body)["result"][0]["metric"]["job"], job);
    }
    let (_, body) = s
        .get(
            "/loki/api/v1/query_range",
            &[("query", r#"{job=~".+"}"#)],
            Some("team-c"),
        )
        .await;
    assert!(stream_lines(&body).is_empty());
    s.stop().await;
}

/// `max_query_series`, `max_entries_limit_per_query`, `max_query_length`.
#[tokio::test]
async fn query_limits_are_enforced_with_lokis_messages() {
    let s = Server::start(&test_config(
        false,
        "  max_query_series: 3\n  max_entries_limit_per_query: 50\n  max_query_length: 2h\n",
    ))
    .await;
    let now = now_ns();
    for i in 0..5 {
        let body = json_push(
            &format!(r#"{{"job":"lim","n":"{i}"}}"#),
            &format!(r#"["{now}","x"]"#),
        );
        assert_eq!(s.push(JSON, None, None, body).await.0, 204);
    }
    let (status, body) = s
        .get(
            "/loki/api/v1/query",
            &[("query", r#"count_over_time({job="lim"}[5m])"#)],
            None,
        )
        .await;
    assert_eq!(
        (status, body.trim_end()),
        (400, "maximum of series (3) reached for a single query")
    );
    // Aggregated below the limit, it answers.
    let (status, _) = s
        .get(
            "/loki/api/v1/query",
            &[("query", r#"sum(count_over_time({job="lim"}[5m]))"#)],
            None,
        )
        .await;
    assert_eq!(status, 200);
    let (status, body) = s
        .get(
            "/loki/api/v1/series",
            &[("match[]", r#"{job="lim"}"#)],
            None,
        )
        .await;
    assert_eq!(
        (status, body.trim_end()),
        (400, "maximum of series (3) reached for a single query")
    );

    let (status, body) = s
        .get(
            "/loki/api/v1/query_range",
            &[("query", r#"{job="lim"}"#), ("limit", "51")],
            None,
        )
        .await;
    assert_eq!(
        (status, body.trim_end()),
        (
            400,
            "max entries limit per query exceeded, limit > max_entries_limit (51 > 50)"
        )
    );
    let start = (now - 3 * 3600 * SEC).to_string();
    let (status, body) = s
        .get(
            "/loki/api/v1/query_range",
            &[("query", r#"{job="lim"}"#), ("start", &start)],
            None,
        )
        .await;
    assert_eq!(status, 400);
    assert!(
        body.starts_with("the query time range exceeds the limit (query length: 3h0m"),
        "{body}"
    );
    s.stop().await;
}

/// A range query longer than `split_queries_by_interval` is split, and
/// answers the same as unsplit.
#[tokio::test]
async fn split_queries_answer_as_unsplit_ones() {
    let split = Server::start(&test_config(
        false,
        "  split_queries_by_interval: 10m\n  max_query_parallelism: 2\n",
    ))
    .await;
    let whole = Server::start(&test_config(false, "  split_queries_by_interval: 0\n")).await;
    let now = now_ns() / SEC * SEC;
    let values: Vec<String> = (0..120)
        .map(|i| {
            format!(
                r#"["{}","line {i} level={}"]"#,
                now - i * 30 * SEC,
                ["info", "warn", "error"][i as usize % 3]
            )
        })
        .collect();
    for s in [&split, &whole] {
        let body = json_push(r#"{"job":"split"}"#, &values.join(","));
        assert_eq!(s.push(JSON, None, None, body).await.0, 204);
    }
    let start = (now - 3600 * SEC).to_string();
    let end = (now + SEC).to_string();
    for (query, limit) in [
        (
            r#"sum by (level) (count_over_time({job="split"} | logfmt [5m]))"#,
            "100",
        ),
        (r#"rate({job="split"}[1m])"#, "100"),
        (r#"{job="split"}"#, "70"),
        (r#"{job="split"} |= "error""#, "1000"),
    ] {
        for direction in ["backward", "forward"] {
            let params = [
                ("query", query),
                ("start", start.as_str()),
                ("end", end.as_str()),
                ("step", "60"),
                ("limit", limit),
                ("direction", direction),
            ];
            let (s1, a) = split.get("/loki/api/v1/query_range", &params, None).await;
            let (s2, b) = whole.get("/loki/api/v1/query_range", &params, None).await;
            assert_eq!((s1, s2), (200, 200), "{a}\n{b}");
            let (a, b) = (data(&a), data(&b));
            assert_eq!(a["result"], b["result"], "{query} {direction}");
            if !query.starts_with('{') {
                assert!(
                    a["stats"]["summary"]["splits"].as_u64() > Some(1),
                    "{query}"
                );
            }
        }
    }
    split.stop().await;
    whole.stop().await;
}

/// What was acknowledged is there after a restart: from the log alone, and
/// after `POST /flush` from the chunk files.
#[tokio::test]
async fn acknowledged_pushes_survive_restarts_and_flushes() {
    let config = test_config(false, "");
    let s = Server::start(&config).await;
    let now = now_ns();
    let push = |from: i64| {
        let values: Vec<String> = (0..100)
            .map(|i| format!(r#"["{}","line {}"]"#, now - (from + i) * SEC, from + i))
            .collect();
        json_push(r#"{"job":"restart"}"#, &values.join(","))
    };
    assert_eq!(s.push(JSON, None, None, push(0)).await.0, 204);
    let query = [("query", r#"count_over_time({job="restart"}[1h])"#)];
    let count = |body: &str| {
        data(body)["result"][0]["value"][1]
            .as_str()
            .map(str::to_owned)
    };
    // Again on the same directory: replayed from the log.
    let s = s.restart().await;
    let (_, body) = s.get("/loki/api/v1/query", &query, None).await;
    assert_eq!(count(&body).as_deref(), Some("100"), "{body}");
    // More, a flush to chunk files, and a restart.
    assert_eq!(s.push(JSON, None, None, push(100)).await.0, 204);
    let response = s
        .client
        .post(format!("{}/flush", s.url))
        .send()
        .await
        .expect("flush answered");
    assert_eq!(response.status().as_u16(), 204);
    let chunks = walk_files(&s.dir.path().join("data/chunks"));
    assert!(chunks > 0, "chunk files after a flush");
    let s = s.restart().await;
    let (_, body) = s.get("/loki/api/v1/query", &query, None).await;
    assert_eq!(count(&body).as_deref(), Some("200"), "{body}");
    // Pushing the same again adds nothing: exact duplicates are dropped.
    assert_eq!(s.push(JSON, None, None, push(100)).await.0, 204);
    let (_, body) = s.get("/loki/api/v1/query", &query, None).await;
    assert_eq!(count(&body).as_deref(), Some("200"), "{body}");
    s.stop().await;
}

fn walk_files(dir: &std::path::Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| {
            let path = e.path();
            if path.is_dir() { walk_files(&path) } else { 1 }
        })
        .sum()
}

/// `GET /loki/api/v1/tail` over a WebSocket: what was there first, then
/// what arrives, in Loki's frames; a bad query is refused before the
/// upgrade.
#[tokio::test]
async fn tail_streams_new_entries_over_a_websocket() {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;

    let s = Server::start(&test_config(false, "")).await;
    let now = now_ns();
    let body = json_push(
        r#"{"job":"tail"}"#,
        &format!(r#"["{}","before"]"#, now - SEC),
    );
    assert_eq!(s.push(JSON, None, None, body).await.0, 204);
    let ws_url = format!(
        "{}/loki/api/v1/tail?query=%7Bjob%3D%22tail%22%7D%20%21%3D%20%22skip%22",
        s.url.replacen("http", "ws", 1)
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(&ws_url)
        .await
        .expect("the tail connects");
    let mut seen: Vec<String> = Vec::new();
    let mut pushed = false;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while seen.len() < 2 && tokio::time::Instant::now() < deadline {
        let frame = tokio::time::timeout(std::time::Duration::from_secs(5), socket.next())
            .await
            .expect("a frame in time")
            .expect("the socket is open")
            .expect("a message");
        let Message::Text(text) = frame else { continue };
        let v: Value = serde_json::from_str(&text).expect("a JSON frame");
        for stream in v["streams"].as_array().cloned().unwrap_or_default() {
            assert_eq!(stream["stream"]["job"], "tail");
            for e in stream["values"].as_array().cloned().unwrap_or_default() {
                seen.push(e[1].as_str().unwrap_or_default().to_owned());
            }
        }
        if !pushed {
            let later = now_ns();
            let body = json_push(
                r#"{"job":"tail"}"#,
                &format!(r#"["{later}","skip"],["{}","after"]"#, later + 1),
            );
            assert_eq!(s.push(JSON, None, None, body).await.0, 204);
            pushed = true;
        }
    }
    assert_eq!(seen, ["before", "after"]);
    drop(socket);

    let bad = format!(
        "{}/loki/api/v1/tail?query=%7Bjob",
        s.url.replacen("http", "ws", 1)
    );
    assert!(tokio_tungstenite::connect_async(&bad).await.is_err());
    s.stop().await;
}

/// OTLP logs over HTTP, protobuf: the resource's `service.name` becomes
/// `service_name`, other attributes structured metadata.
#[tokio::test]
async fn otlp_logs_are_stored_as_loki_3_maps_them() {
    use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
    use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
    use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
    use opentelemetry_proto::tonic::resource::v1::Resource;
    use prost::Message as _;

    let s = Server::start(&test_config(false, "")).await;
    let now = now_ns();
    let text = |v: &str| AnyValue {
        value: Some(any_value::Value::StringValue(v.to_owned())),
    };
    let request = ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: Some(Resource {
                attributes: vec![
                    KeyValue {
                        key: "service.name".into(),
                        value: Some(text("checkout")),
                        ..Default::default()
                    },
                    KeyValue {
                        key: "host.name".into(),
                        value: Some(text("h1")),
                        ..Default::default()
                    },
                ],
                ..Default::default()
            }),
            scope_logs: vec![ScopeLogs {
                log_records: vec![LogRecord {
                    time_unix_nano: now as u64,
                    body: Some(text("paid")),
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    let response = s
        .client
        .post(format!("{}/otlp/v1/logs", s.url))
        .header("Content-Type", "application/x-protobuf")
        .body(request.encode_to_vec())
        .send()
        .await
        .expect("answered");
    assert!(response.status().is_success(), "{}", response.status());
    let (_, body) = s
        .get(
            "/loki/api/v1/query_range",
            &[("query", r#"{service_name="checkout"} | host_name="h1""#)],
            None,
        )
        .await;
    assert_eq!(stream_lines(&body), ["paid"], "{body}");
    s.stop().await;
}

/// Loki 3's index and detection endpoints answer in Loki's shapes.
#[tokio::test]
async fn volume_and_detected_endpoints_answer_in_lokis_shapes() {
    let s = Server::start(&test_config(false, "")).await;
    let now = now_ns();
    for (labels, lines) in [
        (
            r#"{"job":"v","app":"a"}"#,
            vec!["level=info n=1", "level=error n=22"],
        ),
        (r#"{"job":"v","app":"b"}"#, vec!["level=info n=3"]),
    ] {
        let values: Vec<String> = lines
            .iter()
            .enumerate()
            .map(|(i, l)| format!(r#"["{}","{l}"]"#, now - (10 - i as i64) * SEC))
            .collect();
        assert_eq!(
            s.push(JSON, None, None, json_push(labels, &values.join(",")))
                .await
                .0,
            204
        );
    }
    let (status, body) = s
        .get(
            "/loki/api/v1/index/volume",
            &[("query", r#"{job="v"}"#), ("targetLabels", "app")],
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let d = data(&body);
    assert_eq!(d["resultType"], "vector");
    let mut volumes: Vec<(String, String)> = d["result"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|r| {
            (
                r["metric"]["app"].as_str().unwrap_or_default().to_owned(),
                r["value"][1].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    volumes.sort();
    assert_eq!(
        volumes,
        [("a".into(), "30".into()), ("b".into(), "14".into())]
    );

    let (status, body) = s
        .get(
            "/loki/api/v1/detected_labels",
            &[("query", r#"{job="v"}"#)],
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let v: Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(
        v["detectedLabels"],
        serde_json::json!([{"label": "app", "cardinality": 2}, {"label": "job", "cardinality": 1}])
    );

    let (status, body) = s
        .get(
            "/loki/api/v1/detected_fields",
            &[("query", r#"{job="v"}"#)],
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let v: Value = serde_json::from_str(&body).expect("JSON");
    let fields: Vec<(String, String, u64)> = v["fields"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|f| {
            (
                f["label"].as_str().unwrap_or_default().to_owned(),
                f["type"].as_str().unwrap_or_default().to_owned(),
                f["cardinality"].as_u64().unwrap_or_default(),
            )
        })
        .collect();
    assert!(
        fields.contains(&("n".into(), "int".into(), 3)),
        "{fields:?}"
    );
    assert!(
        fields.contains(&("level".into(), "string".into(), 2)),
        "{fields:?}"
    );
    // Stream labels are labels, not fields.
    assert!(
        !fields.iter().any(|f| f.0 == "app" || f.0 == "job"),
        "{fields:?}"
    );
    s.stop().await;
}

/// A reload applies the new limits, the rate limits included.
#[tokio::test]
async fn a_reload_applies_new_rate_limits() {
    let s = Server::start(&test_config(
        false,
        "  ingestion_rate_mb: 0.001\n  ingestion_burst_size_mb: 0.001\n",
    ))
    .await;
    let now = now_ns();
    let line = "x".repeat(2000);
    let body = || json_push(r#"{"job":"r"}"#, &format!(r#"["{now}","{line}"]"#));
    assert_eq!(s.push(JSON, None, None, body()).await.0, 429);
    std::fs::write(
        s.dir.path().join("loki-config.yaml"),
        test_config(
            false,
            "  ingestion_rate_mb: 10\n  ingestion_burst_size_mb: 10\n",
        ),
    )
    .expect("the new config");
    s.server
        .as_ref()
        .expect("running")
        .reload()
        .await
        .expect("the reload");
    assert_eq!(s.push(JSON, None, None, body()).await.0, 204);
    // A bad config is refused and the one in force stays.
    std::fs::write(
        s.dir.path().join("loki-config.yaml"),
        "limits_config:\n  nope: 1\n",
    )
    .expect("a bad config");
    assert!(s.server.as_ref().expect("running").reload().await.is_err());
    let body = json_push(r#"{"job":"r"}"#, &format!(r#"["{}","again"]"#, now + 1));
    assert_eq!(s.push(JSON, None, None, body).await.0, 204);
    s.stop().await;
}

/// `max_global_streams_per_user`: a stream that would start past the
/// tenant's limit of active streams is refused with 429, the others of
/// the same push are stored; once flushed, streams are no longer active.
#[tokio::test]
async fn the_active_stream_limit_refuses_new_streams_only() {
    let s = Server::start(&test_config(false, "  max_global_streams_per_user: 2\n")).await;
    let now = now_ns();
    let push = |job: &str, line: &str| {
        json_push(
            &format!(r#"{{"job":"{job}"}}"#),
            &format!(r#"["{now}","{line}"]"#),
        )
    };
    assert_eq!(s.push(JSON, None, None, push("a", "1")).await.0, 204);
    assert_eq!(s.push(JSON, None, None, push("b", "1")).await.0, 204);
    let (status, body) = s.push(JSON, None, None, push("c", "1")).await;
    assert_eq!(status, 429);
    assert_eq!(
        body.trim_end(),
        "Maximum active stream limit exceeded, reduce the number of active streams (reduce labels or reduce label values), or contact your administrator to see if the limit can be increased, user: 'fake'"
    );
    // Known streams still take entries, in the same push as a refused one.
    let both = format!(
        r#"{{"streams":[{{"stream":{{"job":"a"}},"values":[["{}","2"]]}},{{"stream":{{"job":"d"}},"values":[["{now}","x"]]}}]}}"#,
        now + 1
    );
    assert_eq!(s.push(JSON, None, None, both.into_bytes()).await.0, 429);
    let (_, body) = s
        .get(
            "/loki/api/v1/query_range",
            &[("query", r#"{job=~".+"}"#), ("direction", "forward")],
            None,
        )
        .await;
    assert_eq!(stream_lines(&body).len(), 3, "{body}");
    // Flushed, the streams are idle: new ones are taken again.
    let response = s
        .client
        .post(format!("{}/flush", s.url))
        .send()
        .await
        .expect("flush");
    assert_eq!(response.status().as_u16(), 204);
    assert_eq!(s.push(JSON, None, None, push("c", "1")).await.0, 204);
    s.stop().await;
}

/// `query_timeout`: a query past its deadline gives up with 504 and Loki's
/// advice, instead of running on.
#[tokio::test]
async fn a_query_past_its_timeout_is_stopped() {
    let s = Server::start(&test_config(false, "  query_timeout: 1ms\n")).await;
    let now = now_ns();
    for batch in 0..10 {
        let values: Vec<String> = (0..5000)
            .map(|i| {
                format!(
                    r#"["{}","line {batch} {i} level=info"]"#,
                    now - (batch * 5000 + i) * 1_000_000
                )
            })
            .collect();
        let body = json_push(r#"{"job":"slow"}"#, &values.join(","));
        assert_eq!(s.push(JSON, None, None, body).await.0, 204);
    }
    let (status, body) = s
        .get(
            "/loki/api/v1/query",
            &[(
                "query",
                r#"sum(count_over_time({job="slow"} | logfmt | level="info" [1h]))"#,
            )],
            None,
        )
        .await;
    assert_eq!(status, 504, "{body}");
    assert!(body.starts_with("request timed out"), "{body}");
    // A line filter that never matches is searched inside the store: it
    // stops there too, in the head and in flushed chunks.
    for flushed in [false, true] {
        if flushed {
            let response = s
                .client
                .post(format!("{}/flush", s.url))
                .send()
                .await
                .expect("flush");
            assert_eq!(response.status().as_u16(), 204);
        }
        let (status, body) = s
            .get(
                "/loki/api/v1/query",
                &[(
                    "query",
                    r#"count_over_time({job="slow"} |= "never there" [1h])"#,
                )],
                None,
            )
            .await;
        assert_eq!(status, 504, "flushed {flushed}: {body}");
    }
    s.stop().await;
}
