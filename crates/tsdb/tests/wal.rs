//! Write-ahead log replay and repair: what survives a restart, a torn tail, a flipped byte.

use std::collections::BTreeMap;
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use model::Labels;
use tsdb::{Options, Queryable, SyncPolicy, Tsdb, TsdbError};

const SERIES: usize = 5;

fn every_commit() -> Options {
    Options {
        sync: SyncPolicy::EveryCommit,
        ..Options::default()
    }
}

fn series(i: usize) -> Labels {
    Labels::from_pairs([
        ("__name__", "requests_total".to_string()),
        ("pod", format!("p{i}")),
    ])
}

/// Every sample in the database, value bits included, by series.
fn dump(db: &Tsdb) -> BTreeMap<String, Vec<(i64, u64)>> {
    let q = db.querier(i64::MIN, i64::MAX).unwrap();
    q.select(&[])
        .unwrap()
        .iter()
        .map(|s| {
            (
                s.labels().to_string(),
                s.samples().map(|(t, v)| (t, v.to_bits())).collect(),
            )
        })
        .collect()
}

/// The value commit `c` writes for series `i`; NaNs included on purpose.
fn value(c: i64, i: usize) -> f64 {
    match c % 7 {
        3 => model::staleness::stale_nan(),
        5 => f64::INFINITY,
        _ => (c * 10 + i as i64) as f64 / 3.0,
    }
}

/// Commits `range` as one commit per timestamp, all series in each.
fn write_commits(db: &Tsdb, range: std::ops::Range<i64>) {
    for c in range {
        let mut app = db.appender();
        for i in 0..SERIES {
            app.append(&series(i), c * 1000, value(c, i)).unwrap();
        }
        let commit = app.commit().unwrap();
        db.wait_durable(&commit).unwrap();
    }
}

/// What the database must hold after commits `0..n`.
fn expected(n: i64) -> BTreeMap<String, Vec<(i64, u64)>> {
    (0..SERIES)
        .map(|i| {
            (
                series(i).to_string(),
                (0..n).map(|c| (c * 1000, value(c, i).to_bits())).collect(),
            )
        })
        .collect()
}

/// Number of whole commits recovered, checking they are exactly a prefix.
fn recovered_prefix(db: &Tsdb) -> i64 {
    let got = dump(db);
    let n = got.values().map(Vec::len).max().unwrap_or(0) as i64;
    // Commits are single records, so either all series have commit c or
    // none has.
    assert_eq!(got, expected(n));
    n
}

fn segments(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<_> = fs::read_dir(dir.join("wal"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    out.sort();
    out
}

/// The newest segment that holds data (opening starts a fresh, empty one).
fn last_written_segment(dir: &Path) -> PathBuf {
    segments(dir)
        .into_iter()
        .rev()
        .find(|p| fs::metadata(p).unwrap().len() > 0)
        .unwrap()
}

#[test]
fn replay_round_trip_restores_samples_refs_and_order_checks() {
    let dir = tempfile::tempdir().unwrap();
    let first_ref;
    {
        let db = Tsdb::open(dir.path(), every_commit()).unwrap();
        write_commits(&db, 0..300);
        first_ref = db.appender().append(&series(0), 300_000, 1.0).unwrap();
    }
    let db = Tsdb::open(dir.path(), every_commit()).unwrap();
    assert_eq!(dump(&db), expected(300));
    let stats = db.replay_stats();
    assert_eq!(
        (stats.series, stats.samples, stats.truncated_bytes),
        (SERIES as u64, 300 * SERIES as u64, 0)
    );
    // The uncommitted append above left no sample; the series reference is
    // the same after restart, and the newest sample still bounds appends.
    let mut app = db.appender();
    assert!(matches!(
        app.append_ref(first_ref, 299_000, 0.0),
        Err(TsdbError::DuplicateSample)
    ));
    assert!(matches!(
        app.append_ref(first_ref, 1_000, 0.0),
        Err(TsdbError::OutOfOrder)
    ));
    app.append_ref(first_ref, 299_000, value(299, 0)).unwrap();
    assert_eq!(app.len(), 0, "an exact repeat is ignored");
    app.append_ref(first_ref, 300_000, 42.0).unwrap();
    assert_eq!(app.commit().unwrap().rejected, 0);
    assert_eq!(db.head().stats().out_of_order, 1);
    drop(db);
    let db = Tsdb::open(dir.path(), every_commit()).unwrap();
    assert_eq!(
        dump(&db)[&series(0).to_string()].last(),
        Some(&(300_000, 42f64.to_bits()))
    );
}

#[test]
fn many_small_segments_replay_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let options = Options {
        segment_size: 2048,
        ..every_commit()
    };
    {
        let db = Tsdb::open(dir.path(), options.clone()).unwrap();
        write_commits(&db, 0..400);
    }
    assert!(
        segments(dir.path()).len() > 10,
        "{:?}",
        segments(dir.path())
    );
    let db = Tsdb::open(dir.path(), options).unwrap();
    assert_eq!(recovered_prefix(&db), 400);
}

#[test]
fn truncated_last_record_is_cut_and_the_rest_recovered() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = Tsdb::open(dir.path(), every_commit()).unwrap();
        write_commits(&db, 0..50);
    }
    let seg = last_written_segment(dir.path());
    let len = fs::metadata(&seg).unwrap().len();
    OpenOptions::new()
        .write(true)
        .open(&seg)
        .unwrap()
        .set_len(len - 3)
        .unwrap();
    {
        let db = Tsdb::open(dir.path(), every_commit()).unwrap();
        assert_eq!(recovered_prefix(&db), 49);
        assert!(db.replay_stats().truncated_bytes > 0);
        // The store goes on: the lost commit can be written again.
        write_commits(&db, 49..60);
    }
    let db = Tsdb::open(dir.path(), every_commit()).unwrap();
    assert_eq!(recovered_prefix(&db), 60);
    assert_eq!(
        db.replay_stats().truncated_bytes,
        0,
        "the repair was persisted"
    );
}

#[test]
fn flipped_byte_in_the_middle_of_the_last_segment_keeps_what_precedes_it() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = Tsdb::open(dir.path(), every_commit()).unwrap();
        write_commits(&db, 0..100);
    }
    let seg = last_written_segment(dir.path());
    let mut bytes = fs::read(&seg).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x40;
    fs::write(&seg, &bytes).unwrap();
    let db = Tsdb::open(dir.path(), every_commit()).unwrap();
    let n = recovered_prefix(&db);
    assert!((30..70).contains(&n), "recovered {n} of 100 commits");
    assert!(db.replay_stats().truncated_bytes > 0);
    write_commits(&db, n..n + 5);
    assert_eq!(recovered_prefix(&db), n + 5);
}

#[test]
fn garbage_appended_to_the_log_is_dropped() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = Tsdb::open(dir.path(), every_commit()).unwrap();
        write_commits(&db, 0..20);
    }
    let seg = last_written_segment(dir.path());
    let garbage: Vec<u8> = (0..333u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    OpenOptions::new()
        .append(true)
        .open(&seg)
        .unwrap()
        .write_all(&garbage)
        .unwrap();
    let db = Tsdb::open(dir.path(), every_commit()).unwrap();
    assert_eq!(recovered_prefix(&db), 20);
    assert_eq!(db.replay_stats().truncated_bytes, garbage.len() as u64);
}

#[test]
fn corruption_in_an_early_segment_drops_the_later_ones() {
    let dir = tempfile::tempdir().unwrap();
    let options = Options {
        segment_size: 4096,
        ..every_commit()
    };
    {
        let db = Tsdb::open(dir.path(), options.clone()).unwrap();
        write_commits(&db, 0..200);
    }
    let all = segments(dir.path());
    let second = &all[1];
    let mut bytes = fs::read(second).unwrap();
    bytes[100] ^= 0xff;
    fs::write(second, &bytes).unwrap();
    let db = Tsdb::open(dir.path(), options).unwrap();
    let n = recovered_prefix(&db);
    assert!(n > 0 && n < 200, "recovered {n}");
    assert_eq!(db.replay_stats().removed_segments as usize, all.len() - 2);
}

#[test]
fn interval_policy_reports_durability_within_the_interval() {
    let dir = tempfile::tempdir().unwrap();
    let interval = Duration::from_millis(30);
    let db = Tsdb::open(
        dir.path(),
        Options {
            sync: SyncPolicy::Interval(interval),
            ..Options::default()
        },
    )
    .unwrap();
    let mut commits = Vec::new();
    for c in 0..20 {
        let mut app = db.appender();
        app.append(&series(0), c, 1.0).unwrap();
        commits.push(app.commit().unwrap());
    }
    let started = std::time::Instant::now();
    db.wait_durable(commits.last().unwrap()).unwrap();
    assert!(
        started.elapsed() < interval * 20,
        "took {:?}",
        started.elapsed()
    );
    assert!(commits.iter().all(|c| db.is_durable(c)));
    assert!(commits.windows(2).all(|w| w[0].seq < w[1].seq));
    // Visible to queries as soon as committed, durable or not.
    assert_eq!(dump(&db)[&series(0).to_string()].len(), 20);
}

#[test]
fn empty_and_failed_appends_log_nothing() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = Tsdb::open(dir.path(), every_commit()).unwrap();
        let commit = db.appender().commit().unwrap();
        assert!(db.is_durable(&commit));
        let mut app = db.appender();
        assert!(matches!(
            app.append(&Labels::empty(), 1, 1.0),
            Err(TsdbError::EmptyLabels)
        ));
        app.append(&series(0), 10, 1.0).unwrap();
        assert!(matches!(
            app.append(&series(0), 5, 1.0),
            Err(TsdbError::OutOfOrder)
        ));
        assert!(matches!(
            app.append(&series(0), 10, 2.0),
            Err(TsdbError::DuplicateSample)
        ));
        drop(app); // rolled back
    }
    let db = Tsdb::open(dir.path(), every_commit()).unwrap();
    assert!(dump(&db).is_empty());
    assert_eq!(db.replay_stats().samples, 0);
}
