//! The cost of the HTTP metrics layer per request, without network: one
//! request through an axum router with and without the layer.
//!
//! `cargo bench -p vigil-instrument --bench layer`

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::Request;
use axum::routing::get;
use criterion::{Criterion, criterion_group, criterion_main};
use instrument::{Instrumentator, Registry};
use tower::ServiceExt;

fn router(with_layer: bool) -> Router {
    let app = Router::new().route("/items/{id}", get(|| async { "{\"message\":\"ok\"}" }));
    if with_layer {
        let registry = Arc::new(Registry::new());
        app.layer(Instrumentator::default().build(&registry).unwrap())
    } else {
        app
    }
}

fn layer(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let mut group = c.benchmark_group("request");
    for (name, with_layer) in [("without layer", false), ("with layer", true)] {
        let app = router(with_layer);
        group.bench_function(name, |b| {
            b.to_async(&runtime).iter(|| {
                let app = app.clone();
                async move {
                    let request = Request::get("/items/7").body(Body::empty()).unwrap();
                    app.oneshot(request).await.unwrap()
                }
            })
        });
    }
    group.finish();
}

criterion_group!(benches, layer);
criterion_main!(benches);
