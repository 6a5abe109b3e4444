//! Template text to nodes: actions, pipelines, commands, control flow.

use super::{Functions, builtins};

/// A piece of a template.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Node {
    Text(String),
    Action(Pipe),
    If(Pipe, Vec<Node>, Vec<Node>),
    Range(Pipe, Vec<Node>, Vec<Node>),
    With(Pipe, Vec<Node>, Vec<Node>),
}

/// `[$a[, $b] :=] cmd | cmd …`.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Pipe {
    pub(super) decl: Vec<String>,
    /// `=` rather than `:=`.
    pub(super) assign: bool,
    pub(super) cmds: Vec<Cmd>,
}

/// One command: a function and its arguments, or a single operand, with
/// where each operand is in the template and its text (for Go's error
/// messages, `template: line:1:77: executing "line" at <1>: …`).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Cmd {
    pub(super) args: Vec<Arg>,
    /// Byte offset of each operand in the template.
    pub(super) pos: Vec<usize>,
    /// Source text of each operand.
    pub(super) texts: Vec<String>,
}

impl Cmd {
    /// Offset and text of the whole command.
    pub(super) fn node(&self) -> (usize, String) {
        (self.pos.first().copied().unwrap_or(0), self.texts.join(" "))
    }
}

/// An operand.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Arg {
    /// `.a.b` (empty: `.`).
    Field(Vec<String>),
    /// `$x.a.b`.
    Var(String, Vec<String>),
    /// `(pipe).a.b`.
    Sub(Box<Pipe>, Vec<String>),
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Nil,
    Func(String),
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Field(Vec<String>),
    Var(String, Vec<String>),
    Str(String),
    Num(String),
    Ident(String),
    Pipe,
    LParen,
    RParen,
    Declare,
    Assign,
    Comma,
}

struct Ctx<'a> {
    name: &'a str,
    /// The function set the template is parsed for.
    funcs: &'a dyn Functions,
    line: usize,
    /// The whole template, to place tokens.
    text: &'a str,
}

/// Byte offset of `part` (a slice of `whole`) in `whole`.
fn offset_in(whole: &str, part: &str) -> usize {
    (part.as_ptr() as usize)
        .saturating_sub(whole.as_ptr() as usize)
        .min(whole.len())
}

impl Ctx<'_> {
    fn err(&self, msg: impl std::fmt::Display) -> String {
        format!("template: {}:{}: {msg}", self.name, self.line)
    }
}

/// One action's text with its line, or a piece of text.
enum Piece<'t> {
    Text(String),
    Action(&'t str, usize),
}

fn split<'t>(name: &str, text: &'t str) -> Result<Vec<Piece<'t>>, String> {
    let mut pieces = Vec::new();
    let mut rest = text;
    let mut line = 1;
    while let Some(start) = rest.find("{{") {
        let mut before = rest.get(..start).unwrap_or("").to_owned();
        let after_open = rest.get(start + 2..).unwrap_or("");
        let (trim_left, body_start) = if after_open.starts_with("- ")
            || after_open.starts_with("-\t")
            || after_open.starts_with("-\n")
        {
            (true, 1)
        } else {
            (false, 0)
        };
        if trim_left {
            before = before.trim_end().to_owned();
        }
        line += before.matches('\n').count();
        pieces.push(Piece::Text(before));
        let body_all = after_open.get(body_start..).unwrap_or("");
        // Find the closing braces outside of string literals.
        let mut end = None;
        let bytes = body_all.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            match bytes.get(i) {
                Some(b'"') => {
                    i += 1;
                    while i < bytes.len() && bytes.get(i) != Some(&b'"') {
                        if bytes.get(i) == Some(&b'\\') {
                            i += 1;
                        }
                        i += 1;
                    }
                }
                Some(b'`') => {
                    i += 1;
                    while i < bytes.len() && bytes.get(i) != Some(&b'`') {
                        i += 1;
                    }
                }
                Some(b'}') if bytes.get(i + 1) == Some(&b'}') => {
                    end = Some(i);
                    break;
                }
                _ => {}
            }
            i += 1;
        }
        let Some(end) = end else {
            return Err(format!("template: {name}:{line}: unclosed action"));
        };
        let mut body = body_all.get(..end).unwrap_or("");
        let mut trim_right = false;
        if body.ends_with(" -") || body.ends_with("\t-") || body.ends_with("\n-") {
            body = body.get(..body.len() - 1).unwrap_or("");
            trim_right = true;
        }
        pieces.push(Piece::Action(body, line));
        line += body.matches('\n').count();
        rest = body_all.get(end + 2..).unwrap_or("");
        if trim_right {
            rest = rest.trim_start();
        }
    }
    pieces.push(Piece::Text(rest.to_owned()));
    Ok(pieces)
}

fn fields(s: &str) -> Vec<String> {
    s.split('.')
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Tokens with the byte range each covers in the template.
type Spanned = (Tok, usize, usize);

fn lex(ctx: &Ctx<'_>, body: &str) -> Result<Vec<Spanned>, String> {
    let base = offset_in(ctx.text, body);
    let byte_at: Vec<usize> = body
        .char_indices()
        .map(|(b, _)| b)
        .chain(std::iter::once(body.len()))
        .collect();
    let at = |i: usize| base + byte_at.get(i).copied().unwrap_or(body.len());
    let mut spanned: Vec<Spanned> = Vec::new();
    let mut toks = Vec::new();
    let chars: Vec<char> = body.chars().collect();
    let mut i = 0;
    let word_char = |c: char| c.is_alphanumeric() || c == '_';
    while let Some(&c) = chars.get(i) {
        let start = i;
        let before = toks.len();
        lex_one(ctx, &chars, &mut i, &mut toks, c, word_char)?;
        for tok in toks.drain(before..) {
            spanned.push((tok, at(start), at(i)));
        }
    }
    Ok(spanned)
}

fn lex_one(
    ctx: &Ctx<'_>,
    chars: &[char],
    pos: &mut usize,
    toks: &mut Vec<Tok>,
    c: char,
    word_char: impl Fn(char) -> bool,
) -> Result<(), String> {
    let mut i = *pos;
    {
        match c {
            c if c.is_whitespace() => i += 1,
            '|' => {
                toks.push(Tok::Pipe);
                i += 1;
            }
            '(' => {
                toks.push(Tok::LParen);
                i += 1;
            }
            ')' => {
                toks.push(Tok::RParen);
                i += 1;
                // `(…).field`
                if chars.get(i) == Some(&'.') {
                    let start = i;
                    while chars.get(i).is_some_and(|c| word_char(*c) || *c == '.') {
                        i += 1;
                    }
                    let s: String = chars.get(start..i).unwrap_or(&[]).iter().collect();
                    toks.push(Tok::Field(fields(&s)));
                }
            }
            ',' => {
                toks.push(Tok::Comma);
                i += 1;
            }
            ':' if chars.get(i + 1) == Some(&'=') => {
                toks.push(Tok::Declare);
                i += 2;
            }
            '=' => {
                toks.push(Tok::Assign);
                i += 1;
            }
            '.' => {
                let start = i;
                i += 1;
                while chars.get(i).is_some_and(|c| word_char(*c) || *c == '.') {
                    i += 1;
                }
                let s: String = chars.get(start..i).unwrap_or(&[]).iter().collect();
                toks.push(Tok::Field(fields(&s)));
            }
            '$' => {
                let start = i + 1;
                i += 1;
                while chars.get(i).is_some_and(|c| word_char(*c)) {
                    i += 1;
                }
                let name: String = chars.get(start..i).unwrap_or(&[]).iter().collect();
                let fstart = i;
                while chars.get(i).is_some_and(|c| word_char(*c) || *c == '.') {
                    i += 1;
                }
                let f: String = chars.get(fstart..i).unwrap_or(&[]).iter().collect();
                toks.push(Tok::Var(name, fields(&f)));
            }
            '"' => {
                i += 1;
                let mut s = String::new();
                loop {
                    let Some(&c) = chars.get(i) else {
                        return Err(ctx.err("unterminated quoted string"));
                    };
                    i += 1;
                    match c {
                        '"' => break,
                        '\\' => {
                            let Some(&e) = chars.get(i) else {
                                return Err(ctx.err("unterminated quoted string"));
                            };
                            i += 1;
                            match e {
                                'n' => s.push('\n'),
                                't' => s.push('\t'),
                                'r' => s.push('\r'),
                                '\\' => s.push('\\'),
                                '"' => s.push('"'),
                                'a' => s.push('\u{7}'),
                                'b' => s.push('\u{8}'),
                                'f' => s.push('\u{c}'),
                                'v' => s.push('\u{b}'),
                                'x' | 'u' | 'U' => {
                                    let n = match e {
                                        'x' => 2,
                                        'u' => 4,
                                        _ => 8,
                                    };
                                    let hex: String =
                                        chars.get(i..i + n).unwrap_or(&[]).iter().collect();
                                    i += n;
                                    let v = u32::from_str_radix(&hex, 16)
                                        .map_err(|_| ctx.err("invalid syntax"))?;
                                    s.push(
                                        char::from_u32(v)
                                            .ok_or_else(|| ctx.err("invalid syntax"))?,
                                    );
                                }
                                _ => return Err(ctx.err("invalid syntax")),
                            }
                        }
                        c => s.push(c),
                    }
                }
                toks.push(Tok::Str(s));
            }
            '`' => {
                i += 1;
                let start = i;
                while chars.get(i).is_some_and(|c| *c != '`') {
                    i += 1;
                }
                if i >= chars.len() {
                    return Err(ctx.err("unterminated raw quoted string"));
                }
                toks.push(Tok::Str(
                    chars.get(start..i).unwrap_or(&[]).iter().collect(),
                ));
                i += 1;
            }
            c if c.is_ascii_digit()
                || ((c == '-' || c == '+')
                    && chars.get(i + 1).is_some_and(char::is_ascii_digit)) =>
            {
                let start = i;
                i += 1;
                while chars
                    .get(i)
                    .is_some_and(|c| c.is_ascii_alphanumeric() || *c == '.' || *c == '_')
                {
                    i += 1;
                }
                toks.push(Tok::Num(
                    chars.get(start..i).unwrap_or(&[]).iter().collect(),
                ));
            }
            c if word_char(c) => {
                let start = i;
                while chars.get(i).is_some_and(|c| word_char(*c)) {
                    i += 1;
                }
                toks.push(Tok::Ident(
                    chars.get(start..i).unwrap_or(&[]).iter().collect(),
                ));
            }
            c => return Err(ctx.err(format!("unexpected {c:?} in command"))),
        }
    }
    *pos = i;
    Ok(())
}

/// Most nesting of parentheses or control blocks in a template.
const MAX_DEPTH: usize = 64;

struct PipeParser<'a, 'c> {
    ctx: &'a Ctx<'c>,
    toks: Vec<Spanned>,
    pos: usize,
    depth: usize,
}

impl PipeParser<'_, '_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|t| &t.0)
    }

    /// Start offset of the current token.
    fn start(&self) -> usize {
        self.toks.get(self.pos).map_or(self.ctx.text.len(), |t| t.1)
    }

    /// End offset of the previous token.
    fn end(&self) -> usize {
        self.pos
            .checked_sub(1)
            .and_then(|p| self.toks.get(p))
            .map_or(0, |t| t.2)
    }

    fn source(&self, start: usize, end: usize) -> String {
        self.ctx
            .text
            .get(start..end.max(start))
            .unwrap_or("")
            .to_owned()
    }

    fn pipe(&mut self) -> Result<Pipe, String> {
        let mut decl = Vec::new();
        let mut assign = false;
        // `$a :=`, `$a, $b :=`, `$a =`
        let save = self.pos;
        while let Some(Tok::Var(name, f)) = self.peek().cloned() {
            if !f.is_empty() {
                break;
            }
            self.pos += 1;
            decl.push(name);
            match self.peek() {
                Some(Tok::Comma) => self.pos += 1,
                Some(Tok::Declare) => {
                    self.pos += 1;
                    break;
                }
                Some(Tok::Assign) => {
                    self.pos += 1;
                    assign = true;
                    break;
                }
                _ => {
                    decl.clear();
                    self.pos = save;
                    break;
                }
            }
        }
        let mut cmds = Vec::new();
        loop {
            let mut args = Vec::new();
            let mut pos = Vec::new();
            let mut texts = Vec::new();
            while let Some(tok) = self.peek().cloned() {
                let start = self.start();
                let arg = match tok {
                    Tok::Pipe | Tok::RParen => break,
                    Tok::Field(f) => Arg::Field(f),
                    Tok::Var(n, f) => Arg::Var(n, f),
                    Tok::Str(s) => Arg::Str(s),
                    Tok::Num(n) => parse_number(&n)
                        .ok_or_else(|| self.ctx.err(format!("bad number syntax: {n:?}")))?,
                    Tok::Ident(w) => match w.as_str() {
                        "true" => Arg::Bool(true),
                        "false" => Arg::Bool(false),
                        "nil" => Arg::Nil,
                        _ if self.ctx.funcs.has(&w) || builtins::has(&w) => Arg::Func(w),
                        _ => return Err(self.ctx.err(format!("function {w:?} not defined"))),
                    },
                    Tok::LParen => {
                        self.pos += 1;
                        self.depth += 1;
                        if self.depth > MAX_DEPTH {
                            return Err(self.ctx.err("template too deeply nested"));
                        }
                        let inner = self.pipe()?;
                        self.depth -= 1;
                        if self.peek() != Some(&Tok::RParen) {
                            return Err(self.ctx.err("unclosed left paren"));
                        }
                        self.pos += 1;
                        let f = match self.peek() {
                            Some(Tok::Field(f)) => {
                                let f = f.clone();
                                self.pos += 1;
                                f
                            }
                            _ => Vec::new(),
                        };
                        args.push(Arg::Sub(Box::new(inner), f));
                        pos.push(start);
                        texts.push(self.source(start, self.end()));
                        continue;
                    }
                    Tok::Comma | Tok::Declare | Tok::Assign => {
                        return Err(self.ctx.err("unexpected token in operand"));
                    }
                };
                self.pos += 1;
                args.push(arg);
                pos.push(start);
                texts.push(self.source(start, self.end()));
            }
            if args.is_empty() {
                return Err(self.ctx.err("missing value for command"));
            }
            cmds.push(Cmd { args, pos, texts });
            if self.peek() == Some(&Tok::Pipe) {
                self.pos += 1;
                continue;
            }
            break;
        }
        Ok(Pipe { decl, assign, cmds })
    }
}

fn parse_number(n: &str) -> Option<Arg> {
    if let Ok(i) = n.parse::<i64>() {
        return Some(Arg::Int(i));
    }
    let lower = n.to_ascii_lowercase();
    let (neg, digits) = lower
        .strip_prefix('-')
        .map_or((false, lower.as_str()), |d| (true, d));
    if let Some(hex) = digits.strip_prefix("0x") {
        return i64::from_str_radix(hex, 16)
            .ok()
            .map(|v| Arg::Int(if neg { -v } else { v }));
    }
    n.parse::<f64>().ok().map(Arg::Float)
}

fn parse_pipe(ctx: &Ctx<'_>, body: &str) -> Result<Pipe, String> {
    let toks = lex(ctx, body)?;
    let mut p = PipeParser {
        ctx,
        toks,
        pos: 0,
        depth: 0,
    };
    let pipe = p.pipe()?;
    if p.pos != p.toks.len() {
        return Err(ctx.err("unexpected token in command"));
    }
    Ok(pipe)
}

/// What ended a list of nodes.
enum End<'t> {
    Eof,
    Close,
    Else(Option<&'t str>),
}

type Pieces<'t> = std::iter::Peekable<std::vec::IntoIter<Piece<'t>>>;

fn nodes<'t>(
    name: &str,
    text: &'t str,
    funcs: &dyn Functions,
    pieces: &mut Pieces<'t>,
    depth: usize,
) -> Result<(Vec<Node>, End<'t>), String> {
    let mut out = Vec::new();
    while let Some(piece) = pieces.next() {
        let (body, line) = match piece {
            Piece::Text(t) => {
                if !t.is_empty() {
                    out.push(Node::Text(t));
                }
                continue;
            }
            Piece::Action(b, l) => (b, l),
        };
        let ctx = Ctx {
            name,
            funcs,
            line,
            text,
        };
        let trimmed = body.trim();
        if trimmed.starts_with("/*") {
            if !trimmed.ends_with("*/") {
                return Err(ctx.err("unclosed comment"));
            }
            continue;
        }
        let (keyword, rest) = match trimmed.split_once(char::is_whitespace) {
            Some((k, r)) => (k, r.trim()),
            None => (trimmed, ""),
        };
        match keyword {
            "end" => {
                if depth == 0 {
                    return Err(ctx.err("unexpected {{end}}"));
                }
                return Ok((out, End::Close));
            }
            "else" => {
                if depth == 0 {
                    return Err(ctx.err("unexpected {{else}}"));
                }
                return Ok((out, End::Else((!rest.is_empty()).then_some(rest))));
            }
            "if" | "range" | "with" => {
                let node = control(text, &ctx, keyword, rest, pieces, depth)?;
                out.push(node);
            }
            "" => return Err(ctx.err("missing value for command")),
            _ => out.push(Node::Action(parse_pipe(&ctx, trimmed)?)),
        }
    }
    if depth > 0 {
        return Err(format!("template: {name}: unexpected EOF"));
    }
    Ok((out, End::Eof))
}

fn control<'t>(
    text: &'t str,
    ctx: &Ctx<'_>,
    keyword: &str,
    rest: &'t str,
    pieces: &mut Pieces<'t>,
    depth: usize,
) -> Result<Node, String> {
    if depth >= MAX_DEPTH {
        return Err(ctx.err("template too deeply nested"));
    }
    let pipe = parse_pipe(ctx, rest)?;
    let (body, end) = nodes(ctx.name, text, ctx.funcs, pieces, depth + 1)?;
    let otherwise = match end {
        End::Close => Vec::new(),
        End::Eof => return Err(format!("template: {}: unexpected EOF", ctx.name)),
        End::Else(None) => {
            let (e, end) = nodes(ctx.name, text, ctx.funcs, pieces, depth + 1)?;
            if !matches!(end, End::Close) {
                return Err(ctx.err("expected end; found else"));
            }
            e
        }
        End::Else(Some(chain)) => {
            // `else if …` / `else with …`: a nested control sharing our end.
            let (kw, r) = chain.split_once(char::is_whitespace).unwrap_or((chain, ""));
            if kw != "if" && kw != "with" {
                return Err(ctx.err("unexpected token after else"));
            }
            vec![control(text, ctx, kw, r.trim(), pieces, depth)?]
        }
    };
    Ok(match keyword {
        "if" => Node::If(pipe, body, otherwise),
        "range" => Node::Range(pipe, body, otherwise),
        _ => Node::With(pipe, body, otherwise),
    })
}

/// Parses a whole template.
pub(super) fn parse(name: &str, text: &str, funcs: &dyn Functions) -> Result<Vec<Node>, String> {
    let pieces = split(name, text)?;
    let mut iter = pieces.into_iter().peekable();
    let (out, _) = nodes(name, text, funcs, &mut iter, 0)?;
    Ok(out)
}
