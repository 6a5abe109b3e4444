//! The log lines the API and the log generator write parse with the
//! reference Promtail config's own regexes, field by field.

use regex::Regex;

use crate::support::{start, url};

/// The two `regex` stage expressions of the reference Promtail config,
/// read from it: (module/function regex, request regex).
fn reference_regexes() -> (Regex, Regex) {
    let config = std::fs::read_to_string(
        testkit::shared_dir().join("reference/config/promtail-config.yaml"),
    )
    .expect("reference promtail config missing");
    let expressions: Vec<Regex> = config
        .lines()
        .filter_map(|l| l.trim().strip_prefix("expression: '")?.strip_suffix('\''))
        .map(|e| Regex::new(e).unwrap())
        .collect();
    assert_eq!(expressions.len(), 2, "expected two regex stages");
    let module = expressions
        .iter()
        .find(|r| r.as_str().contains("Module"))
        .unwrap()
        .clone();
    let request = expressions
        .iter()
        .find(|r| r.as_str().contains("Requested by"))
        .unwrap()
        .clone();
    (module, request)
}

const TIMESTAMP: &str = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$";

/// Checks one request line's fields; returns (method, uri, status).
fn check_request_line(re: &Regex, line: &str) -> (String, String, u16) {
    let caps = re
        .captures(line)
        .unwrap_or_else(|| panic!("request regex does not match {line:?}"));
    let timestamp = Regex::new(TIMESTAMP).unwrap();
    assert!(timestamp.is_match(&caps["timestamp"]), "{line}");
    chrono::DateTime::parse_from_rfc3339(&caps["timestamp"]).unwrap();
    let status: u16 = caps["status"].parse().unwrap();
    let level = &caps["log_level"];
    assert!(["INFO", "WARNING", "ERROR"].contains(&level), "{line}");
    caps["duration"].parse::<u64>().unwrap();
    assert!(!caps["requested_by"].trim().is_empty());
    (caps["method"].to_owned(), caps["uri"].to_owned(), status)
}

fn check_app_line(re: &Regex, line: &str) -> (String, String, String) {
    let caps = re
        .captures(line)
        .unwrap_or_else(|| panic!("module regex does not match {line:?}"));
    chrono::DateTime::parse_from_rfc3339(&caps["log_timestamp"]).unwrap();
    assert!(
        ["INFO", "WARNING", "ERROR"].contains(&&caps["log_level"]),
        "{line}"
    );
    assert!(!caps["message"].is_empty(), "{line}");
    (
        caps["module"].to_owned(),
        caps["function"].to_owned(),
        caps["log_level"].to_owned(),
    )
}

#[tokio::test]
async fn every_api_line_parses_with_a_reference_regex() {
    let (module_re, request_re) = reference_regexes();
    let (server, dir) = start(|_| {}).await;
    let client = reqwest::Client::new();
    let mut statuses = Vec::new();
    for (method, path) in demo::api::TEST_ENDPOINTS {
        for _ in 0..3 {
            let r = client
                .request(method.parse().unwrap(), url(&server, path))
                .send()
                .await
                .unwrap();
            statuses.push((method.to_owned(), path.to_owned(), r.status().as_u16()));
        }
    }
    client.get(url(&server, "/nope")).send().await.unwrap();
    statuses.push(("GET".into(), "/nope".into(), 404));
    server.shutdown().await.unwrap();

    let text = std::fs::read_to_string(dir.path().join("logs.log")).unwrap();
    let mut request_lines = Vec::new();
    let mut app_functions = Vec::new();
    for line in text.lines() {
        match (request_re.is_match(line), module_re.is_match(line)) {
            (true, false) => request_lines.push(check_request_line(&request_re, line)),
            (false, true) => app_functions.push(check_app_line(&module_re, line)),
            other => panic!("{line:?} matched {other:?}: every line must match exactly one regex"),
        }
    }
    assert_eq!(
        request_lines, statuses,
        "one request line per request, in order"
    );
    for (method, path) in demo::api::TEST_ENDPOINTS {
        let function = &path[1..];
        let n = app_functions
            .iter()
            .filter(|(m, f, _)| m == "demo::api" && f == function)
            .count();
        assert_eq!(n, 3, "{method} {path}");
    }
    assert!(text.lines().any(|l| l.contains("| Function: start|")));
    assert!(text.lines().any(|l| l.contains("| Function: shutdown|")));
}

#[tokio::test]
async fn levels_follow_statuses() {
    let (_, request_re) = reference_regexes();
    let (server, dir) = start(|c| c.status_weights = [0, 0, 1]).await;
    reqwest::get(url(&server, "/get_endpoint")).await.unwrap();
    reqwest::get(url(&server, "/nope")).await.unwrap();
    reqwest::get(url(&server, "/health")).await.unwrap();
    server.shutdown().await.unwrap();
    let text = std::fs::read_to_string(dir.path().join("logs.log")).unwrap();
    let levels: Vec<(String, String)> = text
        .lines()
        .filter_map(|l| request_re.captures(l))
        .map(|c| (c["status"].to_owned(), c["log_level"].to_owned()))
        .collect();
    assert_eq!(
        levels,
        [
            ("500".into(), "ERROR".into()),
            ("404".into(), "WARNING".into()),
            ("200".into(), "INFO".into())
        ]
    );
}

#[tokio::test]
async fn every_loggen_line_parses_with_a_reference_regex() {
    let (module_re, request_re) = reference_regexes();
    let dir = tempfile::tempdir().unwrap();
    let config = demo::loggen::LoggenConfig {
        dir: dir.path().to_owned(),
        count: Some(400),
        rate: Some(1e6),
        seed: Some(7),
        ..Default::default()
    };
    let report = demo::loggen::run(&config, std::future::pending())
        .await
        .unwrap();
    assert_eq!(report.lines, 400);
    let logs = std::fs::read_to_string(dir.path().join("logs.log")).unwrap();
    let requests = std::fs::read_to_string(dir.path().join("requests.log")).unwrap();
    assert_eq!(logs.lines().count(), 400);
    assert_eq!(requests.lines().count() as u64, report.request_lines);
    assert!(
        report.request_lines > 100 && report.request_lines < 300,
        "both kinds of line are written"
    );
    let mut from_logs = Vec::new();
    for line in logs.lines() {
        if request_re.is_match(line) {
            let (method, uri, status) = check_request_line(&request_re, line);
            assert!(["GET", "POST", "PUT", "DELETE"].contains(&method.as_str()));
            assert!(
                ["api/vi/foo", "api/vi/bar", "api/vi/buz"].contains(&uri.as_str()),
                "{line}"
            );
            assert!([200, 400, 500].contains(&status));
            let duration: u64 = request_re.captures(line).unwrap()["duration"]
                .parse()
                .unwrap();
            assert!((100..=1500).contains(&duration), "{line}");
            assert!(line.contains("Requested by: Undefined Status"));
            from_logs.push(line.to_owned());
        } else {
            let (module, function, _) = check_app_line(&module_re, line);
            assert!(
                ["module_1", "module_2", "module_3"].contains(&module.as_str()),
                "{line}"
            );
            assert!(
                ["function_1", "function_2", "function_3"].contains(&function.as_str()),
                "{line}"
            );
        }
    }
    let from_requests: Vec<String> = requests.lines().map(str::to_owned).collect();
    assert_eq!(from_logs, from_requests, "request lines go to both files");
}

#[tokio::test]
async fn loggen_content_is_deterministic_with_a_seed() {
    let run = |seed| async move {
        let dir = tempfile::tempdir().unwrap();
        let config = demo::loggen::LoggenConfig {
            dir: dir.path().to_owned(),
            count: Some(50),
            rate: Some(1e6),
            seed: Some(seed),
            ..Default::default()
        };
        demo::loggen::run(&config, std::future::pending())
            .await
            .unwrap();
        // Drop the timestamps, which are the time of writing.
        std::fs::read_to_string(dir.path().join("logs.log"))
            .unwrap()
            .lines()
            .map(|l| l.split_once(" | ").unwrap().1.to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(run(1).await, run(1).await);
    assert_ne!(run(1).await, run(2).await);
}

#[tokio::test]
async fn api_log_rotates_by_size() {
    let (server, dir) = start(|c| c.log_file.rotate_bytes = Some(2_000)).await;
    let client = reqwest::Client::new();
    for _ in 0..60 {
        client.get(url(&server, "/health")).send().await.unwrap();
    }
    server.shutdown().await.unwrap();
    let live = std::fs::read_to_string(dir.path().join("logs.log")).unwrap();
    let rotated = std::fs::read_to_string(dir.path().join("logs.log.1")).unwrap();
    assert!(live.len() <= 2_000 && rotated.len() <= 2_000);
    assert!(
        rotated.len() > 1_500,
        "rotated file was filled up to the limit"
    );
    // Lines are whole in both files and none is lost across the cut.
    for text in [&live, &rotated] {
        assert!(text.ends_with('\n'));
        assert!(
            text.lines()
                .all(|l| l.ends_with(" ms") || l.contains("| Function: ")),
            "{text}"
        );
    }
}
