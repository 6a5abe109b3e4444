//! Logins, sessions, CSRF protection and login rate limits.

use axum::Router;

use crate::server::AppState;
use crate::store::{Store, StoreError};

/// Who may log in and how (`GF_SECURITY_*`, `GF_AUTH_ANONYMOUS_*`).
#[derive(Debug, Clone)]
pub struct SecurityOptions {
    pub admin_user: String,
    pub admin_password: String,
    pub anonymous_enabled: bool,
}

impl Default for SecurityOptions {
    fn default() -> SecurityOptions {
        SecurityOptions {
            admin_user: "admin".into(),
            admin_password: "admin".into(),
            anonymous_enabled: false,
        }
    }
}

/// The authentication state shared by requests.
#[derive(Clone)]
pub struct Auth {}

impl Auth {
    /// Makes sure the admin user exists.
    pub async fn start(store: &Store, options: &SecurityOptions) -> Result<Auth, StoreError> {
        let _ = (store, options);
        Ok(Auth {})
    }
}

/// `/login`, `/logout`, `/api/user/password`.
pub fn routes() -> Router<AppState> {
    Router::new()
}
