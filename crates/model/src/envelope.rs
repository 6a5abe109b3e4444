//! The JSON envelope the Prometheus and Loki HTTP APIs share:
//! `{"status":"success","data":…,"warnings":[…],"infos":[…]}` or
//! `{"status":"error","errorType":"bad_data","error":"…"}`, and how their
//! values are written (sample values as Go formats them, timestamps as
//! seconds).
//!
//! The error kinds carry the status code each API answers with (bad_data
//! 400, execution 422, canceled 499, timeout 503, unavailable 503, internal
//! 500, not_found 404) as a number: turning it into a response is the
//! serving crate's business, as this crate knows nothing of HTTP.

use serde::Serialize;

/// The kinds of API error Prometheus distinguishes (Loki reuses them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The request is wrong (400).
    BadData,
    /// The query failed while running (422).
    Execution,
    /// The client went away (499).
    Canceled,
    /// The query ran out of time (503).
    Timeout,
    /// Not available now (503).
    Unavailable,
    /// A bug or an I/O failure on our side (500).
    Internal,
    /// No such thing (404).
    NotFound,
}

impl ErrorKind {
    /// The `errorType` member.
    pub fn type_name(self) -> &'static str {
        match self {
            ErrorKind::BadData => "bad_data",
            ErrorKind::Execution => "execution",
            ErrorKind::Canceled => "canceled",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Unavailable => "unavailable",
            ErrorKind::Internal => "internal",
            ErrorKind::NotFound => "not_found",
        }
    }

    /// The HTTP status code answered with this kind.
    pub fn status(self) -> u16 {
        match self {
            ErrorKind::BadData => 400,
            ErrorKind::Execution => 422,
            ErrorKind::Canceled => 499,
            ErrorKind::Timeout | ErrorKind::Unavailable => 503,
            ErrorKind::Internal => 500,
            ErrorKind::NotFound => 404,
        }
    }
}

/// The success envelope in the upstream member order, serialized straight
/// from `data` (a query result can hold millions of points: no
/// intermediate tree). Empty annotation lists are left out.
pub fn success<T: Serialize + ?Sized>(
    data: &T,
    warnings: &[String],
    infos: &[String],
) -> Result<Vec<u8>, serde_json::Error> {
    #[derive(Serialize)]
    struct Envelope<'a, T: Serialize + ?Sized> {
        status: &'static str,
        data: &'a T,
        #[serde(skip_serializing_if = "<[String]>::is_empty")]
        warnings: &'a [String],
        #[serde(skip_serializing_if = "<[String]>::is_empty")]
        infos: &'a [String],
    }
    serde_json::to_vec(&Envelope {
        status: "success",
        data,
        warnings,
        infos,
    })
}

/// The error envelope.
pub fn error(kind: ErrorKind, message: &str) -> Vec<u8> {
    #[derive(Serialize)]
    struct Envelope<'a> {
        status: &'static str,
        #[serde(rename = "errorType")]
        error_type: &'static str,
        error: &'a str,
    }
    // Serializing two strings cannot fail; the fallback keeps it total.
    serde_json::to_vec(&Envelope {
        status: "error",
        error_type: kind.type_name(),
        error: message,
    })
    .unwrap_or_else(|_| br#"{"status":"error","errorType":"internal","error":""}"#.to_vec())
}

/// A sample value as the APIs write it: a string, `NaN`/`+Inf`/`-Inf` for
/// the specials, otherwise the shortest decimal without exponent (Go's
/// `FormatFloat(v, 'f', -1, 64)`).
#[derive(Debug, Clone, Copy)]
pub struct SampleValue(pub f64);

impl std::fmt::Display for SampleValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Prometheus writes sample values with `FormatFloat(v, 'f', -1, 64)`.
        f.write_str(&gocompat::strconv::format_float(self.0, 'f', -1))
    }
}

impl Serialize for SampleValue {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// A timestamp in milliseconds, written as a JSON number of seconds: an
/// integer when whole (`1795533224`), else with its fraction
/// (`1795533211.715`).
#[derive(Debug, Clone, Copy)]
pub struct Timestamp(pub i64);

impl Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.0 % 1000 == 0 {
            serializer.serialize_i64(self.0 / 1000)
        } else {
            serializer.serialize_f64(self.0 as f64 / 1000.0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_formatted_like_go() {
        for (value, text) in [
            (1.0, "1"),
            (0.1, "0.1"),
            (1e21, "1000000000000000000000"),
            (1e-7, "0.0000001"),
            (-2.5, "-2.5"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "+Inf"),
            (f64::NEG_INFINITY, "-Inf"),
        ] {
            assert_eq!(SampleValue(value).to_string(), text);
        }
    }

    #[test]
    fn timestamps_are_seconds() {
        let json = |v: &dyn erased::Ser| v.json();
        assert_eq!(json(&Timestamp(1_700_000_000_123)), "1700000000.123");
        assert_eq!(json(&Timestamp(1_795_533_224_000)), "1795533224");
        assert_eq!(json(&Timestamp(-1_500)), "-1.5");
    }

    #[test]
    fn envelopes_keep_the_upstream_member_order() {
        let body = success(&["a"], &[], &["i".to_owned()]).unwrap();
        assert_eq!(
            String::from_utf8(body).unwrap(),
            r#"{"status":"success","data":["a"],"infos":["i"]}"#
        );
        assert_eq!(
            String::from_utf8(error(ErrorKind::Timeout, "slow")).unwrap(),
            r#"{"status":"error","errorType":"timeout","error":"slow"}"#
        );
        assert_eq!(ErrorKind::Canceled.status(), 499);
    }

    mod erased {
        pub(super) trait Ser {
            fn json(&self) -> String;
        }
        impl<T: serde::Serialize> Ser for T {
            fn json(&self) -> String {
                serde_json::to_string(self).unwrap()
            }
        }
    }
}
