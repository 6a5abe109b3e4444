//! The storage engine end to end: appends, queries through the LogQL engine compared with `MemStore`, out-of-order and duplicate rules, flushes, reopening, a torn log, retention, tenants and the index API.

mod storage_support;

use std::time::Duration;

use logql::eval::{Direction, Engine, Query, QueryResult};
use logql::store::{EntryRef, MemStore, Store};
use logstore::storage::{AppendStream, Compression, Storage, StorageOptions, SyncPolicy};
use model::{Labels, MatchOp, Matcher};
use proptest::prelude::*;
use storage_support::{Rng, line};

const SEC: i64 = 1_000_000_000;
const HOUR: i64 = 3600 * SEC;
const DAY: i64 = 24 * HOUR;
/// A time well inside some day, so tests start far from a period edge.
const T0: i64 = 20_000 * DAY + 6 * HOUR;

fn opts(dir: &std::path::Path) -> StorageOptions {
    let mut o = StorageOptions::new(dir);
    // Small blocks and chunks, so that a few thousand lines exercise
    // sealing, flushing and merging.
    o.block_size = 2 << 10;
    o.chunk_target_size = 4 << 10;
    o
}

fn labels(pairs: &[(&str, &str)]) -> Labels {
    Labels::from_pairs(pairs.iter().copied())
}

/// Appends entries `(ts, line)` to one stream and returns the report.
fn push(
    s: &Storage,
    tenant: &str,
    l: &Labels,
    entries: &[(i64, &str)],
) -> logstore::storage::AppendReport {
    let refs: Vec<EntryRef<'_>> = entries
        .iter()
        .map(|&(ts_ns, line)| EntryRef {
            ts_ns,
            line,
            metadata: &Labels::EMPTY,
        })
        .collect();
    s.append(
        tenant,
        &[AppendStream {
            labels: l,
            entries: &refs,
        }],
        T0,
    )
    .unwrap()
}

fn run(store: &dyn Store, q: &str, query: &Query) -> QueryResult {
    let expr = logql::parse(q).unwrap();
    Engine::new(store).eval(&expr, query).unwrap()
}

fn log_query(start: i64, end: i64, direction: Direction, limit: usize) -> Query {
    let mut q = Query::range(start, end, SEC);
    q.direction = direction;
    q.limit = limit;
    q
}

/// Every entry of a selector, forward, as `(ts, line)`.
fn all(store: &dyn Store, sel: &str) -> Vec<(i64, String)> {
    match run(
        store,
        sel,
        &log_query(0, i64::MAX, Direction::Forward, usize::MAX),
    ) {
        QueryResult::Streams(streams) => {
            let mut out: Vec<(i64, String)> = streams.into_iter().flat_map(|s| s.entries).collect();
            out.sort();
            out
        }
        other => panic!("not streams: {other:?}"),
    }
}

/// Compares a storage with a `MemStore` fed the same data on a set of log
/// and metric queries, both directions, several limits.
fn assert_same(storage: &dyn Store, mem: &MemStore, start: i64, end: i64) {
    let selectors = [
        r#"{job="bench"}"#,
        r#"{job=~"bench|other"} |= "ERROR""#,
        r#"{host=~"h[0-9]", job!="none"}"#,
        // A block's lines are searched as one text: a match that would
        // run from one line into the next ("… ms" then "2026-…") is none.
        r#"{job=~".+"} |= "ms2026""#,
        r#"{job=~".+"} |= "Status: 5" != "GET""#,
    ];
    for sel in selectors {
        for dir in [Direction::Forward, Direction::Backward] {
            for limit in [1, 7, 100, 100_000] {
                let q = log_query(start, end, dir, limit);
                assert_eq!(
                    run(storage, sel, &q),
                    run(mem, sel, &q),
                    "{sel} {dir:?} limit {limit}"
                );
            }
        }
    }
    for metric in [
        r#"count_over_time({job="bench"} |= "ERROR" [5m])"#,
        r#"sum(count_over_time({job=~".+"} |= "ms2026" [5m]))"#,
        r#"sum by (host) (bytes_over_time({job=~".+"} |= "Status: 5" [10m]))"#,
        r#"sum by (host) (bytes_over_time({job=~".+"} [10m]))"#,
    ] {
        let q = Query::range(start, end, 60 * SEC);
        assert_eq!(run(storage, metric, &q), run(mem, metric, &q), "{metric}");
    }
}

/// Random entries over a few streams, in a mildly shuffled order within an
/// out-of-order window, with some exact duplicates.
fn workload(seed: u64, n: usize) -> Vec<(Labels, i64, String)> {
    let mut rng = Rng::new(seed);
    let streams = [
        labels(&[("job", "bench"), ("host", "h1")]),
        labels(&[("job", "bench"), ("host", "h2")]),
        labels(&[("job", "other"), ("host", "h1")]),
    ];
    let mut out = Vec::new();
    let mut ts = T0;
    for _ in 0..n {
        ts += rng.below(2 * SEC as u64) as i64;
        // A fifth of the entries arrive up to ten minutes late.
        let t = if rng.below(5) == 0 {
            ts - rng.below(600 * SEC as u64) as i64
        } else {
            ts
        };
        let s = rng.pick(&streams).clone();
        let l = line(&mut rng, t);
        if rng.below(20) == 0 {
            out.push((s.clone(), t, l.clone()));
        }
        out.push((s, t, l));
    }
    out
}

fn feed(storage: &Storage, mem: &mut MemStore, data: &[(Labels, i64, String)], flush_every: usize) {
    // Batches of about 37 entries; a duplicate stays in its original's
    // batch, since duplicates of entries already flushed are not detected
    // (as in Loki: the check covers what is in memory).
    let mut batches = Vec::new();
    let mut from = 0;
    while from < data.len() {
        let mut to = (from + 37).min(data.len());
        while to < data.len() && data[to] == data[to - 1] {
            to += 1;
        }
        batches.push(&data[from..to]);
        from = to;
    }
    for (i, chunk) in batches.into_iter().enumerate() {
        let refs: Vec<(Labels, EntryRef<'_>)> = chunk
            .iter()
            .map(|(l, t, line)| {
                (
                    l.clone(),
                    EntryRef {
                        ts_ns: *t,
                        line,
                        metadata: &Labels::EMPTY,
                    },
                )
            })
            .collect();
        let per_stream: Vec<(Labels, Vec<EntryRef<'_>>)> = {
            let mut v: Vec<(Labels, Vec<EntryRef<'_>>)> = Vec::new();
            for (l, e) in &refs {
                match v.iter_mut().find(|(x, _)| x == l) {
                    Some((_, es)) => es.push(*e),
                    None => v.push((l.clone(), vec![*e])),
                }
            }
            v
        };
        let batch: Vec<AppendStream<'_>> = per_stream
            .iter()
            .map(|(l, es)| AppendStream {
                labels: l,
                entries: es,
            })
            .collect();
        let report = storage.append("fake", &batch, T0).unwrap();
        assert!(!report.has_rejections());
        for (l, t, line) in chunk {
            mem.push(l, *t, line, &Labels::EMPTY);
        }
        if flush_every > 0 && i % flush_every == flush_every - 1 {
            storage.flush_all().unwrap();
        }
    }
}

#[test]
fn queries_over_head_and_chunks_equal_mem_store_both_ways_with_limits() {
    let tmp = tempfile::tempdir().unwrap();
    let storage = Storage::open(opts(tmp.path())).unwrap();
    let mut mem = MemStore::default();
    let data = workload(1, 3000);
    feed(&storage, &mut mem, &data, 20);
    let reader = storage.reader("fake");
    assert!(
        storage.metrics().chunks_flushed > 0,
        "some chunks went to files"
    );
    let end = data.iter().map(|d| d.1).max().unwrap() + 1;
    assert_same(&reader, &mem, T0 - HOUR, end);
    assert_same(&reader, &mem, T0 + 600 * SEC, T0 + 1200 * SEC);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn any_workload_reads_back_as_mem_store(seed in any::<u64>(), n in 1usize..600, flush_every in 0usize..5, codec in 0u8..4) {
        let tmp = tempfile::tempdir().unwrap();
        let mut o = opts(tmp.path());
        o.compression = [Compression::Zstd(1), Compression::Lz4, Compression::Snappy, Compression::None][codec as usize];
        let storage = Storage::open(o).unwrap();
        let mut mem = MemStore::default();
        let data = workload(seed, n);
        feed(&storage, &mut mem, &data, flush_every);
        let end = data.iter().map(|d| d.1).max().unwrap() + 1;
        assert_same(&storage.reader("fake"), &mem, T0 - HOUR, end);
    }
}

#[test]
fn out_of_order_entries_within_the_window_are_stored_and_read_sorted() {
    let tmp = tempfile::tempdir().unwrap();
    let s = Storage::open(opts(tmp.path())).unwrap();
    let l = labels(&[("job", "bench")]);
    push(
        &s,
        "fake",
        &l,
        &[(T0 + 50 * SEC, "c"), (T0 + 10 * SEC, "a")],
    );
    push(
        &s,
        "fake",
        &l,
        &[(T0 + 30 * SEC, "b"), (T0 - 3000 * SEC, "d")],
    );
    let got = all(&s.reader("fake"), r#"{job="bench"}"#);
    let lines: Vec<&str> = got.iter().map(|(_, l)| l.as_str()).collect();
    assert_eq!(lines, ["d", "a", "b", "c"]);
}

#[test]
fn entries_too_far_behind_are_refused_with_the_oldest_acceptable_time_and_the_rest_stored() {
    let tmp = tempfile::tempdir().unwrap();
    let s = Storage::open(opts(tmp.path())).unwrap();
    let l = labels(&[("job", "bench")]);
    push(&s, "fake", &l, &[(T0, "newest")]);
    let report = push(
        &s,
        "fake",
        &l,
        &[
            (T0 - HOUR - 1, "too old"),
            (T0 - HOUR, "just in"),
            (T0 + 1, "new"),
        ],
    );
    let st = &report.streams[0];
    assert_eq!(st.accepted, 2);
    assert_eq!(st.rejected.len(), 1);
    assert_eq!(
        (
            st.rejected[0].index,
            st.rejected[0].ts_ns,
            st.rejected[0].oldest_acceptable_ns
        ),
        (0, T0 - HOUR - 1, T0 - HOUR)
    );
    assert_eq!(all(&s.reader("fake"), r#"{job="bench"}"#).len(), 3);
    assert_eq!(s.metrics().entries_rejected, 1);
}

#[test]
fn exact_duplicates_are_dropped_silently_in_head_blocks_and_batches() {
    let tmp = tempfile::tempdir().unwrap();
    let s = Storage::open(opts(tmp.path())).unwrap();
    let l = labels(&[("job", "bench")]);
    let big = "x".repeat(3000); // larger than a block: sealed at once
    let r = push(
        &s,
        "fake",
        &l,
        &[(T0, "a"), (T0, "a"), (T0, "b"), (T0 + 1, &big)],
    );
    assert_eq!((r.streams[0].accepted, r.streams[0].duplicates), (3, 1));
    // A retried batch, now partly in a sealed block.
    let r = push(
        &s,
        "fake",
        &l,
        &[(T0, "a"), (T0, "b"), (T0 + 1, &big), (T0 + 1, "c")],
    );
    assert_eq!((r.streams[0].accepted, r.streams[0].duplicates), (1, 3));
    assert_eq!(all(&s.reader("fake"), r#"{job="bench"}"#).len(), 4);
    assert_eq!(s.metrics().duplicates_dropped, 4);
}

#[test]
fn reopening_after_close_or_crash_restores_everything_once() {
    let tmp = tempfile::tempdir().unwrap();
    let mut mem = MemStore::default();
    let data = workload(9, 1500);
    let (first, second) = data.split_at(900);
    {
        let s = Storage::open(opts(tmp.path())).unwrap();
        feed(&s, &mut mem, first, 7);
        s.close().unwrap();
        assert!(
            s.append("fake", &[], T0).is_ok(),
            "an empty batch touches nothing"
        );
    }
    let end = data.iter().map(|d| d.1).max().unwrap() + 1;
    {
        let s = Storage::open(opts(tmp.path())).unwrap();
        assert_same(&s.reader("fake"), &mem, T0 - HOUR, end);
        feed(&s, &mut mem, second, 0);
        // Dropped without close: as after a crash, the log has it all.
    }
    let s = Storage::open(opts(tmp.path())).unwrap();
    assert_same(&s.reader("fake"), &mem, T0 - HOUR, end);
    // Flushing everything, then maintenance, leaves no log behind.
    s.flush_all().unwrap();
    s.maintain(T0).unwrap();
    assert!(s.metrics().wal_bytes == 0, "{:?}", s.metrics());
    drop(s);
    let s = Storage::open(opts(tmp.path())).unwrap();
    assert_same(&s.reader("fake"), &mem, T0 - HOUR, end);
}

#[test]
fn a_torn_log_tail_loses_only_the_torn_record() {
    let tmp = tempfile::tempdir().unwrap();
    let l = labels(&[("job", "bench")]);
    {
        let s = Storage::open(opts(tmp.path())).unwrap();
        push(&s, "fake", &l, &[(T0, "first")]);
        push(&s, "fake", &l, &[(T0 + 1, "second")]);
    }
    let wal = tmp.path().join("wal");
    let mut segs: Vec<_> = std::fs::read_dir(&wal)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    segs.sort();
    let last = segs
        .iter()
        .rev()
        .find(|p| std::fs::metadata(p).unwrap().len() > 0)
        .unwrap();
    let len = std::fs::metadata(last).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(last)
        .unwrap()
        .set_len(len - 2)
        .unwrap();
    let s = Storage::open(opts(tmp.path())).unwrap();
    let got = all(&s.reader("fake"), r#"{job="bench"}"#);
    assert_eq!(got, [(T0, "first".to_owned())]);
    push(&s, "fake", &l, &[(T0 + 2, "third")]);
    drop(s);
    let s = Storage::open(opts(tmp.path())).unwrap();
    assert_eq!(all(&s.reader("fake"), r#"{job="bench"}"#).len(), 2);
}

#[test]
fn idle_and_old_chunks_are_flushed_by_maintenance() {
    let tmp = tempfile::tempdir().unwrap();
    let mut o = opts(tmp.path());
    o.chunk_target_size = 1 << 30;
    let s = Storage::open(o).unwrap();
    let l = labels(&[("job", "bench")]);
    push(&s, "fake", &l, &[(T0, "a")]);
    s.maintain(T0 + 60 * SEC).unwrap();
    assert_eq!(s.metrics().chunks_flushed, 0);
    s.maintain(T0 + 31 * 60 * SEC).unwrap();
    assert_eq!(s.metrics().chunks_flushed, 1);
    assert_eq!(all(&s.reader("fake"), r#"{job="bench"}"#).len(), 1);
}

#[test]
fn retention_deletes_whole_old_periods_only() {
    let tmp = tempfile::tempdir().unwrap();
    let s = Storage::open(opts(tmp.path())).unwrap();
    let l = labels(&[("job", "bench")]);
    for day in 0..3 {
        let t = T0 + day * DAY;
        let refs = [EntryRef {
            ts_ns: t,
            line: "x",
            metadata: &Labels::EMPTY,
        }];
        s.append(
            "fake",
            &[AppendStream {
                labels: &l,
                entries: &refs,
            }],
            t,
        )
        .unwrap();
        s.flush_all().unwrap();
    }
    let periods = |s: &Storage| s.series("fake", &[], 0, i64::MAX).len();
    assert_eq!(periods(&s), 1);
    // Now is day 2 + 6h; keeping 30h keeps day 1 (which ends after now - 30h).
    let removed = s
        .apply_retention(T0 + 2 * DAY, Duration::from_secs(30 * 3600))
        .unwrap();
    assert_eq!(removed, 1);
    let got = all(&s.reader("fake"), r#"{job="bench"}"#);
    assert_eq!(
        got.iter().map(|g| g.0).collect::<Vec<_>>(),
        [T0 + DAY, T0 + 2 * DAY]
    );
    let tenant_dir = tmp.path().join("tenants").join("fake");
    let mut left: Vec<_> = std::fs::read_dir(&tenant_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    left.sort();
    assert_eq!(left, ["20001", "20002", "retained_from"]);
    drop(s);
    let s = Storage::open(opts(tmp.path())).unwrap();
    assert_eq!(all(&s.reader("fake"), r#"{job="bench"}"#).len(), 2);
}

#[test]
fn a_tenant_never_sees_another_tenants_data() {
    let tmp = tempfile::tempdir().unwrap();
    let s = Storage::open(opts(tmp.path())).unwrap();
    let l = labels(&[("job", "bench")]);
    push(&s, "a", &l, &[(T0, "for a")]);
    push(&s, "b/../c", &l, &[(T0, "for b")]);
    s.flush_all().unwrap();
    push(&s, "a", &l, &[(T0 + 1, "a again")]);
    assert_eq!(all(&s.reader("a"), r#"{job="bench"}"#).len(), 2);
    assert_eq!(
        all(&s.reader("b/../c"), r#"{job="bench"}"#),
        [(T0, "for b".to_owned())]
    );
    assert!(all(&s.reader("nobody"), r#"{job="bench"}"#).is_empty());
    assert_eq!(s.label_names("b/../c", 0, i64::MAX, &[]), ["job"]);
    assert!(s.label_names("nobody", 0, i64::MAX, &[]).is_empty());
    drop(s);
    let s = Storage::open(opts(tmp.path())).unwrap();
    assert_eq!(all(&s.reader("b/../c"), r#"{job="bench"}"#).len(), 1);
    assert!(s.append("", &[], T0).is_err());
}

#[test]
fn the_index_api_answers_from_index_and_head() {
    let tmp = tempfile::tempdir().unwrap();
    let s = Storage::open(opts(tmp.path())).unwrap();
    push(
        &s,
        "fake",
        &labels(&[("job", "api"), ("env", "prod")]),
        &[(T0, "12345"), (T0 + 1, "1")],
    );
    s.flush_all().unwrap();
    push(
        &s,
        "fake",
        &labels(&[("job", "api"), ("env", "dev")]),
        &[(T0 + 5, "123")],
    );
    push(
        &s,
        "fake",
        &labels(&[("job", "web")]),
        &[(T0 + 10 * HOUR, "x")],
    );
    let job_api = [Matcher::new(MatchOp::Equal, "job", "api").unwrap()];
    assert_eq!(s.label_names("fake", T0, T0 + HOUR, &[]), ["env", "job"]);
    assert_eq!(
        s.label_values("fake", "env", T0, T0 + HOUR, &job_api),
        ["dev", "prod"]
    );
    assert_eq!(
        s.label_values("fake", "job", T0, T0 + 20 * HOUR, &[]),
        ["api", "web"]
    );
    assert_eq!(
        s.series("fake", &[job_api.to_vec()], T0 + 2, T0 + HOUR),
        [labels(&[("job", "api"), ("env", "dev")])]
    );
    let st = s.index_stats("fake", &job_api, T0, T0 + HOUR);
    assert_eq!((st.streams, st.chunks, st.entries, st.bytes), (2, 2, 3, 9));
    let v = s.volume("fake", &[], T0, T0 + 20 * HOUR, &["job".to_owned()]);
    assert_eq!(
        v,
        [
            (labels(&[("job", "api")]), 9),
            (labels(&[("job", "web")]), 1)
        ]
    );
}

#[test]
fn periodic_sync_acknowledges_without_waiting_and_still_replays() {
    let tmp = tempfile::tempdir().unwrap();
    let mut o = opts(tmp.path());
    o.sync = SyncPolicy::Interval(Duration::from_millis(10));
    let l = labels(&[("job", "bench")]);
    {
        let s = Storage::open(o.clone()).unwrap();
        push(&s, "fake", &l, &[(T0, "a")]);
        s.close().unwrap();
        assert!(matches!(
            s.append(
                "fake",
                &[AppendStream {
                    labels: &l,
                    entries: &[EntryRef {
                        ts_ns: T0,
                        line: "b",
                        metadata: &Labels::EMPTY
                    }]
                }],
                T0
            ),
            Err(logstore::storage::StorageError::Closed)
        ));
    }
    let s = Storage::open(o).unwrap();
    assert_eq!(all(&s.reader("fake"), r#"{job="bench"}"#).len(), 1);
}

#[test]
fn corrupt_chunk_and_index_files_never_panic_on_open_or_query() {
    let tmp = tempfile::tempdir().unwrap();
    let l = labels(&[("job", "bench")]);
    {
        let s = Storage::open(opts(tmp.path())).unwrap();
        let lines: Vec<String> = (0..200).map(|i| format!("line {i}")).collect();
        let entries: Vec<(i64, &str)> = lines
            .iter()
            .enumerate()
            .map(|(i, l)| (T0 + i as i64, l.as_str()))
            .collect();
        push(&s, "fake", &l, &entries);
        s.flush_all().unwrap();
        s.maintain(T0).unwrap();
    }
    let mut files = Vec::new();
    for e in walk(tmp.path()) {
        if e.is_file() {
            files.push(e);
        }
    }
    let mut rng = Rng::new(3);
    for round in 0..40 {
        let copy = tempfile::tempdir().unwrap();
        for f in &files {
            let rel = f.strip_prefix(tmp.path()).unwrap();
            let dst = copy.path().join(rel);
            std::fs::create_dir_all(dst.parent().unwrap()).unwrap();
            std::fs::copy(f, &dst).unwrap();
        }
        // Damage one file: flip bytes, or cut it.
        let victim = copy
            .path()
            .join(rng.pick(&files).strip_prefix(tmp.path()).unwrap());
        let mut bytes = std::fs::read(&victim).unwrap();
        if !bytes.is_empty() {
            if round % 2 == 0 {
                for _ in 0..3 {
                    let i = rng.below(bytes.len() as u64) as usize;
                    bytes[i] ^= 1 << rng.below(8);
                }
            } else {
                bytes.truncate(rng.below(bytes.len() as u64) as usize);
            }
            std::fs::write(&victim, &bytes).unwrap();
        }
        if let Ok(s) = Storage::open(opts(copy.path())) {
            let expr = logql::parse(r#"{job="bench"}"#).unwrap();
            let _ = Engine::new(&s.reader("fake"))
                .eval(&expr, &log_query(0, i64::MAX, Direction::Forward, 1000));
        }
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}
