//! Request parameters as Loki reads them: the URL's query string and, for
//! POST, a form body; the tenant from `X-Scope-OrgID`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{FromRequest, Request};
use axum::http::HeaderMap;

use super::AppState;
use super::respond::ApiError;

/// The most a form body of parameters may hold.
const MAX_FORM_BYTES: usize = 1 << 20;

/// What every query endpoint reads first: the tenant (refused before
/// anything else when missing) and the parameters from the query string
/// and a form body.
pub(crate) struct LokiRequest {
    pub(crate) tenant: String,
    pub(crate) params: Params,
}

impl FromRequest<Arc<AppState>> for LokiRequest {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &Arc<AppState>) -> Result<Self, ApiError> {
        let (parts, body) = req.into_parts();
        let tenant = tenant(&parts.headers, state.auth_enabled)?;
        let body = axum::body::to_bytes(body, MAX_FORM_BYTES)
            .await
            .map_err(|e| ApiError::bad(format!("reading the request body: {e}")))?;
        let params = Params::parse(parts.uri.query(), &parts.headers, &body);
        Ok(Self { tenant, params })
    }
}

/// The parameters of one request. A name given twice keeps every value
/// (`match[]`); [`Params::get`] returns the first, as Go's `Form.Get`,
/// where the form body comes before the query string.
#[derive(Debug, Default, Clone)]
pub(crate) struct Params {
    values: HashMap<String, Vec<String>>,
}

impl Params {
    /// Reads the query string and, when the body is a form, the body.
    pub(crate) fn parse(query: Option<&str>, headers: &HeaderMap, body: &[u8]) -> Self {
        let mut params = Params::default();
        let is_form = headers
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        if is_form {
            params.add(body);
        }
        if let Some(q) = query {
            params.add(q.as_bytes());
        }
        params
    }

    fn add(&mut self, encoded: &[u8]) {
        for (k, v) in form_urlencoded::parse(encoded) {
            self.values
                .entry(k.into_owned())
                .or_default()
                .push(v.into_owned());
        }
    }

    /// The first value of `name`.
    pub(crate) fn get(&self, name: &str) -> Option<String> {
        self.values.get(name).and_then(|v| v.first()).cloned()
    }

    /// Every value of `name`.
    pub(crate) fn all(&self, name: &str) -> &[String] {
        self.values.get(name).map(Vec::as_slice).unwrap_or(&[])
    }
}

/// The tenant of a request as Loki decides it: with auth off every request
/// is tenant `fake` whatever it sends; with auth on `X-Scope-OrgID` is
/// required (401 `no org id`). Several tenants joined by `|` are one
/// federated query in Loki; here they are refused as not supported.
pub(crate) fn tenant(headers: &HeaderMap, auth_enabled: bool) -> Result<String, ApiError> {
    if !auth_enabled {
        return Ok(FAKE_TENANT.to_owned());
    }
    let id = headers
        .get("X-Scope-OrgID")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .unwrap_or("");
    if id.is_empty() {
        return Err(ApiError::unauthorized("no org id"));
    }
    if id.contains('|') {
        return Err(ApiError::plain(
            400,
            "multiple org IDs present: queries across tenants are not supported",
        ));
    }
    if id.len() > 150 || id.contains(['/', '\\']) || id == "." || id == ".." {
        return Err(ApiError::plain(
            400,
            format!("tenant ID '{id}' contains unsupported character"),
        ));
    }
    Ok(id.to_owned())
}

/// The single tenant's id when auth is off (Loki's).
pub const FAKE_TENANT: &str = "fake";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_comes_before_the_query_string() {
        let mut headers = HeaderMap::new();
        headers.insert(
            axum::http::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded".parse().unwrap(),
        );
        let p = Params::parse(Some("a=2&m=x"), &headers, b"a=1&m=y");
        assert_eq!(p.get("a").as_deref(), Some("1"));
        assert_eq!(p.all("m"), ["y", "x"]);
        assert_eq!(p.get("none"), None);
    }

    #[test]
    fn tenants_follow_auth() {
        let mut headers = HeaderMap::new();
        assert_eq!(tenant(&headers, false).unwrap(), "fake");
        assert_eq!(tenant(&headers, true).unwrap_err().status, 401);
        headers.insert("X-Scope-OrgID", "team-a".parse().unwrap());
        assert_eq!(tenant(&headers, true).unwrap(), "team-a");
        assert_eq!(tenant(&headers, false).unwrap(), "fake");
        headers.insert("X-Scope-OrgID", "../x".parse().unwrap());
        assert_eq!(tenant(&headers, true).unwrap_err().status, 400);
    }
}
