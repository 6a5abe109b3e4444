//! A short deterministic fuzz pass over every push decoder and validation:
//! thousands of mutated and random bodies, no panic, every error a 4xx.

use std::io::Write;

use logstore::push::{Limits, OtlpConfig, TenantRateLimiter, decode, decode_otlp, validate};

const NOW: i64 = 1_795_533_361_000_000_000;

/// xorshift64*: small, seeded, the same sequence on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn seeds() -> Vec<Vec<u8>> {
    let json = br#"{"streams":[{"stream":{"job":"x","env":"a\"b"},"values":[["1795533361000000000","line"],["1795533361000000001","l2",{"trace":"t"}]]},null]}"#.to_vec();
    let proto = {
        use logstore::push::{ProtoEntry, ProtoPushRequest, ProtoStream, ProtoTimestamp};
        use prost::Message;
        let req = ProtoPushRequest {
            streams: vec![ProtoStream {
                labels: br#"{job="x", a="\n"}"#.to_vec(),
                entries: vec![ProtoEntry {
                    timestamp: Some(ProtoTimestamp {
                        seconds: 1_795_533_361,
                        nanos: 5,
                    }),
                    line: b"hello".to_vec(),
                    structured_metadata: vec![],
                }],
                hash: 1,
            }],
        };
        req.encode_to_vec()
    };
    vec![json, proto, br#"{"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"s"}}]},"scopeLogs":[{"logRecords":[{"timeUnixNano":"1","body":{"kvlistValue":{"values":[{"key":"k","value":{"doubleValue":1e300}}]}}}]}]}]}"#.to_vec()]
}

fn mutate(rng: &mut Rng, input: &[u8]) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..=rng.below(4) {
        let at = rng.below(out.len() + 1);
        match rng.below(5) {
            0 if !out.is_empty() => {
                let i = at.min(out.len() - 1);
                out[i] = rng.next() as u8;
            }
            1 => out.insert(at, {
                let set = b"{}[]\",:\\0-n";
                set[rng.below(set.len())]
            }),
            2 if at < out.len() => {
                out.remove(at);
            }
            3 => out.truncate(at),
            _ => {
                let from = rng.below(out.len() + 1);
                let to = (from + rng.below(16)).min(out.len());
                let chunk = out[from..to].to_vec();
                out.splice(at..at, chunk);
            }
        }
    }
    out
}

fn assert_client_error(what: &str, e: &logstore::push::PushError) {
    assert!((400..500).contains(&e.status()), "{what}: {e:?}");
}

fn run_all(body: &[u8], limiter: &mut TenantRateLimiter) {
    let snappy = snap::raw::Encoder::new()
        .compress_vec(body)
        .unwrap_or_default();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let _ = gz.write_all(body);
    let gz = gz.finish().unwrap_or_default();
    let cases: [(Option<&str>, Option<&str>, &[u8]); 6] = [
        (Some("application/json"), None, body),
        (Some("application/json"), Some("gzip"), &gz),
        (Some("application/json"), Some("deflate"), body),
        (Some("application/x-protobuf"), None, &snappy),
        (Some("application/x-protobuf"), None, body),
        (None, Some("gzip"), body),
    ];
    for (ct, ce, b) in cases {
        match decode(ct, ce, b) {
            Ok(req) => {
                let checked = validate(req, &Limits::default(), NOW);
                if let Some(e) = &checked.error {
                    assert_client_error("validate", e);
                }
                if let Err(e) = limiter.check("fake", NOW, checked.lines, checked.bytes) {
                    assert_client_error("rate", &e);
                }
            }
            Err(e) => assert_client_error("decode", &e),
        }
    }
    for ct in ["application/x-protobuf", "application/json"] {
        for (ce, b) in [(None, body), (Some("gzip"), &gz[..])] {
            match decode_otlp(Some(ct), ce, b, &OtlpConfig::default(), NOW) {
                Ok(req) => {
                    if let Some(e) = validate(req, &Limits::default(), NOW).error {
                        assert_client_error("otlp validate", &e);
                    }
                }
                Err(e) => assert_client_error("otlp", &e),
            }
        }
    }
}

#[test]
fn mutated_and_random_bodies_never_panic() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut limiter = TenantRateLimiter::new(1e6, 1 << 20);
    let seeds = seeds();
    for i in 0..3000 {
        let body = if i % 5 == 4 {
            (0..rng.below(64)).map(|_| rng.next() as u8).collect()
        } else {
            let seed = &seeds[rng.below(seeds.len())];
            mutate(&mut rng, seed)
        };
        run_all(&body, &mut limiter);
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let mut body = br#"{"streams":[{"x":"#.to_vec();
    body.extend(std::iter::repeat_n(b'[', 200_000));
    let e = decode(Some("application/json"), None, &body).unwrap_err();
    assert!(e.message().contains("exceeded max depth"), "{e}");
}
