//! What the log store's integration tests share: the recorded Loki answers,
//! push bodies, and a real server on a free loopback port.

// Each test binary uses its own part of this module, and its items are
// `pub` for the binaries that include it.
#![allow(dead_code, unreachable_pub)]

use std::path::PathBuf;

use logstore::push::{ProtoEntry, ProtoLabelPair, ProtoPushRequest, ProtoStream, ProtoTimestamp};
use logstore::server::{LokiServer, ServerOptions};
use prost::Message;

pub const SEC: i64 = 1_000_000_000;
pub const JSON: Option<&str> = Some("application/json");
pub const PROTO: Option<&str> = Some("application/x-protobuf");

pub fn fixture_dir() -> PathBuf {
    testkit::shared_dir().join("fixtures/loki-api")
}

/// The final response of a recording: status code and body (without the
/// `100 Continue` that precedes some).
pub fn recorded(name: &str) -> (u16, String) {
    let path = fixture_dir().join(format!("{name}.txt"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let text = text.replace("\r\n", "\n");
    let start = text.rfind("HTTP/1.1 ").expect("a status line");
    let response = &text[start..];
    let status: u16 = response[9..12].parse().expect("a status code");
    let (head, body) = response.split_once("\n\n").unwrap_or((response, ""));
    let length = head
        .lines()
        .find_map(|l| l.strip_prefix("Content-Length: "))
        .map(|n| n.trim().parse::<usize>().expect("a length"));
    let body = match length {
        Some(n) => body.get(..n).unwrap_or(body).to_owned(),
        None => String::new(),
    };
    (status, body)
}

/// A JSON push of one stream.
pub fn json_push(labels: &str, values: &str) -> Vec<u8> {
    format!(r#"{{"streams":[{{"stream":{labels},"values":[{values}]}}]}}"#).into_bytes()
}

/// A protobuf + snappy push of one stream, every entry with the
/// structured metadata `trace="t1"`.
pub fn proto_push(labels: &str, entries: &[(i64, &str)]) -> Vec<u8> {
    let req = ProtoPushRequest {
        streams: vec![ProtoStream {
            labels: labels.as_bytes().to_vec(),
            entries: entries
                .iter()
                .map(|&(ts, line)| ProtoEntry {
                    timestamp: Some(ProtoTimestamp {
                        seconds: ts / SEC,
                        nanos: (ts % SEC) as i32,
                    }),
                    line: line.as_bytes().to_vec(),
                    structured_metadata: vec![ProtoLabelPair {
                        name: b"trace".to_vec(),
                        value: b"t1".to_vec(),
                    }],
                })
                .collect(),
            hash: 0,
        }],
    };
    snap::raw::Encoder::new()
        .compress_vec(&req.encode_to_vec())
        .expect("snappy")
}

/// Now, in ns.
pub fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i64)
        .unwrap_or(0)
}

/// A running `vigil loki` on 127.0.0.1 with `config` (YAML), its data in
/// a temporary directory.
pub struct Server {
    pub server: Option<LokiServer>,
    pub url: String,
    pub client: reqwest::Client,
    pub dir: tempfile::TempDir,
}

impl Server {
    pub async fn start(config: &str) -> Server {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let file = dir.path().join("loki-config.yaml");
        std::fs::write(&file, config).expect("writing the config");
        Self::start_file(file, dir).await
    }

    pub async fn start_file(config_file: PathBuf, dir: tempfile::TempDir) -> Server {
        let options = ServerOptions {
            storage_path: Some(dir.path().join("data")),
            listen_address: Some("127.0.0.1".into()),
            listen_port: Some(0),
            ..ServerOptions::new(config_file)
        };
        let server = LokiServer::start(options).await.expect("the server starts");
        let url = format!("http://{}", server.addr());
        Server {
            server: Some(server),
            url,
            client: reqwest::Client::new(),
            dir,
        }
    }

    /// POSTs a push body; returns status and body.
    pub async fn push(
        &self,
        content_type: Option<&str>,
        encoding: Option<&str>,
        tenant: Option<&str>,
        body: Vec<u8>,
    ) -> (u16, String) {
        let mut request = self
            .client
            .post(format!("{}/loki/api/v1/push", self.url))
            .body(body);
        if let Some(ct) = content_type {
            request = request.header("Content-Type", ct);
        }
        if let Some(ce) = encoding {
            request = request.header("Content-Encoding", ce);
        }
        if let Some(t) = tenant {
            request = request.header("X-Scope-OrgID", t);
        }
        let response = request.send().await.expect("the push is answered");
        let status = response.status().as_u16();
        (status, response.text().await.unwrap_or_default())
    }

    /// GETs `path` with query parameters; returns status and body.
    pub async fn get(
        &self,
        path: &str,
        params: &[(&str, &str)],
        tenant: Option<&str>,
    ) -> (u16, String) {
        let mut request = self.client.get(format!("{}{path}", self.url)).query(params);
        if let Some(t) = tenant {
            request = request.header("X-Scope-OrgID", t);
        }
        let response = request.send().await.expect("the request is answered");
        let status = response.status().as_u16();
        (status, response.text().await.unwrap_or_default())
    }

    /// Shuts the server down cleanly and starts it again on the same
    /// config and data.
    pub async fn restart(mut self) -> Server {
        if let Some(server) = self.server.take() {
            server.shutdown().await.expect("a clean shutdown");
        }
        let file = self.dir.path().join("loki-config.yaml");
        Server::start_file(file, self.dir).await
    }

    pub async fn stop(mut self) {
        if let Some(server) = self.server.take() {
            server.shutdown().await.expect("a clean shutdown");
        }
    }
}

/// A config for tests: auth as given, old samples accepted (the recorded
/// data is from 2026-11-24), the rest Loki's defaults.
pub fn test_config(auth_enabled: bool, extra_limits: &str) -> String {
    format!(
        "auth_enabled: {auth_enabled}\nserver:\n  http_listen_port: 3100\nlimits_config:\n  reject_old_samples: false\n{extra_limits}"
    )
}
