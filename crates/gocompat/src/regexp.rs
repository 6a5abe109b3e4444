//! Go's `regexp` (RE2) syntax on Rust's `regex`: the two agree except in
//! a few places, which [`translate`] rewrites.
//!
//! - `\d`, `\w`, `\s` and `\b` are ASCII-only in Go and Unicode-aware in
//!   Rust (`\w+` on `héllo` matches `h` in Go): they become ASCII classes.
//! - `\Q…\E` quotes literal text in Go; Rust has no such syntax.
//!
//! Everything else (`(?P<name>…)`, flags, classes, repetition) reads the
//! same, so the result compiles with `regex::Regex::new` to the pattern Go
//! would run.

/// Rewrites a Go regular expression into the equivalent Rust one.
///
/// ```
/// let re = regex::Regex::new(&gocompat::regexp::translate(r"\w+")).unwrap();
/// assert_eq!(re.find("héllo").map(|m| m.as_str()), Some("h"));
/// ```
pub fn translate(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 8);
    let mut chars = pattern.chars().peekable();
    // Inside a bracketed class; `class_start` marks where a leading `]` or
    // `^]` is still literal.
    let mut in_class = false;
    let mut class_start = false;
    while let Some(c) = chars.next() {
        if c == '\\' {
            let Some(e) = chars.next() else {
                out.push('\\');
                break;
            };
            class_start = false;
            match (in_class, e) {
                (false, 'Q') => {
                    let mut literal = String::new();
                    while let Some(q) = chars.next() {
                        if q == '\\' && chars.peek() == Some(&'E') {
                            chars.next();
                            break;
                        }
                        literal.push(q);
                    }
                    out.push_str(&regex_escape(&literal));
                }
                (false, 'd') => out.push_str("[0-9]"),
                (false, 'D') => out.push_str("[^0-9]"),
                (false, 'w') => out.push_str("[0-9A-Za-z_]"),
                (false, 'W') => out.push_str("[^0-9A-Za-z_]"),
                (false, 's') => out.push_str("[\\t\\n\\f\\r ]"),
                (false, 'S') => out.push_str("[^\\t\\n\\f\\r ]"),
                (false, 'b') => out.push_str("(?-u:\\b)"),
                (false, 'B') => out.push_str("(?-u:\\B)"),
                (true, 'd') => out.push_str("0-9"),
                (true, 'w') => out.push_str("0-9A-Za-z_"),
                (true, 's') => out.push_str("\\t\\n\\f\\r "),
                (_, e) => {
                    out.push('\\');
                    out.push(e);
                }
            }
            continue;
        }
        match c {
            '[' if !in_class => {
                in_class = true;
                class_start = true;
                out.push('[');
                if chars.peek() == Some(&'^') {
                    chars.next();
                    out.push('^');
                }
                continue;
            }
            '[' if in_class && chars.peek() == Some(&':') => {
                // A POSIX class `[:alpha:]` inside a class: copy it whole.
                out.push('[');
                for p in chars.by_ref() {
                    out.push(p);
                    if p == ']' {
                        break;
                    }
                }
            }
            ']' if in_class && !class_start => {
                in_class = false;
                out.push(']');
            }
            c => out.push(c),
        }
        class_start = false;
    }
    out
}

/// Escapes every meta character of `text` (as `regexp.QuoteMeta`).
fn regex_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\.+*?()|[]{}^$#&-~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find<'t>(pattern: &str, text: &'t str) -> Option<&'t str> {
        let re = regex::Regex::new(&translate(pattern))
            .unwrap_or_else(|e| panic!("{pattern} -> {}: {e}", translate(pattern)));
        re.find(text).map(|m| m.as_str())
    }

    #[test]
    fn perl_classes_are_ascii() {
        assert_eq!(find(r"\w+", "héllo"), Some("h"));
        assert_eq!(find(r"\d+", "٣42"), Some("42"));
        assert_eq!(find(r"\s", "a\u{a0}b c"), Some(" "));
        assert_eq!(find(r"[\w.]+", "é.a_b"), Some(".a_b"));
        assert_eq!(find(r"\D+", "ab1"), Some("ab"));
        assert_eq!(find(r"\bb", "éb b"), Some("b"));
    }

    #[test]
    fn classes_keep_their_brackets() {
        assert_eq!(find(r"[]a]+", "x]a]"), Some("]a]"));
        assert_eq!(find(r"[^]a]+", "]]xy"), Some("xy"));
        assert_eq!(find(r"[[:digit:]\d]+", "a12"), Some("12"));
        assert_eq!(find(r"[\]]", "a]"), Some("]"));
    }

    #[test]
    fn quoted_text_is_literal() {
        // As in Go, a repetition after \E applies to the last character.
        assert_eq!(find(r"\Qa.b*\E+", "a.b**a.b*"), Some("a.b**"));
        assert_eq!(find(r"x\Q(y)", "x(y)"), Some("x(y)"));
    }

    #[test]
    fn other_syntax_is_unchanged() {
        assert_eq!(
            translate(r"^(?P<ts>\S+?) (?P<s>stdout|stderr) .*$"),
            r"^(?P<ts>[^\t\n\f\r ]+?) (?P<s>stdout|stderr) .*$"
        );
        assert_eq!(translate(r"a\.b\x41\pL"), r"a\.b\x41\pL");
    }
}
