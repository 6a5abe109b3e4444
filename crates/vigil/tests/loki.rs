//! `vigil loki` as a user runs it: the reference config unchanged, a bad
//! config's error, and a SIGKILL while pushes are being acknowledged.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::{VIGIL, query_range, runtime, start};

#[test]
fn the_reference_config_starts_the_log_store_unchanged() {
    let reference = testkit::shared_dir().join("reference/config/loki-config.yaml");
    let data = tempfile::tempdir().expect("a directory");
    let (_server, url) = start(&reference, data.path());
    runtime().block_on(async {
        let ready = reqwest::get(format!("{url}/ready")).await.expect("ready");
        assert_eq!(ready.status(), 200);
        // Grafana's datasource check.
        let check = reqwest::get(format!(
            "{url}/loki/api/v1/query?query=vector(1)%2Bvector(1)"
        ))
        .await
        .expect("answered")
        .text()
        .await
        .expect("a body");
        assert!(
            check.contains(r#""value":["#) && check.contains(r#","2"]"#),
            "{check}"
        );
    });
}

#[test]
fn a_bad_config_names_file_line_and_problem() {
    let dir = tempfile::tempdir().expect("a directory");
    let config = dir.path().join("loki-config.yaml");
    std::fs::write(
        &config,
        "auth_enabled: false\nlimits_config:\n  max_qurey_series: 5\n",
    )
    .expect("written");
    let output = Command::new(VIGIL)
        .arg("loki")
        .arg(format!("-config.file={}", config.display()))
        .arg("--storage.path")
        .arg(dir.path().join("data"))
        .output()
        .expect("vigil runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("loki-config.yaml:3:3") && stderr.contains("max_qurey_series"),
        "{stderr}"
    );
}

const SEC: i64 = 1_000_000_000;

/// A push of lines `first..first+n` of the test's sequence.
fn batch(base_ns: i64, first: u64, n: u64) -> String {
    let values: Vec<String> = (first..first + n)
        .map(|i| format!(r#"["{}","line {i}"]"#, base_ns + i as i64 * 1000))
        .collect();
    format!(
        r#"{{"streams":[{{"stream":{{"job":"kill"}},"values":[{}]}}]}}"#,
        values.join(",")
    )
}

/// Pushes batches as fast as they are acknowledged and SIGKILLs the server
/// while a push is in flight; after a restart, every acknowledged line is
/// there exactly once (the unacknowledged batch may be there or not, once).
#[test]
fn acknowledged_lines_survive_sigkill_exactly_once() {
    let dir = tempfile::tempdir().expect("a directory");
    let config = dir.path().join("loki-config.yaml");
    std::fs::write(
        &config,
        "auth_enabled: false\nlimits_config:\n  max_entries_limit_per_query: 1000000\n  ingestion_rate_mb: 1024\n  ingestion_burst_size_mb: 1024\n",
    )
    .expect("written");
    let storage = dir.path().join("data");
    let base = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i64)
        .unwrap_or(0)
        - 600 * SEC;
    const PER_BATCH: u64 = 50;
    let rt = runtime();
    let (mut server, url) = start(&config, &storage);
    let acknowledged = rt.block_on(async {
        let client = reqwest::Client::new();
        let mut acknowledged = 0u64;
        let mut in_flight = Vec::new();
        let deadline = Instant::now() + Duration::from_millis(1500);
        while Instant::now() < deadline {
            let body = batch(base, acknowledged, PER_BATCH);
            let response = client
                .post(format!("{url}/loki/api/v1/push"))
                .header("Content-Type", "application/json")
                .body(body)
                .send()
                .await
                .expect("a push is answered");
            assert_eq!(response.status(), 204);
            acknowledged += PER_BATCH;
        }
        // Kill it with a push on the wire.
        let pending = client
            .post(format!("{url}/loki/api/v1/push"))
            .header("Content-Type", "application/json")
            .body(batch(base, acknowledged, PER_BATCH))
            .send();
        in_flight.push(tokio::spawn(pending));
        tokio::time::sleep(Duration::from_millis(2)).await;
        server.kill();
        for p in in_flight {
            // Answered before the kill or cut by it: either is fine.
            let _ = p.await;
        }
        acknowledged
    });
    assert!(
        acknowledged >= 10 * PER_BATCH,
        "too few pushes: {acknowledged}"
    );

    let (_server, url) = start(&config, &storage);
    let lines = rt.block_on(async {
        let client = reqwest::Client::new();
        let v = query_range(
            &client,
            &url,
            r#"{job="kill"}"#,
            base - SEC,
            base + 3600 * SEC,
        )
        .await;
        let mut lines: Vec<u64> = Vec::new();
        for s in v["data"]["result"].as_array().cloned().unwrap_or_default() {
            for e in s["values"].as_array().cloned().unwrap_or_default() {
                let line = e[1].as_str().unwrap_or_default();
                lines.push(
                    line.trim_start_matches("line ")
                        .parse()
                        .expect("a line number"),
                );
            }
        }
        lines
    });
    let mut seen = std::collections::BTreeMap::new();
    for l in &lines {
        *seen.entry(*l).or_insert(0) += 1;
    }
    for i in 0..acknowledged {
        assert_eq!(
            seen.get(&i),
            Some(&1),
            "line {i} of {acknowledged} acknowledged"
        );
    }
    // The batch in flight at the kill: all of it or none of it, once.
    let extra: Vec<_> = seen.iter().filter(|(i, _)| **i >= acknowledged).collect();
    assert!(
        extra.is_empty() || extra.len() == PER_BATCH as usize,
        "a torn batch: {extra:?}"
    );
    assert!(extra.iter().all(|(_, n)| **n == 1), "{extra:?}");
}
