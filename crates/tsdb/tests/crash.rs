//! Kill -9 test: every sample acknowledged as durable survives SIGKILL of the writer.
//!
//! This binary has its own `main` (no libtest harness) because it plays two
//! parts. Run by `cargo test`, it is the parent: it starts itself again as a
//! child with `VIGIL_TSDB_CRASH_WRITER` set to a data directory; the child
//! appends samples in a loop and prints each timestamp the database reported
//! durable; the parent SIGKILLs it mid-stream, reopens the database and
//! checks that every acknowledged sample is there exactly once, in order,
//! and that new appends are accepted.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use model::Labels;
use tsdb::{Options, Queryable, SyncPolicy, Tsdb};

const WRITER_ENV: &str = "VIGIL_TSDB_CRASH_WRITER";
const POLICY_ENV: &str = "VIGIL_TSDB_CRASH_POLICY";
const SERIES: usize = 8;
/// Acknowledgements the parent waits for before it kills the child.
const ACKS_BEFORE_KILL: usize = 200;

fn options(policy: &str) -> Options {
    Options {
        sync: match policy {
            "every-commit" => SyncPolicy::EveryCommit,
            _ => SyncPolicy::Interval(Duration::from_millis(5)),
        },
        // Small segments, so the kill also lands around segment rotations.
        segment_size: 16 * 1024,
        // Timestamps advance 1 ms per commit: with 40 ms blocks the writer
        // cuts the head and merges blocks all the time, so the kill also
        // lands in the middle of those.
        block_duration: 40,
        retention_time: None,
        retention_size: None,
    }
}

fn series(i: usize) -> Labels {
    Labels::from_pairs([
        ("__name__", "crash_test".to_string()),
        ("series", i.to_string()),
    ])
}

fn value(t: i64, i: usize) -> f64 {
    t as f64 * (i as f64 + 1.0) + 0.25
}

/// The child: append forever (until killed, or a safety limit), printing
/// every timestamp once the database says its commit is durable.
fn writer(dir: &Path, policy: &str) -> Result<(), Box<dyn std::error::Error>> {
    let db = Tsdb::open(dir, options(policy))?;
    let mut out = std::io::stdout().lock();
    let mut waiting = std::collections::VecDeque::new();
    let started = Instant::now();
    let mut t = 1i64;
    // The limit only matters if the parent died without killing us.
    while started.elapsed() < Duration::from_secs(60) {
        let mut app = db.appender();
        for i in 0..SERIES {
            app.append(&series(i), t, value(t, i))?;
        }
        waiting.push_back((t, app.commit()?));
        if t % 16 == 0 {
            db.compact()?;
        }
        while let Some((acked, commit)) = waiting.front() {
            if !db.is_durable(commit) {
                break;
            }
            writeln!(out, "{acked}")?;
            out.flush()?;
            waiting.pop_front();
        }
        t += 1;
    }
    Ok(())
}

/// Reads whole lines (a line cut by the kill has no newline and is not an
/// acknowledgement) until `stop` says so or the stream ends.
fn read_acks(reader: &mut impl BufRead, acks: &mut Vec<i64>, stop: impl Fn(&[i64]) -> bool) {
    let mut line = String::new();
    while !stop(acks) {
        line.clear();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) if !line.ends_with('\n') => return,
            Ok(_) => acks.push(line.trim().parse().expect("child prints timestamps")),
        }
    }
}

fn kill9_acknowledged_samples_survive(policy: &str) {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .env(WRITER_ENV, dir.path())
        .env(POLICY_ENV, policy)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut acks = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    read_acks(&mut stdout, &mut acks, |a| {
        a.len() >= ACKS_BEFORE_KILL || Instant::now() > deadline
    });
    assert!(
        acks.len() >= ACKS_BEFORE_KILL,
        "child acknowledged only {} commits",
        acks.len()
    );
    child.kill().unwrap(); // SIGKILL on Unix
    child.wait().unwrap();
    // Whatever the child printed before dying was acknowledged too.
    read_acks(&mut stdout, &mut acks, |_| false);
    assert!(
        acks.windows(2).all(|w| w[1] == w[0] + 1),
        "acks are consecutive"
    );
    let newest_ack = *acks.last().unwrap();

    let db = Tsdb::open(dir.path(), options(policy)).unwrap();
    assert!(
        !db.blocks().is_empty(),
        "the writer cut blocks before it died"
    );
    let q = db.querier(i64::MIN, i64::MAX).unwrap();
    let got = q.select(&[]).unwrap();
    assert_eq!(got.len(), SERIES);
    let mut recovered = None;
    for (i, s) in got.iter().enumerate() {
        // Sorted by labels: series="0" … series="7".
        assert_eq!(s.labels(), &series(i));
        let samples: Vec<_> = s.samples().collect();
        let want: Vec<_> = (1..=samples.len() as i64)
            .map(|t| (t, value(t, i)))
            .collect();
        assert_eq!(
            samples, want,
            "series {i}: every timestamp once, in order, right value"
        );
        // Commits are atomic records: all series stop at the same point.
        assert_eq!(*recovered.get_or_insert(samples.len()), samples.len());
    }
    let recovered = recovered.unwrap_or(0) as i64;
    assert!(
        recovered >= newest_ack,
        "acknowledged up to {newest_ack}, recovered {recovered}"
    );

    let mut app = db.appender();
    for i in 0..SERIES {
        app.append(&series(i), recovered + 1, 1.0).unwrap();
    }
    let commit = app.commit().unwrap();
    assert_eq!(commit.rejected, 0);
    db.wait_durable(&commit).unwrap();
    drop(q);
    drop(db);
    let db = Tsdb::open(dir.path(), options(policy)).unwrap();
    let q = db.querier(recovered + 1, recovered + 1).unwrap();
    assert_eq!(q.select(&[]).unwrap().len(), SERIES);
    eprintln!(
        "{policy}: {} acknowledged, {recovered} recovered, blocks of levels {:?}",
        acks.len(),
        db.blocks()
            .iter()
            .map(|b| b.meta().level)
            .collect::<Vec<_>>()
    );
}

fn main() {
    if let Some(dir) = std::env::var_os(WRITER_ENV) {
        let policy = std::env::var(POLICY_ENV).unwrap_or_default();
        if let Err(e) = writer(Path::new(&dir), &policy) {
            eprintln!("writer: {e}");
            std::process::exit(1);
        }
        return;
    }
    let tests: [(&str, fn()); 2] = [
        (
            "kill9_acknowledged_samples_survive_every_commit_fsync",
            || kill9_acknowledged_samples_survive("every-commit"),
        ),
        ("kill9_acknowledged_samples_survive_interval_fsync", || {
            kill9_acknowledged_samples_survive("interval")
        }),
    ];
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--list") {
        for (name, _) in tests {
            println!("{name}: test");
        }
        return;
    }
    let filter = args.iter().find(|a| !a.starts_with('-'));
    let (mut passed, mut failed) = (0, 0);
    for (name, test) in tests {
        if filter.is_some_and(|f| !name.contains(f.as_str())) {
            continue;
        }
        let ok = std::panic::catch_unwind(test).is_ok();
        println!("test {name} ... {}", if ok { "ok" } else { "FAILED" });
        if ok {
            passed += 1;
        } else {
            failed += 1;
        }
    }
    println!("{passed} passed, {failed} failed");
    if failed > 0 {
        std::process::exit(1);
    }
}
