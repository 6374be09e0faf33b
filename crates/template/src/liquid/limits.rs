//! The limits checked before the liquid crate parses or renders a template: how deep it nests,
//! and the ranges it loops over.

use super::scan::{LIQUID_SPACE, find_open};

/// The tags that open a block of the liquid crate's standard library.
pub(super) const BLOCKS: [&str; 9] = [
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
pub(super) fn operators(inner: &str) -> usize {
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
