//! A parse check of alert templates (Go `text/template`), as Prometheus
//! does when it loads an alerting rule.
//!
//! `prom` has no template engine (the one in `logql` belongs to another
//! component, and components share only `model`), so this is a scanner
//! that finds the faults a Go parse reports most often: an action, string
//! or comment left open, unbalanced parentheses, a block without its
//! `{{end}}` or an `{{end}}` without its block, an undefined variable, and
//! a function that neither Go nor Prometheus defines, a character out of
//! place. The rest of Go's grammar (a keyword where it does not belong,
//! say) is not checked: such a template passes here and would fail when
//! an alert is expanded.

/// The variables Prometheus defines before an alert template.
const PREDEFINED: [&str; 5] = ["$", "$labels", "$externalLabels", "$externalURL", "$value"];

/// Go's built-in template functions and Prometheus' (`template/template.go`,
/// 2.42 and 3.x together).
const FUNCTIONS: [&str; 48] = [
    "and",
    "call",
    "html",
    "index",
    "slice",
    "js",
    "len",
    "not",
    "or",
    "print",
    "printf",
    "println",
    "urlquery",
    "eq",
    "ge",
    "gt",
    "le",
    "lt",
    "ne",
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

/// Words that are not function names.
const KEYWORDS: [&str; 13] = [
    "block", "break", "continue", "define", "else", "end", "if", "range", "template", "with",
    "nil", "true", "false",
];

/// An open block: where the variables stood before it.
enum Frame {
    /// `if`, `with`, `range`: variables declared inside end with it; the
    /// flag says whether it is a `range` (for `break` and `continue`).
    Control(usize, bool),
    /// `define`, `block`: a new template, with only `$`.
    Definition(Vec<String>),
}

/// Checks `text` as template `name`; the error reads as Go's
/// (`template: NAME:LINE: problem`).
pub(super) fn check(text: &str, name: &str) -> Result<(), String> {
    let fail = |at: usize, problem: String| {
        let line = 1 + text[..at].matches('\n').count();
        Err(format!("template: {name}:{line}: {problem}"))
    };
    let mut vars: Vec<String> = PREDEFINED.iter().map(|v| v.to_string()).collect();
    let mut frames: Vec<Frame> = Vec::new();
    let mut pos = 0;
    while let Some(open) = text[pos..].find("{{").map(|i| pos + i) {
        let mut inner = open + 2;
        if text[inner..].starts_with("- ")
            || text[inner..].starts_with("-\t")
            || text[inner..].starts_with("-\n")
        {
            inner += 1;
        }
        let after_space = inner + (text[inner..].len() - text[inner..].trim_start().len());
        if text[after_space..].starts_with("/*") {
            let Some(end) = text[after_space + 2..].find("*/") else {
                return fail(open, "unclosed comment".into());
            };
            let rest = text[after_space + 2 + end + 2..].trim_start_matches([' ', '-']);
            if !rest.starts_with("}}") {
                return fail(open, "comment ends before closing delimiter".into());
            }
            pos = text.len() - rest.len() + 2;
            continue;
        }
        let (tokens, end) = match scan_action(text, inner) {
            Ok(scanned) => scanned,
            Err((at, problem)) => return fail(at, problem),
        };
        pos = end;
        let Some(first) = tokens.first() else {
            return fail(open, "missing value for command".into());
        };
        let mut body = &tokens[..];
        match first.text {
            "end" => match frames.pop() {
                Some(Frame::Control(len, _)) => {
                    vars.truncate(len);
                    continue;
                }
                Some(Frame::Definition(saved)) => {
                    vars = saved;
                    continue;
                }
                None => return fail(first.at, "unexpected {{end}}".into()),
            },
            "else" if frames.is_empty() => return fail(first.at, "unexpected {{else}}".into()),
            "else" => body = &tokens[1..],
            _ => {}
        }
        match body.first().map(|t| t.text) {
            Some(word @ ("if" | "with" | "range")) => {
                if body.len() == 1 {
                    return fail(first.at, format!("missing value for {word}"));
                }
                if first.text != "else" {
                    frames.push(Frame::Control(vars.len(), word == "range"));
                }
            }
            Some(word @ ("break" | "continue")) => {
                let in_range = frames.iter().rev().find_map(|f| match f {
                    Frame::Control(_, range) => (*range).then_some(true),
                    Frame::Definition(_) => Some(false),
                });
                if in_range != Some(true) {
                    return fail(first.at, format!("{{{{{word}}}}} outside {{{{range}}}}"));
                }
            }
            _ => {}
        }
        // Declarations first: Go adds them before it reads the commands.
        for (i, token) in body.iter().enumerate() {
            if token.kind == Kind::Variable && declares(&body[i + 1..]) {
                vars.push(token.text.to_owned());
            }
        }
        for (i, token) in body.iter().enumerate() {
            let after_operator = i == 0 || matches!(body[i - 1].text, "(" | "|" | ":=" | "=" | ",");
            if token.text == "|" && after_operator {
                return fail(token.at, "unexpected \"|\" in command".into());
            }
            // Go checks an assignment's variable only when it runs.
            let assigned = body.get(i + 1).is_some_and(|t| t.text == "=");
            match token.kind {
                Kind::Variable if !assigned && !vars.iter().any(|v| v == token.text) => {
                    return fail(token.at, format!("undefined variable {:?}", token.text));
                }
                Kind::Identifier
                    if !KEYWORDS.contains(&token.text) && !FUNCTIONS.contains(&token.text) =>
                {
                    return fail(token.at, format!("function {:?} not defined", token.text));
                }
                _ => {}
            }
        }
        if matches!(first.text, "define" | "block") {
            let saved = std::mem::replace(&mut vars, vec!["$".to_owned()]);
            frames.push(Frame::Definition(saved));
        }
    }
    if !frames.is_empty() {
        return fail(text.len(), "unexpected EOF".into());
    }
    Ok(())
}

/// Whether the tokens after a variable make it a declaration: `:=`, or
/// `, $other :=` as in `range $i, $e := …`.
fn declares(after: &[Token<'_>]) -> bool {
    match after {
        [first, ..] if first.text == ":=" => true,
        [comma, var, assign, ..] => {
            comma.text == "," && var.kind == Kind::Variable && assign.text == ":="
        }
        _ => false,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// `$name`.
    Variable,
    /// A bare word: a keyword or a function.
    Identifier,
    /// `.Field`, a string, a number, `:=`, `,`, `|`, parentheses.
    Other,
}

#[derive(Debug)]
struct Token<'a> {
    kind: Kind,
    text: &'a str,
    at: usize,
}

/// Splits the action starting at `start` into tokens, up to its `}}`;
/// returns them and the offset after the `}}`.
fn scan_action(text: &str, start: usize) -> Result<(Vec<Token<'_>>, usize), (usize, String)> {
    let bytes = text.as_bytes();
    let mut tokens = Vec::new();
    let mut depth = 0usize;
    let mut i = start;
    let word_end = |mut j: usize| {
        while let Some(c) = text[j..].chars().next() {
            if c.is_alphanumeric() || c == '_' {
                j += c.len_utf8();
            } else {
                break;
            }
        }
        j
    };
    loop {
        if text[i..].starts_with("}}") || text[i..].starts_with("-}}") {
            if depth > 0 {
                return Err((i, "unclosed left paren".into()));
            }
            let close = if bytes[i] == b'-' { i + 3 } else { i + 2 };
            return Ok((tokens, close));
        }
        let Some(c) = text[i..].chars().next() else {
            return Err((start, "unclosed action".into()));
        };
        let (kind, end) = match c {
            c if c.is_whitespace() => {
                i += c.len_utf8();
                continue;
            }
            '"' | '\'' => {
                let mut j = i + 1;
                loop {
                    match bytes.get(j) {
                        None | Some(b'\n') => {
                            let what = if c == '"' {
                                "unterminated quoted string"
                            } else {
                                "unterminated character constant"
                            };
                            return Err((i, what.into()));
                        }
                        Some(b'\\') => j += 2,
                        Some(&b) if b == c as u8 => {
                            let inner = &text[i + 1..j];
                            if c == '\'' && !inner.starts_with('\\') && inner.chars().count() != 1 {
                                return Err((
                                    i,
                                    format!("malformed character constant: '{inner}'"),
                                ));
                            }
                            break (Kind::Other, j + 1);
                        }
                        Some(_) => j += 1,
                    }
                }
            }
            '`' => match text[i + 1..].find('`') {
                Some(k) => (Kind::Other, i + 1 + k + 1),
                None => return Err((i, "unterminated raw quoted string".into())),
            },
            '$' => (Kind::Variable, word_end(i + 1)),
            '.' => (Kind::Other, word_end(i + 1)),
            ':' if text[i..].starts_with(":=") => (Kind::Other, i + 2),
            '(' => {
                depth += 1;
                (Kind::Other, i + 1)
            }
            ')' => {
                if depth == 0 {
                    return Err((i, "unexpected \")\" in command".into()));
                }
                depth -= 1;
                (Kind::Other, i + 1)
            }
            c if c.is_ascii_digit() => (Kind::Other, word_end(i)),
            c if c.is_alphabetic() || c == '_' => (Kind::Identifier, word_end(i)),
            // What Go reads as punctuation in an action; any other
            // character is out of place in one.
            '=' | '|' | ',' | '+' | '-' => (Kind::Other, i + 1),
            c => return Err((i, format!("unexpected {:?} in operand", c.to_string()))),
        };
        // Fields chained to a variable or a word (`$labels.job`) are
        // part of it.
        let mut end = end;
        while kind != Kind::Other && text[end..].starts_with('.') {
            end = word_end(end + 1);
        }
        let token_end = if kind == Kind::Other {
            end
        } else {
            word_end(i + 1)
        };
        tokens.push(Token {
            kind,
            text: &text[i..token_end],
            at: i,
        });
        i = end;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_ok(text: &str) {
        assert_eq!(check(text, "t"), Ok(()), "{text}");
    }

    fn check_err(text: &str, expected: &str) {
        assert_eq!(
            check(text, "t"),
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
}
