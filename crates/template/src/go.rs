//! Tyk's Go-syntax templates, compiled to a [`Program`] with Go's semantics.
//!
//! The subset is what Tyk ships and documents: field paths (`.Meta.Path`, map keys such as
//! `.Meta.HostInfo.MetaData.host_name`), `if` / `else if` / `else` / `end`, the functions `eq`,
//! `ne`, `lt`, `le`, `gt`, `ge`, `and`, `or`, `not`, `as_rfc3339` and `as_rfc3339_from_string`,
//! parenthesised sub-expressions, pipes, string / integer / decimal / boolean literals, comments,
//! and the trim markers `{{- ` and ` -}}` (which remove all adjacent ASCII whitespace, as in Go).
//! Everything else is refused with its position, never rendered differently from Go.

use crate::data::Key;
use crate::html;
use crate::program::{Dialect, Expr, Func, Lit, Node, Program};

/// How deep a template may nest: open blocks (`{{if}}` in Go syntax, block tags in liquid) plus,
/// in a Go action, parentheses and pipes. Deeper templates are refused at load, so that neither
/// parsing nor rendering recurses without bound.
pub const MAX_NESTING: usize = 100;

/// Why a Go-syntax template was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum GoError {
    /// Not a valid Go template.
    Syntax { at: usize, message: String },
    /// Valid Go, outside the subset Hookshot translates.
    Unsupported {
        at: usize,
        construct: String,
        hint: String,
    },
}

pub(crate) fn syntax(at: usize, message: impl Into<String>) -> GoError {
    GoError::Syntax {
        at,
        message: message.into(),
    }
}

pub(crate) fn unsupported(
    at: usize,
    construct: impl Into<String>,
    hint: impl Into<String>,
) -> GoError {
    GoError::Unsupported {
        at,
        construct: construct.into(),
        hint: hint.into(),
    }
}

/// Go's space characters, which the trim markers remove.
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

const GO_SPACE: &[char] = &[' ', '\t', '\r', '\n'];

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    /// `.A.B`: the segments.
    Field(Vec<String>),
    /// `.` alone.
    Dot,
    /// `$x` (or `$`).
    Var(String),
    Ident(String),
    Str(String),
    Number(String),
    Char(String),
    Pipe,
    LParen,
    RParen,
    /// `:=` or `=`.
    Assign,
    /// A printable character Go's lexer passes through (`,` in range clauses...).
    Other(char),
}

#[derive(Debug)]
enum Item {
    /// Text, and its offset in the source.
    Text(String, usize),
    /// The tokens of one action, with their offsets; `at` is the offset of `{{`.
    Action {
        at: usize,
        toks: Vec<(Tok, usize)>,
        /// How deep its expression nests (parentheses plus pipes), and where it is deepest.
        depth: (usize, usize),
    },
}

/// Splits a Go template into text and actions, applying the trim markers.
fn lex(src: &str) -> Result<Vec<Item>, GoError> {
    let b = src.as_bytes();
    let mut items = Vec::new();
    let mut pos = 0;
    let mut trim_next = false;
    loop {
        let next = src[pos..].find("{{").map(|i| pos + i);
        let text_end = next.unwrap_or(src.len());
        let mut text = &src[pos..text_end];
        if trim_next {
            text = text.trim_start_matches(GO_SPACE);
        }
        let Some(open) = next else {
            if !text.is_empty() {
                items.push(Item::Text(text.to_owned(), offset_in(src, text)));
            }
            return Ok(items);
        };
        let left_trim = b.len() > open + 3 && b[open + 2] == b'-' && is_space(b[open + 3]);
        if left_trim {
            text = text.trim_end_matches(GO_SPACE);
        }
        if !text.is_empty() {
            items.push(Item::Text(text.to_owned(), offset_in(src, text)));
        }
        let mut i = open + 2 + if left_trim { 2 } else { 0 };
        // A right delimiter at `i`: Some(trim) and the offset after it.
        let right_delim = |i: usize| -> Option<(bool, usize)> {
            if b.len() >= i + 4 && is_space(b[i]) && b[i + 1] == b'-' && &b[i + 2..i + 4] == b"}}" {
                Some((true, i + 4))
            } else if src[i..].starts_with("}}") {
                Some((false, i + 2))
            } else {
                None
            }
        };
        if src[i..].starts_with("/*") {
            let Some(close) = src[i + 2..].find("*/") else {
                return Err(syntax(open, "unclosed comment"));
            };
            let after = i + 2 + close + 2;
            let Some((trim, end)) = right_delim(after) else {
                return Err(syntax(open, "comment ends before closing delimiter"));
            };
            trim_next = trim;
            pos = end;
            continue;
        }
        let mut toks = Vec::new();
        let mut depth = 0i32;
        let mut pipes = 0usize;
        let mut deepest = (0usize, open);
        loop {
            if let Some((trim, end)) = right_delim(i) {
                if depth > 0 {
                    return Err(syntax(open, "unclosed left paren"));
                }
                trim_next = trim;
                pos = end;
                break;
            }
            let Some(&c) = b.get(i) else {
                return Err(syntax(open, "unclosed action"));
            };
            let start = i;
            match c {
                c if is_space(c) => {
                    i += 1;
                    continue;
                }
                b'|' => {
                    toks.push((Tok::Pipe, start));
                    pipes += 1;
                    i += 1;
                }
                b'(' => {
                    depth += 1;
                    toks.push((Tok::LParen, start));
                    i += 1;
                }
                b')' => {
                    depth -= 1;
                    if depth < 0 {
                        return Err(syntax(start, "unexpected right paren"));
                    }
                    toks.push((Tok::RParen, start));
                    i += 1;
                }
                b'=' => {
                    toks.push((Tok::Assign, start));
                    i += 1;
                }
                b':' => {
                    if b.get(i + 1) != Some(&b'=') {
                        return Err(syntax(start, "expected :="));
                    }
                    toks.push((Tok::Assign, start));
                    i += 2;
                }
                b'"' => {
                    let (s, end) = lex_quoted(src, i)?;
                    toks.push((Tok::Str(s), start));
                    i = end;
                }
                b'`' => {
                    let Some(close) = src[i + 1..].find('`') else {
                        return Err(syntax(start, "unterminated raw quoted string"));
                    };
                    toks.push((Tok::Str(src[i + 1..i + 1 + close].to_owned()), start));
                    i = i + 1 + close + 1;
                }
                b'\'' => {
                    let mut j = i + 1;
                    while j < b.len() && b[j] != b'\'' {
                        j += if b[j] == b'\\' { 2 } else { 1 };
                    }
                    if j >= b.len() {
                        return Err(syntax(start, "unterminated character constant"));
                    }
                    toks.push((Tok::Char(src[i..=j].to_owned()), start));
                    i = j + 1;
                }
                b'$' => {
                    let end = ident_end(src, i + 1);
                    toks.push((Tok::Var(src[i..end].to_owned()), start));
                    i = end;
                }
                b'.' if !b.get(i + 1).is_some_and(u8::is_ascii_digit) => {
                    let mut segs = Vec::new();
                    while b.get(i) == Some(&b'.') {
                        let end = ident_end(src, i + 1);
                        if end == i + 1 {
                            break;
                        }
                        segs.push(src[i + 1..end].to_owned());
                        i = end;
                    }
                    if segs.is_empty() {
                        toks.push((Tok::Dot, start));
                        i += 1;
                    } else {
                        toks.push((Tok::Field(segs), start));
                    }
                }
                b'.' | b'+' | b'-' | b'0'..=b'9' => {
                    let mut j = i + 1;
                    while j < b.len()
                        && (b[j].is_ascii_alphanumeric()
                            || matches!(b[j], b'.' | b'_')
                            || (matches!(b[j], b'+' | b'-')
                                && matches!(b[j - 1], b'e' | b'E' | b'p' | b'P')))
                    {
                        j += 1;
                    }
                    toks.push((Tok::Number(src[i..j].to_owned()), start));
                    i = j;
                }
                _ => {
                    let end = ident_end(src, i);
                    if end > i {
                        toks.push((Tok::Ident(src[i..end].to_owned()), start));
                        i = end;
                    } else {
                        let ch = src[i..].chars().next().unwrap_or('\0');
                        if !(ch.is_ascii_graphic()) {
                            return Err(syntax(
                                start,
                                format!("unrecognized character in action: {ch:?}"),
                            ));
                        }
                        toks.push((Tok::Other(ch), start));
                        i += ch.len_utf8();
                    }
                }
            }
            let d = usize::try_from(depth).unwrap_or(0) + pipes;
            if d > deepest.0 {
                // Where it first goes beyond the limit, else where it is deepest.
                let at = if deepest.0 > MAX_NESTING {
                    deepest.1
                } else {
                    start
                };
                deepest = (d, at);
            }
        }
        items.push(Item::Action {
            at: open,
            toks,
            depth: deepest,
        });
    }
}

/// The offset of `part`, a slice of `src`, in `src`.
fn offset_in(src: &str, part: &str) -> usize {
    part.as_ptr() as usize - src.as_ptr() as usize
}

/// The end of an identifier (letters, digits, `_`) starting at `i`.
fn ident_end(src: &str, i: usize) -> usize {
    src[i..]
        .char_indices()
        .find(|&(_, c)| !(c.is_alphanumeric() || c == '_'))
        .map_or(src.len(), |(j, _)| i + j)
}

/// A Go interpreted string literal starting at `i` (the opening quote): its value and the offset
/// after the closing quote.
fn lex_quoted(src: &str, i: usize) -> Result<(String, usize), GoError> {
    let mut out = String::new();
    let mut chars = src[i + 1..].char_indices();
    let err = |m: &str| syntax(i, m.to_owned());
    while let Some((j, c)) = chars.next() {
        match c {
            '"' => return Ok((out, i + 1 + j + 1)),
            '\n' => return Err(err("unterminated quoted string")),
            '\\' => {
                let Some((_, e)) = chars.next() else { break };
                let hex =
                    |chars: &mut std::str::CharIndices<'_>, n: usize| -> Result<u32, GoError> {
                        let mut v = 0u32;
                        for _ in 0..n {
                            let d = chars
                                .next()
                                .and_then(|(_, c)| c.to_digit(16))
                                .ok_or_else(|| err("invalid escape in quoted string"))?;
                            v = v * 16 + d;
                        }
                        Ok(v)
                    };
                match e {
                    'a' => out.push('\u{7}'),
                    'b' => out.push('\u{8}'),
                    'f' => out.push('\u{c}'),
                    'n' => out.push('\n'),
                    'r' => out.push('\r'),
                    't' => out.push('\t'),
                    'v' => out.push('\u{b}'),
                    '\\' => out.push('\\'),
                    '"' => out.push('"'),
                    'x' => {
                        let v = hex(&mut chars, 2)?;
                        if v > 0x7f {
                            return Err(err("\\x escapes above \\x7f are not supported"));
                        }
                        out.push(char::from(v as u8));
                    }
                    'u' | 'U' => {
                        let v = hex(&mut chars, if e == 'u' { 4 } else { 8 })?;
                        out.push(char::from_u32(v).ok_or_else(|| err("invalid Unicode escape"))?);
                    }
                    '0'..='7' => {
                        let mut v = e.to_digit(8).unwrap_or(0);
                        for _ in 0..2 {
                            let d = chars
                                .next()
                                .and_then(|(_, c)| c.to_digit(8))
                                .ok_or_else(|| err("invalid octal escape"))?;
                            v = v * 8 + d;
                        }
                        if v > 0x7f {
                            return Err(err("octal escapes above \\177 are not supported"));
                        }
                        out.push(char::from(v as u8));
                    }
                    _ => return Err(err("invalid escape in quoted string")),
                }
            }
            c => out.push(c),
        }
    }
    Err(err("unterminated quoted string"))
}

const SUBSET: &str = "Hookshot translates the Go template subset Tyk uses: field paths, \
    if / else if / else / end, eq, ne, lt, le, gt, ge, and, or, not, parentheses, \
    as_rfc3339, as_rfc3339_from_string and comments";

/// Go's predefined functions that Hookshot does not translate.
const GO_BUILTINS: [&str; 10] = [
    "len", "index", "slice", "print", "printf", "println", "html", "js", "urlquery", "call",
];

/// A parser over one action's tokens.
struct Cursor<'t> {
    toks: &'t [(Tok, usize)],
    i: usize,
    end_at: usize,
}

impl<'t> Cursor<'t> {
    fn peek(&self) -> Option<&'t (Tok, usize)> {
        self.toks.get(self.i)
    }

    fn at(&self) -> usize {
        self.peek().map_or(self.end_at, |t| t.1)
    }

    /// Refuses tokens that can appear anywhere but are outside the subset.
    fn check(&self) -> Result<(), GoError> {
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
    fn pipeline(&mut self) -> Result<Expr, GoError> {
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
    fn operand(&mut self, t: &Tok, at: usize) -> Result<(Expr, Option<(Func, usize)>), GoError> {
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

    fn command(
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
fn number(n: &str, at: usize) -> Result<Lit, GoError> {
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

/// An open `{{if}}`.
struct Open {
    at: usize,
    arms: Vec<(Expr, Vec<Node>)>,
    cond: Option<Expr>,
    body: Vec<Node>,
}

/// The error for nesting deeper than [`MAX_NESTING`] at `at`.
pub(crate) fn too_deep(at: usize) -> GoError {
    unsupported(
        at,
        format!("nesting deeper than {MAX_NESTING} levels"),
        format!(
            "a template nests at most {MAX_NESTING} levels deep (open blocks, and in an action its parentheses and pipes); flatten it, for example with `else if`"
        ),
    )
}

/// Compiles a Go-syntax template. With `html`, the template's text and actions are checked and
/// rewritten as Go's `html/template` treats them in HTML text (see [`html`]).
pub(crate) fn compile(src: &str, html: bool) -> Result<Program, GoError> {
    let items = lex(src)?;
    let mut state = html::State::Text;
    let mut root: Vec<Node> = Vec::new();
    let mut stack: Vec<Open> = Vec::new();
    fn body<'a>(root: &'a mut Vec<Node>, stack: &'a mut [Open]) -> &'a mut Vec<Node> {
        match stack.last_mut() {
            Some(open) => &mut open.body,
            None => root,
        }
    }
    for item in items {
        let (at, toks) = match item {
            Item::Text(t, text_at) => {
                let t = if html {
                    html::text(&mut state, &t, text_at)?
                } else {
                    t
                };
                body(&mut root, &mut stack).push(Node::Text(t.into()));
                continue;
            }
            Item::Action {
                at,
                toks,
                depth: (depth, deepest_at),
            } => {
                if html && state != html::State::Text {
                    return Err(html::action_outside_text(state, at));
                }
                if stack.len() + depth > MAX_NESTING {
                    return Err(too_deep(deepest_at));
                }
                (at, toks)
            }
        };
        let mut c = Cursor {
            toks: &toks,
            i: 0,
            end_at: at,
        };
        let keyword = match c.peek() {
            Some((Tok::Ident(k), kat)) => Some((k.as_str(), *kat)),
            _ => None,
        };
        if !matches!(
            keyword,
            Some((
                "range" | "with" | "define" | "template" | "block" | "break" | "continue",
                _
            ))
        ) {
            c.check()?;
        }
        match keyword {
            Some(("if", _)) => {
                if stack.len() + 1 > MAX_NESTING {
                    return Err(too_deep(at));
                }
                c.i += 1;
                let cond = c.pipeline()?;
                c.expect_end()?;
                stack.push(Open {
                    at,
                    arms: Vec::new(),
                    cond: Some(cond),
                    body: Vec::new(),
                });
            }
            Some(("else", kat)) => {
                c.i += 1;
                let Some(open) = stack.last_mut() else {
                    return Err(syntax(kat, "unexpected {{else}} outside {{if}}"));
                };
                let Some(prev) = open.cond.take() else {
                    return Err(syntax(
                        kat,
                        "expected {{end}}: this {{if}} already had its {{else}}",
                    ));
                };
                open.arms.push((prev, std::mem::take(&mut open.body)));
                match c.peek() {
                    None => {}
                    Some((Tok::Ident(k), _)) if k == "if" => {
                        c.i += 1;
                        open.cond = Some(c.pipeline()?);
                        c.expect_end()?;
                    }
                    Some((Tok::Ident(k), kat)) if k == "with" || k == "range" => {
                        return Err(unsupported(*kat, format!("{{{{else {k}}}}}"), SUBSET));
                    }
                    Some((_, tat)) => {
                        return Err(syntax(*tat, "unexpected tokens after {{else}}"));
                    }
                }
            }
            Some(("end", kat)) => {
                c.i += 1;
                c.expect_end()?;
                let Some(mut open) = stack.pop() else {
                    return Err(syntax(kat, "unexpected {{end}} without {{if}}"));
                };
                let otherwise = match open.cond.take() {
                    Some(cond) => {
                        open.arms.push((cond, std::mem::take(&mut open.body)));
                        Vec::new()
                    }
                    None => std::mem::take(&mut open.body),
                };
                body(&mut root, &mut stack).push(Node::Branch {
                    arms: open.arms,
                    otherwise,
                });
            }
            Some((
                k @ ("range" | "with" | "define" | "template" | "block" | "break" | "continue"),
                kat,
            )) => {
                let hint = match k {
                    "range" => format!("{SUBSET}; liquid's {{% for %}} can loop"),
                    "with" => format!("{SUBSET}; use {{{{if}}}} and the full field path"),
                    "break" | "continue" => format!("{SUBSET}; they only make sense inside range"),
                    _ => format!("{SUBSET}; a template is a single file"),
                };
                return Err(unsupported(kat, format!("{{{{{k}}}}}"), hint));
            }
            _ => {
                let expr = c.pipeline()?;
                c.expect_end()?;
                body(&mut root, &mut stack).push(Node::Emit {
                    expr,
                    verbatim: false,
                });
            }
        }
    }
    if let Some(open) = stack.last() {
        return Err(syntax(open.at, "unclosed {{if}}: missing {{end}}"));
    }
    if html && state != html::State::Text {
        return Err(html::ends_outside_text(state, src.len()));
    }
    Ok(Program {
        nodes: Node::merge_text(root),
        dialect: Dialect::Go,
    })
}

impl Cursor<'_> {
    fn expect_end(&self) -> Result<(), GoError> {
        match self.peek() {
            None => Ok(()),
            Some((Tok::RParen, at)) => Err(syntax(*at, "unexpected right paren")),
            Some((_, at)) => Err(syntax(*at, "unexpected tokens at the end of the action")),
        }
    }
}

/// Whether `src` is written in Go's template syntax rather than liquid: some action `{{ ... }}`
/// (after an optional `-` trim marker) starts with `.`, `$`, `(` or a comment `/*`; or is exactly
/// `else`, `end`, `break` or `continue`; or has a word followed, before any `|`, by a second operand, as Go keywords and
/// function calls do (`{{if .X}}`, `{{eq .A "b"}}`) and a liquid output never can.
/// Returns the offset of the first such action.
pub(crate) fn detect(src: &str) -> Option<usize> {
    let b = src.as_bytes();
    let mut pos = 0;
    while let Some(i) = src[pos..].find("{{") {
        let open = pos + i;
        let mut j = open + 2;
        if b.get(j) == Some(&b'-') {
            j += 1;
        }
        while b.get(j).is_some_and(|c| is_space(*c)) {
            j += 1;
        }
        let rest = &src[j..];
        if rest.starts_with(['.', '$', '(']) || rest.starts_with("/*") {
            return Some(open);
        }
        let word_end = ident_end(src, j);
        let word = &src[j..word_end];
        let after = src[word_end..].trim_start_matches(GO_SPACE);
        let closes = after.starts_with("}}") || after.starts_with("-}}");
        if !word.is_empty() {
            if matches!(word, "else" | "end" | "break" | "continue") && closes {
                return Some(open);
            }
            let spaced = word_end < src.len() && is_space(b[word_end]);
            if spaced && !closes && !after.starts_with('|') && !after.is_empty() {
                return Some(open);
            }
        }
        pos = open + 2;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detection() {
        for (src, go) in [
            ("{{.Type}}", true),
            ("{{ .Meta.Path }}", true),
            ("{{- .Type -}}", true),
            ("{{if eq .Type \"x\"}}a{{end}}", true),
            ("{{ else }}", true),
            ("{{end}}", true),
            ("{{/* c */}}", true),
            ("{{ $x := 1 }}", true),
            ("{{ (eq .A .B) }}", true),
            ("{{ Type }}", false),
            ("{{ Meta.Path | upcase }}", false),
            ("{{Type|json}}", false),
            ("{{ \"x\" }}", false),
            ("{% if Type == \"x\" %}{{ Meta.Message }}{% endif %}", false),
            ("{{ ending }}", false),
            ("{{ endpoint | default: \"x\" }}", false),
            ("no actions at all", false),
        ] {
            assert_eq!(detect(src).is_some(), go, "{src}");
        }
    }

    #[test]
    fn quoted_strings() {
        let (s, end) = lex_quoted(r#""a\"b\n\t\\\x41\u00e9\101" rest"#, 0).unwrap();
        assert_eq!(s, "a\"b\n\t\\Aé A".replace(' ', ""));
        assert_eq!(end, 26);
    }
}
