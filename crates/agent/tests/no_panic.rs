//! A short, seeded fuzz run of every decoder of outside input the agent
//! has: log lines through representative pipelines, the positions files,
//! promtail-config.yaml text and `-client.external-labels`. Inputs are
//! mutations of real ones (the golden cases' logs and configs, ours) and
//! random bytes, from a fixed seed, so a failure replays. The same
//! decoders run open-ended under libFuzzer in `crates/agent/fuzz`, whose
//! harness this file includes so both drive them the same way.
//!
//! Each bug the fuzzing found has a regression test below, named after it.

#[path = "../fuzz/src/lib.rs"]
pub mod harness;

use agent::config::ConfigError;
use harness::PositionsOutcome;

/// A small deterministic generator (SplitMix64): the run must replay.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<T: Clone>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())].clone()
    }
}

/// Pieces that make decoders take unusual paths: quoting, escapes,
/// structure, numbers at the edges, time zones, colours, templates.
const TOKENS: &[&str] = &[
    "\"",
    "\\",
    "\\u",
    "\\ud800",
    "\\u0000",
    "{",
    "}",
    "[",
    "]",
    ":",
    ",",
    "=",
    "\"=\"",
    " ",
    "\t",
    "\r",
    "\n",
    "\0",
    "\u{1b}[",
    "\u{1b}[31m",
    "\u{1b}]",
    "é",
    "\u{feff}",
    "\u{10FFFF}",
    "\u{fffd}",
    "0",
    "-1",
    "1e400",
    "-1e400",
    "NaN",
    "Inf",
    "-Inf",
    "1.5",
    ".",
    "..",
    "e",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775808",
    "18446744073709551616",
    "99999999999999999999999",
    "0x1f",
    "1_000",
    "Z",
    "+25:00",
    "-07:00",
    "+0700",
    "MST",
    "UTC",
    "Jan",
    "Feb 30",
    "24:60:61",
    "2023-02-29T25:61:61.9999999999Z",
    "1970-01-01T00:00:00Z",
    "0000-00-00",
    "9999-12-31T23:59:59Z",
    "T",
    " stdout ",
    " stderr ",
    " F ",
    " P ",
    "P",
    "F",
    "{\"log\":\"",
    "\",\"stream\":\"stdout\",\"time\":\"",
    "\"}",
    "{{",
    "}}",
    "{{ .Value }}",
    "${",
    "${X}",
    "${X:-d}",
    "$$",
    "|=",
    "!~",
    "level=",
    "key=\"",
    "a=b",
    "-",
    "- ",
    "* ",
    "&a ",
    "*a",
    "<<: ",
    "!!binary ",
    "!!int ",
    "? ",
    "'",
    "''",
    "|",
    ">",
    "#",
    "%YAML 1.1",
    "---",
    "...",
    "~",
    "null",
    "true",
    "yes",
    "-5s",
    "1h2m3s",
    "99999999999h",
    "0.5ms",
    "1.0e-10s",
    "[]",
    "{}",
    "[[[[",
    "\u{0085}",
    "\u{2028}",
];

/// `seed` changed 1 to 8 times: bytes flipped, inserted or removed,
/// [`TOKENS`] inserted, ranges copied or spliced from `others`.
fn mutate(rng: &mut Rng, seed: &[u8], others: &[Vec<u8>]) -> Vec<u8> {
    let mut data = seed.to_vec();
    for _ in 0..=rng.below(8) {
        let at = rng.below(data.len() + 1);
        match rng.below(7) {
            0 if !data.is_empty() => {
                let i = at.min(data.len() - 1);
                data[i] ^= 1 << rng.below(8);
            }
            1 => data.insert(at, rng.next() as u8),
            2 => {
                let end = (at + rng.below(16)).min(data.len());
                data.drain(at..end);
            }
            3 | 4 => {
                let token = rng.pick(TOKENS);
                data.splice(at..at, token.bytes());
            }
            5 if !data.is_empty() => {
                let from = rng.below(data.len());
                let end = (from + rng.below(32)).min(data.len());
                let copy = data[from..end].to_vec();
                data.splice(at..at, copy);
            }
            _ if !others.is_empty() => {
                let other = &others[rng.below(others.len())];
                let from = rng.below(other.len() + 1);
                let end = (from + rng.below(64)).min(other.len());
                data.splice(at..at, other[from..end].iter().copied());
            }
            _ => data.truncate(at),
        }
    }
    data
}

/// Random bytes, `len` at most `max`.
fn random(rng: &mut Rng, max: usize) -> Vec<u8> {
    let len = rng.below(max + 1);
    (0..len).map(|_| rng.next() as u8).collect()
}

/// Times at the edges, and near now.
fn interesting_time(rng: &mut Rng) -> i64 {
    let now = 1_790_000_000_000_000_000;
    let any = rng.next() as i64;
    rng.pick(&[
        0,
        1,
        -1,
        i64::MIN,
        i64::MAX,
        now,
        -now,
        any,
        1_000_000_000,
        -86_400_000_000_000,
    ])
}

/// Lines that parsing stages recognise, of every format: ours and the
/// golden cases' inputs.
fn seed_lines() -> Vec<Vec<u8>> {
    let mut lines: Vec<Vec<u8>> = [
        r#"{"level":"info","message":"{\"x\":1}","items":[{"sku":"a","qty":2},{"sku":"b","qty":1}],"tags":["t1","t2"],"a":{"b":{"c":null}},"dotted.key":true}"#,
        r#"{"time":"2024-01-02T03:04:05Z","stream":"stderr","log":"hello\n"}"#,
        r#"{"log":"partial ","stream":"stdout","time":"2019-04-30T02:12:41.8443515Z"}"#,
        "level=info dur=1.5s msg=\"hello \\\"there\\\" k=v\" ts=2024-01-02T03:04:05Z flag",
        "2023-08-01T14:11:35.123456789Z stdout F \u{1b}[31mERROR\u{1b}[0m red line",
        "2023-08-01T14:11:36Z stderr P partial",
        "2024-01-02 03:04:05.123 EST|rest of line",
        "1700000000|unix seconds",
        "1700000000123|unix ms",
        "1700000000.123456|unix float",
        "Jan  2 15:04:05|syslog",
        "02/Jan/2006:15:04:05 -0700|apache",
        "Mon, 02 Jan 2006 15:04:05 +0200|rfc1123z",
        "ERROR 1.2.3.4 connection 42 refused",
        "error db=main retry a=1 c9",
        "debug noisy line",
        "a=x b= c rest",
        "info 12.5",
        "error -3e2",
        "warn app=noisy level=warn",
        "  continuation line",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    for input in harness::golden_inputs(&testkit::shared_dir()) {
        lines.extend(input.split(|&b| b == b'\n').map(<[u8]>::to_vec));
    }
    lines.retain(|l| !l.is_empty());
    lines
}

/// Inputs for [`harness::run_pipeline`]: two times, then 1 to 4 lines.
fn pipeline_input(rng: &mut Rng, seeds: &[Vec<u8>]) -> Vec<u8> {
    let mut data = Vec::new();
    data.extend_from_slice(&interesting_time(rng).to_le_bytes());
    let step = rng.pick(&[0, 1_000_000_000, -1_000_000_000, i64::MAX, i64::MIN]);
    data.extend_from_slice(&step.to_le_bytes());
    for i in 0..=rng.below(4) {
        if i > 0 {
            data.push(b'\n');
        }
        let line = match rng.below(10) {
            0 => random(rng, 80),
            1 => rng.pick(seeds),
            _ => {
                let seed = rng.pick(seeds);
                mutate(rng, &seed, seeds)
            }
        };
        data.extend_from_slice(&line);
    }
    data
}

#[test]
fn the_golden_pipelines_are_among_those_fuzzed() {
    let cases = harness::pipeline_cases();
    let golden = cases
        .iter()
        .filter(|c| c.name.starts_with("golden/"))
        .count();
    assert!(golden >= 20, "only {golden} golden pipelines found");
    assert!(cases.iter().any(|c| c.name.starts_with("reference/")));
}

#[test]
fn every_pipeline_takes_arbitrary_lines_and_times() {
    let seeds = seed_lines();
    let mut rng = Rng(0x5EED_0001);
    let mut entries_out = 0;
    for (i, case) in harness::pipeline_cases().iter().enumerate() {
        // One pipeline per case for the whole run: state carried from
        // entry to entry (multiline, cri partials, limits) is fuzzed too.
        // Every other one reports as `--inspect` does.
        let mut pipeline = harness::build_pipeline(&case.stages, i % 2 == 1);
        for _ in 0..400 {
            let input = pipeline_input(&mut rng, &seeds);
            entries_out += harness::run_pipeline(&mut pipeline, &input);
        }
    }
    assert!(entries_out > 0);
}

/// A directory for positions files, in memory where there is some: each
/// loaded input is saved twice, with fsyncs, which on a disk take most of
/// the run.
fn scratch_dir() -> tempfile::TempDir {
    tempfile::tempdir_in("/dev/shm")
        .or_else(|_| tempfile::tempdir())
        .unwrap()
}

/// Valid positions files and side files, as Promtail and vigil write them.
fn positions_seeds() -> Vec<Vec<u8>> {
    let side = r#"{"version":1,"files":{"/var/log/a.log":[{"id":{"dev":2049,"ino":77,"fp_len":12,"fp":123456789},"offset":100},{"id":{"dev":2049,"ino":78,"fp_len":0,"fp":0},"offset":520}]}}"#;
    [
        "positions:\n  /var/log/a.log: \"520\"\n  /var/log/b.log: \"432\"\n",
        "positions:\n  /var/log/a.log: 520\n  cursor-x: \"s=abc;i=1\"\n",
        "positions: {}\n",
        "positions:\n  \"/var/log/with: colon\": \"1\"\n  '/quoted ''single''.log': \"2\"\n  \"tab\\tkey\": \"3\"\n",
        "positions:\n  true: yes\n  1.5: -7\n  ~: null\n",
        "positions:\n  \"<<\": \"1\"\n  \"Null\": \"2\"\n  \"0x1F\": \"3\"\n  \".inf\": \"4\"\n  \"=\": \"5\"\n  \"x\\u0085\": \"7\"\n  \"a\\u2028b\": \"6\"\n  \"/p\\u2029\\uFEFF\": \"11\"\n  \"\\uFEFF/x\": \"12\"\n  \"!t\": \"8\"\n  \"NO\": \"9\"\n  \"\": \"10\"\n",
        "",
        "# only a comment\n",
    ]
    .iter()
    .map(|s| {
        let mut v = vec![0u8];
        v.extend_from_slice(s.as_bytes());
        v
    })
    .chain(std::iter::once({
        let mut v = vec![1u8];
        v.extend_from_slice(side.as_bytes());
        v
    }))
    .collect()
}

#[test]
fn positions_files_load_or_are_refused_and_save_back_unchanged() {
    let dir = scratch_dir();
    let seeds = positions_seeds();
    let mut rng = Rng(0x5EED_0002);
    let (mut loaded, mut refused) = (0, 0);
    for i in 0..1500 {
        let input = if i < seeds.len() {
            seeds[i].clone()
        } else if rng.below(10) == 0 {
            random(&mut rng, 64)
        } else {
            let seed = rng.pick(&seeds);
            let mut out = mutate(&mut rng, &seed[1..], &seeds);
            out.insert(0, seed[0]);
            out
        };
        match harness::run_positions(dir.path(), &input) {
            PositionsOutcome::Loaded => loaded += 1,
            PositionsOutcome::Refused => refused += 1,
        }
    }
    assert!(
        loaded > 100 && refused > 100,
        "{loaded} loaded, {refused} refused"
    );
}

/// Line-level changes keep YAML's shape more often than byte changes do.
fn mutate_lines(rng: &mut Rng, text: &[u8], others: &[Vec<u8>]) -> Vec<u8> {
    let mut lines: Vec<Vec<u8>> = text.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect();
    for _ in 0..=rng.below(3) {
        let i = rng.below(lines.len());
        match rng.below(5) {
            0 => {
                lines.remove(i);
                if lines.is_empty() {
                    lines.push(Vec::new());
                }
            }
            1 => {
                let copy = lines[i].clone();
                lines.insert(rng.below(lines.len() + 1), copy);
            }
            2 => lines[i].splice(0..0, b"  ".iter().copied()).for_each(drop),
            3 => {
                let line = rng.pick(&lines);
                lines[i] = mutate(rng, &line, others);
            }
            _ => {
                let other = &others[rng.below(others.len())];
                let from: Vec<&[u8]> = other.split(|&b| b == b'\n').collect();
                lines.insert(i, from[rng.below(from.len())].to_vec());
            }
        }
    }
    lines.join(&b'\n')
}

#[test]
fn config_text_parses_or_gives_an_invalid_config_error() {
    let mut seeds: Vec<Vec<u8>> = harness::config_texts(&testkit::shared_dir())
        .into_iter()
        .map(|(_, text)| text.into_bytes())
        .collect();
    assert!(seeds.len() > 20, "golden configs missing");
    for (_, stages) in harness::OWN_PIPELINES {
        let job = format!(
            "scrape_configs:\n- job_name: own\n  pipeline_stages:{}",
            stages.replace('\n', "\n  ")
        );
        seeds.push(job.into_bytes());
    }
    let mut rng = Rng(0x5EED_0003);
    let (mut ok, mut invalid) = (0, 0);
    for i in 0..1500 {
        let input = if i < seeds.len() {
            seeds[i].clone()
        } else {
            let seed = rng.pick(&seeds);
            match rng.below(3) {
                0 => mutate(&mut rng, &seed, &seeds),
                _ => mutate_lines(&mut rng, &seed, &seeds),
            }
        };
        match harness::run_config(&input) {
            Ok(()) => ok += 1,
            Err(ConfigError::Invalid(_)) => invalid += 1,
            Err(e) => panic!("not an invalid-config error: {e:?}"),
        }
    }
    assert!(ok > 100 && invalid > 100, "{ok} parsed, {invalid} refused");
}

#[test]
fn external_labels_parse_or_give_a_flag_error() {
    let seeds: Vec<Vec<u8>> = [
        "a=b",
        "a=b,c",
        "a=1,b=2",
        "a=1,\"b=x,y\"",
        "\"a=1\"",
        "a=\"\"\"q\"\"\",b=2",
        "dc=eu,env=prod,team=core",
        "=",
        "a==b",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    let mut rng = Rng(0x5EED_0004);
    let (mut ok, mut refused) = (0, 0);
    for _ in 0..4000 {
        let input = match rng.below(8) {
            0 => random(&mut rng, 24),
            _ => {
                let seed = rng.pick(&seeds);
                mutate(&mut rng, &seed, &seeds)
            }
        };
        match harness::run_external_labels(&input) {
            Ok(_) => ok += 1,
            Err(_) => refused += 1,
        }
    }
    assert!(ok > 100 && refused > 100, "{ok} parsed, {refused} refused");
}

/// A positions file as `run_positions` takes it: the YAML, arbitrary.
fn positions_yaml(text: &str) -> Vec<u8> {
    let mut input = vec![0u8];
    input.extend_from_slice(text.as_bytes());
    input
}

#[test]
fn positions_key_with_a_line_separator_saves_and_loads_again() {
    // Found by this round trip: U+2028 was written in a plain key, and YAML reads
    // it as a line break, so the agent could not read its own file back.
    let dir = scratch_dir();
    for key in ["a\\u2028b", "/p\\u2029", "\\uFEFF/x"] {
        let input = positions_yaml(&format!("positions:\n  \"{key}\": \"6\"\n"));
        assert_eq!(
            harness::run_positions(dir.path(), &input),
            PositionsOutcome::Loaded,
            "{key}"
        );
    }
}
