//! The `/metrics` endpoint: gathers a registry and answers in the format
//! the client's `Accept` header prefers, laid out in the flavour of the
//! program the component stands in for.

use std::sync::Arc;

use axum::routing::{MethodRouter, get};
use http::{HeaderMap, HeaderValue, header};

use crate::exposition::{Flavour, Format};
use crate::registry::Registry;

/// A `GET` route serving `registry` in `flavour`; mount it at `/metrics`.
///
/// The flavour is the client library whose output the component must
/// match: [`Flavour::Python`] for an app mimicking a FastAPI service,
/// [`Flavour::Go`] for a drop-in of a Go program (Promtail, Loki,
/// Prometheus).
pub fn metrics_route<S>(registry: Arc<Registry>, flavour: Flavour) -> MethodRouter<S>
where
    S: Clone + Send + Sync + 'static,
{
    get(move |headers: HeaderMap| {
        let registry = registry.clone();
        async move { render(&registry, flavour, headers.get(header::ACCEPT)) }
    })
}

/// Renders `registry` in `flavour` for a request with this `Accept`
/// header.
pub fn render(
    registry: &Registry,
    flavour: Flavour,
    accept: Option<&HeaderValue>,
) -> (HeaderMap, String) {
    let format = Format::negotiate(accept.and_then(|v| v.to_str().ok()));
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.content_type()),
    );
    (headers, format.encode(flavour, &registry.gather()))
}
