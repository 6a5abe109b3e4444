//! The agent's `/metrics` against what the real Promtail 2.8 printed
//! (`shared/conformance/golden/`): served by the agent's own router on
//! 127.0.0.1:0, in Go's layout, with the families, HELP texts, types and
//! label names of Promtail's for every family both print, and the metrics
//! stage's series line for line.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, OpenOptions};
use std::io::{Read as _, Write as _};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use agent::entry::{Entry, LabelSet, Receipt, Sink, SinkClosed};
use agent::pipeline::{Pipeline, StageConfig, StageContext};
use agent::server::{JobStatus, ServerState, StatusSource, router};
use agent::tail::{
    Positions, PositionsConfig, TailConfig, TailMetrics, TargetConfig, TargetManager,
};
use instrument::Registry;

fn golden(path: &str) -> String {
    let path = testkit::shared_dir().join("conformance/golden").join(path);
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// What the page lists of one family: HELP, TYPE, the sample names used
/// and the label-name sets of its samples (`le` aside).
#[derive(Debug, Default, PartialEq, Eq)]
struct Shape {
    help: String,
    kind: String,
    samples: BTreeSet<String>,
    label_names: BTreeSet<Vec<String>>,
}

/// The families of a text exposition, in the order printed, with their
/// lines.
#[derive(Debug, Default)]
struct Page {
    order: Vec<String>,
    shapes: BTreeMap<String, Shape>,
    lines: BTreeMap<String, Vec<String>>,
}

/// Label names of `{a="x",b="y\"z"}` (the text after a sample name).
fn label_names(mut rest: &str) -> Vec<String> {
    let mut names = Vec::new();
    let Some(inner) = rest.strip_prefix('{') else {
        return names;
    };
    rest = inner;
    while let Some((name, after)) = rest.split_once("=\"") {
        names.push(name.trim_start_matches(',').to_owned());
        let mut chars = after.char_indices();
        let mut end = after.len();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => {
                    chars.next();
                }
                '"' => {
                    end = i + 1;
                    break;
                }
                _ => {}
            }
        }
        rest = &after[end..];
        if rest.starts_with('}') {
            break;
        }
    }
    names
}

fn parse_page(text: &str) -> Page {
    let mut page = Page::default();
    let mut current = String::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, help) = rest.split_once(' ').unwrap_or((rest, ""));
            current = name.to_owned();
            page.order.push(current.clone());
            page.shapes.entry(current.clone()).or_default().help = help.to_owned();
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap_or((rest, ""));
            assert_eq!(name, current, "TYPE after the HELP of another family");
            page.shapes.entry(current.clone()).or_default().kind = kind.to_owned();
        } else if !line.is_empty() {
            let end = line.find(['{', ' ']).unwrap_or(line.len());
            let shape = page.shapes.entry(current.clone()).or_default();
            shape.samples.insert(line[..end].to_owned());
            let mut names = label_names(&line[end..]);
            names.retain(|n| n != "le");
            shape.label_names.insert(names);
        }
        page.lines
            .entry(current.clone())
            .or_default()
            .push(line.to_owned());
    }
    page
}

/// A `/metrics` request to the agent's router served on 127.0.0.1:0:
/// the `Content-Type` and the body.
fn scrape(registry: Arc<Registry>) -> (String, String) {
    struct NoTargets;
    impl StatusSource for NoTargets {
        fn jobs(&self) -> Vec<JobStatus> {
            Vec::new()
        }
    }
    let app = router(ServerState {
        registry,
        status: Arc::new(NoTargets),
        config_text: Arc::from(""),
        health_check_target: false,
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    runtime.spawn(async move { axum::serve(listener, app).await });
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: agent\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    runtime.shutdown_background();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let content_type = head
        .lines()
        .find_map(|l| l.strip_prefix("content-type: "))
        .unwrap_or_default()
        .to_owned();
    (content_type, body.to_owned())
}

/// Every family both pages print has the same HELP, TYPE, sample names
/// and label names; returns the families compared.
fn same_shapes(ours: &Page, theirs: &Page) -> BTreeSet<String> {
    let both: BTreeSet<String> = ours
        .shapes
        .keys()
        .filter(|name| theirs.shapes.contains_key(*name))
        .cloned()
        .collect();
    for name in &both {
        assert_eq!(ours.shapes[name], theirs.shapes[name], "family {name}");
    }
    both
}

/// Go's client prints families by name.
fn assert_sorted(page: &Page) {
    let mut sorted = page.order.clone();
    sorted.sort();
    assert_eq!(page.order, sorted);
}

#[derive(Default)]
struct CountingSink(Mutex<usize>);

impl Sink for CountingSink {
    fn send(&self, mut entry: Entry) -> Result<(), SinkClosed> {
        entry.receipt = Receipt::default();
        *self.0.lock().unwrap() += 1;
        Ok(())
    }
}

fn append(path: &Path, data: &[u8]) {
    let mut f = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    f.write_all(data).unwrap();
}

#[test]
fn file_target_families_have_promtails_shape() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    fs::create_dir(&logs).unwrap();
    append(&logs.join("a.log"), b"1\n2\n3\n4\n5\n");
    append(&logs.join("b.log"), b"x\ny\nz\npartial");
    let registry = Arc::new(Registry::new());
    let metrics = TailMetrics::register(&registry).unwrap();
    let sink = Arc::new(CountingSink::default());
    let positions = Positions::open(PositionsConfig::new(dir.path().join("p.yaml"))).unwrap();
    let glob = format!("{}/*.log", logs.display());
    let manager = TargetManager::start(
        vec![TargetConfig {
            job: "files".into(),
            labels: LabelSet::from([("__path__".to_owned(), glob)]),
            sink: sink.clone(),
        }],
        positions,
        TailConfig {
            sync_period: Duration::from_millis(50),
            poll_interval: Duration::from_millis(10),
            ..TailConfig::default()
        },
        metrics,
    );
    // Waits for both files' lines and sizes; gives up after 10 s.
    let start = Instant::now();
    let body = loop {
        let (content_type, body) = scrape(registry.clone());
        assert_eq!(content_type, "text/plain; version=0.0.4; charset=utf-8");
        if *sink.0.lock().unwrap() == 8 && body.matches("promtail_file_bytes_total{").count() == 2 {
            break body;
        }
        assert!(start.elapsed() < Duration::from_secs(10), "{body}");
        std::thread::sleep(Duration::from_millis(10));
    };
    manager.stop(Duration::from_secs(1));
    let ours = parse_page(&body);
    let theirs = parse_page(&golden("promtail-files/metrics.txt"));
    let both = same_shapes(&ours, &theirs);
    for family in [
        "promtail_file_bytes_total",
        "promtail_files_active_total",
        "promtail_read_lines_total",
        "promtail_targets_active_total",
    ] {
        assert!(both.contains(family), "{family} not compared: {both:?}");
    }
    assert_sorted(&ours);
    // Go's numbers: integral values without `.0`.
    let a = format!(
        "promtail_read_lines_total{{path=\"{}\"}} 5\n",
        logs.join("a.log").display()
    );
    assert!(body.contains(&a), "{body}");
    assert!(body.contains("\npromtail_files_active_total 2\n"), "{body}");
    assert!(!body.contains("_created"), "{body}");
}

#[test]
fn metrics_stage_families_print_as_promtail_printed_them() {
    let case = "promtail-pipelines/case25-metrics-counter";
    let config: serde_json::Value =
        yaml_serde::from_str(&golden(&format!("{case}/config.yaml"))).unwrap();
    let scrape_config = &config["scrape_configs"][0];
    let stages: Vec<StageConfig> =
        serde_json::from_value(scrape_config["pipeline_stages"].clone()).unwrap();
    let labels: LabelSet =
        serde_json::from_value(scrape_config["static_configs"][0]["labels"].clone()).unwrap();
    let registry = Arc::new(Registry::new());
    let ctx = StageContext::new("metrics-counter", registry.clone()).unwrap();
    let mut pipeline = Pipeline::new(&stages, &ctx).unwrap();
    let mut out = Vec::new();
    // Read now: the stage forgets series idle for five minutes when scraped.
    let start = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as i64;
    for (i, line) in golden(&format!("{case}/input.log")).lines().enumerate() {
        let now = start + i as i64 * 1_000;
        let entry = Entry {
            labels: labels.clone(),
            ts_ns: now,
            line: line.to_owned(),
            ..Entry::default()
        };
        pipeline.process(entry, now, &mut out);
    }
    let (_, body) = scrape(registry);
    let ours = parse_page(&body);
    let theirs = parse_page(&golden(&format!("{case}/metrics.txt")));
    let both = same_shapes(&ours, &theirs);
    for family in [
        "my_promtail_custom_lines_total",
        "promtail_custom_bytes_sum",
        "promtail_custom_errors_total",
        "promtail_custom_level_gauge",
        "promtail_custom_sizes",
    ] {
        assert!(both.contains(family), "{family} not compared: {both:?}");
        // The values are the recorded ones too, line for line.
        assert_eq!(ours.lines[family], theirs.lines[family], "{family}");
    }
    assert_sorted(&ours);
}
