//! A program's evaluation against an event: its nodes written in order, its expressions evaluated
//! with its dialect's semantics.

use std::fmt::Write as _;

use hookshot_event::Event;

use super::go_values::{go_eq, go_order, go_truth, time_filter};
use super::ir::*;
use super::liquid_values::{liquid_cmp, liquid_filter};
use crate::data::{Key, Val, write_go_float};
use crate::escape::Escaping;

impl Program {
    /// Appends the body for `event` to `out`. On error or [`Stop::Defer`], `out` may hold part of
    /// the body: the caller truncates it.
    pub(crate) fn render<'a>(
        &'a self,
        event: &'a Event,
        escaping: Escaping,
        out: &mut String,
    ) -> Eval<()> {
        let r = Run {
            event,
            escaping,
            dialect: self.dialect,
            limit: out.len().saturating_add(crate::MAX_BODY_BYTES),
        };
        r.nodes(&self.nodes, out)
    }
}

pub(super) struct Run<'e> {
    event: &'e Event,
    escaping: Escaping,
    dialect: Dialect,
    /// The length `out` may not exceed.
    limit: usize,
}

impl<'e> Run<'e> {
    fn nodes(&self, nodes: &'e [Node], out: &mut String) -> Eval<()> {
        for node in nodes {
            match node {
                Node::Text(t) => out.push_str(t),
                Node::Emit { expr, verbatim } => {
                    let v = self.eval(expr)?;
                    self.emit(&v, *verbatim, expr, out)?;
                }
                Node::Branch { arms, otherwise } => {
                    let mut taken = None;
                    for (cond, body) in arms {
                        let v = self.eval(cond)?;
                        if self.truth(&v) {
                            taken = Some(body);
                            break;
                        }
                    }
                    self.nodes(taken.unwrap_or(otherwise), out)?;
                }
                Node::Switch {
                    target,
                    arms,
                    otherwise,
                } => {
                    let t = self.eval(target)?;
                    let mut taken = None;
                    'arms: for (values, body) in arms {
                        for v in values {
                            let v = self.eval(v)?;
                            let equal = match (v.as_str(), t.as_str()) {
                                (Some(a), Some(b)) => a == b,
                                _ => liquid_cmp(CmpOp::Eq, &v, &t)?,
                            };
                            if equal {
                                taken = Some(body);
                                break 'arms;
                            }
                        }
                    }
                    self.nodes(taken.unwrap_or(otherwise), out)?;
                }
            }
            if out.len() > self.limit {
                return Err(Stop::TooLarge);
            }
        }
        Ok(())
    }

    fn emit(&self, v: &Val<'_>, verbatim: bool, expr: &Expr, out: &mut String) -> Eval<()> {
        let escaping = if verbatim {
            Escaping::Raw
        } else {
            self.escaping
        };
        match v {
            Val::Missing => {}
            Val::Str(s) => escaping.write(out, s),
            Val::String(s) => escaping.write(out, s),
            Val::Int(n) => {
                let _ = write!(out, "{n}");
            }
            Val::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Val::Float(f) => {
                let mut s = String::new();
                match self.dialect {
                    Dialect::Go => write_go_float(&mut s, *f),
                    Dialect::Liquid => {
                        let _ = write!(s, "{f}");
                    }
                }
                escaping.write(out, &s);
            }
            Val::Time(t) => escaping.write(out, &t.to_string()),
            Val::Obj(_) | Val::Array(_) => match self.dialect {
                Dialect::Liquid => return Err(Stop::Defer),
                Dialect::Go => {
                    let (at, what) = describe(expr);
                    return Err(error(
                        at,
                        format!(
                            "{what} is {}, which cannot be printed; print one of its fields",
                            v.type_name()
                        ),
                    ));
                }
            },
        }
        Ok(())
    }

    fn truth(&self, v: &Val<'_>) -> bool {
        match self.dialect {
            Dialect::Go => go_truth(v),
            Dialect::Liquid => !matches!(v, Val::Missing | Val::Bool(false)),
        }
    }

    fn eval(&self, expr: &'e Expr) -> Eval<Val<'e>> {
        match expr {
            Expr::Field { path, text, at } => {
                // The liquid crate sees nested custom metadata as plain liquid objects, where a
                // missing name is an error rather than nothing: leave those paths to it.
                if self.dialect == Dialect::Liquid
                    && path.len() > 2
                    && matches!(self.event.meta, hookshot_event::EventMeta::Custom(_))
                {
                    return Err(Stop::Defer);
                }
                Val::lookup(self.event, path).map_err(|i| match self.dialect {
                    Dialect::Liquid => Stop::Defer,
                    Dialect::Go => error(
                        *at,
                        format!(
                            "{text}: {} is not an object, so it has no field {}",
                            path[..i]
                                .iter()
                                .map(Key::as_str)
                                .collect::<Vec<_>>()
                                .join("."),
                            path[i].as_str()
                        ),
                    ),
                })
            }
            Expr::Lit(l) => Ok(lit(l)),
            Expr::Call { func, args, at } => self.call(*func, args, *at),
            Expr::Cmp { op, lhs, rhs } => {
                let a = self.eval(lhs)?;
                let b = self.eval(rhs)?;
                if let (CmpOp::Eq | CmpOp::Ne, Some(x), Some(y)) = (op, a.as_str(), b.as_str()) {
                    return Ok(Val::Bool((x == y) == (*op == CmpOp::Eq)));
                }
                liquid_cmp(*op, &a, &b).map(Val::Bool)
            }
            Expr::And(a, b) => {
                let a = self.eval(a)?;
                Ok(Val::Bool(
                    self.truth(&a) && {
                        let b = self.eval(b)?;
                        self.truth(&b)
                    },
                ))
            }
            Expr::Or(a, b) => {
                let a = self.eval(a)?;
                Ok(Val::Bool(
                    self.truth(&a) || {
                        let b = self.eval(b)?;
                        self.truth(&b)
                    },
                ))
            }
            Expr::Not(a) => {
                let a = self.eval(a)?;
                Ok(Val::Bool(!self.truth(&a)))
            }
            Expr::Filter { input, filter } => {
                let v = self.eval(input)?;
                liquid_filter(filter, v)
            }
        }
    }

    fn call(&self, func: Func, args: &'e [Expr], at: usize) -> Eval<Val<'e>> {
        let name = func.name();
        match func {
            Func::And | Func::Or => {
                // Go 1.18+: evaluate left to right, stop at the first falsy (and) / truthy (or)
                // argument and return it, else the last.
                let mut last = Val::Missing;
                for a in args {
                    last = self.eval(a)?;
                    if go_truth(&last) == (func == Func::Or) {
                        return Ok(last);
                    }
                }
                Ok(last)
            }
            Func::Not => Ok(Val::Bool(!go_truth(&self.eval(&args[0])?))),
            Func::Eq | Func::Ne => {
                let first = self.eval(&args[0])?;
                let mut truth = false;
                for a in &args[1..] {
                    let b = self.eval(a)?;
                    let equal = match (first.as_str(), b.as_str()) {
                        (Some(x), Some(y)) => x == y,
                        _ => go_eq(&first, &b).map_err(|m| error(at, format!("{name}: {m}")))?,
                    };
                    if equal {
                        truth = true;
                        break;
                    }
                }
                Ok(Val::Bool(truth == (func == Func::Eq)))
            }
            Func::Lt | Func::Le | Func::Gt | Func::Ge => {
                let a = self.eval(&args[0])?;
                let b = self.eval(&args[1])?;
                let ord = go_order(&a, &b).map_err(|m| error(at, format!("{name}: {m}")))?;
                use std::cmp::Ordering::*;
                Ok(Val::Bool(match func {
                    Func::Lt => ord == Less,
                    Func::Le => ord != Greater,
                    Func::Gt => ord == Greater,
                    _ => ord != Less,
                }))
            }
            Func::AsRfc3339 | Func::AsRfc3339FromString => {
                let v = self.eval(&args[0])?;
                let from_string = func == Func::AsRfc3339FromString;
                match time_filter(v, from_string) {
                    Some(v) => Ok(v),
                    None => Err(error(
                        at,
                        format!(
                            "{name} expects {}",
                            if from_string { "a string" } else { "a time" }
                        ),
                    )),
                }
            }
        }
    }
}

pub(super) fn describe(expr: &Expr) -> (usize, String) {
    match expr {
        Expr::Field { text, at, .. } => (*at, format!("`{text}`")),
        Expr::Call { func, at, .. } => (*at, format!("the result of {}", func.name())),
        _ => (0, "the value".to_owned()),
    }
}

pub(super) fn lit(l: &Lit) -> Val<'_> {
    match l {
        Lit::Str(s) => Val::Str(s),
        Lit::Int(n) => Val::Int(*n),
        Lit::Float(f) => Val::Float(*f),
        Lit::Bool(b) => Val::Bool(*b),
        Lit::Nil => Val::Missing,
    }
}
