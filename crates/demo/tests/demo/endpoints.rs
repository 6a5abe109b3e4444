//! What each endpoint answers.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use crate::support::{start, url};

#[tokio::test]
async fn health_is_always_200() {
    let (server, _dir) = start(|c| c.status_weights = [0, 0, 1]).await;
    for _ in 0..5 {
        let response = reqwest::get(url(&server, "/health")).await.unwrap();
        assert_eq!(response.status(), 200);
    }
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn test_endpoints_answer_their_message_with_the_weighted_statuses() {
    let client = reqwest::Client::new();
    for (weights, want) in [([1, 0, 0], 200), ([0, 1, 0], 400), ([0, 0, 1], 500)] {
        let (server, _dir) = start(|c| c.status_weights = weights).await;
        for (method, path) in demo::api::TEST_ENDPOINTS {
            let response = client
                .request(method.parse().unwrap(), url(&server, path))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), want, "{method} {path}");
            assert_eq!(response.headers()["content-type"], "application/json");
            let body: serde_json::Value =
                serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
            assert_eq!(
                body,
                serde_json::json!({ "message": format!("{method} endpoint test response") })
            );
        }
        server.shutdown().await.unwrap();
    }
}

#[tokio::test]
async fn uniform_weights_draw_every_status() {
    let (server, _dir) = start(|_| {}).await;
    let mut seen = BTreeSet::new();
    // The chance of missing one of three statuses in 60 draws is 3·(2/3)^60 ≈ 1e-10.
    for _ in 0..60 {
        seen.insert(
            reqwest::get(url(&server, "/get_endpoint"))
                .await
                .unwrap()
                .status()
                .as_u16(),
        );
    }
    assert_eq!(seen, BTreeSet::from([200, 400, 500]));
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn unknown_path_is_a_json_404() {
    let (server, _dir) = start(|_| {}).await;
    let response = reqwest::get(url(&server, "/nope")).await.unwrap();
    assert_eq!(response.status(), 404);
    assert_eq!(response.text().await.unwrap(), r#"{"detail":"Not Found"}"#);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn wrong_method_is_a_json_405_with_allow() {
    let (server, _dir) = start(|_| {}).await;
    let client = reqwest::Client::new();
    for (method, path) in [
        ("POST", "/get_endpoint"),
        ("GET", "/post_endpoint"),
        ("DELETE", "/health"),
        ("POST", "/metrics"),
    ] {
        let response = client
            .request(method.parse().unwrap(), url(&server, path))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 405, "{method} {path}");
        assert!(response.headers().contains_key("allow"), "{method} {path}");
        assert_eq!(
            response.text().await.unwrap(),
            r#"{"detail":"Method Not Allowed"}"#
        );
    }
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn delays_do_not_block_other_requests() {
    let (server, _dir) = start(|c| c.max_delay = Duration::from_millis(500)).await;
    let started = Instant::now();
    let requests = (0..20).map(|_| reqwest::get(url(&server, "/get_endpoint")));
    let responses = futures_join_all(requests).await;
    assert!(responses.iter().all(|r| r.is_ok()));
    // Served one at a time, 20 uniform delays of up to 500 ms would take
    // about 5 s; concurrently, at most one delay.
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "took {:?}",
        started.elapsed()
    );
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn shutdown_lets_in_flight_requests_finish_and_flushes_the_log() {
    let (server, dir) = start(|c| {
        c.max_delay = Duration::from_millis(400);
        c.status_weights = [1, 0, 0];
    })
    .await;
    let target = url(&server, "/put_endpoint");
    let in_flight = tokio::spawn(async move { reqwest::Client::new().put(target).send().await });
    tokio::time::sleep(Duration::from_millis(50)).await;
    server.shutdown().await.unwrap();
    let response = in_flight.await.unwrap().unwrap();
    assert_eq!(response.status(), 200);
    let log = std::fs::read_to_string(dir.path().join("logs.log")).unwrap();
    assert!(
        log.contains("| INFO | PUT /put_endpoint | Requested by: 127.0.0.1 Status: 200"),
        "{log}"
    );
}

#[tokio::test]
async fn shutdown_cuts_requests_that_outlast_the_grace_period() {
    let (server, _dir) = start(|c| {
        c.max_delay = Duration::from_secs(60);
        c.shutdown_grace = Duration::from_millis(200);
    })
    .await;
    let target = url(&server, "/get_endpoint");
    let _in_flight = tokio::spawn(async move { reqwest::get(target).await });
    tokio::time::sleep(Duration::from_millis(50)).await;
    let started = Instant::now();
    server.shutdown().await.unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
}

async fn futures_join_all<F: std::future::Future + Send + 'static>(
    futures: impl Iterator<Item = F>,
) -> Vec<F::Output>
where
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for handle in handles {
        out.push(handle.await.unwrap());
    }
    out
}
