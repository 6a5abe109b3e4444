//! The datasource proxy: `/api/datasources/proxy/uid/<uid>/<path>` (and
//! Grafana's older `/api/datasources/proxy/<id>/<path>`) forwards a read
//! request to the datasource with the datasource's own credentials, so the
//! browser never sees them. Only the read API of Prometheus and Loki is
//! reachable: this must never become an open proxy.

use std::sync::OnceLock;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::auth::message;
use crate::datasource::Datasource;
use crate::server::AppState;

/// How long a datasource may take to answer (Grafana's default
/// `dataproxy.timeout`), unless its `jsonData.timeout` says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Largest request body forwarded (a long PromQL query in a POST form).
const MAX_REQUEST_BODY: usize = 4 * 1024 * 1024;

/// Why a request to a datasource failed before it answered.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    /// The HTTP client could not be built (TLS set-up).
    #[error("the HTTP client could not be set up: {0}")]
    Client(String),
    /// No answer within the timeout.
    #[error("the datasource did not answer within {0:?}")]
    Timeout(Duration),
    /// Connection refused, DNS, TLS, ...
    #[error("the datasource could not be reached: {0}")]
    Unreachable(String),
}

impl UpstreamError {
    /// Grafana's status for it: 504 for a timeout, else 502.
    pub fn status(&self) -> StatusCode {
        match self {
            UpstreamError::Timeout(_) => StatusCode::GATEWAY_TIMEOUT,
            _ => StatusCode::BAD_GATEWAY,
        }
    }

    pub(crate) fn from_reqwest(e: reqwest::Error, timeout: Duration) -> UpstreamError {
        if e.is_timeout() {
            UpstreamError::Timeout(timeout)
        } else {
            UpstreamError::Unreachable(error_chain(&e))
        }
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// The one HTTP client for datasources: rustls with the system's roots,
/// no proxy from the environment (a datasource URL is reached directly).
pub(crate) fn client() -> Result<&'static reqwest::Client, UpstreamError> {
    static CLIENT: OnceLock<Result<reqwest::Client, String>> = OnceLock::new();
    CLIENT
        .get_or_init(|| {
            let mut builder = reqwest::Client::builder()
                .use_rustls_tls()
                .no_proxy()
                .connect_timeout(Duration::from_secs(10));
            for cert in rustls_native_certs::load_native_certs().certs {
                if let Ok(cert) = reqwest::Certificate::from_der(cert.as_ref()) {
                    builder = builder.add_root_certificate(cert);
                }
            }
            builder.build().map_err(|e| error_chain(&e))
        })
        .as_ref()
        .map_err(|e| UpstreamError::Client(e.clone()))
}

/// The timeout for a datasource (`jsonData.timeout` in seconds).
pub(crate) fn timeout_of(ds: &Datasource) -> Duration {
    let seconds = match ds.json_data.get("timeout") {
        Some(serde_json::Value::Number(n)) => n.as_f64(),
        Some(serde_json::Value::String(s)) => s.trim().parse::<f64>().ok(),
        _ => None,
    };
    match seconds {
        Some(s) if s > 0.0 && s < 86_400.0 => Duration::from_secs_f64(s),
        _ => DEFAULT_TIMEOUT,
    }
}

/// `datasource.url` joined with `path` (no leading `/`).
pub(crate) fn upstream_url(ds: &Datasource, path: &str) -> String {
    format!(
        "{}/{}",
        ds.url.trim_end_matches('/'),
        path.trim_start_matches('/')
    )
}

/// Adds the datasource's credentials: basic auth (`basicAuthUser` +
/// `secureJsonData.basicAuthPassword`) and custom headers
/// (`jsonData.httpHeaderNameN` + `secureJsonData.httpHeaderValueN`).
pub(crate) fn with_credentials(
    ds: &Datasource,
    mut request: reqwest::RequestBuilder,
) -> reqwest::RequestBuilder {
    if ds.basic_auth {
        request = request.basic_auth(
            &ds.basic_auth_user,
            ds.secure_json_data.get("basicAuthPassword"),
        );
    }
    for n in 1.. {
        let Some(name) = ds
            .json_data
            .get(&format!("httpHeaderName{n}"))
            .and_then(|v| v.as_str())
        else {
            break;
        };
        let value = ds
            .secure_json_data
            .get(&format!("httpHeaderValue{n}"))
            .map(String::as_str)
            .unwrap_or("");
        request = request.header(name.trim(), value);
    }
    request
}

/// Whether `path` (decoded, without leading `/`) is in the read API of a
/// datasource of type `kind`.
pub fn is_read_path(kind: &str, path: &str) -> bool {
    let segments: Vec<&str> = path.split('/').collect();
    match kind {
        "prometheus" => match segments.as_slice() {
            ["api", "v1", "label", name, "values"] => !name.is_empty(),
            ["api", "v1", rest @ ..] => matches!(
                rest,
                ["query"]
                    | ["query_range"]
                    | ["series"]
                    | ["labels"]
                    | ["metadata"]
                    | ["query_exemplars"]
                    | ["rules"]
                    | ["status", "buildinfo"]
                    | ["format_query"]
            ),
            _ => false,
        },
        "loki" => match segments.as_slice() {
            ["loki", "api", "v1", "label", name, "values"] => !name.is_empty(),
            ["loki", "api", "v1", rest @ ..] => matches!(
                rest,
                ["query"]
                    | ["query_range"]
                    | ["labels"]
                    | ["label"]
                    | ["series"]
                    | ["index", "stats"]
                    | ["index", "volume"]
                    | ["index", "volume_range"]
                    | ["detected_labels"]
                    | ["detected_fields"]
                    | ["patterns"]
            ),
            _ => false,
        },
        _ => false,
    }
}

/// Whether the raw (still percent-encoded) path tries to leave the
/// datasource's API: `.` or `..` segments, or an encoded dot, slash or
/// backslash anywhere.
fn is_traversal(raw: &str, decoded: &str) -> bool {
    let lower = raw.to_ascii_lowercase();
    lower.contains("%2e")
        || lower.contains("%2f")
        || lower.contains("%5c")
        || decoded.contains('\\')
        || decoded.split('/').any(|s| s == ".." || s == ".")
}

/// The proxy's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/datasources/proxy/uid/{uid}/{*path}",
            get(by_uid).post(by_uid),
        )
        .route(
            "/api/datasources/proxy/{id}/{*path}",
            get(by_id).post(by_id),
        )
}

async fn by_uid(
    State(state): State<AppState>,
    Path((uid, path)): Path<(String, String)>,
    request: Request,
) -> Response {
    let provisioned = state.provisioned();
    match provisioned.datasources.by_uid(&uid) {
        Some(ds) => forward(ds.clone(), &path, request).await,
        None => message(StatusCode::NOT_FOUND, "Data source not found"),
    }
}

async fn by_id(
    State(state): State<AppState>,
    Path((id, path)): Path<(String, String)>,
    request: Request,
) -> Response {
    let provisioned = state.provisioned();
    let found = id
        .parse::<i64>()
        .ok()
        .and_then(|id| provisioned.datasources.all().iter().find(|d| d.id == id));
    match found {
        Some(ds) => forward(ds.clone(), &path, request).await,
        None => message(StatusCode::NOT_FOUND, "Data source not found"),
    }
}

async fn forward(ds: Datasource, path: &str, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let raw = parts.uri.path();
    if is_traversal(raw, path) {
        return message(
            StatusCode::FORBIDDEN,
            "path not allowed: it leaves the datasource's API",
        );
    }
    let path = path.trim_start_matches('/');
    if !is_read_path(&ds.kind, path) {
        return message(
            StatusCode::FORBIDDEN,
            &format!(
                "path not allowed: only the read API of a prometheus or loki datasource is proxied, not {:?} of a {} datasource",
                path, ds.kind
            ),
        );
    }
    let client = match client() {
        Ok(c) => c,
        Err(e) => return message(e.status(), &e.to_string()),
    };
    let mut url = upstream_url(&ds, path);
    if let Some(query) = parts.uri.query() {
        url.push('?');
        url.push_str(query);
    }
    let timeout = timeout_of(&ds);
    let method = if parts.method == Method::POST {
        reqwest::Method::POST
    } else {
        reqwest::Method::GET
    };
    let mut upstream = client.request(method, &url).timeout(timeout);
    // Only what describes the request is passed on: never the browser's
    // cookies or Authorization (the datasource gets its own credentials).
    for name in [header::CONTENT_TYPE, header::ACCEPT] {
        if let Some(v) = parts.headers.get(&name) {
            upstream = upstream.header(name.as_str(), v.as_bytes());
        }
    }
    if parts.method == Method::POST {
        match axum::body::to_bytes(body, MAX_REQUEST_BODY).await {
            Ok(bytes) => upstream = upstream.body(bytes),
            Err(_) => return message(StatusCode::PAYLOAD_TOO_LARGE, "request body too large"),
        }
    }
    let upstream = with_credentials(&ds, upstream);
    let answer = match upstream.send().await {
        Ok(a) => a,
        Err(e) => {
            let e = UpstreamError::from_reqwest(e, timeout);
            tracing::warn!(datasource = %ds.name, error = %e, "dashboards: proxy request failed");
            return message(e.status(), &e.to_string());
        }
    };
    let status = StatusCode::from_u16(answer.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
    let mut response = Response::builder().status(status);
    for name in [header::CONTENT_TYPE, header::CONTENT_ENCODING] {
        if let Some(v) = answer.headers().get(name.as_str()) {
            if let Ok(v) = HeaderValue::from_bytes(v.as_bytes()) {
                response = response.header(name, v);
            }
        }
    }
    response
        .body(Body::from_stream(answer.bytes_stream()))
        .unwrap_or_else(|_| StatusCode::BAD_GATEWAY.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_paths() {
        let cases = [
            ("prometheus", "api/v1/query", true),
            ("prometheus", "api/v1/query_range", true),
            ("prometheus", "api/v1/label/__name__/values", true),
            ("prometheus", "api/v1/label//values", false),
            ("prometheus", "api/v1/status/buildinfo", true),
            ("prometheus", "api/v1/status/config", false),
            ("prometheus", "api/v1/admin/tsdb/delete_series", false),
            ("prometheus", "api/v1/write", false),
            ("prometheus", "-/quit", false),
            ("prometheus", "loki/api/v1/query", false),
            ("loki", "loki/api/v1/query_range", true),
            ("loki", "loki/api/v1/label/job/values", true),
            ("loki", "loki/api/v1/index/volume", true),
            ("loki", "loki/api/v1/push", false),
            ("loki", "loki/api/v1/delete", false),
            ("loki", "api/v1/query", false),
            ("elasticsearch", "_search", false),
        ];
        for (kind, path, want) in cases {
            assert_eq!(is_read_path(kind, path), want, "{kind} {path}");
        }
    }

    #[test]
    fn traversal() {
        let cases = [
            (
                "/api/datasources/proxy/uid/p/api/v1/query",
                "api/v1/query",
                false,
            ),
            (
                "/api/datasources/proxy/uid/p/api/v1/../../x",
                "api/v1/../../x",
                true,
            ),
            (
                "/api/datasources/proxy/uid/p/api/v1/%2e%2e/x",
                "api/v1/../x",
                true,
            ),
            (
                "/api/datasources/proxy/uid/p/api/v1/a%2Fb",
                "api/v1/a/b",
                true,
            ),
            ("/api/datasources/proxy/uid/p/api/./v1", "api/./v1", true),
        ];
        for (raw, decoded, want) in cases {
            assert_eq!(is_traversal(raw, decoded), want, "{raw}");
        }
    }
}
