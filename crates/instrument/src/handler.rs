//! The `/metrics` endpoint: gathers a registry and answers in the format
//! the client's `Accept` header prefers.

use std::sync::Arc;

use axum::routing::{MethodRouter, get};
use http::{HeaderMap, HeaderValue, header};

use crate::exposition::Format;
use crate::registry::Registry;

/// A `GET` route serving `registry`; mount it at `/metrics`.
pub fn metrics_route<S>(registry: Arc<Registry>) -> MethodRouter<S>
where
    S: Clone + Send + Sync + 'static,
{
    get(move |headers: HeaderMap| {
        let registry = registry.clone();
        async move { render(&registry, headers.get(header::ACCEPT)) }
    })
}

/// Renders `registry` for a request with this `Accept` header.
pub fn render(registry: &Registry, accept: Option<&HeaderValue>) -> (HeaderMap, String) {
    let format = Format::negotiate(accept.and_then(|v| v.to_str().ok()));
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.content_type()),
    );
    (headers, format.encode(&registry.gather()))
}
