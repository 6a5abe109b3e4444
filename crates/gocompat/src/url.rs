//! Go's `net/url` query escaping: `QueryEscape` and `QueryUnescape`, which
//! template functions (`urlquery`, Loki's `urlencode`/`urldecode`) use.

use std::fmt::Write as _;

/// Go's `url.QueryEscape`: unreserved bytes kept, space as `+`, the rest
/// as `%XX`.
pub fn query_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(char::from(b))
            }
            b' ' => out.push('+'),
            _ => {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
    out
}

/// A `%` not followed by two hex digits; holds what followed it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid URL escape {0:?}")]
pub struct EscapeError(pub String);

/// Go's `url.QueryUnescape`: `+` as space, `%XX` as the byte; bytes that
/// are not UTF-8 are replaced.
pub fn query_unescape(text: &str) -> Result<String, EscapeError> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .unwrap_or("");
                let v = u8::from_str_radix(hex, 16).map_err(|_| EscapeError(hex.to_owned()))?;
                out.push(v);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_bad_escapes() {
        assert_eq!(query_escape("a b&c/é"), "a+b%26c%2F%C3%A9");
        assert_eq!(query_unescape("a+b%26c%2F%C3%A9").unwrap(), "a b&c/é");
        assert_eq!(
            query_unescape("%zz").unwrap_err().to_string(),
            r#"invalid URL escape "zz""#
        );
    }
}
