//! What the dashboards server's HTTP tests share: a real server on
//! 127.0.0.1:0 with a fresh state directory, a client that keeps redirects
//! visible, and stub datasources answering recorded API bodies.

#![allow(dead_code)] // each test file uses a part of it

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use dashboard::auth::SecurityOptions;
use dashboard::datasource::{Datasource, Datasources};
use dashboard::provisioning::Provisioned;
use dashboard::server::{DashboardOptions, Dashboards};

/// A running server and its state directory.
pub(crate) struct Server {
    pub(crate) dashboards: Dashboards,
    pub(crate) client: reqwest::Client,
    _dir: tempfile::TempDir,
}

impl Server {
    pub(crate) async fn start(security: SecurityOptions) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let dashboards = Dashboards::start(DashboardOptions {
            http_addr: "127.0.0.1:0".parse().unwrap(),
            data_dir: dir.path().join("grafana"),
            provisioning_dir: None,
            security,
        })
        .await
        .unwrap();
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .build()
            .unwrap();
        Server {
            dashboards,
            client,
            _dir: dir,
        }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.dashboards.addr())
    }

    /// The origin a browser on this server sends.
    pub(crate) fn origin(&self) -> String {
        format!("http://{}", self.dashboards.addr())
    }

    pub(crate) fn provision(&self, list: Vec<Datasource>) {
        // Provisioning gains fields (dashboards, folders) in another lane:
        // the rest stays default whatever they are.
        #[allow(clippy::needless_update)]
        self.dashboards.state().set_provisioned(Provisioned {
            datasources: Datasources::new(list),
            ..Default::default()
        });
    }

    /// `POST /login` with JSON; the status, body and the session cookie.
    pub(crate) async fn login(
        &self,
        user: &str,
        password: &str,
    ) -> (u16, serde_json::Value, Option<String>) {
        let response = self
            .client
            .post(self.url("/login"))
            .header("content-type", "application/json")
            .header("origin", self.origin())
            .body(serde_json::json!({"user": user, "password": password}).to_string())
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let cookie = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("grafana_session="))
            .map(|v| v.split(';').next().unwrap().to_owned());
        let body = response.json().await.unwrap_or(serde_json::Value::Null);
        (status, body, cookie)
    }

    /// Logs in, panicking unless it works; the `Cookie` header value.
    pub(crate) async fn session(&self, user: &str, password: &str) -> String {
        let (status, body, cookie) = self.login(user, password).await;
        assert_eq!(status, 200, "{body}");
        cookie.expect("a session cookie")
    }

    pub(crate) async fn get(&self, path: &str, cookie: Option<&str>) -> (u16, String) {
        let mut request = self.client.get(self.url(path));
        if let Some(c) = cookie {
            request = request.header("cookie", c);
        }
        let response = request.send().await.unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    }

    pub(crate) async fn post_json(
        &self,
        path: &str,
        cookie: &str,
        body: serde_json::Value,
    ) -> (u16, serde_json::Value) {
        let response = self
            .client
            .post(self.url(path))
            .header("cookie", cookie)
            .header("origin", self.origin())
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (
            status,
            response.json().await.unwrap_or(serde_json::Value::Null),
        )
    }
}

/// A datasource of `kind` at `url`.
pub(crate) fn datasource(uid: &str, kind: &str, url: &str) -> Datasource {
    Datasource {
        id: 1,
        uid: uid.into(),
        name: uid.to_uppercase(),
        kind: kind.into(),
        access: "proxy".into(),
        url: url.into(),
        is_default: false,
        basic_auth: false,
        basic_auth_user: String::new(),
        with_credentials: false,
        json_data: serde_json::Map::new(),
        secure_json_data: BTreeMap::new(),
        read_only: true,
        version: 1,
    }
}

pub(crate) fn fixtures() -> PathBuf {
    testkit::shared_dir().join("fixtures")
}

/// A recorded Prometheus API body (`prometheus-api/<name>`).
pub(crate) fn prometheus_fixture(name: &str) -> String {
    std::fs::read_to_string(fixtures().join("prometheus-api").join(name)).unwrap()
}

/// A recorded Loki answer (`loki-api/<name>`, a raw HTTP response): its
/// status and body.
pub(crate) fn loki_fixture(name: &str) -> (u16, String) {
    let text = std::fs::read_to_string(fixtures().join("loki-api").join(name)).unwrap();
    let (head, body) = text
        .split_once("\r\n\r\n")
        .or_else(|| text.split_once("\n\n"))
        .unwrap();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap();
    (status, body.to_owned())
}

/// One request a stub datasource received.
#[derive(Debug, Clone)]
pub(crate) struct Received {
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) query: String,
    pub(crate) headers: HeaderMap,
    pub(crate) body: String,
}

impl Received {
    /// A parameter of the query string or the form body.
    pub(crate) fn param(&self, name: &str) -> Option<String> {
        let from_query: Vec<(String, String)> =
            serde_urlencoded::from_str(&self.query).unwrap_or_default();
        let from_body: Vec<(String, String)> =
            serde_urlencoded::from_str(&self.body).unwrap_or_default();
        from_query
            .into_iter()
            .chain(from_body)
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }
}

/// A stub datasource: answers by path from `routes` (path -> status,
/// body), 404 otherwise, and records every request.
pub(crate) struct Stub {
    pub(crate) addr: SocketAddr,
    pub(crate) received: Arc<Mutex<Vec<Received>>>,
    task: tokio::task::JoinHandle<()>,
}

type Answers = Arc<BTreeMap<String, (u16, String)>>;

impl Stub {
    pub(crate) async fn start(routes: Vec<(&str, u16, String)>) -> Stub {
        let answers: Answers = Arc::new(
            routes
                .into_iter()
                .map(|(p, s, b)| (p.to_owned(), (s, b)))
                .collect(),
        );
        let received = Arc::new(Mutex::new(Vec::new()));
        let app = Router::new()
            .fallback(answer)
            .with_state((answers, received.clone()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Stub {
            addr,
            received,
            task,
        }
    }

    pub(crate) fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub(crate) fn requests(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

impl Drop for Stub {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn answer(
    State((answers, received)): State<(Answers, Arc<Mutex<Vec<Received>>>)>,
    request: Request,
) -> Response {
    let (parts, body) = request.into_parts();
    let body: Bytes = axum::body::to_bytes(body, 1 << 20)
        .await
        .unwrap_or_default();
    received.lock().unwrap().push(Received {
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().unwrap_or("").to_owned(),
        headers: parts.headers.clone(),
        body: String::from_utf8_lossy(&body).into_owned(),
    });
    match answers.get(parts.uri.path()) {
        Some((status, body)) => (
            StatusCode::from_u16(*status).unwrap(),
            [("content-type", "application/json")],
            body.clone(),
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "404 page not found").into_response(),
    }
}
