//! Liquid's semantics for values: truth of scalars, `==` and the orderings, and the filters a
//! program evaluates itself.

use super::go_values::time_filter;
use super::ir::*;
use crate::data::Val;

/// Liquid's scalar view of a value; `None` for values a program leaves to the liquid crate.
pub(super) enum Scalar<'v> {
    Nil,
    Str(&'v str),
    Int(i64),
    Float(f64),
    Bool(bool),
}

pub(super) fn scalar<'v>(v: &'v Val<'_>, time: &'v mut Option<String>) -> Option<Scalar<'v>> {
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
pub(super) fn liquid_eq(a: &Scalar<'_>, b: &Scalar<'_>) -> bool {
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

pub(super) fn liquid_order(a: &Scalar<'_>, b: &Scalar<'_>) -> Option<std::cmp::Ordering> {
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

pub(super) fn liquid_cmp(op: CmpOp, a: &Val<'_>, b: &Val<'_>) -> Eval<bool> {
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

pub(super) fn liquid_filter<'e>(filter: &Filter, v: Val<'e>) -> Eval<Val<'e>> {
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
