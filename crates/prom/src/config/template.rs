//! Alert templates: Prometheus' template functions for the Go
//! `text/template` engine (`gocompat::template`), and the parse check
//! Prometheus runs when it loads an alerting rule.
//!
//! Prometheus parses a rule's label and annotation templates after a
//! preamble that defines `$labels`, `$externalLabels`, `$externalURL` and
//! `$value`, with its functions and Go's builtins; a template that does
//! not parse fails the rule file. vigil runs the same parse with the same
//! engine the log pipeline uses, so every fault Go reports when parsing
//! (an unknown function or variable, a block left open, a stray token) is
//! reported here too.
//!
//! Rules are not evaluated yet, so the functions that need a query engine,
//! the alert's value or Go's number formatting (`query`, `first`,
//! `humanize`, …) are known to the parser but fail when called; the string
//! functions work.

use gocompat::template::{FnError, Functions, Template, TemplateError, Value, arity, str_arg};

/// What Prometheus writes before every alert template
/// (`template.NewTemplateExpander`); without newlines, so that the lines
/// of messages stay the template's own.
const PREAMBLE: &str = "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}\
                        {{$externalURL := .ExternalURL}}{{$value := .Value}}";

/// Prometheus' own template functions (`template/template.go`, 2.42 and
/// 3.x together).
const FUNCTIONS: [&str; 29] = [
    "query",
    "first",
    "label",
    "value",
    "strvalue",
    "args",
    "reReplaceAll",
    "safeHtml",
    "match",
    "title",
    "toUpper",
    "toLower",
    "graphLink",
    "tableLink",
    "sortByLabel",
    "stripPort",
    "stripDomain",
    "humanize",
    "humanize1024",
    "humanizeDuration",
    "humanizePercentage",
    "humanizeTimestamp",
    "toTime",
    "toDuration",
    "now",
    "pathPrefix",
    "externalURL",
    "parseDuration",
    "urlQueryEscape",
];

/// Prometheus' alert template functions.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct PromFunctions;

impl Functions for PromFunctions {
    fn has(&self, name: &str) -> bool {
        FUNCTIONS.contains(&name)
    }

    fn call(&self, name: &str, args: Vec<Value>) -> Result<Value, FnError> {
        let a = &args;
        let regex =
            |i: usize| regex::Regex::new(&str_arg(a, i)).map_err(|e| FnError::Call(e.to_string()));
        Ok(match name {
            "toUpper" => {
                arity(name, a, 1)?;
                Value::Str(str_arg(a, 0).to_uppercase())
            }
            "toLower" => {
                arity(name, a, 1)?;
                Value::Str(str_arg(a, 0).to_lowercase())
            }
            "title" => {
                arity(name, a, 1)?;
                Value::Str(title(&str_arg(a, 0)))
            }
            "safeHtml" => {
                arity(name, a, 1)?;
                Value::Str(str_arg(a, 0))
            }
            "urlQueryEscape" => {
                arity(name, a, 1)?;
                Value::Str(gocompat::url::query_escape(&str_arg(a, 0)))
            }
            "match" => {
                arity(name, a, 2)?;
                Value::Bool(regex(0)?.is_match(&str_arg(a, 1)))
            }
            "reReplaceAll" => {
                arity(name, a, 3)?;
                let replaced = regex(0)?
                    .replace_all(&str_arg(a, 2), str_arg(a, 1).as_str())
                    .into_owned();
                Value::Str(replaced)
            }
            "stripPort" => {
                arity(name, a, 1)?;
                Value::Str(strip_port(&str_arg(a, 0)).to_owned())
            }
            "args" => Value::Map(
                a.iter()
                    .enumerate()
                    .map(|(i, v)| (format!("arg{i}"), v.clone()))
                    .collect(),
                false,
            ),
            "parseDuration" => {
                arity(name, a, 1)?;
                let text = str_arg(a, 0);
                let duration = model::duration::parse_duration(&text)
                    .map_err(|e| FnError::Call(e.to_string()))?;
                Value::Float(duration.as_secs_f64())
            }
            other => {
                return Err(FnError::Call(format!(
                    "{other} is not available: vigil does not evaluate alerting rules yet"
                )));
            }
        })
    }
}

/// Upper-cases the first letter of each word, as Go's `strings.Title`.
fn title(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut start = true;
    for c in text.chars() {
        if start {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        start = !(c.is_alphanumeric() || c == '_' || c == '\'');
    }
    out
}

/// `host:port` without the port, as Prometheus' `stripPort` (unchanged
/// when there is no port to strip).
fn strip_port(host_port: &str) -> &str {
    if let Some(rest) = host_port.strip_prefix('[') {
        return match rest.split_once("]:") {
            Some((host, _)) => host,
            None => host_port,
        };
    }
    match host_port.rsplit_once(':') {
        Some((host, _)) if !host.contains(':') => host,
        _ => host_port,
    }
}

/// Checks `text` as alert template `name` the way Prometheus does when it
/// loads a rule; the error reads as Go's (`template: NAME:LINE: problem`).
pub(super) fn check(text: &str, name: &str) -> Result<(), TemplateError> {
    Template::parse(name, &format!("{PREAMBLE}{text}"), &PromFunctions).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_ok(text: &str) {
        assert_eq!(check(text, "t"), Ok(()), "{text}");
    }

    fn check_err(text: &str, expected: &str) {
        assert_eq!(
            check(text, "t").map_err(|e| e.to_string()),
            Err(format!("template: t:{expected}")),
            "{text}"
        );
    }

    #[test]
    fn prometheus_style_templates_pass() {
        for text in [
            "",
            "plain text with { and }",
            "{{ $labels.instance }} of {{ $labels.job }} is down",
            "{{ $value | humanize }}",
            "{{ printf \"%.2f\" $value }}%",
            "{{- if gt $value 0.5 -}} high {{- else -}} low {{- end }}",
            "{{ range $i, $e := query \"up\" }}{{ $i }}={{ $e.Value }}{{ end }}",
            "{{ with $x := $labels.job }}{{ $x }}{{ else }}none{{ end }}",
            "{{/* a comment */}}{{- /* trimmed */ -}}",
            "{{ if eq $labels.severity \"page\" }}{{ template \"x\" . }}{{ end }}",
            "{{ define \"d\" }}{{ . }}{{ end }}",
            "{{ (query \"up\" | first | value) | humanize }}",
            "{{ `raw }} string` }}",
            "{{ .Labels.job }} {{ $externalLabels.env }} {{ $externalURL }}",
            "{{ $x := 1 }}{{ $x = 2 }}{{ $x }}",
            "{{ $y = 2 }}",
            "{{ range . }}{{ if . }}{{ break }}{{ end }}{{ continue }}{{ end }}",
            "{{ -1 }} {{ 1e3 }} {{ true }} {{ nil }}",
            "{{ 'a' }} {{ '\\n' }} {{ 'é' }}",
            "{{ slice $labels.job 1 }} {{ call $labels.f }}",
        ] {
            check_ok(text);
        }
    }

    #[test]
    fn faults_go_reports_are_caught() {
        check_err("{{ if .Labels }}", "1: unexpected EOF");
        check_err("a\n{{ end }}", "2: unexpected {{end}}");
        check_err("{{ else }}", "1: unexpected {{else}}");
        check_err("x {{ $labels.job ", "1: unclosed action");
        check_err("{{ $nope }}", "1: undefined variable \"$nope\"");
        check_err("{{ nosuch 1 }}", "1: function \"nosuch\" not defined");
        check_err("{{ \"open }}", "1: unterminated quoted string");
        check_err("{{/* open", "1: unclosed comment");
        check_err("{{ (len \"a\" }}", "1: unclosed left paren");
        check_err("{{ len \"a\") }}", "1: unexpected \")\" in command");
        check_err("{{ }}", "1: missing value for command");
        check_err("{{ | humanize }}", "1: unexpected \"|\" in command");
        check_err("{{ 'ab' }}", "1: malformed character constant: 'ab'");
        check_err("{{ if }}", "1: missing value for if");
        check_err("{{ break }}", "1: {{break}} outside {{range}}");
        check_err("{{ .Labels.job @ }}", "1: unexpected \"@\" in operand");
        // Variables end with their block, and a definition starts afresh.
        check_err(
            "{{ if 1 }}{{ $x := 1 }}{{ end }}{{ $x }}",
            "1: undefined variable \"$x\"",
        );
        check_err(
            "{{ define \"d\" }}{{ $labels }}{{ end }}",
            "1: undefined variable \"$labels\"",
        );
    }

    /// Faults the former scanner let through, which Go's parser reports.
    #[test]
    fn faults_a_scanner_missed_are_caught_now() {
        check_err("{{ \"a\\q\" }}", "1: invalid syntax");
        check_err(
            "{{ define 1 }}{{ end }}",
            "1: unexpected \"1\" in define clause",
        );
        check_err(
            "{{ range . }}{{ continue 1 }}{{ end }}",
            "1: unexpected \"1\" in {{continue}}",
        );
        check_err(
            "{{ if 1 }}{{ else }}{{ else }}{{ end }}",
            "1: expected end; found {{else}}",
        );
    }

    #[test]
    fn string_functions_run() {
        let run = |text: &str| {
            Template::parse("t", text, &PromFunctions)
                .and_then(|t| t.execute(&Value::Nil, &PromFunctions))
                .map_err(|e| e.to_string())
        };
        assert_eq!(
            run(r#"{{ "a-b" | toUpper }} {{ title "hi there" }} {{ stripPort "h:9090" }}"#),
            Ok("A-B Hi There h".into())
        );
        assert_eq!(
            run(r#"{{ reReplaceAll "(a+)" "<$1>" "baab" }} {{ match "^b" "ba" }}"#),
            Ok("b<aa>b true".into())
        );
        assert_eq!(run(r#"{{ (args 1 "x").arg1 }}"#), Ok("x".into()));
        assert_eq!(run(r#"{{ parseDuration "1m30s" }}"#), Ok("90".into()));
        assert!(
            run(r#"{{ query "up" }}"#)
                .unwrap_err()
                .contains("does not evaluate alerting rules")
        );
        assert_eq!(strip_port("[::1]:80"), "::1");
        assert_eq!(strip_port("::1"), "::1");
    }
}
