//! Loki's template function library (`pkg/logql/log/fmt.go`): Loki's own
//! functions (`__line__`, `__timestamp__`, `count`, `bytes`, `duration`,
//! `unixEpochMillis`, `alignLeft`, …), Go's `strings` functions under their
//! Go names, and the part of sprig's generic functions Loki registers. Only
//! Loki's own are written here: the `strings` and sprig functions are the
//! ones `gocompat::template` implements for Promtail, called through
//! [`Promtail`]. Go's builtins come with the engine.

use gocompat::template::{
    FnError, Functions as _, GO_STRINGS, Promtail, Value, arity, int_arg as int, str_arg as s,
    time_arg,
};
use gocompat::{time, url};

use super::Context;

/// The names Loki registers, Loki's `functionMap` and then its list of
/// sprig functions (a name not here fails to parse, as in Loki).
/// Go's `strings` functions ([`GO_STRINGS`]) come on top.
const FUNCTIONS: &[&str] = &[
    // Loki's own
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
    FUNCTIONS.contains(&name) || GO_STRINGS.contains(&name)
}

/// Calls a function (arguments already evaluated, the piped value last).
pub(super) fn call(name: &str, args: Vec<Value>, ctx: Context<'_>) -> Result<Value, FnError> {
    let a = &args;
    Ok(match name {
        "__line__" => Value::Str(ctx.line.to_owned()),
        "__timestamp__" => Value::Time(ctx.ts_ns),
        // Loki's regex functions return Go's compile error where Promtail's
        // panic; here they compile as every other LogQL regex does
        // (`|~`, `regexp`), with the same error text.
        "regexReplaceAll" | "regexReplaceAllLiteral" => {
            arity(name, a, 3)?;
            let (re, text, repl) = (regex(&s(a, 0))?, s(a, 1), s(a, 2));
            Value::Str(if name == "regexReplaceAll" {
                re.replace_all(&text, repl.as_str()).into_owned()
            } else {
                re.replace_all(&text, regex::NoExpand(&repl)).into_owned()
            })
        }
        "count" => {
            arity(name, a, 2)?;
            Value::Int(regex(&s(a, 0))?.find_iter(&s(a, 1)).count() as i64)
        }
        "urlencode" => Value::Str(url::query_escape(
            &a.iter().map(Value::as_string).collect::<String>(),
        )),
        "urldecode" => Value::Str(url::query_unescape(&s(a, 0)).map_err(|e| e.to_string())?),
        "bytes" => {
            arity(name, a, 1)?;
            Value::Float(crate::pipeline::label_filter::parse_bytes(&s(a, 0))? as f64)
        }
        // Loki's `duration` is its own (a Go duration string to seconds),
        // not sprig's (seconds to a duration string), which Loki does not
        // register.
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
        // The zone (argument 1) is not applied: the layout is read in UTC.
        "toDateInZone" => Value::Time(time::parse(&s(a, 0), &s(a, 2)).map_err(|e| e.to_string())?),
        // Go's `strings` functions and sprig's, as Promtail has them: the
        // same Go functions in Loki.
        other if is_function(other) => Promtail.call(other, args)?,
        other => return Err(format!("function {other:?} not defined").into()),
    })
}

fn regex(pattern: &str) -> Result<regex::Regex, String> {
    regex::Regex::new(pattern).map_err(|e| crate::parser::regex_reason(&e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(name: &str, args: &[Value], want: Result<Value, &str>) {
        let ctx = Context {
            line: "the line",
            ts_ns: 1_500_000_000,
        };
        let got = call(name, args.to_vec(), ctx).map_err(|e| format!("{e:?}"));
        match (got, want) {
            (Ok(got), Ok(want)) => assert_eq!(got, want, "{name}"),
            (Err(got), Err(want)) => assert!(got.contains(want), "{name}: {got}"),
            (got, want) => panic!("{name}: got {got:?}, want {want:?}"),
        }
    }

    fn st(x: &str) -> Value {
        Value::Str(x.to_owned())
    }

    #[test]
    fn loki_own_functions() {
        check("__line__", &[], Ok(st("the line")));
        check("__timestamp__", &[], Ok(Value::Time(1_500_000_000)));
        check("count", &[st("a+"), st("aa b a")], Ok(Value::Int(2)));
        check("duration", &[st("1m30s")], Ok(Value::Float(90.0)));
        check(
            "unixEpochMillis",
            &[Value::Time(1_500_000_000)],
            Ok(st("1500")),
        );
        check("alignRight", &[Value::Int(4), st("ab")], Ok(st("  ab")));
        check(
            "regexReplaceAll",
            &[st("(a+)"), st("baab"), st("<$1>")],
            Ok(st("b<aa>b")),
        );
        check("regexReplaceAll", &[st("("), st(""), st("")], Err("("));
    }

    #[test]
    fn shared_functions_come_from_gocompat() {
        check("ToUpper", &[st("ab")], Ok(st("AB")));
        check(
            "Replace",
            &[st("foo"), st("o"), st("0"), Value::Int(1)],
            Ok(st("f0o")),
        );
        check("trimPrefix", &[st("a"), st("abc")], Ok(st("bc")));
        check("b64enc", &[st("hello")], Ok(st("aGVsbG8=")));
        check("b64dec", &[st("aGVsbG8=")], Ok(st("hello")));
        check("title", &[st("foo_bar baz")], Ok(st("Foo_bar Baz")));
        check("trunc", &[Value::Int(2), st("abc")], Ok(st("ab")));
        check("trunc", &[st("2"), st("abc")], Err("expected int"));
        check("contains", &[st("a")], Err("wrong number of args"));
        check("default", &[st("d"), st("")], Ok(st("d")));
        // Names Loki does not register are not callable, even where
        // Promtail's set has them.
        check("Hash", &[st(""), st("")], Err("not defined"));
    }

    #[test]
    fn every_listed_function_is_callable() {
        let ctx = Context {
            line: "l",
            ts_ns: 0,
        };
        for f in FUNCTIONS.iter().chain(GO_STRINGS) {
            // Any outcome but a panic is fine; unknown names must not occur.
            if let Err(e) = call(f, vec![Value::Str("1".into()), Value::Str("2".into())], ctx) {
                let text = format!("{e:?}");
                assert!(!text.contains("not defined"), "{f}: {text}");
            }
        }
    }
}
