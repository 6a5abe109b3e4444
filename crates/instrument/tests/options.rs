//! The instrumentator's options, driven through a real axum router.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::routing::get;
use instrument::{Instrumentator, MetricValue, Registry};
use regex::Regex;
use tower::ServiceExt;

fn app(registry: &Arc<Registry>, options: Instrumentator) -> Router {
    Router::new()
        .route("/items/{id}", get(|| async { "item" }))
        .route("/teapot", get(|| async { StatusCode::IM_A_TEAPOT }))
        .route(
            "/slow",
            get(|| async { tokio::time::sleep(Duration::from_millis(300)).await }),
        )
        .route(
            "/metrics",
            instrument::metrics_route(registry.clone(), instrument::Flavour::Python),
        )
        .layer(options.build(registry).unwrap())
}

async fn call(app: &Router, path: &str) -> StatusCode {
    let request = Request::get(path).body(Body::empty()).unwrap();
    app.clone().oneshot(request).await.unwrap().status()
}

/// `(labels, value)` of every child of `family`, labels as `k=v` joined by `,`.
fn children(registry: &Registry, family: &str) -> Vec<(String, MetricValue)> {
    registry
        .gather()
        .into_iter()
        .find(|f| f.name == family)
        .map(|f| {
            f.metrics
                .into_iter()
                .map(|m| {
                    let labels: Vec<String> =
                        m.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
                    (labels.join(","), m.value)
                })
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn defaults_group_statuses_and_use_route_templates() {
    let registry = Arc::new(Registry::new());
    let app = app(&registry, Instrumentator::default());
    call(&app, "/items/1").await;
    call(&app, "/items/2").await;
    call(&app, "/teapot").await;
    call(&app, "/missing/3").await;
    assert_eq!(
        children(&registry, "http_requests_total"),
        [
            (
                "method=GET,status=2xx,handler=/items/{id}".to_owned(),
                MetricValue::Single(2.0)
            ),
            (
                "method=GET,status=4xx,handler=/teapot".to_owned(),
                MetricValue::Single(1.0)
            ),
            (
                "method=GET,status=4xx,handler=none".to_owned(),
                MetricValue::Single(1.0)
            ),
        ]
    );
}

#[tokio::test]
async fn ungrouped_status_codes() {
    let registry = Arc::new(Registry::new());
    let options = Instrumentator {
        group_status_codes: false,
        ..Instrumentator::default()
    };
    let app = app(&registry, options);
    call(&app, "/teapot").await;
    call(&app, "/items/1").await;
    let labels: Vec<String> = children(&registry, "http_requests_total")
        .into_iter()
        .map(|(l, _)| l)
        .collect();
    assert_eq!(
        labels,
        [
            "method=GET,status=418,handler=/teapot",
            "method=GET,status=200,handler=/items/{id}"
        ]
    );
}

#[tokio::test]
async fn excluded_handlers_and_ignored_untemplated_requests_are_not_recorded() {
    let registry = Arc::new(Registry::new());
    let options = Instrumentator {
        excluded_handlers: vec![Regex::new("^/met").unwrap(), Regex::new("tea").unwrap()],
        ignore_untemplated: true,
        ..Instrumentator::default()
    };
    let app = app(&registry, options);
    for path in ["/metrics", "/teapot", "/missing", "/items/9"] {
        call(&app, path).await;
    }
    let labels: Vec<String> = children(&registry, "http_requests_total")
        .into_iter()
        .map(|(l, _)| l)
        .collect();
    assert_eq!(labels, ["method=GET,status=2xx,handler=/items/{id}"]);
}

#[tokio::test]
async fn untemplated_paths_can_be_kept_raw() {
    let registry = Arc::new(Registry::new());
    let options = Instrumentator {
        group_untemplated: false,
        ..Instrumentator::default()
    };
    let app = app(&registry, options);
    call(&app, "/missing/3").await;
    let labels: Vec<String> = children(&registry, "http_requests_total")
        .into_iter()
        .map(|(l, _)| l)
        .collect();
    assert_eq!(labels, ["method=GET,status=4xx,handler=/missing/3"]);
}

#[tokio::test]
async fn inprogress_gauge_counts_requests_being_handled() {
    let registry = Arc::new(Registry::new());
    let options = Instrumentator {
        inprogress: true,
        inprogress_labels: true,
        ..Instrumentator::default()
    };
    let app = app(&registry, options);
    let slow = tokio::spawn({
        let app = app.clone();
        async move { call(&app, "/slow").await }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        children(&registry, "http_requests_inprogress"),
        [(
            "handler=/slow,method=GET".to_owned(),
            MetricValue::Single(1.0)
        )]
    );
    slow.await.unwrap();
    assert_eq!(
        children(&registry, "http_requests_inprogress"),
        [(
            "handler=/slow,method=GET".to_owned(),
            MetricValue::Single(0.0)
        )]
    );
    let text = instrument::exposition::encode_text(&registry.gather());
    assert!(text.contains("# TYPE http_requests_inprogress gauge\n"));
    assert!(
        !text.contains("http_requests_inprogress_created"),
        "gauges have no _created"
    );
}

#[tokio::test]
async fn custom_buckets_and_custom_labels() {
    let registry = Arc::new(Registry::new());
    let options = Instrumentator {
        latency_lowr_buckets: vec![0.2, 2.0],
        latency_highr_buckets: vec![0.5],
        custom_labels: vec![("service".into(), "shop".into())],
        ..Instrumentator::default()
    };
    let app = app(&registry, options);
    call(&app, "/slow").await;
    let lowr = children(&registry, "http_request_duration_seconds");
    let MetricValue::Histogram { buckets, count, .. } = &lowr[0].1 else {
        panic!("not a histogram")
    };
    assert_eq!(lowr[0].0, "handler=/slow,method=GET,service=shop");
    assert_eq!(buckets, &[(0.2, 0), (2.0, 1), (f64::INFINITY, 1)]);
    assert_eq!(*count, 1);
    let highr = children(&registry, "http_request_duration_highr_seconds");
    let MetricValue::Histogram { buckets, .. } = &highr[0].1 else {
        panic!("not a histogram")
    };
    assert_eq!(buckets, &[(0.5, 1), (f64::INFINITY, 1)]);
    assert_eq!(
        highr[0].0, "",
        "the high-resolution histogram stays unlabelled"
    );
    let requests = children(&registry, "http_requests_total");
    assert_eq!(
        requests[0].0,
        "method=GET,status=2xx,handler=/slow,service=shop"
    );
    assert_eq!(
        children(&registry, "http_request_size_bytes")[0].0,
        "handler=/slow,service=shop"
    );
}
