//! The kill -9 test: a child process (this test binary, re-executed) appends continuously and prints each acknowledged batch; the parent SIGKILLs it mid-stream, reopens the storage and checks that every acknowledged entry is there exactly once.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use logql::eval::{Direction, Engine, Query, QueryResult};
use logql::store::EntryRef;
use logstore::storage::{AppendStream, Storage, StorageOptions};
use model::Labels;

const DIR_VAR: &str = "VIGIL_LOGSTORE_KILL_DIR";
const START_VAR: &str = "VIGIL_LOGSTORE_KILL_START";
const PER_BATCH: u64 = 10;
const T0: i64 = 1_700_000_000_000_000_000;

fn opts(dir: &str) -> StorageOptions {
    let mut o = StorageOptions::new(dir);
    o.block_size = 4 << 10;
    o.chunk_target_size = 8 << 10;
    o.wal_segment_size = 64 << 10;
    o
}

fn line(batch: u64, j: u64) -> String {
    format!(
        "batch {batch} entry {j} {}",
        "padding ".repeat((batch % 7) as usize)
    )
}

/// The child: appends until killed, printing `ack <batch>` once each batch
/// is acknowledged. Ignored in ordinary runs (it is not a test by itself);
/// the parent runs it with `--ignored`.
#[test]
#[ignore = "the child process of acknowledged_entries_survive_kill_9_exactly_once"]
fn child_appends_until_killed() {
    let (Ok(dir), Ok(start)) = (std::env::var(DIR_VAR), std::env::var(START_VAR)) else {
        panic!("run by acknowledged_entries_survive_kill_9_exactly_once, which sets {DIR_VAR}");
    };
    let start: u64 = start.parse().unwrap();
    let storage = Storage::open(opts(&dir)).unwrap();
    let streams = [
        Labels::from_pairs([("job", "kill"), ("n", "0")]),
        Labels::from_pairs([("job", "kill"), ("n", "1")]),
    ];
    for batch in start.. {
        let lines: Vec<String> = (0..PER_BATCH).map(|j| line(batch, j)).collect();
        let entries: Vec<EntryRef<'_>> = lines
            .iter()
            .enumerate()
            .map(|(j, l)| EntryRef {
                ts_ns: T0 + (batch * PER_BATCH + j as u64) as i64,
                line: l,
                metadata: &Labels::EMPTY,
            })
            .collect();
        let (a, b) = entries.split_at(PER_BATCH as usize / 2);
        let batch_streams = [
            AppendStream {
                labels: &streams[0],
                entries: a,
            },
            AppendStream {
                labels: &streams[1],
                entries: b,
            },
        ];
        storage.append("fake", &batch_streams, T0).unwrap();
        println!("ack {batch}");
        if batch % 40 == 39 {
            // Flushes and log deletion happen while the kill may land.
            storage.maintain(T0 + 365 * 86_400_000_000_000).unwrap();
        }
    }
}

#[test]
fn acknowledged_entries_survive_kill_9_exactly_once() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_str().unwrap().to_owned();
    let exe = std::env::current_exe().unwrap();
    let mut acked: Vec<u64> = Vec::new();
    for round in 0..4u64 {
        let start = round * 1_000_000;
        let mut child = Command::new(&exe)
            .args([
                "--exact",
                "child_appends_until_killed",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(DIR_VAR, &dir)
            .env(START_VAR, start.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let want = 150 + round * 70;
        let began = Instant::now();
        let mut got = 0;
        while got < want && began.elapsed() < Duration::from_secs(60) {
            match lines.next() {
                Some(Ok(l)) => {
                    if let Some(n) = l.strip_prefix("ack ") {
                        acked.push(n.parse().unwrap());
                        got += 1;
                    }
                }
                _ => break,
            }
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        // Batches acknowledged just before the kill, still in the pipe.
        for l in lines.map_while(Result::ok) {
            if let Some(n) = l.strip_prefix("ack ") {
                acked.push(n.parse().unwrap());
            }
        }
        assert!(got > 0, "the child acknowledged nothing");

        let storage = Storage::open(opts(&dir)).unwrap();
        let reader = storage.reader("fake");
        let expr = logql::parse(r#"{job="kill"}"#).unwrap();
        let mut q = Query::range(0, i64::MAX, 1);
        q.direction = Direction::Forward;
        q.limit = usize::MAX;
        let QueryResult::Streams(streams) = Engine::new(&reader).eval(&expr, &q).unwrap() else {
            panic!("not streams");
        };
        let mut seen: HashMap<String, usize> = HashMap::new();
        for s in streams {
            for (_, l) in s.entries {
                *seen.entry(l).or_default() += 1;
            }
        }
        if let Some((l, n)) = seen.iter().find(|(_, n)| **n > 1) {
            panic!("round {round}: {l:?} stored {n} times");
        }
        for &b in &acked {
            for j in 0..PER_BATCH {
                assert_eq!(
                    seen.get(&line(b, j)),
                    Some(&1),
                    "round {round}: acknowledged batch {b} entry {j} is missing"
                );
            }
        }
        storage.close().unwrap();
    }
}
