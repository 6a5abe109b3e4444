//! A short, deterministic fuzz run that is part of `cargo test`: mutated
//! queries, templates and log lines must never panic, and every query that
//! parses must print back to the same tree. The open-ended run is the
//! cargo-fuzz target in `fuzz/` (see `fuzz/README.md`).

use logql::eval::{Engine, Query};
use logql::pipeline::LabelsBuilder;
use logql::pipeline::Stage;
use logql::pipeline::parsers::{JsonParser, LogfmtParser, UnpackParser};
use logql::store::MemStore;
use logql::template::{Context, Template};
use model::Labels;

/// xorshift64*: a tiny deterministic generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const SEEDS: &[&str] = &[
    r#"{app="a"} |= "x" or "y" != ip("10.0.0.0/8") |~ "a.+" |> "<_> x""#,
    r#"{app="a"} | json a="b.c", d | logfmt --strict | regexp "(?P<x>\\d+)" | pattern "<a> <_>""#,
    r#"{app="a"} | a > 1.5 and b=~"x" or (c < 20KB, d >= 1m30s) | e = ip("::1")"#,
    r#"{app="a"} | line_format "{{ .a | upper }}" | label_format x=y, z="{{ printf \"%d\" 3 }}" | drop a | keep b="c" | decolorize"#,
    r#"sum by (app) (rate({app="a"} | logfmt | unwrap duration(d) | __error__="" [5m] offset 1m)) > bool on (x) group_left (y) vector(1)"#,
    r#"topk(2, quantile_over_time(0.5, {app=~"a|b"} | unwrap v [1m]) by (app)) / ignoring (b) label_replace(vector(1), "a", "$1", "b", "(.*)")"#,
    "-2 ^ 3 ^ 0x1p3 % 7 unless 1 or 2 and 3",
    r#"sort_desc(count_over_time(({app="a"} |= "x")[1m])) or absent_over_time({app="b"}[1h])"#,
];

const DICT: &[&str] = &[
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    "[1m]",
    "|",
    "|=",
    "!=",
    "|~",
    "!~",
    "|>",
    "!>",
    "=",
    "==",
    "=~",
    ">",
    "<=",
    ",",
    " or ",
    " and ",
    " by ",
    "\"",
    "`",
    "\\",
    "1",
    "-",
    "0x",
    "1e999",
    "5m",
    "20KB",
    "json",
    "logfmt",
    "unwrap",
    "bytes(",
    "ip(",
    "{{",
    "}}",
    "é",
    "\u{0}",
    "#",
    "offset",
    "bool",
    "on",
    "group_left",
    "sum",
    "rate(",
    "vector(",
    "label_replace(",
    "__error__",
    ".",
];

fn mutate(rng: &mut Rng, seed: &str) -> String {
    let mut s: Vec<char> = seed.chars().collect();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(s.len() + 1);
        match rng.below(3) {
            0 => {
                let word = DICT[rng.below(DICT.len())];
                for (i, c) in word.chars().enumerate() {
                    s.insert((at + i).min(s.len()), c);
                }
            }
            1 if !s.is_empty() => {
                let len = 1 + rng.below(5);
                let end = (at + len).min(s.len());
                s.drain(at.min(end)..end);
            }
            _ => {
                if at < s.len() {
                    s[at] = char::from(32 + rng.below(95) as u8);
                }
            }
        }
    }
    s.into_iter().collect()
}

#[test]
fn mutated_queries_never_panic_and_round_trip() {
    let mut store = MemStore::default();
    let labels = Labels::from_pairs([("app", "a")]);
    for (i, line) in [
        r#"{"a":"1","b":{"c":2}}"#,
        "a=1 b=2 d=1s v=3",
        "GET /x 200 10.0.0.1",
        "\u{1b}[31mred",
    ]
    .iter()
    .enumerate()
    {
        store.push(&labels, i as i64 * 10_000_000_000, line, &Labels::empty());
    }
    let engine = Engine::new(&store);
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut parsed = 0;
    for round in 0..6000 {
        let seed = SEEDS[round % SEEDS.len()];
        let input = mutate(&mut rng, seed);
        let Ok(ast) = logql::parse(&input) else {
            continue;
        };
        parsed += 1;
        let printed = ast.to_string();
        assert_eq!(
            logql::parse(&printed).as_ref(),
            Ok(&ast),
            "{input:?} printed as {printed:?}"
        );
        let _ = engine.eval(&ast, &Query::instant(60_000_000_000));
        let _ = engine.eval(&ast, &Query::range(0, 60_000_000_000, 15_000_000_000));
    }
    assert!(parsed > 100, "only {parsed} mutants parsed");
}

#[test]
fn mutated_templates_and_lines_never_panic() {
    let mut rng = Rng(42);
    let templates = [
        r#"{{ if eq .a "1" }}{{ .b | upper | printf "%-5s|%05.1f" 2.5 }}{{ else }}{{ range $i, $v := fromJson .j }}{{ $i }}{{ end }}{{ end }}"#,
        r#"{{- date "2006-01-02T15:04:05.000Z07:00" __timestamp__ -}} {{ toDate "2006-01-02" "2024-01-02" | unixEpoch }} {{ substr 1 3 .a }}"#,
        r#"{{ regexReplaceAll "(a+)" .a "$1" }} {{ b64dec (b64enc .a) }} {{ div 7 0 }} {{ index (fromJson .j) 0 }}"#,
    ];
    let data = [("a", "1"), ("b", "x"), ("j", "[1,{\"k\":2}]")]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    for round in 0..3000 {
        let t = mutate(&mut rng, templates[round % templates.len()]);
        if let Ok(t) = Template::parse("line", &t) {
            let _ = t.render(
                &data,
                Context {
                    line: "l",
                    ts_ns: round as i64,
                },
            );
        }
    }
    let lines = [
        r#"{"a":{"b":[1,"x",null]},"c":"\u00e9","_entry":"e"}"#,
        r#"a=1 b="q\"x" c= d"#,
    ];
    let stages: [Box<dyn Stage>; 3] = [
        Box::new(JsonParser::all()),
        Box::new(LogfmtParser::default()),
        Box::new(UnpackParser),
    ];
    for round in 0..3000 {
        let line = mutate(&mut rng, lines[round % lines.len()]);
        for stage in &stages {
            let mut lb = LabelsBuilder::new(&Labels::empty(), &Labels::empty());
            let mut l = std::borrow::Cow::Borrowed(line.as_str());
            stage.process(0, &mut l, &mut lb);
        }
    }
}

#[test]
fn pathological_nesting_is_refused_not_a_stack_overflow() {
    let deep = format!("{}1{}", "(".repeat(100_000), ")".repeat(100_000));
    assert!(
        logql::parse(&deep)
            .unwrap_err()
            .message
            .contains("too complex")
    );
    let chain = vec!["1"; 100_000].join(" + ");
    assert!(
        logql::parse(&chain)
            .unwrap_err()
            .message
            .contains("too complex")
    );
    let filters = format!(
        r#"{{app="a"}} | {}"#,
        vec![r#"a="1""#; 100_000].join(" and ")
    );
    assert!(
        logql::parse(&filters)
            .unwrap_err()
            .message
            .contains("too complex")
    );
    let parens = format!(
        r#"{{app="a"}} | {}a="1"{}"#,
        "(".repeat(100_000),
        ")".repeat(100_000)
    );
    assert!(logql::parse(&parens).is_err());
    let t = format!("{{{{ {}1{} }}}}", "(".repeat(10_000), ")".repeat(10_000));
    assert!(
        Template::parse("line", &t)
            .unwrap_err()
            .message()
            .contains("nested")
    );
    let t = "{{ if 1 }}".repeat(10_000);
    assert!(
        Template::parse("line", &t)
            .unwrap_err()
            .message()
            .contains("nested")
    );
}

#[test]
fn templates_cannot_exhaust_memory() {
    let data = std::collections::BTreeMap::new();
    let ctx = Context {
        line: "l",
        ts_ns: 0,
    };
    for t in [
        r#"{{ repeat 10000 (repeat 10000 "xx") }}"#,
        r#"{{ range 100000 }}{{ printf "%10000s" "x" }}{{ end }}"#,
        r#"{{ indent 10000 (repeat 5000 "\n") }}"#,
    ] {
        let err = Template::parse("line", t)
            .unwrap()
            .render(&data, ctx)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("too large") || err.contains("too complex"),
            "{t}: {err}"
        );
    }
    let out = Template::parse("line", r#"{{ printf "%.99999999f|%99999999d" 1.5 2 }}"#)
        .unwrap()
        .render(&data, ctx)
        .unwrap();
    assert!(out.len() < 20_000);
}

#[test]
fn extreme_times_do_not_overflow() {
    let mut store = MemStore::default();
    store.push(
        &Labels::from_pairs([("app", "a")]),
        0,
        "x",
        &Labels::empty(),
    );
    let engine = Engine::new(&store);
    let expr = logql::parse(r#"rate({app="a"}[1y] offset 1y)"#).unwrap();
    for q in [
        Query::instant(i64::MIN),
        Query::instant(i64::MAX),
        Query::range(i64::MAX - 10, i64::MAX, 3),
        Query::range(i64::MIN, i64::MAX, i64::MAX),
    ] {
        let _ = engine.eval(&expr, &q);
    }
    let get = |k: &str| match k {
        "start" => Some(i64::MIN.to_string()),
        "end" => Some(i64::MAX.to_string()),
        "step" => Some("1e300".to_owned()),
        _ => None,
    };
    let _ = logql::api::range_request(&get, 0);
}
