//! The scanner: a liquid template split into text, outputs and tags.

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
pub(super) const LIQUID_SPACE: &[char] = &[' ', '\n', '\r'];

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
pub(super) fn find_open(src: &str, pos: usize) -> Option<(usize, bool)> {
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
}
