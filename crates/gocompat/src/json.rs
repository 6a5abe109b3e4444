//! Go's `encoding/json` where its output differs from other encoders':
//! how it writes strings (HTML-safe escapes by default) and numbers.

use std::fmt::Write as _;

/// Writes `s` as a JSON string literal the way Go's encoder does; with
/// `escape_html` (Go's default, `json.Marshal`) `<`, `>`, `&`, U+2028 and
/// U+2029 are written as `\u` escapes too.
pub fn write_string(out: &mut String, s: &str, escape_html: bool) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' if escape_html => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            '\u{2028}' | '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A float64 as Go's encoder writes it (ES6 number formatting: `'f'` with
/// the shortest digits, `'e'` below 1e-6 and from 1e21, `e-7` not
/// `e-07`); `None` for NaN and the infinities, which Go refuses
/// (`json: unsupported value: NaN`).
pub fn format_float(f: f64) -> Option<String> {
    if !f.is_finite() {
        return None;
    }
    let abs = f.abs();
    if abs == 0.0 || (1e-6..1e21).contains(&abs) {
        return Some(crate::strconv::format_float(f, 'f', -1));
    }
    let text = crate::strconv::format_float(f, 'e', -1);
    // Go trims a leading zero of a negative two-digit exponent.
    Some(match text.rsplit_once("e-0") {
        Some((mantissa, digit)) if digit.len() == 1 => format!("{mantissa}e-{digit}"),
        _ => text,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_html_safe_by_default() {
        let write = |s: &str, html: bool| {
            let mut out = String::new();
            write_string(&mut out, s, html);
            out
        };
        assert_eq!(
            write("a\"<b>&\u{1}\u{2028}", true),
            r#""a\"\u003cb\u003e\u0026\u0001\u2028""#
        );
        assert_eq!(write("<b>\t", false), r#""<b>\t""#);
    }

    #[test]
    fn floats_are_es6_numbers() {
        for (f, want) in [
            (0.0, Some("0")),
            (1.5, Some("1.5")),
            (1e20, Some("100000000000000000000")),
            (1e21, Some("1e+21")),
            (1e-7, Some("1e-7")),
            (1.5e-10, Some("1.5e-10")),
            (-2e-7, Some("-2e-7")),
            (f64::NAN, None),
            (f64::INFINITY, None),
        ] {
            assert_eq!(format_float(f).as_deref(), want, "{f}");
        }
    }
}
