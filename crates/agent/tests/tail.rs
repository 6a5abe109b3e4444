//! Discovery, tailing and positions on real files in temporary directories:
//! what is read, what is recorded, and that rotations lose and duplicate
//! nothing.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use agent::entry::{Entry, LabelSet, Receipt, Sink, SinkClosed};
use agent::tail::{
    Positions, PositionsConfig, TailConfig, TailMetrics, TargetConfig, TargetManager,
};

/// Records entries; with `hold`, keeps their receipts until acked.
#[derive(Default)]
struct TestSink {
    hold: bool,
    entries: Mutex<Vec<Entry>>,
}

impl Sink for TestSink {
    fn send(&self, mut entry: Entry) -> Result<(), SinkClosed> {
        if !self.hold {
            entry.receipt = Receipt::default();
        }
        self.entries.lock().unwrap().push(entry);
        Ok(())
    }
}

impl TestSink {
    fn holding() -> Arc<TestSink> {
        Arc::new(TestSink {
            hold: true,
            ..TestSink::default()
        })
    }

    fn lines(&self) -> Vec<String> {
        self.entries
            .lock()
            .unwrap()
            .iter()
            .map(|e| e.line.clone())
            .collect()
    }

    /// Waits until `n` entries came; fails after 10 s.
    fn wait_for(&self, n: usize) -> Vec<String> {
        let start = Instant::now();
        loop {
            let lines = self.lines();
            if lines.len() >= n {
                return lines;
            }
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "waited for {n} entries, got {}: {lines:?}",
                lines.len()
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Releases the receipts of the entries at `indexes`.
    fn ack(&self, indexes: &[usize]) {
        let mut entries = self.entries.lock().unwrap();
        for &i in indexes {
            entries[i].receipt = Receipt::default();
        }
    }
}

fn config() -> TailConfig {
    TailConfig {
        sync_period: Duration::from_millis(50),
        poll_interval: Duration::from_millis(10),
        partial_line_timeout: Duration::from_secs(60),
        rotated_idle: Duration::from_millis(200),
        ..TailConfig::default()
    }
}

fn labels(pairs: &[(&str, &str)]) -> LabelSet {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

struct Setup {
    dir: tempfile::TempDir,
    positions: PathBuf,
}

impl Setup {
    fn new() -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let positions = dir.path().join("positions.yaml");
        fs::create_dir(dir.path().join("logs")).unwrap();
        Setup { dir, positions }
    }

    fn log(&self, name: &str) -> PathBuf {
        self.dir.path().join("logs").join(name)
    }

    fn glob(&self, pattern: &str) -> String {
        format!("{}/logs/{pattern}", self.dir.path().display())
    }

    fn start_with(
        &self,
        target_labels: LabelSet,
        sink: Arc<TestSink>,
        config: TailConfig,
    ) -> TargetManager {
        let positions = Positions::open(PositionsConfig::new(&self.positions)).unwrap();
        TargetManager::start(
            vec![TargetConfig {
                job: "test".into(),
                labels: target_labels,
                sink,
            }],
            positions,
            config,
            TailMetrics::unregistered(),
        )
    }

    fn start(&self, pattern: &str, sink: Arc<TestSink>) -> TargetManager {
        let glob = self.glob(pattern);
        self.start_with(
            labels(&[("job", "app"), ("__path__", &glob)]),
            sink,
            config(),
        )
    }

    fn recorded(&self) -> BTreeMap<String, String> {
        let text = fs::read_to_string(&self.positions).unwrap();
        text.lines()
            .skip(1)
            .filter_map(|l| {
                let (k, v) = l.trim().rsplit_once(": ")?;
                Some((k.to_owned(), v.trim_matches('"').to_owned()))
            })
            .collect()
    }

    fn offset(&self, name: &str) -> Option<u64> {
        let key = self.log(name).display().to_string();
        self.recorded().get(&key).map(|v| v.parse().unwrap())
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

fn numbered(range: std::ops::Range<usize>) -> String {
    range.map(|i| format!("line {i:06}\n")).collect()
}

fn expect_numbered(lines: &[String], range: std::ops::Range<usize>) {
    let want: Vec<String> = range.map(|i| format!("line {i:06}")).collect();
    assert_eq!(lines, want.as_slice());
}

#[test]
fn a_new_file_is_read_from_the_start_with_the_targets_labels() {
    let s = Setup::new();
    append(&s.log("a.log"), b"one\ntwo\nthree\n");
    let sink = Arc::new(TestSink::default());
    let glob = s.glob("*.log");
    let m = s.start_with(
        labels(&[("job", "app"), ("env", "dev"), ("__path__", &glob)]),
        sink.clone(),
        config(),
    );
    assert_eq!(sink.wait_for(3), ["one", "two", "three"]);
    let entry = sink.entries.lock().unwrap()[0].clone();
    let filename = s.log("a.log").display().to_string();
    assert_eq!(
        entry.labels,
        labels(&[("env", "dev"), ("filename", &filename), ("job", "app")])
    );
    assert!(entry.ts_ns > 0);
    m.stop(Duration::from_secs(1));
    assert_eq!(s.offset("a.log"), Some(14));
}

#[test]
fn a_promtail_positions_file_is_read_and_continued() {
    let golden = testkit::shared_dir().join("conformance/golden/promtail-files");
    let s = Setup::new();
    let dir = s.dir.path().display().to_string();
    for name in ["a.log", "b.log"] {
        fs::copy(golden.join(name), s.log(name)).unwrap();
    }
    let text = fs::read_to_string(golden.join("positions.yaml")).unwrap();
    fs::write(&s.positions, text.replace("{dir}", &dir)).unwrap();

    let sink = Arc::new(TestSink::default());
    let m = s.start("*.log", sink.clone());
    append(&s.log("a.log"), b"a new line\n");
    append(&s.log("b.log"), b" now complete\n");
    let mut lines = sink.wait_for(2);
    lines.sort();
    assert_eq!(
        lines,
        ["a new line", "partial line without newline now complete"]
    );
    m.stop(Duration::from_secs(1));
    assert_eq!(s.offset("a.log"), Some(520 + 11));
    assert_eq!(s.offset("b.log"), Some(460 + 14));
    let written = fs::read_to_string(&s.positions).unwrap();
    assert!(written.starts_with("positions:\n"), "{written}");
    assert!(
        written.contains(&format!("  {dir}/logs/a.log: \"531\"\n")),
        "{written}"
    );
}

#[test]
fn positions_advance_only_over_acknowledged_lines() {
    let s = Setup::new();
    append(&s.log("a.log"), numbered(0..5).as_bytes());
    let sink = TestSink::holding();
    let m = s.start("a.log", sink.clone());
    sink.wait_for(5);
    sink.ack(&[0, 1, 3]);
    m.stop(Duration::from_millis(100));
    // Lines are 12 bytes: the acknowledged prefix is two lines.
    assert_eq!(s.offset("a.log"), Some(24));

    // After a restart, the lines not acknowledged in order come again.
    let sink = Arc::new(TestSink::default());
    let m = s.start("a.log", sink.clone());
    expect_numbered(&sink.wait_for(3), 2..5);
    m.stop(Duration::from_secs(1));
    assert_eq!(s.offset("a.log"), Some(60));
}

#[test]
fn the_snapshot_shows_read_and_committed_offsets() {
    let s = Setup::new();
    append(&s.log("a.log"), numbered(0..3).as_bytes());
    let sink = TestSink::holding();
    let m = s.start("a.log", sink.clone());
    sink.wait_for(3);
    sink.ack(&[0]);
    let start = Instant::now();
    let file = loop {
        let snap = m.snapshot();
        let file = snap[0].files[0].clone();
        if file.committed_offset == 12 && file.size == 36 {
            break file;
        }
        assert!(start.elapsed() < Duration::from_secs(10), "{file:?}");
        std::thread::sleep(Duration::from_millis(5));
    };
    assert_eq!(file.read_offset, 36);
    assert_eq!(file.read_lines, 3);
    assert!(file.healthy);
    assert_eq!(m.snapshot()[0].job, "test");
    m.stop(Duration::ZERO);
}

#[test]
fn a_partial_last_line_waits_then_is_sent_after_the_timeout() {
    let s = Setup::new();
    append(&s.log("a.log"), b"whole\nhalf");
    let sink = Arc::new(TestSink::default());
    let glob = s.glob("a.log");
    let config = TailConfig {
        partial_line_timeout: Duration::from_secs(1),
        ..config()
    };
    let m = s.start_with(labels(&[("__path__", &glob)]), sink.clone(), config);
    assert_eq!(sink.wait_for(1), ["whole"]);
    // Many polls later, the half line is still held.
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(sink.lines(), ["whole"]);
    assert_eq!(sink.wait_for(2), ["whole", "half"]);
    append(&s.log("a.log"), b"next\n");
    assert_eq!(sink.wait_for(3), ["whole", "half", "next"]);
    m.stop(Duration::from_secs(1));
    assert_eq!(s.offset("a.log"), Some(15));
}

#[test]
fn a_partial_line_completed_before_the_timeout_is_one_line() {
    let s = Setup::new();
    append(&s.log("a.log"), b"first ha");
    let sink = Arc::new(TestSink::default());
    let m = s.start("a.log", sink.clone());
    std::thread::sleep(Duration::from_millis(50));
    append(&s.log("a.log"), b"lf\n");
    assert_eq!(sink.wait_for(1), ["first half"]);
    m.stop(Duration::from_secs(1));
    // Stopped with a partial line pending: it is not recorded as read.
    append(&s.log("a.log"), b"pending");
    let m = s.start("a.log", Arc::new(TestSink::default()));
    m.stop(Duration::from_secs(1));
    assert_eq!(s.offset("a.log"), Some(11));
}

#[test]
fn invalid_utf8_is_replaced_and_carriage_returns_kept() {
    let s = Setup::new();
    append(&s.log("a.log"), b"ok \xff\xfe end\nwindows\r\n\n");
    let sink = Arc::new(TestSink::default());
    let m = s.start("a.log", sink.clone());
    assert_eq!(
        sink.wait_for(3),
        ["ok \u{FFFD}\u{FFFD} end", "windows\r", ""]
    );
    m.stop(Duration::from_secs(1));
}

#[test]
fn an_endless_line_is_cut_at_the_line_limit() {
    let s = Setup::new();
    append(&s.log("a.log"), &[b'x'; 2500]);
    append(&s.log("a.log"), b"\n");
    let sink = Arc::new(TestSink::default());
    let glob = s.glob("a.log");
    let config = TailConfig {
        max_line_bytes: 1000,
        read_buffer: 4096,
        ..config()
    };
    let m = s.start_with(labels(&[("__path__", &glob)]), sink.clone(), config);
    let lines = sink.wait_for(3);
    let lens: Vec<usize> = lines.iter().map(String::len).collect();
    assert_eq!(lens, [1000, 1000, 500]);
    m.stop(Duration::from_secs(1));
    assert_eq!(s.offset("a.log"), Some(2501));
}

/// Writes `SEGMENTS` segments of `SEGMENT` numbered lines to `path` while
/// it is tailed into `sink`, and calls `rotate` (with the writer's file,
/// which it may replace) after each segment but the last, so that every
/// rotation finds lines not read yet: the first lines of a segment are
/// written, the tailer is let see them (so it knows the file's first
/// bytes), then the rest comes at once, the rotation right after it, and
/// the next segment's first lines right after that.
fn write_with_rotations(path: &Path, sink: &TestSink, rotate: impl Fn(&Path, usize, &mut File)) {
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    let write = |file: &mut File, range: std::ops::Range<usize>| {
        file.write_all(numbered(range).as_bytes()).unwrap();
    };
    for k in 0..SEGMENTS {
        let first = k * SEGMENT;
        write(&mut file, first..first + 100);
        sink.wait_for(first + 1);
        write(&mut file, first + 100..first + SEGMENT);
        if k + 1 < SEGMENTS {
            rotate(path, k + 1, &mut file);
        }
    }
}

const SEGMENTS: usize = 6;
const SEGMENT: usize = 600;

fn assert_each_once(sink: &TestSink, total: usize) {
    sink.wait_for(total);
    // Give a stray duplicate the time to show up.
    std::thread::sleep(Duration::from_millis(100));
    let mut lines = sink.lines();
    lines.sort();
    expect_numbered(&lines, 0..total);
}

#[test]
fn rename_rotation_under_writing_loses_and_duplicates_nothing() {
    let s = Setup::new();
    let sink = Arc::new(TestSink::default());
    append(&s.log("a.log"), b"");
    let m = s.start("a.log", sink.clone());
    write_with_rotations(&s.log("a.log"), &sink, |path, n, file| {
        fs::rename(path, path.with_extension(format!("log.{n}"))).unwrap();
        *file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .unwrap();
    });
    assert_each_once(&sink, SEGMENTS * SEGMENT);
    m.stop(Duration::from_secs(1));
    assert_eq!(s.offset("a.log"), Some(SEGMENT as u64 * 12));
}

#[test]
fn copytruncate_under_writing_loses_and_duplicates_nothing() {
    let s = Setup::new();
    let sink = Arc::new(TestSink::default());
    append(&s.log("a.log"), b"");
    let m = s.start("a.log", sink.clone());
    // The writer copies and truncates between two of its own lines, as
    // logrotate's copytruncate does when no line comes in between (the
    // lines that do are lost whatever reads the file).
    write_with_rotations(&s.log("a.log"), &sink, |path, n, file| {
        fs::copy(path, path.with_extension(format!("log.{n}"))).unwrap();
        file.set_len(0).unwrap();
    });
    assert_each_once(&sink, SEGMENTS * SEGMENT);
    m.stop(Duration::from_secs(1));
    assert_eq!(s.offset("a.log"), Some(SEGMENT as u64 * 12));
}

#[test]
fn a_truncated_file_without_a_copy_is_read_from_the_start() {
    let s = Setup::new();
    append(&s.log("a.log"), numbered(0..3).as_bytes());
    let sink = Arc::new(TestSink::default());
    let m = s.start("a.log", sink.clone());
    sink.wait_for(3);
    let f = OpenOptions::new().write(true).open(s.log("a.log")).unwrap();
    f.set_len(0).unwrap();
    append(&s.log("a.log"), numbered(3..5).as_bytes());
    expect_numbered(&sink.wait_for(5), 0..5);
    m.stop(Duration::from_secs(1));
    assert_eq!(s.offset("a.log"), Some(24));
}

#[test]
fn double_star_globs_and_excludes_choose_the_files() {
    let s = Setup::new();
    for (name, line) in [
        ("x.log", "x"),
        ("a/y.log", "y"),
        ("a/b/z.log", "z"),
        ("a/skip.log", "skip"),
        ("a/w.txt", "w"),
    ] {
        let p = s.log(name);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        append(&p, format!("{line}\n").as_bytes());
    }
    let sink = Arc::new(TestSink::default());
    let (glob, exclude) = (s.glob("**/*.log"), s.glob("**/skip.log"));
    let m = s.start_with(
        labels(&[("__path__", &glob), ("__path_exclude__", &exclude)]),
        sink.clone(),
        config(),
    );
    sink.wait_for(3);
    std::thread::sleep(Duration::from_millis(100));
    let mut got: Vec<(String, String)> = sink
        .entries
        .lock()
        .unwrap()
        .iter()
        .map(|e| (e.labels["filename"].clone(), e.line.clone()))
        .collect();
    got.sort();
    let want: Vec<(String, String)> = [("a/b/z.log", "z"), ("a/y.log", "y"), ("x.log", "x")]
        .iter()
        .map(|(n, l)| (s.log(n).display().to_string(), (*l).to_owned()))
        .collect();
    assert_eq!(got, want);
    m.stop(Duration::from_secs(1));
}

#[test]
fn new_files_are_picked_up_and_vanished_ones_released() {
    let s = Setup::new();
    append(&s.log("a.log"), b"a\n");
    let sink = Arc::new(TestSink::default());
    let m = s.start("*.log", sink.clone());
    sink.wait_for(1);
    append(&s.log("b.log"), b"b\n");
    assert_eq!(sink.wait_for(2), ["a", "b"]);
    fs::remove_file(s.log("a.log")).unwrap();
    let start = Instant::now();
    while m.snapshot()[0].files.len() != 1 {
        assert!(start.elapsed() < Duration::from_secs(10));
        std::thread::sleep(Duration::from_millis(5));
    }
    m.stop(Duration::from_secs(1));
    assert_eq!(s.offset("a.log"), None);
    assert_eq!(s.offset("b.log"), Some(2));
}

/// Runs to the end of `0..10`, stops, lets `change` act on the stopped
/// files, restarts and expects `10..20`.
fn restart_after(change: impl FnOnce(&Setup)) {
    let s = Setup::new();
    append(&s.log("a.log"), numbered(0..10).as_bytes());
    let sink = Arc::new(TestSink::default());
    let m = s.start("a.log", sink.clone());
    sink.wait_for(10);
    m.stop(Duration::from_secs(1));
    change(&s);
    let sink = Arc::new(TestSink::default());
    let m = s.start("a.log", sink.clone());
    expect_numbered(&sink.wait_for(10), 10..20);
    std::thread::sleep(Duration::from_millis(100));
    expect_numbered(&sink.lines(), 10..20);
    m.stop(Duration::from_secs(1));
    assert_eq!(s.offset("a.log"), Some(60));
}

#[test]
fn a_restart_after_a_rename_rotation_finishes_the_old_file_first() {
    restart_after(|s| {
        append(&s.log("a.log"), numbered(10..15).as_bytes());
        fs::rename(s.log("a.log"), s.log("a.log.1")).unwrap();
        append(&s.log("a.log"), numbered(15..20).as_bytes());
    });
}

#[test]
fn a_restart_after_copytruncate_finishes_the_copy_first() {
    restart_after(|s| {
        append(&s.log("a.log"), numbered(10..15).as_bytes());
        fs::copy(s.log("a.log"), s.log("a.log.1")).unwrap();
        OpenOptions::new()
            .write(true)
            .open(s.log("a.log"))
            .unwrap()
            .set_len(0)
            .unwrap();
        append(&s.log("a.log"), numbered(15..20).as_bytes());
    });
}

#[test]
fn a_restart_after_the_file_was_replaced_reads_the_new_one_from_the_start() {
    let s = Setup::new();
    append(&s.log("a.log"), numbered(0..10).as_bytes());
    let sink = Arc::new(TestSink::default());
    let m = s.start("a.log", sink.clone());
    sink.wait_for(10);
    m.stop(Duration::from_secs(1));
    fs::remove_file(s.log("a.log")).unwrap();
    // Longer than the recorded offset, so only the identity tells.
    append(&s.log("a.log"), numbered(100..115).as_bytes());
    let sink = Arc::new(TestSink::default());
    let m = s.start("a.log", sink.clone());
    expect_numbered(&sink.wait_for(15), 100..115);
    m.stop(Duration::from_secs(1));
}

#[test]
fn a_corrupt_positions_file_is_an_error_unless_ignored() {
    let s = Setup::new();
    fs::write(&s.positions, "positions: [not, a, map]\n").unwrap();
    let err = Positions::open(PositionsConfig::new(&s.positions))
        .err()
        .unwrap();
    assert!(
        err.to_string().starts_with("invalid yaml positions file"),
        "{err}"
    );
    let mut config = PositionsConfig::new(&s.positions);
    config.ignore_invalid_yaml = true;
    let p = Positions::open(config).unwrap();
    assert_eq!(p.get("/x"), None);
    // A missing file starts empty.
    let p = Positions::open(PositionsConfig::new(s.dir.path().join("none.yaml"))).unwrap();
    assert_eq!(p.get("/x"), None);
}

#[test]
fn saving_drops_entries_of_missing_files_but_keeps_cursors() {
    let s = Setup::new();
    let present = s.log("a.log");
    append(&present, b"x\n");
    let present = present.display().to_string();
    fs::write(
        &s.positions,
        format!(
            "positions:\n  {present}: \"2\"\n  /no/such/file.log: \"7\"\n  cursor-abc: \"s=1\"\n"
        ),
    )
    .unwrap();
    let mut config = PositionsConfig::new(&s.positions);
    config.sync_period = Duration::from_millis(20);
    let p = Positions::open(config).unwrap();
    let sync = p.start_sync();
    let start = Instant::now();
    while s.recorded().contains_key("/no/such/file.log") {
        assert!(start.elapsed() < Duration::from_secs(10));
        std::thread::sleep(Duration::from_millis(5));
    }
    sync.stop().unwrap();
    let recorded = s.recorded();
    assert_eq!(recorded.get(&present).map(String::as_str), Some("2"));
    assert_eq!(recorded.get("cursor-abc").map(String::as_str), Some("s=1"));
}

#[test]
fn file_metrics_follow_the_tailed_files() {
    let s = Setup::new();
    append(&s.log("a.log"), b"one\ntwo\n");
    let registry = instrument::Registry::new();
    let metrics = TailMetrics::register(&registry).unwrap();
    let sink = Arc::new(TestSink::default());
    let positions = Positions::open(PositionsConfig::new(&s.positions)).unwrap();
    let glob = s.glob("*.log");
    let m = TargetManager::start(
        vec![TargetConfig {
            job: "j".into(),
            labels: labels(&[("__path__", &glob)]),
            sink: sink.clone(),
        }],
        positions,
        config(),
        metrics,
    );
    sink.wait_for(2);
    let path = s.log("a.log").display().to_string();
    let start = Instant::now();
    loop {
        let text = instrument::exposition::encode_text(&registry.gather());
        if text.contains(&format!("promtail_file_bytes_total{{path=\"{path}\"}} 8")) {
            assert!(
                text.contains(&format!("promtail_read_lines_total{{path=\"{path}\"}} 2")),
                "{text}"
            );
            assert!(
                text.contains(&format!("promtail_read_bytes_total{{path=\"{path}\"}} 8")),
                "{text}"
            );
            assert!(text.contains("promtail_files_active_total 1"), "{text}");
            assert!(text.contains("promtail_targets_active_total 1"), "{text}");
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(10), "{text}");
        std::thread::sleep(Duration::from_millis(5));
    }
    m.stop(Duration::from_secs(1));
    let text = instrument::exposition::encode_text(&registry.gather());
    assert!(text.contains("promtail_files_active_total 0"), "{text}");
}

/// A sink that refuses everything after its first `n` entries.
struct Closing {
    n: usize,
    inner: TestSink,
}

impl Sink for Closing {
    fn send(&self, entry: Entry) -> Result<(), SinkClosed> {
        if self.inner.lines().len() >= self.n {
            return Err(SinkClosed);
        }
        self.inner.send(entry)
    }
}

#[test]
fn lines_a_closed_sink_refused_are_not_recorded() {
    let s = Setup::new();
    append(&s.log("a.log"), numbered(0..5).as_bytes());
    let sink = Arc::new(Closing {
        n: 2,
        inner: TestSink::default(),
    });
    let positions = Positions::open(PositionsConfig::new(&s.positions)).unwrap();
    let glob = s.glob("a.log");
    let m = TargetManager::start(
        vec![TargetConfig {
            job: "j".into(),
            labels: labels(&[("__path__", &glob)]),
            sink: sink.clone(),
        }],
        positions,
        config(),
        TailMetrics::unregistered(),
    );
    sink.inner.wait_for(2);
    let start = Instant::now();
    while m.snapshot()[0].files.first().is_none_or(|f| f.healthy) {
        assert!(start.elapsed() < Duration::from_secs(10));
        std::thread::sleep(Duration::from_millis(5));
    }
    m.stop(Duration::from_secs(1));
    assert_eq!(s.offset("a.log"), Some(24));
}

#[test]
fn compressed_files_are_reported_and_not_read() {
    let s = Setup::new();
    append(&s.log("a.log.gz"), b"\x1f\x8b binary\n");
    append(&s.log("a.log"), b"text\n");
    let sink = Arc::new(TestSink::default());
    let m = s.start("a.log*", sink.clone());
    assert_eq!(sink.wait_for(1), ["text"]);
    let start = Instant::now();
    let gz = loop {
        let files = m.snapshot()[0].files.clone();
        if let Some(f) = files.iter().find(|f| f.path.ends_with(".gz") && !f.healthy) {
            break f.clone();
        }
        assert!(start.elapsed() < Duration::from_secs(10), "{files:?}");
        std::thread::sleep(Duration::from_millis(5));
    };
    assert_eq!(
        gz.error.as_deref(),
        Some("reading compressed files is not supported")
    );
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(sink.lines(), ["text"]);
    m.stop(Duration::from_secs(1));
}

#[test]
fn a_file_waits_while_too_many_lines_are_unacknowledged() {
    let s = Setup::new();
    append(&s.log("a.log"), numbered(0..200).as_bytes());
    let sink = TestSink::holding();
    let glob = s.glob("a.log");
    let config = TailConfig {
        max_in_flight_lines: 64,
        ..config()
    };
    let m = s.start_with(labels(&[("__path__", &glob)]), sink.clone(), config);
    sink.wait_for(64);
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(sink.lines().len(), 64);
    sink.ack(&(0..64).collect::<Vec<_>>());
    sink.wait_for(128);
    sink.ack(&(64..128).collect::<Vec<_>>());
    sink.wait_for(192);
    sink.ack(&(128..192).collect::<Vec<_>>());
    expect_numbered(&sink.wait_for(200), 0..200);
    m.stop(Duration::ZERO);
    assert_eq!(s.offset("a.log"), Some(192 * 12));
}

/// A sink that blocks every send until opened, like clients whose store is
/// down.
#[derive(Default)]
struct Gate {
    open: Mutex<bool>,
    turn: std::sync::Condvar,
    inner: TestSink,
}

impl Sink for Gate {
    fn send(&self, entry: Entry) -> Result<(), SinkClosed> {
        let mut open = self.open.lock().unwrap();
        while !*open {
            open = self.turn.wait(open).unwrap();
        }
        drop(open);
        self.inner.send(entry)
    }
}

#[test]
fn a_blocked_sink_holds_the_reading_and_it_resumes_where_it_stopped() {
    let s = Setup::new();
    append(&s.log("a.log"), numbered(0..3).as_bytes());
    let gate = Arc::new(Gate::default());
    let positions = Positions::open(PositionsConfig::new(&s.positions)).unwrap();
    let glob = s.glob("a.log");
    let m = TargetManager::start(
        vec![TargetConfig {
            job: "j".into(),
            labels: labels(&[("__path__", &glob)]),
            sink: gate.clone(),
        }],
        positions,
        config(),
        TailMetrics::unregistered(),
    );
    std::thread::sleep(Duration::from_millis(100));
    append(&s.log("a.log"), numbered(3..6).as_bytes());
    assert!(gate.inner.lines().is_empty());
    *gate.open.lock().unwrap() = true;
    gate.turn.notify_all();
    expect_numbered(&gate.inner.wait_for(6), 0..6);
    m.stop(Duration::from_secs(1));
    assert_eq!(s.offset("a.log"), Some(72));
}

#[test]
fn read_only_positions_are_never_written() {
    let s = Setup::new();
    append(&s.log("a.log"), b"x\n");
    let mut read_only = PositionsConfig::new(&s.positions);
    read_only.read_only = true;
    let p = Positions::open(read_only).unwrap();
    let sink = Arc::new(TestSink::default());
    let glob = s.glob("a.log");
    let m = TargetManager::start(
        vec![TargetConfig {
            job: "j".into(),
            labels: labels(&[("__path__", &glob)]),
            sink: sink.clone(),
        }],
        p.clone(),
        config(),
        TailMetrics::unregistered(),
    );
    sink.wait_for(1);
    m.stop(Duration::from_secs(1));
    p.save().unwrap();
    assert!(!s.positions.exists());
}

#[test]
fn the_targets_page_sees_each_target_with_its_files() {
    use agent::server::StatusSource;
    let s = Setup::new();
    append(&s.log("a.log"), b"x\n");
    let sink = Arc::new(TestSink::default());
    let positions = Positions::open(PositionsConfig::new(&s.positions)).unwrap();
    let glob = s.glob("a.log");
    let target = |l: LabelSet| TargetConfig {
        job: "j".into(),
        labels: l,
        sink: sink.clone(),
    };
    let m = TargetManager::start(
        vec![
            target(labels(&[("__path__", &glob), ("app", "a")])),
            target(labels(&[("app", "none")])),
            target(labels(&[
                ("__path__", &glob),
                ("__host__", "elsewhere.invalid"),
            ])),
        ],
        positions,
        config(),
        TailMetrics::unregistered(),
    );
    sink.wait_for(1);
    let path = s.log("a.log").display().to_string();
    let start = Instant::now();
    let jobs = loop {
        let jobs = m.jobs();
        if jobs[0].targets[0].details.get(&path).map(String::as_str) == Some("2") {
            break jobs;
        }
        assert!(start.elapsed() < Duration::from_secs(10), "{jobs:?}");
        std::thread::sleep(Duration::from_millis(5));
    };
    assert_eq!(jobs.len(), 1);
    let [ok, dropped, other_host] = &jobs[0].targets[..] else {
        panic!("{jobs:?}")
    };
    assert!(!other_host.ready);
    assert!(other_host.details["error"].starts_with("ignoring target, wrong host"));
    assert!(ok.ready);
    assert_eq!(ok.labels, labels(&[("app", "a")]));
    assert_eq!(ok.discovered_labels["__path__"], glob);
    assert!(!dropped.ready);
    assert_eq!(dropped.details["error"], "no path for target");
    m.stop(Duration::from_secs(1));
}

#[test]
fn equal_lines_read_together_get_distinct_timestamps() {
    let s = Setup::new();
    append(&s.log("a.log"), b"same\nsame\nsame\n");
    let sink = Arc::new(TestSink::default());
    let m = s.start("a.log", sink.clone());
    sink.wait_for(3);
    let ts: Vec<i64> = sink
        .entries
        .lock()
        .unwrap()
        .iter()
        .map(|e| e.ts_ns)
        .collect();
    assert!(ts.windows(2).all(|w| w[0] < w[1]), "{ts:?}");
    m.stop(Duration::from_secs(1));
}
