//! The middleware every route goes through: who is calling, may they, and
//! is a cookie-authenticated write coming from our own origin.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;

use super::{
    Credential, CurrentUser, LoginRefused, SESSION_COOKIE, client_addr, cookie, message, password,
    unix_now,
};
use crate::server::AppState;

/// How often the stored "last seen" of a session is refreshed: often
/// enough for the 7-day inactivity limit, rare enough not to write the
/// database on every request.
const TOUCH_EVERY_SECS: i64 = 60;

/// Paths anyone may reach.
fn is_public(path: &str) -> bool {
    matches!(path, "/login" | "/logout" | "/api/health") || path.starts_with("/public/")
}

fn is_write(method: &Method) -> bool {
    matches!(
        *method,
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    )
}

/// Writes an anonymous viewer may still make: they only read data.
fn is_read_only_post(method: &Method, path: &str) -> bool {
    *method == Method::POST
        && (path == "/api/ds/query" || path.starts_with("/api/datasources/proxy/"))
}

/// Finds the caller and lets the request through, or answers 401 (API),
/// 302 to the login page (pages), 403 (cross-origin write), 429 (basic
/// auth rate-limited).
pub async fn require_user(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_owned();
    if is_public(&path) {
        return next.run(request).await;
    }
    let client = client_addr(request.extensions());
    let user = match identify(&state, request.headers(), client).await {
        Ok(user) => user,
        Err(response) => return response,
    };
    let method = request.method().clone();
    let Some(user) = user else {
        return unauthenticated(&request);
    };
    if is_write(&method) {
        if user.is_anonymous && !is_read_only_post(&method, &path) {
            return message(StatusCode::UNAUTHORIZED, "Unauthorized");
        }
        if matches!(user.credential, Credential::Session(_)) && !same_origin(request.headers()) {
            return message(StatusCode::FORBIDDEN, "origin not allowed");
        }
    }
    request.extensions_mut().insert(user);
    next.run(request).await
}

fn unauthenticated(request: &Request) -> Response {
    let path = request.uri().path();
    if path.starts_with("/api/") || path == "/api" {
        return message(StatusCode::UNAUTHORIZED, "Unauthorized");
    }
    let target = request
        .uri()
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    let location = format!("/login?redirectTo={}", gocompat::url::query_escape(target));
    (StatusCode::FOUND, [(header::LOCATION, location)]).into_response()
}

/// The caller: `Ok(None)` when nobody (and anonymous access is off),
/// `Err` with the answer when the credentials given are refused.
async fn identify(
    state: &AppState,
    headers: &HeaderMap,
    client: Option<std::net::SocketAddr>,
) -> Result<Option<CurrentUser>, Response> {
    if let Some((login, pass)) = basic_credentials(headers) {
        return match state
            .auth
            .check_login(&state.store, &login, &pass, client)
            .await
        {
            Ok(user) => Ok(Some(CurrentUser::from_user(&user, Credential::Basic))),
            Err(refused) => Err(refused_answer(refused)),
        };
    }
    if let Some(token) = cookie(headers, SESSION_COOKIE) {
        let hash = password::token_hash(token);
        let now = unix_now();
        let found = state
            .store
            .session_user(hash.clone(), now, state.auth.session_limits())
            .await
            .map_err(|e| internal(&e))?;
        if let Some(found) = found {
            if now - found.seen >= TOUCH_EVERY_SECS {
                state
                    .store
                    .touch_session(hash.clone(), now)
                    .await
                    .map_err(|e| internal(&e))?;
            }
            return Ok(Some(CurrentUser::from_user(
                &found.user,
                Credential::Session(hash),
            )));
        }
    }
    if state.auth.options().anonymous_enabled {
        return Ok(Some(CurrentUser::anonymous()));
    }
    Ok(None)
}

/// The answer to a refused login (form, JSON or basic auth).
pub(crate) fn refused_answer(refused: LoginRefused) -> Response {
    match refused {
        LoginRefused::Blocked => message(
            StatusCode::TOO_MANY_REQUESTS,
            "Too many consecutive incorrect login attempts for user - login for user temporarily blocked",
        ),
        LoginRefused::Invalid => message(StatusCode::UNAUTHORIZED, "Invalid username or password"),
        LoginRefused::Failed(e) => internal(&e),
    }
}

pub(crate) fn internal(error: &dyn std::fmt::Display) -> Response {
    tracing::error!(%error, "dashboards: authentication failed");
    message(StatusCode::INTERNAL_SERVER_ERROR, "Internal error")
}

/// `Authorization: Basic base64(user:password)`.
fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (login, pass) = text.split_once(':')?;
    Some((login.to_owned(), pass.to_owned()))
}

/// Grafana's CSRF check: the host name of `Origin` (or of `Referer` when
/// there is no `Origin`) must be the host name the request was sent to.
/// A request with neither header is not a browser's cross-site request.
pub(crate) fn same_origin(headers: &HeaderMap) -> bool {
    let source = headers
        .get(header::ORIGIN)
        .or_else(|| headers.get(header::REFERER))
        .map(|v| v.to_str().unwrap_or("\u{0}"));
    let Some(source) = source else {
        return true;
    };
    let Some(host) = headers.get(header::HOST).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    match url_hostname(source) {
        Some(from) => from.eq_ignore_ascii_case(hostname(host)),
        None => false,
    }
}

/// The host name of an absolute URL (`https://h:3000/x` -> `h`).
fn url_hostname(url: &str) -> Option<&str> {
    let (_, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let authority = authority.rsplit_once('@').map_or(authority, |(_, a)| a);
    let host = hostname(authority);
    (!host.is_empty()).then_some(host)
}

/// A `host[:port]` without its port (IPv6 literals keep their brackets).
fn hostname(authority: &str) -> &str {
    if authority.starts_with('[') {
        return authority.split_inclusive(']').next().unwrap_or(authority);
    }
    authority.split(':').next().unwrap_or(authority)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, HeaderValue::from_static(v));
        }
        map
    }

    #[test]
    fn origin_checks() {
        let cases: &[(&[(&str, &str)], bool)] = &[
            (&[("host", "localhost:3000")], true),
            (
                &[
                    ("host", "localhost:3000"),
                    ("origin", "http://localhost:3000"),
                ],
                true,
            ),
            (
                &[
                    ("host", "localhost:3000"),
                    ("origin", "http://LOCALHOST:8080"),
                ],
                true,
            ),
            (
                &[
                    ("host", "localhost:3000"),
                    ("origin", "http://evil.example"),
                ],
                false,
            ),
            (&[("host", "localhost:3000"), ("origin", "null")], false),
            (
                &[
                    ("host", "localhost:3000"),
                    ("referer", "http://localhost:3000/d/x"),
                ],
                true,
            ),
            (
                &[
                    ("host", "localhost:3000"),
                    ("referer", "https://evil.example/localhost"),
                ],
                false,
            ),
            (
                &[("host", "[::1]:3000"), ("origin", "http://[::1]:3000")],
                true,
            ),
            (&[("origin", "http://localhost:3000")], false),
        ];
        for (pairs, want) in cases {
            assert_eq!(same_origin(&headers(pairs)), *want, "{pairs:?}");
        }
    }

    #[test]
    fn basic_credentials_decode() {
        // "admin:pa:ss"
        let h = headers(&[("authorization", "Basic YWRtaW46cGE6c3M=")]);
        assert_eq!(
            basic_credentials(&h),
            Some(("admin".into(), "pa:ss".into()))
        );
        assert_eq!(
            basic_credentials(&headers(&[("authorization", "Bearer x")])),
            None
        );
        assert_eq!(
            basic_credentials(&headers(&[("authorization", "Basic !!")])),
            None
        );
    }
}
