//! The lexer: which syntax a template is written in, and a Go template split into text and
//! actions, each action into tokens.

use super::{GoError, MAX_NESTING, syntax};

/// Go's space characters, which the trim markers remove.
pub(super) fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

pub(super) const GO_SPACE: &[char] = &[' ', '\t', '\r', '\n'];

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tok {
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
pub(super) enum Item {
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
pub(super) fn lex(src: &str) -> Result<Vec<Item>, GoError> {
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
pub(super) fn offset_in(src: &str, part: &str) -> usize {
    part.as_ptr() as usize - src.as_ptr() as usize
}

/// The end of an identifier (letters, digits, `_`) starting at `i`.
pub(super) fn ident_end(src: &str, i: usize) -> usize {
    src[i..]
        .char_indices()
        .find(|&(_, c)| !(c.is_alphanumeric() || c == '_'))
        .map_or(src.len(), |(j, _)| i + j)
}

/// A Go interpreted string literal starting at `i` (the opening quote): its value and the offset
/// after the closing quote.
pub(super) fn lex_quoted(src: &str, i: usize) -> Result<(String, usize), GoError> {
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
