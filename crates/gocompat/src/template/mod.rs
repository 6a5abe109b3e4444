//! Go's `text/template`: the engine, with Go's builtins, and function sets
//! that each user brings.
//!
//! The engine covers text, `{{ pipelines }}` with `.field` chains,
//! variables (checked at parse time, as Go does), `if`/`else`/`range`/
//! `with`, `break`/`continue`, `define`/`template`/`block`, string, raw
//! string and character constants, trim markers and comments, and
//! reports Go's messages (`template: NAME:LINE: …` when parsing,
//! `template: NAME:LINE:COL: executing "NAME" at <node>: …` when running).
//! Like Go, a template is parsed against its functions: an unknown name
//! fails at parse time.
//!
//! # Function sets
//!
//! Go's builtins (`and`, `or`, `not`, `len`, `index`, `slice`, `call`,
//! `print`, `printf`, `println`, `eq`, `ne`, `lt`, `le`, `gt`, `ge`,
//! `urlquery`, `html`, `js`) are always there. Everything else comes from a [`Functions`]
//! value passed to [`Template::parse`] and [`Template::execute`]: Loki's
//! `line_format` library lives in `logql`, Prometheus' alert functions in
//! `prom`, sprig's generic functions ([`Sprig`]) and Promtail's set
//! ([`Promtail`]) here. To add a set, implement [`Functions`] on a type that holds
//! whatever the functions need at run time (Loki's holds the log line and
//! its timestamp), list its names in `has`, and evaluate them in `call`;
//! the argument helpers of this module ([`arity`], [`str_arg`],
//! [`int_arg`], [`strict_int_arg`], [`float_arg`]) read arguments as Go
//! and sprig convert them. A name a set has shadows the builtin of that
//! name, as a Go `FuncMap` does.
//!
//! ```
//! use gocompat::template::{FnError, Functions, Template, Value, str_arg};
//!
//! /// A set with one function, `shout`.
//! struct Shout;
//! impl Functions for Shout {
//!     fn has(&self, name: &str) -> bool {
//!         name == "shout"
//!     }
//!     fn call(&self, _name: &str, args: Vec<Value>) -> Result<Value, FnError> {
//!         Ok(Value::Str(str_arg(&args, 0).to_uppercase()))
//!     }
//! }
//!
//! let t = Template::parse("t", "{{ .who | shout }}!", &Shout).unwrap();
//! let dot = Value::Map(vec![("who".into(), Value::Str("go".into()))], true);
//! assert_eq!(t.execute(&dot, &Shout).unwrap(), "GO!");
//! assert!(Template::parse("t", "{{ nope }}", &Shout).is_err());
//! ```

mod builtins;
mod exec;
mod parse;
mod sprig;
mod value;

pub use builtins::sprintf;
pub use sprig::{GO_STRINGS, Promtail, Sprig, time_arg};
pub use value::{FieldError, Value};

/// Bound on a rendered template (bytes), so that a template cannot exhaust
/// memory; functions that build large strings (`repeat`, `indent`) check
/// their result against it too.
pub const MAX_OUTPUT: usize = 1 << 20;

/// A set of template functions besides Go's builtins.
pub trait Functions {
    /// Whether the set defines `name`.
    fn has(&self, name: &str) -> bool;
    /// Calls `name` (one the set [`has`](Functions::has)) with its
    /// arguments, already evaluated, the piped value last.
    fn call(&self, name: &str, args: Vec<Value>) -> Result<Value, FnError>;
}

/// Go's builtins alone.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoFunctions;

impl Functions for NoFunctions {
    fn has(&self, _: &str) -> bool {
        false
    }
    fn call(&self, name: &str, _: Vec<Value>) -> Result<Value, FnError> {
        Err(FnError::Call(format!("function {name:?} not defined")))
    }
}

/// Why a function call failed: a bad argument (Go points at it in the
/// message) or the call itself.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FnError {
    /// The `n`th argument (from 0) has the wrong type.
    #[error("{1}")]
    Arg(usize, String),
    /// Anything else; reported as `error calling NAME: …`.
    #[error("{0}")]
    Call(String),
}

impl From<String> for FnError {
    fn from(s: String) -> Self {
        FnError::Call(s)
    }
}

impl From<&str> for FnError {
    fn from(s: &str) -> Self {
        FnError::Call(s.to_owned())
    }
}

/// Go's "wrong number of args" unless `args` holds exactly `n`.
pub fn arity(name: &str, args: &[Value], n: usize) -> Result<(), FnError> {
    if args.len() == n {
        Ok(())
    } else {
        Err(FnError::Call(format!(
            "wrong number of args for {name}: want {n} got {}",
            args.len()
        )))
    }
}

/// Argument `i` as a string (missing: empty).
pub fn str_arg(args: &[Value], i: usize) -> String {
    args.get(i).map(Value::as_string).unwrap_or_default()
}

/// Argument `i` as sprig's `toInt64` reads it (missing: 0).
pub fn int_arg(args: &[Value], i: usize) -> i64 {
    args.get(i).map(Value::as_int).unwrap_or(0)
}

/// Argument `i` as sprig's `toFloat64` reads it (missing: 0).
pub fn float_arg(args: &[Value], i: usize) -> f64 {
    args.get(i).map(Value::as_float).unwrap_or(0.0)
}

/// Argument `i` where Go declares an `int`: any other type is an error
/// that points at the argument, as in Go.
pub fn strict_int_arg(args: &[Value], i: usize) -> Result<i64, FnError> {
    match args.get(i) {
        Some(Value::Int(v)) => Ok(*v),
        Some(other) => Err(FnError::Arg(
            i,
            format!(
                "wrong type for value; expected int; got {}",
                other.type_name()
            ),
        )),
        None => Err(FnError::Call("missing argument".into())),
    }
}

/// A template that failed to parse or to run; the message is Go's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct TemplateError {
    message: String,
}

impl TemplateError {
    /// The message, as Go would print it.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl From<String> for TemplateError {
    fn from(message: String) -> Self {
        Self { message }
    }
}

/// A parsed template.
#[derive(Debug, Clone)]
pub struct Template {
    name: String,
    text: String,
    nodes: Vec<parse::Node>,
    /// What `{{define}}` and `{{block}}` name, for `{{template}}`.
    defines: Vec<(String, Vec<parse::Node>)>,
}

impl Template {
    /// Parses `text` for the functions of `funcs` (and Go's builtins);
    /// `name` appears in messages (`template: line:1: …`).
    pub fn parse(name: &str, text: &str, funcs: &dyn Functions) -> Result<Self, TemplateError> {
        let parsed = parse::parse(name, text, funcs)?;
        Ok(Self {
            name: name.to_owned(),
            text: text.to_owned(),
            nodes: parsed.nodes,
            defines: parsed.defines,
        })
    }

    /// The template's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Runs the template with `dot` as `.` (and `$`), calling `funcs`.
    pub fn execute(&self, dot: &Value, funcs: &dyn Functions) -> Result<String, TemplateError> {
        let mut out = String::new();
        exec::Exec::new(&self.name, &self.text, funcs, &self.defines).run(
            &self.nodes,
            dot,
            &mut out,
        )?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests;
