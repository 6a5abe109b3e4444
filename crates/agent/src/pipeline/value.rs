//! Values of the extracted map as Promtail reads and writes them: Go's
//! `getString` conversion and the JSON text Go's encoder makes of a value.

use std::borrow::Cow;

use serde_json::Value;

/// An extracted value as a string, as Promtail's `getString` converts it:
/// strings as they are, numbers in Go's shortest `'f'` form (`12.5`,
/// `1000`), booleans as `true`/`false`. Null (a JSON `null` or a missing
/// JMESPath result) and anything else is not convertible: the reader skips
/// it, as Promtail does.
pub fn get_string(v: &Value) -> Option<Cow<'_, str>> {
    match v {
        Value::String(s) => Some(Cow::Borrowed(s)),
        Value::Number(n) => Some(Cow::Owned(number_text(n))),
        Value::Bool(b) => Some(Cow::Borrowed(if *b { "true" } else { "false" })),
        Value::Null | Value::Array(_) | Value::Object(_) => None,
    }
}

/// A number as Go's `strconv.FormatFloat(f, 'f', -1, 64)` writes it;
/// integers that never were floats are written as integers.
pub(crate) fn number_text(n: &serde_json::Number) -> String {
    if let Some(i) = n.as_i64() {
        return i.to_string();
    }
    if let Some(u) = n.as_u64() {
        return u.to_string();
    }
    n.as_f64()
        .map(|f| gocompat::strconv::format_float(f, 'f', -1))
        .unwrap_or_default()
}

/// `v` as Go's `encoding/json` marshals what `json.Unmarshal` into
/// `interface{}` made of it: compact, object keys sorted, every number a
/// float64 (`1e3` is `1000`, `1.0` is `1`), `<`, `>` and `&` escaped.
pub fn go_json(v: &Value) -> String {
    let mut out = String::new();
    write_go_json(v, &mut out);
    out
}

fn write_go_json(v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&go_json_float(n.as_f64().unwrap_or(0.0))),
        Value::String(s) => go_json_string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_go_json(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                go_json_string(k, out);
                out.push(':');
                if let Some(item) = map.get(k) {
                    write_go_json(item, out);
                }
            }
            out.push('}');
        }
    }
}

/// A float64 as Go's JSON encoder writes it (`gocompat::json`); a
/// decoded JSON number is always finite.
fn go_json_float(f: f64) -> String {
    gocompat::json::format_float(f).unwrap_or_default()
}

/// A string as Go's JSON encoder quotes it (HTML-safe escaping on, as in
/// `json.Marshal`).
pub(crate) fn go_json_string(s: &str, out: &mut String) {
    gocompat::json::write_string(out, s, true);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn string_of(v: Value, want: Option<&str>) {
        assert_eq!(get_string(&v).as_deref(), want, "{v}");
    }

    #[test]
    fn get_string_converts_as_go() {
        string_of(json!("a"), Some("a"));
        string_of(json!(12.5), Some("12.5"));
        string_of(json!(1e3), Some("1000"));
        string_of(json!(5), Some("5"));
        string_of(json!(1e21), Some("1000000000000000000000"));
        string_of(json!(true), Some("true"));
        string_of(json!(false), Some("false"));
        string_of(json!(null), None);
        string_of(json!([1]), None);
    }

    fn json_of(text: &str, want: &str) {
        let v: Value = serde_json::from_str(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(go_json(&v), want, "{text}");
    }

    #[test]
    fn go_json_writes_as_go() {
        json_of(r#"["a","b"]"#, r#"["a","b"]"#);
        json_of(
            r#"[1e3, 1.0, 12.50, 1e21, 1e-7, 0.000001]"#,
            "[1000,1,12.5,1e+21,1e-7,0.000001]",
        );
        json_of(
            r#"{"b":1,"a":{"y":null,"x":true}}"#,
            r#"{"a":{"x":true,"y":null},"b":1}"#,
        );
        json_of(
            r#"["<a & b>", "q\"\\\n\u0001"]"#,
            r#"["\u003ca \u0026 b\u003e","q\"\\\n\u0001"]"#,
        );
        json_of(r#"[]"#, "[]");
    }
}
