//! Fuzz target: every push decoder (protobuf + snappy, JSON plain and
//! gzip, OTLP protobuf and JSON) and validation take any body without
//! panicking, and every refusal is a 4xx.
#![no_main]

use libfuzzer_sys::fuzz_target;
use logstore::push::{Limits, OtlpConfig, decode, decode_otlp, validate};

const NOW: i64 = 1_795_533_361_000_000_000;

fuzz_target!(|data: &[u8]| {
    // The first byte picks the decoder, the rest is the body.
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let result = match pick % 7 {
        0 => decode(Some("application/x-protobuf"), None, body),
        1 => decode(Some("application/json"), None, body),
        2 => decode(Some("application/json"), Some("gzip"), body),
        3 => decode(Some("application/json"), Some("deflate"), body),
        4 => decode_otlp(Some("application/x-protobuf"), None, body, &OtlpConfig::default(), NOW),
        5 => decode_otlp(Some("application/json"), None, body, &OtlpConfig::default(), NOW),
        _ => decode_otlp(Some("application/json"), Some("gzip"), body, &OtlpConfig::default(), NOW),
    };
    match result {
        Ok(req) => {
            if let Some(e) = validate(req, &Limits::default(), NOW).error {
                assert!((400..500).contains(&e.status()), "{e:?}");
            }
        }
        Err(e) => assert!((400..500).contains(&e.status()), "{e:?}"),
    }
});
