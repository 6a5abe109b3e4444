//! The web UI, embedded: the bundle `build.rs` made from `ui/`, served
//! under `/public/`, and `index.html` for every page route of the app.
//!
//! Caching: `index.html` is always revalidated (`no-cache`); it names the
//! bundle's files with their content tag (`/public/app.js?v=<etag>`), and
//! a request carrying the current tag may be cached for a year. Any other
//! request is revalidated with the ETag (304 when unchanged). Text files
//! are served gzipped (compressed at build time) to clients that accept it.

use axum::Router;
use axum::extract::{Path, RawQuery};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::server::AppState;

/// One file of the bundle.
pub(crate) struct Asset {
    /// Its path in the bundle (`app.js`, `index.html`).
    name: &'static str,
    bytes: &'static [u8],
    /// Gzipped at build time, for text files that shrink.
    gzip: Option<&'static [u8]>,
    /// Its content tag (without quotes).
    etag: &'static str,
}

include!(concat!(env!("OUT_DIR"), "/ui_assets.rs"));

/// A file of the bundle by its path (`app.js`, `index.html`).
pub fn asset(name: &str) -> Option<&'static [u8]> {
    find(name).map(|a| a.bytes)
}

fn find(name: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.name == name)
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit('.').next() {
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("html") => "text/html; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("woff2") => "font/woff2",
        Some("json" | "map") => "application/json",
        _ => "application/octet-stream",
    }
}

const FOREVER: &str = "public, max-age=31536000, immutable";

fn serve(name: &str, headers: &HeaderMap, versioned: bool) -> Response {
    let Some(asset) = find(name) else {
        return (StatusCode::NOT_FOUND, "404 page not found").into_response();
    };
    let etag = format!("\"{}\"", asset.etag);
    let cache = if versioned && name != "index.html" {
        FOREVER
    } else {
        "no-cache"
    };
    let mut response = if headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"))
    {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let gzip_ok = headers
            .get_all(header::ACCEPT_ENCODING)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| {
                v.split(',').any(|e| {
                    let mut parts = e.split(';');
                    let coding = parts.next().unwrap_or_default().trim();
                    // `gzip;q=0` refuses it.
                    let refused = parts.any(|p| {
                        p.trim()
                            .strip_prefix("q=")
                            .and_then(|q| q.parse::<f32>().ok())
                            .is_some_and(|q| q == 0.0)
                    });
                    coding == "gzip" && !refused
                })
            });
        match asset.gzip {
            Some(gz) if gzip_ok => (
                [
                    (header::CONTENT_TYPE, content_type(name)),
                    (header::CONTENT_ENCODING, "gzip"),
                ],
                gz,
            )
                .into_response(),
            _ => ([(header::CONTENT_TYPE, content_type(name))], asset.bytes).into_response(),
        }
    };
    let h = response.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    h.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    if let Ok(value) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, value);
    }
    response
}

async fn public(
    Path(name): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    // Long caching only for a request naming this build's file.
    let versioned = find(&name).is_some_and(|a| {
        query
            .as_deref()
            .unwrap_or_default()
            .split('&')
            .any(|p| p.strip_prefix("v=") == Some(a.etag))
    });
    serve(&name, &headers, versioned)
}

/// The app's page: the same `index.html` for every route the UI handles.
pub async fn index(headers: HeaderMap) -> Response {
    serve("index.html", &headers, false)
}

/// `/public/*` and the UI's page routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/public/{*name}", get(public))
        .route("/", get(index))
        .route("/login", get(index))
        .route("/dashboards", get(index))
        .route("/dashboards/f/{*rest}", get(index))
        .route("/d/{*rest}", get(index))
        .route("/explore", get(index))
        .route("/profile", get(index))
        .route("/profile/password", get(index))
}
