//! Go's builtin template functions (`and`, `or`, `not`, `len`, `index`,
//! `print`, `printf`, `println`, the comparisons, `urlquery`, `html`,
//! `js`) and the `fmt.Sprintf` that `printf` runs.

use super::value::Value;
use super::{FnError, arity, str_arg};
use crate::strconv::{format_float, quote};

/// The builtins, by name.
const BUILTINS: [&str; 19] = [
    "and", "or", "not", "len", "index", "slice", "call", "print", "printf", "println", "eq", "ne",
    "lt", "le", "gt", "ge", "urlquery", "html", "js",
];

/// Whether `name` is one of Go's builtins.
pub(super) fn has(name: &str) -> bool {
    BUILTINS.contains(&name)
}

fn compare(a: &Value, b: &Value) -> Option<std::cmp::Ordering> {
    let numeric = |v: &Value| matches!(v, Value::Int(_) | Value::Float(_));
    if numeric(a) && numeric(b) {
        a.as_float().partial_cmp(&b.as_float())
    } else {
        Some(a.as_string().cmp(&b.as_string()))
    }
}

/// Go's `fmt.Sprintf` for the common verbs (`%s %v %d %f %g %e %x %X %q %t
/// %c %%`), widths, precision and the `-`, `0`, `+` and space flags, over
/// template values; what `printf` runs.
pub fn sprintf(format: &str, args: &[Value]) -> String {
    let mut out = String::new();
    let mut chars = format.chars().peekable();
    let mut next = 0;
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let (mut minus, mut zero, mut plus, mut space) = (false, false, false, false);
        while let Some(&f) = chars.peek() {
            match f {
                '-' => minus = true,
                '0' => zero = true,
                '+' => plus = true,
                ' ' => space = true,
                '#' => {}
                _ => break,
            }
            chars.next();
        }
        let mut width = String::new();
        while let Some(&d) = chars.peek().filter(|d| d.is_ascii_digit()) {
            width.push(d);
            chars.next();
        }
        let mut precision: Option<usize> = None;
        if chars.peek() == Some(&'.') {
            chars.next();
            let mut p = String::new();
            while let Some(&d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                p.push(d);
                chars.next();
            }
            precision = Some(p.parse::<usize>().unwrap_or(0).min(1_000));
        }
        let Some(verb) = chars.next() else {
            out.push_str("%!(NOVERB)");
            break;
        };
        if verb == '%' {
            out.push('%');
            continue;
        }
        let Some(arg) = args.get(next) else {
            out.push_str(&format!("%!{verb}(MISSING)"));
            continue;
        };
        next += 1;
        let numeric_sign = |text: String, negative: bool| -> String {
            if negative {
                text
            } else if plus {
                format!("+{text}")
            } else if space {
                format!(" {text}")
            } else {
                text
            }
        };
        let mut text = match verb {
            's' | 'v' => {
                let t = arg.display();
                match precision {
                    Some(p) if verb == 's' => t.chars().take(p).collect(),
                    _ => t,
                }
            }
            'd' => match arg {
                Value::Int(_) | Value::Bool(_) | Value::Float(_) | Value::Str(_)
                    if !matches!(arg, Value::Str(_) | Value::Float(_)) =>
                {
                    let v = arg.as_int();
                    numeric_sign(v.to_string(), v < 0)
                }
                other => format!("%!d({}={})", other.type_name(), other.display()),
            },
            'f' | 'F' | 'e' | 'g' => match arg {
                Value::Float(_) | Value::Int(_) => {
                    let v = arg.as_float();
                    let prec = precision.map_or(6, |p| p as i32);
                    let t = match verb {
                        'e' => format_float(v, 'e', prec),
                        'g' => format_float(v, 'g', -1),
                        _ => format_float(v, 'f', prec),
                    };
                    numeric_sign(t, v < 0.0)
                }
                other => format!("%!{verb}({}={})", other.type_name(), other.display()),
            },
            'x' | 'X' => {
                let t = match arg {
                    Value::Int(i) => format!("{i:x}"),
                    other => other
                        .as_string()
                        .bytes()
                        .map(|b| format!("{b:02x}"))
                        .collect(),
                };
                if verb == 'X' { t.to_uppercase() } else { t }
            }
            'q' => quote(&arg.as_string()),
            't' => arg.display(),
            'c' => char::from_u32(arg.as_int() as u32)
                .map(String::from)
                .unwrap_or_default(),
            other => format!("%!{other}({})", arg.display()),
        };
        // Bounded, so that a format string cannot exhaust memory.
        let width: usize = width.parse::<usize>().unwrap_or(0).min(10_000);
        let len = text.chars().count();
        if len < width {
            let pad = width - len;
            if minus {
                text.push_str(&" ".repeat(pad));
            } else if zero && matches!(verb, 'd' | 'f' | 'F' | 'e' | 'g' | 'x' | 'X') {
                let (sign, digits) = match text.strip_prefix(['-', '+']) {
                    Some(d) => (text.get(..1).unwrap_or("").to_owned(), d.to_owned()),
                    None => (String::new(), text.clone()),
                };
                text = format!("{sign}{}{digits}", "0".repeat(pad));
            } else {
                text = format!("{}{text}", " ".repeat(pad));
            }
        }
        out.push_str(&text);
    }
    if next < args.len() {
        let extra: Vec<String> = args
            .get(next..)
            .unwrap_or(&[])
            .iter()
            .map(|a| format!("{}={}", a.type_name(), a.display()))
            .collect();
        out.push_str(&format!("%!(EXTRA {})", extra.join(", ")));
    }
    out
}

/// Calls builtin `name` (arguments already evaluated, the piped value last).
pub(super) fn call(name: &str, args: Vec<Value>) -> Result<Value, FnError> {
    let a = &args;
    let str_fn = |f: &dyn Fn(&str) -> String| -> Result<Value, FnError> {
        arity(name, a, 1)?;
        Ok(Value::Str(f(&str_arg(a, 0))))
    };
    Ok(match name {
        "and" => a
            .iter()
            .find(|v| !v.truthy())
            .or(a.last())
            .cloned()
            .unwrap_or(Value::Nil),
        "or" => a
            .iter()
            .find(|v| v.truthy())
            .or(a.last())
            .cloned()
            .unwrap_or(Value::Nil),
        "not" => {
            arity(name, a, 1)?;
            Value::Bool(!a.first().is_some_and(Value::truthy))
        }
        "len" => {
            arity(name, a, 1)?;
            Value::Int(match a.first() {
                Some(Value::Str(s)) => s.len() as i64,
                Some(Value::List(l)) => l.len() as i64,
                Some(Value::Map(m, _)) => m.len() as i64,
                Some(other) => return Err(format!("len of type {}", other.type_name()).into()),
                None => 0,
            })
        }
        "index" => {
            let mut v = a.first().cloned().unwrap_or(Value::Nil);
            for key in a.iter().skip(1) {
                v = match (&v, key) {
                    (Value::List(items), k) => items
                        .get(
                            usize::try_from(k.as_int())
                                .map_err(|_| "index out of range".to_owned())?,
                        )
                        .cloned()
                        .ok_or_else(|| format!("index out of range: {}", k.as_int()))?,
                    (Value::Map(..), k) => v.field(&k.as_string()).map_err(|e| e.to_string())?,
                    (other, _) => {
                        return Err(
                            format!("can't index item of type {}", other.type_name()).into()
                        );
                    }
                };
            }
            v
        }
        "slice" => {
            let Some(item) = a.first() else {
                return Err("missing argument for slice".into());
            };
            let len = match item {
                Value::Str(s) => s.len(),
                Value::List(l) => l.len(),
                other => {
                    return Err(format!("can't slice item of type {}", other.type_name()).into());
                }
            };
            if a.len() > 4 {
                return Err(format!("too many slice indexes: {}", a.len() - 1).into());
            }
            if a.len() == 4 && matches!(item, Value::Str(_)) {
                return Err("cannot 3-index slice a string".into());
            }
            let mut bounds = [0, len];
            for (slot, k) in bounds.iter_mut().zip(a.iter().skip(1)) {
                *slot = usize::try_from(k.as_int())
                    .ok()
                    .filter(|i| *i <= len)
                    .ok_or_else(|| format!("index out of range: {}", k.as_int()))?;
            }
            if bounds[0] > bounds[1] {
                return Err(format!("invalid slice index: {} > {}", bounds[0], bounds[1]).into());
            }
            match item {
                Value::Str(s) => Value::Str(
                    String::from_utf8_lossy(&s.as_bytes()[bounds[0]..bounds[1]]).into_owned(),
                ),
                Value::List(l) => Value::List(l[bounds[0]..bounds[1]].to_vec()),
                _ => Value::Nil,
            }
        }
        // Templates here hold no function values, so nothing is callable.
        "call" => {
            return Err(match a.first() {
                Some(v) => format!("non-function of type {}", v.type_name()),
                None => "call of nil".to_owned(),
            }
            .into());
        }
        "print" => {
            let mut out = String::new();
            for (i, v) in a.iter().enumerate() {
                let is_str = |v: &Value| matches!(v, Value::Str(_));
                if i > 0 && !is_str(v) && a.get(i - 1).is_some_and(|p| !is_str(p)) {
                    out.push(' ');
                }
                out.push_str(&v.display());
            }
            Value::Str(out)
        }
        "println" => Value::Str(format!(
            "{}\n",
            a.iter().map(Value::display).collect::<Vec<_>>().join(" ")
        )),
        "printf" => Value::Str(sprintf(&str_arg(a, 0), a.get(1..).unwrap_or(&[]))),
        "eq" => {
            let first = a.first().ok_or("missing argument for comparison")?;
            Value::Bool(
                a.iter()
                    .skip(1)
                    .any(|b| compare(first, b) == Some(std::cmp::Ordering::Equal)),
            )
        }
        "ne" | "lt" | "le" | "gt" | "ge" => {
            arity(name, a, 2)?;
            let (Some(x), Some(y)) = (a.first(), a.get(1)) else {
                return Err("missing argument".into());
            };
            let ord = compare(x, y);
            use std::cmp::Ordering::*;
            Value::Bool(match name {
                "ne" => ord != Some(Equal),
                "lt" => ord == Some(Less),
                "le" => matches!(ord, Some(Less | Equal)),
                "gt" => ord == Some(Greater),
                _ => matches!(ord, Some(Greater | Equal)),
            })
        }
        "urlquery" => Value::Str(crate::url::query_escape(
            &a.iter().map(Value::as_string).collect::<String>(),
        )),
        "html" => str_fn(&|x| {
            x.replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
                .replace('"', "&#34;")
                .replace('\'', "&#39;")
        })?,
        "js" => str_fn(&|x| {
            x.replace('\\', "\\\\")
                .replace('\'', "\\'")
                .replace('"', "\\\"")
        })?,
        other => return Err(format!("function {other:?} not defined").into()),
    })
}
