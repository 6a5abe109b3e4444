//! OTLP logs over HTTP (`/otlp/v1/logs`), protobuf or JSON, mapped onto
//! Loki streams as Loki 3 maps them.
//!
//! Resource attributes in the index list become stream labels (dots and
//! other non-alphanumerics become `_`), every other attribute of the
//! resource, the scope and the record becomes structured metadata, beside
//! the record's own fields (`severity_text`, `trace_id`, ...). The line is
//! the body rendered as a string.

use std::collections::HashMap;
use std::io::Read;

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value::Value};

use super::labels::labels_string;
use super::{PushEntry, PushError, PushRequest, PushStream, inflate};
use model::Labels;

/// Loki's default resource attributes that become stream labels.
pub const DEFAULT_INDEX_ATTRIBUTES: &[&str] = &[
    "service.name",
    "service.namespace",
    "service.instance.id",
    "deployment.environment",
    "deployment.environment.name",
    "cloud.region",
    "cloud.availability_zone",
    "k8s.cluster.name",
    "k8s.namespace.name",
    "k8s.pod.name",
    "k8s.container.name",
    "container.name",
    "k8s.replicaset.name",
    "k8s.deployment.name",
    "k8s.statefulset.name",
    "k8s.daemonset.name",
    "k8s.cronjob.name",
    "k8s.job.name",
];

/// Loki's default `discover_service_name`: stream labels whose value
/// becomes `service_name` when the resource has no `service.name`.
pub const DEFAULT_SERVICE_NAME_LABELS: &[&str] = &[
    "service",
    "app",
    "application",
    "app_name",
    "name",
    "app_kubernetes_io_name",
    "container",
    "container_name",
    "k8s_container_name",
    "component",
    "workload",
    "job",
    "k8s_job_name",
];

/// How OTLP attributes map onto labels (Loki's `otlp_config`, the parts
/// vigil supports).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtlpConfig {
    /// Resource attributes that become stream labels.
    pub index_attributes: Vec<String>,
    /// Labels to take `service_name` from; empty disables `service_name`.
    pub discover_service_name: Vec<String>,
    /// Make `severity_text` a stream label too.
    pub severity_text_as_label: bool,
}

impl Default for OtlpConfig {
    fn default() -> Self {
        Self {
            index_attributes: DEFAULT_INDEX_ATTRIBUTES
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
            discover_service_name: DEFAULT_SERVICE_NAME_LABELS
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
            severity_text_as_label: false,
        }
    }
}

/// Decodes an OTLP logs body (`application/x-protobuf` or
/// `application/json`, optionally gzip, zstd or lz4) into streams. Records
/// without any timestamp get `now_ns`.
pub fn decode_otlp(
    content_type: Option<&str>,
    content_encoding: Option<&str>,
    body: &[u8],
    config: &OtlpConfig,
    now_ns: i64,
) -> Result<PushRequest, PushError> {
    let max = super::DEFAULT_MAX_DECOMPRESSED;
    let inflated = match content_encoding.unwrap_or("") {
        "" => None,
        "gzip" => Some(inflate("gzip", body, max)?),
        "zstd" => Some(read_limited(zstd::stream::read::Decoder::new(body), max)?),
        "lz4" => Some(read_limited(
            Ok(lz4_flex::frame::FrameDecoder::new(body)),
            max,
        )?),
        other => {
            return Err(PushError::bad(format!(
                "unsupported content encoding {other}: only gzip, lz4 and zstd are supported"
            )));
        }
    };
    let body = inflated.as_deref().unwrap_or(body);
    let request: ExportLogsServiceRequest = match content_type.unwrap_or("") {
        "application/x-protobuf" => {
            prost::Message::decode(body).map_err(|e| PushError::bad(format!("proto: {e}")))?
        }
        "application/json" => {
            serde_json::from_slice(body).map_err(|e| PushError::bad(format!("json: {e}")))?
        }
        other => {
            return Err(PushError::bad(format!(
                "content type: {other} is not supported"
            )));
        }
    };
    Ok(to_push_request(request, config, now_ns))
}

fn read_limited<R: Read>(reader: std::io::Result<R>, max: usize) -> Result<Vec<u8>, PushError> {
    let corrupt = |e: std::io::Error| PushError::bad(e.to_string().to_lowercase());
    let mut out = Vec::new();
    let limit = u64::try_from(max).unwrap_or(u64::MAX).saturating_add(1);
    reader
        .map_err(corrupt)?
        .take(limit)
        .read_to_end(&mut out)
        .map_err(corrupt)?;
    if out.len() > max {
        return Err(PushError::TooLarge(format!(
            "decompressed message larger than max ({} vs {max})",
            out.len()
        )));
    }
    Ok(out)
}

/// Streams by label set, in the order first seen.
#[derive(Default)]
struct Streams {
    index: HashMap<Labels, usize>,
    streams: Vec<PushStream>,
}

impl Streams {
    fn push(&mut self, labels: &Labels, entry: PushEntry) {
        let i = *self.index.entry(labels.clone()).or_insert_with(|| {
            self.streams
                .push(PushStream::new(labels.clone(), Vec::new()));
            self.streams.len() - 1
        });
        self.streams[i].entries.push(entry);
    }
}

/// Maps a decoded OTLP request onto Loki streams.
fn to_push_request(req: ExportLogsServiceRequest, config: &OtlpConfig, now_ns: i64) -> PushRequest {
    let mut out = Streams::default();
    for rl in req.resource_logs {
        let attrs = rl.resource.map(|r| r.attributes).unwrap_or_default();
        let mut stream: Vec<(String, String)> = Vec::new();
        let mut resource_meta: Vec<(String, String)> = Vec::new();
        let has_service_name = attrs
            .iter()
            .any(|kv| kv.key == "service.name" && !as_string(kv.value.as_ref()).is_empty());
        for kv in &attrs {
            let target = if config.index_attributes.iter().any(|a| a == &kv.key) {
                &mut stream
            } else {
                &mut resource_meta
            };
            attribute_to_labels(&kv.key, kv.value.as_ref(), "", target);
        }
        let mut stream_labels = Labels::from_pairs(stream);
        if !has_service_name && !config.discover_service_name.is_empty() {
            let found = config.discover_service_name.iter().find_map(|n| {
                stream_labels
                    .get(n)
                    .filter(|v| !v.is_empty())
                    .map(str::to_owned)
            });
            stream_labels.set(
                "service_name",
                found.as_deref().unwrap_or("unknown_service"),
            );
        }
        for sl in rl.scope_logs {
            let mut scope_meta: Vec<(String, String)> = Vec::new();
            if let Some(scope) = &sl.scope {
                for kv in &scope.attributes {
                    attribute_to_labels(&kv.key, kv.value.as_ref(), "", &mut scope_meta);
                }
                if !scope.name.is_empty() {
                    scope_meta.push(("scope_name".to_owned(), scope.name.clone()));
                }
                if !scope.version.is_empty() {
                    scope_meta.push(("scope_version".to_owned(), scope.version.clone()));
                }
                if scope.dropped_attributes_count != 0 {
                    scope_meta.push((
                        "scope_dropped_attributes_count".to_owned(),
                        scope.dropped_attributes_count.to_string(),
                    ));
                }
            }
            for record in sl.log_records {
                let mut meta: Vec<(String, String)> = Vec::new();
                for kv in &record.attributes {
                    if kv.key == "event_name" && !record.event_name.is_empty() {
                        continue;
                    }
                    attribute_to_labels(&kv.key, kv.value.as_ref(), "", &mut meta);
                }
                if record.time_unix_nano != 0 && record.observed_time_unix_nano != 0 {
                    meta.push((
                        "observed_timestamp".to_owned(),
                        record.observed_time_unix_nano.to_string(),
                    ));
                }
                if record.severity_number != 0 {
                    meta.push((
                        "severity_number".to_owned(),
                        record.severity_number.to_string(),
                    ));
                }
                let mut labels = stream_labels.clone();
                if !record.severity_text.is_empty() {
                    if config.severity_text_as_label {
                        labels.set("severity_text", &record.severity_text);
                    }
                    meta.push(("severity_text".to_owned(), record.severity_text.clone()));
                }
                if record.dropped_attributes_count != 0 {
                    meta.push((
                        "dropped_attributes_count".to_owned(),
                        record.dropped_attributes_count.to_string(),
                    ));
                }
                if record.flags != 0 {
                    meta.push(("flags".to_owned(), record.flags.to_string()));
                }
                if record.trace_id.iter().any(|&b| b != 0) {
                    meta.push(("trace_id".to_owned(), hex(&record.trace_id)));
                }
                if record.span_id.iter().any(|&b| b != 0) {
                    meta.push(("span_id".to_owned(), hex(&record.span_id)));
                }
                if !record.event_name.is_empty() {
                    meta.push(("event_name".to_owned(), record.event_name.clone()));
                }
                meta.extend(resource_meta.iter().cloned());
                meta.extend(scope_meta.iter().cloned());
                let ts = [record.time_unix_nano, record.observed_time_unix_nano]
                    .into_iter()
                    .find(|&t| t != 0)
                    .map_or(now_ns, |t| i64::try_from(t).unwrap_or(i64::MAX));
                let entry = PushEntry {
                    ts_ns: ts,
                    line: as_string(record.body.as_ref()),
                    metadata: Labels::from_pairs(meta),
                };
                out.push(&labels, entry);
            }
        }
    }
    for s in &mut out.streams {
        s.labels_text = labels_string(&s.labels);
    }
    PushRequest {
        streams: out.streams,
    }
}

/// Loki's label name for an attribute key: every character that is not a
/// letter or digit becomes `_`; `key_` before a leading digit, `key` before
/// a single leading underscore.
fn label_name(key: &str) -> String {
    let mut name: String = key
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { '_' })
        .collect();
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert_str(0, "key_");
    } else if name.starts_with('_') && !name.starts_with("__") {
        name.insert_str(0, "key");
    }
    name
}

/// An attribute as labels: a map flattens into `<key>_<inner key>` pairs,
/// anything else is one pair with the value as a string.
fn attribute_to_labels(
    key: &str,
    value: Option<&AnyValue>,
    prefix: &str,
    out: &mut Vec<(String, String)>,
) {
    let full = if prefix.is_empty() {
        label_name(key)
    } else {
        label_name(&format!("{prefix}_{key}"))
    };
    if full.is_empty() {
        return;
    }
    match value.and_then(|v| v.value.as_ref()) {
        Some(Value::KvlistValue(list)) => {
            for kv in &list.values {
                attribute_to_labels(&kv.key, kv.value.as_ref(), &full, out);
            }
        }
        _ => out.push((full, as_string(value))),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// OpenTelemetry's `Value.AsString`: strings as they are, numbers and
/// booleans printed, bytes in base64, maps and arrays as JSON.
fn as_string(value: Option<&AnyValue>) -> String {
    match value.and_then(|v| v.value.as_ref()) {
        None | Some(Value::StringValueStrindex(_)) => String::new(),
        Some(Value::StringValue(s)) => s.clone(),
        Some(Value::BoolValue(b)) => b.to_string(),
        Some(Value::IntValue(i)) => i.to_string(),
        Some(Value::DoubleValue(f)) => float_string(*f),
        Some(Value::BytesValue(b)) => base64(b),
        Some(Value::ArrayValue(_) | Value::KvlistValue(_)) => {
            let mut out = String::new();
            // Go's encoding/json refuses NaN and infinities; the result is then empty.
            if write_json(value, &mut out) {
                out
            } else {
                String::new()
            }
        }
    }
}

/// ES6 number formatting, as Go's JSON encoder and `AsString` use it; the
/// encoder's message for what it refuses.
fn float_string(f: f64) -> String {
    gocompat::json::format_float(f).unwrap_or_else(|| {
        let what = if f.is_nan() {
            "NaN"
        } else if f > 0.0 {
            "+Inf"
        } else {
            "-Inf"
        };
        format!("json: unsupported value: {what}")
    })
}

/// Go's `base64.StdEncoding`, as `AsString` and `encoding/json` write bytes.
fn base64(bytes: &[u8]) -> String {
    base64::Engine::encode(&base64::engine::general_purpose::STANDARD, bytes)
}

/// Go's `json.Marshal` of a value's raw form: keys sorted, HTML characters
/// escaped. False when a number cannot be written.
fn write_json(value: Option<&AnyValue>, out: &mut String) -> bool {
    match value.and_then(|v| v.value.as_ref()) {
        None | Some(Value::StringValueStrindex(_)) => out.push_str("null"),
        Some(Value::StringValue(s)) => json_string(s, out),
        Some(Value::BoolValue(b)) => out.push_str(if *b { "true" } else { "false" }),
        Some(Value::IntValue(i)) => out.push_str(&i.to_string()),
        Some(Value::DoubleValue(f)) => {
            if !f.is_finite() {
                return false;
            }
            out.push_str(&float_string(*f));
        }
        Some(Value::BytesValue(b)) => json_string(&base64(b), out),
        Some(Value::ArrayValue(a)) => {
            out.push('[');
            for (i, v) in a.values.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                if !write_json(Some(v), out) {
                    return false;
                }
            }
            out.push(']');
        }
        Some(Value::KvlistValue(list)) => {
            // A map: the last value of a repeated key wins, keys sorted.
            let mut sorted: Vec<&KeyValue> = Vec::with_capacity(list.values.len());
            for kv in &list.values {
                match sorted.iter().position(|k| k.key == kv.key) {
                    Some(i) => sorted[i] = kv,
                    None => sorted.push(kv),
                }
            }
            sorted.sort_by(|a, b| a.key.cmp(&b.key));
            out.push('{');
            for (i, kv) in sorted.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json_string(&kv.key, out);
                out.push(':');
                if !write_json(kv.value.as_ref(), out) {
                    return false;
                }
            }
            out.push('}');
        }
    }
    true
}

/// Go's JSON string encoding, as Loki renders attribute values.
fn json_string(s: &str, out: &mut String) {
    logql::pipeline::json::write_go_json_string(out, s);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_strings() {
        assert_eq!(float_string(1.5), "1.5");
        assert_eq!(float_string(1e21), "1e+21");
        assert_eq!(float_string(1e-7), "1e-7");
        assert_eq!(float_string(100.0), "100");
        assert_eq!(base64(b"hello"), "aGVsbG8=");
        assert_eq!(base64(b"hi!"), "aGkh");
        assert_eq!(label_name("k8s.pod.name"), "k8s_pod_name");
        assert_eq!(label_name("1x"), "key_1x");
        assert_eq!(label_name("_x"), "key_x");
        assert_eq!(label_name("__x"), "__x");
    }
}
