//! Parser stages: `json`, `logfmt`, `regexp`, `pattern`, `unpack`.

use std::borrow::Cow;

use super::json::{JsonValue, PrefixError, find_raw, parse_json, parse_object_prefix};
use super::pattern::Pattern;
use super::{ERR_JSON, ERR_LOGFMT, LabelsBuilder, Stage, sanitize_label_key};

/// Sets parsed labels with "first key wins" inside one parse.
struct FirstWins<'b> {
    labels: &'b mut LabelsBuilder,
    seen: Vec<String>,
}

impl<'b> FirstWins<'b> {
    fn new(labels: &'b mut LabelsBuilder) -> Self {
        Self {
            labels,
            seen: Vec::new(),
        }
    }

    fn set(&mut self, name: &str, value: &str) {
        if name.is_empty() || self.seen.iter().any(|s| s == name) {
            return;
        }
        self.seen.push(name.to_owned());
        self.labels.set_parsed(name, value);
    }
}

pub use super::json::PathStep;

/// Parses a json parameter expression such as `user.id`, `tags[0]` or
/// `["a.b"]`; the message is Loki's.
pub fn parse_json_path(expr: &str) -> Result<Vec<PathStep>, String> {
    let bad = || format!("cannot parse expression [{expr}]: syntax error");
    let mut steps = Vec::new();
    let mut rest = expr;
    let mut first = true;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('[') {
            let end = r.find(']').ok_or_else(bad)?;
            let inner = r.get(..end).unwrap_or("").trim();
            rest = r.get(end + 1..).unwrap_or("");
            if let Some(q) = inner.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
                steps.push(PathStep::Key(q.to_owned()));
            } else {
                steps.push(PathStep::Index(inner.parse().map_err(|_| bad())?));
            }
        } else {
            let r = if first {
                rest
            } else {
                rest.strip_prefix('.').ok_or_else(bad)?
            };
            let end = r.find(['.', '[']).unwrap_or(r.len());
            let key = r.get(..end).unwrap_or("");
            if key.is_empty()
                || !key
                    .chars()
                    .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
            {
                return Err(bad());
            }
            steps.push(PathStep::Key(key.to_owned()));
            rest = r.get(end..).unwrap_or("");
        }
        first = false;
    }
    if steps.is_empty() {
        return Err(bad());
    }
    Ok(steps)
}

/// `| json` and `| json a="path", …`.
#[derive(Debug, Clone)]
pub struct JsonParser {
    params: Vec<(String, Vec<PathStep>)>,
}

impl JsonParser {
    /// Extracts every field (nested objects flattened with `_`).
    pub fn all() -> Self {
        Self { params: Vec::new() }
    }

    /// Extracts only the given `(label, path)` pairs.
    pub fn with_params(params: &[(String, String)]) -> Result<Self, String> {
        let params = params
            .iter()
            .map(|(label, path)| Ok((label.clone(), parse_json_path(path)?)))
            .collect::<Result<_, String>>()?;
        Ok(Self { params })
    }
}

fn flatten(prefix: &str, value: &JsonValue, out: &mut FirstWins<'_>) {
    let JsonValue::Object(pairs) = value else {
        return;
    };
    for (key, v) in pairs {
        let key = sanitize_label_key(key);
        let name = if prefix.is_empty() {
            key
        } else {
            format!("{prefix}_{key}")
        };
        match v {
            JsonValue::Object(_) => flatten(&name, v, out),
            JsonValue::String(s) => out.set(&name, s),
            JsonValue::Number(n) => out.set(&name, n),
            JsonValue::Bool(b) => out.set(&name, if *b { "true" } else { "false" }),
            JsonValue::Null | JsonValue::Array(_) => {}
        }
    }
}

/// The details Loki reports for JSON it cannot parse (its JSON library's
/// words): a line that is not an object, or an object cut short.
const JSON_NOT_OBJECT: &str = "Value looks like object, but can't find closing '}' symbol";
const JSON_TRUNCATED: &str = "Value is array, but can't find closing ']' symbol";

impl Stage for JsonParser {
    fn process<'a>(&self, _ts: i64, line: &mut Cow<'a, str>, labels: &mut LabelsBuilder) -> bool {
        if self.params.is_empty() {
            // Fields before a syntax error are kept, as Loki's streaming
            // parser does.
            let (pairs, error) = parse_object_prefix(line);
            let mut out = FirstWins::new(labels);
            flatten("", &JsonValue::Object(pairs), &mut out);
            if let Some(e) = error {
                labels.set_error(
                    ERR_JSON,
                    if e == PrefixError::NotObject {
                        JSON_NOT_OBJECT
                    } else {
                        JSON_TRUNCATED
                    },
                );
            }
            return true;
        }
        if !matches!(parse_json(line), Ok(JsonValue::Object(_))) {
            // With parameters Loki reports the error without details.
            labels.set_error_without_details(ERR_JSON);
            return true;
        }
        let mut out = FirstWins::new(labels);
        for (label, path) in &self.params {
            // Strings are unquoted; objects and arrays keep their text.
            let text = match find_raw(line, path) {
                Some(raw) if raw.starts_with('"') => match parse_json(raw) {
                    Ok(JsonValue::String(s)) => s,
                    _ => String::new(),
                },
                Some("null") | None => String::new(),
                Some(raw) => raw.to_owned(),
            };
            out.set(label, &text);
        }
        true
    }
}

/// `| logfmt [--strict] [--keep-empty] [params]`.
#[derive(Debug, Clone, Default)]
pub struct LogfmtParser {
    /// Stop at the first malformed pair and set `__error__`.
    pub strict: bool,
    /// Keep keys with empty values.
    pub keep_empty: bool,
    /// `(label, key)` pairs; empty extracts every key.
    pub params: Vec<(String, String)>,
}

/// One logfmt pair or a decoding error.
enum Pair<'l> {
    /// `key=value` (a bare `key` has an empty value).
    Ok { key: &'l str, value: Cow<'l, str> },
    /// A malformed pair; `fatal` errors end the line even without
    /// `--strict` (Loki reports them as `LogfmtParserErr`).
    Err { message: String, fatal: bool },
}

fn logfmt_error(pos: usize, what: &str) -> String {
    format!("logfmt syntax error at pos {pos} : {what}")
}

/// Decodes logfmt pairs. A pair cut short (`bad="unterminated`) is
/// recoverable, as in Loki 3 (parsers.logqltest pins it); any other syntax
/// error (a quote in a key or an unquoted value, garbage glued to a closed
/// quoted value as in `msg="said "hi""`, a pair starting with `=`) ends the
/// line with `LogfmtParserErr`, as Loki 2.8 answered (golden corpus).
fn logfmt_pairs(line: &str) -> Vec<Pair<'_>> {
    let bytes = line.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let skip_to_space = |mut i: usize| {
        while bytes.get(i).is_some_and(|b| *b > b' ') {
            i += 1;
        }
        i
    };
    while i < bytes.len() {
        while bytes.get(i).is_some_and(|b| *b <= b' ') {
            i += 1;
        }
        if i >= bytes.len() {
            break;
        }
        let key_start = i;
        while bytes
            .get(i)
            .is_some_and(|b| *b > b' ' && *b != b'=' && *b != b'"')
        {
            i += 1;
        }
        let key = line.get(key_start..i).unwrap_or("");
        if key.is_empty() {
            let c = char::from(bytes.get(i).copied().unwrap_or(b' '));
            out.push(Pair::Err {
                message: logfmt_error(i + 1, &format!("unexpected '{c}'")),
                fatal: true,
            });
            i = skip_to_space(i + 1);
            continue;
        }
        match bytes.get(i) {
            Some(b'=') => {
                i += 1;
                if bytes.get(i) == Some(&b'"') {
                    let start = i;
                    i += 1;
                    let mut escaped = false;
                    let mut closed = false;
                    while let Some(&b) = bytes.get(i) {
                        i += 1;
                        if escaped {
                            escaped = false;
                        } else if b == b'\\' {
                            escaped = true;
                        } else if b == b'"' {
                            closed = true;
                            break;
                        }
                    }
                    if !closed {
                        out.push(Pair::Err {
                            message: logfmt_error(i + 1, "unterminated quoted value"),
                            fatal: false,
                        });
                        break;
                    }
                    let raw = line.get(start..i).unwrap_or("\"\"");
                    let Some(value) = unquote_logfmt(raw) else {
                        // Loki's decoder stops at a bad escape, the
                        // position just past the closing quote.
                        out.push(Pair::Err {
                            message: logfmt_error(i + 1, "invalid quoted value"),
                            fatal: true,
                        });
                        break;
                    };
                    out.push(Pair::Ok { key, value });
                    if bytes.get(i).is_some_and(|b| *b > b' ') {
                        // Text glued to the closing quote: Loki stops here.
                        let mut j = i;
                        while bytes.get(j).is_some_and(|b| *b > b' ' && *b != b'"') {
                            j += 1;
                        }
                        let what = if bytes.get(j) == Some(&b'"') {
                            "unexpected '\"'"
                        } else {
                            "unexpected value"
                        };
                        out.push(Pair::Err {
                            message: logfmt_error(j + 1, what),
                            fatal: true,
                        });
                        break;
                    }
                } else {
                    let start = i;
                    while bytes.get(i).is_some_and(|b| *b > b' ' && *b != b'"') {
                        i += 1;
                    }
                    if bytes.get(i) == Some(&b'"') {
                        out.push(Pair::Err {
                            message: logfmt_error(i + 1, "unexpected '\"'"),
                            fatal: true,
                        });
                        i = skip_to_space(i);
                        continue;
                    }
                    out.push(Pair::Ok {
                        key,
                        value: Cow::Borrowed(line.get(start..i).unwrap_or("")),
                    });
                }
            }
            Some(b'"') => {
                out.push(Pair::Err {
                    message: logfmt_error(i + 1, "unexpected '\"'"),
                    fatal: true,
                });
                i = skip_to_space(i);
            }
            _ => out.push(Pair::Ok {
                key,
                value: Cow::Borrowed(""),
            }),
        }
    }
    out
}

/// Resolves the escapes of a double-quoted logfmt value (`raw` includes the
/// quotes), by the rule Loki's logfmt decoder and go-logfmt (Promtail's
/// `logfmt` stage) share, their `unquoteBytes`: `\"`, `\\`, `\/`, `\'`,
/// `\b`, `\f`, `\n`, `\r`, `\t` and `\uXXXX` (a surrogate pair joined,
/// a lone surrogate read as U+FFFD). `None` for any other escape, which
/// both decoders report as "invalid quoted value".
pub fn unquote_logfmt(raw: &str) -> Option<Cow<'_, str>> {
    let inner = raw.get(1..raw.len().checked_sub(1)?)?;
    if !inner.contains('\\') {
        return Some(Cow::Borrowed(inner));
    }
    // Exactly four hex digits after `\u`, as Go's `getu4` reads them.
    let hex4 = |s: &str| {
        let h = s.get(..4)?;
        h.bytes()
            .all(|b| b.is_ascii_hexdigit())
            .then(|| u32::from_str_radix(h, 16).ok())
            .flatten()
    };
    let mut out = String::with_capacity(inner.len());
    let mut rest = inner;
    while let Some(at) = rest.find('\\') {
        out.push_str(&rest[..at]);
        let esc = rest.get(at + 1..)?;
        let c = esc.chars().next()?;
        rest = &esc[c.len_utf8()..];
        match c {
            '"' | '\\' | '/' | '\'' => out.push(c),
            'b' => out.push('\u{8}'),
            'f' => out.push('\u{c}'),
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            't' => out.push('\t'),
            'u' => {
                let unit = hex4(rest)?;
                rest = &rest[4..];
                if (0xD800..0xE000).contains(&unit) {
                    // A high surrogate joins a low one that follows;
                    // anything else stands as U+FFFD, the next escape
                    // left to be read on its own.
                    let low = rest
                        .strip_prefix("\\u")
                        .and_then(hex4)
                        .filter(|l| unit < 0xDC00 && (0xDC00..0xE000).contains(l));
                    match low {
                        Some(low) => {
                            let cp = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
                            out.push(char::from_u32(cp).unwrap_or('\u{FFFD}'));
                            rest = &rest[6..];
                        }
                        None => out.push('\u{FFFD}'),
                    }
                } else {
                    out.push(char::from_u32(unit).unwrap_or('\u{FFFD}'));
                }
            }
            _ => return None,
        }
    }
    out.push_str(rest);
    Some(Cow::Owned(out))
}

impl Stage for LogfmtParser {
    fn process<'a>(&self, _ts: i64, line: &mut Cow<'a, str>, labels: &mut LabelsBuilder) -> bool {
        let pairs = logfmt_pairs(line);
        let mut out = FirstWins::new(labels);
        let mut error = None;
        for pair in pairs {
            match pair {
                Pair::Ok { key, value, .. } => {
                    if self.params.is_empty() {
                        // Empty values (`key=`, or a bare `key`) are kept
                        // only with --keep-empty, as in Loki 3
                        // (parsers.logqltest:24, label_filters.logqltest:58);
                        // 2.8 kept bare keys.
                        if value.is_empty() && !self.keep_empty {
                            continue;
                        }
                        out.set(&sanitize_label_key(key), &value);
                    } else {
                        for (label, wanted) in &self.params {
                            if wanted == key {
                                out.set(label, &value);
                            }
                        }
                    }
                }
                Pair::Err { message, fatal } => {
                    if self.strict || fatal {
                        error = Some(message);
                        break;
                    }
                }
            }
        }
        if let Some(e) = error {
            labels.set_error(ERR_LOGFMT, e);
        }
        true
    }
}

/// `| regexp "re"`: named groups become labels.
#[derive(Debug, Clone)]
pub struct RegexpParser {
    regex: regex::Regex,
    names: Vec<Option<String>>,
}

impl RegexpParser {
    /// Compiles the regex; it needs at least one named group, each name once.
    pub fn new(re: &str) -> Result<Self, String> {
        let regex = regex::Regex::new(re).map_err(|e| {
            let reason = crate::parser::regex_reason(&e);
            if reason.contains("duplicate capture group name") {
                "invalid regexp: duplicate extracted label name".to_owned()
            } else {
                format!("error parsing regexp: {reason}")
            }
        })?;
        let names: Vec<Option<String>> = regex
            .capture_names()
            .map(|n| n.map(str::to_owned))
            .collect();
        if names.iter().all(Option::is_none) {
            return Err("at least one named capture must be supplied".into());
        }
        Ok(Self { regex, names })
    }
}

impl Stage for RegexpParser {
    fn process<'a>(&self, _ts: i64, line: &mut Cow<'a, str>, labels: &mut LabelsBuilder) -> bool {
        if let Some(caps) = self.regex.captures(line) {
            let mut out = FirstWins::new(labels);
            for (i, name) in self.names.iter().enumerate() {
                if let Some(name) = name {
                    out.set(name, caps.get(i).map_or("", |m| m.as_str()));
                }
            }
        }
        true
    }
}

/// `| pattern "<a> <_>"`.
#[derive(Debug, Clone)]
pub struct PatternParser {
    pattern: Pattern,
}

impl PatternParser {
    /// Compiles the pattern; it needs a named capture.
    pub fn new(text: &str) -> Result<Self, String> {
        Ok(Self {
            pattern: Pattern::parse_for_parser(text)?,
        })
    }
}

impl Stage for PatternParser {
    fn process<'a>(&self, _ts: i64, line: &mut Cow<'a, str>, labels: &mut LabelsBuilder) -> bool {
        let caps: Vec<(String, String)> = self
            .pattern
            .captures(line.as_bytes())
            .into_iter()
            .map(|(n, v)| (n.to_owned(), String::from_utf8_lossy(v).into_owned()))
            .collect();
        let mut out = FirstWins::new(labels);
        for (n, v) in caps {
            out.set(&n, &v);
        }
        true
    }
}

/// `__error_details__` of `| unpack` on a broken object. Where a key should
/// follow a comma, Loki 2.8 answered with its JSON library's report (golden
/// corpus, `unpack_on_non_packed_json`): `ReadString: expects " or n, but
/// found <c>, error found in #<n> byte of ...|<near>|..., bigger context
/// ...|<context>|...`, where the reading head stands just past the offending
/// byte (at the end for a cut line), `<near>` spans 10 bytes either side of it
/// and `<context>` 50 (`<n>` = the bytes of `<near>` before the head).
/// Other errors keep our parser's message.
fn unpack_error_details(line: &str, e: String) -> String {
    let Some(pos) = e
        .strip_prefix("expected object key at byte ")
        .and_then(|n| n.parse::<usize>().ok())
    else {
        return e;
    };
    let bytes = line.as_bytes();
    let before = bytes
        .get(..pos)
        .unwrap_or(bytes)
        .iter()
        .rev()
        .find(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'));
    if before != Some(&b',') {
        return e;
    }
    let (found, head) = match bytes.get(pos) {
        Some(&c) => (c, pos + 1),
        None => (0, bytes.len()),
    };
    let span = |back: usize, ahead: usize| {
        let from = head.saturating_sub(back);
        let to = (head + ahead).min(bytes.len());
        (
            from,
            String::from_utf8_lossy(bytes.get(from..to).unwrap_or(&[])),
        )
    };
    let (near_from, near) = span(10, 10);
    let (_, context) = span(50, 50);
    format!(
        "ReadString: expects \" or n, but found {}, error found in #{} byte of ...|{near}|..., bigger context ...|{context}|...",
        String::from_utf8_lossy(&[found]),
        head - near_from
    )
}

/// `| unpack`: string fields of a JSON object become labels; `_entry`
/// replaces the line (Promtail's `pack` stage format).
#[derive(Debug, Clone, Default)]
pub struct UnpackParser;

impl Stage for UnpackParser {
    fn process<'a>(&self, _ts: i64, line: &mut Cow<'a, str>, labels: &mut LabelsBuilder) -> bool {
        let pairs = match parse_json(line) {
            Ok(JsonValue::Object(pairs)) => pairs,
            Ok(_) => {
                labels.set_error(ERR_JSON, "expecting json object(6), but it is not");
                return true;
            }
            Err(e) if !line.trim_start().starts_with('{') => {
                let _ = e;
                labels.set_error(ERR_JSON, "expecting json object(6), but it is not");
                return true;
            }
            Err(e) => {
                labels.set_error(ERR_JSON, unpack_error_details(line, e));
                return true;
            }
        };
        // Only a packed entry (one with `_entry`) is unpacked, as in Loki.
        let packed = pairs
            .iter()
            .any(|(k, v)| k == "_entry" && matches!(v, JsonValue::String(_)));
        if !packed {
            return true;
        }
        let mut entry = None;
        {
            let mut out = FirstWins::new(labels);
            for (key, value) in pairs {
                let JsonValue::String(s) = value else {
                    continue;
                };
                if key == "_entry" {
                    entry = Some(s);
                } else {
                    out.set(&sanitize_label_key(&key), &s);
                }
            }
        }
        if let Some(e) = entry {
            *line = Cow::Owned(e);
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::Labels;

    #[test]
    fn logfmt_unquoting_follows_unquote_bytes() {
        for (raw, want) in [
            (r#""plain""#, Some("plain")),
            (r#""a\"b\\c\/d\'e""#, Some("a\"b\\c/d'e")),
            (r#""\b\f\n\r\t""#, Some("\u{8}\u{c}\n\r\t")),
            (r#""\u00e9\u20AC""#, Some("é€")),
            (r#""\ud83d\ude00""#, Some("😀")),
            (r#""\ud83dx""#, Some("\u{FFFD}x")),
            (r#""\ude00""#, Some("\u{FFFD}")),
            (r#""\ud83d\u0041""#, Some("\u{FFFD}A")),
            (r#""\q""#, None),
            (r#""\u12""#, None),
            (r#""\u+123""#, None),
            (r#""x\""#, None),
        ] {
            assert_eq!(unquote_logfmt(raw).as_deref(), want, "{raw}");
        }
    }

    fn run(stage: &dyn Stage, stream: &[(&str, &str)], line: &str) -> (String, Labels) {
        let mut lb = LabelsBuilder::new(
            &Labels::from_pairs(stream.iter().copied()),
            &Labels::empty(),
        );
        let mut l = Cow::Borrowed(line);
        stage.process(0, &mut l, &mut lb);
        (l.into_owned(), lb.finish())
    }

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        Labels::from_pairs(pairs.iter().copied())
    }

    #[test]
    fn json_flattens_and_first_key_wins() {
        let (_, got) = run(
            &JsonParser::all(),
            &[("level", "s")],
            r#"{"level":"p","o":{"x":1,"y":{"z":true}},"n":null,"a":[1],"d":"1","d":"2","a.b":3}"#,
        );
        assert_eq!(
            got,
            labels(&[
                ("level", "s"),
                ("level_extracted", "p"),
                ("o_x", "1"),
                ("o_y_z", "true"),
                ("d", "1"),
                ("a_b", "3")
            ])
        );
    }

    #[test]
    fn json_params_and_errors() {
        let p = JsonParser::with_params(&[
            ("who".into(), "user.id".into()),
            ("t".into(), "tags[1]".into()),
            ("m".into(), "nope".into()),
        ])
        .unwrap();
        let (_, got) = run(&p, &[], r#"{"user":{"id":"u1"},"tags":["x","y"]}"#);
        assert_eq!(got, labels(&[("who", "u1"), ("t", "y"), ("m", "")]));
        let (_, got) = run(&JsonParser::all(), &[], "broken");
        assert_eq!(got.get("__error__"), Some(ERR_JSON));
        assert!(JsonParser::with_params(&[("a".into(), "user[".into())]).is_err());
    }

    #[test]
    fn logfmt_sanitizes_and_skips_empty() {
        let (_, got) = run(
            &LogfmtParser::default(),
            &[],
            r#"a-b=1 9x=2 dup=first dup=second msg="hi there" empty= flag"#,
        );
        assert_eq!(
            got,
            labels(&[
                ("a_b", "1"),
                ("_9x", "2"),
                ("dup", "first"),
                ("msg", "hi there")
            ])
        );
        let keep = LogfmtParser {
            keep_empty: true,
            ..LogfmtParser::default()
        };
        let (_, got) = run(&keep, &[], "a=1 empty=");
        assert_eq!(got, labels(&[("a", "1"), ("empty", "")]));
    }

    #[test]
    fn logfmt_quote_in_a_key_stops_with_an_error() {
        let (_, got) = run(&LogfmtParser::default(), &[], r#"a=1 b c "d"=2 e=3"#);
        assert_eq!(got.get("a"), Some("1"));
        assert_eq!(got.get("b"), None);
        assert_eq!(got.get("e"), None);
        assert_eq!(got.get("__error__"), Some(ERR_LOGFMT));
        assert_eq!(
            got.get("__error_details__"),
            Some("logfmt syntax error at pos 9 : unexpected '\"'")
        );
        let (_, got) = run(&LogfmtParser::default(), &[], r#"{"level":"x"}"#);
        assert_eq!(
            got.get("__error_details__"),
            Some("logfmt syntax error at pos 2 : unexpected '\"'")
        );
    }

    #[test]
    fn logfmt_text_glued_to_a_quote_stops_with_an_error() {
        let (_, got) = run(
            &LogfmtParser::default(),
            &[],
            r#"level=debug msg="user said "hi"" status=500"#,
        );
        assert_eq!(got.get("msg"), Some("user said "));
        assert_eq!(got.get("status"), None);
        assert_eq!(
            got.get("__error_details__"),
            Some("logfmt syntax error at pos 31 : unexpected '\"'")
        );
    }

    #[test]
    fn logfmt_malformed_strict_and_lenient() {
        let (_, got) = run(&LogfmtParser::default(), &[], r#"good=1 bad="unterminated"#);
        assert_eq!(got, labels(&[("good", "1")]));
        let strict = LogfmtParser {
            strict: true,
            ..LogfmtParser::default()
        };
        let (_, got) = run(&strict, &[], r#"good=1 bad="unterminated"#);
        assert_eq!(got.get("__error__"), Some(ERR_LOGFMT));
    }

    #[test]
    fn logfmt_params_rename() {
        let p = LogfmtParser {
            params: vec![("code".into(), "status".into())],
            ..LogfmtParser::default()
        };
        let (_, got) = run(&p, &[], "level=info status=200");
        assert_eq!(got, labels(&[("code", "200")]));
    }

    #[test]
    fn regexp_and_pattern() {
        let r = RegexpParser::new(r"(?P<method>\w+) (?P<path>\S+)").unwrap();
        let (_, got) = run(&r, &[("method", "s")], "PUT /x");
        assert_eq!(
            got,
            labels(&[("method", "s"), ("method_extracted", "PUT"), ("path", "/x")])
        );
        assert!(
            RegexpParser::new("nocapture")
                .unwrap_err()
                .contains("at least one named capture")
        );
        assert!(
            RegexpParser::new("(?P<x>.)(?P<x>.)")
                .unwrap_err()
                .contains("duplicate extracted label name")
        );
        let p = PatternParser::new("<m> <_> <s>").unwrap();
        let (_, got) = run(&p, &[], "GET /a 200");
        assert_eq!(got, labels(&[("m", "GET"), ("s", "200")]));
    }

    #[test]
    fn unpack_reports_a_missing_key_as_loki_2_8() {
        let (_, got) = run(&UnpackParser, &[], r#"{"broken": "json", "#);
        assert_eq!(got.get("__error__"), Some(ERR_JSON));
        assert_eq!(
            got.get("__error_details__"),
            Some(
                "ReadString: expects \" or n, but found \0, error found in #10 byte of \
                 ...|: \"json\", |..., bigger context ...|{\"broken\": \"json\", |..."
            )
        );
        let (_, got) = run(
            &UnpackParser,
            &[],
            r#"{"a": "b", 7: 1, "pad": "xxxxxxxxxxxx"}"#,
        );
        assert_eq!(
            got.get("__error_details__"),
            Some(
                "ReadString: expects \" or n, but found 7, error found in #10 byte of \
                 ...|a\": \"b\", 7: 1, \"pad\"|..., bigger context \
                 ...|{\"a\": \"b\", 7: 1, \"pad\": \"xxxxxxxxxxxx\"}|..."
            )
        );
        let (_, got) = run(&UnpackParser, &[], r#"{"a" 1}"#);
        assert_eq!(got.get("__error_details__"), Some("expected ':' at byte 5"));
    }

    #[test]
    fn unpack_promotes_strings_and_entry() {
        let (line, got) = run(
            &UnpackParser,
            &[],
            r#"{"lvl":"info","num":5,"_entry":"real"}"#,
        );
        assert_eq!(line, "real");
        assert_eq!(got, labels(&[("lvl", "info")]));
        let (line, got) = run(&UnpackParser, &[], r#"{"lvl":"info"}"#);
        assert_eq!((line.as_str(), got), (r#"{"lvl":"info"}"#, Labels::empty()));
    }
}
