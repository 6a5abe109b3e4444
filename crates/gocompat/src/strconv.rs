//! Go's `strconv`: float formatting (`FormatFloat`), quoting (`Quote`,
//! `QuoteRune`, the `%q` verb) and the escape sequences of Go string
//! literals (what `Unquote` accepts).

use std::fmt::Write as _;

/// Go's `strconv.FormatFloat(f, fmt, prec, 64)` for the formats vigil
/// prints: `'f'`, `'e'` and `'g'`, with `prec` -1 for the shortest digits
/// that read back as the same float (`'g'` takes only -1). Infinities and
/// NaN print as `+Inf`, `-Inf` and `NaN`; an unknown format prints as Go
/// does, `%` followed by the format letter.
///
/// ```
/// use gocompat::strconv::format_float;
/// assert_eq!(format_float(1e21, 'f', -1), "1000000000000000000000");
/// assert_eq!(format_float(1e6, 'g', -1), "1e+06");
/// assert_eq!(format_float(2.5, 'e', 3), "2.500e+00");
/// ```
pub fn format_float(f: f64, fmt: char, prec: i32) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "+Inf" } else { "-Inf" }.into();
    }
    match fmt {
        // Rust's `Display` is the shortest round-trip digits without an
        // exponent, which is Go's 'f' with precision -1.
        'f' if prec < 0 => format!("{f}"),
        'f' => format!("{f:.*}", prec_usize(prec)),
        'e' => {
            let text = if prec < 0 {
                format!("{f:e}")
            } else {
                format!("{f:.*e}", prec_usize(prec))
            };
            go_exponent(&text)
        }
        'g' => {
            if f == 0.0 {
                return if f.is_sign_negative() { "-0" } else { "0" }.into();
            }
            let sci = format!("{f:e}");
            let exp: i32 = sci
                .split_once('e')
                .and_then(|(_, e)| e.parse().ok())
                .unwrap_or(0);
            // The shortest form switches to an exponent below 1e-4 and
            // from 1e6 (Go's `eprec` is 6 for precision -1); this is also
            // `fmt`'s `%v` of a float64.
            if !(-4..6).contains(&exp) {
                go_exponent(&sci)
            } else {
                format!("{f}")
            }
        }
        other => format!("%{other}"),
    }
}

/// Precision as an index, bounded so that a format cannot exhaust memory.
fn prec_usize(prec: i32) -> usize {
    usize::try_from(prec).unwrap_or(0).min(1_000)
}

/// Rust's `1.5e-7` as Go writes it: `1.5e-07` (a sign, two digits at
/// least).
fn go_exponent(text: &str) -> String {
    let (mantissa, exp) = text.split_once('e').unwrap_or((text, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let sign = if exp < 0 { '-' } else { '+' };
    format!("{mantissa}e{sign}{:02}", exp.abs())
}

/// Go's `strconv.Quote`: a double-quoted string with printable characters
/// kept and the rest escaped (`"a\n\x00"`).
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    quote_into(&mut out, s);
    out
}

/// [`quote`], appended to `out`.
pub fn quote_into(out: &mut String, s: &str) {
    out.push('"');
    // Printable ASCII other than the quote and the backslash stands for
    // itself: most label values are only that, and go in at once.
    if s.bytes()
        .all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\')
    {
        out.push_str(s);
        out.push('"');
        return;
    }
    for c in s.chars() {
        push_escaped(out, c, '"');
    }
    out.push('"');
}

/// Go's `strconv.QuoteRune` (and `%q` of a rune): `'1'`, `'\n'`, `'\x00'`.
pub fn quote_rune(c: char) -> String {
    let mut out = String::from("'");
    push_escaped(&mut out, c, '\'');
    out.push('\'');
    out
}

fn push_escaped(out: &mut String, c: char, quote: char) {
    match c {
        c if c == quote => {
            out.push('\\');
            out.push(c);
        }
        '\\' => out.push_str("\\\\"),
        '\u{7}' => out.push_str("\\a"),
        '\u{8}' => out.push_str("\\b"),
        '\u{c}' => out.push_str("\\f"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\u{b}' => out.push_str("\\v"),
        c if (c as u32) < 0x20 || c == '\u{7f}' => {
            let _ = write!(out, "\\x{:02x}", c as u32);
        }
        c if c.is_control() || (c.is_whitespace() && c != ' ') => {
            if (c as u32) < 0x10000 {
                let _ = write!(out, "\\u{:04x}", c as u32);
            } else {
                let _ = write!(out, "\\U{:08x}", c as u32);
            }
        }
        c => out.push(c),
    }
}

/// What one escape sequence of a Go string literal stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Escaped {
    /// A single byte (`\n`, `\x41`, `\101`): it need not be valid UTF-8
    /// on its own.
    Byte(u8),
    /// A code point (`\u00e9`, `\U0001F600`), written as UTF-8.
    Char(char),
}

impl Escaped {
    /// Appends what the escape stands for to `out`.
    pub fn push_to(self, out: &mut Vec<u8>) {
        match self {
            Escaped::Byte(b) => out.push(b),
            Escaped::Char(c) => {
                let mut buf = [0; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
}

/// Why an escape sequence is not one Go accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EscapeError {
    /// The text ends inside the escape.
    #[error("escape sequence not terminated")]
    NotTerminated,
    /// A letter after the backslash that starts no escape.
    #[error("unknown escape sequence")]
    Unknown(char),
    /// A character that is not a digit of the escape's base.
    #[error("illegal character in escape sequence")]
    IllegalDigit(char),
    /// An octal escape above `\377`.
    #[error("octal escape out of range")]
    OctalOutOfRange,
    /// A `\u`/`\U` escape that is a surrogate or beyond U+10FFFF.
    #[error("escape sequence is an invalid Unicode code point")]
    InvalidCodePoint,
}

/// Reads one escape sequence of a Go string literal quoted with `quote`;
/// `rest` is the text just after the backslash. Returns what it stands
/// for and how many bytes of `rest` it took (`strconv.UnquoteChar`'s
/// rules: `\a \b \f \n \r \t \v \\`, the quote itself, `\x` with 2 hex
/// digits, `\` with 3 octal digits, `\u` with 4 and `\U` with 8).
pub fn unescape(rest: &str, quote: char) -> Result<(Escaped, usize), EscapeError> {
    let mut chars = rest.chars();
    let c = chars.next().ok_or(EscapeError::NotTerminated)?;
    let simple = match c {
        'a' => Some(7u8),
        'b' => Some(8),
        'f' => Some(12),
        'n' => Some(b'\n'),
        'r' => Some(b'\r'),
        't' => Some(b'\t'),
        'v' => Some(11),
        '\\' => Some(b'\\'),
        c if c == quote && c.is_ascii() => Some(c as u8),
        _ => None,
    };
    if let Some(b) = simple {
        return Ok((Escaped::Byte(b), c.len_utf8()));
    }
    let (digits, base, skip) = match c {
        '0'..='7' => (3, 8, 0),
        'x' => (2, 16, 1),
        'u' => (4, 16, 1),
        'U' => (8, 16, 1),
        c => return Err(EscapeError::Unknown(c)),
    };
    let mut value: u32 = 0;
    let mut taken = skip;
    for d in rest[skip..].chars().take(digits) {
        let v = d.to_digit(base).ok_or(EscapeError::IllegalDigit(d))?;
        value = value * base + v;
        taken += d.len_utf8();
    }
    if taken - skip < digits {
        return Err(EscapeError::NotTerminated);
    }
    match c {
        '0'..='7' => u8::try_from(value)
            .map(|b| (Escaped::Byte(b), taken))
            .map_err(|_| EscapeError::OctalOutOfRange),
        'x' => Ok((Escaped::Byte(value as u8), taken)),
        _ => char::from_u32(value)
            .map(|ch| (Escaped::Char(ch), taken))
            .ok_or(EscapeError::InvalidCodePoint),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_floats_like_go() {
        for (f, fmt, prec, want) in [
            (1.0, 'f', -1, "1"),
            (0.1, 'f', -1, "0.1"),
            (1e21, 'f', -1, "1000000000000000000000"),
            (1e-7, 'f', -1, "0.0000001"),
            (-2.5, 'f', -1, "-2.5"),
            (1.23456, 'f', 2, "1.23"),
            (f64::NAN, 'f', -1, "NaN"),
            (f64::INFINITY, 'g', -1, "+Inf"),
            (f64::NEG_INFINITY, 'e', 2, "-Inf"),
            (1.5, 'g', -1, "1.5"),
            (3.0, 'g', -1, "3"),
            (-0.0, 'g', -1, "-0"),
            (1e6, 'g', -1, "1e+06"),
            (123456.0, 'g', -1, "123456"),
            (0.00001, 'g', -1, "1e-05"),
            (123456789.0, 'g', -1, "1.23456789e+08"),
            (2.5, 'e', 3, "2.500e+00"),
            (1234.5, 'e', -1, "1.2345e+03"),
            (1e-10, 'e', 1, "1.0e-10"),
            (1.0, 'x', -1, "%x"),
        ] {
            assert_eq!(format_float(f, fmt, prec), want, "{f} {fmt} {prec}");
        }
    }

    #[test]
    fn quotes_like_go() {
        assert_eq!(quote("a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(quote("\n\t\u{0}\u{7f}é"), r#""\n\t\x00\x7fé""#);
        assert_eq!(quote("\u{2028}"), r#""\u2028""#);
        assert_eq!(quote_rune('\''), r"'\''");
        assert_eq!(quote_rune('1'), "'1'");
    }

    #[test]
    fn unescapes_go_sequences() {
        let ok = |rest: &str| unescape(rest, '"');
        assert_eq!(ok("n"), Ok((Escaped::Byte(b'\n'), 1)));
        assert_eq!(ok("\"x"), Ok((Escaped::Byte(b'"'), 1)));
        assert_eq!(ok("x41"), Ok((Escaped::Byte(b'A'), 3)));
        assert_eq!(ok("101"), Ok((Escaped::Byte(b'A'), 3)));
        assert_eq!(ok("u00e9"), Ok((Escaped::Char('é'), 5)));
        assert_eq!(ok("U0001F600z"), Ok((Escaped::Char('😀'), 9)));
        assert_eq!(ok(""), Err(EscapeError::NotTerminated));
        assert_eq!(ok("x4"), Err(EscapeError::NotTerminated));
        assert_eq!(ok("'"), Err(EscapeError::Unknown('\'')));
        assert_eq!(unescape("'", '\''), Ok((Escaped::Byte(b'\''), 1)));
        assert_eq!(ok("q"), Err(EscapeError::Unknown('q')));
        assert_eq!(ok("xzz"), Err(EscapeError::IllegalDigit('z')));
        assert_eq!(ok("400"), Err(EscapeError::OctalOutOfRange));
        assert_eq!(ok("ud800"), Err(EscapeError::InvalidCodePoint));
        assert_eq!(ok("U00110000"), Err(EscapeError::InvalidCodePoint));
    }
}
