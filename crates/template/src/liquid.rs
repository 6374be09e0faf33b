//! Liquid templates: the source scanner, the escaping Hookshot appends to every output, and the
//! compiler that turns templates keeping to a common subset into a [`Program`].
//!
//! Every liquid template is parsed by the liquid crate (which reports syntax errors and renders
//! anything outside the subset). The subset compiled here: text; outputs of a literal or a variable
//! path (`Meta.HostInfo.MetaData.host_name`, `Meta["Path"]`) through the filters `json`,
//! `as_rfc3339`, `as_rfc3339_from_string` and `default: <literal>`; `if` / `elsif` / `else`,
//! `unless` / `else`, `case` / `when` / `else` with `==`, `!=`, `<>`, `<`, `>`, `<=`, `>=`,
//! `contains`, `and`, `or`; whitespace control. The compiled program follows liquid's semantics
//! and defers to the liquid crate when a value falls outside them (an object printed, say); tests
//! render every shipped template both ways and compare.

use crate::data::Key;
use crate::escape::Escaping;
use crate::filters::escape_filter_name;
use crate::program::{CmpOp, Dialect, Expr, Filter, Lit, Node, Program};

/// A piece of a liquid template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Seg<'s> {
    Text(&'s str),
    /// `{{ inner }}`; `close` is the offset of the closing `-}}` or `}}`.
    Output {
        inner: &'s str,
        at: usize,
        close: usize,
        trim_left: bool,
        trim_right: bool,
        in_raw: bool,
    },
    /// `{% name args %}`.
    Tag {
        name: &'s str,
        args: &'s str,
        at: usize,
        trim_left: bool,
        trim_right: bool,
    },
}

/// Liquid's whitespace, which `{{-` / `-}}` remove: spaces and line breaks (not tabs).
const LIQUID_SPACE: &[char] = &[' ', '\n', '\r'];

/// Splits a liquid template into text, outputs and tags; `None` when it is not well formed
/// (the liquid crate reports how).
pub(crate) fn scan(src: &str) -> Option<Vec<Seg<'_>>> {
    let b = src.as_bytes();
    let mut segs = Vec::new();
    let mut pos = 0;
    let mut in_raw = false;
    while pos < src.len() {
        let next = find_open(src, pos);
        let Some((open, is_tag)) = next else {
            segs.push(Seg::Text(&src[pos..]));
            break;
        };
        if open > pos {
            segs.push(Seg::Text(&src[pos..open]));
        }
        let trim_left = b.get(open + 2) == Some(&b'-');
        let start = open + 2 + usize::from(trim_left);
        let close_mark = if is_tag { b'%' } else { b'}' };
        let mut i = start;
        let (close, trim_right, end) = loop {
            match b.get(i)? {
                q @ (b'"' | b'\'') => {
                    i += 1 + src[i + 1..].find(char::from(*q))? + 1;
                }
                b'-' if b.get(i + 1) == Some(&close_mark) && b.get(i + 2) == Some(&b'}') => {
                    break (i, true, i + 3);
                }
                c if *c == close_mark && b.get(i + 1) == Some(&b'}') => break (i, false, i + 2),
                _ => i += 1,
            }
        };
        let inner = &src[start..close];
        if is_tag {
            let trimmed = inner.trim_matches(LIQUID_SPACE);
            let name_end = trimmed
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(trimmed.len());
            let name = &trimmed[..name_end];
            match name {
                "raw" => in_raw = true,
                "endraw" => in_raw = false,
                _ => {}
            }
            segs.push(Seg::Tag {
                name,
                args: &trimmed[name_end..],
                at: open,
                trim_left,
                trim_right,
            });
        } else {
            segs.push(Seg::Output {
                inner,
                at: open,
                close,
                trim_left,
                trim_right,
                in_raw,
            });
        }
        pos = end;
    }
    Some(segs)
}

/// The next `{{` or `{%` at or after `pos`: its offset and whether it opens a tag.
fn find_open(src: &str, pos: usize) -> Option<(usize, bool)> {
    let b = src.as_bytes();
    let mut i = pos;
    while let Some(j) = src[i..].find('{') {
        let at = i + j;
        match b.get(at + 1) {
            Some(b'{') => return Some((at, false)),
            Some(b'%') => return Some((at, true)),
            _ => i = at + 1,
        }
    }
    None
}

/// The offset of the first liquid tag `{% ... %}` in `src`, if any.
pub(crate) fn first_tag(src: &str) -> Option<usize> {
    let mut pos = 0;
    while let Some((at, is_tag)) = find_open(src, pos) {
        if is_tag && src[at..].contains("%}") {
            return Some(at);
        }
        pos = at + 2;
    }
    None
}

/// The offset of a `{% comment %}` that no `{% endcomment %}` closes, if any.
pub(crate) fn unclosed_comment(segs: &[Seg<'_>]) -> Option<usize> {
    let mut open = Vec::new();
    for seg in segs {
        match seg {
            Seg::Tag {
                name: "comment",
                at,
                ..
            } => open.push(*at),
            Seg::Tag {
                name: "endcomment", ..
            } => {
                open.pop();
            }
            _ => {}
        }
    }
    open.first().copied()
}

/// The tags that open a block of the liquid crate's standard library.
const BLOCKS: [&str; 9] = [
    "if",
    "unless",
    "for",
    "tablerow",
    "case",
    "capture",
    "comment",
    "raw",
    "ifchanged",
];

/// The offset of the first tag or output where the template nests deeper than
/// [`crate::MAX_NESTING`]: open blocks, plus in that tag or output its `|` filters and its `and` /
/// `or` operators (the liquid crate nests a condition's operators, and a program its filters).
///
/// It runs before the liquid crate parses the template (which recurses once per open block) and
/// counts every `{% ... %}` that looks like a tag, so it never counts less than the liquid crate
/// nests; it reads the source once.
pub(crate) fn too_deep(src: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut pos = 0;
    let mut in_raw = false;
    while let Some((open, is_tag)) = find_open(src, pos) {
        let start = open + 2;
        let close = if is_tag { "%}" } else { "}}" };
        let Some(len) = src[start..].find(close) else {
            break;
        };
        pos = start + len + 2;
        let inner = src[start..start + len]
            .trim_start_matches('-')
            .trim_start_matches(|c: char| c.is_ascii_whitespace());
        let name_end = inner
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(inner.len());
        let name = &inner[..name_end];
        if in_raw {
            if is_tag && name == "endraw" {
                in_raw = false;
                depth = depth.saturating_sub(1);
            }
            continue;
        }
        if is_tag {
            if BLOCKS.contains(&name) {
                depth += 1;
                in_raw = name == "raw";
            } else if name
                .strip_prefix("end")
                .is_some_and(|n| BLOCKS.contains(&n))
            {
                depth = depth.saturating_sub(1);
            }
        }
        if depth + operators(inner) > crate::MAX_NESTING {
            return Some(open);
        }
    }
    None
}

/// The `|` filters and `and` / `or` words of a tag or output, outside quotes.
fn operators(inner: &str) -> usize {
    let mut n = 0;
    let mut quote = None;
    let mut word_start = None;
    let b = inner.as_bytes();
    for (i, &c) in b.iter().enumerate() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, b'"' | b'\'') => quote = Some(c),
            (None, b'|') => n += 1,
            _ => {}
        }
        let in_word = quote.is_none() && (c.is_ascii_alphanumeric() || c == b'_');
        match (in_word, word_start) {
            (true, None) => word_start = Some(i),
            (false, Some(w)) => {
                if matches!(&inner[w..i], "and" | "or") {
                    n += 1;
                }
                word_start = None;
            }
            _ => {}
        }
    }
    if let Some(w) = word_start
        && matches!(&inner[w..], "and" | "or")
    {
        n += 1;
    }
    n
}

/// Splits `s` at top-level `|` (outside quotes).
fn split_pipes(s: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut quote = None;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '|') => {
                parts.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&s[start..]);
    parts
}

/// Whether an output's last filter is `json` (its value is already a JSON literal).
fn ends_in_json(inner: &str) -> bool {
    let parts = split_pipes(inner);
    parts.len() > 1
        && parts
            .last()
            .map(|p| p.trim_matches(LIQUID_SPACE))
            .is_some_and(|f| f == "json" || f.starts_with("json:") || f.starts_with("json "))
}

/// Whether an output is written without escaping: in a JSON template, when `json` made it.
fn verbatim(inner: &str, escaping: Escaping) -> bool {
    escaping == Escaping::Json && ends_in_json(inner)
}

/// The range `(start..stop)` of a `for` or `tablerow` tag's arguments: its bounds as written.
pub(crate) struct RangeBounds<'s> {
    pub(crate) start: &'s str,
    pub(crate) stop: &'s str,
}

impl RangeBounds<'_> {
    /// The number of elements, when both bounds are integer literals.
    pub(crate) fn literal_len(&self) -> Option<i128> {
        let start: i64 = self.start.parse().ok()?;
        let stop: i64 = self.stop.parse().ok()?;
        Some(i128::from(stop) - i128::from(start) + 1)
    }
}

/// The range of a `for` / `tablerow` tag, if it loops over one.
pub(crate) fn range_of<'s>(name: &str, args: &'s str) -> Option<RangeBounds<'s>> {
    if !matches!(name, "for" | "tablerow") {
        return None;
    }
    let open = args.find('(')?;
    let rest = &args[open + 1..];
    let dots = rest.find("..")?;
    let close = dots + rest[dots..].find(')')?;
    let start = rest[..dots].trim_matches(LIQUID_SPACE);
    let stop = rest[dots + 2..close].trim_matches(LIQUID_SPACE);
    (!start.is_empty() && !stop.is_empty() && !stop.contains('('))
        .then_some(RangeBounds { start, stop })
}

/// The source the liquid crate renders: Hookshot's escaping filter appended to every output
/// (outside `{% raw %}`), and before every `for` / `tablerow` over a range whose bounds are not both
/// integer literals, an `assign` that checks its size (see [`crate::filters::RangeStopFilter`]) and
/// whose result the range then ends at.
pub(crate) fn with_escaping(src: &str, segs: &[Seg<'_>], escaping: Escaping) -> String {
    let mut out = String::with_capacity(src.len() + 64);
    let mut pos = 0;
    let mut in_raw = false;
    let mut ranges = 0;
    for seg in segs {
        match seg {
            Seg::Output {
                inner,
                close,
                in_raw: false,
                ..
            } if !verbatim(inner, escaping) => {
                out.push_str(&src[pos..*close]);
                out.push_str(" | ");
                out.push_str(escape_filter_name(escaping));
                out.push(' ');
                pos = *close;
            }
            Seg::Tag { name: "raw", .. } => in_raw = true,
            Seg::Tag { name: "endraw", .. } => in_raw = false,
            Seg::Tag {
                name,
                args,
                at,
                trim_left,
                ..
            } if !in_raw => {
                let Some(range) = range_of(name, args) else {
                    continue;
                };
                if range.literal_len().is_some() {
                    continue;
                }
                let stop_at = offset_in(src, range.stop);
                out.push_str(&src[pos..*at]);
                out.push_str(if *trim_left { "{%- " } else { "{% " });
                out.push_str(&format!(
                    "assign __hookshot_range_{ranges} = {} | {}: {} %}}",
                    range.stop,
                    crate::filters::RANGE_STOP,
                    range.start
                ));
                out.push_str(&src[*at..stop_at]);
                out.push_str(&format!("__hookshot_range_{ranges}"));
                pos = stop_at + range.stop.len();
                ranges += 1;
            }
            _ => {}
        }
    }
    out.push_str(&src[pos..]);
    out
}

/// The offset of `part`, a slice of `src`, in `src`.
fn offset_in(src: &str, part: &str) -> usize {
    part.as_ptr() as usize - src.as_ptr() as usize
}

/// A token of a liquid expression.
#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Value(ValueTok),
    Pipe,
    Colon,
    Comma,
    Op(&'static str),
}

#[derive(Debug, Clone, PartialEq)]
enum ValueTok {
    Lit(LitTok),
    /// A variable path; its first segment is the identifier (`and`, `or`, `contains` included).
    Var(Vec<String>),
}

#[derive(Debug, Clone, PartialEq)]
enum LitTok {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Nil,
}

/// Tokenizes an expression; `None` for anything the compiler leaves to the liquid crate.
fn tokens(s: &str) -> Option<Vec<Tok>> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        match c {
            b' ' | b'\n' | b'\r' => i += 1,
            b'|' => {
                out.push(Tok::Pipe);
                i += 1;
            }
            b':' => {
                out.push(Tok::Colon);
                i += 1;
            }
            b',' => {
                out.push(Tok::Comma);
                i += 1;
            }
            b'=' | b'!' | b'<' | b'>' => {
                let two = s.get(i..i + 2).unwrap_or("");
                let op = match two {
                    "==" => "==",
                    "!=" | "<>" => "!=",
                    ">=" => ">=",
                    "<=" => "<=",
                    _ => match c {
                        b'<' => "<",
                        b'>' => ">",
                        _ => return None,
                    },
                };
                i += if op.len() == 2 { 2 } else { 1 };
                out.push(Tok::Op(op));
            }
            b'"' | b'\'' => {
                let end = i + 1 + s[i + 1..].find(char::from(c))?;
                out.push(Tok::Value(ValueTok::Lit(LitTok::Str(
                    s[i + 1..end].to_owned(),
                ))));
                i = end + 1;
            }
            b'0'..=b'9' | b'+' | b'-' => {
                let mut j = i + 1;
                while j < b.len() && (b[j].is_ascii_digit() || b[j] == b'.') {
                    j += 1;
                }
                let text = &s[i..j];
                if j < b.len() && (b[j].is_ascii_alphabetic() || b[j] == b'_' || b[j] == b'-') {
                    return None;
                }
                let digits = text.trim_start_matches(['+', '-']);
                let lit = match digits.split_once('.') {
                    None if !digits.is_empty() => LitTok::Int(text.parse().ok()?),
                    Some((a, f))
                        if !a.is_empty()
                            && !f.is_empty()
                            && a.bytes().chain(f.bytes()).all(|c| c.is_ascii_digit()) =>
                    {
                        LitTok::Float(text.parse().ok()?)
                    }
                    _ => return None,
                };
                out.push(Tok::Value(ValueTok::Lit(lit)));
                i = j;
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let (path, end) = variable(s, i)?;
                let first = path[0].as_str();
                let keyword = ["nil", "null", "true", "false", "empty", "blank"]
                    .iter()
                    .find(|k| first.starts_with(*k));
                let tok = match keyword {
                    Some(k) if path.len() == 1 && first == *k => match *k {
                        "nil" | "null" => ValueTok::Lit(LitTok::Nil),
                        "true" => ValueTok::Lit(LitTok::Bool(true)),
                        "false" => ValueTok::Lit(LitTok::Bool(false)),
                        _ => return None,
                    },
                    // Names that start like a literal, and `size` / `first` / `last`, which liquid
                    // answers itself: left to the liquid crate.
                    Some(_) => return None,
                    None => {
                        if path[1..]
                            .iter()
                            .any(|p| matches!(p.as_str(), "size" | "first" | "last"))
                        {
                            return None;
                        }
                        ValueTok::Var(path)
                    }
                };
                out.push(Tok::Value(tok));
                i = end;
            }
            _ => return None,
        }
    }
    Some(out)
}

/// A variable path at `i`: identifiers joined by `.`, or `["key"]`.
fn variable(s: &str, i: usize) -> Option<(Vec<String>, usize)> {
    let b = s.as_bytes();
    let ident = |i: usize| -> usize {
        let mut j = i;
        while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
            j += 1;
        }
        j
    };
    let mut path = Vec::new();
    let end = ident(i);
    path.push(s[i..end].to_owned());
    let mut i = end;
    loop {
        match b.get(i) {
            Some(b'.') => {
                let end = ident(i + 1);
                if end == i + 1 || !b[i + 1].is_ascii_alphabetic() && b[i + 1] != b'_' {
                    return None;
                }
                path.push(s[i + 1..end].to_owned());
                i = end;
            }
            Some(b'[') => {
                let q = *b.get(i + 1)?;
                if q != b'"' && q != b'\'' {
                    return None;
                }
                let close = i + 2 + s[i + 2..].find(char::from(q))?;
                if b.get(close + 1) != Some(&b']') {
                    return None;
                }
                path.push(s[i + 2..close].to_owned());
                i = close + 2;
            }
            // Hyphens in names, and anything glued to a name, are left to the liquid crate.
            Some(c) if c.is_ascii_alphanumeric() || *c == b'-' || *c == b'_' => return None,
            _ => return Some((path, i)),
        }
    }
}

fn lit(l: LitTok) -> Lit {
    match l {
        LitTok::Str(s) => Lit::Str(s.into()),
        LitTok::Int(n) => Lit::Int(n),
        LitTok::Float(f) => Lit::Float(f),
        LitTok::Bool(b) => Lit::Bool(b),
        LitTok::Nil => Lit::Nil,
    }
}

fn value(v: ValueTok, at: usize) -> Expr {
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
fn output(inner: &str, at: usize) -> Option<Expr> {
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
fn condition(args: &str, at: usize) -> Option<Expr> {
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
fn when_values(args: &str, at: usize) -> Option<Vec<Expr>> {
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

/// An open block while compiling.
enum Open {
    /// `if` / `unless`: finished arms, the current condition (`None` after `else`), its body.
    If {
        arms: Vec<(Expr, Vec<Node>)>,
        cond: Option<Expr>,
        body: Vec<Node>,
        end: &'static str,
    },
    /// `case`: the target, finished arms, the current `when` condition (`None` before the first
    /// `when` and after `else`), its body, and whether `else` was seen.
    Case {
        target: ValueTok,
        at: usize,
        arms: Vec<(Vec<Expr>, Vec<Node>)>,
        cond: Option<Vec<Expr>>,
        body: Vec<Node>,
        in_else: bool,
    },
}

/// Compiles a liquid template that keeps to the subset; `None` leaves it to the liquid crate.
pub(crate) fn compile(segs: &[Seg<'_>], escaping: Escaping) -> Option<Program> {
    let mut root: Vec<Node> = Vec::new();
    let mut stack: Vec<Open> = Vec::new();
    let mut comment_depth = 0usize;
    for (i, seg) in segs.iter().enumerate() {
        // Comments are skipped; other tags inside them are left to the liquid crate, which
        // parses them for their side effects.
        match seg {
            Seg::Tag {
                name: "comment", ..
            } => {
                comment_depth += 1;
                continue;
            }
            Seg::Tag {
                name: "endcomment", ..
            } if comment_depth > 0 => {
                comment_depth -= 1;
                continue;
            }
            Seg::Tag { .. } if comment_depth > 0 => return None,
            _ if comment_depth > 0 => continue,
            _ => {}
        }
        let node = match seg {
            Seg::Text(t) => {
                let mut t: &str = t;
                if i > 0 && trims_right(&segs[i - 1]) {
                    t = t.trim_start_matches(LIQUID_SPACE);
                }
                if segs.get(i + 1).is_some_and(trims_left) {
                    t = t.trim_end_matches(LIQUID_SPACE);
                }
                if t.is_empty() {
                    continue;
                }
                Node::Text(t.into())
            }
            Seg::Output { inner, at, .. } => Node::Emit {
                expr: output(inner, *at)?,
                verbatim: verbatim(inner, escaping),
            },
            Seg::Tag { name, args, at, .. } => {
                let args = args.trim_matches(LIQUID_SPACE);
                match *name {
                    "if" | "unless" => {
                        let cond = condition(args, *at)?;
                        let (cond, end) = if *name == "if" {
                            (cond, "endif")
                        } else {
                            (Expr::Not(Box::new(cond)), "endunless")
                        };
                        stack.push(Open::If {
                            arms: Vec::new(),
                            cond: Some(cond),
                            body: Vec::new(),
                            end,
                        });
                        continue;
                    }
                    "elsif" => {
                        let Some(Open::If {
                            arms,
                            cond,
                            body,
                            end: "endif",
                        }) = stack.last_mut()
                        else {
                            return None;
                        };
                        let prev = cond.take()?;
                        arms.push((prev, std::mem::take(body)));
                        *cond = Some(condition(args, *at)?);
                        continue;
                    }
                    "else" => {
                        if !args.is_empty() {
                            return None;
                        }
                        match stack.last_mut()? {
                            Open::If {
                                arms, cond, body, ..
                            } => {
                                let prev = cond.take()?;
                                arms.push((prev, std::mem::take(body)));
                            }
                            Open::Case {
                                arms,
                                cond,
                                body,
                                in_else,
                                ..
                            } => {
                                if *in_else {
                                    return None;
                                }
                                if let Some(prev) = cond.take() {
                                    arms.push((prev, std::mem::take(body)));
                                }
                                body.clear();
                                *in_else = true;
                            }
                        }
                        continue;
                    }
                    "case" => {
                        let mut toks = tokens(args)?.into_iter();
                        let (Some(Tok::Value(target)), None) = (toks.next(), toks.next()) else {
                            return None;
                        };
                        stack.push(Open::Case {
                            target,
                            at: *at,
                            arms: Vec::new(),
                            cond: None,
                            body: Vec::new(),
                            in_else: false,
                        });
                        continue;
                    }
                    "when" => {
                        let Some(Open::Case {
                            arms,
                            cond,
                            body,
                            in_else: false,
                            ..
                        }) = stack.last_mut()
                        else {
                            return None;
                        };
                        match cond.take() {
                            Some(prev) => arms.push((prev, std::mem::take(body))),
                            // Liquid drops what comes before the first `when`.
                            None => body.clear(),
                        }
                        *cond = Some(when_values(args, *at)?);
                        continue;
                    }
                    "endif" | "endunless" => {
                        let Some(Open::If {
                            mut arms,
                            cond,
                            body,
                            end,
                        }) = stack.pop()
                        else {
                            return None;
                        };
                        if end != *name || !args.is_empty() {
                            return None;
                        }
                        let otherwise = match cond {
                            Some(c) => {
                                arms.push((c, body));
                                Vec::new()
                            }
                            None => body,
                        };
                        Node::Branch { arms, otherwise }
                    }
                    "endcase" => {
                        let Some(Open::Case {
                            target,
                            at: case_at,
                            mut arms,
                            cond,
                            body,
                            in_else,
                        }) = stack.pop()
                        else {
                            return None;
                        };
                        if !args.is_empty() {
                            return None;
                        }
                        let otherwise = match (in_else, cond) {
                            (true, _) => body,
                            (false, Some(c)) => {
                                arms.push((c, body));
                                Vec::new()
                            }
                            (false, None) => Vec::new(),
                        };
                        Node::Switch {
                            target: value(target, case_at),
                            arms,
                            otherwise,
                        }
                    }
                    _ => return None,
                }
            }
        };
        let target = match stack.last_mut() {
            None => &mut root,
            Some(Open::If { body, .. }) => body,
            Some(Open::Case { body, .. }) => body,
        };
        target.push(node);
    }
    if !stack.is_empty() || comment_depth > 0 {
        return None;
    }
    Some(Program {
        nodes: Node::merge_text(root),
        dialect: Dialect::Liquid,
    })
}

fn trims_left(seg: &Seg<'_>) -> bool {
    matches!(
        seg,
        Seg::Output {
            trim_left: true,
            ..
        } | Seg::Tag {
            trim_left: true,
            ..
        }
    )
}

fn trims_right(seg: &Seg<'_>) -> bool {
    matches!(
        seg,
        Seg::Output {
            trim_right: true,
            ..
        } | Seg::Tag {
            trim_right: true,
            ..
        }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scanning_respects_quotes_and_trim_markers() {
        let segs = scan("a {{- \"}}\" | json -}} b{%- if x -%}{{ y }}{% endif %}").unwrap();
        assert_eq!(segs.len(), 6);
        assert!(matches!(
            segs[1],
            Seg::Output {
                inner: " \"}}\" | json ",
                trim_left: true,
                trim_right: true,
                ..
            }
        ));
        assert!(matches!(
            segs[3],
            Seg::Tag {
                name: "if",
                trim_left: true,
                trim_right: true,
                ..
            }
        ));
        assert_eq!(scan("{{ \"unterminated }}"), None);
    }

    #[test]
    fn escaping_is_appended_to_outputs_outside_raw_blocks() {
        let src = "{{ Type }} {{- Meta.Path | json -}} {% raw %}{{ Type }}{% endraw %} {{ 'a}}' | upcase }}";
        let segs = scan(src).unwrap();
        assert_eq!(
            with_escaping(src, &segs, Escaping::Json),
            "{{ Type  | __hookshot_escape_json }} {{- Meta.Path | json -}} {% raw %}{{ Type }}{% endraw %} {{ 'a}}' | upcase  | __hookshot_escape_json }}"
        );
        assert_eq!(
            with_escaping(
                "{{ x | json }}",
                &scan("{{ x | json }}").unwrap(),
                Escaping::Markup
            ),
            "{{ x | json  | __hookshot_escape_markup }}"
        );
    }

    #[test]
    fn templates_outside_the_subset_are_left_to_liquid() {
        for src in [
            "{% for x in Meta %}{% endfor %}",
            "{% assign a = 1 %}",
            "{{ Meta.Path | upcase }}",
            "{{ Meta.Path.size }}",
            "{{ Meta[0] }}",
            "{{ a-b }}",
            "{{ nilly }}",
            "{% if Type == empty %}{% endif %}",
            "{% else if %}",
            "{% comment %}{% if x %}{% endif %}{% endcomment %}",
            "{{ x | default: y }}",
            "{{ x | json | upcase }}",
        ] {
            let segs = scan(src).unwrap();
            assert!(compile(&segs, Escaping::Json).is_none(), "{src}");
        }
    }
}
