//! Label-set text as a protobuf push sends it (`{job="x", env="prod"}`), read
//! as Loki reads it: Prometheus' `ParseMetric` grammar and error texts, then
//! empty values dropped.

use gocompat::strconv::{EscapeError, quote, quote_rune, unescape};
use model::Labels;

/// A stream's labels read from their text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedLabels {
    /// The set, sorted, without empty values.
    pub labels: Labels,
    /// Number of pairs kept, counting repeats (Loki counts them).
    pub count: usize,
    /// The first name sent twice, if any (Loki refuses such a stream when it
    /// validates it, not when it decodes it).
    pub duplicate: Option<String>,
}

/// A label set that does not parse, with Prometheus' text, e.g. `1:2:
/// parse error: unexpected character inside braces: '1'`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct LabelsError(pub String);

/// Parses a label set such as `{job="x"}` or `up{job="x"}` (the metric name
/// becomes `__name__`), as Loki's `syntax.ParseLabels` does.
pub fn parse_labels(text: &str) -> Result<ParsedLabels, LabelsError> {
    let mut p = Parser {
        lexer: Lexer::new(text),
    };
    let pairs = p.metric().map_err(|e| LabelsError(e.render(text)))?;
    // Empty values are absent labels; repeats are kept so validation sees them.
    let mut pairs: Vec<(String, String)> =
        pairs.into_iter().filter(|(_, v)| !v.is_empty()).collect();
    pairs.sort_by(|a, b| a.0.cmp(&b.0));
    let duplicate = pairs
        .windows(2)
        .find(|w| w[0].0 == w[1].0)
        .map(|w| w[0].0.clone());
    let count = pairs.len();
    Ok(ParsedLabels {
        labels: Labels::from_pairs(pairs),
        count,
        duplicate,
    })
}

/// Renders a label set as Go's Prometheus and Loki print it: `{a="1", b="2"}`,
/// values quoted by `strconv.Quote`.
pub fn labels_string(labels: &Labels) -> String {
    lokipush::labels_text(labels.iter().map(|l| (l.name, l.value)))
}

/// A parse error at a byte offset, rendered `line:col: parse error: msg`.
struct ParseErr {
    pos: usize,
    msg: String,
}

impl ParseErr {
    fn render(&self, src: &str) -> String {
        let pos = self.pos.min(src.len());
        let before = src.get(..pos).unwrap_or(src);
        let line = 1 + before.bytes().filter(|&b| b == b'\n').count();
        let col = pos as i64 - before.rfind('\n').map_or(-1, |i| i as i64);
        format!("{line}:{col}: parse error: {}", self.msg)
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    LeftBrace,
    RightBrace,
    Comma,
    /// `=`, `!=`, `=~`, `!~`: only `=` is allowed in a label set.
    Op(&'static str),
    Ident(String),
    /// A quoted string: its source text and its value.
    Str(String, String),
    Eof,
}

impl Tok {
    /// Prometheus' description of a token in "unexpected ..." messages.
    fn desc(&self) -> String {
        match self {
            Tok::LeftBrace => "\"{\"".to_owned(),
            Tok::RightBrace => "\"}\"".to_owned(),
            Tok::Comma => "\",\"".to_owned(),
            Tok::Op(op) => format!("<op:{op}>"),
            Tok::Ident(name) => format!("identifier {}", quote(name)),
            Tok::Str(raw, _) => {
                if raw.chars().count() > 10 {
                    let head: String = raw.chars().take(10).collect();
                    format!("string {}...", quote(&head))
                } else {
                    format!("string {}", quote(raw))
                }
            }
            Tok::Eof => "end of input".to_owned(),
        }
    }
}

struct Lexer<'a> {
    src: &'a str,
    pos: usize,
    in_braces: bool,
}

impl<'a> Lexer<'a> {
    fn new(src: &'a str) -> Self {
        Self {
            src,
            pos: 0,
            in_braces: false,
        }
    }

    fn peek_char(&self) -> Option<char> {
        self.src[self.pos..].chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek_char()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    /// The next token and its start offset.
    fn next(&mut self) -> Result<(usize, Tok), ParseErr> {
        while matches!(self.peek_char(), Some(' ' | '\t' | '\n' | '\r')) {
            self.pos += 1;
        }
        let start = self.pos;
        let err = |msg: String| Err(ParseErr { pos: start, msg });
        let Some(c) = self.bump() else {
            if self.in_braces {
                return err("unexpected end of input inside braces".to_owned());
            }
            return Ok((start, Tok::Eof));
        };
        let tok = match c {
            '{' if self.in_braces => {
                return err(format!("unexpected left brace {}", quote_rune(c)));
            }
            '{' => {
                self.in_braces = true;
                Tok::LeftBrace
            }
            '}' if self.in_braces => {
                self.in_braces = false;
                Tok::RightBrace
            }
            ',' if self.in_braces => Tok::Comma,
            '=' if self.in_braces => {
                if self.peek_char() == Some('~') {
                    self.pos += 1;
                    Tok::Op("=~")
                } else {
                    Tok::Op("=")
                }
            }
            '!' if self.in_braces => match self.bump() {
                Some('~') => Tok::Op("!~"),
                Some('=') => Tok::Op("!="),
                other => {
                    let shown = other.map_or_else(|| "EOF".to_owned(), quote_rune);
                    return err(format!(
                        "unexpected character after '!' inside braces: {shown}"
                    ));
                }
            },
            '"' | '\'' if self.in_braces => return self.string(start, c),
            '`' if self.in_braces => return self.raw_string(start),
            c if c.is_ascii_alphabetic() || c == '_' || (c == ':' && !self.in_braces) => {
                while let Some(n) = self.peek_char() {
                    if n.is_ascii_alphanumeric() || n == '_' || (n == ':' && !self.in_braces) {
                        self.pos += 1;
                    } else {
                        break;
                    }
                }
                Tok::Ident(self.src[start..self.pos].to_owned())
            }
            c if self.in_braces => {
                return err(format!(
                    "unexpected character inside braces: {}",
                    quote_rune(c)
                ));
            }
            c => return err(format!("unexpected character: {}", quote_rune(c))),
        };
        Ok((start, tok))
    }

    fn string(&mut self, start: usize, quote: char) -> Result<(usize, Tok), ParseErr> {
        let mut value: Vec<u8> = Vec::new();
        loop {
            let err = |msg: &str| {
                Err(ParseErr {
                    pos: start,
                    msg: msg.to_owned(),
                })
            };
            match self.bump() {
                None | Some('\n') => return err("unterminated quoted string"),
                Some(c) if c == quote => break,
                Some('\\') => self.escape(start, quote, &mut value)?,
                Some(c) => {
                    let mut buf = [0; 4];
                    value.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
            }
        }
        let raw = self.src[start..self.pos].to_owned();
        let value = String::from_utf8(value)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
        Ok((start, Tok::Str(raw, value)))
    }

    fn escape(&mut self, start: usize, quote: char, value: &mut Vec<u8>) -> Result<(), ParseErr> {
        let err = |msg: String| Err(ParseErr { pos: start, msg });
        match unescape(&self.src[self.pos..], quote) {
            Ok((escaped, len)) => {
                escaped.push_to(value);
                self.pos += len;
                Ok(())
            }
            // Prometheus' lexer words these its own way.
            Err(EscapeError::NotTerminated) => err("escape sequence not terminated".to_owned()),
            Err(EscapeError::Unknown(c)) => {
                err(format!("unknown escape sequence {}", go_hash_u(c)))
            }
            Err(EscapeError::IllegalDigit(d)) => err(format!(
                "illegal character {} in escape sequence",
                go_hash_u(d)
            )),
            Err(EscapeError::OctalOutOfRange | EscapeError::InvalidCodePoint) => {
                err("escape sequence is an invalid Unicode code point".to_owned())
            }
        }
    }

    fn raw_string(&mut self, start: usize) -> Result<(usize, Tok), ParseErr> {
        match self.src[self.pos..].find('`') {
            Some(end) => {
                let value = self.src[self.pos..self.pos + end].to_owned();
                self.pos += end + 1;
                Ok((start, Tok::Str(self.src[start..self.pos].to_owned(), value)))
            }
            None => Err(ParseErr {
                pos: start,
                msg: "unterminated raw string".to_owned(),
            }),
        }
    }
}

/// Go's `%#U`: `U+0071 'q'`.
fn go_hash_u(c: char) -> String {
    format!("U+{:04X} {}", c as u32, quote_rune(c))
}

struct Parser<'a> {
    lexer: Lexer<'a>,
}

impl Parser<'_> {
    fn unexpected(pos: usize, tok: &Tok, expected: &str) -> ParseErr {
        let msg = if expected.is_empty() {
            format!("unexpected {}", tok.desc())
        } else {
            format!(
                "unexpected {} in label set, expected {expected}",
                tok.desc()
            )
        };
        ParseErr { pos, msg }
    }

    /// `metric: metric_identifier label_set | label_set`, then end of input.
    fn metric(&mut self) -> Result<Vec<(String, String)>, ParseErr> {
        let mut pairs = Vec::new();
        let (mut pos, mut tok) = self.lexer.next()?;
        if let Tok::Ident(name) = &tok {
            pairs.push((model::METRIC_NAME.to_owned(), name.clone()));
            (pos, tok) = self.lexer.next()?;
        }
        if tok == Tok::LeftBrace {
            self.label_set(&mut pairs)?;
            (pos, tok) = self.lexer.next()?;
        }
        if tok != Tok::Eof {
            return Err(Self::unexpected(pos, &tok, ""));
        }
        Ok(pairs)
    }

    /// After `{`: items separated by commas, an optional trailing comma, `}`.
    fn label_set(&mut self, pairs: &mut Vec<(String, String)>) -> Result<(), ParseErr> {
        let (mut pos, mut tok) = self.lexer.next()?;
        if tok == Tok::RightBrace {
            return Ok(());
        }
        loop {
            let Tok::Ident(name) = tok else {
                return Err(Self::unexpected(pos, &tok, "identifier or \"}\""));
            };
            let (p, t) = self.lexer.next()?;
            if t != Tok::Op("=") {
                return Err(Self::unexpected(p, &t, "\"=\""));
            }
            let (p, t) = self.lexer.next()?;
            let Tok::Str(_, value) = t else {
                return Err(Self::unexpected(p, &t, "string"));
            };
            pairs.push((name, value));
            let (p, t) = self.lexer.next()?;
            match t {
                Tok::RightBrace => return Ok(()),
                Tok::Comma => {
                    (pos, tok) = self.lexer.next()?;
                    if tok == Tok::RightBrace {
                        return Ok(());
                    }
                }
                t => return Err(Self::unexpected(p, &t, "\",\" or \"}\"")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, expected: &str) {
        let got = match parse_labels(input) {
            Ok(p) => labels_string(&p.labels),
            Err(e) => e.0,
        };
        assert_eq!(got, expected, "{input}");
    }

    #[test]
    fn label_sets() {
        check(r#"{job="x"}"#, r#"{job="x"}"#);
        check(r#"{b="2", a="1",}"#, r#"{a="1", b="2"}"#);
        check(r#"{a="", b="1"}"#, r#"{b="1"}"#);
        check(r#"up{a='x\n'}"#, r#"{__name__="up", a="x\n"}"#);
        check("{a=`raw\\`}", r#"{a="raw\\"}"#);
        check("{}", "{}");
        check(
            r#"{1="x"}"#,
            "1:2: parse error: unexpected character inside braces: '1'",
        );
        check(
            r#"{a="x""#,
            "1:7: parse error: unexpected end of input inside braces",
        );
        check(r#"{a="x}"#, "1:4: parse error: unterminated quoted string");
        check(
            r#"{a}"#,
            "1:3: parse error: unexpected \"}\" in label set, expected \"=\"",
        );
        check(
            r#"{a=~"x"}"#,
            "1:3: parse error: unexpected <op:=~> in label set, expected \"=\"",
        );
        check(
            r#"{a="x" b="y"}"#,
            "1:8: parse error: unexpected identifier \"b\" in label set, expected \",\" or \"}\"",
        );
        check(
            r#"{a="\q"}"#,
            "1:4: parse error: unknown escape sequence U+0071 'q'",
        );
    }

    #[test]
    fn duplicates_are_reported() {
        let p = parse_labels(r#"{a="1", a="2"}"#).unwrap();
        assert_eq!(p.duplicate.as_deref(), Some("a"));
        assert_eq!(p.count, 2);
    }
}
