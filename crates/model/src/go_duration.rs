//! Durations in Go's `time.ParseDuration` notation: `1.5s`, `250us`, `-2h45m`.
//!
//! LogQL compares label values to duration literals by converting the value
//! with Go's parser, and it reports Go's messages verbatim (`time: missing
//! unit in duration "90"`), so this module reproduces both the grammar and the
//! messages. Prometheus notation (`1d`, `1w`) lives in [`crate::duration`].

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
    let quoted = || format!("{text:?}");
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

#[cfg(test)]
mod tests {
    use super::*;

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
