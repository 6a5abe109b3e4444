//! Template execution.

use super::parse::{Arg, Cmd, Node, Pipe};
use super::value::Value;
use super::{FnError, Functions, MAX_OUTPUT, builtins};

pub(super) struct Exec<'a> {
    name: &'a str,
    text: &'a str,
    funcs: &'a dyn Functions,
    defines: &'a [(String, Vec<Node>)],
    /// How deep `{{template}}` calls are nested.
    calls: usize,
    vars: Vec<(String, Value)>,
    steps: usize,
}

/// Bound on executed nodes, so that a template cannot loop for ever.
const MAX_STEPS: usize = 100_000;
/// Bound on nested `{{template}}` calls, so that a recursive template
/// cannot exhaust the stack.
const MAX_CALLS: usize = 100;

/// How a list of nodes ended: normally, or by `{{break}}`/`{{continue}}`
/// for the innermost `range` to act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Flow {
    Normal,
    Break,
    Continue,
}

/// Calls `name` from the template's function set, or Go's builtin of
/// that name: as in Go, a set's function shadows a builtin.
fn call(funcs: &dyn Functions, name: &str, args: Vec<Value>) -> Result<Value, FnError> {
    if funcs.has(name) {
        funcs.call(name, args)
    } else {
        builtins::call(name, args)
    }
}

impl<'a> Exec<'a> {
    pub(super) fn new(
        name: &'a str,
        text: &'a str,
        funcs: &'a dyn Functions,
        defines: &'a [(String, Vec<Node>)],
    ) -> Self {
        Self {
            name,
            text,
            funcs,
            defines,
            calls: 0,
            vars: Vec::new(),
            steps: 0,
        }
    }

    fn err(&self, msg: impl std::fmt::Display) -> String {
        format!(
            "template: {}: executing \"{}\": {msg}",
            self.name, self.name
        )
    }

    pub(super) fn run(
        &mut self,
        nodes: &[Node],
        dot: &Value,
        out: &mut String,
    ) -> Result<Flow, String> {
        if self.vars.is_empty() {
            self.vars.push(("".into(), dot.clone()));
        }
        for node in nodes {
            self.steps += 1;
            if self.steps > MAX_STEPS {
                return Err(self.err("template too complex"));
            }
            if out.len() > MAX_OUTPUT {
                return Err(self.err("template output too large"));
            }
            let mark = self.vars.len();
            match node {
                Node::Text(t) => out.push_str(t),
                Node::Action(pipe) => {
                    let v = self.pipe(pipe, dot)?;
                    if pipe.decl.is_empty() {
                        out.push_str(&v.display());
                    }
                    // Declarations stay visible for the rest of this list.
                    continue;
                }
                Node::If(pipe, then, otherwise) => {
                    let v = self.pipe(pipe, dot)?;
                    let flow = if v.truthy() {
                        self.run(then, dot, out)?
                    } else {
                        self.run(otherwise, dot, out)?
                    };
                    if flow != Flow::Normal {
                        self.vars.truncate(mark);
                        return Ok(flow);
                    }
                }
                Node::With(pipe, then, otherwise) => {
                    let v = self.pipe(pipe, dot)?;
                    let flow = if v.truthy() {
                        self.run(then, &v, out)?
                    } else {
                        self.run(otherwise, dot, out)?
                    };
                    if flow != Flow::Normal {
                        self.vars.truncate(mark);
                        return Ok(flow);
                    }
                }
                Node::Break => {
                    self.vars.truncate(mark);
                    return Ok(Flow::Break);
                }
                Node::Continue => {
                    self.vars.truncate(mark);
                    return Ok(Flow::Continue);
                }
                Node::Template(name, pipe) => {
                    let v = match pipe {
                        Some(pipe) => self.pipe(pipe, dot)?,
                        None => Value::Nil,
                    };
                    let Some((_, body)) = self.defines.iter().rev().find(|(n, _)| n == name) else {
                        return Err(self.err(format!("no such template {name:?}")));
                    };
                    if self.calls >= MAX_CALLS {
                        return Err(
                            self.err(format!("exceeded maximum template depth ({MAX_CALLS})"))
                        );
                    }
                    // A called template sees only `$`, set to its dot.
                    let saved = std::mem::replace(&mut self.vars, vec![(String::new(), v.clone())]);
                    self.calls += 1;
                    let result = self.run(body, &v, out);
                    self.calls -= 1;
                    self.vars = saved;
                    result?;
                }
                Node::Range(pipe, body, otherwise) => {
                    let no_decl = Pipe {
                        decl: Vec::new(),
                        assign: false,
                        cmds: pipe.cmds.clone(),
                    };
                    let v = self.pipe(&no_decl, dot)?;
                    let items: Vec<(Value, Value)> = match v {
                        Value::List(items) => items
                            .into_iter()
                            .enumerate()
                            .map(|(i, v)| (Value::Int(i as i64), v))
                            .collect(),
                        Value::Map(pairs, _) => {
                            pairs.into_iter().map(|(k, v)| (Value::Str(k), v)).collect()
                        }
                        Value::Int(n) => (0..n.clamp(0, MAX_STEPS as i64))
                            .map(|i| (Value::Int(i), Value::Int(i)))
                            .collect(),
                        Value::Nil => Vec::new(),
                        other => {
                            return Err(
                                self.err(format!("range can't iterate over {}", other.display()))
                            );
                        }
                    };
                    if items.is_empty() {
                        let flow = self.run(otherwise, dot, out)?;
                        if flow != Flow::Normal {
                            self.vars.truncate(mark);
                            return Ok(flow);
                        }
                    }
                    for (k, v) in items {
                        let inner = self.vars.len();
                        match pipe.decl.as_slice() {
                            [one] => self.vars.push((one.clone(), v.clone())),
                            [key, val, ..] => {
                                self.vars.push((key.clone(), k));
                                self.vars.push((val.clone(), v.clone()));
                            }
                            [] => {}
                        }
                        let flow = self.run(body, &v, out)?;
                        self.vars.truncate(inner);
                        if flow == Flow::Break {
                            break;
                        }
                    }
                }
            }
            self.vars.truncate(mark);
        }
        Ok(Flow::Normal)
    }

    fn pipe(&mut self, pipe: &Pipe, dot: &Value) -> Result<Value, String> {
        let mut prev: Option<Value> = None;
        for cmd in &pipe.cmds {
            prev = Some(self.cmd(cmd, dot, prev)?);
        }
        let v = prev.unwrap_or(Value::Nil);
        if let Some(name) = pipe.decl.first() {
            if pipe.assign {
                match self.vars.iter_mut().rev().find(|(n, _)| n == name) {
                    Some(slot) => slot.1 = v.clone(),
                    None => return Err(self.err(format!("undefined variable: ${name}"))),
                }
            } else {
                self.vars.push((name.clone(), v.clone()));
            }
        }
        Ok(v)
    }

    /// Go's message for a failure at a node: `template: line:1:77:
    /// executing "line" at <1>: …`.
    fn err_at(&self, pos: usize, node: &str, msg: impl std::fmt::Display) -> String {
        let before = self.text.get(..pos).unwrap_or(self.text);
        let line = before.matches('\n').count() + 1;
        let col = pos - before.rfind('\n').map_or(0, |nl| nl + 1);
        format!(
            "template: {}:{line}:{col}: executing \"{}\" at <{node}>: {msg}",
            self.name, self.name
        )
    }

    fn cmd(&mut self, cmd: &Cmd, dot: &Value, prev: Option<Value>) -> Result<Value, String> {
        let (cmd_pos, cmd_text) = cmd.node();
        match cmd.args.split_first() {
            Some((Arg::Func(name), rest)) => {
                let mut values = Vec::with_capacity(rest.len() + 1);
                for (k, a) in rest.iter().enumerate() {
                    values.push(self.arg(
                        a,
                        dot,
                        cmd.pos.get(k + 1).copied(),
                        cmd.texts.get(k + 1),
                    )?);
                }
                if let Some(p) = prev {
                    values.push(p);
                }
                call(self.funcs, name, values).map_err(|e| match e {
                    FnError::Arg(k, msg) if k < rest.len() => self.err_at(
                        cmd.pos.get(k + 1).copied().unwrap_or(cmd_pos),
                        cmd.texts.get(k + 1).map_or("", String::as_str),
                        msg,
                    ),
                    // A bad piped value: Go points at the last node it
                    // evaluated, the last explicit argument or the name.
                    FnError::Arg(_, msg) => {
                        let last = rest.len();
                        self.err_at(
                            cmd.pos.get(last).copied().unwrap_or(cmd_pos),
                            cmd.texts.get(last).map_or("", String::as_str),
                            msg,
                        )
                    }
                    FnError::Call(msg) => {
                        self.err_at(cmd_pos, &cmd_text, format!("error calling {name}: {msg}"))
                    }
                })
            }
            Some((first, rest)) => {
                if !rest.is_empty() || prev.is_some() {
                    return Err(self.err_at(
                        cmd_pos,
                        &cmd_text,
                        "can't give argument to non-function",
                    ));
                }
                self.arg(first, dot, cmd.pos.first().copied(), cmd.texts.first())
            }
            None => Err(self.err("empty command")),
        }
    }

    fn arg(
        &mut self,
        arg: &Arg,
        dot: &Value,
        pos: Option<usize>,
        text: Option<&String>,
    ) -> Result<Value, String> {
        let node = text.map_or("", String::as_str);
        let pos = pos.unwrap_or(0);
        let walk = |this: &Self, mut v: Value, fields: &[String]| -> Result<Value, String> {
            for f in fields {
                v = v.field(f).map_err(|e| this.err_at(pos, node, e))?;
            }
            Ok(v)
        };
        match arg {
            Arg::Field(f) => walk(self, dot.clone(), f),
            Arg::Var(name, f) => {
                let v = self
                    .vars
                    .iter()
                    .rev()
                    .find(|(n, _)| n == name)
                    .map(|(_, v)| v.clone())
                    .ok_or_else(|| {
                        self.err_at(pos, node, format!("undefined variable: ${name}"))
                    })?;
                walk(self, v, f)
            }
            Arg::Sub(pipe, f) => {
                let v = self.pipe(pipe, dot)?;
                walk(self, v, f)
            }
            Arg::Str(s) => Ok(Value::Str(s.clone())),
            Arg::Int(i) => Ok(Value::Int(*i)),
            Arg::Float(x) => Ok(Value::Float(*x)),
            Arg::Bool(b) => Ok(Value::Bool(*b)),
            Arg::Nil => Ok(Value::Nil),
            Arg::Func(name) => call(self.funcs, name, Vec::new()).map_err(|e| {
                let msg = match e {
                    FnError::Arg(_, m) => m,
                    FnError::Call(m) => format!("error calling {name}: {m}"),
                };
                self.err_at(pos, node, msg)
            }),
        }
    }
}
