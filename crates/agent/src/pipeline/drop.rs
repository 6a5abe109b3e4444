//! The `drop` stage: drops entries that meet every condition it names (a
//! length, an age, an extracted value or a regex), counting them in
//! `logentry_dropped_lines_total{reason}`.

use std::sync::Arc;

use instrument::{Counter, Family, Registry, RegistryError};
use regex::Regex;
use serde::Deserialize;

use super::config::{ConfigError, StageOptions};
use super::value::get_string;
use super::weak;
use super::{PipelineEntry, Stage};

/// The family every Promtail stage that drops lines counts in.
pub(crate) const DROPPED_LINES: &str = "logentry_dropped_lines_total";

/// The drop counter shared by every stage of every pipeline, registered on
/// first use (Promtail registers it once and reuses it).
pub(crate) fn dropped_lines(registry: &Registry) -> Result<Arc<Family<Counter>>, RegistryError> {
    registry.shared_counter(
        DROPPED_LINES,
        "A count of all log lines dropped as a result of a pipeline stage",
        &["reason"],
    )
}

const DEFAULT_REASON: &str = "drop_stage";

/// The `drop` stage's options as written, keys as Promtail's.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct RawDropConfig {
    /// The extracted key to test; in 2.8 only a single string works
    /// (Promtail 2.8 decodes a YAML list as a list of `interface{}`, which
    /// its check refuses), so it is kept as written and checked.
    #[serde(default)]
    pub(crate) source: Option<serde_json::Value>,
    /// The exact value of `source` that drops.
    #[serde(default, deserialize_with = "weak::opt_string")]
    pub(crate) value: Option<String>,
    /// Joins several sources; accepted, unused with a single source.
    #[serde(default, deserialize_with = "weak::opt_string")]
    #[allow(dead_code)] // read by Promtail 2.8 only for source lists, which it refuses
    pub(crate) separator: Option<String>,
    /// A regex the line (or `source`) must match to drop.
    #[serde(default, deserialize_with = "weak::opt_string")]
    pub(crate) expression: Option<String>,
    /// A Go duration: entries with a timestamp older than now minus this.
    #[serde(default, deserialize_with = "weak::opt_string")]
    pub(crate) older_than: Option<String>,
    /// A size (`10`, `1KB`): lines longer than this many bytes.
    #[serde(default, deserialize_with = "weak::opt_string")]
    pub(crate) longer_than: Option<String>,
    /// The `reason` label of the drop counter; `drop_stage` by default.
    #[serde(default, deserialize_with = "weak::opt_string")]
    pub(crate) drop_counter_reason: Option<String>,
}

/// Why a `drop` config is refused; messages are Promtail's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DropError {
    /// No condition at all.
    #[error(
        "drop stage config must contain at least one of `source`, `expression`, `older_than` or `longer_than`"
    )]
    Empty,
    /// `source` is not a string.
    #[error("drop stage source invalid type should be string or list of strings")]
    InvalidSource,
    /// `older_than` is not a Go duration.
    #[error("drop stage invalid duration, {0} cannot be converted to a duration: {1}")]
    Duration(String, gocompat::duration::GoDurationError),
    /// `value` without `source`.
    #[error("drop stage config must contain `source` if `value` is specified")]
    ValueWithoutSource,
    /// Both `value` and `expression`.
    #[error(
        "drop stage config error, `value` and `expression` cannot both be defined at the same time."
    )]
    ValueAndExpression,
    /// `expression` does not compile.
    #[error("drop stage regex compilation error: {0}")]
    Regex(String),
    /// `longer_than` is not a size.
    #[error("drop stage failed to parse longer_than to bytes: {0}")]
    ByteSize(String),
}

/// The `drop` stage's checked options: the conditions, all of which must
/// hold to drop.
#[derive(Debug, Clone)]
pub struct DropConfig {
    source: Option<String>,
    regex: Option<Regex>,
    older_than_ns: Option<i64>,
    longer_than: Option<u64>,
    reason: String,
}

impl StageOptions for DropConfig {
    type Raw = RawDropConfig;
    fn from_raw(raw: RawDropConfig) -> Result<Self, ConfigError> {
        Ok(Self::new(&raw)?)
    }
    fn from_null() -> Result<Self, ConfigError> {
        Self::from_raw(RawDropConfig::default())
    }
}

impl DropConfig {
    /// Checks `cfg` as Promtail does.
    pub(crate) fn new(cfg: &RawDropConfig) -> Result<Self, DropError> {
        if cfg.source.is_none()
            && cfg.expression.is_none()
            && cfg.older_than.is_none()
            && cfg.longer_than.is_none()
        {
            return Err(DropError::Empty);
        }
        let source = match &cfg.source {
            None => None,
            Some(serde_json::Value::String(s)) => Some(s.clone()),
            Some(_) => return Err(DropError::InvalidSource),
        };
        let older_than_ns = match &cfg.older_than {
            None => None,
            Some(text) => {
                Some(weak::go_duration_ns(text).map_err(|e| DropError::Duration(text.clone(), e))?)
            }
        };
        if cfg.value.is_some() && source.is_none() {
            return Err(DropError::ValueWithoutSource);
        }
        if cfg.value.is_some() && cfg.expression.is_some() {
            return Err(DropError::ValueAndExpression);
        }
        // Promtail turns `value` into an anchored, quoted regex, so both
        // forms take one path below.
        let regex = match (&cfg.expression, &cfg.value) {
            (Some(expr), _) => Some(Regex::new(expr).map_err(|e| DropError::Regex(e.to_string()))?),
            (None, Some(value)) => Some(
                Regex::new(&format!("^{}$", regex::escape(value)))
                    .map_err(|e| DropError::Regex(e.to_string()))?,
            ),
            (None, None) => None,
        };
        let longer_than = match &cfg.longer_than {
            None => None,
            Some(text) => Some(parse_byte_size(text).map_err(DropError::ByteSize)?),
        };
        let reason = match cfg.drop_counter_reason.as_deref() {
            None | Some("") => DEFAULT_REASON.to_owned(),
            Some(r) => r.to_owned(),
        };
        Ok(Self {
            source,
            regex,
            older_than_ns,
            longer_than,
            reason,
        })
    }

    /// Whether every configured condition holds (Promtail ANDs them).
    fn should_drop(&self, e: &PipelineEntry, now_ns: i64) -> bool {
        if let Some(max) = self.longer_than {
            if e.entry.line.len() as u64 <= max {
                return false;
            }
        }
        if let Some(age) = self.older_than_ns {
            if e.entry.ts_ns >= now_ns.saturating_sub(age) {
                return false;
            }
        }
        match (&self.source, &self.regex) {
            (Some(source), None) => e.extracted.contains_key(source),
            (None, Some(regex)) => regex.is_match(&e.entry.line),
            (Some(source), Some(regex)) => {
                // A missing source tests the empty string, as Promtail
                // joins the sources it found; one it cannot read as a
                // string keeps the entry.
                let text = match e.extracted.get(source) {
                    None => String::new(),
                    Some(v) => match get_string(v) {
                        Some(s) => s.into_owned(),
                        None => return false,
                    },
                };
                regex.is_match(&text)
            }
            (None, None) => true,
        }
    }
}

/// The `drop` stage.
pub struct DropStage {
    cfg: DropConfig,
    dropped: Arc<Family<Counter>>,
}

impl DropStage {
    /// The stage for `cfg`, counting drops in `dropped` (the context's
    /// `logentry_dropped_lines_total`).
    pub fn new(cfg: DropConfig, dropped: Arc<Family<Counter>>) -> Self {
        Self { cfg, dropped }
    }
}

impl Stage for DropStage {
    fn name(&self) -> &'static str {
        "drop"
    }

    fn process(&mut self, entry: PipelineEntry, now_ns: i64, out: &mut Vec<PipelineEntry>) {
        if self.cfg.should_drop(&entry, now_ns) {
            self.dropped.with_labels(&[&self.cfg.reason]).inc();
        } else {
            out.push(entry);
        }
    }
}

/// A size as Promtail's `flagext.ByteSize` reads it (c2h5oh/datasize on the
/// upper-cased text): whole digits, then an optional unit `B`, `K`/`KB`,
/// `M`/`MB`, `G`/`GB`, `T`/`TB`, `P`/`PB`, `E`/`EB` (also spelled out,
/// `KILOBYTE(S)`, …), in powers of 1024.
pub(crate) fn parse_byte_size(text: &str) -> Result<u64, String> {
    let upper = text.to_uppercase();
    let digits = upper.bytes().take_while(u8::is_ascii_digit).count();
    let syntax = || format!("datasize: syntax error: {text:?}");
    if digits == 0 {
        return Err(syntax());
    }
    let number: u64 = upper[..digits]
        .parse()
        .map_err(|_| format!("datasize: overflow: {text:?}"))?;
    let unit = upper[digits..].trim().to_lowercase();
    let shift = match unit.as_str() {
        "" | "b" | "byte" => 0,
        "k" | "kb" | "kilo" | "kilobyte" | "kilobytes" => 10,
        "m" | "mb" | "mega" | "megabyte" | "megabytes" => 20,
        "g" | "gb" | "giga" | "gigabyte" | "gigabytes" => 30,
        "t" | "tb" | "tera" | "terabyte" | "terabytes" => 40,
        "p" | "pb" | "peta" | "petabyte" | "petabytes" => 50,
        "e" | "eb" | "exa" | "exabyte" | "exabytes" => 60,
        _ => return Err(syntax()),
    };
    number
        .checked_mul(1u64 << shift)
        .ok_or_else(|| format!("datasize: overflow: {text:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::Entry;

    const NOW: i64 = 1_700_000_000_000_000_000;

    fn stage(yaml: &str) -> Result<(DropStage, Arc<Family<Counter>>), String> {
        let raw: RawDropConfig = yaml_serde::from_str(yaml).map_err(|e| e.to_string())?;
        let cfg = DropConfig::new(&raw).map_err(|e| e.to_string())?;
        let registry = Registry::new();
        let counter = dropped_lines(&registry).map_err(|e| e.to_string())?;
        Ok((DropStage::new(cfg, counter.clone()), counter))
    }

    fn entry(line: &str, ts_ns: i64, extracted: &[(&str, serde_json::Value)]) -> PipelineEntry {
        let mut e = PipelineEntry::new(Entry {
            line: line.to_owned(),
            ts_ns,
            ..Entry::default()
        });
        for (k, v) in extracted {
            e.extracted.insert((*k).to_owned(), v.clone());
        }
        e
    }

    /// Runs one entry through a stage built from `yaml`; whether it was kept.
    fn kept(yaml: &str, e: PipelineEntry) -> bool {
        let (mut stage, _) = stage(yaml).unwrap();
        let mut out = Vec::new();
        stage.process(e, NOW, &mut out);
        out.len() == 1
    }

    #[test]
    fn config_errors_are_promtails() {
        for (yaml, want) in [
            ("{}", "must contain at least one of"),
            ("drop_counter_reason: x", "must contain at least one of"),
            ("source: [a, b]\nvalue: x", "source invalid type"),
            ("source: 5", "source invalid type"),
            ("value: x\nexpression: y", "must contain `source`"),
            ("value: x\nlonger_than: 1", "must contain `source`"),
            (
                "source: a\nvalue: x\nexpression: y",
                "cannot both be defined",
            ),
            ("expression: '('", "regex compilation error"),
            ("older_than: 1d", "cannot be converted to a duration"),
            ("longer_than: 1.5KB", "failed to parse longer_than"),
            ("longer_than: ten", "failed to parse longer_than"),
        ] {
            let err = stage(yaml).err().unwrap_or_default();
            assert!(err.contains(want), "{yaml}: {err}");
        }
    }

    #[test]
    fn longer_than_counts_bytes() {
        for (line, keep) in [
            ("short", true),
            ("exactly10!", true),
            ("elevenchars", false),
            ("ünïcödé12", false),
        ] {
            assert_eq!(kept("longer_than: 10", entry(line, 0, &[])), keep, "{line}");
        }
    }

    #[test]
    fn longer_than_units() {
        for (text, want) in [
            ("10", 10),
            ("1kb", 1024),
            ("2 MB", 2 << 20),
            ("1g", 1 << 30),
            ("3B", 3),
        ] {
            assert_eq!(parse_byte_size(text), Ok(want), "{text}");
        }
        assert!(parse_byte_size("1KiB").is_err());
        assert!(parse_byte_size("-1").is_err());
    }

    #[test]
    fn older_than_uses_the_entry_timestamp() {
        let hour = 3_600_000_000_000;
        assert!(!kept("older_than: 1h", entry("x", NOW - 2 * hour, &[])));
        assert!(kept("older_than: 1h", entry("x", NOW - hour, &[])));
        assert!(kept("older_than: 1h", entry("x", NOW + hour, &[])));
    }

    #[test]
    fn source_alone_drops_when_present() {
        let s = serde_json::json!("x");
        assert!(!kept(
            "source: level",
            entry("l", 0, &[("level", s.clone())])
        ));
        assert!(kept("source: level", entry("l", 0, &[("other", s)])));
    }

    #[test]
    fn source_with_value_matches_exactly() {
        let cfg = "source: level\nvalue: debug";
        for (value, keep) in [
            (serde_json::json!("debug"), false),
            (serde_json::json!("debugging"), true),
            (serde_json::json!("DEBUG"), true),
        ] {
            assert_eq!(
                kept(cfg, entry("l", 0, &[("level", value.clone())])),
                keep,
                "{value}"
            );
        }
        assert!(kept(cfg, entry("l", 0, &[])));
    }

    #[test]
    fn value_is_quoted_not_a_regex() {
        let cfg = "source: v\nvalue: a.c";
        assert!(kept(cfg, entry("l", 0, &[("v", serde_json::json!("abc"))])));
        assert!(!kept(
            cfg,
            entry("l", 0, &[("v", serde_json::json!("a.c"))])
        ));
    }

    #[test]
    fn numeric_values_compare_as_text() {
        let cfg = "source: status\nvalue: 500";
        assert!(!kept(
            cfg,
            entry("l", 0, &[("status", serde_json::json!(500))])
        ));
        assert!(!kept(
            cfg,
            entry("l", 0, &[("status", serde_json::json!("500"))])
        ));
    }

    #[test]
    fn source_with_expression() {
        let cfg = "source: app\nexpression: ^(test|tmp)";
        assert!(!kept(
            cfg,
            entry("l", 0, &[("app", serde_json::json!("test-1"))])
        ));
        assert!(kept(
            cfg,
            entry("l", 0, &[("app", serde_json::json!("prod"))])
        ));
        assert!(kept(cfg, entry("l", 0, &[])));
        assert!(kept(
            cfg,
            entry("l", 0, &[("app", serde_json::json!(["x"]))])
        ));
    }

    #[test]
    fn expression_alone_tests_the_line() {
        assert!(!kept("expression: debug", entry("a debug line", 0, &[])));
        assert!(kept("expression: debug", entry("an info line", 0, &[])));
    }

    #[test]
    fn conditions_are_anded() {
        let cfg = "expression: debug\nlonger_than: 10";
        assert!(kept(cfg, entry("debug", 0, &[])));
        assert!(kept(cfg, entry("a long info line", 0, &[])));
        assert!(!kept(cfg, entry("a long debug line", 0, &[])));
    }

    #[test]
    fn drops_are_counted_by_reason() {
        for (yaml, reason) in [
            ("expression: x", "drop_stage"),
            ("expression: x\ndrop_counter_reason: ''", "drop_stage"),
            ("expression: x\ndrop_counter_reason: noisy", "noisy"),
        ] {
            let (mut stage, counter) = stage(yaml).unwrap();
            let mut out = Vec::new();
            stage.process(entry("x", 0, &[]), NOW, &mut out);
            stage.process(entry("x", 0, &[]), NOW, &mut out);
            stage.process(entry("y", 0, &[]), NOW, &mut out);
            assert_eq!(out.len(), 1);
            assert_eq!(counter.with_labels(&[reason]).get(), 2.0, "{yaml}");
        }
    }
}
