//! Logins, sessions, CSRF protection and login rate limits, as Grafana's
//! defaults have them.
//!
//! - The admin user is created from [`SecurityOptions`] when the database
//!   has no user yet (Grafana's first start; later changes of
//!   `GF_SECURITY_ADMIN_PASSWORD` do not touch an existing user).
//! - `POST /login` checks the password (argon2id PHC strings) and sets the
//!   `grafana_session` cookie: a random token whose SHA-256 alone is stored.
//! - [`require_user`] (the middleware `server::router` applies) finds who
//!   is calling: session cookie, `Authorization: Basic`, or the anonymous
//!   viewer when enabled; it refuses the rest, and refuses cross-origin
//!   writes made with the cookie. Handlers take [`CurrentUser`].
//! - Failed logins are counted per user and per client address
//!   ([`limiter`]); the sixth within 5 minutes answers 429.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::store::{NewUser, SessionLimits, Store, StoreError, User};

mod handlers;
pub mod limiter;
mod middleware;
pub mod password;

pub use handlers::routes;
pub use middleware::require_user;

/// The session cookie's name (Grafana's `login_cookie_name`).
pub const SESSION_COOKIE: &str = "grafana_session";

/// Who may log in and how (`GF_SECURITY_*`, `GF_AUTH_*`).
#[derive(Debug, Clone)]
pub struct SecurityOptions {
    /// The admin created at first start (`GF_SECURITY_ADMIN_USER`).
    pub admin_user: String,
    /// Its password at first start (`GF_SECURITY_ADMIN_PASSWORD`).
    pub admin_password: String,
    /// Requests without a session act as a Viewer
    /// (`GF_AUTH_ANONYMOUS_ENABLED`); writes still need a login.
    pub anonymous_enabled: bool,
    /// Turns the failed-login limit off
    /// (`GF_SECURITY_DISABLE_BRUTE_FORCE_LOGIN_PROTECTION`).
    pub disable_brute_force_login_protection: bool,
    /// Turns the per-address part of the limit off (Grafana's
    /// `disable_ip_address_login_protection`; on here by default).
    pub disable_ip_address_login_protection: bool,
    /// Adds `Secure` to the session cookie (`GF_SECURITY_COOKIE_SECURE`),
    /// for a server behind https.
    pub cookie_secure: bool,
    /// `login_maximum_lifetime_duration` (Grafana: 30 days).
    pub login_maximum_lifetime: Duration,
    /// `login_maximum_inactive_lifetime_duration` (Grafana: 7 days).
    pub login_maximum_inactive_lifetime: Duration,
}

impl Default for SecurityOptions {
    fn default() -> SecurityOptions {
        SecurityOptions {
            admin_user: "admin".into(),
            admin_password: "admin".into(),
            anonymous_enabled: false,
            disable_brute_force_login_protection: false,
            disable_ip_address_login_protection: false,
            cookie_secure: false,
            login_maximum_lifetime: Duration::from_secs(30 * 24 * 3600),
            login_maximum_inactive_lifetime: Duration::from_secs(7 * 24 * 3600),
        }
    }
}

/// What can go wrong in authentication itself (a refused login is an
/// answer, not an error).
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// The state database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Argon2 refused to hash (never with its default parameters).
    #[error("hashing a password: {0}")]
    Hash(String),
    /// A blocking hashing task panicked.
    #[error("password hashing task failed: {0}")]
    Task(String),
}

/// The authentication state shared by requests.
#[derive(Clone)]
pub struct Auth {
    inner: Arc<Inner>,
}

struct Inner {
    options: SecurityOptions,
    limiter: limiter::LoginLimiter,
    /// Whether a stored hash is the one of Grafana's default password,
    /// by hash: argon2 is too slow to ask on every `/api/user`.
    default_password: std::sync::Mutex<std::collections::HashMap<String, bool>>,
    /// A hash checked when the login names nobody, so that an unknown
    /// user takes as long to refuse as a wrong password (no user
    /// enumeration by timing).
    decoy_hash: String,
}

/// Why a login was refused.
#[derive(Debug)]
pub(crate) enum LoginRefused {
    /// Too many failures for the user or address (429).
    Blocked,
    /// Unknown user or wrong password (401).
    Invalid,
    /// The database or hashing failed (500).
    Failed(AuthError),
}

impl Auth {
    /// Creates the admin user when the database has none yet.
    pub async fn start(store: &Store, options: &SecurityOptions) -> Result<Auth, AuthError> {
        if store.user_count().await? == 0 {
            let hash = hash(options.admin_password.clone()).await?;
            store
                .create_user(
                    NewUser {
                        login: options.admin_user.clone(),
                        email: "admin@localhost".into(),
                        name: String::new(),
                        is_admin: true,
                        password_hash: hash,
                    },
                    unix_now(),
                )
                .await?;
            tracing::info!(login = %options.admin_user, "dashboards: created the admin user");
        }
        let decoy_hash = hash(password::new_token()).await?;
        Ok(Auth {
            inner: Arc::new(Inner {
                decoy_hash,
                options: options.clone(),
                limiter: limiter::LoginLimiter::default(),
                default_password: Default::default(),
            }),
        })
    }

    /// The options the server runs with.
    pub fn options(&self) -> &SecurityOptions {
        &self.inner.options
    }

    pub(crate) fn session_limits(&self) -> SessionLimits {
        let o = &self.inner.options;
        SessionLimits {
            max_lifetime: o.login_maximum_lifetime.as_secs() as i64,
            max_inactive: o.login_maximum_inactive_lifetime.as_secs() as i64,
        }
    }

    /// Whether `hash` is a hash of Grafana's default password `admin`.
    pub(crate) async fn is_default_password(&self, hash: String) -> Result<bool, AuthError> {
        let cache = &self.inner.default_password;
        if let Some(known) = cache.lock().unwrap_or_else(|p| p.into_inner()).get(&hash) {
            return Ok(*known);
        }
        let is_default = verify(password::DEFAULT_PASSWORD.to_owned(), hash.clone()).await?;
        let mut cache = cache.lock().unwrap_or_else(|p| p.into_inner());
        // Hashes change only with passwords: a handful per server.
        if cache.len() > 10_000 {
            cache.clear();
        }
        cache.insert(hash, is_default);
        Ok(is_default)
    }

    /// Checks a login and password under the brute-force limits.
    pub(crate) async fn check_login(
        &self,
        store: &Store,
        login: &str,
        password: &str,
        client: Option<SocketAddr>,
    ) -> Result<User, LoginRefused> {
        let options = &self.inner.options;
        let user_key = format!("user:{}", login.to_lowercase());
        let mut keys = vec![user_key.clone()];
        if !options.disable_ip_address_login_protection {
            if let Some(addr) = client {
                keys.push(format!("ip:{}", addr.ip()));
            }
        }
        let limited = !options.disable_brute_force_login_protection;
        if limited && self.inner.limiter.blocked(&keys, Instant::now()) {
            return Err(LoginRefused::Blocked);
        }
        let user = store
            .user_by_login(login)
            .await
            .map_err(|e| LoginRefused::Failed(e.into()))?;
        let ok = match &user {
            Some(user) if !password.is_empty() => {
                verify(password.to_owned(), user.password_hash.clone())
                    .await
                    .map_err(LoginRefused::Failed)?
            }
            Some(_) => false,
            None => {
                // The outcome is known; only the time spent matters.
                let _ = verify(password.to_owned(), self.inner.decoy_hash.clone()).await;
                false
            }
        };
        match user {
            Some(user) if ok => {
                self.inner.limiter.reset(&user_key);
                Ok(user)
            }
            _ => {
                if limited {
                    self.inner.limiter.record_failure(&keys, Instant::now());
                }
                Err(LoginRefused::Invalid)
            }
        }
    }
}

/// Hashes on a blocking thread.
pub(crate) async fn hash(password: String) -> Result<String, AuthError> {
    tokio::task::spawn_blocking(move || password::hash_password(&password))
        .await
        .map_err(|e| AuthError::Task(e.to_string()))?
}

/// Verifies on a blocking thread.
pub(crate) async fn verify(password: String, hash: String) -> Result<bool, AuthError> {
    tokio::task::spawn_blocking(move || password::verify_password(&password, &hash))
        .await
        .map_err(|e| AuthError::Task(e.to_string()))
}

/// Seconds since the epoch.
pub(crate) fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Grafana's error body: `{"message": "..."}` with `status`.
pub fn message(status: StatusCode, text: &str) -> Response {
    (status, Json(serde_json::json!({ "message": text }))).into_response()
}

/// How the caller proved who they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// The session cookie; the stored hash of its token.
    Session(String),
    /// `Authorization: Basic` on this request.
    Basic,
    /// Nothing: the anonymous viewer.
    Anonymous,
}

/// Who is making the request; the middleware puts it in the request's
/// extensions, handlers take it as an extractor.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    /// 0 for the anonymous viewer.
    pub id: i64,
    pub login: String,
    pub name: String,
    pub email: String,
    pub is_admin: bool,
    pub is_anonymous: bool,
    pub credential: Credential,
}

impl CurrentUser {
    pub(crate) fn from_user(user: &User, credential: Credential) -> CurrentUser {
        CurrentUser {
            id: user.id,
            login: user.login.clone(),
            name: user.name.clone(),
            email: user.email.clone(),
            is_admin: user.is_admin,
            is_anonymous: false,
            credential,
        }
    }

    pub(crate) fn anonymous() -> CurrentUser {
        CurrentUser {
            id: 0,
            login: "anonymous".into(),
            name: "Anonymous".into(),
            email: String::new(),
            is_admin: false,
            is_anonymous: true,
            credential: Credential::Anonymous,
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for CurrentUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<CurrentUser>()
            .cloned()
            .ok_or_else(|| message(StatusCode::UNAUTHORIZED, "Unauthorized"))
    }
}

/// The caller's address, when the server was started with connect info.
pub(crate) fn client_addr(extensions: &axum::http::Extensions) -> Option<SocketAddr> {
    extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| *addr)
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub(crate) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}
