//! Values of provisioning files as Grafana reads them: every scalar is read
//! as text, environment variables are interpolated into it, and only then
//! is it parsed as the setting's type (so `isDefault: $IS_DEFAULT` works).
//!
//! Interpolation follows Grafana: the text is split at `$$` (which stands
//! for a literal `$`), and each part gets `$__env{NAME}` and
//! `$__file{path}` expanded, then `$NAME` and `${NAME}` as Go's
//! `os.Expand` does (an unset variable is empty; a `$` before anything
//! that cannot start a name stays; `${}` and an unclosed `${` are eaten).
//!
//! The variables come from an [`Env`] installed for the duration of one
//! file's parse ([`with_env`]), so the conversion happens inside the YAML
//! deserializer and its errors carry the value's line and column.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};

/// Where `$NAME` is looked up: the process environment in the server, a
/// map in tests.
pub type Env = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// The process environment.
pub fn process_env() -> Env {
    Arc::new(|name| std::env::var(name).ok())
}

thread_local! {
    static CURRENT: RefCell<Option<Env>> = const { RefCell::new(None) };
}

/// Runs `f` (a parse) with `env` as the source of variables.
pub(crate) fn with_env<R>(env: &Env, f: impl FnOnce() -> R) -> R {
    let previous = CURRENT.with(|c| c.replace(Some(env.clone())));
    let result = f();
    CURRENT.with(|c| *c.borrow_mut() = previous);
    result
}

fn lookup(name: &str) -> Option<String> {
    CURRENT.with(|c| c.borrow().as_ref().and_then(|env| env(name)))
}

/// Why a value could not be interpolated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InterpolateError {
    /// `$__file{path}` naming a file that cannot be read.
    #[error("$__file{{{path}}}: {message}")]
    File { path: String, message: String },
    /// `$__vault{...}` or another provider Grafana has and vigil has not.
    #[error("${{__{0}}}: unknown variable provider (vigil knows $__env and $__file)")]
    Provider(String),
}

/// Interpolates `text` with the variables of `lookup`, as Grafana's
/// provisioning does.
pub fn interpolate(
    text: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<String, InterpolateError> {
    if !text.contains('$') {
        return Ok(text.to_owned());
    }
    let mut parts = Vec::new();
    for part in text.split("$$") {
        let part = expand_providers(part, lookup)?;
        parts.push(go_expand(&part, lookup));
    }
    Ok(parts.join("$"))
}

/// `$__env{NAME}` and `$__file{path}` (Grafana's "variable expanders").
fn expand_providers(
    text: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<String, InterpolateError> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("$__") {
        let after = &rest[start + 3..];
        let name_len = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(after.len());
        let (name, tail) = after.split_at(name_len);
        let Some(close) = tail.strip_prefix('{').and_then(|t| t.find('}')) else {
            out.push_str(&rest[..start + 3]);
            rest = after;
            continue;
        };
        let arg = &tail[1..1 + close];
        out.push_str(&rest[..start]);
        match name {
            "env" => out.push_str(&lookup(arg).unwrap_or_default()),
            "file" => {
                let content = std::fs::read_to_string(arg).map_err(|e| InterpolateError::File {
                    path: arg.to_owned(),
                    message: e.to_string(),
                })?;
                // Grafana trims the file's trailing newline (a secret written
                // by `echo` must not carry one).
                out.push_str(content.trim_end_matches(['\n', '\r']));
            }
            other => return Err(InterpolateError::Provider(other.to_owned())),
        }
        rest = &tail[1 + close + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Go's `os.Expand` over `text`.
fn go_expand(text: &str, lookup: &dyn Fn(&str) -> Option<String>) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut literal_from = 0;
    let mut j = 0;
    while j < bytes.len() {
        if bytes[j] == b'$' && j + 1 < bytes.len() {
            out.push_str(&text[literal_from..j]);
            let (name, width) = shell_name(&text[j + 1..]);
            match name {
                // Invalid syntax (`${}`, `${x`): Go drops what it read.
                None if width > 0 => {}
                // A `$` not followed by a name stays.
                None => out.push('$'),
                Some(name) => out.push_str(&lookup(name).unwrap_or_default()),
            }
            j += width + 1;
            literal_from = j;
        } else {
            j += 1;
        }
    }
    out.push_str(&text[literal_from..]);
    out
}

/// The variable name at the start of `s` (after a `$`) and how many bytes
/// it takes, as Go's `getShellName`.
fn shell_name(s: &str) -> (Option<&str>, usize) {
    let bytes = s.as_bytes();
    let special = |b: u8| b"*#$@!?-".contains(&b) || b.is_ascii_digit();
    if bytes[0] == b'{' {
        if bytes.len() > 2 && special(bytes[1]) && bytes[2] == b'}' {
            return (Some(&s[1..2]), 3);
        }
        return match s[1..].find('}') {
            Some(0) => (None, 2),
            Some(i) => (Some(&s[1..1 + i]), i + 2),
            None => (None, 1),
        };
    }
    if special(bytes[0]) {
        return (Some(&s[..1]), 1);
    }
    let len = bytes
        .iter()
        .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
        .count();
    if len == 0 {
        (None, 0)
    } else {
        (Some(&s[..len]), len)
    }
}

fn interpolate_here<E: de::Error>(text: &str) -> Result<String, E> {
    interpolate(text, &lookup).map_err(E::custom)
}

/// A scalar read as Go's yaml fills a string (numbers and booleans as
/// their text, `null` as empty), interpolated, then parsed by `parse`.
/// All of it happens inside the visitor, so that an error carries the
/// value's own line and column.
struct Interpolated<T> {
    expecting: &'static str,
    parse: fn(String) -> Result<T, String>,
    /// Mapping keys are taken as written.
    verbatim: bool,
}

impl<T> Interpolated<T> {
    fn finish<E: de::Error>(&self, raw: &str) -> Result<T, E> {
        let text = if self.verbatim {
            raw.to_owned()
        } else {
            interpolate_here(raw)?
        };
        (self.parse)(text).map_err(E::custom)
    }
}

impl<T> Visitor<'_> for Interpolated<T> {
    type Value = T;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.expecting)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        self.finish(v)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
        self.finish(&v.to_string())
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
        self.finish(&v.to_string())
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<T, E> {
        self.finish(&v.to_string())
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<T, E> {
        self.finish(&v.to_string())
    }
    fn visit_unit<E: de::Error>(self) -> Result<T, E> {
        self.finish("")
    }
    fn visit_none<E: de::Error>(self) -> Result<T, E> {
        self.finish("")
    }
}

/// A text setting (Grafana's `StringValue`), interpolated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Text(pub String);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(Interpolated {
            expecting: "a scalar value",
            parse: |text| Ok(Text(text)),
            verbatim: false,
        })
    }
}

/// A boolean setting (Grafana's `BoolValue`): interpolated text parsed as
/// Go's `strconv.ParseBool`; empty is false.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Flag(pub bool);

impl<'de> Deserialize<'de> for Flag {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(Interpolated {
            expecting: "a boolean",
            parse: |text| match text.as_str() {
                "" | "0" | "f" | "F" | "false" | "FALSE" | "False" => Ok(Flag(false)),
                "1" | "t" | "T" | "true" | "TRUE" | "True" => Ok(Flag(true)),
                _ => Err(format!("invalid boolean {text:?} (true or false)")),
            },
            verbatim: false,
        })
    }
}

/// An integer setting (Grafana's `Int64Value`): interpolated text parsed as
/// a decimal integer; empty is 0.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Int(pub i64);

impl<'de> Deserialize<'de> for Int {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(Interpolated {
            expecting: "an integer",
            parse: |text| {
                if text.is_empty() {
                    return Ok(Int(0));
                }
                text.parse()
                    .map(Int)
                    .map_err(|_| format!("invalid integer {text:?}"))
            },
            verbatim: false,
        })
    }
}

/// A mapping key as text (YAML allows `1: x`; JSON keys are strings).
struct KeyText(String);

impl<'de> Deserialize<'de> for KeyText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(Interpolated {
            expecting: "a key",
            parse: |text| Ok(KeyText(text)),
            verbatim: true,
        })
    }
}

/// A map of texts (Grafana's `StringMapValue`, used for `secureJsonData`),
/// each value interpolated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TextMap(pub BTreeMap<String, String>);

impl<'de> Deserialize<'de> for TextMap {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let map: Option<BTreeMap<String, Text>> = Option::deserialize(d)?;
        Ok(TextMap(
            map.unwrap_or_default()
                .into_iter()
                .map(|(k, v)| (k, v.0))
                .collect(),
        ))
    }
}

/// A free-form mapping (Grafana's `JSONValue`, used for `jsonData` and a
/// provider's `options`): every string in it, however deep, interpolated;
/// keys kept as written.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Json(pub serde_json::Map<String, serde_json::Value>);

impl<'de> Deserialize<'de> for Json {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match d.deserialize_any(JsonVisitor)? {
            serde_json::Value::Object(map) => Ok(Json(map)),
            serde_json::Value::Null => Ok(Json::default()),
            other => Err(de::Error::custom(format!(
                "expected a mapping, found {}",
                kind(&other)
            ))),
        }
    }
}

fn kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "a sequence",
        serde_json::Value::Object(_) => "a mapping",
    }
}

struct JsonVisitor;

/// One value inside a [`Json`].
struct JsonValue(serde_json::Value);

impl<'de> Deserialize<'de> for JsonValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(JsonVisitor).map(JsonValue)
    }
}

impl<'de> Visitor<'de> for JsonVisitor {
    type Value = serde_json::Value;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any value")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        interpolate_here(v).map(serde_json::Value::String)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(serde_json::Value::Null, Into::into))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(serde_json::Value::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(serde_json::Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(JsonVisitor)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::new();
        while let Some(JsonValue(v)) = seq.next_element()? {
            out.push(v);
        }
        Ok(serde_json::Value::Array(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = serde_json::Map::new();
        while let Some((KeyText(k), JsonValue(v))) = map.next_entry()? {
            out.insert(k, v);
        }
        Ok(serde_json::Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, expected: &str) {
        let env = |name: &str| match name {
            "HOST" => Some("db.local".to_owned()),
            "PORT" => Some("5432".to_owned()),
            "1" => Some("one".to_owned()),
            _ => None,
        };
        assert_eq!(interpolate(text, &env).unwrap(), expected, "{text:?}");
    }

    #[test]
    fn variables_are_expanded_as_grafana_does() {
        check("plain", "plain");
        check("$HOST", "db.local");
        check("${HOST}:${PORT}", "db.local:5432");
        check("http://$HOST:$PORT/x", "http://db.local:5432/x");
        check("$UNSET-x", "-x");
        check("$__env{HOST}", "db.local");
        check("a$$b", "a$b");
        check("$$HOST", "$HOST");
        check("pa$$$HOST", "pa$db.local");
        check("price $", "price $");
        check("$ alone", "$ alone");
        check("${}x", "x");
        // An unclosed `${` is dropped, the rest kept, as Go does.
        check("${HOST", "HOST");
        check("$1x", "onex");
        check("x$-y", "xy");
    }

    #[test]
    fn an_unknown_provider_is_an_error() {
        let err = interpolate("$__vault{a}", &|_| None).unwrap_err();
        assert_eq!(err, InterpolateError::Provider("vault".into()));
    }
}
