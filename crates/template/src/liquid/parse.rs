//! The parser of an output, a condition and a `when` list into expressions.

use super::lex::{LitTok, Tok, ValueTok, tokens};
use crate::data::Key;
use crate::program::{CmpOp, Expr, Filter, Lit};

pub(super) fn lit(l: LitTok) -> Lit {
    match l {
        LitTok::Str(s) => Lit::Str(s.into()),
        LitTok::Int(n) => Lit::Int(n),
        LitTok::Float(f) => Lit::Float(f),
        LitTok::Bool(b) => Lit::Bool(b),
        LitTok::Nil => Lit::Nil,
    }
}

pub(super) fn value(v: ValueTok, at: usize) -> Expr {
    match v {
        ValueTok::Lit(l) => Expr::Lit(lit(l)),
        ValueTok::Var(path) => Expr::Field {
            text: path.join(".").into(),
            path: path.iter().map(|p| Key::new(p)).collect(),
            at,
        },
    }
}

/// An output's filter chain.
pub(super) fn output(inner: &str, at: usize) -> Option<Expr> {
    let toks = tokens(inner)?;
    let mut it = toks.into_iter().peekable();
    let Some(Tok::Value(v)) = it.next() else {
        return None;
    };
    let mut expr = value(v, at);
    while let Some(t) = it.next() {
        if t != Tok::Pipe {
            return None;
        }
        let Some(Tok::Value(ValueTok::Var(name))) = it.next() else {
            return None;
        };
        if name.len() != 1 {
            return None;
        }
        let filter = match name[0].as_str() {
            "json" => Filter::Json,
            "as_rfc3339" => Filter::AsRfc3339,
            "as_rfc3339_from_string" => Filter::AsRfc3339FromString,
            "default" => {
                if it.next() != Some(Tok::Colon) {
                    return None;
                }
                let Some(Tok::Value(ValueTok::Lit(l))) = it.next() else {
                    return None;
                };
                Filter::Default(lit(l))
            }
            _ => return None,
        };
        if matches!(it.peek(), Some(t) if *t != Tok::Pipe) {
            return None;
        }
        expr = Expr::Filter {
            input: Box::new(expr),
            filter,
        };
        // A JSON literal is final: filters after it are left to the liquid crate.
        if matches!(
            expr,
            Expr::Filter {
                filter: Filter::Json,
                ..
            }
        ) && it.peek().is_some()
        {
            return None;
        }
    }
    Some(expr)
}

/// A condition of `if`, `elsif` or `unless`, with liquid's precedence (`and` binds tighter than
/// `or`; both associate to the left).
pub(super) fn condition(args: &str, at: usize) -> Option<Expr> {
    let toks = tokens(args)?;
    let mut it = toks.into_iter().peekable();
    let is_word = |t: Option<&Tok>, w: &str| matches!(t, Some(Tok::Value(ValueTok::Var(p))) if p.len() == 1 && p[0] == w);
    let atom = |it: &mut std::iter::Peekable<std::vec::IntoIter<Tok>>| -> Option<Expr> {
        let Some(Tok::Value(lh)) = it.next() else {
            return None;
        };
        let op = match it.peek() {
            Some(Tok::Op(op)) => Some(match *op {
                "==" => CmpOp::Eq,
                "!=" => CmpOp::Ne,
                "<" => CmpOp::Lt,
                ">" => CmpOp::Gt,
                "<=" => CmpOp::Le,
                _ => CmpOp::Ge,
            }),
            t if is_word(t, "contains") => Some(CmpOp::Contains),
            _ => None,
        };
        let lh = value(lh, at);
        match op {
            None => Some(lh),
            Some(op) => {
                it.next();
                let Some(Tok::Value(rh)) = it.next() else {
                    return None;
                };
                Some(Expr::Cmp {
                    op,
                    lhs: Box::new(lh),
                    rhs: Box::new(value(rh, at)),
                })
            }
        }
    };
    let conjunction = |it: &mut std::iter::Peekable<std::vec::IntoIter<Tok>>| -> Option<Expr> {
        let mut e = atom(it)?;
        while is_word(it.peek(), "and") {
            it.next();
            e = Expr::And(Box::new(e), Box::new(atom(it)?));
        }
        Some(e)
    };
    let mut e = conjunction(&mut it)?;
    while let Some(t) = it.next() {
        if !is_word(Some(&t), "or") {
            return None;
        }
        e = Expr::Or(Box::new(e), Box::new(conjunction(&mut it)?));
    }
    Some(e)
}

/// A `when` list: values separated by `,` or `or`.
pub(super) fn when_values(args: &str, at: usize) -> Option<Vec<Expr>> {
    let toks = tokens(args)?;
    let mut out = Vec::new();
    let mut it = toks.into_iter();
    loop {
        let Some(Tok::Value(v)) = it.next() else {
            return None;
        };
        out.push(value(v, at));
        match it.next() {
            None => return Some(out),
            Some(Tok::Comma) => {}
            Some(Tok::Value(ValueTok::Var(p))) if p.len() == 1 && p[0] == "or" => {}
            _ => return None,
        }
    }
}
