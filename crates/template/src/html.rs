//! The text of a Go-syntax template as Go's `html/template` writes it, and the HTML context each of
//! its actions is in.
//!
//! Tyk parses every webhook template with `html/template`, which follows the HTML the template
//! text forms and escapes each value by its context. Hookshot reproduces the text context exactly:
//! values are written with [`crate::escape::write_markup`] (`html/template`'s `htmlEscaper`), and a
//! `<` of the template's text that opens no tag becomes `&lt;`, as `escapeText` rewrites it. Tags
//! are followed (names, attributes, quoted and unquoted values) only to know where they end; an
//! action inside a tag, where `html/template` would escape by the attribute's kind (URL, script,
//! style), an HTML comment (which `html/template` removes), and the elements whose content is not
//! HTML text (`<script>`, `<style>`, `<textarea>`, `<title>`) are refused at load.
//!
//! The transitions are those of Go's `html/template/transition.go` (`tText`, `tTag`, `tAttrName`,
//! `tAfterName`, `tBeforeValue`) and `escape.go` (`contextAfterText`, `escapeText`).

use crate::go::{GoError, syntax, unsupported};

/// Where the text so far has left the HTML parser.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum State {
    /// Between tags: the only state an action may be in.
    Text,
    /// Inside a tag, before an attribute name or the closing `>`.
    Tag,
    /// Inside an attribute name.
    AttrName,
    /// After an attribute name, before `=`.
    AfterName,
    /// After `=`, before the value.
    BeforeValue,
    /// Inside an attribute value ending at this delimiter.
    Value(Delim),
}

/// What ends an attribute value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Delim {
    Double,
    Single,
    SpaceOrTagEnd,
}

impl State {
    /// The context's name in messages.
    pub(crate) fn describe(self) -> &'static str {
        match self {
            State::Text => "HTML text",
            State::Tag | State::AttrName | State::AfterName => "an HTML tag",
            State::BeforeValue | State::Value(_) => "an HTML attribute value",
        }
    }
}

const HINT: &str = "Go's html/template escapes a value inside a tag by the attribute's kind (URL, script, style), which Hookshot does not reproduce; Hookshot escapes values between tags exactly as html/template does. Put the value between tags, or write a JSON template (a name ending in .json)";

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\x0c' | b'\r')
}

fn eat_space(s: &[u8], i: usize) -> usize {
    s[i..]
        .iter()
        .position(|&b| !is_space(b))
        .map_or(s.len(), |j| i + j)
}

/// `eatTagName`: the end of a tag name starting at `i` (`i` itself when there is none).
fn eat_tag_name(s: &[u8], i: usize) -> usize {
    if i == s.len() || !s[i].is_ascii_alphabetic() {
        return i;
    }
    let mut j = i + 1;
    while j < s.len() {
        let x = s[j];
        if x.is_ascii_alphanumeric() {
            j += 1;
        } else if (x == b':' || x == b'-') && s.get(j + 1).is_some_and(u8::is_ascii_alphanumeric) {
            j += 2;
        } else {
            break;
        }
    }
    j
}

/// The error for the character at `bad` of `s` (which starts at `at` in the template), found in
/// an attribute name.
fn bad_attr_name(s: &[u8], at: usize, bad: usize) -> GoError {
    syntax(
        at + bad,
        format!(
            "{:?} in an HTML attribute name, which Go's html/template refuses",
            char::from(s[bad])
        ),
    )
}

/// `eatAttrName`: the end of an attribute name starting at `i`, or the offset of a character
/// `html/template` refuses in one.
fn eat_attr_name(s: &[u8], i: usize) -> Result<usize, usize> {
    for (j, &b) in s.iter().enumerate().skip(i) {
        match b {
            b' ' | b'\t' | b'\n' | b'\x0c' | b'\r' | b'=' | b'>' => return Ok(j),
            b'\'' | b'"' | b'<' => return Err(j),
            _ => {}
        }
    }
    Ok(s.len())
}

/// Rewrites one text node of a Go-syntax template as `html/template` writes it, starting in
/// `state` and leaving there the state after it. `at` is the node's offset in the source, for
/// errors.
pub(crate) fn text(state: &mut State, src: &str, at: usize) -> Result<String, GoError> {
    let s = src.as_bytes();
    let mut out = String::with_capacity(src.len());
    let mut written = 0;
    let mut i = 0;
    while i < s.len() {
        match *state {
            State::Text => {
                // tText: the next `<` that opens a tag or a comment, the others rewritten.
                let mut k = i;
                let mut next = None;
                while let Some(off) = s[k..].iter().position(|&b| b == b'<') {
                    let lt = k + off;
                    if lt + 1 == s.len() {
                        break;
                    }
                    if s[lt..].starts_with(b"<!--") {
                        return Err(unsupported(
                            at + lt,
                            "an HTML comment",
                            "Go's html/template removes HTML comments from the output; remove it, or use a template comment {{/* ... */}}",
                        ));
                    }
                    let mut n = lt + 1;
                    let end_tag = s[n] == b'/';
                    if end_tag {
                        if n + 1 == s.len() {
                            break;
                        }
                        n += 1;
                    }
                    let name_end = eat_tag_name(s, n);
                    if name_end != n {
                        let name = src[n..name_end].to_ascii_lowercase();
                        if !end_tag
                            && matches!(name.as_str(), "script" | "style" | "textarea" | "title")
                        {
                            return Err(unsupported(
                                at + lt,
                                format!("the element <{name}>"),
                                "Go's html/template escapes its content as script, style or raw text, which Hookshot does not reproduce; Hookshot escapes values in HTML text exactly as html/template does",
                            ));
                        }
                        next = Some((lt, name_end));
                        break;
                    }
                    k = name_end;
                }
                let end = next.map_or(s.len(), |(lt, _)| lt);
                for j in i..end {
                    if s[j] == b'<' && !s[j..].to_ascii_uppercase().starts_with(b"<!DOCTYPE") {
                        out.push_str(&src[written..j]);
                        out.push_str("&lt;");
                        written = j + 1;
                    }
                }
                match next {
                    Some((_, name_end)) => {
                        *state = State::Tag;
                        i = name_end;
                    }
                    None => i = s.len(),
                }
            }
            State::Tag => {
                // tTag
                let j = eat_space(s, i);
                if j == s.len() {
                    i = j;
                } else if s[j] == b'>' {
                    *state = State::Text;
                    i = j + 1;
                } else {
                    let name_end = eat_attr_name(s, j).map_err(|bad| bad_attr_name(s, at, bad))?;
                    if name_end == j {
                        return Err(syntax(
                            at + j,
                            "expected space, attribute name, or end of tag (Go's html/template refuses this HTML)",
                        ));
                    }
                    *state = if name_end == s.len() {
                        State::AttrName
                    } else {
                        State::AfterName
                    };
                    i = name_end;
                }
            }
            State::AttrName => {
                let end = eat_attr_name(s, i).map_err(|bad| bad_attr_name(s, at, bad))?;
                if end != s.len() {
                    *state = State::AfterName;
                }
                i = end;
            }
            State::AfterName => {
                let j = eat_space(s, i);
                if j == s.len() {
                    i = j;
                } else if s[j] != b'=' {
                    *state = State::Tag;
                    i = j;
                } else {
                    *state = State::BeforeValue;
                    i = j + 1;
                }
            }
            State::BeforeValue => {
                let j = eat_space(s, i);
                if j == s.len() {
                    i = j;
                } else {
                    let (delim, skip) = match s[j] {
                        b'"' => (Delim::Double, 1),
                        b'\'' => (Delim::Single, 1),
                        _ => (Delim::SpaceOrTagEnd, 0),
                    };
                    *state = State::Value(delim);
                    i = j + skip;
                }
            }
            State::Value(delim) => {
                // contextAfterText inside an attribute value.
                let ends: &[u8] = match delim {
                    Delim::Double => b"\"",
                    Delim::Single => b"'",
                    Delim::SpaceOrTagEnd => b" \t\n\x0c\r>",
                };
                let end = s[i..]
                    .iter()
                    .position(|b| ends.contains(b))
                    .map_or(s.len(), |j| i + j);
                if delim == Delim::SpaceOrTagEnd
                    && let Some(bad) = s[i..end].iter().position(|b| b"\"'<=`".contains(b))
                {
                    return Err(syntax(
                        at + i + bad,
                        format!(
                            "{:?} in an unquoted HTML attribute value, which Go's html/template refuses",
                            char::from(s[i + bad])
                        ),
                    ));
                }
                if end == s.len() {
                    i = end;
                } else {
                    *state = State::Tag;
                    i = if delim == Delim::SpaceOrTagEnd {
                        end
                    } else {
                        end + 1
                    };
                }
            }
        }
    }
    out.push_str(&src[written..]);
    Ok(out)
}

/// The error for an action at `at` in `state`, which is not HTML text.
pub(crate) fn action_outside_text(state: State, at: usize) -> GoError {
    unsupported(at, format!("an action inside {}", state.describe()), HINT)
}

/// The error for a template whose text ends in `state`, which is not HTML text.
pub(crate) fn ends_outside_text(state: State, at: usize) -> GoError {
    syntax(
        at,
        format!(
            "the template ends inside {}: Go's html/template refuses a template that does not end in HTML text",
            state.describe()
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(src: &str) -> (Result<String, GoError>, State) {
        let mut state = State::Text;
        (text(&mut state, src, 0), state)
    }

    #[test]
    fn stray_less_than_signs_are_rewritten_as_html_template_does() {
        for (src, want) in [
            ("a < b", "a &lt; b"),
            ("1<2 <= 3", "1&lt;2 &lt;= 3"),
            ("ends with <", "ends with &lt;"),
            ("ends with </", "ends with &lt;/"),
            (
                "<!DOCTYPE html> <!doctype x>",
                "<!DOCTYPE html> <!doctype x>",
            ),
            ("{\"k\": \"v\"} & > ' \"", "{\"k\": \"v\"} & > ' \""),
            ("x < <b>y</b> <3", "x &lt; <b>y</b> &lt;3"),
        ] {
            let (out, state) = run(src);
            assert_eq!(out.unwrap(), want, "{src}");
            assert_eq!(state, State::Text, "{src}");
        }
    }

    #[test]
    fn tags_are_followed_to_their_end() {
        for (src, end) in [
            ("<a", State::Tag),
            ("<a href", State::AttrName),
            ("<a href ", State::AfterName),
            ("<a href=", State::BeforeValue),
            ("<a href=\"x>", State::Value(Delim::Double)),
            ("<a title='x\">y'>", State::Text),
            ("<a id=x>", State::Text),
            ("<a id=x ", State::Tag),
            ("<br/>", State::Text),
            ("<x-y:z a b=c>", State::Text),
        ] {
            assert_eq!(run(src).1, end, "{src}");
        }
    }

    #[test]
    fn what_html_template_escapes_otherwise_is_refused() {
        for src in [
            "<!-- c -->",
            "<script>x</script>",
            "<STYLE>",
            "<title>",
            "<textarea>",
            "<a \"x\">",
            "<a b=c\"d>",
            "<a =x>",
        ] {
            assert!(run(src).0.is_err(), "{src}");
        }
        assert!(run("</script>").0.is_ok());
    }
}
