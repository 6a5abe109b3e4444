//! Scraping real HTTP targets on 127.0.0.1 into a real TSDB.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::http::header;
use axum::routing::get;
use model::{MatchOp, Matcher};
use prom::config::Config;
use prom::scrape::{HealthState, ScrapeManager};
use tsdb::{Options, Queryable, Tsdb};

/// Reads the config's target files, then syncs the loops with them.
fn sync(manager: &ScrapeManager, config: &Config, base_dir: &Path) {
    let discovery = prom::discovery::Discovery::new(config, base_dir, std::time::Instant::now());
    manager.sync(config, &discovery);
}

/// Serves `body(n)` for the n-th scrape, as the text format.
async fn serve(body: impl Fn(usize) -> String + Send + Sync + 'static, delay: Duration) -> String {
    serve_as(Some("text/plain; version=0.0.4"), body, delay).await
}

/// Serves `body(n)` with this `Content-Type` (none when `None`).
async fn serve_as(
    content_type: Option<&'static str>,
    body: impl Fn(usize) -> String + Send + Sync + 'static,
    delay: Duration,
) -> String {
    let count = Arc::new(AtomicUsize::new(0));
    let body = Arc::new(body);
    let app = Router::new().route(
        "/metrics",
        get(move || {
            let n = count.fetch_add(1, Ordering::SeqCst);
            let text = body(n);
            async move {
                tokio::time::sleep(delay).await;
                let mut response = axum::response::IntoResponse::into_response(text);
                response.headers_mut().remove(header::CONTENT_TYPE);
                if let Some(content_type) = content_type {
                    response.headers_mut().insert(
                        header::CONTENT_TYPE,
                        header::HeaderValue::from_static(content_type),
                    );
                }
                response
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr.to_string()
}

fn config(jobs: &[(&str, &str)]) -> Config {
    let mut yaml = String::from("scrape_configs:\n");
    for (job, target) in jobs {
        yaml.push_str(&format!(
            "  - job_name: {job}\n    scrape_interval: 100ms\n    scrape_timeout: 80ms\n    static_configs:\n      - targets: ['{target}']\n"
        ));
    }
    Config::parse(&yaml, Path::new("test.yml")).unwrap()
}

/// `(timestamp, value)` of every series selected by `name` and `job`.
fn samples(db: &Tsdb, name: &str, job: &str) -> Vec<Vec<(i64, f64)>> {
    let querier = db.querier(0, i64::MAX).unwrap();
    let matchers = [
        Matcher::new(MatchOp::Equal, "__name__", name).unwrap(),
        Matcher::new(MatchOp::Equal, "job", job).unwrap(),
    ];
    querier
        .select(&matchers)
        .unwrap()
        .iter()
        .map(|s| s.samples().collect())
        .collect()
}

async fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..100 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

fn open_db() -> (Arc<Tsdb>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    (
        Arc::new(Tsdb::open(dir.path(), Options::default()).unwrap()),
        dir,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scrapes_samples_and_report_series_with_target_labels() {
    let target = serve(
        |n| format!("# TYPE requests_total counter\nrequests_total{{path=\"/a\"}} {n}\n"),
        Duration::ZERO,
    )
    .await;
    let (db, _dir) = open_db();
    let manager = ScrapeManager::new(db.clone());
    sync(&manager, &config(&[("api", &target)]), Path::new("."));
    wait_for("three scrapes", || {
        samples(&db, "up", "api")
            .first()
            .is_some_and(|s| s.len() >= 3)
    })
    .await;

    let querier = db.querier(0, i64::MAX).unwrap();
    let series = querier
        .select(&[Matcher::new(MatchOp::Equal, "__name__", "requests_total").unwrap()])
        .unwrap();
    assert_eq!(series.len(), 1);
    assert_eq!(
        series[0].labels().to_string(),
        format!(r#"{{__name__="requests_total", instance="{target}", job="api", path="/a"}}"#)
    );
    let values: Vec<f64> = series[0].samples().map(|(_, v)| v).collect();
    assert!(
        values.windows(2).all(|w| w[1] == w[0] + 1.0),
        "one sample per scrape: {values:?}"
    );
    assert!(samples(&db, "up", "api")[0].iter().all(|(_, v)| *v == 1.0));
    assert!(
        samples(&db, "scrape_samples_scraped", "api")[0]
            .iter()
            .all(|(_, v)| *v == 1.0)
    );
    assert!(
        samples(&db, "scrape_samples_post_metric_relabeling", "api")[0]
            .iter()
            .all(|(_, v)| *v == 1.0)
    );
    let added: Vec<f64> = samples(&db, "scrape_series_added", "api")[0]
        .iter()
        .map(|(_, v)| *v)
        .collect();
    assert_eq!(added[0], 1.0);
    assert!(added[1..].iter().all(|v| *v == 0.0), "{added:?}");
    assert!(!samples(&db, "scrape_duration_seconds", "api")[0].is_empty());
    // Scrapes are an interval apart.
    let times: Vec<i64> = samples(&db, "up", "api")[0]
        .iter()
        .map(|(t, _)| *t)
        .collect();
    assert!(
        times
            .windows(2)
            .all(|w| (60..=250).contains(&(w[1] - w[0]))),
        "{times:?}"
    );

    let active = manager.active_targets();
    assert_eq!(active.len(), 1);
    assert_eq!(active[0].health.state, HealthState::Up);
    assert_eq!(active[0].health.last_error, "");
    manager.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_targets_are_down_with_an_error_and_do_not_stall_others() {
    let good = serve(|_| "ok 1\n".into(), Duration::ZERO).await;
    let garbage = serve(|_| "this is { not metrics\n".into(), Duration::ZERO).await;
    let slow = serve(|_| "slow 1\n".into(), Duration::from_millis(500)).await;
    // Nothing listens where a listener was just closed.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .to_string();
    let (db, _dir) = open_db();
    let manager = ScrapeManager::new(db.clone());
    sync(
        &manager,
        &config(&[
            ("good", &good),
            ("garbage", &garbage),
            ("slow", &slow),
            ("closed", &closed),
        ]),
        Path::new("."),
    );
    wait_for("every target scraped twice", || {
        ["good", "garbage", "slow", "closed"].iter().all(|job| {
            samples(&db, "up", job)
                .first()
                .is_some_and(|s| s.len() >= 2)
        })
    })
    .await;
    for (job, want) in [
        ("good", 1.0),
        ("garbage", 0.0),
        ("slow", 0.0),
        ("closed", 0.0),
    ] {
        assert!(
            samples(&db, "up", job)[0].iter().all(|(_, v)| *v == want),
            "{job}"
        );
    }
    let errors: std::collections::BTreeMap<String, String> = manager
        .active_targets()
        .into_iter()
        .map(|t| (t.job, t.health.last_error))
        .collect();
    assert_eq!(errors["good"], "");
    assert!(
        errors["garbage"].starts_with("line 1:"),
        "{}",
        errors["garbage"]
    );
    assert_eq!(errors["slow"], "context deadline exceeded");
    assert!(!errors["closed"].is_empty());
    // The good target kept its pace while the slow one timed out.
    assert!(samples(&db, "up", "good")[0].len() >= 2);
    manager.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vanished_series_and_removed_targets_get_staleness_markers() {
    // The series `flappy` is exposed by the first two scrapes only.
    let target = serve(
        |n| {
            if n < 2 {
                "steady 1\nflappy 1\n".into()
            } else {
                "steady 1\n".into()
            }
        },
        Duration::ZERO,
    )
    .await;
    let other = serve(|_| "other 1\n".into(), Duration::ZERO).await;
    let (db, _dir) = open_db();
    let manager = ScrapeManager::new(db.clone());
    sync(
        &manager,
        &config(&[("api", &target), ("other", &other)]),
        Path::new("."),
    );
    wait_for("four scrapes", || {
        samples(&db, "up", "api")
            .first()
            .is_some_and(|s| s.len() >= 4)
    })
    .await;
    let flappy = &samples(&db, "flappy", "api")[0];
    assert_eq!(flappy.len(), 3, "two values then one marker: {flappy:?}");
    assert!(model::staleness::is_stale_nan(flappy[2].1));
    assert!(
        samples(&db, "steady", "api")[0]
            .iter()
            .all(|(_, v)| *v == 1.0)
    );

    // Reload without `api`: its series end with a marker; `other` goes on.
    let other_health_before = manager
        .active_targets()
        .into_iter()
        .find(|t| t.job == "other")
        .unwrap()
        .health
        .last_scrape;
    sync(&manager, &config(&[("other", &other)]), Path::new("."));
    wait_for("api's markers", || {
        samples(&db, "steady", "api")[0]
            .last()
            .is_some_and(|(_, v)| model::staleness::is_stale_nan(*v))
    })
    .await;
    assert!(
        samples(&db, "up", "api")[0]
            .last()
            .is_some_and(|(_, v)| model::staleness::is_stale_nan(*v))
    );
    assert_eq!(manager.active_targets().len(), 1);
    wait_for("other keeps scraping", || {
        manager.active_targets()[0].health.last_scrape > other_health_before
    })
    .await;
    assert!(
        samples(&db, "other", "other")[0]
            .iter()
            .all(|(_, v)| *v == 1.0),
        "unchanged target was not interrupted"
    );
    manager.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_discovery_adds_and_removes_targets_on_sync() {
    let first = serve(|_| "a 1\n".into(), Duration::ZERO).await;
    let second = serve(|_| "b 1\n".into(), Duration::ZERO).await;
    let dir = tempfile::tempdir().unwrap();
    let yaml = "scrape_configs:\n  - job_name: files\n    scrape_interval: 100ms\n    scrape_timeout: 80ms\n    file_sd_configs:\n      - files: ['targets/*.json']\n";
    let config = Config::parse(yaml, &dir.path().join("prometheus.yml")).unwrap();
    std::fs::create_dir(dir.path().join("targets")).unwrap();
    let write = |targets: &[&str]| {
        let list: Vec<String> = targets.iter().map(|t| format!("\"{t}\"")).collect();
        std::fs::write(
            dir.path().join("targets/t.json"),
            format!(
                r#"[{{"targets": [{}], "labels": {{"team": "x"}}}}]"#,
                list.join(",")
            ),
        )
        .unwrap();
    };
    let (db, _data) = open_db();
    let manager = ScrapeManager::new(db.clone());
    write(&[&first]);
    sync(&manager, &config, dir.path());
    assert_eq!(manager.active_targets().len(), 1);
    assert_eq!(
        manager.active_targets()[0].target.labels.get("team"),
        Some("x")
    );
    write(&[&first, &second]);
    sync(&manager, &config, dir.path());
    assert_eq!(manager.active_targets().len(), 2);
    wait_for("b scraped", || !samples(&db, "b", "files").is_empty()).await;
    write(&[&second]);
    sync(&manager, &config, dir.path());
    let urls: Vec<String> = manager
        .active_targets()
        .into_iter()
        .map(|t| t.target.url)
        .collect();
    assert_eq!(urls, [format!("http://{second}/metrics")]);
    manager.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openmetrics_targets_are_read_by_content_type_and_a_missing_one_fails() {
    let body = |_| {
        "# TYPE jobs counter\n# HELP jobs Jobs done.\njobs_total{kind=\"a\"} 7 # {trace_id=\"x\"} 1\njobs_created{kind=\"a\"} 1700000000\n# TYPE temp gauge\n# UNIT temp celsius\ntemp 21.5\n# EOF\n"
            .to_owned()
    };
    let om = serve_as(
        Some("application/openmetrics-text; version=1.0.0; charset=utf-8"),
        body,
        Duration::ZERO,
    )
    .await;
    let untyped = serve_as(None, |_| "a 1\n".into(), Duration::ZERO).await;
    let (db, _dir) = open_db();
    let manager = ScrapeManager::new(db.clone());
    sync(
        &manager,
        &config(&[("om", &om), ("untyped", &untyped)]),
        Path::new("."),
    );
    wait_for("both scraped", || {
        ["om", "untyped"].iter().all(|job| {
            samples(&db, "up", job)
                .first()
                .is_some_and(|s| !s.is_empty())
        })
    })
    .await;
    assert_eq!(samples(&db, "jobs_total", "om")[0][0].1, 7.0);
    assert_eq!(samples(&db, "jobs_created", "om")[0][0].1, 1_700_000_000.0);
    assert_eq!(samples(&db, "temp", "om")[0][0].1, 21.5);
    assert!(samples(&db, "up", "om")[0].iter().all(|(_, v)| *v == 1.0));
    let metadata = &manager
        .active_targets()
        .into_iter()
        .find(|t| t.job == "om")
        .unwrap()
        .health
        .metadata;
    assert!(
        metadata
            .iter()
            .any(|m| m.family == "temp" && m.unit.as_deref() == Some("celsius"))
    );
    // Prometheus 3 refuses a body whose format it cannot tell.
    assert!(
        samples(&db, "up", "untyped")[0]
            .iter()
            .all(|(_, v)| *v == 0.0)
    );
    let error = manager
        .active_targets()
        .into_iter()
        .find(|t| t.job == "untyped")
        .unwrap()
        .health
        .last_error;
    assert!(error.contains("no fallback_scrape_protocol"), "{error}");
    manager.shutdown().await;
}
