//! The `pack` stage: chosen labels or extracted values and the line packed
//! into one JSON line (`{"app":"api","_entry":"the line"}`), so they can
//! leave the stream's labels and be unpacked at query time.

use serde::Deserialize;

use super::config::{ConfigError, StageOptions};
use super::value::{get_string, go_json_string};
use super::{PipelineEntry, Stage};

/// `pack: {labels, ingest_timestamp}`.
#[derive(Debug, Clone, Deserialize)]
pub struct PackConfig {
    /// The names to pack (from the extracted map, which holds the labels).
    #[serde(default)]
    pub labels: Vec<String>,
    /// Whether the entry's time becomes the time it is packed (Promtail's
    /// default: true).
    #[serde(default = "default_true", deserialize_with = "weak_bool")]
    pub ingest_timestamp: bool,
}

fn default_true() -> bool {
    true
}

/// Promtail decodes `pack` weakly: `"true"`, `1` and `true` all work.
fn weak_bool<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Weak {
        Bool(bool),
        Int(i64),
        Text(String),
    }
    match Option::<Weak>::deserialize(d)? {
        None => Ok(true),
        Some(Weak::Bool(b)) => Ok(b),
        Some(Weak::Int(i)) => Ok(i != 0),
        Some(Weak::Text(t)) => match t.as_str() {
            "1" | "t" | "T" | "TRUE" | "true" | "True" => Ok(true),
            "0" | "f" | "F" | "FALSE" | "false" | "False" | "" => Ok(false),
            _ => Err(serde::de::Error::custom(format!(
                "cannot parse 'ingest_timestamp' as bool: {t:?}"
            ))),
        },
    }
}

impl StageOptions for PackConfig {
    type Raw = PackConfig;
    fn from_raw(raw: PackConfig) -> Result<Self, ConfigError> {
        Ok(raw)
    }
    fn from_null() -> Result<Self, ConfigError> {
        Ok(Self {
            labels: Vec::new(),
            ingest_timestamp: true,
        })
    }
}

/// The built stage.
#[derive(Debug)]
pub struct PackStage {
    cfg: PackConfig,
}

impl PackStage {
    /// The stage for `cfg`.
    pub fn new(cfg: PackConfig) -> Self {
        Self { cfg }
    }
}

/// The packed line: the pairs sorted by name, then `_entry`.
fn packed_line(pairs: &[(&str, String)], line: &str) -> String {
    let mut out = String::with_capacity(line.len() + 16);
    out.push('{');
    for (k, v) in pairs {
        go_json_string(k, &mut out);
        out.push(':');
        go_json_string(v, &mut out);
        out.push(',');
    }
    out.push_str("\"_entry\":");
    go_json_string(line, &mut out);
    out.push('}');
    out
}

impl Stage for PackStage {
    fn name(&self) -> &'static str {
        "pack"
    }

    fn process(&mut self, mut e: PipelineEntry, now_ns: i64, out: &mut Vec<PipelineEntry>) {
        let mut pairs: Vec<(&str, String)> = self
            .cfg
            .labels
            .iter()
            .filter_map(|name| {
                let v = e.extracted.get(name).and_then(get_string)?;
                Some((name.as_str(), v.into_owned()))
            })
            .collect();
        pairs.sort_by(|a, b| a.0.cmp(b.0));
        pairs.dedup_by(|a, b| a.0 == b.0);
        let line = packed_line(&pairs, &e.entry.line);
        for (name, _) in &pairs {
            e.entry.labels.remove(*name);
        }
        e.entry.line = line;
        if self.cfg.ingest_timestamp {
            e.entry.ts_ns = now_ns;
        }
        out.push(e);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::testing::entry;
    use serde_json::json;

    fn cfg(yaml: &str) -> PackConfig {
        yaml_serde::from_str(yaml).unwrap_or_else(|e| panic!("{yaml}: {e}"))
    }

    #[test]
    fn labels_and_line_are_packed_and_the_labels_leave() {
        let mut s = PackStage::new(cfg("labels: [pod, app, missing]"));
        let mut e = entry(r#"say "hi""#);
        e.entry.labels.insert("pod".into(), "p1".into());
        e.entry.labels.insert("job".into(), "j".into());
        e.extracted.insert("pod".into(), json!("p1"));
        e.extracted.insert("app".into(), json!("api"));
        e.entry.ts_ns = 5;
        let mut out = Vec::new();
        s.process(e, 99, &mut out);
        assert_eq!(
            out[0].entry.line,
            r#"{"app":"api","pod":"p1","_entry":"say \"hi\""}"#
        );
        assert_eq!(out[0].entry.labels.keys().collect::<Vec<_>>(), ["job"]);
        assert_eq!(out[0].entry.ts_ns, 99);
    }

    #[test]
    fn ingest_timestamp_false_keeps_the_time() {
        let mut s = PackStage::new(cfg("labels: [a]\ningest_timestamp: \"false\""));
        let mut e = entry("x");
        e.entry.ts_ns = 5;
        let mut out = Vec::new();
        s.process(e, 99, &mut out);
        assert_eq!(out[0].entry.ts_ns, 5);
        assert_eq!(out[0].entry.line, r#"{"_entry":"x"}"#);
    }
}
