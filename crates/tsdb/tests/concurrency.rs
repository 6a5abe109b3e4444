//! Appends, queries and compactions running at once: nothing lost, nothing doubled, replay agrees.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicUsize, Ordering};
use std::time::Duration;

use model::Labels;
use tsdb::{Options, Queryable, SyncPolicy, Tsdb};

const WRITERS: usize = 4;
const SERIES_PER_WRITER: usize = 20;
const COMMITS_PER_WRITER: usize = 300;

fn dump(db: &Tsdb) -> BTreeMap<String, Vec<(i64, u64)>> {
    let q = db.querier(i64::MIN, i64::MAX).unwrap();
    q.select(&[])
        .unwrap()
        .iter()
        .map(|s| {
            let samples: Vec<_> = s.samples().map(|(t, v)| (t, v.to_bits())).collect();
            (s.labels().to_string(), samples)
        })
        .collect()
}

#[test]
fn concurrent_appends_queries_and_compactions_stay_consistent() {
    let dir = tempfile::tempdir().unwrap();
    let options = Options {
        sync: SyncPolicy::Interval(Duration::from_millis(2)),
        segment_size: 64 * 1024,
        block_duration: 50,
        retention_time: None,
        retention_size: None,
    };
    let db = Tsdb::open(dir.path(), options.clone()).unwrap();
    let clock = AtomicI64::new(0);
    let accepted = AtomicUsize::new(0);
    let done = AtomicBool::new(false);
    std::thread::scope(|scope| {
        for w in 0..WRITERS {
            let (db, clock, accepted) = (&db, &clock, &accepted);
            scope.spawn(move || {
                for _ in 0..COMMITS_PER_WRITER {
                    let t = clock.fetch_add(1, Ordering::Relaxed);
                    let mut app = db.appender();
                    let mut ok = 0;
                    for i in 0..SERIES_PER_WRITER {
                        let labels =
                            Labels::from_pairs([("w", w.to_string()), ("i", i.to_string())]);
                        // A thread that fell behind a block cut gets
                        // out-of-bounds errors; those samples are not stored.
                        ok += usize::from(app.append(&labels, t, t as f64).is_ok());
                    }
                    // One series all writers race on: out-of-order losers are
                    // refused at append or at commit.
                    let shared = Labels::from_pairs([("shared", "yes")]);
                    ok += usize::from(app.append(&shared, t, w as f64).is_ok());
                    let commit = app.commit().unwrap();
                    accepted.fetch_add(ok - commit.rejected, Ordering::Relaxed);
                }
            });
        }
        scope.spawn(|| {
            while !done.load(Ordering::Relaxed) {
                for samples in dump(&db).values() {
                    assert!(
                        samples.windows(2).all(|w| w[0].0 < w[1].0),
                        "strictly increasing"
                    );
                }
            }
        });
        scope.spawn(|| {
            while !done.load(Ordering::Relaxed) {
                db.compact().unwrap();
                std::thread::sleep(Duration::from_millis(1));
            }
        });
        // Writers are the first WRITERS threads; wait for them by polling
        // the clock rather than joining, so the others can be told to stop.
        while clock.load(Ordering::Relaxed) < (WRITERS * COMMITS_PER_WRITER) as i64 {
            std::thread::sleep(Duration::from_millis(5));
        }
        std::thread::sleep(Duration::from_millis(50));
        done.store(true, Ordering::Relaxed);
    });
    db.compact().unwrap();
    let before = dump(&db);
    let stored: usize = before.values().map(Vec::len).sum();
    assert_eq!(stored, accepted.load(Ordering::Relaxed));
    assert!(!db.blocks().is_empty());
    assert!(stored > WRITERS * COMMITS_PER_WRITER * SERIES_PER_WRITER / 2);
    drop(db);
    let db = Tsdb::open(dir.path(), options).unwrap();
    assert_eq!(
        dump(&db),
        before,
        "replay reproduces exactly what was visible"
    );
}
