//! Durations in Go's `time.Duration` notation: `1.5s`, `250us`, `-2h45m`,
//! read as `time.ParseDuration` reads them and printed as
//! `Duration.String` prints them.
//!
//! LogQL compares label values to duration literals by converting the value
//! with Go's parser, and it reports Go's messages verbatim (`time: missing
//! unit in duration "90"`), so this module reproduces both the grammar and the
//! messages. Prometheus notation (`1d`, `1w`) is `model::duration`.

use crate::strconv::quote;

/// Why a text is not a Go duration; the message is Go's, verbatim.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct GoDurationError(pub String);

const UNITS: [(&str, f64); 8] = [
    ("ns", 1.0),
    ("us", 1e3),
    ("µs", 1e3),
    ("μs", 1e3),
    ("ms", 1e6),
    ("s", 1e9),
    ("m", 60e9),
    ("h", 3600e9),
];

/// Parses a Go duration and returns it in seconds (negative durations are
/// allowed, as in Go).
pub fn parse_go_duration(text: &str) -> Result<f64, GoDurationError> {
    let quoted = || quote(text);
    let invalid = || GoDurationError(format!("time: invalid duration {}", quoted()));
    let mut rest = text;
    let mut negative = false;
    if let Some(r) = rest.strip_prefix('-') {
        negative = true;
        rest = r;
    } else if let Some(r) = rest.strip_prefix('+') {
        rest = r;
    }
    if rest == "0" {
        return Ok(0.0);
    }
    if rest.is_empty() {
        return Err(invalid());
    }
    let mut total_ns = 0.0_f64;
    while !rest.is_empty() {
        let int_len = rest.bytes().take_while(u8::is_ascii_digit).count();
        let (int_part, after) = rest.split_at(int_len);
        rest = after;
        let mut frac_part = "";
        if let Some(r) = rest.strip_prefix('.') {
            let frac_len = r.bytes().take_while(u8::is_ascii_digit).count();
            let (f, after) = r.split_at(frac_len);
            frac_part = f;
            rest = after;
        }
        if int_part.is_empty() && frac_part.is_empty() {
            return Err(invalid());
        }
        let unit_len = rest
            .char_indices()
            .find(|(_, c)| *c == '.' || c.is_ascii_digit())
            .map_or(rest.len(), |(i, _)| i);
        let (unit, after) = rest.split_at(unit_len);
        rest = after;
        if unit.is_empty() {
            return Err(GoDurationError(format!(
                "time: missing unit in duration {}",
                quoted()
            )));
        }
        let Some((_, scale)) = UNITS.iter().find(|(name, _)| *name == unit) else {
            return Err(GoDurationError(format!(
                "time: unknown unit {unit:?} in duration {}",
                quoted()
            )));
        };
        let number: f64 = format!("{}.{}", if int_part.is_empty() { "0" } else { int_part }, {
            if frac_part.is_empty() { "0" } else { frac_part }
        })
        .parse()
        .map_err(|_| invalid())?;
        total_ns += number * scale;
        if total_ns > i64::MAX as f64 {
            return Err(invalid());
        }
    }
    let seconds = (total_ns.round()) / 1e9;
    Ok(if negative { -seconds } else { seconds })
}

/// Go's `time.Duration.String` of `ns` nanoseconds: `1h2m3.5s`, `3m0s`,
/// `1.5ms`, `0s`.
///
/// ```
/// assert_eq!(gocompat::duration::format(180_000_000_000), "3m0s");
/// assert_eq!(gocompat::duration::format(1_500_000), "1.5ms");
/// ```
pub fn format(ns: i64) -> String {
    if ns == 0 {
        return "0s".into();
    }
    let sign = if ns < 0 { "-" } else { "" };
    let abs = ns.unsigned_abs();
    if abs < 1_000_000_000 {
        // Below a second Go picks the largest unit that keeps a whole part.
        let (unit, scale) = match abs {
            0..1_000 => ("ns", 1),
            1_000..1_000_000 => ("µs", 1_000),
            _ => ("ms", 1_000_000),
        };
        return format!("{sign}{}{unit}", fraction(abs, scale));
    }
    let secs = abs / 1_000_000_000;
    let (hours, minutes) = (secs / 3600, (secs % 3600) / 60);
    let seconds = fraction(abs % 60_000_000_000, 1_000_000_000);
    match (hours, minutes) {
        (0, 0) => format!("{sign}{seconds}s"),
        (0, m) => format!("{sign}{m}m{seconds}s"),
        (h, m) => format!("{sign}{h}h{m}m{seconds}s"),
    }
}

/// `value / scale` with the fraction's trailing zeros (and a bare point)
/// dropped: `1500, 1000` is `1.5`.
fn fraction(value: u64, scale: u64) -> String {
    let whole = value / scale;
    let rest = value % scale;
    if rest == 0 {
        return whole.to_string();
    }
    let width = scale.ilog10() as usize;
    let digits = format!("{rest:0width$}");
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_go() {
        for (ns, want) in [
            (0, "0s"),
            (1, "1ns"),
            (1_100, "1.1µs"),
            (2_200_000, "2.2ms"),
            (3_300_000_000, "3.3s"),
            (-4 * 60_000_000_000 - 5_000_000_000, "-4m5s"),
            (180_000_000_000, "3m0s"),
            (3_600_000_000_000, "1h0m0s"),
            (848_847_600_000_000_000, "235791h0m0s"),
            (i64::MIN, "-2562047h47m16.854775808s"),
        ] {
            assert_eq!(format(ns), want, "{ns}");
        }
    }

    fn ok(text: &str, want: f64) {
        let got = parse_go_duration(text).unwrap();
        assert!((got - want).abs() < 1e-12, "{text}: {got} != {want}");
    }

    fn err(text: &str, want: &str) {
        assert_eq!(parse_go_duration(text).unwrap_err().to_string(), want);
    }

    #[test]
    fn parses_go_units_and_fractions() {
        ok("0", 0.0);
        ok("1.5s", 1.5);
        ok("250us", 0.000_25);
        ok("250µs", 0.000_25);
        ok("3ns", 3e-9);
        ok("1h30m", 5400.0);
        ok("-2m", -120.0);
        ok(".5s", 0.5);
        ok("1m0.5s", 60.5);
    }

    #[test]
    fn reproduces_go_messages() {
        err("oops", r#"time: invalid duration "oops""#);
        err("90", r#"time: missing unit in duration "90""#);
        err("1d", r#"time: unknown unit "d" in duration "1d""#);
        err("", r#"time: invalid duration """#);
        err("-", r#"time: invalid duration "-""#);
        err(".s", r#"time: invalid duration ".s""#);
    }

    #[test]
    fn huge_values_are_errors_not_panics() {
        assert!(parse_go_duration("99999999999999999999h").is_err());
    }
}
