//! The recursive-descent LogQL parser: tokens to [`Expr`], with Loki's
//! validation rules and messages.

use model::algebra::{BinaryOp, Cardinality, Grouping, VectorMatching};
use model::{MatchOp, Matcher};

use crate::ast::*;
use crate::error::ParseError;
use crate::lexer::{Tok, Token, lex};
use crate::pipeline::{filter::parse_ip_pattern, pattern::Pattern};

/// Loki's message for selectors that would select every stream.
pub const EMPTY_SELECTOR_MESSAGE: &str = "queries require at least one regexp or equality matcher that does not have an empty-compatible value. For instance, app=~\".*\" does not meet this requirement, but app=~\".+\" will";

/// Parses a whole LogQL query.
pub fn parse(input: &str) -> Result<Expr, ParseError> {
    let mut p = Parser::new(input)?;
    let expr = if p.peek() == &Tok::LBrace {
        let log = p.log_expr()?;
        if p.peek() != &Tok::Eof && binary_op(p.peek()).is_some() {
            return Err(p.unexpected(""));
        }
        Expr::Log(log)
    } else {
        Expr::Metric(p.metric(0)?)
    };
    p.expect_eof()?;
    Ok(expr)
}

/// Parses a log query (a selector and a pipeline), refusing metric queries.
pub fn parse_log_expr(input: &str) -> Result<LogExpr, ParseError> {
    let mut p = Parser::new(input)?;
    let log = p.log_expr()?;
    p.expect_eof()?;
    Ok(log)
}

/// Parses a bare stream selector such as `{app="api", env=~"prod|dev"}`.
pub fn parse_selector(input: &str) -> Result<Vec<Matcher>, ParseError> {
    let mut p = Parser::new(input)?;
    let matchers = p.selector()?;
    p.expect_eof()?;
    Ok(matchers)
}

/// Parses a number the way Go's `strconv.ParseFloat` does: decimal, or hex
/// with a binary exponent (`0x1p3`); `0x1A`, `0b1`, `0o7` are refused.
pub fn parse_go_float(text: &str) -> Option<f64> {
    let lower = text.to_ascii_lowercase();
    if let Some(hex) = lower.strip_prefix("0x") {
        let (mantissa, exp) = hex.split_once('p')?;
        let exp: i32 = exp.parse().ok()?;
        let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        if int.is_empty() && frac.is_empty() {
            return None;
        }
        let mut value = 0.0_f64;
        for c in int.chars() {
            value = value * 16.0 + f64::from(c.to_digit(16)?);
        }
        let mut scale = 1.0 / 16.0;
        for c in frac.chars() {
            value += f64::from(c.to_digit(16)?) * scale;
            scale /= 16.0;
        }
        let value = value * 2f64.powi(exp);
        // Go refuses values out of range rather than rounding to ±Inf.
        return value.is_finite().then_some(value);
    }
    if lower.starts_with("0b") || lower.starts_with("0o") {
        return None;
    }
    if !lower
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | '+' | '-'))
    {
        return None;
    }
    text.parse().ok().filter(|v: &f64| v.is_finite())
}

/// Seconds in a duration literal: Go notation first (`1.5s`), then
/// Prometheus notation (`1d`, `1w`).
pub(crate) fn duration_seconds(text: &str) -> Option<f64> {
    gocompat::duration::parse_go_duration(text)
        .ok()
        .or_else(|| {
            model::duration::parse_duration(text)
                .ok()
                .map(|d| d.as_secs_f64())
        })
}

/// Bytes in a bytes literal (`20KB` = 20,000, `1.5MiB` = 1,572,864).
pub(crate) fn bytes_value(text: &str) -> Option<f64> {
    crate::pipeline::label_filter::parse_bytes(text)
        .ok()
        .map(|b| b as f64)
}

fn binary_op(tok: &Tok) -> Option<BinaryOp> {
    Some(match tok {
        Tok::Add => BinaryOp::Add,
        Tok::Sub => BinaryOp::Sub,
        Tok::Mul => BinaryOp::Mul,
        Tok::Div => BinaryOp::Div,
        Tok::Mod => BinaryOp::Mod,
        Tok::Pow => BinaryOp::Pow,
        Tok::CmpEq => BinaryOp::Eq,
        Tok::Neq => BinaryOp::Ne,
        Tok::Gt => BinaryOp::Gt,
        Tok::Ge => BinaryOp::Ge,
        Tok::Lt => BinaryOp::Lt,
        Tok::Le => BinaryOp::Le,
        Tok::Ident(w) if w == "and" => BinaryOp::And,
        Tok::Ident(w) if w == "or" => BinaryOp::Or,
        Tok::Ident(w) if w == "unless" => BinaryOp::Unless,
        _ => return None,
    })
}

/// Most nesting (parentheses, aggregations) and most binary operators a
/// query may have: deeper trees could overflow the stack when parsed,
/// printed, evaluated or dropped.
const MAX_DEPTH: usize = 128;
const MAX_BINARY_OPS: usize = 512;

struct Parser<'a> {
    input: &'a str,
    tokens: Vec<Token>,
    pos: usize,
    depth: usize,
    binary_ops: usize,
}

impl<'a> Parser<'a> {
    fn new(input: &'a str) -> Result<Self, ParseError> {
        Ok(Self {
            input,
            tokens: lex(input)?,
            pos: 0,
            depth: 0,
            binary_ops: 0,
        })
    }

    fn peek(&self) -> &Tok {
        self.peek_at(0)
    }

    fn peek_at(&self, n: usize) -> &Tok {
        self.tokens
            .get(self.pos + n)
            .or_else(|| self.tokens.last())
            .map_or(&Tok::Eof, |t| &t.tok)
    }

    fn span(&self) -> std::ops::Range<usize> {
        self.tokens
            .get(self.pos)
            .or_else(|| self.tokens.last())
            .map_or(0..0, |t| t.span.clone())
    }

    fn next(&mut self) -> Tok {
        let tok = self.peek().clone();
        if self.pos < self.tokens.len() {
            self.pos += 1;
        }
        tok
    }

    fn is_word(&self, word: &str) -> bool {
        matches!(self.peek(), Tok::Ident(w) if w == word)
    }

    fn err_at(&self, span: std::ops::Range<usize>, message: impl Into<String>) -> ParseError {
        ParseError::new(self.input, span, message)
    }

    fn err(&self, message: impl Into<String>) -> ParseError {
        self.err_at(self.span(), message)
    }

    /// `syntax error: unexpected X[, expecting Y]` at the current token.
    fn unexpected(&self, expecting: &str) -> ParseError {
        let mut message = format!("syntax error: unexpected {}", self.peek().describe());
        if !expecting.is_empty() {
            message.push_str(", expecting ");
            message.push_str(expecting);
        }
        self.err(message)
    }

    fn expect(&mut self, tok: Tok, name: &str) -> Result<(), ParseError> {
        if self.peek() == &tok {
            self.next();
            Ok(())
        } else {
            Err(self.unexpected(name))
        }
    }

    fn expect_eof(&self) -> Result<(), ParseError> {
        if self.peek() == &Tok::Eof {
            Ok(())
        } else {
            Err(self.unexpected(""))
        }
    }

    fn ident(&mut self) -> Result<String, ParseError> {
        match self.peek().clone() {
            Tok::Ident(w) => {
                self.next();
                Ok(w)
            }
            _ => Err(self.unexpected("IDENTIFIER")),
        }
    }

    fn string(&mut self) -> Result<String, ParseError> {
        match self.peek().clone() {
            Tok::Str(s) => {
                self.next();
                Ok(s)
            }
            _ => Err(self.unexpected("STRING")),
        }
    }

    fn number_literal(&mut self) -> Result<f64, ParseError> {
        let span = self.span();
        let negative = match self.peek() {
            Tok::Sub => {
                self.next();
                true
            }
            Tok::Add => {
                self.next();
                false
            }
            _ => false,
        };
        let Tok::Number(text) = self.peek().clone() else {
            return Err(self.unexpected("NUMBER"));
        };
        self.next();
        let value = parse_go_float(&text).ok_or_else(|| {
            self.err_at(
                span,
                format!("unable to parse literal as a float: strconv.ParseFloat: parsing {text:?}: invalid syntax"),
            )
        })?;
        Ok(if negative { -value } else { value })
    }

    // ---- log queries -------------------------------------------------

    fn selector(&mut self) -> Result<Vec<Matcher>, ParseError> {
        let start = self.span().start;
        self.expect(Tok::LBrace, "{")?;
        let mut matchers = Vec::new();
        while self.peek() != &Tok::RBrace {
            if !matchers.is_empty() {
                self.expect(Tok::Comma, "} or ,")?;
            }
            let name_span = self.span();
            let name = self.ident()?;
            let op = match self.next() {
                Tok::Eq => MatchOp::Equal,
                Tok::Neq => MatchOp::NotEqual,
                Tok::Re => MatchOp::Regex,
                Tok::Nre => MatchOp::NotRegex,
                _ => {
                    self.pos -= 1;
                    return Err(self.unexpected("=, !=, =~ or !~"));
                }
            };
            let value = self.string()?;
            let matcher = Matcher::new(op, name, value)
                .map_err(|e| self.err_at(name_span.start..self.span().start, e.to_string()))?;
            matchers.push(matcher);
        }
        let end = self.span().end;
        self.next();
        if matchers.iter().all(Matcher::matches_empty) {
            return Err(self.err_at(start..end, EMPTY_SELECTOR_MESSAGE));
        }
        Ok(matchers)
    }

    fn log_expr(&mut self) -> Result<LogExpr, ParseError> {
        let matchers = self.selector()?;
        let mut stages = Vec::new();
        while let Some(stage) = self.stage()? {
            stages.push(stage);
        }
        Ok(LogExpr { matchers, stages })
    }

    /// One pipeline stage, or `None` when the next token does not start one
    /// (including `| unwrap`, which belongs to log ranges).
    fn stage(&mut self) -> Result<Option<Stage>, ParseError> {
        let op = match self.peek() {
            Tok::PipeExact => LineFilterOp::Contains,
            Tok::Neq => LineFilterOp::NotContains,
            Tok::PipeMatch => LineFilterOp::Regex,
            Tok::Nre => LineFilterOp::NotRegex,
            Tok::PipePattern => LineFilterOp::Pattern,
            Tok::NotPattern => LineFilterOp::NotPattern,
            Tok::Pipe => {
                if matches!(self.peek_at(1), Tok::Ident(w) if w == "unwrap") {
                    return Ok(None);
                }
                self.next();
                return self.pipe_stage().map(Some);
            }
            _ => return Ok(None),
        };
        self.next();
        self.line_filter(op).map(|f| Some(Stage::LineFilter(f)))
    }

    fn line_filter(&mut self, op: LineFilterOp) -> Result<LineFilter, ParseError> {
        let mut values = Vec::new();
        loop {
            let span = self.span();
            let value = if self.is_word("ip") {
                self.next();
                self.expect(Tok::LParen, "(")?;
                let pattern = self.string()?;
                self.expect(Tok::RParen, ")")?;
                if !matches!(op, LineFilterOp::Contains | LineFilterOp::NotContains) {
                    return Err(
                        self.err_at(span, "ip: invalid operation: only |= and != are supported")
                    );
                }
                parse_ip_pattern(&pattern)
                    .map_err(|e| self.err_at(span.start..self.span().start, e))?;
                LineFilterValue::Ip(pattern)
            } else {
                let text = self.string()?;
                match op {
                    LineFilterOp::Regex | LineFilterOp::NotRegex => {
                        regex::Regex::new(&text).map_err(|e| {
                            self.err_at(
                                span.clone(),
                                format!("error parsing regexp: {}", regex_reason(&e)),
                            )
                        })?;
                    }
                    LineFilterOp::Pattern | LineFilterOp::NotPattern => {
                        let pattern =
                            Pattern::parse(&text).map_err(|e| self.err_at(span.clone(), e))?;
                        if pattern.has_named_captures() {
                            return Err(
                                self.err_at(span, "pattern filter: named captures are not allowed")
                            );
                        }
                    }
                    LineFilterOp::Contains | LineFilterOp::NotContains => {}
                }
                LineFilterValue::Text(text)
            };
            values.push(value);
            if self.is_word("or") && matches!(self.peek_at(1), Tok::Str(_) | Tok::Ident(_)) {
                let is_value = match self.peek_at(1) {
                    Tok::Str(_) => true,
                    Tok::Ident(w) => w == "ip" && self.peek_at(2) == &Tok::LParen,
                    _ => false,
                };
                if is_value {
                    self.next();
                    continue;
                }
            }
            return Ok(LineFilter { op, values });
        }
    }

    /// A stage after `|`.
    fn pipe_stage(&mut self) -> Result<Stage, ParseError> {
        if self.peek() == &Tok::LParen {
            return self.label_filter().map(Stage::LabelFilter);
        }
        let word = match self.peek() {
            Tok::Ident(w) => w.clone(),
            _ => return Err(self.unexpected("IDENTIFIER")),
        };
        // A word followed by a comparison is a label filter even when it
        // spells a stage name (`| json="x"` filters the label `json`).
        let is_filter = matches!(
            self.peek_at(1),
            Tok::Eq
                | Tok::Neq
                | Tok::Re
                | Tok::Nre
                | Tok::CmpEq
                | Tok::Gt
                | Tok::Ge
                | Tok::Lt
                | Tok::Le
        );
        if is_filter {
            return self.label_filter().map(Stage::LabelFilter);
        }
        self.next();
        Ok(match word.as_str() {
            "json" => Stage::Parser(ParserExpr::Json(self.extract_params()?)),
            "logfmt" => {
                let (mut strict, mut keep_empty) = (false, false);
                while self.peek() == &Tok::Sub && self.peek_at(1) == &Tok::Sub {
                    self.next();
                    self.next();
                    let flag = self.ident()?;
                    match flag.as_str() {
                        "strict" => strict = true,
                        "keep"
                            if self.peek() == &Tok::Sub
                                && self.peek_at(1) == &Tok::Ident("empty".into()) =>
                        {
                            self.next();
                            self.next();
                            keep_empty = true;
                        }
                        _ => {
                            return Err(
                                self.err(format!("syntax error: unknown logfmt flag --{flag}"))
                            );
                        }
                    }
                }
                Stage::Parser(ParserExpr::Logfmt {
                    strict,
                    keep_empty,
                    params: self.extract_params()?,
                })
            }
            "regexp" => {
                let span = self.span();
                let re = self.string()?;
                crate::pipeline::parsers::RegexpParser::new(&re)
                    .map_err(|e| self.err_at(span, e))?;
                Stage::Parser(ParserExpr::Regexp(re))
            }
            "pattern" => {
                let span = self.span();
                let text = self.string()?;
                Pattern::parse_for_parser(&text).map_err(|e| self.err_at(span, e))?;
                Stage::Parser(ParserExpr::Pattern(text))
            }
            "unpack" => Stage::Parser(ParserExpr::Unpack),
            "line_format" => Stage::LineFormat(self.string()?),
            "label_format" => {
                let mut items = Vec::new();
                loop {
                    let dst = self.ident()?;
                    self.expect(Tok::Eq, "=")?;
                    let item = match self.peek().clone() {
                        Tok::Str(template) => {
                            self.next();
                            LabelFormat::Template { dst, template }
                        }
                        Tok::Ident(src) => {
                            self.next();
                            LabelFormat::Rename { dst, src }
                        }
                        _ => return Err(self.unexpected("STRING or IDENTIFIER")),
                    };
                    items.push(item);
                    if self.peek() != &Tok::Comma {
                        break;
                    }
                    self.next();
                }
                Stage::LabelFormat(items)
            }
            "drop" | "keep" => {
                let mut items = Vec::new();
                loop {
                    let span = self.span();
                    let name = self.ident()?;
                    let op = match self.peek() {
                        Tok::Eq => Some(MatchOp::Equal),
                        Tok::Neq => Some(MatchOp::NotEqual),
                        Tok::Re => Some(MatchOp::Regex),
                        Tok::Nre => Some(MatchOp::NotRegex),
                        _ => None,
                    };
                    let item = match op {
                        Some(op) => {
                            self.next();
                            let value = self.string()?;
                            NameOrMatcher::Matcher(
                                Matcher::new(op, name, value)
                                    .map_err(|e| self.err_at(span, e.to_string()))?,
                            )
                        }
                        None => NameOrMatcher::Name(name),
                    };
                    items.push(item);
                    if self.peek() != &Tok::Comma {
                        break;
                    }
                    self.next();
                }
                if word == "drop" {
                    Stage::Drop(items)
                } else {
                    Stage::Keep(items)
                }
            }
            "decolorize" => Stage::Decolorize,
            _ => {
                self.pos -= 1;
                return Err(self.unexpected(""));
            }
        })
    }

    fn extract_params(&mut self) -> Result<Vec<ExtractParam>, ParseError> {
        let mut params = Vec::new();
        while let Tok::Ident(label) = self.peek().clone() {
            if matches!(
                label.as_str(),
                "and" | "or" | "unless" | "offset" | "by" | "without"
            ) {
                break;
            }
            self.next();
            let expr = if self.peek() == &Tok::Eq {
                self.next();
                Some(self.string()?)
            } else {
                None
            };
            params.push(ExtractParam { label, expr });
            if self.peek() != &Tok::Comma {
                break;
            }
            self.next();
        }
        Ok(params)
    }

    // ---- label filters -------------------------------------------------

    fn label_filter(&mut self) -> Result<LabelFilter, ParseError> {
        let mut lhs = self.label_filter_and()?;
        while self.is_word("or") {
            self.next();
            let rhs = self.label_filter_and()?;
            self.count_binary()?;
            lhs = LabelFilter::Or(Box::new(lhs), Box::new(rhs));
        }
        Ok(lhs)
    }

    fn label_filter_and(&mut self) -> Result<LabelFilter, ParseError> {
        let mut lhs = self.label_filter_primary()?;
        loop {
            let juxtaposed = matches!(self.peek(), Tok::Ident(w) if !matches!(w.as_str(), "or" | "and" | "unless" | "offset" | "by" | "without"))
                && matches!(
                    self.peek_at(1),
                    Tok::Eq
                        | Tok::Neq
                        | Tok::Re
                        | Tok::Nre
                        | Tok::CmpEq
                        | Tok::Gt
                        | Tok::Ge
                        | Tok::Lt
                        | Tok::Le
                );
            if self.is_word("and") || self.peek() == &Tok::Comma {
                self.next();
            } else if !juxtaposed {
                // Juxtaposed filters (`a="1" b="2"`) are joined by `and`.
                break;
            }
            let rhs = self.label_filter_primary()?;
            self.count_binary()?;
            lhs = LabelFilter::And(Box::new(lhs), Box::new(rhs));
        }
        Ok(lhs)
    }

    fn enter(&mut self) -> Result<(), ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.err(format!(
                "query too complex: more than {MAX_DEPTH} nested levels"
            )));
        }
        Ok(())
    }

    fn count_binary(&mut self) -> Result<(), ParseError> {
        self.binary_ops += 1;
        if self.binary_ops > MAX_BINARY_OPS {
            return Err(self.err(format!(
                "query too complex: more than {MAX_BINARY_OPS} binary operations"
            )));
        }
        Ok(())
    }

    fn label_filter_primary(&mut self) -> Result<LabelFilter, ParseError> {
        self.enter()?;
        let result = self.label_filter_primary_inner();
        self.depth -= 1;
        result
    }

    fn label_filter_primary_inner(&mut self) -> Result<LabelFilter, ParseError> {
        if self.peek() == &Tok::LParen {
            self.next();
            let inner = self.label_filter()?;
            self.expect(Tok::RParen, ")")?;
            return Ok(inner);
        }
        let name_span = self.span();
        let name = self.ident()?;
        let op_tok = self.next();
        let string_op = match op_tok {
            Tok::Eq => Some(MatchOp::Equal),
            Tok::Neq => Some(MatchOp::NotEqual),
            Tok::Re => Some(MatchOp::Regex),
            Tok::Nre => Some(MatchOp::NotRegex),
            _ => None,
        };
        let cmp = match op_tok {
            Tok::Eq | Tok::CmpEq | Tok::Re | Tok::Nre => CmpOp::Eq,
            Tok::Neq => CmpOp::Ne,
            Tok::Gt => CmpOp::Gt,
            Tok::Ge => CmpOp::Ge,
            Tok::Lt => CmpOp::Lt,
            Tok::Le => CmpOp::Le,
            _ => {
                self.pos -= 1;
                return Err(self.unexpected("comparison operator"));
            }
        };
        if string_op.is_none() && matches!(self.peek(), Tok::Str(_))
            || matches!(op_tok, Tok::Re | Tok::Nre) && !matches!(self.peek(), Tok::Str(_))
        {
            return Err(self.unexpected(""));
        }
        match (self.peek().clone(), string_op) {
            (Tok::Str(value), Some(op)) => {
                self.next();
                Matcher::new(op, name, value)
                    .map(LabelFilter::Matcher)
                    .map_err(|e| self.err_at(name_span.start..self.span().start, e.to_string()))
            }
            (Tok::Ident(w), Some(op @ (MatchOp::Equal | MatchOp::NotEqual))) if w == "ip" => {
                let span = self.span();
                self.next();
                self.expect(Tok::LParen, "(")?;
                let pattern = self.string()?;
                self.expect(Tok::RParen, ")")?;
                parse_ip_pattern(&pattern)
                    .map_err(|e| self.err_at(span.start..self.span().start, e))?;
                Ok(LabelFilter::Ip {
                    name,
                    equal: op == MatchOp::Equal,
                    pattern,
                })
            }
            (Tok::Duration(text), _) => {
                let span = self.span();
                self.next();
                let seconds = duration_seconds(&text)
                    .ok_or_else(|| self.err_at(span, format!("invalid duration {text:?}")))?;
                Ok(LabelFilter::Duration {
                    name,
                    op: cmp,
                    text,
                    seconds,
                })
            }
            (Tok::Bytes(text), _) => {
                let span = self.span();
                self.next();
                let bytes = bytes_value(&text)
                    .ok_or_else(|| self.err_at(span, format!("invalid bytes {text:?}")))?;
                Ok(LabelFilter::Bytes {
                    name,
                    op: cmp,
                    text,
                    bytes,
                })
            }
            (Tok::Number(_) | Tok::Sub | Tok::Add, _) => {
                let value = self.number_literal()?;
                Ok(LabelFilter::Number {
                    name,
                    op: cmp,
                    value,
                })
            }
            _ => Err(self.unexpected("")),
        }
    }

    // ---- metric queries -------------------------------------------------

    fn metric(&mut self, min_prec: u8) -> Result<MetricExpr, ParseError> {
        self.enter()?;
        let result = self.metric_inner(min_prec);
        self.depth -= 1;
        result
    }

    fn metric_inner(&mut self, min_prec: u8) -> Result<MetricExpr, ParseError> {
        let mut lhs = self.unary()?;
        while let Some(op) = binary_op(self.peek()) {
            let prec = op.precedence();
            if prec < min_prec {
                break;
            }
            let op_span = self.span();
            self.next();
            let mut return_bool = false;
            if self.is_word("bool") {
                if !op.is_comparison() {
                    return Err(self.err("bool modifier can only be used on comparison operators"));
                }
                self.next();
                return_bool = true;
            }
            let matching = self.matching(op)?;
            let next_min = if op.is_right_associative() {
                prec
            } else {
                prec + 1
            };
            let rhs = self.metric(next_min)?;
            if op.is_set() {
                for (leg, side) in [(&lhs, "left"), (&rhs, "right")] {
                    if matches!(leg, MetricExpr::Literal(_)) {
                        return Err(self.err_at(
                            op_span.clone(),
                            format!("unexpected literal for {side} leg of logical/set binary operation ({})", op.as_str()),
                        ));
                    }
                }
            }
            self.count_binary()?;
            lhs = MetricExpr::Binary(Box::new(BinaryExpr {
                op,
                lhs,
                rhs,
                return_bool,
                matching,
            }));
        }
        Ok(lhs)
    }

    fn matching(&mut self, op: BinaryOp) -> Result<Option<VectorMatching>, ParseError> {
        let on = if self.is_word("on") {
            true
        } else if self.is_word("ignoring") {
            false
        } else {
            return Ok(None);
        };
        self.next();
        let labels = self.label_list()?;
        let mut matching = VectorMatching {
            card: Cardinality::OneToOne,
            on,
            labels,
            include: Vec::new(),
        };
        let card = if self.is_word("group_left") {
            Some(Cardinality::ManyToOne)
        } else if self.is_word("group_right") {
            Some(Cardinality::OneToMany)
        } else {
            None
        };
        if let Some(card) = card {
            if op.is_set() {
                return Err(self.err(format!(
                    "no grouping allowed for \"{}\" operation",
                    op.as_str()
                )));
            }
            self.next();
            matching.card = card;
            if self.peek() == &Tok::LParen {
                matching.include = self.label_list()?;
            }
        }
        Ok(Some(matching))
    }

    fn label_list(&mut self) -> Result<Vec<String>, ParseError> {
        self.expect(Tok::LParen, "(")?;
        let mut labels = Vec::new();
        while self.peek() != &Tok::RParen {
            if !labels.is_empty() {
                self.expect(Tok::Comma, ", or )")?;
            }
            labels.push(self.ident()?);
        }
        self.next();
        Ok(labels)
    }

    fn grouping(&mut self) -> Result<Option<Grouping>, ParseError> {
        if self.is_word("by") {
            self.next();
            Ok(Some(Grouping::By(self.label_list()?)))
        } else if self.is_word("without") {
            self.next();
            Ok(Some(Grouping::Without(self.label_list()?)))
        } else {
            Ok(None)
        }
    }

    fn unary(&mut self) -> Result<MetricExpr, ParseError> {
        match self.peek().clone() {
            Tok::Number(_) | Tok::Sub | Tok::Add => self.number_literal().map(MetricExpr::Literal),
            Tok::LParen => {
                self.next();
                let inner = self.metric(0)?;
                self.expect(Tok::RParen, ")")?;
                Ok(inner)
            }
            Tok::Ident(word) => {
                let start = self.span().start;
                if let Some(op) = RangeOp::from_name(&word) {
                    self.next();
                    self.range_aggregation(start, op)
                } else if let Some(op) = VectorOp::from_name(&word) {
                    self.next();
                    self.vector_aggregation(start, op)
                } else if word == "label_replace" {
                    self.next();
                    self.label_replace()
                } else if word == "vector" {
                    self.next();
                    self.expect(Tok::LParen, "(")?;
                    let value = self.number_literal()?;
                    self.expect(Tok::RParen, ")")?;
                    Ok(MetricExpr::Vector1(value))
                } else {
                    Err(self.unexpected(""))
                }
            }
            _ => Err(self.unexpected("")),
        }
    }

    fn range_aggregation(&mut self, start: usize, op: RangeOp) -> Result<MetricExpr, ParseError> {
        self.expect(Tok::LParen, "(")?;
        let param = if op == RangeOp::QuantileOverTime {
            // Unsigned: Loki's grammar has no sign here.
            if !matches!(self.peek(), Tok::Number(_)) {
                return Err(self.unexpected("NUMBER"));
            }
            let value = self.number_literal()?;
            self.expect(Tok::Comma, ",")?;
            Some(value)
        } else {
            None
        };
        let range = self.log_range()?;
        self.expect(Tok::RParen, ")")?;
        let grouping = self.grouping()?;
        let span = start..self.span().start;
        match (op.needs_unwrap(), range.unwrap.is_some()) {
            (Some(true), false) => {
                return Err(self.err_at(
                    span,
                    format!("invalid aggregation {} without unwrap", op.as_str()),
                ));
            }
            (Some(false), true) => {
                return Err(self.err_at(
                    span,
                    format!("invalid aggregation {} with unwrap", op.as_str()),
                ));
            }
            _ => {}
        }
        if grouping.is_some() && !op.allows_grouping() {
            return Err(self.err_at(
                span,
                format!("grouping not allowed for {} aggregation", op.as_str()),
            ));
        }
        Ok(MetricExpr::Range(RangeAggregation {
            op,
            param,
            range,
            grouping,
        }))
    }

    fn duration_ns(&self, text: &str, span: std::ops::Range<usize>) -> Result<i64, ParseError> {
        let seconds = duration_seconds(text)
            .ok_or_else(|| self.err_at(span, format!("not a valid duration string: {text:?}")))?;
        Ok((seconds * 1e9).round() as i64)
    }

    fn log_range(&mut self) -> Result<LogRange, ParseError> {
        let mut depth = 0;
        while self.peek() == &Tok::LParen {
            self.next();
            depth += 1;
        }
        let matchers = self.selector()?;
        let mut stages = Vec::new();
        let mut range_ns = None;
        let mut offset_ns = 0;
        let mut unwrap: Option<Unwrap> = None;
        loop {
            match self.peek().clone() {
                Tok::Range(text) if range_ns.is_none() => {
                    let span = self.span();
                    self.next();
                    range_ns = Some(self.duration_ns(&text, span)?);
                    if self.is_word("offset") {
                        self.next();
                        let span = self.span();
                        let Tok::Duration(text) = self.next() else {
                            return Err(self.err_at(
                                span,
                                "syntax error: unexpected token, expecting DURATION",
                            ));
                        };
                        offset_ns = self.duration_ns(&text, span)?;
                    }
                }
                Tok::RParen if depth > 0 => {
                    self.next();
                    depth -= 1;
                }
                Tok::Pipe if matches!(self.peek_at(1), Tok::Ident(w) if w == "unwrap") => {
                    if unwrap.is_some() {
                        return Err(self.unexpected(""));
                    }
                    self.next();
                    self.next();
                    unwrap = Some(self.unwrap()?);
                }
                Tok::Pipe if unwrap.is_some() => {
                    self.next();
                    let filter = self.label_filter()?;
                    if let Some(u) = unwrap.as_mut() {
                        u.filters.push(filter);
                    }
                }
                _ => match self.stage()? {
                    Some(stage) if unwrap.is_none() => stages.push(stage),
                    Some(_) => {
                        return Err(self.err("syntax error: only label filters may follow unwrap"));
                    }
                    None => break,
                },
            }
        }
        if depth > 0 {
            return Err(self.unexpected(")"));
        }
        let Some(range_ns) = range_ns else {
            return Err(self.unexpected("RANGE"));
        };
        Ok(LogRange {
            log: LogExpr { matchers, stages },
            range_ns,
            offset_ns,
            unwrap,
        })
    }

    fn unwrap(&mut self) -> Result<Unwrap, ParseError> {
        let word = self.ident()?;
        let conv = match word.as_str() {
            "duration" => Some(UnwrapConv::Duration),
            "duration_seconds" => Some(UnwrapConv::DurationSeconds),
            "bytes" => Some(UnwrapConv::Bytes),
            _ => None,
        };
        match conv {
            Some(conv) if self.peek() == &Tok::LParen => {
                self.next();
                let label = self.ident()?;
                self.expect(Tok::RParen, ")")?;
                Ok(Unwrap {
                    label,
                    conv,
                    filters: Vec::new(),
                })
            }
            _ => Ok(Unwrap {
                label: word,
                conv: UnwrapConv::Float,
                filters: Vec::new(),
            }),
        }
    }

    fn vector_aggregation(&mut self, start: usize, op: VectorOp) -> Result<MetricExpr, ParseError> {
        let before = self.grouping()?;
        self.expect(Tok::LParen, "(")?;
        let param_span = self.span();
        let param_text = match (self.peek().clone(), self.peek_at(1)) {
            (Tok::Number(text), Tok::Comma) => {
                self.next();
                self.next();
                Some(text)
            }
            _ => None,
        };
        let expr = self.metric(0)?;
        self.expect(Tok::RParen, ")")?;
        let after = self.grouping()?;
        let grouping = before.or(after);
        let span = start..self.span().start;
        let param = match (op.takes_param(), param_text) {
            (true, None) => {
                return Err(self.err_at(
                    span,
                    format!("parameter required for operation {}", op.as_str()),
                ));
            }
            (true, Some(text)) => {
                let k: i64 = text.parse().map_err(|_| {
                    self.err_at(
                        param_span.clone(),
                        format!("invalid parameter {}({text},", op.as_str()),
                    )
                })?;
                if k <= 0 {
                    return Err(self.err_at(
                        param_span,
                        format!(
                            "invalid parameter (must be greater than 0) {}({text}",
                            op.as_str()
                        ),
                    ));
                }
                Some(k as f64)
            }
            (false, Some(text)) => {
                return Err(self.err_at(
                    param_span,
                    format!(
                        "unsupported parameter for operation {}({text},",
                        op.as_str()
                    ),
                ));
            }
            (false, None) => None,
        };
        if op == VectorOp::ApproxTopk && grouping.is_some() {
            return Err(self.err_at(span, "grouping not allowed for approx_topk aggregation"));
        }
        Ok(MetricExpr::Vector(VectorAggregation {
            op,
            param,
            grouping,
            expr: Box::new(expr),
        }))
    }

    fn label_replace(&mut self) -> Result<MetricExpr, ParseError> {
        self.expect(Tok::LParen, "(")?;
        let expr = self.metric(0)?;
        let mut args = Vec::new();
        let mut regex_span = self.span();
        for _ in 0..4 {
            self.expect(Tok::Comma, ",")?;
            regex_span = self.span();
            args.push(self.string()?);
        }
        self.expect(Tok::RParen, ")")?;
        let [dst, replacement, src, regex] = <[String; 4]>::try_from(args)
            .map_err(|_| self.err("syntax error: label_replace takes five arguments"))?;
        model::anchored_regex(&regex).map_err(|e| self.err_at(regex_span, e.to_string()))?;
        Ok(MetricExpr::LabelReplace(Box::new(LabelReplace {
            expr,
            dst,
            replacement,
            src,
            regex,
        })))
    }
}

/// The last line of a regex error, which says what is wrong.
pub(crate) fn regex_reason(e: &regex::Error) -> String {
    let text = e.to_string();
    text.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim()
        .trim_start_matches("error: ")
        .to_owned()
}
