//! Append throughput and bytes per sample, on the workload of `promtool tsdb bench write`.
//!
//! Same shape as promtool's benchmark so the figures compare: label sets read
//! from a file of JSON objects (one per line), series in shards of 1,000
//! ingested by one thread each, rounds of 100 scrapes 30 s apart, one commit
//! per shard and scrape, values starting at 123456789 and growing by 1000,
//! appends by reference after the first scrape. Compaction is off during
//! ingestion, as in promtool; `--compact` then cuts and merges blocks and
//! reports their size too.
//!
//! ```text
//! cargo bench -p vigil-tsdb --bench write -- [--metrics N] [--scrapes N] [--out DIR] [--compact] FILE
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use model::Labels;
use tsdb::{Options, SeriesRef, Tsdb};

const TIME_DELTA: i64 = 30_000;
const SHARD: usize = 1000;
const SCRAPES_PER_ROUND: usize = 100;

struct Args {
    metrics: usize,
    scrapes: usize,
    out: PathBuf,
    compact: bool,
    file: PathBuf,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        metrics: 10_000,
        scrapes: 3000,
        out: PathBuf::from("benchout-vigil"),
        compact: false,
        file: PathBuf::new(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = |name: &str| it.next().ok_or(format!("{name} needs a value"));
        match a.as_str() {
            "--metrics" => {
                args.metrics = value("--metrics")?.parse().map_err(|e| format!("{e}"))?
            }
            "--scrapes" => {
                args.scrapes = value("--scrapes")?.parse().map_err(|e| format!("{e}"))?
            }
            "--out" => args.out = PathBuf::from(value("--out")?),
            "--compact" => args.compact = true,
            // `cargo bench` passes `--bench`.
            flag if flag.starts_with("--") => {}
            file => args.file = PathBuf::from(file),
        }
    }
    if args.file.as_os_str().is_empty() {
        return Err("usage: write [--metrics N] [--scrapes N] [--out DIR] [--compact] FILE".into());
    }
    Ok(args)
}

fn read_labels(path: &Path, n: usize) -> Result<Vec<Labels>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for line in text.lines() {
        if out.len() == n {
            break;
        }
        let map: BTreeMap<String, String> =
            serde_json::from_str(line).map_err(|e| format!("{e}: {line}"))?;
        let labels = Labels::from_pairs(map);
        if seen.insert(labels.clone()) {
            out.push(labels);
        }
    }
    Ok(out)
}

/// One shard's share of a round: `scrapes` commits of its series.
fn ingest_shard(
    db: &Tsdb,
    shard: &[Labels],
    refs: &mut [Option<SeriesRef>],
    values: &mut [f64],
    base: i64,
) -> usize {
    let mut t = base;
    let mut total = 0;
    for _ in 0..SCRAPES_PER_ROUND {
        t += TIME_DELTA;
        let mut app = db.appender();
        for ((labels, r), v) in shard.iter().zip(refs.iter_mut()).zip(values.iter_mut()) {
            *v += 1000.0;
            match r {
                Some(r) => app.append_ref(*r, t, *v).expect("append by ref"),
                None => *r = Some(app.append(labels, t, *v).expect("append")),
            }
            total += 1;
        }
        let commit = app.commit().expect("commit");
        assert_eq!(commit.rejected, 0);
    }
    total
}

fn dir_size(path: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(path) else {
        return 0;
    };
    entries
        .filter_map(Result::ok)
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_size(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

/// Resident and peak resident memory of this process, in KiB.
fn rss_kib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let labels =
        read_labels(&args.file, args.metrics).unwrap_or_else(|e| panic!("reading labels: {e}"));
    let _ = std::fs::remove_dir_all(&args.out);
    let rss_before = rss_kib().0;
    let db = Tsdb::open(&args.out, Options::default()).expect("open");
    let shards: Vec<&[Labels]> = labels.chunks(SHARD).collect();
    let mut refs: Vec<Vec<Option<SeriesRef>>> =
        shards.iter().map(|s| vec![None; s.len()]).collect();
    let mut values: Vec<Vec<f64>> = shards
        .iter()
        .map(|s| vec![123_456_789.0; s.len()])
        .collect();

    let started = Instant::now();
    let mut total = 0;
    for round in (0..args.scrapes).step_by(SCRAPES_PER_ROUND) {
        let base = TIME_DELTA * round as i64;
        total += std::thread::scope(|scope| {
            let handles: Vec<_> = shards
                .iter()
                .zip(refs.iter_mut())
                .zip(values.iter_mut())
                .map(|((shard, refs), values)| {
                    let db = &db;
                    scope.spawn(move || ingest_shard(db, shard, refs, values, base))
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("shard"))
                .sum::<usize>()
        });
    }
    let elapsed = started.elapsed();
    db.sync().expect("sync");
    let (rss, _) = rss_kib();
    println!("series:            {}", labels.len());
    println!("total samples:     {total}");
    println!("ingest seconds:    {:.3}", elapsed.as_secs_f64());
    println!(
        "samples/sec:       {:.0}",
        total as f64 / elapsed.as_secs_f64()
    );
    let stored = dir_size(&args.out);
    println!("storage bytes:     {stored}");
    println!("bytes/sample:      {:.2}", stored as f64 / total as f64);
    println!(
        "rss after ingest:  {} KiB ({} KiB over the empty process)",
        rss,
        rss.saturating_sub(rss_before)
    );
    if args.compact {
        let started = Instant::now();
        let report = db.compact().expect("compact");
        let blocks = db.blocks();
        let block_bytes: u64 = blocks.iter().map(|b| b.size_bytes()).sum();
        let block_samples: u64 = blocks.iter().map(|b| b.meta().stats.samples).sum();
        println!(
            "compaction:        {report:?} in {:.3}s",
            started.elapsed().as_secs_f64()
        );
        println!(
            "blocks:            {} holding {block_samples} samples in {block_bytes} bytes",
            blocks.len()
        );
        if block_samples > 0 {
            println!(
                "block bytes/sample: {:.3}",
                block_bytes as f64 / block_samples as f64
            );
        }
        println!("rss after compact: {} KiB", rss_kib().0);
        println!(
            "storage bytes:     {} after compaction",
            dir_size(&args.out)
        );
    }
    let (_, peak) = rss_kib();
    println!("peak rss:          {peak} KiB");
}
