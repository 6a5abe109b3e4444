//! A small JSON reader that keeps what Loki's parsers need and serde's
//! generic maps lose: object keys in order with duplicates, and numbers as
//! written.

/// A JSON value.
#[derive(Debug, Clone, PartialEq)]
pub enum JsonValue {
    /// `null`
    Null,
    /// `true`/`false`
    Bool(bool),
    /// A number, as written.
    Number(String),
    /// A string, unescaped.
    String(String),
    /// An array.
    Array(Vec<JsonValue>),
    /// An object, keys in order, duplicates kept.
    Object(Vec<(String, JsonValue)>),
}

const MAX_DEPTH: usize = 256;

/// Parses one JSON document (surrounding whitespace allowed).
pub fn parse_json(text: &str) -> Result<JsonValue, String> {
    let mut r = Reader {
        s: text.as_bytes(),
        pos: 0,
    };
    r.ws();
    let v = r.value(0)?;
    r.ws();
    if r.pos != r.s.len() {
        return Err(format!("unexpected trailing data at byte {}", r.pos));
    }
    Ok(v)
}

/// One step of a path into a JSON document: a key or an index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathStep {
    /// `.key` or `["key"]`
    Key(String),
    /// `[0]`
    Index(usize),
}

/// The text of the value at `path`, exactly as written in `text` (nested
/// objects keep their spacing, as Loki returns them); the first of duplicate
/// keys wins. `None` when the document is invalid or the path is absent.
pub fn find_raw<'t>(text: &'t str, path: &[PathStep]) -> Option<&'t str> {
    let mut r = Reader {
        s: text.as_bytes(),
        pos: 0,
    };
    r.ws();
    for step in path {
        match (step, r.s.get(r.pos)) {
            (PathStep::Key(want), Some(b'{')) => {
                r.pos += 1;
                loop {
                    r.ws();
                    if r.s.get(r.pos) != Some(&b'"') {
                        return None;
                    }
                    let key = r.string().ok()?;
                    r.ws();
                    if r.s.get(r.pos) != Some(&b':') {
                        return None;
                    }
                    r.pos += 1;
                    r.ws();
                    if key == *want {
                        break;
                    }
                    r.value(1).ok()?;
                    r.ws();
                    if r.s.get(r.pos) != Some(&b',') {
                        return None;
                    }
                    r.pos += 1;
                }
            }
            (PathStep::Index(want), Some(b'[')) => {
                r.pos += 1;
                for _ in 0..*want {
                    r.ws();
                    r.value(1).ok()?;
                    r.ws();
                    if r.s.get(r.pos) != Some(&b',') {
                        return None;
                    }
                    r.pos += 1;
                }
                r.ws();
                if r.s.get(r.pos) == Some(&b']') {
                    return None;
                }
            }
            _ => return None,
        }
    }
    let start = r.pos;
    r.value(1).ok()?;
    text.get(start..r.pos)
}

/// Why [`parse_object_prefix`] stopped early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrefixError {
    /// The text does not start with `{`.
    NotObject,
    /// The object is malformed or cut short after some fields.
    Broken,
}

/// Reads a top-level object field by field, keeping the fields read before
/// any syntax error (what a streaming parser has already emitted).
pub fn parse_object_prefix(text: &str) -> (Vec<(String, JsonValue)>, Option<PrefixError>) {
    let mut r = Reader {
        s: text.as_bytes(),
        pos: 0,
    };
    let mut pairs = Vec::new();
    r.ws();
    if r.s.get(r.pos) != Some(&b'{') {
        return (pairs, Some(PrefixError::NotObject));
    }
    r.pos += 1;
    r.ws();
    if r.s.get(r.pos) == Some(&b'}') {
        r.pos += 1;
        r.ws();
        let trailing = r.pos != r.s.len();
        return (pairs, trailing.then_some(PrefixError::Broken));
    }
    loop {
        r.ws();
        if r.s.get(r.pos) != Some(&b'"') {
            return (pairs, Some(PrefixError::Broken));
        }
        let Ok(key) = r.string() else {
            return (pairs, Some(PrefixError::Broken));
        };
        r.ws();
        if r.s.get(r.pos) != Some(&b':') {
            return (pairs, Some(PrefixError::Broken));
        }
        r.pos += 1;
        r.ws();
        let Ok(v) = r.value(1) else {
            return (pairs, Some(PrefixError::Broken));
        };
        pairs.push((key, v));
        r.ws();
        match r.s.get(r.pos) {
            Some(b',') => r.pos += 1,
            Some(b'}') => {
                r.pos += 1;
                r.ws();
                let trailing = r.pos != r.s.len();
                return (pairs, trailing.then_some(PrefixError::Broken));
            }
            _ => return (pairs, Some(PrefixError::Broken)),
        }
    }
}

impl JsonValue {
    /// The value as compact JSON text.
    pub fn to_json(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut String) {
        match self {
            JsonValue::Null => out.push_str("null"),
            JsonValue::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            JsonValue::Number(n) => out.push_str(n),
            JsonValue::String(s) => write_json_string(out, s),
            JsonValue::Array(items) => {
                out.push('[');
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    v.write(out);
                }
                out.push(']');
            }
            JsonValue::Object(pairs) => {
                out.push('{');
                for (i, (k, v)) in pairs.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_json_string(out, k);
                    out.push(':');
                    v.write(out);
                }
                out.push('}');
            }
        }
    }

    /// The first value of `key` in an object.
    pub fn get(&self, key: &str) -> Option<&JsonValue> {
        match self {
            JsonValue::Object(pairs) => pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
}

/// Writes `s` as a JSON string literal (Go's encoder with HTML escaping
/// off).
pub fn write_json_string(out: &mut String, s: &str) {
    gocompat::json::write_string(out, s, false);
}

/// Writes `s` as Go's `encoding/json` does by default: also `<`, `>` and
/// `&` as `\u` escapes (HTML-safe).
pub fn write_go_json_string(out: &mut String, s: &str) {
    gocompat::json::write_string(out, s, true);
}

struct Reader<'a> {
    s: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn ws(&mut self) {
        while matches!(self.s.get(self.pos), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn err<T>(&self, what: &str) -> Result<T, String> {
        Err(format!("{what} at byte {}", self.pos))
    }

    fn literal(&mut self, word: &[u8], v: JsonValue) -> Result<JsonValue, String> {
        if self.s.get(self.pos..self.pos + word.len()) == Some(word) {
            self.pos += word.len();
            Ok(v)
        } else {
            self.err("invalid literal")
        }
    }

    fn value(&mut self, depth: usize) -> Result<JsonValue, String> {
        if depth > MAX_DEPTH {
            return self.err("nesting too deep");
        }
        match self.s.get(self.pos) {
            Some(b'{') => {
                self.pos += 1;
                let mut pairs = Vec::new();
                self.ws();
                if self.s.get(self.pos) == Some(&b'}') {
                    self.pos += 1;
                    return Ok(JsonValue::Object(pairs));
                }
                loop {
                    self.ws();
                    if self.s.get(self.pos) != Some(&b'"') {
                        return self.err("expected object key");
                    }
                    let key = self.string()?;
                    self.ws();
                    if self.s.get(self.pos) != Some(&b':') {
                        return self.err("expected ':'");
                    }
                    self.pos += 1;
                    self.ws();
                    let v = self.value(depth + 1)?;
                    pairs.push((key, v));
                    self.ws();
                    match self.s.get(self.pos) {
                        Some(b',') => self.pos += 1,
                        Some(b'}') => {
                            self.pos += 1;
                            return Ok(JsonValue::Object(pairs));
                        }
                        _ => return self.err("expected ',' or '}'"),
                    }
                }
            }
            Some(b'[') => {
                self.pos += 1;
                let mut items = Vec::new();
                self.ws();
                if self.s.get(self.pos) == Some(&b']') {
                    self.pos += 1;
                    return Ok(JsonValue::Array(items));
                }
                loop {
                    self.ws();
                    items.push(self.value(depth + 1)?);
                    self.ws();
                    match self.s.get(self.pos) {
                        Some(b',') => self.pos += 1,
                        Some(b']') => {
                            self.pos += 1;
                            return Ok(JsonValue::Array(items));
                        }
                        _ => return self.err("expected ',' or ']'"),
                    }
                }
            }
            Some(b'"') => self.string().map(JsonValue::String),
            Some(b't') => self.literal(b"true", JsonValue::Bool(true)),
            Some(b'f') => self.literal(b"false", JsonValue::Bool(false)),
            Some(b'n') => self.literal(b"null", JsonValue::Null),
            Some(b'-' | b'0'..=b'9') => {
                let start = self.pos;
                if self.s.get(self.pos) == Some(&b'-') {
                    self.pos += 1;
                }
                let digits_start = self.pos;
                while self.s.get(self.pos).is_some_and(|b| {
                    b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-')
                }) {
                    self.pos += 1;
                }
                let text =
                    std::str::from_utf8(self.s.get(start..self.pos).unwrap_or(&[])).unwrap_or("");
                if self.pos == digits_start || text.parse::<f64>().is_err() {
                    return self.err("invalid number");
                }
                Ok(JsonValue::Number(text.to_owned()))
            }
            _ => self.err("unexpected character"),
        }
    }

    fn hex4(&mut self) -> Result<u32, String> {
        let digits = self.s.get(self.pos..self.pos + 4).unwrap_or(&[]);
        let text = std::str::from_utf8(digits).unwrap_or("");
        if text.len() != 4 {
            return self.err("invalid unicode escape");
        }
        let v = u32::from_str_radix(text, 16)
            .map_err(|_| format!("invalid unicode escape at byte {}", self.pos))?;
        self.pos += 4;
        Ok(v)
    }

    fn string(&mut self) -> Result<String, String> {
        self.pos += 1; // opening quote
        let mut out: Vec<u8> = Vec::new();
        loop {
            let Some(&b) = self.s.get(self.pos) else {
                return self.err("unterminated string");
            };
            self.pos += 1;
            match b {
                b'"' => break,
                b'\\' => {
                    let Some(&e) = self.s.get(self.pos) else {
                        return self.err("unterminated string");
                    };
                    self.pos += 1;
                    let simple = match e {
                        b'"' => Some(b'"'),
                        b'\\' => Some(b'\\'),
                        b'/' => Some(b'/'),
                        b'b' => Some(8),
                        b'f' => Some(12),
                        b'n' => Some(b'\n'),
                        b'r' => Some(b'\r'),
                        b't' => Some(b'\t'),
                        _ => None,
                    };
                    if let Some(c) = simple {
                        out.push(c);
                        continue;
                    }
                    if e != b'u' {
                        return self.err("invalid escape");
                    }
                    let mut cp = self.hex4()?;
                    if (0xD800..0xDC00).contains(&cp)
                        && self.s.get(self.pos..self.pos + 2) == Some(b"\\u")
                    {
                        self.pos += 2;
                        let low = self.hex4()?;
                        if (0xDC00..0xE000).contains(&low) {
                            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
                        }
                    }
                    let c = char::from_u32(cp).unwrap_or('\u{FFFD}');
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
                b => out.push(b),
            }
        }
        String::from_utf8(out).map_err(|_| format!("invalid utf-8 in string at byte {}", self.pos))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_order_duplicates_and_number_text() {
        let v = parse_json(r#"{"b":1.50,"a":[true,null],"b":"x\u00e9"}"#).unwrap();
        let JsonValue::Object(pairs) = &v else {
            panic!("not an object")
        };
        assert_eq!(pairs.len(), 3);
        assert_eq!(pairs[0], ("b".into(), JsonValue::Number("1.50".into())));
        assert_eq!(pairs[2].1, JsonValue::String("xé".into()));
        assert_eq!(v.to_json(), r#"{"b":1.50,"a":[true,null],"b":"xé"}"#);
    }

    #[test]
    fn rejects_broken_input() {
        for bad in [
            "broken",
            "{",
            r#"{"a":}"#,
            "[1,]",
            r#""abc"#,
            "{} x",
            "-",
            r#""\q""#,
        ] {
            assert!(parse_json(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn prefix_keeps_fields_before_an_error() {
        let (pairs, err) = parse_object_prefix(r#"{"broken": "json", "#);
        assert_eq!(
            pairs,
            vec![("broken".into(), JsonValue::String("json".into()))]
        );
        assert_eq!(err, Some(PrefixError::Broken));
        assert_eq!(
            parse_object_prefix("not json").1,
            Some(PrefixError::NotObject)
        );
        assert_eq!(
            parse_object_prefix(r#" {"a":1} "#),
            (vec![("a".into(), JsonValue::Number("1".into()))], None)
        );
    }

    #[test]
    fn find_raw_keeps_the_source_text() {
        let doc = r#"{"u": {"id": 1,  "t": ["a", "b"]}, "u": 2}"#;
        let key = |k: &str| PathStep::Key(k.into());
        assert_eq!(
            find_raw(doc, &[key("u")]),
            Some(r#"{"id": 1,  "t": ["a", "b"]}"#)
        );
        assert_eq!(
            find_raw(doc, &[key("u"), key("t"), PathStep::Index(1)]),
            Some(r#""b""#)
        );
        assert_eq!(find_raw(doc, &[key("x")]), None);
        assert_eq!(
            find_raw(doc, &[key("u"), key("t"), PathStep::Index(2)]),
            None
        );
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        let deep = "[".repeat(100_000);
        assert!(parse_json(&deep).is_err());
    }
}
