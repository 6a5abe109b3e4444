//! The push API against Loki 2.8's recorded answers (`fixtures/loki-api/push_*.txt`),
//! plus the decoders' and validation's own cases.

use std::io::Write;

use logstore::push::{
    FailedEntry, Limits, OtlpConfig, PushError, TenantRateLimiter, decode, decode_otlp,
    ignored_entries_error, too_far_behind_reason, validate,
};
use model::Labels;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, KeyValueList, any_value::Value};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::resource::v1::Resource;
use prost::Message;

mod common;
use common::{JSON, PROTO, SEC, json_push, proto_push, recorded};

/// When the fixtures were recorded: 2026-11-24T15:16:01Z.
const NOW: i64 = 1_795_533_361_000_000_000;

/// What vigil answers, the way the server will chain the pieces: decode,
/// validate, the tenant's rate, then the validation error if any.
fn answer(
    ct: Option<&str>,
    ce: Option<&str>,
    body: &[u8],
    limiter: &mut TenantRateLimiter,
) -> (u16, String) {
    let req = match decode(ct, ce, body) {
        Ok(r) => r,
        Err(e) => return (e.status(), e.http_body()),
    };
    let checked = validate(req, &Limits::default(), NOW);
    if !checked.request.streams.is_empty() {
        if let Err(e) = limiter.check("fake", NOW, checked.lines, checked.bytes) {
            return (e.status(), e.http_body());
        }
    }
    match checked.error {
        Some(e) => (e.status(), e.http_body()),
        None => (204, String::new()),
    }
}

fn default_limiter() -> TenantRateLimiter {
    let l = Limits::default();
    TenantRateLimiter::new(l.ingestion_rate_bytes, l.ingestion_burst_bytes)
}

fn check(name: &str, ct: Option<&str>, ce: Option<&str>, body: &[u8]) {
    let got = answer(ct, ce, body, &mut default_limiter());
    assert_eq!(got, recorded(name), "{name}");
}

#[test]
fn fixture_seed_is_accepted() {
    check(
        "push_seed",
        PROTO,
        None,
        &proto_push(r#"{job="seed", env="test"}"#, &[(NOW, "hello")]),
    );
}

#[test]
fn fixture_duplicate_entries_are_accepted() {
    let v = format!(r#"["{NOW}","same"],["{NOW}","same"]"#);
    check(
        "push_dup_same",
        JSON,
        None,
        &json_push(r#"{"job":"dup"}"#, &v),
    );
}

#[test]
fn fixture_empty_streams_are_accepted() {
    check("push_empty_streams", JSON, None, br#"{"streams":[]}"#);
}

#[test]
fn fixture_unsupported_encoding() {
    check("push_bad_encoding", JSON, Some("br"), br#"{"streams":[]}"#);
}

#[test]
fn fixture_truncated_json() {
    check("push_bad_json", JSON, None, br#"{"streams":[{"#);
}

#[test]
fn fixture_numeric_timestamp() {
    check(
        "push_numeric_ts",
        JSON,
        None,
        br#"{"streams":[{"stream":{"job":"err"},"values":[[1795533361821457089,"num"]]}]}"#,
    );
}

#[test]
fn fixture_bad_label_name() {
    check(
        "push_bad_label",
        PROTO,
        None,
        &proto_push(r#"{1abc="x"}"#, &[(NOW, "x")]),
    );
    check(
        "push_bad_label",
        JSON,
        None,
        &json_push(r#"{"1abc":"x"}"#, &format!(r#"["{NOW}","x"]"#)),
    );
}

#[test]
fn fixture_no_content_type() {
    check("push_no_content_type", None, None, br#"{"streams":[]}"#);
}

#[test]
fn fixture_no_labels() {
    check(
        "push_no_labels",
        JSON,
        None,
        &json_push("{}", &format!(r#"["{NOW}","x"]"#)),
    );
}

#[test]
fn fixture_protobuf_garbage() {
    check(
        "push_proto_garbage",
        PROTO,
        None,
        b"this is not a snappy block",
    );
}

#[test]
fn fixture_too_old() {
    let ts = NOW - 8 * 24 * 3600 * SEC;
    check(
        "push_too_old",
        JSON,
        None,
        &json_push(r#"{"job":"err"}"#, &format!(r#"["{ts}","old"]"#)),
    );
}

#[test]
fn fixture_too_new() {
    let ts = NOW + 3600 * SEC;
    check(
        "push_too_new",
        JSON,
        None,
        &json_push(r#"{"job":"err"}"#, &format!(r#"["{ts}","new"]"#)),
    );
}

#[test]
fn fixture_tenant_rate_limited() {
    let line = "x".repeat(1000);
    let values: Vec<String> = (0..7000)
        .map(|i| format!(r#"["{}","{line}"]"#, NOW - i))
        .collect();
    check(
        "push_rate_limited",
        JSON,
        None,
        &json_push(r#"{"job":"big"}"#, &values.join(",")),
    );
}

#[test]
fn fixture_too_far_behind() {
    // The stream's newest entry is 15:16:01.821457089; the window is an hour.
    let newest = NOW + 821_457_089;
    let late = newest - 2 * 3600 * SEC;
    let failed = [FailedEntry {
        ts_ns: late,
        reason: too_far_behind_reason(newest - 3600 * SEC),
        rate_limited: false,
    }];
    let stream = Labels::from_pairs([("job", "ooo")]);
    let e = ignored_entries_error("fake", &stream, &failed, 2, 10).expect("an error");
    assert_eq!((e.status(), e.http_body()), recorded("push_too_far_behind"));
}

#[test]
fn valid_entries_are_kept_beside_invalid_ones() {
    let v = format!(
        r#"["{NOW}","ok"],["{}","old"],["{}","ok2"]"#,
        NOW - 30 * 24 * 3600 * SEC,
        NOW - SEC
    );
    let req = decode(JSON, None, &json_push(r#"{"job":"mix"}"#, &v)).unwrap();
    let checked = validate(req, &Limits::default(), NOW);
    assert_eq!(checked.request.streams[0].entries.len(), 2);
    assert_eq!(checked.rejected, 1);
    assert_eq!(checked.error.map(|e| e.status()), Some(400));
}

#[test]
fn long_lines_are_refused_or_truncated() {
    let limits = Limits {
        max_line_size: 4,
        ..Limits::default()
    };
    let req = decode(
        JSON,
        None,
        &json_push(r#"{"job":"x"}"#, &format!(r#"["{NOW}","héllo"]"#)),
    )
    .unwrap();
    let refused = validate(req.clone(), &limits, NOW);
    assert_eq!(
        refused.error.unwrap().message(),
        r#"Max entry size '4' bytes exceeded for stream '{job="x"}' while adding an entry with length '6' bytes"#
    );
    let truncated = validate(
        req,
        &Limits {
            max_line_size_truncate: true,
            ..limits
        },
        NOW,
    );
    assert!(truncated.error.is_none());
    assert_eq!(truncated.request.streams[0].entries[0].line, "hél");
}

#[test]
fn label_limits() {
    let req = |labels: &str| decode(PROTO, None, &proto_push(labels, &[(NOW, "x")])).unwrap();
    let msg = |labels: &str, limits: &Limits| {
        validate(req(labels), limits, NOW)
            .error
            .unwrap()
            .message()
            .to_owned()
    };
    let l = Limits {
        max_label_names_per_series: 1,
        max_label_name_length: 3,
        max_label_value_length: 3,
        ..Limits::default()
    };
    assert_eq!(
        msg(r#"{a="1", b="2"}"#, &l),
        r#"entry for stream '{a="1", b="2"}' has 2 label names; limit 1"#
    );
    assert_eq!(
        msg(r#"{long="1"}"#, &l),
        r#"stream '{long="1"}' has label name too long: 'long'"#
    );
    assert_eq!(
        msg(r#"{a="long"}"#, &l),
        r#"stream '{a="long"}' has label value too long: 'long'"#
    );
    assert_eq!(
        msg(r#"{a="1", a="2"}"#, &Limits::default()),
        r#"stream '{a="1", a="2"}' has duplicate label name: 'a'"#
    );
}

#[test]
fn protobuf_metadata_and_timestamps() {
    let req = decode(
        PROTO,
        Some("snappy"),
        &proto_push(r#"{job="x"}"#, &[(NOW + 5, "a")]),
    )
    .unwrap();
    let e = &req.streams[0].entries[0];
    assert_eq!(
        (e.ts_ns, e.line.as_str(), e.metadata.get("trace")),
        (NOW + 5, "a", Some("t1"))
    );
}

#[test]
fn json_gzip_and_deflate() {
    let body = json_push(r#"{"job":"z"}"#, &format!(r#"["{NOW}","zipped"]"#));
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&body).unwrap();
    let req = decode(JSON, Some("gzip"), &gz.finish().unwrap()).unwrap();
    assert_eq!(req.streams[0].entries[0].line, "zipped");
    let mut df = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    df.write_all(&body).unwrap();
    let req = decode(
        Some("application/json; charset=utf-8"),
        Some("deflate"),
        &df.finish().unwrap(),
    )
    .unwrap();
    assert_eq!(req.streams[0].entries[0].line, "zipped");
    let e = decode(JSON, Some("gzip"), b"not gzip at all").unwrap_err();
    assert_eq!(e, PushError::BadRequest("gzip: invalid header".to_owned()));
}

#[test]
fn json_bad_timestamp_string() {
    let e = decode(JSON, None, &json_push(r#"{"job":"x"}"#, r#"["abc","x"]"#)).unwrap_err();
    assert!(
        e.message()
            .contains("unmarshalerDecoder: Value looks like Number/Boolean/None"),
        "{e}"
    );
}

fn kv(key: &str, value: Value) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue { value: Some(value) }),
        ..Default::default()
    }
}

fn otlp_request() -> ExportLogsServiceRequest {
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: Some(Resource {
                attributes: vec![
                    kv("service.name", Value::StringValue("checkout".into())),
                    kv("k8s.pod.name", Value::StringValue("pod-1".into())),
                    kv("host.name", Value::StringValue("h1".into())),
                ],
                ..Default::default()
            }),
            scope_logs: vec![ScopeLogs {
                scope: Some(
                    opentelemetry_proto::tonic::common::v1::InstrumentationScope {
                        name: "lib".into(),
                        version: "1.0".into(),
                        ..Default::default()
                    },
                ),
                log_records: vec![
                    LogRecord {
                        time_unix_nano: NOW as u64,
                        observed_time_unix_nano: (NOW + 1) as u64,
                        severity_number: 9,
                        severity_text: "INFO".into(),
                        body: Some(AnyValue {
                            value: Some(Value::StringValue("hello".into())),
                        }),
                        attributes: vec![kv(
                            "http",
                            Value::KvlistValue(KeyValueList {
                                values: vec![kv("status", Value::IntValue(200))],
                            }),
                        )],
                        trace_id: vec![0xab; 16],
                        span_id: vec![0x01; 8],
                        ..Default::default()
                    },
                    LogRecord {
                        observed_time_unix_nano: (NOW + 2) as u64,
                        body: Some(AnyValue {
                            value: Some(Value::KvlistValue(KeyValueList {
                                values: vec![
                                    kv("b", Value::DoubleValue(1.5)),
                                    kv("a", Value::StringValue("<x>".into())),
                                ],
                            })),
                        }),
                        ..Default::default()
                    },
                ],
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

#[test]
fn otlp_protobuf_maps_as_loki() {
    let body = otlp_request().encode_to_vec();
    let req = decode_otlp(PROTO, None, &body, &OtlpConfig::default(), NOW).unwrap();
    assert_eq!(req.streams.len(), 1);
    let s = &req.streams[0];
    assert_eq!(
        s.labels_text,
        r#"{k8s_pod_name="pod-1", service_name="checkout"}"#
    );
    let first = &s.entries[0];
    assert_eq!(first.ts_ns, NOW);
    assert_eq!(first.line, "hello");
    let m = &first.metadata;
    assert_eq!(m.get("host_name"), Some("h1"));
    assert_eq!(m.get("http_status"), Some("200"));
    assert_eq!(m.get("severity_text"), Some("INFO"));
    assert_eq!(m.get("severity_number"), Some("9"));
    assert_eq!(
        m.get("observed_timestamp"),
        Some((NOW + 1).to_string().as_str())
    );
    assert_eq!(m.get("trace_id"), Some("abababababababababababababababab"));
    assert_eq!(m.get("span_id"), Some("0101010101010101"));
    assert_eq!(m.get("scope_name"), Some("lib"));
    assert_eq!(m.get("scope_version"), Some("1.0"));
    let second = &s.entries[1];
    assert_eq!(second.ts_ns, NOW + 2);
    assert_eq!(second.line, r#"{"a":"\u003cx\u003e","b":1.5}"#);
}

#[test]
fn otlp_json_and_unknown_service() {
    let mut req = otlp_request();
    if let Some(r) = req.resource_logs[0].resource.as_mut() {
        r.attributes.retain(|kv| kv.key != "service.name");
    }
    let body = serde_json::to_vec(&req).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&body).unwrap();
    let got = decode_otlp(
        JSON,
        Some("gzip"),
        &gz.finish().unwrap(),
        &OtlpConfig::default(),
        NOW,
    )
    .unwrap();
    assert_eq!(
        got.streams[0].labels_text,
        r#"{k8s_pod_name="pod-1", service_name="unknown_service"}"#
    );
    let e = decode_otlp(Some("text/plain"), None, b"", &OtlpConfig::default(), NOW).unwrap_err();
    assert_eq!(e.message(), "content type: text/plain is not supported");
}
