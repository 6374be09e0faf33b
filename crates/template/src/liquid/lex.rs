//! The lexer of a liquid output's or tag's expression, for the compiled subset.

/// A token of a liquid expression.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tok {
    Value(ValueTok),
    Pipe,
    Colon,
    Comma,
    Op(&'static str),
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum ValueTok {
    Lit(LitTok),
    /// A variable path; its first segment is the identifier (`and`, `or`, `contains` included).
    Var(Vec<String>),
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum LitTok {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Nil,
}

/// Tokenizes an expression; `None` for anything the compiler leaves to the liquid crate.
pub(super) fn tokens(s: &str) -> Option<Vec<Tok>> {
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
pub(super) fn variable(s: &str, i: usize) -> Option<(Vec<String>, usize)> {
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
