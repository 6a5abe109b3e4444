//! The label-set text that names a stream in a push, `{a="b", c="d"}`.

/// Formats label pairs as Loki's stream selector text, in the order given
/// (callers pass them sorted by name, as Promtail does): `name="value"`
/// joined by `, ` inside braces, each value quoted by Go's `strconv.Quote` (`gocompat`).
pub fn labels_text<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut out = String::from("{");
    for (i, (name, value)) in pairs.into_iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(name);
        out.push('=');
        gocompat::strconv::quote_into(&mut out, value);
    }
    out.push('}');
    out
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
}
