//! The datasource proxy: read paths forwarded with the datasource's
//! credentials, everything else refused.

mod common;

use common::{Server, Stub, datasource, loki_fixture, prometheus_fixture};
use dashboard::auth::SecurityOptions;

async fn setup() -> (Server, String, Stub, Stub) {
    let prom = Stub::start(vec![
        (
            "/api/v1/query",
            200,
            prometheus_fixture("query_vector.json"),
        ),
        ("/api/v1/labels", 200, prometheus_fixture("labels.json")),
        (
            "/api/v1/label/job/values",
            200,
            prometheus_fixture("label_values.json"),
        ),
    ])
    .await;
    let (status, labels) = loki_fixture("labels.txt");
    let loki = Stub::start(vec![("/loki/api/v1/labels", status, labels)]).await;
    let server = Server::start(SecurityOptions::default()).await;
    let mut p = datasource("prom", "prometheus", &format!("{}/", prom.url()));
    p.id = 7;
    p.basic_auth = true;
    p.basic_auth_user = "scraper".into();
    p.secure_json_data
        .insert("basicAuthPassword".into(), "pw".into());
    p.json_data
        .insert("httpHeaderName1".into(), "X-Scope-OrgID".into());
    p.secure_json_data
        .insert("httpHeaderValue1".into(), "tenant-a".into());
    let mut l = datasource("loki", "loki", &loki.url());
    l.id = 8;
    server.provision(vec![p, l]);
    let cookie = server.session("admin", "admin").await;
    (server, cookie, prom, loki)
}

#[tokio::test]
async fn read_paths_are_forwarded_with_the_datasources_credentials() {
    let (server, cookie, prom, _loki) = setup().await;
    let response = server
        .client
        .get(server.url("/api/datasources/proxy/uid/prom/api/v1/query?query=up&time=1795533224"))
        .header("cookie", &cookie)
        .header("authorization", "Bearer from-the-browser")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    assert_eq!(
        response.text().await.unwrap(),
        prometheus_fixture("query_vector.json")
    );
    let seen = prom.requests();
    assert_eq!(seen.len(), 1);
    let r = &seen[0];
    assert_eq!(r.path, "/api/v1/query");
    assert_eq!(r.query, "query=up&time=1795533224");
    // basic auth "scraper:pw", the custom header, never the browser's cookie.
    assert_eq!(r.headers["authorization"], "Basic c2NyYXBlcjpwdw==");
    assert_eq!(r.headers["x-scope-orgid"], "tenant-a");
    assert!(!r.headers.contains_key("cookie"));
}

#[tokio::test]
async fn posts_and_the_numeric_id_route_are_forwarded() {
    let (server, cookie, prom, loki) = setup().await;
    let response = server
        .client
        .post(server.url("/api/datasources/proxy/7/api/v1/query"))
        .header("cookie", &cookie)
        .header("origin", server.origin())
        .header("content-type", "application/x-www-form-urlencoded")
        .body("query=up")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let r = &prom.requests()[0];
    assert_eq!((r.method.as_str(), r.body.as_str()), ("POST", "query=up"));
    assert_eq!(
        r.headers["content-type"],
        "application/x-www-form-urlencoded"
    );

    let (status, body) = server
        .get(
            "/api/datasources/proxy/uid/loki/loki/api/v1/labels",
            Some(&cookie),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(body, loki_fixture("labels.txt").1);
    assert_eq!(loki.requests()[0].path, "/loki/api/v1/labels");
}

#[tokio::test]
async fn an_upstream_error_status_is_passed_through() {
    let (server, cookie, _prom, _loki) = setup().await;
    // The stub has no /api/v1/series: it answers 404.
    let (status, body) = server
        .get(
            "/api/datasources/proxy/uid/prom/api/v1/series",
            Some(&cookie),
        )
        .await;
    assert_eq!((status, body.as_str()), (404, "404 page not found"));
}

#[tokio::test]
async fn paths_outside_the_read_api_are_refused() {
    let (server, cookie, prom, loki) = setup().await;
    for (path, want) in [
        (
            "/api/datasources/proxy/uid/prom/api/v1/admin/tsdb/delete_series",
            403,
        ),
        ("/api/datasources/proxy/uid/prom/api/v1/write", 403),
        ("/api/datasources/proxy/uid/prom/-/quit", 403),
        ("/api/datasources/proxy/uid/prom/api/v1/status/config", 403),
        ("/api/datasources/proxy/uid/loki/loki/api/v1/push", 403),
        (
            "/api/datasources/proxy/uid/prom/api/v1/%2e%2e/%2e%2e/metrics",
            403,
        ),
        (
            "/api/datasources/proxy/uid/prom/api/v1/query%2f..%2f..%2fx",
            403,
        ),
        ("/api/datasources/proxy/uid/nope/api/v1/query", 404),
        ("/api/datasources/proxy/99/api/v1/query", 404),
    ] {
        let (status, body) = server.get(path, Some(&cookie)).await;
        assert_eq!(status, want, "{path}: {body}");
        let body: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert!(body["message"].is_string(), "{path}");
    }
    // `../` in the URL itself: whatever the client or router makes of it,
    // nothing reaches the datasource outside its read API.
    let raw = format!(
        "GET /api/datasources/proxy/uid/prom/api/v1/../../../etc/passwd HTTP/1.1\r\nHost: {}\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n",
        server.dashboards.addr()
    );
    let answer = raw_request(server.dashboards.addr(), &raw).await;
    assert!(!answer.starts_with("HTTP/1.1 200"), "{answer}");
    let (status, _) = server
        .get(
            "/api/datasources/proxy/uid/loki/loki/api/v1/tail",
            Some(&cookie),
        )
        .await;
    assert_eq!(status, 403);
    assert!(prom.requests().is_empty(), "{:?}", prom.requests());
    assert!(loki.requests().is_empty());
}

#[tokio::test]
async fn other_datasource_types_are_not_proxied() {
    let (server, cookie, _prom, _loki) = setup().await;
    server.provision(vec![datasource(
        "es",
        "elasticsearch",
        "http://127.0.0.1:9",
    )]);
    let (status, _) = server
        .get("/api/datasources/proxy/uid/es/_search", Some(&cookie))
        .await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn an_unreachable_datasource_is_a_502() {
    let server = Server::start(SecurityOptions::default()).await;
    // A port that was just free: nothing listens there.
    let free = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    server.provision(vec![datasource(
        "prom",
        "prometheus",
        &format!("http://{free}"),
    )]);
    let cookie = server.session("admin", "admin").await;
    let (status, body) = server
        .get(
            "/api/datasources/proxy/uid/prom/api/v1/labels",
            Some(&cookie),
        )
        .await;
    assert_eq!(status, 502, "{body}");
}

#[tokio::test]
async fn the_proxy_needs_a_login() {
    let (server, _cookie, prom, _loki) = setup().await;
    let (status, _) = server
        .get("/api/datasources/proxy/uid/prom/api/v1/labels", None)
        .await;
    assert_eq!(status, 401);
    assert!(prom.requests().is_empty());
}

async fn raw_request(addr: std::net::SocketAddr, request: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn a_datasource_that_never_answers_is_a_504() {
    // Connections complete in the listen backlog; nothing ever answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let mut ds = datasource(
        "slow",
        "prometheus",
        &format!("http://{}", silent.local_addr().unwrap()),
    );
    ds.json_data
        .insert("timeout".into(), serde_json::json!(0.3));
    let server = Server::start(SecurityOptions::default()).await;
    server.provision(vec![ds]);
    let cookie = server.session("admin", "admin").await;
    let (status, body) = server
        .get(
            "/api/datasources/proxy/uid/slow/api/v1/labels",
            Some(&cookie),
        )
        .await;
    assert_eq!(status, 504, "{body}");
    let (status, body) = server
        .post_json(
            "/api/ds/query",
            &cookie,
            serde_json::json!({"from": "0", "to": "3600000", "queries": [{"refId": "A", "expr": "up"}]}),
        )
        .await;
    assert_eq!(status, 207, "{body}");
    assert_eq!(body["results"]["A"]["status"], 504);
    drop(silent);
}
