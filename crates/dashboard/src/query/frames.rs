//! Prometheus and Loki query answers as Grafana data frames (the JSON
//! `ui/src/data/frame.ts` decodes): one frame per series with `Time` and
//! `Value` fields for metrics, one `log-lines` frame for log streams.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Map, Value, json};

/// The API envelope both Prometheus and Loki answer with, decoded
/// straight into typed results (no JSON tree in between: an answer can
/// hold millions of points).
#[derive(Debug, Deserialize)]
pub struct Envelope {
    pub status: String,
    #[serde(default)]
    pub data: Option<Decoded>,
    #[serde(rename = "errorType", default)]
    pub error_type: Option<String>,
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub warnings: Vec<String>,
}

/// A series of a matrix: `[seconds, "value"]` pairs.
#[derive(Debug, Deserialize)]
pub struct Series {
    #[serde(default)]
    pub metric: BTreeMap<String, String>,
    #[serde(default)]
    pub values: Vec<(f64, String)>,
}

/// A sample of a vector.
#[derive(Debug, Deserialize)]
pub struct Sample {
    #[serde(default)]
    pub metric: BTreeMap<String, String>,
    pub value: (f64, String),
}

/// A Loki stream: `["<ns>", "line"]` entries (a third member, structured
/// metadata, is ignored).
#[derive(Debug, Deserialize)]
pub struct Stream {
    #[serde(default)]
    pub stream: BTreeMap<String, String>,
    #[serde(default)]
    pub values: Vec<Vec<Value>>,
}

/// `data` of a query answer by its `resultType` (Loki's `stats` beside
/// it are ignored).
#[derive(Debug, Deserialize)]
#[serde(tag = "resultType", content = "result", rename_all = "lowercase")]
pub enum Decoded {
    Matrix(Vec<Series>),
    Vector(Vec<Sample>),
    Scalar((f64, String)),
    String((f64, String)),
    Streams(Vec<Stream>),
}

/// What every frame of one query carries.
#[derive(Debug, Clone)]
pub struct FrameContext {
    pub ref_id: String,
    /// `schema.meta.executedQueryString`.
    pub executed: String,
    /// The query's expression (names a series without labels).
    pub expr: String,
    /// The query's `legendFormat` (`{{label}}` templates).
    pub legend_format: Option<String>,
    /// The step, set as the `Time` field's `config.interval`.
    pub interval_ms: Option<i64>,
}

fn seconds_to_ms(t: f64) -> i64 {
    (t * 1000.0).round() as i64
}

/// A column of numbers: non-finite values become `null` and are listed
/// in the field's `entities`.
struct Numbers {
    values: Vec<Value>,
    nan: Vec<usize>,
    inf: Vec<usize>,
    neg_inf: Vec<usize>,
}

impl Numbers {
    fn new(capacity: usize) -> Numbers {
        Numbers {
            values: Vec::with_capacity(capacity),
            nan: Vec::new(),
            inf: Vec::new(),
            neg_inf: Vec::new(),
        }
    }

    fn push(&mut self, text: &str) {
        let at = self.values.len();
        let v: f64 = text.trim().parse().unwrap_or(f64::NAN);
        if v.is_nan() {
            self.nan.push(at);
        } else if v == f64::INFINITY {
            self.inf.push(at);
        } else if v == f64::NEG_INFINITY {
            self.neg_inf.push(at);
        }
        self.values
            .push(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number));
    }

    fn entities(&self) -> Value {
        if self.nan.is_empty() && self.inf.is_empty() && self.neg_inf.is_empty() {
            return Value::Null;
        }
        let mut e = Map::new();
        if !self.nan.is_empty() {
            e.insert("NaN".into(), json!(self.nan));
        }
        if !self.inf.is_empty() {
            e.insert("Inf".into(), json!(self.inf));
        }
        if !self.neg_inf.is_empty() {
            e.insert("NegInf".into(), json!(self.neg_inf));
        }
        Value::Object(e)
    }
}

/// The series name Grafana's backend gives a value field, as
/// `displayNameFromDS`: `legendFormat` with each `{{ label }}` replaced by
/// the label's value (empty when absent); without a legend (or with
/// `__auto`), none (the UI names the series by its labels) unless the
/// series has no labels at all, which Grafana names by the expression.
pub fn legend(
    format: Option<&str>,
    labels: &BTreeMap<String, String>,
    expr: &str,
) -> Option<String> {
    let format = match format {
        Some(f) if !f.is_empty() && f != "__auto" => f,
        _ => return labels.is_empty().then(|| expr.to_owned()),
    };
    let mut out = String::with_capacity(format.len());
    let mut rest = format;
    while let Some(open) = rest.find("{{") {
        out.push_str(&rest[..open]);
        let after = &rest[open + 2..];
        match after.find("}}") {
            Some(close) => {
                let name = after[..close].trim();
                out.push_str(labels.get(name).map(String::as_str).unwrap_or(""));
                rest = &after[close + 2..];
            }
            None => {
                out.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    // Grafana's rule: a name that came out as empty braces is the query.
    if out == "{}" {
        return Some(expr.to_owned());
    }
    Some(out)
}

fn meta(ctx: &FrameContext, kind: &str, result_type: &str) -> Value {
    json!({
        "type": kind,
        "typeVersion": [0, 1],
        "custom": { "resultType": result_type },
        "executedQueryString": ctx.executed,
    })
}

fn time_field(ctx: &FrameContext) -> Value {
    let mut field = json!({"name": "Time", "type": "time", "typeInfo": {"frame": "time.Time"}});
    if let Some(interval) = ctx.interval_ms {
        field["config"] = json!({ "interval": interval });
    }
    field
}

fn value_field(ctx: &FrameContext, labels: &BTreeMap<String, String>) -> Value {
    let mut config = Map::new();
    if let Some(name) = legend(ctx.legend_format.as_deref(), labels, &ctx.expr) {
        config.insert("displayNameFromDS".into(), Value::String(name));
    }
    json!({
        "name": "Value",
        "type": "number",
        "typeInfo": {"frame": "float64", "nullable": true},
        "labels": labels,
        "config": config,
    })
}

fn number_frame(
    ctx: &FrameContext,
    kind: &str,
    result_type: &str,
    labels: &BTreeMap<String, String>,
    points: &[(f64, String)],
) -> Value {
    let times: Vec<i64> = points.iter().map(|(t, _)| seconds_to_ms(*t)).collect();
    let mut numbers = Numbers::new(points.len());
    for (_, v) in points {
        numbers.push(v);
    }
    let entities = numbers.entities();
    let mut data = json!({ "values": [times, numbers.values] });
    if !entities.is_null() {
        data["entities"] = json!([Value::Null, entities]);
    }
    json!({
        "schema": {
            "refId": ctx.ref_id,
            "meta": meta(ctx, kind, result_type),
            "fields": [time_field(ctx), value_field(ctx, labels)],
        },
        "data": data,
    })
}

/// One `timeseries-multi` frame per series of a matrix.
pub fn matrix_frames(series: &[Series], ctx: &FrameContext) -> Vec<Value> {
    series
        .iter()
        .map(|s| number_frame(ctx, "timeseries-multi", "matrix", &s.metric, &s.values))
        .collect()
}

/// One single-row `numeric-multi` frame per sample of a vector.
pub fn vector_frames(samples: &[Sample], ctx: &FrameContext) -> Vec<Value> {
    samples
        .iter()
        .map(|s| {
            number_frame(
                ctx,
                "numeric-multi",
                "vector",
                &s.metric,
                std::slice::from_ref(&s.value),
            )
        })
        .collect()
}

/// A scalar as a one-row frame without labels.
pub fn scalar_frame(point: &(f64, String), ctx: &FrameContext) -> Value {
    number_frame(
        ctx,
        "numeric-multi",
        "scalar",
        &BTreeMap::new(),
        std::slice::from_ref(point),
    )
}

/// A string result as a one-row frame with a string `Value`.
pub fn string_frame(point: &(f64, String), ctx: &FrameContext) -> Value {
    json!({
        "schema": {
            "refId": ctx.ref_id,
            "meta": meta(ctx, "numeric-multi", "string"),
            "fields": [time_field(ctx), {"name": "Value", "type": "string", "typeInfo": {"frame": "string"}}],
        },
        "data": { "values": [[seconds_to_ms(point.0)], [point.1]] },
    })
}

/// FNV-1a, for entry ids stable across identical queries.
fn fnv1a(parts: &[&str]) -> u64 {
    let mut hash: u64 = 0xcbf29ce484222325;
    for part in parts {
        for b in part.bytes().chain(std::iter::once(0xff)) {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(0x100000001b3);
        }
    }
    hash
}

/// Every stream's entries as ONE `log-lines` frame (fields `labels`,
/// `Time`, `Line`, `tsNs`, `id`), newest first for `backward`, oldest
/// first for `forward`.
pub fn log_frame(streams: &[Stream], ctx: &FrameContext, forward: bool) -> Value {
    struct Entry<'a> {
        ns: i128,
        ns_text: &'a str,
        line: &'a str,
        stream: usize,
    }
    let mut entries = Vec::new();
    let mut label_texts = Vec::with_capacity(streams.len());
    for (i, s) in streams.iter().enumerate() {
        label_texts.push(
            s.stream
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(","),
        );
        for value in &s.values {
            let (Some(ns_text), Some(line)) = (
                value.first().and_then(Value::as_str),
                value.get(1).and_then(Value::as_str),
            ) else {
                continue;
            };
            let Ok(ns) = ns_text.parse::<i128>() else {
                continue;
            };
            entries.push(Entry {
                ns,
                ns_text,
                line,
                stream: i,
            });
        }
    }
    if forward {
        entries.sort_by_key(|e| e.ns);
    } else {
        entries.sort_by_key(|e| std::cmp::Reverse(e.ns));
    }
    let mut labels = Vec::with_capacity(entries.len());
    let mut times = Vec::with_capacity(entries.len());
    let mut lines = Vec::with_capacity(entries.len());
    let mut ts_ns = Vec::with_capacity(entries.len());
    let mut ids = Vec::with_capacity(entries.len());
    let mut seen = std::collections::HashMap::<String, usize>::new();
    for e in &entries {
        labels.push(json!(streams[e.stream].stream));
        times.push((e.ns / 1_000_000) as i64);
        lines.push(e.line);
        ts_ns.push(e.ns_text);
        let base = format!(
            "{}_{:016x}",
            e.ns_text,
            fnv1a(&[&label_texts[e.stream], e.line])
        );
        let count = seen.entry(base.clone()).or_insert(0);
        *count += 1;
        ids.push(if *count == 1 {
            base
        } else {
            format!("{base}_{count}")
        });
    }
    json!({
        "schema": {
            "refId": ctx.ref_id,
            "meta": {
                "type": "log-lines",
                "typeVersion": [0, 0],
                "custom": { "frameType": "LabeledTimeValues" },
                "preferredVisualisationType": "logs",
                "executedQueryString": ctx.executed,
            },
            "fields": [
                {"name": "labels", "type": "other", "typeInfo": {"frame": "json.RawMessage"}},
                {"name": "Time", "type": "time", "typeInfo": {"frame": "time.Time"}},
                {"name": "Line", "type": "string", "typeInfo": {"frame": "string"}},
                {"name": "tsNs", "type": "string", "typeInfo": {"frame": "string"}},
                {"name": "id", "type": "string", "typeInfo": {"frame": "string"}},
            ],
        },
        "data": { "values": [labels, times, lines, ts_ns, ids] },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn ctx() -> FrameContext {
        FrameContext {
            ref_id: "A".into(),
            executed: "Expr: up\nStep: 15s".into(),
            expr: "up".into(),
            legend_format: None,
            interval_ms: Some(15_000),
        }
    }

    #[test]
    fn envelopes_decode_with_or_without_extras() {
        let shared = testkit::shared_dir().join("fixtures");
        let loki =
            std::fs::read_to_string(shared.join("loki-api/query_range_streams.txt")).unwrap();
        let body = &loki[loki.find("\n{").unwrap() + 1..];
        let e: Envelope = serde_json::from_str(body).unwrap();
        assert!(
            matches!(e.data, Some(Decoded::Streams(ref s)) if s.len() == 1),
            "{e:?}"
        );
        let prom = std::fs::read_to_string(shared.join("prometheus-api/query_range.json")).unwrap();
        let e: Envelope = serde_json::from_str(&prom).unwrap();
        assert!(
            matches!(e.data, Some(Decoded::Matrix(ref s)) if s.len() == 3),
            "{e:?}"
        );
        // `result` before `resultType` still decodes.
        let e: Envelope = serde_json::from_str(
            r#"{"status":"success","data":{"result":[1.5,"2"],"resultType":"scalar"}}"#,
        )
        .unwrap();
        assert!(matches!(e.data, Some(Decoded::Scalar((t, ref v))) if t == 1.5 && v == "2"));
        let e: Envelope = serde_json::from_str(
            r#"{"status":"error","errorType":"bad_data","error":"parse error"}"#,
        )
        .unwrap();
        assert_eq!(e.error.as_deref(), Some("parse error"));
        assert!(e.data.is_none());
    }

    #[test]
    fn legends() {
        let l = labels(&[("job", "api"), ("handler", "/x")]);
        let none = labels(&[]);
        for (format, labels, want) in [
            (Some("{{job}} {{ handler }}"), &l, Some("api /x")),
            (Some("{{missing}}-x"), &l, Some("-x")),
            (Some("{{missing}}"), &l, Some("")),
            (Some("plain"), &l, Some("plain")),
            (Some("{{job"), &l, Some("{{job")),
            (Some("{}"), &l, Some("sum(x)")),
            (Some("__auto"), &l, None),
            (Some(""), &l, None),
            (None, &l, None),
            (None, &none, Some("sum(x)")),
            (Some("__auto"), &none, Some("sum(x)")),
            (Some("{{job}}"), &none, Some("")),
        ] {
            assert_eq!(
                legend(format, labels, "sum(x)").as_deref(),
                want,
                "{format:?} {labels:?}"
            );
        }
    }

    #[test]
    fn specials_become_null_with_entities() {
        let series = vec![Series {
            metric: labels(&[("job", "a")]),
            values: vec![
                (1.0, "1".into()),
                (2.0, "NaN".into()),
                (3.0, "+Inf".into()),
                (4.5, "-Inf".into()),
            ],
        }];
        let frames = matrix_frames(&series, &ctx());
        assert_eq!(frames.len(), 1);
        let f = &frames[0];
        assert_eq!(f["data"]["values"][0], json!([1000, 2000, 3000, 4500]));
        assert_eq!(f["data"]["values"][1], json!([1.0, null, null, null]));
        assert_eq!(
            f["data"]["entities"],
            json!([null, {"NaN": [1], "Inf": [2], "NegInf": [3]}])
        );
        assert_eq!(f["schema"]["fields"][1]["labels"], json!({"job": "a"}));
        assert_eq!(f["schema"]["meta"]["type"], "timeseries-multi");
    }

    #[test]
    fn log_entries_merge_newest_first_with_unique_ids() {
        let streams: Vec<Stream> = serde_json::from_value(json!([
            {"stream": {"job": "a"}, "values": [["3000000", "c"], ["1000000", "a"]]},
            {"stream": {"job": "b"}, "values": [["2000000", "b"], ["2000000", "b"]]},
        ]))
        .unwrap();
        let f = log_frame(&streams, &ctx(), false);
        assert_eq!(f["data"]["values"][2], json!(["c", "b", "b", "a"]));
        assert_eq!(f["data"]["values"][1], json!([3, 2, 2, 1]));
        let ids = f["data"]["values"][4].as_array().unwrap();
        let unique: std::collections::HashSet<_> = ids.iter().collect();
        assert_eq!(unique.len(), 4, "{ids:?}");
        let f = log_frame(&streams, &ctx(), true);
        assert_eq!(f["data"]["values"][2], json!(["a", "b", "b", "c"]));
    }
}
