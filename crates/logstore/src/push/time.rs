//! Go's renderings of a time that Loki's messages use, in UTC (Loki's
//! servers run in UTC): `time.RFC3339` and `Time.String()`.

use chrono::{DateTime, Datelike, Timelike, Utc};

fn utc(ns: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_nanos(ns)
}

/// Go's year: at least four digits, a minus sign before a negative one.
fn year(t: &DateTime<Utc>) -> String {
    let y = t.year();
    if y < 0 {
        format!("-{:04}", -y)
    } else {
        format!("{y:04}")
    }
}

/// `2006-01-02T15:04:05Z07:00` for a UTC time: whole seconds, `Z`.
pub fn go_rfc3339(ns: i64) -> String {
    let t = utc(ns);
    format!(
        "{}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        year(&t),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// `2006-01-02 15:04:05.999999999 -0700 MST` for a UTC time: the fraction
/// without trailing zeros (none at all when zero), then `+0000 UTC`.
pub fn go_time_string(ns: i64) -> String {
    let t = utc(ns);
    let mut frac = String::new();
    let nanos = t.nanosecond() % 1_000_000_000;
    if nanos != 0 {
        frac = format!(".{nanos:09}");
        while frac.ends_with('0') {
            frac.pop();
        }
    }
    format!(
        "{}-{:02}-{:02} {:02}:{:02}:{:02}{frac} +0000 UTC",
        year(&t),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_layouts() {
        let ns = 1_795_526_161_821_457_089;
        assert_eq!(go_rfc3339(ns), "2026-11-24T13:16:01Z");
        assert_eq!(
            go_time_string(ns),
            "2026-11-24 13:16:01.821457089 +0000 UTC"
        );
        assert_eq!(
            go_time_string(1_000_000_000),
            "1970-01-01 00:00:01 +0000 UTC"
        );
        assert_eq!(
            go_time_string(1_500_000_000),
            "1970-01-01 00:00:01.5 +0000 UTC"
        );
        assert_eq!(go_rfc3339(i64::MIN), "1677-09-21T00:12:43Z");
    }
}
