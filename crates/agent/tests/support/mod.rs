//! What the agent's integration tests share: our log store on loopback, as
//! the store the agent pushes to, and a query of what it holds.

#![allow(dead_code)] // Each test binary uses a part of it.

use std::collections::BTreeMap;

use logstore::server::{LokiServer, ServerOptions};

/// A log store on 127.0.0.1 with its data in a temporary directory.
pub(crate) struct Store {
    pub(crate) server: LokiServer,
    _dir: tempfile::TempDir,
}

/// A stream's labels and its `(ts_ns, line)` entries.
pub(crate) type Stream = (BTreeMap<String, String>, Vec<(i64, String)>);

impl Store {
    /// Starts a store with `auth_enabled` as given; old samples are
    /// accepted, so recorded timestamps can be pushed.
    pub(crate) async fn start(auth_enabled: bool) -> Store {
        let dir = tempfile::tempdir().expect("a directory");
        let file = dir.path().join("loki-config.yaml");
        std::fs::write(
            &file,
            format!("auth_enabled: {auth_enabled}\nlimits_config:\n  reject_old_samples: false\n"),
        )
        .expect("written");
        let options = ServerOptions {
            storage_path: Some(dir.path().join("data")),
            listen_address: Some("127.0.0.1".into()),
            listen_port: Some(0),
            ..ServerOptions::new(file)
        };
        let server = LokiServer::start(options).await.expect("the store starts");
        Store { server, _dir: dir }
    }

    /// The push endpoint.
    pub(crate) fn push_url(&self) -> String {
        format!("http://{}/loki/api/v1/push", self.server.addr())
    }

    /// Every stream `query` selects for `tenant` (none: no header) between
    /// `start_ns` and `end_ns`, sorted.
    pub(crate) async fn query(
        &self,
        tenant: Option<&str>,
        query: &str,
        start_ns: i64,
        end_ns: i64,
    ) -> Vec<Stream> {
        let url = format!("http://{}/loki/api/v1/query_range", self.server.addr());
        let mut request = reqwest::Client::new().get(url).query(&[
            ("query", query),
            ("start", &start_ns.to_string()),
            ("end", &end_ns.to_string()),
            ("direction", "forward"),
            ("limit", "5000"),
        ]);
        if let Some(tenant) = tenant {
            request = request.header("X-Scope-OrgID", tenant);
        }
        let body = request
            .send()
            .await
            .expect("answered")
            .text()
            .await
            .expect("a body");
        let response: serde_json::Value =
            serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"));
        let mut out: Vec<Stream> = Vec::new();
        for stream in response["data"]["result"].as_array().expect("streams") {
            let labels = serde_json::from_value(stream["stream"].clone()).expect("labels");
            let values = stream["values"]
                .as_array()
                .expect("values")
                .iter()
                .map(|v| {
                    let ts = v[0].as_str().and_then(|t| t.parse().ok()).expect("a time");
                    (ts, v[1].as_str().expect("a line").to_owned())
                })
                .collect();
            out.push((labels, values));
        }
        out.sort();
        out
    }
}
