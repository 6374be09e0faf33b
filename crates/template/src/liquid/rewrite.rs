//! The source the liquid crate renders: Hookshot's escaping appended to every output, and the
//! size of every range over event values checked before it is built.

use super::limits::range_of;
use super::scan::{LIQUID_SPACE, Seg};
use crate::escape::Escaping;
use crate::filters::escape_filter_name;

/// Splits `s` at top-level `|` (outside quotes).
pub(super) fn split_pipes(s: &str) -> Vec<&str> {
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
pub(super) fn ends_in_json(inner: &str) -> bool {
    let parts = split_pipes(inner);
    parts.len() > 1
        && parts
            .last()
            .map(|p| p.trim_matches(LIQUID_SPACE))
            .is_some_and(|f| f == "json" || f.starts_with("json:") || f.starts_with("json "))
}

/// Whether an output is written without escaping: in a JSON template, when `json` made it.
pub(super) fn verbatim(inner: &str, escaping: Escaping) -> bool {
    escaping == Escaping::Json && ends_in_json(inner)
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
pub(super) fn offset_in(src: &str, part: &str) -> usize {
    part.as_ptr() as usize - src.as_ptr() as usize
}

#[cfg(test)]
mod tests {
    use super::super::scan::scan;
    use super::*;

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
}
