//! Sprig's generic template functions (`sprig.TxtFuncMap()`, v3.2), as Go
//! programs that register the whole map offer them (Promtail's `template`
//! and `replace` stages), and Promtail's own additions on top ([`Promtail`]).
//!
//! Covered: strings, string lists and `split`, integer and float math,
//! defaults and `ternary`, JSON, base64/base32, sha1/sha256/adler32, the
//! regex functions (with their `must` forms), lists, dicts, dates, paths,
//! type names. Left out, so a template using them fails to parse with Go's
//! "function not defined": randomness (`rand*`, `uuidv4`, `shuffle`),
//! the environment and network (`env`, `expandenv`, `getHostByName`),
//! semver, URLs, and the key/certificate/cipher functions.

use std::fmt::Write as _;

use regex::Regex;
use sha2::Digest as _;

use super::{
    FnError, Functions, MAX_OUTPUT, Value, arity, float_arg as float, int_arg as int, str_arg as s,
    strict_int_arg as strict_int,
};

const SPRIG: &[&str] = &[
    "hello",
    "now",
    "date",
    "dateInZone",
    "date_in_zone",
    "htmlDate",
    "htmlDateInZone",
    "unixEpoch",
    "toDate",
    "mustToDate",
    "duration",
    "ago",
    "abbrev",
    "trunc",
    "trim",
    "upper",
    "lower",
    "title",
    "untitle",
    "substr",
    "repeat",
    "trimall",
    "trimAll",
    "trimSuffix",
    "trimPrefix",
    "nospace",
    "initials",
    "swapcase",
    "snakecase",
    "camelcase",
    "kebabcase",
    "wrap",
    "wrapWith",
    "contains",
    "hasPrefix",
    "hasSuffix",
    "quote",
    "squote",
    "cat",
    "indent",
    "nindent",
    "replace",
    "plural",
    "sha1sum",
    "sha256sum",
    "adler32sum",
    "toString",
    "atoi",
    "int64",
    "int",
    "float64",
    "split",
    "splitList",
    "splitn",
    "toStrings",
    "until",
    "untilStep",
    "seq",
    "add1",
    "add",
    "sub",
    "div",
    "mod",
    "mul",
    "biggest",
    "max",
    "min",
    "add1f",
    "addf",
    "subf",
    "divf",
    "mulf",
    "maxf",
    "minf",
    "ceil",
    "floor",
    "round",
    "join",
    "sortAlpha",
    "default",
    "empty",
    "coalesce",
    "all",
    "any",
    "compact",
    "mustCompact",
    "fromJson",
    "mustFromJson",
    "toJson",
    "mustToJson",
    "toPrettyJson",
    "mustToPrettyJson",
    "toRawJson",
    "mustToRawJson",
    "ternary",
    "deepCopy",
    "mustDeepCopy",
    "typeOf",
    "kindOf",
    "kindIs",
    "typeIs",
    "deepEqual",
    "base",
    "dir",
    "ext",
    "clean",
    "isAbs",
    "osBase",
    "osDir",
    "osExt",
    "osClean",
    "osIsAbs",
    "b64enc",
    "b64dec",
    "b32enc",
    "b32dec",
    "tuple",
    "list",
    "dict",
    "get",
    "set",
    "unset",
    "hasKey",
    "keys",
    "values",
    "pluck",
    "pick",
    "omit",
    "append",
    "mustAppend",
    "push",
    "mustPush",
    "prepend",
    "mustPrepend",
    "first",
    "mustFirst",
    "rest",
    "mustRest",
    "last",
    "mustLast",
    "initial",
    "mustInitial",
    "reverse",
    "mustReverse",
    "uniq",
    "mustUniq",
    "without",
    "mustWithout",
    "has",
    "mustHas",
    "slice",
    "mustSlice",
    "concat",
    "fail",
    "regexMatch",
    "mustRegexMatch",
    "regexFindAll",
    "mustRegexFindAll",
    "regexFind",
    "mustRegexFind",
    "regexReplaceAll",
    "mustRegexReplaceAll",
    "regexReplaceAllLiteral",
    "mustRegexReplaceAllLiteral",
    "regexSplit",
    "mustRegexSplit",
    "regexQuoteMeta",
];

/// Sprig's generic functions.
#[derive(Debug, Clone, Copy, Default)]
pub struct Sprig;

impl Functions for Sprig {
    fn has(&self, name: &str) -> bool {
        SPRIG.contains(&name)
    }

    fn call(&self, name: &str, args: Vec<Value>) -> Result<Value, FnError> {
        call(name, args)
    }
}

/// Go's `strings` functions under their Go names, which Promtail and Loki
/// both register (Loki calls them its deprecated functions); [`Promtail`]
/// implements them.
pub const GO_STRINGS: &[&str] = &[
    "ToLower",
    "ToUpper",
    "Replace",
    "Trim",
    "TrimLeft",
    "TrimRight",
    "TrimPrefix",
    "TrimSuffix",
    "TrimSpace",
];

/// Promtail's other additions, which shadow sprig's functions of the same
/// name.
const PROMTAIL: &[&str] = &[
    "Hash",
    "Sha2Hash",
    "regexReplaceAll",
    "regexReplaceAllLiteral",
];

/// Promtail's function set for its `template` and `replace` stages: all of
/// sprig's generic functions and Promtail's additions (Go's `strings`
/// functions under their Go names, `Hash` and `Sha2Hash`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Promtail;

impl Functions for Promtail {
    fn has(&self, name: &str) -> bool {
        GO_STRINGS.contains(&name) || PROMTAIL.contains(&name) || SPRIG.contains(&name)
    }

    fn call(&self, name: &str, args: Vec<Value>) -> Result<Value, FnError> {
        let a = &args;
        let two = |f: &dyn Fn(&str, &str) -> String| -> Result<Value, FnError> {
            arity(name, a, 2)?;
            Ok(Value::Str(f(&s(a, 0), &s(a, 1))))
        };
        Ok(match name {
            "ToLower" => {
                arity(name, a, 1)?;
                Value::Str(s(a, 0).to_lowercase())
            }
            "ToUpper" => {
                arity(name, a, 1)?;
                Value::Str(s(a, 0).to_uppercase())
            }
            "TrimSpace" => {
                arity(name, a, 1)?;
                Value::Str(s(a, 0).trim().to_owned())
            }
            "Replace" => {
                arity(name, a, 4)?;
                let (text, old, new, n) = (s(a, 0), s(a, 1), s(a, 2), int(a, 3));
                Value::Str(if n < 0 {
                    text.replace(&old, &new)
                } else {
                    text.replacen(&old, &new, usize::try_from(n).unwrap_or(0))
                })
            }
            "Trim" => two(&|t, cut| t.trim_matches(|c| cut.contains(c)).to_owned())?,
            "TrimLeft" => two(&|t, cut| t.trim_start_matches(|c| cut.contains(c)).to_owned())?,
            "TrimRight" => two(&|t, cut| t.trim_end_matches(|c| cut.contains(c)).to_owned())?,
            "TrimPrefix" => two(&|t, p| t.strip_prefix(p).unwrap_or(t).to_owned())?,
            "TrimSuffix" => two(&|t, p| t.strip_suffix(p).unwrap_or(t).to_owned())?,
            "Hash" => two(&|salt, input| {
                hex(&sha3::Sha3_256::digest(format!("{salt}{input}").as_bytes()))
            })?,
            "Sha2Hash" => {
                two(&|salt, input| hex(&sha2::Sha256::digest(format!("{salt}{input}").as_bytes())))?
            }
            // Promtail's versions panic (an execution error) on a bad
            // regex; sprig's do the same through MustCompile.
            _ => call(name, args)?,
        })
    }
}

fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

fn regex(pattern: &str) -> Result<Regex, FnError> {
    Regex::new(&crate::regexp::translate(pattern))
        .map_err(|e| FnError::Call(format!("error parsing regexp: {e}")))
}

/// The list in argument `i` (a non-list is an error, as sprig's `must` forms
/// report and its plain forms panic).
fn list_arg(name: &str, args: &[Value], i: usize) -> Result<Vec<Value>, FnError> {
    match args.get(i) {
        Some(Value::List(l)) => Ok(l.clone()),
        Some(Value::Nil) | None => Ok(Vec::new()),
        Some(other) => Err(FnError::Call(format!(
            "Cannot find {name} on type {}",
            other.type_name()
        ))),
    }
}

fn map_arg(args: &[Value], i: usize) -> Vec<(String, Value)> {
    match args.get(i) {
        Some(Value::Map(pairs, _)) => pairs.clone(),
        _ => Vec::new(),
    }
}

fn dict(mut pairs: Vec<(String, Value)>) -> Value {
    pairs.sort_by(|a, b| a.0.cmp(&b.0));
    pairs.dedup_by(|later, earlier| {
        if later.0 == earlier.0 {
            std::mem::swap(later, earlier);
            true
        } else {
            false
        }
    });
    Value::Map(pairs, false)
}

fn checked(out: String) -> Result<Value, FnError> {
    if out.len() > MAX_OUTPUT {
        return Err(FnError::Call("output too large".into()));
    }
    Ok(Value::Str(out))
}

/// Go's `strings.Title`: the first letter of each word upper-cased.
fn title(x: &str) -> String {
    let mut out = String::with_capacity(x.len());
    let mut start = true;
    for c in x.chars() {
        if start && c.is_alphabetic() {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        start = is_title_separator(c);
    }
    out
}

/// Go's `strings.Title` word separators: ASCII other than letters, digits
/// and `_` (so `'` separates: `it's` → `It'S`, as in Go), and white space;
/// other non-ASCII characters join words.
fn is_title_separator(c: char) -> bool {
    if c.is_ascii() {
        !(c.is_ascii_alphanumeric() || c == '_')
    } else if c.is_alphanumeric() {
        false
    } else {
        c.is_whitespace()
    }
}

/// Words of an identifier for the case functions: split at non-alphanumerics
/// and before an upper-case letter that follows a lower-case one or starts
/// a capitalised word after an acronym (`HTTPServer` → `HTTP`, `Server`).
fn words(x: &str) -> Vec<String> {
    let chars: Vec<char> = x.chars().collect();
    let mut out = Vec::new();
    let mut cur = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_alphanumeric() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            continue;
        }
        let prev = i.checked_sub(1).and_then(|j| chars.get(j)).copied();
        let next = chars.get(i + 1).copied();
        let boundary = c.is_uppercase()
            && (prev.is_some_and(|p| p.is_lowercase() || p.is_ascii_digit())
                || (prev.is_some_and(char::is_uppercase) && next.is_some_and(char::is_lowercase)));
        if boundary && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        cur.push(c);
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn json_text(v: &Value, html_escape: bool, out: &mut String) {
    match v {
        Value::Nil => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => {
            let _ = write!(out, "{i}");
        }
        // NaN and the infinities, which Go's encoder refuses, are written
        // as Go's strconv prints them (a known gap: sprig's `toJson` gives
        // an empty string there).
        Value::Float(f) => match crate::json::format_float(*f) {
            Some(text) => out.push_str(&text),
            None => out.push_str(&crate::strconv::format_float(*f, 'e', -1)),
        },
        Value::Str(text) => crate::json::write_string(out, text, html_escape),
        Value::Time(ns) => crate::json::write_string(
            out,
            &crate::time::format(*ns, crate::time::RFC3339_NANO),
            html_escape,
        ),
        Value::List(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json_text(item, html_escape, out);
            }
            out.push(']');
        }
        Value::Map(pairs, _) => {
            out.push('{');
            for (i, (k, item)) in pairs.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                crate::json::write_string(out, k, html_escape);
                out.push(':');
                json_text(item, html_escape, out);
            }
            out.push('}');
        }
    }
}

/// Go's `json.MarshalIndent(v, "", "  ")`.
fn pretty_json(v: &Value, depth: usize, out: &mut String) {
    let pad = |out: &mut String, d: usize| {
        out.push('\n');
        for _ in 0..d {
            out.push_str("  ");
        }
    };
    match v {
        Value::List(items) if !items.is_empty() => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                pad(out, depth + 1);
                pretty_json(item, depth + 1, out);
            }
            pad(out, depth);
            out.push(']');
        }
        Value::Map(pairs, _) if !pairs.is_empty() => {
            out.push('{');
            for (i, (k, item)) in pairs.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                pad(out, depth + 1);
                crate::json::write_string(out, k, true);
                out.push_str(": ");
                pretty_json(item, depth + 1, out);
            }
            pad(out, depth);
            out.push('}');
        }
        other => json_text(other, true, out),
    }
}

fn from_json(v: serde_json::Value) -> Value {
    match v {
        serde_json::Value::Null => Value::Nil,
        serde_json::Value::Bool(b) => Value::Bool(b),
        // Go decodes every JSON number into a float64.
        serde_json::Value::Number(n) => Value::Float(n.as_f64().unwrap_or(0.0)),
        serde_json::Value::String(s) => Value::Str(s),
        serde_json::Value::Array(items) => Value::List(items.into_iter().map(from_json).collect()),
        serde_json::Value::Object(map) => {
            dict(map.into_iter().map(|(k, v)| (k, from_json(v))).collect())
        }
    }
}

/// Go's `base64.StdEncoding` as sprig's `b64enc`/`b64dec` use it: padded
/// output. Decoding is lenient about padding and trailing bits, as this port
/// always was (Go requires the padding; a known gap, see `b64dec`).
const BASE64: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    base64::engine::GeneralPurposeConfig::new()
        .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);
const B32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// Standard padded encoding with an alphabet of 2^bits symbols (base32:
/// no crate for it is in the dependency tree).
fn encode(bytes: &[u8], alphabet: &[u8], bits: u32, group: usize) -> String {
    let mut out = String::new();
    let (mut buf, mut n) = (0u64, 0u32);
    for &b in bytes {
        buf = (buf << 8) | u64::from(b);
        n += 8;
        while n >= bits {
            n -= bits;
            out.push(char::from(
                alphabet[((buf >> n) & ((1 << bits) - 1)) as usize],
            ));
        }
    }
    if n > 0 {
        out.push(char::from(
            alphabet[((buf << (bits - n)) & ((1 << bits) - 1)) as usize],
        ));
    }
    while out.len() % group != 0 {
        out.push('=');
    }
    out
}

fn decode(text: &str, alphabet: &[u8], bits: u32, name: &str) -> Result<Vec<u8>, FnError> {
    let mut out = Vec::new();
    let (mut buf, mut n) = (0u64, 0u32);
    for c in text.trim_end_matches('=').bytes() {
        let v = alphabet
            .iter()
            .position(|&x| x == c)
            .ok_or_else(|| FnError::Call(format!("illegal {name} data")))?;
        buf = (buf << bits) | v as u64;
        n += bits;
        if n >= 8 {
            n -= 8;
            out.push(((buf >> n) & 0xff) as u8);
        }
    }
    Ok(out)
}

fn adler32(bytes: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for &x in bytes {
        a = (a + u32::from(x)) % 65_521;
        b = (b + a) % 65_521;
    }
    (b << 16) | a
}

/// A time argument as sprig's date functions take them: a time, or Unix
/// seconds. Public for function sets that add date functions of their own
/// (Loki's `unixEpochMillis`), so that they read times the same way.
pub fn time_arg(v: Option<&Value>) -> Result<i64, FnError> {
    match v {
        Some(Value::Time(ns)) => Ok(*ns),
        Some(Value::Int(secs)) => Ok(secs.saturating_mul(1_000_000_000)),
        Some(other) => Err(FnError::Call(format!(
            "wrong type for value; expected time.Time; got {}",
            other.type_name()
        ))),
        None => Err(FnError::Call("missing time argument".into())),
    }
}

fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

/// Go's `path` functions, on slash-separated paths.
fn path_fn(name: &str, p: &str) -> Value {
    let clean = clean_path(p);
    match name {
        "base" | "osBase" => {
            let t = p.trim_end_matches('/');
            Value::Str(if p.is_empty() {
                ".".into()
            } else if t.is_empty() {
                "/".into()
            } else {
                t.rsplit('/').next().unwrap_or(t).to_owned()
            })
        }
        "dir" | "osDir" => Value::Str(match p.rfind('/') {
            Some(i) => clean_path(&p[..=i]),
            None => ".".into(),
        }),
        "ext" | "osExt" => {
            let last = p.rsplit('/').next().unwrap_or(p);
            Value::Str(
                last.rfind('.')
                    .map_or(String::new(), |i| last[i..].to_owned()),
            )
        }
        "isAbs" | "osIsAbs" => Value::Bool(p.starts_with('/')),
        _ => Value::Str(clean),
    }
}

/// Go's `path.Clean`.
fn clean_path(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let rooted = p.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for seg in p.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|l| *l != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            s => parts.push(s),
        }
    }
    let body = parts.join("/");
    match (rooted, body.is_empty()) {
        (true, _) => format!("/{body}"),
        (false, true) => ".".into(),
        (false, false) => body,
    }
}

/// Word wrap at `width`, as goutils' `WrapCustom` without breaking words.
fn wrap(text: &str, width: usize, sep: &str) -> String {
    let width = width.max(1);
    let mut out = String::new();
    for (n, line) in text.split('\n').enumerate() {
        if n > 0 {
            out.push('\n');
        }
        let mut col = 0;
        for (i, word) in line.split(' ').filter(|w| !w.is_empty()).enumerate() {
            let len = word.chars().count();
            if i > 0 {
                if col + 1 + len > width {
                    out.push_str(sep);
                    col = 0;
                } else {
                    out.push(' ');
                    col += 1;
                }
            }
            out.push_str(word);
            col += len;
        }
    }
    out
}

/// The functions whose Go signature has a fixed number of parameters
/// (variadic ones, and those that check it themselves, are not listed): Go
/// refuses another count with "wrong number of args".
const FIXED_ARITY: &[(&str, usize)] = &[
    ("date", 2),
    ("dateInZone", 3),
    ("date_in_zone", 3),
    ("trunc", 2),
    ("substr", 3),
    ("repeat", 2),
    ("trimall", 2),
    ("trimAll", 2),
    ("trimPrefix", 2),
    ("trimSuffix", 2),
    ("contains", 2),
    ("hasPrefix", 2),
    ("hasSuffix", 2),
    ("indent", 2),
    ("nindent", 2),
    ("replace", 3),
    ("sub", 2),
    ("div", 2),
    ("mod", 2),
    ("fromJson", 1),
    ("mustFromJson", 1),
    ("b64dec", 1),
];

/// Calls a sprig function (arguments evaluated, the piped value last).
pub(super) fn call(name: &str, args: Vec<Value>) -> Result<Value, FnError> {
    let a = &args;
    if let Some(&(_, n)) = FIXED_ARITY.iter().find(|(f, _)| *f == name) {
        arity(name, a, n)?;
    }
    let one = |f: &dyn Fn(&str) -> String| -> Result<Value, FnError> {
        arity(name, a, 1)?;
        checked(f(&s(a, 0)))
    };
    let name = name.strip_prefix("must").map_or(name.to_owned(), |rest| {
        let mut c = rest.chars();
        c.next()
            .map(|f| f.to_lowercase().chain(c).collect())
            .unwrap_or_default()
    });
    Ok(match name.as_str() {
        "hello" => Value::Str("Hello!".into()),
        "now" => Value::Time(now_ns()),
        "date" | "dateInZone" | "date_in_zone" => {
            let t = time_arg(a.get(1))?;
            Value::Str(crate::time::format(t, &s(a, 0)))
        }
        "htmlDate" | "htmlDateInZone" => {
            Value::Str(crate::time::format(time_arg(a.first())?, "2006-01-02"))
        }
        "unixEpoch" => Value::Str(time_arg(a.first())?.div_euclid(1_000_000_000).to_string()),
        "toDate" => {
            arity(&name, a, 2)?;
            Value::Time(
                crate::time::parse(&s(a, 0), &s(a, 1)).map_err(|e| FnError::Call(e.to_string()))?,
            )
        }
        "duration" => {
            let secs = int(a, 0);
            Value::Str(crate::duration::format(secs.saturating_mul(1_000_000_000)))
        }
        "ago" => {
            let since = now_ns().saturating_sub(time_arg(a.first())?);
            Value::Str(crate::duration::format(
                since / 1_000_000_000 * 1_000_000_000,
            ))
        }
        "abbrev" => {
            let (width, text) = (int(a, 0), s(a, 1));
            let w = usize::try_from(width).unwrap_or(0);
            Value::Str(if width < 4 || text.chars().count() <= w {
                text
            } else {
                format!("{}...", text.chars().take(w - 3).collect::<String>())
            })
        }
        // Go declares `int` parameters for trunc, substr, repeat, indent
        // and round's places: other types are an argument error.
        "trunc" => {
            let (c, text) = (strict_int(a, 0)?, s(a, 1));
            let len = i64::try_from(text.len()).unwrap_or(i64::MAX);
            Value::Str(if c < 0 && len + c > 0 {
                text.get(usize::try_from(len + c).unwrap_or(0)..)
                    .unwrap_or("")
                    .to_owned()
            } else if c >= 0 && len > c {
                text.get(..usize::try_from(c).unwrap_or(0))
                    .unwrap_or("")
                    .to_owned()
            } else {
                text
            })
        }
        "trim" => one(&|x| x.trim().to_owned())?,
        "upper" => one(&|x| x.to_uppercase())?,
        "lower" => one(&|x| x.to_lowercase())?,
        "title" => one(&title)?,
        "untitle" => one(&|x| {
            let mut out = String::new();
            let mut start = true;
            for c in x.chars() {
                if start {
                    out.extend(c.to_lowercase());
                } else {
                    out.push(c);
                }
                start = c.is_whitespace();
            }
            out
        })?,
        "substr" => {
            let (start, end, text) = (strict_int(a, 0)?, strict_int(a, 1)?, s(a, 2));
            let len = text.len();
            let to = |i: i64| usize::try_from(i).unwrap_or(0).min(len);
            Value::Str(if start < 0 {
                text.get(..to(end)).unwrap_or("").to_owned()
            } else if end < 0 || to(end) >= len {
                text.get(to(start)..).unwrap_or("").to_owned()
            } else {
                text.get(to(start)..to(end)).unwrap_or("").to_owned()
            })
        }
        "repeat" => {
            let (n, text) = (usize::try_from(strict_int(a, 0)?).unwrap_or(0), s(a, 1));
            if n.saturating_mul(text.len()) > MAX_OUTPUT {
                return Err(FnError::Call("output too large".into()));
            }
            Value::Str(text.repeat(n))
        }
        "trimall" | "trimAll" => {
            let cut = s(a, 0);
            Value::Str(s(a, 1).trim_matches(|c| cut.contains(c)).to_owned())
        }
        "trimPrefix" => {
            let (p, text) = (s(a, 0), s(a, 1));
            Value::Str(text.strip_prefix(p.as_str()).unwrap_or(&text).to_owned())
        }
        "trimSuffix" => {
            let (p, text) = (s(a, 0), s(a, 1));
            Value::Str(text.strip_suffix(p.as_str()).unwrap_or(&text).to_owned())
        }
        "nospace" => one(&|x| x.chars().filter(|c| !c.is_whitespace()).collect())?,
        "initials" => one(&|x| {
            x.split_whitespace()
                .filter_map(|w| w.chars().next())
                .collect()
        })?,
        "swapcase" => one(&|x| {
            x.chars()
                .flat_map(|c| {
                    if c.is_uppercase() {
                        c.to_lowercase().collect::<Vec<_>>()
                    } else {
                        c.to_uppercase().collect()
                    }
                })
                .collect()
        })?,
        "snakecase" | "kebabcase" => {
            let sep = if name == "snakecase" { "_" } else { "-" };
            one(&|x| {
                words(x)
                    .iter()
                    .map(|w| w.to_lowercase())
                    .collect::<Vec<_>>()
                    .join(sep)
            })?
        }
        "camelcase" => one(&|x| {
            x.split('_')
                .map(|w| {
                    let mut c = w.chars();
                    c.next()
                        .map(|f| f.to_uppercase().chain(c).collect::<String>())
                        .unwrap_or_default()
                })
                .collect()
        })?,
        "wrap" => Value::Str(wrap(
            &s(a, 1),
            usize::try_from(int(a, 0)).unwrap_or(0),
            "\n",
        )),
        "wrapWith" => Value::Str(wrap(
            &s(a, 2),
            usize::try_from(int(a, 0)).unwrap_or(0),
            &s(a, 1),
        )),
        "contains" => Value::Bool(s(a, 1).contains(&s(a, 0))),
        "hasPrefix" => Value::Bool(s(a, 1).starts_with(&s(a, 0))),
        "hasSuffix" => Value::Bool(s(a, 1).ends_with(&s(a, 0))),
        "quote" => Value::Str(
            a.iter()
                .filter(|v| **v != Value::Nil)
                .map(|v| crate::strconv::quote(&v.as_string()))
                .collect::<Vec<_>>()
                .join(" "),
        ),
        "squote" => Value::Str(
            a.iter()
                .filter(|v| **v != Value::Nil)
                .map(|v| format!("'{}'", v.as_string()))
                .collect::<Vec<_>>()
                .join(" "),
        ),
        "cat" => Value::Str(
            a.iter()
                .filter(|v| **v != Value::Nil)
                .map(Value::as_string)
                .collect::<Vec<_>>()
                .join(" "),
        ),
        "indent" | "nindent" => {
            let width = usize::try_from(strict_int(a, 0)?).unwrap_or(0);
            let text = s(a, 1);
            // Checked before building: the padding repeats on every line.
            let lines = text.matches('\n').count() + 1;
            if width.saturating_mul(lines).saturating_add(text.len()) > MAX_OUTPUT {
                return Err(FnError::Call("output too large".into()));
            }
            let pad = " ".repeat(width);
            let body = format!("{pad}{}", text.replace('\n', &format!("\n{pad}")));
            checked(if name == "nindent" {
                format!("\n{body}")
            } else {
                body
            })?
        }
        "replace" => Value::Str(s(a, 2).replace(&s(a, 0), &s(a, 1))),
        "plural" => Value::Str(if int(a, 2) == 1 { s(a, 0) } else { s(a, 1) }),
        "sha1sum" => one(&|x| hex(&sha1::Sha1::digest(x.as_bytes())))?,
        "sha256sum" => one(&|x| hex(&sha2::Sha256::digest(x.as_bytes())))?,
        "adler32sum" => one(&|x| adler32(x.as_bytes()).to_string())?,
        "toString" => Value::Str(s(a, 0)),
        "atoi" => Value::Int(s(a, 0).parse().unwrap_or(0)),
        "int" | "int64" => Value::Int(int(a, 0)),
        "float64" => Value::Float(float(a, 0)),
        "split" | "splitn" => {
            let (sep, text) = if name == "split" {
                (s(a, 0), s(a, 1))
            } else {
                (s(a, 0), s(a, 2))
            };
            let parts: Vec<String> = if name == "splitn" {
                text.splitn(usize::try_from(int(a, 1)).unwrap_or(0), sep.as_str())
                    .map(str::to_owned)
                    .collect()
            } else {
                text.split(sep.as_str()).map(str::to_owned).collect()
            };
            dict(
                parts
                    .into_iter()
                    .enumerate()
                    .map(|(i, p)| (format!("_{i}"), Value::Str(p)))
                    .collect(),
            )
        }
        "splitList" => Value::List(
            s(a, 1)
                .split(s(a, 0).as_str())
                .map(|p| Value::Str(p.to_owned()))
                .collect(),
        ),
        "toStrings" => Value::List(
            list_arg(&name, a, 0)?
                .iter()
                .map(|v| Value::Str(v.as_string()))
                .collect(),
        ),
        "until" | "untilStep" | "seq" => {
            let (start, stop, step) = match (name.as_str(), a.len()) {
                ("until", _) => (0, int(a, 0), 1),
                ("untilStep", _) => (int(a, 0), int(a, 1), int(a, 2)),
                (_, 1) => (1, int(a, 0), 1),
                (_, 2) => (int(a, 0), int(a, 1), 1),
                _ => (int(a, 0), int(a, 2), int(a, 1)),
            };
            let step = if step == 0 { 1 } else { step };
            let inclusive = name == "seq";
            let mut out = Vec::new();
            let mut i = start;
            while (step > 0 && (i < stop || (inclusive && i == stop)))
                || (step < 0 && (i > stop || (inclusive && i == stop)))
            {
                out.push(Value::Int(i));
                if out.len() > 100_000 {
                    return Err(FnError::Call("sequence too long".into()));
                }
                i += step;
            }
            if name == "seq" {
                Value::Str(
                    out.iter()
                        .map(Value::as_string)
                        .collect::<Vec<_>>()
                        .join(" "),
                )
            } else {
                Value::List(out)
            }
        }
        "add1" => Value::Int(int(a, 0).wrapping_add(1)),
        "add" => Value::Int(a.iter().fold(0i64, |acc, v| acc.wrapping_add(v.as_int()))),
        "mul" => Value::Int(a.iter().fold(1i64, |acc, v| acc.wrapping_mul(v.as_int()))),
        "sub" => Value::Int(int(a, 0).wrapping_sub(int(a, 1))),
        "div" | "mod" => {
            let (x, y) = (int(a, 0), int(a, 1));
            if y == 0 {
                return Err(FnError::Call(
                    "runtime error: integer divide by zero".into(),
                ));
            }
            Value::Int(if name == "div" {
                x.wrapping_div(y)
            } else {
                x.wrapping_rem(y)
            })
        }
        "max" | "biggest" => Value::Int(a.iter().map(Value::as_int).max().unwrap_or(0)),
        "min" => Value::Int(a.iter().map(Value::as_int).min().unwrap_or(0)),
        "add1f" => Value::Float(float(a, 0) + 1.0),
        "addf" => Value::Float(a.iter().map(Value::as_float).sum()),
        "mulf" => Value::Float(a.iter().map(Value::as_float).product()),
        "subf" => Value::Float(
            a.iter()
                .skip(1)
                .fold(float(a, 0), |acc, v| acc - v.as_float()),
        ),
        "divf" => Value::Float(
            a.iter()
                .skip(1)
                .fold(float(a, 0), |acc, v| acc / v.as_float()),
        ),
        "maxf" => Value::Float(
            a.iter()
                .map(Value::as_float)
                .fold(f64::NEG_INFINITY, f64::max),
        ),
        "minf" => Value::Float(a.iter().map(Value::as_float).fold(f64::INFINITY, f64::min)),
        "ceil" => Value::Float(float(a, 0).ceil()),
        "floor" => Value::Float(float(a, 0).floor()),
        "round" => {
            let places = strict_int(a, 1)?.clamp(-400, 400);
            let p = 10f64.powi(i32::try_from(places).unwrap_or(0));
            let half = if a.len() > 2 { float(a, 2) } else { 0.5 };
            let x = float(a, 0) * p;
            let r = if x.fract().abs() >= half {
                x.trunc() + x.signum()
            } else {
                x.trunc()
            };
            Value::Float(r / p)
        }
        "join" => {
            let sep = s(a, 0);
            let items = match a.get(1) {
                Some(Value::List(l)) => l.iter().map(Value::as_string).collect::<Vec<_>>(),
                Some(other) => vec![other.as_string()],
                None => Vec::new(),
            };
            Value::Str(items.join(&sep))
        }
        "sortAlpha" => {
            let mut items: Vec<String> = list_arg(&name, a, 0)?
                .iter()
                .map(Value::as_string)
                .collect();
            items.sort();
            Value::List(items.into_iter().map(Value::Str).collect())
        }
        "default" => match a.get(1) {
            Some(v) if v.truthy() => v.clone(),
            _ => a.first().cloned().unwrap_or(Value::Nil),
        },
        "empty" => Value::Bool(!a.first().is_some_and(Value::truthy)),
        "coalesce" => a.iter().find(|v| v.truthy()).cloned().unwrap_or(Value::Nil),
        "all" => Value::Bool(a.iter().all(Value::truthy)),
        "any" => Value::Bool(a.iter().any(Value::truthy)),
        "compact" => Value::List(
            list_arg(&name, a, 0)?
                .into_iter()
                .filter(Value::truthy)
                .collect(),
        ),
        "fromJson" => {
            let v: serde_json::Value =
                serde_json::from_str(&s(a, 0)).map_err(|e| FnError::Call(e.to_string()))?;
            from_json(v)
        }
        "toJson" | "toRawJson" => {
            let mut out = String::new();
            json_text(a.first().unwrap_or(&Value::Nil), name == "toJson", &mut out);
            checked(out)?
        }
        "toPrettyJson" => {
            let mut out = String::new();
            pretty_json(a.first().unwrap_or(&Value::Nil), 0, &mut out);
            checked(out)?
        }
        "ternary" => {
            if a.get(2).is_some_and(Value::truthy) {
                a.first().cloned().unwrap_or(Value::Nil)
            } else {
                a.get(1).cloned().unwrap_or(Value::Nil)
            }
        }
        "deepCopy" => a.first().cloned().unwrap_or(Value::Nil),
        "typeOf" | "kindOf" => Value::Str(a.first().map_or("<nil>", Value::type_name).to_owned()),
        "typeIs" | "kindIs" => Value::Bool(a.get(1).map_or("<nil>", Value::type_name) == s(a, 0)),
        "deepEqual" => Value::Bool(a.first() == a.get(1)),
        "base" | "dir" | "ext" | "clean" | "isAbs" | "osBase" | "osDir" | "osExt" | "osClean"
        | "osIsAbs" => path_fn(&name, &s(a, 0)),
        "b64enc" => one(&|x| base64::Engine::encode(&BASE64, x))?,
        "b64dec" => {
            let bytes = base64::Engine::decode(&BASE64, s(a, 0))
                .map_err(|_| FnError::Call("illegal base64 data".into()))?;
            Value::Str(String::from_utf8_lossy(&bytes).into_owned())
        }
        "b32enc" => one(&|x| encode(x.as_bytes(), B32, 5, 8))?,
        "b32dec" => {
            Value::Str(String::from_utf8_lossy(&decode(&s(a, 0), B32, 5, "base32")?).into_owned())
        }
        "tuple" | "list" => Value::List(args),
        "dict" => dict(
            a.chunks(2)
                .map(|p| {
                    (
                        p[0].as_string(),
                        p.get(1).cloned().unwrap_or(Value::Str(String::new())),
                    )
                })
                .collect(),
        ),
        "get" => {
            let key = s(a, 1);
            map_arg(a, 0)
                .into_iter()
                .find(|(k, _)| *k == key)
                .map_or(Value::Str(String::new()), |(_, v)| v)
        }
        "set" => {
            let mut pairs = map_arg(a, 0);
            pairs.push((s(a, 1), a.get(2).cloned().unwrap_or(Value::Nil)));
            dict(pairs)
        }
        "unset" => {
            let key = s(a, 1);
            dict(
                map_arg(a, 0)
                    .into_iter()
                    .filter(|(k, _)| *k != key)
                    .collect(),
            )
        }
        "hasKey" => {
            let key = s(a, 1);
            Value::Bool(map_arg(a, 0).iter().any(|(k, _)| *k == key))
        }
        "keys" => {
            let mut keys: Vec<Value> = (0..a.len())
                .flat_map(|i| map_arg(a, i))
                .map(|(k, _)| Value::Str(k))
                .collect();
            keys.dedup();
            Value::List(keys)
        }
        "values" => Value::List(map_arg(a, 0).into_iter().map(|(_, v)| v).collect()),
        "pluck" => {
            let key = s(a, 0);
            Value::List(
                (1..a.len())
                    .filter_map(|i| {
                        map_arg(a, i)
                            .into_iter()
                            .find(|(k, _)| *k == key)
                            .map(|(_, v)| v)
                    })
                    .collect(),
            )
        }
        "pick" | "omit" => {
            let names: Vec<String> = a.iter().skip(1).map(Value::as_string).collect();
            let keep = name == "pick";
            dict(
                map_arg(a, 0)
                    .into_iter()
                    .filter(|(k, _)| names.contains(k) == keep)
                    .collect(),
            )
        }
        "append" | "push" => {
            let mut l = list_arg(&name, a, 0)?;
            l.push(a.get(1).cloned().unwrap_or(Value::Nil));
            Value::List(l)
        }
        "prepend" => {
            let mut l = list_arg(&name, a, 0)?;
            l.insert(0, a.get(1).cloned().unwrap_or(Value::Nil));
            Value::List(l)
        }
        "first" => list_arg(&name, a, 0)?
            .into_iter()
            .next()
            .unwrap_or(Value::Nil),
        "last" => list_arg(&name, a, 0)?.pop().unwrap_or(Value::Nil),
        "rest" => Value::List(list_arg(&name, a, 0)?.into_iter().skip(1).collect()),
        "initial" => {
            let mut l = list_arg(&name, a, 0)?;
            l.pop();
            Value::List(l)
        }
        "reverse" => Value::List(list_arg(&name, a, 0)?.into_iter().rev().collect()),
        "uniq" => {
            let mut out: Vec<Value> = Vec::new();
            for v in list_arg(&name, a, 0)? {
                if !out.contains(&v) {
                    out.push(v);
                }
            }
            Value::List(out)
        }
        "without" => {
            let drop: Vec<Value> = a.iter().skip(1).cloned().collect();
            Value::List(
                list_arg(&name, a, 0)?
                    .into_iter()
                    .filter(|v| !drop.contains(v))
                    .collect(),
            )
        }
        "has" => Value::Bool(list_arg(&name, a, 1)?.contains(a.first().unwrap_or(&Value::Nil))),
        "slice" => {
            let l = list_arg(&name, a, 0)?;
            let from = usize::try_from(int(a, 1)).unwrap_or(0).min(l.len());
            let to = if a.len() > 2 {
                usize::try_from(int(a, 2)).unwrap_or(0).min(l.len())
            } else {
                l.len()
            };
            Value::List(l.get(from..to.max(from)).unwrap_or(&[]).to_vec())
        }
        "concat" => Value::List(
            (0..a.len())
                .map(|i| list_arg(&name, a, i))
                .collect::<Result<Vec<_>, _>>()?
                .into_iter()
                .flatten()
                .collect(),
        ),
        "fail" => return Err(FnError::Call(s(a, 0))),
        "regexMatch" => Value::Bool(regex(&s(a, 0))?.is_match(&s(a, 1))),
        "regexFind" => Value::Str(
            regex(&s(a, 0))?
                .find(&s(a, 1))
                .map_or("", |m| m.as_str())
                .to_owned(),
        ),
        "regexFindAll" => {
            let n = int(a, 2);
            let text = s(a, 1);
            let re = regex(&s(a, 0))?;
            let found = re
                .find_iter(&text)
                .map(|m| Value::Str(m.as_str().to_owned()));
            Value::List(if n < 0 {
                found.collect()
            } else {
                found.take(usize::try_from(n).unwrap_or(0)).collect()
            })
        }
        "regexReplaceAll" => Value::Str(
            regex(&s(a, 0))?
                .replace_all(&s(a, 1), s(a, 2).as_str())
                .into_owned(),
        ),
        "regexReplaceAllLiteral" => Value::Str(
            regex(&s(a, 0))?
                .replace_all(&s(a, 1), regex::NoExpand(&s(a, 2)))
                .into_owned(),
        ),
        "regexSplit" => {
            let n = int(a, 2);
            let text = s(a, 1);
            let re = regex(&s(a, 0))?;
            let parts: Vec<Value> = if n < 0 {
                re.split(&text).map(|p| Value::Str(p.to_owned())).collect()
            } else {
                re.splitn(&text, usize::try_from(n).unwrap_or(0))
                    .map(|p| Value::Str(p.to_owned()))
                    .collect()
            };
            Value::List(parts)
        }
        "regexQuoteMeta" => one(&|x| regex::escape(x))?,
        _ => return Err(FnError::Call(format!("function {name:?} not defined"))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::Template;

    fn render(text: &str, data: &[(&str, &str)]) -> String {
        let t = Template::parse("t", text, &Promtail).unwrap_or_else(|e| panic!("{text}: {e}"));
        let dot = Value::Map(
            data.iter()
                .map(|(k, v)| ((*k).to_owned(), Value::Str((*v).to_owned())))
                .collect(),
            false,
        );
        t.execute(&dot, &Promtail)
            .unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn promtail_additions() {
        assert_eq!(
            render(
                "{{ ToUpper .a }} {{ ToLower .b }}",
                &[("a", "x"), ("b", "Y")]
            ),
            "X y"
        );
        assert_eq!(
            render(r#"{{ Replace .a "o" "0" 1 }}"#, &[("a", "foo")]),
            "f0o"
        );
        assert_eq!(
            render(
                r#"{{ Trim .a "-" }}|{{ TrimLeft .a "-" }}|{{ TrimRight .a "-" }}"#,
                &[("a", "-x-")]
            ),
            "x|x-|-x"
        );
        assert_eq!(
            render(
                r#"{{ TrimPrefix .a "ab" }} {{ TrimSuffix .a "bc" }} [{{ TrimSpace " s " }}]"#,
                &[("a", "abc")]
            ),
            "c a [s]"
        );
        assert_eq!(
            render(r#"{{ Sha2Hash "salt" .a }}"#, &[("a", "x")]),
            render(r#"{{ sha256sum "saltx" }}"#, &[])
        );
        assert_eq!(
            render(r#"{{ Hash "" "" }}"#, &[]),
            "a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a"
        );
        assert_eq!(
            render(
                r#"{{ regexReplaceAll "(a+)" .a "<$1>" }}"#,
                &[("a", "baaab")]
            ),
            "b<aaa>b"
        );
        assert_eq!(
            render(
                r#"{{ regexReplaceAllLiteral "a+" .a "$1" }}"#,
                &[("a", "baab")]
            ),
            "b$1b"
        );
    }

    #[test]
    fn title_separates_words_as_go_does() {
        assert_eq!(
            render(r#"{{ title "it's foo_bar élan x-y" }}"#, &[]),
            "It'S Foo_bar Élan X-Y"
        );
    }

    #[test]
    fn go_signatures_are_checked() {
        for text in [
            r#"{{ contains "a" }}"#,
            r#"{{ replace "a" "b" }}"#,
            r#"{{ trunc "2" "abc" }}"#,
            r#"{{ repeat "2" "ab" }}"#,
            r#"{{ div 1 }}"#,
            r#"{{ b64dec "a" "b" }}"#,
        ] {
            let t = Template::parse("t", text, &Promtail).unwrap();
            assert!(t.execute(&Value::Nil, &Promtail).is_err(), "{text}");
        }
    }

    #[test]
    fn indent_refuses_huge_output_before_building_it() {
        let t = Template::parse("t", r#"{{ indent 100000000 "a\nb" }}"#, &Promtail).unwrap();
        assert!(t.execute(&Value::Nil, &Promtail).is_err());
    }

    #[test]
    fn missing_keys_print_no_value() {
        assert_eq!(render("{{ .missing }}", &[]), "<no value>");
    }

    #[test]
    fn sprig_strings() {
        assert_eq!(
            render(
                r#"{{ "hello world" | title }} {{ "Hello" | untitle }}"#,
                &[]
            ),
            "Hello World hello"
        );
        assert_eq!(
            render(
                r#"{{ trunc 3 "abcdef" }} {{ trunc -2 "abcdef" }} {{ substr 1 3 "abcdef" }}"#,
                &[]
            ),
            "abc ef bc"
        );
        assert_eq!(
            render(
                r#"{{ abbrev 5 "hello world" }} {{ nospace "a b c" }} {{ initials "ab cd" }}"#,
                &[]
            ),
            "he... abc ac"
        );
        assert_eq!(
            render(
                r#"{{ snakecase "HTTPServerName" }} {{ kebabcase "fooBar" }} {{ camelcase "foo_bar" }}"#,
                &[]
            ),
            "http_server_name foo-bar FooBar"
        );
        assert_eq!(
            render(
                r#"{{ quote "a" 1 }} {{ squote "b" }} {{ cat "x" "y" }}"#,
                &[]
            ),
            r#""a" "1" 'b' x y"#
        );
        assert_eq!(
            render(
                r#"{{ indent 2 "a\nb" }}|{{ replace "a" "b" "aa" }}|{{ plural "one" "many" 2 }}"#,
                &[]
            ),
            "  a\n  b|bb|many"
        );
        assert_eq!(
            render(
                r#"{{ swapcase "aB" }} {{ repeat 2 "ab" }} {{ trimAll "-" "--x--" }}"#,
                &[]
            ),
            "Ab abab x"
        );
        assert_eq!(render(r#"{{ wrap 5 "aa bb cc" }}"#, &[]), "aa bb\ncc");
    }

    #[test]
    fn sprig_lists_and_dicts() {
        assert_eq!(
            render(r#"{{ splitList "," "a,b" | join "-" }}"#, &[]),
            "a-b"
        );
        assert_eq!(render(r#"{{ (split "," "a,b")._1 }}"#, &[]), "b");
        assert_eq!(
            render(
                r#"{{ list 3 1 2 | sortAlpha }} {{ list 1 2 | first }} {{ list 1 2 | last }}"#,
                &[]
            ),
            "[1 2 3] 1 2"
        );
        assert_eq!(
            render(
                r#"{{ $d := dict "a" 1 "b" 2 }}{{ get $d "b" }} {{ hasKey $d "a" }} {{ keys $d }}"#,
                &[]
            ),
            "2 true [a b]"
        );
        assert_eq!(
            render(
                r#"{{ until 3 }} {{ list 1 1 2 | uniq }} {{ has 2 (list 1 2) }}"#,
                &[]
            ),
            "[0 1 2] [1 2] true"
        );
    }

    #[test]
    fn sprig_math_defaults_and_json() {
        assert_eq!(
            render(
                r#"{{ add 1 2 3 }} {{ sub 5 2 }} {{ div 7 2 }} {{ mod 7 2 }} {{ max 1 5 3 }} {{ add1 1 }}"#,
                &[]
            ),
            "6 3 3 1 5 2"
        );
        assert_eq!(
            render(
                r#"{{ addf 1.5 2 }} {{ round 3.14159 2 }} {{ floor 1.7 }} {{ atoi "42" }}"#,
                &[]
            ),
            "3.5 3.14 1 42"
        );
        assert_eq!(
            render(
                r#"{{ default "d" .x }} {{ empty "" }} {{ coalesce "" "b" }} {{ ternary "y" "n" true }}"#,
                &[]
            ),
            "d true b y"
        );
        assert_eq!(
            render(
                r#"{{ toJson (dict "a" "<b>" "n" 1) }} {{ toRawJson (list "<") }}"#,
                &[]
            ),
            r#"{"a":"\u003cb\u003e","n":1} ["<"]"#
        );
        assert_eq!(
            render(r#"{{ (fromJson "{\"a\":[1,2]}").a }}"#, &[]),
            "[1 2]"
        );
    }

    #[test]
    fn sprig_encodings_hashes_and_regexes() {
        assert_eq!(
            render(
                r#"{{ b64enc "hello" }} {{ b64dec "aGVsbG8=" }} {{ b32enc "hi" }} {{ b32dec "NBUQ====" }}"#,
                &[]
            ),
            "aGVsbG8= hello NBUQ==== hi"
        );
        assert_eq!(
            render(r#"{{ sha1sum "a" }}"#, &[]),
            "86f7e437faa5a7fce15d1ddcb9eaeaea377667b8"
        );
        assert_eq!(
            render(r#"{{ sha256sum "a" }}"#, &[]),
            "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"
        );
        assert_eq!(render(r#"{{ adler32sum "a" }}"#, &[]), "6422626");
        assert_eq!(
            render(
                r#"{{ regexMatch "^a" "abc" }} {{ regexFind "b+" "abbc" }} {{ regexFindAll "[0-9]" "a1b2" -1 }}"#,
                &[]
            ),
            "true bb [1 2]"
        );
        assert_eq!(
            render(
                r#"{{ regexSplit "," "a,b,c" 2 }} {{ regexQuoteMeta "a.b" }}"#,
                &[]
            ),
            r"[a b,c] a\.b"
        );
    }

    #[test]
    fn paths_and_dates() {
        assert_eq!(
            render(
                r#"{{ base "/a/b.txt" }} {{ dir "/a/b.txt" }} {{ ext "b.tar.gz" }} {{ clean "/a/../b/./c" }} {{ isAbs "x" }}"#,
                &[]
            ),
            "b.txt /a .gz /b/c false"
        );
        assert_eq!(
            render(r#"{{ date "2006-01-02" 0 }} {{ duration 90 }}"#, &[]),
            "1970-01-01 1m30s"
        );
    }

    #[test]
    fn left_out_functions_do_not_parse() {
        assert!(Template::parse("t", "{{ uuidv4 }}", &Promtail).is_err());
        assert!(Template::parse("t", "{{ env \"HOME\" }}", &Promtail).is_err());
    }
}
