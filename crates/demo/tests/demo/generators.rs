//! The traffic generator against a live API.

use std::collections::BTreeMap;
use std::time::Duration;

use demo::loadgen::{LoadgenConfig, run};

use crate::support::{parse_samples, requests_by_label_set, scrape, start};

#[tokio::test]
async fn loadgen_summary_equals_the_server_counters() {
    let (server, _dir) = start(|_| {}).await;
    let config = LoadgenConfig {
        target: format!("http://{}", server.addr()),
        clients: 10,
        interval: Duration::from_millis(10),
        rounds: Some(4),
        seed: Some(3),
        ..LoadgenConfig::default()
    };
    let mut rounds_seen = Vec::new();
    let summary = run(&config, std::future::pending(), |r| {
        rounds_seen.push(r.to_string())
    })
    .await
    .unwrap();
    assert_eq!(summary.rounds, 4);
    assert_eq!(rounds_seen.len(), 4);
    assert!(
        rounds_seen[0].starts_with("round 1: 10 answered"),
        "{}",
        rounds_seen[0]
    );
    assert_eq!(summary.requests, 40);
    assert_eq!(summary.errors, 0);

    let mut expected: BTreeMap<(String, String, String), u64> = BTreeMap::new();
    for e in &summary.by_endpoint {
        *expected
            .entry((
                e.path.clone(),
                e.method.clone(),
                format!("{}xx", e.status / 100),
            ))
            .or_default() += e.count;
    }
    let counted = requests_by_label_set(&parse_samples(&scrape(&server).await));
    assert_eq!(counted, expected);
    // The JSON summary a user sees has the same numbers.
    let json = serde_json::to_value(&summary).unwrap();
    assert_eq!(json["requests"], 40);
    assert_eq!(
        json["by_endpoint"].as_array().unwrap().len(),
        summary.by_endpoint.len()
    );
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn loadgen_counts_errors_instead_of_failing() {
    // Nothing listens on the port of a listener we just closed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = LoadgenConfig {
        target: format!("http://127.0.0.1:{port}"),
        clients: 5,
        interval: Duration::ZERO,
        rounds: Some(2),
        ..LoadgenConfig::default()
    };
    let summary = run(&config, std::future::pending(), |_| {}).await.unwrap();
    assert_eq!(
        (summary.rounds, summary.requests, summary.errors),
        (2, 0, 10)
    );
}

#[tokio::test]
async fn loadgen_rejects_a_target_that_is_not_an_http_url() {
    let config = LoadgenConfig {
        target: "localhost:8000/x y".into(),
        ..LoadgenConfig::default()
    };
    let error = run(&config, std::future::pending(), |_| {})
        .await
        .unwrap_err();
    assert!(error.to_string().contains("invalid target URL"), "{error}");
}

#[tokio::test]
async fn loadgen_stops_on_shutdown() {
    let (server, _dir) = start(|_| {}).await;
    let config = LoadgenConfig {
        target: format!("http://{}", server.addr()),
        clients: 2,
        interval: Duration::from_secs(3600),
        rounds: None,
        ..LoadgenConfig::default()
    };
    let summary = tokio::time::timeout(
        Duration::from_secs(10),
        run(
            &config,
            tokio::time::sleep(Duration::from_millis(300)),
            |_| {},
        ),
    )
    .await
    .expect("loadgen did not stop")
    .unwrap();
    assert_eq!(summary.rounds, 1);
    server.shutdown().await.unwrap();
}
