//! `vigil promtail` as a user runs it without a store: the reference
//! promtail-config.yaml unchanged with `--stdin --dry-run`, vigil's own
//! config with its mistakes fixed, and a bad config's error.

use std::io::Write as _;
use std::process::{Command, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

const VIGIL: &str = env!("CARGO_BIN_EXE_vigil");

const FUNCTION_LINE: &str = "2023-08-01T14:11:35.126Z | WARNING | Module: demo::api | Function: put_endpoint| Log message level WARNING";
const REQUEST_LINE: &str = "2023-08-01T14:11:32.107Z | ERROR | PUT /put_endpoint | Requested by: 127.0.0.1 Status: 500 Duration: 914 ms";

fn now_ns() -> i128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_nanos() as i128
}

/// Runs `vigil promtail <args> --stdin --dry-run` over `input`; returns the
/// printed entries as `(timestamp text, labels text, line)`.
fn dry_run(args: &[&str], input: &str) -> Vec<(String, String, String)> {
    let mut child = Command::new(VIGIL)
        .arg("promtail")
        .args(args)
        .args(["--stdin", "--dry-run"])
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("vigil starts");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("written");
    let output = child.wait_with_output().expect("vigil ends");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    String::from_utf8(output.stdout)
        .expect("text")
        .lines()
        .map(|l| {
            // `ts<pad>{labels}<pad>line`, as Promtail's tabwriter prints
            // it: a cell whose width is a multiple of 8 gets no tab, so the
            // timestamp may run straight into the labels.
            let start = l.find('{').expect("labels");
            let end = start + l[start..].find('}').expect("labels' end") + 1;
            let ts = l[..start].trim_end_matches('\t');
            let line = l[end..].trim_start_matches('\t');
            (ts.to_owned(), l[start..end].to_owned(), line.to_owned())
        })
        .collect()
}

/// Parses the dry-run layout `2006-01-02T15:04:05.999999999-0700` (always
/// `+0000` here) to ns.
fn parse_ts(text: &str) -> i128 {
    let utc = text.strip_suffix("+0000").expect("a UTC time");
    let (secs, frac) = utc.split_once('.').unwrap_or((utc, ""));
    let t = chrono::NaiveDateTime::parse_from_str(secs, "%Y-%m-%dT%H:%M:%S").expect("a time");
    let nanos: i128 = format!("{frac:0<9}").parse().expect("digits");
    i128::from(t.and_utc().timestamp()) * 1_000_000_000 + nanos
}

#[test]
fn the_reference_config_runs_unchanged_with_its_quirks() {
    let reference = testkit::shared_dir().join("reference/config/promtail-config.yaml");
    let before = now_ns();
    let out = dry_run(
        &[&format!("-config.file={}", reference.display())],
        &format!("{FUNCTION_LINE}\n\n{REQUEST_LINE}\n"),
    );
    let after = now_ns();
    assert_eq!(out.len(), 2, "{out:?}");
    // A function line: the first regex's fields as labels, and its time.
    assert_eq!(out[0].0, "2023-08-01T14:11:35.126+0000");
    assert_eq!(
        out[0].1,
        r#"{env="dev", function="put_endpoint", job="fast-api-logs", log_level="WARNING", module="demo::api"}"#
    );
    assert_eq!(out[0].2, FUNCTION_LINE);
    // A request line: the second regex's labels, but the second timestamp
    // stage reads `log_timestamp`, which this regex does not set, so the
    // line keeps the time it was read at (the reference's mistake, kept).
    assert_eq!(
        out[1].1,
        r#"{env="dev", job="fast-api-logs", log_level="ERROR", method="PUT", status="500", uri="/put_endpoint"}"#
    );
    let read = parse_ts(&out[1].0);
    assert!(
        (before..=after).contains(&read),
        "{} not read time",
        out[1].0
    );
    assert_eq!(out[1].2, REQUEST_LINE);
}

#[test]
fn vigils_own_config_gives_request_lines_their_own_time() {
    let config = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../config/promtail-config.yaml"
    );
    let out = dry_run(
        &[&format!("-config.file={config}"), "-config.expand-env"],
        &format!("{REQUEST_LINE}\n"),
    );
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(out[0].0, "2023-08-01T14:11:32.107+0000");
    assert!(out[0].1.contains(r#"log_level="ERROR""#), "{}", out[0].1);
}

#[test]
fn a_bad_config_names_file_line_and_problem() {
    let dir = tempfile::tempdir().expect("a directory");
    let config = dir.path().join("promtail.yaml");
    std::fs::write(
        &config,
        "clients:\n  - url: http://127.0.0.1:3100/loki/api/v1/push\n    batchwiat: 1s\n",
    )
    .expect("written");
    let output = Command::new(VIGIL)
        .arg("promtail")
        .arg(format!("-config.file={}", config.display()))
        .arg("--dry-run")
        .output()
        .expect("vigil runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("promtail.yaml:3:5") && stderr.contains("batchwiat"),
        "{stderr}"
    );
}
