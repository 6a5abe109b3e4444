//! Go's lenient conversions as Promtail's stages apply them: the weak
//! decoding of config values (`mapstructure.WeakDecode`), and the reading
//! of extracted values as numbers (`getFloat`; `getString` is
//! [`super::value::get_string`]).

use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// A config value as `WeakDecode` turns it into a string: numbers in their
/// shortest form, booleans as `1`/`0`, null as absent.
pub(crate) fn opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let value = Option::<Value>::deserialize(d)?;
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(Value::Bool(b)) => Ok(Some(if b { "1" } else { "0" }.to_owned())),
        Some(Value::Number(n)) => Ok(Some(super::value::number_text(&n))),
        Some(other) => Err(serde::de::Error::custom(format!(
            "expected a string, got {}",
            kind(&other)
        ))),
    }
}

/// A config value as `WeakDecode` turns it into a float: numbers, numeric
/// strings (an empty string is 0) and booleans.
pub(crate) fn f64_value<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => Ok(0.0),
        Some(Value::Number(n)) => n
            .as_f64()
            .ok_or_else(|| serde::de::Error::custom("expected a number")),
        Some(Value::Bool(b)) => Ok(if b { 1.0 } else { 0.0 }),
        Some(Value::String(s)) if s.is_empty() => Ok(0.0),
        Some(Value::String(s)) => s
            .parse()
            .map_err(|_| serde::de::Error::custom(format!("cannot parse {s:?} as a number"))),
        Some(other) => Err(serde::de::Error::custom(format!(
            "expected a number, got {}",
            kind(&other)
        ))),
    }
}

/// A config value as `WeakDecode` turns it into an integer: as
/// [`f64_value`], truncated, which is what Go's conversion of a float does.
pub(crate) fn i64_value<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    // Integers stay exact; floats are truncated as Go's int(f) does.
    match Option::<Value>::deserialize(d)? {
        Some(Value::Number(n)) if n.is_i64() => Ok(n.as_i64().unwrap_or_default()),
        Some(Value::String(s)) if s.parse::<i64>().is_ok() => Ok(s.parse().unwrap_or_default()),
        other => {
            let f = f64_value(other.unwrap_or(Value::Null)).map_err(serde::de::Error::custom)?;
            Ok(f as i64)
        }
    }
}

/// An optional unsigned integer, weakly decoded as [`i64_value`]; absent
/// when the key is absent or null, an error when negative.
pub(crate) fn opt_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) if n.is_u64() => Ok(n.as_u64()),
        Some(v) => {
            let i = i64_value(v).map_err(serde::de::Error::custom)?;
            u64::try_from(i).map(Some).map_err(|_| {
                serde::de::Error::custom(format!("cannot parse '{i}', {i} overflows uint"))
            })
        }
    }
}

/// A config value as `WeakDecode` turns it into a boolean: booleans,
/// numbers (non-zero is true) and the strings Go's `ParseBool` reads (an
/// empty string is false).
pub(crate) fn bool_value<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(b),
        Some(Value::Number(n)) => Ok(n.as_f64().is_some_and(|f| f != 0.0)),
        Some(Value::String(s)) => match s.as_str() {
            "" | "0" | "f" | "F" | "false" | "FALSE" | "False" => Ok(false),
            "1" | "t" | "T" | "true" | "TRUE" | "True" => Ok(true),
            _ => Err(serde::de::Error::custom(format!(
                "cannot parse {s:?} as a boolean"
            ))),
        },
        Some(other) => Err(serde::de::Error::custom(format!(
            "expected a boolean, got {}",
            kind(&other)
        ))),
    }
}

/// What kind of value `v` is, for messages.
fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a map",
    }
}

/// An extracted value as a float, as Promtail's `getFloat`: numbers,
/// booleans (1/0), and strings holding a float or a Go duration (read as
/// seconds: `0.5ms` is 0.0005).
pub(crate) fn extracted_float(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
        Value::String(s) => go_float(s).or_else(|| gocompat::duration::parse_go_duration(s).ok()),
        _ => None,
    }
}

/// A float as Go's `strconv.ParseFloat` reads it, including `Inf`/`NaN`
/// spellings and hex floats.
fn go_float(s: &str) -> Option<f64> {
    let special = s.trim_start_matches(['+', '-']).to_ascii_lowercase();
    if matches!(special.as_str(), "inf" | "infinity" | "nan") {
        return s.to_ascii_lowercase().parse().ok();
    }
    logql::parser::parse_go_float(s)
}

/// A Go duration (`1.5s`, `3m`) in nanoseconds, with Go's message when it
/// is not one.
pub(crate) fn go_duration_ns(text: &str) -> Result<i64, gocompat::duration::GoDurationError> {
    gocompat::duration::parse_go_duration(text).map(|secs| (secs * 1e9).round() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Weak {
        #[serde(default, deserialize_with = "opt_string")]
        s: Option<String>,
        #[serde(default, deserialize_with = "f64_value")]
        f: f64,
        #[serde(default, deserialize_with = "i64_value")]
        i: i64,
        #[serde(default, deserialize_with = "bool_value")]
        b: bool,
    }

    fn weak(yaml: &str) -> Result<Weak, String> {
        yaml_serde::from_str(yaml).map_err(|e| e.to_string())
    }

    #[test]
    fn weak_strings() {
        for (yaml, want) in [
            ("s: abc", Some("abc")),
            ("s: 500", Some("500")),
            ("s: 1.5", Some("1.5")),
            ("s: true", Some("1")),
            ("s: false", Some("0")),
            ("s: null", None),
            ("f: 1", None),
        ] {
            assert_eq!(weak(yaml).unwrap().s.as_deref(), want, "{yaml}");
        }
        assert!(weak("s: [a, b]").is_err());
    }

    #[test]
    fn weak_numbers_and_booleans() {
        let w = weak("f: '2.5'\ni: 3.9\nb: 'true'").unwrap();
        assert_eq!((w.f, w.i, w.b), (2.5, 3, true));
        let w = weak("f: 1\ni: '7'\nb: 1").unwrap();
        assert_eq!((w.f, w.i, w.b), (1.0, 7, true));
        assert!(weak("f: abc").is_err());
        assert!(weak("b: maybe").is_err());
    }

    #[test]
    fn extracted_values_as_floats() {
        for (value, want) in [
            (serde_json::json!("0.804"), Some(0.804)),
            (serde_json::json!("0.5ms"), Some(0.0005)),
            (serde_json::json!("10h"), Some(36000.0)),
            (serde_json::json!(3), Some(3.0)),
            (serde_json::json!(false), Some(0.0)),
            (serde_json::json!("x"), None),
            (serde_json::json!({}), None),
        ] {
            assert_eq!(extracted_float(&value), want, "{value}");
        }
    }
}
