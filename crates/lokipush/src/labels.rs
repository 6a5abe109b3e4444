//! The label-set text that names a stream in a push, `{a="b", c="d"}`.

/// Formats label pairs as Loki's stream selector text, in the order given
/// (callers pass them sorted by name, as Promtail does): `name="value"`
/// joined by `, ` inside braces, each value quoted by [`push_go_quoted`].
pub fn labels_text<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut out = String::from("{");
    for (i, (name, value)) in pairs.into_iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(name);
        out.push('=');
        push_go_quoted(&mut out, value, '"');
    }
    out.push('}');
    out
}

/// Appends `s` between `quote` characters as Go's `strconv.Quote` (`'"'`)
/// or `strconv.QuoteRune` (`'\''`) writes it: printable characters kept,
/// the quote and backslash escaped, control characters as `\n`, `\x00`,
/// `\u00ad`. Loki's label parser reads every one of these escapes back.
pub fn push_go_quoted(out: &mut String, s: &str, quote: char) {
    out.push(quote);
    for c in s.chars() {
        push_escaped(out, c, quote);
    }
    out.push(quote);
}

fn push_escaped(out: &mut String, c: char, quote: char) {
    match c {
        c if c == quote => {
            out.push('\\');
            out.push(c);
        }
        '\\' => out.push_str("\\\\"),
        '\u{7}' => out.push_str("\\a"),
        '\u{8}' => out.push_str("\\b"),
        '\u{c}' => out.push_str("\\f"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\u{b}' => out.push_str("\\v"),
        c if (c as u32) < 0x20 || c == '\u{7f}' => out.push_str(&format!("\\x{:02x}", c as u32)),
        c if c.is_control() || (c.is_whitespace() && c != ' ') => {
            if (c as u32) < 0x10000 {
                out.push_str(&format!("\\u{:04x}", c as u32));
            } else {
                out.push_str(&format!("\\U{:08x}", c as u32));
            }
        }
        c => out.push(c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_sets_read_as_promtail_writes_them() {
        for (pairs, want) in [
            (vec![], "{}"),
            (vec![("job", "api")], r#"{job="api"}"#),
            (vec![("a", "1"), ("b", "")], r#"{a="1", b=""}"#),
            (vec![("path", r#"C:\x "q""#)], r#"{path="C:\\x \"q\""}"#),
            (vec![("m", "a\nb\tc\u{0}")], r#"{m="a\nb\tc\x00"}"#),
            (vec![("u", "é ü \u{2028}")], r#"{u="é ü \u2028"}"#),
        ] {
            assert_eq!(labels_text(pairs), want);
        }
    }

    #[test]
    fn a_rune_quotes_with_single_quotes() {
        let mut out = String::new();
        push_go_quoted(&mut out, "'", '\'');
        assert_eq!(out, r"'\''");
        out.clear();
        push_go_quoted(&mut out, "\"", '\'');
        assert_eq!(out, "'\"'");
    }
}
