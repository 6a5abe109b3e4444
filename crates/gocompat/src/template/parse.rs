//! Template text to nodes: actions, pipelines, commands, control flow.

use std::cell::RefCell;

use super::{Functions, builtins};
use crate::strconv::{quote_rune, unescape};

/// A piece of a template.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Node {
    Text(String),
    Action(Pipe),
    If(Pipe, Vec<Node>, Vec<Node>),
    Range(Pipe, Vec<Node>, Vec<Node>),
    With(Pipe, Vec<Node>, Vec<Node>),
    /// `{{template "name" pipe}}` (and the call half of `{{block}}`).
    Template(String, Option<Pipe>),
    /// `{{break}}`: leaves the innermost `range`.
    Break,
    /// `{{continue}}`: starts the innermost `range`'s next round.
    Continue,
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
    /// `'x'`, as written.
    CharConst(String),
    /// Any other printable ASCII character: Go's lexer passes it on, and
    /// the parser says where it does not belong.
    Char(char),
}

impl Tok {
    /// How Go's parser names the token in "unexpected … in …".
    fn describe(&self) -> String {
        match self {
            Tok::Pipe => "\"|\"".into(),
            Tok::LParen => "\"(\"".into(),
            Tok::RParen => "\")\"".into(),
            Tok::Declare => "\":=\"".into(),
            Tok::Assign => "\"=\"".into(),
            Tok::Comma => "\",\"".into(),
            Tok::Char(c) => format!("{:?}", c.to_string()),
            Tok::CharConst(t) | Tok::Num(t) | Tok::Ident(t) => format!("{t:?}"),
            Tok::Str(t) => format!("{t:?}"),
            Tok::Field(f) => format!("{:?}", format!(".{}", f.join("."))),
            Tok::Var(n, f) if f.is_empty() => format!("{:?}", format!("${n}")),
            Tok::Var(n, f) => format!("{:?}", format!("${n}.{}", f.join("."))),
        }
    }
}

/// What the parser tracks across actions: the variables in scope (Go
/// checks a variable's use at parse time), how many `range`s are open
/// (for `break` and `continue`), and the templates `define` and `block`
/// name.
pub(super) struct State {
    vars: Vec<String>,
    range_depth: usize,
    pub(super) defines: Vec<(String, Vec<Node>)>,
}

struct Ctx<'a> {
    name: &'a str,
    /// The function set the template is parsed for.
    funcs: &'a dyn Functions,
    state: &'a RefCell<State>,
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
        // A comment runs to `*/`, which the closing delimiter must follow.
        let spaced = body_all.trim_start_matches([' ', '\t', '\r', '\n']);
        if let Some(comment) = body_all
            .strip_prefix("/*")
            .or_else(|| (trim_left && spaced.starts_with("/*")).then(|| &spaced[2..]))
        {
            let Some(close) = comment.find("*/") else {
                return Err(format!("template: {name}:{line}: unclosed comment"));
            };
            let after = &comment[close + 2..];
            let (after, trim_right) = match after.strip_prefix(" -}}") {
                Some(a) => (a, true),
                None => match after.strip_prefix("}}") {
                    Some(a) => (a, false),
                    None => {
                        return Err(format!(
                            "template: {name}:{line}: comment ends before closing delimiter"
                        ));
                    }
                },
            };
            line += comment[..close].matches('\n').count();
            pieces.push(Piece::Action("/* */", line));
            rest = if trim_right {
                after.trim_start()
            } else {
                after
            };
            continue;
        }
        // Find the closing braces outside of string literals.
        let mut end = None;
        let bytes = body_all.as_bytes();
        let mut i = 0;
        let mut newlines = 0;
        while i < bytes.len() {
            match bytes.get(i) {
                Some(&q @ (b'"' | b'\'')) => {
                    i += 1;
                    while bytes.get(i) != Some(&q) {
                        match bytes.get(i) {
                            None | Some(b'\n') => {
                                let what = if q == b'"' {
                                    "unterminated quoted string"
                                } else {
                                    "unterminated character constant"
                                };
                                return Err(format!(
                                    "template: {name}:{}: {what}",
                                    line + newlines
                                ));
                            }
                            Some(b'\\') => i += 2,
                            Some(_) => i += 1,
                        }
                    }
                }
                Some(b'`') => {
                    i += 1;
                    while i < bytes.len() && bytes.get(i) != Some(&b'`') {
                        if bytes.get(i) == Some(&b'\n') {
                            newlines += 1;
                        }
                        i += 1;
                    }
                    if i >= bytes.len() {
                        return Err(format!(
                            "template: {name}:{line}: unterminated raw quoted string"
                        ));
                    }
                }
                Some(b'\n') => newlines += 1,
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
                let mut bytes = Vec::new();
                loop {
                    let Some(&c) = chars.get(i) else {
                        return Err(ctx.err("unterminated quoted string"));
                    };
                    i += 1;
                    match c {
                        '"' => break,
                        '\\' => {
                            // Go reads the literal with `strconv.Unquote`.
                            // An escape takes at most nine characters.
                            let rest: String = chars
                                .get(i..chars.len().min(i + 9))
                                .unwrap_or(&[])
                                .iter()
                                .collect();
                            let (escaped, len) =
                                unescape(&rest, '"').map_err(|_| ctx.err("invalid syntax"))?;
                            escaped.push_to(&mut bytes);
                            i += rest.get(..len).map_or(0, |r| r.chars().count());
                        }
                        c => {
                            let mut buf = [0; 4];
                            bytes.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                        }
                    }
                }
                toks.push(Tok::Str(String::from_utf8_lossy(&bytes).into_owned()));
            }
            '\'' => {
                let start = i;
                i += 1;
                loop {
                    match chars.get(i) {
                        None | Some('\n') => {
                            return Err(ctx.err("unterminated character constant"));
                        }
                        Some('\\') => i += 2,
                        Some('\'') => break,
                        Some(_) => i += 1,
                    }
                }
                i += 1;
                toks.push(Tok::CharConst(
                    chars.get(start..i).unwrap_or(&[]).iter().collect(),
                ));
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
            c if c.is_ascii() && !c.is_ascii_control() => {
                toks.push(Tok::Char(c));
                i += 1;
            }
            c => {
                return Err(ctx.err(format!(
                    "unrecognized character in action: U+{:04X} {}",
                    c as u32,
                    quote_rune(c)
                )));
            }
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

/// The value of a character constant as written (`'a'`, `'\n'`), or
/// `None` when it is malformed.
fn char_constant(text: &str) -> Option<i64> {
    let inner = text.strip_prefix('\'')?.strip_suffix('\'')?;
    if let Some(escape) = inner.strip_prefix('\\') {
        let (escaped, len) = unescape(escape, '\'').ok()?;
        if len != escape.len() {
            return None;
        }
        return Some(match escaped {
            crate::strconv::Escaped::Byte(b) => i64::from(b),
            crate::strconv::Escaped::Char(c) => i64::from(u32::from(c)),
        });
    }
    let mut chars = inner.chars();
    let c = chars.next()?;
    chars.next().is_none().then_some(i64::from(u32::from(c)))
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

    fn pipe(&mut self, context: &str) -> Result<Pipe, String> {
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
        // Go adds the variables (assigned ones too) before it reads the
        // commands.
        self.ctx
            .state
            .borrow_mut()
            .vars
            .extend(decl.iter().cloned());
        let mut cmds = Vec::new();
        loop {
            let mut args = Vec::new();
            let mut pos = Vec::new();
            let mut texts = Vec::new();
            while let Some(tok) = self.peek().cloned() {
                let start = self.start();
                let arg = match tok {
                    Tok::Pipe | Tok::RParen if !args.is_empty() || !cmds.is_empty() => break,
                    Tok::RParen if self.depth > 0 => break,
                    Tok::Field(f) => Arg::Field(f),
                    Tok::Var(n, f) => {
                        if !self.ctx.state.borrow().vars.contains(&n) {
                            return Err(self.ctx.err(format!("undefined variable \"${n}\"")));
                        }
                        Arg::Var(n, f)
                    }
                    Tok::CharConst(t) => Arg::Int(char_constant(&t).ok_or_else(|| {
                        self.ctx.err(format!("malformed character constant: {t}"))
                    })?),
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
                        let inner = self.pipe("parenthesized pipeline")?;
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
                    other @ (Tok::Pipe
                    | Tok::RParen
                    | Tok::Comma
                    | Tok::Declare
                    | Tok::Assign
                    | Tok::Char(_)) => {
                        let place = if args.is_empty() { context } else { "operand" };
                        return Err(self
                            .ctx
                            .err(format!("unexpected {} in {place}", other.describe())));
                    }
                };
                self.pos += 1;
                args.push(arg);
                pos.push(start);
                texts.push(self.source(start, self.end()));
            }
            if args.is_empty() {
                return Err(self.ctx.err(format!("missing value for {context}")));
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

/// Parses the pipeline of an action; `context` names it in messages
/// (`command`, `if`, `range`, …).
fn parse_pipe(ctx: &Ctx<'_>, body: &str, context: &str) -> Result<Pipe, String> {
    let toks = lex(ctx, body)?;
    let mut p = PipeParser {
        ctx,
        toks,
        pos: 0,
        depth: 0,
    };
    let pipe = p.pipe(context)?;
    if let Some(tok) = p.peek() {
        return Err(ctx.err(format!("unexpected {} in {context}", tok.describe())));
    }
    Ok(pipe)
}

/// The name of a `define`, `block` or `template` clause: one string.
fn clause_name(ctx: &Ctx<'_>, body: &str, clause: &str) -> Result<(String, usize), String> {
    let toks = lex(ctx, body)?;
    match toks.first() {
        Some((Tok::Str(name), _, end)) => Ok((name.clone(), end - offset_in(ctx.text, body))),
        Some((other, ..)) => Err(ctx.err(format!("unexpected {} in {clause}", other.describe()))),
        None => Err(ctx.err(format!("unexpected \"}}}}\" in {clause}"))),
    }
}

/// What ended a list of nodes.
enum End<'t> {
    Eof,
    Close,
    Else(Option<&'t str>),
}

type Pieces<'t> = std::iter::Peekable<std::vec::IntoIter<Piece<'t>>>;

/// What every action of one parse shares.
struct Shared<'a> {
    name: &'a str,
    funcs: &'a dyn Functions,
    state: RefCell<State>,
}

impl Shared<'_> {
    /// Go's message for a template that ends inside a block: the line is
    /// the last one.
    fn eof(&self, text: &str) -> String {
        let line = text.matches('\n').count() + 1;
        format!("template: {}:{line}: unexpected EOF", self.name)
    }
}

fn nodes<'t>(
    shared: &Shared<'_>,
    text: &'t str,
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
            name: shared.name,
            funcs: shared.funcs,
            state: &shared.state,
            line,
            text,
        };
        let trimmed = body.trim();
        if trimmed.starts_with("/*") {
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
                let node = control(shared, text, &ctx, keyword, rest, pieces, depth)?;
                out.push(node);
            }
            "break" | "continue" => {
                if shared.state.borrow().range_depth == 0 {
                    return Err(ctx.err(format!("{{{{{keyword}}}}} outside {{{{range}}}}")));
                }
                if let Some((tok, ..)) = lex(&ctx, rest)?.first() {
                    return Err(ctx.err(format!(
                        "unexpected {} in {{{{{keyword}}}}}",
                        tok.describe()
                    )));
                }
                out.push(if keyword == "break" {
                    Node::Break
                } else {
                    Node::Continue
                });
            }
            "template" => {
                let (name, end) = clause_name(&ctx, rest, "template clause")?;
                let pipe = rest.get(end..).unwrap_or("").trim();
                let pipe = if pipe.is_empty() {
                    None
                } else {
                    Some(parse_pipe(&ctx, pipe, "template clause")?)
                };
                out.push(Node::Template(name, pipe));
            }
            "define" | "block" => {
                if keyword == "define" && depth > 0 {
                    return Err(ctx.err("unexpected <define> in command"));
                }
                let clause = format!("{keyword} clause");
                let (name, end) = clause_name(&ctx, rest, &clause)?;
                let after = rest.get(end..).unwrap_or("").trim();
                let pipe = match (keyword, after.is_empty()) {
                    ("define", false) => {
                        return Err(ctx.err(format!("unexpected {after:?} in {clause}")));
                    }
                    ("block", false) => Some(parse_pipe(&ctx, after, "block clause")?),
                    _ => None,
                };
                // A definition is a template of its own: only `$`, and no
                // `range` around it.
                let saved = {
                    let mut state = shared.state.borrow_mut();
                    let vars = std::mem::replace(&mut state.vars, vec![String::new()]);
                    let ranges = std::mem::take(&mut state.range_depth);
                    (vars, ranges)
                };
                let (body, end) = nodes(shared, text, pieces, depth + 1)?;
                {
                    let mut state = shared.state.borrow_mut();
                    state.vars = saved.0;
                    state.range_depth = saved.1;
                }
                match end {
                    End::Close => {}
                    End::Eof => return Err(shared.eof(text)),
                    End::Else(_) => return Err(ctx.err("unexpected {{else}}")),
                }
                shared.state.borrow_mut().defines.push((name.clone(), body));
                if keyword == "block" {
                    out.push(Node::Template(name, pipe));
                }
            }
            "" => return Err(ctx.err("missing value for command")),
            _ => out.push(Node::Action(parse_pipe(&ctx, trimmed, "command")?)),
        }
    }
    if depth > 0 {
        return Err(shared.eof(text));
    }
    Ok((out, End::Eof))
}

fn control<'t>(
    shared: &Shared<'_>,
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
    // Variables declared in the control (its pipeline included) end with
    // it, `else` branches included.
    let vars_before = shared.state.borrow().vars.len();
    let pipe = parse_pipe(ctx, rest, keyword)?;
    if keyword == "range" {
        shared.state.borrow_mut().range_depth += 1;
    }
    let body = nodes(shared, text, pieces, depth + 1);
    if keyword == "range" {
        shared.state.borrow_mut().range_depth -= 1;
    }
    let (body, end) = body?;
    let otherwise = match end {
        End::Close => Vec::new(),
        End::Eof => return Err(shared.eof(text)),
        End::Else(None) => {
            let (e, end) = nodes(shared, text, pieces, depth + 1)?;
            match end {
                End::Close => e,
                End::Eof => return Err(shared.eof(text)),
                End::Else(_) => return Err(ctx.err("expected end; found {{else}}")),
            }
        }
        End::Else(Some(chain)) => {
            // `else if …` / `else with …`: a nested control sharing our end.
            let (kw, r) = chain.split_once(char::is_whitespace).unwrap_or((chain, ""));
            if kw != "if" && kw != "with" {
                return Err(ctx.err("unexpected token after else"));
            }
            vec![control(shared, text, ctx, kw, r.trim(), pieces, depth)?]
        }
    };
    shared.state.borrow_mut().vars.truncate(vars_before);
    Ok(match keyword {
        "if" => Node::If(pipe, body, otherwise),
        "range" => Node::Range(pipe, body, otherwise),
        _ => Node::With(pipe, body, otherwise),
    })
}

/// A parsed template: its own nodes and the templates it defines.
pub(super) struct Parsed {
    pub(super) nodes: Vec<Node>,
    pub(super) defines: Vec<(String, Vec<Node>)>,
}

/// Parses a whole template; `vars` are the variables defined before it
/// (besides `$`).
pub(super) fn parse(name: &str, text: &str, funcs: &dyn Functions) -> Result<Parsed, String> {
    let pieces = split(name, text)?;
    let mut iter = pieces.into_iter().peekable();
    let shared = Shared {
        name,
        funcs,
        state: RefCell::new(State {
            vars: vec![String::new()],
            range_depth: 0,
            defines: Vec::new(),
        }),
    };
    let (nodes, _) = nodes(&shared, text, &mut iter, 0)?;
    Ok(Parsed {
        nodes,
        defines: shared.state.into_inner().defines,
    })
}
