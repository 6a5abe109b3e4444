//! The remote-write receiver: requests built by our encoder appended to a real TSDB.

use axum::http::StatusCode;
use model::Labels;
use prom::remote::{RemoteError, proto, receive, status_and_message};
use tsdb::{Options, Queryable, Tsdb};

const TYPE: Option<&str> = Some("application/x-protobuf");
const SNAPPY: Option<&str> = Some("snappy");

fn open() -> (tempfile::TempDir, Tsdb) {
    let dir = tempfile::tempdir().unwrap();
    let db = Tsdb::open(dir.path(), Options::default()).unwrap();
    (dir, db)
}

fn series(pairs: &[(&str, &str)], samples: &[(i64, f64)]) -> proto::TimeSeries {
    let mut series = proto::TimeSeries::new(&Labels::from_pairs(pairs.iter().copied()));
    series.samples = samples
        .iter()
        .map(|&(timestamp, value)| proto::Sample { value, timestamp })
        .collect();
    series
}

fn body(timeseries: Vec<proto::TimeSeries>) -> Vec<u8> {
    proto::encode(&proto::WriteRequest {
        timeseries,
        metadata: vec![],
    })
}

/// Every stored series with its samples (value bits, so NaNs compare).
fn stored(db: &Tsdb) -> Vec<(Labels, Vec<(i64, u64)>)> {
    let querier = db.querier(i64::MIN / 2, i64::MAX / 2).unwrap();
    let mut all: Vec<_> = querier
        .select(&[])
        .unwrap()
        .iter()
        .map(|s| {
            let samples = s.samples().map(|(t, v)| (t, v.to_bits())).collect();
            (s.labels().clone(), samples)
        })
        .collect();
    all.sort();
    all
}

fn status_of(result: Result<prom::remote::ReceiveStats, RemoteError>) -> (StatusCode, String) {
    match result {
        Ok(_) => (StatusCode::NO_CONTENT, String::new()),
        Err(e) => status_and_message(&e),
    }
}

#[test]
fn round_trip_of_an_encoded_request() {
    let (_dir, db) = open();
    let request = body(vec![
        series(
            &[("__name__", "up"), ("job", "api")],
            &[(1_000, 1.0), (16_000, 0.0)],
        ),
        series(&[("__name__", "temp"), ("room", "b")], &[(1_000, -2.5)]),
    ]);
    let stats = receive(&db, TYPE, SNAPPY, &request).unwrap();
    assert_eq!((stats.series, stats.samples), (2, 3));
    let up = Labels::from_pairs([("__name__", "up"), ("job", "api")]);
    let temp = Labels::from_pairs([("__name__", "temp"), ("room", "b")]);
    assert_eq!(
        stored(&db),
        [
            (temp, vec![(1_000, (-2.5f64).to_bits())]),
            (up, vec![(1_000, 1f64.to_bits()), (16_000, 0f64.to_bits())]),
        ]
    );
}

#[test]
fn absent_headers_are_taken_as_protobuf_and_snappy() {
    let (_dir, db) = open();
    let request = body(vec![series(&[("__name__", "x")], &[(5, 1.0)])]);
    assert!(receive(&db, None, None, &request).is_ok());
    assert_eq!(stored(&db).len(), 1);
}

#[test]
fn bad_snappy_is_400() {
    let (_dir, db) = open();
    let (status, message) = status_of(receive(&db, TYPE, SNAPPY, b"\xff\xff\xff\xff garbage"));
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(message.starts_with("snappy: "), "{message}");
    assert!(stored(&db).is_empty());
}

#[test]
fn bad_protobuf_is_400() {
    let (_dir, db) = open();
    // Valid snappy around bytes that are not a WriteRequest: field 1 with
    // wire type 2 announcing 100 bytes that are not there.
    let garbage = snap::raw::Encoder::new()
        .compress_vec(&[0x0a, 100, 1, 2])
        .unwrap();
    let (status, message) = status_of(receive(&db, TYPE, SNAPPY, &garbage));
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(message.starts_with("proto: "), "{message}");
}

#[test]
fn unsupported_media_type_and_encoding_are_415() {
    let (_dir, db) = open();
    let request = body(vec![series(&[("__name__", "x")], &[(5, 1.0)])]);
    let (status, message) = status_of(receive(&db, Some("application/json"), SNAPPY, &request));
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(message.contains("application/x-protobuf"), "{message}");
    let (status, message) = status_of(receive(&db, TYPE, Some("gzip"), &request));
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(
        message,
        "gzip encoding (compression) is not accepted by this server; only snappy is acceptable"
    );
    assert!(stored(&db).is_empty());
}

#[test]
fn out_of_order_mix_keeps_the_rest_and_answers_400() {
    let (_dir, db) = open();
    let request = body(vec![
        // 2_000 after 3_000 is out of order; 3_000 again with another value
        // is a duplicate; 4_000 is fine.
        series(
            &[("__name__", "a")],
            &[
                (1_000, 1.0),
                (3_000, 3.0),
                (2_000, 2.0),
                (3_000, 9.0),
                (4_000, 4.0),
            ],
        ),
        series(&[("__name__", "b")], &[(1_000, 1.0)]),
    ]);
    let (status, message) = status_of(receive(&db, TYPE, SNAPPY, &request));
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(message, r#"out of order sample for series {__name__="a"}"#);
    let all = stored(&db);
    let times: Vec<Vec<i64>> = all
        .iter()
        .map(|(_, s)| s.iter().map(|p| p.0).collect())
        .collect();
    assert_eq!(times, [vec![1_000, 3_000, 4_000], vec![1_000]]);
    assert_eq!(all[0].1[1].1, 3f64.to_bits());

    // The same request again: every sample is now old or identical.
    let again = body(vec![series(&[("__name__", "b")], &[(500, 1.0)])]);
    let (status, message) = status_of(receive(&db, TYPE, SNAPPY, &again));
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(message.starts_with("out of order sample"), "{message}");
}

#[test]
fn identical_resend_is_accepted() {
    let (_dir, db) = open();
    let request = body(vec![series(&[("__name__", "a")], &[(1_000, 1.0)])]);
    receive(&db, TYPE, SNAPPY, &request).unwrap();
    // A sender retrying after a lost answer must not be told 400.
    receive(&db, TYPE, SNAPPY, &request).unwrap();
    assert_eq!(stored(&db)[0].1.len(), 1);
}

#[test]
fn staleness_marker_is_kept_bit_exactly() {
    let (_dir, db) = open();
    let stale = f64::from_bits(model::staleness::STALE_NAN_BITS);
    let request = body(vec![series(
        &[("__name__", "up")],
        &[(1_000, 1.0), (2_000, stale), (3_000, f64::NAN)],
    )]);
    receive(&db, TYPE, SNAPPY, &request).unwrap();
    let samples = &stored(&db)[0].1;
    assert_eq!(samples[1], (2_000, model::staleness::STALE_NAN_BITS));
    assert_eq!(samples[2], (3_000, f64::NAN.to_bits()));
    assert_ne!(samples[1].1, samples[2].1);
}

#[test]
fn invalid_labels_are_400_and_the_rest_is_kept() {
    let (_dir, db) = open();
    let mut duplicated = series(&[("__name__", "d")], &[(1_000, 1.0)]);
    duplicated.labels.push(proto::Label {
        name: "__name__".into(),
        value: "e".into(),
    });
    let cases: Vec<(proto::TimeSeries, &str)> = vec![
        (
            series(&[], &[(1_000, 1.0)]),
            "invalid metric name or labels, got {}",
        ),
        (
            series(&[("job", "x")], &[(1_000, 1.0)]),
            r#"invalid metric name or labels, got {job="x"}"#,
        ),
        (
            duplicated,
            r#"invalid labels for series, labels {__name__="d", __name__="e"}, duplicated label __name__"#,
        ),
    ];
    for (bad, expected) in cases {
        let good = series(&[("__name__", "ok")], &[(1_000, 1.0)]);
        let (status, message) = status_of(receive(&db, TYPE, SNAPPY, &body(vec![bad, good])));
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(message, expected);
    }
    let all = stored(&db);
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].0, Labels::from_pairs([("__name__", "ok")]));
}

#[test]
fn unsorted_labels_are_sorted_and_empty_values_dropped() {
    let (_dir, db) = open();
    let mut unsorted = series(&[], &[(1_000, 1.0)]);
    for (name, value) in [("zone", "z"), ("__name__", "m"), ("empty", "")] {
        unsorted.labels.push(proto::Label {
            name: name.into(),
            value: value.into(),
        });
    }
    receive(&db, TYPE, SNAPPY, &body(vec![unsorted])).unwrap();
    assert_eq!(
        stored(&db)[0].0,
        Labels::from_pairs([("__name__", "m"), ("zone", "z")])
    );
}

#[test]
fn samples_far_in_the_future_are_out_of_bounds() {
    let (_dir, db) = open();
    let now = chrono::Utc::now().timestamp_millis();
    let request = body(vec![series(
        &[("__name__", "f")],
        &[(now, 1.0), (now + 3_600_000, 2.0)],
    )]);
    let (status, message) = status_of(receive(&db, TYPE, SNAPPY, &request));
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(message.starts_with("out of bounds"), "{message}");
    assert_eq!(stored(&db)[0].1.len(), 1);
}

#[test]
fn arbitrary_bodies_never_panic() {
    let (_dir, db) = open();
    let mut bytes = Vec::new();
    for i in 0..300u32 {
        bytes.push((i.wrapping_mul(2_654_435_761) >> 13) as u8);
        let _ = receive(&db, TYPE, SNAPPY, &bytes);
        let wrapped = snap::raw::Encoder::new().compress_vec(&bytes).unwrap();
        let _ = receive(&db, TYPE, SNAPPY, &wrapped);
    }
}
