//! The LogQL lexer: text to tokens with byte spans.
//!
//! Words are not keywords here: the parser decides from context whether
//! `bytes` is a conversion function, a label name or a range aggregation, so
//! label names that spell keywords keep working.

use std::ops::Range;

use crate::error::ParseError;

/// A token kind, with its text for words, strings and literals.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    /// A word: `[A-Za-z_][A-Za-z0-9_]*`.
    Ident(String),
    /// A string with its escapes resolved (double-quoted or backtick).
    Str(String),
    /// A number as written.
    Number(String),
    /// A duration literal as written (`5m`, `1.5s`).
    Duration(String),
    /// A bytes literal as written (`20KB`).
    Bytes(String),
    /// `[…]`: the text between the brackets.
    Range(String),
    LBrace,
    RBrace,
    LParen,
    RParen,
    Comma,
    /// `=`
    Eq,
    /// `!=`
    Neq,
    /// `=~`
    Re,
    /// `!~`
    Nre,
    /// `|=`
    PipeExact,
    /// `|~`
    PipeMatch,
    /// `|>`
    PipePattern,
    /// `!>`
    NotPattern,
    /// `|`
    Pipe,
    /// `==`
    CmpEq,
    Gt,
    Ge,
    Lt,
    Le,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
    Eof,
}

/// Words that are keywords in Loki's grammar; its messages name them
/// (`unexpected bool`) and call other words `IDENTIFIER`.
const KEYWORDS: &[&str] = &[
    "by",
    "without",
    "bool",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "offset",
    "unwrap",
    "and",
    "or",
    "unless",
    "json",
    "logfmt",
    "regexp",
    "pattern",
    "unpack",
    "line_format",
    "label_format",
    "drop",
    "keep",
    "decolorize",
    "ip",
    "duration",
    "duration_seconds",
    "bytes",
    "vector",
    "label_replace",
    "rate",
    "rate_counter",
    "count_over_time",
    "bytes_rate",
    "bytes_over_time",
    "absent_over_time",
    "sum_over_time",
    "avg_over_time",
    "min_over_time",
    "max_over_time",
    "stdvar_over_time",
    "stddev_over_time",
    "quantile_over_time",
    "first_over_time",
    "last_over_time",
    "sum",
    "avg",
    "min",
    "max",
    "count",
    "stddev",
    "stdvar",
    "topk",
    "bottomk",
    "sort",
    "sort_desc",
    "approx_topk",
];

impl Tok {
    /// How the token is named in "unexpected …" messages, as Loki's parser
    /// names it.
    pub(crate) fn describe(&self) -> String {
        match self {
            Tok::Ident(s) if KEYWORDS.contains(&s.as_str()) => s.clone(),
            Tok::Ident(_) => "IDENTIFIER".into(),
            Tok::Str(_) => "STRING".into(),
            Tok::Number(_) => "NUMBER".into(),
            Tok::Duration(_) => "DURATION".into(),
            Tok::Bytes(_) => "BYTES".into(),
            Tok::Range(_) => "RANGE".into(),
            Tok::LBrace => "{".into(),
            Tok::RBrace => "}".into(),
            Tok::LParen => "(".into(),
            Tok::RParen => ")".into(),
            Tok::Comma => ",".into(),
            Tok::Eq => "=".into(),
            Tok::Neq => "!=".into(),
            Tok::Re => "=~".into(),
            Tok::Nre => "!~".into(),
            Tok::PipeExact => "|=".into(),
            Tok::PipeMatch => "|~".into(),
            Tok::PipePattern => "|>".into(),
            Tok::NotPattern => "!>".into(),
            Tok::Pipe => "|".into(),
            Tok::CmpEq => "==".into(),
            Tok::Gt => ">".into(),
            Tok::Ge => ">=".into(),
            Tok::Lt => "<".into(),
            Tok::Le => "<=".into(),
            Tok::Add => "+".into(),
            Tok::Sub => "-".into(),
            Tok::Mul => "*".into(),
            Tok::Div => "/".into(),
            Tok::Mod => "%".into(),
            Tok::Pow => "^".into(),
            Tok::Eof => "$end".into(),
        }
    }
}

/// A token and where it is in the input.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub(crate) tok: Tok,
    pub(crate) span: Range<usize>,
}

/// Units of bytes literals, case-sensitive as in Loki's lexer.
const BYTES_UNITS: [&str; 14] = [
    "B", "kB", "KB", "KiB", "MB", "MiB", "GB", "GiB", "TB", "TiB", "PB", "PiB", "EB", "EiB",
];

/// Splits `input` into tokens, ending with [`Tok::Eof`].
pub(crate) fn lex(input: &str) -> Result<Vec<Token>, ParseError> {
    let mut lexer = Lexer { input, pos: 0 };
    let mut out = Vec::new();
    loop {
        let token = lexer.next()?;
        let end = token.tok == Tok::Eof;
        out.push(token);
        if end {
            return Ok(out);
        }
    }
}

struct Lexer<'a> {
    input: &'a str,
    pos: usize,
}

impl<'a> Lexer<'a> {
    fn rest(&self) -> &'a str {
        self.input.get(self.pos..).unwrap_or("")
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn peek2(&self) -> Option<char> {
        self.rest().chars().nth(1)
    }

    fn err(&self, start: usize, message: impl Into<String>) -> ParseError {
        ParseError::new(self.input, start..self.pos.max(start), message)
    }

    fn next(&mut self) -> Result<Token, ParseError> {
        // Whitespace and `#` comments to the end of the line.
        loop {
            match self.peek() {
                Some(c) if c.is_whitespace() => self.pos += c.len_utf8(),
                Some('#') => {
                    let len = self.rest().find('\n').unwrap_or(self.rest().len());
                    self.pos += len;
                }
                _ => break,
            }
        }
        let start = self.pos;
        let Some(c) = self.peek() else {
            return Ok(Token {
                tok: Tok::Eof,
                span: start..start,
            });
        };
        let two = |l: &mut Self, tok: Tok| {
            l.pos += 2;
            tok
        };
        let one = |l: &mut Self, tok: Tok| {
            l.pos += 1;
            tok
        };
        let tok = match (c, self.peek2()) {
            ('"', _) => self.string()?,
            ('`', _) => self.raw_string()?,
            ('[', _) => self.range()?,
            (c, _) if c.is_ascii_digit() => self.number(),
            ('.', Some(d)) if d.is_ascii_digit() => self.number(),
            (c, _) if c.is_ascii_alphabetic() || c == '_' => {
                let len = self
                    .rest()
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(self.rest().len());
                let word = self.rest().get(..len).unwrap_or("").to_owned();
                self.pos += len;
                Tok::Ident(word)
            }
            ('|', Some('=')) => two(self, Tok::PipeExact),
            ('|', Some('~')) => two(self, Tok::PipeMatch),
            ('|', Some('>')) => two(self, Tok::PipePattern),
            ('|', _) => one(self, Tok::Pipe),
            ('!', Some('=')) => two(self, Tok::Neq),
            ('!', Some('~')) => two(self, Tok::Nre),
            ('!', Some('>')) => two(self, Tok::NotPattern),
            ('=', Some('~')) => two(self, Tok::Re),
            ('=', Some('=')) => two(self, Tok::CmpEq),
            ('=', _) => one(self, Tok::Eq),
            ('>', Some('=')) => two(self, Tok::Ge),
            ('>', _) => one(self, Tok::Gt),
            ('<', Some('=')) => two(self, Tok::Le),
            ('<', _) => one(self, Tok::Lt),
            ('{', _) => one(self, Tok::LBrace),
            ('}', _) => one(self, Tok::RBrace),
            ('(', _) => one(self, Tok::LParen),
            (')', _) => one(self, Tok::RParen),
            (',', _) => one(self, Tok::Comma),
            ('+', _) => one(self, Tok::Add),
            ('-', _) => one(self, Tok::Sub),
            ('*', _) => one(self, Tok::Mul),
            ('/', _) => one(self, Tok::Div),
            ('%', _) => one(self, Tok::Mod),
            ('^', _) => one(self, Tok::Pow),
            (c, _) => {
                self.pos += c.len_utf8();
                return Err(self.err(start, format!("syntax error: unexpected character {c:?}")));
            }
        };
        Ok(Token {
            tok,
            span: start..self.pos,
        })
    }

    fn range(&mut self) -> Result<Tok, ParseError> {
        let start = self.pos;
        let Some(len) = self.rest().find(']') else {
            self.pos = self.input.len();
            return Err(self.err(start, "syntax error: unclosed range"));
        };
        let inner = self.rest().get(1..len).unwrap_or("").trim().to_owned();
        self.pos += len + 1;
        Ok(Tok::Range(inner))
    }

    fn raw_string(&mut self) -> Result<Tok, ParseError> {
        let start = self.pos;
        let body = self.rest().get(1..).unwrap_or("");
        let Some(len) = body.find('`') else {
            self.pos = self.input.len();
            return Err(self.err(start, "literal not terminated"));
        };
        let text = body.get(..len).unwrap_or("").to_owned();
        self.pos += len + 2;
        Ok(Tok::Str(text))
    }

    fn string(&mut self) -> Result<Tok, ParseError> {
        let start = self.pos;
        self.pos += 1;
        let mut bytes: Vec<u8> = Vec::new();
        loop {
            let Some(c) = self.peek() else {
                return Err(self.err(start, "literal not terminated"));
            };
            self.pos += c.len_utf8();
            match c {
                '"' => break,
                '\n' => return Err(self.err(start, "literal not terminated")),
                '\\' => self.escape(start, &mut bytes)?,
                c => {
                    let mut buf = [0u8; 4];
                    bytes.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
            }
        }
        Ok(Tok::Str(String::from_utf8_lossy(&bytes).into_owned()))
    }

    /// One Go escape sequence after a backslash.
    fn escape(&mut self, start: usize, out: &mut Vec<u8>) -> Result<(), ParseError> {
        use gocompat::strconv::{EscapeError, unescape};
        if self.rest().is_empty() {
            return Err(self.err(start, "literal not terminated"));
        }
        let (escaped, len) = unescape(self.rest(), '"').map_err(|e| {
            // Loki reports `strconv.Unquote`'s failure in its own words.
            let why = match e {
                EscapeError::NotTerminated | EscapeError::IllegalDigit(_) => {
                    "invalid syntax: bad escape sequence"
                }
                EscapeError::Unknown(_) => "invalid syntax: unknown escape sequence",
                EscapeError::OctalOutOfRange => "invalid syntax: octal escape out of range",
                EscapeError::InvalidCodePoint => "invalid syntax: invalid unicode escape",
            };
            self.err(start, why)
        })?;
        escaped.push_to(out);
        self.pos += len;
        Ok(())
    }

    /// A number as Go's text/scanner reads it, possibly followed by a
    /// duration or bytes unit.
    fn number(&mut self) -> Tok {
        let start = self.pos;
        let rest = self.rest();
        let bytes = rest.as_bytes();
        let lower = |i: usize| bytes.get(i).map(u8::to_ascii_lowercase);
        let mut i = 0;
        let prefixed = bytes.first() == Some(&b'0') && matches!(lower(1), Some(b'x' | b'b' | b'o'));
        if prefixed {
            let hex = lower(1) == Some(b'x');
            i = 2;
            while let Some(b) = bytes.get(i) {
                let ok = b.is_ascii_hexdigit()
                    || *b == b'_'
                    || *b == b'.'
                    || (hex
                        && matches!(b, b'p' | b'P')
                        && bytes
                            .get(i + 1)
                            .is_some_and(|n| n.is_ascii_digit() || *n == b'+' || *n == b'-'));
                if !ok {
                    break;
                }
                if matches!(b, b'p' | b'P') {
                    i += 2;
                    while bytes.get(i).is_some_and(u8::is_ascii_digit) {
                        i += 1;
                    }
                    break;
                }
                i += 1;
            }
            self.pos += i;
            return Tok::Number(rest.get(..i).unwrap_or("").to_owned());
        }
        while bytes.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if bytes.get(i) == Some(&b'.') {
            i += 1;
            while bytes.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
        }
        if matches!(lower(i), Some(b'e'))
            && (bytes.get(i + 1).is_some_and(u8::is_ascii_digit)
                || (matches!(bytes.get(i + 1), Some(b'+' | b'-'))
                    && bytes.get(i + 2).is_some_and(u8::is_ascii_digit)))
        {
            i += 2;
            while bytes.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
        }
        let number_end = i;
        // A unit: letters, digits and dots (`1m30s`, `1.5MiB`, `250µs`).
        let unit_len = rest
            .get(number_end..)
            .unwrap_or("")
            .find(|c: char| !(c.is_alphanumeric() || c == '.'))
            .unwrap_or(rest.len() - number_end);
        let with_unit = rest.get(..number_end + unit_len).unwrap_or("");
        if unit_len > 0 {
            if gocompat::duration::parse_go_duration(with_unit).is_ok()
                || model::duration::parse_duration(with_unit).is_ok()
            {
                self.pos = start + with_unit.len();
                return Tok::Duration(with_unit.to_owned());
            }
            let unit = with_unit.get(number_end..).unwrap_or("");
            if BYTES_UNITS.contains(&unit) {
                self.pos = start + with_unit.len();
                return Tok::Bytes(with_unit.to_owned());
            }
        }
        self.pos = start + number_end;
        Tok::Number(rest.get(..number_end).unwrap_or("").to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, want: &[Tok]) {
        let got: Vec<Tok> = lex(input).unwrap().into_iter().map(|t| t.tok).collect();
        let mut want = want.to_vec();
        want.push(Tok::Eof);
        assert_eq!(got, want, "{input}");
    }

    fn id(s: &str) -> Tok {
        Tok::Ident(s.into())
    }

    #[test]
    fn selector_and_filters() {
        check(
            r#"{app="a"} |= "x" != `y` |~ "z" !~ "w" |> "p" !> "q""#,
            &[
                Tok::LBrace,
                id("app"),
                Tok::Eq,
                Tok::Str("a".into()),
                Tok::RBrace,
                Tok::PipeExact,
                Tok::Str("x".into()),
                Tok::Neq,
                Tok::Str("y".into()),
                Tok::PipeMatch,
                Tok::Str("z".into()),
                Tok::Nre,
                Tok::Str("w".into()),
                Tok::PipePattern,
                Tok::Str("p".into()),
                Tok::NotPattern,
                Tok::Str("q".into()),
            ],
        );
    }

    #[test]
    fn go_escapes_in_double_quotes_only() {
        check(r#""a\tb\x41\u00e9\101\"""#, &[Tok::Str("a\tbAéA\"".into())]);
        check(r"`a\tb`", &[Tok::Str("a\\tb".into())]);
        assert!(lex(r#""\q""#).is_err());
        assert!(lex(r#""open"#).is_err());
    }

    #[test]
    fn numbers_durations_bytes() {
        check(
            "1.5 5m 1m30s 250ms 1.5s 20KB 1.5MiB 1d",
            &[
                Tok::Number("1.5".into()),
                Tok::Duration("5m".into()),
                Tok::Duration("1m30s".into()),
                Tok::Duration("250ms".into()),
                Tok::Duration("1.5s".into()),
                Tok::Bytes("20KB".into()),
                Tok::Bytes("1.5MiB".into()),
                Tok::Duration("1d".into()),
            ],
        );
        check(
            "0x1p3 0x1A 1e3 1mb",
            &[
                Tok::Number("0x1p3".into()),
                Tok::Number("0x1A".into()),
                Tok::Number("1e3".into()),
                Tok::Number("1".into()),
                id("mb"),
            ],
        );
    }

    #[test]
    fn ranges_comments_and_operators() {
        check(
            "[5m] # comment\n== >= <= ^ %",
            &[
                Tok::Range("5m".into()),
                Tok::CmpEq,
                Tok::Ge,
                Tok::Le,
                Tok::Pow,
                Tok::Mod,
            ],
        );
    }

    #[test]
    fn spans_cover_the_token() {
        let tokens = lex(r#"  {a="b"}"#).unwrap();
        assert_eq!(tokens[0].span, 2..3);
        assert_eq!(tokens[3].span, 5..8);
    }
}
