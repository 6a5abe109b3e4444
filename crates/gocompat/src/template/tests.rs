//! The engine's behaviour with Go's builtins alone.

use super::*;

fn run(text: &str, dot: Value) -> String {
    Template::parse("t", text, &NoFunctions)
        .and_then(|t| t.execute(&dot, &NoFunctions))
        .unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn parse_err(text: &str) -> String {
    match Template::parse("t", text, &NoFunctions) {
        Ok(_) => panic!("{text}: parsed"),
        Err(e) => e.to_string(),
    }
}

fn list(items: &[i64]) -> Value {
    Value::List(items.iter().map(|i| Value::Int(*i)).collect())
}

#[test]
fn break_and_continue_act_on_the_innermost_range() {
    let t = "{{ range . }}{{ if eq . 3 }}{{ break }}{{ end }}{{ . }}{{ end }}";
    assert_eq!(run(t, list(&[1, 2, 3, 4])), "12");
    let t = "{{ range . }}{{ if eq . 2 }}{{ continue }}{{ end }}{{ . }}{{ end }}";
    assert_eq!(run(t, list(&[1, 2, 3])), "13");
    let t = "{{ range $i, $x := . }}{{ range . }}{{ break }}{{ end }}{{ $i }}{{ end }}";
    assert_eq!(run(t, list(&[5, 6])), "01");
}

#[test]
fn define_template_and_block() {
    assert_eq!(
        run(
            r#"{{ define "d" }}<{{ . }}>{{ end }}{{ template "d" 7 }}"#,
            Value::Nil
        ),
        "<7>"
    );
    assert_eq!(
        run(r#"{{ block "b" . }}[{{ . }}]{{ end }}!"#, Value::Int(1)),
        "[1]!"
    );
    let error = Template::parse("t", r#"{{ template "nope" }}"#, &NoFunctions)
        .unwrap()
        .execute(&Value::Nil, &NoFunctions)
        .unwrap_err();
    assert!(
        error.message().contains(r#"no such template "nope""#),
        "{error}"
    );
    let recursive = r#"{{ define "r" }}{{ template "r" }}{{ end }}{{ template "r" }}"#;
    let error = Template::parse("t", recursive, &NoFunctions)
        .unwrap()
        .execute(&Value::Nil, &NoFunctions)
        .unwrap_err();
    assert!(
        error.message().contains("maximum template depth"),
        "{error}"
    );
}

#[test]
fn constants() {
    assert_eq!(
        run("{{ 'a' }} {{ '\\n' }} {{ 'é' }}", Value::Nil),
        "97 10 233"
    );
    assert_eq!(run("{{ `raw }} string` }}", Value::Nil), "raw }} string");
    assert_eq!(run(r#"{{ "\x41\101\u00e9" }}"#, Value::Nil), "AAé");
    assert_eq!(
        run("{{ -1 }} {{ 1e3 }} {{ true }}", Value::Nil),
        "-1 1000 true"
    );
}

#[test]
fn variables_are_checked_when_parsing() {
    assert_eq!(run("{{ $x := 1 }}{{ $x = 2 }}{{ $x }}", Value::Nil), "2");
    assert_eq!(
        parse_err("{{ $nope }}"),
        r#"template: t:1: undefined variable "$nope""#
    );
    // Variables end with their block, and a definition starts afresh.
    assert_eq!(
        parse_err("{{ if 1 }}{{ $x := 1 }}{{ end }}{{ $x }}"),
        r#"template: t:1: undefined variable "$x""#
    );
    assert_eq!(
        parse_err("{{ $y := 1 }}{{ define \"d\" }}{{ $y }}{{ end }}"),
        r#"template: t:1: undefined variable "$y""#
    );
    assert_eq!(
        run(
            "{{ with $x := 5 }}{{ $x }}{{ else }}{{ $x }}{{ end }}",
            Value::Nil
        ),
        "5"
    );
}

#[test]
fn parse_errors_read_as_gos() {
    for (text, message) in [
        ("{{ if .Labels }}", "1: unexpected EOF"),
        ("a\n{{ if 1 }}\n", "3: unexpected EOF"),
        ("a\n{{ end }}", "2: unexpected {{end}}"),
        ("{{ else }}", "1: unexpected {{else}}"),
        ("x {{ .job ", "1: unclosed action"),
        ("{{ nosuch 1 }}", "1: function \"nosuch\" not defined"),
        ("{{ \"open }}", "1: unterminated quoted string"),
        ("{{ `open }}", "1: unterminated raw quoted string"),
        ("{{/* open", "1: unclosed comment"),
        ("{{/* c */ x }}", "1: comment ends before closing delimiter"),
        ("{{ (len \"a\" }}", "1: unclosed left paren"),
        ("{{ len \"a\") }}", "1: unexpected \")\" in command"),
        ("{{ }}", "1: missing value for command"),
        ("{{ | len }}", "1: unexpected \"|\" in command"),
        ("{{ 'ab' }}", "1: malformed character constant: 'ab'"),
        ("{{ if }}", "1: missing value for if"),
        ("{{ break }}", "1: {{break}} outside {{range}}"),
        (
            "{{ range . }}{{ continue 1 }}{{ end }}",
            "1: unexpected \"1\" in {{continue}}",
        ),
        ("{{ .job @ }}", "1: unexpected \"@\" in operand"),
        ("{{ \"a\\q\" }}", "1: invalid syntax"),
    ] {
        assert_eq!(parse_err(text), format!("template: t:{message}"), "{text}");
    }
}

#[test]
fn comments_may_hold_delimiters() {
    assert_eq!(run("a{{/* }} */}}b", Value::Nil), "ab");
    assert_eq!(run("a {{- /* c */ -}} b", Value::Nil), "ab");
}

#[test]
fn slice_cuts_strings_and_lists() {
    assert_eq!(run(r#"{{ slice "abcdef" 1 3 }}"#, Value::Nil), "bc");
    assert_eq!(run(r#"{{ slice "abcdef" 4 }}"#, Value::Nil), "ef");
    assert_eq!(run("{{ slice . 1 }}", list(&[1, 2, 3])), "[2 3]");
    let error = Template::parse("t", r#"{{ slice "ab" 3 }}"#, &NoFunctions)
        .unwrap()
        .execute(&Value::Nil, &NoFunctions)
        .unwrap_err();
    assert!(error.message().contains("index out of range: 3"), "{error}");
}
