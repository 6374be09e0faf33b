//! A compiled template: text, substitutions and branches, evaluated directly against an event.
//!
//! Go-syntax templates always compile to a [`Program`] (with Go's semantics); liquid templates do
//! when they keep to the subset [`crate::compile`] accepts (with liquid's semantics), and the
//! liquid crate renders the others. A liquid program [`Stop::Defer`]s to the liquid crate whenever a
//! value falls outside what it knows how to treat exactly as liquid does (an object printed, say).

use std::fmt::Write as _;

use hookshot_event::{Event, Timestamp};

use crate::data::{Key, Val, write_go_float};
use crate::escape::Escaping;

/// Whose semantics a program follows where Go and liquid differ (truth, comparison, printing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Go,
    Liquid,
}

/// A compiled template.
#[derive(Debug)]
pub(crate) struct Program {
    pub(crate) nodes: Vec<Node>,
    pub(crate) dialect: Dialect,
}

/// One piece of a template.
#[derive(Debug)]
pub(crate) enum Node {
    /// Text written as it is.
    Text(Box<str>),
    /// A value written with the template's escaping, or as it is when `verbatim`
    /// (the output of liquid's `json` filter in a JSON template).
    Emit { expr: Expr, verbatim: bool },
    /// The body of the first arm whose condition holds, else `otherwise`.
    Branch {
        arms: Vec<(Expr, Vec<Node>)>,
        otherwise: Vec<Node>,
    },
    /// Liquid's `case`: `target` evaluated once, then the body of the first arm with a value equal
    /// to it (liquid's `==`), else `otherwise`.
    Switch {
        target: Expr,
        arms: Vec<(Vec<Expr>, Vec<Node>)>,
        otherwise: Vec<Node>,
    },
}

impl Node {
    /// Joins adjacent text nodes, in this list and in every nested one.
    pub(crate) fn merge_text(nodes: Vec<Node>) -> Vec<Node> {
        let mut out: Vec<Node> = Vec::with_capacity(nodes.len());
        for node in nodes {
            let node = match node {
                Node::Branch { arms, otherwise } => Node::Branch {
                    arms: arms
                        .into_iter()
                        .map(|(c, b)| (c, Node::merge_text(b)))
                        .collect(),
                    otherwise: Node::merge_text(otherwise),
                },
                Node::Switch {
                    target,
                    arms,
                    otherwise,
                } => Node::Switch {
                    target,
                    arms: arms
                        .into_iter()
                        .map(|(v, b)| (v, Node::merge_text(b)))
                        .collect(),
                    otherwise: Node::merge_text(otherwise),
                },
                other => other,
            };
            match (out.last_mut(), node) {
                (Some(Node::Text(prev)), Node::Text(next)) => {
                    *prev = format!("{prev}{next}").into();
                }
                (_, node) => out.push(node),
            }
        }
        out
    }
}

/// An expression; `at` is a byte offset in the source, for error messages.
#[derive(Debug)]
pub(crate) enum Expr {
    /// A field path, as written (`.Meta.Path`, `Meta.Path`).
    Field {
        path: Box<[Key]>,
        text: Box<str>,
        at: usize,
    },
    Lit(Lit),
    /// A Go function call.
    Call {
        func: Func,
        args: Vec<Expr>,
        at: usize,
    },
    /// A liquid comparison.
    Cmp {
        op: CmpOp,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    /// Liquid `and`.
    And(Box<Expr>, Box<Expr>),
    /// Liquid `or`.
    Or(Box<Expr>, Box<Expr>),
    /// The negation of a liquid condition (`unless`).
    Not(Box<Expr>),
    /// A liquid filter applied to a value.
    Filter {
        input: Box<Expr>,
        filter: Filter,
    },
}

/// A literal value.
#[derive(Debug, Clone)]
pub(crate) enum Lit {
    Str(Box<str>),
    Int(i64),
    Float(f64),
    Bool(bool),
    Nil,
}

/// The Go template functions Hookshot translates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Func {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
    Not,
    AsRfc3339,
    AsRfc3339FromString,
}

impl Func {
    /// The function of a Go identifier.
    pub(crate) fn from_name(name: &str) -> Option<Func> {
        Some(match name {
            "eq" => Func::Eq,
            "ne" => Func::Ne,
            "lt" => Func::Lt,
            "le" => Func::Le,
            "gt" => Func::Gt,
            "ge" => Func::Ge,
            "and" => Func::And,
            "or" => Func::Or,
            "not" => Func::Not,
            "as_rfc3339" => Func::AsRfc3339,
            "as_rfc3339_from_string" => Func::AsRfc3339FromString,
            _ => return None,
        })
    }

    /// The function's name.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Func::Eq => "eq",
            Func::Ne => "ne",
            Func::Lt => "lt",
            Func::Le => "le",
            Func::Gt => "gt",
            Func::Ge => "ge",
            Func::And => "and",
            Func::Or => "or",
            Func::Not => "not",
            Func::AsRfc3339 => "as_rfc3339",
            Func::AsRfc3339FromString => "as_rfc3339_from_string",
        }
    }

    /// The number of arguments it takes: at least `.0`, at most `.1`.
    pub(crate) fn arity(self) -> (usize, Option<usize>) {
        match self {
            Func::Eq | Func::Ne => (2, None),
            Func::Lt | Func::Le | Func::Gt | Func::Ge => (2, Some(2)),
            Func::And | Func::Or => (1, None),
            Func::Not | Func::AsRfc3339 | Func::AsRfc3339FromString => (1, Some(1)),
        }
    }
}

/// A liquid comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CmpOp {
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
    Contains,
}

/// The liquid filters a program evaluates itself.
#[derive(Debug, Clone)]
pub(crate) enum Filter {
    AsRfc3339,
    AsRfc3339FromString,
    Json,
    Default(Lit),
}

/// Why a program stopped.
#[derive(Debug)]
pub(crate) enum Stop {
    /// Liquid only: render this event through the liquid crate instead.
    Defer,
    /// The template cannot be rendered for this event.
    Error { at: usize, message: String },
    /// The body grew beyond [`crate::MAX_BODY_BYTES`].
    TooLarge,
}

fn error(at: usize, message: impl Into<String>) -> Stop {
    Stop::Error {
        at,
        message: message.into(),
    }
}

type Eval<T> = Result<T, Stop>;

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

struct Run<'e> {
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

fn describe(expr: &Expr) -> (usize, String) {
    match expr {
        Expr::Field { text, at, .. } => (*at, format!("`{text}`")),
        Expr::Call { func, at, .. } => (*at, format!("the result of {}", func.name())),
        _ => (0, "the value".to_owned()),
    }
}

fn lit(l: &Lit) -> Val<'_> {
    match l {
        Lit::Str(s) => Val::Str(s),
        Lit::Int(n) => Val::Int(*n),
        Lit::Float(f) => Val::Float(*f),
        Lit::Bool(b) => Val::Bool(*b),
        Lit::Nil => Val::Missing,
    }
}

/// Go's truth: false, 0, "", nil and empty maps and slices are false.
pub(crate) fn go_truth(v: &Val<'_>) -> bool {
    match v {
        Val::Missing => false,
        Val::Str(s) => !s.is_empty(),
        Val::String(s) => !s.is_empty(),
        Val::Int(n) => *n != 0,
        Val::Float(f) => *f != 0.0,
        Val::Bool(b) => *b,
        Val::Time(_) => true,
        Val::Obj(o) => !o.is_empty(),
        Val::Array(a) => !a.is_empty(),
    }
}

#[derive(PartialEq)]
enum GoKind {
    Invalid,
    Bool,
    Int,
    Float,
    String,
    Other,
}

fn go_kind(v: &Val<'_>) -> GoKind {
    match v {
        Val::Missing => GoKind::Invalid,
        Val::Bool(_) => GoKind::Bool,
        Val::Int(_) => GoKind::Int,
        Val::Float(_) => GoKind::Float,
        Val::Str(_) | Val::String(_) => GoKind::String,
        Val::Time(_) | Val::Obj(_) | Val::Array(_) => GoKind::Other,
    }
}

/// Go's `eq` on two values: a missing value equals only a missing value; values of different
/// kinds are an error, as in Go.
fn go_eq(a: &Val<'_>, b: &Val<'_>) -> Result<bool, String> {
    // Tyk's `TimeStamp` is a string: a time compares with a string as Go's time string.
    match (a, b) {
        (Val::Time(t), other) | (other, Val::Time(t)) if other.as_str().is_some() => {
            return Ok(other.as_str() == Some(t.to_string().as_str()));
        }
        _ => {}
    }
    let (ka, kb) = (go_kind(a), go_kind(b));
    if ka != kb {
        if ka == GoKind::Invalid || kb == GoKind::Invalid {
            return Ok(false);
        }
        return Err(format!(
            "incompatible types for comparison ({} and {})",
            a.type_name(),
            b.type_name()
        ));
    }
    Ok(match (a, b) {
        (Val::Missing, Val::Missing) => true,
        (Val::Bool(x), Val::Bool(y)) => x == y,
        (Val::Int(x), Val::Int(y)) => x == y,
        (Val::Float(x), Val::Float(y)) => x == y,
        (Val::Time(x), Val::Time(y)) => x == y,
        _ => match (a.as_str(), b.as_str()) {
            (Some(x), Some(y)) => x == y,
            _ => return Err(format!("cannot compare {}", a.type_name())),
        },
    })
}

/// Go's `lt` family: integers, numbers and strings of the same kind.
fn go_order(a: &Val<'_>, b: &Val<'_>) -> Result<std::cmp::Ordering, String> {
    let bad = || format!("cannot order {} and {}", a.type_name(), b.type_name());
    match (a, b) {
        (Val::Int(x), Val::Int(y)) => Ok(x.cmp(y)),
        (Val::Float(x), Val::Float(y)) => x.partial_cmp(y).ok_or_else(bad),
        (Val::Time(t), other) if other.as_str().is_some() => Ok(t
            .to_string()
            .as_str()
            .cmp(other.as_str().unwrap_or_default())),
        (other, Val::Time(t)) if other.as_str().is_some() => Ok(other
            .as_str()
            .unwrap_or_default()
            .cmp(t.to_string().as_str())),
        _ => match (a.as_str(), b.as_str()) {
            (Some(x), Some(y)) => Ok(x.cmp(y)),
            _ => Err(bad()),
        },
    }
}

/// `as_rfc3339` (`from_string` false) and `as_rfc3339_from_string` on a value: a time is written
/// as Go's `time.RFC3339`; a string in Go's time format (or, for `as_rfc3339`, RFC 3339) is parsed
/// and written so; any other string is returned unchanged; nothing stays nothing.
/// `None` for other values.
pub(crate) fn time_filter(v: Val<'_>, from_string: bool) -> Option<Val<'_>> {
    match v {
        Val::Time(t) => Some(Val::String(t.to_rfc3339())),
        Val::Missing => Some(Val::Missing),
        Val::Str(_) | Val::String(_) => {
            let s = v.as_str().unwrap_or_default();
            let parsed = Timestamp::parse_go(s)
                .ok()
                .or_else(|| (!from_string).then(|| Timestamp::parse_rfc3339(s).ok())?);
            Some(match parsed {
                Some(t) => Val::String(t.to_rfc3339()),
                None => v,
            })
        }
        _ => None,
    }
}

/// Liquid's scalar view of a value; `None` for values a program leaves to the liquid crate.
enum Scalar<'v> {
    Nil,
    Str(&'v str),
    Int(i64),
    Float(f64),
    Bool(bool),
}

fn scalar<'v>(v: &'v Val<'_>, time: &'v mut Option<String>) -> Option<Scalar<'v>> {
    Some(match v {
        Val::Missing => Scalar::Nil,
        Val::Str(s) => Scalar::Str(s),
        Val::String(s) => Scalar::Str(s),
        Val::Int(n) => Scalar::Int(*n),
        Val::Float(f) => Scalar::Float(*f),
        Val::Bool(b) => Scalar::Bool(*b),
        // The liquid view shows times as Go's time string.
        Val::Time(t) => Scalar::Str(time.insert(t.to_string())),
        Val::Obj(_) | Val::Array(_) => return None,
    })
}

/// Liquid's `==` (`value_eq` of liquid-core) on scalars and nil.
fn liquid_eq(a: &Scalar<'_>, b: &Scalar<'_>) -> bool {
    use Scalar::*;
    match (a, b) {
        (Nil, Nil) => true,
        (Nil, Bool(x)) | (Bool(x), Nil) => !x,
        (Nil, _) | (_, Nil) => false,
        (Int(x), Int(y)) => x == y,
        (Int(x), Float(y)) | (Float(y), Int(x)) => (*x as f64) == *y,
        (Float(x), Float(y)) => x == y,
        (Bool(x), Bool(y)) => x == y,
        (Str(x), Str(y)) => x == y,
        // liquid-core encodes Ruby truthiness here: a scalar compared with a boolean is that boolean.
        (_, Bool(x)) | (Bool(x), _) => *x,
        _ => false,
    }
}

fn liquid_order(a: &Scalar<'_>, b: &Scalar<'_>) -> Option<std::cmp::Ordering> {
    use Scalar::*;
    match (a, b) {
        (Int(x), Int(y)) => x.partial_cmp(y),
        (Int(x), Float(y)) => (*x as f64).partial_cmp(y),
        (Float(x), Int(y)) => x.partial_cmp(&(*y as f64)),
        (Float(x), Float(y)) => x.partial_cmp(y),
        (Bool(x), Bool(y)) => x.partial_cmp(y),
        (Str(x), Str(y)) => x.partial_cmp(y),
        _ => None,
    }
}

fn liquid_cmp(op: CmpOp, a: &Val<'_>, b: &Val<'_>) -> Eval<bool> {
    let (mut ta, mut tb) = (None, None);
    let (Some(x), Some(y)) = (scalar(a, &mut ta), scalar(b, &mut tb)) else {
        return Err(Stop::Defer);
    };
    use std::cmp::Ordering::*;
    Ok(match op {
        CmpOp::Eq => liquid_eq(&x, &y),
        CmpOp::Ne => !liquid_eq(&x, &y),
        CmpOp::Lt => liquid_order(&x, &y) == Some(Less),
        CmpOp::Gt => liquid_order(&x, &y) == Some(Greater),
        CmpOp::Le => matches!(liquid_order(&x, &y), Some(Less | Equal)),
        CmpOp::Ge => matches!(liquid_order(&x, &y), Some(Greater | Equal)),
        CmpOp::Contains => match (&x, &y) {
            (Scalar::Str(h), Scalar::Str(n)) => h.contains(n),
            _ => return Err(Stop::Defer),
        },
    })
}

fn liquid_filter<'e>(filter: &Filter, v: Val<'e>) -> Eval<Val<'e>> {
    match filter {
        Filter::AsRfc3339 | Filter::AsRfc3339FromString => {
            let from_string = matches!(filter, Filter::AsRfc3339FromString);
            match v {
                // The liquid filters see a number or boolean as its text, which never parses.
                Val::Int(_) | Val::Float(_) | Val::Bool(_) => Err(Stop::Defer),
                v => time_filter(v, from_string).ok_or(Stop::Defer),
            }
        }
        Filter::Json => {
            let json = match &v {
                Val::Missing => "null".to_owned(),
                Val::Str(s) => json_string(s),
                Val::String(s) => json_string(s),
                Val::Int(n) => n.to_string(),
                Val::Bool(b) => b.to_string(),
                Val::Time(t) => json_string(&t.to_string()),
                Val::Float(_) | Val::Obj(_) | Val::Array(_) => return Err(Stop::Defer),
            };
            Ok(Val::String(json))
        }
        Filter::Default(d) => {
            let use_default = match &v {
                Val::Missing | Val::Bool(false) => true,
                Val::Str(s) => s.is_empty(),
                Val::String(s) => s.is_empty(),
                Val::Int(_) | Val::Float(_) | Val::Bool(true) | Val::Time(_) => false,
                Val::Obj(_) | Val::Array(_) => return Err(Stop::Defer),
            };
            Ok(if use_default {
                match d {
                    Lit::Str(s) => Val::String(s.to_string()),
                    Lit::Int(n) => Val::Int(*n),
                    Lit::Float(f) => Val::Float(*f),
                    Lit::Bool(b) => Val::Bool(*b),
                    Lit::Nil => Val::Missing,
                }
            } else {
                v
            })
        }
    }
}

/// `s` as a JSON string literal.
pub(crate) fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    crate::escape::write_json_content(&mut out, s);
    out.push('"');
    out
}
