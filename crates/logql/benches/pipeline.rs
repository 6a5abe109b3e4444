//! Throughput of the log pipeline on lines shaped like the reference
//! setup's (the FastAPI app's log lines, logfmt and JSON access logs):
//! `cargo bench -p vigil-logql --bench pipeline`. Prints MB/s and lines/s
//! per stage; no framework, so it runs on stable without extra crates.

use std::hint::black_box;
use std::time::{Duration, Instant};

use logql::eval::compile_pipeline;
use logql::parse_log_expr;
use model::Labels;

fn lines() -> Vec<String> {
    let levels = ["INFO", "WARNING", "ERROR", "DEBUG"];
    let methods = ["GET", "POST", "PUT", "DELETE"];
    let mut out = Vec::new();
    for i in 0..10_000 {
        let level = levels[i % 4];
        let line = match i % 3 {
            0 => format!(
                "2026-11-24T14:{:02}:{:02}.000Z | {level} | Module: module_{} | Function: function_{}| Log message level {level} from module module_{} at function function_{}",
                i / 60 % 60,
                i % 60,
                i % 5,
                i % 3,
                i % 5,
                i % 3
            ),
            1 => format!(
                "ts=2026-11-24T14:58:{:02}.500Z level={} msg=\"request served\" duration={}ms bytes={}KB status={} path=/api/v1/items/{} caller=handler.go:{}",
                i % 60,
                level.to_lowercase(),
                i % 900,
                i % 64,
                [200, 201, 404, 500][i % 4],
                i,
                i % 90
            ),
            _ => format!(
                "{{\"level\":\"{}\",\"msg\":\"{} api/v2/users/{}\",\"status\":{},\"latency_ms\":{}.{},\"user\":{{\"id\":{},\"name\":\"user-{}\"}},\"ok\":{}}}",
                level.to_lowercase(),
                methods[i % 4],
                i,
                [200, 201, 404, 500][i % 4],
                i % 500,
                i % 1000,
                1000 + i,
                i % 7,
                i % 2 == 0
            ),
        };
        out.push(line);
    }
    out
}

fn bench(name: &str, query: &str, lines: &[String]) {
    let expr = parse_log_expr(query).expect("query");
    let pipeline = compile_pipeline(&expr.stages).expect("pipeline");
    let labels = Labels::from_pairs([("job", "bench")]);
    let empty = Labels::empty();
    let bytes: usize = lines.iter().map(String::len).sum();
    let mut rounds = 0u64;
    let mut kept = 0usize;
    let start = Instant::now();
    while start.elapsed() < Duration::from_millis(1500) {
        for (i, line) in lines.iter().enumerate() {
            if pipeline
                .process(i as i64, black_box(line), &labels, &empty)
                .is_some()
            {
                kept += 1;
            }
        }
        rounds += 1;
    }
    let secs = start.elapsed().as_secs_f64();
    let total_bytes = bytes as f64 * rounds as f64;
    let total_lines = lines.len() as f64 * rounds as f64;
    println!(
        "{name:<28} {:>9.1} MB/s {:>12.0} lines/s   (kept {:.1} %)   {query}",
        total_bytes / secs / 1e6,
        total_lines / secs,
        100.0 * kept as f64 / total_lines
    );
}

fn main() {
    let lines = lines();
    let avg = lines.iter().map(String::len).sum::<usize>() / lines.len();
    println!("{} lines, {avg} bytes on average", lines.len());
    bench(
        "line filter |= (rare)",
        r#"{job="bench"} |= "ERROR api/v2/users/9999""#,
        &lines,
    );
    bench(
        "line filter |= (common)",
        r#"{job="bench"} |= "status""#,
        &lines,
    );
    bench("line filter != ", r#"{job="bench"} != "DEBUG""#, &lines);
    bench(
        "line filter |~",
        r#"{job="bench"} |~ "status=(404|500)""#,
        &lines,
    );
    bench(
        "line filter |> pattern",
        r#"{job="bench"} |> "<_> | ERROR | <_>""#,
        &lines,
    );
    bench("logfmt", r#"{job="bench"} | logfmt"#, &lines);
    bench("json", r#"{job="bench"} | json"#, &lines);
    bench(
        "pattern",
        r#"{job="bench"} | pattern "<ts> | <level> | <_>""#,
        &lines,
    );
    bench(
        "regexp",
        r#"{job="bench"} | regexp "level=(?P<level>\\w+)""#,
        &lines,
    );
    bench(
        "logfmt + label filter",
        r#"{job="bench"} | logfmt | status >= 500 and duration > 100ms"#,
        &lines,
    );
    bench(
        "line_format",
        r#"{job="bench"} | logfmt | line_format "{{.level | ToUpper}} {{.path}}""#,
        &lines,
    );
}
