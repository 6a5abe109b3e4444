//! `-config.expand-env=true`: environment variables in a config text.
//!
//! Loki and Promtail expand the file before they read the YAML (both with
//! drone/envsubst), with bash-like rules:
//! `${VAR}` is the variable's value (empty when unset), `${VAR:-default}`
//! (also `${VAR:=default}` and `${VAR=default}`) is the default when the
//! variable is unset or empty, defaults may hold further `${…}`, and `$$`
//! is a literal `$`. A `$` before anything else stays as it is: `$VAR`
//! without braces is not expanded. Bash's string operations (`${#VAR}`,
//! `${VAR/a/b}`, …) are refused with an error rather than guessed at.

/// Why a text could not be expanded: the byte offset of the `${` at fault
/// and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind}")]
pub struct ExpandError {
    /// The byte offset of the `$` that starts the bad substitution.
    pub offset: usize,
    /// What is wrong with it.
    pub kind: ExpandErrorKind,
}

/// The ways a `${…}` can be wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExpandErrorKind {
    /// `${` with no `}` after it.
    #[error("bad substitution (missing closing brace)")]
    MissingClosingBrace,
    /// `${}` or `${` followed by something that cannot start a name.
    #[error("bad substitution (no variable name)")]
    NoVariableName,
    /// A bash string operation (`${#VAR}`, `${VAR/a/b}`, …); holds the
    /// start of the substitution as written.
    #[error("bad substitution {0:?}: only ${{VAR}} and ${{VAR:-default}} are supported")]
    Unsupported(String),
}

/// Expands `text`, reading variables through `lookup`.
pub fn expand(text: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Result<String, ExpandError> {
    let mut out = String::with_capacity(text.len());
    let end = expand_until(text, 0, false, lookup, &mut out)?;
    debug_assert_eq!(end, text.len());
    Ok(out)
}

/// Expands from `start` until the end of the text or, inside a default,
/// until its closing brace; returns the offset where it stopped (of the
/// brace, when `in_default`).
fn expand_until(
    text: &str,
    start: usize,
    in_default: bool,
    lookup: &dyn Fn(&str) -> Option<String>,
    out: &mut String,
) -> Result<usize, ExpandError> {
    let bytes = text.as_bytes();
    let mut i = start;
    let mut literal_from = start;
    while i < bytes.len() {
        match bytes[i] {
            b'}' if in_default => {
                out.push_str(&text[literal_from..i]);
                return Ok(i);
            }
            b'$' if bytes.get(i + 1) == Some(&b'$') => {
                out.push_str(&text[literal_from..i]);
                out.push('$');
                i += 2;
                literal_from = i;
            }
            b'$' if bytes.get(i + 1) == Some(&b'{') => {
                out.push_str(&text[literal_from..i]);
                i = substitute(text, i, lookup, out)?;
                literal_from = i;
            }
            _ => i += 1,
        }
    }
    if in_default {
        return Err(ExpandError {
            offset: start,
            kind: ExpandErrorKind::MissingClosingBrace,
        });
    }
    out.push_str(&text[literal_from..]);
    Ok(i)
}

/// Expands the `${…}` at `dollar`; returns the offset just after it.
fn substitute(
    text: &str,
    dollar: usize,
    lookup: &dyn Fn(&str) -> Option<String>,
    out: &mut String,
) -> Result<usize, ExpandError> {
    let bytes = text.as_bytes();
    let name_start = dollar + 2;
    // Names as Loki's expander reads them: letters, digits, `_` and `-`.
    let name_len = bytes[name_start..]
        .iter()
        .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_' || **b == b'-')
        .count();
    let name = &text[name_start..name_start + name_len];
    let after_name = name_start + name_len;
    let bad = |kind| {
        Err(ExpandError {
            offset: dollar,
            kind,
        })
    };
    if name.is_empty() {
        return bad(ExpandErrorKind::NoVariableName);
    }
    let value = lookup(name).unwrap_or_default();
    let rest = &text[after_name..];
    let operator_len = if rest.starts_with('}') {
        out.push_str(&value);
        return Ok(after_name + 1);
    } else if rest.starts_with(":-") || rest.starts_with(":=") {
        2
    } else if rest.starts_with('=') {
        1
    } else if rest.is_empty() {
        return bad(ExpandErrorKind::MissingClosingBrace);
    } else {
        let shown: String = text[dollar..].chars().take(name_len + 4).collect();
        return bad(ExpandErrorKind::Unsupported(shown));
    };
    // The default is expanded even when unused, as its errors are errors
    // of the file whatever the environment holds.
    let mut default = String::new();
    let close = expand_until(text, after_name + operator_len, true, lookup, &mut default).map_err(
        |_| ExpandError {
            offset: dollar,
            kind: ExpandErrorKind::MissingClosingBrace,
        },
    )?;
    out.push_str(if value.is_empty() { &default } else { &value });
    Ok(close + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, expected: Result<&str, usize>) {
        let lookup = |name: &str| match name {
            "HOST" => Some("example.org".to_owned()),
            "EMPTY" => Some(String::new()),
            _ => None,
        };
        let got = expand(text, &lookup);
        match expected {
            Ok(want) => assert_eq!(got.as_deref().ok(), Some(want), "{text}"),
            Err(offset) => assert_eq!(got.err().map(|e| e.offset), Some(offset), "{text}"),
        }
    }

    #[test]
    fn variables_and_defaults() {
        check("a: ${HOST}", Ok("a: example.org"));
        check("a: ${UNSET}", Ok("a: "));
        check("a: ${UNSET:-x}", Ok("a: x"));
        check("a: ${EMPTY:-x}", Ok("a: x"));
        check("a: ${HOST:-x}", Ok("a: example.org"));
        check("a: ${UNSET=x}", Ok("a: x"));
        check("a: ${UNSET:=x}", Ok("a: x"));
        check("a: ${UNSET:-${HOST}:3100}", Ok("a: example.org:3100"));
        check("a: ${UNSET:-}", Ok("a: "));
    }

    #[test]
    fn dollars_that_are_not_substitutions() {
        check("a: $HOST", Ok("a: $HOST"));
        check("a: $$", Ok("a: $"));
        check("a: $${HOST}", Ok("a: ${HOST}"));
        check("price: 5$", Ok("price: 5$"));
        check("é: ${HOST}é", Ok("é: example.orgé"));
    }

    #[test]
    fn bad_substitutions_point_at_their_dollar() {
        check("a: ${HOST", Err(3));
        check("a: ${}", Err(3));
        check("a: ${#HOST}", Err(3));
        check("a: ${HOST/a/b}", Err(3));
        check("a: ${UNSET:-x", Err(3));
        check("x\nb: ${UNSET:-${A}", Err(5));
    }

    #[test]
    fn messages_say_what_is_wrong() {
        let lookup = |_: &str| None;
        for (text, message) in [
            ("${A", "bad substitution (missing closing brace)"),
            ("${}", "bad substitution (no variable name)"),
            (
                "${A/b}",
                r#"bad substitution "${A/b": only ${VAR} and ${VAR:-default} are supported"#,
            ),
        ] {
            let error = expand(text, &lookup).unwrap_err();
            assert_eq!(error.to_string(), message, "{text}");
        }
    }
}
