//! `POST /login`, `GET /logout`, `GET /api/user`,
//! `PUT /api/user/password`, `GET|PUT /api/user/preferences`.

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use serde::Deserialize;

use super::middleware::{internal, refused_answer, same_origin};
use super::password::{DEFAULT_PASSWORD, MIN_PASSWORD_LEN, new_token, token_hash};
use super::{
    Credential, CurrentUser, SESSION_COOKIE, client_addr, cookie, hash, message, unix_now, verify,
};
use crate::server::AppState;

/// Largest login or password-change body read.
const MAX_BODY: usize = 64 * 1024;

/// `/login` (POST), `/logout`, `/api/user`, `/api/user/password`,
/// `/api/user/preferences`. `GET /login` (the page) is the UI's.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/login", post(login))
        .route("/logout", get(logout))
        .route("/api/user", get(user))
        .route("/api/user/password", put(change_password))
        .route(
            "/api/user/preferences",
            get(preferences).put(set_preferences),
        )
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    user: String,
    #[serde(default)]
    password: String,
}

#[derive(Deserialize)]
struct RedirectQuery {
    #[serde(rename = "redirectTo")]
    redirect_to: Option<String>,
}

fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"))
}

/// A redirect target inside this server only (no `//host` or scheme).
fn safe_redirect(target: Option<&str>) -> String {
    match target {
        Some(t) if t.starts_with('/') && !t.starts_with("//") && !t.contains('\\') => t.to_owned(),
        _ => "/".to_owned(),
    }
}

async fn login(State(state): State<AppState>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    // The login form is a write like any other: a cross-site page must not
    // log the browser in (login CSRF).
    if !same_origin(&parts.headers) {
        return message(StatusCode::FORBIDDEN, "origin not allowed");
    }
    let form = is_form(&parts.headers);
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY).await else {
        return message(StatusCode::BAD_REQUEST, "bad request data");
    };
    let parsed: Result<LoginForm, String> = if form {
        serde_urlencoded::from_bytes(&bytes).map_err(|e| e.to_string())
    } else {
        serde_json::from_slice(&bytes).map_err(|e| e.to_string())
    };
    let credentials = match parsed {
        Ok(c) if !c.user.is_empty() => c,
        Ok(_) => return message(StatusCode::BAD_REQUEST, "bad login data: no user"),
        Err(e) => return message(StatusCode::BAD_REQUEST, &format!("bad login data: {e}")),
    };
    let redirect = serde_urlencoded::from_str::<RedirectQuery>(parts.uri.query().unwrap_or(""))
        .ok()
        .and_then(|q| q.redirect_to);
    let redirect = safe_redirect(redirect.as_deref());
    let client = client_addr(&parts.extensions);
    let user = match state
        .auth
        .check_login(
            &state.store,
            &credentials.user,
            &credentials.password,
            client,
        )
        .await
    {
        Ok(user) => user,
        Err(refused) => return refused_answer(refused),
    };
    // Logins are rare: a good moment to forget expired sessions.
    if let Err(e) = state
        .store
        .prune_sessions(unix_now(), state.auth.session_limits())
        .await
    {
        return internal(&e);
    }
    let token = new_token();
    if let Err(e) = state
        .store
        .create_session(token_hash(&token), user.id, unix_now())
        .await
    {
        return internal(&e);
    }
    let cookie = session_cookie(&state, &token);
    if form {
        return (
            StatusCode::FOUND,
            [(header::SET_COOKIE, cookie), (header::LOCATION, redirect)],
        )
            .into_response();
    }
    let body = serde_json::json!({
        "message": "Logged in",
        "redirectUrl": redirect,
        // The UI offers to change the password when this is true.
        "isDefaultPassword": credentials.password == DEFAULT_PASSWORD,
    });
    ([(header::SET_COOKIE, cookie)], Json(body)).into_response()
}

fn session_cookie(state: &AppState, token: &str) -> String {
    let options = state.auth.options();
    format!(
        "{SESSION_COOKIE}={token}; Path=/; Max-Age={}; HttpOnly; SameSite=Lax{}",
        options.login_maximum_lifetime.as_secs(),
        if options.cookie_secure {
            "; Secure"
        } else {
            ""
        }
    )
}

async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(token) = cookie(&headers, SESSION_COOKIE) {
        if let Err(e) = state.store.delete_session(token_hash(token)).await {
            return internal(&e);
        }
    }
    let secure = if state.auth.options().cookie_secure {
        "; Secure"
    } else {
        ""
    };
    let clear = format!("{SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax{secure}");
    (
        StatusCode::FOUND,
        [
            (header::SET_COOKIE, clear),
            (header::LOCATION, "/login".to_owned()),
        ],
    )
        .into_response()
}

/// Whether a user's stored password is still Grafana's default `admin`.
async fn still_default(state: &AppState, user: &CurrentUser) -> Result<bool, Response> {
    if user.is_anonymous {
        return Ok(false);
    }
    let Some(stored) = state
        .store
        .user_by_id(user.id)
        .await
        .map_err(|e| internal(&e))?
    else {
        return Ok(false);
    };
    state
        .auth
        .is_default_password(stored.password_hash)
        .await
        .map_err(|e| internal(&e))
}

async fn user(State(state): State<AppState>, user: CurrentUser) -> Response {
    let is_default = match still_default(&state, &user).await {
        Ok(d) => d,
        Err(response) => return response,
    };
    Json(serde_json::json!({
        "id": user.id,
        "login": user.login,
        "name": user.name,
        "email": user.email,
        "isGrafanaAdmin": user.is_admin,
        "orgId": 1,
        "isAnonymous": user.is_anonymous,
        "isDefaultPassword": is_default,
    }))
    .into_response()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PasswordChange {
    #[serde(default)]
    old_password: String,
    #[serde(default)]
    new_password: String,
    confirm_new: Option<String>,
}

async fn change_password(
    State(state): State<AppState>,
    user: CurrentUser,
    body: Bytes,
) -> Response {
    if user.is_anonymous {
        return message(StatusCode::UNAUTHORIZED, "Unauthorized");
    }
    let change: PasswordChange = match serde_json::from_slice(&body) {
        Ok(c) => c,
        Err(e) => return message(StatusCode::BAD_REQUEST, &format!("bad request data: {e}")),
    };
    let stored = match state.store.user_by_id(user.id).await {
        Ok(Some(u)) => u,
        Ok(None) => return message(StatusCode::NOT_FOUND, "User not found"),
        Err(e) => return internal(&e),
    };
    match verify(change.old_password.clone(), stored.password_hash).await {
        Ok(true) => {}
        Ok(false) => return message(StatusCode::UNAUTHORIZED, "Invalid old password"),
        Err(e) => return internal(&e),
    }
    if change.new_password.chars().count() < MIN_PASSWORD_LEN {
        return message(StatusCode::BAD_REQUEST, "New password is too short");
    }
    if change
        .confirm_new
        .as_deref()
        .is_some_and(|c| c != change.new_password)
    {
        return message(
            StatusCode::BAD_REQUEST,
            "New password and confirmation do not match",
        );
    }
    let hashed = match hash(change.new_password).await {
        Ok(h) => h,
        Err(e) => return internal(&e),
    };
    if let Err(e) = state
        .store
        .set_password_hash(user.id, hashed, unix_now())
        .await
    {
        return internal(&e);
    }
    let keep = match &user.credential {
        Credential::Session(hash) => Some(hash.clone()),
        _ => None,
    };
    if let Err(e) = state.store.delete_other_sessions(user.id, keep).await {
        return internal(&e);
    }
    message(StatusCode::OK, "User password changed")
}

async fn preferences(State(state): State<AppState>, user: CurrentUser) -> Response {
    if user.is_anonymous {
        return Json(serde_json::json!({})).into_response();
    }
    match state.store.preferences(user.id).await {
        Ok(p) => Json(p.unwrap_or_else(|| serde_json::json!({}))).into_response(),
        Err(e) => internal(&e),
    }
}

async fn set_preferences(
    State(state): State<AppState>,
    user: CurrentUser,
    body: Bytes,
) -> Response {
    if user.is_anonymous {
        return message(StatusCode::UNAUTHORIZED, "Unauthorized");
    }
    let value: serde_json::Value = match serde_json::from_slice(&body) {
        Ok(v @ serde_json::Value::Object(_)) => v,
        Ok(_) => return message(StatusCode::BAD_REQUEST, "preferences must be a JSON object"),
        Err(e) => return message(StatusCode::BAD_REQUEST, &format!("bad request data: {e}")),
    };
    match state.store.set_preferences(user.id, &value).await {
        Ok(()) => message(StatusCode::OK, "Preferences updated"),
        Err(e) => internal(&e),
    }
}

#[cfg(test)]
mod tests {
    use super::safe_redirect;

    #[test]
    fn redirects_stay_on_this_server() {
        for (given, want) in [
            (Some("/d/abc?from=now-1h"), "/d/abc?from=now-1h"),
            (Some("//evil.example/"), "/"),
            (Some("https://evil.example/"), "/"),
            (Some("/\\evil.example"), "/"),
            (None, "/"),
        ] {
            assert_eq!(safe_redirect(given), want, "{given:?}");
        }
    }
}
