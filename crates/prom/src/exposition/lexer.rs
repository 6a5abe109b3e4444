//! A cursor over one line of an exposition, with the token rules both
//! formats share.

use std::borrow::Cow;

/// Reads tokens from one line; every method leaves the cursor unchanged
/// when it fails.
pub(super) struct Cursor<'a> {
    line: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    pub(super) fn new(line: &'a str) -> Self {
        Self { line, pos: 0 }
    }

    pub(super) fn rest(&self) -> &'a str {
        &self.line[self.pos..]
    }

    pub(super) fn at_end(&self) -> bool {
        self.pos == self.line.len()
    }

    pub(super) fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    /// Consumes `c` if it comes next.
    pub(super) fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.pos += c.len_utf8();
            true
        } else {
            false
        }
    }

    /// Consumes `prefix` if it comes next.
    pub(super) fn eat_str(&mut self, prefix: &str) -> bool {
        if self.rest().starts_with(prefix) {
            self.pos += prefix.len();
            true
        } else {
            false
        }
    }

    /// Skips spaces and tabs; returns how many were skipped.
    pub(super) fn skip_blanks(&mut self) -> usize {
        let n = self
            .rest()
            .bytes()
            .take_while(|b| *b == b' ' || *b == b'\t')
            .count();
        self.pos += n;
        n
    }

    /// Consumes a run of characters up to a space, tab or end of line.
    pub(super) fn word(&mut self) -> &'a str {
        let rest = self.rest();
        let n = rest.find([' ', '\t']).unwrap_or(rest.len());
        self.pos += n;
        &rest[..n]
    }

    /// Consumes a run matching `[a-zA-Z_:][a-zA-Z0-9_:]*` (`colons` set)
    /// or `[a-zA-Z_][a-zA-Z0-9_]*`.
    pub(super) fn identifier(&mut self, colons: bool) -> Option<&'a str> {
        let rest = self.rest();
        let allowed = |b: u8, first: bool| {
            b.is_ascii_alphabetic()
                || b == b'_'
                || (colons && b == b':')
                || (!first && b.is_ascii_digit())
        };
        let n = rest
            .bytes()
            .enumerate()
            .take_while(|(i, b)| allowed(*b, *i == 0))
            .count();
        (n > 0).then(|| {
            self.pos += n;
            &rest[..n]
        })
    }

    /// Consumes a double-quoted string, unescaping `\\`, `\"` and `\n`;
    /// borrowed from the line when it holds no escape (the common case, and
    /// the one a scrape takes for every label of every sample).
    pub(super) fn quoted(&mut self) -> Result<Cow<'a, str>, String> {
        let start = self.pos;
        if !self.eat('"') {
            return Err(format!("expected '\"', found {:?}", self.peek_display()));
        }
        let rest = self.rest();
        let Some(end) = rest.find(['"', '\\']) else {
            self.pos = start;
            return Err("unterminated quoted string".into());
        };
        if rest.as_bytes()[end] == b'"' {
            self.pos += end + 1;
            return Ok(Cow::Borrowed(&rest[..end]));
        }
        let mut out = String::from(&rest[..end]);
        let mut chars = rest[end..].char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    self.pos += end + i + 1;
                    return Ok(Cow::Owned(out));
                }
                '\\' => match chars.next() {
                    Some((_, '\\')) => out.push('\\'),
                    Some((_, '"')) => out.push('"'),
                    Some((_, 'n')) => out.push('\n'),
                    Some((_, other)) => {
                        // Prometheus keeps unknown escapes as written.
                        out.push('\\');
                        out.push(other);
                    }
                    None => break,
                },
                c => out.push(c),
            }
        }
        self.pos = start;
        Err("unterminated quoted string".into())
    }

    /// What comes next, for error messages.
    pub(super) fn peek_display(&self) -> String {
        match self.peek() {
            None => "end of line".into(),
            Some(_) => {
                let word: String = self.rest().chars().take(16).collect();
                format!("{word:?}")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Cursor;

    #[test]
    fn identifiers() {
        let mut c = Cursor::new("a_b:c9{");
        assert_eq!(c.identifier(true), Some("a_b:c9"));
        assert_eq!(c.rest(), "{");
        let mut c = Cursor::new("a:b");
        assert_eq!(c.identifier(false), Some("a"));
        let mut c = Cursor::new("9a");
        assert_eq!(c.identifier(true), None);
        assert_eq!(c.rest(), "9a");
    }

    #[test]
    fn quoted_strings_unescape() {
        let mut c = Cursor::new(r#""a\"b\\c\nd\t" rest"#);
        assert_eq!(c.quoted().unwrap(), "a\"b\\c\nd\\t");
        assert_eq!(c.rest(), " rest");
        let mut c = Cursor::new(r#""open"#);
        assert!(c.quoted().is_err());
        assert_eq!(c.rest(), "\"open");
        let mut c = Cursor::new(r#""ends with backslash\"#);
        assert!(c.quoted().is_err());
    }

    #[test]
    fn multibyte_text_is_handled_by_char() {
        let mut c = Cursor::new("\"é\u{1F600}\"x");
        assert_eq!(c.quoted().unwrap(), "é\u{1F600}");
        assert!(c.eat('x'));
        assert!(c.at_end());
    }
}
