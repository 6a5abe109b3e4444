//! Blocks: head cuts, queries across blocks and head, compaction, retention, crash leftovers.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use model::{Labels, MatchOp, Matcher};
use tsdb::{Options, Queryable, SyncPolicy, Tsdb, TsdbError};

const BLOCK: i64 = 1000;
const STEP: i64 = 10;

fn options() -> Options {
    Options {
        sync: SyncPolicy::EveryCommit,
        block_duration: BLOCK,
        retention_time: None,
        retention_size: None,
        ..Options::default()
    }
}

fn series(i: usize) -> Labels {
    Labels::from_pairs([("__name__", "m".to_string()), ("i", i.to_string())])
}

type Dump = BTreeMap<String, Vec<(i64, u64)>>;

fn dump_range(db: &Tsdb, mint: i64, maxt: i64) -> Dump {
    let q = db.querier(mint, maxt).unwrap();
    q.select(&[])
        .unwrap()
        .iter()
        .map(|s| {
            let samples: Vec<_> = s.samples().map(|(t, v)| (t, v.to_bits())).collect();
            (s.labels().to_string(), samples)
        })
        .collect()
}

fn dump(db: &Tsdb) -> Dump {
    dump_range(db, i64::MIN, i64::MAX)
}

/// Appends samples at `STEP` intervals in `[from, to)` for series `0..n`,
/// one commit per timestamp, and returns what was written.
fn fill(db: &Tsdb, n: usize, from: i64, to: i64, model: &mut Dump) {
    for t in (from..to).step_by(STEP as usize) {
        let mut app = db.appender();
        for i in 0..n {
            let v = (t as f64).sqrt() + i as f64;
            app.append(&series(i), t, v).unwrap();
            model
                .entry(series(i).to_string())
                .or_default()
                .push((t, v.to_bits()));
        }
        assert_eq!(app.commit().unwrap().rejected, 0);
    }
}

fn block_dirs(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != "wal")
        .collect();
    names.sort();
    names
}

#[test]
fn head_cut_moves_old_samples_to_a_block_and_queries_see_everything_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = Tsdb::open(dir.path(), options()).unwrap();
    let mut model = Dump::new();
    fill(&db, 3, 0, 2600, &mut model);
    let report = db.compact().unwrap();
    // Head spans [0, 2600): cut [0, 1000) only; [1000, 2000) needs the
    // head to reach 2500, which it does, so both are cut.
    assert_eq!(report.blocks_cut, 2);
    assert_eq!(db.blocks().len(), 2);
    assert_eq!(db.blocks()[0].meta().stats.samples, 3 * 100);
    assert_eq!(db.head().min_valid(), 2000);
    assert_eq!(dump(&db), model);
    // A range across the block boundary and the head boundary.
    let part = dump_range(&db, 990, 2010);
    assert_eq!(part[&series(0).to_string()].len(), 3 + 100);
    // Too old for the head now.
    let mut app = db.appender();
    let err = app.append(&series(0), 1990, 1.0).unwrap_err();
    assert!(
        matches!(err, TsdbError::OutOfBounds { min_valid: 2000 }),
        "{err}"
    );
    drop(app);
    drop(db);

    let db = Tsdb::open(dir.path(), options()).unwrap();
    assert_eq!(dump(&db), model);
    let stats = db.replay_stats();
    assert_eq!(stats.samples, 3 * 60, "only the head's part is replayed");
    // The checkpoint replaced the segments the cut made redundant.
    let wal: Vec<_> = fs::read_dir(dir.path().join("wal")).unwrap().collect();
    assert!(wal.len() <= 3, "{wal:?}");
    fill(&db, 3, 2600, 2700, &mut model);
    assert_eq!(dump(&db), model);
}

#[test]
fn label_queries_merge_blocks_and_head() {
    let dir = tempfile::tempdir().unwrap();
    let db = Tsdb::open(dir.path(), options()).unwrap();
    let mut model = Dump::new();
    fill(&db, 2, 0, 1600, &mut model);
    db.compact().unwrap();
    // A series that only exists in the head.
    let mut app = db.appender();
    app.append(
        &Labels::from_pairs([("__name__", "late"), ("zone", "z")]),
        1700,
        1.0,
    )
    .unwrap();
    let _ = app.commit().unwrap();
    let q = db.querier(0, 5000).unwrap();
    assert_eq!(q.label_names(&[]).unwrap(), ["__name__", "i", "zone"]);
    assert_eq!(q.label_values("__name__", &[]).unwrap(), ["late", "m"]);
    let old_only = db.querier(0, 500).unwrap();
    let m = Matcher::new(MatchOp::Regex, "i", "1|2").unwrap();
    let got = old_only.select(&[m]).unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].samples().count(), 51);
}

#[test]
fn series_without_recent_samples_leave_the_head_but_not_the_data() {
    let dir = tempfile::tempdir().unwrap();
    let db = Tsdb::open(dir.path(), options()).unwrap();
    let mut model = Dump::new();
    fill(&db, 2, 0, 500, &mut model);
    let old_ref = db.appender().append(&series(1), 600, 0.0).unwrap();
    // Only series 0 goes on.
    fill(&db, 1, 500, 1600, &mut model);
    let report = db.compact().unwrap();
    assert_eq!(report.series_dropped, 1);
    assert_eq!(db.head().stats().series, 1);
    assert_eq!(dump(&db), model);
    let mut app = db.appender();
    assert!(matches!(
        app.append_ref(old_ref, 1600, 1.0),
        Err(TsdbError::UnknownSeries(_))
    ));
    app.append(&series(1), 1600, 7.0).unwrap();
    let _ = app.commit().unwrap();
    model
        .get_mut(&series(1).to_string())
        .unwrap()
        .push((1600, 7f64.to_bits()));
    assert_eq!(dump(&db), model);
    drop(db);
    let db = Tsdb::open(dir.path(), options()).unwrap();
    assert_eq!(dump(&db), model);
}

#[test]
fn compaction_merges_a_complete_window_into_one_block() {
    let dir = tempfile::tempdir().unwrap();
    let db = Tsdb::open(dir.path(), options()).unwrap();
    let mut model = Dump::new();
    fill(&db, 2, 0, 4600, &mut model);
    let report = db.compact().unwrap();
    assert_eq!(report.blocks_cut, 4);
    // [0, 3000) is a complete 3-block window; [3000, 4000) is alone.
    assert_eq!(report.blocks_merged, 1);
    let metas: Vec<_> = db.blocks().iter().map(|b| b.meta().clone()).collect();
    assert_eq!(
        metas
            .iter()
            .map(|m| (m.min_time, m.max_time, m.level))
            .collect::<Vec<_>>(),
        [(0, 3000, 2), (3000, 4000, 1)]
    );
    assert_eq!(metas[0].parents.len(), 3);
    assert_eq!(metas[0].stats.samples, 2 * 300);
    assert_eq!(block_dirs(dir.path()), ["b0_3000", "b3000_4000"]);
    assert_eq!(dump(&db), model);
    drop(db);
    let db = Tsdb::open(dir.path(), options()).unwrap();
    assert_eq!(dump(&db), model);
}

#[test]
fn leftovers_of_a_crash_during_compaction_are_cleaned_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let mut model = Dump::new();
    {
        let db = Tsdb::open(dir.path(), options()).unwrap();
        fill(&db, 2, 0, 3400, &mut model);
        // Cut without merging yet: the window [0, 3000) is not over.
        db.compact().unwrap();
        assert_eq!(db.blocks().len(), 2);
    }
    // Keep copies of the parents, as if the crash came after the merged
    // block was published but before they were deleted.
    let saved = dir.path().join("saved");
    fs::create_dir(&saved).unwrap();
    for name in ["b0_1000", "b1000_2000"] {
        copy_dir(&dir.path().join(name), &saved.join(name));
    }
    {
        let db = Tsdb::open(dir.path(), options()).unwrap();
        fill(&db, 2, 3400, 4600, &mut model);
        assert_eq!(db.compact().unwrap().blocks_merged, 1);
    }
    for name in ["b0_1000", "b1000_2000"] {
        copy_dir(&saved.join(name), &dir.path().join(name));
    }
    fs::remove_dir_all(&saved).unwrap();
    // And an unfinished block.
    fs::create_dir(dir.path().join("b5000_6000.tmp")).unwrap();
    let db = Tsdb::open(dir.path(), options()).unwrap();
    assert_eq!(block_dirs(dir.path()), ["b0_3000", "b3000_4000"]);
    assert_eq!(dump(&db), model, "no sample twice");
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

#[test]
fn retention_by_time_deletes_whole_old_blocks() {
    let dir = tempfile::tempdir().unwrap();
    let db = Tsdb::open(
        dir.path(),
        Options {
            retention_time: Some(2500),
            ..options()
        },
    )
    .unwrap();
    let mut model = Dump::new();
    fill(&db, 1, 0, 4600, &mut model);
    let report = db.compact().unwrap();
    // Newest sample 4590: blocks ending at or before 2090 go, i.e. [0,1000)
    // and [1000,2000); retention/10 is below one block, so no merging.
    assert_eq!(report.blocks_deleted, 2);
    let ranges: Vec<_> = db.blocks().iter().map(|b| b.meta().min_time).collect();
    assert_eq!(ranges, [2000, 3000]);
    let got = dump(&db);
    let first = got[&series(0).to_string()][0].0;
    assert_eq!(first, 2000);
    assert_eq!(block_dirs(dir.path()), ["b2000_3000", "b3000_4000"]);
}

#[test]
fn retention_by_size_deletes_the_oldest_blocks_first() {
    let dir = tempfile::tempdir().unwrap();
    let mut model = Dump::new();
    let sizes: Vec<u64>;
    {
        let db = Tsdb::open(dir.path(), options()).unwrap();
        fill(&db, 3, 0, 3400, &mut model);
        db.compact().unwrap();
        sizes = db.blocks().iter().map(|b| b.size_bytes()).collect();
        assert_eq!(sizes.len(), 2);
    }
    let wal_size: u64 = fs::read_dir(dir.path().join("wal"))
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum();
    // Room for the log and the newest block only (plus slack for the
    // segment opening adds, which is empty).
    let limit = wal_size + sizes[1] + 10;
    let db = Tsdb::open(
        dir.path(),
        Options {
            retention_size: Some(limit),
            ..options()
        },
    )
    .unwrap();
    assert_eq!(db.compact().unwrap().blocks_deleted, 1);
    assert_eq!(block_dirs(dir.path()), ["b1000_2000"]);
    let first = dump(&db)[&series(0).to_string()][0].0;
    assert_eq!(first, 1000);
}

#[test]
fn a_gap_in_time_cuts_only_blocks_that_hold_samples() {
    let dir = tempfile::tempdir().unwrap();
    let db = Tsdb::open(dir.path(), options()).unwrap();
    let mut model = Dump::new();
    // Two samples a million blocks apart in one series' open chunk, then
    // regular samples after the gap.
    fill(&db, 1, 0, 20, &mut model);
    let far = BLOCK * 1_000_000;
    fill(&db, 1, far, far + 1600, &mut model);
    let report = db.compact().unwrap();
    assert_eq!(report.blocks_cut, 2);
    let ranges: Vec<_> = db.blocks().iter().map(|b| b.meta().min_time).collect();
    assert_eq!(ranges, [0, far]);
    assert_eq!(dump(&db), model);
}

#[test]
fn a_damaged_checkpoint_is_refused_not_half_read() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = Tsdb::open(dir.path(), options()).unwrap();
        fill(&db, 2, 0, 1600, &mut Dump::new());
        db.compact().unwrap();
    }
    let checkpoint = fs::read_dir(dir.path().join("wal"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().contains("checkpoint."))
        .expect("a cut writes a checkpoint");
    let mut bytes = fs::read(&checkpoint).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x01;
    fs::write(&checkpoint, bytes).unwrap();
    let err = Tsdb::open(dir.path(), options()).unwrap_err();
    assert!(matches!(err, TsdbError::Corrupt { .. }), "{err}");
}

#[test]
fn background_compactor_cuts_blocks_and_stops_when_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let db = std::sync::Arc::new(Tsdb::open(dir.path(), options()).unwrap());
    let compactor = Tsdb::spawn_compactor(&db, std::time::Duration::from_millis(5)).unwrap();
    let mut model = Dump::new();
    fill(&db, 2, 0, 1600, &mut model);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while db.blocks().is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    assert_eq!(db.blocks().len(), 1, "the compactor cut [0, 1000)");
    drop(compactor);
    fill(&db, 2, 1600, 2600, &mut model);
    std::thread::sleep(std::time::Duration::from_millis(50));
    assert_eq!(
        db.blocks().len(),
        1,
        "a dropped compactor does nothing more"
    );
    assert_eq!(dump(&db), model);
}

#[test]
fn extreme_timestamps_do_not_break_compaction() {
    let dir = tempfile::tempdir().unwrap();
    let db = Tsdb::open(dir.path(), options()).unwrap();
    let mut app = db.appender();
    app.append(&series(0), i64::MIN, 1.0).unwrap();
    app.append(&series(0), i64::MAX, 2.0).unwrap();
    let _ = app.commit().unwrap();
    db.compact().unwrap();
    let got = dump(&db);
    assert_eq!(
        got[&series(0).to_string()],
        [(i64::MIN, 1f64.to_bits()), (i64::MAX, 2f64.to_bits())]
    );
}

#[test]
fn select_merges_blocks_and_head_sorted_and_each_series_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = Tsdb::open(dir.path(), options()).unwrap();
    let mut model = Dump::new();
    // Series 0..4 in the first block, 2..6 in the second, 4..8 in the head:
    // every part has series the others lack, and some share.
    fill(&db, 4, 0, 1000, &mut model);
    let mut shifted = |n: std::ops::Range<usize>, from: i64, to: i64| {
        for t in (from..to).step_by(STEP as usize) {
            let mut app = db.appender();
            for i in n.clone() {
                app.append(&series(i), t, i as f64).unwrap();
                model
                    .entry(series(i).to_string())
                    .or_default()
                    .push((t, (i as f64).to_bits()));
            }
            assert_eq!(app.commit().unwrap().rejected, 0);
        }
    };
    shifted(2..6, 1000, 2000);
    shifted(4..8, 2000, 2600);
    db.compact().unwrap();
    assert_eq!(db.blocks().len(), 2);
    let selected = db.querier(i64::MIN, i64::MAX).unwrap().select(&[]).unwrap();
    let labels: Vec<&Labels> = selected.iter().map(|s| s.labels()).collect();
    let mut sorted = labels.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(labels, sorted, "sorted, each series once");
    assert_eq!(labels.len(), 8);
    assert_eq!(dump(&db), model);
}

#[test]
fn a_series_handle_appends_until_a_cut_drops_its_series() {
    let dir = tempfile::tempdir().unwrap();
    let db = Tsdb::open(dir.path(), options()).unwrap();
    let mut app = db.appender();
    let old = app.append_series(&series(0), 0, 1.0).unwrap();
    let kept = app.append_series(&series(1), 0, 1.0).unwrap();
    app.append_to(&old, 10, 2.0).unwrap();
    assert!(matches!(
        app.append_to(&old, 5, 2.0),
        Err(TsdbError::OutOfOrder)
    ));
    assert_eq!(app.commit().unwrap().rejected, 0);
    let mut app = db.appender();
    app.append_to(&kept, 2600, 3.0).unwrap();
    assert_eq!(app.commit().unwrap().rejected, 0);
    db.compact().unwrap();
    // Series 0 has nothing left in the head; series 1 has.
    let mut app = db.appender();
    assert!(matches!(
        app.append_to(&old, 2610, 4.0),
        Err(TsdbError::UnknownSeries(_))
    ));
    app.append_to(&kept, 2610, 4.0).unwrap();
    assert_eq!(app.commit().unwrap().rejected, 0);
    let samples = dump(&db);
    assert_eq!(samples[&series(1).to_string()].len(), 3);
    assert_eq!(samples[&series(0).to_string()].len(), 2);
    assert_eq!(kept.series_ref(), {
        let mut app = db.appender();
        app.append(&series(1), 2620, 5.0).unwrap()
    });
}
