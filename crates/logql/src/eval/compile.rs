//! From AST stages to pipeline stages (regexes, templates and patterns are
//! compiled here, so their errors surface before any data is read).

use memchr::memmem::Finder;

use crate::ast::{
    LabelFilter, LabelFormat, LineFilterOp, LineFilterValue, NameOrMatcher, ParserExpr, Stage,
};
use crate::error::Error;
use crate::pipeline::Pipeline;
use crate::pipeline::filter::{LineFilterStage, LineMatcher, parse_ip_pattern};
use crate::pipeline::format::{
    Decolorize, Drop, Keep, LabelFormat as LabelFormatStage, LabelSelector, LineFormat,
};
use crate::pipeline::label_filter::{Conversion, LabelFilterStage};
use crate::pipeline::parsers::{
    JsonParser, LogfmtParser, PatternParser, RegexpParser, UnpackParser,
};
use crate::pipeline::pattern::Pattern;

fn invalid(e: impl std::fmt::Display) -> Error {
    Error::Invalid(e.to_string())
}

/// Compiles a label filter expression.
pub(crate) fn compile_label_filter(f: &LabelFilter) -> Result<LabelFilterStage, Error> {
    Ok(match f {
        LabelFilter::Matcher(m) => LabelFilterStage::Matcher(m.clone()),
        LabelFilter::Number { name, op, value } => LabelFilterStage::Compare {
            name: name.clone(),
            op: *op,
            conv: Conversion::Number,
            value: *value,
        },
        LabelFilter::Duration {
            name, op, seconds, ..
        } => LabelFilterStage::Compare {
            name: name.clone(),
            op: *op,
            conv: Conversion::Duration,
            value: *seconds,
        },
        LabelFilter::Bytes {
            name, op, bytes, ..
        } => LabelFilterStage::Compare {
            name: name.clone(),
            op: *op,
            conv: Conversion::Bytes,
            value: *bytes,
        },
        LabelFilter::Ip {
            name,
            equal,
            pattern,
        } => LabelFilterStage::Ip {
            name: name.clone(),
            equal: *equal,
            pattern: parse_ip_pattern(pattern).map_err(invalid)?,
        },
        LabelFilter::And(a, b) => LabelFilterStage::And(
            Box::new(compile_label_filter(a)?),
            Box::new(compile_label_filter(b)?),
        ),
        LabelFilter::Or(a, b) => LabelFilterStage::Or(
            Box::new(compile_label_filter(a)?),
            Box::new(compile_label_filter(b)?),
        ),
    })
}

fn selectors(items: &[NameOrMatcher]) -> Vec<LabelSelector> {
    items
        .iter()
        .map(|i| match i {
            NameOrMatcher::Name(n) => LabelSelector::Name(n.clone()),
            NameOrMatcher::Matcher(m) => LabelSelector::Matcher(m.clone()),
        })
        .collect()
}

/// Builds the pipeline of a log expression's stages.
pub fn compile_pipeline(stages: &[Stage]) -> Result<Pipeline, Error> {
    let mut p = Pipeline::new();
    for stage in stages {
        match stage {
            Stage::LineFilter(lf) => {
                let mut alternatives = Vec::new();
                for v in &lf.values {
                    alternatives.push(match (lf.op, v) {
                        (
                            LineFilterOp::Contains | LineFilterOp::NotContains,
                            LineFilterValue::Text(t),
                        ) => LineMatcher::Contains(Finder::new(t.as_bytes()).into_owned()),
                        (
                            LineFilterOp::Regex | LineFilterOp::NotRegex,
                            LineFilterValue::Text(t),
                        ) => LineMatcher::Regex(regex::bytes::Regex::new(t).map_err(|e| {
                            invalid(format!(
                                "error parsing regexp: {}",
                                crate::parser::regex_reason(&e)
                            ))
                        })?),
                        (
                            LineFilterOp::Pattern | LineFilterOp::NotPattern,
                            LineFilterValue::Text(t),
                        ) => LineMatcher::Pattern(Pattern::parse(t).map_err(invalid)?),
                        (
                            LineFilterOp::Contains | LineFilterOp::NotContains,
                            LineFilterValue::Ip(ip),
                        ) => LineMatcher::Ip(parse_ip_pattern(ip).map_err(invalid)?),
                        (_, LineFilterValue::Ip(_)) => {
                            return Err(invalid(
                                "ip: invalid operation: only |= and != are supported",
                            ));
                        }
                    });
                }
                p.push_line_filter(LineFilterStage::new(alternatives, lf.op.is_negative()));
            }
            Stage::Parser(parser) => p.push(match parser {
                ParserExpr::Json(params) if params.is_empty() => Box::new(JsonParser::all()),
                ParserExpr::Json(params) => {
                    let pairs: Vec<(String, String)> = params
                        .iter()
                        .map(|x| {
                            (
                                x.label.clone(),
                                x.expr.clone().unwrap_or_else(|| x.label.clone()),
                            )
                        })
                        .collect();
                    Box::new(JsonParser::with_params(&pairs).map_err(invalid)?)
                }
                ParserExpr::Logfmt {
                    strict,
                    keep_empty,
                    params,
                } => Box::new(LogfmtParser {
                    strict: *strict,
                    keep_empty: *keep_empty,
                    params: params
                        .iter()
                        .map(|x| {
                            (
                                x.label.clone(),
                                x.expr.clone().unwrap_or_else(|| x.label.clone()),
                            )
                        })
                        .collect(),
                }),
                ParserExpr::Regexp(re) => Box::new(RegexpParser::new(re).map_err(invalid)?),
                ParserExpr::Pattern(pat) => Box::new(PatternParser::new(pat).map_err(invalid)?),
                ParserExpr::Unpack => Box::new(UnpackParser),
            }),
            Stage::LabelFilter(f) => p.push(Box::new(compile_label_filter(f)?)),
            Stage::LineFormat(t) => p.push(Box::new(LineFormat::new(t).map_err(invalid)?)),
            Stage::LabelFormat(items) => {
                let items = items
                    .iter()
                    .map(|i| match i {
                        LabelFormat::Rename { dst, src } => (dst.clone(), Ok(src.clone())),
                        LabelFormat::Template { dst, template } => {
                            (dst.clone(), Err(template.clone()))
                        }
                    })
                    .collect();
                p.push(Box::new(LabelFormatStage::new(items).map_err(invalid)?));
            }
            Stage::Drop(items) => p.push(Box::new(Drop(selectors(items)))),
            Stage::Keep(items) => p.push(Box::new(Keep(selectors(items)))),
            Stage::Decolorize => p.push(Box::new(Decolorize::new())),
        }
    }
    Ok(p)
}
