//! Durations in Prometheus notation: `1h30m`, `500ms`, `2w`, `0`.
//!
//! Units, largest first: `y` (365 days), `w`, `d`, `h`, `m`, `s`, `ms`. Each
//! appears at most once, in that order, with an integer count; this is the
//! notation of prometheus.yml, PromQL ranges, Loki's config and our flags.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Deserializer};

use crate::ModelError;

const UNITS: [(&str, u64); 7] = [
    ("y", 365 * 24 * 3_600_000),
    ("w", 7 * 24 * 3_600_000),
    ("d", 24 * 3_600_000),
    ("h", 3_600_000),
    ("m", 60_000),
    ("s", 1_000),
    ("ms", 1),
];

/// Parses a Prometheus duration such as `1m30s`.
pub fn parse_duration(text: &str) -> Result<Duration, ModelError> {
    let invalid = || ModelError::InvalidDuration(text.to_owned());
    if text == "0" {
        return Ok(Duration::ZERO);
    }
    if text.is_empty() {
        return Err(invalid());
    }
    let mut rest = text;
    let mut next_unit = 0; // index into UNITS: units must not repeat or go back
    let mut total_ms: u64 = 0;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(invalid());
        }
        let count: u64 = rest[..digits]
            .parse()
            .map_err(|_| ModelError::DurationOutOfRange(text.to_owned()))?;
        rest = &rest[digits..];
        // `ms` before `m`: the longest unit name that fits wins.
        let (index, (unit, unit_ms)) = UNITS
            .iter()
            .enumerate()
            .skip(next_unit)
            .filter(|(_, (unit, _))| rest.starts_with(unit))
            .max_by_key(|(_, (unit, _))| unit.len())
            .ok_or_else(invalid)?;
        if rest[unit.len()..].starts_with(|c: char| c.is_ascii_alphabetic()) {
            return Err(invalid());
        }
        rest = &rest[unit.len()..];
        next_unit = index + 1;
        total_ms = count
            .checked_mul(*unit_ms)
            .and_then(|ms| total_ms.checked_add(ms))
            .filter(|ms| *ms <= i64::MAX as u64 / 1_000_000) // fits Go's int64 ns
            .ok_or_else(|| ModelError::DurationOutOfRange(text.to_owned()))?;
    }
    Ok(Duration::from_millis(total_ms))
}

/// Formats a duration the way Prometheus prints one (`1m30s`, `0s`);
/// sub-millisecond parts are dropped.
pub fn format_duration(duration: Duration) -> String {
    let mut ms = duration.as_millis() as u64;
    if ms == 0 {
        return "0s".to_owned();
    }
    let mut out = String::new();
    for (unit, unit_ms) in UNITS {
        if ms >= unit_ms {
            out.push_str(&(ms / unit_ms).to_string());
            out.push_str(unit);
            ms %= unit_ms;
        }
    }
    out
}

/// A duration in Prometheus notation as a config file writes it
/// (`15s`, `1m30s`, `168h`, `0`): Prometheus' and Loki's `model.Duration`.
///
/// Read from any scalar, as Go's yaml.v2 fills the string it parses (so a
/// bare `0` loads); a bad one fails with Prometheus' message, `not a valid
/// duration string: "…"`. Printed in Prometheus notation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Hash)]
pub struct PromDuration(pub Duration);

impl<'de> Deserialize<'de> for PromDuration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        gocompat::yaml::from_scalar(deserializer, "a duration", |text| {
            parse_duration(text).map(PromDuration)
        })
    }
}

impl fmt::Display for PromDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_duration(self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(text: &str) -> u128 {
        parse_duration(text).unwrap().as_millis()
    }

    #[test]
    fn parses_each_unit() {
        assert_eq!(ms("0"), 0);
        assert_eq!(ms("0s"), 0);
        assert_eq!(ms("250ms"), 250);
        assert_eq!(ms("15s"), 15_000);
        assert_eq!(ms("5m"), 300_000);
        assert_eq!(ms("2h"), 7_200_000);
        assert_eq!(ms("1d"), 86_400_000);
        assert_eq!(ms("1w"), 7 * 86_400_000);
        assert_eq!(ms("1y"), 365 * 86_400_000);
    }

    #[test]
    fn parses_compound_durations() {
        assert_eq!(ms("1m30s"), 90_000);
        assert_eq!(ms("1h1m1s1ms"), 3_661_001);
        assert_eq!(ms("1m500ms"), 60_500);
    }

    #[test]
    fn rejects_what_prometheus_rejects() {
        for bad in [
            "", "1", "s", "1.5s", "-1s", "1s1m", "1s1s", "1 s", "1sx", "1ns", "1us", "1M",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad:?} should not parse");
        }
    }

    #[test]
    fn overflow_is_an_error_not_a_panic() {
        let err = parse_duration("99999999999999999999y").unwrap_err();
        assert!(matches!(err, ModelError::DurationOutOfRange(_)));
        assert!(parse_duration("300y").is_err());
    }

    #[test]
    fn formats_like_prometheus() {
        for text in ["0s", "1m30s", "1h", "2w3d", "1y", "1s500ms", "5m"] {
            assert_eq!(format_duration(parse_duration(text).unwrap()), text);
        }
    }

    #[test]
    fn error_message_names_the_input() {
        let err = parse_duration("abc").unwrap_err();
        assert_eq!(err.to_string(), r#"not a valid duration string: "abc""#);
    }

    #[test]
    fn config_durations_read_any_scalar() {
        let read = |text: &str| yaml_serde::from_str::<PromDuration>(text).map(|d| d.0);
        assert_eq!(read("0").ok(), Some(Duration::ZERO));
        assert_eq!(read("1w").ok(), Some(Duration::from_secs(7 * 86_400)));
        assert_eq!(read("'1m30s'").ok(), Some(Duration::from_secs(90)));
        let error = read("168").unwrap_err().to_string();
        assert!(
            error.contains(r#"not a valid duration string: "168""#),
            "{error}"
        );
        assert_eq!(PromDuration(Duration::from_secs(90)).to_string(), "1m30s");
    }
}
