//! Time parameters of the Prometheus HTTP API: float Unix seconds or RFC
//! 3339, and durations as float seconds or Prometheus notation.

use crate::ModelError;

/// The smallest and largest times the API accepts, in milliseconds; Go's
/// `time.Time` limits as Prometheus uses them for "no bound".
pub const MIN_TIME_MS: i64 = -9_223_309_901_257_974;
/// See [`MIN_TIME_MS`].
pub const MAX_TIME_MS: i64 = 9_223_309_901_257_974;

/// Parses a time parameter to milliseconds: float seconds (`1700000000.5`)
/// or RFC 3339 (`2023-11-14T22:13:20.5Z`), as Prometheus' `parseTime`.
pub fn parse_time_ms(text: &str) -> Result<i64, ModelError> {
    let invalid = || ModelError::InvalidTime(text.to_owned());
    if let Ok(seconds) = text.parse::<f64>() {
        if !seconds.is_finite() {
            return Err(invalid());
        }
        let ms = (seconds * 1000.0).round();
        if ms < MIN_TIME_MS as f64 || ms > MAX_TIME_MS as f64 {
            return Err(invalid());
        }
        return Ok(ms as i64);
    }
    // Grafana and others send these for "unbounded".
    match text {
        "-292273086-05-16T16:47:06Z" => return Ok(MIN_TIME_MS),
        "292277025-08-18T07:12:54.999999999Z" => return Ok(MAX_TIME_MS),
        _ => {}
    }
    let (secs, nanos) = gocompat::time::parse_rfc3339(text).map_err(|_| invalid())?;
    secs.checked_mul(1000)
        .and_then(|ms| ms.checked_add(i64::from(nanos / 1_000_000)))
        .ok_or_else(invalid)
}

/// Parses a duration parameter (`step`, `timeout`) to milliseconds: float
/// seconds (`15`, `0.5`) or Prometheus notation (`1m30s`).
pub fn parse_duration_ms(text: &str) -> Result<i64, ModelError> {
    if let Ok(seconds) = text.parse::<f64>() {
        let ms = seconds * 1000.0;
        if !ms.is_finite() || ms.abs() >= i64::MAX as f64 {
            return Err(ModelError::DurationOutOfRange(text.to_owned()));
        }
        return Ok(ms.round() as i64);
    }
    let duration = crate::duration::parse_duration(text)?;
    i64::try_from(duration.as_millis()).map_err(|_| ModelError::DurationOutOfRange(text.to_owned()))
}

/// Formats milliseconds as RFC 3339 with nanosecond digits trimmed, as Go
/// prints `time.Time` in JSON (`2026-11-24T15:13:43.313Z`).
pub fn format_rfc3339_ms(ms: i64) -> String {
    match chrono::DateTime::from_timestamp_millis(ms) {
        Some(t) => t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times() {
        assert_eq!(parse_time_ms("1700000000").unwrap(), 1_700_000_000_000);
        assert_eq!(parse_time_ms("1700000000.123").unwrap(), 1_700_000_000_123);
        assert_eq!(parse_time_ms("-1.5").unwrap(), -1_500);
        assert_eq!(
            parse_time_ms("2023-11-14T22:13:20.5Z").unwrap(),
            1_700_000_000_500
        );
        assert_eq!(
            parse_time_ms("2023-11-14T23:13:20+01:00").unwrap(),
            1_700_000_000_000
        );
        assert_eq!(
            parse_time_ms("-292273086-05-16T16:47:06Z").unwrap(),
            MIN_TIME_MS
        );
        for bad in [
            "abc",
            "",
            "NaN",
            "Inf",
            "2023-13-01T00:00:00Z",
            "2023-02-30T00:00:00Z",
            "1e300",
        ] {
            assert!(parse_time_ms(bad).is_err(), "{bad}");
        }
        assert_eq!(
            parse_time_ms("abc").unwrap_err().to_string(),
            r#"cannot parse "abc" to a valid timestamp"#
        );
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration_ms("15").unwrap(), 15_000);
        assert_eq!(parse_duration_ms("0.5").unwrap(), 500);
        assert_eq!(parse_duration_ms("1m30s").unwrap(), 90_000);
        assert_eq!(parse_duration_ms("-1").unwrap(), -1_000);
        assert!(parse_duration_ms("1x").is_err());
        assert!(parse_duration_ms("1e300").is_err());
    }

    #[test]
    fn formatting() {
        assert_eq!(
            format_rfc3339_ms(1_700_000_000_500),
            "2023-11-14T22:13:20.500Z"
        );
        assert_eq!(format_rfc3339_ms(1_700_000_000_000), "2023-11-14T22:13:20Z");
    }
}
