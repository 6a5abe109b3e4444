//! The recorded run of the real Promtail 2.8 tailing two files
//! (`../shared/conformance/golden/promtail-files/`), replayed through the
//! whole agent into our log store: the same entries (labels with
//! `filename`, timestamps, lines), the partial last line held back, and
//! the same positions file.

mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use agent::service::{Agent, AgentOptions};
use support::Store;

fn golden(name: &str) -> String {
    let path = testkit::shared_dir()
        .join("conformance/golden/promtail-files")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// One recorded entry: labels, time, line.
type Recorded = (BTreeMap<String, String>, i64, String);

/// `output.jsonl` with `{dir}` replaced.
fn recorded_entries(dir: &Path) -> Vec<Recorded> {
    let dir = dir.display().to_string();
    let mut out: Vec<Recorded> = golden("output.jsonl")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("a JSON line");
            let labels = v["labels"]
                .as_object()
                .expect("labels")
                .iter()
                .map(|(k, x)| {
                    let value = x.as_str().expect("a label value").replace("{dir}", &dir);
                    (k.clone(), value)
                })
                .collect();
            let ts = v["ts_ns"]
                .as_str()
                .and_then(|t| t.parse().ok())
                .expect("ts_ns");
            (labels, ts, v["line"].as_str().expect("line").to_owned())
        })
        .collect();
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_files_are_tailed_as_promtail_tailed_them() {
    let store = Store::start(false).await;
    let dir = tempfile::tempdir().expect("a directory");
    let logs = dir.path().join("logs");
    std::fs::create_dir(&logs).expect("created");
    for name in ["a.log", "b.log"] {
        std::fs::write(logs.join(name), golden(name)).expect("written");
    }
    // The recorded config as it ran, pointed at this run's directory and
    // store; its own server port is replaced by a free one.
    let config_text = golden("config.yaml")
        .replace("{dir}", &dir.path().display().to_string())
        .replace("http://127.0.0.1:35323/loki/api/v1/push", &store.push_url());
    let config = dir.path().join("config.yaml");
    std::fs::write(&config, config_text).expect("written");
    let agent = Agent::start(AgentOptions {
        config_file: config.display().to_string(),
        listen: Some("127.0.0.1:0".parse().expect("an address")),
        ..AgentOptions::default()
    })
    .await
    .expect("the agent starts");

    let want = recorded_entries(dir.path());
    let (start, end) = (
        want[0].1 - 1_000_000_000,
        want[want.len() - 1].1 + 1_000_000_000,
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    let got = loop {
        let streams = store
            .query(None, r#"{job="fast-api-logs"}"#, start, end)
            .await;
        let mut got: Vec<Recorded> = streams
            .into_iter()
            .flat_map(|(labels, values)| {
                values
                    .into_iter()
                    .map(move |(ts, line)| (labels.clone(), ts, line))
            })
            .collect();
        got.sort();
        if got.len() >= want.len() || Instant::now() > deadline {
            break got;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(got, want);

    // Positions are saved every `sync_period` (1s here) and at shutdown:
    // `b.log`'s offset is the end of its last complete line, not of the
    // file, exactly as Promtail recorded.
    agent.shutdown().await.expect("the agent stops");
    let positions = std::fs::read_to_string(dir.path().join("positions.yaml")).expect("saved");
    let want_positions =
        golden("positions.yaml").replace("{dir}", &dir.path().display().to_string());
    assert_eq!(positions.trim_end(), want_positions.trim_end());
}
