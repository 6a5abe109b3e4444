//! Loki's template function library: the sprig functions Loki exposes and
//! Loki's own (`__line__`, `__timestamp__`, `bytes`, `duration`, …). Go's
//! builtins come with the engine (`gocompat::template`).

use gocompat::template::{
    FnError, MAX_OUTPUT, Value, arity, float_arg as float, int_arg as int, str_arg as s,
    strict_int_arg as strict_int,
};
use gocompat::{time, url};

use super::Context;
use crate::pipeline::json::{JsonValue, parse_json};

const FUNCTIONS: &[&str] = &[
    // Loki
    "ToLower",
    "ToUpper",
    "Replace",
    "Trim",
    "TrimLeft",
    "TrimRight",
    "TrimPrefix",
    "TrimSuffix",
    "TrimSpace",
    "__line__",
    "__timestamp__",
    "regexReplaceAll",
    "regexReplaceAllLiteral",
    "count",
    "urlencode",
    "urldecode",
    "b64enc",
    "b64dec",
    "bytes",
    "duration",
    "duration_seconds",
    "unixEpoch",
    "unixEpochMillis",
    "unixEpochNanos",
    "unixToTime",
    "toDateInZone",
    "alignLeft",
    "alignRight",
    "fromJson",
    // sprig
    "lower",
    "upper",
    "title",
    "trunc",
    "substr",
    "contains",
    "hasPrefix",
    "hasSuffix",
    "indent",
    "nindent",
    "replace",
    "repeat",
    "trim",
    "trimAll",
    "trimPrefix",
    "trimSuffix",
    "int",
    "float64",
    "add",
    "sub",
    "mul",
    "div",
    "mod",
    "addf",
    "subf",
    "mulf",
    "divf",
    "max",
    "min",
    "maxf",
    "minf",
    "ceil",
    "floor",
    "round",
    "date",
    "toDate",
    "now",
    "default",
];

/// Whether `name` is one of Loki's functions.
pub(super) fn is_function(name: &str) -> bool {
    FUNCTIONS.contains(&name)
}

fn json_to_value(v: JsonValue) -> Value {
    match v {
        JsonValue::Null => Value::Nil,
        JsonValue::Bool(b) => Value::Bool(b),
        JsonValue::Number(n) => Value::Float(n.parse().unwrap_or(0.0)),
        JsonValue::String(s) => Value::Str(s),
        JsonValue::Array(items) => Value::List(items.into_iter().map(json_to_value).collect()),
        JsonValue::Object(pairs) => {
            let mut out: Vec<(String, Value)> = Vec::new();
            for (k, v) in pairs {
                let v = json_to_value(v);
                match out.iter_mut().find(|(key, _)| *key == k) {
                    Some(slot) => slot.1 = v,
                    None => out.push((k, v)),
                }
            }
            out.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Map(out, false)
        }
    }
}

fn chars_slice(text: &str, start: i64, end: i64) -> String {
    let chars: Vec<char> = text.chars().collect();
    let len = chars.len() as i64;
    let start = start.clamp(0, len) as usize;
    let end = if end < 0 { len } else { end.min(len) } as usize;
    if start >= end {
        return String::new();
    }
    chars.get(start..end).unwrap_or(&[]).iter().collect()
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn b64encode(data: &[u8]) -> String {
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(B64[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn b64decode(text: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let mut buf = 0u32;
    let mut bits = 0;
    for c in text.trim_end_matches('=').bytes() {
        let v = B64
            .iter()
            .position(|&x| x == c)
            .ok_or_else(|| "illegal base64 data".to_owned())? as u32;
        buf = (buf << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
            buf &= (1 << bits) - 1;
        }
    }
    Ok(out)
}

fn time_arg(v: Option<&Value>) -> Result<i64, String> {
    match v {
        Some(Value::Time(ns)) => Ok(*ns),
        Some(Value::Int(secs)) => Ok(secs.saturating_mul(1_000_000_000)),
        Some(other) => Err(format!(
            "wrong type for value; expected time.Time; got {}",
            other.type_name()
        )),
        None => Err("missing time argument".into()),
    }
}

/// Calls a function (arguments already evaluated, the piped value last).
pub(super) fn call(name: &str, args: Vec<Value>, ctx: Context<'_>) -> Result<Value, FnError> {
    let a = &args;
    let str_fn = |f: &dyn Fn(&str) -> String| -> Result<Value, FnError> {
        arity(name, a, 1)?;
        Ok(Value::Str(f(&s(a, 0))))
    };
    Ok(match name {
        "urlencode" => Value::Str(url::query_escape(
            &a.iter().map(Value::as_string).collect::<String>(),
        )),
        "urldecode" => Value::Str(url::query_unescape(&s(a, 0)).map_err(|e| e.to_string())?),
        "ToLower" | "lower" => str_fn(&|x| x.to_lowercase())?,
        "ToUpper" | "upper" => str_fn(&|x| x.to_uppercase())?,
        "title" => str_fn(&|x| {
            let mut out = String::new();
            let mut start = true;
            for c in x.chars() {
                if start && c.is_alphabetic() {
                    out.extend(c.to_uppercase());
                } else {
                    out.push(c);
                }
                start = !c.is_alphanumeric();
            }
            out
        })?,
        "TrimSpace" | "trim" => str_fn(&|x| x.trim().to_owned())?,
        "Replace" => {
            arity(name, a, 4)?;
            let (text, old, new, n) = (s(a, 0), s(a, 1), s(a, 2), int(a, 3));
            Value::Str(if n < 0 {
                text.replace(&old, &new)
            } else {
                text.replacen(&old, &new, n as usize)
            })
        }
        "replace" => {
            arity(name, a, 3)?;
            Value::Str(s(a, 2).replace(&s(a, 0), &s(a, 1)))
        }
        "Trim" | "TrimLeft" | "TrimRight" => {
            arity(name, a, 2)?;
            let cutset: Vec<char> = s(a, 1).chars().collect();
            let text = s(a, 0);
            Value::Str(match name {
                "Trim" => text.trim_matches(cutset.as_slice()).to_owned(),
                "TrimLeft" => text.trim_start_matches(cutset.as_slice()).to_owned(),
                _ => text.trim_end_matches(cutset.as_slice()).to_owned(),
            })
        }
        "trimAll" => {
            arity(name, a, 2)?;
            let cutset: Vec<char> = s(a, 0).chars().collect();
            Value::Str(s(a, 1).trim_matches(cutset.as_slice()).to_owned())
        }
        "TrimPrefix" | "TrimSuffix" => {
            arity(name, a, 2)?;
            let (text, affix) = (s(a, 0), s(a, 1));
            Value::Str(if name == "TrimPrefix" {
                text.strip_prefix(affix.as_str())
                    .unwrap_or(&text)
                    .to_owned()
            } else {
                text.strip_suffix(affix.as_str())
                    .unwrap_or(&text)
                    .to_owned()
            })
        }
        "trimPrefix" | "trimSuffix" => {
            arity(name, a, 2)?;
            let (affix, text) = (s(a, 0), s(a, 1));
            Value::Str(if name == "trimPrefix" {
                text.strip_prefix(affix.as_str())
                    .unwrap_or(&text)
                    .to_owned()
            } else {
                text.strip_suffix(affix.as_str())
                    .unwrap_or(&text)
                    .to_owned()
            })
        }
        "contains" => {
            arity(name, a, 2)?;
            Value::Bool(s(a, 1).contains(&s(a, 0)))
        }
        "hasPrefix" => {
            arity(name, a, 2)?;
            Value::Bool(s(a, 1).starts_with(&s(a, 0)))
        }
        "hasSuffix" => {
            arity(name, a, 2)?;
            Value::Bool(s(a, 1).ends_with(&s(a, 0)))
        }
        "regexReplaceAll" | "regexReplaceAllLiteral" => {
            arity(name, a, 3)?;
            let re = regex::Regex::new(&s(a, 0)).map_err(|e| crate::parser::regex_reason(&e))?;
            let text = s(a, 1);
            let repl = s(a, 2);
            Value::Str(if name == "regexReplaceAll" {
                re.replace_all(&text, repl.as_str()).into_owned()
            } else {
                re.replace_all(&text, regex::NoExpand(&repl)).into_owned()
            })
        }
        "count" => {
            arity(name, a, 2)?;
            let re = regex::Regex::new(&s(a, 0)).map_err(|e| crate::parser::regex_reason(&e))?;
            Value::Int(re.find_iter(&s(a, 1)).count() as i64)
        }
        "default" => {
            arity(name, a, 2)?;
            match a.get(1) {
                Some(v) if v.truthy() => v.clone(),
                _ => a.first().cloned().unwrap_or(Value::Nil),
            }
        }
        "b64enc" => str_fn(&|x| b64encode(x.as_bytes()))?,
        "b64dec" => {
            arity(name, a, 1)?;
            Value::Str(String::from_utf8_lossy(&b64decode(&s(a, 0))?).into_owned())
        }
        "bytes" => {
            arity(name, a, 1)?;
            Value::Float(crate::pipeline::label_filter::parse_bytes(&s(a, 0))? as f64)
        }
        "duration" | "duration_seconds" => {
            arity(name, a, 1)?;
            Value::Float(
                gocompat::duration::parse_go_duration(&s(a, 0)).map_err(|e| e.to_string())?,
            )
        }
        "alignLeft" | "alignRight" => {
            arity(name, a, 2)?;
            let (n, text) = (int(a, 0).clamp(0, 10_000) as usize, s(a, 1));
            let chars: Vec<char> = text.chars().collect();
            if chars.len() >= n {
                Value::Str(chars.get(..n).unwrap_or(&[]).iter().collect())
            } else if name == "alignLeft" {
                Value::Str(format!("{text}{}", " ".repeat(n - chars.len())))
            } else {
                Value::Str(format!("{}{text}", " ".repeat(n - chars.len())))
            }
        }
        "indent" | "nindent" => {
            arity(name, a, 2)?;
            let width = int(a, 0).clamp(0, 10_000) as usize;
            let text = s(a, 1);
            let lines = text.matches('\n').count() + 1;
            if width.saturating_mul(lines).saturating_add(text.len()) > MAX_OUTPUT {
                return Err(format!("{name}: result too large").into());
            }
            let pad = " ".repeat(width);
            let body = s(a, 1)
                .split('\n')
                .map(|l| format!("{pad}{l}"))
                .collect::<Vec<_>>()
                .join("\n");
            Value::Str(if name == "nindent" {
                format!("\n{body}")
            } else {
                body
            })
        }
        "repeat" => {
            arity(name, a, 2)?;
            let n = strict_int(a, 0)?.clamp(0, 10_000) as usize;
            let text = s(a, 1);
            if text.len().saturating_mul(n) > MAX_OUTPUT {
                return Err("repeat: result too large".into());
            }
            Value::Str(text.repeat(n))
        }
        "substr" => {
            arity(name, a, 3)?;
            Value::Str(chars_slice(&s(a, 2), strict_int(a, 0)?, strict_int(a, 1)?))
        }
        "trunc" => {
            arity(name, a, 2)?;
            let (n, text) = (strict_int(a, 0)?, s(a, 1));
            let len = text.chars().count() as i64;
            Value::Str(if n >= 0 {
                chars_slice(&text, 0, n)
            } else {
                chars_slice(&text, (len + n).max(0), len)
            })
        }
        "int" => Value::Int(int(a, 0)),
        "float64" => Value::Float(float(a, 0)),
        "add" => Value::Int(a.iter().fold(0i64, |acc, v| acc.wrapping_add(v.as_int()))),
        "mul" => Value::Int(a.iter().fold(1i64, |acc, v| acc.wrapping_mul(v.as_int()))),
        "sub" | "div" | "mod" => {
            arity(name, a, 2)?;
            let (x, y) = (int(a, 0), int(a, 1));
            Value::Int(match name {
                "sub" => x.wrapping_sub(y),
                _ if y == 0 => return Err("integer divide by zero".into()),
                "div" => x.wrapping_div(y),
                _ => x.wrapping_rem(y),
            })
        }
        "addf" => Value::Float(a.iter().map(Value::as_float).sum()),
        "mulf" => Value::Float(a.iter().map(Value::as_float).product()),
        "subf" | "divf" => {
            let mut it = a.iter().map(Value::as_float);
            let first = it.next().unwrap_or(0.0);
            Value::Float(it.fold(
                first,
                |acc, v| if name == "subf" { acc - v } else { acc / v },
            ))
        }
        "max" | "min" => {
            let vals = a.iter().map(Value::as_int);
            Value::Int(
                if name == "max" {
                    vals.max()
                } else {
                    vals.min()
                }
                .unwrap_or(0),
            )
        }
        "maxf" | "minf" => {
            let vals = a.iter().map(Value::as_float);
            Value::Float(vals.fold(
                if name == "maxf" {
                    f64::NEG_INFINITY
                } else {
                    f64::INFINITY
                },
                |acc, v| {
                    if name == "maxf" {
                        acc.max(v)
                    } else {
                        acc.min(v)
                    }
                },
            ))
        }
        "ceil" => Value::Float(float(a, 0).ceil()),
        "floor" => Value::Float(float(a, 0).floor()),
        "round" => {
            let (x, places) = (float(a, 0), strict_int(a, 1)?.clamp(0, 15));
            let scale = 10f64.powi(places as i32);
            Value::Float((x * scale).round() / scale)
        }
        "fromJson" => {
            arity(name, a, 1)?;
            json_to_value(parse_json(&s(a, 0))?)
        }
        "__line__" => Value::Str(ctx.line.to_owned()),
        "__timestamp__" => Value::Time(ctx.ts_ns),
        "now" => Value::Time(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as i64),
        ),
        "unixEpoch" => Value::Str(time_arg(a.first())?.div_euclid(1_000_000_000).to_string()),
        "unixEpochMillis" => Value::Str(time_arg(a.first())?.div_euclid(1_000_000).to_string()),
        "unixEpochNanos" => Value::Str(time_arg(a.first())?.to_string()),
        "unixToTime" => {
            arity(name, a, 1)?;
            let text = s(a, 0);
            let v: i64 = text
                .trim()
                .parse()
                .map_err(|_| format!("unable to parse {text:?} as a unix timestamp"))?;
            let digits = text.trim().trim_start_matches('-').len();
            Value::Time(match digits {
                0..=10 => v.saturating_mul(1_000_000_000),
                11..=13 => v.saturating_mul(1_000_000),
                14..=16 => v.saturating_mul(1_000),
                _ => v,
            })
        }
        "toDate" | "toDateInZone" => {
            let (layout, value) = if name == "toDate" {
                (s(a, 0), s(a, 1))
            } else {
                (s(a, 0), s(a, 2))
            };
            Value::Time(time::parse(&layout, &value).map_err(|e| e.to_string())?)
        }
        "date" => {
            arity(name, a, 2)?;
            Value::Str(time::format(time_arg(a.get(1))?, &s(a, 0)))
        }
        other => return Err(format!("function {other:?} not defined").into()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_function_is_callable() {
        let ctx = Context {
            line: "l",
            ts_ns: 0,
        };
        for f in FUNCTIONS {
            // Any outcome but a panic is fine; unknown names must not occur.
            if let Err(e) = call(f, vec![Value::Str("1".into()), Value::Str("2".into())], ctx) {
                let text = format!("{e:?}");
                assert!(!text.contains("not defined"), "{f}: {text}");
            }
        }
    }

    #[test]
    fn base64_round_trip() {
        for text in ["", "a", "ab", "abc", "abcd", "héllo"] {
            assert_eq!(
                b64decode(&b64encode(text.as_bytes())).unwrap(),
                text.as_bytes()
            );
        }
    }
}
