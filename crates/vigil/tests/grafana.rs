//! `vigil grafana` as a user runs it: the reference provisioning folder
//! unchanged, SIGHUP re-reading it, SIGTERM stopping it.

mod common;

use std::ffi::OsStr;
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal, kill_process};

async fn get(client: &reqwest::Client, url: &str) -> serde_json::Value {
    let response = client
        .get(url)
        .basic_auth("admin", Some("admin"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{url}");
    serde_json::from_slice(&response.bytes().await.unwrap()).unwrap()
}

fn names(list: &serde_json::Value, key: &str) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|d| d[key].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn grafana_serves_the_reference_folder_and_reloads_on_sighup() {
    let dir = tempfile::tempdir().unwrap();
    let provisioning = dir.path().join("provisioning");
    let reference = testkit::shared_dir().join("reference/config/grafana");
    // The reference files, linked rather than copied, beside room for one
    // file of the test's own.
    for file in [
        "datasources/metrics-datasources.yml",
        "dashboards/default.yml",
    ] {
        let link = provisioning.join(file);
        std::fs::create_dir_all(link.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(reference.join(file), link).unwrap();
    }
    let data = dir.path().join("data");
    let (running, url) = common::start_grafana(&[
        OsStr::new("--provisioning"),
        provisioning.as_os_str(),
        OsStr::new("--http-addr"),
        OsStr::new("127.0.0.1:0"),
        OsStr::new("--data"),
        data.as_os_str(),
        OsStr::new("-homepath"),
        OsStr::new("/usr/share/grafana"),
    ]);
    let runtime = common::runtime();
    let client = reqwest::Client::new();
    runtime.block_on(async {
        let health = get(&client, &format!("{url}/api/health")).await;
        assert_eq!(health["database"], "ok");
        let datasources = get(&client, &format!("{url}/api/datasources")).await;
        assert_eq!(names(&datasources, "name"), ["Loki", "Prometheus"]);
        let folders = get(&client, &format!("{url}/api/search?type=dash-folder")).await;
        assert_eq!(names(&folders, "title"), ["Fast API Metrics"]);
    });
    assert!(data.join("grafana.db").exists(), "state in --data");

    std::fs::write(
        provisioning.join("datasources/extra.yaml"),
        "apiVersion: 1\ndatasources:\n  - name: Extra\n    type: prometheus\n    url: http://127.0.0.1:1\n",
    )
    .unwrap();
    let pid = Pid::from_raw(running.pid() as i32).unwrap();
    kill_process(pid, Signal::HUP).unwrap();
    runtime.block_on(async {
        let started = Instant::now();
        loop {
            let list = get(&client, &format!("{url}/api/datasources")).await;
            if names(&list, "name").contains(&"Extra".to_owned()) {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "SIGHUP did not reload"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    kill_process(pid, Signal::TERM).unwrap();
    let mut running = running;
    let started = Instant::now();
    let status = loop {
        if let Some(status) = running_status(&mut running) {
            break status;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "did not stop");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "exit status {status}");
}

fn running_status(running: &mut common::Running) -> Option<std::process::ExitStatus> {
    running.try_wait()
}
