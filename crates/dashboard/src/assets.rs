//! The web UI, embedded: the bundle `build.rs` made from `ui/`, served
//! under `/public/`, and `index.html` for every page route of the app.

use axum::Router;
use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::server::AppState;

include!(concat!(env!("OUT_DIR"), "/ui_assets.rs"));

/// A file of the bundle by its path (`app.js`, `index.html`).
pub fn asset(name: &str) -> Option<&'static [u8]> {
    ASSETS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, bytes)| *bytes)
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit('.').next() {
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("html") => "text/html; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("woff2") => "font/woff2",
        _ => "application/octet-stream",
    }
}

async fn public(Path(name): Path<String>) -> Response {
    match asset(&name) {
        Some(bytes) => ([(header::CONTENT_TYPE, content_type(&name))], bytes).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// The app's page: the same `index.html` for every route the UI handles.
pub async fn index() -> Response {
    match asset("index.html") {
        Some(bytes) => {
            ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], bytes).into_response()
        }
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// `/public/*` and the UI's page routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/public/{*name}", get(public))
        .route("/", get(index))
        .route("/login", get(index))
        .route("/dashboards", get(index))
        .route("/d/{*rest}", get(index))
        .route("/explore", get(index))
}
