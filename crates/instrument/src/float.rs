//! Numbers as the Python Prometheus client prints them, and as Go's
//! `client_golang` (its `expfmt` encoders) does.
//!
//! Scrapers accept any float notation, but matching the instrumentator
//! byte for byte keeps our output diffable against the recorded real one:
//! Python's `repr` (shortest round-trip digits, always a `.0` on integral
//! values, scientific below 1e-4 and from 1e16), except that positive values
//! with seven or more integer digits switch to Go's exponent form
//! (`1.32370432e+08`), which is what the client does to mimic Go.

/// Formats a sample value or bucket bound as the Python client does.
pub fn format_value(value: f64) -> String {
    if value.is_nan() {
        return "NaN".to_owned();
    }
    if value.is_infinite() {
        return if value > 0.0 { "+Inf" } else { "-Inf" }.to_owned();
    }
    let (negative, digits, exponent) = shortest_digits(value);
    if !negative && (6..16).contains(&exponent) {
        // Go's `%g` there: `FormatFloat(v, 'g', -1, 64)`.
        return gocompat::strconv::format_float(value, 'g', -1);
    }
    python_repr(negative, &digits, exponent)
}

/// A sample value or bucket bound as Go's text format prints it
/// (`expfmt`'s `writeFloat`): `FormatFloat(v, 'g', -1, 64)`, so `5`,
/// `0.25`, `1.5e+06`, `+Inf`, `NaN`, except that zero is always `0` (the
/// encoder tests `v == 0` before formatting, which `-0` passes).
pub(crate) fn go_text_value(value: f64) -> String {
    if value == 0.0 {
        return "0".to_owned();
    }
    gocompat::strconv::format_float(value, 'g', -1)
}

/// A float as Go's OpenMetrics encoder prints it
/// (`writeOpenMetricsFloat`): Go's text form with `.0` added when it has
/// neither a `.` nor an exponent (`5.0`, `1.5e+06`, `0.0`).
pub(crate) fn go_openmetrics_value(value: f64) -> String {
    let mut text = go_text_value(value);
    if value.is_finite() && !text.contains(['.', 'e']) {
        text.push_str(".0");
    }
    text
}

/// Shortest round-trip decimal digits of `value` and the exponent of the
/// first digit, as in `d.ddd × 10^exponent`.
fn shortest_digits(value: f64) -> (bool, String, i32) {
    // `{:e}` prints the shortest digits that round-trip, e.g. `-1.5e-5`.
    let text = format!("{value:e}");
    let (mantissa, exponent) = text.split_once('e').unwrap_or((&text, "0"));
    let negative = mantissa.starts_with('-');
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    (negative, digits, exponent.parse().unwrap_or(0))
}

fn python_repr(negative: bool, digits: &str, exponent: i32) -> String {
    let mut out = String::with_capacity(digits.len() + 8);
    if negative {
        out.push('-');
    }
    if (-4..16).contains(&exponent) {
        if exponent < 0 {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', (-exponent - 1) as usize));
            out.push_str(digits);
        } else {
            let int_len = exponent as usize + 1;
            if digits.len() <= int_len {
                out.push_str(digits);
                out.extend(std::iter::repeat_n('0', int_len - digits.len()));
                out.push_str(".0");
            } else {
                out.push_str(&digits[..int_len]);
                out.push('.');
                out.push_str(&digits[int_len..]);
            }
        }
    } else {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push_str(&format!(
            "e{}{:02}",
            if exponent < 0 { '-' } else { '+' },
            exponent.abs()
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{format_value, go_openmetrics_value, go_text_value};

    #[test]
    fn matches_the_recorded_instrumentator_output() {
        for (value, text) in [
            (3.0, "3.0"),
            (0.0, "0.0"),
            (0.27, "0.27"),
            (0.27999999999999997, "0.27999999999999997"),
            (11.0, "11.0"),
            (20000.0, "20000.0"),
            (132370432.0, "1.32370432e+08"),
            (50577408.0, "5.0577408e+07"),
            (1795533185.48, "1.79553318548e+09"),
            (1795533188.6434, "1.7955331886434e+09"),
            (0.0335323520001225, "0.0335323520001225"),
            (f64::INFINITY, "+Inf"),
            (0.1, "0.1"),
            (1.0, "1.0"),
            (60.0, "60.0"),
        ] {
            assert_eq!(format_value(value), text);
        }
    }

    #[test]
    fn python_repr_edges() {
        for (value, text) in [
            (1e-5, "1e-05"),
            (1.5e-5, "1.5e-05"),
            (0.0001, "0.0001"),
            (1e16, "1e+16"),
            (123456.0, "123456.0"),
            (1000000.0, "1e+06"),
            (-132370432.0, "-132370432.0"),
            (-0.5, "-0.5"),
            (f64::NAN, "NaN"),
            (f64::NEG_INFINITY, "-Inf"),
        ] {
            assert_eq!(format_value(value), text, "{value}");
        }
    }

    #[test]
    fn go_text_values() {
        for (value, text) in [
            (5.0, "5"),
            (0.0, "0"),
            (-0.0, "0"),
            (1.0, "1"),
            (-1.0, "-1"),
            (0.25, "0.25"),
            (0.003097784, "0.003097784"),
            (455.0, "455"),
            (123456.0, "123456"),
            (1e6, "1e+06"),
            (1.5e6, "1.5e+06"),
            (132370432.0, "1.32370432e+08"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (-2.5e-7, "-2.5e-07"),
            (1e21, "1e+21"),
            (f64::INFINITY, "+Inf"),
            (f64::NEG_INFINITY, "-Inf"),
            (f64::NAN, "NaN"),
        ] {
            assert_eq!(go_text_value(value), text, "{value}");
        }
    }

    #[test]
    fn go_openmetrics_values() {
        for (value, text) in [
            (5.0, "5.0"),
            (0.0, "0.0"),
            (-0.0, "0.0"),
            (-1.0, "-1.0"),
            (0.25, "0.25"),
            (1e6, "1e+06"),
            (1e-5, "1e-05"),
            (f64::INFINITY, "+Inf"),
            (f64::NAN, "NaN"),
        ] {
            assert_eq!(go_openmetrics_value(value), text, "{value}");
        }
    }

    proptest::proptest! {
        #[test]
        fn round_trips(value in proptest::num::f64::NORMAL | proptest::num::f64::ZERO) {
            let text = format_value(value);
            let parsed: f64 = text.parse().unwrap();
            proptest::prop_assert_eq!(parsed.to_bits(), value.to_bits(), "{}", text);
        }

        #[test]
        fn go_values_round_trip(value in proptest::num::f64::NORMAL | proptest::num::f64::SUBNORMAL) {
            for text in [go_text_value(value), go_openmetrics_value(value)] {
                let parsed: f64 = text.parse().unwrap();
                proptest::prop_assert_eq!(parsed.to_bits(), value.to_bits(), "{}", text);
            }
        }
    }
}
