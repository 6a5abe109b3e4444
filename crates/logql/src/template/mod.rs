//! Loki's templates for `line_format` and `label_format`: Go's
//! `text/template` (the engine is `gocompat::template`) with Loki's
//! function library (the `funcs` module), which sees the entry's line and
//! timestamp through [`Context`]. Like Go, unknown functions fail at parse
//! time.

mod funcs;

use std::collections::BTreeMap;

use gocompat::template::{self as go, FnError, Functions};
pub use gocompat::template::{TemplateError, Value};

/// A parsed template.
#[derive(Debug, Clone)]
pub struct Template(go::Template);

/// What a template sees besides its data: the entry's line and time. It is
/// also Loki's function set, as its functions read these two.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// The current log line (`__line__`).
    pub line: &'a str,
    /// The entry's timestamp in ns (`__timestamp__`).
    pub ts_ns: i64,
}

impl Functions for Context<'_> {
    fn has(&self, name: &str) -> bool {
        funcs::is_function(name)
    }

    fn call(&self, name: &str, args: Vec<Value>) -> Result<Value, FnError> {
        funcs::call(name, args, *self)
    }
}

/// The function set as the parser sees it: names only.
const PARSE_CONTEXT: Context<'static> = Context { line: "", ts_ns: 0 };

impl Template {
    /// Parses `text`; `name` appears in messages (`template: line:1: …`).
    pub fn parse(name: &str, text: &str) -> Result<Self, TemplateError> {
        go::Template::parse(name, text, &PARSE_CONTEXT).map(Self)
    }

    /// Renders with `data` as `.`: a map of label values where a missing
    /// key renders as the empty string (Go's zero value).
    pub fn render(
        &self,
        data: &BTreeMap<String, String>,
        ctx: Context<'_>,
    ) -> Result<String, TemplateError> {
        let dot = Value::Map(
            data.iter()
                .map(|(k, v)| (k.clone(), Value::Str(v.clone())))
                .collect(),
            true,
        );
        self.0.execute(&dot, &ctx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(text: &str, data: &[(&str, &str)]) -> String {
        render_line(text, data, "the line")
    }

    fn render_line(text: &str, data: &[(&str, &str)], line: &str) -> String {
        let t = Template::parse("line", text).unwrap_or_else(|e| panic!("{text}: {e}"));
        let data = data
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        t.render(
            &data,
            Context {
                line,
                ts_ns: 1_700_000_000_123_000_000,
            },
        )
        .unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn parse_err(text: &str) -> String {
        Template::parse("line", text).unwrap_err().to_string()
    }

    #[test]
    fn text_fields_and_missing_keys() {
        assert_eq!(render("L={{.level}}", &[("level", "error")]), "L=error");
        assert_eq!(render("V={{.missing}}", &[]), "V=");
        assert_eq!(render("{{ . }}", &[("a", "1")]), "map[a:1]");
    }

    #[test]
    fn pipelines_and_functions() {
        assert_eq!(render("{{.l | upper}}", &[("l", "err")]), "ERR");
        assert_eq!(render("{{ ToUpper .l }}", &[("l", "err")]), "ERR");
        assert_eq!(
            render(r#"{{ Replace .l "r" "R" -1 }}"#, &[("l", "err")]),
            "eRR"
        );
        assert_eq!(
            render(r#"{{ .l | replace "r" "R" }}"#, &[("l", "err")]),
            "eRR"
        );
        assert_eq!(
            render(r#"{{ printf "%s-%d-%05.2f" .l 7 3.14159 }}"#, &[("l", "x")]),
            "x-7-03.14"
        );
        assert_eq!(render("{{ add 1 2 | mul 3 }}", &[]), "9");
        assert_eq!(render(r#"{{ default "d" .x }}"#, &[]), "d");
        assert_eq!(
            render(
                r#"{{ regexReplaceAll "(a+)" .s "<$1>" }}"#,
                &[("s", "baab")]
            ),
            "b<aa>b"
        );
        assert_eq!(
            render(
                r#"{{ regexReplaceAllLiteral "a+" .s "$1" }}"#,
                &[("s", "baab")]
            ),
            "b$1b"
        );
        assert_eq!(render("{{ __line__ }}", &[]), "the line");
        assert_eq!(
            render("{{ trunc 3 .s }}|{{ substr 1 3 .s }}", &[("s", "abcdef")]),
            "abc|bc"
        );
        assert_eq!(
            render(
                r#"{{ alignLeft 5 .s }}|{{ alignRight 5 .s }}"#,
                &[("s", "ab")]
            ),
            "ab   |   ab"
        );
        assert_eq!(render("{{ b64enc .s }}", &[("s", "hi")]), "aGk=");
        assert_eq!(render(r#"{{ b64dec "aGk=" }}"#, &[]), "hi");
        assert_eq!(render("{{ urlencode .s }}", &[("s", "a b&c")]), "a+b%26c");
        assert_eq!(render(r#"{{ urldecode "a+b%26c" }}"#, &[]), "a b&c");
        assert_eq!(
            render(r#"{{ bytes "2 KB" }} {{ duration "1m30s" }}"#, &[]),
            "2000 90"
        );
        assert_eq!(
            render(
                r#"{{ divf 1 4 }} {{ round 2.567 2 }} {{ ceil 1.2 }} {{ floor 1.8 }}"#,
                &[]
            ),
            "0.25 2.57 2 1"
        );
        assert_eq!(
            render(
                r#"{{ max 1 5 3 }} {{ min 4 2 }} {{ mod 7 3 }} {{ sub 5 7 }} {{ div 7 2 }}"#,
                &[]
            ),
            "5 2 1 -2 3"
        );
    }

    #[test]
    fn string_functions() {
        let d = [("s", "  Hello World  "), ("p", "pre-fix.log")];
        for (t, want) in [
            ("{{ ToLower .p | ToUpper }}", "PRE-FIX.LOG"),
            (
                "{{ lower \"AbC\" }}{{ upper \"x\" }}{{ title \"hi there\" }}",
                "abcXHi There",
            ),
            ("[{{ TrimSpace .s }}]", "[Hello World]"),
            ("[{{ trim .s }}]", "[Hello World]"),
            (
                "{{ Trim \"xxaxx\" \"x\" }}{{ TrimLeft \"xxa\" \"x\" }}{{ TrimRight \"axx\" \"x\" }}",
                "aaa",
            ),
            (
                "{{ TrimPrefix .p \"pre-\" }}|{{ TrimSuffix .p \".log\" }}",
                "fix.log|pre-fix",
            ),
            (
                "{{ trimPrefix \"pre-\" .p }}|{{ trimSuffix \".log\" .p }}|{{ trimAll \"x\" \"xax\" }}",
                "fix.log|pre-fix|a",
            ),
            (
                "{{ contains \"fix\" .p }} {{ hasPrefix \"pre\" .p }} {{ hasSuffix \".txt\" .p }}",
                "true true false",
            ),
            ("{{ repeat 3 \"ab\" }}", "ababab"),
            (
                "{{ indent 2 \"a\\nb\" }}|{{ nindent 1 \"c\" }}",
                "  a\n  b|\n c",
            ),
            ("{{ count \"o\" .s }} {{ len .p }}", "2 11"),
            ("{{ print 1 2 \"x\" }} {{ println \"y\" }}", "1 2x y\n"),
            (
                "{{ index (fromJson \"[5,6]\") 1 }} {{ (fromJson \"{\\\"a\\\":[1,2]}\").a }}",
                "6 [1 2]",
            ),
        ] {
            assert_eq!(render(t, &d), want, "{t}");
        }
    }

    #[test]
    fn math_functions() {
        for (t, want) in [
            (
                "{{ addf 1.5 2 }} {{ subf 5 1.5 }} {{ mulf 2 1.25 }} {{ divf 3 2 }}",
                "3.5 3.5 2.5 1.5",
            ),
            ("{{ maxf 1.5 2.5 }} {{ minf 1.5 2.5 }}", "2.5 1.5"),
            (
                "{{ add 1 \"2\" }} {{ mul 2 3 4 }} {{ int \"7\" | add 1 }} {{ float64 \"2.5\" }}",
                "3 24 8 2.5",
            ),
            (
                "{{ if lt 1 2 }}lt{{ end }}{{ if ge 2 2 }}ge{{ end }}{{ if ne \"a\" \"b\" }}ne{{ end }}",
                "ltgene",
            ),
        ] {
            assert_eq!(render(t, &[]), want, "{t}");
        }
        assert!(
            Template::parse("line", "{{ div 1 0 }}")
                .unwrap()
                .render(&Default::default(), Context { line: "", ts_ns: 0 })
                .is_err()
        );
        assert!(
            Template::parse("line", "{{ round 1 2.5 }}")
                .unwrap()
                .render(&Default::default(), Context { line: "", ts_ns: 0 })
                .unwrap_err()
                .to_string()
                .contains("expected int; got float64")
        );
    }

    #[test]
    fn now_is_a_recent_time() {
        let secs: i64 = render("{{ now | unixEpoch }}", &[]).parse().unwrap();
        assert!(secs > 1_700_000_000, "{secs}");
        assert_eq!(
            render("{{ __timestamp__ | unixEpochMillis }}", &[]),
            "1700000000123"
        );
        assert_eq!(
            render("{{ __timestamp__ | unixEpochNanos }}", &[]),
            "1700000000123000000"
        );
    }

    #[test]
    fn control_flow() {
        let t = r#"{{ if eq .l "a" }}A{{ else if eq .l "b" }}B{{ else }}C{{ end }}"#;
        assert_eq!(render(t, &[("l", "a")]), "A");
        assert_eq!(render(t, &[("l", "b")]), "B");
        assert_eq!(render(t, &[("l", "z")]), "C");
        assert_eq!(
            render(
                r#"{{ range $i, $v := fromJson .j }}{{ $i }}={{ $v }};{{ end }}"#,
                &[("j", "[1,2]")]
            ),
            "0=1;1=2;"
        );
        assert_eq!(
            render(r#"{{ with .x }}x{{ else }}none{{ end }}"#, &[]),
            "none"
        );
        assert_eq!(
            render(r#"{{ $a := .l }}{{ $a }}{{ $a }}"#, &[("l", "q")]),
            "qq"
        );
        assert_eq!(
            render(r#"{{ (fromJson .j).k.n }}"#, &[("j", r#"{"k":{"n":3}}"#)]),
            "3"
        );
        assert_eq!(
            render("{{ if and .a (not .b) }}y{{ end }}", &[("a", "1")]),
            "y"
        );
    }

    #[test]
    fn execution_errors_point_at_the_node_like_go() {
        let data = Default::default();
        let ctx = Context { line: "", ts_ns: 0 };
        let t = Template::parse("line", "{{ .a }} {{ .b | float64 | round 1 }}").unwrap();
        assert_eq!(
            t.render(&data, ctx).unwrap_err().to_string(),
            r#"template: line:1:33: executing "line" at <1>: wrong type for value; expected int; got float64"#
        );
        // Sprig's `div` divides Go ints: the runtime panic's text.
        let t = Template::parse("line", "x\n  {{ div 1 0 }}").unwrap();
        assert_eq!(
            t.render(&data, ctx).unwrap_err().to_string(),
            r#"template: line:2:5: executing "line" at <div 1 0>: error calling div: runtime error: integer divide by zero"#
        );
    }

    #[test]
    fn trim_markers_and_comments() {
        assert_eq!(render("a  {{- .l -}}  b", &[("l", "x")]), "axb");
        assert_eq!(render("a{{/* c */}}b", &[]), "ab");
    }

    #[test]
    fn time_functions() {
        assert_eq!(render("{{ __timestamp__ | unixEpoch }}", &[]), "1700000000");
        assert_eq!(
            render(
                r#"{{ date "2006-01-02T15:04:05.000Z07:00" __timestamp__ }}"#,
                &[]
            ),
            "2023-11-14T22:13:20.123Z"
        );
        assert_eq!(
            render(r#"{{ toDate "2006-01-02" "2024-03-05" | unixEpoch }}"#, &[]),
            "1709596800"
        );
        assert_eq!(
            render(
                r#"{{ unixToTime "1700000000" | date "2006-01-02 15:04" }}"#,
                &[]
            ),
            "2023-11-14 22:13"
        );
    }

    #[test]
    fn parse_errors_are_gos() {
        assert!(parse_err("{{ nosuchfunc }}").contains(r#"function "nosuchfunc" not defined"#));
        assert!(parse_err("{{").contains("unclosed action"));
        assert!(parse_err("{{ if .a }}x").contains("unexpected EOF"));
        assert!(parse_err("{{ end }}").contains("unexpected {{end}}"));
    }
}
