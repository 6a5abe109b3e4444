//! The content API through a real server on 127.0.0.1:0: health, search,
//! dashboards by uid, saving (versions, provisioned ones), deleting,
//! folders, datasources without their secrets, frontend settings, the
//! rescan task, and the web UI's files.
//!
//! Every request carries basic auth for the default admin and writes a
//! same-origin `Origin`, so the tests hold once logins are required.

use std::path::Path;
use std::time::Duration;

use dashboard::auth::SecurityOptions;
use dashboard::server::{DashboardOptions, Dashboards};
use reqwest::StatusCode;
use serde_json::{Value, json};

struct Server {
    server: Option<Dashboards>,
    base: String,
    http: reqwest::Client,
    _data: tempfile::TempDir,
    provisioning: tempfile::TempDir,
}

fn write(root: &Path, files: &[(&str, &str)]) {
    for (path, text) in files {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}

impl Server {
    async fn start() -> Server {
        Server::start_with(SecurityOptions::default()).await
    }

    async fn start_with(security: SecurityOptions) -> Server {
        let provisioning = tempfile::tempdir().unwrap();
        let fixtures = testkit::shared_dir().join("fixtures/dashboards");
        write(
            provisioning.path(),
            &[
                (
                    "datasources/ds.yml",
                    "apiVersion: 1\ndatasources:\n  - name: Prometheus\n    type: prometheus\n    uid: prom\n    url: http://127.0.0.1:9\n    isDefault: true\n    basicAuth: true\n    basicAuthUser: reader\n    jsonData:\n      timeInterval: 15s\n    secureJsonData:\n      basicAuthPassword: top-secret\n  - name: Loki\n    type: loki\n    uid: loki\n    url: http://127.0.0.1:9\n    password: also-secret\n",
                ),
                (
                    "dashboards/providers.yml",
                    &format!(
                        "apiVersion: 1\nproviders:\n  - name: fixtures\n    folder: Fixtures\n    folderUid: fixtures\n    options:\n      path: {}\n  - name: editable\n    folder: Editable\n    allowUiUpdates: true\n    updateIntervalSeconds: 1\n    options:\n      path: editable\n",
                        fixtures.display()
                    ),
                ),
                (
                    "editable/e.json",
                    r#"{"title": "Editable One", "uid": "editable-one", "tags": ["b", "a"], "panels": []}"#,
                ),
            ],
        );
        let data = tempfile::tempdir().unwrap();
        let server = Dashboards::start(DashboardOptions {
            http_addr: "127.0.0.1:0".parse().unwrap(),
            data_dir: data.path().to_owned(),
            provisioning_dir: Some(provisioning.path().to_owned()),
            security,
        })
        .await
        .unwrap();
        let base = format!("http://{}", server.addr());
        Server {
            server: Some(server),
            base,
            // No transparent decompression: in a workspace build another
            // crate turns on reqwest's gzip feature, which would hide the
            // server's Content-Encoding from the assertions.
            http: reqwest::Client::builder().no_gzip().build().unwrap(),
            _data: data,
            provisioning,
        }
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .basic_auth("admin", Some("admin"))
            .send()
            .await
            .unwrap();
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .basic_auth("admin", Some("admin"))
            .header("Origin", &self.base)
            .header("X-Grafana-Org-Id", "1");
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn save(&self, body: Value) -> (StatusCode, Value) {
        self.send(reqwest::Method::POST, "/api/dashboards/db", Some(body))
            .await
    }

    async fn stop(mut self) {
        self.server.take().unwrap().shutdown().await.unwrap();
    }
}

fn titles(hits: &Value) -> Vec<String> {
    hits.as_array()
        .unwrap()
        .iter()
        .map(|h| h["title"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn health_answers_grafanas_shape() {
    let s = Server::start().await;
    let (status, body) = s.get("/api/health").await;
    assert_eq!(status, 200);
    assert_eq!(body["database"], "ok");
    assert!(body["version"].is_string() && body["commit"].is_string());
    s.stop().await;
}

#[tokio::test]
async fn search_lists_folders_first_then_dashboards_by_title() {
    let s = Server::start().await;
    let (status, all) = s.get("/api/search").await;
    assert_eq!(status, 200);
    let all_titles = titles(&all);
    assert_eq!(&all_titles[..2], ["Editable", "Fixtures"]);
    let dashboards = &all_titles[2..];
    let mut sorted = dashboards.to_vec();
    sorted.sort_by_key(|t| t.to_lowercase());
    assert_eq!(dashboards, sorted);
    // Every fixture dashboard plus the editable one.
    let fixtures = std::fs::read_dir(testkit::shared_dir().join("fixtures/dashboards"))
        .unwrap()
        .count();
    assert_eq!(dashboards.len(), fixtures + 1);

    let folder = &all[0];
    assert_eq!(folder["type"], "dash-folder");
    assert!(
        folder["url"]
            .as_str()
            .unwrap()
            .starts_with("/dashboards/f/")
    );
    let node = all
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["uid"] == "rYdddlPWk")
        .unwrap();
    assert_eq!(node["type"], "dash-db");
    assert_eq!(node["url"], "/d/rYdddlPWk/node-exporter-full");
    assert_eq!(node["uri"], "db/node-exporter-full");
    assert_eq!(node["folderUid"], "fixtures");
    assert_eq!(node["folderTitle"], "Fixtures");
    assert_eq!(node["folderUrl"], "/dashboards/f/fixtures/fixtures");
    assert_eq!(node["isStarred"], false);

    for (query, expected) in [
        (
            "?query=LOKI%20/",
            vec!["Loki / Logs", "Loki / Operational", "Loki / Reads"],
        ),
        ("?query=fix", vec!["Fixtures"]),
        ("?query=fix&type=dash-db", vec![]),
        ("?type=dash-folder", vec!["Editable", "Fixtures"]),
        (
            "?tag=Kubernetes&tag=Prometheus&query=pods",
            vec!["Kubernetes / Views / Pods"],
        ),
        ("?tag=a&starred=true", vec!["Editable One"]),
        (
            "?dashboardUIDs=logs,reads",
            vec!["Loki / Logs", "Loki / Reads"],
        ),
        ("?folderUIDs=general", vec!["Editable", "Fixtures"]),
        ("?query=node&limit=1&page=2", vec![]),
    ] {
        let (status, hits) = s.get(&format!("/api/search{query}")).await;
        assert_eq!(status, 200, "{query}");
        assert_eq!(titles(&hits), expected, "{query}");
    }
    // Tags are sorted in a hit.
    let (_, hits) = s.get("/api/search?query=editable%20one").await;
    assert_eq!(hits[0]["tags"], json!(["a", "b"]));
    s.stop().await;
}

#[tokio::test]
async fn a_dashboard_is_served_by_uid_with_its_meta() {
    let s = Server::start().await;
    let (status, body) = s.get("/api/dashboards/uid/rYdddlPWk").await;
    assert_eq!(status, 200);
    let dashboard = &body["dashboard"];
    assert_eq!(dashboard["title"], "Node Exporter Full");
    assert_eq!(dashboard["uid"], "rYdddlPWk");
    // Unmigrated: as the file has it.
    assert_eq!(dashboard["schemaVersion"], 41);
    let meta = &body["meta"];
    assert_eq!(meta["type"], "db");
    assert_eq!(meta["slug"], "node-exporter-full");
    assert_eq!(meta["url"], "/d/rYdddlPWk/node-exporter-full");
    assert_eq!(meta["folderUid"], "fixtures");
    assert_eq!(meta["folderTitle"], "Fixtures");
    assert_eq!(meta["provisioned"], true);
    assert_eq!(
        meta["provisionedExternalId"],
        "rfmoz-node-exporter-full.json"
    );
    assert_eq!(meta["canSave"], false);
    assert_eq!(meta["version"], 1);
    assert!(meta["updated"].as_str().unwrap().ends_with('Z'));

    let (status, body) = s.get("/api/dashboards/uid/nope").await;
    assert_eq!(status, 404);
    assert_eq!(body, json!({"message": "Dashboard not found"}));
    let (status, body) = s.get("/api/folders/nope").await;
    assert_eq!(status, 404);
    assert!(body["message"].is_string());
    s.stop().await;
}

#[tokio::test]
async fn saving_checks_versions_names_and_provisioning() {
    let s = Server::start().await;
    let (status, saved) = s
        .save(json!({"dashboard": {"title": "Mine", "panels": []}, "folderUid": "fixtures", "message": "first"}))
        .await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(saved["status"], "success");
    assert_eq!(saved["version"], 1);
    assert_eq!(saved["slug"], "mine");
    let uid = saved["uid"].as_str().unwrap().to_owned();
    assert_eq!(saved["url"], format!("/d/{uid}/mine"));

    let (status, body) = s.get(&format!("/api/dashboards/uid/{uid}")).await;
    assert_eq!(status, 200);
    assert_eq!(body["meta"]["provisioned"], false);
    assert_eq!(body["meta"]["canSave"], true);
    assert_eq!(body["meta"]["folderTitle"], "Fixtures");
    assert_eq!(body["dashboard"]["version"], 1);

    // An update from the current version.
    let (status, body) = s
        .save(json!({"dashboard": {"title": "Mine", "uid": uid, "version": 1, "panels": [{"id": 1}]}, "folderUid": "fixtures"}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["version"], 2);
    // A stale one.
    let (status, body) = s
        .save(json!({"dashboard": {"title": "Mine", "uid": uid, "version": 1}, "folderUid": "fixtures"}))
        .await;
    assert_eq!(status, 412);
    assert_eq!(body["status"], "version-mismatch");
    let (status, body) = s
        .save(json!({"dashboard": {"title": "Mine", "uid": uid, "version": 1}, "folderUid": "fixtures", "overwrite": true}))
        .await;
    assert_eq!((status, &body["version"]), (StatusCode::OK, &json!(3)));
    // The same title in the same folder under another uid.
    let (status, body) = s
        .save(json!({"dashboard": {"title": "mine"}, "folderUid": "fixtures"}))
        .await;
    assert_eq!(status, 412);
    assert_eq!(body["status"], "name-exists");

    for (request, message) in [
        (
            json!({"dashboard": {"title": "Node Exporter Full", "uid": "rYdddlPWk", "version": 1}}),
            "Cannot save provisioned dashboard",
        ),
        (
            json!({"dashboard": {"title": " "}}),
            "Dashboard title cannot be empty",
        ),
        (
            json!({"dashboard": {"title": "x", "uid": "a/b"}}),
            "uid contains illegal characters",
        ),
        (
            json!({"dashboard": {"title": "x"}, "folderUid": "nope"}),
            "Folder not found",
        ),
    ] {
        let (status, body) = s.save(request.clone()).await;
        assert_eq!(status, 400, "{request}");
        assert_eq!(body["message"], message, "{request}");
    }

    // A provider allowing UI updates: saved over the file's dashboard.
    let (status, body) = s
        .save(json!({"dashboard": {"title": "Edited", "uid": "editable-one", "version": 1}}))
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, body) = s.get("/api/dashboards/uid/editable-one").await;
    assert_eq!(body["dashboard"]["title"], "Edited");
    assert_eq!(body["meta"]["provisioned"], true);
    assert_eq!(body["meta"]["version"], 2);

    // Deleting: a saved one goes, a provisioned one stays.
    let (status, body) = s
        .send(
            reqwest::Method::DELETE,
            &format!("/api/dashboards/uid/{uid}"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["message"], "Dashboard Mine deleted");
    assert_eq!(s.get(&format!("/api/dashboards/uid/{uid}")).await.0, 404);
    let (status, _) = s
        .send(
            reqwest::Method::DELETE,
            "/api/dashboards/uid/rYdddlPWk",
            None,
        )
        .await;
    assert_eq!(status, 400);
    let (status, body) = s
        .send(reqwest::Method::POST, "/api/dashboards/db", None)
        .await;
    assert_eq!(status, 400, "{body}");
    s.stop().await;
}

#[tokio::test]
async fn folders_are_listed() {
    let s = Server::start().await;
    let (status, body) = s.get("/api/folders").await;
    assert_eq!(status, 200);
    assert_eq!(titles(&body), ["Editable", "Fixtures"]);
    assert_eq!(body[1]["uid"], "fixtures");
    let (status, folder) = s.get("/api/folders/fixtures").await;
    assert_eq!(status, 200);
    assert_eq!(folder["title"], "Fixtures");
    assert_eq!(folder["url"], "/dashboards/f/fixtures/fixtures");

    // Created through the API, then usable for saving.
    let (status, made) = s
        .send(
            reqwest::Method::POST,
            "/api/folders",
            Some(json!({"uid": "mine", "title": "My Folder"})),
        )
        .await;
    assert_eq!(status, 200, "{made}");
    assert_eq!(made["uid"], "mine");
    assert_eq!(made["url"], "/dashboards/f/mine/my-folder");
    let (_, body) = s.get("/api/folders").await;
    assert_eq!(titles(&body), ["Editable", "Fixtures", "My Folder"]);
    let (status, _) = s
        .save(json!({"dashboard": {"title": "In mine"}, "folderUid": "mine"}))
        .await;
    assert_eq!(status, 200);
    let (_, hits) = s.get("/api/search?folderUIDs=mine").await;
    assert_eq!(titles(&hits), ["In mine"]);
    for (request, code) in [
        (json!({"uid": "mine", "title": "Other"}), 409),
        (json!({"title": "fixtures"}), 409),
        (json!({"title": ""}), 400),
        (json!({"uid": "a b", "title": "x"}), 400),
    ] {
        let (status, body) = s
            .send(reqwest::Method::POST, "/api/folders", Some(request.clone()))
            .await;
        assert_eq!(status, code, "{request}: {body}");
        assert!(body["message"].is_string());
    }
    s.stop().await;
}

#[tokio::test]
async fn datasources_are_listed_without_their_secrets() {
    let s = Server::start().await;
    let (status, list) = s.get("/api/datasources").await;
    assert_eq!(status, 200);
    assert_eq!(titles_by(&list, "name"), ["Loki", "Prometheus"]);
    let text = list.to_string();
    assert!(!text.contains("secret"), "{text}");

    let (status, prom) = s.get("/api/datasources/uid/prom").await;
    assert_eq!(status, 200);
    assert_eq!(prom["name"], "Prometheus");
    assert_eq!(prom["type"], "prometheus");
    assert_eq!(prom["basicAuthUser"], "reader");
    assert_eq!(prom["jsonData"]["timeInterval"], "15s");
    assert_eq!(prom["secureJsonFields"], json!({"basicAuthPassword": true}));
    assert!(!prom.to_string().contains("top-secret"));
    let (_, loki) = s.get("/api/datasources/name/Loki").await;
    assert_eq!(loki["secureJsonFields"], json!({"password": true}));
    assert!(!loki.to_string().contains("also-secret"));
    let id = prom["id"].as_i64().unwrap();
    assert_eq!(
        s.get(&format!("/api/datasources/{id}")).await.1["uid"],
        "prom"
    );

    for path in [
        "/api/datasources/uid/nope",
        "/api/datasources/name/nope",
        "/api/datasources/99",
    ] {
        let (status, body) = s.get(path).await;
        assert_eq!(status, 404, "{path}");
        assert_eq!(body["message"], "Data source not found");
    }
    s.stop().await;
}

fn titles_by(list: &Value, key: &str) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|h| h[key].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn frontend_settings_name_the_datasources_and_the_default() {
    let s = Server::start().await;
    let (status, settings) = s.get("/api/frontend/settings").await;
    assert_eq!(status, 200);
    assert_eq!(settings["defaultDatasource"], "Prometheus");
    let prom = &settings["datasources"]["Prometheus"];
    assert_eq!(prom["uid"], "prom");
    assert_eq!(prom["type"], "prometheus");
    assert_eq!(prom["isDefault"], true);
    assert_eq!(prom["jsonData"]["timeInterval"], "15s");
    assert_eq!(settings["datasources"]["Loki"]["isDefault"], false);
    assert_eq!(settings["buildInfo"]["edition"], "vigil");
    assert_eq!(settings["anonymousEnabled"], false);
    assert!(!settings.to_string().contains("secret"));
    s.stop().await;
}

#[tokio::test]
async fn a_changed_file_is_seen_by_the_api_on_its_interval() {
    let s = Server::start().await;
    let (_, before) = s.get("/api/dashboards/uid/editable-one").await;
    assert_eq!(before["meta"]["version"], 1);
    write(
        s.provisioning.path(),
        &[(
            "editable/e.json",
            r#"{"title": "Editable Changed", "uid": "editable-one"}"#,
        )],
    );
    // The provider rescans every second; wait for it, without timing it.
    let mut seen = Value::Null;
    for _ in 0..300 {
        seen = s.get("/api/dashboards/uid/editable-one").await.1;
        if seen["meta"]["version"] == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(seen["meta"]["version"], 2, "{seen}");
    assert_eq!(seen["dashboard"]["title"], "Editable Changed");
    s.stop().await;
}

#[tokio::test]
async fn the_web_ui_is_served_with_caching_rules() {
    let s = Server::start().await;
    let http = &s.http;
    for page in [
        "/",
        "/login",
        "/dashboards",
        "/dashboards/f/fixtures/fixtures",
        "/d/rYdddlPWk/node-exporter-full",
        "/explore",
        "/profile/password",
    ] {
        let response = http
            .get(format!("{}{page}", s.base))
            .basic_auth("admin", Some("admin"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{page}");
        assert_eq!(response.headers()["cache-control"], "no-cache", "{page}");
        let html = response.text().await.unwrap();
        assert!(html.contains("<div id=\"app\">"), "{page}");
    }
    let html = http
        .get(format!("{}/", s.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    // index.html names this build's files; those are cached for good.
    let start = html.find("/public/app.js?v=").expect("a versioned app.js");
    let src = &html[start..html[start..].find('"').unwrap() + start];
    let response = http.get(format!("{}{src}", s.base)).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    let etag = response.headers()["etag"].clone();
    // Without the version: revalidated, 304 when unchanged.
    let response = http
        .get(format!("{}/public/app.js", s.base))
        .header("If-None-Match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 304);
    // Gzipped for a client that takes it.
    let response = http
        .get(format!("{}/public/app.js", s.base))
        .header("Accept-Encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["content-encoding"], "gzip");
    let response = http
        .get(format!("{}/public/nope.js", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    s.stop().await;
}

#[tokio::test]
async fn the_anonymous_viewer_may_look_but_not_change() {
    let s = Server::start_with(SecurityOptions {
        anonymous_enabled: true,
        ..SecurityOptions::default()
    })
    .await;
    let response = s
        .http
        .get(format!("{}/api/dashboards/uid/editable-one", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    for key in ["canSave", "canEdit", "canDelete"] {
        assert_eq!(body["meta"][key], false, "{key}");
    }
    // The same dashboard for the admin.
    let (_, body) = s.get("/api/dashboards/uid/editable-one").await;
    assert_eq!(body["meta"]["canSave"], true);
    s.stop().await;
}
