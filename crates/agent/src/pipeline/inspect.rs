//! What `--inspect` prints after each stage: the changes it made to the
//! extracted map, the labels, the time and the line, in the shape of
//! Promtail 2.8's inspector (a go-cmp diff of its `stages.Entry`):
//!
//! ```text
//! [inspect: regex stage]:
//! {stages.Entry}.Extracted["level"]:
//!     +: info
//! [inspect: labels stage]:
//! {stages.Entry}.Entry.Labels:
//!     -: {job="api"}
//!     +: {job="api", level="info"}
//! [inspect: output stage]: none
//! ```
//!
//! (each `-:`/`+:` line starts with a tab). Plain text: Promtail colours additions green, changes yellow and
//! removals red; vigil leaves colour out.

use serde_json::Value;

use super::PipelineEntry;
use super::dry_run::label_set_string;
use super::value::get_string;
use gocompat::strconv::{format_float, quote};

/// The report for one stage that turned `before` into `after`, with its
/// newline.
pub fn inspect(stage: &str, before: &PipelineEntry, after: &PipelineEntry) -> String {
    let mut diffs = Vec::new();
    let keys: std::collections::BTreeSet<&String> = before
        .extracted
        .keys()
        .chain(after.extracted.keys())
        .collect();
    for key in keys {
        let path = format!("{{stages.Entry}}.Extracted[{}]", quote(key));
        let old = before.extracted.get(key).map(go_value);
        let new = after.extracted.get(key).map(go_value);
        change(&mut diffs, &path, old, new);
    }
    if before.entry.labels != after.entry.labels {
        change(
            &mut diffs,
            "{stages.Entry}.Entry.Labels",
            Some(label_set_string(&before.entry.labels)),
            Some(label_set_string(&after.entry.labels)),
        );
    }
    if before.entry.ts_ns != after.entry.ts_ns {
        change(
            &mut diffs,
            "{stages.Entry}.Entry.Entry.Timestamp",
            Some(go_time_string(before.entry.ts_ns)),
            Some(go_time_string(after.entry.ts_ns)),
        );
    }
    if before.entry.line != after.entry.line {
        change(
            &mut diffs,
            "{stages.Entry}.Entry.Entry.Line",
            Some(before.entry.line.clone()),
            Some(after.entry.line.clone()),
        );
    }
    if before.entry.structured_metadata != after.entry.structured_metadata {
        change(
            &mut diffs,
            "{stages.Entry}.Entry.Entry.StructuredMetadata",
            Some(label_set_string(&before.entry.structured_metadata)),
            Some(label_set_string(&after.entry.structured_metadata)),
        );
    }
    if diffs.is_empty() {
        format!("[inspect: {stage} stage]: none\n")
    } else {
        format!("[inspect: {stage} stage]: \n{}\n", diffs.join("\n"))
    }
}

/// One changed path: `-:` for the old value, `+:` for the new one.
fn change(diffs: &mut Vec<String>, path: &str, old: Option<String>, new: Option<String>) {
    if old == new {
        return;
    }
    diffs.push(format!("{path}:"));
    if let Some(old) = old {
        diffs.push(format!("\t-: {old}"));
    }
    if let Some(new) = new {
        diffs.push(format!("\t+: {new}"));
    }
}

/// An extracted value as Go's `%v` prints it.
fn go_value(v: &Value) -> String {
    match v {
        Value::Null => "<nil>".to_owned(),
        Value::Number(n) if n.is_f64() => format_float(n.as_f64().unwrap_or(0.0), 'g', -1),
        other => get_string(other).map_or_else(|| other.to_string(), |s| s.into_owned()),
    }
}

/// Go's `Time.String()` (vigil's times are UTC):
/// `2023-08-01 14:11:35.126 +0000 UTC`.
fn go_time_string(ts_ns: i64) -> String {
    gocompat::time::format(ts_ns, gocompat::time::TIME_STRING)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::testing::entry;
    use serde_json::json;

    #[test]
    fn nothing_changed_is_none() {
        let e = entry("x");
        assert_eq!(inspect("regex", &e, &e), "[inspect: regex stage]: none\n");
    }

    #[test]
    fn added_changed_and_removed_fields() {
        let mut before = entry("x");
        before.extracted.insert("gone".into(), json!("g"));
        before.extracted.insert("same".into(), json!("s"));
        before.extracted.insert("n".into(), json!("5"));
        let mut after = before.clone();
        after.extracted.remove("gone");
        after.extracted.insert("n".into(), json!(6.0));
        after.extracted.insert("new".into(), json!(1e21));
        assert_eq!(
            inspect("json", &before, &after),
            "[inspect: json stage]: \n\
             {stages.Entry}.Extracted[\"gone\"]:\n\t-: g\n\
             {stages.Entry}.Extracted[\"n\"]:\n\t-: 5\n\t+: 6\n\
             {stages.Entry}.Extracted[\"new\"]:\n\t+: 1e+21\n"
        );
    }

    #[test]
    fn same_text_of_another_type_is_no_change() {
        let mut before = entry("x");
        before.extracted.insert("n".into(), json!("5"));
        let mut after = before.clone();
        after.extracted.insert("n".into(), json!(5.0));
        assert_eq!(inspect("t", &before, &after), "[inspect: t stage]: none\n");
    }

    #[test]
    fn labels_time_and_line() {
        let before = entry("old");
        let mut after = before.clone();
        after.entry.labels.insert("level".into(), "info".into());
        after.entry.ts_ns = 1_690_899_095_126_000_000;
        after.entry.line = "new".into();
        assert_eq!(
            inspect("s", &before, &after),
            "[inspect: s stage]: \n\
             {stages.Entry}.Entry.Labels:\n\t-: {}\n\t+: {level=\"info\"}\n\
             {stages.Entry}.Entry.Entry.Timestamp:\n\t-: 1970-01-01 00:00:00 +0000 UTC\n\t+: 2023-08-01 14:11:35.126 +0000 UTC\n\
             {stages.Entry}.Entry.Entry.Line:\n\t-: old\n\t+: new\n"
        );
    }
}
