//! The parser of one action's tokens into an expression.

use super::lex::Tok;
use super::{GoError, syntax, unsupported};
use crate::data::Key;
use crate::program::{Expr, Func, Lit};

pub(super) const SUBSET: &str = "Hookshot translates the Go template subset Tyk uses: field paths, \
    if / else if / else / end, eq, ne, lt, le, gt, ge, and, or, not, parentheses, \
    as_rfc3339, as_rfc3339_from_string and comments";

/// Go's predefined functions that Hookshot does not translate.
pub(super) const GO_BUILTINS: [&str; 10] = [
    "len", "index", "slice", "print", "printf", "println", "html", "js", "urlquery", "call",
];

/// A parser over one action's tokens.
pub(super) struct Cursor<'t> {
    pub(super) toks: &'t [(Tok, usize)],
    pub(super) i: usize,
    pub(super) end_at: usize,
}

impl<'t> Cursor<'t> {
    pub(super) fn peek(&self) -> Option<&'t (Tok, usize)> {
        self.toks.get(self.i)
    }

    pub(super) fn at(&self) -> usize {
        self.peek().map_or(self.end_at, |t| t.1)
    }

    /// Refuses tokens that can appear anywhere but are outside the subset.
    pub(super) fn check(&self) -> Result<(), GoError> {
        for (t, at) in self.toks {
            match t {
                Tok::Var(v) => {
                    return Err(unsupported(
                        *at,
                        format!("the variable `{v}`"),
                        format!("{SUBSET}; write the field path (such as `.Meta.Path`) instead"),
                    ));
                }
                Tok::Assign => {
                    return Err(unsupported(
                        *at,
                        "variable assignment",
                        format!("{SUBSET}; write the field path instead"),
                    ));
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// A pipeline, up to the end of the action or a closing paren.
    pub(super) fn pipeline(&mut self) -> Result<Expr, GoError> {
        let start = self.at();
        let mut piped: Option<Expr> = None;
        loop {
            let cmd_at = self.at();
            let mut operands: Vec<(Expr, Option<(Func, usize)>)> = Vec::new();
            while let Some((t, at)) = self.peek() {
                if matches!(t, Tok::Pipe | Tok::RParen) {
                    break;
                }
                self.i += 1;
                operands.push(self.operand(t, *at)?);
            }
            let cmd = self.command(operands, piped.take(), cmd_at)?;
            match self.peek() {
                Some((Tok::Pipe, at)) => {
                    self.i += 1;
                    if matches!(self.peek(), None | Some((Tok::Pipe | Tok::RParen, _))) {
                        return Err(syntax(*at, "missing command after |"));
                    }
                    piped = Some(cmd);
                }
                _ => {
                    let _ = start;
                    return Ok(cmd);
                }
            }
        }
    }

    /// One operand; a function name comes back as `Some((func, at))` beside a placeholder.
    pub(super) fn operand(
        &mut self,
        t: &Tok,
        at: usize,
    ) -> Result<(Expr, Option<(Func, usize)>), GoError> {
        let e = match t {
            Tok::Field(segs) => Expr::Field {
                path: segs.iter().map(|s| Key::new(s)).collect(),
                text: format!(".{}", segs.join(".")).into(),
                at,
            },
            Tok::Str(s) => Expr::Lit(Lit::Str(s.as_str().into())),
            Tok::Number(n) => Expr::Lit(number(n, at)?),
            Tok::Char(c) => {
                return Err(unsupported(
                    at,
                    format!("the character constant {c}"),
                    format!("{SUBSET}; use a string such as \"a\""),
                ));
            }
            Tok::Dot => {
                return Err(unsupported(
                    at,
                    "`.` alone (the whole event)",
                    format!("{SUBSET}; name a field such as `.Type` or `.Meta.Message`"),
                ));
            }
            Tok::LParen => {
                let inner = self.pipeline()?;
                match self.peek() {
                    Some((Tok::RParen, _)) => self.i += 1,
                    _ => return Err(syntax(at, "unclosed left paren")),
                }
                if let Some((Tok::Field(_), fat)) = self.peek()
                    && *fat == self.toks[self.i - 1].1 + 1
                {
                    return Err(unsupported(
                        *fat,
                        "a field of a parenthesised expression",
                        SUBSET.to_owned(),
                    ));
                }
                inner
            }
            Tok::Ident(name) => match name.as_str() {
                "true" => Expr::Lit(Lit::Bool(true)),
                "false" => Expr::Lit(Lit::Bool(false)),
                "nil" => {
                    return Err(unsupported(
                        at,
                        "`nil`",
                        format!("{SUBSET}; a missing field is already false in `if`"),
                    ));
                }
                "if" | "else" | "end" | "range" | "with" | "define" | "template" | "block"
                | "break" | "continue" => {
                    return Err(syntax(
                        at,
                        format!("unexpected keyword `{name}` in an expression"),
                    ));
                }
                _ => match Func::from_name(name) {
                    Some(f) => return Ok((Expr::Lit(Lit::Nil), Some((f, at)))),
                    None if GO_BUILTINS.contains(&name.as_str()) => {
                        return Err(unsupported(
                            at,
                            format!("the function `{name}`"),
                            SUBSET.to_owned(),
                        ));
                    }
                    None => {
                        return Err(syntax(
                            at,
                            format!(
                                "function `{name}` is not defined (the functions are eq, ne, lt, le, gt, ge, and, or, not, as_rfc3339, as_rfc3339_from_string; fields start with a dot, as in `.{name}`)"
                            ),
                        ));
                    }
                },
            },
            Tok::Other(c) => return Err(syntax(at, format!("unexpected {c:?} in an action"))),
            Tok::Pipe | Tok::RParen | Tok::Var(_) | Tok::Assign => {
                return Err(syntax(at, "unexpected token"));
            }
        };
        Ok((e, None))
    }

    pub(super) fn command(
        &self,
        operands: Vec<(Expr, Option<(Func, usize)>)>,
        piped: Option<Expr>,
        at: usize,
    ) -> Result<Expr, GoError> {
        let mut ops = operands.into_iter();
        let Some((first, func)) = ops.next() else {
            return Err(syntax(at, "missing value for command"));
        };
        let rest: Vec<(Expr, Option<(Func, usize)>)> = ops.collect();
        if let Some((_, Some((f, fat)))) = rest.iter().find(|(_, f)| f.is_some()) {
            return Err(syntax(
                *fat,
                format!(
                    "`{}` is a function: call it in parentheses, as in `({} ...)`",
                    f.name(),
                    f.name()
                ),
            ));
        }
        match func {
            Some((func, fat)) => {
                let mut args: Vec<Expr> = rest.into_iter().map(|(e, _)| e).collect();
                args.extend(piped);
                let (min, max) = func.arity();
                if args.len() < min || max.is_some_and(|m| args.len() > m) {
                    let want = match max {
                        Some(m) if m == min => format!("{min}"),
                        Some(m) => format!("{min} to {m}"),
                        None => format!("at least {min}"),
                    };
                    return Err(syntax(
                        fat,
                        format!(
                            "wrong number of arguments for {}: want {want}, got {}",
                            func.name(),
                            args.len()
                        ),
                    ));
                }
                Ok(Expr::Call {
                    func,
                    args,
                    at: fat,
                })
            }
            None => {
                if !rest.is_empty() || piped.is_some() {
                    return Err(syntax(
                        at,
                        "a value cannot take arguments: only functions can (a value can be piped into a function, as in `.TimeStamp | as_rfc3339_from_string`)",
                    ));
                }
                Ok(first)
            }
        }
    }
}

/// A number literal: plain decimal integers and decimals only.
pub(super) fn number(n: &str, at: usize) -> Result<Lit, GoError> {
    let digits = n.strip_prefix(['+', '-']).unwrap_or(n);
    let plain_int = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
    let plain_dec = digits.split_once('.').is_some_and(|(a, b)| {
        !a.is_empty()
            && !b.is_empty()
            && a.bytes().all(|c| c.is_ascii_digit())
            && b.bytes().all(|c| c.is_ascii_digit())
    });
    if plain_int && let Ok(v) = n.parse::<i64>() {
        return Ok(Lit::Int(v));
    }
    if plain_dec && let Ok(v) = n.parse::<f64>() {
        return Ok(Lit::Float(v));
    }
    Err(unsupported(
        at,
        format!("the number `{n}`"),
        format!("{SUBSET}; write plain decimal numbers such as 3 or 2.5"),
    ))
}

impl Cursor<'_> {
    pub(super) fn expect_end(&self) -> Result<(), GoError> {
        match self.peek() {
            None => Ok(()),
            Some((Tok::RParen, at)) => Err(syntax(*at, "unexpected right paren")),
            Some((_, at)) => Err(syntax(*at, "unexpected tokens at the end of the action")),
        }
    }
}
