//! api (filled in by its lane).

use axum::Router;

use crate::server::AppState;

/// This module's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
}
